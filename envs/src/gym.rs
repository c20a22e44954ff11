//! gym-rs's `Env` trait for any heldout environment (feature `gym-rs`).
//!
//! [`GymEnv`] wraps an [`Env`]: observations are the env's bytes ([`GymObs`]), actions are
//! indices, `done` is heldout's `terminated` and `truncated` stays apart. gym-rs's `step` and
//! `reset` cannot fail, so errors (an invalid action, a step after the episode ended) come back
//! in [`GymInfo::error`] with the unchanged observation, zero reward and neither flag set.
//! `reset(Some(seed))` plays level `seed`; `reset(None)` draws the next level uniformly from the
//! wrapper's [`LevelSet`] with its PCG-64 generator (the one `rand_random` returns); the reset
//! options (bounds on the initial state) do not apply to procedurally generated levels and are
//! ignored. Rendering supports `SingleRgbArray` (the env's [`Env::render`]) and `Ansi` (its
//! [`Env::render_text`], one string per line); other modes render nothing.

use std::fmt::Debug;

use gym_rs::core::{ActionReward, Env as GymRsEnv, EnvProperties};
use gym_rs::spaces::{BoxR, Discrete};
use gym_rs::utils::custom::structs::Metadata;
use gym_rs::utils::custom::traits::Sample;
use gym_rs::utils::renderer::{RenderColor, RenderFrame, RenderMode, Renders};
use ordered_float::OrderedFloat;
use rand_pcg::Pcg64;
use rand08::distributions::uniform::{SampleBorrow, SampleUniform, UniformSampler};
use rand08::{Rng, SeedableRng};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::{Env, EnvError, LevelSet};

/// The render modes [`GymEnv`] produces something for.
const RENDER_MODES: &[RenderMode] = &[RenderMode::SingleRgbArray, RenderMode::Ansi];
/// Frames per second reported in the metadata (procgen's and MiniGrid's rate).
const RENDER_FPS: u32 = 15;

/// An observation: the env's bytes, in its observation space's layout.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct GymObs(pub Vec<u8>);

impl From<GymObs> for Vec<f64> {
    fn from(obs: GymObs) -> Self {
        obs.0.into_iter().map(f64::from).collect()
    }
}

/// Samples observations byte by byte between two bounds (pairs beyond the shorter bound are
/// dropped).
#[derive(Debug, Clone)]
pub struct UniformGymObs {
    low: Vec<u8>,
    high: Vec<u8>,
    inclusive: bool,
}

impl UniformSampler for UniformGymObs {
    type X = GymObs;

    fn new<B1, B2>(low: B1, high: B2) -> Self
    where
        B1: SampleBorrow<GymObs> + Sized,
        B2: SampleBorrow<GymObs> + Sized,
    {
        Self { low: low.borrow().0.clone(), high: high.borrow().0.clone(), inclusive: false }
    }

    fn new_inclusive<B1, B2>(low: B1, high: B2) -> Self
    where
        B1: SampleBorrow<GymObs> + Sized,
        B2: SampleBorrow<GymObs> + Sized,
    {
        Self { inclusive: true, ..Self::new(low, high) }
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> GymObs {
        let byte = |(&lo, &hi): (&u8, &u8)| match (self.inclusive, lo < hi) {
            (true, _) if lo <= hi => rng.gen_range(lo..=hi),
            (false, true) => rng.gen_range(lo..hi),
            _ => lo,
        };
        GymObs(self.low.iter().zip(&self.high).map(byte).collect())
    }
}

impl SampleUniform for GymObs {
    type Sampler = UniformGymObs;
}

impl Sample for GymObs {
    /// A uniform observation within `bounds`; without bounds there is no shape to fill, so the
    /// observation is empty.
    fn sample_between<R: Rng>(rng: &mut R, bounds: Option<BoxR<Self>>) -> Self {
        bounds.map_or(GymObs(Vec::new()), |b| UniformGymObs::new_inclusive(b.low, b.high).sample(rng))
    }
}

/// Side information of a reset or step.
#[derive(Debug, Clone, PartialEq)]
pub struct GymInfo {
    /// The level being played.
    pub level_seed: u64,
    /// True on the step that completes the level.
    pub level_complete: bool,
    /// Why the call did nothing, if it failed.
    pub error: Option<EnvError>,
}

/// A heldout environment behind gym-rs's `Env` trait; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct GymEnv<E> {
    env: E,
    levels: LevelSet,
    rng: Pcg64,
    level_seed: u64,
    obs: GymObs,
    action_space: Discrete,
    observation_space: BoxR<GymObs>,
    metadata: Metadata<Self>,
}

