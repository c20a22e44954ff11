//! The conv net of the paper's MultiRoom experiments (IBAC-SNI's `torch_rl` model "default2").

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::Noise;
use crate::error::{AgentError, check_count, check_sizes};
use crate::init::{Gain, Init};
use crate::obs::ObsFormat;
use crate::ops::conv::{Conv, Padding};
use crate::ops::max_pool::MaxPool;
use crate::reg::BatchNorm;

/// Smallest grid side the net accepts: 2x2 conv, 2x2 pool, two 2x2 convs need 7 cells.
pub const MIN_SIDE: usize = 7;

/// conv 2x2 -> relu -> maxpool 2 -> conv 2x2 -> relu -> conv 2x2 -> relu, flattened (batch
/// norm, when on, after each relu-and-pool as in the official code). For the 11x11x3 grid the
/// output is 3 * 3 * 32 = 288 features; any grid of side >= [`MIN_SIDE`] works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiRoomConfig {
    /// Output channels of the three convs (paper: [16, 32, 32]).
    pub channels: [usize; 3],
}

impl Default for MultiRoomConfig {
    fn default() -> Self {
        MultiRoomConfig { channels: [16, 32, 32] }
    }
}

impl MultiRoomConfig {
    /// Checks the channel counts and that the grid is at least [`MIN_SIDE`] cells high and wide.
    pub fn validate(&self, obs: &ObsFormat) -> Result<(), AgentError> {
        check_sizes("encoder.multi_room.channels", &self.channels)?;
        check_count("obs.height (MultiRoom conv net)", obs.height, MIN_SIDE)?;
        check_count("obs.width (MultiRoom conv net)", obs.width, MIN_SIDE)
    }

    /// Features out of the encoder: `((h - 1) / 2 - 2) * ((w - 1) / 2 - 2) * channels[2]`.
    pub fn out_features(&self, obs: &ObsFormat) -> usize {
        let side = |s: usize| (s - 1) / 2 - 2;
        side(obs.height) * side(obs.width) * self.channels[2]
    }

    /// Builds the network for `obs` inputs.
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> MultiRoomCnn {
        let [c1, c2, c3] = self.channels;
        let mut conv = |c_in, c_out| init.conv2d(c_in, c_out, 2, Padding::Valid, Gain::HIDDEN);
        let convs = vec![conv(obs.channels, c1), conv(c1, c2), conv(c2, c3)];
        let norms = if batch_norm { self.channels.iter().map(|&c| BatchNorm::new(c, init)).collect() } else { vec![] };
        MultiRoomCnn { convs, pool: MaxPool::new(2, 2, 0), norms }
    }
}

/// The MultiRoom encoder.
#[derive(Module, Debug)]
pub struct MultiRoomCnn {
    /// The three 2x2 convolutions.
    pub convs: Vec<Conv>,
    /// Max-pool 2x2 after the first conv.
    pub pool: MaxPool,
    /// One batch norm per conv when the regularizer is on, else empty.
    pub norms: Vec<BatchNorm>,
}

impl MultiRoomCnn {
    /// `[batch, 3, 11, 11]` -> `[batch, 288]`.
    pub fn forward(&self, x: Tensor<4>, noise: Noise) -> Tensor<2> {
        let mut x = x;
        for (i, conv) in self.convs.iter().enumerate() {
            x = relu(conv.forward(x)); // [batch, 16, 10, 10], then [batch, 32, 4, 4], [batch, 32, 3, 3]
            if i == 0 {
                x = self.pool.forward(x); // [batch, 16, 5, 5]
            }
            if let Some(norm) = self.norms.get(i) {
                x = norm.forward(x, noise);
            }
        }
        x.flatten(1, 3) // [batch, 288]
    }
}
