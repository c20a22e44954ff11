"""Gymnasium's own checker on every registered id and on the options that change the spaces."""

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import heldout


@pytest.mark.parametrize("env_id", sorted(heldout.IDS))
def test_every_registered_id_passes_gymnasiums_checker(env_id):
    env = gym.make(env_id, num_levels=50, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    env.reset(seed=0)
    assert env.render().shape[2] == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"game": "coinrun", "distribution_mode": "easy", "split": "test", "num_levels": 200},
        {"game": "coinrun", "action_set": "procgen", "label_noise": 0.5},
        {"game": "multiroom", "obs": "egocentric"},
        {"game": "multiroom", "obs": {"kind": "rgb", "tile_size": 4}, "variant": "n2_s4"},
    ],
)
def test_options_pass_gymnasiums_checker(kwargs):
    env = heldout.make(kwargs.pop("game"), render_mode="rgb_array", **kwargs)
    check_env(env.unwrapped, skip_render_check=False)


def test_the_spaces_describe_the_observations():
    env = heldout.make("multiroom", obs="egocentric")
    obs, info = env.reset(seed=3)
    assert env.observation_space.shape == (7, 7, 3) == obs.shape
    assert obs.dtype == env.observation_space.dtype
    assert env.action_space.n == len(env.unwrapped.action_names)
    assert set(info) == {"level_seed", "level_complete", "negated"}
    coinrun = heldout.make("coinrun")
    assert coinrun.observation_space.shape == (64, 64, 3)
    assert coinrun.unwrapped.action_names[:2] == ["noop", "right"]
