//! Errors of the vision stack.

use thiserror::Error;

/// Invalid input to a vision operation.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum VisionError {
    /// A box coordinate is NaN or infinite.
    #[error("box {index} has a non-finite coordinate")]
    NonFiniteBox {
        /// Position of the box in its list.
        index: usize,
    },
    /// A box refers to an image that the batch does not have.
    #[error("box {index} refers to image {batch_index}, but the batch has {batch_size} images")]
    BatchIndexOutOfRange {
        /// Position of the box in its list.
        index: usize,
        /// The image it refers to.
        batch_index: usize,
        /// Images in the batch.
        batch_size: usize,
    },
    /// The per-image box lists do not match the batch of images.
    #[error("{boxes} per-image box lists for a batch of {images} images")]
    BatchSizeMismatch {
        /// Images in the batch.
        images: usize,
        /// Per-image box lists given.
        boxes: usize,
    },
    /// A box's class index is not one of the model's object classes.
    #[error("class index {class} is out of range for {num_classes} object classes")]
    ClassOutOfRange {
        /// The offending class index.
        class: usize,
        /// Object classes the model knows.
        num_classes: usize,
    },
    /// An option of a vision module is unusable.
    #[error("invalid vision option: {0}")]
    InvalidConfig(&'static str),
    /// The input images do not have the shape the model was built for.
    #[error("expected images of shape [batch, {channels}, {size}, {size}], got {got:?}")]
    ImageShape {
        /// Colour channels expected.
        channels: usize,
        /// Frame side expected.
        size: usize,
        /// The shape given.
        got: [usize; 4],
    },
}
