//! A study's finished runs as rows, and their summary per arm and setting: mean, IQM with its
//! 95% stratified bootstrap interval, and the probability of improvement over `baseline`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::aggregate::{Interval, Scores, bootstrap_ci, iqm, mean, probability_of_improvement_ci};
use crate::config::RunConfig;
use crate::paths::{CONFIG_FILE, EVAL_FILE, RESULT_FILE};
use crate::sweep::PlannedRun;
use crate::trainer::RunResult;

/// Bootstrap resamples of every interval (rliable's default is 2,000).
pub const RESAMPLES: usize = 2000;
/// The bootstrap generator's seed: the same runs give the same intervals.
pub const BOOTSTRAP_SEED: u64 = 0;

/// One finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Its directory name.
    pub run: String,
    /// The arm (`method`), or `custom` when the run names none.
    pub arm: String,
    /// Training levels.
    pub train_levels: u64,
    /// SNI lambda, if SNI is on.
    pub sni_lambda: Option<f64>,
    /// Seed.
    pub seed: u64,
    /// Frames trained.
    pub frames: u64,
    /// Final success on training levels.
    pub train_success: f64,
    /// Final success on held-out levels.
    pub test_success: f64,
    /// Final return on training levels.
    pub train_return: f64,
    /// Final return on held-out levels.
    pub test_return: f64,
    /// Final fraction of right decisions on training levels (random-label levels).
    pub train_decision: f64,
    /// Final fraction of right decisions on held-out levels.
    pub test_decision: f64,
    /// Wall-clock seconds of the run.
    pub wall_seconds: f64,
    /// The AUROC of an episode's uncertainty for failing a held-out level, when measured
    /// (`heldout study --uncertainty`), else NaN.
    pub auroc: f64,
}

impl RunRow {
    /// The setting a row belongs to, apart from its arm: levels, lambda, frames.
    fn setting(&self) -> Setting {
        Setting { train_levels: self.train_levels, sni_lambda: self.sni_lambda, frames: self.frames }
    }
}

/// The directory, inside a study's results, that keeps each finished run's evaluation curve.
pub const CURVES_DIR: &str = "curves";

/// The rows of every finished run of `runs`, in plan order: from the run's directory when it
/// is there (its evaluation curve then copied to `results_dir/curves/`), else from the
/// `runs.csv` an earlier sitting wrote into `results_dir`. A run finished once is never
/// redone, even when its directory is gone (a fresh checkout keeps only `results/`).
pub fn collect(runs: &[PlannedRun], results_dir: &Path) -> Result<Vec<RunRow>> {
    let earlier = recorded(&results_dir.join("runs.csv"))?;
    let mut rows = Vec::new();
    for run in runs {
        if !run.is_finished() {
            if let Some(row) = earlier.iter().find(|r| r.run == run.name) {
                rows.push(row.clone());
            }
            continue;
        }
        let curves = results_dir.join(CURVES_DIR);
        std::fs::create_dir_all(&curves).with_context(|| format!("creating {}", curves.display()))?;
        let curve = std::fs::read(run.dir.join(EVAL_FILE)).with_context(|| format!("reading {}'s curve", run.name))?;
        crate::atomic::write(&curves.join(format!("{}.csv", run.name)), &curve)?;
        let config = RunConfig::load(&run.dir.join(CONFIG_FILE))?;
        let path = run.dir.join(RESULT_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let result: RunResult = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        rows.push(RunRow {
            run: run.name.clone(),
            arm: config.method.map_or("custom", |m| m.name()).to_string(),
            train_levels: config.train_levels,
            sni_lambda: config.agent.sni_lambda,
            seed: config.seed,
            frames: result.frames,
            train_success: result.train.success.mean,
            test_success: result.test.success.mean,
            train_return: result.train.episode_return.mean,
            test_return: result.test.episode_return.mean,
            train_decision: result.train.decision.mean,
            test_decision: result.test.decision.mean,
            wall_seconds: result.wall_seconds,
            auroc: read_auroc(&run.dir)?,
        });
    }
    Ok(rows)
}

/// The rows of a `runs.csv`, or none when the file does not exist.
fn recorded(path: &Path) -> Result<Vec<RunRow>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(Vec::new()) };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let bad = |what: &str| anyhow::anyhow!("{}: {what}", path.display());
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let cell = |name: &str| -> Result<&str> {
                let i = header.iter().position(|h| *h == name).ok_or_else(|| bad(&format!("no column {name}")))?;
                cells.get(i).copied().ok_or_else(|| bad(&format!("a short row: {line:?}")))
            };
            let number = |name: &str| -> Result<f64> {
                cell(name)?.parse().map_err(|_| bad(&format!("{name} is not a number in {line:?}")))
            };
            let count = |name: &str| -> Result<u64> {
                cell(name)?.parse().map_err(|_| bad(&format!("{name} is not a count in {line:?}")))
            };
            Ok(RunRow {
                run: cell("run")?.to_string(),
                arm: cell("arm")?.to_string(),
                train_levels: count("train_levels")?,
                sni_lambda: match cell("sni_lambda")? {
                    "none" => None,
                    _ => Some(number("sni_lambda")?),
                },
                seed: count("seed")?,
                frames: count("frames")?,
                train_success: number("train_success")?,
                test_success: number("test_success")?,
                train_return: number("train_return")?,
                test_return: number("test_return")?,
                train_decision: number("train_decision")?,
                test_decision: number("test_decision")?,
                wall_seconds: number("wall_seconds")?,
                auroc: number("auroc")?,
            })
        })
        .collect()
}

