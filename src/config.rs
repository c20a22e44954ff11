//! The run configuration: presets, TOML files and `key=value` overrides, parsed then validated.

use std::fmt;
use std::path::Path;

use heldout_agents::nn::ImpalaConfig;
use heldout_agents::{AgentConfig, BottleneckConfig, EncoderConfig};
use heldout_envs::LevelSet;
use heldout_envs::coinrun::{CoinRunOptions, DistributionMode};
use heldout_envs::multiroom::{MultiRoomObs, MultiRoomOptions};
use heldout_envs::registry::EnvConfig;
use serde::{Deserialize, Serialize};

use crate::method::Method;

/// Everything a training run needs; saved as `config.toml` in the run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Run name: the run lives in `runs/<name>/` unless a run directory is given.
    pub name: String,
    /// The arm of the paper's comparison the agent's regularizers and SNI started from
    /// ([`Method`]); `None`: the preset's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Seed of everything: weights, levels drawn, actions sampled.
    pub seed: u64,
    /// Training levels: `[start_level, start_level + train_levels)`; 0 = unbounded.
    pub train_levels: u64,
    /// First training level.
    pub start_level: u64,
    /// Environment frames to train for.
    pub total_frames: u64,
    /// Parallel environments.
    pub num_envs: usize,
    /// Steps per environment per update.
    pub num_steps: usize,
    /// Rollout worker threads; 0 = one per core. One worker steps the envs on the training
    /// loop's own thread.
    pub workers: usize,
    /// Write a checkpoint every this many updates (and always at the end).
    pub checkpoint_interval: usize,
    /// Held-out evaluation settings.
    pub eval: EvalConfig,
    /// The environment and its options.
    pub env: EnvConfig,
    /// The agent: encoder, regularizers, PPO and SNI.
    pub agent: AgentConfig,
}

/// The paper's MultiRoom IBAC-SNI: the bottleneck (64 units, beta 1e-6 nats) with SNI lambda 0.5.
fn multiroom_ibac_sni() -> AgentConfig {
    let mut agent = AgentConfig::multiroom();
    agent.regularizers.bottleneck = Some(BottleneckConfig { beta: 1e-6, rho_shift: 0.0 });
    agent.sni_lambda = Some(0.5);
    agent
}

/// Periodic evaluation of the noise-free policy on training and held-out levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// Evaluate every this many updates (and at the end); 0 = only at the end.
    pub interval: usize,
    /// Episodes per evaluation, on each of the training and held-out level sets.
    pub episodes: usize,
    /// Log a picture strip of a held-out episode every this many evaluations; 0 = never.
    pub image_every: usize,
}

/// The built-in configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// MultiRoom (N3r: 1-3 rooms on 11x11, MiniGrid's egocentric 7x7 view), IBAC-SNI with lambda
    /// 0.5, 200 training levels, 1.5M frames: the README's main job.
    Multiroom,
    /// CoinRun with the paper's settings (IMPALA-CNN, 500 levels); sized for a GPU machine.
    Coinrun,
    /// CoinRun sized for a CPU: easy levels, a half-width IMPALA-CNN (8, 16, 16 -> 128), 16 envs
    /// x 64 steps, 100 levels, 200k frames.
    CoinrunSmall,
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use clap::ValueEnum;
        f.write_str(self.to_possible_value().expect("no skipped presets").get_name())
    }
}

impl RunConfig {
    /// A built-in configuration.
    pub fn preset(preset: Preset) -> RunConfig {
        match preset {
            Preset::Multiroom => RunConfig {
                name: "multiroom-ibac-sni".into(),
                method: None,
                seed: 1,
                train_levels: 200,
                start_level: 0,
                total_frames: 1_500_000,
                num_envs: 16,
                num_steps: 128,
                // MultiRoom's 16 envs step in a few microseconds, less than a hand-over to a thread.
                workers: 1,
                checkpoint_interval: 50,
                eval: EvalConfig { interval: 25, episodes: 200, image_every: 4 },
                env: EnvConfig::MultiRoom(MultiRoomOptions {
                    obs: MultiRoomObs::Egocentric,
                    ..MultiRoomOptions::default()
                }),
                agent: multiroom_ibac_sni(),
            },
            Preset::Coinrun => RunConfig {
                name: "coinrun".into(),
                method: None,
                seed: 1,
                train_levels: 500,
                start_level: 0,
                total_frames: 200_000_000,
                num_envs: 96,
                num_steps: 256,
                workers: 0,
                checkpoint_interval: 20,
                eval: EvalConfig { interval: 20, episodes: 200, image_every: 5 },
                env: EnvConfig::CoinRun(CoinRunOptions::default()),
                agent: AgentConfig::coinrun(),
            },
            Preset::CoinrunSmall => {
                let coinrun = RunConfig::preset(Preset::Coinrun);
                let mut agent = coinrun.agent.clone();
                agent.encoder = EncoderConfig::Impala(ImpalaConfig { depths: vec![8, 16, 16] });
                agent.hidden.size = 128;
                agent.ppo.minibatches = 4;
                RunConfig {
                    name: "coinrun-small".into(),
                    train_levels: 100,
                    total_frames: 200_000,
                    num_envs: 16,
                    num_steps: 64,
                    eval: EvalConfig { interval: 20, episodes: 50, image_every: 2 },
                    env: EnvConfig::CoinRun(CoinRunOptions {
                        distribution_mode: DistributionMode::Easy,
                        ..CoinRunOptions::default()
                    }),
                    agent,
                    ..coinrun
                }
            }
        }
    }

