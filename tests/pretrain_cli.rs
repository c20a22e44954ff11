//! End-to-end: `heldout pretrain` trains the detector, reports held-out quality and writes the
//! backbone, and `heldout train` starts a vision-encoder agent from it.

mod common;

use common::*;

/// `heldout train --preset coinrun-small` with the vision encoder starting from `backbone`:
/// 2 updates of 2 envs x 8 steps, 2 evaluation episodes of at most 50 steps and a recorded one.
fn vision_train_args(run_dir: &str, backbone: &str) -> Vec<String> {
    let encoder = format!("agent.encoder={{ vision = {{ pretrained_backbone = {backbone:?} }} }}");
    let sets = ["num_envs=2", "num_steps=8", "eval.episodes=2", "eval.image_every=1", "env.max_steps=50", &encoder];
    let mut args: Vec<String> = ["train", "--preset", "coinrun-small", "--run-dir", run_dir, "--quiet"]
        .into_iter()
        .chain(["--total-frames", "32", "--workers", "1"])
        .map(String::from)
        .collect();
    for set in sets {
        args.extend(["--set".to_string(), set.to_string()]);
    }
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn pretraining_reduces_the_detection_loss_and_training_starts_from_the_backbone() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "pretrain",
        "--train-levels",
        "20",
        "--frames",
        "64",
        "--eval-frames",
        "8",
        "--steps",
        "25",
        "--batch",
        "8",
        "--eval-interval",
        "0",
        "--seed",
        "3",
        "--run-dir",
        "pre",
        "--out",
        "backbone.bpk",
        "--quiet",
    ];
    let out = heldout_ok(tmp.path(), &args);
    assert!(out.contains("held-out mAP@0.5") && out.contains("wrote backbone.bpk"), "{out}");
    assert!(std::fs::metadata(tmp.path().join("backbone.bpk")).unwrap().len() > 0);

    let report: toml::Table =
        toml::from_str(&std::fs::read_to_string(tmp.path().join("pre/pretrain.toml")).unwrap()).unwrap();
    let number = |key: &str| report[key].as_float().unwrap();
    let (first, last) = (number("first_train_loss"), number("last_train_loss"));
    let (held_first, held_last) = (number("first_heldout_loss"), number("last_heldout_loss"));
    println!("training loss {first:.4} -> {last:.4}, held-out loss {held_first:.4} -> {held_last:.4}");
    assert!(last < first, "training loss {first} -> {last}");
    assert!(held_last < held_first, "held-out loss {held_first} -> {held_last}");
    let quality = report["quality"].as_table().unwrap();
    let (map, iou) = (quality["map50"].as_float().unwrap(), quality["mean_iou"].as_float().unwrap());
    println!("held-out mAP@0.5 {map:.3}, mean IoU {iou:.3}");
    assert!((0.0..=1.0).contains(&map) && (0.0..=1.0).contains(&iou));
    assert_eq!(quality["frames"].as_integer(), Some(8));
    assert!(quality["objects"].as_integer().unwrap() >= 8, "CoinRun shows the agent in every frame");
    assert!(!quality["per_class"].as_array().unwrap().is_empty());

    let events = read_events(&tmp.path().join("pre"));
    assert_eq!(scalars(&events, "pretrain/loss").len(), 25);
    let map_curve = scalars(&events, "pretrain/heldout_map50");
    assert_eq!(map_curve.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 25], "before and after training");
    assert!(!scalars(&events, "pretrain/heldout_ap50/agent").is_empty());

    let out = heldout_ok(tmp.path(), &strs(&vision_train_args("run", "backbone.bpk")));
    assert!(out.contains("test success"), "{out}");
    assert!(tmp.path().join("run/checkpoints/update-00000002").is_dir());
    let events = read_events(&tmp.path().join("run"));
    assert!(events.iter().any(|(t, _, v)| t == "eval/test_episode" && matches!(v, Logged::Image(..))));
    // The checkpoint holds every weight: evaluating it needs no backbone file.
    std::fs::remove_file(tmp.path().join("backbone.bpk")).unwrap();
    let out = heldout_ok(tmp.path(), &["eval", "run", "--episodes", "1"]);
    assert!(out.contains("success"), "{out}");

    let err = heldout_err(tmp.path(), &strs(&vision_train_args("again", "backbone.bpk")));
    assert!(err.contains("pretrained backbone backbone.bpk") && err.contains("cannot read"), "{err}");
    assert!(!tmp.path().join("again/config.toml").exists(), "a run that cannot start leaves no run behind");
}

#[test]
fn bad_pretraining_options_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let err = heldout_err(tmp.path(), &["pretrain", "--steps", "0"]);
    assert!(err.contains("steps must be at least 1"), "{err}");
    let err = heldout_err(tmp.path(), &["pretrain", "--random-actions", "1.5"]);
    assert!(err.contains("random actions"), "{err}");
    let err = heldout_err(tmp.path(), &["pretrain", "--train-levels", "0"]);
    assert!(err.contains("train levels"), "{err}");
}
