//! The fused learner: the MultiRoom actor-critic's forward and backward passes, the PPO(+SNI)
//! loss, the global-norm clip and Adam, computed directly on flat `f32` buffers.
//!
//! burn's generic path builds an autodiff graph of some two hundred small tensor operations
//! per minibatch; on the MultiRoom net (a few kFLOP per sample) their dispatch and allocation
//! cost far more than the arithmetic. Here each layer is one kernel over `[rows, samples]`
//! buffers (the `plan` and `kernels` modules), the backward pass is written out by hand, and
//! inference runs without a graph. The numbers are those of the generic path up to float
//! rounding (tests compare them layer by layer, on whole updates and for every regularizer);
//! the generic path stays for every other network and for `learner = "generic"`.
//!
//! The kernels are compiled for AVX-512, AVX2 and the portable baseline and picked at run time
//! ([`Isa`]).

mod adam;
pub mod isa;
mod kernels;
mod loss;
pub(crate) mod math;
mod net;
mod params;
mod plan;
#[cfg(test)]
mod tests;

pub use isa::Isa;

use std::ops::Range;
use std::sync::Arc;

use rand::{Rng, RngExt};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use self::adam::{Adam, adam_step, clip_global_norm};
use self::loss::{PolicyTerms, Targets, policy_terms, value_terms};
use self::net::{
    EncoderPass, HeadGrads, HeadPass, Net, NoiseDraws, encode, encode_grad, head, head_grad, latent, latent_grad,
};
use self::params::{Layout, Running, Shapes};
use crate::config::AgentConfig;
use crate::nn::actor_critic::Latent;
use crate::nn::{ActorCritic, EncoderConfig};
use crate::obs::ObsFormat;
use crate::ppo::sni::{LossParts, PassWeights};
use crate::{Noise, Rollout};

/// Which learner trains the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Learner {
    /// The fused learner where it covers the network (the MultiRoom conv net without
    /// cut-outs), else the generic one.
    #[default]
    Auto,
    /// burn's autodiff graph, for every network.
    Generic,
}

/// Kernel size of the MultiRoom net's convolutions.
const KERNEL: usize = 2;

/// The fused learner's state: the network's geometry, its parameters (the source of truth while
/// it trains them; copied into the burn module after each update), batch-norm statistics and
/// Adam's moments.
#[derive(Debug, Clone)]
pub(crate) struct Fused {
    /// Shared by clones (the roll-back snapshot of every update): it never changes.
    net: Arc<Net>,
    isa: Isa,
    /// The trained tensors in the net's layout.
    pub(crate) params: Vec<f32>,
    /// Batch-norm running statistics.
    pub(crate) running: Vec<Running>,
    /// Adam's state.
    pub(crate) adam: Adam,
}

/// The rollout's samples of one minibatch, as the fused learner reads them.
pub(crate) struct FusedBatch<'a> {
    /// The rollout.
    pub rollout: &'a Rollout,
    /// The samples, in minibatch order.
    pub indices: &'a [usize],
    /// Advantages of every rollout sample.
    pub advantages: &'a [f32],
    /// Returns of every rollout sample.
    pub returns: &'a [f32],
}

impl Fused {
    /// The fused learner for `model` when `config` asks for it and it covers the network.
    pub(crate) fn for_model(
        config: &AgentConfig,
        obs: ObsFormat,
        num_actions: usize,
        model: &ActorCritic,
    ) -> Option<Fused> {
        let EncoderConfig::MultiRoom(encoder) = &config.encoder else { return None };
        if config.learner == Learner::Generic || config.regularizers.augment {
            return None;
        }
        // Batch norm over a last map of more than one cell (the 11x11 grid) is left to the
        // generic learner: there the two disagree by about 6e-4 (relative) from the last batch
        // norm's input gradient on, which is not understood yet; on the egocentric view (a
        // 1x1 last map) they agree to 1e-6.
        let last_map = encoder.out_features(&obs) / encoder.channels[2];
        if config.regularizers.batch_norm && last_map > 1 {
            return None;
        }
        let hidden = config.hidden.size;
        let bottleneck = match &model.latent {
            Latent::Dense(_) => None,
            Latent::Bottleneck(b) => Some(b.rho_shift as f32),
        };
        let shapes = Shapes {
            obs_channels: obs.channels,
            channels: encoder.channels,
            kernel: KERNEL,
            features: encoder.out_features(&obs),
            latent_out: if bottleneck.is_some() { 2 * hidden } else { hidden },
            hidden,
            actions: num_actions,
            batch_norm: config.regularizers.batch_norm,
        };
        let net = Net::new(obs, shapes, bottleneck, config.regularizers.dropout, config.hidden.activation);
        let (params, running) = params::import(model, &net.layout);
        let adam = Adam::new(net.layout.len);
        Some(Fused { net: Arc::new(net), isa: Isa::chosen(), params, running, adam })
    }