/// A run's measured AUROC, or NaN.
fn read_auroc(dir: &Path) -> Result<f64> {
    let path = dir.join(super::uncertainty::FILE);
    if !path.exists() {
        return Ok(f64::NAN);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let measured: super::uncertainty::RunUncertainty =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(measured.auroc)
}

/// What a summary row pools over seeds: everything but the arm and the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// Training levels.
    pub train_levels: u64,
    /// SNI lambda, if on.
    pub sni_lambda: Option<f64>,
    /// Frames trained.
    pub frames: u64,
}

/// One line of the summary: an arm at one setting, or (`setting: None`) pooled over every
/// setting as the tasks of an aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The arm.
    pub arm: String,
    /// The setting, or `None` for the arm's aggregate over settings.
    pub setting: Option<Setting>,
    /// Runs pooled.
    pub runs: usize,
    /// Mean held-out success.
    pub test_mean: f64,
    /// IQM of held-out success with its interval.
    pub test_iqm: Interval,
    /// IQM of training-level success with its interval.
    pub train_iqm: Interval,
    /// IQM of the generalization gap (train - held-out success, per run) with its interval.
    pub gap_iqm: Interval,
    /// IQM of the fraction of right decisions on training levels, with its interval, when every
    /// pooled run recorded it (random-label levels; without them it equals success).
    pub train_decision_iqm: Option<Interval>,
    /// The same on held-out levels.
    pub test_decision_iqm: Option<Interval>,
    /// IQM over runs of the AUROC of an episode's uncertainty for held-out failure, with its
    /// interval, over the runs where it was measured and defined.
    pub auroc_iqm: Option<Interval>,
    /// P(this arm's held-out success > baseline's) with its interval, when the study has a
    /// baseline at the same settings.
    pub improvement: Option<Interval>,
}

/// Summarises rows: one line per arm and setting, then one per arm over all its settings (the
/// settings as tasks: stratified bootstrap within each), arms in first-seen order.
pub fn summarize(rows: &[RunRow]) -> Result<Vec<SummaryRow>> {
    let mut arms: Vec<&str> = Vec::new();
    let mut settings: Vec<Setting> = Vec::new();
    for r in rows {
        if !arms.contains(&r.arm.as_str()) {
            arms.push(&r.arm);
        }
        if !settings.contains(&r.setting()) {
            settings.push(r.setting());
        }
    }
    let mut out = Vec::new();
    for arm in arms {
        let arm_settings: Vec<Setting> =
            settings.iter().filter(|s| rows.iter().any(|r| r.arm == arm && r.setting() == **s)).copied().collect();
        for setting in &arm_settings {
            out.push(summary_row(rows, arm, std::slice::from_ref(setting), Some(*setting))?);
        }
        if arm_settings.len() > 1 {
            out.push(summary_row(rows, arm, &arm_settings, None)?);
        }
    }
    Ok(out)
}

