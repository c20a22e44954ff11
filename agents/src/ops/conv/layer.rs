//! [`Conv`]: the convolution layer of every heldout network.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use super::{Input, conv2d};

/// How a convolution pads its input with zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding: the output shrinks by `kernel - 1`.
    Valid,
    /// `(kernel - 1) / 2` on each side, keeping height and width (odd kernels).
    Same,
}

impl Padding {
    /// Zero rows or columns on each side for a square `kernel`.
    pub fn size(self, kernel: usize) -> usize {
        match self {
            Padding::Valid => 0,
            Padding::Same => {
                assert!(kernel % 2 == 1, "`Same` padding needs an odd kernel, got {kernel}");
                (kernel - 1) / 2
            }
        }
    }
}

/// A stride-1 convolution with bias and symmetric zero padding, computed by [`conv2d`].
#[derive(Module, Debug)]
pub struct Conv {
    /// `[c_out, c_in, kernel, kernel]`.
    pub weight: Param<Tensor<4>>,
    /// `[c_out]`.
    pub bias: Param<Tensor<1>>,
    /// Zero rows (top and bottom) and columns (left and right) around the input.
    pub padding: [usize; 2],
}

impl Conv {
    /// `[batch, c_in, h, w]` -> `[batch, c_out, h + 2 pad - kernel + 1, w + 2 pad - kernel + 1]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_from(x, Input::AsIs)
    }

    /// [`Conv::forward`] of `x` or, with [`Input::Relu`], of `relu(x)` (fused).
    pub fn forward_from(&self, x: Tensor<4>, input: Input) -> Tensor<4> {
        conv2d(x, self.weight.val(), self.bias.val(), self.padding, input)
    }
}
