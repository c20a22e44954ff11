//! A study's plots: held-out success and the generalization gap against the number of training
//! levels (one line per arm, as Cobbe et al. 2019 draw them), held-out success against SNI's
//! lambda, and held-out success over frames; with random-label levels, right decisions against
//! training levels and over frames. Every point is an IQM over seeds with its 95% stratified
//! bootstrap interval.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use plotters::prelude::*;

use super::results::{BOOTSTRAP_SEED, CURVES_DIR, RESAMPLES, RunRow, SummaryRow};
use crate::aggregate::{Interval, Scores, bootstrap_ci, iqm};

const SIZE: (u32, u32) = (900, 560);

/// One plotted series: points `(x, interval)`.
struct Line {
    label: String,
    points: Vec<(f64, Interval)>,
}

/// How a chart's x axis is drawn.
#[derive(Clone, Copy, PartialEq)]
enum XScale {
    Linear,
    Log,
}

/// Draws every plot the summary supports into `dir`; returns the files written.
pub fn draw(dir: &Path, name: &str, summary: &[SummaryRow], rows: &[RunRow]) -> Result<Vec<PathBuf>> {
    crate::plot::register_font()?;
    let mut written = Vec::new();
    let per_setting: Vec<&SummaryRow> = summary.iter().filter(|s| s.setting.is_some()).collect();
    let level_counts = distinct(per_setting.iter().map(|s| s.setting.expect("per setting").train_levels as f64));
    let lambdas = distinct(per_setting.iter().filter_map(|s| s.setting.expect("per setting").sni_lambda));
    let series_name = |s: &SummaryRow| {
        let lambda = s.setting.and_then(|x| x.sni_lambda);
        match lambda {
            Some(l) if lambdas.len() > 1 => format!("{} (lambda {l})", s.arm),
            _ => s.arm.clone(),
        }
    };
    if level_counts.len() > 1 {
        let by_levels = |value: fn(&SummaryRow) -> Interval| {
            lines(&per_setting, &series_name, |s| s.setting.expect("per setting").train_levels as f64, value)
        };
        let path = dir.join("levels.png");
        let title = format!("{name}: held-out success vs training levels");
        chart(
            &path,
            &title,
            "training levels",
            "held-out success (IQM, 95% CI)",
            XScale::Log,
            (0.0, 1.05),
            &by_levels(|s| s.test_iqm),
        )?;
        written.push(path);
        let path = dir.join("gap.png");
        let title = format!("{name}: generalization gap vs training levels");
        let gap = by_levels(|s| s.gap_iqm);
        let low = gap.iter().flat_map(|l| l.points.iter().map(|p| p.1.low)).fold(0.0, f64::min);
        chart(
            &path,
            &title,
            "training levels",
            "train - held-out success (IQM, 95% CI)",
            XScale::Log,
            (low - 0.05, 1.05),
            &gap,
        )?;
        written.push(path);
    }
    let with_decisions: Vec<&SummaryRow> = per_setting
        .iter()
        .copied()
        .filter(|s| s.test_decision_iqm.is_some_and(|d| (d.point - s.test_iqm.point).abs() > 1e-12))
        .collect();
    if level_counts.len() > 1 && !with_decisions.is_empty() {
        // Random-label levels: decisions, not successes, are what memorization shows in.
        let levels_of = |s: &SummaryRow| s.setting.expect("per setting").train_levels as f64;
        let train_name = |s: &SummaryRow| format!("{} (training)", series_name(s));
        let test_name = |s: &SummaryRow| format!("{} (held-out)", series_name(s));
        let mut decision_lines =
            lines(&with_decisions, &train_name, levels_of, |s| s.train_decision_iqm.expect("filtered"));
        decision_lines
            .extend(lines(&with_decisions, &test_name, levels_of, |s| s.test_decision_iqm.expect("filtered")));
        let path = dir.join("decisions.png");
        let title = format!("{name}: right decisions vs training levels");
        chart(
            &path,
            &title,
            "training levels",
            "right decisions (IQM, 95% CI)",
            XScale::Log,
            (0.0, 1.05),
            &decision_lines,
        )?;
        written.push(path);
    }
    if lambdas.len() > 1 {
        let sni: Vec<&SummaryRow> =
            per_setting.iter().copied().filter(|s| s.setting.is_some_and(|x| x.sni_lambda.is_some())).collect();
        let arm_name = |s: &SummaryRow| match level_counts.len() {
            1 => s.arm.clone(),
            _ => format!("{} ({} levels)", s.arm, s.setting.expect("per setting").train_levels),
        };
        let lambda_lines =
            lines(&sni, &arm_name, |s| s.setting.and_then(|x| x.sni_lambda).expect("an SNI arm"), |s| s.test_iqm);
        let path = dir.join("lambda.png");
        let title = format!("{name}: held-out success vs SNI lambda");
        chart(
            &path,
            &title,
            "lambda (weight of the noise-free gradient)",
            "held-out success (IQM, 95% CI)",
            XScale::Linear,
            (0.0, 1.05),
            &lambda_lines,
        )?;
        written.push(path);
    }
    for levels in level_counts {
        let path = dir.join(format!("curves-levels-{levels}.png"));
        let success = curves(dir, rows, levels as u64, CurveColumn::TestSuccess)?;
        if success.is_empty() {
            continue;
        }
        let title = format!("{name}: held-out success over training, {levels} levels");
        chart(
            &path,
            &title,
            "frames",
            "held-out success (IQM over seeds, 95% CI)",
            XScale::Linear,
            (0.0, 1.05),
            &success,
        )?;
        written.push(path);
        if !with_decisions.is_empty() {
            let mut decision_curves = curves(dir, rows, levels as u64, CurveColumn::TrainDecision)?;
            decision_curves.extend(curves(dir, rows, levels as u64, CurveColumn::TestDecision)?);
            let path = dir.join(format!("decisions-levels-{levels}.png"));
            let title = format!("{name}: right decisions over training, {levels} levels");
            chart(
                &path,
                &title,
                "frames",
                "right decisions (IQM over seeds, 95% CI)",
                XScale::Linear,
                (0.0, 1.05),
                &decision_curves,
            )?;
            written.push(path);
        }
    }
    Ok(written)
}

