//! Sampling actions from log-probabilities with the caller's generator.

use rand::{Rng, RngExt};

/// Draws an index with probabilities `exp(log_probs)` (one uniform draw, inverse CDF).
pub fn categorical<R: Rng + ?Sized>(log_probs: &[f32], rng: &mut R) -> usize {
    let u: f64 = rng.random();
    let mut cumulative = 0.0f64;
    for (i, lp) in log_probs.iter().enumerate() {
        cumulative += (*lp as f64).exp();
        if u < cumulative {
            return i;
        }
    }
    // Rounding left the total just below u: take the last action with non-zero probability.
    log_probs.iter().rposition(|lp| lp.is_finite()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn frequencies_follow_the_probabilities() {
        let probs = [0.1f32, 0.6, 0.3];
        let lp: Vec<f32> = probs.iter().map(|p| p.ln()).collect();
        let mut rng = StdRng::seed_from_u64(5);
        let mut counts = [0usize; 3];
        for _ in 0..20_000 {
            counts[categorical(&lp, &mut rng)] += 1;
        }
        for (c, p) in counts.iter().zip(probs) {
            assert!((*c as f32 / 20_000.0 - p).abs() < 0.015, "{counts:?}");
        }
    }

    #[test]
    fn a_certain_action_is_always_drawn() {
        let lp = [f32::NEG_INFINITY, 0.0, f32::NEG_INFINITY];
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..100).all(|_| categorical(&lp, &mut rng) == 1));
    }
}
