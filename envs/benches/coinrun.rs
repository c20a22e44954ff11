//! CoinRun speed: single-thread steps per second with random actions (64x64 observations,
//! resets included), resets alone, and the physics without drawing.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heldout_envs::Env;
use heldout_envs::coinrun::{ActionSet, CoinRun, CoinRunOptions, DistributionMode, Level, Outcome, World};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;

const STEPS: u64 = 10_000;

fn random_actions(n: usize, num_actions: usize) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(1);
    (0..n).map(|_| rng.random_range(0..num_actions)).collect()
}

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("coinrun");
    group.throughput(Throughput::Elements(STEPS));
    for (name, options) in [
        ("step_random_64x64", CoinRunOptions::default()),
        ("step_random_64x64_hardest", CoinRunOptions { min_difficulty: 3, ..Default::default() }),
        ("step_random_64x64_procgen_actions", CoinRunOptions { action_set: ActionSet::Procgen, ..Default::default() }),
        ("step_random_64x64_easy", CoinRunOptions { distribution_mode: DistributionMode::Easy, ..Default::default() }),
    ] {
        let actions = random_actions(STEPS as usize, options.action_set.len());
        let mut env = CoinRun::new(options).unwrap();
        let mut obs = vec![0u8; 64 * 64 * 3];
        let mut seed = 0;
        env.reset_into(seed, &mut obs).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                for &a in &actions {
                    let t = env.step_into(a, &mut obs).unwrap();
                    if t.terminated || t.truncated {
                        seed += 1;
                        env.reset_into(seed, &mut obs).unwrap();
                    }
                }
                black_box(&obs);
            })
        });
    }
    let actions = random_actions(STEPS as usize, 7);
    let levels: Vec<_> = (0..64).map(|s| Level::generate(s, &CoinRunOptions::default()).shared()).collect();
    group.bench_function("physics_only_random", |b| {
        let mut i = 0;
        let mut world = World::new(levels[0].clone());
        b.iter(|| {
            for &a in &actions {
                if world.step(ActionSet::Original.decode(a).unwrap()) != Outcome::Running || world.time >= 1000 {
                    i += 1;
                    world = World::new(levels[i % levels.len()].clone());
                }
            }
            black_box(&world);
        })
    });
    group.finish();

    let mut group = c.benchmark_group("coinrun");
    group.throughput(Throughput::Elements(1));
    let mut env = CoinRun::new(CoinRunOptions::default()).unwrap();
    let mut obs = vec![0u8; 64 * 64 * 3];
    let mut seed = 0;
    group.bench_function("reset", |b| {
        b.iter(|| {
            seed += 1;
            env.reset_into(seed, &mut obs).unwrap();
        })
    });
    group.bench_function("generate_level", |b| {
        b.iter(|| {
            seed += 1;
            black_box(Level::generate(seed, &CoinRunOptions::default()));
        })
    });
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
