//! The PPO loss terms of one pass, and their gradients with respect to the logits and values,
//! as [`crate::ppo::loss`] defines them (mean over the batch).

use super::isa::multiversion;
use super::kernels::sum;
use super::math;

/// What a minibatch's samples were, per lane.
#[derive(Debug, Clone, Default)]
pub(crate) struct Targets {
    /// Actions taken.
    pub actions: Vec<usize>,
    /// Rollout-policy log-probabilities of the actions.
    pub old_log_probs: Vec<f32>,
    /// Rollout values.
    pub old_values: Vec<f32>,
    /// Advantages (normalised when configured).
    pub advantages: Vec<f32>,
    /// Returns.
    pub returns: Vec<f32>,
}

impl Targets {
    /// The targets of the samples `range`.
    pub(crate) fn slice(&self, range: std::ops::Range<usize>) -> Targets {
        Targets {
            actions: self.actions[range.clone()].to_vec(),
            old_log_probs: self.old_log_probs[range.clone()].to_vec(),
            old_values: self.old_values[range.clone()].to_vec(),
            advantages: self.advantages[range.clone()].to_vec(),
            returns: self.returns[range].to_vec(),
        }
    }
}

/// The policy terms of one pass over a block of samples: sums over the block (divided by the
/// minibatch size by the caller), before any weight.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct PolicyTerms {
    /// The clipped surrogates.
    pub surrogate: f64,
    /// The entropies.
    pub entropy: f64,
    /// `(r - 1) - ln r`.
    pub approx_kl: f64,
    /// Samples with `|r - 1| > clip`.
    pub clipped: f64,
}

multiversion!(FMA =>
/// The terms of `weight * (surrogate - ent_coef * entropy)` for `[actions, lanes]` `logits`
/// of a block of a minibatch of `batch` samples, and their gradient added to `d_logits`.
pub(crate) fn policy_terms(logits: &[f32], t: &Targets, clip: f32, weight: f32, ent_coef: f32, d_logits: &mut [f32], lanes: usize, batch: usize) -> PolicyTerms {
    let n = batch as f32;
    // Log-softmax over the action rows.
    // Index loops: closures handed to iterator adaptors may be left uninlined, outside this
    // function's instruction set (and its fused multiply-adds would become library calls).
    let actions = logits.len() / lanes;
    let mut max = vec![f32::NEG_INFINITY; lanes];
    for k in 0..actions {
        for i in 0..lanes {
            max[i] = max[i].max(logits[k * lanes + i]);
        }
    }
    let mut total = vec![0.0f32; lanes];
    for k in 0..actions {
        for i in 0..lanes {
            total[i] += math::exp::<FMA>(logits[k * lanes + i] - max[i]);
        }
    }
    let mut lse = vec![0.0f32; lanes];
    for i in 0..lanes {
        lse[i] = max[i] + math::ln::<FMA>(total[i]);
    }
    let (mut log_probs, mut probs) = (vec![0.0f32; logits.len()], vec![0.0f32; logits.len()]);
    let mut entropy = vec![0.0f32; lanes];
    for k in 0..actions {
        for i in 0..lanes {
            let lp = logits[k * lanes + i] - lse[i];
            let p = math::exp::<FMA>(lp);
            log_probs[k * lanes + i] = lp;
            probs[k * lanes + i] = p;
            entropy[i] -= p * lp;
        }
    }
    // The clipped surrogate and d surrogate / d log-prob of the taken action.
    let (mut surrogate, mut approx_kl, mut clipped_count) = (vec![0.0f32; lanes], vec![0.0f32; lanes], 0usize);
    let mut d_new = vec![0.0f32; lanes];
    for i in 0..lanes {
        let log_ratio = log_probs[t.actions[i] * lanes + i] - t.old_log_probs[i];
        let ratio = math::exp::<FMA>(log_ratio);
        let a = t.advantages[i];
        let unclipped = -a * ratio;
        let clipped = -a * ratio.clamp(1.0 - clip, 1.0 + clip);
        surrogate[i] = unclipped.max(clipped);
        // max_pair's gradient follows the larger side; the clipped side's passes the clamp only
        // inside the range (where the two sides differ by rounding alone).
        let inside = (1.0 - clip..=1.0 + clip).contains(&ratio);
        d_new[i] = if unclipped >= clipped || inside { -a * ratio * weight / n } else { 0.0 };
        approx_kl[i] = (ratio - 1.0) - log_ratio;
        clipped_count += usize::from((ratio - 1.0).abs() > clip);
    }
    // d/d logit_k: from the action's log-prob (delta_ka - p_k), from the entropy
    // p_k (lp_k + H) times ent_coef * weight / n.
    let e = ent_coef * weight / n;
    for (k, ((d, lp), p)) in d_logits.chunks_exact_mut(lanes).zip(log_probs.chunks_exact(lanes)).zip(probs.chunks_exact(lanes)).enumerate() {
        for i in 0..lanes {
            let taken = if t.actions[i] == k { d_new[i] } else { 0.0 };
            d[i] += taken - d_new[i] * p[i] + e * p[i] * (lp[i] + entropy[i]);
        }
    }
    PolicyTerms {
        surrogate: sum(&surrogate) as f64,
        entropy: sum(&entropy) as f64,
        approx_kl: sum(&approx_kl) as f64,
        clipped: clipped_count as f64,
    }
});

multiversion!(FMA =>
/// `0.5 * sum(err)` over a block of a minibatch of `batch` samples (the value loss is its mean,
/// PPO2's pessimistic clipped error with `clip`); the gradient of the mean times `coef` is
/// written to `d_values`.
pub(crate) fn value_terms(values: &[f32], t: &Targets, clip: Option<f32>, coef: f32, d_values: &mut [f32], batch: usize) -> f64 {
    let n = batch as f32;
    let mut err = vec![0.0f32; values.len()];
    for i in 0..values.len() {
        let u = values[i] - t.returns[i];
        let (e, d) = match clip {
            None => (u * u, u),
            Some(c) => {
                let v_clipped = t.old_values[i] + (values[i] - t.old_values[i]).clamp(-c, c);
                let w = v_clipped - t.returns[i];
                // The clipped side's gradient passes the clamp only inside the clip range.
                let inside = (-c..=c).contains(&(values[i] - t.old_values[i]));
                if u * u >= w * w { (u * u, u) } else { (w * w, if inside { w } else { 0.0 }) }
            }
        };
        err[i] = e;
        d_values[i] = coef * d / n;
    }
    let _ = FMA;
    (0.5 * sum(&err)) as f64
});
