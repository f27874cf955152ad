r"""Monte Carlo past one machine: the chunks of a long run, as rounds of tasks on a Dask cluster.

A run goes in the timed chunks of a run on one process
(:func:`~closedform.numeric.drivers.run_chunks`, about a second each).  On a
cluster a chunk is one round of Dask tasks, one per contiguous block of RNG
streams (:func:`chunk_bounds`): each task continues its block's xoroshiro128+
states and accumulator rows by the chunk's trials
(:func:`run_segment`, the same Numba driver as one process) and returns them.
Stream ``s`` therefore sees the same states and the same trials as in a
single-process run, and its accumulator row is the same bit for bit, float
sums included; the totals are the rows summed in stream order by the same
NumPy call.  The counts depend only on ``(seed, streams, trials)``: not on the
number of blocks, nor on the workers, nor on the chunking.  A worker that dies
mid-round loses its tasks; Dask's scheduler runs them again elsewhere on the
same inputs (a task works on copies), so the totals are unchanged.  Ctrl-C
cancels the round under way and keeps the rounds done.

.. math::

    \text{totals} = \sum_{s=0}^{S-1} \text{acc}_s ,
    \qquad \text{acc}_s = \text{acc}_s^{(\text{round } 1)} \to \cdots \to \text{acc}_s^{(\text{round } R)} .

Needs the optional extra ``dask`` (``pip install closedform[dask]``).

Examples
--------
>>> chunk_bounds(10, 4)
[(0, 3), (3, 6), (6, 8), (8, 10)]
>>> chunk_bounds(3)  # never more blocks than streams
[(0, 1), (1, 2), (2, 3)]
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from closedform.numeric.drivers import StreamKernel, StreamPlan, StreamRun, run_chunks, split_trials, streams_for
from closedform.numeric.rng import make_states
from closedform.spec import ParameterError

#: Blocks of streams (tasks per round) when the caller does not say.  A
#: constant, never derived from the cluster, so the task graph of a run is the
#: same on any cluster; 64 keeps a few tasks per core on clusters of a dozen
#: machines and the per-task overhead (a few ms) small against a round's second.
DEFAULT_CHUNKS = 64
#: Seconds to wait for a remote scheduler before giving up with a clear error.
CONNECT_TIMEOUT_S = 10

# One Numba parallel region per worker process at a time: the workqueue
# threading layer aborts on concurrent launches, and a worker with several
# Dask threads would otherwise start several.  The region itself uses the
# worker's threads.
_RUN_LOCK = threading.Lock()
# Kernels already unpickled in this (worker) process, keyed by the hash of
# their pickle: the compiled driver lives on the kernel object, so reusing it
# compiles once per worker process instead of once per task.
_WORKER_KERNELS: dict[str, StreamKernel] = {}
_LOCAL_CLIENT: Any = None


def _dask() -> Any:
    try:
        import distributed
    except ImportError as exc:  # the optional extra is missing
        raise ParameterError(
            "cluster needs the optional 'dask' extra (pip install 'closedform[dask]'): " + str(exc)
        ) from None
    return distributed


def chunk_bounds(n_streams: int, chunks: int | None = None) -> list[tuple[int, int]]:
    """Split streams ``0..n_streams-1`` into contiguous ``(start, stop)`` blocks of near-equal size.

    The split depends on ``n_streams`` and ``chunks`` (the number of blocks)
    only; the first ``n_streams % chunks`` blocks hold one stream more.
    """
    if chunks is None:
        chunks = DEFAULT_CHUNKS
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or int(chunks) < 1:
        raise ParameterError(f"chunks must be a positive integer, got {chunks!r}")
    k = min(int(chunks), int(n_streams))
    base, rem = divmod(int(n_streams), k)
    bounds, start = [], 0
    for i in range(k):
        stop = start + base + (1 if i < rem else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def kernel_blob(kernel: StreamKernel) -> bytes:
    """The kernel pickled without its compiled drivers (workers compile their own)."""
    import cloudpickle

    return cloudpickle.dumps(dataclasses.replace(kernel))


def _kernel_from_blob(blob: bytes) -> StreamKernel:
    import pickle

    key = hashlib.sha256(blob).hexdigest()
    kernel = _WORKER_KERNELS.get(key)
    if kernel is None:
        kernel = pickle.loads(blob)
        _WORKER_KERNELS[key] = kernel
    return kernel


def _worker_threads() -> int | None:
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):  # not inside a Dask worker
        return None


# Topic selections already warmed in this (worker) process (() stands for all).
_WARMED: set[tuple[str, ...]] = set()


def _warm_once(topics: Sequence[str]) -> bool:
    """Warm ``topics`` unless this process did already; whether it warmed now."""
    from closedform import cache

    key = tuple(sorted(topics))
    if key in _WARMED:
        return False
    cache.warm(key, progress=False)
    _WARMED.add(key)
    return True


def warm_workers(client: Any, topics: Sequence[str] = ()) -> dict[str, bool]:
    """Compile (or load from each machine's disk cache) the kernels of ``topics`` on every worker, once.

    Tasks then never compile: a kernel reaches a worker by reference
    (:class:`~closedform.numeric.drivers.StreamKernel` pickles its trial body
    so), and its driver is the one already loaded.  A worker that warmed a
    selection before skips it.  Returns, per worker address, whether it warmed now.
    """
    return client.run(_warm_once, list(topics))


def local_client() -> Any:
    """A client of a LocalCluster sized to this machine (one single-threaded worker per core), started once."""
    global _LOCAL_CLIENT
    distributed = _dask()
    if _LOCAL_CLIENT is None or _LOCAL_CLIENT.status != "running":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        cluster = distributed.LocalCluster(
            n_workers=cores, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0"
        )
        _LOCAL_CLIENT = distributed.Client(cluster, set_as_default=False)
        atexit.register(close_local_client)
    return _LOCAL_CLIENT


def close_local_client() -> None:
    """Shut down the LocalCluster started by ``cluster="local"`` (also done at exit)."""
    global _LOCAL_CLIENT
    if _LOCAL_CLIENT is not None:
        cluster = _LOCAL_CLIENT.cluster
        _LOCAL_CLIENT.close()
        if cluster is not None:
            cluster.close()
        _LOCAL_CLIENT = None


@contextlib.contextmanager
def client_for(cluster: Any) -> Iterator[Any]:
    """A ``distributed.Client`` for ``cluster``: ``"local"``, a scheduler address, a cluster or a client.

    Clients made here for an address are closed on exit; a client passed in,
    and the cached local one, are left open.
    """
    distributed = _dask()
    if isinstance(cluster, distributed.Client):
        yield cluster
    elif isinstance(cluster, str) and cluster == "local":
        yield local_client()
    elif isinstance(cluster, str):
        try:
            client = distributed.Client(cluster, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(
                f"cluster must be 'local' or the address of a running Dask scheduler; cannot reach {cluster!r}: {exc}"
            ) from None
        try:
            yield client
        finally:
            client.close()
    elif hasattr(cluster, "scheduler_address"):
        client = distributed.Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    else:
        raise ParameterError(
            f"cluster must be 'local', a scheduler address, a Dask cluster or a Client, got {cluster!r}"
        )


def run_segment(
    blob: bytes, packed: np.ndarray, states: np.ndarray, out: np.ndarray, count: int, rem: int, device: str
) -> dict[str, Any]:
    """Continue a block of streams by one segment of a chunked run (one Dask task).

    ``states``/``out`` are the block's generator states and accumulator rows
    as the previous segment left them; the task works on copies (a task run
    again after a lost worker must see the same inputs) and returns them
    moved on, with the seconds the driver took and the process id.
    """
    import numba

    kernel = _kernel_from_blob(blob)
    if hasattr(kernel, "cluster_kernel"):  # a user's trial body: its driver kernel is built here
        kernel = kernel.cluster_kernel()
    kernel = kernel.for_params(packed)
    states, out = np.array(states, copy=True), np.array(out, copy=True)
    with _RUN_LOCK:
        threads = _worker_threads()
        if threads is not None:
            numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        kernel.compile_for(device, states, packed, out)
        t0 = time.perf_counter()
        kernel.run_segment(states, count, rem, packed, out, device)
        seconds = time.perf_counter() - t0
    return {"states": states, "out": out, "seconds": seconds, "pid": os.getpid()}


def submit_round(
    client: Any,
    blob: bytes,
    packed: np.ndarray,
    states: np.ndarray,
    out: np.ndarray,
    bounds: Sequence[tuple[int, int]],
    count: int,
    rem: int,
    device: str = "cpu",
) -> list[Any]:
    """Submit one round: a :func:`run_segment` task per block; returns the futures in stream order.

    Every stream runs ``count`` trials, ``count + 1`` for streams ``s < rem``
    (whole-run indices; a block gets its share of ``rem``).
    """
    return [
        client.submit(
            run_segment,
            blob,
            packed,
            states[a:b],
            out[a:b],
            int(count),
            min(max(int(rem) - a, 0), b - a),
            device,
            pure=False,  # every call is a fresh run, never a cached result of an earlier one
        )
        for a, b in bounds
    ]


def apply_round(parts: Sequence[dict[str, Any]], bounds: Sequence[tuple[int, int]], states, out) -> None:
    """Write a round's results back into the run's ``states`` and ``out`` (in place)."""
    if len(parts) != len(bounds):
        raise RuntimeError(f"a round returned {len(parts)} blocks for {len(bounds)} submitted")
    for (a, b), part in zip(bounds, parts):
        states[a:b], out[a:b] = part["states"], part["out"]


#: Seconds between two looks at the round's futures and the Ctrl-C flag.
POLL_S = 0.02


def _wait_round(client: Any, futures: Sequence[Any], stop: Any) -> list[dict[str, Any]] | None:
    """The results of one round's tasks, or None (tasks cancelled) once ``stop()`` says so."""
    while not all(f.done() for f in futures):
        if stop():
            client.cancel(list(futures))
            return None
        time.sleep(POLL_S)
    return client.gather(list(futures))


def run_on_cluster(
    kernel: StreamKernel,
    packed: np.ndarray,
    trials: int,
    seed: int,
    streams: int | None,
    device: str,
    cluster: Any,
    chunks: int | None = None,
    *,
    progress: bool | None = None,
) -> StreamRun:
    """Run ``trials`` trials of ``kernel`` on a Dask cluster, in the timed chunks of a local run.

    Each chunk (:func:`~closedform.numeric.drivers.run_chunks`, about a
    second) is one round of tasks, one per block of streams
    (:func:`chunk_bounds`), that continue the blocks' generator states and
    accumulator rows.  The per-stream rows are therefore those of
    ``kernel.run(packed, trials, seed, streams, device)`` in one process, bit
    for bit, and so are the totals.  Ctrl-C cancels the round under way and
    returns the rounds done (``trials`` of the returned run tells how many);
    ``seconds`` is the wall time of the rounds.
    """
    from closedform.estimate import progress_bar, sigint_flag

    packed = np.ascontiguousarray(packed, dtype=np.float64)
    n_streams = streams_for(trials, streams)
    bounds = chunk_bounds(n_streams, chunks)
    if getattr(kernel, "runs_in_slices", False):
        return _run_slices(kernel, packed, trials, seed, n_streams, bounds, device, cluster)
    # A kernel that wraps a driver kernel (a user's trial body) sends the driver kernel to the
    # workers and checks the gathered rows itself (its bad-outcome slot).
    driver = kernel.cluster_kernel() if hasattr(kernel, "cluster_kernel") else kernel
    plan = StreamPlan(n_streams, *split_trials(int(trials), n_streams))
    states = make_states(seed, n_streams)
    out = np.zeros((n_streams, int(driver.acc_width(packed))), dtype=driver.dtype)
    with client_for(cluster) as client, sigint_flag() as stop, progress_bar(trials, progress, "cluster") as update:
        blob = kernel_blob(kernel)  # the kernel itself travels: a claim's module exists only here

        def advance(per_stream: int) -> None:
            count, rem = plan.segment(per_stream)
            parts = _wait_round(
                client, submit_round(client, blob, packed, states, out, bounds, count, rem, device), stop
            )
            if parts is not None:  # None: cancelled by Ctrl-C, the round does not count
                apply_round(parts, bounds, states, out)
                plan.record(count, rem)

        seconds = run_chunks(plan, advance, stop=stop, on_chunk=lambda p: update(p.trials_done))
    run = StreamRun(out=out, trials=plan.trials_done, seconds=seconds, device=device)
    return kernel.checked(run) if driver is not kernel else run


def run_slice(
    blob: bytes, packed: np.ndarray, trials: int, seed: int, n_streams: int, start: int, stop: int, device: str
) -> dict[str, Any]:
    """One task of a kernel that runs whole slices of a run (a NumPy claim): its rows, in order.

    Such a kernel seeds by block, not by stream (:mod:`closedform.numeric.numpy_kernel`): the
    slice ``start..stop-1`` of ``n_streams`` runs exactly the blocks that start in it, so the
    rows of all slices, in stream order, are the rows of the run in one process.
    """
    kernel = _kernel_from_blob(blob)
    run = kernel.run(
        packed, trials, seed, streams=stop - start, device=device, first_stream=start, total_streams=n_streams
    )
    return {"out": run.out, "trials": run.trials, "seconds": run.seconds, "pid": os.getpid()}


def _run_slices(kernel, packed, trials: int, seed: int, n_streams: int, bounds, device: str, cluster: Any) -> StreamRun:
    """A slice-run kernel on a cluster: one task per block of streams, rows gathered in stream order."""
    t0 = time.perf_counter()
    with client_for(cluster) as client:
        blob = kernel_blob(kernel)
        futures = [
            client.submit(run_slice, blob, packed, int(trials), int(seed), n_streams, a, b, device, pure=False)
            for a, b in bounds
        ]
        parts = client.gather(futures)
    out = np.concatenate([p["out"] for p in parts], axis=0)
    done = sum(int(p["trials"]) for p in parts)
    return StreamRun(out=out, trials=done, seconds=time.perf_counter() - t0, device=device)


__all__ = [
    "DEFAULT_CHUNKS",
    "apply_round",
    "chunk_bounds",
    "client_for",
    "close_local_client",
    "kernel_blob",
    "local_client",
    "run_on_cluster",
    "run_segment",
    "run_slice",
    "submit_round",
    "warm_workers",
]
