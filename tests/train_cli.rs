//! End-to-end: `heldout train`, `eval`, resume, and clear errors for bad input.

mod common;

use common::*;
use tensorboard_proto::plugin_hparams::HParamsPluginData;

const TAGS: &[&str] = &[
    "charts/episodic_return",
    "charts/episodic_length",
    "charts/SPS",
    "charts/learning_rate",
    "losses/value_loss",
    "losses/policy_loss",
    "losses/entropy",
    "losses/approx_kl",
    "losses/clipfrac",
    "losses/explained_variance",
    "losses/kl_bottleneck",
    "losses/l2",
    "eval/train_return",
    "eval/test_return",
    "eval/train_success",
    "eval/test_success",
    "eval/generalization_gap",
    "sni/lambda",
    "perf/rollout_seconds",
    "perf/learner_seconds",
];

#[test]
fn tiny_training_run_writes_logs_checkpoints_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    let args = tiny_args("run", 4);
    let out = heldout_ok(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.contains("test success"), "{out}");
    let run = tmp.path().join("run");
    assert!(run.join("config.toml").exists() && run.join("result.toml").exists());
    assert!(run.join("checkpoints/update-00000004").is_dir());

    let curve = std::fs::read_to_string(run.join("eval.csv")).unwrap();
    let frames: Vec<&str> = curve.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(frames, ["0", "128", "256"], "{curve}");

    let events = read_events(&run);
    for &tag in TAGS {
        assert!(events.iter().any(|(t, _, _)| t == tag), "tag {tag} missing from the event files");
    }
    let sps: Vec<i64> = events.iter().filter(|(t, _, _)| t == "charts/SPS").map(|e| e.1).collect();
    assert_eq!(sps, vec![64, 128, 192, 256], "one SPS point per update, at the frame count");
    let lambda = events.iter().find(|(t, _, _)| t == "sni/lambda").unwrap();
    assert_eq!(lambda.2, Logged::Scalar(0.5));
    assert!(
        events.iter().any(|(t, _, v)| t == "eval/test_episode" && matches!(v, Logged::Image(w, h) if *w > 0 && *h > 0))
    );
    for (t, _, v) in &events {
        if t.starts_with("eval/") && t.ends_with("success") {
            let Logged::Scalar(s) = v else { panic!("{t} is a scalar") };
            assert!((0.0..=1.0).contains(s), "{t} = {s}");
        }
    }

    let out = heldout_ok(tmp.path(), &["eval", "run", "--episodes", "6", "--levels", "test", "--gif", "ep.gif"]);
    assert!(out.contains("success") && out.contains("6 Test levels"), "{out}");
    assert!(std::fs::metadata(tmp.path().join("ep.gif")).unwrap().len() > 0);
    let out =
        heldout_ok(tmp.path(), &["eval", "run/checkpoints/update-00000002", "--episodes", "3", "--levels", "train"]);
    assert!(out.contains("after 128 frames"), "{out}");

    // The run opens in TensorBoard's HParams dashboard: its hyperparameters, then its final
    // metrics and a finished session.
    let plugin: Vec<(&str, &HParamsPluginData)> = events
        .iter()
        .filter_map(|(t, _, v)| match v {
            Logged::HParams(d) => Some((t.as_str(), d)),
            _ => None,
        })
        .collect();
    let tags: Vec<&str> = plugin.iter().map(|p| p.0).collect();
    assert_eq!(tags, ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"]);
    let metrics: Vec<&str> =
        plugin[0].1.get_experiment().get_metric_infos().iter().map(|m| m.get_name().get_tag()).collect();
    assert!(metrics.contains(&"final/test_success"), "{metrics:?}");
    for tag in &metrics {
        assert!(events.iter().any(|(t, s, _)| t == tag && *s == 256), "metric {tag} logged at the last step");
    }
    let hparams = plugin[1].1.get_session_start_info().get_hparams();
    assert_eq!(hparams["sni_lambda"].get_number_value(), 0.5);
    assert_eq!(hparams["env"].get_string_value(), "multiroom");
    assert!(hparams["bottleneck"].get_bool_value() && hparams["sni"].get_bool_value());
    assert_eq!(plugin[2].1.get_session_end_info().get_status(), tensorboard_proto::api::Status::STATUS_SUCCESS);

    // A second run in the same directory is refused rather than mixed in.
    let err = heldout_err(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("already holds a run"), "{err}");
}

