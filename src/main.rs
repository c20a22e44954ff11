//! The `heldout` command line.

use clap::Parser;
use heldout::cli::{Cli, Command};

/// See `heldout_agents::allocator`.
#[global_allocator]
static ALLOCATOR: heldout_agents::allocator::Allocator = heldout_agents::allocator::Allocator;

fn main() -> anyhow::Result<()> {
    heldout_agents::allocator::retain_freed_memory();
    let cli = Cli::parse();
    match cli.command {
        Command::Train(args) => heldout::cli::train::run(args),
        Command::Eval(args) => heldout::cli::eval::run(args),
        Command::Sweep(args) => heldout::cli::sweep::run(args),
        Command::Study(args) => heldout::cli::study::run(args),
        Command::Render(args) => heldout::cli::render::run(args),
        Command::Bench(args) => heldout::cli::bench::run(args),
        Command::Pretrain(args) => heldout::cli::pretrain::run(args),
    }
}
