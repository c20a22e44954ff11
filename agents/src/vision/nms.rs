//! Greedy non-maximum suppression (R-CNN), as torchvision.ops.nms.

use super::boxes::BoxXyxy;

/// Indices of the boxes that greedy non-maximum suppression keeps, by decreasing score.
///
/// Boxes are visited from the highest score down; a box is dropped when its IoU with an already
/// kept box is greater than `iou_threshold`. Ties in score keep the earlier box first. NaN scores
/// sort below every number. `boxes` and `scores` pair up by index; extra entries of the longer
/// slice are ignored.
pub fn nms(boxes: &[BoxXyxy], scores: &[f32], iou_threshold: f32) -> Vec<usize> {
    let count = boxes.len().min(scores.len());
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|&a, &b| match (scores[a].is_nan(), scores[b].is_nan()) {
        (false, false) => scores[b].total_cmp(&scores[a]),
        (nan_a, nan_b) => nan_a.cmp(&nan_b),
    });
    let mut keep: Vec<usize> = Vec::new();
    for candidate in order {
        if keep.iter().all(|&kept| boxes[kept].iou(&boxes[candidate]) <= iou_threshold) {
            keep.push(candidate);
        }
    }
    keep
}
