//! The sweep plot: held-out success against a swept value, one line per other setting.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use heldout_envs::RgbFrame;
use plotters::prelude::*;

use crate::sweep::SettingSummary;

const SIZE: (u32, u32) = (900, 560);
/// Where Debian and most Linux systems keep a sans-serif TrueType font.
const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// Plots mean held-out (and, dashed, training) success with standard-error bars against the
/// values of the first swept key, one series per combination of the other keys; saves a PNG.
pub fn plot_success(title: &str, keys: &[String], summary: &[SettingSummary], path: &Path) -> Result<()> {
    let x_key = keys.first().context("a sweep plot needs a swept key")?;
    let points: Vec<(String, f64, &SettingSummary)> = summary
        .iter()
        .filter(|s| s.runs > 0)
        .map(|s| {
            let x =
                s.setting[0].1.parse::<f64>().map_err(|_| anyhow!("{x_key} = {} is not a number", s.setting[0].1))?;
            let rest: Vec<String> = s.setting[1..].iter().map(|(k, v)| format!("{k}={v}")).collect();
            Ok((rest.join(", "), x, s))
        })
        .collect::<Result<_>>()?;
    if points.is_empty() {
        bail!("no finished runs to plot");
    }
    register_font()?;
    let (xmin, xmax) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let pad = ((xmax - xmin) * 0.05).max(0.05);
    let mut buffer = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{title}: success vs {x_key}"), ("sans-serif", 24))
            .margin(20)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d((xmin - pad)..(xmax + pad), 0f64..1.05f64)?;
        chart.configure_mesh().x_desc(x_key.as_str()).y_desc("success rate (mean ± s.e. over seeds)").draw()?;
        // One series per setting of the other keys, in first-seen order (the plan varies the
        // first key outermost, so equal names are not adjacent).
        let mut series: Vec<&str> = Vec::new();
        for p in &points {
            if !series.contains(&p.0.as_str()) {
                series.push(&p.0);
            }
        }
        for (i, name) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mut line: Vec<(f64, f64, f64, f64, f64)> = points
                .iter()
                .filter(|p| p.0 == *name)
                .map(|p| (p.1, p.2.test_success, p.2.test_success_se, p.2.train_success, p.2.train_success_se))
                .collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            let label = if name.is_empty() { "held-out".to_string() } else { format!("held-out, {name}") };
            chart
                .draw_series(LineSeries::new(line.iter().map(|p| (p.0, p.1)), color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(
                line.iter().map(|p| ErrorBar::new_vertical(p.0, p.1 - p.2, p.1, p.1 + p.2, color.filled(), 8)),
            )?;
            let faint = color.mix(0.45);
            let train_label = if name.is_empty() { "training levels".to_string() } else { format!("training, {name}") };
            chart
                .draw_series(DashedLineSeries::new(line.iter().map(|p| (p.0, p.3)), 6, 4, faint.stroke_width(2)))?
                .label(train_label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], faint.stroke_width(2)));
        }
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.85)).draw()?;
        root.present()?;
    }
    crate::picture::save_png(&RgbFrame { width: SIZE.0 as usize, height: SIZE.1 as usize, data: buffer }, path)
}

/// Registers a system TrueType font for plot text (plotters draws no text without one).
pub(crate) fn register_font() -> Result<()> {
    let path = FONT_PATHS.iter().find(|p| Path::new(p).exists()).with_context(|| {
        format!("no TrueType font for the plot (looked for {}); install fonts-dejavu-core", FONT_PATHS.join(", "))
    })?;
    let bytes: &'static [u8] =
        Box::leak(std::fs::read(path).with_context(|| format!("reading {path}"))?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| anyhow!("{path} is not a usable font"))
}
