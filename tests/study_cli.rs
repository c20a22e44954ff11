//! End-to-end: `heldout study` plans, runs, resumes, summarises and refuses bad study files.

mod common;

use common::*;

const STUDY: &str = r#"
description = "a tiny study"
preset = "multiroom"
set = ["num_envs=4", "num_steps=16", "minibatches=4", "eval.episodes=4", "eval.interval=1", "eval.image_every=0", "workers=1"]
seeds = SEEDS
[axes]
method = ["baseline", "dropout-sni"]
train_levels = [2, 8]
total_frames = [128]
"#;

fn write_study(dir: &std::path::Path, seeds: u64) {
    std::fs::create_dir_all(dir.join("studies")).unwrap();
    std::fs::write(dir.join("studies/tiny.toml"), STUDY.replace("SEEDS", &seeds.to_string())).unwrap();
}

#[test]
fn a_study_runs_summarises_and_picks_up_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_study(dir, 1);
    let plan = heldout(dir, &["study", "studies/tiny.toml", "--plan"]);
    let err = String::from_utf8_lossy(&plan.stderr);
    assert!(plan.status.success() && err.contains("4 runs, 0 finished, 4 to run"), "{err}");
    assert!(err.contains("frames/s per run (measured on 2 updates of"), "{err}");
    assert!(
        !dir.join("runs/study-tiny").exists() || std::fs::read_dir(dir.join("runs/study-tiny")).unwrap().count() == 0
    );
    assert!(!dir.join("results/tiny").exists(), "--plan writes no results");

    let out = heldout_ok(dir, &["study", "studies/tiny.toml", "--jobs", "2"]);
    assert!(out.contains("# Study tiny") && out.contains("4 of 4 runs finished"), "{out}");
    let results = dir.join("results/tiny");
    let runs = std::fs::read_to_string(results.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 5, "{runs}");
    assert!(
        runs.lines().any(
            |l| l.starts_with("method-dropout-sni_total_frames-128_train_levels-8_seed-1,dropout-sni,8,0.5,1,128,")
        ),
        "{runs}"
    );
    let summary = std::fs::read_to_string(results.join("summary.csv")).unwrap();
    // Two settings per arm, and each arm's aggregate over them.
    assert_eq!(summary.lines().count(), 1 + 6, "{summary}");
    let sni_row =
        summary.lines().find(|l| l.starts_with("dropout-sni,2,0.5,128,1,")).expect("a row per arm and setting");
    let cells: Vec<&str> = sni_row.split(',').collect();
    assert!(!cells[15].is_empty(), "the SNI arm is compared with the baseline: {sni_row}");
    for plot in ["levels.png", "gap.png", "curves-levels-2.png", "curves-levels-8.png"] {
        let png = image::open(results.join(plot)).unwrap();
        assert!(png.width() > 100, "{plot}");
    }

    // Two more seeds: the finished runs are kept, not redone.
    let first = dir.join("runs/study-tiny/method-baseline_total_frames-128_train_levels-2_seed-1/result.toml");
    let before = std::fs::read_to_string(&first).unwrap();
    let modified = std::fs::metadata(&first).unwrap().modified().unwrap();
    write_study(dir, 3);
    let run = heldout(dir, &["study", "studies/tiny.toml", "--jobs", "2"]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success() && err.contains("12 runs, 4 finished, 8 to run"), "{err}");
    assert!(err.contains("the mean of its 4 finished runs"), "{err}");
    assert_eq!(std::fs::read_to_string(&first).unwrap(), before);
    assert_eq!(std::fs::metadata(&first).unwrap().modified().unwrap(), modified);
    let runs = std::fs::read_to_string(results.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 13);

    // The uncertainty of every noisy run, measured once and kept beside it; none for the baseline.
    heldout_ok(dir, &["study", "studies/tiny.toml", "--report", "--uncertainty", "2", "--uncertainty-episodes", "4"]);
    let runs_dir = dir.join("runs/study-tiny");
    let sni = runs_dir.join("method-dropout-sni_total_frames-128_train_levels-2_seed-1/uncertainty.toml");
    let measured = std::fs::read_to_string(&sni).unwrap();
    assert!(measured.contains("passes = 2") && measured.contains("episodes = 4"), "{measured}");
    assert!(!runs_dir.join("method-baseline_total_frames-128_train_levels-2_seed-1/uncertainty.toml").exists());
    let runs = std::fs::read_to_string(results.join("runs.csv")).unwrap();
    assert!(runs.lines().next().unwrap().ends_with(",auroc"), "{runs}");

    // A fresh checkout keeps results/ but not runs/: finished runs are still never redone.
    let before = std::fs::read_to_string(results.join("runs.csv")).unwrap();
    let keep = dir.join("kept-runs");
    std::fs::rename(dir.join("runs"), &keep).unwrap();
    let again = heldout(dir, &["study", "studies/tiny.toml", "--jobs", "2"]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success() && err.contains("12 runs, 12 finished, 0 to run"), "{err}");
    assert_eq!(std::fs::read_to_string(results.join("runs.csv")).unwrap(), before);
    assert!(
        !dir.join("runs/study-tiny").exists() || std::fs::read_dir(dir.join("runs/study-tiny")).unwrap().count() == 0
    );
    assert!(
        results.join("curves-levels-8.png").exists()
            && results.join("curves").join("method-baseline_total_frames-128_train_levels-8_seed-3.csv").exists()
    );
    std::fs::remove_dir_all(dir.join("runs")).ok();
    std::fs::rename(&keep, dir.join("runs")).unwrap();

    // The runs carry their arm's settings.
    let config = std::fs::read_to_string(
        dir.join("runs/study-tiny/method-dropout-sni_total_frames-128_train_levels-8_seed-3/config.toml"),
    )
    .unwrap();
    assert!(config.contains("method = \"dropout-sni\"") && config.contains("sni_lambda = 0.5"), "{config}");
}

