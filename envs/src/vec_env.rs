//! A batch of envs stepped together, with auto-reset.

use crate::env::Env;
use crate::{EnvError, Info, LevelSampler, LevelSet, ObjectBox, ObsSpace};

/// The statistics of an episode that just ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeRecord {
    /// Sum of rewards.
    pub episode_return: f32,
    /// Number of steps.
    pub length: u32,
    /// The level that was played.
    pub level_seed: u64,
    /// Whether the level was completed (its goal reached).
    pub success: bool,
    /// Whether the episode made the right decision: reached the goal of a positive level, or
    /// not that of a negated one (the same as `success` without random labels).
    pub correct_decision: bool,
}

/// The outcome of one vectorised step; the next observations are in [`VecEnv::obs`].
#[derive(Debug, Clone, Default)]
pub struct VecStep {
    /// Reward of each env.
    pub rewards: Vec<f32>,
    /// Whether each env's episode terminated.
    pub terminated: Vec<bool>,
    /// Whether each env's episode was truncated by the time limit.
    pub truncated: Vec<bool>,
    /// Side information of each env's step (before any auto-reset).
    pub infos: Vec<Info>,
    /// For envs whose episode ended: the episode's true last observation. [`VecEnv::obs`] then
    /// holds the first observation of the next episode; bootstrap a truncated episode from this.
    pub final_obs: Vec<Option<Vec<u8>>>,
    /// For envs whose episode ended: its statistics.
    pub episodes: Vec<Option<EpisodeRecord>>,
}

impl VecStep {
    /// Appends the outcome of another batch's envs after this one's (shards in slot order).
    pub fn append(&mut self, other: VecStep) {
        let VecStep { rewards, terminated, truncated, infos, final_obs, episodes } = other;
        self.rewards.extend(rewards);
        self.terminated.extend(terminated);
        self.truncated.extend(truncated);
        self.infos.extend(infos);
        self.final_obs.extend(final_obs);
        self.episodes.extend(episodes);
    }
}

/// What it takes to rebuild one env slot exactly: levels are pure functions of their seeds and
/// envs are deterministic, so the level, the actions taken in it and the sampler's position
/// are the whole state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlotSnapshot {
    /// The level being played.
    pub level_seed: u64,
    /// How many levels the slot's sampler has drawn (this one included).
    pub levels_drawn: u64,
    /// The actions taken since the level started.
    pub actions: Vec<usize>,
}

struct Slot<E> {
    env: E,
    sampler: LevelSampler,
    level_seed: u64,
    episode_return: f32,
    actions: Vec<usize>,
    objects: Vec<ObjectBox>,
}

/// Envs stepped together. Each env slot draws its levels from its own [`LevelSampler`] stream,
/// numbered from `first_slot`, so splitting a batch into shards (one per worker thread) plays
/// exactly the same levels as one big batch.
pub struct VecEnv<E> {
    slots: Vec<Slot<E>>,
    space: ObsSpace,
    obs: Vec<u8>,
}

impl<E: Env> VecEnv<E> {
    /// Wraps `envs`, slot `i` drawing levels from stream `first_slot + i` of `sampler_seed`,
    /// and resets them all.
    pub fn new(envs: Vec<E>, levels: LevelSet, sampler_seed: u64, first_slot: usize) -> Result<Self, EnvError> {
        let space = envs
            .first()
            .ok_or_else(|| EnvError::InvalidOptions("a vectorised env needs at least one env".into()))?
            .observation_space();
        let slots = envs
            .into_iter()
            .enumerate()
            .map(|(i, env)| Slot {
                env,
                sampler: LevelSampler::new(levels, sampler_seed, (first_slot + i) as u64),
                level_seed: 0,
                episode_return: 0.0,
                actions: Vec::new(),
                objects: Vec::new(),
            })
            .collect::<Vec<_>>();
        let obs = vec![0; slots.len() * space.len()];
        let mut venv = Self { slots, space, obs };
        venv.reset_all()?;
        Ok(venv)
    }

    /// Number of envs.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when there are no envs.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The observation space of one env.
    pub fn observation_space(&self) -> &ObsSpace {
        &self.space
    }

    /// Number of actions of each env.
    pub fn num_actions(&self) -> usize {
        self.slots[0].env.action_space().n()
    }

    /// The current observations, env after env, each `observation_space().len()` bytes.
    pub fn obs(&self) -> &[u8] {
        &self.obs
    }

    /// Exchanges the current observations with `other` (of the same length) without copying
    /// them: `other` receives them, and the batch's buffer becomes `other`'s old bytes, which
    /// the next step, reset or restore overwrites in full. Until then [`VecEnv::obs`] returns
    /// those old bytes. For a caller that hands observations to another thread each step.
    pub fn swap_obs(&mut self, other: &mut Vec<u8>) -> Result<(), EnvError> {
        if other.len() != self.obs.len() {
            return Err(EnvError::InvalidOptions(format!(
                "an observation buffer of {} bytes cannot take this batch's {} bytes",
                other.len(),
                self.obs.len()
            )));
        }
        std::mem::swap(&mut self.obs, other);
        Ok(())
    }

