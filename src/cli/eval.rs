//! `heldout eval`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use heldout::checkpoint;
use heldout::config::RunConfig;
use heldout::evaluate::{evaluate, record_episode};
use heldout::paths::CONFIG_FILE;

/// Which levels to evaluate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Levels {
    /// The run's training levels.
    Train,
    /// Held-out levels, never seen in training.
    Test,
}

/// Arguments of `heldout eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory (its newest checkpoint) or a checkpoint directory.
    pub checkpoint: PathBuf,
    /// Evaluate on training or held-out levels.
    #[arg(long, value_enum, default_value_t = Levels::Test)]
    pub levels: Levels,
    /// Number of episodes.
    #[arg(long, default_value_t = 200)]
    pub episodes: usize,
    /// Seed of the levels drawn and the actions sampled.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Rollout worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Also write a GIF of one episode here.
    #[arg(long)]
    pub gif: Option<PathBuf>,
    /// Also measure the uncertainty of the policy with this many noisy passes per state, on
    /// `--episodes` episodes of training and of held-out levels (Feinman et al. 2017).
    #[arg(long, value_name = "PASSES")]
    pub uncertainty: Option<usize>,
    /// Where the uncertainty report goes (default: the run directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Most steps of the episode recorded as a GIF (CoinRun's time limit).
const GIF_MAX_STEPS: usize = 1000;
/// The GIF's speed.
const GIF_FRAMES_PER_SECOND: u32 = 15;

/// Runs `heldout eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    anyhow::ensure!(args.episodes > 0, "--episodes must be at least 1");
    let ckpt = checkpoint::resolve(&args.checkpoint)?;
    let run_dir = checkpoint::run_dir_of(&ckpt).context("a checkpoint lives in <run>/checkpoints/")?;
    let config = RunConfig::load(&run_dir.join(CONFIG_FILE))?;
    let (agent, state) = checkpoint::load(&ckpt)?;
    let (train_levels, test_levels) = config.level_sets();
    let levels = match args.levels {
        Levels::Train => train_levels,
        Levels::Test => test_levels,
    };
    let workers = if args.workers == 0 { config.worker_count() } else { args.workers };
    let report = evaluate(&agent, &config.env, levels, args.episodes, args.seed, workers)?;
    println!(
        "{} after {} frames, {} {:?} levels: return {:.3} ± {:.3}, success {:.3} ± {:.3} (95% intervals, {} episodes)",
        ckpt.display(),
        state.global_step,
        args.episodes,
        args.levels,
        report.episode_return.mean,
        report.episode_return.ci95,
        report.success.mean,
        report.success.ci95,
        report.episodes
    );
    if let Some(passes) = args.uncertainty {
        let out = args.out.clone().unwrap_or_else(|| run_dir.clone());
        let report = heldout::uncertainty::report(&agent, &config, passes, args.episodes, args.seed, workers, &out)?;
        print!("{report}");
    }
    if let Some(gif) = args.gif {
        let frames = record_episode(&agent, &config.env, levels, args.seed, GIF_MAX_STEPS)?;
        heldout::picture::save_gif(&frames, GIF_FRAMES_PER_SECOND, &gif)?;
        println!("wrote {} ({} frames)", gif.display(), frames.len());
    }
    Ok(())
}
