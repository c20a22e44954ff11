//! The agent: network, optimizer and configuration; acting ([`Agent::act`]) and learning
//! ([`Agent::update`], one PPO update read top to bottom, its loss in [`crate::ppo::sni`]).

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::Noise;
use crate::backend::{inference_device, train_device};
use crate::config::AgentConfig;
use crate::error::{AgentError, check_count};
use crate::fused::{Fused, FusedBatch, Isa};
use crate::init::Init;
use crate::nn::ActorCritic;
use crate::obs::{ObsFormat, Observations};
use crate::ppo::batch::{Batch, split};
use crate::ppo::gae::gae;
use crate::ppo::grad::clip_global_norm;
use crate::ppo::loss::log_probs;
use crate::ppo::sni::{LossParts, PassWeights, loss};
use crate::ppo::stats::explained_variance;
use crate::ppo::{Rollout, UpdateStats};
use crate::sample::categorical;

/// What the policy did for a batch of observations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActOutput {
    /// Sampled actions.
    pub actions: Vec<usize>,
    /// Log-probabilities of the sampled actions.
    pub log_probs: Vec<f32>,
    /// State values.
    pub values: Vec<f32>,
}

/// A PPO agent: its network on the training (autodiff) device, Adam's state, its configuration.
///
/// Determinism: the network is a function of the seed, and update `k` draws its shuffles,
/// dropout masks, bottleneck noise and cut-outs from a generator seeded with `(seed, k)`, so
/// two agents with the same seed fed the same rollouts hold bitwise-identical weights on the
/// CPU backends.
pub struct Agent {
    pub(crate) config: AgentConfig,
    pub(crate) obs: ObsFormat,
    pub(crate) num_actions: usize,
    pub(crate) seed: u64,
    pub(crate) updates: u64,
    pub(crate) model: ActorCritic,
    pub(crate) optim: ModuleOptimizer,
    /// The fused learner, when it covers the network: it then holds the parameters, batch-norm
    /// statistics and Adam's state; `model` keeps the weights the agent started from (new or
    /// loaded) and [`Agent::model`] writes the trained ones into a copy.
    pub(crate) fused: Option<Fused>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("config", &self.config)
            .field("obs", &self.obs)
            .field("num_actions", &self.num_actions)
            .field("seed", &self.seed)
            .field("updates", &self.updates)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// A fresh agent for observations of format `obs` and `num_actions` discrete actions; the
    /// weights are drawn from `seed`, except a vision encoder's backbone when its config names
    /// a `pretrained_backbone` file (read here; [`AgentError::PretrainedBackbone`] when it is
    /// missing or does not fit).
    pub fn new(config: &AgentConfig, obs: ObsFormat, num_actions: usize, seed: u64) -> Result<Agent, AgentError> {
        let mut agent = Agent::build(config, obs, num_actions, seed)?;
        agent.model.encoder = agent.model.encoder.with_pretrained(&config.encoder)?;
        if let Some(fused) = &mut agent.fused {
            fused.reload(&agent.model);
        }
        Ok(agent)
    }

    /// [`Agent::new`] without reading a pretrained backbone (a checkpoint holds every weight).
    pub(crate) fn build(
        config: &AgentConfig,
        obs: ObsFormat,
        num_actions: usize,
        seed: u64,
    ) -> Result<Agent, AgentError> {
        config.validate()?;
        obs.validate()?;
        config.encoder.validate(&obs)?;
        check_count("num_actions", num_actions, 1)?;
        let mut init = Init { device: train_device(), rng: StdRng::seed_from_u64(seed) };
        let model =
            ActorCritic::new(&config.encoder, &config.hidden, &config.regularizers, &obs, num_actions, &mut init)?;
        let fused = Fused::for_model(config, obs, num_actions, &model);
        Ok(Agent {
            config: config.clone(),
            obs,
            num_actions,
            seed,
            updates: 0,
            model,
            optim: Self::optimizer(config),
            fused,
        })
    }

    /// Adam with the configured epsilon (gradient clipping is done by the learner on the
    /// global norm, not by the optimizer per tensor).
    pub(crate) fn optimizer(config: &AgentConfig) -> ModuleOptimizer {
        AdamConfig::new().with_epsilon(config.ppo.adam_eps as f32).init()
    }

    /// The configuration.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The observation format.
    pub fn obs_format(&self) -> ObsFormat {
        self.obs
    }

    /// Number of actions.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }

    /// The seed the agent was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Updates applied so far.
    pub fn updates_done(&self) -> u64 {
        self.updates
    }

    /// The network with its trained weights (on the training device). The fused learner
    /// trains its own copy of the weights, written into the burn module here, not after each
    /// update: writing them makes new leaf tensors for burn's autodiff graph, which only a
    /// backward pass (none in the fused learner) would release.
    pub fn model(&self) -> ActorCritic {
        let mut model = self.model.clone();
        if let Some(fused) = &self.fused {
            fused.export(&mut model);
        }
        model
    }

    /// The instruction set of the fused learner's kernels, or `None` when burn's generic
    /// learner trains this network.
    pub fn fused_isa(&self) -> Option<Isa> {
        self.fused.as_ref().map(Fused::isa)
    }

