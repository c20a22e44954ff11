//! Random-label levels: the goal's reward negated on a fraction of levels chosen by the seed.

use heldout_envs::coinrun::{self, CoinRun, CoinRunOptions, DistributionMode};
use heldout_envs::multiroom::{self, MultiRoom, MultiRoomOptions};
use heldout_envs::{Env, LevelSet, Transition, VecEnv, label};

/// The scripted player's episode on `seed`: every observation and transition.
fn episode<E: Env>(env: &mut E, seed: u64, plan: impl Fn(&E) -> Option<Vec<usize>>) -> (Vec<Vec<u8>>, Vec<Transition>) {
    let (obs, info) = env.reset(seed).unwrap();
    let mut frames = vec![obs];
    let mut steps = Vec::new();
    let actions = plan(env).unwrap_or_default();
    for a in actions {
        let t = env.step(a).unwrap();
        frames.push(t.obs.clone());
        steps.push(Transition { reward: t.reward, terminated: t.terminated, truncated: t.truncated, info: t.info });
        if t.terminated || t.truncated {
            break;
        }
    }
    assert_eq!(info.level_seed, seed);
    (frames, steps)
}

fn multiroom(label_noise: f64) -> MultiRoom {
    MultiRoom::new(MultiRoomOptions { label_noise, ..MultiRoomOptions::default() }).unwrap()
}

fn coinrun(label_noise: f64) -> CoinRun {
    let options = CoinRunOptions { label_noise, distribution_mode: DistributionMode::Easy, ..Default::default() };
    CoinRun::new(options).unwrap()
}

fn multiroom_plan(e: &MultiRoom) -> Option<Vec<usize>> {
    Some(multiroom::planner::plan(e)?.into_iter().map(|a| a as usize).collect())
}

/// `p = 0` is the env without the option; `p = 1` negates the goal's reward on every level and
/// changes nothing else: the same observations, the same ends, the goal's reward negated.
fn check_negation<E: Env>(plain: &mut E, zero: &mut E, all: &mut E, plan: &dyn Fn(&E) -> Option<Vec<usize>>) {
    let mut reached = 0;
    for seed in 0..12 {
        let (frames, steps) = episode(plain, seed, plan);
        let (frames0, steps0) = episode(zero, seed, plan);
        let (frames1, steps1) = episode(all, seed, plan);
        assert_eq!(frames, frames0, "seed {seed}: p = 0 is the env as it is");
        assert_eq!(steps, steps0, "seed {seed}");
        assert_eq!(frames, frames1, "seed {seed}: nothing in the observation tells the levels apart");
        for (s, s1) in steps.iter().zip(&steps1) {
            assert_eq!(
                (s.terminated, s.truncated, s.info.level_complete),
                (s1.terminated, s1.truncated, s1.info.level_complete)
            );
            assert_eq!(s1.reward, -s.reward, "seed {seed}: the goal costs what it paid");
            assert!(!s.info.negated && s1.info.negated);
        }
        if let Some(last) = steps1.last().filter(|s| s.info.level_complete) {
            assert!(last.terminated && last.reward < 0.0, "reaching a negated goal still ends the episode");
            reached += 1;
        }
    }
    assert!(reached > 6, "the scripted player reaches most goals ({reached} of 12)");
}

#[test]
fn multiroom_negates_only_the_goal_reward() {
    check_negation(
        &mut MultiRoom::new(MultiRoomOptions::default()).unwrap(),
        &mut multiroom(0.0),
        &mut multiroom(1.0),
        &multiroom_plan,
    );
}

#[test]
fn coinrun_negates_only_the_coin_reward() {
    let mut plain =
        CoinRun::new(CoinRunOptions { distribution_mode: DistributionMode::Easy, ..Default::default() }).unwrap();
    check_negation(&mut plain, &mut coinrun(0.0), &mut coinrun(1.0), &|e: &CoinRun| coinrun::planner::plan(e));
}

#[test]
fn the_level_decides_its_label_and_episodes_record_the_decision() {
    let mut e = multiroom(0.5);
    for seed in 0..200 {
        let (_, info) = e.reset(seed).unwrap();
        assert_eq!(info.negated, label::is_negated(seed, 0.5), "seed {seed}");
    }
    // The scripted player reaches every goal: the right decision on positive levels only.
    let mut venv = VecEnv::new(vec![multiroom(0.5)], LevelSet::new(0, 1000), 3, 0).unwrap();
    let mut planner = multiroom(0.5);
    let mut seen = [0usize; 2];
    for _ in 0..40 {
        planner.reset(venv.level_seeds()[0]).unwrap();
        let plan = multiroom_plan(&planner).unwrap();
        let mut ended = None;
        for a in plan {
            if let Some(ep) = venv.step(&[a]).unwrap().episodes[0] {
                ended = Some(ep);
                break;
            }
        }
        let ep = ended.expect("the plan ends the episode");
        let negated = label::is_negated(ep.level_seed, 0.5);
        assert!(ep.success, "the plan reaches the goal");
        assert_eq!(ep.correct_decision, !negated);
        assert_eq!(ep.episode_return < 0.0, negated);
        seen[usize::from(negated)] += 1;
    }
    assert!(seen[0] > 8 && seen[1] > 8, "both kinds of level played: {seen:?}");
}

#[test]
fn label_noise_outside_zero_to_one_is_refused() {
    for p in [-0.5, 1.5, f64::NAN] {
        let err = MultiRoom::new(MultiRoomOptions { label_noise: p, ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("label_noise"), "{err}");
        assert!(CoinRun::new(CoinRunOptions { label_noise: p, ..Default::default() }).is_err());
    }
}
