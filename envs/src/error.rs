//! Errors an environment reports instead of panicking.

/// What went wrong when driving an environment.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EnvError {
    /// The action index is outside the action space.
    #[error("action {action} is out of range: this environment has {num_actions} actions (0..{num_actions})")]
    InvalidAction {
        /// The action that was given.
        action: usize,
        /// The number of valid actions.
        num_actions: usize,
    },
    /// `step` was called before the first `reset` or after the episode ended.
    #[error("the episode is over or was never started: call reset before step")]
    NeedsReset,
    /// A vectorised step got the wrong number of actions.
    #[error("expected {expected} actions (one per env), got {got}")]
    ActionCount {
        /// The number of envs.
        expected: usize,
        /// The number of actions given.
        got: usize,
    },
    /// An observation buffer has the wrong length for the observation space.
    #[error("observation buffer holds {got} bytes, the observation space needs {expected}")]
    ObsBuffer {
        /// Bytes the space needs.
        expected: usize,
        /// Bytes the buffer has.
        got: usize,
    },
    /// Options that cannot build a level.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
}
