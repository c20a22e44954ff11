//! The actor-critic: encoder -> hidden layer (or bottleneck) -> dropout -> activation -> heads.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Activation, Encoder, EncoderConfig};
use crate::Noise;
use crate::error::{AgentError, check_count};
use crate::init::{Gain, Init};
use crate::obs::ObsFormat;
use crate::reg::{Bottleneck, Dropout, RegularizerConfig};
use crate::vision::BatchBoxes;

/// The hidden layer between the encoder and the heads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenConfig {
    /// Width (and the bottleneck's latent size when it is on): CoinRun 256, MultiRoom 64.
    pub size: usize,
    /// Nonlinearity after it: CoinRun relu, MultiRoom tanh.
    pub activation: Activation,
}

impl HiddenConfig {
    /// Checks `size >= 1`.
    pub fn validate(&self) -> Result<(), AgentError> {
        check_count("hidden.size", self.size, 1)
    }
}

/// The hidden layer: dense, or the information bottleneck in its place.
#[derive(Module, Debug)]
pub enum Latent {
    /// A dense layer.
    Dense(Linear),
    /// The information bottleneck.
    Bottleneck(Bottleneck),
}

/// Policy logits, values and the bottleneck's KL for a batch.
pub struct ModelOutput {
    /// `[batch, actions]` unnormalised log-probabilities.
    pub logits: Tensor<2>,
    /// `[batch]` state values.
    pub values: Tensor<1>,
    /// `[batch]` KL of the bottleneck to its prior, when there is one.
    pub kl: Option<Tensor<1>>,
}

/// The agent's network.
#[derive(Module, Debug)]
pub struct ActorCritic {
    /// Observation -> features.
    pub encoder: Encoder,
    /// Features -> hidden.
    pub latent: Latent,
    /// Dropout on the hidden layer (rate 0 = off).
    pub dropout: Dropout,
    /// Nonlinearity after the hidden layer.
    #[module(skip)]
    pub activation: Activation,
    /// Hidden -> logits (orthogonal init, gain 0.01).
    pub policy: Linear,
    /// Hidden -> value (orthogonal init, gain 1).
    pub value: Linear,
}

impl ActorCritic {
    /// Builds a freshly initialized network (configs validated by the caller).
    pub fn new(
        encoder: &EncoderConfig,
        hidden: &HiddenConfig,
        regularizers: &RegularizerConfig,
        obs: &ObsFormat,
        num_actions: usize,
        init: &mut Init,
    ) -> Result<ActorCritic, AgentError> {
        let features = encoder.out_features(obs);
        let enc = encoder.init(obs, regularizers.batch_norm, init)?;
        let latent = match &regularizers.bottleneck {
            Some(b) => Latent::Bottleneck(b.init(features, hidden.size, init)),
            None => Latent::Dense(init.linear(features, hidden.size, Gain::HIDDEN)),
        };
        Ok(ActorCritic {
            encoder: enc,
            latent,
            dropout: Dropout { rate: regularizers.dropout },
            activation: hidden.activation,
            policy: init.linear(hidden.size, num_actions, Gain::POLICY),
            value: init.linear(hidden.size, 1, Gain::VALUE),
        })
    }

    /// Whether the encoder itself injects noise (batch norm), so that the noisy and the
    /// noise-free pass need separate encoder passes.
    pub fn encoder_is_noisy(&self) -> bool {
        self.encoder.injects_noise()
    }

    /// Whether any layer injects noise, i.e. whether [`Noise::On`] and [`Noise::Off`] differ.
    pub fn injects_noise(&self) -> bool {
        self.dropout.rate > 0.0 || matches!(self.latent, Latent::Bottleneck(_)) || self.encoder_is_noisy()
    }

    /// The full pass: `[batch, c, h, w]` (with the object boxes of each observation, which
    /// only the vision encoder reads and needs) -> logits, values, KL.
    pub fn forward<R: Rng + ?Sized>(
        &self,
        x: Tensor<4>,
        boxes: Option<&BatchBoxes>,
        noise: Noise,
        rng: &mut R,
    ) -> Result<ModelOutput, AgentError> {
        Ok(self.head(self.encoder.forward(x, boxes, noise)?, noise, rng))
    }

    /// Everything after the encoder: `[batch, features]` -> logits, values, KL.
    pub fn head<R: Rng + ?Sized>(&self, features: Tensor<2>, noise: Noise, rng: &mut R) -> ModelOutput {
        let (h, kl) = match &self.latent {
            Latent::Dense(linear) => (linear.forward(features), None), // [batch, hidden]
            Latent::Bottleneck(b) => {
                let out = b.forward(features, noise, rng); // [batch, hidden]
                (out.z, Some(out.kl))
            }
        };
        let h = self.activation.apply(self.dropout.forward(h, noise, rng));
        let logits = self.policy.forward(h.clone()); // [batch, actions]
        let values = self.value.forward(h).squeeze_dim::<1>(1); // [batch]
        ModelOutput { logits, values, kl }
    }
}
