//! `--slurm` and its options, shared by `heldout sweep` and `heldout study`.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Args;

use heldout::slurm::{ArrayOptions, SLURM_DIR, with_workers, write_array};
use heldout::sweep::{PlannedRun, shell_quote};

/// Submitting the runs as a Slurm job array instead of running them here.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Run nothing here: write a Slurm job array of the unfinished runs (a manifest and an sbatch
    /// script, in the sweep's `slurm/` folder) and print the `sbatch` command that submits it.
    /// `--jobs` is then the number of array tasks running at a time. Run the same command again
    /// without `--slurm` once the array has finished to summarise.
    #[arg(long)]
    pub slurm: bool,
    /// The Slurm partition (`#SBATCH --partition`).
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// Time limit of each task (`#SBATCH --time`), in a Slurm format: `90`, `4:00:00`, `2-00:00:00`.
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    /// CPUs of each task (`#SBATCH --cpus-per-task`), also its runs' rollout workers
    /// (`--workers`, unless the runs set `workers` themselves) and learner threads.
    #[arg(long, default_value_t = 1, requires = "slurm")]
    pub cpus_per_task: usize,
    /// One more line for the script's header, written as given: `--sbatch-line '#SBATCH --mem=4G'`
    /// (repeatable).
    #[arg(long = "sbatch-line", value_name = "LINE", requires = "slurm")]
    pub sbatch_lines: Vec<String>,
}

impl SlurmArgs {
    /// The array's options for the job `job_name` with `jobs` tasks at a time, checked.
    pub fn options(&self, job_name: &str, jobs: usize) -> Result<ArrayOptions> {
        let options = ArrayOptions {
            job_name: job_name.to_string(),
            max_running: jobs,
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
            sbatch_lines: self.sbatch_lines.clone(),
        };
        options.validate()?;
        Ok(options)
    }

    /// The runs as the array's tasks run them (see [`with_workers`]).
    pub fn runs(&self, runs: &[PlannedRun]) -> Vec<PlannedRun> {
        with_workers(runs, self.cpus_per_task)
    }
}

/// Writes the job array of the unfinished ones of `runs` (of `total` in the sweep or study) into
/// `sweep_dir/slurm/` and prints the command that submits it. Returns false, having written
/// nothing, when every run is finished.
pub fn write(what: &str, sweep_dir: &Path, runs: &[PlannedRun], total: usize, options: &ArrayOptions) -> Result<bool> {
    let exe = std::env::current_exe().context("finding the heldout executable")?;
    let workdir = std::env::current_dir().context("finding the working directory")?;
    let slurm_dir = sweep_dir.join(SLURM_DIR);
    let Some(written) = write_array(&slurm_dir, &exe, runs, &workdir, options)? else {
        eprintln!("{what}: all {total} runs are finished: no job array to submit");
        return Ok(false);
    };
    eprintln!(
        "{what}: a job array of the {} unfinished of {} runs ({} at a time), listed in {}; submit it with",
        written.tasks,
        total,
        options.max_running,
        written.manifest.display()
    );
    println!("sbatch {}", shell_quote(&written.script.display().to_string()));
    Ok(true)
}
