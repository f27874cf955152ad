"""Benchmark: the guided DDPM sampler against a vectorised NumPy loop and the RNG limit.

Prints, for the 1-D bimodal toy (K = 3) and the 2-D square toy (K = 4), gamma = 3:

* particle-steps/s of ``closedform.guidance.sample`` (CPU prange driver; one scalar body per
  group of ``LANES`` particles, exact mixture score and classifier, one Gaussian draw per
  coordinate and step);
* particle-steps/s of the same sampler written as a vectorised NumPy loop over time (all
  particles at once, ``Generator.standard_normal``): ``closedform.numeric.guidance.sample_numpy``;
* the RNG limit: normals/s of ``closedform.numeric.rng.normal`` (the sampler's generator) on
  the same xoroshiro128+ streams in a prange loop that only sums them, divided by the dim
  normals a particle-step needs;

and the ratios (target: >= 10x NumPy).  Compilation is excluded (a warm-up run first).  The
closedform and NumPy runs alternate ``--repeats`` times in one process and the best rate of each
is kept (the machine may be shared: alternating exposes both to the same load); the ratio is
also printed per repeat.  NumPy runs on one thread (no BLAS in this loop), closedform on all
the threads numba was given (printed), with the machine's 1-minute load average before and
after (a ratio measured under load understates closedform, whose threads compete for cores).
Usage: ``python bench/diffusion.py [--particles 200000] [--T 200] [--repeats 3] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np

from closedform import guidance
from closedform.numeric import guidance as num
from closedform.numeric import mixtures as mx
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.rng import normal
from closedform.numeric.target import scalar_jit


@scalar_jit
def _normal_sum_trial(states, stream, params, scratch, acc):
    # The RNG limit: the sampler's normals, nothing else (summed so that none is optimised away).
    total = 0.0
    for _ in range(int(params[0])):
        total += normal(states, stream)
    acc[0] += total


NORMAL_SUM = StreamKernel(_normal_sum_trial, acc_width=lambda p: 1, integer=False)


def numba_rate(name: str, particles: int, T: int, device: str) -> float:
    guidance.sample(name, y=0, gamma=3.0, T=5, particles=1000, device=device)  # compile
    start = time.perf_counter()
    guidance.sample(name, y=0, gamma=3.0, T=T, particles=particles, device=device, seed=1)
    return particles * T / (time.perf_counter() - start)


def numpy_rate(name: str, particles: int, T: int) -> float:
    mix = mx.TOYS[name]
    sch = num.cosine_schedule(T)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    num.sample_numpy(mix, 0, sch, 3.0, particles, rng)
    return particles * T / (time.perf_counter() - start)


def rng_limit(dim: int, particles: int, T: int, device: str) -> float:
    draws = T * dim
    params = np.array([float(draws)])
    NORMAL_SUM.run(params, 1000, seed=0, device=device)  # compile
    run = NORMAL_SUM.run(params, particles, seed=1, device=device)
    return draws * particles / run.seconds / dim


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--particles", type=float, default=2e5)
    ap.add_argument("--T", type=int, default=200)
    ap.add_argument("--numpy-particles", type=float, default=1e5, help="NumPy is slower: fewer particles")
    ap.add_argument("--repeats", type=int, default=3, help="alternating closedform/NumPy runs; best of each kept")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = ap.parse_args(argv)
    n, T = int(args.particles), args.T
    print(
        f"guided DDPM sampler, gamma = 3, T = {T}, {numba.get_num_threads()} CPU threads, device {args.device}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'toy':<12} {'closedform':>14} {'NumPy':>14} {'RNG limit':>14} {'x NumPy':>8} {'of RNG':>7}  per-repeat ratios"
    )
    for name in ("bimodal_1d", "square_2d"):
        dim = mx.TOYS[name].dim
        ours_runs, base_runs = [], []
        for _ in range(max(1, args.repeats)):
            ours_runs.append(numba_rate(name, n, T, args.device))
            base_runs.append(numpy_rate(name, int(args.numpy_particles), T))
        ours, base = max(ours_runs), max(base_runs)
        limit = rng_limit(dim, n, T, args.device)
        each = " ".join(f"{o / b:.1f}" for o, b in zip(ours_runs, base_runs))
        print(
            f"{name:<12} {ours:>12.3g}/s {base:>12.3g}/s {limit:>12.3g}/s {ours / base:>7.1f}x {ours / limit:>6.0%}  {each}"
        )
    print(f"(particle-steps per second; target >= 10x NumPy; load average now {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
