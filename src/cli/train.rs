//! `heldout train`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use heldout::config::{Preset, RunConfig};
use heldout::paths::{CONFIG_FILE, run_dir};
use heldout::trainer::{TrainOptions, train};

/// Arguments of `heldout train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Built-in configuration to start from.
    #[arg(long, default_value_t = Preset::Multiroom)]
    pub preset: Preset,
    /// A TOML file laid over the preset (any subset of the fields).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run name (the run directory is runs/NAME).
    #[arg(long)]
    pub name: Option<String>,
    /// Run directory, instead of runs/NAME.
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Seed of everything.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of training levels (0 = unbounded).
    #[arg(long)]
    pub train_levels: Option<u64>,
    /// Frames to train for.
    #[arg(long)]
    pub total_frames: Option<u64>,
    /// Rollout worker threads (0 = one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// SNI mixing weight lambda in [0, 1].
    #[arg(long)]
    pub sni_lambda: Option<f64>,
    /// Any config field: `--set agent.ppo.learning_rate=3e-4` or, when unique, `--set learning_rate=3e-4`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Continue the run in the run directory from its newest checkpoint.
    #[arg(long, conflicts_with = "resume_or_start")]
    pub resume: bool,
    /// Continue the run if the run directory holds one, else start it (what sweeps, studies
    /// and job arrays run, so that a rerun picks up where it stopped).
    #[arg(long)]
    pub resume_or_start: bool,
    /// Stop with a checkpoint after this many updates (resume later with --resume).
    #[arg(long, value_name = "UPDATES")]
    pub stop_after: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The named flags and `--set` pairs as `key=value` overrides, named flags first.
    pub fn overrides(&self) -> Vec<String> {
        let named = [
            ("name", self.name.as_ref().map(|n| format!("{n:?}"))),
            ("seed", self.seed.map(|v| v.to_string())),
            ("train_levels", self.train_levels.map(|v| v.to_string())),
            ("total_frames", self.total_frames.map(|v| v.to_string())),
            ("workers", self.workers.map(|v| v.to_string())),
            ("agent.sni_lambda", self.sni_lambda.map(|v| v.to_string())),
        ];
        named.into_iter().filter_map(|(k, v)| Some(format!("{k}={}", v?))).chain(self.set.iter().cloned()).collect()
    }

    /// The resolved config, the run directory, and whether the run resumes. A resumed run's
    /// saved config is the base, so it goes on with the settings it started with (plus any
    /// overrides, which must then agree with them). `--resume` with no run to resume is an
    /// error.
    pub fn resolve(&self) -> Result<(RunConfig, PathBuf, bool)> {
        let overrides = self.overrides();
        let config = RunConfig::resolve(self.preset, self.config.as_deref(), &overrides)?;
        let run_dir = self.run_dir.clone().unwrap_or_else(|| run_dir(&config.name));
        let saved = run_dir.join(CONFIG_FILE);
        if self.resume && !saved.exists() {
            bail!(
                "nothing to resume: {} holds no run ({} is missing); start it without --resume",
                run_dir.display(),
                saved.display()
            );
        }
        if (self.resume || self.resume_or_start) && saved.exists() {
            return Ok((RunConfig::resolve(self.preset, Some(&saved), &overrides)?, run_dir, true));
        }
        Ok((config, run_dir, false))
    }
}

/// Runs `heldout train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let (config, run_dir, resume) = args.resolve()?;
    let options = TrainOptions { resume, stop_after: args.stop_after, progress: !args.quiet };
    match train(&config, &run_dir, &options)?.result {
        Some(r) => println!(
            "{}: {} frames in {:.0} s; train success {:.3} ± {:.3}, test success {:.3} ± {:.3} (return {:.3} / {:.3})",
            run_dir.display(),
            r.frames,
            r.wall_seconds,
            r.train.success.mean,
            r.train.success.ci95,
            r.test.success.mean,
            r.test.success.ci95,
            r.train.episode_return.mean,
            r.test.episode_return.mean,
        ),
        None => println!("{}: stopped with a checkpoint; continue with --resume", run_dir.display()),
    }
    Ok(())
}
