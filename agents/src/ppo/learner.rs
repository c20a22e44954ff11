//! One PPO update with Selective Noise Injection, top to bottom.
//!
//! Under SNI with weight lambda the loss of a minibatch is
//! `lambda * G(noise-free pass) + (1 - lambda) * G(noisy pass) + vf_coef * V-loss(noise-free) + L2`
//! where `G = surrogate - ent_coef * entropy + beta * KL` of that pass and both surrogates take
//! their ratio against the rollout's (noise-free) log-probabilities. Without SNI there is one
//! (noisy) pass for everything. When the encoder injects no noise (no batch norm) the two
//! passes share one encoder pass.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::gae::gae;
use super::grad::clip_global_norm;
use super::loss::{action_log_prob, clipped_surrogate, entropy, log_probs, value_loss};
use super::stats::{UpdateStats, explained_variance};
use super::{PpoConfig, Rollout};
use crate::agent::Agent;
use crate::backend::train_device;
use crate::error::AgentError;
use crate::nn::{ActorCritic, ModelOutput};
use crate::reg::{augment::cutout, l2_penalty};
use crate::vision::LabelledBox;
use crate::{AgentConfig, Noise};

impl Agent {
    /// One PPO update on `rollout` (collected with [`Agent::act`] by the current weights).
    /// `progress` in [0, 1] is the fraction of the run done, for the learning-rate and clip
    /// annealing. On a NaN or infinite loss or gradient norm the update is rolled back (weights,
    /// optimizer and batch-norm statistics as before the call) and
    /// [`AgentError::NonFinite`] returned.
    pub fn update(&mut self, rollout: &Rollout, progress: f64) -> Result<UpdateStats, AgentError> {
        if !(0.0..=1.0).contains(&progress) {
            return Err(AgentError::Progress(progress));
        }
        rollout.validate(&self.obs, self.num_actions)?;
        self.model.encoder.check_boxes(rollout.boxes(), rollout.len())?;
        let ppo = &self.config.ppo;
        let (learning_rate, clip) = ppo.schedule(progress);

        // 1. Advantages and returns from the rollout's values.
        let (advantages, returns) = gae(
            &rollout.rewards,
            &rollout.values,
            &rollout.terminated,
            &rollout.next_values,
            ppo.gamma,
            ppo.gae_lambda,
        );

        // 2. Epochs of shuffled minibatches; a snapshot to roll back to.
        let snapshot = (self.model.valid(), self.optim.clone());
        let mut rng = update_rng(self.seed, self.updates);
        let mut order: Vec<usize> = (0..rollout.len()).collect();
        let mut sums = [0.0f64; STATS + 1];
        let mut count = 0.0;
        for epoch in 0..ppo.epochs {
            order.shuffle(&mut rng);
            for (minibatch, indices) in split(&order, ppo.minibatches).enumerate() {
                let batch = Batch::gather(rollout, indices, &advantages, &returns, self, &mut rng);
                // 3. Loss of the noise-free and/or noisy passes.
                let mix = Mix::new(&self.config, &self.model);
                let terms = match loss(&self.model, &batch, &mix, &self.config, clip, &mut rng) {
                    Ok(terms) => terms,
                    Err(e) => return Err(self.roll_back(snapshot, e)),
                };
                let stats = terms.stats.into_data().try_into_vec::<f32>().expect("f32 stats");
                if !stats[TOTAL].is_finite() {
                    return Err(self.roll_back(snapshot, AgentError::NonFinite { what: "loss", epoch, minibatch }));
                }
                // 4. Backward, global-norm clip, Adam step.
                let mut grads = GradientsParams::from_grads(terms.total.backward(), &self.model);
                let grad_norm = clip_global_norm(&self.model, &mut grads, ppo.max_grad_norm);
                if !grad_norm.is_finite() {
                    let error = AgentError::NonFinite { what: "gradient norm", epoch, minibatch };
                    return Err(self.roll_back(snapshot, error));
                }
                self.model = self.optim.step(learning_rate, self.model.clone(), grads);
                for (s, v) in sums.iter_mut().zip(stats.iter().map(|&v| v as f64).chain([grad_norm])) {
                    *s += v;
                }
                count += 1.0;
            }
        }
        self.updates += 1;
        let mean = |i: usize| sums[i] / count;
        Ok(UpdateStats {
            policy_loss: mean(POLICY),
            value_loss: mean(VALUE),
            entropy: mean(ENTROPY),
            approx_kl: mean(APPROX_KL),
            clipfrac: mean(CLIPFRAC),
            explained_variance: explained_variance(&rollout.values, &returns),
            kl_bottleneck: mean(KL),
            l2: mean(L2),
            grad_norm: mean(STATS),
            learning_rate,
            clip,
        })
    }