/// The distinct values of `values`, sorted.
fn distinct(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// One line per series name, its points at `x` with the interval `y`, sorted by x.
fn lines(
    rows: &[&SummaryRow],
    name: &dyn Fn(&SummaryRow) -> String,
    x: impl Fn(&SummaryRow) -> f64,
    y: impl Fn(&SummaryRow) -> Interval,
) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for s in rows {
        let label = name(s);
        let point = (x(s), y(s));
        match out.iter_mut().find(|l| l.label == label) {
            Some(line) => line.points.push(point),
            None => out.push(Line { label, points: vec![point] }),
        }
    }
    for line in &mut out {
        line.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// The `eval.csv` column a curve follows.
#[derive(Clone, Copy)]
enum CurveColumn {
    TestSuccess,
    TrainDecision,
    TestDecision,
}

impl CurveColumn {
    /// Its header in `eval.csv`.
    fn header(self) -> &'static str {
        match self {
            CurveColumn::TestSuccess => "test_success",
            CurveColumn::TrainDecision => "train_decision",
            CurveColumn::TestDecision => "test_decision",
        }
    }

    /// What a series' label adds to the arm's name.
    fn suffix(self) -> &'static str {
        match self {
            CurveColumn::TestSuccess => "",
            CurveColumn::TrainDecision => " (training)",
            CurveColumn::TestDecision => " (held-out)",
        }
    }
}

