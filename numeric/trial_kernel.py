r"""A user's scalar trial function, compiled through the project's drivers (CPU ``prange`` and CUDA).

A user writes ``trial(states, stream, p1, p2, ...)`` with the RNG primitives
of :mod:`closedform.numeric.rng` (``uniform(states, stream)``, ``normal``,
...) and returns one outcome: a ``bool`` (an event), an ``int`` category in
``0..k-1``, or a ``float`` value.  :class:`TrialKernel` adapts it to the
driver contract of :mod:`closedform.numeric.drivers` (``outcome="category"``
for events and categories, ``"accumulate"`` for values), so a user's claim
runs the very drivers of the built-in results: bit-identical across thread
counts and between CPU and CUDA.

The adapter reserves one accumulator slot for bad outcomes (a category out
of range, a NaN or infinite value); after a run a non-zero count there is one
:class:`~closedform.ParameterError` naming the claim, and the slot is
dropped, so what the checks see has exactly the claim's components.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from closedform.derive.errors import ParameterError
from closedform.numeric.drivers import StreamKernel, StreamRun, run_whole
from closedform.numeric.target import scalar_jit

#: Most scalar parameters a trial function takes (the float64 vector is unpacked into arguments).
MAX_ARGS = 16

# The adapters are generated from these templates.  Their text holds no user
# input at all, only argument indices and casts (``int(params[0])``), so the
# generated source is the project's own; ``user`` is the compiled trial.
_EVENT = """
def body(states, stream, params, scratch):
    return 0 if user(states, stream{args}) else -1
"""
_CATEGORY = """
def body(states, stream, params, scratch):
    c = user(states, stream{args})
    return c if c >= 0 and c < {k} else {k}
"""
_VALUE = """
def body(states, stream, params, scratch, acc):
    v = float(user(states, stream{args}))
    if math.isfinite(v):
        acc[0] += v
        acc[1] += v * v
    else:
        acc[2] += 1.0
"""
_TEMPLATES = {"event": _EVENT, "category": _CATEGORY, "value": _VALUE}


def adapter_source(outcome: str, integer_args: Sequence[bool], categories: int = 1) -> str:
    """The source of the driver-facing body around a user trial (no user text in it).

    Parameters
    ----------
    outcome : {"event", "category", "value"}
    integer_args : sequence of bool
        One entry per parameter: cast it to ``int`` before the call.
    categories : int
        k, for categories.

    Returns
    -------
    str

    Examples
    --------
    >>> print(adapter_source("event", [True, False]).strip())
    def body(states, stream, params, scratch):
        return 0 if user(states, stream, int(params[0]), params[1]) else -1
    """
    if len(integer_args) > MAX_ARGS:
        raise ValueError(f"a trial function takes at most {MAX_ARGS} parameters, got {len(integer_args)}")
    args = "".join(f", int(params[{i}])" if is_int else f", params[{i}]" for i, is_int in enumerate(integer_args))
    return _TEMPLATES[outcome].format(args=args, k=int(categories))


def build_adapter(user: Callable[..., Any], outcome: str, integer_args: Sequence[bool], categories: int = 1):
    """Compile the adapter of :func:`adapter_source` around the (compiled) user trial."""
    namespace: dict[str, Any] = {"user": user, "math": math}
    exec(compile(adapter_source(outcome, integer_args, categories), "<closedform trial adapter>", "exec"), namespace)
    return scalar_jit(namespace["body"])


def compile_trial(func: Callable[..., Any]) -> Callable[..., Any]:
    """The user's trial as a scalar body: compiled with :func:`scalar_jit` unless it already is."""
    if hasattr(func, "py_func"):  # already a numba dispatcher
        return func
    return scalar_jit(func)


