//! Where a run keeps its files: `runs/<name>/` with its config, result, evaluation curve,
//! TensorBoard event files and `checkpoints/`.

use std::path::{Path, PathBuf};

/// The parent directory of runs and sweeps, relative to where `heldout` runs.
pub const RUNS_DIR: &str = "runs";
/// The resolved config of a run, saved in its directory.
pub const CONFIG_FILE: &str = "config.toml";
/// The file a finished run writes its final evaluation to (its presence marks the run done).
pub const RESULT_FILE: &str = "result.toml";
/// The evaluation curve of a run, as CSV beside its TensorBoard files.
pub const EVAL_FILE: &str = "eval.csv";
/// The directory of a run's checkpoints.
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// The directory of the run called `name`: `runs/<name>`.
pub fn run_dir(name: &str) -> PathBuf {
    Path::new(RUNS_DIR).join(name)
}
