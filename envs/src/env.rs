//! The single-environment API.

use crate::{ActionSpace, EnvError, ObjectBox, ObsSpace, RgbFrame};

/// Side information of a reset or step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Info {
    /// The seed of the level being played.
    pub level_seed: u64,
    /// True on the step that completes the level (reaches the goal).
    pub level_complete: bool,
    /// Screen-space boxes of the visible objects (empty for envs that do not report them).
    pub objects: Vec<ObjectBox>,
    /// The level's goal reward is negated (a random-label level, see [`crate::label`]).
    pub negated: bool,
}

/// The outcome of a step whose observation was written into a caller's buffer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transition {
    /// Reward for the step.
    pub reward: f32,
    /// The episode ended inside the MDP (goal reached, death).
    pub terminated: bool,
    /// The episode was cut by the time limit; the state is not terminal.
    pub truncated: bool,
    /// Side information.
    pub info: Info,
}

/// The outcome of a step, Gymnasium-shaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The observation after the step.
    pub obs: Vec<u8>,
    /// Reward for the step.
    pub reward: f32,
    /// The episode ended inside the MDP (goal reached, death).
    pub terminated: bool,
    /// The episode was cut by the time limit; the state is not terminal.
    pub truncated: bool,
    /// Side information.
    pub info: Info,
}

/// An environment whose levels are pure functions of their seeds.
///
/// Implementors provide the buffer-writing `reset_into` / `step_into`, which the vectorised
/// env uses without allocating; `reset` and `step` are the allocating Gymnasium-shaped forms.
pub trait Env: Send {
    /// The observation this env produces.
    fn observation_space(&self) -> ObsSpace;

    /// The actions this env accepts.
    fn action_space(&self) -> ActionSpace;

    /// Starts the level `level_seed` and writes its first observation into `obs`.
    fn reset_into(&mut self, level_seed: u64, obs: &mut [u8]) -> Result<Info, EnvError>;

    /// Applies `action` and writes the next observation into `obs`.
    fn step_into(&mut self, action: usize, obs: &mut [u8]) -> Result<Transition, EnvError>;

    /// A picture of the current state, for people (GIFs, TensorBoard images).
    fn render(&self) -> RgbFrame;

    /// A text picture of the current state, for debugging and tests.
    fn render_text(&self) -> String;

    /// Starts the level `level_seed`.
    fn reset(&mut self, level_seed: u64) -> Result<(Vec<u8>, Info), EnvError> {
        let mut obs = vec![0; self.observation_space().len()];
        let info = self.reset_into(level_seed, &mut obs)?;
        Ok((obs, info))
    }

    /// Applies `action`.
    fn step(&mut self, action: usize) -> Result<Step, EnvError> {
        let mut obs = vec![0; self.observation_space().len()];
        let t = self.step_into(action, &mut obs)?;
        Ok(Step { obs, reward: t.reward, terminated: t.terminated, truncated: t.truncated, info: t.info })
    }
}

/// Checks an action index against an action count.
pub fn check_action(action: usize, num_actions: usize) -> Result<(), EnvError> {
    if action < num_actions { Ok(()) } else { Err(EnvError::InvalidAction { action, num_actions }) }
}

/// Checks an observation buffer length against a space.
pub fn check_obs_buffer(obs: &[u8], space_len: usize) -> Result<(), EnvError> {
    if obs.len() == space_len { Ok(()) } else { Err(EnvError::ObsBuffer { expected: space_len, got: obs.len() }) }
}
