//! The vision stack: RoIAlign, a residual backbone with a feature pyramid, box utilities, an
//! R-CNN detection head to pretrain the backbone on object boxes, and the `vision` encoder.
//!
//! Everything is in burn and differentiable end to end with respect to the features; boxes are
//! data (plain Rust values), never parameters.
//!
//! - [`roi_align()`]: `torchvision.ops.roi_align`, forward and (through autodiff) backward.
//! - [`BackboneConfig`] -> [`VisionBackbone`]: IMPALA-style residual stages (C2..C4, strides
//!   2/4/8) and an [`Fpn`] (P2..P4); [`PyramidLevel::for_box`] is Mask R-CNN's level rule.
//! - [`PyramidPoolerConfig`]: RoIAlign of each box on its pyramid level.
//! - [`BoxXyxy`], [`nms()`], [`BoxCoder`]: IoU, non-maximum suppression, R-CNN box deltas.
//! - [`DetectorConfig`] -> [`Detector`]: the pretraining task (class scores + box regression per
//!   region, cross-entropy + smooth L1) on proposals drawn by [`ProposalConfig`].
//! - [`VisionEncoderConfig`] -> [`VisionEncoder`]: features for the agents.

mod backbone;
mod boxes;
mod coder;
mod detector;
mod encoder;
mod error;
mod features;
mod fpn;
mod head;
mod nms;
mod pooler;
mod proposals;
mod roi_align;

pub use backbone::{Backbone, BackboneConfig, INPUT_CHANNELS};
pub use boxes::{BatchBoxes, BoxXyxy, LabelledBox};
pub use coder::BoxCoder;
pub use detector::{Detection, DetectionLoss, Detector, DetectorConfig};
pub use encoder::{VisionEncoder, VisionEncoderConfig};
pub use error::VisionError;
pub use features::VisionBackbone;
pub use fpn::{CANONICAL_LEVEL, CANONICAL_SIZE, Fpn, PyramidLevel};
pub use head::{BACKGROUND, DetectionHead, DetectionHeadConfig, HeadOutput};
pub use nms::nms;
pub use pooler::PyramidPoolerConfig;
pub use proposals::{Proposal, ProposalConfig, ProposalLabel};
pub use roi_align::{Roi, RoiAlignConfig, roi_align};
