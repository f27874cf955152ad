"""Run one scalar trial body over many RNG streams, on the CPU or on CUDA.

A *trial body* is a :func:`~closedform.numeric.target.scalar_jit` function
that draws one trial from ``states[stream]``.  ``params`` is a float64 vector,
``scratch`` a float64 work vector of the simulator's declared length, zero
when a stream starts (a body may rely on that, and keep it zero between its
trials instead of refilling it every trial).  Two forms exist:

* ``outcome="accumulate"``: ``trial(states, stream, params, scratch, acc)``
  adds its outcome into the accumulator row ``acc`` (counts or sums);
* ``outcome="category"``: ``trial(states, stream, params, scratch) -> int``
  returns the index of the category to count, or -1 for none.  The driver
  does the counting.  Prefer this form for counting simulations: a store
  into ``acc`` in the middle of the inlined body stops LLVM from keeping the
  loop in registers (measured: 33 ns vs 7 ns per trial for the sector
  simulator at n = 4);
* ``outcome="category_ts"``: ``trial(s0, s1, params, scratch) -> (int, s0, s1)``,
  the same with the generator state in variables
  (:func:`~closedform.numeric.rng.load_state`): the driver loads it once per
  stream and stores it once, instead of a store and a load through memory
  around every trial, which the next trial's first draw waits for (measured:
  11% of the uniform-noise argmax simulator's time per trial).  Its
  category must lie in ``0..width``, ``width`` meaning none (never -1): the
  driver indexes with it unchecked, which saves the clamp of the other
  form (measured: 5% of the uniform-noise argmax trial).

Both drivers give stream ``s`` exactly ``base + (s < remainder)`` trials and
write its accumulator to ``out[s]``: there is no shared accumulator, so the
result does not depend on thread scheduling, and CPU and CUDA agree exactly.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Imported at module level: the CUDA simulator swaps the ``cuda`` global of the
# kernel's module, which it cannot do for a name imported inside a function.
from numba import cuda, float64, int64, uint64

from closedform.numeric import jitcache
from closedform.numeric.rng import load_state, make_states, store_state
from closedform.numeric.target import SIMULATOR, cuda_available, parallel_jit, prange, scalar_jit, unsigned

#: Streams used when the caller does not say: enough CUDA threads to fill an
#: H100 (132 SMs x 2048), and cheap to seed on the host (about 0.1 s).
DEFAULT_STREAMS = 2**18
THREADS_PER_BLOCK = 128


def split_trials(trials: int, streams: int) -> tuple[int, int]:
    """Return ``(base, remainder)``: stream ``s`` runs ``base + (s < remainder)`` trials."""
    return trials // streams, trials % streams


def streams_for(trials: int, streams: int | None) -> int:
    """The number of streams a run uses: the caller's, else ``min(trials, DEFAULT_STREAMS)``.

    The default depends on ``trials`` only, never on the device or the
    cluster, so that a seed alone fixes the counts on every route.
    """
    if streams is None:
        return max(1, min(int(trials), DEFAULT_STREAMS))
    return int(streams)


@dataclass
class StreamPlan:
    """Where a run stands: stream ``s`` runs ``base + (s < rem)`` trials in all, ``done`` of its ``base`` so far.

    The ``rem`` extra trials run with the last segment, so every segment but
    the last gives all streams the same count and the totals so far are those
    of ``done`` (or, once finished, all) trials per stream.

    Examples
    --------
    >>> plan = StreamPlan(n_streams=4, base=10, rem=3)
    >>> plan.segment(4), plan.segment(99)
    ((4, 0), (10, 3))
    >>> plan.record(4, 0); plan.trials_done, plan.finished
    (16, False)
    >>> plan.segment(99)
    (6, 3)
    """

    n_streams: int
    base: int
    rem: int
    done: int = 0
    finished: bool = False

    def segment(self, per_stream: int) -> tuple[int, int]:
        """``(count, rem)`` of the next segment of at most ``per_stream`` trials per stream."""
        count = min(int(per_stream), self.base - self.done)
        return count, (self.rem if self.done + count == self.base else 0)

    def record(self, count: int, rem: int) -> None:
        self.done += count
        self.finished = self.done == self.base

    @property
    def trials(self) -> int:
        return self.base * self.n_streams + self.rem

    @property
    def trials_done(self) -> int:
        return self.done * self.n_streams + (self.rem if self.finished else 0)


@dataclass
class RunState:
    """A run under way on this process: the streams' states and accumulators, and its :class:`StreamPlan`."""

    kernel: StreamKernel
    params: np.ndarray
    device: str
    states: np.ndarray
    out: np.ndarray
    plan: StreamPlan
    compile_seconds: float = 0.0

    def advance(self, per_stream: int) -> int:
        """Run the next segment (at most ``per_stream`` trials per stream); return the trials it ran."""
        count, rem = self.plan.segment(per_stream)
        self.kernel.run_segment(self.states, count, rem, self.params, self.out, self.device)
        self.plan.record(count, rem)
        return count * self.plan.n_streams + rem

    def result(self, seconds: float) -> StreamRun:
        return StreamRun(
            out=self.out,
            trials=self.plan.trials_done,
            seconds=seconds,
            device=self.device,
            compile_seconds=self.compile_seconds,
        )


