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
                // `update` parks the value per thread; `value_sync` folds it in at once, so
                // records (checkpoints) taken right after this pass see it.
                self.running_mean.update(mean.detach());
                self.running_var.update(var.detach());
                self.running_mean.value_sync();
                self.running_var.value_sync();
                out.output
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn stats(bn: &BatchNorm) -> (Vec<f32>, Vec<f32>) {
        let v = |t: Tensor<1>| t.into_data().try_into_vec::<f32>().unwrap();
        // `value` (not `value_sync`): what a checkpoint records.
        (v(bn.running_mean.value()), v(bn.running_var.value()))
    }

    #[test]
    fn running_statistics_move_only_in_noisy_passes() {
        let init = Init { device: Device::flex().autodiff(), rng: StdRng::seed_from_u64(0) };
        let bn = BatchNorm::new(2, &init);
        // [batch 2, channels 2, 2]: channel 0 holds 1, 3, 5, 7 (mean 4, unbiased var 20/3),
        // channel 1 holds 0, 0, 2, 2 (mean 1, unbiased var 4/3).
        let x = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 3.0, 0.0, 0.0, 5.0, 7.0, 2.0, 2.0], [2, 2, 2]),
            &init.device,
        );

        let off = bn.forward(x.clone(), Noise::Off);
        assert_eq!(stats(&bn), (vec![0.0, 0.0], vec![1.0, 1.0]), "a noise-free pass leaves them");
        // Running statistics (0, 1): the output is x / sqrt(1 + eps).
        let expect: Vec<f32> =
            [1.0f32, 3.0, 0.0, 0.0, 5.0, 7.0, 2.0, 2.0].iter().map(|v| v / (1.0 + 1e-5f32).sqrt()).collect();
        assert_eq!(off.into_data().try_into_vec::<f32>().unwrap(), expect);

        let on = bn.forward(x.clone(), Noise::On).into_data().try_into_vec::<f32>().unwrap();
        let (mean, var) = stats(&bn);
        assert!((mean[0] - 0.4).abs() < 1e-6 && (mean[1] - 0.1).abs() < 1e-6, "{mean:?}");
        assert!(
            (var[0] - (0.9 + 0.1 * 20.0 / 3.0)).abs() < 1e-5 && (var[1] - (0.9 + 0.1 * 4.0 / 3.0)).abs() < 1e-5,
            "{var:?}"
        );
        // Batch statistics: channel 0 normalised to mean 0 with population variance 1.
        let c0 = [on[0], on[1], on[4], on[5]];
        assert!(c0.iter().sum::<f32>().abs() < 1e-5);
        assert!((c0.iter().map(|v| v * v).sum::<f32>() / 4.0 - 1.0).abs() < 1e-3);

        bn.forward(x, Noise::Off);
        assert_eq!(stats(&bn), (mean, var), "still unchanged by noise-free passes");
    }
}
