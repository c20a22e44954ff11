//! A batch of envs stepped together, with auto-reset.

use crate::env::Env;
use crate::{EnvError, Info, LevelSampler, LevelSet, ObsSpace};

/// The statistics of an episode that just ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeRecord {
    /// Sum of rewards.
    pub episode_return: f32,
    /// Number of steps.
    pub length: u32,
    /// The level that was played.
    pub level_seed: u64,
    /// Whether the level was completed.
    pub success: bool,
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

struct Slot<E> {
    env: E,
    sampler: LevelSampler,
    level_seed: u64,
    episode_return: f32,
    length: u32,
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
                length: 0,
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
            slot.length += 1;
            let done = t.terminated || t.truncated;
            out.final_obs.push(done.then(|| obs.to_vec()));
            out.episodes.push(done.then(|| EpisodeRecord {
                episode_return: slot.episode_return,
                length: slot.length,
                level_seed: slot.level_seed,
                success: t.info.level_complete,
            }));
            if done {
                slot.start_episode(obs)?;
            }
            out.rewards.push(t.reward);
            out.terminated.push(t.terminated);
            out.truncated.push(t.truncated);
            out.infos.push(t.info);
        }
        Ok(out)
    }
}

impl<E: Env> Slot<E> {
    fn start_episode(&mut self, obs: &mut [u8]) -> Result<(), EnvError> {
        self.level_seed = self.sampler.sample();
        self.episode_return = 0.0;
        self.length = 0;
        self.env.reset_into(self.level_seed, obs).map(drop)
    }
}
