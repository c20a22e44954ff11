//! Single-thread MultiRoom speed: steps per second with uniformly random actions, a new level
//! (generated afresh) whenever an episode ends, observations written into a reused buffer as
//! `VecEnv` does.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heldout_envs::Env;
use heldout_envs::multiroom::{Action, MultiRoom, MultiRoomObs, MultiRoomOptions};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Steps per measured iteration.
const STEPS: usize = 10_000;

/// Steps `env` `STEPS` times with `actions` (cycled), resetting to a fresh level at each end.
fn run(env: &mut MultiRoom, obs: &mut [u8], actions: &[usize], next_level: &mut u64) {
    for &action in actions.iter().cycle().take(STEPS) {
        let t = env.step_into(action, obs).expect("valid action");
        if t.terminated || t.truncated {
            *next_level += 1;
            env.reset_into(*next_level, obs).expect("valid level");
        }
        black_box(&obs);
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    // Not a multiple of any time limit, so episodes start at varied points of the sequence.
    let actions: Vec<usize> = (0..4099).map(|_| rng.random_range(0..Action::ALL.len())).collect();
    let cases = [
        ("paper_grid", MultiRoomOptions::default()),
        ("paper_egocentric", MultiRoomOptions::default().with_obs(MultiRoomObs::Egocentric)),
        ("paper_rgb8", MultiRoomOptions::default().with_obs(MultiRoomObs::Rgb { tile_size: 8 })),
        ("n4s5_grid", MultiRoomOptions::n4_s5()),
        ("n4s5_egocentric", MultiRoomOptions::n4_s5().with_obs(MultiRoomObs::Egocentric)),
        ("n4s5_rgb8", MultiRoomOptions::n4_s5().with_obs(MultiRoomObs::Rgb { tile_size: 8 })),
    ];
    let mut group = c.benchmark_group("multiroom_steps");
    group.throughput(Throughput::Elements(STEPS as u64));
    for (name, options) in cases {
        let mut env = MultiRoom::new(options).expect("valid options");
        let mut obs = vec![0; env.observation_space().len()];
        let mut level = 0;
        env.reset_into(level, &mut obs).expect("valid level");
        group.bench_function(name, |b| b.iter(|| run(&mut env, &mut obs, &actions, &mut level)));
    }
    group.finish();

    let mut group = c.benchmark_group("multiroom_reset");
    group.throughput(Throughput::Elements(1));
    for (name, options) in [("paper_grid", MultiRoomOptions::default()), ("n4s5_grid", MultiRoomOptions::n4_s5())] {
        let mut env = MultiRoom::new(options).expect("valid options");
        let mut obs = vec![0; env.observation_space().len()];
        let mut level = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                level += 1;
                env.reset_into(level, &mut obs).expect("valid level");
                black_box(&obs);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
