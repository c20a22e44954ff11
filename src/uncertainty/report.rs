//! The uncertainty report (`heldout eval --uncertainty`): U on training and held-out levels,
//! the AUROC of an episode's U as a predictor of failing a held-out level, `uncertainty.csv`,
//! `uncertainty.png` (histograms of U per state, as Feinman et al.'s Figure 1) and the same
//! histograms in TensorBoard.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use heldout_agents::Agent;
use plotters::prelude::*;

use super::{EpisodeUncertainty, auroc_ci, measure};
use crate::config::RunConfig;
use crate::logger::Logger;
use crate::stats::Estimate;

/// Bootstrap resamples of the AUROC's interval.
const RESAMPLES: usize = 2000;
/// Bins of the histograms.
const BINS: usize = 30;

/// Measures, writes the files into `out` and returns the printed report.
pub fn report(
    agent: &Agent,
    config: &RunConfig,
    passes: usize,
    episodes: usize,
    seed: u64,
    workers: usize,
    out: &Path,
) -> Result<String> {
    let (train_levels, test_levels) = config.level_sets();
    let train = measure(agent, &config.env, train_levels, episodes, passes, seed, workers)?;
    let test = measure(agent, &config.env, test_levels, episodes, passes, seed, workers)?;
    std::fs::create_dir_all(out)?;
    let mut csv = String::from("levels,level_seed,success,mean_u,max_u,value_spread\n");
    for (name, eps) in [("train", &train), ("test", &test)] {
        for e in eps {
            writeln!(csv, "{name},{},{},{},{},{}", e.level_seed, e.success, e.mean, e.max, e.value_spread)?;
        }
    }
    crate::atomic::write(&out.join("uncertainty.csv"), csv.as_bytes())?;
    let states = |eps: &[EpisodeUncertainty]| eps.iter().flat_map(|e| e.states.iter().copied()).collect::<Vec<f64>>();
    let (train_states, test_states) = (states(&train), states(&test));
    histogram_png(&train_states, &test_states, &out.join("uncertainty.png"))?;
    let mut logger = Logger::new(out)?;
    logger.histogram("uncertainty/train_states", &train_states, 0);
    logger.histogram("uncertainty/test_states", &test_states, 0);
    logger.flush();

    let means = |eps: &[EpisodeUncertainty]| Estimate::of(&eps.iter().map(|e| e.mean).collect::<Vec<_>>());
    let (u_train, u_test) = (means(&train), means(&test));
    let failed: Vec<bool> = test.iter().map(|e| !e.success).collect();
    let scores: Vec<f64> = test.iter().map(|e| e.mean).collect();
    let auc = auroc_ci(&scores, &failed, RESAMPLES, seed);
    let failures = failed.iter().filter(|&&f| f).count();
    let mut text = String::new();
    writeln!(text, "uncertainty ({passes} noisy passes per state, {episodes} episodes a level set):")?;
    writeln!(text, "  mean U, training levels: {:.3e} ± {:.1e}", u_train.mean, u_train.ci95)?;
    writeln!(text, "  mean U, held-out levels: {:.3e} ± {:.1e}", u_test.mean, u_test.ci95)?;
    writeln!(
        text,
        "  AUROC of an episode's mean U for failing a held-out level: {:.3} [{:.3}, {:.3}] ({failures} failures of {})",
        auc.point,
        auc.low,
        auc.high,
        test.len()
    )?;
    writeln!(text, "  wrote uncertainty.csv, uncertainty.png and TensorBoard histograms in {}", out.display())?;
    Ok(text)
}

/// Overlaid histograms of U per state on training and held-out levels, as fractions of states.
fn histogram_png(train: &[f64], test: &[f64], path: &Path) -> Result<()> {
    crate::plot::register_font()?;
    let top = train.iter().chain(test).copied().fold(0.0, f64::max).max(1e-9);
    let width = top / BINS as f64;
    let fractions = |values: &[f64]| {
        let mut counts = vec![0.0; BINS];
        for &v in values {
            counts[((v / width) as usize).min(BINS - 1)] += 1.0;
        }
        counts.iter().map(|c| c / values.len().max(1) as f64).collect::<Vec<f64>>()
    };
    let (a, b) = (fractions(train), fractions(test));
    let ymax = a.iter().chain(&b).copied().fold(0.0, f64::max) * 1.1 + 1e-9;
    let size = (900u32, 560u32);
    let mut buffer = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, size).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("uncertainty U per state: training vs held-out levels", ("sans-serif", 22))
            .margin(20)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..top, 0.0..ymax)?;
        chart.configure_mesh().x_desc("U").y_desc("fraction of states").light_line_style(WHITE).draw()?;
        for (fractions, color, label) in [(&a, BLUE.mix(0.5), "training levels"), (&b, RED.mix(0.5), "held-out levels")]
        {
            chart
                .draw_series(fractions.iter().enumerate().map(|(i, &f)| {
                    Rectangle::new([(i as f64 * width, 0.0), ((i + 1) as f64 * width, f)], color.filled())
                }))?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled()));
        }
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.85)).draw()?;
        root.present()?;
    }
    crate::picture::save_png(
        &heldout_envs::RgbFrame { width: size.0 as usize, height: size.1 as usize, data: buffer },
        path,
    )
}
