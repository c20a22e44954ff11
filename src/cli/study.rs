//! `heldout study`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use heldout::study::{RESULTS_DIR, Study, check_results_dir, claim_results_dir, name_of, plots, results};
use heldout::sweep::{PlannedRun, execute};
use heldout::trainer::{TrainOptions, train};

/// Arguments of `heldout study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// The study file (`studies/NAME.toml`); the study is called by its file's stem.
    pub study: PathBuf,
    /// Runs at a time, each its own `heldout train` process (with `--slurm`: array tasks at a
    /// time).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Print the plan and its time estimate, run nothing.
    #[arg(long, conflicts_with = "slurm")]
    pub plan: bool,
    /// Only write the results of the runs finished so far, run nothing.
    #[arg(long, conflicts_with_all = ["plan", "slurm"])]
    pub report: bool,
    /// Also measure each finished run's uncertainty with this many noisy passes per state: the
    /// AUROC of an episode's U for failing a held-out level, per run (kept in its directory)
    /// and per arm in the summary. Runs without a noise source have none.
    #[arg(long, value_name = "PASSES")]
    pub uncertainty: Option<usize>,
    /// Held-out episodes per run for `--uncertainty`.
    #[arg(long, default_value_t = 200)]
    pub uncertainty_episodes: usize,
    /// Parent directory of the study's runs (`RUNS_DIR/study-NAME/`).
    #[arg(long, default_value = heldout::paths::RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// Parent directory of the study's results (`RESULTS_DIR/NAME/`).
    #[arg(long, default_value = RESULTS_DIR)]
    pub results_dir: PathBuf,
    /// `--slurm` and its options.
    #[command(flatten, next_help_heading = "Slurm")]
    pub slurm: crate::cli::slurm::SlurmArgs,
}

/// Runs `heldout study`: prints the plan, runs the unfinished runs, writes the results.
pub fn run(args: StudyArgs) -> Result<()> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let study = Study::load(&args.study)?;
    let name = name_of(&args.study)?;
    let mut runs = study.plan(&name, &args.runs_dir);
    let slurm = if args.slurm.slurm {
        runs = args.slurm.runs(&runs);
        Some(args.slurm.options(&heldout::study::sweep_name(&name), args.jobs)?)
    } else {
        None
    };
    // `--plan` only looks: it writes nothing under the results directory.
    let out_dir = if args.plan {
        check_results_dir(&args.results_dir, &name, &study)?
    } else {
        claim_results_dir(&args.results_dir, &name, &study)?
    };
    let exe = std::env::current_exe().context("finding the heldout executable")?;
    if !args.report {
        let configs = crate::cli::sweep::check_runs(&runs)?;
        print_plan(&name, &runs, &configs, args.jobs, &out_dir, slurm.is_none())?;
        if args.plan {
            return Ok(());
        }
    }
    // Seed by seed: a study stopped part-way has every arm and setting at its first seeds.
    // Runs finished in an earlier sitting (their rows in runs.csv) are never redone.
    let done: Vec<String> = results::collect(&runs, &out_dir)?.into_iter().map(|r| r.run).collect();
    let mut order: Vec<PlannedRun> = runs.iter().filter(|r| !done.contains(&r.name)).cloned().collect();
    order.sort_by_key(|r| r.seed);
    if let Some(options) = &slurm {
        let sweep_dir = args.runs_dir.join(heldout::study::sweep_name(&name));
        if crate::cli::slurm::write(&format!("study {name}"), &sweep_dir, &order, runs.len(), options)? {
            return Ok(());
        }
    }
    // Each finished run goes into runs.csv (and its curve into curves/) at once, so that a
    // study stopped part-way has every finished run recorded: its run directory need not
    // outlive the sitting.
    let write_results = || -> Result<(Vec<results::RunRow>, Vec<results::SummaryRow>)> {
        let rows = results::collect(&runs, &out_dir)?;
        let summary = results::write(&out_dir, &name, &study.description, &rows, runs.len())?;
        Ok((rows, summary))
    };
    let recording = std::sync::Mutex::new(());
    let record = |_: &PlannedRun| {
        let _one_at_a_time = recording.lock().expect("no panics while holding the lock");
        if let Err(e) = write_results() {
            eprintln!("study {name}: could not record the finished runs yet: {e:#}");
        }
    };
    let failures = if args.report { Vec::new() } else { execute(&exe, &order, args.jobs, &record) };

    if let Some(passes) = args.uncertainty {
        for run in runs.iter().filter(|r| r.is_finished()) {
            heldout::study::uncertainty::measure_run(&run.dir, passes, args.uncertainty_episodes)
                .with_context(|| format!("the uncertainty of run {}", run.name))?;
        }
    }
    let (rows, summary) = write_results()?;
    match plots::draw(&out_dir, &name, &summary, &rows) {
        Ok(files) => eprintln!("study {name}: wrote {} plots", files.len()),
        Err(e) => eprintln!("study {name}: no plots: {e:#}"),
    }
    print!("{}", std::fs::read_to_string(out_dir.join("summary.md"))?);
    heldout::sweep::check_failures(&failures, runs.len())
}

/// Prints how many runs and frames remain and, with `estimate`, how long they should take: at
/// the frames per second the finished runs of this study reached, or else as measured on two
/// updates of the first remaining run.
fn print_plan(
    name: &str,
    runs: &[PlannedRun],
    configs: &[heldout::config::RunConfig],
    jobs: usize,
    out_dir: &std::path::Path,
    estimate: bool,
) -> Result<()> {
    let finished = results::collect(runs, out_dir)?;
    let remaining: Vec<usize> = (0..runs.len()).filter(|&i| !finished.iter().any(|r| r.run == runs[i].name)).collect();
    let frames: u64 = remaining.iter().map(|&i| configs[i].total_frames).sum();
    eprintln!(
        "study {name}: {} runs, {} finished, {} to run ({:.1}M frames), {jobs} at a time",
        runs.len(),
        runs.len() - remaining.len(),
        remaining.len(),
        frames as f64 / 1e6
    );
    let Some(&first) = remaining.first().filter(|_| estimate) else { return Ok(()) };
    let (fps, source) = if finished.is_empty() {
        (measure_fps(&configs[first])?, format!("measured on 2 updates of {}", runs[first].name))
    } else {
        let (f, s) = finished.iter().fold((0.0, 0.0), |(f, s), r| (f + r.frames as f64, s + r.wall_seconds));
        (f / s, format!("the mean of its {} finished runs", finished.len()))
    };
    let hours = frames as f64 / fps / jobs as f64 / 3600.0;
    eprintln!("study {name}: about {hours:.1} h at {fps:.0} frames/s per run ({source}), evaluations included");
    Ok(())
}

/// Frames per second of a whole run of `config`, evaluations included: a warm-up update with
/// the untrained policy's evaluation, then two timed updates, in a temporary directory.
fn measure_fps(config: &heldout::config::RunConfig) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let run = dir.path().join("run");
    let start = Instant::now();
    train(config, &run, &TrainOptions { resume: false, stop_after: Some(1), progress: false })?;
    let warm_up = start.elapsed().as_secs_f64();
    let timed = train(config, &run, &TrainOptions { resume: true, stop_after: Some(3), progress: false })?;
    let per_update = timed.timings.total.as_secs_f64() / 2.0;
    let evaluations = match config.eval.interval {
        0 => 1,
        every => 1 + config.num_updates().div_ceil(every),
    };
    let evaluation = (warm_up - per_update).max(0.0);
    let seconds = config.num_updates() as f64 * per_update + evaluations as f64 * evaluation;
    Ok(config.total_frames as f64 / seconds)
}
