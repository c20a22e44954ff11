//! The detector used to pretrain the vision backbone: backbone + FPN, pyramid RoIAlign and the
//! R-CNN box head, trained on ground-truth-derived proposals (Fast R-CNN's loss).

use burn::config::Config;
use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, SmoothL1LossConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData};
use rand::Rng;

use super::backbone::BackboneConfig;
use super::boxes::{BatchBoxes, BoxXyxy, check_batch_boxes};
use super::coder::BoxCoder;
use super::error::VisionError;
use super::features::VisionBackbone;
use super::head::{BACKGROUND, DetectionHead, DetectionHeadConfig, HeadOutput};
use super::nms::nms;
use super::pooler::PyramidPoolerConfig;
use super::proposals::{Proposal, ProposalConfig, ProposalLabel};
use crate::Noise;
use crate::init::Init;
use crate::obs::ObsFormat;

/// Everything that shapes a [`Detector`] and its training proposals.
#[derive(Config, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Object classes, without the background.
    pub num_classes: usize,
    /// Residual body and FPN.
    #[config(default = "BackboneConfig::new()")]
    pub backbone: BackboneConfig,
    /// Pyramid RoIAlign.
    #[config(default = "PyramidPoolerConfig::new()")]
    pub pooler: PyramidPoolerConfig,
    /// Width of the box head's hidden layers.
    #[config(default = 256)]
    pub hidden: usize,
    /// Training proposals.
    #[config(default = "ProposalConfig::new()")]
    pub proposals: ProposalConfig,
    /// `beta` of the smooth L1 box loss (torchvision's Fast R-CNN: 1/9).
    #[config(default = "1.0 / 9.0")]
    pub smooth_l1_beta: f32,
}

impl DetectorConfig {
    /// Checks every option against the frames it will see.
    pub fn validate(&self, obs: &ObsFormat) -> Result<(), VisionError> {
        self.backbone.validate(obs)?;
        self.pooler.check()?;
        if self.num_classes == 0 || self.hidden == 0 {
            return Err(VisionError::InvalidConfig("num_classes and hidden must be at least 1"));
        }
        if !(self.smooth_l1_beta.is_finite() && self.smooth_l1_beta > 0.0) {
            return Err(VisionError::InvalidConfig("smooth_l1_beta must be a positive number"));
        }
        Ok(())
    }

    /// A freshly initialized detector for `obs` frames, with batch norm in the body if
    /// `batch_norm` (it must match the encoder that loads the backbone).
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> Result<Detector, VisionError> {
        self.validate(obs)?;
        let head = DetectionHeadConfig::new(self.num_classes, self.backbone.fpn_channels, self.pooler.output_size)
            .with_hidden(self.hidden);
        Ok(Detector {
            backbone: self.backbone.init(obs, batch_norm, init),
            head: head.init(init),
            config: self.clone(),
        })
    }
}

/// The parts of the detection loss, each a one-element tensor.
#[derive(Debug, Clone)]
pub struct DetectionLoss {
    /// `classification + regression`.
    pub total: Tensor<1>,
    /// Cross-entropy of the class logits over all proposals.
    pub classification: Tensor<1>,
    /// Smooth L1 of the ground-truth class's box deltas on positive proposals, summed and divided
    /// by the number of proposals (torchvision's `fastrcnn_loss`).
    pub regression: Tensor<1>,
}

/// A detected object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Object class index, `0..num_classes`.
    pub class: usize,
    /// Softmax probability of the class.
    pub score: f32,
    /// The regressed box, clipped to the frame.
    pub bbox: BoxXyxy,
}

/// Backbone + FPN + box head.
#[derive(Module, Debug)]
pub struct Detector {
    /// Residual body and FPN; what [`super::VisionEncoder`] can load.
    pub backbone: VisionBackbone,
    /// Class and box predictions per region.
    pub head: DetectionHead,
    #[module(skip)]
    config: DetectorConfig,
}

impl Detector {
    /// Head outputs for `proposals[i]` (frame pixels) on frame `i` of `frames` `[batch, 3, H, W]`,
    /// image by image, box by box; `noise` drives the body's batch norms, if any.
    pub fn forward(
        &self,
        frames: Tensor<4>,
        proposals: &[Vec<BoxXyxy>],
        noise: Noise,
    ) -> Result<HeadOutput, VisionError> {
        let levels = self.backbone.forward(frames, noise);
        Ok(self.head.forward(self.config.pooler.pool(&levels, proposals)?))
    }

    /// The detection loss on freshly sampled proposals around the ground truth `targets` (a
    /// training pass: batch norms, if any, use batch statistics).
    pub fn loss(
        &self,
        frames: Tensor<4>,
        targets: &BatchBoxes,
        rng: &mut impl Rng,
    ) -> Result<DetectionLoss, VisionError> {
        let [images, _, height, width] = frames.dims();
        check_batch_boxes(targets, images, self.config.num_classes)?;
        let proposals: Vec<Vec<Proposal>> = targets
            .iter()
            .map(|objects| self.config.proposals.sample(objects, width as f32, height as f32, rng))
            .collect();
        self.loss_on(frames, &proposals, Noise::On)
    }

