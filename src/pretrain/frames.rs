//! Frames and their object boxes for the detector, played from a set of levels.
//!
//! Each episode follows the env's scripted player ([`AnyEnv::plan`](heldout_envs::registry::AnyEnv::plan)), which crosses the level,
//! with each of its actions replaced by a uniformly random one with probability
//! `random_actions` (the plan goes on from where it was, so the agent wanders, falls and dies as
//! well); without a plan the actions are all random. Every `stride`-th observation is kept, up to
//! `per_episode` of them, so the frames spread over many levels.

use anyhow::{Context, Result, bail};
use heldout_agents::ObsFormat;
use heldout_agents::vision::LabelledBox;
use heldout_envs::registry::EnvConfig;
use heldout_envs::{Env, LevelSampler, LevelSet};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::convert::labelled;

/// How frames are gathered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FramePlay {
    /// Probability of replacing a scripted action with a random one.
    pub random_actions: f64,
    /// Keep every this many observations of an episode (the first included).
    pub stride: usize,
    /// Frames kept per episode at most.
    pub per_episode: usize,
    /// Steps per episode at most.
    pub max_steps: usize,
}

impl Default for FramePlay {
    fn default() -> Self {
        FramePlay { random_actions: 0.2, stride: 4, per_episode: 16, max_steps: 400 }
    }
}

/// RGB frames back to back (HWC bytes) and the object boxes of each.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSet {
    /// Layout of one frame.
    pub format: ObsFormat,
    /// The frames' bytes.
    pub bytes: Vec<u8>,
    /// One list of boxes per frame.
    pub boxes: Vec<Vec<LabelledBox>>,
    /// Distinct levels the frames come from.
    pub levels: usize,
}

impl FrameSet {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.boxes.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// The bytes of frame `i`.
    pub fn frame(&self, i: usize) -> &[u8] {
        &self.bytes[i * self.format.len()..(i + 1) * self.format.len()]
    }

    /// The object boxes in all frames.
    pub fn box_count(&self) -> usize {
        self.boxes.iter().map(Vec::len).sum()
    }
}

/// The layout of `env`'s observations, which must be RGB frames.
pub fn rgb_format(env: &EnvConfig) -> Result<ObsFormat> {
    let space = env.build().context("building the environment")?.observation_space();
    match crate::convert::obs_format(&space) {
        Ok(format) if format == ObsFormat::rgb(format.height, format.width) => Ok(format),
        _ => bail!("the detector needs RGB frames, and this env's observations have shape {:?}", space.shape),
    }
}

/// `count` frames with their boxes from episodes on levels of `levels` drawn with `seed`.
pub fn play_frames(env: &EnvConfig, levels: LevelSet, count: usize, play: &FramePlay, seed: u64) -> Result<FrameSet> {
    let format = rgb_format(env)?;
    let mut e = env.build()?;
    let num_actions = e.action_space().n();
    let mut sampler = LevelSampler::new(levels, seed, 0);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut set = FrameSet { format, bytes: Vec::with_capacity(count * format.len()), boxes: Vec::new(), levels: 0 };
    let mut seen = std::collections::HashSet::new();
    while set.len() < count {
        let level = sampler.sample();
        let (mut obs, mut info) = e.reset(level)?;
        let plan = e.plan().unwrap_or_default();
        let mut kept = 0;
        for step in 0..play.max_steps {
            if step % play.stride.max(1) == 0 && kept < play.per_episode && set.len() < count {
                set.bytes.extend_from_slice(&obs);
                set.boxes.push(labelled(&info.objects));
                kept += 1;
                if seen.insert(level) {
                    set.levels += 1;
                }
            }
            let action = match plan.get(step) {
                Some(&a) if !rng.random_bool(play.random_actions) => a,
                _ => rng.random_range(0..num_actions),
            };
            let next = e.step(action)?;
            if next.terminated || next.truncated || kept == play.per_episode || set.len() == count {
                break;
            }
            (obs, info) = (next.obs, next.info);
        }
    }
    Ok(set)
}
