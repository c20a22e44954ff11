//! Gradient clipping by the global norm over all parameters (PyTorch's `clip_grad_norm_`).
//!
//! burn's `GradientClipping::Norm` clips each parameter tensor on its own; PPO clips the norm
//! of the concatenation of all gradients.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Scales all gradients of `module` in `grads` by `max_norm / (norm + 1e-6)` when their
/// global L2 `norm` exceeds `max_norm`; returns the norm before clipping (NaN or infinite
/// gradients leave the gradients untouched and return that norm).
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut sum = SquaredNorm { grads, total: None };
    module.visit(&mut sum);
    let norm = match sum.total {
        Some(t) => (t.into_scalar::<f32>() as f64).sqrt(),
        None => 0.0,
    };
    if norm.is_finite() && norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        module.visit(&mut Scale { grads, scale });
    }
    norm
}

/// Sums the squares of every gradient.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

/// Multiplies every gradient by `scale`.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    scale: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.scale));
        }
    }
}