#[test]
fn resumed_run_reaches_the_same_weights_as_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tiny_args("whole", 5);
    heldout_ok(tmp.path(), &whole.iter().map(String::as_str).collect::<Vec<_>>());

    let mut part = tiny_args("part", 5);
    part.extend(["--stop-after".to_string(), "3".to_string()]);
    let out = heldout_ok(tmp.path(), &part.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.contains("--resume"), "{out}");
    assert!(!tmp.path().join("part/result.toml").exists());
    // A checkpoint cut short by a kill is a hidden temporary directory: resuming ignores it.
    let torn = tmp.path().join("part/checkpoints/.incomplete-torn");
    std::fs::create_dir_all(torn.join("agent")).unwrap();
    std::fs::write(torn.join("trainer.toml"), "update = 99\n").unwrap();
    // The number of workers may change on resume (a Slurm task has its own CPU count).
    let resume = heldout_ok(tmp.path(), &["train", "--run-dir", "part", "--resume", "--workers", "1", "--quiet"]);
    assert!(resume.contains("test success"), "{resume}");

    let (a, b) = (weights(&tmp.path().join("whole")), weights(&tmp.path().join("part")));
    assert!(!a.is_empty());
    assert!(a == b, "the resumed run's weights differ from the uninterrupted run's");
    // The losses after the resume point depend on the optimizer state: they agree too.
    let (ea, eb) = (read_events(&tmp.path().join("whole")), read_events(&tmp.path().join("part")));
    for tag in ["losses/policy_loss", "losses/value_loss", "losses/approx_kl", "eval/test_return"] {
        assert_eq!(scalars(&ea, tag), scalars(&eb, tag), "{tag}");
    }
    assert_eq!(scalars(&ea, "losses/value_loss").len(), 5);
    let columns = |d: &str| -> Vec<String> {
        let text = std::fs::read_to_string(tmp.path().join(d).join("eval.csv")).unwrap();
        // Everything but the wall-clock column.
        text.lines()
            .map(|l| l.split(',').enumerate().filter(|(i, _)| *i != 1).map(|(_, f)| f).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(columns("whole"), columns("part"));
    assert_eq!(columns("whole").len(), 5, "header and evaluations at updates 0, 2, 4, 5");
    let result = |d: &str| std::fs::read_to_string(tmp.path().join(d).join("result.toml")).unwrap();
    let strip = |s: String| s.lines().filter(|l| !l.starts_with("wall_seconds")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(result("whole")), strip(result("part")));
}

#[test]
fn bad_configs_and_checkpoints_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let err = heldout_err(dir, &["train", "--set", "no_such_key=1", "--run-dir", "x"]);
    assert!(err.contains("no config field is called `no_such_key`"), "{err}");
    let err = heldout_err(dir, &["train", "--set", "num_envs=0", "--run-dir", "x"]);
    assert!(err.contains("num_envs"), "{err}");
    let err = heldout_err(dir, &["train", "--sni-lambda", "2", "--run-dir", "x"]);
    assert!(err.contains("sni_lambda"), "{err}");
    std::fs::write(dir.join("bad.toml"), "[agent.ppo]\nlearning_rat = 0.1\n").unwrap();
    let err = heldout_err(dir, &["train", "--config", "bad.toml", "--run-dir", "x"]);
    assert!(err.contains("learning_rat"), "{err}");
    std::fs::write(dir.join("broken.toml"), "seed = \n").unwrap();
    let err = heldout_err(dir, &["train", "--config", "broken.toml", "--run-dir", "x"]);
    assert!(err.contains("broken.toml") && err.contains("not valid TOML"), "{err}");
    let err = heldout_err(dir, &["train", "--config", "missing.toml", "--run-dir", "x"]);
    assert!(err.contains("missing.toml"), "{err}");
    let err = heldout_err(dir, &["train", "--set", "num_envs=1000000", "--run-dir", "x"]);
    assert!(err.contains("num_envs") && err.contains("above"), "{err}");
    let err = heldout_err(dir, &["train", "--resume", "--name", "nosuchrun"]);
    assert!(err.contains("nothing to resume") && err.contains("nosuchrun"), "{err}");
    assert!(!dir.join("x").exists(), "a rejected config must not create a run");
    assert!(!dir.join("runs/nosuchrun").exists(), "nothing to resume starts nothing");

    let args = tiny_args("run", 2);
    heldout_ok(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let ckpt = dir.join("run/checkpoints/update-00000002/agent");
    let files = files_below(&ckpt);
    let (victim, bytes) = files.iter().max_by_key(|f| f.1.len()).unwrap();
    std::fs::write(ckpt.join(victim), &bytes[..bytes.len() / 2]).unwrap();
    let err = heldout_err(dir, &["eval", "run", "--episodes", "2"]);
    assert!(err.contains("update-00000002"), "{err}");
    let err = heldout_err(dir, &["eval", "nowhere", "--episodes", "2"]);
    assert!(err.contains("nowhere") && err.contains("does not exist"), "{err}");
}

#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = tiny_args("run", 6);
    args.extend(["--stop-after".to_string(), "2".to_string()]);
    heldout_ok(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    let before = weights(&tmp.path().join("run"));
    // An absurd learning rate blows the weights up within the next update. The run's config
    // and the checkpoint's copy of the agent settings must agree, so both are edited.
    let poison = |file: &str, from: &str, to: &str| {
        let path = tmp.path().join("run").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    };
    poison("config.toml", "learning_rate = 0.0007", "learning_rate = 1e30");
    let err = heldout_err(tmp.path(), &["train", "--run-dir", "run", "--resume", "--quiet"]);
    assert!(err.contains("differ from") && err.contains("config.toml"), "{err}");
    poison("checkpoints/update-00000002/agent/agent.json", "\"learning_rate\": 0.0007", "\"learning_rate\": 1e30");
    let err = heldout_err(tmp.path(), &["train", "--run-dir", "run", "--resume", "--quiet"]);
    assert!(err.contains("non-finite") && err.contains("update-00000002"), "{err}");
    assert_eq!(heldout::checkpoint::list(&tmp.path().join("run")).unwrap().len(), 1);
    assert!(weights(&tmp.path().join("run")) == before, "the kept checkpoint is untouched");
    assert!(weights(&tmp.path().join("run")).iter().all(|w| w.is_finite()));
}