impl<E: Env> GymEnv<E> {
    /// Wraps `env`; `reset(None)` draws levels from `levels` with a generator seeded by `seed`.
    pub fn new(env: E, levels: LevelSet, seed: u64) -> Self {
        let space = env.observation_space();
        let observation_space = BoxR::new(GymObs(vec![0; space.len()]), GymObs(vec![space.high; space.len()]));
        Self {
            action_space: Discrete(env.action_space().n()),
            obs: GymObs(vec![0; space.len()]),
            observation_space,
            env,
            levels,
            rng: Pcg64::seed_from_u64(seed),
            level_seed: 0,
            metadata: Metadata::new(RENDER_MODES, RENDER_FPS),
        }
    }

    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The level being played.
    pub fn level_seed(&self) -> u64 {
        self.level_seed
    }

    fn info(&self, level_complete: bool, error: Option<EnvError>) -> GymInfo {
        GymInfo { level_seed: self.level_seed, level_complete, error }
    }
}

impl<E: Env + Clone + Debug> GymRsEnv for GymEnv<E> {
    type Action = usize;
    type Observation = GymObs;
    type Info = GymInfo;
    type ResetInfo = GymInfo;

    fn step(&mut self, action: usize) -> ActionReward<GymObs, GymInfo> {
        let (reward, done, truncated, info) = match self.env.step_into(action, &mut self.obs.0) {
            Ok(t) => (t.reward, t.terminated, t.truncated, self.info(t.info.level_complete, None)),
            Err(e) => (0.0, false, false, self.info(false, Some(e))),
        };
        ActionReward {
            observation: self.obs.clone(),
            reward: OrderedFloat(reward.into()),
            done,
            truncated,
            info: Some(info),
        }
    }

    fn reset(
        &mut self,
        seed: Option<u64>,
        return_info: bool,
        _options: Option<BoxR<GymObs>>,
    ) -> (GymObs, Option<GymInfo>) {
        let level = seed.unwrap_or_else(|| {
            let start = self.levels.start_level;
            let last = self.levels.end().map_or(u64::MAX, |end| end.saturating_sub(1).max(start));
            self.rng.gen_range(start..=last)
        });
        let info = match self.env.reset_into(level, &mut self.obs.0) {
            Ok(_) => {
                self.level_seed = level;
                return_info.then(|| self.info(false, None))
            }
            Err(e) => Some(self.info(false, Some(e))),
        };
        (self.obs.clone(), info)
    }

    fn render(&mut self, mode: RenderMode) -> Renders {
        match mode {
            RenderMode::SingleRgbArray => {
                let frame = self.env.render();
                let rows = frame
                    .data
                    .chunks_exact(frame.width * 3)
                    .map(|row| row.chunks_exact(3).map(|p| RenderColor::RGB(p[0], p[1], p[2])).collect())
                    .collect();
                Renders::SingleRgbArray(RenderFrame(rows))
            }
            RenderMode::Ansi => Renders::Ansi(self.env.render_text().lines().map(String::from).collect()),
            RenderMode::Human | RenderMode::RgbArray | RenderMode::None => Renders::None,
        }
    }

    fn close(&mut self) {}
}

impl<E: Env + Clone + Debug> EnvProperties for GymEnv<E> {
    type ActionSpace = Discrete;
    type ObservationSpace = BoxR<GymObs>;

    fn metadata(&self) -> &Metadata<Self> {
        &self.metadata
    }

    fn rand_random(&self) -> &Pcg64 {
        &self.rng
    }

    fn action_space(&self) -> &Discrete {
        &self.action_space
    }

    fn observation_space(&self) -> &BoxR<GymObs> {
        &self.observation_space
    }
}

