//! PPO learns a contextual bandit, with and without SNI.

mod common;

use common::{ACTIONS, bandit_config, bandit_obs, bandit_rollout, rng};
use heldout_agents::{Agent, AgentConfig, BottleneckConfig, Noise};

/// Trains for at most `updates` updates of 16 envs x 8 steps; returns the greedy-ish
/// (noise-free, sampled) mean reward measured on 512 fresh contexts after training.
fn train(config: &AgentConfig, updates: usize) -> f32 {
    let mut agent = Agent::new(config, bandit_obs(), ACTIONS, 3).unwrap();
    let mut r = rng(17);
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