/// The scores `of` of the runs of `arm`, one task per setting of `tasks`.
fn task_scores(rows: &[RunRow], arm: &str, tasks: &[Setting], of: fn(&RunRow) -> f64) -> Scores {
    Scores::new(
        tasks.iter().map(|s| rows.iter().filter(|r| r.arm == arm && r.setting() == *s).map(of).collect()).collect(),
    )
}

/// The summary of `arm` over the settings `tasks` (`setting`: the one setting, or `None` for
/// an aggregate). The baseline it is compared with ran without SNI at the same levels and
/// frames.
fn summary_row(rows: &[RunRow], arm: &str, tasks: &[Setting], setting: Option<Setting>) -> Result<SummaryRow> {
    let test = task_scores(rows, arm, tasks, |r| r.test_success);
    let train = task_scores(rows, arm, tasks, |r| r.train_success);
    let gap = task_scores(rows, arm, tasks, |r| r.train_success - r.test_success);
    let baseline_tasks: Vec<Setting> = tasks.iter().map(|s| Setting { sni_lambda: None, ..*s }).collect();
    let baseline = task_scores(rows, "baseline", &baseline_tasks, |r| r.test_success);
    let ci = |s: &Scores| bootstrap_ci(s, iqm, RESAMPLES, BOOTSTRAP_SEED);
    let improvement = (arm != "baseline" && baseline.tasks.iter().all(|t| !t.is_empty()))
        .then(|| probability_of_improvement_ci(&test, &baseline, RESAMPLES, BOOTSTRAP_SEED))
        .transpose()?;
    Ok(SummaryRow {
        arm: arm.to_string(),
        setting,
        runs: test.num_runs(),
        test_mean: mean(&test)?,
        test_iqm: ci(&test)?,
        train_iqm: ci(&train)?,
        gap_iqm: ci(&gap)?,
        train_decision_iqm: finite_ci(&task_scores(rows, arm, tasks, |r| r.train_decision))?,
        test_decision_iqm: finite_ci(&task_scores(rows, arm, tasks, |r| r.test_decision))?,
        auroc_iqm: measured_ci(task_scores(rows, arm, tasks, |r| r.auroc))?,
        improvement,
    })
}

/// The IQM interval of `scores`, or `None` when some run did not record them (NaN: a result
/// written before the metric existed).
fn finite_ci(scores: &Scores) -> Result<Option<Interval>> {
    if scores.tasks.iter().flatten().any(|v| !v.is_finite()) {
        return Ok(None);
    }
    Ok(Some(bootstrap_ci(scores, iqm, RESAMPLES, BOOTSTRAP_SEED)?))
}

/// The IQM interval of the finite scores (tasks left empty dropped), or `None` when no run has
/// one.
fn measured_ci(scores: Scores) -> Result<Option<Interval>> {
    let tasks: Vec<Vec<f64>> = scores
        .tasks
        .into_iter()
        .map(|t| t.into_iter().filter(|v| v.is_finite()).collect::<Vec<f64>>())
        .filter(|t| !t.is_empty())
        .collect();
    if tasks.is_empty() {
        return Ok(None);
    }
    Ok(Some(bootstrap_ci(&Scores::new(tasks), iqm, RESAMPLES, BOOTSTRAP_SEED)?))
}

/// `runs.csv`: one row per finished run.
pub fn runs_csv(rows: &[RunRow]) -> String {
    let mut out = String::from(
        "run,arm,train_levels,sni_lambda,seed,frames,train_success,test_success,train_return,test_return,\
         train_decision,test_decision,wall_seconds,auroc\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{:.1},{}\n",
            r.run,
            r.arm,
            r.train_levels,
            lambda_text(r.sni_lambda),
            r.seed,
            r.frames,
            r.train_success,
            r.test_success,
            r.train_return,
            r.test_return,
            r.train_decision,
            r.test_decision,
            r.wall_seconds,
            r.auroc
        ));
    }
    out
}

fn lambda_text(lambda: Option<f64>) -> String {
    lambda.map_or_else(|| "none".to_string(), |l| l.to_string())
}

