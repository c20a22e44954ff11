//! Feature Pyramid Network (Lin et al. 2017) over C2..C4, and the rule that assigns a box to a
//! pyramid level.

use burn::module::Module;
use burn::tensor::Tensor;

use super::backbone::BackboneConfig;
use super::boxes::BoxXyxy;
use crate::init::{Gain, Init};
use crate::ops::conv::{Conv, Padding};

/// Box side that Mask R-CNN's level rule maps to [`CANONICAL_LEVEL`]: 32 pixels on a 64x64 frame
/// (Mask R-CNN: 224 on ImageNet-sized images). It keeps about 4 feature cells along each side of a
/// box on its level (32 / stride 8 on P4, 16 / 4 on P3, 8 / 2 on P2), so that a 4x4 RoIAlign output
/// samples a box at roughly its level's resolution.
pub const CANONICAL_SIZE: f32 = 32.0;

/// The level `k0` of a box of [`CANONICAL_SIZE`] (Mask R-CNN: 4).
pub const CANONICAL_LEVEL: i32 = 4;

/// A level of the feature pyramid, named as in the FPN paper by its `log2(stride)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PyramidLevel {
    /// Stride 2: 32x32 on a 64x64 frame.
    P2,
    /// Stride 4: 16x16 on a 64x64 frame.
    P3,
    /// Stride 8: 8x8 on a 64x64 frame.
    P4,
}

impl PyramidLevel {
    /// Number of levels.
    pub const COUNT: usize = 3;

    /// Every level, finest first; `ALL[level.index()] == level`.
    pub const ALL: [PyramidLevel; Self::COUNT] = [PyramidLevel::P2, PyramidLevel::P3, PyramidLevel::P4];

    /// Position in [`PyramidLevel::ALL`], and in the arrays of maps.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The `k` of level `Pk`.
    pub fn k(self) -> i32 {
        self.index() as i32 + 2
    }

    /// Input pixels per feature cell, `2^k / 2`.
    pub fn stride(self) -> usize {
        2 << self.index()
    }

    /// The level that Mask R-CNN's rule (FPN paper, eq. 1) assigns to a box,
    /// `k = floor(k0 + log2(sqrt(w h) / s0))` with `k0 =` [`CANONICAL_LEVEL`] and `s0 =`
    /// [`CANONICAL_SIZE`], clamped to P2..P4. As torchvision's `LevelMapper`, `1e-6` is added inside
    /// the logarithm, so that empty boxes go to P2.
    pub fn for_box(bbox: &BoxXyxy) -> PyramidLevel {
        let scale = bbox.area().sqrt();
        let k = (CANONICAL_LEVEL as f32 + (scale / CANONICAL_SIZE + 1e-6).log2()).floor() as i32;
        let (first, last) = (PyramidLevel::P2.k(), PyramidLevel::P4.k());
        PyramidLevel::ALL[(k.clamp(first, last) - first) as usize]
    }
}

/// The top-down pathway: lateral 1x1 convolutions, nearest-neighbour 2x upsampling, sums, and a
/// 3x3 smoothing convolution on every merged map.
#[derive(Module, Debug)]
pub struct Fpn {
    lateral: Vec<Conv>,
    smooth: Vec<Conv>,
}

impl Fpn {
    /// An FPN over the body's maps, with `fpn_channels` on every output level (orthogonal
    /// weights, zero biases).
    pub fn new(config: &BackboneConfig, init: &mut Init) -> Self {
        let channels = config.fpn_channels;
        Self {
            lateral: config
                .channels
                .iter()
                .map(|&c| init.conv2d(c, channels, 1, Padding::Valid, Gain::VALUE))
                .collect(),
            smooth: (0..PyramidLevel::COUNT)
                .map(|_| init.conv2d(channels, channels, 3, Padding::Same, Gain::VALUE))
                .collect(),
        }
    }

    /// `[P2, P3, P4]` from `[C2, C3, C4]`: same resolutions, `channels` maps each.
    pub fn forward(&self, maps: [Tensor<4>; PyramidLevel::COUNT]) -> [Tensor<4>; PyramidLevel::COUNT] {
        let mut merged: Vec<Tensor<4>> = Vec::with_capacity(PyramidLevel::COUNT);
        for (level, map) in maps.into_iter().enumerate().rev() {
            let lateral = self.lateral[level].forward(map);
            let top_down = match merged.last() {
                Some(coarser) => lateral + upsample_nearest_2x(coarser.clone()),
                None => lateral,
            };
            merged.push(top_down);
        }
        merged.reverse();
        let mut merged = merged.into_iter();
        std::array::from_fn(|level| self.smooth[level].forward(merged.next().expect("one map per level")))
    }
}

/// Nearest-neighbour upsampling by 2: `[b, c, h, w]` -> `[b, c, 2h, 2w]`.
fn upsample_nearest_2x(x: Tensor<4>) -> Tensor<4> {
    let [batch, channels, height, width] = x.dims();
    x.reshape([batch, channels, height, 1, width, 1]).expand([batch, channels, height, 2, width, 2]).reshape([
        batch,
        channels,
        2 * height,
        2 * width,
    ])
}
