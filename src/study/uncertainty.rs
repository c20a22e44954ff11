//! The uncertainty of a study's runs: for each finished run whose agent has a noise source,
//! the AUROC of an episode's U (Feinman et al.'s spread of noisy predictions, see
//! [`crate::uncertainty`]) as a predictor of failing a held-out level, kept in the run's
//! directory so that it is measured once.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::checkpoint;
use crate::config::RunConfig;
use crate::paths::CONFIG_FILE;
use crate::uncertainty::{auroc, measure};

/// The file a run's uncertainty measurement is kept in.
pub const FILE: &str = "uncertainty.toml";

/// A run's uncertainty measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunUncertainty {
    /// Noisy passes per state.
    pub passes: usize,
    /// Held-out episodes played.
    pub episodes: usize,
    /// Episodes that failed.
    pub failures: usize,
    /// The AUROC of an episode's mean U for failing; NaN when no episode (or every one) failed.
    pub auroc: f64,
}

/// Measures a finished run's AUROC on `episodes` held-out episodes with `passes` noisy passes,
/// unless its directory already holds the measurement; `None` for an agent without a noise
/// source. Evaluation seed: the run's evaluation stream.
pub fn measure_run(run_dir: &Path, passes: usize, episodes: usize) -> Result<Option<RunUncertainty>> {
    let path = run_dir.join(FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(Some(toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?));
    }
    let config = RunConfig::load(&run_dir.join(CONFIG_FILE))?;
    let (agent, _) = checkpoint::load(&checkpoint::resolve(run_dir)?)?;
    if !agent.injects_noise() {
        return Ok(None);
    }
    let seed = heldout_seeds::evaluation(config.seed);
    let test = measure(&agent, &config.env, config.level_sets().1, episodes, passes, seed, config.worker_count())?;
    let failed: Vec<bool> = test.iter().map(|e| !e.success).collect();
    let scores: Vec<f64> = test.iter().map(|e| e.mean).collect();
    let measured = RunUncertainty {
        passes,
        episodes,
        failures: failed.iter().filter(|&&f| f).count(),
        auroc: auroc(&scores, &failed),
    };
    crate::atomic::write(&path, toml::to_string(&measured)?.as_bytes())?;
    Ok(Some(measured))
}
