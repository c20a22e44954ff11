//! Uncertainty from the spread of noisy predictions (Feinman et al. 2017): over `T` passes
//! with the noise on, `U = (1/T) sum_i y_i . y_i - ybar . ybar` of the action probabilities
//! `y_i`, with `ybar` their mean; and the variance of the value estimates. The noise-free policy
//! acts; the noisy passes only measure. Per episode: the mean and the maximum of U over its
//! states. The AUROC says how well an episode's mean U predicts failing a held-out level.

mod report;

pub use report::report;

use anyhow::{Result, bail};
use heldout_agents::{Agent, Noise};
use heldout_envs::LevelSet;
use heldout_envs::registry::EnvConfig;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::aggregate::{Interval, percentile};
use crate::evaluate::EpisodeQuota;
use crate::workers::WorkerPool;

/// `U` of one state: `passes[i]` are the action probabilities of noisy pass `i`.
pub fn spread(passes: &[&[f32]]) -> f64 {
    let t = passes.len() as f64;
    let Some(first) = passes.first() else { return f64::NAN };
    let mut mean = vec![0.0f64; first.len()];
    let mut self_dot = 0.0;
    for y in passes {
        for (m, &v) in mean.iter_mut().zip(y.iter()) {
            *m += f64::from(v) / t;
        }
        self_dot += y.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / t;
    }
    // Rounding can leave a hair below zero when every pass agrees.
    (self_dot - mean.iter().map(|m| m * m).sum::<f64>()).max(0.0)
}

/// The variance over passes of a value estimate.
pub fn variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
}

/// The area under the ROC curve of `scores` as a predictor of `positive`: the probability that
/// a positive scores above a negative, ties counting one half (the Mann-Whitney statistic).
/// NaN when either class is empty.
pub fn auroc(scores: &[f64], positive: &[bool]) -> f64 {
    let pos: Vec<f64> = scores.iter().zip(positive).filter(|p| *p.1).map(|p| *p.0).collect();
    let neg: Vec<f64> = scores.iter().zip(positive).filter(|p| !*p.1).map(|p| *p.0).collect();
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let wins: f64 = pos
        .iter()
        .map(|&p| {
            neg.iter()
                .map(|&n| {
                    if p > n {
                        1.0
                    } else if p == n {
                        0.5
                    } else {
                        0.0
                    }
                })
                .sum::<f64>()
        })
        .sum();
    wins / (pos.len() * neg.len()) as f64
}

/// [`auroc`] with a percentile bootstrap interval over episodes (`resamples` rounds from
/// `seed`; rounds that draw one class only are skipped).
pub fn auroc_ci(scores: &[f64], positive: &[bool], resamples: usize, seed: u64) -> Interval {
    let point = auroc(scores, positive);
    let mut rng = StdRng::seed_from_u64(seed);
    let n = scores.len();
    let mut values: Vec<f64> = (0..resamples)
        .filter_map(|_| {
            let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
            let s: Vec<f64> = idx.iter().map(|&i| scores[i]).collect();
            let p: Vec<bool> = idx.iter().map(|&i| positive[i]).collect();
            Some(auroc(&s, &p)).filter(|a| a.is_finite())
        })
        .collect();
    values.sort_by(f64::total_cmp);
    Interval { point, low: percentile(&values, 0.025), high: percentile(&values, 0.975) }
}

/// One evaluated episode's uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeUncertainty {
    /// The level played.
    pub level_seed: u64,
    /// Whether it reached the goal.
    pub success: bool,
    /// Mean U over the episode's states.
    pub mean: f64,
    /// Largest U of its states.
    pub max: f64,
    /// Mean over its states of the value estimates' variance over passes.
    pub value_spread: f64,
    /// U at each of its states.
    pub states: Vec<f64>,
}

