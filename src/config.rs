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

/// Everything a training run needs; saved as `config.toml` in the run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Run name: the run lives in `runs/<name>/` unless a run directory is given.
    pub name: String,
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
    /// Rollout worker threads; 0 = one per core.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
                seed: 1,
                train_levels: 200,
                start_level: 0,
                total_frames: 1_500_000,
                num_envs: 16,
                num_steps: 128,
                workers: 0,
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
    /// overrides, then validates it.
    pub fn resolve(preset: Preset, file: Option<&Path>, overrides: &[String]) -> Result<RunConfig, ConfigError> {
        let mut tree =
            toml::Value::try_from(RunConfig::preset(preset)).map_err(|e| ConfigError::Serialize(e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
            let layer: toml::Table = toml::from_str(&text)
                .map_err(|e| ConfigError::Parse { path: path.display().to_string(), reason: e.to_string() })?;
            merge(&mut tree, toml::Value::Table(layer));
        }
        for o in overrides {
            apply_override(&mut tree, o)?;
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
    table.insert(last.clone(), value);
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
    match found.len() {
        1 => Ok(found.pop().unwrap()),
        0 => Err(format!("no config field is called `{key}`")),
        _ => Err(format!("`{key}` is ambiguous: {}", found.iter().map(|p| p.join(".")).collect::<Vec<_>>().join(", "))),
    }
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
