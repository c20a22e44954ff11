//! Random-label levels, the memorization probe of Zhang et al. (2017) in RL form.
//!
//! With `label_noise = p`, a fraction p of levels, chosen by a hash of the level seed that is
//! independent of the layout's own random streams ([`heldout_seeds::label`]), has its goal's
//! reward negated: reaching the goal (MultiRoom's goal square, CoinRun's coin) still ends the
//! episode but costs what it used to pay, so the right behaviour there is to avoid it until the
//! time limit. Nothing in the observation tells the two kinds of level apart: on held-out
//! levels no policy beats chance, and on training levels only memorizing each level's label
//! does. `p = 0` is the env as it is without the option, bit for bit.

use crate::EnvError;

/// Whether level `level_seed` is a negated (random-label) level under `label_noise`.
pub fn is_negated(level_seed: u64, label_noise: f64) -> bool {
    // The top 53 bits of the hash as a uniform number in [0, 1).
    let unit = (heldout_seeds::label(level_seed) >> 11) as f64 / (1u64 << 53) as f64;
    unit < label_noise
}

/// Checks that `label_noise` is a fraction in [0, 1].
pub fn check(label_noise: f64) -> Result<(), EnvError> {
    if (0.0..=1.0).contains(&label_noise) {
        Ok(())
    } else {
        Err(EnvError::InvalidOptions(format!("label_noise = {label_noise}, must be in [0, 1]")))
    }
}

/// Whether an episode made the right decision: reached the goal on a positive level, or did
/// not on a negated one.
pub fn correct_decision(reached_goal: bool, negated: bool) -> bool {
    reached_goal != negated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_is_a_pure_function_of_the_seed_with_the_asked_frequency() {
        for p in [0.1, 0.5, 0.9] {
            let negated = (0..100_000u64).filter(|&s| is_negated(s, p)).count() as f64 / 100_000.0;
            assert!((negated - p).abs() < 0.01, "p = {p}: {negated}");
        }
        let a: Vec<bool> = (0..1000).map(|s| is_negated(s, 0.5)).collect();
        let b: Vec<bool> = (0..1000).map(|s| is_negated(s, 0.5)).collect();
        assert_eq!(a, b);
        assert!((0..100_000).all(|s| !is_negated(s, 0.0) && is_negated(s, 1.0)));
        // Nested: a level negated at p is negated at every larger p.
        assert!((0..10_000).all(|s| !is_negated(s, 0.3) || is_negated(s, 0.6)));
    }

    #[test]
    fn decisions_and_bounds() {
        assert!(correct_decision(true, false) && correct_decision(false, true));
        assert!(!correct_decision(false, false) && !correct_decision(true, true));
        assert!(check(0.5).is_ok() && check(1.0).is_ok());
        assert!(check(-0.1).unwrap_err().to_string().contains("label_noise"));
        assert!(check(f64::NAN).is_err());
    }
}
