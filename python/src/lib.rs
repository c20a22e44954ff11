//! `heldout._native`, the Rust half of the `heldout` Python package: heldout's envs and their
//! level sets, one env at a time ([`single::NativeEnv`]) or a batch stepped on Rust threads with
//! the GIL released ([`vector::NativeVecEnv`]). The Python half (`heldout/`) wraps them as a
//! `gymnasium.Env` and a `gymnasium.vector.VectorEnv` and registers their ids.

#![deny(missing_docs)]

mod error;
mod info;
mod slot;
mod spec;

pub mod single;
pub mod vector;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<single::NativeEnv>()?;
    m.add_class::<vector::NativeVecEnv>()?;
    m.add_class::<slot::Description>()?;
    m.add_function(wrap_pyfunction!(spec::games, m)?)?;
    m.add_function(wrap_pyfunction!(spec::variants, m)?)?;
    Ok(())
}