    /// Restores the snapshot taken before the update and passes on what failed.
    fn roll_back(
        &mut self,
        (model, optim): (ActorCritic, burn::optim::ModuleOptimizer),
        error: AgentError,
    ) -> AgentError {
        self.model = model.train();
        self.optim = optim;
        error
    }
}

/// The generator of update `index`: shuffles, masks, noise and cut-outs of that update.
fn update_rng(seed: u64, index: u64) -> StdRng {
    // SplitMix64 of (seed, index): distinct, well-mixed seeds for consecutive updates.
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// `order` cut into `parts` contiguous near-equal chunks (the first `len % parts` one longer).
fn split(order: &[usize], parts: usize) -> impl Iterator<Item = &[usize]> {
    let parts = parts.min(order.len());
    let (base, extra) = (order.len() / parts, order.len() % parts);
    (0..parts).map(move |p| {
        let start = p * base + p.min(extra);
        &order[start..start + base + usize::from(p < extra)]
    })
}

/// One minibatch on the training device.
pub(crate) struct Batch {
    /// `[b, c, h, w]` observations (cut-outs applied when configured).
    pub obs: Tensor<4>,
    /// The object boxes of each observation, when the rollout has them.
    pub boxes: Option<Vec<Vec<LabelledBox>>>,
    /// `[b, 1]` actions taken.
    pub actions: Tensor<2, Int>,
    /// `[b]` rollout-policy log-probabilities of the actions.
    pub old_log_probs: Tensor<1>,
    /// `[b]` rollout values.
    pub old_values: Tensor<1>,
    /// `[b]` advantages (normalised when configured).
    pub advantages: Tensor<1>,
    /// `[b]` returns.
    pub returns: Tensor<1>,
}

impl Batch {
    /// Gathers the samples `indices` of `rollout`.
    pub(crate) fn gather<R: Rng + ?Sized>(
        rollout: &Rollout,
        indices: &[usize],
        advantages: &[f32],
        returns: &[f32],
        agent: &Agent,
        rng: &mut R,
    ) -> Batch {
        let device = train_device();
        let obs_len = agent.obs.len();
        let mut obs = Vec::with_capacity(indices.len() * obs_len);
        for &i in indices {
            obs.extend_from_slice(&rollout.obs[i * obs_len..(i + 1) * obs_len]);
        }
        if agent.config.regularizers.augment {
            cutout(&mut obs, &agent.obs, rng);
        }
        let pick = |v: &[f32]| indices.iter().map(|&i| v[i]).collect::<Vec<f32>>();
        let mut adv = pick(advantages);
        if agent.config.ppo.normalize_advantages {
            normalize(&mut adv);
        }
        let actions: Vec<i64> = indices.iter().map(|&i| rollout.actions[i] as i64).collect();
        let b = indices.len();
        Batch {
            obs: agent.obs.to_tensor(&obs, &device),
            boxes: rollout.boxes().map(|boxes| indices.iter().map(|&i| boxes[i].clone()).collect()),
            actions: Tensor::from_data(TensorData::new(actions, [b, 1]), &device),
            old_log_probs: vector(pick(&rollout.log_probs), &device),
            old_values: vector(pick(&rollout.values), &device),
            advantages: vector(adv, &device),
            returns: vector(pick(returns), &device),
        }
    }
}

/// A `[len]` tensor.
fn vector(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// `(x - mean) / (std + 1e-8)` with the unbiased standard deviation (as CleanRL, per minibatch).
fn normalize(x: &mut [f32]) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let std = var.sqrt() + 1e-8;
    x.iter_mut().for_each(|v| *v = ((*v as f64 - mean) / std) as f32);
}

/// Which passes the loss runs and how it weighs them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Mix {
    /// Weight of the noise-free pass's policy terms, if that pass runs.
    pub noise_free: Option<f64>,
    /// Weight of the noisy pass's policy terms, if that pass runs.
    pub noisy: Option<f64>,
    /// The pass the critic (value loss) reads.
    pub critic: Noise,
}

impl Mix {
    /// SNI lambda: both passes weighted lambda and 1 - lambda, critic noise-free. No SNI: the
    /// noisy pass only. A network that injects no noise: one pass (both would be equal).
    pub(crate) fn new(config: &AgentConfig, model: &ActorCritic) -> Mix {
        match config.sni_lambda {
            Some(_) if !model.injects_noise() => Mix { noise_free: Some(1.0), noisy: None, critic: Noise::Off },
            Some(lambda) => Mix { noise_free: Some(lambda), noisy: Some(1.0 - lambda), critic: Noise::Off },
            None => Mix { noise_free: None, noisy: Some(1.0), critic: Noise::On },
        }
    }
}

