//! Behaviour of the MultiRoom environment through its public API.

use std::collections::HashMap;

use heldout_envs::multiroom::{Action, MultiRoom, MultiRoomObs, MultiRoomOptions, Object, VIEW_SIZE, planner};
use heldout_envs::{Env, EnvError, LevelSet, ObjectClass, VecEnv};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

// ---------------------------------------------------------------------------------------------
// Helpers: read the full-grid observation, and play the scripted player's plan.

/// A full-grid observation read back into cells.
struct Decoded {
    size: usize,
    /// `(object, colour, state)` per cell, row-major.
    cells: Vec<[u8; 3]>,
}

impl Decoded {
    fn new(obs: &[u8], size: usize) -> Self {
        assert_eq!(obs.len(), size * size * 3);
        Self { size, cells: obs.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect() }
    }

    fn find(&self, object: Object) -> Vec<(usize, usize)> {
        (0..self.cells.len())
            .filter(|&i| self.cells[i][0] == object as u8)
            .map(|i| (i % self.size, i / self.size))
            .collect()
    }

    fn agent(&self) -> ((usize, usize), u8) {
        let agents = self.find(Object::Agent);
        assert_eq!(agents.len(), 1, "exactly one agent");
        let (x, y) = agents[0];
        ((x, y), self.cells[y * self.size + x][2])
    }

    fn cell(&self, (x, y): (usize, usize)) -> [u8; 3] {
        self.cells[y * self.size + x]
    }
}

fn env(options: MultiRoomOptions) -> MultiRoom {
    MultiRoom::new(options).expect("valid options")
}

/// The scripted player's actions from the env's current state, as indices.
fn plan(env: &MultiRoom) -> Vec<usize> {
    planner::plan(env).expect("the goal is reachable in time").into_iter().map(|a| a as usize).collect()
}

/// Asserts that level `seed` of a full-grid env has one agent, one goal, and a path between them.
fn assert_solvable(env: &mut MultiRoom, seed: u64) {
    let size = env.options().grid_size;
    let (obs, _) = env.reset(seed).unwrap();
    let grid = Decoded::new(&obs, size);
    assert_eq!(grid.find(Object::Goal).len(), 1, "seed {seed}: one goal");
    assert_eq!(grid.find(Object::Agent).len(), 1, "seed {seed}: one agent");
    assert!(planner::plan(env).is_some(), "seed {seed}: no path to the goal\n{}", env.render_text());
}

/// Plays the planned path on level `seed`; returns the number of steps and the last reward.
fn play_plan(env: &mut MultiRoom, seed: u64) -> (usize, f32) {
    env.reset(seed).unwrap();
    let plan = plan(env);
    for (k, &a) in plan.iter().enumerate() {
        let step = env.step(a).unwrap();
        let last = k + 1 == plan.len();
        assert_eq!(step.terminated, last, "seed {seed}: terminated at step {} of {}", k + 1, plan.len());
        assert_eq!(step.info.level_complete, last);
        assert!(!step.truncated);
        if last {
            return (plan.len(), step.reward);
        }
        assert_eq!(step.reward, 0.0);
    }
    unreachable!("a plan has at least one step")
}

fn random_actions(seed: u64, n: usize) -> Vec<usize> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(0..Action::ALL.len())).collect()
}

fn all_obs_kinds() -> [MultiRoomObs; 3] {
    [MultiRoomObs::Grid, MultiRoomObs::Egocentric, MultiRoomObs::Rgb { tile_size: 8 }]
}

// ---------------------------------------------------------------------------------------------
// Determinism and diversity.

#[test]
fn same_seed_replays_the_same_level_and_observations() {
    for obs in all_obs_kinds() {
        let options = MultiRoomOptions::default().with_obs(obs);
        let (mut a, mut b) = (env(options.clone()), env(options));
        for seed in 0..50 {
            let (oa, ia) = a.reset(seed).unwrap();
            let (ob, ib) = b.reset(seed).unwrap();
            assert_eq!((oa, ia), (ob, ib));
            assert_eq!(a.render_text(), b.render_text());
            for action in random_actions(seed, 200) {
                let (sa, sb) = (a.step(action).unwrap(), b.step(action).unwrap());
                assert_eq!(sa, sb, "{obs:?}, seed {seed}");
                if sa.terminated || sa.truncated {
                    break;
                }
            }
        }
        // Replaying a level after others gives the first play's observations again.
        let (first, _) = a.reset(3).unwrap();
        a.reset(4).unwrap();
        assert_eq!(a.reset(3).unwrap().0, first);
    }
}

