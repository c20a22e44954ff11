//! heldout's env errors as Python exceptions.

use heldout_envs::EnvError;
use pyo3::PyErr;
use pyo3::exceptions::{PyRuntimeError, PyValueError};

/// An env error as the Python exception a caller expects: a bad argument (action, options,
/// sizes) is a `ValueError`, a step outside an episode a `RuntimeError`.
pub fn to_py(error: EnvError) -> PyErr {
    match error {
        EnvError::NeedsReset => PyRuntimeError::new_err(error.to_string()),
        _ => PyValueError::new_err(error.to_string()),
    }
}
