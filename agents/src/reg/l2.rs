//! The L2 weight penalty.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// `0.5 * sum(w^2)` over every parameter of rank >= 2 (dense weights, conv kernels) of `module`,
/// as a one-element tensor in `module`'s autodiff graph. Rank-1 parameters (biases, batch-norm
/// scales and shifts) and the batch-norm running statistics are excluded.
pub fn l2_penalty<M: Module>(module: &M) -> Option<Tensor<1>> {
    let mut sum = WeightSquares { total: None };
    module.visit(&mut sum);
    sum.total.map(|t| t.mul_scalar(0.5))
}

/// Accumulates the sum of squared weights.
struct WeightSquares {
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for WeightSquares {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if D < 2 {
            return;
        }
        let s = param.val().square().sum();
        self.total = Some(match self.total.take() {
            Some(t) => t + s,
            None => s,
        });
    }
}
