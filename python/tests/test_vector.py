"""The vector env: Gymnasium's vector API, equal to SyncVectorEnv of single envs, any threads."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import heldout

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP]


def actions(num_envs, steps, n, seed=0):
    return np.random.default_rng(seed).integers(n, size=(steps, num_envs))


def trace(env, steps=150, seed=21):
    """Every value a seeded vector env returns over `steps` random steps."""
    out = [env.reset(seed=seed)]
    for a in actions(env.num_envs, steps, env.single_action_space.n):
        out.append(env.step(a))
    return out


def canonical(value):
    """Info arrays compared by value (heldout's level seeds are uint64, SyncVectorEnv's int64)."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(canonical(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return value.astype(np.uint64)
    return value


@pytest.mark.parametrize("mode", MODES)
def test_the_vector_env_equals_sync_vector_env_of_single_envs(game_kwargs, mode):
    game = game_kwargs.pop("game")
    ours = heldout.make_vec(game, num_envs=4, autoreset_mode=mode, **game_kwargs)
    reference = SyncVectorEnv([lambda: heldout.make(game, **game_kwargs) for _ in range(4)], autoreset_mode=mode)
    assert ours.single_observation_space == reference.single_observation_space
    assert ours.observation_space == reference.observation_space
    assert ours.action_space == reference.action_space
    ends = 0
    for got, want in zip(trace(ours), trace(reference), strict=True):
        assert data_equivalence(canonical(got), canonical(want))
        if len(got) == 5:
            ends += int(np.sum(got[2] | got[3]))
    assert ends > 0, "the trace must cover autoresets"


def test_results_do_not_depend_on_the_number_of_threads(game_kwargs):
    game = game_kwargs.pop("game")
    one = trace(heldout.make_vec(game, num_envs=5, num_threads=1, **game_kwargs))
    three = trace(heldout.make_vec(game, num_envs=5, num_threads=3, **game_kwargs))
    assert all(data_equivalence(a, b) for a, b in zip(one, three, strict=True))


def test_same_step_reports_the_final_observation():
    env = heldout.make_vec("coinrun", num_envs=3, max_steps=5, autoreset_mode="same_step")
    single = heldout.make("coinrun", max_steps=5)
    env.reset(seed=0)
    single.reset(seed=0)
    for _ in range(4):
        env.step(np.zeros(3, dtype=np.int64))
        single.step(0)
    obs, _, _, truncated, info = env.step(np.zeros(3, dtype=np.int64))
    last, *_ = single.step(0)
    assert truncated.all() and info["_final_obs"].all()
    assert np.array_equal(info["final_obs"][0], last)
    assert not np.array_equal(obs[0], last), "the returned observation is the next level's"
    assert set(info["final_info"]) >= {"level_seed", "_level_seed"}


def test_observations_are_written_in_place_without_copy():
    env = heldout.make_vec("multiroom", num_envs=2, copy=False)
    first, _ = env.reset(seed=0)
    second, *_ = env.step(np.array([2, 2]))
    assert first is second
    copied = heldout.make_vec("multiroom", num_envs=2)
    a, _ = copied.reset(seed=0)
    b, *_ = copied.step(np.array([2, 2]))
    assert a is not b


def test_make_vec_of_a_registered_id_uses_the_rust_batch():
    env = gym.make_vec("heldout/MultiRoom-N4-S5-v0", num_envs=3)
    assert isinstance(env, heldout.HeldoutVectorEnv)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 25, 25, 3) and info["_level_seed"].all()
    assert len(env.render() or ()) == 0
    rgb = heldout.make_vec("coinrun", num_envs=2, render_mode="rgb_array")
    rgb.reset(seed=0)
    assert [frame.shape[2] for frame in rgb.render()] == [3, 3]
