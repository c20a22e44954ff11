//! PPO hyper-parameters.

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, check_count, check_positive, check_range};

/// PPO's settings (defaults: the paper's MultiRoom column of docs/method.md, "PPO settings").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PpoConfig {
    /// Adam's step size at the start of the run.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over the run (`progress` 0 -> 1).
    pub anneal_lr: bool,
    /// Clip range of the probability ratio (and of the value change when `clip_value`).
    pub clip: f64,
    /// Anneal the clip range linearly to 0 over the run (CoinRun's code does).
    pub anneal_clip: bool,
    /// Clip the value function's change around the rollout's values, as PPO2 does.
    pub clip_value: bool,
    /// Discount factor.
    pub gamma: f64,
    /// GAE's lambda.
    pub gae_lambda: f64,
    /// Weight of the entropy bonus.
    pub ent_coef: f64,
    /// Weight of the value loss.
    pub vf_coef: f64,
    /// Gradients are rescaled so that their global L2 norm (over all parameters) is at most this.
    pub max_grad_norm: f64,
    /// Adam's epsilon.
    pub adam_eps: f64,
    /// Passes over the rollout per update.
    pub epochs: usize,
    /// Minibatches per epoch (the rollout is split into this many near-equal shuffled parts).
    pub minibatches: usize,
    /// Normalise advantages to mean 0, standard deviation 1 within each minibatch.
    pub normalize_advantages: bool,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig::multiroom()
    }
}

impl PpoConfig {
    /// The official MultiRoom settings: lr 7e-4 constant, clip 0.2, gamma 0.99, GAE 0.95,
    /// 4 epochs of 8 minibatches.
    pub fn multiroom() -> PpoConfig {
        PpoConfig {
            learning_rate: 7e-4,
            anneal_lr: false,
            clip: 0.2,
            anneal_clip: false,
            clip_value: true,
            gamma: 0.99,
            gae_lambda: 0.95,
            ent_coef: 0.01,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            adam_eps: 1e-5,
            epochs: 4,
            minibatches: 8,
            normalize_advantages: true,
        }
    }

    /// The official CoinRun settings: lr 5e-4 and clip 0.2 both annealed to 0, value clipped,
    /// gamma 0.999, GAE 0.95, 3 epochs of 8 minibatches.
    pub fn coinrun() -> PpoConfig {
        PpoConfig {
            learning_rate: 5e-4,
            anneal_lr: true,
            clip: 0.2,
            anneal_clip: true,
            clip_value: true,
            gamma: 0.999,
            gae_lambda: 0.95,
            ent_coef: 0.01,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            adam_eps: 1e-5,
            epochs: 3,
            minibatches: 8,
            normalize_advantages: true,
        }
    }

    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), AgentError> {
        check_positive("ppo.learning_rate", self.learning_rate)?;
        check_positive("ppo.clip", self.clip)?;
        check_range("ppo.gamma", self.gamma, 0.0, 1.0)?;
        check_range("ppo.gae_lambda", self.gae_lambda, 0.0, 1.0)?;
        check_range("ppo.ent_coef", self.ent_coef, 0.0, f64::MAX)?;
        check_range("ppo.vf_coef", self.vf_coef, 0.0, f64::MAX)?;
        check_positive("ppo.max_grad_norm", self.max_grad_norm)?;
        check_positive("ppo.adam_eps", self.adam_eps)?;
        check_count("ppo.epochs", self.epochs, 1)?;
        check_count("ppo.minibatches", self.minibatches, 1)
    }

    /// `(learning rate, clip)` at `progress` in [0, 1] of the run, after annealing.
    pub fn schedule(&self, progress: f64) -> (f64, f64) {
        let frac = 1.0 - progress;
        let lr = if self.anneal_lr { self.learning_rate * frac } else { self.learning_rate };
        let clip = if self.anneal_clip { self.clip * frac } else { self.clip };
        (lr, clip)
    }
}
