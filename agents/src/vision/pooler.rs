//! RoIAlign over a feature pyramid, each box on the level Mask R-CNN's rule gives it
//! (torchvision's `MultiScaleRoIAlign`).

use burn::config::Config;
use burn::tensor::Tensor;

use super::boxes::BoxXyxy;
use super::error::VisionError;
use super::fpn::PyramidLevel;
use super::roi_align::{RoiAlignConfig, RoiSlots, index_tensor, roi_align_slots};

/// Options of the pyramid pooler; boxes are in frame pixels and use `aligned` RoIAlign.
#[derive(Config, Debug, PartialEq)]
pub struct PyramidPoolerConfig {
    /// Side of the square RoIAlign output.
    #[config(default = 4)]
    pub output_size: usize,
    /// Samples per bin along each axis (`<= 0`: adaptive).
    #[config(default = 2)]
    pub sampling_ratio: i32,
}

impl PyramidPoolerConfig {
    /// RoIAlign options on one level.
    fn level_config(&self, level: PyramidLevel) -> RoiAlignConfig {
        RoiAlignConfig::new([self.output_size; 2])
            .with_spatial_scale(1.0 / level.stride() as f64)
            .with_sampling_ratio(self.sampling_ratio)
            .with_aligned(true)
    }

    /// Checks the output size.
    pub fn check(&self) -> Result<(), VisionError> {
        self.level_config(PyramidLevel::P2).check()
    }

    /// Features of `boxes[i]` (frame pixels) on image `i` of the pyramid `[P2, P3, P4]`:
    /// `[total boxes, channels, output_size, output_size]`, image by image, box by box.
    pub fn pool(
        &self,
        levels: &[Tensor<4>; PyramidLevel::COUNT],
        boxes: &[Vec<BoxXyxy>],
    ) -> Result<Tensor<4>, VisionError> {
        self.check()?;
        let [images, channels, _, _] = levels[0].dims();
        if boxes.len() != images {
            return Err(VisionError::BatchSizeMismatch { images, boxes: boxes.len() });
        }
        if let Some(index) = boxes.iter().flatten().position(|bbox| !bbox.is_finite()) {
            return Err(VisionError::NonFiniteBox { index });
        }
        let (slots, flat) = RoiSlots::pack(boxes);
        let size = self.output_size;
        let pooled = self.pool_slots(levels, &slots).reshape([images * slots.slots, channels, size, size]);
        Ok(pooled.select(0, index_tensor(flat, &levels[0].device())))
    }

    /// Features of the boxes of `slots`: `[images, slots, channels, output_size, output_size]`,
    /// zeros for empty slots. The config must be checked.
    pub(crate) fn pool_slots(&self, levels: &[Tensor<4>; PyramidLevel::COUNT], slots: &RoiSlots) -> Tensor<5> {
        let [images, channels, _, _] = levels[0].dims();
        let mut pooled: Option<Tensor<5>> = None;
        for (level, map) in PyramidLevel::ALL.into_iter().zip(levels) {
            let boxes: Vec<Option<BoxXyxy>> =
                slots.boxes.iter().map(|bbox| bbox.filter(|bbox| PyramidLevel::for_box(bbox) == level)).collect();
            if boxes.iter().all(Option::is_none) {
                continue;
            }
            let on_level =
                roi_align_slots(map.clone(), &RoiSlots { slots: slots.slots, boxes }, &self.level_config(level));
            pooled = Some(match pooled {
                Some(sum) => sum + on_level,
                None => on_level,
            });
        }
        let size = self.output_size;
        pooled.unwrap_or_else(|| Tensor::zeros([images, slots.slots, channels, size, size], &levels[0].device()))
    }
}
