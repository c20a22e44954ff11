//! Same seed, same rollouts: bitwise-identical agents; saving and loading changes nothing.

mod common;

use common::{bandit_rollout, rng, weights};
use heldout_agents::nn::MultiRoomConfig;
use heldout_agents::{Agent, AgentConfig, BottleneckConfig, EncoderConfig, ObsFormat, Rollout};
use rand::RngExt;

/// A MultiRoom conv agent on 7x7x3 grids with every source of randomness switched on:
/// dropout, batch norm, the bottleneck, cut-outs, SNI.
fn noisy_config() -> AgentConfig {
    let mut config = AgentConfig::multiroom();
    config.encoder = EncoderConfig::MultiRoom(MultiRoomConfig { channels: [4, 8, 8] });
    config.hidden.size = 16;
    config.regularizers.dropout = 0.2;
    config.regularizers.batch_norm = true;
    config.regularizers.bottleneck = Some(BottleneckConfig { beta: 1e-3, rho_shift: 0.0 });
    config.regularizers.augment = true;
    config.regularizers.l2 = 1e-4;
    config.sni_lambda = Some(0.5);
    config.ppo.minibatches = 2;
    config.ppo.epochs = 2;
    config
}

/// A random rollout of 4 steps x 4 envs of 7x7x3 grids.
fn random_rollout(agent: &Agent, seed: u64) -> Rollout {
    let fmt = agent.obs_format();
    let mut r = rng(seed);
    let mut rollout = Rollout::with_capacity(4, 4, &fmt);
    for _ in 0..4 {
        let obs: Vec<u8> = (0..4 * fmt.len()).map(|_| r.random_range(0..10)).collect();
        let act = agent.act(&obs, &mut r).unwrap();
        let rewards: Vec<f32> = (0..4).map(|_| r.random::<f32>()).collect();
        let ends: Vec<bool> = (0..4).map(|_| r.random_bool(0.2)).collect();
        rollout.push(&obs, &act, &rewards, &ends);
    }
    rollout.next_values = agent.values(&rollout.obs[..4 * fmt.len()]).unwrap();
    rollout
}

#[test]
fn same_seed_and_rollouts_give_bitwise_identical_weights() {
    let obs = ObsFormat::grid(7, 7, 3);
    let mut a = Agent::new(&noisy_config(), obs, 7, 42).unwrap();
    let mut b = Agent::new(&noisy_config(), obs, 7, 42).unwrap();
    let c = Agent::new(&noisy_config(), obs, 7, 43).unwrap();
    assert_eq!(weights(&a), weights(&b));
    assert_ne!(weights(&a), weights(&c), "another seed, other weights");
    for k in 0..3 {
        let rollout = random_rollout(&a, k);
        assert_eq!(rollout, random_rollout(&b, k), "equal agents act equally");
        let sa = a.update(&rollout, 0.1 * k as f64).unwrap();
        let sb = b.update(&rollout, 0.1 * k as f64).unwrap();
        assert_eq!(sa, sb);
    }
    assert_eq!(weights(&a), weights(&b));
    assert_ne!(weights(&a), weights(&Agent::new(&noisy_config(), obs, 7, 42).unwrap()), "training moved them");
}

#[test]
fn a_loaded_agent_continues_exactly_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let obs = ObsFormat::grid(7, 7, 3);
    let mut original = Agent::new(&noisy_config(), obs, 7, 5).unwrap();
    for k in 0..2 {
        original.update(&random_rollout(&original, k), 0.0).unwrap();
    }
    original.save(dir.path()).unwrap();
    let mut loaded = Agent::load(dir.path()).unwrap();
    assert_eq!(weights(&loaded), weights(&original), "weights and batch-norm statistics round-trip");
    assert_eq!(loaded.updates_done(), 2);
    assert_eq!(loaded.config(), original.config());

    // Adam's moments and the update counter (which seeds the next update's noise) came along:
    // the next updates match bit for bit.
    for k in 2..4 {
        let rollout = random_rollout(&original, k);
        assert_eq!(original.update(&rollout, 0.5).unwrap(), loaded.update(&rollout, 0.5).unwrap());
    }
    assert_eq!(weights(&loaded), weights(&original));
}

#[test]
fn acting_is_deterministic_given_the_generator() {
    let agent = Agent::new(&common::bandit_config(), common::bandit_obs(), 3, 1).unwrap();
    let (r1, _) = bandit_rollout(&agent, 4, 8, &mut rng(9));
    let (r2, _) = bandit_rollout(&agent, 4, 8, &mut rng(9));
    assert_eq!(r1, r2);
}
