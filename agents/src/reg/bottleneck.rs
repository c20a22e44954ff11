//! The information bottleneck of IBAC (Igl et al. 2019), with an explicit noise switch.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::softplus;
use burn::tensor::{Tensor, TensorData};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::Noise;
use crate::error::{AgentError, check_range};
use crate::fused::math::standard_normals;
use crate::init::{Gain, Init};

/// Settings of the bottleneck; its latent size is the agent's `hidden.size`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BottleneckConfig {
    /// Weight of `KL(N(mu, sigma^2) || N(0, I))` (in nats) in the loss. The paper: 1e-4 with
    /// the KL in bits for CoinRun (= 1e-4 / ln 2 per nat), 1e-6 in nats for MultiRoom.
    pub beta: f64,
    /// `sigma = softplus(rho - rho_shift)`: CoinRun's code shifts by 5 (small initial noise),
    /// MultiRoom's by 0.
    pub rho_shift: f64,
}

impl BottleneckConfig {
    /// Checks `beta >= 0` and a finite shift.
    pub fn validate(&self) -> Result<(), AgentError> {
        check_range("regularizers.bottleneck.beta", self.beta, 0.0, f64::MAX)?;
        check_range("regularizers.bottleneck.rho_shift", self.rho_shift, -f64::MAX, f64::MAX)
    }

    /// A bottleneck from `features` inputs to a `size`-dimensional latent.
    pub fn init(&self, features: usize, size: usize, init: &mut Init) -> Bottleneck {
        Bottleneck { encode: init.linear(features, 2 * size, Gain::HIDDEN), size, rho_shift: self.rho_shift }
    }
}

/// A dense layer to `[mu, rho]` and a Gaussian latent `z`.
#[derive(Module, Debug)]
pub struct Bottleneck {
    /// Features -> `2 * size` (mu, then rho).
    pub encode: Linear,
    /// Latent dimensions.
    pub size: usize,
    /// Shift of rho inside the softplus.
    pub rho_shift: f64,
}

/// The latent and its KL to the prior.
pub struct BottleneckOutput {
    /// `[batch, size]`: `mu + sigma * eps` with [`Noise::On`], `mu` with [`Noise::Off`].
    pub z: Tensor<2>,
    /// `[batch]`: `KL(N(mu, sigma^2) || N(0, I))` summed over the latent dimensions, in nats.
    pub kl: Tensor<1>,
}

impl Bottleneck {
    /// Encodes `x` (`[batch, features]`); `eps ~ N(0, I)` comes from `rng`.
    pub fn forward<R: Rng + ?Sized>(&self, x: Tensor<2>, noise: Noise, rng: &mut R) -> BottleneckOutput {
        let stats = self.encode.forward(x); // [batch, 2 * size]
        let [batch, _] = stats.dims();
        let mu = stats.clone().narrow(1, 0, self.size); // [batch, size]
        let rho = stats.narrow(1, self.size, self.size); // [batch, size]
        let rho = rho.sub_scalar(self.rho_shift);
        let sigma = softplus(rho.clone(), 1.0);
        // ln softplus(r) = r (to 1e-9) for r < -20, where softplus underflows towards 0 in f32;
        // the clamp keeps the unused branch's gradient finite.
        let log_sigma = sigma.clone().clamp_min(1e-30).log().mask_where(rho.clone().lower_elem(-20.0), rho);
        // KL(N(mu, s^2) || N(0, 1)) = (mu^2 + s^2 - 1) / 2 - ln s, per dimension.
        let kl = (mu.clone().square() + sigma.clone().square()).sub_scalar(1.0).mul_scalar(0.5) - log_sigma;
        let kl = kl.sum_dim(1).squeeze_dim::<1>(1); // [batch]
        let z = match noise {
            Noise::Off => mu,
            Noise::On => {
                let eps = standard_normals(rng, batch * self.size);
                let eps = Tensor::from_data(TensorData::new(eps, [batch, self.size]), &mu.device());
                mu + sigma * eps
            }
        };
        BottleneckOutput { z, kl }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn kl_matches_the_closed_form_and_noise_follows_the_switch() {
        let mut init = Init { device: Device::flex(), rng: StdRng::seed_from_u64(4) };
        let b = BottleneckConfig { beta: 1.0, rho_shift: 1.0 }.init(5, 3, &mut init);
        let batch = 4000;
        let x: Vec<f32> = (0..batch * 5).map(|i| ((i % 17) as f32 - 8.0) / 8.0).collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [batch, 5]), &init.device);
        let stats = b.encode.forward(x.clone()).into_data().try_into_vec::<f32>().unwrap();
        let mut rng = StdRng::seed_from_u64(9);
        let off = b.forward(x.clone(), Noise::Off, &mut rng);
        let on = b.forward(x, Noise::On, &mut rng);
        let kl = off.kl.into_data().try_into_vec::<f32>().unwrap();
        let z_off = off.z.into_data().try_into_vec::<f32>().unwrap();
        let z_on = on.z.into_data().try_into_vec::<f32>().unwrap();
        let (mut eps_sum, mut eps_sq) = (0.0f64, 0.0f64);
        for i in 0..batch {
            let mut want = 0.0f64;
            for d in 0..3 {
                let mu = stats[i * 6 + d] as f64;
                let sigma = (1.0 + (stats[i * 6 + 3 + d] as f64 - 1.0).exp()).ln();
                want += (mu * mu + sigma * sigma - 1.0) / 2.0 - sigma.ln();
                assert!((z_off[i * 3 + d] as f64 - mu).abs() < 1e-6, "noise off: z = mu");
                let eps = (z_on[i * 3 + d] as f64 - mu) / sigma;
                eps_sum += eps;
                eps_sq += eps * eps;
            }
            assert!((kl[i] as f64 - want).abs() < 1e-4 * (1.0 + want.abs()), "sample {i}: {} vs {want}", kl[i]);
        }
        // Noise on: (z - mu) / sigma is standard normal.
        let n = (batch * 3) as f64;
        assert!((eps_sum / n).abs() < 0.05 && (eps_sq / n - 1.0).abs() < 0.05);
    }

    #[test]
    fn kl_and_its_gradient_stay_finite_when_sigma_underflows() {
        let device = Device::flex().autodiff();
        let mut init = Init { device: device.clone(), rng: StdRng::seed_from_u64(4) };
        let b = BottleneckConfig { beta: 1.0, rho_shift: 5.0 }.init(5, 3, &mut init);
        let x = Tensor::<2>::from_data(
            TensorData::new(
                vec![1000.0f32, -1000.0, 1000.0, -1000.0, 1000.0, -1000.0, 1000.0, -1000.0, 1000.0, -1000.0],
                [2, 5],
            ),
            &device,
        );
        let rho = b.encode.forward(x.clone()).narrow(1, 3, 3).into_data().try_into_vec::<f32>().unwrap();
        assert!(rho.iter().any(|&r| r - 5.0 < -100.0), "sigma underflows for some dimension: {rho:?}");
        let kl = b.forward(x, Noise::On, &mut StdRng::seed_from_u64(0)).kl.sum();
        assert!(kl.clone().into_scalar::<f32>().is_finite());
        let grads = kl.backward();
        let g = b.encode.weight.val().grad(&grads).unwrap().into_data().try_into_vec::<f32>().unwrap();
        assert!(g.iter().all(|v| v.is_finite()));
    }
}
