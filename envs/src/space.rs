//! Observation and action spaces described by types.

/// Element type of an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// Unsigned bytes (grid codes, RGB pixels).
    U8,
}

/// The shape, element type and bounds of an observation.
///
/// Observations are stored row-major in `shape` order; images are `[height, width, channels]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsSpace {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Largest value any element takes (255 for RGB, the largest code for grids).
    pub high: u8,
}

impl ObsSpace {
    /// An `height x width x 3` RGB image of bytes.
    pub fn rgb(height: usize, width: usize) -> Self {
        Self { shape: vec![height, width, 3], dtype: DType::U8, high: u8::MAX }
    }

    /// Number of elements in one observation.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when an observation has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A discrete action space with a name per action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpace {
    /// The name of each action, by index.
    pub names: Vec<&'static str>,
}

impl ActionSpace {
    /// Number of actions.
    pub fn n(&self) -> usize {
        self.names.len()
    }
}

/// An RGB picture, `height x width x 3` bytes, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbFrame {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Interleaved RGB bytes.
    pub data: Vec<u8>,
}
