//! The side information every reset and step reports, as Gymnasium's `info` dict.

use heldout_envs::Info;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// What a reset or step tells about the level: the keys of every `info` dict, in this order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelInfo {
    /// The level being played.
    pub level_seed: u64,
    /// The step completed the level (reached its goal).
    pub level_complete: bool,
    /// The level's goal reward is negated (a random-label level).
    pub negated: bool,
}

/// The `info` keys, as the vector env's arrays are named.
pub const KEYS: [&str; 3] = ["level_seed", "level_complete", "negated"];

impl LevelInfo {
    /// The parts of an env's [`Info`] that Python sees.
    pub fn of(info: &Info) -> LevelInfo {
        LevelInfo { level_seed: info.level_seed, level_complete: info.level_complete, negated: info.negated }
    }

    /// As a Python dict.
    pub fn to_dict<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item(KEYS[0], self.level_seed)?;
        dict.set_item(KEYS[1], self.level_complete)?;
        dict.set_item(KEYS[2], self.negated)?;
        Ok(dict)
    }
}
