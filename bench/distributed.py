"""Benchmark: one process against a Dask LocalCluster of two single-threaded workers.

Runs the same sector simulation (same seed, same streams) three ways and
prints trials/s and the ratio to the single process:

* one process: the CPU ``prange`` driver on all of this machine's cores;
* one process restricted to one thread (what each worker has);
* a LocalCluster with 2 worker processes x 1 thread, streams in 64 chunks.

Each way is warmed up first (compilation in every worker process excluded),
and the counts of the three runs are checked to be identical.  The cluster's
time is the wall time from submission to the last chunk, scheduling and
transfers included.
Usage: ``python bench/distributed.py [--trials 2e8] [--n 16]``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

# This file is named like the ``distributed`` package; run as a script, its
# folder comes first on sys.path and would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numba
import numpy as np

from closedform import distributed as dist
from closedform.estimate import simulate_result
from closedform.registry import by_name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=float, default=1e8)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--chunks", type=int, default=dist.DEFAULT_CHUNKS)
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    result = by_name("sector")
    case = {"n": args.n, "theta": 1.5 * math.pi}
    trials = int(args.trials)
    threads = numba.get_num_threads()

    simulate_result(result, 10_000, seed=1, **case)  # compile
    whole = simulate_result(result, trials, seed=7, **case)
    numba.set_num_threads(1)
    one_thread = simulate_result(result, trials, seed=7, **case)
    numba.set_num_threads(threads)

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0") as lc,
        Client(lc, set_as_default=False) as client,
    ):
        simulate_result(result, 10_000, seed=1, cluster=client, chunks=2, **case)  # compile on both workers
        cluster = simulate_result(result, trials, seed=7, cluster=client, chunks=args.chunks, **case)
    same = np.array_equal(whole.totals, cluster.totals) and np.array_equal(whole.totals, one_thread.totals)

    print(f"sector n={args.n}, theta=3pi/2, {trials:.3g} trials, seed 7, {whole.streams} streams")
    print(f"{'run':<38} {'trials/s':>12} {'vs 1 process':>13}")
    rows = (
        (f"1 process, {threads} threads (prange)", whole),
        ("1 process, 1 thread", one_thread),
        (f"LocalCluster 2 workers x 1 thread, {args.chunks} chunks", cluster),
    )
    for label, est in rows:
        print(f"{label:<38} {est.throughput:>12.4g} {est.throughput / whole.throughput:>12.2f}x")
    print(f"identical counts in all three runs: {same} (estimate {whole.value:.6f})")


if __name__ == "__main__":
    main()
