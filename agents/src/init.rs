//! Seeded weight initialisation: orthogonal weights (Saxe et al. 2013) and zero biases.
//!
//! Gains follow the PPO convention of the official baselines code: `sqrt(2)` for hidden layers
//! ([`Gain::HIDDEN`]), 0.01 for the policy head ([`Gain::POLICY`]), 1 for the value head
//! ([`Gain::VALUE`]). Random numbers come from the caller's `StdRng` (see [`crate::backend`] for
//! why burn's own generator is not used).

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, RngExt};

use crate::ops::conv::{Conv, Padding};

/// Gains of the orthogonal initialisation.
pub struct Gain;

impl Gain {
    /// Hidden layers followed by ReLU: `sqrt(2)`.
    pub const HIDDEN: f64 = std::f64::consts::SQRT_2;
    /// The policy head: small logits, a near-uniform first policy.
    pub const POLICY: f64 = 0.01;
    /// The value head.
    pub const VALUE: f64 = 1.0;
}

/// A device and a seeded generator: what building a network needs.
pub struct Init {
    /// Where the parameters live (the training device).
    pub device: Device,
    /// The generator every weight is drawn from.
    pub rng: StdRng,
}

impl Init {
    /// A dense layer `d_in -> d_out` with orthogonal weights of gain `gain` and zero biases.
    pub fn linear(&mut self, d_in: usize, d_out: usize, gain: f64) -> Linear {
        // burn stores the weight as [d_in, d_out]; draw the usual [d_out, d_in] matrix and transpose.
        let w = orthogonal(d_out, d_in, gain, &mut self.rng);
        let mut t = vec![0.0f32; d_in * d_out];
        for o in 0..d_out {
            for i in 0..d_in {
                t[i * d_out + o] = w[o * d_in + i];
            }
        }
        Linear {
            weight: Param::from_data(TensorData::new(t, [d_in, d_out]), &self.device),
            bias: Some(self.zeros(d_out)),
        }
    }

    /// A stride-1 convolution `c_in -> c_out` with a square `kernel`, orthogonal weights of gain
    /// `gain` (over the flattened `[c_out, c_in * kernel * kernel]` matrix) and zero biases.
    pub fn conv2d(&mut self, c_in: usize, c_out: usize, kernel: usize, padding: Padding, gain: f64) -> Conv {
        let w = orthogonal(c_out, c_in * kernel * kernel, gain, &mut self.rng);
        let pad = padding.size(kernel);
        Conv {
            weight: Param::from_data(TensorData::new(w, [c_out, c_in, kernel, kernel]), &self.device),
            bias: self.zeros(c_out),
            padding: [pad, pad],
        }
    }

    /// A trainable vector of zeros.
    pub fn zeros(&self, n: usize) -> Param<Tensor<1>> {
        Param::from_data(TensorData::new(vec![0.0f32; n], [n]), &self.device)
    }

    /// A trainable vector of ones.
    pub fn ones(&self, n: usize) -> Param<Tensor<1>> {
        Param::from_data(TensorData::new(vec![1.0f32; n], [n]), &self.device)
    }
}

/// A standard normal sample (Box-Muller).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A `rows x cols` row-major matrix with orthonormal rows (if `rows <= cols`) or columns
/// (otherwise), times `gain`: modified Gram-Schmidt on a Gaussian matrix, which is the QR
/// decomposition with a positive diagonal of R, as in `torch.nn.init.orthogonal_`.
pub fn orthogonal(rows: usize, cols: usize, gain: f64, rng: &mut StdRng) -> Vec<f32> {
    let (long, short) = (rows.max(cols), rows.min(cols));
    // `short` vectors of length `long`, orthonormalised one after the other.
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(short);
    for _ in 0..short {
        let mut v: Vec<f64> = (0..long).map(|_| standard_normal(rng)).collect();
        for u in &q {
            let dot: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(x, a)| *x -= dot * a);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        q.push(v);
    }
    let mut out = vec![0.0f32; rows * cols];
    for (s, v) in q.iter().enumerate() {
        for (l, x) in v.iter().enumerate() {
            let (r, c) = if rows >= cols { (l, s) } else { (s, l) };
            out[r * cols + c] = (gain * x) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gram(m: &[f32], rows: usize, cols: usize, by_rows: bool) -> Vec<f64> {
        let n = if by_rows { rows } else { cols };
        let at = |i: usize, k: usize| if by_rows { m[i * cols + k] } else { m[k * cols + i] } as f64;
        let len = if by_rows { cols } else { rows };
        let mut g = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                g[i * n + j] = (0..len).map(|k| at(i, k) * at(j, k)).sum();
            }
        }
        g
    }

    #[test]
    fn orthogonal_rows_and_columns_are_orthonormal_times_gain() {
        let mut rng = StdRng::seed_from_u64(3);
        for (rows, cols, by_rows) in [(4, 9, true), (9, 4, false), (5, 5, true)] {
            let m = orthogonal(rows, cols, 2.0, &mut rng);
            let n = rows.min(cols);
            let g = gram(&m, rows, cols, by_rows);
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { 4.0 } else { 0.0 };
                    assert!((g[i * n + j] - want).abs() < 1e-5, "{rows}x{cols} gram[{i},{j}] = {}", g[i * n + j]);
                }
            }
        }
    }

    #[test]
    fn orthogonal_is_a_function_of_the_seed() {
        let a = orthogonal(8, 3, 1.0, &mut StdRng::seed_from_u64(7));
        let b = orthogonal(8, 3, 1.0, &mut StdRng::seed_from_u64(7));
        let c = orthogonal(8, 3, 1.0, &mut StdRng::seed_from_u64(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
