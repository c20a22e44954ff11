//! The IMPALA-CNN (Espeholt et al. 2018) as CoinRun uses it.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use super::conv::ConvNorm;
use crate::Noise;
use crate::error::{AgentError, check_sizes};
use crate::init::Init;
use crate::obs::ObsFormat;
use crate::ops::conv::{Input, Padding};
use crate::ops::max_pool::MaxPool;

/// IMPALA-CNN: per depth a stack conv3x3 (same) -> maxpool 3x3 stride 2 (same) -> two residual
/// blocks (relu, conv, relu, conv, + skip); then flatten and relu. For 64x64x3 input and depths
/// (16, 32, 32) the output is 8 * 8 * 32 = 2048 features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpalaConfig {
    /// Channels of each stack, input to output (CoinRun: [16, 32, 32]).
    pub depths: Vec<usize>,
}

impl Default for ImpalaConfig {
    fn default() -> Self {
        ImpalaConfig { depths: vec![16, 32, 32] }
    }
}

impl ImpalaConfig {
    /// Checks that there is at least one stack and every depth is at least 1.
    pub fn validate(&self, _obs: &ObsFormat) -> Result<(), AgentError> {
        check_sizes("encoder.impala.depths", &self.depths)
    }

    /// Features out of the encoder: each stack halves height and width (rounding up).
    pub fn out_features(&self, obs: &ObsFormat) -> usize {
        let (mut h, mut w) = (obs.height, obs.width);
        for _ in &self.depths {
            h = h.div_ceil(2);
            w = w.div_ceil(2);
        }
        h * w * self.depths.last().copied().unwrap_or(obs.channels)
    }

    /// Builds the network for `obs` inputs.
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> ImpalaCnn {
        let mut c_in = obs.channels;
        let stacks = self
            .depths
            .iter()
            .map(|&depth| {
                let stack = ConvStack::new(c_in, depth, batch_norm, init);
                c_in = depth;
                stack
            })
            .collect();
        ImpalaCnn { stacks }
    }
}

/// The IMPALA-CNN encoder.
#[derive(Module, Debug)]
pub struct ImpalaCnn {
    /// One stack per depth.
    pub stacks: Vec<ConvStack>,
}

impl ImpalaCnn {
    /// `[batch, c, h, w]` -> `[batch, features]`.
    pub fn forward(&self, x: Tensor<4>, noise: Noise) -> Tensor<2> {
        // [batch, 3, 64, 64] -> [batch, 16, 32, 32] -> [batch, 32, 16, 16] -> [batch, 32, 8, 8]
        let x = self.stacks.iter().fold(x, |x, stack| stack.forward(x, noise));
        relu(x.flatten(1, 3)) // [batch, 2048]
    }
}

/// conv -> maxpool -> two residual blocks.
#[derive(Module, Debug)]
pub struct ConvStack {
    /// conv3x3 same, `c_in -> depth`.
    pub conv: ConvNorm,
    /// maxpool 3x3 stride 2, padding 1 (TensorFlow's "same" here).
    pub pool: MaxPool,
    /// First residual block.
    pub res1: ResidualBlock,
    /// Second residual block.
    pub res2: ResidualBlock,
}

impl ConvStack {
    fn new(c_in: usize, depth: usize, batch_norm: bool, init: &mut Init) -> Self {
        ConvStack {
            conv: ConvNorm::new(c_in, depth, 3, Padding::Same, batch_norm, init),
            pool: MaxPool::new(3, 2, 1),
            res1: ResidualBlock::new(depth, batch_norm, init),
            res2: ResidualBlock::new(depth, batch_norm, init),
        }
    }

    /// `[batch, c_in, h, w]` -> `[batch, depth, ceil(h/2), ceil(w/2)]` (the vision backbone reads
    /// each stack's output as one pyramid level).
    pub fn forward(&self, x: Tensor<4>, noise: Noise) -> Tensor<4> {
        let x = self.conv.forward(x, Input::AsIs, noise); // [batch, depth, h, w]
        let x = self.pool.forward(x); // [batch, depth, ceil(h/2), ceil(w/2)]
        let x = self.res1.forward(x, noise);
        self.res2.forward(x, noise)
    }
}

/// `x + conv(relu(conv(relu(x))))`, the relus fused into the convolutions.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// First conv3x3.
    pub conv1: ConvNorm,
    /// Second conv3x3.
    pub conv2: ConvNorm,
}

impl ResidualBlock {
    fn new(depth: usize, batch_norm: bool, init: &mut Init) -> Self {
        ResidualBlock {
            conv1: ConvNorm::new(depth, depth, 3, Padding::Same, batch_norm, init),
            conv2: ConvNorm::new(depth, depth, 3, Padding::Same, batch_norm, init),
        }
    }

    fn forward(&self, x: Tensor<4>, noise: Noise) -> Tensor<4> {
        let y = self.conv1.forward(x.clone(), Input::Relu, noise);
        let y = self.conv2.forward(y, Input::Relu, noise);
        x + y
    }
}
