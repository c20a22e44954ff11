//! The noise switch: noise-free passes are repeatable, noisy ones are not; batch-norm
//! statistics move only in the learner's noisy passes.

mod common;

use burn::module::Module;
use burn::tensor::Tensor;
use common::{bandit_config, bandit_obs, bandit_rollout, rng, weights};
use heldout_agents::backend::inference_device;
use heldout_agents::{Agent, AgentConfig, BottleneckConfig, Noise};

fn logits(agent: &Agent, noise: Noise, seed: u64) -> Vec<f32> {
    let obs: Vec<u8> = (0..16 * 4).map(|i| (i % 3) as u8).collect();
    let x = agent.obs_format().to_tensor(&obs, &inference_device());
    let out = agent.model().valid().forward(x, None, noise, &mut rng(seed)).unwrap();
    let values: Tensor<1> = out.values;
    let mut v = out.logits.into_data().try_into_vec::<f32>().unwrap();
    v.extend(values.into_data().try_into_vec::<f32>().unwrap());
    v
}

fn with(f: impl Fn(&mut AgentConfig)) -> Agent {
    let mut config = bandit_config();
    f(&mut config);
    Agent::new(&config, bandit_obs(), 3, 6).unwrap()
}

#[test]
fn noise_off_is_repeatable_and_noise_on_is_not() {
    let noisy = [
        with(|c| c.regularizers.dropout = 0.5),
        with(|c| c.regularizers.bottleneck = Some(BottleneckConfig { beta: 1e-3, rho_shift: 0.0 })),
    ];
    for agent in &noisy {
        assert_eq!(logits(agent, Noise::Off, 1), logits(agent, Noise::Off, 2));
        assert_ne!(logits(agent, Noise::On, 1), logits(agent, Noise::On, 2));
        assert_eq!(logits(agent, Noise::On, 1), logits(agent, Noise::On, 1), "a function of the generator");
        assert_ne!(logits(agent, Noise::On, 1), logits(agent, Noise::Off, 1));
    }
    // Without a noisy regularizer both modes are the same network.
    let plain = with(|c| c.regularizers.l2 = 1e-3);
    assert_eq!(logits(&plain, Noise::On, 1), logits(&plain, Noise::Off, 2));
    // Batch norm: batch statistics (On) differ from the running ones (Off).
    let bn = with(|c| c.regularizers.batch_norm = true);
    assert_ne!(logits(&bn, Noise::On, 1), logits(&bn, Noise::Off, 1));
}

#[test]
fn batch_norm_statistics_move_in_updates_only() {
    let mut agent = with(|c| c.regularizers.batch_norm = true);
    let start = weights(&agent);
    // Rollouts and evaluation in both modes leave every tensor as it was.
    let (rollout, _) = bandit_rollout(&agent, 4, 8, &mut rng(3));
    agent.act_with(&rollout.obs, Noise::On, &mut rng(4)).unwrap();
    agent.act_with(&rollout.obs, Noise::Off, &mut rng(4)).unwrap();
    agent.values(&rollout.obs).unwrap();
    assert_eq!(weights(&agent), start);
    // An update moves the weights and the running statistics.
    agent.update(&rollout, 0.0).unwrap();
    let after = weights(&agent);
    let changed = start.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert_eq!(changed, start.len(), "every tensor, running statistics included, moved");
}
