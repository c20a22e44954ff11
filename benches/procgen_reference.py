"""Steps per second of procgen's CoinRun on one core, to compare with heldout's criterion bench
`envs/benches/coinrun.rs` (same protocol: uniformly random actions drawn in advance, one env,
one thread, levels restarting whenever an episode ends; procgen restarts on its own).

Usage (procgen's wheels stop at Python 3.10):
    python3.10 -m venv /tmp/venv-procgen && /tmp/venv-procgen/bin/pip install procgen
    /tmp/venv-procgen/bin/python benches/procgen_reference.py [--steps 50000] [--repeats 3] [--core 0]

Cases (name: procgen setup):
    hard: ProcgenGym3Env(num=1, env_name="coinrun", distribution_mode="hard"), 15 actions
    easy: the same with distribution_mode="easy"
    hard_batch64: num=64 envs stepped together in one thread (steps counted per env)
"""

import argparse
import os
import statistics
import time

import numpy as np
from procgen import ProcgenGym3Env

CASES = {
    "hard": dict(num=1, distribution_mode="hard"),
    "easy": dict(num=1, distribution_mode="easy"),
    "hard_batch64": dict(num=64, distribution_mode="hard"),
}


def steps_per_second(case, steps, seed):
    env = ProcgenGym3Env(env_name="coinrun", num_threads=0, rand_seed=seed, **case)
    n = case["num"]
    calls = max(1, steps // n)
    actions = np.random.default_rng(seed).integers(0, 15, size=(calls, n), dtype=np.int32)
    env.observe()
    start = time.perf_counter()
    for a in actions:
        env.act(a)
        env.observe()
    return calls * n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--core", type=int, default=0, help="pin to this CPU core")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    for name, case in CASES.items():
        rates = [steps_per_second(case, args.steps, seed) for seed in range(args.repeats)]
        print(f"{name:>13}: median {statistics.median(rates):10,.0f} steps/s  (runs: {', '.join(f'{r:,.0f}' for r in rates)})")


if __name__ == "__main__":
    main()
