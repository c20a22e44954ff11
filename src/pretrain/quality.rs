//! How well a detector finds the objects of frames it was not trained on.
//!
//! The detector has no proposal network, so it looks at sliding windows: square boxes of each of
//! [`WINDOW_SIDES`] pixels, every half side across the frame (R-CNN used selective search; these
//! frames are small enough to try every window). Its detections (class score at least
//! [`SCORE_THRESHOLD`], per-class non-maximum suppression at [`NMS_IOU`], at most
//! [`MAX_DETECTIONS`] per frame, as torchvision's Faster R-CNN) are scored against the ground
//! truth with
//! - average precision at IoU 0.5 per class (PASCAL VOC's all-point interpolation: a detection is
//!   a true positive when its best-overlapping unmatched box of its class has IoU >= 0.5), and
//!   their mean over the classes present (mAP);
//! - the mean IoU of each ground-truth box with the best detection of its class (0 when none).

use anyhow::Result;
use burn::module::Module;
use heldout_agents::backend::inference_device;
use heldout_agents::vision::{BoxXyxy, Detection, Detector, LabelledBox};
use serde::Serialize;

use super::frames::FrameSet;

/// Sides, in pixels, of the sliding windows (CoinRun's objects are 3 to 6 pixels).
pub const WINDOW_SIDES: [f32; 4] = [4.0, 6.0, 8.0, 12.0];
/// Lowest class probability a detection may have.
pub const SCORE_THRESHOLD: f32 = 0.05;
/// IoU above which non-maximum suppression drops the lower-scored box of a class.
pub const NMS_IOU: f32 = 0.5;
/// Detections kept per frame, best first.
pub const MAX_DETECTIONS: usize = 100;
/// IoU a detection needs with a ground-truth box to count as finding it.
pub const MATCH_IOU: f32 = 0.5;
/// Frames per detector pass.
const CHUNK: usize = 8;

/// Detection quality on one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassQuality {
    /// Object class index.
    pub class: usize,
    /// Ground-truth boxes of the class.
    pub objects: usize,
    /// Average precision at IoU 0.5.
    pub ap50: f64,
    /// Mean IoU of each box with the best detection of its class.
    pub mean_iou: f64,
}

/// Detection quality over a set of frames.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    /// Frames scored.
    pub frames: usize,
    /// Ground-truth boxes in them.
    pub objects: usize,
    /// Mean of the per-class AP at IoU 0.5 over the classes present.
    pub map50: f64,
    /// Mean IoU of every ground-truth box with the best detection of its class.
    pub mean_iou: f64,
    /// The classes present, by index.
    pub per_class: Vec<ClassQuality>,
}

/// Square windows of each of `sides`, every half side, inside a `width x height` frame.
pub fn sliding_windows(width: f32, height: f32, sides: &[f32]) -> Vec<BoxXyxy> {
    let mut windows = Vec::new();
    for &side in sides {
        let step = side / 2.0;
        let mut y = 0.0;
        while y + side <= height {
            let mut x = 0.0;
            while x + side <= width {
                windows.push(BoxXyxy::new(x, y, x + side, y + side));
                x += step;
            }
            y += step;
        }
    }
    windows
}

/// The detector's detections on every frame of `frames` (sliding windows, running statistics).
pub fn detect(detector: &Detector, frames: &FrameSet) -> Result<Vec<Vec<Detection>>> {
    let detector = detector.valid();
    let format = frames.format;
    let windows = sliding_windows(format.width as f32, format.height as f32, &WINDOW_SIDES);
    let mut out = Vec::with_capacity(frames.len());
    for start in (0..frames.len()).step_by(CHUNK) {
        let n = CHUNK.min(frames.len() - start);
        let bytes = &frames.bytes[start * format.len()..(start + n) * format.len()];
        let proposals = vec![windows.clone(); n];
        let found =
            detector.detect(format.to_tensor(bytes, &inference_device()), &proposals, SCORE_THRESHOLD, NMS_IOU)?;
        out.extend(found.into_iter().map(|mut d| {
            d.truncate(MAX_DETECTIONS);
            d
        }));
    }
    Ok(out)
}

/// Scores `detections[i]` against the ground truth `truth[i]` of each frame.
pub fn score(detections: &[Vec<Detection>], truth: &[Vec<LabelledBox>], num_classes: usize) -> Quality {
    let per_class: Vec<ClassQuality> = (0..num_classes)
        .filter_map(|class| {
            let objects = truth.iter().flatten().filter(|b| b.class == class).count();
            (objects > 0).then(|| ClassQuality {
                class,
                objects,
                ap50: average_precision(detections, truth, class, objects),
                mean_iou: best_ious(detections, truth, class).sum::<f64>() / objects as f64,
            })
        })
        .collect();
    let objects = per_class.iter().map(|c| c.objects).sum::<usize>();
    let ious: f64 = (0..num_classes).flat_map(|class| best_ious(detections, truth, class)).sum();
    Quality {
        frames: truth.len(),
        objects,
        map50: mean(per_class.iter().map(|c| c.ap50)),
        mean_iou: if objects > 0 { ious / objects as f64 } else { 0.0 },
        per_class,
    }
}

