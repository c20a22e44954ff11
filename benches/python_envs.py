"""Steps per second from Python: heldout's envs beside procgen's CoinRun and MiniGrid's MultiRoom.

Every side steps random actions (drawn beforehand) and resets at episode ends, in one process,
one after the other, each timed as the median of `--repeats` runs:

- CoinRun (easy levels, 64x64x3 pictures): `heldout.make_vec("coinrun", ...)` against procgen's
  `ProcgenGym3Env(env_name="coinrun")`, both batches of `--num-envs` envs stepped on 1 and on 2
  threads, and one env at a time (`heldout.make` against procgen's batch of one).
- MultiRoom-N4-S5 (the 7x7x3 egocentric view): `heldout.make("multiroom", variant="n4_s5")`
  against `gymnasium.make("MiniGrid-MultiRoom-N4-S5-v0")` with MiniGrid's `ImgObsWrapper`, one
  env, and heldout's batch against Gymnasium's `SyncVectorEnv` of MiniGrid envs.

procgen's wheels stop at Python 3.10: run this with a 3.10 interpreter that has heldout's wheel,
procgen, minigrid and gymnasium installed (BENCHMARKS.md, "The envs from Python"). A side whose
package is missing is reported as such.

    python benches/python_envs.py [--steps 20000] [--num-envs 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np


def timed(step_all, repeats: int) -> float:
    """Median seconds of `step_all()` over `repeats` runs (after one warm-up run)."""
    step_all()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step_all()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def single_gymnasium(env, steps: int, seed: int = 0):
    """Steps one Gymnasium env `steps` times with random actions, resetting at episode ends."""
    actions = np.random.default_rng(seed).integers(env.action_space.n, size=steps)
    env.reset(seed=seed)

    def run():
        for a in actions:
            _, _, terminated, truncated, _ = env.step(int(a))
            if terminated or truncated:
                env.reset()

    return run


def vector_gymnasium(env, steps: int, seed: int = 0):
    """Steps a Gymnasium vector env `steps` times (autoreset inside)."""
    actions = np.random.default_rng(seed).integers(env.single_action_space.n, size=(steps, env.num_envs))
    env.reset(seed=seed)

    def run():
        for a in actions:
            env.step(a)

    return run


def procgen_batch(num: int, threads: int, steps: int, seed: int = 0):
    """Steps procgen's gym3 CoinRun batch (it resets finished episodes itself)."""
    from procgen import ProcgenGym3Env

    env = ProcgenGym3Env(
        num=num, env_name="coinrun", distribution_mode="easy", num_levels=200, start_level=0, num_threads=threads
    )
    actions = np.random.default_rng(seed).integers(15, size=(steps, num)).astype(np.int32)

    def run():
        for a in actions:
            env.act(a)
            env.observe()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000, help="env steps per timed run (batch steps x envs)")
    parser.add_argument("--num-envs", type=int, default=64, help="envs in a batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side (median)")
    args = parser.parse_args()

    import gymnasium as gym

    import heldout

    rows: list[tuple[str, str, float | None]] = []

    def measure(case: str, side: str, make_run, env_steps: int) -> None:
        try:
            run = make_run()
        except ImportError as missing:
            rows.append((case, f"{side} (not installed: {missing.name})", None))
            return
        rows.append((case, side, env_steps / timed(run, args.repeats)))

    n, batch_steps = args.num_envs, max(1, args.steps // args.num_envs)
    single_steps = args.steps // 4
    coinrun = {"num_levels": 200, "distribution_mode": "easy", "action_set": "procgen"}
    for threads in (1, 2):
        case = f"CoinRun, {n} envs, {threads} thread{'s' if threads > 1 else ''}"
        measure(
            case,
            "heldout",
            lambda: vector_gymnasium(heldout.make_vec("coinrun", num_envs=n, num_threads=threads, copy=False, **coinrun), batch_steps),
            batch_steps * n,
        )
        measure(case, "procgen", lambda: procgen_batch(n, threads, batch_steps), batch_steps * n)
    measure("CoinRun, 1 env", "heldout", lambda: single_gymnasium(heldout.make("coinrun", **coinrun), single_steps), single_steps)
    measure("CoinRun, 1 env", "procgen", lambda: procgen_batch(1, 1, single_steps), single_steps)

    def minigrid_env():
        import minigrid  # noqa: F401  (registers the MiniGrid ids)
        from minigrid.wrappers import ImgObsWrapper

        return ImgObsWrapper(gym.make("MiniGrid-MultiRoom-N4-S5-v0"))

    multiroom = {"variant": "n4_s5", "obs": "egocentric"}
    measure("MultiRoom-N4-S5, 1 env", "heldout", lambda: single_gymnasium(heldout.make("multiroom", **multiroom), args.steps), args.steps)
    measure("MultiRoom-N4-S5, 1 env", "MiniGrid", lambda: single_gymnasium(minigrid_env(), single_steps), single_steps)
    case = f"MultiRoom-N4-S5, {n} envs, 1 thread"
    measure(
        case,
        "heldout",
        lambda: vector_gymnasium(heldout.make_vec("multiroom", num_envs=n, num_threads=1, copy=False, **multiroom), batch_steps),
        batch_steps * n,
    )
    small = max(1, batch_steps // 8)
    measure(case, "MiniGrid (SyncVectorEnv)", lambda: vector_gymnasium(gym.vector.SyncVectorEnv([minigrid_env] * n), small), small * n)

    print(f"Python {platform.python_version()}, {platform.processor() or platform.machine()}, "
          f"median of {args.repeats} runs")
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
