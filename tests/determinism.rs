//! A run's seed fixes every level, action and (on the CPU backend) weight, whatever the number
//! of rollout workers (one worker steps the envs on the caller's thread, more on threads of their own).

use heldout::collect::collect;
use heldout::config::{Preset, RunConfig};
use heldout::convert::obs_format;
use heldout::workers::WorkerPool;
use heldout_agents::{Agent, Rollout};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Collects `updates` rollouts of 8 envs x 16 steps with `workers` workers, updating the agent
/// after each when `learn` is set; returns the rollouts and the agent.
fn run(preset: Preset, overrides: &[&str], workers: usize, updates: u64, learn: bool) -> (Vec<Rollout>, Agent) {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let config = RunConfig::resolve(preset, None, &overrides).unwrap();
    let mut pool = WorkerPool::new(&config.env, config.level_sets().0, config.seed, 8, workers).unwrap();
    let obs = obs_format(pool.observation_space()).unwrap();
    let mut agent = Agent::new(&config.agent, obs, pool.num_actions(), config.seed).unwrap();
    let mut rollouts = Vec::new();
    for u in 0..updates {
        let mut rng = StdRng::seed_from_u64(u);
        let collected = collect(&agent, &mut pool, 16, 0.99, &mut rng).unwrap();
        if learn {
            agent.update(&collected.rollout, u as f64 / updates as f64).unwrap();
        }
        rollouts.push(collected.rollout);
    }
    (rollouts, agent)
}

fn weights(agent: &Agent) -> Vec<f32> {
    use burn::module::{Module, ModuleVisitor, Param};
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<burn::tensor::Tensor<D>>) {
            self.0.extend(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    agent.model().visit(&mut c);
    c.0
}

#[test]
fn multiroom_trajectories_and_weights_do_not_depend_on_worker_count() {
    let overrides = ["minibatches=4", "epochs=2"];
    let (reference, agent) = run(Preset::Multiroom, &overrides, 1, 4, true);
    assert!(reference.iter().any(|r| r.rewards.iter().any(|&x| x > 0.0)), "some episodes succeed");
    for workers in [2, 4] {
        let (rollouts, other) = run(Preset::Multiroom, &overrides, workers, 4, true);
        assert!(rollouts == reference, "{workers} workers collected different trajectories");
        assert!(weights(&other) == weights(&agent), "{workers} workers reached different weights");
    }
}

#[test]
fn coinrun_trajectories_do_not_depend_on_worker_count() {
    let overrides = ["env.max_steps=12"];
    let (reference, _) = run(Preset::CoinrunSmall, &overrides, 1, 2, false);
    assert!(reference.iter().any(|r| r.terminated.iter().any(|&d| d)), "episodes end and auto-reset");
    for workers in [2, 4] {
        let (rollouts, _) = run(Preset::CoinrunSmall, &overrides, workers, 2, false);
        assert!(rollouts == reference, "{workers} workers collected different trajectories");
    }
}