def run_whole(state: Any) -> StreamRun:
    """Run a started run (:meth:`StreamKernel.start`, or a kernel's own run state) in one segment."""
    t0 = time.perf_counter()
    state.advance(state.plan.base)
    return state.result(time.perf_counter() - t0)


#: Wall seconds a chunk of a long run aims at: progress updates and Ctrl-C act between chunks.
CHUNK_SECONDS = 1.0
#: A chunk is at most this many times the one before: the first (one trial per
#: stream) is timed mostly by the launch overhead, so its rate is not trusted far.
CHUNK_GROWTH = 16


def next_chunk(per_stream: int, seconds: float, target: float = CHUNK_SECONDS) -> int:
    """Trials per stream of the next chunk, from the last one's size and wall time.

    >>> next_chunk(100, 0.5), next_chunk(100, 0.0), next_chunk(100, 4.0)
    (200, 1600, 25)
    """
    if seconds <= 0:
        return per_stream * CHUNK_GROWTH
    return max(1, min(per_stream * CHUNK_GROWTH, int(per_stream * target / seconds)))


def run_chunks(
    plan: StreamPlan,
    advance: Callable[[int], Any],
    *,
    target: float = CHUNK_SECONDS,
    stop: Callable[[], bool] = lambda: False,
    on_chunk: Callable[[StreamPlan], None] | None = None,
) -> float:
    """Run ``plan`` in chunks of about ``target`` seconds; return the wall seconds.

    ``advance(per_stream)`` runs the next segment of the plan and records it
    (:meth:`RunState.advance`, or a cluster round).  ``stop()`` is asked
    before every chunk: when it says so the run ends early, ``plan`` telling
    how far it got.  The chunking changes no count: each chunk continues
    each stream's generator state and accumulator row.
    """
    per_stream = 1
    t0 = time.perf_counter()
    while not plan.finished and not stop():
        c0 = time.perf_counter()
        before = plan.done
        advance(per_stream)
        per_stream = next_chunk(max(plan.done - before, 1), time.perf_counter() - c0, target)
        if on_chunk is not None:
            on_chunk(plan)
    return time.perf_counter() - t0


