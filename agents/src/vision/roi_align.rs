//! RoIAlign (He et al. 2017, Mask R-CNN) exactly as `torchvision.ops.roi_align` computes it,
//! written with burn tensor ops so that autodiff gives its backward.
//!
//! For every box and output bin, RoIAlign averages bilinear samples taken at a regular
//! `grid_h x grid_w` lattice inside the bin. A sample at `(y, x)` outside `[-1, H] x [-1, W]`
//! counts as zero; otherwise it is clamped into the map. Both the sampling lattice and this rule
//! factor into a y part and an x part, so the pooled value of box `k`, channel `c`, bin `(i, j)`
//! is `sum_{y,x} Ay[k, i, y] * X[n_k, c, y, x] * Ax[k, j, x]`: two batched matrix products with
//! interpolation matrices that are computed on the CPU from the boxes (boxes are data, never
//! parameters). The backward is then the transposed products, exact to float rounding.

use burn::config::Config;
use burn::tensor::{Int, Tensor, TensorData};

use super::boxes::BoxXyxy;
use super::error::VisionError;

/// Options of RoIAlign, with torchvision's names, meanings and defaults.
#[derive(Config, Debug, PartialEq)]
pub struct RoiAlignConfig {
    /// Output bins `[height, width]`.
    pub output_size: [usize; 2],
    /// Factor from box coordinates to feature-map cells (`1 / stride` of the map).
    #[config(default = 1.0)]
    pub spatial_scale: f64,
    /// Samples per bin along each axis; `<= 0` means adaptive: `ceil(roi_size / output_size)`.
    #[config(default = -1)]
    pub sampling_ratio: i32,
    /// Shift boxes by half a cell so that cell centres sit at half-integer coordinates
    /// (torchvision `aligned=True`); without it boxes are also at least one cell wide.
    #[config(default = false)]
    pub aligned: bool,
}

impl RoiAlignConfig {
    /// Checks that the output has bins and the scale is a positive number.
    pub fn check(&self) -> Result<(), VisionError> {
        if self.output_size.contains(&0) {
            return Err(VisionError::InvalidConfig("output_size must be positive"));
        }
        if !(self.spatial_scale.is_finite() && self.spatial_scale > 0.0) {
            return Err(VisionError::InvalidConfig("spatial_scale must be a positive number"));
        }
        Ok(())
    }
}

/// One region of interest: a box in input-image coordinates on image `batch_index`
/// (a row `[batch_index, x1, y1, x2, y2]` of torchvision's `rois`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    /// The image of the batch the box lies on.
    pub batch_index: usize,
    /// The box, in input-image coordinates (scaled by `spatial_scale` onto the map).
    pub bbox: BoxXyxy,
}

/// Boxes laid out as `images x slots` (row-major); an empty slot pools to zeros.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoiSlots {
    /// Slots per image.
    pub slots: usize,
    /// `images * slots` entries.
    pub boxes: Vec<Option<BoxXyxy>>,
}

impl RoiSlots {
    /// Lays out one box list per image as slots, padded to the longest list, with the flat slot
    /// index (`image * slots + rank`) of every box, image by image.
    pub(crate) fn pack(lists: &[Vec<BoxXyxy>]) -> (Self, Vec<i64>) {
        let slots = lists.iter().map(Vec::len).max().unwrap_or(0);
        let mut boxes = vec![None; lists.len() * slots];
        let mut flat = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        for (image, list) in lists.iter().enumerate() {
            for (rank, &bbox) in list.iter().enumerate() {
                boxes[image * slots + rank] = Some(bbox);
                flat.push((image * slots + rank) as i64);
            }
        }
        (Self { slots, boxes }, flat)
    }
}

/// RoIAlign of `rois` on `input` `[N, C, H, W]`: `[K, C, output_h, output_w]`, one entry per roi in
/// order, equal to `torchvision.ops.roi_align(input, rois, output_size, spatial_scale,
/// sampling_ratio, aligned)`. Differentiable with respect to `input`.
pub fn roi_align(input: Tensor<4>, rois: &[Roi], config: &RoiAlignConfig) -> Result<Tensor<4>, VisionError> {
    config.check()?;
    let [batch_size, channels, _, _] = input.dims();
    for (index, roi) in rois.iter().enumerate() {
        if roi.batch_index >= batch_size {
            return Err(VisionError::BatchIndexOutOfRange { index, batch_index: roi.batch_index, batch_size });
        }
        if !roi.bbox.is_finite() {
            return Err(VisionError::NonFiniteBox { index });
        }
    }
    let [pooled_h, pooled_w] = config.output_size;
    let device = input.device();
    if rois.is_empty() {
        return Ok(Tensor::zeros([0, channels, pooled_h, pooled_w], &device));
    }
    // Pack the images that hold a box as rows of slots; roi `k` is the `rank`-th box of its row.
    let mut lists: Vec<Vec<BoxXyxy>> = vec![Vec::new(); batch_size];
    let ranks: Vec<usize> = rois
        .iter()
        .map(|roi| {
            lists[roi.batch_index].push(roi.bbox);
            lists[roi.batch_index].len() - 1
        })
        .collect();
    let used: Vec<usize> = (0..batch_size).filter(|&image| !lists[image].is_empty()).collect();
    let mut row_of = vec![0usize; batch_size];
    for (row, &image) in used.iter().enumerate() {
        row_of[image] = row;
    }
    lists.retain(|list| !list.is_empty());
    let (slots, _) = RoiSlots::pack(&lists);
    let order: Vec<i64> =
        rois.iter().zip(&ranks).map(|(roi, &rank)| (row_of[roi.batch_index] * slots.slots + rank) as i64).collect();
    let input = if used.len() == batch_size {
        input
    } else {
        let used: Vec<i64> = used.iter().map(|&image| image as i64).collect();
        input.select(0, index_tensor(used, &device))
    };
    let pooled =
        roi_align_slots(input, &slots, config).reshape([used.len() * slots.slots, channels, pooled_h, pooled_w]);
    Ok(pooled.select(0, index_tensor(order, &device)))
}

