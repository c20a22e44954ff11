//! The `vision` encoder of the agents: what the backbone sees around the agent and the reported
//! objects, as one feature vector per frame.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::store::RecordError;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use super::backbone::{BackboneConfig, INPUT_CHANNELS};
use super::boxes::{BatchBoxes, BoxXyxy, LabelledBox, check_batch_boxes};
use super::error::VisionError;
use super::features::VisionBackbone;
use super::fpn::PyramidLevel;
use super::pooler::PyramidPoolerConfig;
use super::roi_align::RoiSlots;
use crate::Noise;
use crate::init::{Gain, Init};
use crate::obs::ObsFormat;

/// Numbers that describe an object slot besides its pooled features: the box's four edges divided
/// by the frame size, and the mask (1 for an object, 0 for padding).
const SLOT_GEOMETRY: usize = 5;

/// Shape of a [`VisionEncoder`].
#[derive(Config, Debug, PartialEq)]
pub struct VisionEncoderConfig {
    /// Object classes the boxes can have (heldout-envs' `ObjectClass::ALL.len()` is 7).
    #[config(default = 7)]
    pub num_classes: usize,
    /// Residual body and FPN (to load pretrained weights, the same as the detector's).
    #[config(default = "BackboneConfig::new()")]
    pub backbone: BackboneConfig,
    /// Pyramid RoIAlign.
    #[config(default = "PyramidPoolerConfig::new()")]
    pub pooler: PyramidPoolerConfig,
    /// Object boxes read per frame, nearest to the agent first; fewer are padded.
    #[config(default = 8)]
    pub max_objects: usize,
    /// Side of the box around the agent, centred on the frame (the camera follows the agent).
    #[config(default = 16.0)]
    pub agent_box_size: f32,
    /// Output features.
    #[config(default = 256)]
    pub features: usize,
}

impl VisionEncoderConfig {
    /// Inputs of the output layer: pooled P2..P4 means, the agent box and the object slots.
    pub fn flat_size(&self) -> usize {
        let channels = self.backbone.fpn_channels;
        let pooled = channels * self.pooler.output_size * self.pooler.output_size;
        PyramidLevel::COUNT * channels + (1 + self.max_objects) * pooled + self.max_objects * self.slot_descriptor()
    }

    fn slot_descriptor(&self) -> usize {
        self.num_classes + SLOT_GEOMETRY
    }

    /// Checks every option against the frames it will see (square RGB, sides a multiple of 8).
    pub fn validate(&self, obs: &ObsFormat) -> Result<(), VisionError> {
        self.backbone.validate(obs)?;
        self.pooler.check()?;
        if obs.height != obs.width {
            return Err(VisionError::InvalidConfig("the vision encoder needs square frames"));
        }
        if self.num_classes == 0 || self.features == 0 {
            return Err(VisionError::InvalidConfig("num_classes and features must be at least 1"));
        }
        if !(self.agent_box_size.is_finite() && self.agent_box_size > 0.0) {
            return Err(VisionError::InvalidConfig("agent_box_size must be a positive number"));
        }
        Ok(())
    }

    /// Length of the feature vector.
    pub fn out_features(&self) -> usize {
        self.features
    }

    /// A freshly initialized encoder for `obs` frames, with batch norm in the body if
    /// `batch_norm`; orthogonal weights and zero biases drawn from `init`.
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> Result<VisionEncoder, VisionError> {
        self.validate(obs)?;
        Ok(VisionEncoder {
            backbone: self.backbone.init(obs, batch_norm, init),
            output: init.linear(self.flat_size(), self.features, Gain::HIDDEN),
            frame_size: obs.height,
            config: self.clone(),
        })
    }
}

/// Backbone + FPN; global means of P2..P4, RoIAlign features of an agent-centred box and of up to
/// `max_objects` object boxes (each with its one-hot class, normalized edges and a mask; absent
/// objects are zeros), concatenated -> linear -> relu.
#[derive(Module, Debug)]
pub struct VisionEncoder {
    /// Residual body and FPN, replaceable by pretrained weights.
    pub backbone: VisionBackbone,
    output: Linear,
    frame_size: usize,
    #[module(skip)]
    config: VisionEncoderConfig,
}

