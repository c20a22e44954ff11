//! The convolutional body: IMPALA-CNN stacks whose outputs are the multi-scale maps C2, C3, C4.

use burn::config::Config;
use burn::tensor::Tensor;

use super::error::VisionError;
use super::features::VisionBackbone;
use super::fpn::{Fpn, PyramidLevel};
use crate::Noise;
use crate::init::Init;
use crate::nn::{ImpalaCnn, ImpalaConfig};
use crate::obs::ObsFormat;

/// Colour channels of the input frames.
pub const INPUT_CHANNELS: usize = 3;

/// Shape of the backbone. The body is the IMPALA-CNN (conv 3x3 -> max-pool 3x3 stride 2 -> two
/// residual blocks per stack); stack `i` halves the resolution and outputs `channels[i]` maps,
/// so a 64x64 frame gives C2 32x32, C3 16x16 and C4 8x8 (strides 2, 4, 8).
#[derive(Config, Debug, PartialEq)]
pub struct BackboneConfig {
    /// Output channels of the stacks that make C2, C3 and C4 (CoinRun's IMPALA depths by default).
    #[config(default = "[16, 32, 32]")]
    pub channels: [usize; PyramidLevel::COUNT],
    /// Channels of every feature-pyramid level P2..P4.
    #[config(default = 32)]
    pub fpn_channels: usize,
}

impl BackboneConfig {
    /// Checks that every layer has at least one channel and frames are RGB with sides that are
    /// multiples of 8 (so that every level halves the previous one exactly).
    pub fn validate(&self, obs: &ObsFormat) -> Result<(), VisionError> {
        if self.channels.contains(&0) || self.fpn_channels == 0 {
            return Err(VisionError::InvalidConfig("backbone channels must be at least 1"));
        }
        let coarsest = PyramidLevel::P4.stride();
        if obs.channels != INPUT_CHANNELS || !obs.height.is_multiple_of(coarsest) || !obs.width.is_multiple_of(coarsest)
        {
            return Err(VisionError::InvalidConfig("frames must be RGB with sides that are multiples of 8"));
        }
        Ok(())
    }

    /// A freshly initialized body and pyramid for `obs` frames (call [`BackboneConfig::validate`]
    /// first), with batch norm after every convolution of the body if `batch_norm`.
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> VisionBackbone {
        let impala = ImpalaConfig { depths: self.channels.to_vec() };
        VisionBackbone { body: Backbone { impala: impala.init(obs, batch_norm, init) }, fpn: Fpn::new(self, init) }
    }
}

/// The residual body: `[C2, C3, C4]` from frames `[batch, 3, H, W]`.
#[derive(burn::module::Module, Debug)]
pub struct Backbone {
    /// The IMPALA-CNN whose stacks make the levels.
    pub impala: ImpalaCnn,
}

impl Backbone {
    /// `[C2, C3, C4]`, of shapes `[batch, channels[i], H / 2^(i+1), W / 2^(i+1)]`; `noise` drives
    /// the batch norms, if any.
    pub fn forward(&self, frames: Tensor<4>, noise: Noise) -> [Tensor<4>; PyramidLevel::COUNT] {
        let mut x = frames;
        std::array::from_fn(|level| {
            x = self.impala.stacks[level].forward(x.clone(), noise);
            x.clone()
        })
    }
}
