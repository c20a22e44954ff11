//! What a Python caller asks for (a game, a variant, options as JSON, a level range and split),
//! checked and turned into an [`EnvConfig`] and a [`LevelSet`].

use heldout_envs::LevelSet;
use heldout_envs::coinrun::CoinRunOptions;
use heldout_envs::multiroom::MultiRoomOptions;
use heldout_envs::registry::EnvConfig;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::{Map, Value};

/// The games, by the names `heldout.make` takes.
const GAMES: [&str; 2] = ["coinrun", "multiroom"];

/// MultiRoom's named variants: the paper's (1 to 3 rooms on 11 x 11) and MiniGrid's.
const MULTIROOM_VARIANTS: [&str; 4] = ["paper", "n2_s4", "n4_s5", "n6"];

/// The games `heldout.make` knows.
#[pyfunction]
pub fn games() -> Vec<&'static str> {
    GAMES.to_vec()
}

/// The named variants of `game` (CoinRun has none).
#[pyfunction]
pub fn variants(game: &str) -> PyResult<Vec<&'static str>> {
    match game {
        "coinrun" => Ok(Vec::new()),
        "multiroom" => Ok(MULTIROOM_VARIANTS.to_vec()),
        _ => Err(unknown_game(game)),
    }
}

/// A parsed request: the env's config and the levels it plays.
pub struct Spec {
    /// The env and its options.
    pub config: EnvConfig,
    /// The level seeds it draws from.
    pub levels: LevelSet,
}

impl Spec {
    /// Parses a request. `options_json` is a JSON object of option names and values laid over
    /// the variant's (or the game's default) options; `split` is `"train"` for the levels
    /// `[start_level, start_level + num_levels)` (`num_levels = 0`: every level) or `"test"` for
    /// the held-out levels of that training set (every level after it).
    pub fn parse(
        game: &str,
        variant: Option<&str>,
        options_json: &str,
        start_level: u64,
        num_levels: u64,
        split: &str,
    ) -> PyResult<Spec> {
        Ok(Spec {
            config: env_config(game, variant, options_json)?,
            levels: level_set(start_level, num_levels, split)?,
        })
    }
}

fn unknown_game(game: &str) -> PyErr {
    PyValueError::new_err(format!("unknown game {game:?}: heldout has {}", GAMES.join(", ")))
}

fn base_options(game: &str, variant: Option<&str>) -> PyResult<Value> {
    let options = match (game, variant) {
        ("coinrun", None) => serde_json::to_value(CoinRunOptions::default()),
        ("coinrun", Some(v)) => {
            return Err(PyValueError::new_err(format!("coinrun has no variants (asked for {v:?})")));
        }
        ("multiroom", None | Some("paper")) => serde_json::to_value(MultiRoomOptions::default()),
        ("multiroom", Some("n2_s4")) => serde_json::to_value(MultiRoomOptions::n2_s4()),
        ("multiroom", Some("n4_s5")) => serde_json::to_value(MultiRoomOptions::n4_s5()),
        ("multiroom", Some("n6")) => serde_json::to_value(MultiRoomOptions::n6()),
        ("multiroom", Some(v)) => {
            return Err(PyValueError::new_err(format!(
                "unknown multiroom variant {v:?}: the variants are {}",
                MULTIROOM_VARIANTS.join(", ")
            )));
        }
        _ => return Err(unknown_game(game)),
    };
    Ok(options.expect("env options serialize to JSON"))
}

fn env_config(game: &str, variant: Option<&str>, options_json: &str) -> PyResult<EnvConfig> {
    let Value::Object(mut options) = base_options(game, variant)? else {
        unreachable!("env options serialize to a JSON object")
    };
    let given: Map<String, Value> = serde_json::from_str(options_json)
        .map_err(|e| PyValueError::new_err(format!("options must be a JSON object of option values: {e}")))?;
    for (key, value) in given {
        if !options.contains_key(&key) {
            let known: Vec<&str> = options.keys().map(String::as_str).collect();
            return Err(PyValueError::new_err(format!(
                "unknown {game} option {key:?}: its options are {}",
                known.join(", ")
            )));
        }
        options.insert(key, value);
    }
    options.insert("kind".into(), Value::String(game.into()));
    serde_json::from_value(Value::Object(options))
        .map_err(|e| PyValueError::new_err(format!("bad {game} options: {e}")))
}

fn level_set(start_level: u64, num_levels: u64, split: &str) -> PyResult<LevelSet> {
    let training = LevelSet::new(start_level, num_levels);
    match split {
        "train" => Ok(training),
        "test" if num_levels == 0 => Err(PyValueError::new_err(
            "split=\"test\" is the held-out set of a bounded training set: give num_levels > 0",
        )),
        "test" => Ok(training.with_held_out().1),
        _ => Err(PyValueError::new_err(format!("split must be \"train\" or \"test\", not {split:?}"))),
    }
}
