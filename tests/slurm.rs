//! End-to-end on a real Slurm cluster: `heldout sweep --slurm` and `heldout study --slurm` write a
//! job array of the unfinished runs, `sbatch --wait` runs it, and the sweep or study run again
//! without `--slurm` summarises. Runs only with `HELDOUT_SLURM=1` (and a cluster up:
//! `.ci/slurm-up`), and then fails when `sbatch` is missing; otherwise it says it was skipped.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::*;

const SLURM: &[&str] =
    &["--slurm", "--time", "0:10:00", "--cpus-per-task", "1", "--sbatch-line", "#SBATCH --comment=heldout-test"];

/// Whether to run: `HELDOUT_SLURM=1`, and then `sbatch` must be there.
fn enabled(test: &str) -> bool {
    if std::env::var("HELDOUT_SLURM").as_deref() != Ok("1") {
        eprintln!("{test}: skipped (set HELDOUT_SLURM=1 with a Slurm cluster up, e.g. .ci/slurm-up, to run it)");
        return false;
    }
    let found = Command::new("sbatch").arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "HELDOUT_SLURM=1 but `sbatch --version` does not run ({found:?}): install slurm-wlm and start a cluster"
    );
    true
}

/// Submits the script `sbatch_line` (`sbatch PATH`, as `--slurm` printed it) from `dir` and waits
/// for the whole array, at most 10 minutes.
fn submit_and_wait(dir: &Path, printed: &str) {
    let script = printed.trim().strip_prefix("sbatch ").unwrap_or_else(|| panic!("not an sbatch command: {printed}"));
    let start = Instant::now();
    let out = Command::new("timeout")
        .args(["600", "sbatch", "--wait", script])
        .current_dir(dir)
        .output()
        .expect("timeout and sbatch run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("sbatch --wait {script}: {} in {:.1} s", text.trim(), start.elapsed().as_secs_f64());
    assert!(out.status.success(), "sbatch --wait {script} failed ({}):\n{text}", out.status);
}

/// The text of `dir/slurm/manifest.tsv`, checked to hold `tasks` rows.
fn manifest(sweep: &Path, tasks: usize) -> String {
    let text = std::fs::read_to_string(sweep.join("slurm/manifest.tsv")).unwrap();
    assert_eq!(text.lines().count(), 1 + tasks, "{text}");
    text
}

#[test]
fn a_sweep_runs_as_a_slurm_job_array_and_summarises_after() {
    if !enabled("a_sweep_runs_as_a_slurm_job_array_and_summarises_after") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sweep = dir.join("runs/s");
    // One run finished here first: the array lists only the three others.
    let commands = heldout_ok(dir, &[TINY_SWEEP, &["--print-commands"]].concat());
    let first: Vec<&str> = commands.lines().next().unwrap().split(' ').skip(1).collect();
    heldout_ok(dir, &first);
    assert!(sweep.join("sni_lambda-0_seed-1/result.toml").exists());

    let out = heldout(dir, &[TINY_SWEEP, SLURM].concat());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "sbatch runs/s/slurm/array.sbatch", "{stderr}");
    assert!(stderr.contains("the 3 unfinished of 4 runs (2 at a time)"), "{stderr}");
    let rows = manifest(&sweep, 3);
    assert!(!rows.contains("\tsni_lambda-0_seed-1\t") && rows.contains("\tsni_lambda-1_seed-2\t"), "{rows}");
    let script = std::fs::read_to_string(sweep.join("slurm/array.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2%2\n") && script.contains("#SBATCH --comment=heldout-test\n"));
    assert!(!sweep.join("sni_lambda-1_seed-2").exists(), "--slurm runs nothing here");

    submit_and_wait(dir, &stdout);
    for run in ["sni_lambda-0_seed-2", "sni_lambda-1_seed-1", "sni_lambda-1_seed-2"] {
        assert!(sweep.join(run).join("result.toml").exists(), "{run} did not finish under Slurm");
        let log = std::fs::read_to_string(sweep.join(run).join("train.log")).unwrap();
        assert!(log.contains("== Slurm job ") && log.contains("test success"), "{run}: {log}");
    }
    let task_logs = std::fs::read_dir(sweep.join("slurm/logs")).unwrap().count();
    assert_eq!(task_logs, 3, "one Slurm output file per task");

    // The sweep again, without --slurm: it runs nothing and summarises all four runs.
    let out = heldout(dir, TINY_SWEEP);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("4 runs, 4 already finished"), "{stderr}");
    assert!(!stderr.contains("sweep: starting"), "{stderr}");
    let csv = std::fs::read_to_string(sweep.join("summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!((rows[1][0], rows[1][1], rows[2][0], rows[2][1]), ("0", "2", "1", "2"), "{csv}");

    // A resubmission finds nothing left, writes no array and summarises.
    let before = std::fs::metadata(sweep.join("slurm/array.sbatch")).unwrap().modified().unwrap();
    let out = heldout(dir, &[TINY_SWEEP, SLURM].concat());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("all 4 runs are finished: no job array to submit"), "{stderr}");
    assert!(!stdout.contains("sbatch") && stdout.contains("test success"), "{stdout}");
    assert_eq!(std::fs::metadata(sweep.join("slurm/array.sbatch")).unwrap().modified().unwrap(), before);
}

const STUDY: &str = r#"
description = "a tiny study on Slurm"
preset = "multiroom"
set = ["num_envs=4", "num_steps=16", "minibatches=4", "eval.episodes=4", "eval.interval=1", "eval.image_every=0"]
seeds = 1
[axes]
method = ["baseline", "dropout-sni"]
total_frames = [128]
"#;

#[test]
fn a_study_runs_as_a_slurm_job_array_and_collects_its_results_after() {
    if !enabled("a_study_runs_as_a_slurm_job_array_and_collects_its_results_after") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("studies")).unwrap();
    std::fs::write(dir.join("studies/tiny.toml"), STUDY).unwrap();
    let study = ["study", "studies/tiny.toml", "--jobs", "2"];

    let out = heldout(dir, &[&study[..], SLURM].concat());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "sbatch runs/study-tiny/slurm/array.sbatch", "{stderr}");
    assert!(stderr.contains("2 runs, 0 finished, 2 to run"), "{stderr}");
    let rows = manifest(&dir.join("runs/study-tiny"), 2);
    assert!(rows.contains("--set method=dropout-sni") && rows.contains("--workers 1"), "{rows}");
    let script = std::fs::read_to_string(dir.join("runs/study-tiny/slurm/array.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --job-name=study-tiny\n"), "{script}");

    submit_and_wait(dir, &stdout);
    let out = heldout_ok(dir, &study);
    assert!(out.contains("# Study tiny") && out.contains("2 of 2 runs finished"), "{out}");
    let runs = std::fs::read_to_string(dir.join("results/tiny/runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 3, "{runs}");

    // Nothing left: `--slurm` says so and writes the results as a plain rerun does.
    let out = heldout(dir, &[&study[..], SLURM].concat());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stderr.contains("all 2 runs are finished: no job array to submit"), "{stderr}");
    assert!(stdout.contains("2 of 2 runs finished") && !stdout.contains("sbatch"), "{stdout}");
}
