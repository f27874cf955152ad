"""Monte Carlo on a Dask cluster: the same seed gives the same counts on any cluster.

One LocalCluster of two single-threaded worker processes is started for the
module (each worker compiles the Numba driver once, which dominates the
runtime).  The chunk arithmetic itself is checked in process, without Dask.
"""

from __future__ import annotations

import itertools
import os
import signal
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedform.numeric.target import SIMULATOR

distributed = pytest.importorskip(
    "distributed", reason="needs the optional 'dask' extra: pip install -e '.[dask]' (CI installs it with .[test])"
)
pytestmark = pytest.mark.skipif(
    SIMULATOR, reason="under NUMBA_ENABLE_CUDASIM the drivers are plain Python; the cluster tests run in the CPU job"
)

from closedform import distributed as dist
from closedform.estimate import simulate_result
from closedform.registry import by_name

SECTOR = by_name("sector")
CASE = {"n": 8, "theta": "3*pi/2"}


def _packed(result, **case):
    return result.simulation.pack(**result.validate(**case))


@given(streams=st.integers(1, 500), chunks=st.integers(1, 80))
def test_chunk_bounds_tile_the_streams(streams, chunks):
    bounds = dist.chunk_bounds(streams, chunks)
    assert bounds[0][0] == 0 and bounds[-1][1] == streams
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    sizes = [b - a for a, b in bounds]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    assert len(bounds) == min(chunks, streams)


def test_chunk_bounds_rejects_bad_chunks():
    with pytest.raises(dist.ParameterError, match="chunks must be a positive integer"):
        dist.chunk_bounds(10, 0)


@pytest.mark.parametrize("name, case", [("sector", CASE), ("largest_spacing_mean", {"n": 5})])
@given(
    seed=st.integers(0, 2**64 - 1), streams=st.integers(1, 300), chunks=st.integers(1, 40), trials=st.integers(1, 3000)
)
def test_chunks_reduce_to_the_single_process_totals(name, case, seed, streams, chunks, trials):
    # Without Dask: every chunking of the streams adds up to the one-process
    # totals bit for bit (integer counts, and float sums summed in stream order).
    result = by_name(name)
    kernel = result.simulation.kernel
    packed = _packed(result, **case)
    whole = kernel.run(packed, trials, seed, streams)
    n_streams = whole.out.shape[0]
    blob = dist.kernel_blob(kernel)
    parts = [
        dist.run_chunk(blob, packed, trials, seed, n_streams, a, b, "cpu")
        for a, b in dist.chunk_bounds(n_streams, chunks)
    ]
    totals = dist.reduce_chunks(parts, n_streams, trials, kernel.integer)
    assert totals.dtype == whole.totals.dtype
    assert np.array_equal(totals, whole.totals)


def test_reduce_refuses_a_missing_chunk():
    kernel = SECTOR.simulation.kernel
    packed = _packed(SECTOR, **CASE)
    blob = dist.kernel_blob(kernel)
    parts = [dist.run_chunk(blob, packed, 100, 1, 10, a, b, "cpu") for a, b in dist.chunk_bounds(10, 5)]
    with pytest.raises(RuntimeError, match="do not tile"):
        dist.reduce_chunks(parts[1:], 10, 100, True)


@pytest.fixture(scope="module")
def cluster():
    # Two worker processes, one thread each, started by the test itself.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0"
        ) as lc,
        distributed.Client(lc, set_as_default=False) as client,
    ):
        client.wait_for_workers(2)
        yield lc, client


def _worker_pids(client):
    return client.run(os.getpid)


def test_same_counts_on_two_workers_and_in_one_process(cluster):
    _, client = cluster
    single = simulate_result(SECTOR, 400_000, seed=11, **CASE)
    kernel, packed = SECTOR.simulation.kernel, _packed(SECTOR, **CASE)
    n_streams = single.streams
    futures = dist.submit_chunks(client, kernel, packed, 400_000, 11, n_streams, dist.chunk_bounds(n_streams), "cpu")
    parts = dist.gather_chunks(client, futures, progress=False)
    assert len({p["pid"] for p in parts}) == 2, "both workers should have run chunks"
    totals = dist.reduce_chunks(parts, n_streams, 400_000, True)
    assert np.array_equal(totals, single.totals)
    # The public path, with another chunking: still the same counts.
    for chunks in (None, 7):
        est = simulate_result(SECTOR, 400_000, seed=11, cluster=client, chunks=chunks, **CASE)
        assert np.array_equal(est.totals, single.totals)
        assert est.trials == single.trials and est.streams == single.streams