@dataclass
class StreamKernel:
    """The CPU driver and the (lazily built) CUDA kernel around one trial body.

    Parameters
    ----------
    trial : callable
        The scalar trial body (see the module docstring).
    acc_width : callable
        ``acc_width(params) -> int``: the length of the accumulator row.
    scratch_len : callable
        ``scratch_len(params) -> int``: the length of the scratch vector.
    scratch_capacity : int
        The scratch length compiled into the CUDA kernel (local memory must
        have a constant size); runs needing more are refused on CUDA.
    acc_capacity : int
        Likewise for the accumulator row on CUDA.
    integer : bool
        Accumulate int64 counts (exact reduction) instead of float64 sums.
    outcome : {"accumulate", "category", "category_ts"}
        The form of the trial body (see the module docstring).
    """

    trial: Callable[..., Any]
    acc_width: Callable[[np.ndarray], int]
    scratch_len: Callable[[np.ndarray], int] = lambda params: 1
    scratch_capacity: int = 1
    acc_capacity: int = 2
    integer: bool = True
    outcome: str = "accumulate"
    _cpu: Any = field(default=None, init=False, repr=False)
    _cuda: Any = field(default=None, init=False, repr=False)
    _compiled: set = field(default_factory=set, init=False, repr=False)

    @property
    def dtype(self) -> type:
        return np.int64 if self.integer else np.float64

    def __reduce__(self):
        # Pickled (for a Dask worker) with the trial body by reference where it has an import
        # path: the worker then builds the same generated driver as here, which its on-disk
        # cache holds after the first process, instead of compiling a by-value copy per process.
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        ref = None if SIMULATOR else jitcache.reference(self.trial)
        if ref is not None:
            fields["trial"] = None
        return _rebuild_kernel, (type(self), fields, ref)

    def cpu_driver(self) -> Callable[..., None]:
        if self._cpu is None:
            self._cpu = _build_cpu_driver(self.trial, self.integer, self.outcome)
        return self._cpu

    def cuda_kernel(self) -> Any:
        if self._cuda is None:
            self._cuda = _build_cuda_kernel(
                self.trial,
                self.scratch_capacity,
                self.acc_capacity,
                self.integer,
                self.outcome,
            )
        return self._cuda

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
        """Run ``trials`` trials in one go and return the per-stream accumulators.

        ``first_stream``/``total_streams`` select a chunk of a larger run: the
        chunk gets exactly the states and trial counts that the whole run gives
        those streams, so chunks reduce to the single-process answer.  For a
        run in timed chunks (progress, interruption) use :meth:`start` and
        :func:`run_chunks`; the accumulators are the same bit for bit.
        """
        return run_whole(self.start(params, trials, seed, streams, device, first_stream, total_streams))

    def for_params(self, params: np.ndarray) -> StreamKernel:
        """The kernel that runs ``params``: this one (a subclass may pick a specialised one)."""
        return self

    def start(
        self,
        params: np.ndarray,
        trials: int,
        seed: int,
        streams: int | None = None,
        device: str = "cpu",
        first_stream: int = 0,
        total_streams: int | None = None,
    ) -> RunState:
        """Seed the streams of a run (compiling the driver first) and return it, no trial run yet."""
        params = np.ascontiguousarray(params, dtype=np.float64)
        kernel = self.for_params(params)
        if kernel is not self:
            return kernel.start(params, trials, seed, streams, device, first_stream, total_streams)
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        n_streams = streams_for(trials, streams)
        whole = n_streams if total_streams is None else int(total_streams)
        base, rem = split_trials(int(trials), whole)
        # Streams of this chunk whose index in the whole run is below rem get one more trial.
        plan = StreamPlan(n_streams, base, min(max(rem - first_stream, 0), n_streams))
        states = make_states(seed, n_streams, first_stream)
        out = np.zeros((n_streams, int(self.acc_width(params))), dtype=self.dtype)
        compile_seconds = self.compile_for(device, states, params, out)
        return RunState(self, params, device, states, out, plan, compile_seconds)

    def run_segment(self, states, count: int, rem: int, params, out, device: str = "cpu") -> None:
        """Continue streams ``states`` by ``count`` trials each (``count + 1`` for the first ``rem``).

        ``states`` and ``out`` are updated in place: the generator states move
        on, and each accumulator row continues from where it stood.
        """
        if device == "cpu":
            self.cpu_driver()(states, int(count), int(rem), params, int(self.scratch_len(params)), out)
        else:
            self._run_cuda(states, int(count), int(rem), params, out)

    def compile_for(self, device: str, states, params, out) -> float:
        """Compile the driver for these argument types by a run of zero trials; return its seconds.

        The first call of a numba function compiles it (seconds), so without
        this the first run's throughput would measure the compiler.  Zero
        trials touch no state: the real run that follows is unchanged.
        """
        key = (device, out.dtype.str)
        if key in self._compiled:
            return 0.0
        start = time.perf_counter()
        first = slice(0, 1)
        if device == "cpu":
            self.cpu_driver()(states[first].copy(), 0, 0, params, int(self.scratch_len(params)), out[first].copy())
        else:
            self._run_cuda(states[first].copy(), 0, 0, params, out[first].copy())
        self._compiled.add(key)
        return time.perf_counter() - start

    def _run_cuda(self, states, base, rem, params, out) -> None:
        if not cuda_available():
            raise RuntimeError(
                "device='cuda' needs an NVIDIA GPU with a working driver, or the CUDA "
                "simulator (start Python with NUMBA_ENABLE_CUDASIM=1)"
            )
        need = int(self.scratch_len(params))
        if need > self.scratch_capacity or out.shape[1] > self.acc_capacity:
            raise ValueError(
                f"this simulator supports at most {self.scratch_capacity} scratch slots and "
                f"{self.acc_capacity} outputs per CUDA thread; the parameters need "
                f"{need} and {out.shape[1]} (use device='cpu')"
            )
        kernel = self.cuda_kernel()
        d_states = cuda.to_device(states)
        d_params = cuda.to_device(params)
        d_out = cuda.to_device(out)
        blocks = math.ceil(states.shape[0] / THREADS_PER_BLOCK)
        kernel[blocks, THREADS_PER_BLOCK](d_states, base, rem, d_params, d_out)
        cuda.synchronize()
        out[...] = d_out.copy_to_host()
        states[...] = d_states.copy_to_host()  # the next chunk of a long run continues from here


