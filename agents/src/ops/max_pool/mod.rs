//! Max pooling (no dilation, output rounded down) as a backend extension ([`PoolBackend`]):
//! - flex: one pass per channel plane that keeps each window's argmax, and a scatter of the
//!   output gradient onto those positions (`kernels`), where burn-flex's generic pooling
//!   recomputes each window's bounds per element with divisions;
//! - autodiff: a backward node holding the argmax indices;
//! - LibTorch (feature `tch`): burn's own pooling ops.
//!
//! [`MaxPool`] is the layer.

mod autodiff;
mod flex;
mod kernels;
mod layer;

pub use kernels::PoolGeometry;
pub use layer::MaxPool;

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Dispatch, backend_extension};
use burn::tensor::{IntDType, Tensor};

/// Max pooling as a backend operation, with indices for its gradient. The default bodies use
/// burn's generic pooling ops; flex overrides all three.
#[backend_extension(Autodiff, Flex, LibTorch: cfg(feature = "tch"))]
pub trait PoolBackend: burn::backend::Backend {
    /// `x` `[batch, c, h, w]` -> `[batch, c, (h + 2 pad_h - kh) / sh + 1, (w + 2 pad_w - kw) / sw + 1]`.
    fn max_pool(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        Self::max_pool2d(x, kernel, stride, padding, [1, 1], false)
    }

    /// The pooled tensor and, per output, the position of its window's maximum in the channel
    /// plane.
    fn max_pool_with_indices(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> (FloatTensor<Self>, IntTensor<Self>) {
        let pooled = Self::max_pool2d_with_indices(x, kernel, stride, padding, [1, 1], false, IntDType::I64);
        (pooled.output, pooled.indices)
    }

    /// The gradient with respect to `x` given the output gradient `grad` and the `indices` of
    /// [`PoolBackend::max_pool_with_indices`].
    fn max_pool_input_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        indices: IntTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        Self::max_pool2d_with_indices_backward(x, kernel, stride, padding, [1, 1], false, grad, indices).x_grad
    }
}

#[cfg(feature = "tch")]
impl PoolBackend for burn::backend::LibTorch {}

/// Max pooling of `x` `[batch, c, h, w]` with `kernel`, `stride` and symmetric `padding` (rows,
/// columns) on any heldout device, differentiable.
pub fn max_pool2d(x: Tensor<4>, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Tensor<4> {
    Tensor::from_dispatch(Dispatch::max_pool(x.into_dispatch(), kernel, stride, padding))
}

#[cfg(test)]
mod tests;
