"""A batch of heldout envs as a `gymnasium.vector.VectorEnv`, stepped on Rust threads."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from heldout import _native
from heldout._spec import RENDER_FPS, RENDER_MODES, check_render_mode, native_args
from heldout.env import observation_space

_MODES = {AutoresetMode.NEXT_STEP: "next_step", AutoresetMode.SAME_STEP: "same_step"}
_BY_NAME = {name: mode for mode, name in _MODES.items()}


class HeldoutVectorEnv(VectorEnv):
    """``num_envs`` heldout envs stepped together on ``num_threads`` Rust threads.

    Takes the arguments of `heldout.env.HeldoutEnv` and:

    Args:
        num_envs: how many envs.
        num_threads: threads that step them, with the GIL released (1: the calling thread;
            default: the CPUs this process may use, at most ``num_envs``). Results never depend
            on it.
        autoreset_mode: `AutoresetMode.NEXT_STEP` or ``"next_step"`` (Gymnasium's default: the
            step after an episode ends resets that env, ignoring its action, with reward 0) or
            `AutoresetMode.SAME_STEP` or ``"same_step"`` (the ending step returns the next level's first
            observation, the ended episode's last one in ``info["final_obs"]`` and its info
            in ``info["final_info"]``).
        copy: return a copy of the observation array (else the array itself, which the next
            reset or step overwrites in place).

    ``reset(seed=s)`` seeds env ``i`` with ``s + i``, as Gymnasium's `SyncVectorEnv` does:
    the batch plays exactly what ``SyncVectorEnv`` of single `HeldoutEnv` s plays.
    """

    def __init__(
        self,
        game: str = "coinrun",
        num_envs: int = 1,
        *,
        num_levels: int = 0,
        start_level: int = 0,
        split: str = "train",
        num_threads: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        copy: bool = True,
        render_mode: str | None = None,
        variant: str | None = None,
        **options: Any,
    ) -> None:
        check_render_mode(render_mode)
        mode = _BY_NAME.get(autoreset_mode, autoreset_mode)
        if mode not in _MODES:
            names = [str(m) for m in _MODES] + list(_BY_NAME)
            raise ValueError(f"autoreset_mode must be one of {names}, not {autoreset_mode!r}")
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, not {num_envs!r}")
        if num_threads is None:
            num_threads = min(num_envs, len(os.sched_getaffinity(0)))
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive integer, not {num_threads!r}")
        args = native_args(game, variant, num_levels, start_level, split, options)
        self._native = _native.NativeVecEnv(*args, num_envs, num_threads, _MODES[mode])
        self.num_envs = num_envs
        self.num_threads = num_threads
        self.copy = copy
        self.render_mode = render_mode
        self.metadata = {"render_modes": RENDER_MODES, "render_fps": RENDER_FPS, "autoreset_mode": mode}
        self.single_observation_space = observation_space(self._native)
        self.single_action_space = spaces.Discrete(len(self._native.description.action_names))
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._obs = self._native.obs
        self._final_obs = self._native.final_obs
        self._all = np.ones(num_envs, dtype=bool)

    @property
    def action_names(self) -> list[str]:
        """The actions' names, by index."""
        return list(self._native.description.action_names)

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed if isinstance(seed, int) else None)
        if options:
            raise ValueError(f"the vector env takes no reset options, got {sorted(options)}")
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, (list, tuple)):
            if len(seed) != self.num_envs:
                raise ValueError(f"expected {self.num_envs} seeds, got {len(seed)}")
            seeds = list(seed)
        else:
            seeds = [seed + i for i in range(self.num_envs)]
        if any(s is None for s in seeds) and not self._native.seeded:
            # Unseeded envs get seeds from Gymnasium's generator (itself seeded from entropy).
            fresh = self.np_random.integers(2**63, size=self.num_envs)
            seeds = [int(f) if s is None else s for s, f in zip(seeds, fresh)]
        info = self._native.reset(seeds)
        return self._observations(), self._infos(info)

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(
                f"actions must be {self.num_envs} integers, got an array of shape {actions.shape} and dtype {actions.dtype}"
            )
        rewards, terminated, truncated, info, final_info = self._native.step(actions.astype(np.int64, copy=False))
        infos = self._infos(info)
        if final_info is not None:
            ended = final_info.pop("ended")
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(ended):
                final_obs[i] = self._final_obs[i].copy()
            infos["final_obs"], infos["_final_obs"] = final_obs, ended
            infos["final_info"], infos["_final_info"] = self._infos(final_info, ended), ended
        return self._observations(), rewards, terminated, truncated, infos

    def render(self):
        if self.render_mode == "rgb_array":
            return tuple(self._native.render(i) for i in range(self.num_envs))
        return None

    def _observations(self) -> np.ndarray:
        return self._obs.copy() if self.copy else self._obs

    def _infos(self, arrays: dict[str, np.ndarray], present: np.ndarray | None = None) -> dict[str, Any]:
        """Gymnasium's vector info: each key's array beside its ``_key`` mask."""
        mask = self._all if present is None else present
        infos: dict[str, Any] = {}
        for key, values in arrays.items():
            infos[key], infos["_" + key] = values, mask.copy()
        return infos
