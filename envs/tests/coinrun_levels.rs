//! CoinRun level invariants over many seeds, and a search-based agent that must reach the coin.

use std::collections::HashSet;

use heldout_envs::coinrun::physics::{GRAVITY, MAX_JUMP, MAX_SPEED};
use heldout_envs::coinrun::planner::{self, DEFAULT_BUDGET};
use heldout_envs::coinrun::{CoinRunOptions, Danger, DistributionMode, Level, Move, Outcome, SectionKind, Tile, World};

/// The continuous jump height `v^2 / 2g` (5.625 tiles), from the constants.
fn jump_height() -> f32 {
    MAX_JUMP * MAX_JUMP / (2.0 * GRAVITY)
}

/// The continuous jump reach `2 v / g * max speed` (7.5 tiles), from the constants.
fn jump_distance() -> f32 {
    2.0 * MAX_JUMP / GRAVITY * MAX_SPEED
}

fn check_level(level: &Level, options: &CoinRunOptions) {
    let seed = level.seed;
    assert!((options.min_difficulty..=options.max_difficulty).contains(&level.difficulty));
    let heights: Vec<i32> = level.heights().collect();
    for w in heights.windows(2) {
        let rise = (w[1] - w[0]) as f32;
        assert!(rise <= jump_height() - 0.5, "seed {seed}: a climb of {rise} tiles");
        assert!(w[1] >= 1, "seed {seed}");
    }
    let mut x = 5;
    for s in &level.sections {
        assert_eq!(s.x, x, "seed {seed}: sections are contiguous");
        x += s.width;
        match s.kind {
            SectionKind::Flat => {
                for c in s.x..s.x + s.width {
                    assert_eq!(level.grid.get(c, s.height - 1), Tile::Wall, "seed {seed}: flat ground at {c}");
                }
            }
            SectionKind::Pit(p) => {
                assert!((p.gap as f32) <= jump_distance() - 0.5, "seed {seed}: a gap of {} tiles", p.gap);
                assert!(p.left_ledge >= 1 && p.right_ledge >= 1 && p.gap >= 1, "seed {seed}: {p:?}");
                assert_eq!(p.left_ledge + p.gap + p.right_ledge, s.width, "seed {seed}");
                let (l, r) = (s.x + p.left_ledge - 1, s.x + p.left_ledge + p.gap);
                assert_eq!(level.grid.get(l, s.height - 1), Tile::Wall, "seed {seed}: left ledge");
                assert_eq!(level.grid.get(r, s.height - 1), Tile::Wall, "seed {seed}: right ledge");
                for c in l + 1..r {
                    let open = (1..s.height).all(|y| level.grid.get(c, y) != Tile::Wall);
                    let stone = p.stepping_stone.is_some_and(|(sx, sw)| (sx..sx + sw).contains(&c));
                    assert!(open || stone, "seed {seed}: the pit is open at {c} unless a stepping stone");
                    if p.danger == Danger::Lava {
                        assert_eq!(level.grid.get(c, 1), Tile::Lava, "seed {seed}: lava at the bottom");
                    }
                }
                if let Some((sx, sw)) = p.stepping_stone {
                    // Both hops around the stone are shorter than the whole gap.
                    assert!(sx > l + 1 && sx + sw < r, "seed {seed}: stone inside the gap");
                }
            }
        }
    }
    assert_eq!((level.coin.x, level.coin.y), (x, *heights.last().unwrap()), "seed {seed}: the coin ends the chain");
    assert_eq!(level.grid.get(level.coin.x, level.coin.y), Tile::Empty);
    assert_eq!(level.grid.get(level.coin.x, level.coin.y - 1), Tile::Wall);
    assert!(level.coin.x + 1 < level.grid.width(), "seed {seed}: inside the level");
    for m in &level.monsters {
        let (x0, x1) = (m.min_x - 0.4, m.max_x + 0.4);
        for c in x0.round() as i32..x1.round() as i32 {
            assert_eq!(level.grid.get(c, m.y as i32 - 1), Tile::Wall, "seed {seed}: monster floor at {c}");
            assert_ne!(level.grid.get(c, m.y as i32), Tile::Wall, "seed {seed}: monster path at {c}");
        }
        if options.distribution_mode == DistributionMode::Easy {
            assert_eq!(m.y, 1.0, "seed {seed}: easy levels have monsters in pits only");
        }
    }
    for s in &level.saws {
        assert_eq!(level.grid.get(s.x, s.y), Tile::Empty, "seed {seed}: saw in the air");
        assert_eq!(level.grid.get(s.x, s.y - 1), Tile::Wall, "seed {seed}: saw on the ground");
    }
    for c in &level.crates {
        assert!(matches!(level.grid.get(c.x, c.y), Tile::Crate(_)));
        let below = level.grid.get(c.x, c.y - 1);
        assert!(below == Tile::Wall || matches!(below, Tile::Crate(_)), "seed {seed}: crates stand on something");
    }
    // The spawn floor is safe: the first section starts at x = 5.
    assert!(level.saws.iter().chain(level.crates.iter()).all(|p| p.x >= 5));
    assert!(level.monsters.iter().all(|m| m.min_x >= 5.0));
}