    /// Builds a config from a preset, an optional TOML file layered on it, and `key=value`
    /// overrides, then validates it. A `method` (from the file or an override) replaces the
    /// preset's regularizers and SNI with that arm's before the file and the overrides apply,
    /// so they can still change any value. The value `none` unsets an optional field.
    pub fn resolve(preset: Preset, file: Option<&Path>, overrides: &[String]) -> Result<RunConfig, ConfigError> {
        let base =
            toml::Value::try_from(RunConfig::preset(preset)).map_err(|e| ConfigError::Serialize(e.to_string()))?;
        let layer = file.map(read_layer).transpose()?;
        let layered = |mut tree: toml::Value| -> Result<toml::Value, ConfigError> {
            if let Some(layer) = &layer {
                merge(&mut tree, toml::Value::Table(layer.clone()));
            }
            for o in overrides {
                apply_override(&mut tree, o)?;
            }
            Ok(tree)
        };
        let mut tree = layered(base.clone())?;
        if let Some(method) = method_of(&tree)? {
            let env = tree.get("env").and_then(|e| e.get("kind")).and_then(toml::Value::as_str).unwrap_or_default();
            let mut with_method = base;
            set_method(&mut with_method, method, env)?;
            tree = layered(with_method)?;
        }
        let config: RunConfig = tree.try_into().map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a saved, complete config (a run directory's `config.toml`).
    pub fn load(path: &Path) -> Result<RunConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        let config: RunConfig = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.display().to_string(), reason: e.to_string() })?;
        config.validate()?;
        Ok(config)
    }

    /// The config as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a run config always serializes")
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("total_frames", self.total_frames as usize),
            ("num_envs", self.num_envs),
            ("num_steps", self.num_steps),
            ("checkpoint_interval", self.checkpoint_interval),
            ("eval.episodes", self.eval.episodes),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ConfigError::OutOfRange { field: field.into(), reason: "must be at least 1".into() });
            }
        }
        if self.name.is_empty() || self.name.contains(['/', '\\']) || self.name.starts_with('.') {
            return Err(ConfigError::OutOfRange {
                field: "name".into(),
                reason: format!("{:?} is not a usable directory name", self.name),
            });
        }
        if self.start_level.checked_add(self.train_levels).is_none() {
            return Err(ConfigError::OutOfRange {
                field: "train_levels".into(),
                reason: "start_level + train_levels overflows".into(),
            });
        }
        let limits = [
            ("num_envs", self.num_envs, MAX_ENVS),
            ("num_steps", self.num_steps, MAX_STEPS),
            ("num_envs * num_steps", self.num_envs.saturating_mul(self.num_steps), MAX_BATCH),
            ("workers", self.workers, MAX_ENVS),
            ("eval.episodes", self.eval.episodes, MAX_EVAL_EPISODES),
        ];
        for (field, value, max) in limits {
            if value > max {
                return Err(ConfigError::OutOfRange { field: field.into(), reason: format!("{value} is above {max}") });
            }
        }
        let batch = self.num_envs * self.num_steps;
        if batch < self.agent.ppo.minibatches {
            return Err(ConfigError::OutOfRange {
                field: "agent.ppo.minibatches".into(),
                reason: format!("{} minibatches cannot split a batch of {batch} samples", self.agent.ppo.minibatches),
            });
        }
        self.agent.validate().map_err(|e| ConfigError::OutOfRange { field: "agent".into(), reason: e.to_string() })?;
        self.env.build().map_err(|e| ConfigError::OutOfRange { field: "env".into(), reason: e.to_string() })?;
        Ok(())
    }

    /// Levels to train on, and the held-out levels after them (never shared).
    pub fn level_sets(&self) -> (LevelSet, LevelSet) {
        LevelSet::new(self.start_level, self.train_levels).with_held_out()
    }

    /// Frames gathered per update.
    pub fn batch_size(&self) -> usize {
        self.num_envs * self.num_steps
    }

    /// Number of updates the run makes.
    pub fn num_updates(&self) -> usize {
        (self.total_frames as usize).div_ceil(self.batch_size())
    }

    /// Rollout worker threads, with 0 resolved to the machine's cores, at most one per env.
    pub fn worker_count(&self) -> usize {
        let w =
            if self.workers == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { self.workers };
        w.min(self.num_envs)
    }
}

