"""Steps per second of Python MiniGrid's MultiRoom on one core, to compare with heldout's
criterion bench `envs/benches/multiroom.rs` (same protocol: uniformly random actions drawn in
advance, a new level whenever an episode ends, one env, one thread).

Usage (in a venv with `pip install minigrid`):
    python benches/minigrid_reference.py [--steps 20000] [--repeats 3] [--core 0]

Cases (name: MiniGrid setup, the heldout bench it pairs with):
    n4s5_egocentric: gym.make("MiniGrid-MultiRoom-N4-S5-v1"), default 7x7x3 view
    n4s5_grid:       the same + FullyObsWrapper (25x25x3 codes)
    n4s5_rgb8:       the same + RGBImgObsWrapper(tile_size=8) (200x200x3 pixels)
    paper_*:         MultiRoomEnv(1..3 rooms, room side <= 6, 11x11 grid), the paper's variant
"""

import argparse
import os
import statistics
import time

import gymnasium as gym
import numpy as np
from minigrid.envs import MultiRoomEnv
from minigrid.wrappers import FullyObsWrapper, RGBImgObsWrapper


def paper_env():
    return MultiRoomEnv(minNumRooms=1, maxNumRooms=3, maxRoomSize=6, width=11, height=11)


def n4s5_env():
    return gym.make("MiniGrid-MultiRoom-N4-S5-v1")


CASES = {
    "paper_grid": lambda: FullyObsWrapper(paper_env()),
    "paper_egocentric": paper_env,
    "paper_rgb8": lambda: RGBImgObsWrapper(paper_env(), tile_size=8),
    "n4s5_grid": lambda: FullyObsWrapper(n4s5_env()),
    "n4s5_egocentric": n4s5_env,
    "n4s5_rgb8": lambda: RGBImgObsWrapper(n4s5_env(), tile_size=8),
}


def steps_per_second(make, steps, seed):
    env = make()
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, size=steps)
    level = seed * 1_000_000
    env.reset(seed=level)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(int(action))
        if terminated or truncated:
            level += 1
            env.reset(seed=level)
    return steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    for name in args.cases:
        rates = [steps_per_second(CASES[name], args.steps, seed) for seed in range(args.repeats)]
        print(f"{name:18} median {statistics.median(rates):10.0f} steps/s  (runs: {', '.join(f'{r:.0f}' for r in rates)})")


if __name__ == "__main__":
    main()
