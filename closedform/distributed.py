r"""Monte Carlo past one machine: the streams of one run, in chunks, on a Dask cluster.

A run of ``trials`` trials over ``S`` RNG streams is cut into contiguous
chunks of streams; every chunk is one Dask task that runs the same Numba
driver as a single process (:meth:`~closedform.numeric.drivers.StreamKernel.run`
with ``first_stream``/``total_streams``), so stream ``s`` gets the same
xoroshiro128+ state and the same number of trials as in a single-process run.
Integer counts are added exactly; float sums come back per stream and are
summed in stream order by the same NumPy call as in one process.  The counts
therefore depend only on ``(seed, streams, trials)``: not on the number of
chunks, nor on the number of workers, nor on which worker ran what.  A worker
that dies mid-run loses its tasks; Dask's scheduler runs them again elsewhere
and, the tasks being deterministic, the totals are unchanged.

.. math::

    \text{totals} = \sum_{c} \sum_{s \in c} \text{acc}_s
                  = \sum_{s=0}^{S-1} \text{acc}_s .

Needs the optional extra ``dask`` (``pip install closedform[dask]``).

Examples
--------
>>> chunk_bounds(10, 4)
[(0, 3), (3, 6), (6, 8), (8, 10)]
>>> chunk_bounds(3)  # never more chunks than streams
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

from closedform.numeric.drivers import StreamKernel, streams_for
from closedform.spec import ParameterError

#: Chunks per run when the caller does not say.  A constant, never derived from
#: the cluster, so the task graph of a run is the same on any cluster; 64 keeps
#: a few tasks per core on clusters of a dozen machines and the per-task
#: overhead (a few ms) small against a chunk's work.
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
    """Split streams ``0..n_streams-1`` into contiguous ``(start, stop)`` chunks of near-equal size.

    The split depends on ``n_streams`` and ``chunks`` only; the first
    ``n_streams % chunks`` chunks hold one stream more.
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


def run_chunk(
    blob: bytes, packed: np.ndarray, trials: int, seed: int, n_streams: int, start: int, stop: int, device: str
) -> dict[str, Any]:
    """Run streams ``start..stop-1`` of a run of ``trials`` trials over ``n_streams`` streams.

    Returns the chunk's accumulators: summed counts for an integer kernel,
    per-stream rows for a float one (so the caller sums them in stream order),
    with the trials run, the seconds the driver took and the process id.
    """
    import numba

    kernel = _kernel_from_blob(blob)
    with _RUN_LOCK:
        threads = _worker_threads()
        if threads is not None:
            numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        run = kernel.run(
            packed, trials, seed, streams=stop - start, device=device, first_stream=start, total_streams=n_streams
        )
    acc = run.totals if kernel.integer else run.out
    return {"start": start, "stop": stop, "acc": acc, "trials": run.trials, "seconds": run.seconds, "pid": os.getpid()}


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


def submit_chunks(
    client: Any,
    kernel: StreamKernel,
    packed: np.ndarray,
    trials: int,
    seed: int,
    n_streams: int,
    bounds: Sequence[tuple[int, int]],
    device: str = "cpu",
) -> list[Any]:
    """Submit one task per chunk; returns the futures in stream order."""
    blob = kernel_blob(kernel)
    packed = np.ascontiguousarray(packed, dtype=np.float64)
    # pure=False: every call is a fresh run, never a cached result of an earlier one.
    return [
        client.submit(run_chunk, blob, packed, int(trials), int(seed), int(n_streams), a, b, device, pure=False)
        for a, b in bounds
    ]


def gather_chunks(client: Any, futures: Sequence[Any], progress: bool | None = None) -> list[dict[str, Any]]:
    """Wait for every chunk (with a progress bar: ``tqdm.auto``, so in notebooks too) and return them in order."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress  # None: shown on terminals only
    with tqdm(total=len(futures), unit="chunk", disable=disable, leave=False, desc="cluster") as bar:
        for _ in as_completed(futures, loop=client.loop):
            bar.update(1)
    return client.gather(list(futures))


def reduce_chunks(parts: Sequence[dict[str, Any]], n_streams: int, trials: int, integer: bool) -> np.ndarray:
    """Add the chunks' accumulators exactly as a single process would; checks they tile the run."""
    parts = sorted(parts, key=lambda p: p["start"])
    expect = 0
    for p in parts:
        if p["start"] != expect:
            raise RuntimeError(f"chunks do not tile the streams: gap or overlap at stream {expect}")
        expect = p["stop"]
    if expect != n_streams:
        raise RuntimeError(f"chunks cover {expect} of {n_streams} streams")
    done = sum(int(p["trials"]) for p in parts)
    if done != trials:
        raise RuntimeError(f"chunks ran {done} trials, the run asked for {trials}")
    if integer:
        return np.sum([np.asarray(p["acc"], dtype=np.int64) for p in parts], axis=0, dtype=np.int64)
    # The single-process run sums its (streams, width) array over axis 0; the
    # same array in the same order gives the same float64 bits.
    return np.concatenate([np.asarray(p["acc"], dtype=np.float64) for p in parts], axis=0).sum(axis=0)


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
) -> tuple[np.ndarray, int, float]:
    """Run ``trials`` trials of ``kernel`` on a Dask cluster; return ``(totals, streams, seconds)``.

    ``totals`` equal those of ``kernel.run(packed, trials, seed, streams, device)``
    in one process, bit for bit; ``seconds`` is the wall time of the
    distributed run (submission to the last result).
    """
    n_streams = streams_for(trials, streams)
    bounds = chunk_bounds(n_streams, chunks)
    with client_for(cluster) as client:
        t0 = time.perf_counter()
        futures = submit_chunks(client, kernel, packed, trials, seed, n_streams, bounds, device)
        parts = gather_chunks(client, futures, progress)
        seconds = time.perf_counter() - t0
    return reduce_chunks(parts, n_streams, int(trials), kernel.integer), n_streams, seconds


__all__ = [
    "DEFAULT_CHUNKS",
    "chunk_bounds",
    "client_for",
    "close_local_client",
    "gather_chunks",
    "local_client",
    "reduce_chunks",
    "run_chunk",
    "run_on_cluster",
    "submit_chunks",
    "warm_workers",
]
