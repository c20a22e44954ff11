#!/usr/bin/env python3
"""PyTorch reference for `heldout bench` (src/cli/bench.rs): the whole PPO training loop.

A CleanRL-style PPO loop (rollout, GAE, epochs of minibatch updates) in PyTorch eager mode on
the CPU, with the networks, losses and settings of heldout's run presets, so that its frames/s
can be set against `heldout bench --preset P` as a ratio. The envs are heldout's own, from its
Python package (`heldout.make_vec`, the preset's env options and training levels, same-step
autoreset so that a truncated episode's final observation is at hand for the bootstrap), when
that package is installed (python/, README "From Python"); `--envs precomputed` (or a missing
package) replaces them with precomputed observations of the right shape and dtype (uint8;
MultiRoom grid codes 0..10, CoinRun pixels 0..255) cycled from a pool by numpy indexing, with
random rewards and episode ends (probability 1/50 per step, half of them time-limit
truncations). Env stepping is timed either way and should be a few percent at most.

    python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch==2.9.0 numpy gymnasium maturin
    (cd python && /tmp/venv-torch/bin/maturin build --release --out dist) && /tmp/venv-torch/bin/pip install python/dist/heldout-*.whl
    /tmp/venv-torch/bin/python benches/pytorch_loop.py --preset multiroom [--grid] \
        [--threads N] [--iterations 5] [--warmup 1] [--core C] [--envs heldout|precomputed] [--json]
    /tmp/venv-torch/bin/python benches/pytorch_loop.py --preset coinrun-small --iterations 3

Pairs with (BENCHMARKS.md, "Whole training loop"):

    heldout bench --preset multiroom --updates 5
    heldout bench --preset multiroom --updates 5 --set 'env.obs={kind="grid"}'     # --grid
    heldout bench --preset coinrun-small --updates 3

Presets (src/config.rs, agents/src/config.rs, agents/src/ppo/config.rs; docs/method.md):
    multiroom:     16 envs x 128 steps, 4 epochs x 8 minibatches (256 samples); MiniGrid's
                   egocentric 7x7x3 view (--grid: the 11x11x3 full grid); the MultiRoom conv net
                   (2x2 convs 16-32-32, 2x2 max-pool after the first) into the information
                   bottleneck (64 latents, beta 1e-6 nats, rho shift 0), tanh, 7 actions;
                   SNI lambda 0.5; lr 7e-4 constant, clip 0.2, gamma 0.99, GAE 0.95.
    coinrun-small: 16 envs x 64 steps, 3 epochs x 4 minibatches (256 samples); 64x64x3 frames
                   scaled by 1/255; the half-width IMPALA-CNN (depths 8-16-16), dense 128 relu,
                   7 actions; L2 1e-4 on weights (biases excluded); no SNI, no noise;
                   lr 5e-4 and clip 0.2 both annealed linearly to 0 over the preset's 200k
                   frames, gamma 0.999, GAE 0.95.
    Both: orthogonal init (gain sqrt 2, policy 0.01, value 1, zero biases), advantages
    normalised per minibatch, clipped value loss, entropy 0.01, value 0.5, global gradient-norm
    clip 0.5, Adam eps 1e-5.

Timing as `heldout bench`: `--warmup` updates untimed, then `--iterations` rollout+update cycles
timed (annealing continues from where the warm-up left it). env = stepping the envs; inference
= the rollout's policy passes (acting, truncation bootstraps, the last values); learning = GAE
and the epochs; other = the rest of the wall time (rollout storage, tensor conversions; in
heldout's line, other is logging and checkpoints, and its rollout storage is in no share).
--threads defaults to one per usable core (after --core), as heldout uses every core by default.
Prints a version line and one summary line; with --json, one JSON object on stdout instead
(the two lines go to stderr).

Written for and run with Python 3.11.7, torch 2.9.0+cu128 (the PyPI wheel, run on the CPU) and
numpy 2.4.6. With more than one thread on a machine that other work keeps busy, OpenMP's
spinning waits can slow PyTorch down 30-fold (seen on the 2-core sandbox under a load of 5:
78 frames/s on two threads, 2,400 with OMP_WAIT_POLICY=PASSIVE, 4,200 on one thread); time on
an idle machine, or pass --threads 1 (or set OMP_WAIT_POLICY=PASSIVE and say so).
"""
import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions.categorical import Categorical