    /// The object boxes of each env's current observation (see [`crate::Info::objects`]).
    pub fn objects(&self) -> Vec<Vec<ObjectBox>> {
        self.slots.iter().map(|s| s.objects.clone()).collect()
    }

    /// The level each env is playing.
    pub fn level_seeds(&self) -> Vec<u64> {
        self.slots.iter().map(|s| s.level_seed).collect()
    }

    /// Starts a fresh level in every env.
    pub fn reset_all(&mut self) -> Result<(), EnvError> {
        let n = self.space.len();
        for (slot, obs) in self.slots.iter_mut().zip(self.obs.chunks_exact_mut(n)) {
            slot.start_episode(obs)?;
        }
        Ok(())
    }

    /// Steps every env with its action; envs whose episode ends start a new level at once.
    pub fn step(&mut self, actions: &[usize]) -> Result<VecStep, EnvError> {
        if actions.len() != self.slots.len() {
            return Err(EnvError::ActionCount { expected: self.slots.len(), got: actions.len() });
        }
        let n = self.space.len();
        let mut out = VecStep::default();
        for ((slot, obs), &action) in self.slots.iter_mut().zip(self.obs.chunks_exact_mut(n)).zip(actions) {
            let t = slot.env.step_into(action, obs)?;
            slot.episode_return += t.reward;
            slot.actions.push(action);
            let done = t.terminated || t.truncated;
            out.final_obs.push(done.then(|| obs.to_vec()));
            out.episodes.push(done.then_some(EpisodeRecord {
                episode_return: slot.episode_return,
                length: slot.actions.len() as u32,
                level_seed: slot.level_seed,
                success: t.info.level_complete,
                correct_decision: crate::label::correct_decision(t.info.level_complete, t.info.negated),
            }));
            if done {
                slot.start_episode(obs)?;
            } else {
                slot.objects.clone_from(&t.info.objects);
            }
            out.rewards.push(t.reward);
            out.terminated.push(t.terminated);
            out.truncated.push(t.truncated);
            out.infos.push(t.info);
        }
        Ok(out)
    }

    /// The state of every slot, for checkpoints.
    pub fn snapshot(&self) -> Vec<SlotSnapshot> {
        self.slots
            .iter()
            .map(|s| SlotSnapshot {
                level_seed: s.level_seed,
                levels_drawn: s.sampler.draws(),
                actions: s.actions.clone(),
            })
            .collect()
    }

    /// Brings every slot back to a [`VecEnv::snapshot`] by replaying its level and actions.
    ///
    /// The VecEnv must have been built with the same envs, level set, sampler seed and slots.
    pub fn restore(&mut self, snapshots: &[SlotSnapshot]) -> Result<(), EnvError> {
        if snapshots.len() != self.slots.len() {
            return Err(EnvError::InvalidOptions(format!(
                "snapshot has {} env slots, this batch has {}",
                snapshots.len(),
                self.slots.len()
            )));
        }
        let n = self.space.len();
        for ((slot, obs), snap) in self.slots.iter_mut().zip(self.obs.chunks_exact_mut(n)).zip(snapshots) {
            slot.sampler = slot.sampler.rewound();
            slot.sampler.skip(snap.levels_drawn.saturating_sub(1));
            slot.start_episode(obs)?;
            if slot.level_seed != snap.level_seed {
                return Err(EnvError::InvalidOptions(format!(
                    "snapshot level {} does not match the level {} this sampler draws",
                    snap.level_seed, slot.level_seed
                )));
            }
            for &action in &snap.actions {
                let t = slot.env.step_into(action, obs)?;
                slot.episode_return += t.reward;
                slot.actions.push(action);
                slot.objects = t.info.objects;
            }
        }
        Ok(())
    }
}

impl<E: Env> Slot<E> {
    fn start_episode(&mut self, obs: &mut [u8]) -> Result<(), EnvError> {
        self.level_seed = self.sampler.sample();
        self.episode_return = 0.0;
        self.actions.clear();
        self.objects = self.env.reset_into(self.level_seed, obs)?.objects;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ActionSpace, RgbFrame, Transition};

    /// A corridor of `level_seed % 5 + 2` cells: action 1 moves right, the end terminates,
    /// 8 steps truncate. The observation is `[level_seed as u8, position]`.
    struct Corridor {
        seed: u64,
        pos: u8,
        steps: u32,
    }

