//! Batch normalization with an explicit noise switch.

use burn::module::{Module, Param, RunningState};
use burn::tensor::Tensor;
use burn::tensor::module::{batch_norm, batch_norm_train};

use crate::Noise;
use crate::init::Init;

/// Momentum of the running statistics (PyTorch's default).
const MOMENTUM: f64 = 0.1;
/// Added to the variance before the square root (PyTorch's default).
const EPSILON: f64 = 1e-5;

/// Batch norm over the channel axis (axis 1) of `[batch, channels, ...]` inputs.
///
/// - [`Noise::On`]: normalise with the batch's statistics and fold them into the running
///   statistics (`running = 0.9 * running + 0.1 * batch`, unbiased variance as in PyTorch).
/// - [`Noise::Off`]: normalise with the running statistics; they are left unchanged.
///
/// The running statistics are burn [`RunningState`]s: recorded in checkpoints, never trained,
/// and shared by clones of the module. The agent runs rollouts on a fresh `valid()` copy, so
/// only the learner's training passes move them.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Learned scale.
    pub gamma: Param<Tensor<1>>,
    /// Learned shift.
    pub beta: Param<Tensor<1>>,
    /// Running mean.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (unbiased) variance.
    pub running_var: RunningState<Tensor<1>>,
}

impl BatchNorm {
    /// A batch norm over `channels` channels: scale 1, shift 0, running mean 0, variance 1.
    pub fn new(channels: usize, init: &Init) -> BatchNorm {
        BatchNorm {
            gamma: init.ones(channels),
            beta: init.zeros(channels),
            running_mean: RunningState::new(Tensor::zeros([channels], &init.device)),
            running_var: RunningState::new(Tensor::ones([channels], &init.device)),
        }
    }

    /// Normalises `x` (`[batch, channels, ...]`).
    pub fn forward<const D: usize>(&self, x: Tensor<D>, noise: Noise) -> Tensor<D> {
        let device = x.device();
        match noise {
            Noise::Off => batch_norm(
                x,
                self.gamma.val(),
                self.beta.val(),
                self.running_mean.value_sync().to_device(&device),
                self.running_var.value_sync().to_device(&device),
                EPSILON,
            ),
            Noise::On => {
                let dims = x.dims();
                let per_channel = dims.iter().product::<usize>() / dims[1];
                let unbiased = per_channel as f64 / (per_channel.max(2) - 1) as f64;
                let out = batch_norm_train(x, self.gamma.val(), self.beta.val(), EPSILON);
                let old_mean = self.running_mean.value_sync().to_device(&device);
                let old_var = self.running_var.value_sync().to_device(&device);
                let mean = old_mean.mul_scalar(1.0 - MOMENTUM) + out.mean.detach().mul_scalar(MOMENTUM);
                let var = old_var.mul_scalar(1.0 - MOMENTUM) + out.variance.detach().mul_scalar(MOMENTUM * unbiased);
                self.running_mean.update(mean.detach());
                self.running_var.update(var.detach());
                out.output
            }
        }
    }
}
