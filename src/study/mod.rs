//! Studies: the paper's comparison as a file. A study names a preset, the overrides every run
//! shares, the axes it varies (arms, training-level counts, SNI lambdas, frames, any config
//! key) and the seeds; `heldout study` runs each run as its own `heldout train` process in
//! `runs/study-<name>/`, skips finished runs, and writes `results/<name>/`: `runs.csv`,
//! `summary.csv`, `summary.md` and plots, with the statistics of [`crate::aggregate`].
//!
//! ```toml
//! description = "MultiRoom: held-out success against the number of training levels"
//! preset = "multiroom"
//! set = ["workers=1"]
//! seeds = 5
//! [axes]
//! method = ["baseline", "l2", "dropout", "batchnorm", "ibac", "ibac-sni", "dropout-sni"]
//! train_levels = [5, 10, 25, 50, 200]
//! total_frames = [400000]
//! ```

pub mod plots;
pub mod results;
pub mod uncertainty;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::config::Preset;
use crate::method::Method;
use crate::sweep::{Axis, PlannedRun, plan};

/// The directory results go to, one folder per study.
pub const RESULTS_DIR: &str = "results";
/// The copy of the study file kept in its results directory, to tell studies apart.
const STUDY_COPY: &str = "study.toml";

/// A study file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// What the study asks, for the summary's title.
    #[serde(default)]
    pub description: String,
    /// The configuration every run starts from.
    pub preset: Preset,
    /// `key=value` overrides every run shares (as `heldout train --set`).
    #[serde(default)]
    pub set: Vec<String>,
    /// Seeds per setting: `first_seed`, `first_seed + 1`, ...
    pub seeds: u64,
    /// The first seed.
    #[serde(default = "first_seed")]
    pub first_seed: u64,
    /// The varied config keys and their values; the runs are the product of the axes.
    pub axes: toml::Table,
}

fn first_seed() -> u64 {
    1
}

