//! Axis-aligned boxes, their overlap, and labelled boxes per image.

use super::error::VisionError;

/// An axis-aligned box in pixels, `(x1, y1)` top-left and `(x2, y2)` bottom-right, origin at the
/// top-left corner of the frame (torchvision's `xyxy` format).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxXyxy {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}

impl BoxXyxy {
    /// A box from its edges.
    pub fn new(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self { x1, y1, x2, y2 }
    }

    /// A `width x height` box centred on `(cx, cy)`.
    pub fn from_center(cx: f32, cy: f32, width: f32, height: f32) -> Self {
        Self::new(cx - width / 2.0, cy - height / 2.0, cx + width / 2.0, cy + height / 2.0)
    }

    /// Width, `x2 - x1` (negative for a reversed box).
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }

    /// Height, `y2 - y1` (negative for a reversed box).
    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }

    /// Centre `(x, y)`.
    pub fn center(&self) -> (f32, f32) {
        ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)
    }

    /// Area, zero for an empty or reversed box.
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    /// Whether every coordinate is finite.
    pub fn is_finite(&self) -> bool {
        [self.x1, self.y1, self.x2, self.y2].iter().all(|v| v.is_finite())
    }

    /// The box clipped to a `width x height` frame.
    pub fn clip(&self, width: f32, height: f32) -> Self {
        Self::new(
            self.x1.clamp(0.0, width),
            self.y1.clamp(0.0, height),
            self.x2.clamp(0.0, width),
            self.y2.clamp(0.0, height),
        )
    }

    /// Intersection over union with `other`; 0 when both boxes are empty.
    pub fn iou(&self, other: &BoxXyxy) -> f32 {
        let overlap =
            BoxXyxy::new(self.x1.max(other.x1), self.y1.max(other.y1), self.x2.min(other.x2), self.y2.min(other.y2))
                .area();
        let union = self.area() + other.area() - overlap;
        if union > 0.0 { overlap / union } else { 0.0 }
    }
}

/// An object box with the index of its class, `0..num_classes` (the pipeline maps an
/// environment's object classes to these indices).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelledBox {
    /// Object class index.
    pub class: usize,
    /// Where the object is, in frame pixels.
    pub bbox: BoxXyxy,
}

/// The object boxes of every image of a batch, one list per image.
pub type BatchBoxes = [Vec<LabelledBox>];

/// Checks one list of labelled boxes per image, finite coordinates and known classes.
pub(crate) fn check_batch_boxes(boxes: &BatchBoxes, images: usize, num_classes: usize) -> Result<(), VisionError> {
    if boxes.len() != images {
        return Err(VisionError::BatchSizeMismatch { images, boxes: boxes.len() });
    }
    for (index, labelled) in boxes.iter().flatten().enumerate() {
        if !labelled.bbox.is_finite() {
            return Err(VisionError::NonFiniteBox { index });
        }
        if labelled.class >= num_classes {
            return Err(VisionError::ClassOutOfRange { class: labelled.class, num_classes });
        }
    }
    Ok(())
}
