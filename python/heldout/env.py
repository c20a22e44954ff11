"""One heldout env as a `gymnasium.Env`."""

from __future__ import annotations

import operator
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from heldout import _native
from heldout._spec import RENDER_FPS, RENDER_MODES, check_render_mode, native_args


def observation_space(native: Any) -> spaces.Box:
    """The Box of one env's byte observations."""
    description = native.description
    return spaces.Box(0, description.observation_high, tuple(description.observation_shape), np.uint8)


class HeldoutEnv(gym.Env):
    """A CoinRun-like or MultiRoom-like env whose levels are pure functions of their seeds.

    Args:
        game: ``"coinrun"`` or ``"multiroom"``.
        num_levels: the training set's size (0: every level), as procgen's ``num_levels``.
        start_level: the training set's first level seed, as procgen's ``start_level``.
        split: ``"train"`` plays the training set; ``"test"`` plays its held-out levels (every
            level after it, never one of the training set).
        render_mode: ``None`` or ``"rgb_array"``.
        variant: MultiRoom's ``"paper"`` (default: 1 to 3 rooms on 11 x 11), ``"n2_s4"``,
            ``"n4_s5"`` or ``"n6"`` (MiniGrid's).
        **options: the env's options by their heldout config names, e.g.
            ``distribution_mode="easy"``, ``max_steps=500``, ``obs="egocentric"``.

    ``reset(seed=s)`` starts the level stream of ``s``: the levels that follow, and with the
    same actions the whole trajectory, are a function of ``s``. ``reset(options={"level_seed":
    n})`` plays level ``n`` (one of the env's levels). ``info`` holds ``level_seed``,
    ``level_complete`` (the step reached the goal) and ``negated`` (a random-label level whose
    goal reward is negated, see the ``label_noise`` option). An episode ends with
    ``terminated`` at the goal (or CoinRun's death) and ``truncated`` at the time limit.
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": RENDER_FPS}

    def __init__(
        self,
        game: str = "coinrun",
        *,
        num_levels: int = 0,
        start_level: int = 0,
        split: str = "train",
        render_mode: str | None = None,
        variant: str | None = None,
        **options: Any,
    ) -> None:
        check_render_mode(render_mode)
        self._native = _native.NativeEnv(*native_args(game, variant, num_levels, start_level, split, options))
        self.observation_space = observation_space(self._native)
        self.action_space = spaces.Discrete(len(self._native.description.action_names))
        self.render_mode = render_mode
        self.game = game

    @property
    def action_names(self) -> list[str]:
        """The actions' names, by index."""
        return list(self._native.description.action_names)

    @property
    def levels(self) -> tuple[int, int]:
        """The levels played: ``(start_level, num_levels)``, ``num_levels = 0`` meaning unbounded."""
        return self._native.description.levels

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        level_seed = options.pop("level_seed", None)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}: the only one is 'level_seed'")
        if seed is not None:
            self._native.seed(seed)
        elif not self._native.seeded:
            self._native.seed(int(self.np_random.integers(2**63)))
        return self._native.reset(None if level_seed is None else operator.index(level_seed))

    def step(self, action):
        return self._native.step(operator.index(action))

    def render(self):
        if self.render_mode == "rgb_array":
            return self._native.render()
        return None

    def render_text(self) -> str:
        """A text picture of the current state."""
        return self._native.render_text()