    /// Whether the network reads each observation's object boxes (the vision encoder): a
    /// rollout then needs them, else it is better off without.
    pub fn reads_boxes(&self) -> bool {
        self.model.encoder.reads_boxes()
    }

    /// The noise mode of the behaviour policy that collects rollouts: [`Noise::Off`] (the
    /// noise-free policy) under SNI, [`Noise::On`] (the noisy policy) without SNI. Evaluation
    /// uses [`Noise::Off`] in both cases.
    pub fn rollout_noise(&self) -> Noise {
        if self.config.sni_lambda.is_some() { Noise::Off } else { Noise::On }
    }

    /// Samples actions for the observations `obs` (`n` HWC observations back to back: a byte
    /// slice, or [`Observations`] with their object boxes, which the vision encoder needs) with
    /// the rollout policy; log-probabilities and values are the rollout policy's. Sampling
    /// (and any dropout mask or bottleneck noise) uses `rng`, so equal generators give equal
    /// actions.
    pub fn act<'a, R: Rng + ?Sized>(
        &self,
        obs: impl Into<Observations<'a>>,
        rng: &mut R,
    ) -> Result<ActOutput, AgentError> {
        self.act_with(obs, self.rollout_noise(), rng)
    }

    /// [`Agent::act`] with an explicit noise mode (evaluation: [`Noise::Off`]). Runs on a
    /// non-autodiff copy of the network: batch-norm running statistics are not touched.
    pub fn act_with<'a, R: Rng + ?Sized>(
        &self,
        obs: impl Into<Observations<'a>>,
        noise: Noise,
        rng: &mut R,
    ) -> Result<ActOutput, AgentError> {
        let obs = obs.into();
        let n = self.obs.count(obs.bytes)?;
        let (lp, values) = self.policy(obs, noise, rng)?;
        let mut actions = Vec::with_capacity(n);
        let mut log_probs_out = Vec::with_capacity(n);
        for row in lp.chunks_exact(self.num_actions) {
            let a = categorical(row, rng);
            actions.push(a);
            log_probs_out.push(row[a]);
        }
        Ok(ActOutput { actions, log_probs: log_probs_out, values })
    }

    /// The action probabilities (`n * num_actions`, row by row) and values of the policy with
    /// noise mode `noise` for the observations `obs`, without sampling; any dropout mask or
    /// bottleneck noise comes from `rng`. Repeated with [`Noise::On`], it gives the spread of
    /// the noisy predictions (Feinman et al. 2017's uncertainty).
    pub fn probabilities<'a, R: Rng + ?Sized>(
        &self,
        obs: impl Into<Observations<'a>>,
        noise: Noise,
        rng: &mut R,
    ) -> Result<(Vec<f32>, Vec<f32>), AgentError> {
        let obs = obs.into();
        self.obs.count(obs.bytes)?;
        let (lp, values) = self.policy(obs, noise, rng)?;
        Ok((lp.into_iter().map(f32::exp).collect(), values))
    }

    /// Log-probabilities (`n * num_actions`, row by row) and values of `obs` (counted by the
    /// caller) under noise mode `noise`, from the fused learner's kernels or burn's graph-free
    /// forward pass.
    fn policy<R: Rng + ?Sized>(
        &self,
        obs: Observations<'_>,
        noise: Noise,
        rng: &mut R,
    ) -> Result<(Vec<f32>, Vec<f32>), AgentError> {
        if let Some(fused) = &self.fused {
            let pass = fused.forward(obs.bytes, noise, rng);
            return Ok((log_softmax_rows(&pass.logits, self.num_actions), pass.values));
        }
        let out =
            self.model.valid().forward(self.obs.to_tensor(obs.bytes, &inference_device()), obs.boxes, noise, rng)?;
        let lp = log_probs(out.logits).into_data().try_into_vec::<f32>().expect("f32 log-probabilities");
        Ok((lp, out.values.into_data().try_into_vec::<f32>().expect("f32 values")))
    }

    /// Whether the network injects noise (dropout, a bottleneck, batch norm): whether its noisy
    /// and noise-free passes differ.
    pub fn injects_noise(&self) -> bool {
        self.model.injects_noise()
    }

    /// Noise-free state values of `obs` (as for [`Agent::act`]), e.g. `V(final_obs)` for the
    /// truncation bootstrap.
    pub fn values<'a>(&self, obs: impl Into<Observations<'a>>) -> Result<Vec<f32>, AgentError> {
        let obs = obs.into();
        self.obs.count(obs.bytes)?;
        // Noise::Off draws no random numbers; the generator is never used.
        let mut unused = StdRng::seed_from_u64(0);
        if let Some(fused) = &self.fused {
            return Ok(fused.forward(obs.bytes, Noise::Off, &mut unused).values);
        }
        let x = self.obs.to_tensor(obs.bytes, &inference_device());
        let out = self.model.valid().forward(x, obs.boxes, Noise::Off, &mut unused)?;
        Ok(out.values.into_data().try_into_vec::<f32>().expect("f32 values"))
    }

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

        // 2. Epochs of shuffled minibatches, from a snapshot to roll back to.
        // The fused learner holds the weights it trains (the model is not touched), so its
        // snapshot leaves the model out.
        let snapshot = Snapshot {
            model: self.fused.is_none().then(|| self.model.valid()),
            optim: self.optim.clone(),
            fused: self.fused.clone(),
        };
        let weights = PassWeights::new(&self.config, &self.model);
        let mut rng = StdRng::seed_from_u64(heldout_seeds::update(self.seed, self.updates));
        let mut order: Vec<usize> = (0..rollout.len()).collect();
        let mut sums = StatSums::default();
        let (epochs, minibatches) = (ppo.epochs, ppo.minibatches);
        for epoch in 0..epochs {
            order.shuffle(&mut rng);
            for (minibatch, indices) in split(&order, minibatches).enumerate() {
                // 3-4. The loss of the noise-free and/or noisy passes, backward, global-norm
                // clip, Adam step: fused where the fused learner covers the network.
                let step = match &mut self.fused {
                    Some(fused) => {
                        let batch = FusedBatch { rollout, indices, advantages: &advantages, returns: &returns };
                        fused
                            .step(&batch, &weights, &self.config, clip, learning_rate, &mut rng)
                            .map_err(|what| AgentError::NonFinite { what, epoch, minibatch })
                    }
                    None => {
                        let batch = Batch::gather(rollout, indices, &advantages, &returns, self, &mut rng);
                        self.generic_step(&batch, &weights, clip, learning_rate, &mut rng, [epoch, minibatch])
                    }
                };
                match step {
                    Ok((parts, grad_norm)) => sums.add(&parts, grad_norm),
                    Err(e) => return Err(self.roll_back(snapshot, e)),
                }
            }
        }
        self.updates += 1;
        let mean = sums.mean();
        Ok(UpdateStats {
            policy_loss: mean.policy,
            value_loss: mean.value,
            entropy: mean.entropy,
            approx_kl: mean.approx_kl,
            clipfrac: mean.clipfrac,
            explained_variance: explained_variance(&rollout.values, &returns),
            kl_bottleneck: mean.kl_bottleneck,
            l2: mean.l2,
            grad_norm: sums.grad_norm / sums.count,
            learning_rate,
            clip,
        })
    }

    /// burn's generic minibatch step: the loss of `batch` in one autodiff graph, backward,
    /// global-norm clip, Adam. Returns the loss parts and the gradient norm before clipping.
    fn generic_step(
        &mut self,
        batch: &Batch,
        weights: &PassWeights,
        clip: f64,
        learning_rate: f64,
        rng: &mut StdRng,
        [epoch, minibatch]: [usize; 2],
    ) -> Result<(LossParts, f64), AgentError> {
        let loss = loss(&self.model, batch, weights, &self.config, clip, rng)?;
        if !loss.parts.total.is_finite() {
            return Err(AgentError::NonFinite { what: "loss", epoch, minibatch });
        }
        let mut grads = GradientsParams::from_grads(loss.total.backward(), &self.model);
        let grad_norm = clip_global_norm(&self.model, &mut grads, self.config.ppo.max_grad_norm);
        if !grad_norm.is_finite() {
            return Err(AgentError::NonFinite { what: "gradient norm", epoch, minibatch });
        }
        self.model = self.optim.step(learning_rate, self.model.clone(), grads);
        Ok((loss.parts, grad_norm))
    }

    /// Restores the snapshot taken before the update and passes on what failed.
    fn roll_back(&mut self, snapshot: Snapshot, error: AgentError) -> AgentError {
        if let Some(model) = snapshot.model {
            self.model = model.train();
        }
        self.optim = snapshot.optim;
        self.fused = snapshot.fused;
        error
    }
}

