"""Running a registered simulation and reporting what it estimated.

:func:`simulate_result` is the one path from a :class:`~closedform.spec.Result`
to numbers: it validates the parameters, runs the stream kernel on the chosen
device (or on a Dask cluster) and returns an :class:`Estimate` carrying the raw
totals, so that every check can compute its own standard error.
"""

from __future__ import annotations

import contextlib
import html
import math
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from closedform.numeric import stats
from closedform.spec import ParameterError, Result

DEVICES = ("cpu", "cuda")


@dataclass
class Estimate:
    """A Monte Carlo estimate with its standard error and cost.

    ``estimate`` and ``stderr`` are vectors (one entry per category or
    component); for a scalar result use :attr:`value` and :attr:`error`.
    The standard error here is the plug-in one (from the sample); the
    hypothesis tests of :meth:`z_tests` use the one implied by the claim.
    """

    result: str
    params: dict[str, Any]
    kind: str
    totals: np.ndarray
    trials: int
    seconds: float
    device: str
    seed: int
    streams: int
    #: Seconds spent compiling the kernel before the timed run (0 when it was already compiled).
    compile_seconds: float = 0.0
    estimate: np.ndarray = field(init=False)
    stderr: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.totals, dtype=np.float64)
        if self.trials == 0:  # interrupted before the first chunk ended: nothing is known
            n = t.size if self.kind == "proportion" else t.size // 2
            self.estimate = self.stderr = np.full(n, np.nan)
            return
        if self.kind == "proportion":
            p = t / self.trials
            self.estimate = p
            self.stderr = np.sqrt(p * (1 - p) / self.trials)
        else:
            mean = t[0::2] / self.trials
            var = np.maximum(t[1::2] / self.trials - mean**2, 0.0)
            self.estimate = mean
            self.stderr = np.sqrt(var / max(self.trials - 1, 1))

    @property
    def value(self) -> float:
        """The estimate of a scalar result."""
        return float(self.estimate[0])

    @property
    def error(self) -> float:
        """The standard error of a scalar result."""
        return float(self.stderr[0])

    @property
    def throughput(self) -> float:
        """Trials per second of the kernel run (compilation is timed apart, in ``compile_seconds``)."""
        return self.trials / self.seconds if self.seconds > 0 else math.inf

    def z_tests(self, claimed, alpha: float) -> list[stats.ZTest]:
        """One z-test per component against ``claimed``, Bonferroni-splitting ``alpha``."""
        claimed = np.atleast_1d(np.asarray(claimed, dtype=np.float64))
        if claimed.shape != self.estimate.shape:
            raise ValueError(f"claimed has shape {claimed.shape}, estimate {self.estimate.shape}")
        a = stats.bonferroni(alpha, claimed.size)
        t = np.asarray(self.totals, dtype=np.float64)
        if self.kind == "proportion":
            return [stats.z_test_proportion(int(t[i]), self.trials, float(c), a) for i, c in enumerate(claimed)]
        return [
            stats.z_test_mean(float(t[2 * i]), float(t[2 * i + 1]), self.trials, float(c), a)
            for i, c in enumerate(claimed)
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "params": {k: str(v) for k, v in self.params.items()},
            "kind": self.kind,
            "estimate": self.estimate.tolist(),
            "stderr": self.stderr.tolist(),
            "trials": self.trials,
            "seconds": self.seconds,
            "trials_per_second": self.throughput,
            "compile_seconds": self.compile_seconds,
            "device": self.device,
            "seed": self.seed,
            "streams": self.streams,
        }

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v}" for k, v in self.params.items())
        if self.estimate.size == 1:
            body = f"{self.value:.6g} ± {self.error:.2g}"
        else:
            body = "[" + ", ".join(f"{e:.5g} ± {s:.1g}" for e, s in zip(self.estimate, self.stderr)) + "]"
        compiling = f" (+{self.compile_seconds:.2g} s compiling)" if self.compile_seconds > 0 else ""
        return (
            f"Estimate({self.result}({ps}) = {body}; {self.trials:.3g} trials on {self.device} "
            f"in {self.seconds:.3g} s{compiling}, seed={self.seed})"
        )

    def _repr_html_(self) -> str:
        # 1.96 standard errors: the plug-in 95% interval, for reading, not for testing.
        rows = "".join(
            f"<tr><td>{i}</td><td>{e:.8g}</td><td>{s:.2g}</td><td>[{e - 1.96 * s:.6g}, {e + 1.96 * s:.6g}]</td></tr>"
            for i, (e, s) in enumerate(zip(self.estimate, self.stderr))
        )
        ps = html.escape(", ".join(f"{k}={v}" for k, v in self.params.items()))
        return (
            f"<div><b>{html.escape(self.result)}</b>({ps}): {self.trials:,} trials on "
            f"{html.escape(self.device)} in {self.seconds:.3g} s ({self.throughput:.3g} trials/s; "
            f"seed {self.seed}, {self.streams:,} streams)"
            f"<table><tr><th>component</th><th>estimate</th><th>std. error</th><th>95% interval</th></tr>"
            f"{rows}</table></div>"
        )


