//! Sweeps: one independent `heldout train` process per combination of swept values and seed,
//! each in `runs/<sweep>/<run>/`, then a summary (CSV, Markdown, PNG plot) over seeds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

use crate::paths::RESULT_FILE;
use crate::stats::standard_error;
use crate::trainer::RunResult;

/// One swept config field and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The config key, as `--set` takes it.
    pub key: String,
    /// Its values, as TOML literals.
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `key=v1,v2,...`.
    pub fn parse(given: &str) -> Result<Axis> {
        let (key, values) =
            given.split_once('=').with_context(|| format!("bad --set {given:?}: expected key=v1,v2,..."))?;
        let values: Vec<String> = split_values(values);
        ensure!(!key.trim().is_empty() && !values.is_empty(), "bad --set {given:?}: expected key=v1,v2,...");
        Ok(Axis { key: key.trim().to_string(), values })
    }
}

/// Splits `0,0.5,[1,2],"a,b"` at top-level commas.
fn split_values(text: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quoted) = (Vec::new(), String::new(), 0i32, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' | '{' if !quoted => depth += 1,
            ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out.into_iter().filter(|v| !v.is_empty()).collect()
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Directory name inside the sweep directory.
    pub name: String,
    /// The swept `key=value` settings of this run (without the seed).
    pub setting: Vec<(String, String)>,
    /// The run's seed.
    pub seed: u64,
    /// The run's directory.
    pub dir: PathBuf,
    /// The arguments after `heldout` that run it.
    pub args: Vec<String>,
}

impl PlannedRun {
    /// True when the run has written its final result.
    pub fn is_finished(&self) -> bool {
        self.dir.join(RESULT_FILE).exists()
    }

    /// The command that runs it with the `heldout` executable `exe`, each word shell-quoted.
    pub fn command_line(&self, exe: &Path) -> String {
        let exe = exe.display().to_string();
        std::iter::once(&exe).chain(&self.args).map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
    }
}

/// `word` as one word of a POSIX shell command: unchanged when it holds only letters, digits and
/// `-_./=,:`, else in single quotes (a `'` inside becomes `'\''`).
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Every run of a sweep: the product of the axes' values, times `seeds` seeds from `first_seed`.
/// `base_args` (preset, config file, fixed overrides) go before each run's own arguments.
pub fn plan(sweep_dir: &Path, axes: &[Axis], seeds: u64, first_seed: u64, base_args: &[String]) -> Vec<PlannedRun> {
    let mut settings: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        settings = settings
            .into_iter()
            .flat_map(|s| {
                axis.values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.push((axis.key.clone(), v.clone()));
                    s
                })
            })
            .collect();
    }
    let mut runs = Vec::new();
    for setting in settings {
        for seed in first_seed..first_seed + seeds {
            let mut parts: Vec<String> = setting.iter().map(|(k, v)| format!("{}-{}", k, v)).collect();
            parts.push(format!("seed-{seed}"));
            let name = sanitize(&parts.join("_"));
            let dir = sweep_dir.join(&name);
            let mut args = vec!["train".to_string()];
            args.extend(base_args.iter().cloned());
            for (k, v) in &setting {
                args.extend(["--set".to_string(), format!("{k}={v}")]);
            }
            args.extend([
                "--seed".to_string(),
                seed.to_string(),
                "--name".to_string(),
                name.clone(),
                "--run-dir".to_string(),
                dir.display().to_string(),
                "--resume-or-start".to_string(),
                "--quiet".to_string(),
            ]);
            runs.push(PlannedRun { name, setting: setting.clone(), seed, dir, args });
        }
    }
    runs
}

/// A directory-safe name: letters, digits, `.`, `-`, `_`; anything else becomes `_`.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

