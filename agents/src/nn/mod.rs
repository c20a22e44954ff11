//! The networks: pluggable encoders and the actor-critic built on them.

pub mod actor_critic;
pub mod conv;
pub mod encoder;
pub mod impala;
pub mod mlp;
pub mod multiroom;
pub mod vision;

pub use actor_critic::{ActorCritic, HiddenConfig, ModelOutput};
pub use encoder::{Encoder, EncoderConfig};
pub use impala::{ImpalaCnn, ImpalaConfig};
pub use mlp::{Mlp, MlpConfig};
pub use multiroom::{MultiRoomCnn, MultiRoomConfig};
pub use vision::VisionConfig;

use burn::tensor::Tensor;
use burn::tensor::activation::{relu, tanh};
use serde::{Deserialize, Serialize};

/// An element-wise nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)` (CoinRun's IMPALA-CNN).
    Relu,
    /// `tanh(x)` (MultiRoom's network, CleanRL's MLP).
    Tanh,
}

impl Activation {
    /// Applies the nonlinearity.
    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => relu(x),
            Activation::Tanh => tanh(x),
        }
    }
}