    impl Env for Corridor {
        fn observation_space(&self) -> ObsSpace {
            ObsSpace { shape: vec![2], dtype: crate::DType::U8, high: u8::MAX }
        }
        fn action_space(&self) -> ActionSpace {
            ActionSpace { names: vec!["stay", "right"] }
        }
        fn reset_into(&mut self, level_seed: u64, obs: &mut [u8]) -> Result<Info, EnvError> {
            (self.seed, self.pos, self.steps) = (level_seed, 0, 0);
            obs.copy_from_slice(&[level_seed as u8, 0]);
            Ok(Info { level_seed, ..Info::default() })
        }
        fn step_into(&mut self, action: usize, obs: &mut [u8]) -> Result<Transition, EnvError> {
            crate::env::check_action(action, 2)?;
            self.pos += action as u8;
            self.steps += 1;
            let terminated = u64::from(self.pos) >= self.seed % 5 + 2;
            obs.copy_from_slice(&[self.seed as u8, self.pos]);
            Ok(Transition {
                reward: if terminated { 1.0 } else { 0.0 },
                terminated,
                truncated: !terminated && self.steps >= 8,
                info: Info { level_seed: self.seed, level_complete: terminated, ..Info::default() },
            })
        }
        fn render(&self) -> RgbFrame {
            RgbFrame { width: 1, height: 1, data: vec![0; 3] }
        }
        fn render_text(&self) -> String {
            format!("{}", self.pos)
        }
    }

    fn corridors(n: usize) -> Vec<Corridor> {
        (0..n).map(|_| Corridor { seed: 0, pos: 0, steps: 0 }).collect()
    }

    fn actions(t: usize, n: usize) -> Vec<usize> {
        (0..n).map(|i| usize::from(!(t * 7 + i * 3).is_multiple_of(4))).collect()
    }

    #[test]
    fn swap_obs_hands_over_the_observations_and_steps_refill_them() {
        let mut venv = VecEnv::new(corridors(3), LevelSet::new(0, 50), 1, 0).unwrap();
        let reference = venv.obs().to_vec();
        let mut buffer = vec![0xAA; reference.len()];
        venv.swap_obs(&mut buffer).unwrap();
        assert_eq!(buffer, reference);
        assert!(venv.obs().iter().all(|&b| b == 0xAA), "the old bytes until the next step");
        let mut twin = VecEnv::new(corridors(3), LevelSet::new(0, 50), 1, 0).unwrap();
        venv.step(&[1, 0, 1]).unwrap();
        twin.step(&[1, 0, 1]).unwrap();
        assert_eq!(venv.obs(), twin.obs(), "a step overwrites every byte");
        assert!(venv.swap_obs(&mut vec![0; 2]).is_err());
    }

    #[test]
    fn auto_reset_keeps_final_observation_and_records_episodes() {
        let mut venv = VecEnv::new(corridors(3), LevelSet::new(0, 100), 1, 0).unwrap();
        let mut finished = 0;
        for t in 0..40 {
            let step = venv.step(&actions(t, 3)).unwrap();
            for i in 0..3 {
                let done = step.terminated[i] || step.truncated[i];
                assert_eq!(done, step.final_obs[i].is_some());
                assert!(!(step.terminated[i] && step.truncated[i]));
                if let (Some(fin), Some(ep)) = (&step.final_obs[i], step.episodes[i]) {
                    finished += 1;
                    assert_eq!(fin[0], ep.level_seed as u8);
                    assert_eq!(ep.success, step.terminated[i]);
                    if step.terminated[i] {
                        assert_eq!(u64::from(fin[1]), ep.level_seed % 5 + 2);
                    }
                    // The live observation is the first of the next episode.
                    assert_eq!(venv.obs()[i * 2 + 1], 0);
                }
            }
        }
        assert!(finished > 10);
        assert!(matches!(venv.step(&[1, 1]), Err(EnvError::ActionCount { expected: 3, got: 2 })));
        assert!(matches!(venv.step(&[1, 1, 5]), Err(EnvError::InvalidAction { action: 5, num_actions: 2 })));
    }

    #[test]
    fn shards_play_the_same_levels_as_one_batch() {
        let set = LevelSet::new(10, 50);
        let mut whole = VecEnv::new(corridors(4), set, 9, 0).unwrap();
        let mut left = VecEnv::new(corridors(2), set, 9, 0).unwrap();
        let mut right = VecEnv::new(corridors(2), set, 9, 2).unwrap();
        for t in 0..60 {
            let a = actions(t, 4);
            whole.step(&a).unwrap();
            left.step(&a[..2]).unwrap();
            right.step(&a[2..]).unwrap();
            assert_eq!(whole.obs(), [left.obs(), right.obs()].concat());
        }
    }

    #[test]
    fn restore_rebuilds_the_snapshot_state() {
        let set = LevelSet::new(0, 1000);
        let mut venv = VecEnv::new(corridors(3), set, 4, 0).unwrap();
        for t in 0..23 {
            venv.step(&actions(t, 3)).unwrap();
        }
        let snap = venv.snapshot();
        let mut restored = VecEnv::new(corridors(3), set, 4, 0).unwrap();
        restored.restore(&snap).unwrap();
        assert_eq!(restored.obs(), venv.obs());
        assert_eq!(restored.snapshot(), snap);
        for t in 23..60 {
            let (a, b) = (venv.step(&actions(t, 3)).unwrap(), restored.step(&actions(t, 3)).unwrap());
            assert_eq!(a.rewards, b.rewards);
            assert_eq!(a.episodes, b.episodes);
            assert_eq!(venv.obs(), restored.obs());
        }
        assert!(restored.restore(&snap[..2]).is_err());
    }
}
