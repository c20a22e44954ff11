//! Helpers shared by the integration tests: a contextual bandit, rollouts, weight snapshots.

#![allow(dead_code)] // Each test binary uses a different subset.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use heldout_agents::nn::MlpConfig;
use heldout_agents::{ActOutput, Agent, AgentConfig, EncoderConfig, ObsFormat, Rollout};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A one-step contextual bandit: the observation is a 2x2 image filled with the context
/// `c in {0, 1, 2}`; action `c` pays 1, the others 0; every episode ends after one step.
pub const ACTIONS: usize = 3;

/// The bandit's observation format.
pub fn bandit_obs() -> ObsFormat {
    ObsFormat::grid(2, 2, 1)
}

/// A small MLP agent config for the bandit.
pub fn bandit_config() -> AgentConfig {
    let mut config = AgentConfig::multiroom();
    config.encoder = EncoderConfig::Mlp(MlpConfig::default());
    config.hidden.size = 32;
    config.ppo.learning_rate = 3e-3;
    config.ppo.minibatches = 4;
    config
}

/// Collects `steps` bandit steps of `envs` envs with the rollout policy; returns the rollout
/// and the mean reward.
pub fn bandit_rollout(agent: &Agent, steps: usize, envs: usize, rng: &mut StdRng) -> (Rollout, f32) {
    let fmt = agent.obs_format();
    let mut rollout = Rollout::with_capacity(steps, envs, &fmt);
    let mut total = 0.0;
    for _ in 0..steps {
        let contexts: Vec<u8> = (0..envs).map(|_| rng.random_range(0..ACTIONS as u8)).collect();
        let obs: Vec<u8> = contexts.iter().flat_map(|&c| vec![c; fmt.len()]).collect();
        let act: ActOutput = agent.act(&obs, rng).unwrap();
        let rewards: Vec<f32> =
            act.actions.iter().zip(&contexts).map(|(&a, &c)| if a == c as usize { 1.0 } else { 0.0 }).collect();
        total += rewards.iter().sum::<f32>();
        rollout.push(&obs, &act, &rewards, &vec![true; envs]);
    }
    rollout.next_values = vec![0.0; envs];
    (rollout, total / (steps * envs) as f32)
}

/// Every float tensor of the agent's network (weights and batch-norm statistics), in order.
pub fn weights(agent: &Agent) -> Vec<Vec<f32>> {
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            self.0.push(p.val().into_data().try_into_vec::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    agent.model().visit(&mut c);
    c.0
}

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
