"""Benchmark: what the claim machinery costs against the built-ins and against a plain loop.

Prints, in one run:

* trials/s of a user claim whose Numba trial function is the sector simulator's body at
  n = 4 (the register sort of three uniforms), against the built-in ``sector`` result
  (same body, same drivers) at theta = pi; target: within 10%;
* trials/s of a NumPy-simulator claim (Wendel's half-space test, ``examples/wendel.py``)
  against calling the same NumPy function in a plain loop over the same blocks of
  trials; target: >= 90% (the machinery adds at most 10%);
* trials/s of the same claim on 2 processes (a Dask LocalCluster of two single-threaded
  workers) against one; target: >= 1.6x on 2 cores.

Usage: ``python bench/claims.py [--numba-trials 2e8] [--numpy-trials 2e6] [--N 5]``.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import time
from pathlib import Path

# `python bench/claims.py` puts bench/ first on sys.path, where bench/distributed.py would
# shadow the Dask package `distributed` that the two-process run needs.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np

import closedform as cf
from closedform.estimate import simulate_result
from closedform.numeric.numpy_kernel import BLOCK, block_generator
from closedform.numeric.sector import largest_gap_of_three
from closedform.registry import by_name

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def semicircle_trial(states, stream, n):
    """The built-in sector body at n <= 4, theta = pi, written as a user's trial function."""
    return largest_gap_of_three(states, stream, n - 1) >= 0.5


def numba_ratio(trials: int) -> tuple[float, float]:
    n = cf.integer("n", 2, 4)
    user = cf.claim(
        "bench_semicircle", [n], n.symbol() / 2 ** (n.symbol() - 1), simulate=semicircle_trial, cases=[{"n": 4}]
    )
    builtin = by_name("sector")
    runs = (("built-in", builtin, {"n": 4, "theta": "pi"}), ("claim", user, {"n": 4}))
    rates = dict.fromkeys(("built-in", "claim"), 0.0)
    for _, result, params in runs:
        simulate_result(result, 10_000, seed=1, **params)  # compile outside the timing
    for _ in range(3):  # best of three, interleaved: the machine is shared and its load drifts
        for label, result, params in runs:
            rates[label] = max(rates[label], simulate_result(result, trials, seed=2, **params).throughput)
    return rates["claim"], rates["built-in"]


def plain_loop(func, trials: int, seed: int, **params) -> float:
    """The same NumPy function over the same blocks, with one generator and no checks: trials/s."""
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    start = time.perf_counter()
    while done < trials:
        size = min(BLOCK, trials - done)
        hits += int(np.count_nonzero(func(rng, size, **params)))
        done += size
    return trials / (time.perf_counter() - start)


def two_processes(result, trials: int, N: int, trim: bool) -> float:
    """Trials/s on a LocalCluster of two single-threaded worker processes.

    ``trim=True`` is Dask's default worker environment, ``MALLOC_TRIM_THRESHOLD_=65536``
    (what ``cluster="local"`` gets): glibc then maps and unmaps every large NumPy
    temporary, which doubles the time of an allocation-heavy simulator (measured
    here: 4.5 s instead of 2.2 s per 1e6 Wendel trials, in one process with that
    variable set).  ``trim=False`` starts the workers without it.
    """
    import dask
    import distributed

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if not trim:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        simulate_result(result, 4 * BLOCK, seed=1, cluster=client, N=N)  # ship and unpickle outside the timing
        return max(simulate_result(result, trials, seed=3, cluster=client, N=N).throughput for _ in range(2))


def numpy_ratios(trials: int, N: int) -> tuple[float, float, float, float]:
    wendel = runpy.run_path(str(EXAMPLES / "wendel.py"))
    result = wendel["WENDEL"]
    func = wendel["in_half_space"]
    func(block_generator(0, 0), 1000, N)  # warm NumPy's caches
    claim_rate = max(simulate_result(result, trials, seed=3, N=N).throughput for _ in range(2))
    loop_rate = max(plain_loop(func, trials, 3, N=N) for _ in range(2))
    trimmed = two_processes(result, trials, N, trim=True)
    untrimmed = two_processes(result, trials, N, trim=False)
    return claim_rate, loop_rate, trimmed, untrimmed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numba-trials", type=float, default=2e8)
    ap.add_argument("--numpy-trials", type=float, default=2e6)
    ap.add_argument("--N", type=int, default=5, help="points of the Wendel simulator")
    args = ap.parse_args()
    claim, builtin = numba_ratio(int(args.numba_trials))
    print(f"Numba trial body, sector n=4 ({args.numba_trials:.3g} trials, best of 3):")
    print(f"  built-in sector    {builtin:.4g} trials/s")
    print(f"  user claim         {claim:.4g} trials/s   ratio {claim / builtin:.3f} (target >= 0.90)")
    one, loop, trimmed, two = numpy_ratios(int(args.numpy_trials), args.N)
    print(f"NumPy simulator, Wendel N={args.N} ({args.numpy_trials:.3g} trials, best of 2):")
    print(f"  plain loop         {loop:.4g} trials/s")
    print(f"  claim, 1 process   {one:.4g} trials/s   ratio {one / loop:.3f} (target >= 0.90)")
    print(f"  claim, 2 processes {two:.4g} trials/s   speed-up {two / one:.2f}x (target >= 1.6x on 2 cores)")
    print(f"  same, Dask's default MALLOC_TRIM_THRESHOLD_=65536: {trimmed:.4g} trials/s ({trimmed / one:.2f}x)")


if __name__ == "__main__":
    main()
