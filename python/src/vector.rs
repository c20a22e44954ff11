//! A batch of envs stepped on Rust threads with the GIL released, for
//! `heldout.vector.HeldoutVectorEnv` (a `gymnasium.vector.VectorEnv`).
//!
//! Observations are written in place into one numpy array of `[num_envs, *obs_shape]` bytes
//! that lives as long as the batch. Env `i` is independent of the others and of the number of
//! threads: seeded with `s`, it plays what a single env seeded with `s` plays, so the batch
//! equals Gymnasium's `SyncVectorEnv` of single envs seeded `s, s + 1, ...`.

use heldout_envs::{Env, ObsSpace};
use numpy::ndarray::IxDyn;
use numpy::{IntoPyArray, PyArrayDyn, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use crate::info::{KEYS, LevelInfo};
use crate::single::to_array;
use crate::slot::{Description, Outcome, Slot, check_action};
use crate::spec::Spec;

/// When an env whose episode ended starts its next level (Gymnasium's `AutoresetMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Autoreset {
    /// On the next step, which ignores the env's action and returns the new level's first
    /// observation with reward 0 (Gymnasium's default).
    NextStep,
    /// On the same step: the step returns the new level's first observation, and the ended
    /// episode's last observation and info come as `final_obs` and `final_info`.
    SameStep,
}

/// What one env did on one step.
#[derive(Debug, Clone, Copy, Default)]
struct SlotStep {
    outcome: Outcome,
    /// The info of the episode that ended on this step, before the same-step reset.
    final_info: Option<LevelInfo>,
}

/// Envs stepped together.
#[pyclass(module = "heldout._native")]
pub struct NativeVecEnv {
    slots: Vec<Slot>,
    space: ObsSpace,
    /// `[num_envs, *obs_shape]`: the observations, written in place.
    obs: Py<PyArrayDyn<u8>>,
    /// `[num_envs, *obs_shape]`: the last observations of episodes that ended on a same-step
    /// reset (rows of other envs are stale).
    final_obs: Py<PyArrayDyn<u8>>,
    /// The env's episode ended on the last step (a next-step reset is due).
    ended: Vec<bool>,
    mode: Autoreset,
    /// The threads stepping the envs; `None` for one thread, the caller's.
    pool: Option<rayon::ThreadPool>,
    /// Envs per thread task.
    shard: usize,
}

fn batch_array<'py>(py: Python<'py>, num_envs: usize, space: &ObsSpace) -> Bound<'py, PyArrayDyn<u8>> {
    let shape: Vec<usize> = std::iter::once(num_envs).chain(space.shape.iter().copied()).collect();
    PyArrayDyn::zeros(py, IxDyn(&shape), false)
}

/// One array per info key, over the envs.
fn info_arrays<'py>(py: Python<'py>, infos: impl Iterator<Item = LevelInfo> + Clone) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item(KEYS[0], infos.clone().map(|i| i.level_seed).collect::<Vec<_>>().into_pyarray(py))?;
    dict.set_item(KEYS[1], infos.clone().map(|i| i.level_complete).collect::<Vec<_>>().into_pyarray(py))?;
    dict.set_item(KEYS[2], infos.map(|i| i.negated).collect::<Vec<_>>().into_pyarray(py))?;
    Ok(dict)
}

