//! Observation format: how the u8 bytes the environments write become network input.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, check_count, check_positive};
use crate::vision::BatchBoxes;

/// The layout of one observation: `height * width * channels` bytes in HWC order, scaled by
/// `scale` on the way into the network (1/255 for RGB images, 1 for integer grid codes).
/// Vector observations are `height = 1`, `width = length`, `channels = 1`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObsFormat {
    /// Rows of the image (or 1 for a vector).
    pub height: usize,
    /// Columns of the image (or the vector's length).
    pub width: usize,
    /// Channels per pixel (3 for RGB and for MiniGrid's (object, colour, state) codes).
    pub channels: usize,
    /// Factor applied to each byte.
    pub scale: f32,
}

impl ObsFormat {
    /// 64x64 RGB frames, scaled to [0, 1] (CoinRun).
    pub fn rgb(height: usize, width: usize) -> ObsFormat {
        ObsFormat { height, width, channels: 3, scale: 1.0 / 255.0 }
    }

    /// A grid of integer codes with `channels` codes per cell, unscaled (MiniGrid).
    pub fn grid(height: usize, width: usize, channels: usize) -> ObsFormat {
        ObsFormat { height, width, channels, scale: 1.0 }
    }

    /// Bytes in one observation.
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Whether one observation has no bytes (never true for a validated format).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every dimension is at least 1 and the scale is finite and positive.
    pub fn validate(&self) -> Result<(), AgentError> {
        check_count("obs.height", self.height, 1)?;
        check_count("obs.width", self.width, 1)?;
        check_count("obs.channels", self.channels, 1)?;
        check_positive("obs.scale", self.scale as f64)
    }

    /// Number of observations in `bytes`, or an error if it is not a positive whole number.
    pub fn count(&self, bytes: &[u8]) -> Result<usize, AgentError> {
        let n = self.len();
        if bytes.is_empty() || !bytes.len().is_multiple_of(n) {
            return Err(AgentError::ObsLength { obs_len: n, got: bytes.len() });
        }
        Ok(bytes.len() / n)
    }

    /// Converts `n` HWC observations to a scaled `[n, channels, height, width]` tensor in one
    /// pass over the bytes (the transpose is fused into the u8 -> f32 conversion).
    pub fn to_tensor(&self, bytes: &[u8], device: &Device) -> Tensor<4> {
        let (h, w, c) = (self.height, self.width, self.channels);
        let n = bytes.len() / self.len();
        let plane = h * w;
        let mut out = vec![0.0f32; bytes.len()];
        for (img_in, img_out) in bytes.chunks_exact(self.len()).zip(out.chunks_exact_mut(self.len())) {
            for (p, px) in img_in.chunks_exact(c).enumerate() {
                for (ch, &b) in px.iter().enumerate() {
                    img_out[ch * plane + p] = b as f32 * self.scale;
                }
            }
        }
        Tensor::from_data(TensorData::new(out, [n, c, h, w]), device)
    }
}

/// A batch of observations as the agent reads them: HWC bytes back to back and, when the
/// caller has them, the object boxes of each observation (frame pixels), which only the `vision`
/// encoder reads. A byte slice converts into observations without boxes.
#[derive(Debug, Clone, Copy)]
pub struct Observations<'a> {
    /// The observations' bytes.
    pub bytes: &'a [u8],
    /// One list of object boxes per observation, if known.
    pub boxes: Option<&'a BatchBoxes>,
}

impl<'a> Observations<'a> {
    /// Observations with the object boxes of each one.
    pub fn with_boxes(bytes: &'a [u8], boxes: &'a BatchBoxes) -> Self {
        Observations { bytes, boxes: Some(boxes) }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> From<&'a T> for Observations<'a> {
    fn from(bytes: &'a T) -> Self {
        Observations { bytes: bytes.as_ref(), boxes: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_tensor_transposes_hwc_to_chw_and_scales() {
        let fmt = ObsFormat { height: 1, width: 2, channels: 3, scale: 0.5 };
        // Two observations, pixels (r, g, b).
        let bytes = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60];
        let t = fmt.to_tensor(&bytes, &Device::flex());
        assert_eq!(t.dims(), [2, 3, 1, 2]);
        let v = t.into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(v, vec![0.5, 2.0, 1.0, 2.5, 1.5, 3.0, 5.0, 20.0, 10.0, 25.0, 15.0, 30.0]);
    }

    #[test]
    fn count_rejects_partial_observations() {
        let fmt = ObsFormat::grid(2, 2, 3);
        assert_eq!(fmt.count(&[0; 24]).unwrap(), 2);
        assert!(matches!(fmt.count(&[0; 13]), Err(AgentError::ObsLength { obs_len: 12, got: 13 })));
        assert!(fmt.count(&[]).is_err());
    }
}