/// Most parallel envs (and worker threads) a run may ask for: far above any machine's cores,
/// far below what would take minutes to allocate.
const MAX_ENVS: usize = 4096;
/// Most steps per env per update.
const MAX_STEPS: usize = 65_536;
/// Most samples in one update's rollout (the rollout holds each observation).
const MAX_BATCH: usize = 1 << 20;
/// Most episodes per evaluation.
const MAX_EVAL_EPISODES: usize = 1_000_000;

/// Reads a TOML file to lay over a config.
fn read_layer(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.display().to_string(), reason: e.to_string() })
}

/// The `method` a layered config tree names, if any.
fn method_of(tree: &toml::Value) -> Result<Option<Method>, ConfigError> {
    let Some(value) = tree.get("method") else { return Ok(None) };
    let name = value.as_str().unwrap_or_default();
    Method::from_name(name).map(Some).ok_or_else(|| ConfigError::OutOfRange {
        field: "method".into(),
        reason: format!("{value} is not a method; the methods are {}", Method::ALL.map(Method::name).join(", ")),
    })
}

/// Replaces the tree's regularizers and SNI lambda with `method`'s on the env called `env`.
fn set_method(tree: &mut toml::Value, method: Method, env: &str) -> Result<(), ConfigError> {
    let (regularizers, sni_lambda) = method.settings(env);
    let agent = tree.get_mut("agent").and_then(toml::Value::as_table_mut).expect("a config has an agent table");
    let regularizers = toml::Value::try_from(regularizers).map_err(|e| ConfigError::Serialize(e.to_string()))?;
    agent.insert("regularizers".into(), regularizers);
    match sni_lambda {
        Some(lambda) => agent.insert("sni_lambda".into(), toml::Value::Float(lambda)),
        None => agent.remove("sni_lambda"),
    };
    Ok(())
}

/// The word that unsets an optional field: `--set sni_lambda=none`, or `sni_lambda = "none"`
/// in a config file. A field whose current value is a string (the run's name) takes it as
/// that string.
const UNSET: &str = "none";

/// Whether `layer` unsets the field whose current value is `current`.
fn unsets(layer: &toml::Value, current: Option<&toml::Value>) -> bool {
    layer.as_str() == Some(UNSET) && !current.is_some_and(toml::Value::is_str)
}

/// A config that cannot be used, with what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML.
    #[error("config {path} is not valid TOML: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// An override is not `key=value`, or names no field.
    #[error("bad override {given:?}: {reason}")]
    Override {
        /// The override as given.
        given: String,
        /// Why.
        reason: String,
    },
    /// The merged config has unknown keys or wrongly typed values.
    #[error("invalid config: {0}")]
    Invalid(String),
    /// A value is outside its allowed range.
    #[error("invalid config value for `{field}`: {reason}")]
    OutOfRange {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
    /// Internal: the preset could not be turned into TOML.
    #[error("cannot serialize config: {0}")]
    Serialize(String),
}

