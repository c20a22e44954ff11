//! The convolution every heldout network uses: stride 1, symmetric zero padding, with bias.
//!
//! burn's generic `conv2d` on the flex backend converts layouts around every call and computes
//! the gradients through a transposed convolution and a convolution with swapped batch and
//! channel axes, which would make it most of the IMPALA-CNN update's time. This module adds the
//! operation to burn as a backend extension ([`ConvBackend`]):
//! - flex: where the CPU has AVX-512, a direct convolution for the forward pass and (with the
//!   kernel turned) the input gradient (`direct`), and a direct weight gradient (`weight_grad`,
//!   for maps whose rows fill its vectors); otherwise im2col and one gemm per sample
//!   (`kernels`). NCHW in and out, no layout copies, samples in parallel with a fixed summation
//!   order; an [`Input::Relu`] applied while the input is copied;
//! - autodiff: a backward node that calls those gradient kernels;
//! - LibTorch (feature `tch`): burn's own convolution ops, which LibTorch already does well.
//!
//! [`Conv`] is the layer; [`conv2d`] the tensor function.

mod autodiff;
mod direct;
mod flex;
mod kernels;
mod layer;
mod weight_grad;

pub use kernels::ConvGeometry;
pub use layer::{Conv, Padding};

use burn::backend::tensor::FloatTensor;
use burn::backend::{Dispatch, backend_extension};
use burn::tensor::Tensor;

/// What a convolution reads: its input, or the input's relu. With [`Input::Relu`] the
/// activation is fused into the convolution (applied where the kernels copy the input, its
/// gradient applied where they write the input gradient), saving burn's two element-wise passes
/// over the tensor, which run on one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `conv(x)`.
    AsIs,
    /// `conv(relu(x))`.
    Relu,
}

/// The stride-1 convolution as a backend operation, with its two backward halves. The default
/// bodies use burn's generic convolution ops (the functions of the private `generic` module); flex overrides all
/// three.
#[backend_extension(Autodiff, Flex, LibTorch: cfg(feature = "tch"))]
pub trait ConvBackend: burn::backend::Backend {
    /// `x` `[batch, c_in, h, w]` (or its relu, per `input`), `weight` `[c_out, c_in, kh, kw]`,
    /// `bias` `[c_out]` -> `[batch, c_out, h + 2 pad_h - kh + 1, w + 2 pad_w - kw + 1]`.
    fn conv_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: [usize; 2],
        input: Input,
    ) -> FloatTensor<Self> {
        generic::forward::<Self>(x, weight, bias, padding, input)
    }

    /// The gradient with respect to `x` given the output gradient `grad`.
    fn conv_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        padding: [usize; 2],
        input: Input,
    ) -> FloatTensor<Self> {
        generic::input_grad::<Self>(x, weight, grad, padding, input)
    }

    /// The gradients with respect to the weight and the bias given the output gradient `grad`.
    fn conv_param_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        padding: [usize; 2],
        input: Input,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        generic::param_grads::<Self>(x, weight, bias, grad, padding, input)
    }
}

/// [`ConvBackend`]'s three operations by burn's generic ops: its default bodies, and flex's
/// fallback for other float types.
mod generic {
    use burn::backend::Backend;
    use burn::backend::ops::ConvOptions;
    use burn::backend::tensor::FloatTensor;

    use super::Input;

    /// [`super::ConvBackend::conv_forward`].
    pub fn forward<B: Backend>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        bias: FloatTensor<B>,
        padding: [usize; 2],
        input: Input,
    ) -> FloatTensor<B> {
        B::conv2d(read::<B>(x, input), weight, Some(bias), options(padding))
    }

    /// [`super::ConvBackend::conv_input_grad`].
    pub fn input_grad<B: Backend>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        padding: [usize; 2],
        input: Input,
    ) -> FloatTensor<B> {
        let read = read::<B>(x, input);
        let dx = B::conv2d_x_backward(read.clone(), weight, grad, options(padding));
        match input {
            Input::AsIs => dx,
            Input::Relu => B::relu_backward(read, dx),
        }
    }

    /// [`super::ConvBackend::conv_param_grads`].
    pub fn param_grads<B: Backend>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        bias: FloatTensor<B>,
        grad: FloatTensor<B>,
        padding: [usize; 2],
        input: Input,
    ) -> (FloatTensor<B>, FloatTensor<B>) {
        let read = read::<B>(x, input);
        let weight_grad = B::conv2d_weight_backward(read.clone(), weight, grad.clone(), options(padding));
        (weight_grad, B::conv2d_bias_backward(read, bias, grad))
    }

    /// What the convolution reads of `x`.
    fn read<B: Backend>(x: FloatTensor<B>, input: Input) -> FloatTensor<B> {
        match input {
            Input::AsIs => x,
            Input::Relu => B::relu(x),
        }
    }

    /// burn's options for a stride-1, dilation-1, single-group convolution.
    fn options(padding: [usize; 2]) -> ConvOptions<2> {
        ConvOptions::new([1, 1], padding, [1, 1], 1)
    }
}

#[cfg(feature = "tch")]
impl ConvBackend for burn::backend::LibTorch {}

/// Stride-1 convolution with symmetric zero `padding` (rows, columns) of `x` or its relu (per
/// `input`) on any heldout device, differentiable: `x` `[batch, c_in, h, w]`, `weight`
/// `[c_out, c_in, kh, kw]`, `bias` `[c_out]`.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>, padding: [usize; 2], input: Input) -> Tensor<4> {
    Tensor::from_dispatch(Dispatch::conv_forward(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        padding,
        input,
    ))
}

#[cfg(test)]
mod tests;
