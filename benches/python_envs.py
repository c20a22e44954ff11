"""Steps per second from Python: heldout's envs beside procgen's CoinRun and MiniGrid's MultiRoom.

Every side steps random actions (drawn beforehand) and resets at episode ends, in one process,
one after the other, each timed as the median of `--repeats` runs of about `--seconds`:

- CoinRun (easy levels, 64x64x3 pictures): `heldout.make_vec("coinrun", ...)` against procgen's
  `ProcgenGym3Env(env_name="coinrun")`, both batches of `--num-envs` envs stepped on 1 and on 2
  threads, and one env at a time (`heldout.make` against procgen's batch of one).
- MultiRoom-N4-S5 (the 7x7x3 egocentric view): `heldout.make("multiroom", variant="n4_s5")`
  against `gymnasium.make("MiniGrid-MultiRoom-N4-S5-v1")` (4 rooms; MiniGrid's `-v0` id has 6)
  with MiniGrid's `ImgObsWrapper`, one env, and heldout's batch against Gymnasium's
  `SyncVectorEnv` of MiniGrid envs.

procgen's wheels stop at Python 3.10: run this with a 3.10 interpreter that has heldout's wheel,
procgen, minigrid and gymnasium installed (BENCHMARKS.md, "The envs from Python"). A side whose
package is missing is reported as such.

    python benches/python_envs.py [--seconds 2] [--num-envs 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np


# Random actions are drawn beforehand, this many steps' worth, and reused in turn.
ACTION_ROWS = 4096


def steps_per_second(stepper, repeats: int, seconds: float) -> float:
    """Median env steps per second of `stepper(k)` (k steps; returns the env steps it took)
    over `repeats` runs of about `seconds` each, after a warm-up that sizes k."""
    k = 16
    while True:
        start = time.perf_counter()
        stepper(k)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4:
            break
        k *= 2
    k = max(1, int(k * seconds / elapsed))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = stepper(k)
        rates.append(done / (time.perf_counter() - start))
    return statistics.median(rates)


def single_gymnasium(env, seed: int = 0):
    """Steps one Gymnasium env with random actions, resetting at episode ends."""
    actions = np.random.default_rng(seed).integers(env.action_space.n, size=ACTION_ROWS).tolist()
    env.reset(seed=seed)

    def run(k: int) -> int:
        for t in range(k):
            _, _, terminated, truncated, _ = env.step(actions[t % ACTION_ROWS])
            if terminated or truncated:
                env.reset()
        return k

    return run


def vector_gymnasium(env, seed: int = 0):
    """Steps a Gymnasium vector env (autoreset inside)."""
    actions = np.random.default_rng(seed).integers(env.single_action_space.n, size=(ACTION_ROWS, env.num_envs))
    env.reset(seed=seed)

    def run(k: int) -> int:
        for t in range(k):
            env.step(actions[t % ACTION_ROWS])
        return k * env.num_envs

    return run


def procgen_batch(num: int, threads: int, seed: int = 0):
    """Steps procgen's gym3 CoinRun batch (it resets finished episodes itself)."""
    from procgen import ProcgenGym3Env

    env = ProcgenGym3Env(
        num=num, env_name="coinrun", distribution_mode="easy", num_levels=200, start_level=0, num_threads=threads
    )
    actions = np.random.default_rng(seed).integers(15, size=(ACTION_ROWS, num)).astype(np.int32)

    def run(k: int) -> int:
        for t in range(k):
            env.act(actions[t % ACTION_ROWS])
            env.observe()
        return k * num

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run per side")
    parser.add_argument("--num-envs", type=int, default=64, help="envs in a batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side (median)")
    args = parser.parse_args()

    import gymnasium as gym

    import heldout

    rows: list[tuple[str, str, float | None]] = []

    def measure(case: str, side: str, make_stepper) -> None:
        try:
            stepper = make_stepper()
        except ImportError as missing:
            rows.append((case, f"{side} (not installed: {missing.name})", None))
            return
        rows.append((case, side, steps_per_second(stepper, args.repeats, args.seconds)))

    n = args.num_envs
    coinrun = {"num_levels": 200, "distribution_mode": "easy", "action_set": "procgen"}
    for threads in (1, 2):
        case = f"CoinRun, {n} envs, {threads} thread{'s' if threads > 1 else ''}"
        measure(
            case,
            "heldout",
            lambda: vector_gymnasium(heldout.make_vec("coinrun", num_envs=n, num_threads=threads, copy=False, **coinrun)),
        )
        measure(case, "procgen", lambda: procgen_batch(n, threads))
    measure("CoinRun, 1 env", "heldout", lambda: single_gymnasium(heldout.make("coinrun", **coinrun)))
    measure("CoinRun, 1 env", "procgen", lambda: procgen_batch(1, 1))

    def minigrid_env():
        import minigrid  # noqa: F401  (registers the MiniGrid ids)
        from minigrid.wrappers import ImgObsWrapper

        return ImgObsWrapper(gym.make("MiniGrid-MultiRoom-N4-S5-v1"))

    multiroom = {"variant": "n4_s5", "obs": "egocentric"}
    measure("MultiRoom-N4-S5, 1 env", "heldout", lambda: single_gymnasium(heldout.make("multiroom", **multiroom)))
    measure("MultiRoom-N4-S5, 1 env", "MiniGrid", lambda: single_gymnasium(minigrid_env()))
    case = f"MultiRoom-N4-S5, {n} envs, 1 thread"
    measure(
        case,
        "heldout",
        lambda: vector_gymnasium(heldout.make_vec("multiroom", num_envs=n, num_threads=1, copy=False, **multiroom)),
    )
    measure(case, "MiniGrid (SyncVectorEnv)", lambda: vector_gymnasium(gym.vector.SyncVectorEnv([minigrid_env] * n)))

    print(f"Python {platform.python_version()}, {platform.machine()}, median of {args.repeats} runs of {args.seconds} s")
    print("| case | side | steps/s | heldout / side |")
    print("|---|---|---:|---:|")
    ours = {case: sps for case, side, sps in rows if side == "heldout"}
    for case, side, sps in rows:
        if sps is None:
            print(f"| {case} | {side} | | |")
        else:
            ratio = "" if side == "heldout" else f"{ours[case] / sps:.1f}x"
            print(f"| {case} | {side} | {sps:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
