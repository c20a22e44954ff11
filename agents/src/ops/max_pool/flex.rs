//! [`PoolBackend`] on flex: the f32 kernels of [`super::kernels`]; other float types take burn's
//! generic ops.

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::tensor::{DType, IntDType};

use super::PoolBackend;
use super::kernels::{self, PoolGeometry};
use crate::ops::flex_tensor;

impl PoolBackend for Flex {
    fn max_pool(x: FlexTensor, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> FlexTensor {
        Self::max_pool_with_indices(x, kernel, stride, padding).0
    }

    fn max_pool_with_indices(
        x: FlexTensor,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> (FlexTensor, FlexTensor) {
        if x.dtype() != DType::F32 {
            let pooled = Flex::max_pool2d_with_indices(x, kernel, stride, padding, [1, 1], false, IntDType::I64);
            return (pooled.output, pooled.indices);
        }
        let (g, [batch, channels]) = geometry(&x, kernel, stride, padding);
        let [out_h, out_w] = g.output();
        let x = x.to_contiguous();
        let (out, indices) = kernels::forward(&g, x.storage());
        let shape = [batch, channels, out_h, out_w];
        (flex_tensor(out, shape), flex_tensor(indices, shape))
    }

    fn max_pool_input_grad(
        x: FlexTensor,
        grad: FlexTensor,
        indices: FlexTensor,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> FlexTensor {
        if x.dtype() != DType::F32 || grad.dtype() != DType::F32 || indices.dtype() != DType::I32 {
            return Flex::max_pool2d_with_indices_backward(x, kernel, stride, padding, [1, 1], false, grad, indices)
                .x_grad;
        }
        let (g, [batch, channels]) = geometry(&x, kernel, stride, padding);
        let (grad, indices) = (grad.to_contiguous(), indices.to_contiguous());
        let dx = kernels::backward(&g, grad.storage(), indices.storage());
        flex_tensor(dx, [batch, channels, g.input[0], g.input[1]])
    }
}

/// The geometry of pooling `x` `[batch, c, h, w]`, and its batch and channels.
fn geometry(x: &FlexTensor, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> (PoolGeometry, [usize; 2]) {
    let shape = x.layout().shape();
    assert_eq!(shape.len(), 4, "max pool input shape {shape:?}");
    let g = PoolGeometry { planes: shape[0] * shape[1], input: [shape[2], shape[3]], kernel, stride, padding };
    (g, [shape[0], shape[1]])
}