PRESETS = {
    "multiroom": dict(
        num_envs=16, num_steps=128, epochs=4, minibatches=8, total_frames=1_500_000,
        obs_shape=(7, 7, 3), high=11, scale=1.0, num_actions=7,
        encoder="multiroom", hidden=64, activation="tanh",
        bottleneck=dict(beta=1e-6, rho_shift=0.0), sni_lambda=0.5, l2=0.0,
        learning_rate=7e-4, anneal_lr=False, clip=0.2, anneal_clip=False,
        gamma=0.99, gae_lambda=0.95,
    ),
    "coinrun-small": dict(
        num_envs=16, num_steps=64, epochs=3, minibatches=4, total_frames=200_000,
        obs_shape=(64, 64, 3), high=256, scale=1 / 255, num_actions=7,
        encoder="impala", depths=(8, 16, 16), hidden=128, activation="relu",
        bottleneck=None, sni_lambda=None, l2=1e-4,
        learning_rate=5e-4, anneal_lr=True, clip=0.2, anneal_clip=True,
        gamma=0.999, gae_lambda=0.95,
    ),
}
ENT_COEF, VF_COEF, MAX_GRAD_NORM, ADAM_EPS = 0.01, 0.5, 0.5, 1e-5
DONE_PROB, TRUNCATED_SHARE, POOL_SIZE = 1 / 50, 0.5, 1024


