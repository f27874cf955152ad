"""Running a registered simulation and reporting what it estimated.

:func:`simulate_result` is the one path from a :class:`~closedform.spec.Result`
to numbers: it validates the parameters, runs the stream kernel on the chosen
device (or on a Dask cluster) and returns an :class:`Estimate` carrying the raw
totals, so that every check can compute its own standard error.
"""

from __future__ import annotations

import html
import math
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


def _check_run_args(trials: Any, device: str, seed: Any, streams: Any) -> tuple[int, int, int | None]:
    try:
        t = float(trials)
    except (TypeError, ValueError):
        raise ParameterError(f"trials must be a positive integer, got {trials!r}") from None
    if not math.isfinite(t) or t < 1 or t != int(t):
        raise ParameterError(f"trials must be a positive integer, got {trials!r}")
    if device not in DEVICES:
        raise ParameterError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ParameterError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    if streams is not None and (not isinstance(streams, (int, np.integer)) or int(streams) < 1):
        raise ParameterError(f"streams must be a positive integer, got {streams!r}")
    return int(t), int(seed), None if streams is None else int(streams)


def simulate_result(
    result: Result,
    trials: Any = 10**6,
    *,
    device: str = "cpu",
    seed: int = 0,
    streams: int | None = None,
    cluster: Any = None,
    chunks: int | None = None,
    **params: Any,
) -> Estimate:
    """Simulate ``result`` at ``params`` and return the :class:`Estimate`.

    Parameters
    ----------
    trials : int
        Number of Monte Carlo trials (floats such as ``1e8`` are accepted when integral).
    device : {"cpu", "cuda"}
        CPU ``prange`` driver, or the CUDA kernel (a GPU or the simulator).
    seed : int
        The seed; with ``streams`` it fixes the result bit for bit.
    streams : int, optional
        Number of RNG streams (default ``min(trials, 2**18)``).
    cluster : str or dask.distributed.Client, optional
        Run the streams in chunks on a Dask cluster (``"local"`` starts one);
        the counts equal the single-process ones exactly.
    """
    if result.simulation is None:
        raise ParameterError(f"{result.name} has no simulator: {result.skips.get('simulation', 'none registered')}")
    trials_i, seed_i, streams_i = _check_run_args(trials, device, seed, streams)
    values = result.validate(**params)
    sim = result.simulation
    packed = sim.pack(**values)
    if cluster is not None:
        from closedform.distributed import run_on_cluster

        totals, n_streams, seconds = run_on_cluster(
            sim.kernel, packed, trials_i, seed_i, streams_i, device, cluster, chunks
        )
        trials_done, compile_seconds = trials_i, 0.0
    else:
        run = sim.kernel.run(packed, trials_i, seed_i, streams_i, device)
        totals, n_streams, seconds, trials_done = run.totals, run.out.shape[0], run.seconds, run.trials
        compile_seconds = run.compile_seconds
    return Estimate(
        result=result.name,
        params=values,
        kind=sim.kind,
        totals=np.asarray(totals),
        trials=int(trials_done),
        seconds=float(seconds),
        device=device,
        seed=seed_i,
        streams=int(n_streams),
        compile_seconds=float(compile_seconds),
    )
