//! The CoinRun env through the `Env` API: determinism, episode ends, errors, observations.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use heldout_envs::coinrun::{
    ActionSet, CoinRun, CoinRunOptions, DistributionMode, Hazard, Level, Move, Outcome, World, planner,
};
use heldout_envs::{Env, EnvError, LevelSampler, LevelSet, ObjectClass, Transition};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Deserialize;
use serde::de::value::{Error as ValueError, MapDeserializer};

fn env(options: CoinRunOptions) -> CoinRun {
    CoinRun::new(options).expect("valid options")
}

/// Plays `actions` from `seed`, resetting to the next seed when an episode ends; returns every
/// observation and transition.
fn play(seed: u64, actions: &[usize]) -> (Vec<Vec<u8>>, Vec<Transition>) {
    let mut e = env(CoinRunOptions { max_steps: 200, ..Default::default() });
    let (obs, _) = e.reset(seed).unwrap();
    let (mut frames, mut ts) = (vec![obs], Vec::new());
    let mut next_seed = seed;
    for &a in actions {
        let mut obs = vec![0; 64 * 64 * 3];
        let t = e.step_into(a, &mut obs).unwrap();
        let ended = t.terminated || t.truncated;
        frames.push(obs);
        ts.push(t);
        if ended {
            next_seed += 1;
            frames.push(e.reset(next_seed).unwrap().0);
        }
    }
    (frames, ts)
}

#[test]
fn replays_are_bitwise_identical() {
    let mut rng = StdRng::seed_from_u64(7);
    let actions: Vec<usize> = (0..3000).map(|_| rng.random_range(0..7)).collect();
    let (f1, t1) = play(11, &actions);
    let (f2, t2) = play(11, &actions);
    assert_eq!(f1.len(), f2.len());
    assert!(f1 == f2, "frames differ");
    assert_eq!(t1, t2);
    assert!(t1.iter().any(|t| t.terminated || t.truncated), "the replay crosses episode ends");
    let (f3, _) = play(12, &actions);
    assert_ne!(f1[0], f3[0], "another seed looks different");
}

fn frame_hash(obs: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    obs.hash(&mut h);
    h.finish()
}

#[test]
fn first_frames_of_training_levels_never_appear_among_held_out_levels() {
    let mut e = env(CoinRunOptions::default());
    let train: HashSet<u64> = (0..500).map(|seed| frame_hash(&e.reset(seed).unwrap().0)).collect();
    assert_eq!(train.len(), 500, "training levels' first frames are distinct");
    let (_, held_out) = LevelSet::new(0, 500).with_held_out();
    let mut sampler = LevelSampler::new(LevelSet::new(1_000_000, 0), 3, 0);
    assert!(held_out.contains(1_000_000));
    let mut leaked = 0;
    for _ in 0..10_000 {
        let seed = sampler.sample();
        leaked += usize::from(train.contains(&frame_hash(&e.reset(seed).unwrap().0)));
    }
    assert_eq!(leaked, 0, "held-out first frames identical to a training level's");
}

#[test]
fn idling_until_max_steps_is_truncation_not_termination() {
    let mut e = env(CoinRunOptions { max_steps: 50, ..Default::default() });
    for seed in 0..20 {
        e.reset(seed).unwrap();
        for i in 1..=50 {
            let s = e.step(0).unwrap();
            assert_eq!(s.reward, 0.0);
            assert!(!s.terminated, "seed {seed}: idling at the spawn is safe");
            assert_eq!(s.truncated, i == 50, "seed {seed} step {i}");
            assert!(!s.info.level_complete);
        }
        assert_eq!(e.step(0).unwrap_err(), EnvError::NeedsReset);
    }
}

/// The first seed where running right and jumping dies of `hazard`, with the step it happens.
fn seed_dying_of(hazard: Hazard, options: &CoinRunOptions) -> (u64, u32) {
    (0..5000)
        .find_map(|seed| {
            let mut w = World::new(Level::generate(seed, options).shared());
            (1..=options.max_steps).find_map(|t| match w.step(Move::RIGHT_JUMP) {
                Outcome::Running => None,
                Outcome::Died(h) if h == hazard => Some(Some((seed, t))),
                _ => Some(None),
            })?
        })
        .expect("some level kills a jumping runner this way")
}

