//! What the caller collects between two updates.

use crate::error::AgentError;
use crate::obs::{ObsFormat, Observations};
use crate::vision::{BatchBoxes, LabelledBox};

/// A time-major `[num_steps, num_envs]` batch of transitions collected with the agent's
/// rollout policy ([`crate::Agent::rollout_noise`]): entry `t * num_envs + i` is env `i` at step `t`.
///
/// Truncation contract (see [`crate::ppo::gae::gae`]): an episode cut by a time limit is
/// marked in `terminated` like a real ending, and the caller adds `gamma * V(final_obs)`
/// ([`crate::Agent::values`]) to that step's reward.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollout {
    /// Steps per env.
    pub num_steps: usize,
    /// Parallel envs.
    pub num_envs: usize,
    /// Observations, `num_steps * num_envs` of them, each HWC bytes of the agent's format.
    pub obs: Vec<u8>,
    /// The object boxes of each observation when they were pushed with them (the vision
    /// encoder needs them), else empty.
    pub boxes: Vec<Vec<LabelledBox>>,
    /// Actions taken.
    pub actions: Vec<usize>,
    /// Log-probabilities of the actions under the rollout policy (from [`crate::Agent::act`]).
    pub log_probs: Vec<f32>,
    /// Rollout-policy values of the observations (from [`crate::Agent::act`]).
    pub values: Vec<f32>,
    /// Rewards received after each action.
    pub rewards: Vec<f32>,
    /// Whether the episode ended (terminated, or truncated) after each step.
    pub terminated: Vec<bool>,
    /// Values of the observations after the last step, one per env.
    pub next_values: Vec<f32>,
}

impl Rollout {
    /// An empty rollout with room for `num_steps` steps of `num_envs` envs.
    pub fn with_capacity(num_steps: usize, num_envs: usize, obs: &ObsFormat) -> Rollout {
        let n = num_steps * num_envs;
        Rollout {
            num_steps: 0,
            num_envs,
            obs: Vec::with_capacity(n * obs.len()),
            boxes: Vec::new(),
            actions: Vec::with_capacity(n),
            log_probs: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
            rewards: Vec::with_capacity(n),
            terminated: Vec::with_capacity(n),
            next_values: Vec::with_capacity(num_envs),
        }
    }

    /// Appends one step of all envs: the observations acted on (with their object boxes, if
    /// the agent reads them), what [`crate::Agent::act`] returned for them, and the rewards and
    /// episode ends that followed.
    pub fn push<'a>(
        &mut self,
        obs: impl Into<Observations<'a>>,
        act: &crate::ActOutput,
        rewards: &[f32],
        terminated: &[bool],
    ) {
        let obs = obs.into();
        self.obs.extend_from_slice(obs.bytes);
        if let Some(boxes) = obs.boxes {
            self.boxes.extend_from_slice(boxes);
        }
        self.actions.extend_from_slice(&act.actions);
        self.log_probs.extend_from_slice(&act.log_probs);
        self.values.extend_from_slice(&act.values);
        self.rewards.extend_from_slice(rewards);
        self.terminated.extend_from_slice(terminated);
        self.num_steps += 1;
    }

    /// Number of samples, `num_steps * num_envs`.
    pub fn len(&self) -> usize {
        self.num_steps * self.num_envs
    }

    /// The object boxes of every observation, if the rollout has them.
    pub fn boxes(&self) -> Option<&BatchBoxes> {
        (!self.boxes.is_empty()).then_some(self.boxes.as_slice())
    }

    /// Whether the rollout holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks every field's length and the actions' range.
    pub fn validate(&self, obs: &ObsFormat, num_actions: usize) -> Result<(), AgentError> {
        let n = self.len();
        let check = |field, expected, got| {
            if expected == got { Ok(()) } else { Err(AgentError::RolloutShape { field, expected, got }) }
        };
        check("num_steps * num_envs", n.max(1), n)?;
        check("obs", n * obs.len(), self.obs.len())?;
        if !self.boxes.is_empty() {
            check("boxes", n, self.boxes.len())?;
        }
        check("actions", n, self.actions.len())?;
        check("log_probs", n, self.log_probs.len())?;
        check("values", n, self.values.len())?;
        check("rewards", n, self.rewards.len())?;
        check("terminated", n, self.terminated.len())?;
        check("next_values", self.num_envs, self.next_values.len())?;
        match self.actions.iter().position(|&a| a >= num_actions) {
            Some(index) => Err(AgentError::InvalidAction { index, action: self.actions[index], num_actions }),
            None => Ok(()),
        }
    }
}