/// `column` over frames per arm at `levels` training levels: at each evaluation, the IQM over
/// the arm's seeds of their `eval.csv` values.
fn curves(dir: &Path, rows: &[RunRow], levels: u64, column: CurveColumn) -> Result<Vec<Line>> {
    let mut per_arm: Vec<(String, Vec<Curve>)> = Vec::new();
    for row in rows.iter().filter(|r| r.train_levels == levels) {
        let path = dir.join(CURVES_DIR).join(format!("{}.csv", row.run));
        if !path.exists() {
            continue;
        }
        let curve = read_curve(&path, column.header())?;
        let arm = match row.sni_lambda {
            Some(l) if row.arm.ends_with("-sni") && l != 0.5 => format!("{} (lambda {l})", row.arm),
            _ => row.arm.clone(),
        };
        let label = format!("{arm}{}", column.suffix());
        match per_arm.iter_mut().find(|(a, _)| *a == label) {
            Some((_, curves)) => curves.push(curve),
            None => per_arm.push((label, vec![curve])),
        }
    }
    let mut out = Vec::new();
    for (label, curves) in per_arm {
        let frames = distinct(curves.iter().flat_map(|c| c.iter().map(|p| p.0)));
        let mut points = Vec::new();
        for f in frames {
            let at: Vec<f64> = curves.iter().filter_map(|c| c.iter().find(|p| p.0 == f).map(|p| p.1)).collect();
            if at.len() == curves.len() {
                points.push((f, bootstrap_ci(&Scores::new(vec![at]), iqm, RESAMPLES, BOOTSTRAP_SEED)?));
            }
        }
        out.push(Line { label, points });
    }
    Ok(out)
}

/// `(frames, value)` at each evaluation of a run.
type Curve = Vec<(f64, f64)>;

/// The [`Curve`] of the column `value` in a run's `eval.csv`.
fn read_curve(path: &Path, value: &str) -> Result<Curve> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let header: Vec<&str> = text.lines().next().unwrap_or_default().split(',').collect();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).with_context(|| format!("{} has no {name} column", path.display()))
    };
    let (frames, values) = (column("frames")?, column(value)?);
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let cell = |i: usize| -> Result<f64> {
                cells
                    .get(i)
                    .and_then(|c| c.parse().ok())
                    .with_context(|| format!("{}: bad row {line:?}", path.display()))
            };
            Ok((cell(frames)?, cell(values)?))
        })
        .collect()
}