#[test]
fn deaths_terminate_with_no_reward_and_the_coin_pays_ten() {
    let options = CoinRunOptions::default();
    let right_jump = 4;
    for hazard in [Hazard::Lava, Hazard::Saw, Hazard::Monster] {
        let (seed, at) = seed_dying_of(hazard, &options);
        let mut e = env(options.clone());
        e.reset(seed).unwrap();
        for t in 1..=at {
            let s = e.step(right_jump).unwrap();
            assert_eq!(s.reward, 0.0);
            assert_eq!(s.terminated, t == at, "{hazard:?} seed {seed} step {t}");
            assert!(!s.truncated && !s.info.level_complete);
        }
        assert_eq!(e.step(right_jump).unwrap_err(), EnvError::NeedsReset);
    }
    let mut e = env(options);
    let seed = (0..100)
        .find(|&seed| {
            e.reset(seed).unwrap();
            loop {
                let s = e.step(right_jump).unwrap();
                if s.terminated || s.truncated {
                    return s.info.level_complete;
                }
            }
        })
        .expect("a jumping runner completes some level");
    e.reset(seed).unwrap();
    let last = std::iter::repeat_with(|| e.step(right_jump).unwrap()).find(|s| s.terminated).unwrap();
    assert_eq!((last.reward, last.truncated, last.info.level_complete), (10.0, false, true));
}

#[test]
fn the_scripted_player_completes_levels_through_the_env() {
    for action_set in [ActionSet::Original, ActionSet::Procgen] {
        let mut e = env(CoinRunOptions { action_set, ..Default::default() });
        assert_eq!(planner::plan(&e), None, "no plan before the first reset");
        for seed in 0..20 {
            e.reset(seed).unwrap();
            let plan = planner::plan(&e).unwrap_or_else(|| panic!("{action_set:?} seed {seed}: a plan"));
            for (k, &a) in plan.iter().enumerate() {
                let s = e.step(a).unwrap();
                let last = k + 1 == plan.len();
                assert_eq!((s.terminated, s.info.level_complete), (last, last), "{action_set:?} seed {seed} step {k}");
                assert_eq!(s.reward, if last { 10.0 } else { 0.0 });
            }
            assert_eq!(planner::plan(&e), None, "no plan after the episode's end");
        }
    }
    // A plan longer than the steps left is no plan.
    let mut short = env(CoinRunOptions { max_steps: 20, ..Default::default() });
    short.reset(0).unwrap();
    assert_eq!(planner::plan(&short), None);
}

#[test]
fn errors_for_bad_actions_and_steps_out_of_episode() {
    let mut e = env(CoinRunOptions::default());
    assert_eq!(e.step(0).unwrap_err(), EnvError::NeedsReset);
    e.reset(1).unwrap();
    assert_eq!(e.step(7).unwrap_err(), EnvError::InvalidAction { action: 7, num_actions: 7 });
    let mut p = env(CoinRunOptions { action_set: ActionSet::Procgen, ..Default::default() });
    p.reset(1).unwrap();
    assert_eq!(p.step(15).unwrap_err(), EnvError::InvalidAction { action: 15, num_actions: 15 });
    assert!(p.step(14).is_ok());
    assert!(matches!(e.step_into(0, &mut [0; 10]), Err(EnvError::ObsBuffer { .. })));
}

#[test]
fn action_sets() {
    assert_eq!(env(CoinRunOptions::default()).action_space().n(), 7);
    let procgen = env(CoinRunOptions { action_set: ActionSet::Procgen, ..Default::default() });
    assert_eq!(procgen.action_space().n(), 15);
    let p = ActionSet::Procgen;
    assert_eq!(p.decode(4), Some(Move::NOOP));
    assert_eq!(p.decode(7), Some(Move::RIGHT));
    assert_eq!(p.decode(8), Some(Move::RIGHT_JUMP));
    assert_eq!(p.decode(1), Some(Move::LEFT));
    assert_eq!(p.decode(3), Some(Move::DOWN));
    assert_eq!(p.decode(12), Some(Move::NOOP));
    let o = ActionSet::Original;
    let moves: Vec<Move> = (0..7).map(|a| o.decode(a).unwrap()).collect();
    assert_eq!(moves, [Move::NOOP, Move::RIGHT, Move::LEFT, Move::JUMP, Move::RIGHT_JUMP, Move::LEFT_JUMP, Move::DOWN]);
    assert_eq!(o.decode(7), None);
    for set in [o, p] {
        for a in 0..set.len() {
            let mv = set.decode(a).unwrap();
            assert_eq!(set.decode(set.encode(mv).unwrap()), Some(mv), "{set:?} {a}");
        }
    }
    assert_eq!((o.encode(Move { dx: 1, dy: -1 }), p.encode(Move { dx: 1, dy: -1 })), (None, Some(6)));
}