/// Lays `layer` over `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Value, layer: toml::Value) {
    match (base, layer) {
        (toml::Value::Table(b), toml::Value::Table(l)) => {
            for (k, v) in l {
                if unsets(&v, b.get(&k)) {
                    b.remove(&k);
                    continue;
                }
                match b.get_mut(&k) {
                    Some(existing) if existing.is_table() && v.is_table() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, l) => *b = l,
    }
}

/// Applies `key=value`. The key is a dotted path (`agent.ppo.learning_rate`) or, when unique,
/// just its last part (`learning_rate`, `sni_lambda`). The value is a TOML literal, or a bare
/// string.
pub fn apply_override(tree: &mut toml::Value, given: &str) -> Result<(), ConfigError> {
    let err = |reason: String| ConfigError::Override { given: given.into(), reason };
    let (key, raw) = given.split_once('=').ok_or_else(|| err("expected key=value".into()))?;
    let (key, raw) = (key.trim(), raw.trim());
    let value = parse_value(raw);
    let path = resolve_key(tree, key).map_err(err)?;
    let (last, parents) = path.split_last().expect("resolved paths are never empty");
    let mut node = &mut *tree;
    for p in parents {
        node = node.get_mut(p.as_str()).expect("resolved path exists");
    }
    let table = node.as_table_mut().ok_or_else(|| err(format!("`{}` is not a table", parents.join("."))))?;
    if unsets(&value, table.get(last.as_str())) {
        table.remove(last.as_str());
    } else {
        table.insert(last.clone(), value);
    }
    Ok(())
}

/// A TOML literal (`0.5`, `true`, `[1, 2]`, `"x"`), or the raw text as a string.
fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// Finds the full path of `key`: the dotted path itself when it exists (or its parent table
/// does, for optional fields), else the one path whose last part is `key`.
fn resolve_key(tree: &toml::Value, key: &str) -> Result<Vec<String>, String> {
    let parts: Vec<String> = key.split('.').map(str::to_string).collect();
    let (_, parents) = parts.split_last().ok_or("empty key")?;
    let mut node = tree;
    let mut parent_exists = true;
    for p in parents {
        match node.get(p.as_str()) {
            Some(n) => node = n,
            None => {
                parent_exists = false;
                break;
            }
        }
    }
    if parent_exists && (node.get(parts.last().unwrap().as_str()).is_some() || !parents.is_empty()) {
        return Ok(parts);
    }
    let mut found = Vec::new();
    collect_suffix_matches(tree, &mut Vec::new(), &parts, &mut found);
    if found.is_empty() {
        // An optional field that is unset here (no `method`, no SNI) is still a field.
        collect_suffix_matches(&every_field(), &mut Vec::new(), &parts, &mut found);
    }
    match found.len() {
        1 => Ok(found.pop().unwrap()),
        0 => Err(format!("no config field is called `{key}`")),
        _ => Err(format!("`{key}` is ambiguous: {}", found.iter().map(|p| p.join(".")).collect::<Vec<_>>().join(", "))),
    }
}

/// A config tree with every optional field present, to find fields that a tree leaves unset.
fn every_field() -> toml::Value {
    let mut config = RunConfig::preset(Preset::Multiroom);
    config.method = Some(Method::Baseline);
    toml::Value::try_from(config).expect("a run config always serializes")
}

fn collect_suffix_matches(node: &toml::Value, path: &mut Vec<String>, key: &[String], found: &mut Vec<Vec<String>>) {
    let Some(table) = node.as_table() else { return };
    for (k, v) in table {
        path.push(k.clone());
        if path.ends_with(key) {
            found.push(path.clone());
        }
        collect_suffix_matches(v, path, key, found);
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(overrides: &[&str]) -> Result<RunConfig, ConfigError> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        RunConfig::resolve(Preset::Multiroom, None, &o)
    }

    #[test]
    fn presets_are_valid_and_round_trip_through_toml() {
        for p in [Preset::Multiroom, Preset::Coinrun, Preset::CoinrunSmall] {
            let c = RunConfig::preset(p);
            c.validate().unwrap();
            let back: RunConfig = toml::from_str(&c.to_toml()).unwrap();
            assert_eq!(back, c, "{p}");
        }
    }

    #[test]
    fn overrides_take_full_paths_and_unique_names() {
        let c = resolve(&["seed=7", "agent.ppo.learning_rate=0.001", "num_envs = 4", "train_levels=50"]).unwrap();
        assert_eq!((c.seed, c.agent.ppo.learning_rate, c.num_envs, c.train_levels), (7, 0.001, 4, 50));
        let c = resolve(&["sni_lambda=0.25"]).unwrap();
        assert_eq!(c.agent.sni_lambda, Some(0.25));
    }

    #[test]
    fn bad_overrides_are_clear_errors() {
        let msg = |o: &[&str]| resolve(o).unwrap_err().to_string();
        assert!(msg(&["no_such_field=1"]).contains("no config field is called `no_such_field`"));
        assert!(msg(&["seed"]).contains("expected key=value"));
        assert!(msg(&["num_envs=0"]).contains("num_envs"));
        assert!(msg(&["num_envs=\"many\""]).contains("num_envs"));
        assert!(msg(&["sni_lambda=1.5"]).contains("sni_lambda"));
    }

    #[test]
    fn a_method_sets_the_arm_and_later_values_override_it() {
        let c = resolve(&["method=baseline"]).unwrap();
        assert_eq!(c.method, Some(Method::Baseline));
        assert_eq!((c.agent.regularizers.clone(), c.agent.sni_lambda), (Default::default(), None));
        let c = resolve(&["method=dropout-sni", "dropout=0.1"]).unwrap();
        assert_eq!((c.agent.regularizers.dropout, c.agent.sni_lambda), (0.1, Some(0.5)));
        assert!(c.agent.regularizers.bottleneck.is_none(), "the preset's bottleneck is replaced");
        // The override may come before the method: the method still applies first.
        let c = resolve(&["sni_lambda=0.25", "method=ibac-sni"]).unwrap();
        assert_eq!(c.agent.sni_lambda, Some(0.25));
        let c = RunConfig::resolve(Preset::CoinrunSmall, None, &["method=ibac".into()]).unwrap();
        assert_eq!(c.agent.regularizers.bottleneck.unwrap().rho_shift, 5.0);
        assert_eq!(c.agent.regularizers.l2, 0.0, "an arm holds only its own regularizer");
        let err = resolve(&["method=ibac_sni"]).unwrap_err().to_string();
        assert!(err.contains("method") && err.contains("ibac-sni, dropout-sni"), "{err}");
    }

    #[test]
    fn none_unsets_an_optional_field_from_flags_and_files() {
        let c = resolve(&["sni_lambda=none", "agent.regularizers.bottleneck=none"]).unwrap();
        assert_eq!((c.agent.sni_lambda, c.agent.regularizers.bottleneck), (None, None));
        // An unset field can be set again, by its short name too.
        let c = resolve(&["sni_lambda=none", "sni_lambda=0.75"]).unwrap();
        assert_eq!(c.agent.sni_lambda, Some(0.75));
        let c = RunConfig::resolve(Preset::Coinrun, None, &["sni_lambda=0.5".into()]).unwrap();
        assert_eq!(c.agent.sni_lambda, Some(0.5));
        // A string field takes "none" as its value; a required field cannot be unset.
        assert_eq!(resolve(&["name=none"]).unwrap().name, "none");
        assert!(resolve(&["seed=none"]).unwrap_err().to_string().contains("seed"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("arm.toml");
        std::fs::write(&path, "[agent]\nsni_lambda = \"none\"\n[agent.regularizers]\nbottleneck = \"none\"\n").unwrap();
        let c = RunConfig::resolve(Preset::Multiroom, Some(&path), &[]).unwrap();
        assert_eq!((c.agent.sni_lambda, c.agent.regularizers.bottleneck), (None, None));
        std::fs::write(&path, "method = \"l2\"\n").unwrap();
        let c = RunConfig::resolve(Preset::Multiroom, Some(&path), &[]).unwrap();
        assert_eq!((c.method, c.agent.regularizers.l2, c.agent.sni_lambda), (Some(Method::L2), 1e-4, None));
    }

    #[test]
    fn absurd_sizes_are_refused() {
        for o in ["num_envs=1000000", "num_steps=100000000", "workers=100000", "eval.episodes=100000000"] {
            let err = resolve(&[o]).unwrap_err().to_string();
            assert!(err.contains(o.split('=').next().unwrap()) && err.contains("above"), "{o}: {err}");
        }
        let err = resolve(&["num_envs=4096", "num_steps=4096"]).unwrap_err().to_string();
        assert!(err.contains("num_envs * num_steps"), "{err}");
    }

    #[test]
    fn unknown_keys_in_a_file_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "seed = 3\ntypo_field = 1\n").unwrap();
        let err = RunConfig::resolve(Preset::Multiroom, Some(&path), &[]).unwrap_err().to_string();
        assert!(err.contains("typo_field"), "{err}");
        std::fs::write(&path, "seed = 3\n[eval]\nepisodes = 10\n").unwrap();
        let c = RunConfig::resolve(Preset::Multiroom, Some(&path), &[]).unwrap();
        assert_eq!((c.seed, c.eval.episodes, c.eval.interval), (3, 10, 25));
        std::fs::write(&path, "seed = [").unwrap();
        assert!(
            RunConfig::resolve(Preset::Multiroom, Some(&path), &[]).unwrap_err().to_string().contains("not valid TOML")
        );
    }
}
