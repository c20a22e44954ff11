//! The pluggable encoder: observation -> feature vector.
//!
//! Adding an encoder takes a variant in [`EncoderConfig`] and [`Encoder`] and one arm in each
//! `match` below; its config needs `validate`, `out_features` and `init`, its module `forward`.
//! Only the `vision` encoder reads the per-observation object boxes; the others ignore them.

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::{ImpalaCnn, ImpalaConfig, Mlp, MlpConfig, MultiRoomCnn, MultiRoomConfig, VisionConfig};
use crate::Noise;
use crate::error::AgentError;
use crate::init::Init;
use crate::obs::ObsFormat;
use crate::vision::{BatchBoxes, VisionEncoder};

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
    /// The vision stack (backbone + FPN + RoIAlign of the object boxes), RGB frames only.
    Vision(VisionConfig),
}

impl EncoderConfig {
    /// Checks the settings against the observation format.
    pub fn validate(&self, obs: &ObsFormat) -> Result<(), AgentError> {
        match self {
            EncoderConfig::Impala(c) => c.validate(obs),
            EncoderConfig::MultiRoom(c) => c.validate(obs),
            EncoderConfig::Mlp(c) => c.validate(obs),
            EncoderConfig::Vision(c) => c.validate(obs),
        }
    }

    /// Length of the feature vector for `obs` inputs.
    pub fn out_features(&self, obs: &ObsFormat) -> usize {
        match self {
            EncoderConfig::Impala(c) => c.out_features(obs),
            EncoderConfig::MultiRoom(c) => c.out_features(obs),
            EncoderConfig::Mlp(c) => c.out_features(obs),
            EncoderConfig::Vision(c) => c.out_features(),
        }
    }

    /// Builds a freshly initialized encoder (call [`EncoderConfig::validate`] first).
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> Result<Encoder, AgentError> {
        Ok(match self {
            EncoderConfig::Impala(c) => Encoder::Impala(c.init(obs, batch_norm, init)),
            EncoderConfig::MultiRoom(c) => Encoder::MultiRoom(c.init(obs, batch_norm, init)),
            EncoderConfig::Mlp(c) => Encoder::Mlp(c.init(obs, batch_norm, init)),
            EncoderConfig::Vision(c) => Encoder::Vision(c.init(obs, batch_norm, init)?),
        })
    }
}

/// An encoder module.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)] // one per agent, built once: its size does not matter
pub enum Encoder {
    /// IMPALA-CNN.
    Impala(ImpalaCnn),
    /// MultiRoom conv net.
    MultiRoom(MultiRoomCnn),
    /// MLP.
    Mlp(Mlp),
    /// The vision stack.
    Vision(VisionEncoder),
}

impl Encoder {
    /// Whether the encoder injects noise (it has batch norms).
    pub fn injects_noise(&self) -> bool {
        let impala_norms = |m: &ImpalaCnn| m.stacks.iter().any(|s| s.conv.norm.is_some());
        match self {
            Encoder::Impala(m) => impala_norms(m),
            Encoder::MultiRoom(m) => !m.norms.is_empty(),
            Encoder::Mlp(m) => !m.norms.is_empty(),
            Encoder::Vision(m) => impala_norms(&m.backbone.body.impala),
        }
    }

    /// This encoder with the pretrained weights its `config` names, if any (a vision encoder's
    /// `pretrained_backbone`); other encoders are returned as they are.
    pub fn with_pretrained(self, config: &EncoderConfig) -> Result<Encoder, AgentError> {
        match (self, config) {
            (Encoder::Vision(m), EncoderConfig::Vision(c)) => Ok(Encoder::Vision(c.load_pretrained(m)?)),
            (encoder, _) => Ok(encoder),
        }
    }

    /// Whether the encoder reads object boxes (only the vision encoder does).
    pub fn reads_boxes(&self) -> bool {
        matches!(self, Encoder::Vision(_))
    }

    /// Checks the boxes given with a batch of `batch` observations: the vision encoder needs
    /// one list per observation, with finite coordinates and known classes; the others ignore
    /// them.
    pub fn check_boxes(&self, boxes: Option<&BatchBoxes>, batch: usize) -> Result<(), AgentError> {
        match self {
            Encoder::Vision(m) => Ok(m.check_boxes(boxes.ok_or(AgentError::MissingBoxes)?, batch)?),
            Encoder::Impala(_) | Encoder::MultiRoom(_) | Encoder::Mlp(_) => Ok(()),
        }
    }

    /// `[batch, channels, height, width]` -> `[batch, features]`; `boxes[i]` are the object
    /// boxes of observation `i` (read by the vision encoder only); `noise` drives batch norm.
    pub fn forward(&self, x: Tensor<4>, boxes: Option<&BatchBoxes>, noise: Noise) -> Result<Tensor<2>, AgentError> {
        Ok(match self {
            Encoder::Impala(m) => m.forward(x, noise),
            Encoder::MultiRoom(m) => m.forward(x, noise),
            Encoder::Mlp(m) => m.forward(x, noise),
            Encoder::Vision(m) => m.forward(x, boxes.ok_or(AgentError::MissingBoxes)?, noise)?,
        })
    }
}
