//! Held-out evaluation: episodes of the noise-free policy on a level set.

use anyhow::Result;
use heldout_agents::{Agent, Noise, Observations};
use heldout_envs::registry::EnvConfig;
use heldout_envs::{Env, LevelSampler, LevelSet, RgbFrame};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::convert::labelled;
use crate::stats::Estimate;
use crate::workers::WorkerPool;

/// Parallel envs an evaluation uses at most.
const MAX_EVAL_ENVS: usize = 32;

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Episodes played.
    pub episodes: usize,
    /// Episode return.
    pub episode_return: Estimate,
    /// Fraction of episodes that completed their level.
    pub success: Estimate,
    /// Fraction of episodes that made the right decision: reached the goal of a positive
    /// level, or avoided that of a negated one ([`heldout_envs::label`]); equal to `success`
    /// without random labels.
    #[serde(default)]
    pub decision: Estimate,
}

/// How many episodes each env slot of an evaluation plays: `episodes` spread over at most
/// 32 slots, a fixed quota each, so that short episodes are not over-counted.
#[derive(Debug, Clone)]
pub struct EpisodeQuota {
    quota: Vec<usize>,
    played: Vec<usize>,
}

impl EpisodeQuota {
    /// The quotas of `episodes` episodes.
    pub fn new(episodes: usize) -> EpisodeQuota {
        let num_envs = episodes.clamp(1, MAX_EVAL_ENVS);
        let quota = (0..num_envs).map(|i| episodes / num_envs + usize::from(i < episodes % num_envs)).collect();
        EpisodeQuota { quota, played: vec![0; num_envs] }
    }

    /// The env slots to run.
    pub fn num_envs(&self) -> usize {
        self.quota.len()
    }

    /// Whether some slot still owes episodes.
    pub fn unfinished(&self) -> bool {
        self.played.iter().zip(&self.quota).any(|(p, q)| p < q)
    }

    /// Counts an episode of `slot` that just ended; false (not counted) once its quota is met.
    pub fn count(&mut self, slot: usize) -> bool {
        let counted = self.played[slot] < self.quota[slot];
        self.played[slot] += usize::from(counted);
        counted
    }
}

/// Plays `episodes` episodes of the noise-free policy (actions sampled from it) on levels drawn
/// from `levels` with `seed`, each env slot its [`EpisodeQuota`].
pub fn evaluate(
    agent: &Agent,
    env: &EnvConfig,
    levels: LevelSet,
    episodes: usize,
    seed: u64,
    workers: usize,
) -> Result<EvalReport> {
    let mut quota = EpisodeQuota::new(episodes);
    let mut pool = WorkerPool::new(env, levels, seed, quota.num_envs(), workers)?;
    let (mut returns, mut successes, mut decisions) =
        (Vec::with_capacity(episodes), Vec::with_capacity(episodes), Vec::with_capacity(episodes));
    let mut rng = StdRng::seed_from_u64(seed);
    while quota.unfinished() {
        let act = agent.act_with(pool.observations(), Noise::Off, &mut rng)?;
        let step = pool.step(&act.actions)?;
        for (i, ep) in step.episodes.iter().enumerate() {
            if let Some(ep) = ep.filter(|_| quota.count(i)) {
                returns.push(f64::from(ep.episode_return));
                successes.push(if ep.success { 1.0 } else { 0.0 });
                decisions.push(if ep.correct_decision { 1.0 } else { 0.0 });
            }
        }
    }
    Ok(EvalReport {
        episodes,
        episode_return: Estimate::of(&returns),
        success: Estimate::of(&successes),
        decision: Estimate::of(&decisions),
    })
}

/// The frames of one episode of the noise-free policy on one level drawn from `levels`, at
/// most `max_frames` of them (the first observation included).
pub fn record_episode(
    agent: &Agent,
    env: &EnvConfig,
    levels: LevelSet,
    seed: u64,
    max_frames: usize,
) -> Result<Vec<RgbFrame>> {
    let mut e = env.build()?;
    let level = LevelSampler::new(levels, seed, 0).sample();
    let (mut obs, mut info) = e.reset(level)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut frames = vec![e.render()];
    while frames.len() < max_frames {
        let boxes = [labelled(&info.objects)];
        let action = agent.act_with(Observations::with_boxes(&obs, &boxes), Noise::Off, &mut rng)?.actions[0];
        let step = e.step(action)?;
        frames.push(e.render());
        if step.terminated || step.truncated {
            break;
        }
        (obs, info) = (step.obs, step.info);
    }
    Ok(frames)
}
