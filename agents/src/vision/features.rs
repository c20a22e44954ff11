//! The pretrainable feature extractor: residual body + FPN, saved and loaded as one module.

use std::path::Path;

use burn::module::Module;
use burn::store::RecordError;
use burn::tensor::Tensor;

use super::backbone::Backbone;
use super::fpn::{Fpn, PyramidLevel};
use crate::Noise;

/// Residual body and feature pyramid: the part of the detector that the `vision` encoder reuses.
/// Built by [`super::BackboneConfig::init`].
#[derive(Module, Debug)]
pub struct VisionBackbone {
    /// The residual stacks (C2..C4).
    pub body: Backbone,
    /// The feature pyramid (P2..P4).
    pub fpn: Fpn,
}

impl VisionBackbone {
    /// `[P2, P3, P4]` of frames `[batch, 3, H, W]`: `[batch, fpn_channels, H / s, W / s]` for the
    /// strides 2, 4, 8; `noise` drives the body's batch norms, if any.
    pub fn forward(&self, frames: Tensor<4>, noise: Noise) -> [Tensor<4>; PyramidLevel::COUNT] {
        self.fpn.forward(self.body.forward(frames, noise))
    }

    /// Writes the weights to a burnpack file (`.bpk`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), RecordError> {
        self.clone().save_file(path)
    }

    /// These weights replaced by those of a file that [`VisionBackbone::save`] wrote for the same
    /// configuration (and the same batch-norm choice).
    pub fn load(self, path: impl AsRef<Path>) -> Result<Self, RecordError> {
        self.try_load_file(path)
    }
}