#[pymethods]
impl NativeVecEnv {
    /// `num_envs` envs of `game` (see `NativeEnv`), stepped by `num_threads` threads, reset
    /// after an episode ends as `autoreset_mode` (`"next_step"` or `"same_step"`) says.
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (game, options_json, variant, start_level, num_levels, split, num_envs, num_threads, autoreset_mode))]
    fn new(
        py: Python<'_>,
        game: &str,
        options_json: &str,
        variant: Option<&str>,
        start_level: u64,
        num_levels: u64,
        split: &str,
        num_envs: usize,
        num_threads: usize,
        autoreset_mode: &str,
    ) -> PyResult<Self> {
        if num_envs == 0 || num_threads == 0 {
            return Err(PyValueError::new_err(format!(
                "num_envs ({num_envs}) and num_threads ({num_threads}) must be at least 1"
            )));
        }
        let mode = match autoreset_mode {
            "next_step" => Autoreset::NextStep,
            "same_step" => Autoreset::SameStep,
            other => {
                return Err(PyValueError::new_err(format!(
                    "autoreset_mode must be \"next_step\" or \"same_step\", not {other:?}"
                )));
            }
        };
        let spec = Spec::parse(game, variant, options_json, start_level, num_levels, split)?;
        let envs = spec.config.build_many(num_envs).map_err(crate::error::to_py)?;
        let space = envs[0].observation_space();
        let slots: Vec<Slot> = envs.into_iter().map(|e| Slot::new(e, spec.levels)).collect();
        let threads = num_threads.min(num_envs);
        let pool = if threads == 1 {
            None
        } else {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("heldout-env-{i}"))
                .build()
                .map_err(|e| PyValueError::new_err(format!("starting {threads} env threads: {e}")))?;
            Some(pool)
        };
        Ok(NativeVecEnv {
            obs: batch_array(py, num_envs, &space).unbind(),
            final_obs: batch_array(py, num_envs, &space).unbind(),
            ended: vec![false; num_envs],
            shard: num_envs.div_ceil(threads),
            slots,
            space,
            mode,
            pool,
        })
    }

    /// The number of envs.
    #[getter]
    fn num_envs(&self) -> usize {
        self.slots.len()
    }

    /// What the env is.
    #[getter]
    fn description(&self) -> Description {
        self.slots[0].description()
    }

    /// Whether every env's level stream has been seeded.
    #[getter]
    fn seeded(&self) -> bool {
        self.slots.iter().all(Slot::is_seeded)
    }

    /// The observation array (the same object after every reset and step).
    #[getter]
    fn obs(&self, py: Python<'_>) -> Py<PyArrayDyn<u8>> {
        self.obs.clone_ref(py)
    }

    /// The last observations of the episodes that ended on the last same-step reset.
    #[getter]
    fn final_obs(&self, py: Python<'_>) -> Py<PyArrayDyn<u8>> {
        self.final_obs.clone_ref(py)
    }

    /// Starts a level in every env (env `i` first seeding its stream with `seeds[i]` when that
    /// is not `None`) and returns the info arrays; the observations are in `obs`.
    fn reset<'py>(&mut self, py: Python<'py>, seeds: Vec<Option<u64>>) -> PyResult<Bound<'py, PyDict>> {
        if seeds.len() != self.slots.len() {
            return Err(PyValueError::new_err(format!("expected {} seeds, got {}", self.slots.len(), seeds.len())));
        }
        let infos = self.each_env(py, |i, row| {
            if let Some(seed) = seeds[i] {
                row.slot.seed(seed);
            }
            row.slot.reset(None, row.obs)
        })?;
        self.ended.fill(false);
        info_arrays(py, infos.into_iter())
    }

    /// Steps env `i` with `actions[i]`: `(rewards, terminated, truncated, info, final_info)`,
    /// `final_info` (same-step resets only) holding the info arrays of the episodes that ended,
    /// with `None` when none did. The observations are in `obs` (and `final_obs`).
    fn step<'py>(&mut self, py: Python<'py>, actions: PyReadonlyArray1<'py, i64>) -> PyResult<Bound<'py, PyAny>> {
        let actions = actions.as_slice()?;
        if actions.len() != self.slots.len() {
            return Err(PyValueError::new_err(format!(
                "expected {} actions (one per env), got {}",
                self.slots.len(),
                actions.len()
            )));
        }
        let num_actions = self.slots[0].env().action_space().n();
        let actions = actions.iter().map(|&a| check_action(a, num_actions)).collect::<PyResult<Vec<usize>>>()?;
        let (mode, ended) = (self.mode, self.ended.clone());
        let steps = self.each_env(py, |i, row| step_slot(row, actions[i], ended[i], mode))?;
        for (ended, s) in self.ended.iter_mut().zip(&steps) {
            *ended = mode == Autoreset::NextStep && s.outcome.done();
        }
        let rewards: Vec<f64> = steps.iter().map(|s| f64::from(s.outcome.reward)).collect();
        let terminated: Vec<bool> = steps.iter().map(|s| s.outcome.terminated).collect();
        let truncated: Vec<bool> = steps.iter().map(|s| s.outcome.truncated).collect();
        let info = info_arrays(py, steps.iter().map(|s| s.outcome.info))?;
        let final_info = if steps.iter().any(|s| s.final_info.is_some()) {
            let dict = info_arrays(py, steps.iter().map(|s| s.final_info.unwrap_or_default()))?;
            dict.set_item("ended", steps.iter().map(|s| s.final_info.is_some()).collect::<Vec<_>>().into_pyarray(py))?;
            Some(dict)
        } else {
            None
        };
        (rewards.into_pyarray(py), terminated.into_pyarray(py), truncated.into_pyarray(py), info, final_info)
            .into_pyobject(py)
            .map(|t| t.into_any())
    }

    /// A picture of env `index`'s current state: `[height, width, 3]` bytes.
    fn render<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
        let slot = self.slots.get(index).ok_or_else(|| {
            PyValueError::new_err(format!("env {index} does not exist: there are {}", self.slots.len()))
        })?;
        let frame = slot.env().render();
        Ok(to_array(py, &ObsSpace::rgb(frame.height, frame.width), frame.data))
    }
}

