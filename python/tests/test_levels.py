"""Levels are functions of seeds; training and held-out levels never meet."""

import numpy as np
import pytest

import heldout


def rollout(env, seed, steps=300):
    """Observations, rewards and level seeds of `steps` seeded random steps with resets."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    trace = [(obs.copy(), 0.0, info["level_seed"])]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        trace.append((obs.copy(), reward, info["level_seed"]))
        if terminated or truncated:
            obs, info = env.reset()
            trace.append((obs.copy(), 0.0, info["level_seed"]))
    return trace


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x[0], y[0]) and x[1:] == y[1:] for x, y in zip(a, b))


def test_the_same_seed_gives_the_same_levels_and_trajectories(game_kwargs):
    game = game_kwargs.pop("game")
    first = rollout(heldout.make(game, **game_kwargs), seed=11)
    again = rollout(heldout.make(game, **game_kwargs), seed=11)
    other = rollout(heldout.make(game, **game_kwargs), seed=12)
    assert same(first, again)
    assert not same(first, other)


def test_a_level_is_a_function_of_its_seed_alone(game_kwargs):
    game = game_kwargs.pop("game")
    a, b = heldout.make(game, **game_kwargs), heldout.make(game, **game_kwargs)
    a.reset(seed=1)
    for _ in range(5):
        a.step(1)
    obs_a, info_a = a.reset(options={"level_seed": 7})
    obs_b, info_b = b.reset(seed=99, options={"level_seed": 7})
    assert info_a["level_seed"] == info_b["level_seed"] == 7
    assert np.array_equal(obs_a, obs_b)


def level_seeds(env, resets=300):
    env.reset(seed=5)
    return {env.reset()[1]["level_seed"] for _ in range(resets)}


@pytest.mark.parametrize("game", ["coinrun", "multiroom"])
def test_held_out_levels_are_disjoint_from_the_training_levels(game):
    train = level_seeds(heldout.make(game, num_levels=30, start_level=100))
    test = level_seeds(heldout.make(game, num_levels=30, start_level=100, split="test"))
    assert train <= set(range(100, 130)) and len(train) == 30
    assert all(seed >= 130 for seed in test) and len(test) == 300
    assert heldout.make(game, num_levels=30, start_level=100, split="test").unwrapped.levels == (130, 0)


def test_a_training_env_refuses_a_held_out_level():
    env = heldout.make("multiroom", num_levels=10)
    with pytest.raises(ValueError, match="level 10 is not in this env's levels"):
        env.reset(seed=0, options={"level_seed": 10})


def test_random_labels_negate_about_the_asked_fraction_of_levels():
    env = heldout.make("multiroom", label_noise=0.5)
    env.reset(seed=0)
    negated = [env.reset()[1]["negated"] for _ in range(2000)]
    assert 0.45 < np.mean(negated) < 0.55
    plain = heldout.make("multiroom")
    plain.reset(seed=0)
    assert not any(plain.reset()[1]["negated"] for _ in range(200))
