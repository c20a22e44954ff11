//! The `heldout` command line: one module per subcommand; each parses, then validates.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod eval;
pub mod pretrain;
pub mod render;
pub mod slurm;
pub mod study;
pub mod sweep;
pub mod train;

/// Train RL agents that generalize to held-out levels.
#[derive(Debug, Parser)]
#[command(name = "heldout", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train an agent on N training levels, evaluating on held-out levels as it goes.
    Train(train::TrainArgs),
    /// Evaluate a checkpoint on training or held-out levels.
    Eval(eval::EvalArgs),
    /// Run a training for every combination of swept config values and seeds.
    Sweep(sweep::SweepArgs),
    /// Run a study file's comparison (arms x settings x seeds) and write its results.
    Study(study::StudyArgs),
    /// Draw a level's first frame (PNG) or an episode (GIF).
    Render(render::RenderArgs),
    /// Time the whole training loop: frames per second and where the time goes.
    Bench(bench::BenchArgs),
    /// Pretrain the vision encoder's backbone as an object detector on frames of training levels.
    Pretrain(pretrain::PretrainArgs),
}
