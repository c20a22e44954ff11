//! The `heldout` command line.

use clap::Parser;
mod cli;

use cli::{Cli, Command};

/// See `heldout_agents::allocator`.
#[global_allocator]
static ALLOCATOR: heldout_agents::allocator::Allocator = heldout_agents::allocator::Allocator;

fn main() -> anyhow::Result<()> {
    heldout_agents::allocator::retain_freed_memory();
    let parsed = Cli::parse();
    match parsed.command {
        Command::Train(args) => cli::train::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Sweep(args) => cli::sweep::run(args),
        Command::Study(args) => cli::study::run(args),
        Command::Render(args) => cli::render::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Pretrain(args) => cli::pretrain::run(args),
    }
}
