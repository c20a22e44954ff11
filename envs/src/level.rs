//! Which levels a run may play: procgen's `start_level` / `num_levels`, and a seeded sampler.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A set of level seeds: `[start_level, start_level + num_levels)`, or every seed from
/// `start_level` up when `num_levels` is 0 (unbounded), as in procgen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelSet {
    /// The first level seed.
    pub start_level: u64,
    /// How many consecutive seeds; 0 means unbounded.
    pub num_levels: u64,
}

impl LevelSet {
    /// The levels `[start_level, start_level + num_levels)` (`num_levels = 0`: unbounded).
    pub fn new(start_level: u64, num_levels: u64) -> Self {
        Self { start_level, num_levels }
    }

    /// Every level seed.
    pub fn all() -> Self {
        Self::new(0, 0)
    }

    /// A training set of `num_levels` levels from 0 and the held-out set of every level after
    /// it; the two never share a level.
    pub fn train_test_split(num_levels: u64) -> (LevelSet, LevelSet) {
        Self::new(0, num_levels).with_held_out()
    }

    /// This set, and the unbounded set of every level after it (disjoint from it).
    ///
    /// An unbounded set has no levels after it; its held-out set is then empty of new levels,
    /// so callers split bounded sets only.
    pub fn with_held_out(self) -> (LevelSet, LevelSet) {
        (self, LevelSet::new(self.end().unwrap_or(u64::MAX), 0))
    }

    /// One past the last seed, or `None` when unbounded.
    pub fn end(&self) -> Option<u64> {
        (self.num_levels != 0).then(|| self.start_level.saturating_add(self.num_levels))
    }

    /// True when `seed` belongs to the set.
    pub fn contains(&self, seed: u64) -> bool {
        seed >= self.start_level && self.end().is_none_or(|end| seed < end)
    }

    /// True when no seed belongs to both sets.
    pub fn is_disjoint(&self, other: &LevelSet) -> bool {
        let (a, b) = if self.start_level <= other.start_level { (self, other) } else { (other, self) };
        a.end().is_some_and(|end| end <= b.start_level)
    }
}

/// Draws level seeds uniformly from a [`LevelSet`], reproducibly.
///
/// Each env slot of a run owns a sampler made from the run's sampler seed and the slot's index,
/// so the levels a slot plays do not depend on how slots are spread over worker threads.
#[derive(Debug)]
pub struct LevelSampler {
    set: LevelSet,
    rng: StdRng,
    seed: u64,
    draws: u64,
}

impl LevelSampler {
    /// A sampler over `set` for stream `stream` (e.g. the env slot index) of `sampler_seed`.
    pub fn new(set: LevelSet, sampler_seed: u64, stream: u64) -> Self {
        let seed = heldout_seeds::level_sampler(sampler_seed, stream);
        Self { set, rng: StdRng::seed_from_u64(seed), seed, draws: 0 }
    }

    /// How many seeds this sampler has drawn; [`LevelSampler::skip`] replays that many.
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// A sampler at the start of this sampler's stream.
    pub fn rewound(&self) -> LevelSampler {
        Self { set: self.set, rng: StdRng::seed_from_u64(self.seed), seed: self.seed, draws: 0 }
    }

    /// Draws and discards `n` seeds, to bring a fresh sampler to a saved position.
    pub fn skip(&mut self, n: u64) {
        for _ in 0..n {
            self.sample();
        }
    }

    /// The set this sampler draws from.
    pub fn level_set(&self) -> LevelSet {
        self.set
    }

    /// The next level seed.
    pub fn sample(&mut self) -> u64 {
        self.draws += 1;
        match self.set.end() {
            Some(end) => self.rng.random_range(self.set.start_level..end),
            None => self.rng.random_range(self.set.start_level..=u64::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_and_test_sets_are_disjoint() {
        for n in [1, 10, 200, 500, 100_000] {
            let (train, test) = LevelSet::train_test_split(n);
            assert!(train.is_disjoint(&test) && test.is_disjoint(&train));
            let mut sampler = LevelSampler::new(test, 7, 0);
            for _ in 0..1000 {
                let s = sampler.sample();
                assert!(test.contains(s) && !train.contains(s), "seed {s} for n = {n}");
            }
        }
        assert!(!LevelSet::new(0, 10).is_disjoint(&LevelSet::new(9, 5)));
        assert!(!LevelSet::all().is_disjoint(&LevelSet::new(100, 1)));
    }

    #[test]
    fn sampler_stays_in_set_and_covers_it() {
        let set = LevelSet::new(40, 8);
        let mut sampler = LevelSampler::new(set, 1, 3);
        let mut seen = [false; 8];
        for _ in 0..500 {
            let s = sampler.sample();
            assert!(set.contains(s));
            seen[(s - 40) as usize] = true;
        }
        assert!(seen.iter().all(|&x| x));
    }

    #[test]
    fn sampler_is_reproducible_per_stream() {
        let set = LevelSet::new(0, 1_000_000);
        let draw = |seed, stream| {
            let mut s = LevelSampler::new(set, seed, stream);
            (0..20).map(|_| s.sample()).collect::<Vec<_>>()
        };
        assert_eq!(draw(5, 2), draw(5, 2));
        assert_ne!(draw(5, 2), draw(5, 3));
        assert_ne!(draw(5, 2), draw(6, 2));
    }
}
