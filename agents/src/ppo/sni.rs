//! The loss of one minibatch under Selective Noise Injection (Igl et al. 2019), on one page.
//!
//! With SNI weight lambda the loss is
//!
//! ```text
//! lambda * G(noise-free pass) + (1 - lambda) * G(noisy pass) + vf_coef * V-loss(noise-free) + L2
//! G = surrogate - ent_coef * entropy + beta * KL
//! ```
//!
//! where both surrogates take their ratio against the rollout's (noise-free) log-probabilities
//! and the critic reads the noise-free pass. Without SNI one noisy pass drives everything. When
//! the network injects no noise at all, the two passes would be equal and one runs; when only
//! the encoder is noise-free (no batch norm) both passes share one encoder pass.
//! (docs/method.md, "Selective Noise Injection".)

use burn::tensor::Tensor;
use rand::Rng;

use super::batch::Batch;
use super::loss::{Surrogate, action_log_prob, clipped_surrogate, entropy, log_probs, value_loss};
use crate::error::AgentError;
use crate::nn::{ActorCritic, ModelOutput};
use crate::reg::l2_penalty;
use crate::{AgentConfig, Noise};

/// Which passes the loss runs and how it weighs their policy terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PassWeights {
    /// Weight of the noise-free pass's policy terms, if that pass runs.
    pub noise_free: Option<f64>,
    /// Weight of the noisy pass's policy terms, if that pass runs.
    pub noisy: Option<f64>,
    /// The pass the critic (value loss) reads.
    pub critic: Noise,
}

impl PassWeights {
    /// SNI lambda: both passes, weighted lambda and 1 - lambda, critic noise-free. No SNI: the
    /// noisy pass only. A network that injects no noise: one pass (both would be equal).
    pub(crate) fn new(config: &AgentConfig, model: &ActorCritic) -> PassWeights {
        match config.sni_lambda {
            Some(_) if !model.injects_noise() => PassWeights { noise_free: Some(1.0), noisy: None, critic: Noise::Off },
            Some(lambda) => PassWeights { noise_free: Some(lambda), noisy: Some(1.0 - lambda), critic: Noise::Off },
            None => PassWeights { noise_free: None, noisy: Some(1.0), critic: Noise::On },
        }
    }
}

/// The parts of a minibatch's loss, as added to it (before their coefficients, except L2).
/// `approx_kl` and `clipfrac` are the first pass's: the noise-free (rollout) policy's under
/// SNI, else the noisy policy's.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct LossParts {
    /// The weighted clipped surrogates.
    pub policy: f64,
    /// The value loss.
    pub value: f64,
    /// The weighted entropies.
    pub entropy: f64,
    /// `mean((r - 1) - ln r)` of the first pass.
    pub approx_kl: f64,
    /// Fraction of clipped ratios in the first pass.
    pub clipfrac: f64,
    /// The weighted bottleneck KLs (0 without a bottleneck).
    pub kl_bottleneck: f64,
    /// The L2 penalty with its coefficient (0 when off).
    pub l2: f64,
    /// The loss.
    pub total: f64,
}

impl LossParts {
    /// Adds `other` part by part.
    pub(crate) fn add(&mut self, other: &LossParts) {
        self.policy += other.policy;
        self.value += other.value;
        self.entropy += other.entropy;
        self.approx_kl += other.approx_kl;
        self.clipfrac += other.clipfrac;
        self.kl_bottleneck += other.kl_bottleneck;
        self.l2 += other.l2;
        self.total += other.total;
    }

    /// Every part times `k`.
    pub(crate) fn scaled(&self, k: f64) -> LossParts {
        LossParts {
            policy: self.policy * k,
            value: self.value * k,
            entropy: self.entropy * k,
            approx_kl: self.approx_kl * k,
            clipfrac: self.clipfrac * k,
            kl_bottleneck: self.kl_bottleneck * k,
            l2: self.l2 * k,
            total: self.total * k,
        }
    }

    /// The parts from the detached `[8]` tensor [`loss`] stacks them into, in one read from the
    /// device.
    fn read(stacked: Tensor<1>) -> LossParts {
        let v = stacked.into_data().try_into_vec::<f32>().expect("f32 loss parts");
        let [policy, value, entropy, approx_kl, clipfrac, kl_bottleneck, l2, total] =
            v[..].try_into().expect("eight loss parts");
        let f = f64::from;
        LossParts {
            policy: f(policy),
            value: f(value),
            entropy: f(entropy),
            approx_kl: f(approx_kl),
            clipfrac: f(clipfrac),
            kl_bottleneck: f(kl_bottleneck),
            l2: f(l2),
            total: f(total),
        }
    }
}

