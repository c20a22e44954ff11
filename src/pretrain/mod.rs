//! Supervised pretraining of the vision backbone (R-CNN's recipe: pretrain the features on an
//! auxiliary supervised task, then fine-tune them on the real one, here with PPO).
//!
//! Frames and object boxes are played from the training levels ([`frames`]); the [`Detector`]
//! (backbone + FPN + R-CNN box head) learns to classify and refine proposals around them with
//! Adam; its quality is measured on frames of held-out levels ([`quality`]); the backbone is saved
//! for the `vision` encoder's `pretrained_backbone`. Losses and quality go to TensorBoard.

pub mod frames;
pub mod quality;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use heldout_agents::VisionConfig;
use heldout_agents::backend::{inference_device, train_device};
use heldout_agents::init::Init;
use heldout_agents::vision::{Detector, DetectorConfig, LabelledBox, Proposal};
use heldout_envs::registry::EnvConfig;
use heldout_envs::{LevelSet, ObjectClass};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::convert::NUM_CLASSES;
use crate::logger::Logger;
use frames::{FramePlay, FrameSet, play_frames};
use quality::{Quality, detect, score};

/// Boxes narrower or lower than this (objects cut by the frame's edge) are left out.
pub const MIN_BOX_SIDE: f32 = 2.0;

/// Everything a pretraining run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainConfig {
    /// The environment; its observations must be RGB frames.
    pub env: EnvConfig,
    /// Training levels `[0, train_levels)`; frames for the quality come from the levels after.
    pub train_levels: u64,
    /// Training frames.
    pub frames: usize,
    /// Held-out frames the quality is measured on.
    pub eval_frames: usize,
    /// Adam steps.
    pub steps: usize,
    /// Frames per step.
    pub batch: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Measure the held-out quality every this many steps (and always before and after).
    pub eval_interval: usize,
    /// Seed of the levels, actions, minibatches, proposals and weights.
    pub seed: u64,
    /// How episodes are played.
    pub play: FramePlay,
    /// The backbone's shape (`channels`, `fpn_channels`) and pooler (`pool_size`,
    /// `sampling_ratio`); the agent's vision encoder must use the same backbone shape.
    pub vision: VisionConfig,
    /// Batch norm in the backbone (the agent must then train with batch norm too).
    pub batch_norm: bool,
}

impl PretrainConfig {
    /// Checks the counts, rates and the backbone against the env's frames.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in
            [("frames", self.frames), ("eval frames", self.eval_frames), ("steps", self.steps), ("batch", self.batch)]
        {
            ensure!(value > 0, "{name} must be at least 1");
        }
        ensure!(self.train_levels > 0, "train levels must be at least 1 (the held-out levels come after them)");
        ensure!(self.learning_rate.is_finite() && self.learning_rate > 0.0, "the learning rate must be positive");
        ensure!((0.0..=1.0).contains(&self.play.random_actions), "random actions must be a probability in [0, 1]");
        ensure!(self.play.stride > 0 && self.play.per_episode > 0, "stride and frames per episode must be positive");
        self.detector_config().validate(&frames::rgb_format(&self.env)?).context("the detector's options")?;
        Ok(())
    }

    /// The detector whose backbone the vision encoder can load.
    pub fn detector_config(&self) -> DetectorConfig {
        DetectorConfig::new(NUM_CLASSES)
            .with_backbone(self.vision.backbone())
            .with_pooler(self.vision.encoder_config().pooler)
    }
}

/// The outcome of a pretraining run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PretrainReport {
    /// Training frames, their levels and boxes.
    pub train_frames: usize,
    /// Distinct training levels the frames come from.
    pub train_levels_seen: usize,
    /// Held-out frames.
    pub eval_frames: usize,
    /// Held-out detection loss (fixed proposals) before training.
    pub first_heldout_loss: f64,
    /// Held-out detection loss (the same proposals) after training.
    pub last_heldout_loss: f64,
    /// Mean training loss of the first tenth of the steps.
    pub first_train_loss: f64,
    /// Mean training loss of the last tenth of the steps.
    pub last_train_loss: f64,
    /// Held-out detection quality before training.
    pub quality_before: Quality,
    /// Held-out detection quality after training.
    pub quality: Quality,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// File of the report in the run directory.
pub const REPORT_FILE: &str = "pretrain.toml";

impl PretrainReport {
    /// Writes the report as [`REPORT_FILE`] in `run_dir` (atomically).
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self)?;
        crate::atomic::write(&run_dir.join(REPORT_FILE), text.as_bytes())
    }
}

