//! Every seed heldout derives from another, in one place.
//!
//! A run has one seed. The levels each env slot plays, the actions sampled in each rollout, the
//! shuffles and noise of each update and the episodes of each evaluation all draw from seeds
//! derived from it here, so that two streams never collide by accident and a change to one
//! derivation is a change in one file. The derivations are SplitMix64 (Steele, Lea and Flood
//! 2014): [`splitmix64`] spreads nearby integers (seed 1, seed 2; update 7, update 8) over the
//! whole `u64` range, and each named function below combines its inputs with it in a fixed way.
//! Changing any of them changes every trajectory of every run: they are pinned by tests.

#![deny(missing_docs)]

/// The golden-ratio increment of SplitMix64 (`2^64 / phi`, odd).
pub const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The label stream's tag, mixed into a level seed for its random label.
const LABEL_TAG: u64 = 0x1AB3_11ED;

/// The evaluation stream's tag, mixed into a run's seed for the episodes of its evaluations.
const EVALUATION_TAG: u64 = 0xE7A1;

/// SplitMix64's output function without the increment: a bijection of `u64` that sends nearby
/// inputs far apart.
pub fn mix(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One step of SplitMix64 from state `x`: `mix(x + GOLDEN_GAMMA)`.
pub fn splitmix64(x: u64) -> u64 {
    mix(x.wrapping_add(GOLDEN_GAMMA))
}

/// Stream `stream` of `seed`: `splitmix64(seed ^ splitmix64(stream))`. Used for a level's
/// independent random streams (geometry, theme) and for the rollout of each update.
pub fn stream(seed: u64, stream: u64) -> u64 {
    splitmix64(seed ^ splitmix64(stream))
}

/// The level sampler of env slot `slot` under `sampler_seed` (the run's seed, or an
/// evaluation's): which levels that slot plays, whatever worker thread it lands on.
pub fn level_sampler(sampler_seed: u64, slot: u64) -> u64 {
    splitmix64(splitmix64(sampler_seed) ^ slot)
}

/// The generator of the agent's update `index` (its shuffles, dropout masks, bottleneck noise
/// and cut-outs).
pub fn update(agent_seed: u64, index: u64) -> u64 {
    mix(agent_seed ^ index.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA))
}

/// The actions sampled while collecting the rollout of update `update` of a run.
pub fn rollout(run_seed: u64, update: u64) -> u64 {
    stream(run_seed, update)
}

/// The levels and actions of a run's periodic evaluations (the same at every evaluation, so the
/// curve compares policies on the same episodes).
pub fn evaluation(run_seed: u64) -> u64 {
    splitmix64(run_seed ^ EVALUATION_TAG)
}

/// The held-out episode recorded as a picture at the evaluation after update `update`.
pub fn picture(run_seed: u64, update: u64) -> u64 {
    evaluation(run_seed) ^ update
}

/// A level's random label (the memorization probe's): drawn from the level seed alone, apart
/// from every stream the level's layout and looks are drawn from.
pub fn label(level_seed: u64) -> u64 {
    splitmix64(level_seed ^ LABEL_TAG)
}

/// The initial weights of a pretrained backbone's detector heads, apart from its frame draws.
pub fn pretrain_weights(pretrain_seed: u64) -> u64 {
    pretrain_seed ^ 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of the reference SplitMix64 generator seeded with 0
        // (state += GOLDEN_GAMMA, then mix), as published with the algorithm.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(GOLDEN_GAMMA), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn derivations_are_pinned() {
        // Every run's trajectories depend on these values: a change here is a change of every
        // result, so it must be deliberate.
        assert_eq!(update(1, 0), mix(1 ^ GOLDEN_GAMMA));
        assert_eq!(rollout(1, 3), splitmix64(1 ^ splitmix64(3)));
        assert_eq!(level_sampler(5, 2), splitmix64(splitmix64(5) ^ 2));
        assert_eq!(evaluation(1), splitmix64(1 ^ 0xE7A1));
        assert_eq!(picture(1, 4), evaluation(1) ^ 4);
    }

    #[test]
    fn streams_of_neighbouring_inputs_differ() {
        let seeds: std::collections::HashSet<u64> =
            (0..100).flat_map(|s| (0..100).map(move |k| update(s, k))).collect();
        assert_eq!(seeds.len(), 10_000);
        assert_ne!(stream(1, 1), stream(1, 2));
        assert_ne!(evaluation(1), evaluation(2));
    }
}
