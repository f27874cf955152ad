"""Benchmark: the sector simulator against NumPy and against the RNG limit.

Prints, for n = 4 and n = 16 on this machine's cores:

* trials/s of ``closedform.sector.simulate`` (CPU prange driver, reduced simulator);
* trials/s of a vectorised NumPy Monte Carlo written the way a user would
  (``Generator.random`` for the angles, ``np.sort``, ``np.diff``, max gap);
* the RNG limit: float64 uniforms/s of the same xoroshiro128+ streams in the
  same driver with a trial body that only sums them, divided by the n - 1 uniforms a trial needs;

and the ratios (targets: >= 20x NumPy, >= 50% of the RNG limit).
Usage: ``python bench/sector.py [--trials 2e8] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import math
import time

import numba
import numpy as np

import closedform.sector as sector
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.rng import uniform
from closedform.numeric.target import scalar_jit


@scalar_jit
def _uniforms_only(states, stream, params, scratch):
    # The RNG limit: the same per-stream uniforms, summed so that they stay live,
    # counted through the same one-category register path as the simulator.
    total = 0.0
    for _ in range(int(params[0])):
        total += uniform(states, stream)
    return 0 if total >= 0.0 else -1


UNIFORM_SUM = StreamKernel(_uniforms_only, acc_width=lambda p: 1, outcome="category")


def numpy_trials_per_second(n: int, theta: float, trials: int, batch: int = 1 << 18) -> tuple[float, float]:
    """A user's vectorised NumPy version: angles, sort, gaps, compare."""
    rng = np.random.default_rng(0)
    threshold = 1.0 - theta / (2 * math.pi)
    hits = 0
    done = 0
    start = time.perf_counter()
    while done < trials:
        m = min(batch, trials - done)
        u = np.sort(rng.random((m, n - 1)), axis=1)
        gaps = np.diff(u, axis=1, prepend=0.0, append=1.0)  # the fixed point at 0 closes the circle
        hits += int(np.count_nonzero(gaps.max(axis=1) >= threshold))
        done += m
    seconds = time.perf_counter() - start
    return trials / seconds, hits / trials


def rng_limit(draws_per_trial: int, trials: int, device: str) -> float:
    params = np.array([float(draws_per_trial)])
    UNIFORM_SUM.run(params, 1000, seed=1, device=device)  # compile
    run = UNIFORM_SUM.run(params, trials, seed=1, device=device)
    return trials / run.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=float, default=1e8)
    ap.add_argument("--numpy-trials", type=float, default=4e6)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    trials = int(args.trials)
    print(f"threads: {numba.get_num_threads()}, device: {args.device}, trials: {trials:.3g}")
    print(f"{'n':>3} {'closedform/s':>14} {'numpy/s':>12} {'rng limit/s':>12} {'vs numpy':>9} {'of limit':>9}")
    for n, theta in ((4, math.pi), (16, 1.5 * math.pi)):
        sector.simulate(n, theta, trials=10_000, device=args.device)  # compile
        est = sector.simulate(n, theta, trials=trials, device=args.device, seed=7)
        ours = est.throughput
        theirs, p_np = numpy_trials_per_second(n, theta, int(args.numpy_trials))
        limit = rng_limit(n - 1, trials, args.device)
        print(
            f"{n:>3} {ours:>14.4g} {theirs:>12.4g} {limit:>12.4g} {ours / theirs:>8.1f}x {ours / limit:>8.0%}"
            f"   (estimates: closedform {est.value:.5f}, numpy {p_np:.5f}, "
            f"exact {float(sector.probability(n, theta)):.5f})"
        )


if __name__ == "__main__":
    main()