/// Trains the detector as `config` says, logs to `logger`, saves the backbone to `out`
/// atomically; `progress` is called with each step's loss.
pub fn pretrain(
    config: &PretrainConfig,
    out: &Path,
    logger: &mut Logger,
    mut progress: impl FnMut(usize, f64),
) -> Result<PretrainReport> {
    config.validate()?;
    let start = Instant::now();
    let (train_levels, test_levels) = LevelSet::new(0, config.train_levels).with_held_out();
    let keep_visible = |mut set: FrameSet| {
        set.boxes.iter_mut().for_each(|list| list.retain(visible));
        set
    };
    let train = keep_visible(play_frames(&config.env, train_levels, config.frames, &config.play, config.seed)?);
    let held_out =
        keep_visible(play_frames(&config.env, test_levels, config.eval_frames, &config.play, config.seed ^ 1)?);

    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut init =
        Init { device: train_device(), rng: StdRng::seed_from_u64(heldout_seeds::pretrain_weights(config.seed)) };
    let mut detector = config.detector_config().init(&train.format, config.batch_norm, &mut init)?;
    let detector_config = config.detector_config();
    let fixed: Vec<Vec<Proposal>> = held_out
        .boxes
        .iter()
        .map(|objects| detector_config.proposals.sample(objects, width(&held_out), height(&held_out), &mut rng))
        .collect();
    let evaluate = |detector: &Detector, logger: &mut Logger, step: usize| -> Result<(f64, Quality)> {
        let loss = heldout_loss(detector, &held_out, &fixed)?;
        let quality = score(&detect(detector, &held_out)?, &held_out.boxes, NUM_CLASSES);
        log_quality(logger, loss, &quality, step as u64);
        Ok((loss, quality))
    };
    let (first_heldout_loss, quality_before) = evaluate(&detector, logger, 0)?;

    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::with_capacity(config.steps);
    let mut last = (first_heldout_loss, quality_before.clone());
    for step in 1..=config.steps {
        let (frames, targets) = minibatch(&train, config.batch, &mut rng);
        let loss = detector.loss(frames, &targets, &mut rng)?;
        let parts =
            [loss.total.clone(), loss.classification, loss.regression].map(|t| f64::from(t.into_scalar::<f32>()));
        ensure!(parts[0].is_finite(), "the detection loss became {} at step {step}", parts[0]);
        let grads = GradientsParams::from_grads(loss.total.backward(), &detector);
        detector = optim.step(config.learning_rate, detector, grads);
        for (tag, value) in
            ["pretrain/loss", "pretrain/classification_loss", "pretrain/regression_loss"].iter().zip(parts)
        {
            logger.scalar(tag, value, step as u64);
        }
        losses.push(parts[0]);
        progress(step, parts[0]);
        if step == config.steps || (config.eval_interval > 0 && step.is_multiple_of(config.eval_interval)) {
            last = evaluate(&detector, logger, step)?;
            logger.flush();
        }
    }
    save_backbone(&detector, out)?;
    let tenth = (losses.len() / 10).max(1);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    Ok(PretrainReport {
        train_frames: train.len(),
        train_levels_seen: train.levels,
        eval_frames: held_out.len(),
        first_heldout_loss,
        last_heldout_loss: last.0,
        first_train_loss: mean(&losses[..tenth]),
        last_train_loss: mean(&losses[losses.len() - tenth..]),
        quality_before,
        quality: last.1,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Whether a box is large enough to be learned from (see [`MIN_BOX_SIDE`]).
fn visible(object: &LabelledBox) -> bool {
    object.bbox.width() >= MIN_BOX_SIDE && object.bbox.height() >= MIN_BOX_SIDE
}

fn width(set: &FrameSet) -> f32 {
    set.format.width as f32
}

fn height(set: &FrameSet) -> f32 {
    set.format.height as f32
}

/// `batch` distinct frames of `set` (all of them if it has fewer) on the training device.
fn minibatch(set: &FrameSet, batch: usize, rng: &mut impl Rng) -> (burn::tensor::Tensor<4>, Vec<Vec<LabelledBox>>) {
    let picks = sample(rng, set.len(), batch.min(set.len()));
    let mut bytes = Vec::with_capacity(picks.len() * set.format.len());
    let mut boxes = Vec::with_capacity(picks.len());
    for i in picks {
        bytes.extend_from_slice(set.frame(i));
        boxes.push(set.boxes[i].clone());
    }
    (set.format.to_tensor(&bytes, &train_device()), boxes)
}

/// The detection loss on `set` with fixed labelled proposals (running statistics, no graph).
fn heldout_loss(detector: &Detector, set: &FrameSet, proposals: &[Vec<Proposal>]) -> Result<f64> {
    let frames = set.format.to_tensor(&set.bytes, &inference_device());
    let loss = detector.valid().loss_on(frames, proposals, heldout_agents::Noise::Off)?;
    Ok(f64::from(loss.total.into_scalar::<f32>()))
}

/// Logs the held-out loss, mAP, mean IoU and per-class AP at `step`.
fn log_quality(logger: &mut Logger, loss: f64, quality: &Quality, step: u64) {
    logger.scalar("pretrain/heldout_loss", loss, step);
    logger.scalar("pretrain/heldout_map50", quality.map50, step);
    logger.scalar("pretrain/heldout_mean_iou", quality.mean_iou, step);
    for class in &quality.per_class {
        logger.scalar(&format!("pretrain/heldout_ap50/{}", ObjectClass::ALL[class.class].name()), class.ap50, step);
    }
}

/// Writes the detector's backbone to `out` atomically (burnpack bytes, then a rename).
fn save_backbone(detector: &Detector, out: &Path) -> Result<()> {
    let bytes = detector.backbone.clone().into_record().into_bytes().context("encoding the backbone")?;
    crate::atomic::write(out, &bytes).with_context(|| format!("saving the backbone to {}", out.display()))
}