/// The IoU of each ground-truth box of `class` with the best detection of that class.
fn best_ious<'a>(
    detections: &'a [Vec<Detection>],
    truth: &'a [Vec<LabelledBox>],
    class: usize,
) -> impl Iterator<Item = f64> + 'a {
    truth.iter().zip(detections).flat_map(move |(objects, found)| {
        objects.iter().filter(move |b| b.class == class).map(move |b| {
            found.iter().filter(|d| d.class == class).map(|d| f64::from(d.bbox.iou(&b.bbox))).fold(0.0, f64::max)
        })
    })
}

/// VOC's all-point average precision of `class` at IoU [`MATCH_IOU`], with `objects` boxes of it.
fn average_precision(detections: &[Vec<Detection>], truth: &[Vec<LabelledBox>], class: usize, objects: usize) -> f64 {
    let mut ranked: Vec<(usize, &Detection)> = detections
        .iter()
        .enumerate()
        .flat_map(|(frame, found)| found.iter().filter(|d| d.class == class).map(move |d| (frame, d)))
        .collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    let mut matched: Vec<Vec<bool>> = truth.iter().map(|objects| vec![false; objects.len()]).collect();
    let (mut true_positives, mut points) = (0usize, Vec::with_capacity(ranked.len()));
    for (rank, (frame, d)) in ranked.into_iter().enumerate() {
        let best = truth[frame]
            .iter()
            .enumerate()
            .filter(|(_, b)| b.class == class)
            .map(|(i, b)| (i, b.bbox.iou(&d.bbox)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, _)) = best.filter(|&(i, iou)| iou >= MATCH_IOU && !matched[frame][i]) {
            matched[frame][i] = true;
            true_positives += 1;
        }
        let (recall, precision) = (true_positives as f64 / objects as f64, true_positives as f64 / (rank + 1) as f64);
        points.push((recall, precision));
    }
    envelope_area(&points)
}

/// Area under the precision envelope (at each rank, the best precision at that recall or more)
/// of the precision-recall points, in rank order.
fn envelope_area(points: &[(f64, f64)]) -> f64 {
    let mut best_after = vec![0.0f64; points.len() + 1];
    for i in (0..points.len()).rev() {
        best_after[i] = best_after[i + 1].max(points[i].1);
    }
    let mut area = 0.0;
    let mut previous_recall = 0.0;
    for (i, &(recall, _)) in points.iter().enumerate() {
        area += (recall - previous_recall) * best_after[i];
        previous_recall = recall;
    }
    area
}

/// The mean of `values`, 0 for none.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n > 0 { sum / n as f64 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(class: usize, x: f32, y: f32) -> LabelledBox {
        LabelledBox { class, bbox: BoxXyxy::new(x, y, x + 4.0, y + 6.0) }
    }

    fn found(class: usize, score: f32, bbox: BoxXyxy) -> Detection {
        Detection { class, score, bbox }
    }

    #[test]
    fn perfect_detections_score_one_and_none_score_zero() {
        let truth = vec![vec![object(0, 1.0, 1.0), object(2, 20.0, 9.0)], vec![object(0, 30.0, 30.0)]];
        let perfect: Vec<Vec<Detection>> =
            truth.iter().map(|objects| objects.iter().map(|o| found(o.class, 0.9, o.bbox)).collect()).collect();
        let q = score(&perfect, &truth, 7);
        assert_eq!((q.frames, q.objects, q.map50, q.mean_iou), (2, 3, 1.0, 1.0));
        assert_eq!(q.per_class.iter().map(|c| (c.class, c.objects)).collect::<Vec<_>>(), [(0, 2), (2, 1)]);
        let q = score(&[vec![], vec![]], &truth, 7);
        assert_eq!((q.map50, q.mean_iou), (0.0, 0.0));
    }

    #[test]
    fn ranking_duplicates_and_overlap_follow_voc() {
        let truth = vec![vec![object(0, 0.0, 0.0)]];
        let exact = BoxXyxy::new(0.0, 0.0, 4.0, 6.0);
        // A confident false positive ranked first halves the precision at full recall.
        let q = score(&[vec![found(0, 0.9, BoxXyxy::new(40.0, 40.0, 44.0, 46.0)), found(0, 0.5, exact)]], &truth, 7);
        assert!((q.map50 - 0.5).abs() < 1e-12, "{q:?}");
        // A duplicate after the true positive costs nothing (recall is already 1).
        let q = score(&[vec![found(0, 0.9, exact), found(0, 0.5, exact)]], &truth, 7);
        assert!((q.map50 - 1.0).abs() < 1e-12, "{q:?}");
        // IoU 1/3 (a third of the box) finds nothing at 0.5 but counts in the mean IoU; the wrong
        // class counts for neither.
        let third = BoxXyxy::new(0.0, 0.0, 4.0, 2.0);
        let q = score(&[vec![found(0, 0.9, third), found(1, 0.9, exact)]], &truth, 7);
        assert_eq!(q.map50, 0.0);
        assert!((q.mean_iou - 1.0 / 3.0).abs() < 1e-6, "{q:?}");
    }

    #[test]
    fn windows_tile_the_frame_every_half_side() {
        let w = sliding_windows(8.0, 8.0, &[4.0]);
        assert_eq!(w.len(), 9);
        assert_eq!(w[1], BoxXyxy::new(2.0, 0.0, 6.0, 4.0));
        assert!(w.iter().all(|b| b.x2 <= 8.0 && b.y2 <= 8.0));
    }
}
