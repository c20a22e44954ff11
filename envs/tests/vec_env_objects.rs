//! The vectorised env reports the object boxes of the observations it hands out, across
//! auto-resets.

use heldout_envs::coinrun::{CoinRun, CoinRunOptions};
use heldout_envs::{Env, LevelSet, ObjectClass, VecEnv};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[test]
fn objects_follow_the_current_observation() {
    let options = CoinRunOptions { max_steps: 40, ..CoinRunOptions::default() };
    let envs = (0..3).map(|_| CoinRun::new(options.clone()).unwrap()).collect();
    let mut venv = VecEnv::new(envs, LevelSet::new(0, 50), 3, 0).unwrap();
    let mut fresh = CoinRun::new(options.clone()).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let mut resets = 0;
    for _ in 0..200 {
        let actions: Vec<usize> = (0..3).map(|_| rng.random_range(0..7)).collect();
        let step = venv.step(&actions).unwrap();
        let objects = venv.objects();
        let seeds = venv.level_seeds();
        for i in 0..3 {
            assert_eq!(objects[i].iter().filter(|b| b.class == ObjectClass::Agent).count(), 1);
            if step.final_obs[i].is_some() {
                resets += 1;
                assert_eq!(objects[i], fresh.reset(seeds[i]).unwrap().1.objects, "after an auto-reset");
            } else {
                assert_eq!(objects[i], step.infos[i].objects);
            }
        }
    }
    assert!(resets >= 10, "{resets} resets");
}