#[test]
fn distinct_seeds_give_distinct_layouts() {
    // Duplicates come from one-room levels only, by the birthday bound: a one-room level is
    // (w, h) in {4,5,6}^2, a position ((12 - w)(12 - h) choices), the agent's cell and heading
    // (4a, a = (w - 2)(h - 2) interior cells) and the goal's (a - 1), each uniform. With
    // n = 10,000 / 27 seeds per (w, h), expected duplicates = sum n^2 / (2 L(w, h)) = 68.6
    // (3072 layouts for 4 x 4 rooms dominate). Multi-room levels have millions of layouts.
    let mut env = env(MultiRoomOptions::default());
    let mut seen = HashMap::new();
    let mut duplicates = [0usize; 4];
    for seed in 0..10_000 {
        env.reset(seed).unwrap();
        let count: &mut usize = seen.entry(env.render_text()).or_default();
        duplicates[env.num_rooms()] += usize::from(*count > 0);
        *count += 1;
    }
    assert!(duplicates[1] <= 120, "{} duplicate one-room layouts, expected about 69", duplicates[1]);
    assert!(duplicates[2] + duplicates[3] <= 3, "{duplicates:?} duplicate multi-room layouts");
}

#[test]
fn room_counts_are_uniform_in_range() {
    for (options, seeds) in [(MultiRoomOptions::default(), 3000), (MultiRoomOptions::n4_s5(), 300)] {
        let mut env = env(options.clone());
        let mut counts = HashMap::<usize, usize>::new();
        for seed in 0..seeds {
            env.reset(seed).unwrap();
            *counts.entry(env.num_rooms()).or_default() += 1;
        }
        let k = options.max_rooms - options.min_rooms + 1;
        assert_eq!(counts.len(), k, "{counts:?}");
        let expected = seeds as f64 / k as f64;
        for (&rooms, &n) in &counts {
            assert!((options.min_rooms..=options.max_rooms).contains(&rooms));
            // A binomial count strays from its mean by more than 5 standard deviations with
            // probability below 1e-6.
            let sd = (seeds as f64 * (1.0 / k as f64) * (1.0 - 1.0 / k as f64)).sqrt();
            assert!((n as f64 - expected).abs() <= 5.0 * sd + 1e-9, "{rooms} rooms: {n} of {seeds}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Solvability, reward and time limit.

#[test]
fn every_level_is_solvable() {
    let mut paper = env(MultiRoomOptions::default());
    for seed in 0..100_000 {
        assert_solvable(&mut paper, seed);
    }
    for options in [MultiRoomOptions::n2_s4(), MultiRoomOptions::n4_s5(), MultiRoomOptions::n6()] {
        let mut env = env(options);
        for seed in 0..5_000 {
            assert_solvable(&mut env, seed);
        }
    }
}

#[test]
fn reaching_the_goal_pays_the_minigrid_reward() {
    for options in [MultiRoomOptions::default(), MultiRoomOptions::n4_s5()] {
        let mut env = env(options);
        let max_steps = env.max_steps();
        for seed in 0..500 {
            let (k, reward) = play_plan(&mut env, seed);
            assert!(k < max_steps as usize, "seed {seed}: the plan needs {k} steps");
            let expected = 1.0 - 0.9 * k as f32 / max_steps as f32;
            assert!((reward - expected).abs() < 1e-6, "seed {seed}: reward {reward} after {k} steps");
            assert!(matches!(env.step(0), Err(EnvError::NeedsReset)));
            assert_eq!(planner::plan(&env), None, "no plan after the episode's end");
        }
    }
}

#[test]
fn idling_truncates_at_the_time_limit_without_terminating() {
    let mut env = env(MultiRoomOptions::default());
    assert_eq!(env.max_steps(), 60);
    for seed in 0..20 {
        let (first, _) = env.reset(seed).unwrap();
        for t in 1..=60 {
            let step = env.step(Action::Left as usize).unwrap();
            assert_eq!(step.reward, 0.0);
            assert!(!step.terminated && !step.info.level_complete);
            assert_eq!(step.truncated, t == 60, "step {t}");
            if t % 4 == 0 {
                // Four left turns bring the agent back to where it started.
                assert_eq!(step.obs, first);
            }
        }
        assert_eq!(env.step(Action::Left as usize), Err(EnvError::NeedsReset));
    }
    let mut short = MultiRoom::new(MultiRoomOptions { max_steps: Some(5), ..MultiRoomOptions::default() }).unwrap();
    short.reset(0).unwrap();
    assert!(
        (1..=5).map(|_| short.step(Action::Done as usize).unwrap().truncated).eq([false, false, false, false, true])
    );
}

#[test]
fn toggle_opens_and_closes_the_door_in_front() {
    // Walk the plan up to the first toggle, then toggle twice more: open, closed, open.
    let mut env = env(MultiRoomOptions::n2_s4());
    let size = env.options().grid_size;
    let (obs, _) = env.reset(11).unwrap();
    let grid = Decoded::new(&obs, size);
    let plan = plan(&env);
    let door = grid.find(Object::Door)[0];
    let toggle = plan.iter().position(|&a| a == Action::Toggle as usize).expect("two rooms need a toggle");
    let mut last = obs;
    for &a in &plan[..toggle] {
        last = env.step(a).unwrap().obs;
    }
    assert_eq!(Decoded::new(&last, size).cell(door)[2], 1, "closed before toggling");
    // Walking into the closed door does nothing.
    assert_eq!(env.step(Action::Forward as usize).unwrap().obs, last);
    for state in [0, 1, 0] {
        let obs = env.step(Action::Toggle as usize).unwrap().obs;
        assert_eq!(Decoded::new(&obs, size).cell(door)[2], state);
    }
}

// ---------------------------------------------------------------------------------------------
// Observations.

#[test]
fn observation_spaces_match_the_observations() {
    let cases = [
        (MultiRoomObs::Grid, vec![11, 11, 3], Object::Agent as u8),
        (MultiRoomObs::Egocentric, vec![VIEW_SIZE, VIEW_SIZE, 3], Object::Goal as u8),
        (MultiRoomObs::Rgb { tile_size: 8 }, vec![88, 88, 3], 255),
    ];
    for (obs, shape, high) in cases {
        let mut env = env(MultiRoomOptions::default().with_obs(obs));
        let space = env.observation_space();
        assert_eq!((space.shape.clone(), space.high), (shape, high), "{obs:?}");
        let mut largest = 0;
        for seed in 0..30 {
            let (first, _) = env.reset(seed).unwrap();
            largest = largest.max(*first.iter().max().unwrap());
            for action in random_actions(seed, 60) {
                let step = env.step(action).unwrap();
                assert_eq!(step.obs.len(), space.len());
                largest = largest.max(*step.obs.iter().max().unwrap());
                if step.terminated {
                    break;
                }
            }
        }
        assert!(largest <= high, "{obs:?}: value {largest} above high {high}");
        let picture = env.render();
        assert_eq!(picture.data.len(), picture.width * picture.height * 3);
    }
    assert_eq!(env(MultiRoomOptions::n6()).observation_space().shape, vec![25, 25, 3]);
    assert_eq!(env(MultiRoomOptions::default()).render().width, 11 * 16);
    assert_eq!(env(MultiRoomOptions::default().with_obs(MultiRoomObs::Rgb { tile_size: 5 })).render().width, 55);
}

#[test]
fn egocentric_view_sees_the_room_ahead_and_nothing_behind_walls() {
    let mut full = env(MultiRoomOptions::default());
    let mut ego = env(MultiRoomOptions::default().with_obs(MultiRoomObs::Egocentric));
    for seed in 0..200 {
        let (grid, _) = full.reset(seed).unwrap();
        let (view, _) = ego.reset(seed).unwrap();
        let grid = Decoded::new(&grid, 11);
        let view = Decoded::new(&view, VIEW_SIZE);
        let ((ax, ay), dir) = grid.agent();
        // The agent's cell (bottom middle) reads as empty; the cell ahead is what the grid has.
        assert_eq!(view.cell((3, 6)), [Object::Empty as u8, 0, 0]);
        let (dx, dy) = [(1, 0), (0, 1), (-1, 0), (0, -1)][dir as usize];
        let ahead = ((ax as i64 + dx) as usize, (ay as i64 + dy) as usize);
        assert_eq!(view.cell((3, 5)), grid.cell(ahead), "seed {seed}");
        // Every visible cell is what the grid holds there (walls off the grid).
        for (i, &seen) in view.cells.iter().enumerate() {
            let (c, r) = ((i % VIEW_SIZE) as i64, (i / VIEW_SIZE) as i64);
            let (forward, right) = (6 - r, c - 3);
            let (x, y) = (ax as i64 + forward * dx - right * dy, ay as i64 + forward * dy + right * dx);
            let truth = if (0..11).contains(&x) && (0..11).contains(&y) {
                grid.cell((x as usize, y as usize))
            } else {
                [Object::Wall as u8, 5, 0]
            };
            if seen[0] != Object::Unseen as u8 && (r, c) != (6, 3) {
                assert_eq!(seen, truth, "seed {seed}, view cell ({c}, {r})");
            }
        }
        // Rooms are closed: no empty cell outside the agent's room is visible at the start.
        let visible_empty = view.find(Object::Empty).len();
        assert!(visible_empty <= 4 * 4, "seed {seed}: {visible_empty} empty cells visible");
    }
}

#[test]
fn rgb_pictures_show_the_cells_and_boxes_find_them() {
    let tile = 8;
    let mut grid_env = env(MultiRoomOptions::default());
    let mut rgb_env = env(MultiRoomOptions::default().with_obs(MultiRoomObs::Rgb { tile_size: tile }));
    let side = 11 * tile;
    for seed in 0..30 {
        let (mut grid, _) = grid_env.reset(seed).unwrap();
        let (mut picture, mut info) = rgb_env.reset(seed).unwrap();
        for action in random_actions(seed, 60) {
            // The centre pixel of each cell has the cell's colour.
            let cells = Decoded::new(&grid, 11);
            for (i, cell) in cells.cells.iter().enumerate() {
                let (x, y) = (i % 11 * tile + tile / 2, i / 11 * tile + tile / 2);
                let pixel = &picture[(y * side + x) * 3..][..3];
                let expected: [u8; 3] = match (cell[0], cell[2]) {
                    (o, _) if o == Object::Agent as u8 => [255, 0, 0],
                    (o, _) if o == Object::Wall as u8 => [100, 100, 100],
                    (o, _) if o == Object::Goal as u8 => [0, 255, 0],
                    (o, 1) if o == Object::Door as u8 => heldout_envs::multiroom::Colour::ALL[cell[1] as usize].rgb(),
                    _ => [0, 0, 0],
                };
                assert_eq!(pixel, expected, "seed {seed}, cell {i} {cell:?}");
            }
            // Boxes: the agent's and the goal's cells, a door for each door cell.
            let ((ax, ay), _) = cells.agent();
            let agent = info.objects.iter().find(|b| b.class == ObjectClass::Agent).unwrap();
            assert_eq!(
                (agent.x1, agent.y1, agent.x2 - agent.x1),
                ((ax * tile) as f32, (ay * tile) as f32, tile as f32)
            );
            assert_eq!(info.objects.iter().filter(|b| b.class == ObjectClass::Goal).count(), 1);
            let doors = info.objects.iter().filter(|b| b.class == ObjectClass::Door).count();
            assert_eq!(doors, rgb_env.num_rooms() - 1);
            let step = grid_env.step(action).unwrap();
            let rgb_step = rgb_env.step(action).unwrap();
            (grid, picture, info) = (step.obs, rgb_step.obs, rgb_step.info);
            if step.terminated || step.truncated {
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[test]
fn bad_actions_and_untimely_steps_are_errors() {
    let mut env = env(MultiRoomOptions::default());
    assert_eq!(env.step(0), Err(EnvError::NeedsReset));
    assert_eq!(planner::plan(&env), None, "no plan before the first reset");
    env.reset(1).unwrap();
    assert_eq!(env.step(7), Err(EnvError::InvalidAction { action: 7, num_actions: 7 }));
    let mut small = [0u8; 10];
    assert!(matches!(env.step_into(0, &mut small), Err(EnvError::ObsBuffer { expected: 363, got: 10 })));
    assert!(matches!(env.reset_into(0, &mut small), Err(EnvError::ObsBuffer { .. })));
    assert_eq!(env.action_space().names, ["left", "right", "forward", "pickup", "drop", "toggle", "done"]);
}

#[test]
fn invalid_options_are_refused_with_a_reason() {
    let base = MultiRoomOptions::default();
    let cases = [
        (MultiRoomOptions { min_rooms: 0, ..base.clone() }, "min_rooms"),
        (MultiRoomOptions { min_rooms: 3, max_rooms: 2, ..base.clone() }, "exceeds max_rooms"),
        (MultiRoomOptions { min_room_size: 3, ..base.clone() }, "at least 4"),
        (MultiRoomOptions { min_room_size: 6, max_room_size: 5, ..base.clone() }, "exceeds max_room_size"),
        (MultiRoomOptions { grid_size: 5, ..base.clone() }, "exceeds grid_size"),
        (MultiRoomOptions { max_rooms: 4, ..base.clone() }, "too small"),
        (MultiRoomOptions { grid_size: 300, ..base.clone() }, "exceeds 255"),
        (MultiRoomOptions { max_steps: Some(0), ..base.clone() }, "max_steps"),
        (base.clone().with_obs(MultiRoomObs::Rgb { tile_size: 0 }), "tile_size"),
        (base.clone().with_obs(MultiRoomObs::Rgb { tile_size: 65 }), "tile_size"),
    ];
    for (options, reason) in cases {
        match MultiRoom::new(options.clone()) {
            Err(EnvError::InvalidOptions(msg)) => assert!(msg.contains(reason), "{options:?}: {msg}"),
            other => panic!("{options:?} gave {other:?}"),
        }
    }
}

#[test]
fn options_read_from_toml_with_defaults() {
    let options: MultiRoomOptions = toml::from_str("max_rooms = 2\nobs = { kind = \"rgb\", tile_size = 4 }").unwrap();
    assert_eq!(
        options,
        MultiRoomOptions { max_rooms: 2, obs: MultiRoomObs::Rgb { tile_size: 4 }, ..Default::default() }
    );
    let ego: MultiRoomOptions = toml::from_str("obs = { kind = \"egocentric\" }").unwrap();
    assert_eq!(ego.obs, MultiRoomObs::Egocentric);
    assert!(toml::from_str::<MultiRoomOptions>("rooms = 2").is_err());
    assert!(toml::from_str::<MultiRoomOptions>("obs = { kind = \"rgb\", tile_size = 4, size = 2 }").is_err());
    assert!(toml::from_str::<MultiRoomOptions>("obs = { kind = \"image\" }").is_err());
    let preset = MultiRoomOptions::n4_s5();
    assert_eq!(toml::from_str::<MultiRoomOptions>(&toml::to_string(&preset).unwrap()).unwrap(), preset);
    assert_eq!((preset.min_rooms, preset.max_rooms, preset.max_room_size, preset.grid_size), (4, 4, 5, 25));
    assert_eq!(preset.time_limit(), 80);
}

// ---------------------------------------------------------------------------------------------
// Vectorised play.

#[test]
fn vec_env_auto_resets_and_keeps_the_goal_observation() {
    let levels = LevelSet::new(0, 1000);
    let mut venv = VecEnv::new(vec![env(MultiRoomOptions::default())], levels, 5, 0).unwrap();
    let mut fresh = env(MultiRoomOptions::default());
    for _ in 0..20 {
        let start = Decoded::new(venv.obs(), 11);
        let goal = start.find(Object::Goal)[0];
        let seed = venv.level_seeds()[0];
        fresh.reset(seed).unwrap();
        let plan = plan(&fresh);
        for (k, &a) in plan.iter().enumerate() {
            let step = venv.step(&[a]).unwrap();
            if k + 1 < plan.len() {
                assert!(step.final_obs[0].is_none() && !step.terminated[0]);
                continue;
            }
            assert!(step.terminated[0] && !step.truncated[0]);
            let final_obs = Decoded::new(step.final_obs[0].as_ref().unwrap(), 11);
            assert_eq!(final_obs.agent().0, goal, "the final observation shows the agent on the goal");
            let record = step.episodes[0].unwrap();
            assert!(record.success);
            assert_eq!((record.length as usize, record.level_seed), (plan.len(), seed));
            assert!((record.episode_return - (1.0 - 0.9 * plan.len() as f32 / 60.0)).abs() < 1e-6);
            // The live observation is the first of the next level.
            assert_eq!(venv.obs(), fresh.reset(venv.level_seeds()[0]).unwrap().0);
        }
    }
}

#[test]
fn vec_env_shards_play_the_same_levels_as_one_batch() {
    let options = MultiRoomOptions::default().with_obs(MultiRoomObs::Egocentric);
    let make = |n: usize| (0..n).map(|_| env(options.clone())).collect::<Vec<_>>();
    let levels = LevelSet::new(100, 500);
    let mut whole = VecEnv::new(make(4), levels, 9, 0).unwrap();
    let mut left = VecEnv::new(make(2), levels, 9, 0).unwrap();
    let mut right = VecEnv::new(make(2), levels, 9, 2).unwrap();
    let mut ends = 0;
    for t in 0..400u64 {
        let actions = random_actions(t, 4);
        let w = whole.step(&actions).unwrap();
        let (l, r) = (left.step(&actions[..2]).unwrap(), right.step(&actions[2..]).unwrap());
        assert_eq!(w.rewards, [l.rewards, r.rewards].concat());
        assert_eq!(w.episodes, [l.episodes, r.episodes].concat());
        assert_eq!(whole.obs(), [left.obs(), right.obs()].concat());
        assert_eq!(whole.level_seeds(), [left.level_seeds(), right.level_seeds()].concat());
        ends += w.final_obs.iter().flatten().count();
    }
    assert!(ends >= 4 * (400 / 60), "{ends} episodes ended");
}