#: Most trials one run accepts: about two weeks at 7.6e8 trials/s (the fastest kernel, the
#: sector simulator at n = 4, on a 2-core machine) and a day or so on a large GPU; far from the
#: int64 counts' limit (9.2e18).  A longer study is several runs with different seeds.
MAX_TRIALS = 10**15
#: Most RNG streams one run accepts: every stream holds a 16-byte generator state and an
#: accumulator row of 8-byte entries in memory (2**26 streams: 1.5 GiB and up), host and GPU.
MAX_STREAMS = 2**26
#: Seconds before the progress bar appears: short runs print nothing.
PROGRESS_DELAY_S = 1.0


def _whole_number(name: str, value: Any, lo: int, hi: int, domain: str, floats: bool = True) -> int:
    """``value`` as an int in ``[lo, hi]``, or a ParameterError saying ``name must be {domain}``.

    ``bool`` is refused (``True`` is not a count), and so are strings and
    non-integral floats; integral floats such as ``1e8`` only when ``floats``.
    """
    refused = ParameterError(f"{name} must be {domain}, got {value!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise refused
    if isinstance(value, (float, np.floating)) and (
        not floats or not math.isfinite(value) or value != math.floor(value)
    ):
        raise refused
    if not lo <= int(value) <= hi:
        raise refused
    return int(value)


TRIALS_DOMAIN = "a positive integer, at most 1e15 (about two weeks at the fastest kernel's rate; run several seeds)"
SEED_DOMAIN = "an integer in [0, 2**64)"
STREAMS_DOMAIN = (
    "a positive integer, at most 2**26 (each stream keeps a 16-byte RNG state and a row of counts in memory: "
    "2**26 streams take over 1.5 GiB)"
)


def _check_run_args(trials: Any, device: str, seed: Any, streams: Any) -> tuple[int, int, int | None]:
    t = _whole_number("trials", trials, 1, MAX_TRIALS, TRIALS_DOMAIN)
    if device not in DEVICES:
        raise ParameterError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    sd = _whole_number("seed", seed, 0, 2**64 - 1, SEED_DOMAIN, floats=False)
    st = None if streams is None else _whole_number("streams", streams, 1, MAX_STREAMS, STREAMS_DOMAIN, floats=False)
    return t, sd, st


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`simulate_result`: carries the :class:`Estimate` of the trials run so far.

    A ``KeyboardInterrupt``, so that code not expecting it stops as on any
    Ctrl-C; ``estimate`` holds the partial estimate (its ``trials`` and
    ``stderr`` are those of the chunks that finished).
    """

    def __init__(self, estimate: Estimate, requested: int) -> None:
        super().__init__(estimate, requested)
        self.estimate = estimate
        self.requested = requested

    def __str__(self) -> str:
        e = self.estimate
        if e.trials == 0:
            return f"interrupted before any trial of {self.requested:,} had run; no estimate"
        if e.estimate.size == 1:
            body = f"{e.value:.8g} ± {e.error:.2g}"
        else:
            body = "[" + ", ".join(f"{v:.6g} ± {s:.1g}" for v, s in zip(e.estimate, e.stderr)) + "]"
        return f"interrupted after {e.trials:,} of {self.requested:,} trials: partial estimate {body} (seed {e.seed})"


@contextlib.contextmanager
def sigint_flag() -> Iterator[Callable[[], bool]]:
    """While inside, Ctrl-C sets a flag instead of raising; yields the function reading it.

    A KeyboardInterrupt raised at an arbitrary point could land between a
    chunk and its bookkeeping; a flag read between chunks cannot.  Outside the
    main thread no handler can be installed: Ctrl-C then raises as usual.
    """
    hit = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield hit.is_set
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: hit.set())
    try:
        yield hit.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def progress_bar(total: int, progress: bool | None, desc: str) -> Iterator[Callable[[int], None]]:
    """A tqdm bar over trials (``tqdm.auto``: a widget in notebooks); yields ``update(trials_done)``.

    ``progress=None`` shows it on terminals and in notebooks (not in logs or
    pipes), and only for runs longer than :data:`PROGRESS_DELAY_S`.
    """
    from tqdm.auto import tqdm

    # None lets tqdm hide the bar when stderr is no terminal, which a notebook's stderr is not either;
    # tqdm.auto's class derives from the notebook one exactly when it runs in a notebook.
    notebook = any(c.__module__ == "tqdm.notebook" for c in tqdm.__mro__)
    disable = (False if notebook else None) if progress is None else not progress
    with tqdm(
        total=total, unit="trial", unit_scale=True, disable=disable, delay=PROGRESS_DELAY_S, leave=False, desc=desc
    ) as bar:

        def update(done: int) -> None:
            bar.update(done - bar.n)

        yield update


def simulate_result(
    result: Result,
    trials: Any = 10**6,
    *,
    device: str = "cpu",
    seed: int = 0,
    streams: int | None = None,
    cluster: Any = None,
    chunks: int | None = None,
    progress: bool | None = None,
    **params: Any,
) -> Estimate:
    """Simulate ``result`` at ``params`` and return the :class:`Estimate`.

    The kernel runs in chunks of about a second (:func:`~closedform.numeric.drivers.run_chunks`),
    with a progress bar; Ctrl-C stops it at the end of the chunk and raises
    :class:`Interrupted` carrying the partial estimate.  The counts do not
    depend on the chunking.

    Parameters
    ----------
    trials : int
        Number of Monte Carlo trials, at most :data:`MAX_TRIALS` (floats such as ``1e8`` are
        accepted when integral).
    device : {"cpu", "cuda"}
        CPU ``prange`` driver, or the CUDA kernel (a GPU or the simulator).
    seed : int
        The seed; with ``streams`` it fixes the result bit for bit.
    streams : int, optional
        Number of RNG streams, at most :data:`MAX_STREAMS` (default ``min(trials, 2**18)``, the
        same on every device and cluster).
    cluster : str or dask.distributed.Client, optional
        Run the streams in chunks on a Dask cluster (``"local"`` starts one);
        the counts equal the single-process ones exactly.
    chunks : int, optional
        Dask tasks per chunk of a cluster run.
    progress : bool, optional
        Show a progress bar (default: on terminals and notebooks, for runs over a second).

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from closedform.registry import by_name
    >>> est = simulate_result(by_name("sector"), 10_000, seed=1, streams=64, n=4, theta="pi")
    >>> est.trials, est.streams, est.totals.dtype.kind
    (10000, 64, 'i')
    >>> simulate_result(by_name("sector"), True, n=4, theta="pi")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: trials must be a positive integer, at most 1e15 (about two weeks at the fastest kernel's rate; run several seeds), got True
    """
    if result.simulation is None:
        raise ParameterError(f"{result.name} has no simulator: {result.skips.get('simulation', 'none registered')}")
    trials_i, seed_i, streams_i = _check_run_args(trials, device, seed, streams)
    values = result.validate(**params)
    sim = result.simulation
    packed = sim.pack(**values)

    def estimate(totals: np.ndarray, n_streams: int, done: int, seconds: float, compile_seconds: float) -> Estimate:
        return Estimate(
            result=result.name,
            params=values,
            kind=sim.kind,
            totals=np.asarray(totals),
            trials=int(done),
            seconds=float(seconds),
            device=device,
            seed=seed_i,
            streams=int(n_streams),
            compile_seconds=float(compile_seconds),
        )

    if cluster is not None:
        from closedform.distributed import run_on_cluster

        run = run_on_cluster(
            sim.kernel, packed, trials_i, seed_i, streams_i, device, cluster, chunks, progress=progress
        )
    else:
        run = _run_here(sim.kernel, packed, trials_i, seed_i, streams_i, device, progress, result.name)
    est = estimate(run.totals, run.out.shape[0], run.trials, run.seconds, run.compile_seconds)
    if run.trials < trials_i:
        raise Interrupted(est, trials_i)
    return est


def _run_here(kernel, packed, trials: int, seed: int, streams: int | None, device: str, progress, name: str):
    """Run on this process in timed chunks, with a progress bar; stop early on Ctrl-C."""
    state = kernel.start(packed, trials, seed, streams, device)
    with sigint_flag() as stop, progress_bar(trials, progress, name) as update:
        from closedform.numeric.drivers import run_chunks  # the kernels load on the first run, not at import

        seconds = run_chunks(state.plan, state.advance, stop=stop, on_chunk=lambda plan: update(plan.trials_done))
    return state.result(seconds)
