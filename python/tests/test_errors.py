"""Bad arguments raise a Python exception that names the problem, never crash."""

import gymnasium as gym
import numpy as np
import pytest

import heldout
from heldout import HeldoutEnv


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"game": "pong"}, ValueError, 'unknown game "pong"'),
        ({"game": "coinrun", "gravity": 2}, ValueError, 'unknown coinrun option "gravity"'),
        ({"game": "coinrun", "max_steps": "long"}, ValueError, "bad coinrun options"),
        ({"game": "coinrun", "max_steps": 0}, ValueError, "max_steps must be at least 1"),
        ({"game": "coinrun", "distribution_mode": "medium"}, ValueError, "unknown variant `medium`"),
        ({"game": "coinrun", "variant": "n6"}, ValueError, "coinrun has no variants"),
        ({"game": "multiroom", "variant": "n9"}, ValueError, "unknown multiroom variant"),
        ({"game": "multiroom", "label_noise": 1.5}, ValueError, "label_noise = 1.5"),
        ({"game": "multiroom", "num_levels": -1}, ValueError, "num_levels must be at least 0"),
        ({"game": "multiroom", "start_level": 1.5}, TypeError, "start_level must be an integer"),
        ({"game": "multiroom", "split": "valid"}, ValueError, 'split must be "train" or "test"'),
        ({"game": "multiroom", "split": "test"}, ValueError, "give num_levels > 0"),
        ({"game": "multiroom", "render_mode": "human"}, ValueError, "render_mode must be None"),
        ({"game": "multiroom", "obs": object()}, TypeError, "env options must be plain values"),
    ],
)
def test_bad_construction_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        HeldoutEnv(**kwargs)


def test_bad_actions():
    env = heldout.make("multiroom")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action 7 is out of range: the actions are 0..7"):
        env.step(7)
    with pytest.raises(ValueError, match="action -1 is out of range"):
        env.step(-1)
    with pytest.raises(TypeError):
        env.step(1.5)
    env.step(2)


def first_step(env):
    env.reset(seed=0)
    return env.step(np.array([0, 0]))[0]


def test_bad_vector_actions_change_nothing():
    env = heldout.make_vec("multiroom", num_envs=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action 7 is out of range"):
        env.step(np.array([1, 7]))
    with pytest.raises(ValueError, match="actions must be 2 integers"):
        env.step(np.array([1, 1, 1]))
    with pytest.raises(ValueError, match="actions must be 2 integers"):
        env.step(np.array([0.5, 1.0]))
    after_errors = env.step(np.array([0, 0]))[0]
    assert np.array_equal(after_errors, first_step(heldout.make_vec("multiroom", num_envs=2)))


def test_bad_vector_arguments():
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        heldout.make_vec("coinrun", num_envs=0)
    with pytest.raises(ValueError, match="num_threads must be a positive integer"):
        heldout.make_vec("coinrun", num_envs=2, num_threads=0)
    with pytest.raises(ValueError):
        heldout.make_vec("coinrun", num_envs=2, autoreset_mode="whenever")
    env = heldout.make_vec("coinrun", num_envs=2)
    with pytest.raises(ValueError, match="expected 2 seeds, got 1"):
        env.reset(seed=[1])


def test_step_before_reset():
    with pytest.raises(gym.error.ResetNeeded):
        heldout.make("coinrun").step(0)
    with pytest.raises(RuntimeError, match="call reset before step"):
        HeldoutEnv("coinrun").step(0)
