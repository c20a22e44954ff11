//! `heldout bench`: frames per second of the whole training loop, and where the time goes.

use anyhow::Result;
use clap::Args;

use heldout::config::{Preset, RunConfig};
use heldout::trainer::{TrainOptions, train};

/// Arguments of `heldout bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The configuration to time.
    #[arg(long, default_value_t = Preset::Multiroom)]
    pub preset: Preset,
    /// Updates to time (after one warm-up update).
    #[arg(long, default_value_t = 5)]
    pub updates: usize,
    /// Rollout worker threads (0 = one per core; 1 steps the envs on the loop's thread) [default:
    /// the preset's]
    #[arg(long)]
    pub workers: Option<usize>,
    /// Any config field, as for `heldout train`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// Runs `heldout bench`: trains for `updates` updates in a temporary directory (no evaluation)
/// and prints frames per second with the split between env stepping, inference and learning.
pub fn run(args: BenchArgs) -> Result<()> {
    anyhow::ensure!(args.updates > 0, "--updates must be at least 1");
    let mut overrides = vec!["eval.interval=0".to_string()];
    overrides.extend(args.workers.map(|w| format!("workers={w}")));
    overrides.extend(args.set.iter().cloned());
    let config = RunConfig::resolve(args.preset, None, &overrides)?;
    let dir = tempfile::tempdir()?;
    let warm_up = TrainOptions { resume: false, stop_after: Some(1), progress: false };
    train(&config, &dir.path().join("run"), &warm_up)?;
    let timed = TrainOptions { resume: true, stop_after: Some(1 + args.updates), progress: false };
    let t = train(&config, &dir.path().join("run"), &timed)?.timings;
    let pct = |d: std::time::Duration| 100.0 * d.as_secs_f64() / t.total.as_secs_f64();
    println!(
        "{}: {} envs x {} steps, {} workers, {} updates: {:.0} frames/s; env {:.1}%, inference {:.1}%, learning {:.1}%, other {:.1}% of {:.2} s",
        args.preset,
        config.num_envs,
        config.num_steps,
        config.worker_count(),
        args.updates,
        t.fps(),
        pct(t.env),
        pct(t.inference),
        pct(t.learn),
        pct(t.other),
        t.total.as_secs_f64()
    );
    Ok(())
}
