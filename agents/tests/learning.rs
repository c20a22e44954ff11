//! PPO learns a contextual bandit, with and without SNI.

mod common;

use common::{ACTIONS, bandit_config, bandit_obs, bandit_rollout, rng};
use heldout_agents::{Agent, AgentConfig, BottleneckConfig, Noise};

/// The median over three seeds of [`train_seed`]: one seed in a few learns this bandit slowly
/// (40 updates leave it near 0.7), whatever the settings.
fn train(config: &AgentConfig, updates: usize) -> f32 {
    let mut scores: Vec<f32> = (0..3).map(|s| train_seed(config, updates, 3 + s)).collect();
    scores.sort_by(f32::total_cmp);
    scores[1]
}

/// Trains for at most `updates` updates of 16 envs x 8 steps from `seed`; returns the
/// greedy-ish (noise-free, sampled) mean reward measured on 512 fresh contexts after training.
fn train_seed(config: &AgentConfig, updates: usize, seed: u64) -> f32 {
    let mut agent = Agent::new(config, bandit_obs(), ACTIONS, seed).unwrap();
    let mut r = rng(14 + seed);
    let (_, before) = bandit_rollout(&agent, 8, 16, &mut r);
    assert!(before < 0.6, "an untrained policy is near uniform: {before}");
    for u in 0..updates {
        let (rollout, _) = bandit_rollout(&agent, 8, 16, &mut r);
        let stats = agent.update(&rollout, u as f64 / updates as f64).unwrap();
        assert!(stats.policy_loss.is_finite() && stats.entropy > 0.0);
    }
    // Evaluate the noise-free policy.
    let fmt = bandit_obs();
    let mut hits = 0;
    for c in 0..512u32 {
        let ctx = (c % ACTIONS as u32) as u8;
        let act = agent.act_with(&vec![ctx; fmt.len()], Noise::Off, &mut r).unwrap();
        hits += usize::from(act.actions[0] == ctx as usize);
    }
    hits as f32 / 512.0
}

#[test]
fn ppo_learns_a_contextual_bandit_within_40_updates() {
    let score = train(&bandit_config(), 40);
    assert!(score > 0.9, "success {score}");
}

#[test]
fn ppo_with_sni_dropout_and_bottleneck_learns_the_bandit_too() {
    let mut config = bandit_config();
    config.regularizers.dropout = 0.2;
    config.regularizers.bottleneck = Some(BottleneckConfig { beta: 1e-4, rho_shift: 0.0 });
    config.sni_lambda = Some(0.5);
    let score = train(&config, 40);
    assert!(score > 0.9, "success {score}");
}

/// A corridor of `LEN` cells: start in cell 0, action 0 steps left (walls hold), action 1
/// right; reaching the last cell pays 1 and ends the episode; after `LIMIT` steps the episode
/// is truncated (the caller's side of the contract: `gamma * V(final_obs)` added to the reward).
const LEN: usize = 5;
const LIMIT: usize = 10;

fn corridor_obs(pos: &[usize]) -> Vec<u8> {
    pos.iter().flat_map(|&p| (0..LEN).map(move |i| u8::from(i == p))).collect()
}

#[test]
fn ppo_learns_a_short_corridor_with_time_limits() {
    let mut config = bandit_config();
    config.ppo.gamma = 0.9;
    let obs = heldout_agents::ObsFormat::grid(1, LEN, 1);
    let mut agent = Agent::new(&config, obs, 2, 4).unwrap();
    let mut r = rng(23);
    let envs = 16;
    let (mut pos, mut age) = (vec![0usize; envs], vec![0usize; envs]);
    for u in 0..40 {
        let mut rollout = heldout_agents::Rollout::with_capacity(16, envs, &obs);
        for _ in 0..16 {
            let o = corridor_obs(&pos);
            let act = agent.act(&o, &mut r).unwrap();
            let mut rewards = vec![0.0; envs];
            let mut ends = vec![false; envs];
            for i in 0..envs {
                pos[i] = if act.actions[i] == 1 { pos[i] + 1 } else { pos[i].saturating_sub(1) };
                age[i] += 1;
                if pos[i] == LEN - 1 {
                    rewards[i] = 1.0;
                    ends[i] = true;
                } else if age[i] == LIMIT {
                    rewards[i] = config.ppo.gamma as f32 * agent.values(&corridor_obs(&pos[i..=i])).unwrap()[0];
                    ends[i] = true;
                }
                if ends[i] {
                    (pos[i], age[i]) = (0, 0);
                }
            }
            rollout.push(&o, &act, &rewards, &ends);
        }
        rollout.next_values = agent.values(&corridor_obs(&pos)).unwrap();
        agent.update(&rollout, u as f64 / 40.0).unwrap();
    }
    // The noise-free policy walks straight to the goal from every cell.
    for start in 0..LEN - 1 {
        let (mut p, mut steps) = (start, 0);
        while p != LEN - 1 && steps < LIMIT {
            let a = agent.act_with(&corridor_obs(&[p]), Noise::Off, &mut r).unwrap().actions[0];
            p = if a == 1 { p + 1 } else { p.saturating_sub(1) };
            steps += 1;
        }
        assert!(steps <= LEN - 1 - start + 1, "from cell {start}: {steps} steps");
    }
}
