"""Benchmark the unified-diffusion simulators against vectorised NumPy and against the RNG limit.

    python bench/udm.py [--particles N] [--steps T]

Prints particle-steps per second of the reverse hot-diffusion chain (exact x0hat
samples, DDPM sigma, cosine schedule) for the Numba CPU driver, a vectorised
NumPy loop over the steps, and a kernel that only draws the same normals (the
RNG limit); then trials per second of the mask-model forward + posterior step
against a vectorised NumPy version.  Compilation is excluded (one warm-up run).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from closedform import udm
from closedform.numeric import udm as nu
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.rng import normal
from closedform.numeric.target import scalar_jit


@scalar_jit
def _normals_only(states, stream, params, scratch, acc):
    # the RNG work of one chain trial: two normals for x_T and two per step
    s = 0.0
    for _ in range(2 * (int(params[0]) + 1)):
        s += normal(states, stream)
    acc[0] += s
    acc[1] += s * s


RNG_LIMIT = StreamKernel(_normals_only, acc_width=lambda p: 2, acc_capacity=2, integer=False)


def numpy_chain(mu0, s0, ab, bb, sig, n, rng):
    """The same chain, vectorised over particles with NumPy."""
    T = len(ab) - 1
    x = ab[T] * (mu0 + s0 * rng.standard_normal(n)) + bb[T] * rng.standard_normal(n)
    s02 = s0 * s0
    for t in range(T, 0, -1):
        den = ab[t] ** 2 * s02 + bb[t] ** 2
        v = s02 * bb[t] ** 2 / den
        m = mu0 + ab[t] * s02 * (x - ab[t] * mu0) / den
        x0 = m + math.sqrt(v) * rng.standard_normal(n)
        keep = math.sqrt(max(bb[t - 1] ** 2 - sig[t - 1] ** 2, 0.0))
        x = ab[t - 1] * x0 + keep * (x - ab[t] * x0) / bb[t] + sig[t - 1] * rng.standard_normal(n)
    return x


def numpy_mask(x0, t, V, n, rng):
    """Mask t positions per particle, then unmask one uniformly chosen masked position."""
    l = len(x0)
    keys = rng.random((n, l))
    order = np.argsort(keys, axis=1)
    x = np.tile(np.asarray(x0), (n, 1))
    rows = np.arange(n)[:, None]
    x[rows, order[:, :t]] = V
    pick = order[np.arange(n), rng.integers(0, t, n)]
    x[np.arange(n), pick] = np.asarray(x0)[pick]
    return x


def best_of(f, repeat=3):
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--particles", type=int, default=400_000)
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    n, T = args.particles, args.steps

    packed = udm.HOT_EXACT.simulation.pack(
        **udm.HOT_EXACT.validate(mu0="3/2", s0="3/10", T=T, schedule="cosine", sigma_rule="ddpm")
    )
    ab = packed[4 : 4 + T + 1]
    bb = packed[4 + T + 1 : 4 + 2 * (T + 1)]
    sig = packed[4 + 2 * (T + 1) :]
    nu.HOT_CHAIN.run(packed, 1000, seed=1)
    RNG_LIMIT.run(np.array([float(T)]), 1000, seed=1)
    rng = np.random.default_rng(1)

    t_numba = best_of(lambda: nu.HOT_CHAIN.run(packed, n, seed=2))
    t_rng = best_of(lambda: RNG_LIMIT.run(np.array([float(T)]), n, seed=2))
    t_numpy = best_of(lambda: numpy_chain(1.5, 0.3, ab, bb, sig, n, rng), repeat=2)
    steps = n * T
    print(f"reverse chain, {n} particles x {T} steps (exact x0hat, DDPM sigma, cosine schedule)")
    print(f"  numba CPU   {steps / t_numba:12.4g} particle-steps/s")
    print(f"  numpy       {steps / t_numpy:12.4g} particle-steps/s   ratio numba/numpy = {t_numpy / t_numba:.1f}x")
    print(f"  RNG limit   {steps / t_rng:12.4g} particle-steps/s   numba reaches {t_rng / t_numba:.0%} of it")

    x0, t, V = tuple(i % 15 for i in range(16)), 8, 15
    mp = nu.pack_discrete("mask", x0, V, t)
    nu.DISCRETE.run(mp, 1000, seed=1)
    t_mask = best_of(lambda: nu.DISCRETE.run(mp, n, seed=3))
    t_mask_np = best_of(lambda: numpy_mask(x0, t, V, n, rng), repeat=2)
    print(f"mask model l=16, t=8: forward + posterior + per-position counts, {n} trials")
    print(f"  numba CPU   {n / t_mask:12.4g} trials/s")
    print(f"  numpy       {n / t_mask_np:12.4g} trials/s   ratio numba/numpy = {t_mask_np / t_mask:.1f}x")


if __name__ == "__main__":
    main()
