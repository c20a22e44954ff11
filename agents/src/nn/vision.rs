//! The `vision` encoder's settings as the agent's (TOML/JSON) configuration spells them.
//!
//! [`VisionEncoderConfig`] is a burn `Config`: its deserializer ignores unknown keys and needs
//! every field. [`VisionConfig`] is the strict, flat form the run configs use: unknown keys are
//! errors, missing ones take their defaults (those of [`VisionEncoderConfig::new`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::AgentError;
use crate::init::Init;
use crate::obs::ObsFormat;
use crate::vision::{BackboneConfig, PyramidPoolerConfig, VisionEncoder, VisionEncoderConfig};

/// The `vision` encoder: IMPALA stacks + FPN, global pyramid means and RoIAlign features of an
/// agent-centred box and of the reported object boxes (see [`VisionEncoder`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VisionConfig {
    /// Object classes the boxes can have (heldout-envs' `ObjectClass::ALL.len()` is 7).
    pub num_classes: usize,
    /// Output channels of the residual stacks that make C2, C3, C4.
    pub channels: [usize; 3],
    /// Channels of every pyramid level P2..P4.
    pub fpn_channels: usize,
    /// Side of the square RoIAlign output.
    pub pool_size: usize,
    /// RoIAlign samples per bin along each axis (`<= 0`: adaptive).
    pub sampling_ratio: i32,
    /// Object boxes read per frame, nearest to the agent first.
    pub max_objects: usize,
    /// Side in pixels of the box around the agent, centred on the frame.
    pub agent_box_size: f32,
    /// Output features.
    pub features: usize,
    /// Backbone weights to start from: a file written by `VisionBackbone::save` (or
    /// `heldout pretrain`) for the same `channels`, `fpn_channels` and batch-norm choice. Read
    /// when a fresh agent is made ([`crate::Agent::new`]), not when a checkpoint is loaded.
    pub pretrained_backbone: Option<PathBuf>,
}

impl Default for VisionConfig {
    fn default() -> Self {
        let c = VisionEncoderConfig::new();
        VisionConfig {
            num_classes: c.num_classes,
            channels: c.backbone.channels,
            fpn_channels: c.backbone.fpn_channels,
            pool_size: c.pooler.output_size,
            sampling_ratio: c.pooler.sampling_ratio,
            max_objects: c.max_objects,
            agent_box_size: c.agent_box_size,
            features: c.features,
            pretrained_backbone: None,
        }
    }
}

impl VisionConfig {
    /// The residual body and pyramid (what a detector must use for its backbone to load here).
    pub fn backbone(&self) -> BackboneConfig {
        BackboneConfig::new().with_channels(self.channels).with_fpn_channels(self.fpn_channels)
    }

    /// The vision library's form of these settings.
    pub fn encoder_config(&self) -> VisionEncoderConfig {
        VisionEncoderConfig::new()
            .with_num_classes(self.num_classes)
            .with_backbone(self.backbone())
            .with_pooler(
                PyramidPoolerConfig::new().with_output_size(self.pool_size).with_sampling_ratio(self.sampling_ratio),
            )
            .with_max_objects(self.max_objects)
            .with_agent_box_size(self.agent_box_size)
            .with_features(self.features)
    }

    /// Checks every option against the frames it will see (square RGB, sides a multiple of 8).
    pub fn validate(&self, obs: &ObsFormat) -> Result<(), AgentError> {
        Ok(self.encoder_config().validate(obs)?)
    }

    /// Length of the feature vector.
    pub fn out_features(&self) -> usize {
        self.features
    }

    /// A freshly initialized encoder (the pretrained backbone is not read here: see
    /// [`VisionConfig::load_pretrained`]).
    pub fn init(&self, obs: &ObsFormat, batch_norm: bool, init: &mut Init) -> Result<VisionEncoder, AgentError> {
        Ok(self.encoder_config().init(obs, batch_norm, init)?)
    }

    /// `encoder` with its backbone replaced by [`VisionConfig::pretrained_backbone`], if set.
    pub fn load_pretrained(&self, encoder: VisionEncoder) -> Result<VisionEncoder, AgentError> {
        let Some(path) = &self.pretrained_backbone else { return Ok(encoder) };
        let fail = |reason: String| AgentError::PretrainedBackbone { path: path.clone(), reason };
        check_readable(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        encoder.load_backbone(path).map_err(|e| {
            fail(format!(
                "does not fit the configured backbone (channels {:?}, fpn_channels {}, and the batch-norm \
                 choice must be those it was trained with): {e}",
                self.channels, self.fpn_channels
            ))
        })
    }
}

/// Whether `path` is a file that can be opened.
fn check_readable(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path).map(drop)
}