@dataclass
class TrialKernel:
    """A user's scalar trial behind the :class:`~closedform.numeric.drivers.StreamKernel` interface.

    Parameters
    ----------
    func : callable
        ``func(states, stream, *params) -> bool | int | float``.
    outcome : {"event", "category", "value"}
    integer_args : tuple of bool
        Which parameters are integers (cast before the call).
    categories : int
        k for categories (1 otherwise).
    owner : str
        The claim's name, for error messages.

    Examples
    --------
    >>> from closedform.numeric.rng import uniform
    >>> def below(states, stream, p):
    ...     return uniform(states, stream) < p
    >>> k = TrialKernel(below, "event", (False,))
    >>> run = k.run(np.array([0.25]), 20_000, seed=3, streams=64)
    >>> run.out.shape, bool(abs(run.totals[0] / 20_000 - 0.25) < 0.02)
    ((64, 1), True)
    """

    func: Callable[..., Any]
    outcome: str
    integer_args: tuple[bool, ...] = ()
    categories: int = 1
    owner: str = ""
    _inner: StreamKernel | None = field(default=None, init=False, repr=False)

    @property
    def integer(self) -> bool:
        return self.outcome != "value"

    @property
    def dtype(self) -> type:
        return np.int64 if self.integer else np.float64

    @property
    def width(self) -> int:
        """The claim's components: 1 (event), k (categories) or 2 (sum, sum of squares)."""
        return {"event": 1, "category": int(self.categories), "value": 2}[self.outcome]

    def acc_width(self, params: np.ndarray) -> int:
        return self.width

    def stream_kernel(self) -> StreamKernel:
        """The driver kernel with the bad-outcome slot (built once)."""
        if self._inner is None:
            body = build_adapter(compile_trial(self.func), self.outcome, self.integer_args, self.categories)
            inner_width = {"event": 1, "category": int(self.categories) + 1, "value": 3}[self.outcome]
            self._inner = StreamKernel(
                body,
                acc_width=lambda p, w=inner_width: w,
                acc_capacity=inner_width,
                integer=self.integer,
                outcome="accumulate" if self.outcome == "value" else "category",
            )
        return self._inner

    def start(
        self,
        params: np.ndarray,
        trials: int,
        seed: int,
        streams: int | None = None,
        device: str = "cpu",
        first_stream: int = 0,
        total_streams: int | None = None,
    ) -> TrialRun:
        """Seed a run (compiling first) as :meth:`StreamKernel.start`; a trial Numba cannot compile is one error."""
        from numba.core.errors import NumbaError

        try:
            inner = self.stream_kernel().start(params, trials, seed, streams, device, first_stream, total_streams)
        except NumbaError as exc:
            first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
            raise ParameterError(
                f"claim {self.owner!r}: the trial function does not compile for Numba ({first.strip()[:200]}); "
                "use only numbers, math functions and the closedform.rng primitives"
            ) from None
        return TrialRun(self, inner)

    def run(
        self,
        params: np.ndarray,
        trials: int,
        seed: int,
        streams: int | None = None,
        device: str = "cpu",
        first_stream: int = 0,
        total_streams: int | None = None,
    ) -> StreamRun:
        """Run as :meth:`StreamKernel.run`; a bad outcome or a trial Numba cannot compile is one error.

        Returns
        -------
        StreamRun
            Per-stream rows of the claim's width (the bad-outcome slot dropped).
        """
        return run_whole(self.start(params, trials, seed, streams, device, first_stream, total_streams))

    def cluster_kernel(self) -> StreamKernel:
        """What a cluster's workers run: the driver kernel (the gathered rows come back to :meth:`checked`)."""
        return self.stream_kernel()

    def checked(self, run: StreamRun) -> StreamRun:
        """``run`` with the bad-outcome slot checked (one error if any trial hit it) and dropped."""
        bad = run.out[:, self.width :].sum() if self.outcome != "event" else 0
        if bad:
            what = (
                f"a category outside 0..{self.categories - 1} (one per component of the closed form)"
                if self.outcome == "category"
                else "a NaN or infinite value"
            )
            raise ParameterError(f"claim {self.owner!r}: the trial function returned {what} in {int(bad)} trial(s)")
        run.out = np.ascontiguousarray(run.out[:, : self.width])
        return run


@dataclass
class TrialRun:
    """A user trial's run under way: the driver's run state, checked when it ends (chunked runs drive it)."""

    kernel: TrialKernel
    inner: Any

    @property
    def plan(self) -> Any:
        return self.inner.plan

    def advance(self, per_stream: int) -> int:
        return self.inner.advance(per_stream)

    def result(self, seconds: float) -> StreamRun:
        return self.kernel.checked(self.inner.result(seconds))


__all__ = ["MAX_ARGS", "TrialKernel", "TrialRun", "adapter_source", "build_adapter", "compile_trial"]
