//! The agent's configuration and its presets.

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, check_range};
use crate::fused::Learner;
use crate::nn::{Activation, EncoderConfig, HiddenConfig, ImpalaConfig, MultiRoomConfig};
use crate::ppo::PpoConfig;
use crate::reg::RegularizerConfig;

/// Everything that defines an agent except its observation format, action count and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Observation -> features.
    pub encoder: EncoderConfig,
    /// The hidden layer between encoder and heads.
    pub hidden: HiddenConfig,
    /// Which regularizers are on.
    pub regularizers: RegularizerConfig,
    /// PPO's hyper-parameters.
    pub ppo: PpoConfig,
    /// Selective Noise Injection's lambda in [0, 1], the weight of the noise-free policy's
    /// gradient (the paper's best: 0.5). `None`: no SNI, rollouts and training use the noisy
    /// policy. With SNI, rollouts use the noise-free policy (see [`crate::Agent::rollout_noise`]).
    pub sni_lambda: Option<f64>,
    /// Which learner computes the updates: `auto` (the fused learner where it covers the
    /// network, see [`crate::fused`]) or `generic` (burn's autodiff graph). Both compute the
    /// same update up to float rounding.
    #[serde(default)]
    pub learner: Learner,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig::multiroom()
    }
}

impl AgentConfig {
    /// The paper's MultiRoom baseline (docs/method.md, "PPO settings" and "Architectures"): the
    /// 11x11 grid conv net, a 64-unit tanh hidden layer, PPO as [`PpoConfig::multiroom`], no
    /// regularizer, no SNI.
    pub fn multiroom() -> AgentConfig {
        AgentConfig {
            encoder: EncoderConfig::MultiRoom(MultiRoomConfig::default()),
            hidden: HiddenConfig { size: 64, activation: Activation::Tanh },
            regularizers: RegularizerConfig::default(),
            ppo: PpoConfig::multiroom(),
            sni_lambda: None,
            learner: Learner::Auto,
        }
    }

    /// The paper's CoinRun baseline: IMPALA-CNN (16, 32, 32), a 256-unit relu hidden layer,
    /// PPO as [`PpoConfig::coinrun`], L2 1e-4 (on in every CoinRun run), no SNI.
    pub fn coinrun() -> AgentConfig {
        AgentConfig {
            encoder: EncoderConfig::Impala(ImpalaConfig::default()),
            hidden: HiddenConfig { size: 256, activation: Activation::Relu },
            regularizers: RegularizerConfig { l2: 1e-4, ..RegularizerConfig::default() },
            ppo: PpoConfig::coinrun(),
            sni_lambda: None,
            learner: Learner::Auto,
        }
    }

    /// Checks every field's range (the encoder is checked against the observation format by
    /// [`crate::Agent::new`]).
    pub fn validate(&self) -> Result<(), AgentError> {
        self.hidden.validate()?;
        self.regularizers.validate()?;
        self.ppo.validate()?;
        if let Some(lambda) = self.sni_lambda {
            check_range("sni_lambda", lambda, 0.0, 1.0)?;
        }
        Ok(())
    }
}
