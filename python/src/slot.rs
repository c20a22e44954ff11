//! One env and the stream of levels it plays: the part the single and the vector env share.

use heldout_envs::registry::AnyEnv;
use heldout_envs::{Env, LevelSampler, LevelSet};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::to_py;

use crate::info::LevelInfo;

/// The outcome of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcome {
    /// The step's reward.
    pub reward: f32,
    /// The episode ended inside the MDP.
    pub terminated: bool,
    /// The time limit cut the episode.
    pub truncated: bool,
    /// The level's side information.
    pub info: LevelInfo,
}

impl Outcome {
    /// True when the episode is over.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// What an env is, for Python to build its spaces from.
#[pyclass(module = "heldout._native", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct Description {
    /// The shape of an observation.
    pub observation_shape: Vec<usize>,
    /// The largest value an observation byte takes.
    pub observation_high: u8,
    /// The actions' names, by index.
    pub action_names: Vec<String>,
    /// The levels played: `(start_level, num_levels)`, `num_levels = 0` meaning unbounded.
    pub levels: (u64, u64),
}

/// An env, its level set, and the sampler drawing its levels.
pub struct Slot {
    env: AnyEnv,
    levels: LevelSet,
    sampler: Option<LevelSampler>,
}

impl Slot {
    /// A slot playing `levels`; it needs [`Slot::seed`] before its first [`Slot::reset`].
    pub fn new(env: AnyEnv, levels: LevelSet) -> Slot {
        Slot { env, levels, sampler: None }
    }

    /// The env.
    pub fn env(&self) -> &AnyEnv {
        &self.env
    }

    /// What the env is.
    pub fn description(&self) -> Description {
        let space = self.env.observation_space();
        Description {
            observation_shape: space.shape,
            observation_high: space.high,
            action_names: self.env.action_space().names.iter().map(|n| n.to_string()).collect(),
            levels: (self.levels.start_level, self.levels.num_levels),
        }
    }

    /// Whether a level stream has been seeded.
    pub fn is_seeded(&self) -> bool {
        self.sampler.is_some()
    }

    /// Starts the level stream of `seed`: the levels that follow are a function of it alone.
    pub fn seed(&mut self, seed: u64) {
        self.sampler = Some(LevelSampler::new(self.levels, seed, 0));
    }

    /// Starts the next level of the stream, or `level_seed` when given (it must belong to the
    /// slot's level set), writing its first observation into `obs`.
    pub fn reset(&mut self, level_seed: Option<u64>, obs: &mut [u8]) -> PyResult<LevelInfo> {
        let level = match level_seed {
            Some(level) if !self.levels.contains(level) => {
                return Err(PyValueError::new_err(format!(
                    "level {level} is not in this env's levels ({})",
                    describe(self.levels)
                )));
            }
            Some(level) => level,
            None => self
                .sampler
                .as_mut()
                .ok_or_else(|| PyValueError::new_err("seed the level stream before the first reset"))?
                .sample(),
        };
        Ok(LevelInfo::of(&self.env.reset_into(level, obs).map_err(to_py)?))
    }

    /// Applies `action`, writing the next observation into `obs`.
    pub fn step(&mut self, action: usize, obs: &mut [u8]) -> PyResult<Outcome> {
        let t = self.env.step_into(action, obs).map_err(to_py)?;
        Ok(Outcome { reward: t.reward, terminated: t.terminated, truncated: t.truncated, info: LevelInfo::of(&t.info) })
    }
}

/// `[a, b)` or `[a, ...)`, for error messages.
fn describe(levels: LevelSet) -> String {
    match levels.end() {
        Some(end) => format!("seeds {} to {}", levels.start_level, end - 1),
        None => format!("seeds from {}", levels.start_level),
    }
}

/// Checks an action from Python (any integer) against the action count.
pub fn check_action(action: i64, num_actions: usize) -> PyResult<usize> {
    usize::try_from(action).ok().filter(|&a| a < num_actions).ok_or_else(|| {
        PyValueError::new_err(format!("action {action} is out of range: the actions are 0..{num_actions}"))
    })
}