/// The learner's state before an update, to roll back to.
struct Snapshot {
    /// The model, when the generic learner trains it (the fused learner leaves it alone).
    model: Option<ActorCritic>,
    optim: ModuleOptimizer,
    fused: Option<Fused>,
}

/// Row-by-row log-softmax (`[n, actions]`) of `[actions, n]` logit rows.
fn log_softmax_rows(logits: &[f32], actions: usize) -> Vec<f32> {
    let n = logits.len() / actions;
    let mut out = vec![0.0f32; logits.len()];
    for i in 0..n {
        let row = &mut out[i * actions..(i + 1) * actions];
        for (a, v) in row.iter_mut().enumerate() {
            *v = logits[a * n + i];
        }
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + row.iter().map(|&z| (z - max).exp()).sum::<f32>().ln();
        row.iter_mut().for_each(|v| *v -= lse);
    }
    out
}

/// Sums of the minibatches' loss parts and gradient norms over one update.
#[derive(Debug, Default)]
struct StatSums {
    parts: LossParts,
    grad_norm: f64,
    count: f64,
}

impl StatSums {
    fn add(&mut self, parts: &LossParts, grad_norm: f64) {
        self.parts.add(parts);
        self.grad_norm += grad_norm;
        self.count += 1.0;
    }

    /// The mean of each part.
    fn mean(&self) -> LossParts {
        self.parts.scaled(1.0 / self.count)
    }
}
