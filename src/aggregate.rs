//! Aggregate statistics for few-seed RL results, after Agarwal et al. 2021, "Deep reinforcement
//! learning at the edge of the statistical precipice" (the `rliable` library).
//!
//! A method's results are [`Scores`]: for each *task* (a setting pooled into the aggregate, e.g. a
//! number of training levels) the final score of each *run* (seed), e.g. held-out success.
//!
//! - [`iqm`]: interquartile mean of all runs pooled over tasks (rliable's `aggregate_iqm`,
//!   `scipy.stats.trim_mean(scores, 0.25, axis=None)`); [`mean`]: mean of per-task means.
//! - [`bootstrap_ci`]: stratified percentile bootstrap interval of any aggregate: runs are resampled
//!   with replacement within each task.
//! - [`probability_of_improvement`]: P(X > Y), the Mann-Whitney statistic per task (ties count one
//!   half) averaged over tasks, with its interval from [`probability_of_improvement_ci`].
//!
//! Everything is deterministic: the bootstrap draws from `StdRng::seed_from_u64(seed)`.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Number of bootstrap resamples rliable uses by default.
pub const DEFAULT_RESAMPLES: usize = 2000;

/// Coverage of the intervals returned by [`bootstrap_ci`] and [`probability_of_improvement_ci`]:
/// they span the 2.5th to the 97.5th percentile of the resampled aggregates.
pub const CONFIDENCE: f64 = 0.95;

/// Why an aggregate could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AggregateError {
    /// The scores hold no task at all.
    #[error("no tasks: scores must hold at least one task")]
    NoTasks,
    /// A task holds no run.
    #[error("task {task} has no runs: every task needs at least one run")]
    EmptyTask {
        /// Index of the empty task.
        task: usize,
    },
    /// A score is NaN or infinite.
    #[error("score of run {run} in task {task} is {value}, not a finite number")]
    NonFinite {
        /// Index of the task.
        task: usize,
        /// Index of the run within the task.
        run: usize,
        /// The offending value.
        value: f64,
    },
    /// Two methods being compared do not have the same number of tasks.
    #[error("task counts differ: X has {x} tasks, Y has {y}; compare methods on the same tasks")]
    TaskCountMismatch {
        /// Number of tasks of X.
        x: usize,
        /// Number of tasks of Y.
        y: usize,
    },
    /// The bootstrap was asked for zero resamples.
    #[error("the bootstrap needs at least one resample")]
    NoResamples,
    /// The statistic being bootstrapped returned NaN or an infinity.
    #[error("the bootstrapped statistic returned {value}, not a finite number")]
    NonFiniteStatistic {
        /// The offending value.
        value: f64,
    },
}

/// Scores of one method: `tasks[t]` holds the final scores of the runs (seeds) of task `t`.
///
/// Tasks may have different numbers of runs. Every function here first checks the scores with
/// [`Scores::validate`].
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    /// `tasks[t][r]`: final score of run `r` of task `t`.
    pub tasks: Vec<Vec<f64>>,
}

impl Scores {
    /// Scores from per-task run scores (not yet validated).
    pub fn new(tasks: Vec<Vec<f64>>) -> Scores {
        Scores { tasks }
    }

    /// Checks that there is at least one task, every task has at least one run, and every score is
    /// finite.
    pub fn validate(&self) -> Result<(), AggregateError> {
        if self.tasks.is_empty() {
            return Err(AggregateError::NoTasks);
        }
        for (task, runs) in self.tasks.iter().enumerate() {
            if runs.is_empty() {
                return Err(AggregateError::EmptyTask { task });
            }
            if let Some((run, &value)) = runs.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(AggregateError::NonFinite { task, run, value });
            }
        }
        Ok(())
    }

    /// Total number of runs over all tasks.
    pub fn num_runs(&self) -> usize {
        self.tasks.iter().map(Vec::len).sum()
    }
}

/// A point estimate with its 95% bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    /// The statistic on the original scores.
    pub point: f64,
    /// 2.5th percentile of the resampled statistic.
    pub low: f64,
    /// 97.5th percentile of the resampled statistic.
    pub high: f64,
}

