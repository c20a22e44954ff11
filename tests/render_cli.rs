//! End-to-end: `heldout render` draws first frames (PNG) and played episodes (GIF) of both
//! environments, and refuses bad input with a clear error.

mod common;

use std::path::Path;

use common::*;
use image::codecs::gif::GifDecoder;
use image::{AnimationDecoder, RgbaImage};

/// The frames of a GIF file.
fn gif_frames(path: &Path) -> Vec<RgbaImage> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let decoder = GifDecoder::new(file).unwrap();
    decoder.into_frames().collect_frames().unwrap().into_iter().map(|f| f.into_buffer()).collect()
}

#[test]
fn draws_first_frames_and_scripted_episodes_of_both_envs() {
    let tmp = tempfile::tempdir().unwrap();
    for (env, side) in [("coinrun", 256), ("multiroom", 176)] {
        let png = format!("{env}.png");
        heldout_ok(tmp.path(), &["render", "--env", env, "--level", "7", "--out", &png]);
        let first = image::open(tmp.path().join(&png)).unwrap().into_rgb8();
        assert_eq!(first.dimensions(), (side, side), "{env}");

        let gif = format!("{env}.gif");
        let out = heldout_ok(tmp.path(), &["render", "--env", env, "--level", "7", "--episode", "--out", &gif]);
        assert!(out.contains("Scripted policy, level complete"), "{env}: {out}");
        let frames = gif_frames(&tmp.path().join(&gif));
        assert!(frames.len() > 1, "{env}: {} frames", frames.len());
        assert!(frames.iter().all(|f| f.dimensions() == (side, side)), "{env}");
        assert_ne!(frames[0], frames[frames.len() - 1], "{env}: the scripted player moved");
        // The episode starts on the PNG's frame, up to the GIF's palette.
        let diff: u64 = frames[0]
            .pixels()
            .zip(first.pixels())
            .map(|(g, p)| (0..3).map(|c| g[c].abs_diff(p[c]) as u64).sum::<u64>())
            .sum();
        assert!(diff <= 3 * u64::from(side * side), "{env}: the GIF's first frame is not the PNG ({diff})");
    }
}

#[test]
fn random_episodes_stop_at_max_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["render", "--env", "coinrun", "--level", "3", "--episode", "--policy", "random", "--seed", "1"];
    let out = heldout_ok(tmp.path(), &[&args[..], &["--max-steps", "4", "--out", "r.gif"]].concat());
    assert!(out.contains("5 frames") && out.contains("Random policy"), "{out}");
    assert_eq!(gif_frames(&tmp.path().join("r.gif")).len(), 5);
}

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = heldout_err(tmp.path(), &["render", "--env", "coinrun", "--out", "a.gif"]);
    assert!(err.contains("must end in .png"), "{err}");
    let err = heldout_err(tmp.path(), &["render", "--env", "multiroom", "--episode", "--out", "a.png"]);
    assert!(err.contains("must end in .gif"), "{err}");
    let err = heldout_err(tmp.path(), &["render", "--env", "procgen", "--out", "a.png"]);
    assert!(err.contains("invalid value 'procgen'") && err.contains("coinrun"), "{err}");
    let err =
        heldout_err(tmp.path(), &["render", "--env", "coinrun", "--episode", "--policy", "ppo", "--out", "a.gif"]);
    assert!(err.contains("invalid value 'ppo'") && err.contains("scripted"), "{err}");
    assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none(), "nothing written");
}