    /// The instruction set its kernels run with.
    pub(crate) fn isa(&self) -> Isa {
        self.isa
    }

    /// Runs the kernels compiled for `isa` from now on (`isa` must be supported by this CPU).
    #[cfg(test)]
    pub(crate) fn set_isa(&mut self, isa: Isa) {
        assert!(isa.is_supported(), "{isa} is not supported by this CPU");
        self.isa = isa;
    }

    /// The layout of [`Fused::params`].
    fn layout(&self) -> &Layout {
        &self.net.layout
    }

    /// Re-reads the parameters and statistics of `model` (after a checkpoint's weights were
    /// loaded into it).
    pub(crate) fn reload(&mut self, model: &ActorCritic) {
        (self.params, self.running) = params::import(model, &self.net.layout);
    }

    /// The optimizer file of a checkpoint.
    pub(crate) fn optimizer_bytes(&self) -> Vec<u8> {
        self.adam.to_bytes()
    }

    /// Reads an optimizer file: `Ok(false)` when it is burn's record (a checkpoint of the
    /// generic learner), `Err` when it is the fused learner's but does not fit the network.
    pub(crate) fn load_optimizer(&mut self, bytes: &[u8]) -> Result<bool, String> {
        match Adam::from_bytes(bytes, self.net.layout.len)? {
            Some(adam) => {
                self.adam = adam;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Writes the parameters and statistics into `model`.
    pub(crate) fn export(&self, model: &mut ActorCritic) {
        params::export(model, self.layout(), &self.params, &self.running);
    }

    /// The noise of one noisy head pass over `samples` samples, in the generic path's order:
    /// the bottleneck's normals, then the dropout factors, each sample by sample.
    fn draw<R: Rng + ?Sized>(&self, samples: usize, rng: &mut R) -> SampleDraws {
        let hidden = self.net.shapes.hidden;
        let mut draws = SampleDraws { hidden, ..SampleDraws::default() };
        if self.net.bottleneck.is_some() {
            draws.eps = math::standard_normals(rng, samples * hidden);
        }
        if self.net.dropout > 0.0 {
            let keep = 1.0 - self.net.dropout;
            let scale = (1.0 / keep) as f32;
            draws.mask = (0..samples * hidden).map(|_| if rng.random::<f64>() < keep { scale } else { 0.0 }).collect();
        }
        draws
    }

    /// Whether any layer injects noise.
    fn injects_noise(&self) -> bool {
        self.net.bottleneck.is_some() || self.net.dropout > 0.0 || self.net.shapes.batch_norm
    }

    /// The logits (`[actions, n]` rows) and values of the observations `bytes` under noise mode
    /// `noise` (noise drawn from `rng`). Without batch norm, whose noisy pass normalises with
    /// the whole batch's statistics, the samples go in blocks of [`FORWARD_BLOCK`] on as many
    /// threads as there are; each sample is computed exactly as in one pass over all of them.
    pub(crate) fn forward<R: Rng + ?Sized>(&self, bytes: &[u8], noise: Noise, rng: &mut R) -> Policy {
        let len = self.net.obs.len();
        let n = bytes.len() / len;
        let draws = (noise == Noise::On && self.injects_noise()).then(|| self.draw(n, rng));
        let block = |range: Range<usize>| {
            let draws = draws.as_ref().map_or_else(NoiseDraws::default, |d| d.rows(range.clone()));
            self.forward_block(&bytes[range.start * len..range.end * len], noise, draws)
        };
        if self.net.shapes.batch_norm || n <= FORWARD_BLOCK {
            let pass = block(0..n);
            return Policy { logits: pass.logits, values: pass.values };
        }
        let ranges: Vec<Range<usize>> = (0..n).step_by(FORWARD_BLOCK).map(|s| s..(s + FORWARD_BLOCK).min(n)).collect();
        let passes: Vec<HeadPass> = ranges.par_iter().map(|r| block(r.clone())).collect();
        let actions = self.net.shapes.actions;
        let mut policy = Policy { logits: vec![0.0; actions * n], values: Vec::with_capacity(n) };
        for (range, pass) in ranges.iter().zip(&passes) {
            let m = range.len();
            for a in 0..actions {
                policy.logits[a * n + range.start..][..m].copy_from_slice(&pass.logits[a * m..][..m]);
            }
            policy.values.extend_from_slice(&pass.values);
        }
        policy
    }

    /// [`Fused::forward`] of one block of samples with its noise.
    fn forward_block(&self, bytes: &[u8], noise: Noise, draws: NoiseDraws) -> HeadPass {
        let (x, lanes) = self.net.input(bytes, None);
        // A noisy pass normalises with the batch's statistics; its update of the running
        // statistics is dropped (only training passes move them).
        let mut running = self.running.clone();
        let encoder = encode(self.isa, &self.net, &self.params, &mut running, &x, lanes, noise);
        let latent = latent(self.isa, &self.net, &self.params, encoder.features(), lanes, noise == Noise::On);
        head(self.isa, &self.net, &self.params, latent, lanes, draws)
    }

    /// One minibatch step: the loss of `batch` under `weights`, its gradient
    /// ([`Fused::gradients`]), the global-norm clip and Adam's step with learning rate `lr`. Returns the loss parts and the gradient
    /// norm before clipping; a non-finite loss or norm is returned as an error before any
    /// parameter moves (`what` as [`crate::AgentError::NonFinite`] names it).
    pub(crate) fn step<R: Rng + ?Sized>(
        &mut self,
        batch: &FusedBatch,
        weights: &PassWeights,
        config: &AgentConfig,
        clip: f64,
        lr: f64,
        rng: &mut R,
    ) -> Result<(LossParts, f64), &'static str> {
        let (parts, mut grads) = self.gradients(batch, weights, config, clip, rng)?;
        let norm = clip_global_norm(self.isa, &mut grads, config.ppo.max_grad_norm);
        if !norm.is_finite() {
            return Err("gradient norm");
        }
        adam_step(self.isa, &mut self.adam, &mut self.params, &grads, lr as f32, config.ppo.adam_eps as f32);
        Ok((parts, norm))
    }

    /// The loss parts of `batch` and the gradient of the loss in the layout of
    /// [`Fused::params`] (batch norm's running statistics move in noisy passes); `Err("loss")`
    /// when the loss is not finite.
    pub(crate) fn gradients<R: Rng + ?Sized>(
        &mut self,
        batch: &FusedBatch,
        weights: &PassWeights,
        config: &AgentConfig,
        clip: f64,
        rng: &mut R,
    ) -> Result<(LossParts, Vec<f32>), &'static str> {
        let ppo = &config.ppo;
        let n = batch.indices.len();
        let targets = targets(batch, ppo.normalize_advantages);
        let draws = weights.noisy.map(|_| self.draw(n, rng));
        let block = |fused: &Fused, running: &mut [Running], range: Range<usize>| {
            let samples = BlockSamples { batch, range, targets: &targets, draws: draws.as_ref() };
            fused.block(running, &samples, weights, config, clip)
        };
        // Blocks of BLOCK samples, on as many threads as there are; their sums are added in
        // block order, so the result does not depend on the number of threads. Batch norm
        // needs the whole minibatch's statistics: one block.
        let blocks: Vec<BlockSums> = if self.net.shapes.batch_norm {
            let mut running = std::mem::take(&mut self.running);
            let sums = block(self, &mut running, 0..n);
            self.running = running;
            vec![sums]
        } else {
            let ranges: Vec<Range<usize>> = (0..n).step_by(BLOCK).map(|s| s..(s + BLOCK).min(n)).collect();
            ranges.into_par_iter().map(|range| block(self, &mut [], range)).collect()
        };

        let mut grads = vec![0.0f32; self.layout().len];
        let mut sums = LossParts::default();
        for b in &blocks {
            grads.iter_mut().zip(&b.grads).for_each(|(g, d)| *g += d);
            sums.add(&b.sums);
        }
        let beta = config.regularizers.bottleneck.as_ref().map_or(0.0, |b| b.beta);
        let mut parts = sums.scaled(1.0 / n as f64);

        // The weights' L2, then the total.
        let l2 = config.regularizers.l2;
        if l2 > 0.0 {
            let mut squares = 0.0f64;
            for range in self.layout().penalized() {
                for (g, &w) in grads[range.clone()].iter_mut().zip(&self.params[range]) {
                    squares += (w as f64) * (w as f64);
                    *g += (l2 as f32) * w;
                }
            }
            parts.l2 = l2 * 0.5 * squares;
        }
        parts.total = parts.policy - ppo.ent_coef * parts.entropy
            + ppo.vf_coef * parts.value
            + beta * parts.kl_bottleneck
            + parts.l2;
        if !parts.total.is_finite() {
            return Err("loss");
        }
        Ok((parts, grads))
    }

    /// The loss sums and the gradient of one block of a minibatch (without L2).
    fn block(
        &self,
        running: &mut [Running],
        s: &BlockSamples,
        weights: &PassWeights,
        config: &AgentConfig,
        clip: f64,
    ) -> BlockSums {
        let ppo = &config.ppo;
        let isa = self.isa;
        let n = s.batch.indices.len();
        let (x, lanes) = self.net.input(&s.batch.rollout.obs, Some(&s.batch.indices[s.range.clone()]));
        let targets = s.targets.slice(s.range.clone());

        // 1. Forward passes: the noise-free one first, then the noisy one.
        let needs_noise_free = weights.noise_free.is_some() || weights.critic == Noise::Off;
        let enc_off = needs_noise_free.then(|| encode(isa, &self.net, &self.params, running, &x, lanes, Noise::Off));
        let enc_on = match (weights.noisy, &enc_off, self.net.shapes.batch_norm) {
            (None, _, _) => None,
            (Some(_), Some(_), false) => None, // shares the noise-free encoder pass
            (Some(_), _, _) => Some(encode(isa, &self.net, &self.params, running, &x, lanes, Noise::On)),
        };
        let shared = weights.noisy.is_some() && enc_on.is_none();
        // The latent layer once per encoder pass: the noisy head on the shared encoder pass
        // starts from the noise-free pass's latent values.
        let latent_of = |e: &EncoderPass| latent(isa, &self.net, &self.params, e.features(), lanes, true);
        let latent_off = enc_off.as_ref().map(latent_of);
        let latent_on = match (s.draws, &enc_on) {
            (None, _) => None,
            (Some(_), Some(e)) => Some(latent_of(e)),
            (Some(_), None) => latent_off.clone(),
        };
        let head_off = latent_off.map(|l| head(isa, &self.net, &self.params, l, lanes, NoiseDraws::default()));
        let head_on = s
            .draws
            .zip(latent_on)
            .map(|(draws, l)| head(isa, &self.net, &self.params, l, lanes, draws.rows(s.range.clone())));

        // 2. Each pass's policy terms with its weight, and their gradients.
        let actions = self.net.shapes.actions;
        let beta = config.regularizers.bottleneck.as_ref().map_or(0.0, |b| b.beta);
        let mut sums = LossParts::default();
        let mut first: Option<PolicyTerms> = None;
        let mut grads_of = |pass: &HeadPass, weight: f64| {
            let mut d = HeadGrads {
                logits: vec![0.0; actions * lanes],
                values: Vec::new(),
                kl: (beta * weight / n as f64) as f32,
            };
            let terms = policy_terms(
                isa,
                &pass.logits,
                &targets,
                clip as f32,
                weight as f32,
                ppo.ent_coef as f32,
                &mut d.logits,
                lanes,
                n,
            );
            sums.policy += weight * terms.surrogate;
            sums.entropy += weight * terms.entropy;
            sums.kl_bottleneck += weight * pass.kl.iter().map(|&k| k as f64).sum::<f64>();
            first.get_or_insert(terms);
            d
        };
        let mut d_off = head_off.as_ref().zip(weights.noise_free).map(|(p, w)| grads_of(p, w));
        let mut d_on = head_on.as_ref().zip(weights.noisy).map(|(p, w)| grads_of(p, w));
        let first = first.expect("at least one pass");
        sums.approx_kl = first.approx_kl;
        sums.clipfrac = first.clipped;

        // 3. The critic, on its pass.
        let (critic_pass, critic_grads) = match weights.critic {
            Noise::Off => (head_off.as_ref(), &mut d_off),
            Noise::On => (head_on.as_ref(), &mut d_on),
        };
        let critic_pass = critic_pass.expect("the critic's pass ran");
        let d_critic = critic_grads.get_or_insert_with(|| HeadGrads {
            logits: vec![0.0; actions * lanes],
            values: Vec::new(),
            kl: 0.0,
        });
        d_critic.values = vec![0.0; lanes];
        let value_clip = ppo.clip_value.then_some(clip as f32);
        sums.value =
            value_terms(isa, &critic_pass.values, &targets, value_clip, ppo.vf_coef as f32, &mut d_critic.values, n);

        // 4. Backward through the heads, the latent layer, then the encoder pass(es). Passes
        // on the same features (the noisy head on the shared noise-free encoder pass) add
        // their latent gradients and go through the latent layer and the encoder once.
        let mut grads = vec![0.0f32; self.layout().len];
        let d_latent_off = head_off
            .as_ref()
            .zip(d_off.as_ref())
            .map(|(p, d)| head_grad(isa, &self.net, &self.params, p, d, &mut grads, lanes));
        let d_latent_on = head_on
            .as_ref()
            .zip(d_on.as_ref())
            .map(|(p, d)| head_grad(isa, &self.net, &self.params, p, d, &mut grads, lanes));
        let back = |encoder: &EncoderPass, d_latent: &[f32], grads: &mut Vec<f32>| {
            let d_features = latent_grad(isa, &self.net, &self.params, encoder.features(), d_latent, grads, lanes);
            encode_grad(isa, &self.net, &self.params, &x, encoder, d_features, grads, lanes);
        };
        let d_latent_off = match (d_latent_off, d_latent_on) {
            (Some(mut off), Some(on)) if shared => {
                off.iter_mut().zip(&on).for_each(|(a, b)| *a += b);
                Some(off)
            }
            (None, Some(on)) if shared => Some(on),
            (off, on) => {
                if let (Some(e), Some(d)) = (&enc_on, on) {
                    back(e, &d, &mut grads);
                }
                off
            }
        };
        if let (Some(e), Some(d)) = (&enc_off, d_latent_off) {
            back(e, &d, &mut grads);
        }
        BlockSums { sums, grads }
    }
}

/// Samples per block of a minibatch: the buffers of a block stay in the core's caches.
const BLOCK: usize = 64;

/// Samples per thread task of [`Fused::forward`]: a multiple of the kernels' 16 lanes, so that
/// a block's samples take the same vector and remainder paths as in one pass over the batch.
const FORWARD_BLOCK: usize = 32;

/// The policy's outputs for a batch of observations.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Policy {
    /// `[actions, n]` logits.
    pub logits: Vec<f32>,
    /// `[n]` values.
    pub values: Vec<f32>,
}