def test_cli_simulate_with_cluster_address(cluster, capsys):
    import json

    from closedform.cli import main

    lc, _ = cluster
    args = ["simulate", "sector", "--n", "8", "--theta", "3*pi/2", "--trials", "200000", "--seed", "5", "--json"]
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)
    assert main(args + ["--cluster", lc.scheduler_address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote["estimate"] == local["estimate"] and remote["trials"] == local["trials"]


def test_worker_killed_mid_run_gives_the_same_counts(cluster):
    _, client = cluster
    client.wait_for_workers(2)
    trials, seed = 12_000_000, 23
    single = SECTOR.simulation.kernel.run(_packed(SECTOR, **CASE), trials, seed)
    n_streams = single.out.shape[0]
    futures = dist.submit_chunks(
        client,
        SECTOR.simulation.kernel,
        _packed(SECTOR, **CASE),
        trials,
        seed,
        n_streams,
        dist.chunk_bounds(n_streams, 24),
        "cpu",
    )
    pids = _worker_pids(client)
    victim_addr = victim_pid = None
    deadline = time.monotonic() + 120
    # Wait until some worker holds a finished chunk while the run is unfinished, then kill it:
    # its finished chunks are lost with it and its running ones never finish there.
    while victim_pid is None:
        assert time.monotonic() < deadline, "no chunk finished within 120 s"
        done = [f for f in futures if f.done()]
        assert len(done) < len(futures), "the run finished before a worker could be killed; make it longer"
        if done:
            holders = client.who_has(done)
            for addrs in holders.values():
                for addr in addrs:
                    if addr in pids:
                        victim_addr, victim_pid = addr, pids[addr]
                        break
                if victim_pid is not None:
                    break
        if victim_pid is None:
            time.sleep(0.02)
    lost = [f.key for f in futures if f.done() and victim_addr in client.who_has([f]).get(f.key, ())]
    os.kill(victim_pid, signal.SIGKILL)
    parts = dist.gather_chunks(client, futures, progress=False)
    assert lost, "the victim held no finished chunk"
    # Every result now comes from a live process: the victim's chunks were run again.
    assert victim_pid not in {p["pid"] for p in parts}
    totals = dist.reduce_chunks(parts, n_streams, trials, True)
    assert np.array_equal(totals, single.totals)


def test_same_counts_on_one_worker(cluster):
    _, client = cluster
    single = simulate_result(SECTOR, 300_000, seed=12, **CASE)
    workers = list(client.scheduler_info()["workers"])
    if len(workers) > 1:
        client.retire_workers(workers[1:], close_workers=True)
    deadline = time.monotonic() + 60
    while len(client.scheduler_info()["workers"]) != 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    est = simulate_result(SECTOR, 300_000, seed=12, cluster=client, **CASE)
    assert np.array_equal(est.totals, single.totals)


def test_local_cluster_is_sized_to_the_machine():
    try:
        est = simulate_result(SECTOR, 100_000, seed=3, cluster="local", n=4, theta="pi")
        client = dist.local_client()
        cores = len(os.sched_getaffinity(0))
        info = client.scheduler_info()["workers"]
        assert len(info) == cores and all(w["nthreads"] == 1 for w in info.values())
    finally:
        dist.close_local_client()
    single = simulate_result(SECTOR, 100_000, seed=3, n=4, theta="pi")
    assert np.array_equal(est.totals, single.totals)


def test_bad_cluster_is_a_clear_error(monkeypatch):
    with pytest.raises(dist.ParameterError, match="cluster must be"):
        simulate_result(SECTOR, 1000, cluster=42, **CASE)
    monkeypatch.setattr(dist, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(dist.ParameterError, match="cannot reach"):
        simulate_result(SECTOR, 1000, cluster="tcp://127.0.0.1:1", **CASE)
