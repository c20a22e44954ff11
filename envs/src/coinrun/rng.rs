//! The level's random numbers: SplitMix64, written out here so that a level stays the same
//! whatever version of the `rand` crate is in use.

use heldout_seeds::{GOLDEN_GAMMA, splitmix64};

/// Which independent stream of a level seed to draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Level geometry, hazards, crates.
    Geometry = 1,
    /// Colours, patterns, looks.
    Theme = 2,
}

/// A portable random stream (SplitMix64).
#[derive(Debug, Clone)]
pub(crate) struct LevelRng {
    state: u64,
}

impl LevelRng {
    /// The stream `stream` of level `seed`.
    pub fn new(seed: u64, stream: Stream) -> Self {
        Self { state: heldout_seeds::stream(seed, stream as u64) }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let out = splitmix64(self.state);
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        out
    }

    /// A uniform integer in `0..n` (`n >= 1`).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n.max(1))) >> 32) as u32
    }

    /// A uniform integer in `0..n` for signed bounds (`n >= 1`).
    pub fn below_i(&mut self, n: i32) -> i32 {
        self.below(n.max(1) as u32) as i32
    }

    /// A uniform float in `[lo, hi)`.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    /// True with probability 1/2.
    pub fn coin_flip(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, stream| {
            let mut r = LevelRng::new(seed, stream);
            (0..8).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(3, Stream::Geometry), draw(3, Stream::Geometry));
        assert_ne!(draw(3, Stream::Geometry), draw(3, Stream::Theme));
        assert_ne!(draw(3, Stream::Geometry), draw(4, Stream::Geometry));
    }

    #[test]
    fn below_covers_its_range_only() {
        let mut r = LevelRng::new(9, Stream::Geometry);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            seen[r.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
        for _ in 0..1000 {
            let f = r.range(2.0, 3.0);
            assert!((2.0..3.0).contains(&f));
        }
    }
}
