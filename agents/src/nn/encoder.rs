//! The pluggable encoder: observation -> feature vector.
//!
//! Adding an encoder takes a variant in [`EncoderConfig`] and [`Encoder`] and one arm in each
//! `match` below; its config needs `validate`, `out_features` and `init`, its module `forward`.

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{ImpalaCnn, ImpalaConfig, Mlp, MlpConfig, MultiRoomCnn, MultiRoomConfig};
use crate::Noise;
use crate::error::AgentError;
use crate::init::Init;
use crate::obs::ObsFormat;

/// Which encoder, with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EncoderConfig {
    /// IMPALA-CNN (CoinRun).
    Impala(ImpalaConfig),
    /// The MultiRoom grid conv net.
    MultiRoom(MultiRoomConfig),
    /// An MLP over the flattened observation.
    Mlp(MlpConfig),
}

impl EncoderConfig {
    /// Checks the settings against the observation format.
    pub fn validate(&self, obs: &ObsFormat) -> Result<(), AgentError> {
        match self {
            EncoderConfig::Impala(c) => c.validate(obs),
            EncoderConfig::MultiRoom(c) => c.validate(obs),
            EncoderConfig::Mlp(c) => c.validate(obs),
        }
    }

    /// Length of the feature vector for `obs` inputs.
    pub fn out_features(&self, obs: &ObsFormat) -> usize {
        match self {
            EncoderConfig::Impala(c) => c.out_features(obs),
            EncoderConfig::MultiRoom(c) => c.out_features(obs),
            EncoderConfig::Mlp(c) => c.out_features(obs),
        }
    }

    /// Builds the encoder (call [`EncoderConfig::validate`] first).
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> Encoder {
        match self {
            EncoderConfig::Impala(c) => Encoder::Impala(c.init(obs, batch_norm, init)),
            EncoderConfig::MultiRoom(c) => Encoder::MultiRoom(c.init(obs, batch_norm, init)),
            EncoderConfig::Mlp(c) => Encoder::Mlp(c.init(obs, batch_norm, init)),
        }
    }
}

/// An encoder module.
#[derive(Module, Debug)]
pub enum Encoder {
    /// IMPALA-CNN.
    Impala(ImpalaCnn),
    /// MultiRoom conv net.
    MultiRoom(MultiRoomCnn),
    /// MLP.
    Mlp(Mlp),
}

impl Encoder {
    /// Whether the encoder injects noise (it has batch norms).
    pub fn injects_noise(&self) -> bool {
        match self {
            Encoder::Impala(m) => m.stacks.iter().any(|s| s.conv.norm.is_some()),
            Encoder::MultiRoom(m) => !m.norms.is_empty(),
            Encoder::Mlp(m) => !m.norms.is_empty(),
        }
    }

    /// `[batch, channels, height, width]` -> `[batch, features]`; `noise` drives batch norm.
    pub fn forward(&self, x: Tensor<4>, noise: Noise) -> Tensor<2> {
        match self {
            Encoder::Impala(m) => m.forward(x, noise),
            Encoder::MultiRoom(m) => m.forward(x, noise),
            Encoder::Mlp(m) => m.forward(x, noise),
        }
    }
}
