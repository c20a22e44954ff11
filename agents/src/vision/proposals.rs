//! Training proposals for the detection head: ground-truth boxes, jittered copies of them and
//! random boxes, labelled by their overlap with the ground truth (R-CNN).

use burn::config::Config;
use rand::{Rng, RngExt};

use super::boxes::{BoxXyxy, LabelledBox};

/// How many proposals of which kind to draw per frame.
#[derive(Config, Debug, PartialEq)]
pub struct ProposalConfig {
    /// Jittered copies of every ground-truth box (the box itself is always a proposal too).
    #[config(default = 4)]
    pub jittered_per_object: usize,
    /// Jitter scale: centres move by up to this fraction of the box size, and sides scale by up
    /// to `exp(+-jitter)`.
    #[config(default = 0.25)]
    pub jitter: f32,
    /// Random boxes per frame, anywhere in it.
    #[config(default = 16)]
    pub random_per_image: usize,
    /// Smallest side of a random box, in pixels.
    #[config(default = 4.0)]
    pub min_size: f32,
    /// Largest side of a random box, in pixels.
    #[config(default = 32.0)]
    pub max_size: f32,
    /// A proposal whose best IoU with a ground-truth box reaches this is labelled with that box.
    #[config(default = 0.5)]
    pub positive_iou: f32,
}

/// What a proposal should be classified as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProposalLabel {
    /// No object overlaps it enough.
    Background,
    /// It covers this ground-truth object.
    Object(LabelledBox),
}

impl ProposalLabel {
    /// The label of `bbox`: the ground-truth box of highest IoU if that IoU is at least
    /// `positive_iou` (the first such box on ties), else background.
    pub fn assign(bbox: &BoxXyxy, objects: &[LabelledBox], positive_iou: f32) -> Self {
        objects
            .iter()
            .map(|object| (object.bbox.iou(bbox), object))
            .fold(None::<(f32, &LabelledBox)>, |best, candidate| match best {
                Some(best) if best.0 >= candidate.0 => Some(best),
                _ => Some(candidate),
            })
            .filter(|(iou, _)| *iou >= positive_iou)
            .map_or(ProposalLabel::Background, |(_, object)| ProposalLabel::Object(*object))
    }
}

/// A box for the detection head to classify, with its training label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proposal {
    /// The box, in frame pixels.
    pub bbox: BoxXyxy,
    /// What it should be classified as.
    pub label: ProposalLabel,
}

impl ProposalConfig {
    /// Proposals for one `width x height` frame with ground truth `objects`: each object's box,
    /// its jittered copies, then random boxes; all clipped to the frame and at least one pixel
    /// wide and high.
    pub fn sample(&self, objects: &[LabelledBox], width: f32, height: f32, rng: &mut impl Rng) -> Vec<Proposal> {
        let mut boxes = Vec::with_capacity(objects.len() * (1 + self.jittered_per_object) + self.random_per_image);
        for object in objects {
            boxes.push(object.bbox);
            for _ in 0..self.jittered_per_object {
                boxes.push(self.jittered(&object.bbox, rng));
            }
        }
        for _ in 0..self.random_per_image {
            let (w, h) = (self.random_side(rng), self.random_side(rng));
            let (cx, cy) = (rng.random_range(0.0..=width), rng.random_range(0.0..=height));
            boxes.push(BoxXyxy::from_center(cx, cy, w, h));
        }
        boxes
            .into_iter()
            .map(|bbox| {
                let bbox = at_least_one_pixel(bbox.clip(width, height), width, height);
                Proposal { bbox, label: ProposalLabel::assign(&bbox, objects, self.positive_iou) }
            })
            .collect()
    }

    fn random_side(&self, rng: &mut impl Rng) -> f32 {
        rng.random_range(self.min_size..=self.max_size.max(self.min_size))
    }

    fn jittered(&self, bbox: &BoxXyxy, rng: &mut impl Rng) -> BoxXyxy {
        let j = self.jitter.abs();
        let mut draw = || if j > 0.0 { rng.random_range(-j..=j) } else { 0.0 };
        let (cx, cy) = bbox.center();
        let (w, h) = (bbox.width(), bbox.height());
        BoxXyxy::from_center(cx + draw() * w, cy + draw() * h, w * draw().exp(), h * draw().exp())
    }
}

/// `bbox` grown to at least one pixel per side, kept inside the frame (the box coder divides by
/// proposal sides).
fn at_least_one_pixel(bbox: BoxXyxy, width: f32, height: f32) -> BoxXyxy {
    let grow = |lo: f32, hi: f32, limit: f32| {
        if hi - lo >= 1.0 {
            (lo, hi)
        } else {
            let lo = lo.min(limit - 1.0).max(0.0);
            (lo, lo + 1.0)
        }
    };
    let (x1, x2) = grow(bbox.x1, bbox.x2, width);
    let (y1, y2) = grow(bbox.y1, bbox.y2, height);
    BoxXyxy::new(x1, y1, x2, y2)
}