/// The random numbers of a noisy pass over a minibatch, sample by sample (`[samples, hidden]`).
#[derive(Debug, Clone, Default)]
struct SampleDraws {
    hidden: usize,
    /// Standard normals (empty without a bottleneck).
    eps: Vec<f32>,
    /// Dropout factors (empty without dropout).
    mask: Vec<f32>,
}

impl SampleDraws {
    /// The draws of the samples `range`, unit by unit (`[hidden, samples]`).
    fn rows(&self, range: Range<usize>) -> NoiseDraws {
        let (hidden, lanes) = (self.hidden, range.len());
        let unit_major = |drawn: &[f32]| {
            if drawn.is_empty() {
                return Vec::new();
            }
            let mut rows = vec![0.0f32; hidden * lanes];
            for (lane, sample) in drawn[range.start * hidden..range.end * hidden].chunks_exact(hidden).enumerate() {
                for (unit, &v) in sample.iter().enumerate() {
                    rows[unit * lanes + lane] = v;
                }
            }
            rows
        };
        NoiseDraws { eps: unit_major(&self.eps), mask: unit_major(&self.mask) }
    }
}

/// One block of a minibatch and what every block shares.
struct BlockSamples<'a> {
    batch: &'a FusedBatch<'a>,
    range: Range<usize>,
    targets: &'a Targets,
    draws: Option<&'a SampleDraws>,
}

/// A block's loss terms summed over its samples (weighted by pass; `clipfrac` a count, no L2
/// or total yet), and its gradient.
#[derive(Debug, Default)]
struct BlockSums {
    sums: LossParts,
    grads: Vec<f32>,
}

/// The per-sample targets of a minibatch (advantages normalised when `normalize`).
fn targets(batch: &FusedBatch, normalize: bool) -> Targets {
    let (r, idx) = (batch.rollout, batch.indices);
    let pick = |v: &[f32]| idx.iter().map(|&i| v[i]).collect::<Vec<f32>>();
    let mut advantages = pick(batch.advantages);
    if normalize {
        crate::ppo::batch::normalize(&mut advantages);
    }
    Targets {
        actions: idx.iter().map(|&i| r.actions[i]).collect(),
        old_log_probs: pick(&r.log_probs),
        old_values: pick(&r.values),
        advantages,
        returns: pick(batch.returns),
    }
}
