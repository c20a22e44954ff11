//! Run checkpoints: the agent (weights and optimizer) plus the trainer's state, written
//! atomically as `checkpoints/update-NNNNNNNN/`; the newest complete one is the one resumed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use heldout_agents::Agent;
use heldout_envs::SlotSnapshot;
use serde::{Deserialize, Serialize};

/// How many complete checkpoints a run keeps.
const KEEP: usize = 2;
const PREFIX: &str = "update-";
const STATE_FILE: &str = "trainer.toml";
const AGENT_DIR: &str = "agent";

/// Where the training loop stands: enough, with the agent (which counts the updates done), to
/// continue exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Environment frames seen.
    pub global_step: u64,
    /// Evaluations made.
    pub evaluations: usize,
    /// Wall-clock seconds of training so far, over every process of the run.
    pub wall_seconds: f64,
    /// Every env slot's level and actions so far, to rebuild the envs by replay.
    pub slots: Vec<SlotSnapshot>,
}

/// The checkpoints directory of a run.
pub fn dir(run_dir: &Path) -> PathBuf {
    run_dir.join(crate::paths::CHECKPOINTS_DIR)
}

/// Writes a checkpoint after the agent's latest update and keeps only the newest few. A crash while writing
/// leaves the previous checkpoints untouched.
pub fn save(run_dir: &Path, agent: &Agent, state: &TrainerState) -> Result<PathBuf> {
    let root = dir(run_dir);
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let tmp = tempfile::Builder::new().prefix(".incomplete-").tempdir_in(&root)?;
    agent.save(&tmp.path().join(AGENT_DIR)).context("saving the agent")?;
    let state_toml = toml::to_string(state).context("serializing trainer state")?;
    crate::atomic::write(&tmp.path().join(STATE_FILE), state_toml.as_bytes())?;
    let target = root.join(format!("{PREFIX}{:08}", agent.updates_done()));
    if target.exists() {
        std::fs::remove_dir_all(&target).with_context(|| format!("replacing {}", target.display()))?;
    }
    std::fs::rename(tmp.keep(), &target).with_context(|| format!("moving checkpoint to {}", target.display()))?;
    for old in list(run_dir)?.into_iter().rev().skip(KEEP) {
        std::fs::remove_dir_all(&old).with_context(|| format!("removing old checkpoint {}", old.display()))?;
    }
    Ok(target)
}

/// The complete checkpoints of a run, oldest first.
pub fn list(run_dir: &Path) -> Result<Vec<PathBuf>> {
    let root = dir(run_dir);
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(&root)
        .with_context(|| format!("reading {}", root.display()))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let update = name.strip_prefix(PREFIX)?.parse().ok()?;
            Some((update, e.path()))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// The newest complete checkpoint of a run, if any.
pub fn latest(run_dir: &Path) -> Result<Option<PathBuf>> {
    Ok(list(run_dir)?.pop())
}

/// A checkpoint directory from what a user names: a checkpoint itself, or a run directory
/// (its newest checkpoint).
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if path.join(STATE_FILE).exists() {
        return Ok(path.to_path_buf());
    }
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    latest(path)?
        .ok_or_else(|| anyhow!("{} holds no checkpoint (expected {}/update-*)", path.display(), dir(path).display()))
}

/// Loads the agent and trainer state of a checkpoint directory.
pub fn load(checkpoint: &Path) -> Result<(Agent, TrainerState)> {
    let state_path = checkpoint.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).with_context(|| format!("reading {}", state_path.display()))?;
    let state: TrainerState =
        toml::from_str(&text).with_context(|| format!("{} is not a valid trainer state", state_path.display()))?;
    let agent = Agent::load(&checkpoint.join(AGENT_DIR))
        .with_context(|| format!("loading the agent of checkpoint {}", checkpoint.display()))?;
    Ok((agent, state))
}

/// The run directory a checkpoint belongs to (`<run>/checkpoints/update-N`).
pub fn run_dir_of(checkpoint: &Path) -> Option<PathBuf> {
    Some(checkpoint.parent()?.parent()?.to_path_buf())
}