impl Study {
    /// Reads and checks a study file.
    pub fn load(path: &Path) -> Result<Study> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read study {}", path.display()))?;
        let study: Study =
            toml::from_str(&text).with_context(|| format!("study {} is not a valid study file", path.display()))?;
        study.validate().with_context(|| format!("study {}", path.display()))?;
        Ok(study)
    }

    /// Checks the seeds and axes: every axis has values, every `method` is an arm.
    pub fn validate(&self) -> Result<()> {
        ensure!(self.seeds > 0, "`seeds` must be at least 1");
        ensure!(!self.axes.is_empty(), "a study needs at least one axis under [axes]");
        for (key, values) in &self.axes {
            let values = values.as_array().with_context(|| format!("axis `{key}` must be a list of values"))?;
            ensure!(!values.is_empty(), "axis `{key}` is empty: give it at least one value");
            if key == "method" {
                for v in values {
                    let name = v.as_str().unwrap_or_default();
                    if Method::from_name(name).is_none() {
                        bail!(
                            "axis `method`: {v} is not an arm; the arms are {}",
                            Method::ALL.map(Method::name).join(", ")
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// The axes as a sweep takes them: `method` first, then the others by name.
    pub fn sweep_axes(&self) -> Vec<Axis> {
        let mut keys: Vec<&String> = self.axes.keys().collect();
        keys.sort_by_key(|k| (k.as_str() != "method", k.as_str()));
        keys.into_iter()
            .map(|key| {
                let values = self.axes[key].as_array().expect("validated: axes are lists");
                Axis { key: key.clone(), values: values.iter().map(value_text).collect() }
            })
            .collect()
    }

    /// Every run of the study, in `runs_dir/study-<name>/` ([`sweep_name`]).
    pub fn plan(&self, name: &str, runs_dir: &Path) -> Vec<PlannedRun> {
        let mut base_args = vec!["--preset".to_string(), self.preset.to_string()];
        for s in &self.set {
            base_args.extend(["--set".to_string(), s.clone()]);
        }
        plan(&runs_dir.join(sweep_name(name)), &self.sweep_axes(), self.seeds, self.first_seed, &base_args)
    }

    /// Whether two study files describe the same study (seeds may be added to a study).
    fn same_study(&self, other: &Study) -> bool {
        (&self.preset, &self.set, &self.axes, self.first_seed)
            == (&other.preset, &other.set, &other.axes, other.first_seed)
    }
}

/// A value as `--set` takes it: strings bare (`ibac-sni`), anything else as TOML.
fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The study's name: its file's stem (`studies/multiroom-levels.toml` -> `multiroom-levels`).
pub fn name_of(path: &Path) -> Result<String> {
    let stem = path.file_stem().and_then(|s| s.to_str()).filter(|s| !s.is_empty() && !s.starts_with('.'));
    Ok(stem.with_context(|| format!("{} has no usable file name for a study", path.display()))?.to_string())
}

/// The results directory of study `name`, claimed for `study` (its copy of the study file
/// written): a directory that holds another study's results is refused.
pub fn claim_results_dir(results_root: &Path, name: &str, study: &Study) -> Result<PathBuf> {
    let dir = check_results_dir(results_root, name, study)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = toml::to_string(study).context("serializing the study")?;
    crate::atomic::write(&dir.join(STUDY_COPY), text.as_bytes())?;
    Ok(dir)
}

/// The results directory of study `name`, without claiming it: an error when it holds another
/// study's results.
pub fn check_results_dir(results_root: &Path, name: &str, study: &Study) -> Result<PathBuf> {
    let dir = results_root.join(name);
    let copy = dir.join(STUDY_COPY);
    if copy.exists() {
        let text = std::fs::read_to_string(&copy).with_context(|| format!("reading {}", copy.display()))?;
        let saved: Study = toml::from_str(&text).with_context(|| format!("{} is not a study file", copy.display()))?;
        if !saved.same_study(study) {
            bail!(
                "{} holds the results of a different study (its {} differs in preset, set, axes or first seed); \
                 move it away or name the study file differently",
                dir.display(),
                copy.display()
            );
        }
    }
    Ok(dir)
}

/// The name of a study's sweep: its runs' folder in the runs directory and its Slurm job.
pub fn sweep_name(name: &str) -> String {
    format!("study-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study(text: &str) -> Result<Study> {
        let s: Study = toml::from_str(text)?;
        s.validate()?;
        Ok(s)
    }

    const LEVELS: &str = r#"
preset = "multiroom"
set = ["workers=1"]
seeds = 2
[axes]
train_levels = [5, 10]
method = ["baseline", "ibac-sni"]
"#;

    #[test]
    fn a_study_plans_the_product_of_its_axes_and_seeds() {
        let s = study(LEVELS).unwrap();
        let runs = s.plan("lv", Path::new("runs"));
        assert_eq!(runs.len(), 8);
        assert_eq!(runs[0].name, "method-baseline_train_levels-5_seed-1");
        assert_eq!(runs[0].dir, Path::new("runs/study-lv/method-baseline_train_levels-5_seed-1"));
        let last = &runs[7];
        assert!(last.args.windows(2).any(|w| w == ["--set", "method=ibac-sni"]), "{:?}", last.args);
        assert!(last.args.windows(2).any(|w| w == ["--set", "workers=1"]));
        assert!(last.args.windows(2).any(|w| w == ["--seed", "2"]));
    }

    #[test]
    fn bad_study_files_are_clear_errors() {
        let msg = |t: &str| format!("{:#}", study(t).unwrap_err());
        assert!(msg("preset = \"multiroom\"\nseeds = 1\ntypo = 3\n[axes]\nseed = [1]\n").contains("typo"));
        assert!(
            msg("preset = \"multiroom\"\nseeds = 1\n[axes]\ntrain_levels = []\n").contains("`train_levels` is empty")
        );
        let e = msg("preset = \"multiroom\"\nseeds = 1\n[axes]\nmethod = [\"ibac\", \"sni\"]\n");
        assert!(e.contains("\"sni\" is not an arm") && e.contains("dropout-sni"), "{e}");
        assert!(msg("preset = \"multiroom\"\nseeds = 0\n[axes]\nseed = [1]\n").contains("seeds"));
        assert!(msg("preset = \"gridworld\"\nseeds = 1\n[axes]\nseed = [1]\n").contains("gridworld"));
        assert!(msg("preset = \"multiroom\"\nseeds = 1\n[axes]\n").contains("at least one axis"));
    }

    #[test]
    fn a_results_directory_belongs_to_one_study() {
        let tmp = tempfile::tempdir().unwrap();
        let s = study(LEVELS).unwrap();
        let dir = claim_results_dir(tmp.path(), "lv", &s).unwrap();
        assert!(dir.join(STUDY_COPY).exists());
        let more_seeds = Study { seeds: 5, ..s.clone() };
        claim_results_dir(tmp.path(), "lv", &more_seeds).unwrap();
        let other = Study { preset: Preset::CoinrunSmall, ..s };
        let err = claim_results_dir(tmp.path(), "lv", &other).unwrap_err().to_string();
        assert!(err.contains("different study"), "{err}");
    }
}