def _rebuild_kernel(cls: type, fields: dict, ref: tuple | None) -> StreamKernel:
    if ref is not None:
        fields = {**fields, "trial": jitcache.resolve(*ref)}
    return cls(**fields)


@dataclass
class StreamRun:
    """What a driver returns: per-stream accumulators and the cost of getting them."""

    out: np.ndarray
    trials: int
    seconds: float
    device: str
    #: Seconds spent compiling before the timed run (0 once compiled in this process).
    compile_seconds: float = 0.0

    @property
    def totals(self) -> np.ndarray:
        """Accumulators summed over streams (exact for integer counts)."""
        return self.out.sum(axis=0)


if SIMULATOR:

    def count_slot(c, width):
        """The accumulator slot of category ``c``: itself, or ``width`` for "none" (``c < 0``)."""
        return c if c >= 0 else width

else:

    @scalar_jit
    def count_slot(c, width):
        """The accumulator slot of category ``c``: itself, or ``width`` for "none" (``c < 0``).

        As an unsigned index: numba wraps a negative signed index (a compare
        and two more instructions per access), and -1 as unsigned is the
        largest value, which ``min`` sends to ``width``.
        """
        return min(uint64(c), uint64(width))


def _category_step(trial: Callable[..., Any], outcome: str) -> tuple[Callable, Callable, Callable]:
    """``(enter, step, leave)`` around one category trial, so that one driver loop serves both forms.

    ``s0, s1 = enter(states, s)`` before a stream's trials, ``slot, s0, s1 =
    step(states, s, s0, s1, params, scratch, width)`` per trial (the
    accumulator slot: the category, or ``width`` for none), ``leave(states,
    s, s0, s1)`` after them.  For ``"category_ts"`` the state lives in
    variables between enter and leave; for ``"category"`` the trial keeps it
    in ``states[s]`` and the variables are unused zeros.  The loops stay in
    the drivers themselves: a loop inside an inlined function taking the
    arrays made numba count references to them around every trial
    (measured: 16% of the sector simulator's time at n = 4).
    """
    if outcome == "category_ts":

        @scalar_jit
        def step_ts(states, s, s0, s1, params, scratch, width):
            c, s0, s1 = trial(s0, s1, params, scratch)
            return unsigned(c), s0, s1  # 0..width by the form's contract: no clamp

        return load_state, step_ts, store_state

    @scalar_jit
    def enter(states, s):
        return 0, 0

    @scalar_jit
    def step(states, s, s0, s1, params, scratch, width):
        return count_slot(trial(states, s, params, scratch), width), s0, s1

    @scalar_jit
    def leave(states, s, s0, s1):
        pass

    return enter, step, leave