/// Runs the unfinished runs, up to `jobs` processes at a time, each logging to `train.log` in its
/// directory, and calls `finished` with each run that finishes (from the thread that ran it).
/// Returns the runs that failed with their error.
pub fn execute(
    exe: &Path,
    runs: &[PlannedRun],
    jobs: usize,
    finished: &(dyn Fn(&PlannedRun) + Sync),
) -> Vec<(String, String)> {
    let queue = crossbeam::queue::SegQueue::new();
    runs.iter().filter(|r| !r.is_finished()).for_each(|r| queue.push(r));
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                while let Some(run) = queue.pop() {
                    eprintln!("sweep: starting {}", run.name);
                    if let Err(e) = run_one(exe, run) {
                        eprintln!("sweep: {} failed: {e:#}", run.name);
                        failures
                            .lock()
                            .expect("no panics while holding the lock")
                            .push((run.name.clone(), format!("{e:#}")));
                    } else {
                        eprintln!("sweep: finished {}", run.name);
                        finished(run);
                    }
                }
            });
        }
    });
    failures.into_inner().expect("no panics while holding the lock")
}

/// An error naming the runs that failed, if any did (after the others finished and were
/// summarised).
pub fn check_failures(failures: &[(String, String)], total: usize) -> Result<()> {
    if !failures.is_empty() {
        bail!(
            "{} of {total} runs failed: {}",
            failures.len(),
            failures.iter().map(|f| f.0.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

fn run_one(exe: &Path, run: &PlannedRun) -> Result<()> {
    std::fs::create_dir_all(&run.dir).with_context(|| format!("creating {}", run.dir.display()))?;
    let log_path = run.dir.join("train.log");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
    let status = Command::new(exe)
        .args(&run.args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    if !status.success() {
        bail!("exited with {status}; see {}", log_path.display());
    }
    Ok(())
}

/// Mean and standard error over seeds of one setting's final results.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingSummary {
    /// The swept `key=value` settings.
    pub setting: Vec<(String, String)>,
    /// Finished runs (seeds) summarised.
    pub runs: usize,
    /// Mean final training-level success.
    pub train_success: f64,
    /// Its standard error over seeds.
    pub train_success_se: f64,
    /// Mean final held-out success.
    pub test_success: f64,
    /// Its standard error over seeds.
    pub test_success_se: f64,
}

/// Final successes of one setting's finished runs.
struct Finished {
    setting: Vec<(String, String)>,
    train: Vec<f64>,
    test: Vec<f64>,
}

/// Summarises the finished runs of a sweep by setting, in plan order.
pub fn summarize(runs: &[PlannedRun]) -> Result<Vec<SettingSummary>> {
    let mut groups: Vec<Finished> = Vec::new();
    for run in runs {
        let group = match groups.iter().position(|g| g.setting == run.setting) {
            Some(i) => &mut groups[i],
            None => {
                groups.push(Finished { setting: run.setting.clone(), train: Vec::new(), test: Vec::new() });
                groups.last_mut().expect("just pushed")
            }
        };
        if run.is_finished() {
            let path = run.dir.join(RESULT_FILE);
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let result: RunResult = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            group.train.push(result.train.success.mean);
            group.test.push(result.test.success.mean);
        }
    }
    Ok(groups
        .into_iter()
        .map(|g| SettingSummary {
            runs: g.train.len(),
            train_success: mean(&g.train),
            train_success_se: standard_error(&g.train),
            test_success: mean(&g.test),
            test_success_se: standard_error(&g.test),
            setting: g.setting,
        })
        .collect())
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// Summarises the finished runs of the sweep called `name` (swept `keys`) into `sweep_dir`:
/// `summary.csv`, `summary.md` and, when something was swept, `summary.png`. Returns the
/// Markdown.
pub fn write_summary(sweep_dir: &Path, name: &str, keys: &[String], runs: &[PlannedRun]) -> Result<String> {
    let summary = summarize(runs)?;
    crate::atomic::write(&sweep_dir.join("summary.csv"), to_csv(keys, &summary).as_bytes())?;
    let markdown = to_markdown(name, keys, &summary);
    crate::atomic::write(&sweep_dir.join("summary.md"), markdown.as_bytes())?;
    if keys.is_empty() {
        eprintln!("nothing swept: no plot");
    } else if let Err(e) = crate::plot::plot_success(name, keys, &summary, &sweep_dir.join("summary.png")) {
        eprintln!("no plot: {e:#}");
    }
    Ok(markdown)
}

/// The summary as CSV: one row per setting.
pub fn to_csv(keys: &[String], summary: &[SettingSummary]) -> String {
    let mut out = keys.join(",");
    out.push_str(if keys.is_empty() { "" } else { "," });
    out.push_str("runs,train_success_mean,train_success_se,test_success_mean,test_success_se\n");
    for s in summary {
        for (_, v) in &s.setting {
            out.push_str(&csv_field(v));
            out.push(',');
        }
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            s.runs, s.train_success, s.train_success_se, s.test_success, s.test_success_se
        ));
    }
    out
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
}

/// The summary as a Markdown table.
pub fn to_markdown(title: &str, keys: &[String], summary: &[SettingSummary]) -> String {
    let mut out = format!(
        "# Sweep {title}\n\nFinal success rates of the noise-free policy, mean ± standard error over seeds.\n\n|"
    );
    for k in keys {
        out.push_str(&format!(" {k} |"));
    }
    out.push_str(" runs | train success | test success | gap |\n|");
    out.push_str(&"---|".repeat(keys.len() + 4));
    out.push('\n');
    for s in summary {
        out.push('|');
        for (_, v) in &s.setting {
            out.push_str(&format!(" {v} |"));
        }
        out.push_str(&format!(
            " {} | {:.3} ± {:.3} | {:.3} ± {:.3} | {:.3} |\n",
            s.runs,
            s.train_success,
            s.train_success_se,
            s.test_success,
            s.test_success_se,
            s.train_success - s.test_success
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_split_at_top_level_commas() {
        let a = Axis::parse("sni_lambda=0, 0.25,0.5").unwrap();
        assert_eq!(a, Axis { key: "sni_lambda".into(), values: vec!["0".into(), "0.25".into(), "0.5".into()] });
        let a = Axis::parse("x=[1,2],\"a,b\",{ p = 1, q = 2 }").unwrap();
        assert_eq!(a.values, vec!["[1,2]", "\"a,b\"", "{ p = 1, q = 2 }"]);
        assert!(Axis::parse("nothing").is_err());
        assert!(Axis::parse("k=").is_err());
    }

    #[test]
    fn plan_is_the_product_of_axes_and_seeds() {
        let axes = [Axis::parse("sni_lambda=0,1").unwrap(), Axis::parse("train_levels=10,20,30").unwrap()];
        let runs = plan(Path::new("runs/s"), &axes, 2, 1, &["--preset".into(), "multiroom".into()]);
        assert_eq!(runs.len(), 12);
        let names: std::collections::HashSet<_> = runs.iter().map(|r| r.name.clone()).collect();
        assert_eq!(names.len(), 12);
        let r = &runs[3];
        assert_eq!(r.name, "sni_lambda-0_train_levels-20_seed-2");
        assert_eq!(r.dir, Path::new("runs/s/sni_lambda-0_train_levels-20_seed-2"));
        assert_eq!(&r.args[..3], ["train", "--preset", "multiroom"]);
        assert!(r.args.windows(2).any(|w| w == ["--set", "train_levels=20"]));
        assert!(r.args.windows(2).any(|w| w == ["--seed", "2"]));
    }

    #[test]
    fn command_lines_quote_what_the_shell_would_split() {
        assert_eq!(shell_quote("runs/s_1:a=0.5,b"), "runs/s_1:a=0.5,b");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("x=\"it's\""), "'x=\"it'\\''s\"'");
        let run = &plan(Path::new("runs/s"), &[Axis::parse("name=[1, 2],3").unwrap()], 1, 1, &[])[0];
        assert!(run.command_line(Path::new("/a b/heldout")).starts_with("'/a b/heldout' train --set 'name=[1, 2]' "));
    }

    #[test]
    fn summary_tables_show_each_setting() {
        let s = vec![SettingSummary {
            setting: vec![("sni_lambda".into(), "0.5".into())],
            runs: 3,
            train_success: 0.9,
            train_success_se: 0.05,
            test_success: 0.6,
            test_success_se: 0.1,
        }];
        let keys = vec!["sni_lambda".to_string()];
        assert_eq!(
            to_csv(&keys, &s),
            "sni_lambda,runs,train_success_mean,train_success_se,test_success_mean,test_success_se\n0.5,3,0.9,0.05,0.6,0.1\n"
        );
        let md = to_markdown("t", &keys, &s);
        assert!(md.contains("| 0.5 | 3 | 0.900 ± 0.050 | 0.600 ± 0.100 | 0.300 |"), "{md}");
    }
}
