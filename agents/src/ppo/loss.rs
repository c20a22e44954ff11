//! PPO's loss terms on `[batch]` tensors.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// The clipped surrogate and its diagnostics.
pub struct Surrogate {
    /// `mean(max(-A * r, -A * clip(r, 1 - c, 1 + c)))`, to be minimised.
    pub loss: Tensor<1>,
    /// `mean((r - 1) - ln r)`, an estimate of KL(old || new) (detached).
    pub approx_kl: Tensor<1>,
    /// Fraction of samples with `|r - 1| > c` (detached).
    pub clipfrac: Tensor<1>,
}

/// PPO's clipped surrogate for log-probabilities `new_logp` against `old_logp`, advantages
/// `adv` and clip range `clip` (all `[batch]`).
pub fn clipped_surrogate(new_logp: Tensor<1>, old_logp: Tensor<1>, adv: Tensor<1>, clip: f64) -> Surrogate {
    let log_ratio = new_logp - old_logp;
    let ratio = log_ratio.clone().exp();
    let unclipped = adv.clone().neg() * ratio.clone();
    let clipped = adv.neg() * ratio.clone().clamp(1.0 - clip, 1.0 + clip);
    let loss = unclipped.max_pair(clipped).mean();
    let ratio = ratio.detach();
    let approx_kl = (ratio.clone().sub_scalar(1.0) - log_ratio.detach()).mean();
    let clipfrac = ratio.sub_scalar(1.0).abs().greater_elem(clip).float().mean();
    Surrogate { loss, approx_kl, clipfrac }
}

/// Half the mean squared error of `values` against `returns`; with `clip = Some(c)`, PPO2's
/// pessimistic clipped variant `0.5 * mean(max((v - R)^2, (v_old + clip(v - v_old, -c, c) - R)^2))`.
pub fn value_loss(values: Tensor<1>, old_values: Tensor<1>, returns: Tensor<1>, clip: Option<f64>) -> Tensor<1> {
    let unclipped = (values.clone() - returns.clone()).square();
    let err = match clip {
        None => unclipped,
        Some(c) => {
            let clipped = old_values.clone() + (values - old_values).clamp(-c, c);
            unclipped.max_pair((clipped - returns).square())
        }
    };
    err.mean().mul_scalar(0.5)
}

/// Log-probabilities `[batch, actions]` of the categorical distributions with `logits`.
pub fn log_probs(logits: Tensor<2>) -> Tensor<2> {
    log_softmax(logits, 1)
}

/// The log-probability `[batch]` of `actions` (`[batch, 1]`) under `log_probs`.
pub fn action_log_prob(log_probs: Tensor<2>, actions: Tensor<2, Int>) -> Tensor<1> {
    log_probs.gather(1, actions).squeeze_dim::<1>(1)
}

/// Mean entropy over the batch of the distributions with `log_probs` (`[batch, actions]`).
pub fn entropy(log_probs: Tensor<2>) -> Tensor<1> {
    (log_probs.clone().exp() * log_probs).sum_dim(1).neg().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t(v: &[f32]) -> Tensor<1> {
        Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &Device::flex())
    }

    fn val(x: Tensor<1>) -> f32 {
        x.into_scalar::<f32>()
    }

    #[test]
    fn surrogate_clips_only_in_the_direction_of_the_advantage() {
        let old = t(&[0.0, 0.0, 0.0, 0.0]);
        // ratios: 1.5 (A > 0: clipped to 1.2), 0.5 (A > 0: unclipped, pessimistic),
        //         1.5 (A < 0: unclipped), 0.5 (A < 0: clipped to 0.8).
        let new = t(&[1.5f32.ln(), 0.5f32.ln(), 1.5f32.ln(), 0.5f32.ln()]);
        let adv = t(&[1.0, 1.0, -1.0, -1.0]);
        let s = clipped_surrogate(new, old, adv, 0.2);
        // per-sample losses: -1.2, -0.5, +1.5, +0.8 -> mean 0.15
        assert!((val(s.loss) - 0.15).abs() < 1e-6);
        assert!((val(s.clipfrac) - 1.0).abs() < 1e-6, "all four ratios are outside [0.8, 1.2]");
        // approx_kl: mean of (r - 1) - ln r
        let kl = ((0.5 - 1.5f64.ln()) + (-0.5 - 0.5f64.ln())) / 2.0;
        assert!((val(s.approx_kl) as f64 - kl).abs() < 1e-6);
    }

    #[test]
    fn surrogate_inside_the_clip_range_is_minus_ratio_times_advantage() {
        let s = clipped_surrogate(t(&[1.1f32.ln()]), t(&[0.0]), t(&[2.0]), 0.2);
        assert!((val(s.loss) + 2.2).abs() < 1e-6);
        assert_eq!(val(s.clipfrac), 0.0);
    }

    #[test]
    fn value_loss_clipping_is_pessimistic() {
        // v_old = 0, R = 1, c = 0.2.
        // v = 2: unclipped (2-1)^2 = 1, clipped v = 0.2 -> 0.64, max 1.
        // v = 0.5: unclipped 0.25, clipped 0.2 -> 0.64, max 0.64.
        let l = value_loss(t(&[2.0, 0.5]), t(&[0.0, 0.0]), t(&[1.0, 1.0]), Some(0.2));
        assert!((val(l) - 0.5 * (1.0 + 0.64) / 2.0).abs() < 1e-6);
        let plain = value_loss(t(&[2.0, 0.5]), t(&[0.0, 0.0]), t(&[1.0, 1.0]), None);
        assert!((val(plain) - 0.5 * (1.0 + 0.25) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn entropy_and_log_probs_of_known_distributions() {
        let logits =
            Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0.0, 0.0, 0.0, 0.0, 100.0], [2, 3]), &Device::flex());
        let lp = log_probs(logits);
        // uniform over 3: ln 3; a near one-hot: ~0.
        assert!((val(entropy(lp.clone())) - 3f32.ln() / 2.0).abs() < 1e-5);
        let actions = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 2], [2, 1]), &Device::flex());
        let a = action_log_prob(lp, actions).into_data().try_into_vec::<f32>().unwrap();
        assert!((a[0] + 3f32.ln()).abs() < 1e-6 && a[1].abs() < 1e-6);
    }
}
