//! Generalized Advantage Estimation (Schulman et al. 2016).

/// Advantages and returns (`advantage + value`) of a time-major `[T, N]` rollout.
///
/// `terminated[t * n + i]` marks that env `i`'s episode ended after step `t`: nothing is
/// bootstrapped across it. Truncation contract: when an episode is cut by a time limit, the
/// caller adds `gamma * V(final_obs)` to that step's reward and marks the step as ended, so the
/// bootstrap happens through the reward. `next_values[i]` is V of the observation after the
/// last step (ignored where the last step ended an episode).
pub fn gae(
    rewards: &[f32],
    values: &[f32],
    terminated: &[bool],
    next_values: &[f32],
    gamma: f64,
    lambda: f64,
) -> (Vec<f32>, Vec<f32>) {
    let n = next_values.len();
    let len = rewards.len();
    let mut advantages = vec![0.0f32; len];
    let mut last = vec![0.0f64; n];
    for t in (0..len / n).rev() {
        for i in 0..n {
            let k = t * n + i;
            let next_value = if (t + 1) * n < len { values[k + n] } else { next_values[i] };
            let not_done = if terminated[k] { 0.0 } else { 1.0 };
            let delta = rewards[k] as f64 + gamma * next_value as f64 * not_done - values[k] as f64;
            last[i] = delta + gamma * lambda * not_done * last[i];
            advantages[k] = last[i] as f32;
        }
    }
    let returns = advantages.iter().zip(values).map(|(a, v)| a + v).collect();
    (advantages, returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((*x as f64 - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn single_env_without_boundaries_matches_hand_computation() {
        // T = 3, N = 1, gamma = 0.9, lambda = 0.5.
        let (adv, ret) = gae(&[1.0, 0.0, 2.0], &[0.5, 1.0, 1.5], &[false; 3], &[2.0], 0.9, 0.5);
        // deltas: d2 = 2 + 0.9*2 - 1.5 = 2.3; d1 = 0 + 0.9*1.5 - 1 = 0.35; d0 = 1 + 0.9*1 - 0.5 = 1.4
        // A2 = 2.3; A1 = 0.35 + 0.45*2.3 = 1.385; A0 = 1.4 + 0.45*1.385 = 2.02325
        close(&adv, &[2.02325, 1.385, 2.3]);
        close(&ret, &[2.52325, 2.385, 3.8]);
    }

    #[test]
    fn episode_boundaries_stop_bootstrapping_per_env() {
        // T = 2, N = 2, time-major; env 0 ends after step 0, env 1 ends after step 1.
        let rewards = [1.0, 0.0, 0.0, 1.0];
        let values = [0.5, 0.2, 0.3, 0.4];
        let terminated = [true, false, false, true];
        let (adv, _) = gae(&rewards, &values, &terminated, &[10.0, 10.0], 0.9, 0.5);
        // env 0: t1: d = 0 + 0.9*10 - 0.3 = 8.7 -> A = 8.7; t0 ended: d = 1 - 0.5 = 0.5, A = 0.5.
        // env 1: t1 ended: d = 1 - 0.4 = 0.6 -> A = 0.6; t0: d = 0 + 0.9*0.4 - 0.2 = 0.16,
        //        A = 0.16 + 0.45*0.6 = 0.43.
        close(&adv, &[0.5, 0.43, 8.7, 0.6]);
    }

    #[test]
    fn lambda_one_gives_discounted_returns_minus_values() {
        let rewards = [1.0, 2.0, 3.0];
        let values = [0.0, 0.0, 0.0];
        let (_, ret) = gae(&rewards, &values, &[false, false, true], &[99.0], 0.5, 1.0);
        close(&ret, &[1.0 + 0.5 * 2.0 + 0.25 * 3.0, 2.0 + 0.5 * 3.0, 3.0]);
    }
}
