//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong when building, running, training or storing an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A configuration field is outside its allowed range.
    #[error("invalid config: `{field}` = {value} is out of range (allowed: {allowed})")]
    InvalidConfig {
        /// Dotted path of the field, e.g. `ppo.clip`.
        field: String,
        /// The offending value, as written.
        value: String,
        /// The allowed range, in words.
        allowed: String,
    },
    /// An observation buffer does not hold a whole number of observations of the agent's format.
    #[error("observation buffer of {got} bytes is not a non-empty multiple of {obs_len} (one observation)")]
    ObsLength {
        /// Bytes in one observation (height * width * channels).
        obs_len: usize,
        /// Bytes received.
        got: usize,
    },
    /// A rollout field has the wrong number of entries.
    #[error("rollout field `{field}` has {got} entries, expected {expected}")]
    RolloutShape {
        /// Name of the field.
        field: &'static str,
        /// Entries expected from `num_steps`, `num_envs` and the observation format.
        expected: usize,
        /// Entries found.
        got: usize,
    },
    /// A rollout holds an action the agent cannot take.
    #[error("rollout action {action} at index {index} is out of range for {num_actions} actions")]
    InvalidAction {
        /// Flat (time-major) index of the sample.
        index: usize,
        /// The action found.
        action: usize,
        /// The agent's number of actions.
        num_actions: usize,
    },
    /// `progress` passed to [`crate::Agent::update`] is not in `[0, 1]`.
    #[error("update progress {0} is outside [0, 1]")]
    Progress(f64),
    /// A loss or gradient became NaN or infinite; the update was rolled back, the agent is unchanged.
    #[error("non-finite {what} in epoch {epoch}, minibatch {minibatch}; the update was rolled back")]
    NonFinite {
        /// Which quantity: `loss` or `gradient norm`.
        what: &'static str,
        /// Epoch (0-based) of the failing minibatch.
        epoch: usize,
        /// Minibatch (0-based) within the epoch.
        minibatch: usize,
    },
    /// Object boxes given to the vision encoder are unusable, or a vision option is invalid.
    #[error("vision encoder: {0}")]
    Vision(#[from] crate::vision::VisionError),
    /// The vision encoder was given observations without their object boxes.
    #[error("the vision encoder needs the object boxes of every observation, and none were given")]
    MissingBoxes,
    /// The pretrained backbone named by the vision encoder's config is missing or does not fit.
    #[error("pretrained backbone {path}: {reason}")]
    PretrainedBackbone {
        /// The file named by `pretrained_backbone`.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A checkpoint file is missing, corrupt or does not match.
    #[error("checkpoint file {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl AgentError {
    /// An [`AgentError::InvalidConfig`] for `field` holding `value`.
    pub(crate) fn config(field: impl Into<String>, value: impl std::fmt::Display, allowed: impl Into<String>) -> Self {
        AgentError::InvalidConfig { field: field.into(), value: value.to_string(), allowed: allowed.into() }
    }

    /// An [`AgentError::Checkpoint`] for `path`.
    pub(crate) fn checkpoint(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        AgentError::Checkpoint { path: path.into(), reason: reason.to_string() }
    }
}

/// Checks that a real-valued field lies in `[lo, hi]` (and is finite).
pub(crate) fn check_range(field: &str, value: f64, lo: f64, hi: f64) -> Result<(), AgentError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(AgentError::config(field, value, format!("[{lo}, {hi}]")))
    }
}

/// Checks that a real-valued field is finite and strictly positive.
pub(crate) fn check_positive(field: &str, value: f64) -> Result<(), AgentError> {
    if value.is_finite() && value > 0.0 { Ok(()) } else { Err(AgentError::config(field, value, "finite and > 0")) }
}

/// Checks that a count field is at least `min`.
pub(crate) fn check_count(field: &str, value: usize, min: usize) -> Result<(), AgentError> {
    if value >= min { Ok(()) } else { Err(AgentError::config(field, value, format!(">= {min}"))) }
}

/// Checks that `sizes` (layer widths, channel counts) is non-empty and every entry is >= 1.
pub(crate) fn check_sizes(field: &str, sizes: &[usize]) -> Result<(), AgentError> {
    check_count(&format!("{field} (length)"), sizes.len(), 1)?;
    sizes.iter().try_for_each(|&s| check_count(field, s, 1))
}
