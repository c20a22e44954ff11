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

/// Plays `episodes` episodes of the noise-free policy (actions sampled from it) on levels drawn
/// from `levels` with `seed`. Every env slot plays a fixed quota of episodes, so short episodes
/// are not over-counted.
pub fn evaluate(
    agent: &Agent,
    env: &EnvConfig,
    levels: LevelSet,
    episodes: usize,
    seed: u64,
    workers: usize,
) -> Result<EvalReport> {
    let num_envs = episodes.clamp(1, MAX_EVAL_ENVS);
    let mut pool = WorkerPool::new(env, levels, seed, num_envs, workers)?;
    let quota: Vec<usize> = (0..num_envs).map(|i| episodes / num_envs + usize::from(i < episodes % num_envs)).collect();
    let mut played = vec![0; num_envs];
    let (mut returns, mut successes, mut decisions) =
        (Vec::with_capacity(episodes), Vec::with_capacity(episodes), Vec::with_capacity(episodes));
    let mut rng = StdRng::seed_from_u64(seed);
    while played.iter().zip(&quota).any(|(p, q)| p < q) {
        let act = agent.act_with(pool.observations(), Noise::Off, &mut rng)?;
        let step = pool.step(&act.actions)?;
        for (i, ep) in step.episodes.iter().enumerate() {
            if let Some(ep) = ep.filter(|_| played[i] < quota[i]) {
                played[i] += 1;
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