impl VisionEncoder {
    /// Features `[batch, features]` of frames `[batch, 3, size, size]` (pixels scaled to `[0, 1]`)
    /// with `boxes[i]` the object boxes of frame `i` in frame pixels; `noise` drives the body's
    /// batch norms, if any.
    pub fn forward(&self, frames: Tensor<4>, boxes: &BatchBoxes, noise: Noise) -> Result<Tensor<2>, VisionError> {
        let dims = frames.dims();
        let [batch, channels, height, width] = dims;
        let size = self.frame_size;
        if channels != INPUT_CHANNELS || height != size || width != size {
            return Err(VisionError::ImageShape { channels: INPUT_CHANNELS, size, got: dims });
        }
        self.check_boxes(boxes, batch)?;
        let device = frames.device();
        let levels = self.backbone.forward(frames, noise);
        let global = Tensor::cat(
            levels.iter().map(|level| level.clone().mean_dim(3).mean_dim(2).flatten::<2>(1, 3)).collect(),
            1,
        );
        let objects: Vec<Vec<LabelledBox>> = boxes.iter().map(|list| self.nearest_objects(list)).collect();
        let pooled = self.config.pooler.pool_slots(&levels, &self.slots(&objects)).flatten::<2>(1, 4);
        let descriptors = self.descriptors(&objects, &device);
        Ok(relu(self.output.forward(Tensor::cat(vec![global, pooled, descriptors], 1))))
    }

    /// Checks that `boxes` holds one list per frame of a batch of `batch`, with finite
    /// coordinates and known classes (what [`VisionEncoder::forward`] checks first).
    pub fn check_boxes(&self, boxes: &BatchBoxes, batch: usize) -> Result<(), VisionError> {
        check_batch_boxes(boxes, batch, self.config.num_classes)
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &VisionEncoderConfig {
        &self.config
    }

    /// The encoder with its backbone replaced by weights written by [`VisionBackbone::save`].
    pub fn load_backbone(mut self, path: impl AsRef<Path>) -> Result<Self, RecordError> {
        self.backbone = self.backbone.load(path)?;
        Ok(self)
    }

    /// Up to `max_objects` boxes, nearest (by centre) to the frame centre first.
    fn nearest_objects(&self, list: &[LabelledBox]) -> Vec<LabelledBox> {
        let centre = self.frame_size as f32 / 2.0;
        let distance = |object: &LabelledBox| {
            let (x, y) = object.bbox.center();
            (x - centre).powi(2) + (y - centre).powi(2)
        };
        let mut sorted = list.to_vec();
        sorted.sort_by(|a, b| distance(a).total_cmp(&distance(b)));
        sorted.truncate(self.config.max_objects);
        sorted
    }

    /// Slot 0: the agent box; slots `1..=max_objects`: the objects, then empty.
    fn slots(&self, objects: &[Vec<LabelledBox>]) -> RoiSlots {
        let slots = 1 + self.config.max_objects;
        let centre = self.frame_size as f32 / 2.0;
        let agent = BoxXyxy::from_center(centre, centre, self.config.agent_box_size, self.config.agent_box_size);
        let mut boxes = vec![None; objects.len() * slots];
        for (image, list) in objects.iter().enumerate() {
            boxes[image * slots] = Some(agent);
            for (rank, object) in list.iter().enumerate() {
                boxes[image * slots + 1 + rank] = Some(object.bbox);
            }
        }
        RoiSlots { slots, boxes }
    }

    /// `[batch, max_objects * (num_classes + 5)]`: per slot the one-hot class, the edges divided
    /// by the frame size and the mask; zeros for empty slots.
    fn descriptors(&self, objects: &[Vec<LabelledBox>], device: &Device) -> Tensor<2> {
        let per_slot = self.config.slot_descriptor();
        let per_image = self.config.max_objects * per_slot;
        let scale = self.frame_size as f32;
        let mut data = vec![0f32; objects.len() * per_image];
        for (image, list) in objects.iter().enumerate() {
            for (rank, object) in list.iter().enumerate() {
                let slot = &mut data[image * per_image + rank * per_slot..][..per_slot];
                slot[object.class] = 1.0;
                let b = object.bbox;
                slot[self.config.num_classes..].copy_from_slice(&[
                    b.x1 / scale,
                    b.y1 / scale,
                    b.x2 / scale,
                    b.y2 / scale,
                    1.0,
                ]);
            }
        }
        Tensor::from_data(TensorData::new(data, [objects.len(), per_image]), device)
    }
}