impl NativeVecEnv {
    /// Runs `f(i, row)` for every env `i` on the batch's threads, the GIL released, in shards
    /// of consecutive envs; the results in env order.
    fn each_env<T: Send>(&mut self, py: Python<'_>, f: impl Fn(usize, Row) -> PyResult<T> + Sync) -> PyResult<Vec<T>> {
        let (obs, final_obs) = (self.obs.bind(py).clone(), self.final_obs.bind(py).clone());
        let (mut obs, mut final_obs) = (obs.readwrite(), final_obs.readwrite());
        let obs = obs.as_slice_mut().expect("the observation array is contiguous");
        let final_obs = final_obs.as_slice_mut().expect("the final observation array is contiguous");
        let (n, shard, slots, pool) = (self.space.len(), self.shard, &mut self.slots, &self.pool);
        let one_shard = |k: usize, ((slots, obs), final_obs): ((&mut [Slot], &mut [u8]), &mut [u8])| {
            let rows = slots.iter_mut().zip(obs.chunks_exact_mut(n)).zip(final_obs.chunks_exact_mut(n));
            rows.enumerate()
                .map(|(j, ((slot, obs), final_obs))| f(k * shard + j, Row { slot, obs, final_obs }))
                .collect::<PyResult<Vec<T>>>()
        };
        let shards = py.detach(|| match pool {
            Some(pool) => pool.install(|| {
                slots
                    .par_chunks_mut(shard)
                    .zip(obs.par_chunks_mut(shard * n))
                    .zip(final_obs.par_chunks_mut(shard * n))
                    .enumerate()
                    .map(|(k, shard)| one_shard(k, shard))
                    .collect::<PyResult<Vec<Vec<T>>>>()
            }),
            // One thread: the calling thread steps the envs, sparing a hand-over per step.
            None => one_shard(0, ((&mut slots[..], &mut obs[..]), &mut final_obs[..])).map(|v| vec![v]),
        })?;
        Ok(shards.into_iter().flatten().collect())
    }
}

/// One env's part of a batch call: its slot and its rows of the observation arrays.
struct Row<'a> {
    slot: &'a mut Slot,
    obs: &'a mut [u8],
    final_obs: &'a mut [u8],
}

/// One env's step under `mode`; `ended` says its episode ended on the previous step.
fn step_slot(row: Row, action: usize, ended: bool, mode: Autoreset) -> PyResult<SlotStep> {
    let Row { slot, obs, final_obs } = row;
    if ended {
        let info = slot.reset(None, obs)?;
        return Ok(SlotStep { outcome: Outcome { info, ..Outcome::default() }, final_info: None });
    }
    let outcome = slot.step(action, obs)?;
    if mode == Autoreset::SameStep && outcome.done() {
        final_obs.copy_from_slice(obs);
        let info = slot.reset(None, obs)?;
        return Ok(SlotStep { outcome: Outcome { info, ..outcome }, final_info: Some(outcome.info) });
    }
    Ok(SlotStep { outcome, final_info: None })
}