/// A minibatch's loss: the scalar to differentiate and its parts.
pub(crate) struct MinibatchLoss {
    /// `[1]`, with its autodiff graph.
    pub total: Tensor<1>,
    /// Its parts, read from the device.
    pub parts: LossParts,
}

/// The policy terms of one pass.
struct PassTerms {
    surrogate: Surrogate,
    entropy: Tensor<1>,
    /// Mean bottleneck KL, when the network has a bottleneck.
    kl: Option<Tensor<1>>,
}

/// The PPO(+SNI) loss of `batch` under `model` with clip range `clip`; `rng` draws the noisy
/// pass's noise.
pub(crate) fn loss<R: Rng + ?Sized>(
    model: &ActorCritic,
    batch: &Batch,
    weights: &PassWeights,
    config: &AgentConfig,
    clip: f64,
    rng: &mut R,
) -> Result<MinibatchLoss, AgentError> {
    let ppo = &config.ppo;

    // 1. Forward passes: the noise-free one first, then the noisy one (which draws the noise).
    let needs_noise_free = weights.noise_free.is_some() || weights.critic == Noise::Off;
    let encode = |noise| model.encoder.forward(batch.obs.clone(), batch.boxes.as_deref(), noise);
    let features_off = needs_noise_free.then(|| encode(Noise::Off)).transpose()?;
    let features_on = match (weights.noisy, &features_off, model.encoder_is_noisy()) {
        (None, _, _) => None,
        (Some(_), Some(shared), false) => Some(shared.clone()),
        (Some(_), _, _) => Some(encode(Noise::On)?),
    };
    let noise_free = features_off.map(|f| model.head(f, Noise::Off, rng));
    let noisy = features_on.map(|f| model.head(f, Noise::On, rng));

    // 2. Each pass's policy terms, with its weight.
    let pass_terms = |out: &ModelOutput| {
        let lp = log_probs(out.logits.clone());
        let new_log_probs = action_log_prob(lp.clone(), batch.actions.clone());
        PassTerms {
            surrogate: clipped_surrogate(new_log_probs, batch.old_log_probs.clone(), batch.advantages.clone(), clip),
            entropy: entropy(lp),
            kl: out.kl.clone().map(|k| k.mean()),
        }
    };
    let passes: Vec<(PassTerms, f64)> = [(&noise_free, weights.noise_free), (&noisy, weights.noisy)]
        .into_iter()
        .filter_map(|(out, weight)| Some((pass_terms(out.as_ref()?), weight?)))
        .collect();
    let weighted = |term: &dyn Fn(&PassTerms) -> Tensor<1>| {
        passes.iter().map(|(t, w)| term(t).mul_scalar(*w)).reduce(|a, b| a + b).expect("at least one pass")
    };
    let policy = weighted(&|t| t.surrogate.loss.clone());
    let entropy = weighted(&|t| t.entropy.clone());
    let has_bottleneck = passes[0].0.kl.is_some();
    let kl = has_bottleneck.then(|| weighted(&|t| t.kl.clone().expect("a bottleneck in every pass")));
    let first = &passes[0].0.surrogate;

    // 3. The critic, on its pass.
    let critic = match weights.critic {
        Noise::Off => noise_free.as_ref(),
        Noise::On => noisy.as_ref(),
    }
    .expect("the critic's pass ran");
    let value = value_loss(
        critic.values.clone(),
        batch.old_values.clone(),
        batch.returns.clone(),
        ppo.clip_value.then_some(clip),
    );

    // 4. The total, with the bottleneck's KL and the weights' L2.
    let mut total = policy.clone() - entropy.clone().mul_scalar(ppo.ent_coef) + value.clone().mul_scalar(ppo.vf_coef);
    if let (Some(kl), Some(b)) = (&kl, &config.regularizers.bottleneck) {
        total = total + kl.clone().mul_scalar(b.beta);
    }
    let l2 = (config.regularizers.l2 > 0.0)
        .then(|| l2_penalty(model))
        .flatten()
        .map(|p| p.mul_scalar(config.regularizers.l2));
    if let Some(l2) = &l2 {
        total = total + l2.clone();
    }

    // 5. The parts, stacked and read from the device once.
    let zero = || Tensor::<1>::zeros([1], &total.device());
    let stacked = Tensor::cat(
        vec![
            policy,
            value,
            entropy,
            first.approx_kl.clone(),
            first.clipfrac.clone(),
            kl.unwrap_or_else(zero),
            l2.unwrap_or_else(zero),
            total.clone(),
        ],
        0,
    )
    .detach();
    Ok(MinibatchLoss { total, parts: LossParts::read(stacked) })
}