fn setting_cells(setting: &Option<Setting>) -> [String; 3] {
    match setting {
        Some(s) => [s.train_levels.to_string(), lambda_text(s.sni_lambda), s.frames.to_string()],
        None => ["all".into(), "all".into(), "all".into()],
    }
}

/// `summary.csv`: one row per arm and setting, then the arms' aggregates (`all`).
pub fn summary_csv(summary: &[SummaryRow]) -> String {
    let mut out = String::from(
        "arm,train_levels,sni_lambda,frames,runs,test_success_mean,test_success_iqm,test_iqm_low,test_iqm_high,\
         train_success_iqm,train_iqm_low,train_iqm_high,gap_iqm,gap_iqm_low,gap_iqm_high,\
         p_improvement,p_improvement_low,p_improvement_high,train_decision_iqm,train_decision_low,\
         train_decision_high,test_decision_iqm,test_decision_low,test_decision_high,auroc_iqm,auroc_low,auroc_high\n",
    );
    let interval = |x: &Interval| format!("{},{},{}", x.point, x.low, x.high);
    for s in summary {
        let mut row = cells(s, &|x| x.to_string(), &interval, ",,");
        for decision in [&s.train_decision_iqm, &s.test_decision_iqm, &s.auroc_iqm] {
            row.push(decision.as_ref().map_or_else(|| ",,".to_string(), interval));
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// A summary row's cells: arm, setting, runs, mean, the three IQMs, the improvement (`missing`
/// when there is none), numbers and intervals written by `number` and `interval`.
fn cells(
    s: &SummaryRow,
    number: &dyn Fn(f64) -> String,
    interval: &dyn Fn(&Interval) -> String,
    missing: &str,
) -> Vec<String> {
    let [levels, lambda, frames] = setting_cells(&s.setting);
    let improvement = s.improvement.as_ref().map_or_else(|| missing.to_string(), interval);
    vec![
        s.arm.clone(),
        levels,
        lambda,
        frames,
        s.runs.to_string(),
        number(s.test_mean),
        interval(&s.test_iqm),
        interval(&s.train_iqm),
        interval(&s.gap_iqm),
        improvement,
    ]
}

/// `summary.md`: the summary as a Markdown table, with what its numbers are.
pub fn summary_markdown(name: &str, description: &str, summary: &[SummaryRow], total_runs: usize) -> String {
    let finished: usize = summary.iter().filter(|s| s.setting.is_some()).map(|s| s.runs).sum();
    let mut out = format!("# Study {name}\n\n");
    if !description.is_empty() {
        out.push_str(&format!("{description}\n\n"));
    }
    out.push_str(&format!(
        "{finished} of {total_runs} runs finished. Final success of the noise-free policy. IQM: interquartile \
         mean over runs, [95% stratified bootstrap interval, {RESAMPLES} resamples]; P(> baseline): probability \
         that a run of the arm beats a run of the baseline on held-out success at the same setting, with its \
         interval. Rows `all` pool an arm's settings as tasks (Agarwal et al. 2021).\n\n"
    ));
    out.push_str(
        "| arm | levels | lambda | frames | runs | held-out mean | held-out IQM | train IQM | gap IQM | P(> baseline) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let with_auroc = summary.iter().any(|s| s.auroc_iqm.is_some());
    if with_auroc {
        // One more column: the uncertainty's AUROC for held-out failure.
        out = out.replace("| P(> baseline) |\n", "| P(> baseline) | AUROC of U for failure |\n");
        out = out.replace(
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
    }
    let interval = |x: &Interval| format!("{:.3} [{:.3}, {:.3}]", x.point, x.low, x.high);
    for s in summary {
        let mut row = cells(s, &|x| format!("{x:.3}"), &interval, "–");
        if with_auroc {
            row.push(s.auroc_iqm.as_ref().map_or_else(|| "–".to_string(), interval));
        }
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// Writes `runs.csv`, `summary.csv` and `summary.md` into `dir`.
pub fn write(dir: &Path, name: &str, description: &str, rows: &[RunRow], total_runs: usize) -> Result<Vec<SummaryRow>> {
    let summary = summarize(rows)?;
    crate::atomic::write(&dir.join("runs.csv"), runs_csv(rows).as_bytes())?;
    crate::atomic::write(&dir.join("summary.csv"), summary_csv(&summary).as_bytes())?;
    crate::atomic::write(
        &dir.join("summary.md"),
        summary_markdown(name, description, &summary, total_runs).as_bytes(),
    )?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(arm: &str, levels: u64, seed: u64, train: f64, test: f64) -> RunRow {
        RunRow {
            run: format!("{arm}-{levels}-{seed}"),
            arm: arm.into(),
            train_levels: levels,
            sni_lambda: (arm == "ibac-sni").then_some(0.5),
            seed,
            frames: 1000,
            train_success: train,
            test_success: test,
            train_return: train,
            test_return: test,
            train_decision: train,
            test_decision: test,
            wall_seconds: 1.0,
            auroc: f64::NAN,
        }
    }

    #[test]
    fn summary_rows_per_setting_and_pooled() {
        let mut rows = Vec::new();
        for (seed, (b, s)) in [(0.2, 0.5), (0.4, 0.6), (0.3, 0.9), (0.1, 0.7)].into_iter().enumerate() {
            rows.push(row("baseline", 10, seed as u64, 1.0, b));
            rows.push(row("ibac-sni", 10, seed as u64, 1.0, s));
            rows.push(row("baseline", 50, seed as u64, 1.0, b + 0.5));
            rows.push(row("ibac-sni", 50, seed as u64, 1.0, s + 0.05));
        }
        let summary = summarize(&rows).unwrap();
        // baseline 10, baseline 50, baseline all, ibac-sni 10, ibac-sni 50, ibac-sni all.
        assert_eq!(summary.len(), 6);
        let sni10 = &summary[3];
        assert_eq!((sni10.arm.as_str(), sni10.setting.unwrap().train_levels, sni10.runs), ("ibac-sni", 10, 4));
        // IQM of [0.5, 0.6, 0.7, 0.9]: drop one at each end, mean of 0.6 and 0.7.
        assert!((sni10.test_iqm.point - 0.65).abs() < 1e-12);
        // Every SNI run beats every baseline run at 10 levels.
        assert_eq!(sni10.improvement.unwrap().point, 1.0);
        assert!(summary[0].improvement.is_none(), "the baseline is not compared with itself");
        assert_eq!(sni10.test_decision_iqm.unwrap().point, sni10.test_iqm.point, "decisions recorded");
        // A run written before decisions were recorded has none: its rows have no decision IQM.
        let mut old = rows.clone();
        old[0].test_decision = f64::NAN;
        let summary_old = summarize(&old).unwrap();
        assert!(summary_old[0].test_decision_iqm.is_none() && summary_old[3].test_decision_iqm.is_some());
        // AUROCs: only the measured, defined ones are pooled.
        assert!(summary.iter().all(|s| s.auroc_iqm.is_none()), "none measured");
        let mut measured = rows.clone();
        for (r, a) in measured.iter_mut().filter(|r| r.arm == "ibac-sni" && r.train_levels == 10).zip([0.9, 0.6, 0.7]) {
            r.auroc = a;
        }
        let with_auroc = summarize(&measured).unwrap();
        // Three of the four runs measured: IQM of [0.6, 0.7, 0.9] cuts none (n = 3): mean 0.7333.
        assert!((with_auroc[3].auroc_iqm.unwrap().point - 2.2 / 3.0).abs() < 1e-12);
        assert!(summary_markdown("t", "", &with_auroc, 16).contains("| AUROC of U for failure |"));
        // Pooled: at 50 levels baseline scores 0.6-0.9 and SNI 0.55-0.95.
        let pooled = &summary[5];
        assert_eq!((pooled.setting, pooled.runs), (None, 8));
        let p = pooled.improvement.unwrap();
        assert!(p.point < 1.0 && p.point > 0.5 && p.low <= p.point && p.point <= p.high, "{p:?}");
        let md = summary_markdown("t", "", &summary, 16);
        assert!(md.contains("| ibac-sni | 10 | 0.5 | 1000 | 4 | 0.675 | 0.650 ["), "{md}");
        let csv = summary_csv(&summary);
        assert_eq!(csv.lines().count(), 7);
        assert!(csv.lines().nth(1).unwrap().starts_with("baseline,10,none,1000,4,"));
    }
}
