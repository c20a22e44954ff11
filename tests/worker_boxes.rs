//! The worker pool hands the agent each env's object boxes, in slot order, matching its current
//! observation across shards and auto-resets.

use heldout::convert::labelled_batch;
use heldout::workers::WorkerPool;
use heldout_envs::coinrun::CoinRunOptions;
use heldout_envs::registry::EnvConfig;
use heldout_envs::{LevelSet, ObjectClass, VecEnv};

#[test]
fn pool_boxes_match_a_single_vec_env_step_by_step() {
    let env = EnvConfig::CoinRun(CoinRunOptions { max_steps: 12, ..CoinRunOptions::default() });
    let levels = LevelSet::new(0, 10);
    let mut pool = WorkerPool::new(&env, levels, 5, 3, 2).unwrap();
    let mut reference = VecEnv::new(env.build_many(3).unwrap(), levels, 5, 0).unwrap();
    let mut resets = 0;
    for t in 0..30 {
        assert_eq!(pool.obs(), reference.obs(), "step {t}");
        assert_eq!(pool.boxes(), labelled_batch(&reference.objects()), "step {t}");
        assert_eq!(pool.observations().boxes, Some(pool.boxes()));
        assert!(
            pool.boxes().iter().all(|b| b.iter().any(|o| o.class == ObjectClass::Agent.index())),
            "the agent is always in view"
        );
        let actions = [t % 7, (t + 3) % 7, 1];
        let step = pool.step(&actions).unwrap();
        resets += (0..3).filter(|&i| step.terminated[i] || step.truncated[i]).count();
        reference.step(&actions).unwrap();
    }
    assert!(resets >= 3, "episodes of 12 steps auto-reset within 30 steps");
}