/// Plays `episodes` episodes of the noise-free policy on `levels` (as [`crate::evaluate::evaluate`], with
/// the same [`EpisodeQuota`]) and
/// measures U at every state with `passes` noisy passes. An agent without a noise source is an
/// error: its U would be 0 by construction, not a measurement.
pub fn measure(
    agent: &Agent,
    env: &EnvConfig,
    levels: LevelSet,
    episodes: usize,
    passes: usize,
    seed: u64,
    workers: usize,
) -> Result<Vec<EpisodeUncertainty>> {
    if !agent.injects_noise() {
        bail!(
            "this agent has no noise source (dropout, an information bottleneck or batch norm): its noisy \
             and noise-free passes are the same, so there is no uncertainty to measure"
        );
    }
    if passes == 0 {
        bail!("--uncertainty takes the number of noisy passes, at least 1");
    }
    let mut quota = EpisodeQuota::new(episodes);
    let num_envs = quota.num_envs();
    let mut pool = WorkerPool::new(env, levels, seed, num_envs, workers)?;
    let mut running: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); num_envs];
    let mut out = Vec::with_capacity(episodes);
    let mut act_rng = StdRng::seed_from_u64(seed);
    let mut noise_rng = StdRng::seed_from_u64(heldout_seeds::stream(seed, 1));
    let n_actions = agent.num_actions();
    while quota.unfinished() {
        let act = agent.act_with(pool.observations(), Noise::Off, &mut act_rng)?;
        let noisy: Vec<(Vec<f32>, Vec<f32>)> = (0..passes)
            .map(|_| agent.probabilities(pool.observations(), Noise::On, &mut noise_rng))
            .collect::<Result<_, _>>()?;
        for (i, (us, vs)) in running.iter_mut().enumerate() {
            let rows: Vec<&[f32]> = noisy.iter().map(|(p, _)| &p[i * n_actions..(i + 1) * n_actions]).collect();
            us.push(spread(&rows));
            vs.push(variance(&noisy.iter().map(|(_, v)| f64::from(v[i])).collect::<Vec<_>>()));
        }
        let step = pool.step(&act.actions)?;
        for (i, ep) in step.episodes.iter().enumerate() {
            let Some(ep) = ep else { continue };
            let (states, values) = std::mem::take(&mut running[i]);
            if quota.count(i) {
                let n = states.len() as f64;
                out.push(EpisodeUncertainty {
                    level_seed: ep.level_seed,
                    success: ep.success,
                    mean: states.iter().sum::<f64>() / n,
                    max: states.iter().copied().fold(0.0, f64::max),
                    value_spread: values.iter().sum::<f64>() / n,
                    states,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_matches_a_hand_computed_example() {
        // Two passes: y1 = (1, 0), y2 = (0, 1). (1/T) sum y.y = (1 + 1) / 2 = 1; ybar = (0.5,
        // 0.5), ybar.ybar = 0.5; U = 0.5.
        assert!((spread(&[&[1.0, 0.0], &[0.0, 1.0]]) - 0.5).abs() < 1e-12);
        // y1 = (0.5, 0.5), y2 = (0.7, 0.3): sum of squares 0.5 and 0.58 -> 0.54; ybar = (0.6,
        // 0.4) -> 0.52; U = 0.02.
        assert!((spread(&[&[0.5, 0.5], &[0.7, 0.3]]) - 0.02).abs() < 1e-7);
        // One pass has no spread; equal passes neither.
        assert_eq!(spread(&[&[0.2, 0.8]]), 0.0);
        assert_eq!(spread(&[&[0.2, 0.8], &[0.2, 0.8], &[0.2, 0.8]]), 0.0);
        assert_eq!(variance(&[1.0, 3.0]), 1.0);
    }

    #[test]
    fn auroc_counts_pairs_with_ties_as_halves() {
        // Positives 0.9, 0.5; negatives 0.5, 0.1: pairs (0.9 > 0.5), (0.9 > 0.1), (0.5 = 0.5: a
        // half), (0.5 > 0.1): 3.5 of 4.
        let scores = [0.9, 0.5, 0.5, 0.1];
        let positive = [true, true, false, false];
        assert_eq!(auroc(&scores, &positive), 0.875);
        assert_eq!(auroc(&[0.1, 0.9], &[true, false]), 0.0);
        assert!(auroc(&[0.1, 0.9], &[true, true]).is_nan());
        let ci = auroc_ci(&scores, &positive, 500, 3);
        assert_eq!(ci, auroc_ci(&scores, &positive, 500, 3), "the same seed, the same interval");
        assert!(ci.low <= 0.875 && 0.875 <= ci.high && ci.high <= 1.0, "{ci:?}");
    }
}