#[test]
fn a_study_killed_part_way_has_recorded_every_run_it_finished() {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("studies")).unwrap();
    // One short run, then one far too long to finish before the kill.
    let study = STUDY
        .replace("SEEDS", "1")
        .replace(r#"["baseline", "dropout-sni"]"#, r#"["baseline"]"#)
        .replace("[2, 8]", "[2]")
        .replace("[128]", "[128, 10000000]");
    std::fs::write(dir.join("studies/slow.toml"), study).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_heldout"))
        .args(["study", "studies/slow.toml", "--jobs", "1"])
        .current_dir(dir)
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let runs_csv = dir.join("results/slow/runs.csv");
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(&runs_csv).map_or(0, |t| t.lines().count()) < 2 {
        assert!(child.try_wait().unwrap().is_none(), "the study ended before it recorded a run");
        assert!(Instant::now() < deadline, "no run recorded in two minutes");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The study and its training process, killed as a preempted job would be.
    let killed = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status().unwrap();
    assert!(killed.success(), "kill the study's process group");
    child.wait().unwrap();
    let runs = std::fs::read_to_string(&runs_csv).unwrap();
    let finished = "method-baseline_total_frames-128_train_levels-2_seed-1";
    assert_eq!(runs.lines().count(), 2, "{runs}");
    assert!(runs.lines().nth(1).unwrap().starts_with(&format!("{finished},baseline,2,")), "{runs}");
    assert!(dir.join("results/slow/curves").join(format!("{finished}.csv")).exists());
    // Without its run directories (a fresh checkout), the study still knows the run finished.
    std::fs::remove_dir_all(dir.join("runs")).unwrap();
    let plan = heldout(dir, &["study", "studies/slow.toml", "--plan"]);
    let err = String::from_utf8_lossy(&plan.stderr);
    assert!(plan.status.success() && err.contains("2 runs, 1 finished, 1 to run"), "{err}");
}

#[test]
fn bad_studies_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_study(dir, 1);
    let study = |text: &str| {
        std::fs::write(dir.join("studies/bad.toml"), text).unwrap();
        heldout_err(dir, &["study", "studies/bad.toml", "--plan"])
    };
    let base = STUDY.replace("SEEDS", "1");
    assert!(study(&format!("{base}\ncolour = 1\n")).contains("colour"));
    assert!(
        study(&base.replace("\"baseline\", \"dropout-sni\"", "\"baseline\", \"sni\""))
            .contains("\"sni\" is not an arm")
    );
    assert!(study(&base.replace("[2, 8]", "[]")).contains("`train_levels` is empty"));
    assert!(study(&base.replace("total_frames = [128]", "no_such_key = [1]")).contains("no_such_key"));
    assert!(heldout_err(dir, &["study", "studies/missing.toml"]).contains("missing.toml"));

    // A results directory of another study is not overwritten (`--report` claims it, `--plan`
    // only checks).
    heldout_ok(dir, &["study", "studies/tiny.toml", "--report"]);
    std::fs::write(dir.join("studies/tiny.toml"), base.replace("[2, 8]", "[3]")).unwrap();
    let err = heldout_err(dir, &["study", "studies/tiny.toml", "--plan"]);
    assert!(err.contains("different study"), "{err}");
}