#[test]
fn options_are_validated() {
    let bad = [
        CoinRunOptions { min_difficulty: 0, ..Default::default() },
        CoinRunOptions { max_difficulty: 4, ..Default::default() },
        CoinRunOptions { min_difficulty: 3, max_difficulty: 2, ..Default::default() },
        CoinRunOptions { max_steps: 0, ..Default::default() },
    ];
    for o in bad {
        let err = CoinRun::new(o.clone()).unwrap_err();
        assert!(matches!(err, EnvError::InvalidOptions(_)), "{o:?}");
        assert!(!err.to_string().is_empty());
    }
    assert!(CoinRun::new(CoinRunOptions { min_difficulty: 3, max_difficulty: 3, ..Default::default() }).is_ok());
}

#[test]
fn options_deserialize_with_defaults_and_reject_unknown_fields() {
    let fields = [("distribution_mode", "easy"), ("action_set", "procgen")];
    let o = CoinRunOptions::deserialize(MapDeserializer::<_, ValueError>::new(fields.into_iter())).unwrap();
    assert_eq!(o.distribution_mode, DistributionMode::Easy);
    assert_eq!(o.action_set, ActionSet::Procgen);
    assert_eq!((o.max_steps, o.center_agent), (1000, true));
    let unknown = [("distribution", "easy")];
    assert!(CoinRunOptions::deserialize(MapDeserializer::<_, ValueError>::new(unknown.into_iter())).is_err());
}

#[test]
fn object_boxes_are_on_screen_and_track_the_agent() {
    let mut e = env(CoinRunOptions::default());
    let mut rng = StdRng::seed_from_u64(5);
    let mut classes = HashSet::new();
    for seed in 0..100 {
        let (_, mut info) = e.reset(seed).unwrap();
        for _ in 0..200 {
            let agents: Vec<_> = info.objects.iter().filter(|b| b.class == ObjectClass::Agent).collect();
            assert_eq!(agents.len(), 1, "one agent, centred by the camera");
            let a = agents[0];
            assert!(((a.x1 + a.x2) / 2.0 - 32.0).abs() <= 1.0 && ((a.y1 + a.y2) / 2.0 - 32.0).abs() <= 1.0, "{a:?}");
            for b in &info.objects {
                assert!(
                    0.0 <= b.x1 && b.x1 < b.x2 && b.x2 <= 64.0 && 0.0 <= b.y1 && b.y1 < b.y2 && b.y2 <= 64.0,
                    "{b:?}"
                );
                classes.insert(b.class);
            }
            let s = e.step(rng.random_range(0..7)).unwrap();
            if s.terminated || s.truncated {
                break;
            }
            info = s.info;
        }
    }
    for c in [ObjectClass::Goal, ObjectClass::Saw, ObjectClass::Monster, ObjectClass::Lava, ObjectClass::Crate] {
        assert!(classes.contains(&c), "{c:?} seen somewhere");
    }
}

#[test]
fn whole_level_view_velocity_squares_and_render() {
    let mut e = env(CoinRunOptions { center_agent: false, paint_vel_info: true, ..Default::default() });
    let (obs, info) = e.reset(3).unwrap();
    let agent = info.objects.iter().find(|b| b.class == ObjectClass::Agent).unwrap();
    assert!(agent.x1 < 3.0 && agent.y2 > 60.0, "bottom-left in the whole-level view: {agent:?}");
    let px = |o: &[u8], x: usize, y: usize| [o[(y * 64 + x) * 3], o[(y * 64 + x) * 3 + 1], o[(y * 64 + x) * 3 + 2]];
    assert_eq!(px(&obs, 2, 2), [127; 3], "at rest: mid grey");
    let s = e.step(1).unwrap();
    assert!(px(&s.obs, 2, 2)[0] > 127, "running right: lighter");
    let r = e.render();
    assert_eq!((r.width, r.height, r.data.len()), (256, 256, 256 * 256 * 3));
    let colours: HashSet<&[u8]> = r.data.chunks(3).collect();
    assert!(colours.len() > 20, "a picture, not a fill");
    let text = e.render_text();
    assert!(text.contains('@') && text.contains('$'), "{text}");
}

#[test]
fn looks_vary_with_the_seed_unless_restricted() {
    let distinct_first_frames = |options: CoinRunOptions| {
        let mut e = env(options);
        (0..200).map(|seed| e.reset(seed).unwrap().0).collect::<HashSet<_>>().len()
    };
    assert_eq!(distinct_first_frames(CoinRunOptions::default()), 200);
    let fixed = CoinRunOptions { restrict_themes: true, use_backgrounds: false, ..Default::default() };
    let n = distinct_first_frames(fixed);
    println!("distinct first frames of 200 levels with one look: {n}");
    assert!(n < 190, "with one look, spawn views repeat: {n}");
}
