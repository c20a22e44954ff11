//! `heldout sweep`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use heldout::config::Preset;
use heldout::sweep::{Axis, PlannedRun, execute, plan, write_summary};

/// Arguments of `heldout sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Sweep name: runs go to RUNS_DIR/NAME/RUN/.
    #[arg(long)]
    pub name: String,
    /// Built-in configuration every run starts from.
    #[arg(long, default_value_t = Preset::Multiroom)]
    pub preset: Preset,
    /// A TOML file laid over the preset for every run.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// `key=v1,v2,...`: a field to sweep over (repeatable: the runs are the product). With one
    /// value, the field is set for every run without being swept.
    #[arg(long = "set", value_name = "KEY=VALUES")]
    pub set: Vec<String>,
    /// Seeds per setting.
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// The first seed (seeds are first-seed, first-seed + 1, ...).
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Runs at a time (with `--slurm`: array tasks at a time).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Parent directory of sweeps.
    #[arg(long, default_value = heldout::paths::RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// Print one `heldout train` command per run (for a cluster scheduler) and run nothing.
    #[arg(long, conflicts_with = "slurm")]
    pub print_commands: bool,
    /// `--slurm` and its options.
    #[command(flatten, next_help_heading = "Slurm")]
    pub slurm: crate::cli::slurm::SlurmArgs,
}

/// Runs `heldout sweep`.
pub fn run(args: SweepArgs) -> Result<()> {
    if args.seeds == 0 || args.jobs == 0 {
        bail!("--seeds and --jobs must be at least 1");
    }
    let parsed = args.set.iter().map(|s| Axis::parse(s)).collect::<Result<Vec<_>>>()?;
    let (axes, fixed): (Vec<Axis>, Vec<Axis>) = parsed.into_iter().partition(|a| a.values.len() > 1);
    let mut base_args = vec!["--preset".to_string(), args.preset.to_string()];
    if let Some(c) = &args.config {
        base_args.extend(["--config".to_string(), c.display().to_string()]);
    }
    for f in &fixed {
        base_args.extend(["--set".to_string(), format!("{}={}", f.key, f.values[0])]);
    }
    let sweep_dir = args.runs_dir.join(&args.name);
    let mut runs = plan(&sweep_dir, &axes, args.seeds, args.first_seed, &base_args);
    let exe = std::env::current_exe().context("finding the heldout executable")?;
    if args.print_commands {
        for r in &runs {
            println!("{}", r.command_line(&exe));
        }
        return Ok(());
    }
    let slurm = if args.slurm.slurm {
        runs = args.slurm.runs(&runs);
        Some(args.slurm.options(&args.name, args.jobs)?)
    } else {
        None
    };
    check_runs(&runs)?;
    if let Some(options) = &slurm
        && crate::cli::slurm::write(&format!("sweep {}", args.name), &sweep_dir, &runs, runs.len(), options)?
    {
        return Ok(());
    }
    let skipped = runs.iter().filter(|r| r.is_finished()).count();
    eprintln!("sweep {}: {} runs, {} already finished, {} jobs at a time", args.name, runs.len(), skipped, args.jobs);
    let failures = execute(&exe, &runs, args.jobs, &|_| {});

    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    print!("{}", write_summary(&sweep_dir, &args.name, &keys, &runs)?);
    heldout::sweep::check_failures(&failures, runs.len())
}

/// Every run's resolved config, checked before any run of a sweep or study starts.
pub fn check_runs(runs: &[PlannedRun]) -> Result<Vec<heldout::config::RunConfig>> {
    runs.iter()
        .map(|r| {
            let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(
                std::iter::once("heldout".to_string()).chain(r.args.iter().cloned()),
            )?;
            let crate::cli::Command::Train(t) = cli.command else { unreachable!("a run is a train command") };
            Ok(t.resolve().with_context(|| format!("run {}", r.name))?.0)
        })
        .collect()
}
