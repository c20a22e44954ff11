//! TensorBoard logging of a run: scalars, pictures and the hparams plugin's summaries, written
//! with tensorboard-rs's event-file writer and its protobuf types.
//!
//! The summaries are built here rather than with tensorboard-rs's `SummaryWriter`: its image
//! summary records width and height swapped, and its `add_hparams` is unimplemented.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use heldout_envs::RgbFrame;
use image::ImageEncoder;
use protobuf::well_known_types::Value;
use protobuf::{Message, RepeatedField};
use tensorboard_proto::api::{Experiment, HParamInfo, MetricInfo, MetricName, Status};
use tensorboard_proto::plugin_hparams::{HParamsPluginData, SessionEndInfo, SessionStartInfo};
use tensorboard_proto::summary::{Summary, Summary_Image, Summary_Value, SummaryMetadata, SummaryMetadata_PluginData};
use tensorboard_rs::summary_writer::FileWriter;

/// The tags the hparams plugin reads (TensorBoard's `tensorboard.plugins.hparams.metadata`).
const HPARAMS_PLUGIN: &str = "hparams";
const EXPERIMENT_TAG: &str = "_hparams_/experiment";
const SESSION_START_TAG: &str = "_hparams_/session_start_info";
const SESSION_END_TAG: &str = "_hparams_/session_end_info";

/// One hyperparameter's value, as the hparams dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum HParam {
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
    /// A switch.
    Bool(bool),
}

impl HParam {
    fn to_value(&self) -> Value {
        let mut v = Value::new();
        match self {
            HParam::Number(x) => v.set_number_value(*x),
            HParam::Text(s) => v.set_string_value(s.clone()),
            HParam::Bool(b) => v.set_bool_value(*b),
        }
        v
    }
}

/// Writes a run's scalars and images as TensorBoard event files in its directory.
pub struct Logger {
    writer: FileWriter,
}

impl Logger {
    /// Opens a new event file in `dir` (created if missing). Earlier event files of a resumed
    /// run stay beside it, and TensorBoard reads them all.
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating log directory {}", dir.display()))?;
        wait_for_fresh_file_name(dir);
        Ok(Self { writer: FileWriter::new(dir) })
    }

    /// Logs a scalar; non-finite values are skipped (TensorBoard cannot plot them).
    pub fn scalar(&mut self, tag: &str, value: f64, step: u64) {
        if value.is_finite() {
            let mut v = Summary_Value::new();
            v.set_tag(tag.to_string());
            v.set_simple_value(value as f32);
            self.write(v, step);
        }
    }

    /// Logs an RGB picture (encoded as PNG).
    pub fn image(&mut self, tag: &str, frame: &RgbFrame, step: u64) -> Result<()> {
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&frame.data, frame.width as u32, frame.height as u32, image::ExtendedColorType::Rgb8)
            .context("encoding a picture as PNG")?;
        let mut picture = Summary_Image::new();
        picture.set_width(frame.width as i32);
        picture.set_height(frame.height as i32);
        picture.set_colorspace(3);
        picture.set_encoded_image_string(png);
        let mut v = Summary_Value::new();
        v.set_tag(tag.to_string());
        v.set_image(picture);
        self.write(v, step);
        Ok(())
    }

    /// Declares the run's hyperparameters and the scalar tags that are its metrics, as the
    /// hparams plugin's experiment and session-start summaries: a sweep's or a study's runs
    /// then open as one table in TensorBoard's HParams dashboard.
    pub fn hparams(&mut self, hparams: &[(String, HParam)], metric_tags: &[&str]) -> Result<()> {
        let mut experiment = Experiment::new();
        experiment.set_hparam_infos(RepeatedField::from_vec(
            hparams
                .iter()
                .map(|(name, _)| {
                    let mut info = HParamInfo::new();
                    info.set_name(name.clone());
                    info
                })
                .collect(),
        ));
        experiment.set_metric_infos(RepeatedField::from_vec(
            metric_tags
                .iter()
                .map(|tag| {
                    let mut name = MetricName::new();
                    name.set_tag(tag.to_string());
                    let mut info = MetricInfo::new();
                    info.set_name(name);
                    info
                })
                .collect(),
        ));
        let mut data = HParamsPluginData::new();
        data.set_experiment(experiment);
        self.plugin_summary(EXPERIMENT_TAG, &data)?;

        let mut start = SessionStartInfo::new();
        let values: HashMap<String, Value> = hparams.iter().map(|(k, v)| (k.clone(), v.to_value())).collect();
        start.set_hparams(values);
        start.set_start_time_secs(now_secs());
        let mut data = HParamsPluginData::new();
        data.set_session_start_info(start);
        self.plugin_summary(SESSION_START_TAG, &data)
    }

    /// Marks the run finished for the hparams dashboard (after its final metrics are logged).
    pub fn hparams_end(&mut self) -> Result<()> {
        let mut end = SessionEndInfo::new();
        end.set_status(Status::STATUS_SUCCESS);
        end.set_end_time_secs(now_secs());
        let mut data = HParamsPluginData::new();
        data.set_session_end_info(end);
        self.plugin_summary(SESSION_END_TAG, &data)
    }

    /// Logs the histogram of `values` (TensorBoard's histogram plugin), in 30 equal bins.
    pub fn histogram(&mut self, tag: &str, values: &[f64], step: u64) {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return;
        }
        let (min, max) = finite.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let bins = 30;
        let width = ((max - min) / bins as f64).max(1e-12);
        let limits: Vec<f64> = (1..=bins).map(|i| min + width * i as f64).collect();
        let mut counts = vec![0.0; bins];
        for &v in &finite {
            counts[(((v - min) / width) as usize).min(bins - 1)] += 1.0;
        }
        let (sum, squares) = finite.iter().fold((0.0, 0.0), |(s, q), v| (s + v, q + v * v));
        let summary =
            tensorboard_rs::summary::histogram_raw(tag, min, max, finite.len() as f64, sum, squares, &limits, &counts);
        self.writer.add_summary(summary, step as usize);
    }

    /// Hands everything logged so far to the writer thread's file.
    pub fn flush(&mut self) {
        self.writer.flush();
    }

    fn plugin_summary(&mut self, tag: &str, data: &HParamsPluginData) -> Result<()> {
        let mut plugin = SummaryMetadata_PluginData::new();
        plugin.set_plugin_name(HPARAMS_PLUGIN.to_string());
        plugin.set_content(data.write_to_bytes().context("encoding an hparams summary")?);
        let mut metadata = SummaryMetadata::new();
        metadata.set_plugin_data(plugin);
        let mut v = Summary_Value::new();
        v.set_tag(tag.to_string());
        v.set_metadata(metadata);
        self.write(v, 0);
        Ok(())
    }

    fn write(&mut self, value: Summary_Value, step: u64) {
        let mut summary = Summary::new();
        summary.set_value(RepeatedField::from_vec(vec![value]));
        self.writer.add_summary(summary, step as usize);
    }
}

fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// tensorboard-rs names its files by the second, host and process id, so a second writer in
/// the same directory within the same second would overwrite the first: wait for a new second.
fn wait_for_fresh_file_name(dir: &Path) {
    let pid = std::process::id();
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let taken = std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&format!("events.out.tfevents.{now:010}.")) && name.ends_with(&format!(".{pid}.0"))
        });
        if !taken {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
