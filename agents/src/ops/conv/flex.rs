//! [`ConvBackend`] on flex: the f32 kernels of [`super::kernels`] on the tensors' buffers; other
//! float types take burn's generic ops.

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::DType;

use super::kernels::{self, ConvGeometry};
use super::{ConvBackend, Input, generic};
use crate::ops::flex_tensor as tensor;

impl ConvBackend for Flex {
    fn conv_forward(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        padding: [usize; 2],
        input: Input,
    ) -> FlexTensor {
        if !all_f32(&[&x, &weight, &bias]) {
            return generic::forward::<Flex>(x, weight, bias, padding, input);
        }
        let g = geometry(&x, &weight, padding);
        let [out_h, out_w] = g.output();
        let (x, weight, bias) = (x.to_contiguous(), weight.to_contiguous(), bias.to_contiguous());
        let out = kernels::forward(&g, x.storage(), weight.storage(), bias.storage(), input);
        tensor(out, [g.batch, g.c_out, out_h, out_w])
    }

    fn conv_input_grad(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        padding: [usize; 2],
        input: Input,
    ) -> FlexTensor {
        if !all_f32(&[&x, &weight, &grad]) {
            return generic::input_grad::<Flex>(x, weight, grad, padding, input);
        }
        let g = geometry(&x, &weight, padding);
        let (x, weight, grad) = (x.to_contiguous(), weight.to_contiguous(), grad.to_contiguous());
        let dx = kernels::input_grad(&g, x.storage(), weight.storage(), grad.storage(), input);
        tensor(dx, [g.batch, g.c_in, g.input[0], g.input[1]])
    }

    fn conv_param_grads(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        grad: FlexTensor,
        padding: [usize; 2],
        input: Input,
    ) -> (FlexTensor, FlexTensor) {
        if !all_f32(&[&x, &weight, &bias, &grad]) {
            return generic::param_grads::<Flex>(x, weight, bias, grad, padding, input);
        }
        let g = geometry(&x, &weight, padding);
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let (dw, db) = kernels::param_grads(&g, x.storage(), grad.storage(), input);
        (tensor(dw, [g.c_out, g.c_in, g.kernel[0], g.kernel[1]]), tensor(db, [g.c_out]))
    }
}

fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

/// The geometry of `x` `[batch, c_in, h, w]` convolved with `weight` `[c_out, c_in, kh, kw]`.
fn geometry(x: &FlexTensor, weight: &FlexTensor, padding: [usize; 2]) -> ConvGeometry {
    let (xs, ws) = (x.layout().shape(), weight.layout().shape());
    assert!(xs.len() == 4 && ws.len() == 4 && xs[1] == ws[1], "conv shapes {xs:?} and {ws:?}");
    ConvGeometry { batch: xs[0], c_in: xs[1], input: [xs[2], xs[3]], c_out: ws[0], kernel: [ws[2], ws[3]], padding }
}