/// Serializes a summary (the env itself need not be serializable): the level being played, the
/// level set, and the sizes of the spaces.
impl<E> Serialize for GymEnv<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("GymEnv", 5)?;
        s.serialize_field("level_seed", &self.level_seed)?;
        s.serialize_field("start_level", &self.levels.start_level)?;
        s.serialize_field("num_levels", &self.levels.num_levels)?;
        s.serialize_field("observation_len", &self.obs.0.len())?;
        s.serialize_field("num_actions", &self.action_space.0)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multiroom::{Action, MultiRoom, MultiRoomOptions};

    fn gym() -> GymEnv<MultiRoom> {
        GymEnv::new(MultiRoom::new(MultiRoomOptions::default()).unwrap(), LevelSet::new(100, 50), 7)
    }

    #[test]
    fn plays_the_same_levels_as_the_wrapped_env() {
        let mut g = gym();
        let mut plain = MultiRoom::new(MultiRoomOptions::default()).unwrap();
        let (obs, info) = g.reset(Some(5), true, None);
        assert_eq!(obs.0, plain.reset(5).unwrap().0);
        assert_eq!(info, Some(GymInfo { level_seed: 5, level_complete: false, error: None }));
        for t in 0..100 {
            let action = (t * 5 + t / 3) % Action::ALL.len();
            let (ours, theirs) = (g.step(action), plain.step(action).unwrap());
            assert_eq!(ours.observation.0, theirs.obs);
            assert_eq!(
                (ours.reward.0, ours.done, ours.truncated),
                (f64::from(theirs.reward), theirs.terminated, theirs.truncated)
            );
            if ours.done || ours.truncated {
                break;
            }
        }
        let as_floats: Vec<f64> = obs.clone().into();
        assert_eq!(as_floats.len(), 11 * 11 * 3);
        assert_eq!(g.observation_space().high.0.len(), as_floats.len());
        assert_eq!(g.action_space().0, 7);
    }

    #[test]
    fn errors_come_back_in_the_info() {
        let mut g = gym();
        let before = g.step(0);
        assert_eq!(before.info.unwrap().error, Some(EnvError::NeedsReset));
        let (obs, _) = g.reset(None, false, None);
        let bad = g.step(9);
        assert_eq!(bad.observation, obs);
        assert_eq!(bad.info.unwrap().error, Some(EnvError::InvalidAction { action: 9, num_actions: 7 }));
        assert!(!bad.done && !bad.truncated && bad.reward.0 == 0.0);
    }

    #[test]
    fn unseeded_resets_draw_from_the_level_set() {
        let mut g = gym();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..300 {
            g.reset(None, false, None);
            assert!(LevelSet::new(100, 50).contains(g.level_seed()));
            seen.insert(g.level_seed());
        }
        assert!(seen.len() > 40, "only {} of 50 levels drawn", seen.len());
        // The same generator seed draws the same levels.
        let (mut a, mut b) = (gym(), gym());
        for _ in 0..10 {
            assert_eq!(a.reset(None, false, None), b.reset(None, false, None));
        }
    }

    #[test]
    fn renders_pictures_and_text() {
        let mut g = gym();
        g.reset(Some(1), false, None);
        let Renders::SingleRgbArray(RenderFrame(rows)) = g.render(RenderMode::SingleRgbArray) else {
            panic!("expected one frame");
        };
        assert_eq!((rows.len(), rows[0].len()), (11 * 16, 11 * 16));
        let Renders::Ansi(lines) = g.render(RenderMode::Ansi) else { panic!("expected text") };
        assert_eq!(lines.len(), 11);
        assert_eq!(g.render(RenderMode::Human), Renders::None);
        let summary = toml::to_string(&g).unwrap();
        assert!(summary.contains("level_seed = 1") && summary.contains("num_actions = 7"), "{summary}");
    }

    #[test]
    fn samples_stay_within_bounds() {
        let mut rng = Pcg64::seed_from_u64(3);
        let bounds = BoxR::new(GymObs(vec![0, 5, 9, 200]), GymObs(vec![3, 5, 10, 255]));
        for _ in 0..200 {
            let GymObs(s) = GymObs::sample_between(&mut rng, Some(bounds.clone()));
            assert!(s.iter().zip(&bounds.low.0).zip(&bounds.high.0).all(|((v, lo), hi)| lo <= v && v <= hi));
        }
        assert_eq!(GymObs::sample_between(&mut rng, None), GymObs(Vec::new()));
    }
}
