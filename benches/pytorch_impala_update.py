#!/usr/bin/env python3
"""PyTorch reference for heldout-agents' learner benchmark (agents/benches/learner.rs).

Runs the same work in PyTorch eager mode on the CPU: one PPO minibatch update (forward,
clipped surrogate + clipped value loss + entropy + L2 on weights, backward, global-norm
gradient clip 0.5, Adam eps 1e-5) at batch 256 and rollout inference at batch 64, for the
IMPALA-CNN (64x64x3 bytes / 255, depths 16-32-32, hidden 256) and the MultiRoom net (11x11x3
grid codes, convs 16-32-32, hidden 64).

    python3 benches/pytorch_impala_update.py [--threads 2] [--iterations 10]

Prints the median and minimum seconds per call of each workload.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class Impala(nn.Module):
    def __init__(self, actions=7, depths=(16, 32, 32), hidden=256):
        super().__init__()
        layers, c = [], 3
        for d in depths:
            layers += [nn.Conv2d(c, d, 3, padding=1), nn.MaxPool2d(3, 2, padding=1), Residual(d), Residual(d)]
            c = d
        self.trunk = nn.Sequential(*layers)
        self.hidden = nn.Linear(8 * 8 * c, hidden)
        self.pi = nn.Linear(hidden, actions)
        self.v = nn.Linear(hidden, 1)

    def forward(self, x):
        h = F.relu(self.hidden(F.relu(self.trunk(x).flatten(1))))
        return self.pi(h), self.v(h).squeeze(1)


class MultiRoom(nn.Module):
    def __init__(self, actions=7, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(3, 16, 2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 2), nn.ReLU(), nn.Conv2d(32, 32, 2), nn.ReLU(),
        )
        self.hidden = nn.Linear(288, hidden)
        self.pi = nn.Linear(hidden, actions)
        self.v = nn.Linear(hidden, 1)

    def forward(self, x):
        h = torch.tanh(self.hidden(self.trunk(x).flatten(1)))
        return self.pi(h), self.v(h).squeeze(1)


def to_input(obs_u8, scale):
    # HWC bytes -> NCHW floats, as heldout's ObsFormat::to_tensor.
    return obs_u8.permute(0, 3, 1, 2).float() * scale


def ppo_update(model, optim, batch, clip=0.2, ent=0.01, vf=0.5, l2=1e-4):
    obs, scale, actions, old_logp, old_v, adv, ret = batch
    logits, v = model(to_input(obs, scale))
    logp_all = F.log_softmax(logits, 1)
    logp = logp_all.gather(1, actions[:, None]).squeeze(1)
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    ratio = (logp - old_logp).exp()
    pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip, 1 + clip)).mean()
    v_clipped = old_v + (v - old_v).clamp(-clip, clip)
    v_loss = 0.5 * torch.max((v - ret) ** 2, (v_clipped - ret) ** 2).mean()
    entropy = -(logp_all.exp() * logp_all).sum(1).mean()
    l2_term = 0.5 * sum((p ** 2).sum() for p in model.parameters() if p.dim() >= 2)
    loss = pg - ent * entropy + vf * v_loss + l2 * l2_term
    optim.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optim.step()


def act(model, obs, scale):
    with torch.no_grad():
        logits, v = model(to_input(obs, scale))
        a = torch.distributions.Categorical(logits=logits).sample()
        return a, F.log_softmax(logits, 1).gather(1, a[:, None]), v


def timed(fn, iterations):
    fn()  # warm-up
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, net, shape, high, scale in [
        ("impala", Impala(), (64, 64, 3), 256, 1 / 255),
        ("multiroom", MultiRoom(), (11, 11, 3), 11, 1.0),
    ]:
        optim = torch.optim.Adam(net.parameters(), lr=5e-4, eps=1e-5)
        n = 256
        batch = (
            torch.randint(0, high, (n, *shape), dtype=torch.uint8), scale,
            torch.randint(0, 7, (n,)), torch.full((n,), -1.9), torch.randn(n), torch.randn(n), torch.randn(n),
        )
        med, best = timed(lambda: ppo_update(net, optim, batch), args.iterations)
        print(f"{name}/update_b256: median {med:.4f} s, min {best:.4f} s")
        obs64 = batch[0][:64]
        med, best = timed(lambda: act(net, obs64, scale), args.iterations * 5)
        print(f"{name}/act_b64: median {med * 1e3:.2f} ms, min {best * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
