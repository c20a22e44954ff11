//! Dropout with an explicit noise switch.

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use rand::{Rng, RngExt};

use crate::Noise;

/// Inverted dropout: with [`Noise::On`] each unit is zeroed with probability `rate` and the
/// others are scaled by `1 / (1 - rate)`; with [`Noise::Off`] it is the identity. The mask is
/// drawn from the caller's generator, so a forward pass is a function of the generator's state.
#[derive(Module, Debug)]
pub struct Dropout {
    /// Probability of zeroing a unit, in [0, 1).
    pub rate: f64,
}

impl Dropout {
    /// Applies dropout to `x` (any shape).
    pub fn forward<const D: usize, R: Rng + ?Sized>(&self, x: Tensor<D>, noise: Noise, rng: &mut R) -> Tensor<D> {
        if noise == Noise::Off || self.rate == 0.0 {
            return x;
        }
        let keep = 1.0 - self.rate;
        let scale = (1.0 / keep) as f32;
        let shape = x.shape();
        let mask: Vec<f32> =
            (0..shape.num_elements()).map(|_| if rng.random::<f64>() < keep { scale } else { 0.0 }).collect();
        let mask = Tensor::from_data(TensorData::new(mask, shape), &x.device());
        x * mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn dropout_zeroes_about_rate_and_rescales_the_rest_only_when_noisy() {
        let x = Tensor::<2>::ones([100, 100], &Device::flex());
        let d = Dropout { rate: 0.25 };
        let mut rng = StdRng::seed_from_u64(2);
        let off = d.forward(x.clone(), Noise::Off, &mut rng).into_data().try_into_vec::<f32>().unwrap();
        assert!(off.iter().all(|&v| v == 1.0));
        let on = d.forward(x, Noise::On, &mut rng).into_data().try_into_vec::<f32>().unwrap();
        let zeros = on.iter().filter(|&&v| v == 0.0).count();
        assert!(on.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        assert!((zeros as f64 / 1e4 - 0.25).abs() < 0.02, "{zeros} zeros");
    }
}