#[test]
fn solvability_invariants_hold_on_10000_seeds() {
    let mut difficulties = [0; 4];
    let mut dangers = HashSet::new();
    for (i, mode) in [DistributionMode::Easy, DistributionMode::Hard].into_iter().enumerate() {
        let options = CoinRunOptions { distribution_mode: mode, ..Default::default() };
        for seed in 0..5_000u64 {
            let level = Level::generate(seed + i as u64 * 5_000, &options);
            check_level(&level, &options);
            difficulties[level.difficulty as usize] += 1;
            for s in &level.sections {
                if let SectionKind::Pit(p) = s.kind {
                    dangers.insert(p.danger);
                }
            }
        }
    }
    let hardest = CoinRunOptions { min_difficulty: 3, ..Default::default() };
    for seed in 0..1000 {
        check_level(&Level::generate(seed, &hardest), &hardest);
    }
    println!("difficulties drawn: {:?}", &difficulties[1..]);
    assert!(difficulties[1..].iter().all(|&n| n > 2_500), "{difficulties:?}");
    assert_eq!(dangers.len(), 3, "lava, saws and monsters all occur");
}

#[test]
fn easy_and_hard_levels_share_their_geometry() {
    for seed in 0..200 {
        let easy =
            Level::generate(seed, &CoinRunOptions { distribution_mode: DistributionMode::Easy, ..Default::default() });
        let hard = Level::generate(seed, &CoinRunOptions::default());
        assert_eq!(easy.sections, hard.sections);
        assert_eq!(easy.grid, hard.grid);
        assert!(easy.monsters.len() <= hard.monsters.len());
    }
}

/// The fraction of levels the planner solves within `max_steps`, and its plans' mean length.
fn success_rate(options: &CoinRunOptions, seeds: std::ops::Range<u64>) -> (f64, f64) {
    let n = seeds.end - seeds.start;
    let plans: Vec<u32> = seeds
        .filter_map(|seed| planner::search(&World::new(Level::generate(seed, options).shared()), DEFAULT_BUDGET))
        .map(|moves| moves.len() as u32)
        .filter(|&t| t <= options.max_steps)
        .collect();
    let mean = plans.iter().map(|&t| f64::from(t)).sum::<f64>() / plans.len().max(1) as f64;
    (plans.len() as f64 / n as f64, mean)
}

#[test]
fn a_search_agent_reaches_the_coin_on_easy_and_hard_levels() {
    let easy = CoinRunOptions { distribution_mode: DistributionMode::Easy, ..Default::default() };
    let (rate, steps) = success_rate(&easy, 0..1000);
    println!("planner success on 1000 easy levels: {:.1}%, mean plan {steps:.0} steps", rate * 100.0);
    assert!(rate >= 0.95, "planner success {rate}");
    let naive = (0..1000u64)
        .filter(|&seed| {
            let mut w = World::new(Level::generate(seed, &easy).shared());
            let outcome = (0..easy.max_steps).map(|_| w.step(Move::RIGHT_JUMP)).find(|&o| o != Outcome::Running);
            outcome == Some(Outcome::ReachedCoin)
        })
        .count() as f64
        / 1000.0;
    println!("always right+jump on the same levels: {:.1}%", naive * 100.0);
    assert!(naive < rate - 0.1, "the levels are not trivial");
    let hard = CoinRunOptions { min_difficulty: 3, ..Default::default() };
    let (rate, steps) = success_rate(&hard, 0..1000);
    println!("planner success on 1000 hard difficulty-3 levels: {:.1}%, mean plan {steps:.0} steps", rate * 100.0);
    assert!(rate >= 0.95, "planner success {rate}");
}
