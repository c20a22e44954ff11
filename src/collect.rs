//! Collecting a rollout: `num_steps` batched steps of the behaviour policy in every env.

use std::time::{Duration, Instant};

use anyhow::Result;
use heldout_agents::{Agent, Observations, Rollout};
use heldout_envs::EpisodeRecord;
use rand::rngs::StdRng;

use crate::convert::labelled;
use crate::workers::WorkerPool;

/// A rollout, the episodes that ended during it, and where the time went.
pub struct Collected {
    /// The transitions, time-major.
    pub rollout: Rollout,
    /// Episodes that ended during the rollout.
    pub episodes: Vec<EpisodeRecord>,
    /// Time spent stepping envs (in the workers, seen from the caller).
    pub env_time: Duration,
    /// Time spent in policy inference.
    pub inference_time: Duration,
}

/// Runs the agent's behaviour policy (noise-free under SNI, noisy otherwise) for `num_steps`
/// steps in every env of `pool`; the rollout keeps each observation's object boxes. A truncated episode's last reward gets `gamma * V(final obs)`
/// added, so the learner can treat every episode end as terminal.
pub fn collect(
    agent: &Agent,
    pool: &mut WorkerPool,
    num_steps: usize,
    gamma: f64,
    rng: &mut StdRng,
) -> Result<Collected> {
    let n = pool.num_envs();
    let mut rollout = Rollout::with_capacity(num_steps, n, &agent.obs_format());
    let mut episodes = Vec::new();
    let (mut env_time, mut inference_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..num_steps {
        let t = Instant::now();
        let act = agent.act(pool.observations(), rng)?;
        inference_time += t.elapsed();

        let t = Instant::now();
        let step = pool.step(&act.actions)?;
        env_time += t.elapsed();

        let mut rewards = step.rewards;
        let truncated: Vec<usize> = (0..n).filter(|&i| step.truncated[i]).collect();
        if !truncated.is_empty() {
            let t = Instant::now();
            let final_obs: Vec<u8> = truncated
                .iter()
                .flat_map(|&i| step.final_obs[i].as_deref().expect("a truncated env has a final obs"))
                .copied()
                .collect();
            let final_boxes: Vec<_> = truncated.iter().map(|&i| labelled(&step.infos[i].objects)).collect();
            let values = agent.values(Observations::with_boxes(&final_obs, &final_boxes))?;
            inference_time += t.elapsed();
            for (&i, v) in truncated.iter().zip(values) {
                rewards[i] += (gamma * f64::from(v)) as f32;
            }
        }
        let ended: Vec<bool> = (0..n).map(|i| step.terminated[i] || step.truncated[i]).collect();
        let acted_on = pool.previous_observations();
        let acted_on = if agent.reads_boxes() { acted_on } else { Observations::from(acted_on.bytes) };
        rollout.push(acted_on, &act, &rewards, &ended);
        episodes.extend(step.episodes.into_iter().flatten());
    }
    let t = Instant::now();
    rollout.next_values = agent.values(pool.observations())?;
    inference_time += t.elapsed();
    Ok(Collected { rollout, episodes, env_time, inference_time })
}
