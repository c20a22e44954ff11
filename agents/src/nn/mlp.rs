//! A multi-layer perceptron for vector observations.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::Activation;
use crate::Noise;
use crate::error::{AgentError, check_sizes};
use crate::init::{Gain, Init};
use crate::obs::ObsFormat;
use crate::reg::BatchNorm;

/// Dense layers over the flattened observation, each followed by the activation (and a batch
/// norm when that regularizer is on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Width of each layer, input side first (at least one layer).
    pub layers: Vec<usize>,
    /// Nonlinearity after each layer.
    pub activation: Activation,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig { layers: vec![64], activation: Activation::Tanh }
    }
}

impl MlpConfig {
    /// Checks that there is at least one layer and every width is at least 1.
    pub fn validate(&self, _obs: &ObsFormat) -> Result<(), AgentError> {
        check_sizes("encoder.mlp.layers", &self.layers)
    }

    /// Features out of the encoder: the last layer's width.
    pub fn out_features(&self, _obs: &ObsFormat) -> usize {
        self.layers.last().copied().unwrap_or(0)
    }

    /// Builds the network for `obs` inputs.
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> Mlp {
        let mut d_in = obs.len();
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut norms = Vec::new();
        for &d_out in &self.layers {
            layers.push(init.linear(d_in, d_out, Gain::HIDDEN));
            if batch_norm {
                norms.push(BatchNorm::new(d_out, init));
            }
            d_in = d_out;
        }
        Mlp { layers, norms, activation: self.activation }
    }
}

/// The MLP encoder.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The dense layers.
    pub layers: Vec<Linear>,
    /// One batch norm per layer when the regularizer is on, else empty.
    pub norms: Vec<BatchNorm>,
    /// Nonlinearity after each layer.
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    /// `[batch, c, h, w]` (flattened) -> `[batch, layers.last()]`.
    pub fn forward(&self, x: Tensor<4>, noise: Noise) -> Tensor<2> {
        let mut x = x.flatten(1, 3); // [batch, h * w * c]
        for (i, layer) in self.layers.iter().enumerate() {
            x = self.activation.apply(layer.forward(x)); // [batch, layers[i]]
            if let Some(norm) = self.norms.get(i) {
                x = norm.forward(x, noise);
            }
        }
        x
    }
}
