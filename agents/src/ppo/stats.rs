//! What one update reports.

use serde::{Deserialize, Serialize};

/// Means over all minibatches of one update (the loss terms as added to the loss, before
/// their coefficients unless said otherwise).
///
/// Under SNI the policy terms are the lambda-mixtures of the noise-free and the noisy pass;
/// `approx_kl` and `clipfrac` are the noise-free (rollout) policy's, else the noisy policy's.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct UpdateStats {
    /// Clipped surrogate loss.
    pub policy_loss: f64,
    /// Value loss (0.5 * squared error, clipped when configured).
    pub value_loss: f64,
    /// Mean policy entropy (nats).
    pub entropy: f64,
    /// `mean((r - 1) - ln r)`, an estimate of KL(old || new).
    pub approx_kl: f64,
    /// Fraction of samples whose ratio left the clip range.
    pub clipfrac: f64,
    /// `1 - Var(returns - values) / Var(returns)` of the rollout's values.
    pub explained_variance: f64,
    /// Mean bottleneck KL to the prior (nats), 0 without a bottleneck.
    pub kl_bottleneck: f64,
    /// The L2 penalty as added to the loss (`l2 * 0.5 * sum(w^2)`), 0 when off.
    pub l2: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Learning rate used (after annealing).
    pub learning_rate: f64,
    /// Clip range used (after annealing).
    pub clip: f64,
}

/// Fraction of the variance of `returns` that `values` explain; NaN if the returns are constant.
pub fn explained_variance(values: &[f32], returns: &[f32]) -> f64 {
    let var = |x: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = x.collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len() as f64
    };
    let var_y = var(&mut returns.iter().map(|&r| r as f64));
    let var_res = var(&mut returns.iter().zip(values).map(|(&r, &v)| (r - v) as f64));
    if var_y == 0.0 { f64::NAN } else { 1.0 - var_res / var_y }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explained_variance_of_perfect_and_useless_predictions() {
        let returns = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(explained_variance(&returns, &returns), 1.0);
        assert_eq!(explained_variance(&[2.5; 4], &returns), 0.0);
        assert!(explained_variance(&[0.0; 2], &[1.0, 1.0]).is_nan());
    }
}