    /// The detection loss on given labelled proposals, one list per frame.
    pub fn loss_on(
        &self,
        frames: Tensor<4>,
        proposals: &[Vec<Proposal>],
        noise: Noise,
    ) -> Result<DetectionLoss, VisionError> {
        let device = frames.device();
        let boxes: Vec<Vec<BoxXyxy>> =
            proposals.iter().map(|list| list.iter().map(|proposal| proposal.bbox).collect()).collect();
        let output = self.forward(frames, &boxes, noise)?;
        let coder = BoxCoder::default();
        let count = boxes.iter().map(Vec::len).sum::<usize>();
        let mut labels = Vec::with_capacity(count);
        let mut targets = Vec::with_capacity(count * 4);
        let mut positive = Vec::with_capacity(count);
        for proposal in proposals.iter().flatten() {
            let (label, deltas, weight) = match proposal.label {
                ProposalLabel::Background => (BACKGROUND as i64, [0.0; 4], 0.0),
                ProposalLabel::Object(object) => {
                    if object.class >= self.config.num_classes {
                        return Err(VisionError::ClassOutOfRange {
                            class: object.class,
                            num_classes: self.config.num_classes,
                        });
                    }
                    ((object.class + 1) as i64, coder.encode(&proposal.bbox, &object.bbox), 1.0f32)
                }
            };
            labels.push(label);
            targets.extend(deltas);
            positive.push(weight);
        }
        let label_index: Vec<i64> = labels.iter().flat_map(|&label| [label; 4]).collect();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [count]), &device);
        let classification = CrossEntropyLoss::new(None, &device).forward(output.class_logits, labels);
        let chosen = output
            .box_deltas
            .gather(1, Tensor::<3, Int>::from_data(TensorData::new(label_index, [count, 1, 4]), &device))
            .reshape([count, 4]);
        let targets = Tensor::<2>::from_data(TensorData::new(targets, [count, 4]), &device);
        let positive = Tensor::<2>::from_data(TensorData::new(positive, [count, 1]), &device);
        let regression = SmoothL1LossConfig::new()
            .with_beta(self.config.smooth_l1_beta)
            .init()
            .forward(chosen, targets)
            .mul(positive)
            .sum()
            .div_scalar(count.max(1) as f32);
        Ok(DetectionLoss { total: classification.clone() + regression.clone(), classification, regression })
    }

    /// Detections among `proposals` (frame pixels, one list per frame): for every proposal and
    /// object class with a probability of at least `score_threshold`, the class's regressed box;
    /// then per-class non-maximum suppression at `iou_threshold`; by decreasing score. Batch
    /// norms, if any, use their running statistics.
    pub fn detect(
        &self,
        frames: Tensor<4>,
        proposals: &[Vec<BoxXyxy>],
        score_threshold: f32,
        iou_threshold: f32,
    ) -> Result<Vec<Vec<Detection>>, VisionError> {
        let [_, _, height, width] = frames.dims();
        let output = self.forward(frames, proposals, Noise::Off)?;
        let classes = self.config.num_classes + 1;
        let scores: Vec<f32> = softmax(output.class_logits, 1).into_data().iter().collect();
        let deltas: Vec<f32> = output.box_deltas.into_data().iter().collect();
        let coder = BoxCoder::default();
        let mut region = 0;
        Ok(proposals
            .iter()
            .map(|list| {
                let mut candidates = Vec::new();
                for proposal in list {
                    for class in (0..classes).filter(|&class| class != BACKGROUND) {
                        let score = scores[region * classes + class];
                        if score >= score_threshold {
                            let at = (region * classes + class) * 4;
                            let d = [deltas[at], deltas[at + 1], deltas[at + 2], deltas[at + 3]];
                            let bbox = coder.decode(proposal, d).clip(width as f32, height as f32);
                            candidates.push(Detection { class: class - 1, score, bbox });
                        }
                    }
                    region += 1;
                }
                suppress_per_class(candidates, iou_threshold)
            })
            .collect())
    }
}

/// Per-class non-maximum suppression, survivors by decreasing score.
fn suppress_per_class(candidates: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    let mut kept: Vec<Detection> = Vec::new();
    let mut classes: Vec<usize> = candidates.iter().map(|d| d.class).collect();
    classes.sort_unstable();
    classes.dedup();
    for class in classes {
        let of_class: Vec<&Detection> = candidates.iter().filter(|d| d.class == class).collect();
        let boxes: Vec<BoxXyxy> = of_class.iter().map(|d| d.bbox).collect();
        let scores: Vec<f32> = of_class.iter().map(|d| d.score).collect();
        kept.extend(nms(&boxes, &scores, iou_threshold).into_iter().map(|i| *of_class[i]));
    }
    kept.sort_by(|a, b| b.score.total_cmp(&a.score));
    kept
}