/// Positions in [`LossTerms::stats`].
const POLICY: usize = 0;
const VALUE: usize = 1;
const ENTROPY: usize = 2;
const APPROX_KL: usize = 3;
const CLIPFRAC: usize = 4;
const KL: usize = 5;
const L2: usize = 6;
const TOTAL: usize = 7;
const STATS: usize = 8;

/// The loss of a minibatch and its parts.
pub(crate) struct LossTerms {
    /// The scalar to differentiate.
    pub total: Tensor<1>,
    /// `[STATS]` detached: policy, value, entropy, approx_kl, clipfrac, KL, L2, total.
    pub stats: Tensor<1>,
}

/// The PPO(+SNI) loss of `batch` under `model` with clip range `clip`.
pub(crate) fn loss<R: Rng + ?Sized>(
    model: &ActorCritic,
    batch: &Batch,
    mix: &Mix,
    config: &AgentConfig,
    clip: f64,
    rng: &mut R,
) -> Result<LossTerms, AgentError> {
    let ppo: &PpoConfig = &config.ppo;
    let beta = config.regularizers.bottleneck.as_ref().map_or(0.0, |b| b.beta);

    // Forward passes: the noise-free one first, then the noisy one (which draws the noise).
    let needs_off = mix.noise_free.is_some() || mix.critic == Noise::Off;
    let encode = |noise| model.encoder.forward(batch.obs.clone(), batch.boxes.as_deref(), noise);
    let features_off = needs_off.then(|| encode(Noise::Off)).transpose()?;
    let features_on = match (mix.noisy, &features_off, model.encoder_is_noisy()) {
        (None, _, _) => None,
        (Some(_), Some(f), false) => Some(f.clone()),
        (Some(_), _, _) => Some(encode(Noise::On)?),
    };
    let off = features_off.map(|f| model.head(f, Noise::Off, rng));
    let on = features_on.map(|f| model.head(f, Noise::On, rng));

    // Policy terms of each pass, weighted.
    let policy_terms = |out: &ModelOutput| {
        let lp = log_probs(out.logits.clone());
        let surrogate = clipped_surrogate(
            action_log_prob(lp.clone(), batch.actions.clone()),
            batch.old_log_probs.clone(),
            batch.advantages.clone(),
            clip,
        );
        let kl = out.kl.clone().map(|k| k.mean());
        (surrogate, entropy(lp), kl)
    };
    let mut weighted = Vec::new();
    for (out, weight) in [(&off, mix.noise_free), (&on, mix.noisy)] {
        if let (Some(out), Some(w)) = (out, weight) {
            weighted.push((policy_terms(out), w));
        }
    }
    let mix_of = |f: &dyn Fn(&PassTerms) -> Tensor<1>| {
        weighted.iter().map(|(terms, w)| f(terms).mul_scalar(*w)).reduce(|a, b| a + b).expect("at least one pass")
    };
    let policy = mix_of(&|(s, _, _)| s.loss.clone());
    let entropy_mix = mix_of(&|(_, h, _)| h.clone());
    let kl = weighted[0].0.2.as_ref().map(|_| mix_of(&|(_, _, k)| k.clone().expect("bottleneck in every pass")));
    let diagnostics = &weighted[0].0.0;

    // Critic.
    let critic = match mix.critic {
        Noise::Off => off.as_ref(),
        Noise::On => on.as_ref(),
    }
    .expect("the critic's pass ran");
    let value = value_loss(
        critic.values.clone(),
        batch.old_values.clone(),
        batch.returns.clone(),
        ppo.clip_value.then_some(clip),
    );

    let mut total =
        policy.clone() - entropy_mix.clone().mul_scalar(ppo.ent_coef) + value.clone().mul_scalar(ppo.vf_coef);
    if let Some(kl) = &kl {
        total = total + kl.clone().mul_scalar(beta);
    }
    let l2 = (config.regularizers.l2 > 0.0)
        .then(|| l2_penalty(model))
        .flatten()
        .map(|p| p.mul_scalar(config.regularizers.l2));
    if let Some(l2) = &l2 {
        total = total + l2.clone();
    }
    let zero = || Tensor::<1>::zeros([1], &total.device());
    let stats = Tensor::cat(
        vec![
            policy,
            value,
            entropy_mix,
            diagnostics.approx_kl.clone(),
            diagnostics.clipfrac.clone(),
            kl.unwrap_or_else(zero),
            l2.unwrap_or_else(zero),
            total.clone(),
        ],
        0,
    )
    .detach();
    Ok(LossTerms { total, stats })
}

/// Surrogate, entropy and mean KL of one pass.
type PassTerms = (super::loss::Surrogate, Tensor<1>, Option<Tensor<1>>);
