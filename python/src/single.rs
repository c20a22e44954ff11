//! One env, for `heldout.env.HeldoutEnv` (a `gymnasium.Env`).

use heldout_envs::{Env, ObsSpace};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::slot::{Description, Slot, check_action};
use crate::spec::Spec;

/// One of heldout's envs with its level set. Observations are new numpy arrays of bytes.
#[pyclass(module = "heldout._native")]
pub struct NativeEnv {
    slot: Slot,
    space: ObsSpace,
    obs: Vec<u8>,
}

/// An observation's bytes as an array of `space`'s shape.
pub fn to_array<'py>(py: Python<'py>, space: &ObsSpace, bytes: Vec<u8>) -> Bound<'py, PyArrayDyn<u8>> {
    ArrayD::from_shape_vec(IxDyn(&space.shape), bytes).expect("an observation fills its space").into_pyarray(py)
}

#[pymethods]
impl NativeEnv {
    /// `game` with `options_json` laid over `variant`'s options, playing `split` of the levels
    /// `[start_level, start_level + num_levels)`.
    #[new]
    #[pyo3(signature = (game, options_json, variant, start_level, num_levels, split))]
    fn new(
        game: &str,
        options_json: &str,
        variant: Option<&str>,
        start_level: u64,
        num_levels: u64,
        split: &str,
    ) -> PyResult<Self> {
        let spec = Spec::parse(game, variant, options_json, start_level, num_levels, split)?;
        let env = spec.config.build().map_err(crate::error::to_py)?;
        let space = env.observation_space();
        Ok(NativeEnv { obs: vec![0; space.len()], slot: Slot::new(env, spec.levels), space })
    }

    /// What the env is.
    #[getter]
    fn description(&self) -> Description {
        self.slot.description()
    }

    /// Whether the level stream has been seeded.
    #[getter]
    fn seeded(&self) -> bool {
        self.slot.is_seeded()
    }

    /// Starts the level stream of `seed`.
    fn seed(&mut self, seed: u64) {
        self.slot.seed(seed);
    }

    /// Starts the next level of the stream (or `level_seed`): `(obs, info)`.
    #[pyo3(signature = (level_seed=None))]
    fn reset<'py>(
        &mut self,
        py: Python<'py>,
        level_seed: Option<u64>,
    ) -> PyResult<(Bound<'py, PyArrayDyn<u8>>, Bound<'py, PyDict>)> {
        let info = py.detach(|| self.slot.reset(level_seed, &mut self.obs))?;
        Ok((to_array(py, &self.space, self.obs.clone()), info.to_dict(py)?))
    }

    /// Applies `action`: `(obs, reward, terminated, truncated, info)`.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: i64,
    ) -> PyResult<(Bound<'py, PyArrayDyn<u8>>, f64, bool, bool, Bound<'py, PyDict>)> {
        let action = check_action(action, self.slot.env().action_space().n())?;
        let t = py.detach(|| self.slot.step(action, &mut self.obs))?;
        let obs = to_array(py, &self.space, self.obs.clone());
        Ok((obs, f64::from(t.reward), t.terminated, t.truncated, t.info.to_dict(py)?))
    }

    /// A picture of the current state: `[height, width, 3]` bytes.
    fn render<'py>(&self, py: Python<'py>) -> Bound<'py, PyArrayDyn<u8>> {
        let frame = self.slot.env().render();
        let space = ObsSpace::rgb(frame.height, frame.width);
        to_array(py, &space, frame.data)
    }

    /// A text picture of the current state.
    fn render_text(&self) -> String {
        self.slot.env().render_text()
    }
}
