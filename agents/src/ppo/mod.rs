//! PPO (Schulman et al. 2017) with Selective Noise Injection (Igl et al. 2019).
//!
//! - [`gae`]: advantages and returns;
//! - [`loss`]: the clipped surrogate, the (clipped) value loss, entropy;
//! - [`grad`]: gradient clipping by the global norm over all parameters;
//! - [`rollout`]: what the caller collects;
//! - `batch`: minibatches gathered from a rollout;
//! - `sni`: the loss of one minibatch under Selective Noise Injection, on one page.
//!
//! The update itself, top to bottom, is [`crate::Agent::update`].

pub(crate) mod batch;
pub mod config;
pub mod gae;
pub mod grad;
pub mod loss;
pub mod rollout;
pub(crate) mod sni;
pub mod stats;

#[cfg(test)]
mod sni_tests;

pub use config::PpoConfig;
pub use rollout::Rollout;
pub use stats::UpdateStats;
