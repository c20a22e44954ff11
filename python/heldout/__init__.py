"""heldout's procedurally generated envs, with train/test level splits, as Gymnasium envs.

``heldout.make("coinrun", num_levels=200, distribution_mode="easy")`` is a `gymnasium.Env`
playing CoinRun-like levels 0 to 199; ``split="test"`` plays that training set's held-out
levels. ``heldout.make_vec(..., num_envs=64)`` is a `gymnasium.vector.VectorEnv` stepped on
Rust threads. Importing the package registers the Gymnasium ids in `IDS`
(``gymnasium.make("heldout/CoinRun-v0")``, ``gymnasium.make_vec("heldout/MultiRoom-N3r-v0",
num_envs=8)``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from heldout import _native
from heldout.env import HeldoutEnv
from heldout.vector import HeldoutVectorEnv

__all__ = ["HeldoutEnv", "HeldoutVectorEnv", "IDS", "make", "make_vec"]

# Gymnasium id -> the arguments it fixes.
IDS: dict[str, dict[str, Any]] = {
    "heldout/CoinRun-v0": {"game": "coinrun"},
    # The paper's MultiRoom: 1 to 3 rooms on an 11 x 11 grid, full-grid observations.
    "heldout/MultiRoom-N3r-v0": {"game": "multiroom", "variant": "paper"},
    "heldout/MultiRoom-N2-S4-v0": {"game": "multiroom", "variant": "n2_s4"},
    "heldout/MultiRoom-N4-S5-v0": {"game": "multiroom", "variant": "n4_s5"},
    "heldout/MultiRoom-N6-v0": {"game": "multiroom", "variant": "n6"},
}

_DEFAULT_ID = {"coinrun": "heldout/CoinRun-v0", "multiroom": "heldout/MultiRoom-N3r-v0"}

for _id, _kwargs in IDS.items():
    gym.register(
        id=_id,
        entry_point="heldout.env:HeldoutEnv",
        vector_entry_point="heldout.vector:HeldoutVectorEnv",
        kwargs=_kwargs,
    )


def _id_of(game: str) -> str:
    if game not in _DEFAULT_ID:
        raise ValueError(f"unknown game {game!r}: heldout has {_native.games()}")
    return _DEFAULT_ID[game]


def make(game: str, **kwargs: Any) -> gym.Env:
    """``gymnasium.make`` of the game's id: a `HeldoutEnv` in Gymnasium's standard wrappers.

    Takes `HeldoutEnv`'s keyword arguments (``num_levels``, ``start_level``, ``split``,
    ``render_mode``, ``variant`` and the env's options).
    """
    return gym.make(_id_of(game), **kwargs)


def make_vec(game: str, num_envs: int = 1, **kwargs: Any) -> HeldoutVectorEnv:
    """A `HeldoutVectorEnv` of ``num_envs`` envs (see its arguments)."""
    return gym.make_vec(_id_of(game), num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