def layer_init(layer, gain=math.sqrt(2)):
    # heldout's init.rs: orthogonal weights (conv kernels flattened to [c_out, c_in * k * k]), zero biases.
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class MultiRoomEncoder(nn.Module):
    """agents/src/nn/multiroom.rs: conv 2x2 -> relu -> maxpool 2 -> conv 2x2 -> relu -> conv 2x2 -> relu."""

    def __init__(self, side, channels=(16, 32, 32)):
        super().__init__()
        c1, c2, c3 = channels
        self.net = nn.Sequential(
            layer_init(nn.Conv2d(3, c1, 2)), nn.ReLU(), nn.MaxPool2d(2),
            layer_init(nn.Conv2d(c1, c2, 2)), nn.ReLU(),
            layer_init(nn.Conv2d(c2, c3, 2)), nn.ReLU(),
            nn.Flatten(),
        )
        self.out_features = ((side - 1) // 2 - 2) ** 2 * c3  # egocentric 7x7: 32; grid 11x11: 288

    def forward(self, x):
        return self.net(x)


class Residual(nn.Module):
    """x + conv(relu(conv(relu(x))))."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = layer_init(nn.Conv2d(c, c, 3, padding=1))
        self.conv2 = layer_init(nn.Conv2d(c, c, 3, padding=1))

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class ImpalaEncoder(nn.Module):
    """agents/src/nn/impala.rs: per depth conv 3x3 -> maxpool 3x3/2 (same) -> 2 residual blocks; flatten, relu."""

    def __init__(self, side, depths):
        super().__init__()
        layers, c = [], 3
        for d in depths:
            layers += [layer_init(nn.Conv2d(c, d, 3, padding=1)), nn.MaxPool2d(3, 2, padding=1), Residual(d), Residual(d)]
            c, side = d, (side + 1) // 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.ReLU())
        self.out_features = side * side * c  # 8 * 8 * 16 = 1024 for 64x64 and depths 8-16-16

    def forward(self, x):
        return self.net(x)


class Bottleneck(nn.Module):
    """agents/src/reg/bottleneck.rs: features -> [mu, rho]; sigma = softplus(rho - shift); z = mu (+ sigma * eps)."""

    def __init__(self, features, size, rho_shift):
        super().__init__()
        self.encode = layer_init(nn.Linear(features, 2 * size))
        self.rho_shift = rho_shift

    def forward(self, x, noisy):
        mu, rho = self.encode(x).chunk(2, dim=1)
        rho = rho - self.rho_shift
        sigma = F.softplus(rho)
        # ln softplus(r) = r for r < -20, where softplus underflows (heldout's guard).
        log_sigma = torch.where(rho < -20, rho, sigma.clamp_min(1e-30).log())
        kl = (0.5 * (mu ** 2 + sigma ** 2 - 1) - log_sigma).sum(1)  # [batch], nats
        z = mu + sigma * torch.randn_like(sigma) if noisy else mu
        return z, kl


class Agent(nn.Module):
    """agents/src/nn/actor_critic.rs: encoder -> dense or bottleneck -> activation -> policy and value heads."""

    def __init__(self, p):
        super().__init__()
        side = p["obs_shape"][0]
        if p["encoder"] == "multiroom":
            self.encoder = MultiRoomEncoder(side)
        else:
            self.encoder = ImpalaEncoder(side, p["depths"])
        features = self.encoder.out_features
        if p["bottleneck"]:
            self.bottleneck = Bottleneck(features, p["hidden"], p["bottleneck"]["rho_shift"])
        else:
            self.dense = layer_init(nn.Linear(features, p["hidden"]))
        self.activation = torch.tanh if p["activation"] == "tanh" else F.relu
        self.actor = layer_init(nn.Linear(p["hidden"], p["num_actions"]), 0.01)
        self.critic = layer_init(nn.Linear(p["hidden"], 1), 1.0)
        self.scale = p["scale"]

    def encode(self, obs_u8):
        # HWC bytes -> scaled NCHW floats, as heldout's ObsFormat::to_tensor.
        return self.encoder(obs_u8.permute(0, 3, 1, 2).float() * self.scale)

    def head(self, features, noisy):
        if hasattr(self, "bottleneck"):
            h, kl = self.bottleneck(features, noisy)
        else:
            h, kl = self.dense(features), None
        h = self.activation(h)
        return self.actor(h), self.critic(h).squeeze(1), kl

    def get_value(self, obs_u8):
        return self.head(self.encode(obs_u8), noisy=False)[1]

    def get_action_and_value(self, obs_u8, noisy):
        logits, value, _ = self.head(self.encode(obs_u8), noisy)
        dist = Categorical(logits=logits)
        action = dist.sample()
        return action, dist.log_prob(action), value


class PrecomputedEnvs:
    """num_envs stand-in envs: observations cycled from a pool of random ones, random rewards and ends."""

    def __init__(self, num_envs, obs_shape, high, seed):
        self.rng = np.random.default_rng(seed)
        self.pool = self.rng.integers(0, high, size=(POOL_SIZE, *obs_shape), dtype=np.uint8)
        self.cursor = self.rng.integers(0, POOL_SIZE, size=num_envs)

    def reset(self):
        return self.pool[self.cursor]

    def step(self, actions):
        n = len(self.cursor)
        self.cursor = (self.cursor + 1) % POOL_SIZE
        ended = self.rng.random(n) < DONE_PROB
        truncated = ended & (self.rng.random(n) < TRUNCATED_SHARE)
        terminated = ended & ~truncated
        rewards = np.where(terminated, self.rng.random(n), 0.0).astype(np.float32)
        final_obs = self.pool[self.cursor[truncated]]
        self.cursor[ended] = self.rng.integers(0, POOL_SIZE, size=int(ended.sum()))  # a new episode
        return self.pool[self.cursor], rewards, terminated, truncated, final_obs


class HeldoutEnvs:
    """The preset's envs from heldout's Python package, in the interface of PrecomputedEnvs."""

    def __init__(self, num_envs, preset, grid, seed):
        import heldout

        if preset == "multiroom":
            options = {"game": "multiroom", "num_levels": 200, "obs": "grid" if grid else "egocentric"}
        else:
            options = {"game": "coinrun", "num_levels": 100, "distribution_mode": "easy"}
        game = options.pop("game")
        # One env thread: the learner has the cores, as heldout's workers step envs between passes.
        self.envs = heldout.make_vec(game, num_envs, num_threads=1, autoreset_mode="same_step", **options)
        self.seed = seed

    def reset(self):
        return self.envs.reset(seed=self.seed)[0]

    def step(self, actions):
        obs, rewards, terminated, truncated, info = self.envs.step(actions)
        final_obs = np.stack(info["final_obs"][truncated]) if truncated.any() else None
        return obs, rewards.astype(np.float32), terminated, truncated, final_obs


def make_envs(args, p):
    """heldout's envs when asked for and installed, else the precomputed stand-ins."""
    if args.envs == "heldout":
        try:
            return HeldoutEnvs(p["num_envs"], args.preset, args.grid, args.seed), "heldout"
        except ImportError:
            print("heldout's Python package is not installed: precomputed observations", file=sys.stderr)
    return PrecomputedEnvs(p["num_envs"], p["obs_shape"], p["high"], args.seed), "precomputed"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=list(PRESETS), default="multiroom")
    parser.add_argument("--grid", action="store_true", help="multiroom: the 11x11x3 full grid instead of the 7x7x3 view")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: one per usable core)")
    parser.add_argument("--iterations", type=int, default=5, help="timed rollout+update cycles")
    parser.add_argument("--warmup", type=int, default=1, help="untimed cycles first")
    parser.add_argument("--core", type=int, default=None, help="pin the process to this core")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--envs", choices=["heldout", "precomputed"], default="heldout",
                        help="heldout's envs from Python (if installed) or precomputed observations")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args()
    if args.grid and args.preset != "multiroom":
        parser.error("--grid is for --preset multiroom")
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be at least 1 and --warmup at least 0")
    return args


