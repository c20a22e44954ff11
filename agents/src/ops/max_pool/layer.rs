//! [`MaxPool`]: the max-pooling layer of heldout's conv nets.

use burn::module::Module;
use burn::tensor::Tensor;

use super::max_pool2d;

/// Max pooling with symmetric padding (padded cells never win), computed by [`max_pool2d`].
#[derive(Module, Debug)]
pub struct MaxPool {
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Step between windows.
    pub stride: [usize; 2],
    /// Padding rows and columns on each side.
    pub padding: [usize; 2],
}

impl MaxPool {
    /// A square `kernel` window moved by `stride`, with `padding` on every side.
    pub fn new(kernel: usize, stride: usize, padding: usize) -> Self {
        MaxPool { kernel: [kernel; 2], stride: [stride; 2], padding: [padding; 2] }
    }

    /// `[batch, c, h, w]` -> `[batch, c, (h + 2 pad - kernel) / stride + 1, ...]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        max_pool2d(x, self.kernel, self.stride, self.padding)
    }
}