/// A rank-1 integer tensor of indices.
pub(crate) fn index_tensor(indices: Vec<i64>, device: &burn::tensor::Device) -> Tensor<1, Int> {
    let len = indices.len();
    Tensor::from_data(TensorData::new(indices, [len]), device)
}

/// RoIAlign of the boxes of `slots` on `input` `[N, C, H, W]` (`N` images of `slots` boxes each):
/// `[N, slots, C, output_h, output_w]`, zeros for empty slots. The config must be checked.
pub(crate) fn roi_align_slots(input: Tensor<4>, slots: &RoiSlots, config: &RoiAlignConfig) -> Tensor<5> {
    let [images, channels, height, width] = input.dims();
    let per_image = slots.slots;
    let [pooled_h, pooled_w] = config.output_size;
    // ax[n, x, s * pooled_w + j] and ay[n, s, i, y]: the x and y interpolation matrices.
    let mut ax = vec![0f32; images * width * per_image * pooled_w];
    let mut ay = vec![0f32; images * per_image * pooled_h * height];
    for (flat, bbox) in slots.boxes.iter().enumerate() {
        let Some(bbox) = bbox else { continue };
        let (image, slot) = (flat / per_image, flat % per_image);
        let wx = axis_weights(bbox.x1, bbox.x2, pooled_w, width, config);
        for (bin, row) in wx.chunks_exact(width).enumerate() {
            for (x, &weight) in row.iter().enumerate() {
                ax[((image * width + x) * per_image + slot) * pooled_w + bin] = weight as f32;
            }
        }
        let wy = axis_weights(bbox.y1, bbox.y2, pooled_h, height, config);
        let start = (image * per_image + slot) * pooled_h * height;
        for (dst, &weight) in ay[start..start + pooled_h * height].iter_mut().zip(&wy) {
            *dst = weight as f32;
        }
    }
    let device = input.device();
    let ax = Tensor::<3>::from_data(TensorData::new(ax, [images, width, per_image * pooled_w]), &device);
    let ay = Tensor::<4>::from_data(TensorData::new(ay, [images, per_image, pooled_h, height]), &device);
    // [N, C*H, W] x [N, W, S*pw] -> [N, C, H, S, pw] -> [N, S, H, C*pw]
    let along_x = input
        .reshape([images, channels * height, width])
        .matmul(ax)
        .reshape([images, channels, height, per_image, pooled_w])
        .permute([0, 3, 2, 1, 4])
        .reshape([images, per_image, height, channels * pooled_w]);
    // [N, S, ph, H] x [N, S, H, C*pw] -> [N, S, ph, C, pw] -> [N, S, C, ph, pw]
    ay.matmul(along_x).reshape([images, per_image, pooled_h, channels, pooled_w]).permute([0, 1, 3, 2, 4])
}

/// RoIAlign's interpolation weights along one axis for a box spanning `[lo, hi]` in image
/// coordinates: entry `bin * length + cell` is the bilinear weight of map cell `cell`, averaged
/// over the bin's samples along this axis (torchvision's `roi_align_forward_kernel` and
/// `bilinear_interpolate`, in float64).
fn axis_weights(lo: f32, hi: f32, bins: usize, length: usize, config: &RoiAlignConfig) -> Vec<f64> {
    let mut weights = vec![0.0; bins * length];
    let offset = if config.aligned { 0.5 } else { 0.0 };
    let start = f64::from(lo) * config.spatial_scale - offset;
    let mut size = f64::from(hi) * config.spatial_scale - offset - start;
    if !config.aligned {
        size = size.max(1.0);
    }
    let bin_size = size / bins as f64;
    let grid = if config.sampling_ratio > 0 { f64::from(config.sampling_ratio) } else { bin_size.ceil() };
    if grid < 1.0 {
        return weights;
    }
    let last = length - 1;
    for (bin, row) in weights.chunks_exact_mut(length).enumerate() {
        for sample in 0..grid as usize {
            let at = start + bin as f64 * bin_size + (sample as f64 + 0.5) * bin_size / grid;
            if at < -1.0 || at > length as f64 {
                continue;
            }
            let at = at.max(0.0);
            let low = at as usize;
            let (low, high, frac) = if low >= last { (last, last, 0.0) } else { (low, low + 1, at - low as f64) };
            row[low] += (1.0 - frac) / grid;
            row[high] += frac / grid;
        }
    }
    weights
}
