//! The R-CNN box head: class scores and per-class box deltas for every pooled region.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use crate::init::{Gain, Init};

/// Index of the background among the head's classes; object class `c` is head class `c + 1`.
pub const BACKGROUND: usize = 0;

/// Shape of the box head (Faster R-CNN's "two MLP head" + predictor).
#[derive(Config, Debug, PartialEq)]
pub struct DetectionHeadConfig {
    /// Object classes, without the background.
    pub num_classes: usize,
    /// Channels of the pooled features.
    pub in_channels: usize,
    /// Side of the pooled features.
    pub pooled_size: usize,
    /// Width of the two hidden layers.
    #[config(default = 256)]
    pub hidden: usize,
}

impl DetectionHeadConfig {
    /// A freshly initialized head: orthogonal weights, zero biases; the output layers get the small
    /// gain 0.01 (near-uniform first scores and near-zero first deltas, as Faster R-CNN's
    /// `std = 0.01` predictor init).
    pub fn init(&self, init: &mut Init) -> DetectionHead {
        let classes = self.num_classes + 1;
        let inputs = self.in_channels * self.pooled_size * self.pooled_size;
        DetectionHead {
            fc1: init.linear(inputs, self.hidden, Gain::HIDDEN),
            fc2: init.linear(self.hidden, self.hidden, Gain::HIDDEN),
            class_scores: init.linear(self.hidden, classes, Gain::POLICY),
            box_deltas: init.linear(self.hidden, classes * 4, Gain::POLICY),
        }
    }
}

/// Two hidden layers, then class logits and box deltas.
#[derive(Module, Debug)]
pub struct DetectionHead {
    fc1: Linear,
    fc2: Linear,
    class_scores: Linear,
    box_deltas: Linear,
}

/// What the head says about each region.
#[derive(Debug, Clone)]
pub struct HeadOutput {
    /// `[regions, num_classes + 1]` logits, background at [`BACKGROUND`].
    pub class_logits: Tensor<2>,
    /// `[regions, num_classes + 1, 4]` [`super::coder::BoxCoder`] deltas, one set per class.
    pub box_deltas: Tensor<3>,
}

impl DetectionHead {
    /// The head on pooled features `[regions, channels, size, size]`.
    pub fn forward(&self, pooled: Tensor<4>) -> HeadOutput {
        let [regions, ..] = pooled.dims();
        let hidden = relu(self.fc2.forward(relu(self.fc1.forward(pooled.flatten::<2>(1, 3)))));
        let class_logits = self.class_scores.forward(hidden.clone());
        let [_, classes] = class_logits.dims();
        HeadOutput { class_logits, box_deltas: self.box_deltas.forward(hidden).reshape([regions, classes, 4]) }
    }
}