/// A tick label: `x` to four decimals without trailing zeros (0.30000000000000004 is `0.3`).
fn tick(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// Draws `lines` with their intervals as error bars, series nudged apart along x so that
/// overlapping intervals stay readable; saves a PNG at `path`. A log-scale x axis is drawn as
/// log10 of the values, labelled with the values themselves at the data's own x values.
fn chart(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    scale: XScale,
    (ylo, yhi): (f64, f64),
    lines: &[Line],
) -> Result<()> {
    let to_axis = |x: f64| if scale == XScale::Log { x.log10() } else { x };
    let xs = distinct(lines.iter().flat_map(|l| l.points.iter().map(|p| to_axis(p.0))));
    let (xmin, xmax) = (xs.first().copied().unwrap_or(0.0), xs.last().copied().unwrap_or(1.0));
    let span = (xmax - xmin).max(1e-9);
    let pad = span * 0.06;
    let mut buffer = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(20)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d((xmin - pad)..(xmax + pad), ylo..yhi)?;
        let label = |x: &f64| match scale {
            XScale::Log => format!("{:.0}", 10f64.powf(*x)),
            XScale::Linear => tick(*x),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(x_desc).y_desc(y_desc).light_line_style(WHITE).x_label_formatter(&label);
        if scale == XScale::Log {
            // Ticks at the data's own x values (the level counts), not at round logarithms.
            mesh.disable_x_mesh().x_labels(0);
        }
        mesh.draw()?;
        if scale == XScale::Log {
            for &x in &xs {
                chart.draw_series(std::iter::once(Text::new(label(&x), (x, ylo), ("sans-serif", 15))))?;
            }
        }
        let n = lines.len() as f64;
        for (i, line) in lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let nudge = span * 0.008 * (i as f64 - (n - 1.0) / 2.0);
            let pts: Vec<(f64, Interval)> = line.points.iter().map(|(x, y)| (to_axis(*x) + nudge, *y)).collect();
            chart
                .draw_series(LineSeries::new(pts.iter().map(|(x, y)| (*x, y.point)), color.stroke_width(2)))?
                .label(line.label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(
                pts.iter().map(|(x, y)| ErrorBar::new_vertical(*x, y.low, y.point, y.high, color.filled(), 6)),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.85))
            .draw()?;
        root.present()?;
    }
    crate::picture::save_png(
        &heldout_envs::RgbFrame { width: SIZE.0 as usize, height: SIZE.1 as usize, data: buffer },
        path,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::results::summarize;

    /// A finished run of a random-label study: its final row in `runs.csv` and its `eval.csv`
    /// (two evaluations) in `dir/curves/`, training decisions `train` and held-out ones 0.5.
    fn random_label_run(dir: &Path, arm: &str, levels: u64, seed: u64, train: f64) -> RunRow {
        let run = format!("{arm}-{levels}-{seed}");
        let csv = format!(
            "frames,wall_seconds,train_return,test_return,train_success,test_success,train_decision,test_decision\n\
             0,0,0,0,0.1,0.1,0.5,0.5\n100,1,0,0,0.2,0.1,{train},0.5\n"
        );
        std::fs::write(dir.join(CURVES_DIR).join(format!("{run}.csv")), csv).unwrap();
        RunRow {
            run,
            arm: arm.into(),
            train_levels: levels,
            sni_lambda: None,
            seed,
            frames: 100,
            train_success: 0.2,
            test_success: 0.1,
            train_return: 0.0,
            test_return: 0.0,
            train_decision: train,
            test_decision: 0.5,
            wall_seconds: 1.0,
            auroc: f64::NAN,
        }
    }

    #[test]
    fn random_label_studies_plot_decisions_over_levels_and_frames() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(CURVES_DIR)).unwrap();
        let mut rows = Vec::new();
        for (levels, train) in [(10, 0.9), (1000, 0.6)] {
            for seed in 1..=3 {
                rows.push(random_label_run(dir.path(), "baseline", levels, seed, train));
                rows.push(random_label_run(dir.path(), "l2", levels, seed, train - 0.1));
            }
        }
        let summary = summarize(&rows).unwrap();
        let written = draw(dir.path(), "probe", &summary, &rows).unwrap();
        for plot in ["decisions.png", "decisions-levels-10.png", "decisions-levels-1000.png", "curves-levels-10.png"] {
            assert!(written.contains(&dir.path().join(plot)), "{plot} not in {written:?}");
            assert!(image::open(dir.path().join(plot)).unwrap().width() > 100, "{plot}");
        }
        // The decision curves follow their own columns, one line per arm and level set.
        let lines = curves(dir.path(), &rows, 10, CurveColumn::TrainDecision).unwrap();
        let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["baseline (training)", "l2 (training)"]);
        let last = |line: &Line| *line.points.last().unwrap();
        assert_eq!(last(&lines[0]).0, 100.0);
        assert!((last(&lines[0]).1.point - 0.9).abs() < 1e-12 && (last(&lines[1]).1.point - 0.8).abs() < 1e-12);
        let held_out = curves(dir.path(), &rows, 10, CurveColumn::TestDecision).unwrap();
        assert!(held_out.iter().all(|l| l.label.ends_with("(held-out)") && last(l).1.point == 0.5));
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(super::tick(0.30000000000000004), "0.3");
        assert_eq!(super::tick(0.7999999999999999), "0.8");
        assert_eq!(super::tick(400000.0), "400000");
        assert_eq!(super::tick(-0.00001), "0");
        assert_eq!(super::tick(0.25), "0.25");
    }
}
