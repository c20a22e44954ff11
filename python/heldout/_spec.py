"""The arguments every heldout env takes, checked once for the single and the vector env."""

from __future__ import annotations

import json
import operator
from typing import Any

from heldout import _native

RENDER_MODES = ["rgb_array"]
# Frames per second of `render()` videos (CoinRun's and MiniGrid's own figure).
RENDER_FPS = 15


def native_args(
    game: str,
    variant: str | None,
    num_levels: int,
    start_level: int,
    split: str,
    options: dict[str, Any],
) -> tuple:
    """The positional arguments of `NativeEnv` / `NativeVecEnv` for these keyword arguments.

    `options` are the env's own options by their config names (``distribution_mode``,
    ``max_steps``, ``label_noise``, ...). MultiRoom's ``obs`` may be given as a string:
    ``obs="egocentric"`` means ``obs={"kind": "egocentric"}``.
    """
    if not isinstance(game, str):
        raise TypeError(f"game must be a string, one of {_native.games()}, not {game!r}")
    num_levels = _count("num_levels", num_levels)
    start_level = _count("start_level", start_level)
    options = dict(options)
    if isinstance(options.get("obs"), str):
        options["obs"] = {"kind": options["obs"]}
    try:
        options_json = json.dumps(options)
    except TypeError as error:
        raise TypeError(f"env options must be plain values (numbers, strings, dicts): {error}") from None
    return (game, options_json, variant, start_level, num_levels, split)


def check_render_mode(render_mode: str | None) -> None:
    """Rejects a render mode heldout does not draw."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {RENDER_MODES}, not {render_mode!r}")


def _count(name: str, value: Any) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {value!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be at least 0, not {value}")
    return value
