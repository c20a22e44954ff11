//! heldout's own tensor operations, added to burn as backend extensions where burn-flex's generic
//! kernels were the learner's bottleneck (see BENCHMARKS.md, "Agents / learner"):
//! - [`conv`]: the stride-1 convolution with bias (a direct AVX-512 kernel, im2col + gemm,
//!   hand-written gradients);
//! - [`max_pool`]: max pooling with its argmax gradient.
//!
//! Each has f32 kernels for flex, an autodiff backward node, and burn's generic ops as the
//! default body for other backends (LibTorch with the `tch` feature).

// burn 0.22 marks LibTorch deprecated; with the opt-in `tch` feature the extension macros name it.
#[cfg_attr(feature = "tch", allow(deprecated))]
pub mod conv;
#[cfg_attr(feature = "tch", allow(deprecated))]
pub mod max_pool;

use burn::backend::flex::FlexTensor;
use burn::tensor::{Element, TensorData};

/// A contiguous flex tensor owning `values` in `shape`: how the flex kernels return results.
fn flex_tensor<E: Element, const D: usize>(values: Vec<E>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// Helpers of the op tests.
#[cfg(test)]
mod test_util {
    use burn::tensor::Tensor;
    use rand::RngExt;
    use rand::rngs::StdRng;

    /// `n` values uniform in [-1, 1).
    pub fn random(n: usize, rng: &mut StdRng) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// The values of an f32 tensor.
    pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().expect("f32 tensor")
    }
}