def _build_cpu_driver(trial: Callable[..., Any], integer: bool, outcome: str) -> Callable[..., None]:
    acc_dtype = np.int64 if integer else np.float64

    if outcome in ("category", "category_ts"):
        enter, step, leave = _category_step(trial, outcome)

        @parallel_jit
        def drive(states, base, rem, params, scratch_len, out):
            # One stream per iteration; each writes only its own row of ``out``.
            for s in prange(states.shape[0]):
                scratch = np.zeros(scratch_len, dtype=np.float64)
                width = out.shape[1]
                count = base + 1 if s < rem else base
                s0, s1 = enter(states, s)
                if width == 1:
                    # One category: count in a register; an increment of acc[0]
                    # per trial is a store that the next trial's load waits for
                    # (measured: 3-12% of the sector simulator's time).  It
                    # starts from the row's earlier chunks (zero on a fresh run).
                    hits = out[s, 0]
                    for _ in range(count):
                        c, s0, s1 = step(states, s, s0, s1, params, scratch, width)
                        hits += c == 0
                    out[s, 0] = hits
                else:
                    # Slot ``width`` counts the "no event" outcome, so that counting
                    # is a select and an add, never an unpredictable branch (3x faster).
                    acc = np.zeros(width + 1, dtype=acc_dtype)
                    for k in range(width):
                        acc[k] = out[s, k]
                    for _ in range(count):
                        c, s0, s1 = step(states, s, s0, s1, params, scratch, width)
                        acc[c] += 1
                    for k in range(width):
                        out[s, k] = acc[k]
                leave(states, s, s0, s1)

        return drive

    @parallel_jit
    def drive_acc(states, base, rem, params, scratch_len, out):
        for s in prange(states.shape[0]):
            scratch = np.zeros(scratch_len, dtype=np.float64)
            acc = np.zeros(out.shape[1], dtype=acc_dtype)
            for k in range(out.shape[1]):
                acc[k] = out[s, k]  # continue the row: float sums keep their order of addition
            count = base + 1 if s < rem else base
            for _ in range(count):
                trial(states, s, params, scratch, acc)
            for k in range(out.shape[1]):
                out[s, k] = acc[k]

    return drive_acc


def _build_cuda_kernel(trial, scratch_capacity: int, acc_capacity: int, integer: bool, outcome: str):
    acc_type = int64 if integer else float64

    if outcome in ("category", "category_ts"):
        enter, step, leave = _category_step(trial, outcome)

        @cuda.jit
        def count_kernel(states, base, rem, params, out):
            s = cuda.grid(1)
            if s < states.shape[0]:
                scratch = cuda.local.array(scratch_capacity, float64)
                for k in range(scratch_capacity):
                    scratch[k] = 0.0
                acc = cuda.local.array(acc_capacity + 1, acc_type)
                for k in range(acc_capacity + 1):
                    acc[k] = 0
                width = out.shape[1]
                count = base + 1 if s < rem else base
                s0, s1 = enter(states, s)
                if width == 1:
                    hits = out[s, 0]  # a register, not local memory (as in the CPU driver)
                    for _ in range(count):
                        c, s0, s1 = step(states, s, s0, s1, params, scratch, width)
                        hits += c == 0
                    out[s, 0] = hits
                else:
                    for k in range(width):
                        acc[k] = out[s, k]
                    for _ in range(count):
                        c, s0, s1 = step(states, s, s0, s1, params, scratch, width)
                        acc[c] += 1
                    for k in range(width):
                        out[s, k] = acc[k]
                leave(states, s, s0, s1)

        return count_kernel

    @cuda.jit
    def kernel(states, base, rem, params, out):
        s = cuda.grid(1)
        if s < states.shape[0]:
            scratch = cuda.local.array(scratch_capacity, float64)
            for k in range(scratch_capacity):
                scratch[k] = 0.0
            acc = cuda.local.array(acc_capacity, acc_type)
            for k in range(acc_capacity):
                acc[k] = 0
            for k in range(out.shape[1]):
                acc[k] = out[s, k]
            count = base + 1 if s < rem else base
            for _ in range(count):
                trial(states, s, params, scratch, acc)
            for k in range(out.shape[1]):
                out[s, k] = acc[k]

    return kernel


__all__ = [
    "CHUNK_SECONDS",
    "DEFAULT_STREAMS",
    "SIMULATOR",
    "RunState",
    "StreamKernel",
    "StreamPlan",
    "StreamRun",
    "next_chunk",
    "run_chunks",
    "split_trials",
    "streams_for",
]
