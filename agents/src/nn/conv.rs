//! A convolution with an optional batch norm, the building block of the conv encoders.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::Noise;
use crate::init::{Gain, Init};
use crate::ops::conv::{Conv, Input, Padding};
use crate::reg::BatchNorm;

/// `conv` then, if present, `norm`.
#[derive(Module, Debug)]
pub struct ConvNorm {
    /// The convolution (stride 1).
    pub conv: Conv,
    /// Batch norm on its output, when the regularizer is on.
    pub norm: Option<BatchNorm>,
}

impl ConvNorm {
    /// A `kernel x kernel` convolution `c_in -> c_out` with orthogonal init (gain sqrt 2).
    pub fn new(c_in: usize, c_out: usize, kernel: usize, padding: Padding, batch_norm: bool, init: &mut Init) -> Self {
        ConvNorm {
            conv: init.conv2d(c_in, c_out, kernel, padding, Gain::HIDDEN),
            norm: batch_norm.then(|| BatchNorm::new(c_out, init)),
        }
    }

    /// The convolution of `x` (or of `relu(x)`, fused, per `input`), then the batch norm in
    /// mode `noise`.
    pub fn forward(&self, x: Tensor<4>, input: Input, noise: Noise) -> Tensor<4> {
        let x = self.conv.forward_from(x, input);
        match &self.norm {
            Some(norm) => norm.forward(x, noise),
            None => x,
        }
    }
}
