"""Monte Carlo on a Dask cluster: the same seed gives the same counts on any cluster.

One LocalCluster of two single-threaded worker processes is started for the
module (each worker compiles the Numba driver once, which dominates the
runtime).  The block and round arithmetic itself is checked in process,
without Dask, and the same-seed parity of every simulated result on a cluster
in this process (threads).
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
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
from closedform.registry import RESULTS, by_name

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


def _round_in_process(kernel, packed, states, out, bounds, count, rem):
    """One round of block tasks run here, without Dask: what the workers compute."""
    blob = dist.kernel_blob(kernel)
    parts = [
        dist.run_segment(blob, packed, states[a:b], out[a:b], count, min(max(rem - a, 0), b - a), "cpu")
        for a, b in bounds
    ]
    dist.apply_round(parts, bounds, states, out)


@pytest.mark.parametrize("name, case", [("sector", CASE), ("largest_spacing_mean", {"n": 5})])
@given(
    seed=st.integers(0, 2**64 - 1),
    streams=st.integers(1, 300),
    chunks=st.integers(1, 40),
    trials=st.integers(1, 3000),
    per_round=st.integers(1, 20),
)
def test_rounds_of_blocks_give_the_single_process_streams(name, case, seed, streams, chunks, trials, per_round):
    # Without Dask: every split into blocks and rounds gives the one-process
    # rows bit for bit (integer counts, and float sums in their order of addition).
    from closedform.numeric.drivers import StreamPlan, split_trials
    from closedform.numeric.rng import make_states

    result = by_name(name)
    kernel = result.simulation.kernel
    packed = _packed(result, **case)
    whole = kernel.run(packed, trials, seed, streams)
    plan = StreamPlan(streams, *split_trials(trials, streams))
    states, out = make_states(seed, streams), np.zeros_like(whole.out)
    bounds = dist.chunk_bounds(streams, chunks)
    while not plan.finished:
        count, rem = plan.segment(per_round)
        _round_in_process(kernel, packed, states, out, bounds, count, rem)
        plan.record(count, rem)
    assert np.array_equal(out, whole.out)
    assert np.array_equal(out.sum(axis=0), whole.totals)


def test_a_round_refuses_missing_blocks():
    with pytest.raises(RuntimeError, match="returned 1 blocks for 2"):
        dist.apply_round([{}], [(0, 1), (1, 2)], None, None)


def test_a_task_leaves_its_inputs_unchanged():
    # A task run again after a lost worker must see the inputs the first run saw.
    from closedform.numeric.rng import make_states

    kernel, packed = SECTOR.simulation.kernel, _packed(SECTOR, **CASE)
    states, out = make_states(3, 8), np.zeros((8, 1), np.int64)
    before = states.copy()
    part = dist.run_segment(dist.kernel_blob(kernel), packed, states, out, 50, 0, "cpu")
    assert np.array_equal(states, before) and not out.any()
    assert int(part["out"].sum()) > 0 and not np.array_equal(part["states"], before)


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


def _submit_whole_run(client, trials, seed, n_streams, chunks):
    """The whole run as one round of block tasks: the futures, and the arrays they continue."""
    from closedform.numeric.drivers import split_trials
    from closedform.numeric.rng import make_states

    kernel, packed = SECTOR.simulation.kernel, _packed(SECTOR, **CASE)
    states, out = make_states(seed, n_streams), np.zeros((n_streams, 1), np.int64)
    bounds = dist.chunk_bounds(n_streams, chunks)
    base, rem = split_trials(trials, n_streams)
    futures = dist.submit_round(client, dist.kernel_blob(kernel), packed, states, out, bounds, base, rem, "cpu")
    return futures, bounds, states, out


def test_same_counts_on_two_workers_and_in_one_process(cluster):
    _, client = cluster
    single = simulate_result(SECTOR, 400_000, seed=11, **CASE)
    futures, bounds, states, out = _submit_whole_run(client, 400_000, 11, single.streams, None)
    parts = client.gather(futures)
    assert len({p["pid"] for p in parts}) == 2, "both workers should have run blocks"
    dist.apply_round(parts, bounds, states, out)
    assert np.array_equal(out.sum(axis=0), single.totals)
    # The public path (timed rounds), with another split into blocks: still the same counts.
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
    futures, bounds, states, out = _submit_whole_run(client, trials, seed, n_streams, 24)
    pids = _worker_pids(client)
    victim_addr = victim_pid = None
    deadline = time.monotonic() + 120
    # Wait until some worker holds a finished block while the round is unfinished, then kill it:
    # its finished blocks are lost with it and its running ones never finish there.
    while victim_pid is None:
        assert time.monotonic() < deadline, "no block finished within 120 s"
        done = [f for f in futures if f.done()]
        assert len(done) < len(futures), "the round finished before a worker could be killed; make it longer"
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
    parts = client.gather(futures)
    assert lost, "the victim held no finished block"
    # Every result now comes from a live process: the victim's blocks were run again.
    assert victim_pid not in {p["pid"] for p in parts}
    dist.apply_round(parts, bounds, states, out)
    assert np.array_equal(out, single.out)


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


def test_ctrl_c_stops_a_cluster_run_with_the_rounds_done(cluster):
    from closedform.estimate import Interrupted

    _, client = cluster
    simulate_result(SECTOR, 10_000, cluster=client, **CASE)  # workers compiled before the clock starts
    timer = threading.Timer(3.0, signal.raise_signal, (signal.SIGINT,))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(Interrupted) as info:
        simulate_result(SECTOR, 10**11, seed=2, cluster=client, progress=False, **CASE)
    timer.join()
    assert time.monotonic() - t0 - 3.0 < 1.5
    est = info.value.estimate
    assert 0 < est.trials < 10**11 and est.trials % est.streams == 0
    again = SECTOR.simulation.kernel.run(_packed(SECTOR, **CASE), est.trials, 2, est.streams)
    assert np.array_equal(again.totals, est.totals)


SIMULATED = [r for r in RESULTS if r.simulation is not None]


@pytest.fixture(scope="module")
def threads_cluster():
    # In this process (threads): the workers share the kernels compiled here, so no recompilation.
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address="127.0.0.1:0"
        ) as lc,
        distributed.Client(lc, set_as_default=False) as client,
    ):
        yield client


@pytest.mark.parametrize("result", SIMULATED, ids=lambda r: r.name)
def test_default_streams_same_counts_here_and_on_a_cluster(result, threads_cluster):
    # One default stream count on every route: the seed alone fixes the counts.
    case = dict(result.cases[0])
    here = simulate_result(result, 3001, seed=17, progress=False, **case)
    there = simulate_result(result, 3001, seed=17, cluster=threads_cluster, chunks=5, progress=False, **case)
    assert here.streams == there.streams
    assert here.totals.tolist() == there.totals.tolist()
