//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use protobuf::Message;
use tensorboard_proto::event::Event;
use tensorboard_proto::plugin_hparams::HParamsPluginData;

/// A tiny sweep: two settings (`sni_lambda` 0 and 1), two seeds, 128 frames a run.
pub const TINY_SWEEP: &[&str] = &[
    "sweep",
    "--name",
    "s",
    "--preset",
    "multiroom",
    "--set",
    "sni_lambda=0,1",
    "--seeds",
    "2",
    "--jobs",
    "2",
    "--set",
    "total_frames=128",
    "--set",
    "num_envs=4",
    "--set",
    "num_steps=16",
    "--set",
    "eval.episodes=4",
    "--set",
    "minibatches=4",
    "--set",
    "eval.image_every=0",
];

/// Runs the `heldout` binary with `args` in `cwd`.
pub fn heldout(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heldout")).args(args).current_dir(cwd).output().expect("the heldout binary runs")
}

/// Runs `heldout` and asserts it succeeded; returns its stdout.
pub fn heldout_ok(cwd: &Path, args: &[&str]) -> String {
    let out = heldout(cwd, args);
    assert!(out.status.success(), "heldout {args:?} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Runs `heldout`, asserts it failed cleanly (an error, not a panic), and returns its stderr.
pub fn heldout_err(cwd: &Path, args: &[&str]) -> String {
    let out = heldout(cwd, args);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "heldout {args:?} should have failed:\n{}", text(&out.stdout));
    assert!(!err.contains("panicked"), "heldout {args:?} panicked:\n{err}");
    err
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One value read back from a TensorBoard event file.
#[derive(Debug, Clone, PartialEq)]
pub enum Logged {
    /// A scalar.
    Scalar(f32),
    /// An encoded image of this width and height (as recorded, checked against the PNG's own).
    Image(i32, i32),
    /// A summary of the hparams plugin.
    HParams(HParamsPluginData),
}

/// Every (tag, step, value) in the TensorBoard event files of `dir`, checking record framing.
pub fn read_events(dir: &Path) -> Vec<(String, i64, Logged)> {
    let mut out = Vec::new();
    for file in event_files(dir) {
        let bytes = std::fs::read(&file).unwrap();
        let mut pos = 0;
        while pos < bytes.len() {
            let len = u64::from_le_bytes(bytes[pos..pos + 8].try_into().unwrap()) as usize;
            let data = &bytes[pos + 12..pos + 12 + len];
            pos += 12 + len + 4;
            let event = Event::parse_from_bytes(data).expect("a valid Event record");
            for v in event.get_summary().get_value() {
                let logged = if v.has_image() {
                    let (w, h) = (v.get_image().get_width(), v.get_image().get_height());
                    let png = image::load_from_memory(v.get_image().get_encoded_image_string()).expect("a PNG");
                    assert_eq!((png.width() as i32, png.height() as i32), (w, h), "{}: recorded size", v.get_tag());
                    Logged::Image(w, h)
                } else if v.get_metadata().get_plugin_data().get_plugin_name() == "hparams" {
                    let content = v.get_metadata().get_plugin_data().get_content();
                    Logged::HParams(HParamsPluginData::parse_from_bytes(content).expect("hparams plugin data"))
                } else {
                    Logged::Scalar(v.get_simple_value())
                };
                out.push((v.get_tag().to_string(), event.get_step(), logged));
            }
        }
        assert_eq!(pos, bytes.len(), "{} ends mid-record", file.display());
    }
    out
}

/// The TensorBoard event files in `dir`.
pub fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("events.out.tfevents"))
        .collect();
    files.sort();
    files
}

/// A tiny MultiRoom training config: `updates` updates of 4 envs x 16 steps.
pub fn tiny_args(run_dir: &str, updates: u64) -> Vec<String> {
    let frames = (updates * 64).to_string();
    [
        "train",
        "--preset",
        "multiroom",
        "--run-dir",
        run_dir,
        "--quiet",
        "--total-frames",
        &frames,
        "--set",
        "num_envs=4",
        "--set",
        "num_steps=16",
        "--set",
        "eval.episodes=4",
        "--set",
        "eval.interval=2",
        "--set",
        "eval.image_every=1",
        "--set",
        "checkpoint_interval=2",
        "--set",
        "minibatches=4",
        "--set",
        "epochs=2",
        "--workers",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Every file below `dir` with its bytes, by relative path.
pub fn files_below(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Every float parameter of the agent in a checkpoint (a run directory: its newest), in
/// visiting order. burn gives parameters random ids, so files differ even when weights agree.
pub fn weights(checkpoint: &Path) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let (agent, _) = heldout::checkpoint::load(&heldout::checkpoint::resolve(checkpoint).unwrap()).unwrap();
    let mut c = Collect(Vec::new());
    agent.model().visit(&mut c);
    c.0
}

/// The scalars logged under `tag`, by step (the last value wins where a step repeats).
pub fn scalars(events: &[(String, i64, Logged)], tag: &str) -> Vec<(i64, f32)> {
    let mut out: Vec<(i64, f32)> = Vec::new();
    for (t, step, v) in events {
        if let (true, Logged::Scalar(x)) = (t == tag, v) {
            out.retain(|(s, _)| s != step);
            out.push((*step, *x));
        }
    }
    out.sort_by_key(|p| p.0);
    out
}