/// Mean of the per-task mean scores (rliable's `aggregate_mean`: `np.mean(np.mean(scores, axis=0))`),
/// so every task weighs the same whatever its number of runs; with equal run counts this is the
/// mean of all scores.
pub fn mean(scores: &Scores) -> Result<f64, AggregateError> {
    scores.validate()?;
    Ok(mean_unchecked(scores))
}

fn mean_unchecked(scores: &Scores) -> f64 {
    let sum: f64 = scores.tasks.iter().map(|runs| runs.iter().sum::<f64>() / runs.len() as f64).sum();
    sum / scores.tasks.len() as f64
}

/// Interquartile mean: [`trim_mean`] with proportion 0.25 of all runs' scores pooled over tasks
/// (rliable's `aggregate_iqm`).
pub fn iqm(scores: &Scores) -> Result<f64, AggregateError> {
    scores.validate()?;
    let pooled: Vec<f64> = scores.tasks.iter().flatten().copied().collect();
    Ok(trim_mean(&pooled, 0.25))
}

/// Trimmed mean exactly as `scipy.stats.trim_mean(values, proportion)`: sort, cut
/// `floor(proportion * n)` values from each end, and average the rest. So for proportion 0.25,
/// n = 3 cuts nothing, n = 4 and n = 5 cut one value from each end, n = 8 cuts two.
///
/// Returns NaN when nothing is left to average (an empty slice, or a proportion of 0.5 or more
/// that cuts everything) or when `proportion` is NaN; a negative proportion cuts nothing. NaN
/// values sort above every number (`f64::total_cmp`).
pub fn trim_mean(values: &[f64], proportion: f64) -> f64 {
    if proportion.is_nan() {
        return f64::NAN;
    }
    let n = values.len();
    // `as usize` truncates toward zero and saturates, like `int()` for the non-negative cases.
    let cut = (proportion.max(0.0) * n as f64) as usize;
    if 2 * cut.min(n) >= n {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let kept = &sorted[cut..n - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Percentile `q` (in [0, 1]) of already sorted (ascending) values, with numpy's default linear
/// interpolation: for length m the position is h = (m - 1) q and the result is
/// `x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])`.
///
/// Returns NaN for an empty slice or a NaN `q`; `q` outside [0, 1] is clamped.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let below = h.floor() as usize;
    let frac = h - below as f64;
    match sorted.get(below + 1) {
        Some(&above) if frac > 0.0 => sorted[below] + frac * (above - sorted[below]),
        _ => sorted[below],
    }
}

/// Low and high ends of the [`CONFIDENCE`] interval from the resampled statistics.
fn percentile_interval(point: f64, mut resampled: Vec<f64>) -> Result<Interval, AggregateError> {
    if let Some(&value) = resampled.iter().find(|v| !v.is_finite()) {
        return Err(AggregateError::NonFiniteStatistic { value });
    }
    resampled.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Ok(Interval { point, low: percentile(&resampled, tail), high: percentile(&resampled, 1.0 - tail) })
}

/// Refills `out` (shaped like `scores`) with runs drawn with replacement within each task: task
/// by task, run by run, `out.tasks[t][i] = scores.tasks[t][rng.random_range(0..n_t)]`.
fn resample_into(scores: &Scores, out: &mut Scores, rng: &mut StdRng) {
    for (runs, drawn) in scores.tasks.iter().zip(out.tasks.iter_mut()) {
        for slot in drawn.iter_mut() {
            *slot = runs[rng.random_range(0..runs.len())];
        }
    }
}

/// Stratified percentile bootstrap of `statistic` (e.g. [`iqm`] or [`mean`]).
///
/// `point` is the statistic on `scores`. Each of the `resamples` rounds replaces, within every
/// task, its runs by as many runs drawn from it with replacement (indices from
/// `StdRng::seed_from_u64(seed)`, task by task, run by run) and recomputes the statistic; `low` and
/// `high` are the 2.5th and 97.5th [`percentile`]s of these values. The same seed gives the same
/// interval.
pub fn bootstrap_ci(
    scores: &Scores,
    statistic: impl Fn(&Scores) -> Result<f64, AggregateError>,
    resamples: usize,
    seed: u64,
) -> Result<Interval, AggregateError> {
    scores.validate()?;
    if resamples == 0 {
        return Err(AggregateError::NoResamples);
    }
    let point = statistic(scores)?;
    if !point.is_finite() {
        return Err(AggregateError::NonFiniteStatistic { value: point });
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut drawn = scores.clone();
    let mut values = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        resample_into(scores, &mut drawn, &mut rng);
        values.push(statistic(&drawn)?);
    }
    percentile_interval(point, values)
}

/// Probability of improvement P(X > Y): for each task, the fraction of (run of X, run of Y) pairs
/// in which X's score is higher, ties counting one half (the Mann-Whitney U statistic over
/// n_x n_y); then the mean over tasks. Task `t` of `x` is compared with task `t` of `y`.
pub fn probability_of_improvement(x: &Scores, y: &Scores) -> Result<f64, AggregateError> {
    check_pair(x, y)?;
    Ok(poi_unchecked(x, y))
}

fn check_pair(x: &Scores, y: &Scores) -> Result<(), AggregateError> {
    x.validate()?;
    y.validate()?;
    if x.tasks.len() != y.tasks.len() {
        return Err(AggregateError::TaskCountMismatch { x: x.tasks.len(), y: y.tasks.len() });
    }
    Ok(())
}

fn poi_unchecked(x: &Scores, y: &Scores) -> f64 {
    let per_task = x.tasks.iter().zip(&y.tasks).map(|(xs, ys)| {
        let wins: f64 = xs
            .iter()
            .map(|&a| {
                ys.iter()
                    .map(|&b| match a.partial_cmp(&b) {
                        Some(std::cmp::Ordering::Greater) => 1.0,
                        Some(std::cmp::Ordering::Equal) => 0.5,
                        _ => 0.0,
                    })
                    .sum::<f64>()
            })
            .sum();
        wins / (xs.len() * ys.len()) as f64
    });
    per_task.sum::<f64>() / x.tasks.len() as f64
}

/// [`probability_of_improvement`] with its stratified bootstrap interval: each round resamples
/// X's runs and, independently, Y's runs with replacement within each task (all of X's tasks
/// first, then all of Y's, from one `StdRng::seed_from_u64(seed)`), as in [`bootstrap_ci`].
pub fn probability_of_improvement_ci(
    x: &Scores,
    y: &Scores,
    resamples: usize,
    seed: u64,
) -> Result<Interval, AggregateError> {
    check_pair(x, y)?;
    if resamples == 0 {
        return Err(AggregateError::NoResamples);
    }
    let point = poi_unchecked(x, y);
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut drawn_x, mut drawn_y) = (x.clone(), y.clone());
    let mut values = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        resample_into(x, &mut drawn_x, &mut rng);
        resample_into(y, &mut drawn_y, &mut rng);
        values.push(poi_unchecked(&drawn_x, &drawn_y));
    }
    percentile_interval(point, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    fn one_task(runs: &[f64]) -> Scores {
        Scores::new(vec![runs.to_vec()])
    }

    #[test]
    fn trim_mean_cuts_floor_quarter_from_each_end() {
        // n = 3: floor(0.75) = 0 cut, mean of all: (1 + 2 + 100) / 3.
        assert!(close(trim_mean(&[100.0, 1.0, 2.0], 0.25), 103.0 / 3.0));
        // n = 4: sorted 1 2 3 4, cut 1 each end -> (2 + 3) / 2 = 2.5.
        assert!(close(trim_mean(&[4.0, 1.0, 3.0, 2.0], 0.25), 2.5));
        // n = 5: sorted 1 2 3 10 100, floor(1.25) = 1 cut -> (2 + 3 + 10) / 3 = 5.
        assert!(close(trim_mean(&[10.0, 1.0, 2.0, 3.0, 100.0], 0.25), 5.0));
        // n = 8: sorted -10 0 0 1 2 3 50 60, cut 2 each end -> (0 + 1 + 2 + 3) / 4 = 1.5.
        assert!(close(trim_mean(&[0.0, 0.0, 1.0, 2.0, 3.0, 50.0, 60.0, -10.0], 0.25), 1.5));
        // n = 10: floor(2.5) = 2 cut: 0 0 | 0 1 2 4 8 16 | 32 64 -> 31 / 6 (cutting 3 would give 3.75).
        let ten = [64.0, 0.0, 32.0, 0.0, 1.0, 16.0, 2.0, 0.0, 8.0, 4.0];
        assert!(close(trim_mean(&ten, 0.25), 31.0 / 6.0));
        // Nothing left to average.
        assert!(trim_mean(&[], 0.25).is_nan());
        assert!(trim_mean(&[1.0, 2.0], 0.5).is_nan());
        // Proportion 0: plain mean.
        assert!(close(trim_mean(&[1.0, 2.0, 6.0], 0.0), 3.0));
    }

    #[test]
    fn iqm_pools_runs_over_tasks() {
        // Pooled: 1 2 3 4 100, n = 5 cuts 1 each end -> (2 + 3 + 4) / 3 = 3.
        // (Averaging per-task IQMs instead would give (1.5 + 107/3) / 2.)
        let scores = Scores::new(vec![vec![2.0, 1.0], vec![100.0, 3.0, 4.0]]);
        assert!(close(iqm(&scores).unwrap(), 3.0));
        // Same pooled values, one task, n = 10 as above.
        assert!(close(iqm(&one_task(&[64.0, 0.0, 32.0, 0.0, 1.0, 16.0, 2.0, 0.0, 8.0, 4.0])).unwrap(), 31.0 / 6.0));
    }

    #[test]
    fn mean_averages_per_task_means() {
        // Task means 2 and 10 -> 6 (the pooled mean would be 16 / 4 = 4).
        let scores = Scores::new(vec![vec![1.0, 2.0, 3.0], vec![10.0]]);
        assert!(close(mean(&scores).unwrap(), 6.0));
    }

    #[test]
    fn percentile_interpolates_linearly() {
        let x = [1.0, 2.0, 4.0, 8.0];
        // h = 3 * 0.5 = 1.5 -> 2 + 0.5 * (4 - 2) = 3.
        assert!(close(percentile(&x, 0.5), 3.0));
        // h = 3 * 0.025 = 0.075 -> 1 + 0.075 * 1 = 1.075.
        assert!(close(percentile(&x, 0.025), 1.075));
        // h = 3 * 0.975 = 2.925 -> 4 + 0.925 * 4 = 7.7.
        assert!(close(percentile(&x, 0.975), 7.7));
        assert!(close(percentile(&x, 0.0), 1.0));
        assert!(close(percentile(&x, 1.0), 8.0));
        // h = 1 exactly -> x[1].
        assert!(close(percentile(&x, 1.0 / 3.0), 2.0));
        assert!(close(percentile(&[5.0], 0.3), 5.0));
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn probability_of_improvement_counts_ties_as_half() {
        // X = 1 2 3 vs Y = 2 2 0:
        // x=1: >0 only -> 1; x=2: ties with both 2s (0.5 + 0.5) and >0 -> 2; x=3: beats all -> 3.
        // 6 / 9 = 2/3.
        let x = one_task(&[1.0, 2.0, 3.0]);
        let y = one_task(&[2.0, 2.0, 0.0]);
        assert!(close(probability_of_improvement(&x, &y).unwrap(), 2.0 / 3.0));
        // Y over X: y=2 (twice): beats 1, ties 2 -> 1.5 each; y=0: 0. 3 / 9 = 1/3.
        assert!(close(probability_of_improvement(&y, &x).unwrap(), 1.0 / 3.0));
    }

    #[test]
    fn probability_of_improvement_averages_tasks() {
        // Task 0 as above: 2/3. Task 1: X = 5 vs Y = 1 5 -> (1 + 0.5) / 2 = 3/4.
        // Mean: (2/3 + 3/4) / 2 = 17/24.
        let x = Scores::new(vec![vec![1.0, 2.0, 3.0], vec![5.0]]);
        let y = Scores::new(vec![vec![2.0, 2.0, 0.0], vec![1.0, 5.0]]);
        assert!(close(probability_of_improvement(&x, &y).unwrap(), 17.0 / 24.0));
    }

    #[test]
    fn bootstrap_is_deterministic_and_covers_the_point() {
        let scores = Scores::new(vec![vec![0.1, 0.5, 0.9, 0.3, 0.7], vec![0.2, 0.4, 0.8]]);
        let a = bootstrap_ci(&scores, iqm, DEFAULT_RESAMPLES, 7).unwrap();
        let b = bootstrap_ci(&scores, iqm, DEFAULT_RESAMPLES, 7).unwrap();
        assert_eq!(a, b);
        // Pooled 0.1 0.2 0.3 0.4 0.5 0.7 0.8 0.9, n = 8 cuts 2 each end -> (0.3+0.4+0.5+0.7)/4 = 0.475.
        assert!(close(a.point, 0.475));
        assert!(a.low < a.point && a.point < a.high, "{a:?}");
    }

    #[test]
    fn bootstrap_of_constant_scores_is_degenerate() {
        let scores = Scores::new(vec![vec![0.25; 4], vec![0.25; 2]]);
        let ci = bootstrap_ci(&scores, mean, 500, 1).unwrap();
        assert_eq!(ci, Interval { point: 0.25, low: 0.25, high: 0.25 });
        // Tasks with one run each can only resample themselves.
        let single = Scores::new(vec![vec![0.1], vec![0.9]]);
        let ci = bootstrap_ci(&single, mean, 500, 1).unwrap();
        assert!(close(ci.low, 0.5) && close(ci.high, 0.5) && close(ci.point, 0.5));
    }

    #[test]
    fn bootstrap_width_matches_standard_error() {
        // Scores 0..99: sd = sqrt((100^2 - 1) / 12) ~ 28.87, standard error of the mean ~ 2.887,
        // so the 95% interval of the mean is about 49.5 -/+ 1.96 * 2.887 = 49.5 -/+ 5.66.
        let scores = one_task(&(0..100).map(f64::from).collect::<Vec<_>>());
        let ci = bootstrap_ci(&scores, mean, DEFAULT_RESAMPLES, 3).unwrap();
        assert!(close(ci.point, 49.5));
        let (below, above) = (ci.point - ci.low, ci.high - ci.point);
        assert!((4.8..6.5).contains(&below), "{ci:?}");
        assert!((4.8..6.5).contains(&above), "{ci:?}");
        // Another seed draws other resamples: same point, (slightly) different ends.
        let other = bootstrap_ci(&scores, mean, DEFAULT_RESAMPLES, 4).unwrap();
        assert_eq!(other.point, ci.point);
        assert_ne!((other.low, other.high), (ci.low, ci.high));
    }

    #[test]
    fn bootstrap_matches_naive_resampling() {
        // Re-do the resampling by hand with the same generator for 3 resamples.
        let tasks = vec![vec![1.0, 4.0, 9.0], vec![2.0, 3.0]];
        let scores = Scores::new(tasks.clone());
        let mut rng = StdRng::seed_from_u64(42);
        let mut values = Vec::new();
        for _ in 0..3 {
            let mut task_means = Vec::new();
            for runs in &tasks {
                let mut sum = 0.0;
                for _ in 0..runs.len() {
                    sum += runs[rng.random_range(0..runs.len())];
                }
                task_means.push(sum / runs.len() as f64);
            }
            values.push((task_means[0] + task_means[1]) / 2.0);
        }
        values.sort_by(f64::total_cmp);
        // m = 3: h = 2 * 0.025 = 0.05 and 2 * 0.975 = 1.95.
        let low = values[0] + 0.05 * (values[1] - values[0]);
        let high = values[1] + 0.95 * (values[2] - values[1]);
        let ci = bootstrap_ci(&scores, mean, 3, 42).unwrap();
        // Point: task means 14/3 and 2.5 -> (14/3 + 5/2) / 2 = 43/12.
        assert!(close(ci.point, 43.0 / 12.0));
        assert!(close(ci.low, low), "{ci:?} vs {low}");
        assert!(close(ci.high, high), "{ci:?} vs {high}");
    }

    #[test]
    fn poi_interval() {
        // X beats Y in every pair of every task: every resample gives 1.
        let x = Scores::new(vec![vec![5.0, 6.0], vec![3.0, 4.0, 5.0]]);
        let y = Scores::new(vec![vec![1.0, 2.0, 3.0], vec![0.0]]);
        let ci = probability_of_improvement_ci(&x, &y, 300, 0).unwrap();
        assert_eq!(ci, Interval { point: 1.0, low: 1.0, high: 1.0 });
        // All scores equal: every pair ties, 0.5 throughout.
        let same = Scores::new(vec![vec![0.3; 3]]);
        let ci = probability_of_improvement_ci(&same, &same, 300, 0).unwrap();
        assert_eq!(ci, Interval { point: 0.5, low: 0.5, high: 0.5 });
        // Overlapping scores: a real interval around the point, reproducible.
        let x = Scores::new(vec![vec![0.2, 0.5, 0.6, 0.9, 0.7]]);
        let y = Scores::new(vec![vec![0.1, 0.4, 0.3, 0.8, 0.5]]);
        let a = probability_of_improvement_ci(&x, &y, DEFAULT_RESAMPLES, 11).unwrap();
        assert_eq!(a, probability_of_improvement_ci(&x, &y, DEFAULT_RESAMPLES, 11).unwrap());
        // Pairs won: 0.2 > 0.1 (1); 0.5 > 0.1 0.4 0.3, ties 0.5 (3.5); 0.6 > 4 (4); 0.9 > 5 (5);
        // 0.7 > 4 (4). 17.5 / 25 = 0.7.
        assert!(close(a.point, 0.7));
        assert!(a.low < a.point && a.point < a.high, "{a:?}");
        assert!(a.low >= 0.0 && a.high <= 1.0);
        // Both sides are resampled: with one side constant, all the spread comes from the other.
        // Point: 0.5 beats 0.1 and 0.4, loses to 0.6 and 0.9 -> 2 / 4 = 0.5.
        let constant = one_task(&[0.5, 0.5, 0.5]);
        let spread = one_task(&[0.1, 0.4, 0.6, 0.9]);
        for (x, y) in [(&constant, &spread), (&spread, &constant)] {
            let ci = probability_of_improvement_ci(x, y, DEFAULT_RESAMPLES, 5).unwrap();
            assert!(close(ci.point, 0.5));
            assert!(ci.low < 0.5 && 0.5 < ci.high, "{ci:?}");
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(iqm(&Scores::new(vec![])), Err(AggregateError::NoTasks));
        assert_eq!(mean(&Scores::new(vec![vec![1.0], vec![]])), Err(AggregateError::EmptyTask { task: 1 }));
        let nan = Scores::new(vec![vec![1.0, f64::NAN]]);
        assert!(matches!(iqm(&nan), Err(AggregateError::NonFinite { task: 0, run: 1, .. })));
        assert!(matches!(bootstrap_ci(&nan, iqm, 10, 0), Err(AggregateError::NonFinite { .. })));
        let ok = one_task(&[1.0, 2.0]);
        let two = Scores::new(vec![vec![1.0], vec![2.0]]);
        assert_eq!(probability_of_improvement(&ok, &two), Err(AggregateError::TaskCountMismatch { x: 1, y: 2 }));
        assert_eq!(
            probability_of_improvement_ci(&ok, &two, 10, 0),
            Err(AggregateError::TaskCountMismatch { x: 1, y: 2 })
        );
        assert!(matches!(probability_of_improvement(&nan, &ok), Err(AggregateError::NonFinite { .. })));
        assert_eq!(bootstrap_ci(&ok, iqm, 0, 0), Err(AggregateError::NoResamples));
        assert_eq!(probability_of_improvement_ci(&ok, &ok, 0, 0), Err(AggregateError::NoResamples));
        assert!(matches!(bootstrap_ci(&ok, |_| Ok(f64::NAN), 10, 0), Err(AggregateError::NonFiniteStatistic { .. })));
        // Messages name the problem.
        assert_eq!(
            AggregateError::EmptyTask { task: 3 }.to_string(),
            "task 3 has no runs: every task needs at least one run"
        );
    }
}