def main():
    args = parse_args()
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    torch.manual_seed(args.seed)
    p = dict(PRESETS[args.preset])
    if args.grid:
        p["obs_shape"] = (11, 11, 3)
    num_envs, num_steps = p["num_envs"], p["num_steps"]
    batch_size = num_envs * num_steps
    minibatch_size = batch_size // p["minibatches"]
    num_updates = math.ceil(p["total_frames"] / batch_size)
    sni = p["sni_lambda"]
    # SNI: the noise-free policy collects the rollouts, the loss mixes the noise-free and noisy
    # passes' policy terms (lambda, 1 - lambda), the critic reads the noise-free pass. Without
    # SNI the noisy policy does everything (agents/src/ppo/sni.rs).
    rollout_noisy = sni is None
    passes = [(1.0, True)] if sni is None else [(sni, False), (1.0 - sni, True)]
    critic_noisy = sni is None

    envs, env_kind = make_envs(args, p)
    agent = Agent(p)
    optimizer = torch.optim.Adam(agent.parameters(), lr=p["learning_rate"], eps=ADAM_EPS)

    # Rollout storage, time-major.
    obs = torch.zeros((num_steps, num_envs, *p["obs_shape"]), dtype=torch.uint8)
    actions = torch.zeros((num_steps, num_envs), dtype=torch.long)
    logprobs = torch.zeros((num_steps, num_envs))
    rewards = torch.zeros((num_steps, num_envs))
    ended = torch.zeros((num_steps, num_envs))
    values = torch.zeros((num_steps, num_envs))

    next_obs = torch.from_numpy(envs.reset())
    env_time = inference_time = learn_time = 0.0
    start = time.perf_counter()
    for update in range(args.warmup + args.iterations):
        if update == args.warmup:
            env_time = inference_time = learn_time = 0.0
            start = time.perf_counter()
        # Annealing (agents/src/ppo/config.rs, `schedule`), at the fraction of the preset's run done.
        frac = max(0.0, 1.0 - update / num_updates)
        lr = p["learning_rate"] * (frac if p["anneal_lr"] else 1.0)
        clip = p["clip"] * (frac if p["anneal_clip"] else 1.0)
        optimizer.param_groups[0]["lr"] = lr

        # 1. The rollout (src/collect.rs).
        for step in range(num_steps):
            t = time.perf_counter()
            with torch.no_grad():
                action, logprob, value = agent.get_action_and_value(next_obs, rollout_noisy)
            inference_time += time.perf_counter() - t
            obs[step] = next_obs
            actions[step], logprobs[step], values[step] = action, logprob, value

            t = time.perf_counter()
            next_obs_np, reward, terminated, truncated, final_obs = envs.step(action.numpy())
            env_time += time.perf_counter() - t
            if truncated.any():
                # A time limit: bootstrap through the reward with the final observation's value.
                t = time.perf_counter()
                with torch.no_grad():
                    reward[truncated] += p["gamma"] * agent.get_value(torch.from_numpy(final_obs)).numpy()
                inference_time += time.perf_counter() - t
            rewards[step] = torch.from_numpy(reward)
            ended[step] = torch.from_numpy(terminated | truncated)
            next_obs = torch.from_numpy(next_obs_np)
        t = time.perf_counter()
        with torch.no_grad():
            next_value = agent.get_value(next_obs)
        inference_time += time.perf_counter() - t

        learn_start = time.perf_counter()
        # 2. GAE (agents/src/ppo/gae.rs): nothing is bootstrapped across a step that ended an episode.
        advantages = torch.zeros_like(rewards)
        lastgaelam = torch.zeros(num_envs)
        for t in reversed(range(num_steps)):
            nextvalues = next_value if t == num_steps - 1 else values[t + 1]
            nonterminal = 1.0 - ended[t]
            delta = rewards[t] + p["gamma"] * nextvalues * nonterminal - values[t]
            lastgaelam = delta + p["gamma"] * p["gae_lambda"] * nonterminal * lastgaelam
            advantages[t] = lastgaelam
        returns = advantages + values

        b_obs = obs.reshape((-1, *p["obs_shape"]))
        b_actions, b_logprobs = actions.reshape(-1), logprobs.reshape(-1)
        b_advantages, b_returns, b_values = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)

        # 3. Epochs of shuffled minibatches (agents/src/agent.rs, `update`; the loss: agents/src/ppo/sni.rs).
        clipfracs = []
        for epoch in range(p["epochs"]):
            b_inds = torch.randperm(batch_size)
            for begin in range(0, batch_size, minibatch_size):
                mb_inds = b_inds[begin:begin + minibatch_size]
                mb_adv = b_advantages[mb_inds]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                mb_actions, mb_logprobs = b_actions[mb_inds], b_logprobs[mb_inds]

                features = agent.encode(b_obs[mb_inds])  # one encoder pass, shared by the heads
                outputs = {noisy: agent.head(features, noisy) for _, noisy in passes}
                pg_loss = entropy_loss = kl_loss = 0.0
                for i, (weight, noisy) in enumerate(passes):
                    logits, _, kl = outputs[noisy]
                    logp_all = F.log_softmax(logits, 1)
                    newlogprob = logp_all.gather(1, mb_actions[:, None]).squeeze(1)
                    logratio = newlogprob - mb_logprobs
                    ratio = logratio.exp()
                    pg = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - clip, 1 + clip)).mean()
                    entropy = -(logp_all.exp() * logp_all).sum(1).mean()
                    pg_loss = pg_loss + weight * pg
                    entropy_loss = entropy_loss + weight * entropy
                    if kl is not None:
                        kl_loss = kl_loss + weight * kl.mean()
                    if i == 0:
                        with torch.no_grad():
                            approx_kl = ((ratio - 1) - logratio).mean()
                            clipfracs.append(((ratio - 1.0).abs() > clip).float().mean().item())

                newvalue = outputs[critic_noisy][1]
                v_clipped = b_values[mb_inds] + (newvalue - b_values[mb_inds]).clamp(-clip, clip)
                v_loss = 0.5 * torch.max((newvalue - b_returns[mb_inds]) ** 2, (v_clipped - b_returns[mb_inds]) ** 2).mean()

                loss = pg_loss - ENT_COEF * entropy_loss + VF_COEF * v_loss
                if p["bottleneck"]:
                    loss = loss + p["bottleneck"]["beta"] * kl_loss
                if p["l2"] > 0:
                    loss = loss + p["l2"] * 0.5 * sum((w ** 2).sum() for w in agent.parameters() if w.dim() >= 2)

                optimizer.zero_grad()
                loss.backward()
                grad_norm = nn.utils.clip_grad_norm_(agent.parameters(), MAX_GRAD_NORM)
                optimizer.step()
        learn_time += time.perf_counter() - learn_start
    total = time.perf_counter() - start

    frames = args.iterations * batch_size
    y_pred, y_true = b_values.numpy(), b_returns.numpy()
    var_y = np.var(y_true)
    explained_var = float("nan") if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
    pct = lambda s: 100.0 * s / total  # noqa: E731
    other = total - env_time - inference_time - learn_time
    name = args.preset + (" (grid)" if args.grid else "")
    versions = (
        f"python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
        f"{torch.get_num_threads()} threads, cores {sorted(os.sched_getaffinity(0))}"
    )
    summary = (
        f"{name}: {num_envs} {env_kind} envs x {num_steps} steps, {torch.get_num_threads()} threads, "
        f"{args.iterations} updates: "
        f"{frames / total:.0f} frames/s; env {pct(env_time):.1f}%, inference {pct(inference_time):.1f}%, "
        f"learning {pct(learn_time):.1f}%, other {pct(other):.1f}% of {total:.2f} s"
    )
    out = sys.stderr if args.json else sys.stdout
    print(versions, file=out)
    print(summary, file=out)
    if args.json:
        print(json.dumps({
            "preset": args.preset, "envs": env_kind, "obs_shape": list(p["obs_shape"]), "num_envs": num_envs,
            "num_steps": num_steps,
            "epochs": p["epochs"], "minibatches": p["minibatches"], "threads": torch.get_num_threads(),
            "cores": sorted(os.sched_getaffinity(0)), "warmup": args.warmup, "iterations": args.iterations,
            "frames": frames, "seconds": total, "fps": frames / total,
            "share_percent": {"env": pct(env_time), "inference": pct(inference_time),
                              "learning": pct(learn_time), "other": pct(other)},
            "last_update": {"loss": loss.item(), "policy_loss": pg_loss.item(), "value_loss": v_loss.item(),
                            "entropy": entropy_loss.item(), "approx_kl": approx_kl.item(),
                            "clipfrac": float(np.mean(clipfracs)), "grad_norm": grad_norm.item(),
                            "explained_variance": float(explained_var), "learning_rate": lr, "clip": clip},
            "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
        }))


if __name__ == "__main__":
    main()
