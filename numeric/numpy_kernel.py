r"""Run a vectorised NumPy simulator in fixed, seeded blocks, with the interface of a stream kernel.

A NumPy simulator is a function ``f(rng, size, **params)`` that draws ``size``
independent trials from the ``numpy.random.Generator`` ``rng`` and returns one
outcome per trial: booleans (an event), integers (categories ``0..k-1``) or
floats (values).  :class:`NumpyKernel` runs it the way
:class:`~closedform.numeric.drivers.StreamKernel` runs a Numba trial body, so
the estimate, the checks and the Dask path treat both alike.

Determinism: the trials ``0..trials-1`` of a run are cut into blocks of
:attr:`NumpyKernel.block` trials (the last one shorter); block ``b`` is drawn
by one call of ``f`` with the generator

.. math::

    \texttt{rng}_b = \texttt{Generator(PCG64(SeedSequence(seed, spawn\_key=(b,))))},

the ``b``-th child of ``SeedSequence(seed).spawn``.  The outcome of every
trial therefore depends on ``(seed, trials, block)`` only: not on how many
processes share the run, nor on which one ran which block.  A slice of
streams (``first_stream``/``total_streams``, what a Dask task asks for) owns
the blocks that *start* inside its share of the trials, so any partition of
the streams runs every block exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from closedform.derive.errors import ParameterError
from closedform.numeric.drivers import StreamRun, split_trials, streams_for

#: Trials per call of the simulator: large enough that NumPy's per-call
#: overhead and the seeding of one generator (about 20 us) vanish against the
#: work, small enough that a block of a few floats per trial fits in cache-sized
#: memory (2**16 trials of 24 doubles is 12.6 MB).
BLOCK = 2**16

#: The outcomes a simulator may return, keyed by NumPy dtype kind.
OUTCOME_OF_KIND: dict[str, str] = {"b": "event", "i": "category", "u": "category", "f": "value"}


def block_generator(seed: int, index: int) -> np.random.Generator:
    """The generator of block ``index`` of a run seeded ``seed``: ``SeedSequence(seed).spawn(...)[index]``.

    Parameters
    ----------
    seed : int
        The run's seed, in ``[0, 2**64)``.
    index : int
        The block number.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> a = block_generator(7, 3).random()
    >>> b = np.random.default_rng(np.random.SeedSequence(7).spawn(4)[3]).random()
    >>> a == b
    True
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(index),))))


def block_range(trials: int, first_stream: int, streams: int, total_streams: int, block: int) -> range:
    """The blocks owned by streams ``first_stream .. first_stream+streams-1`` of a run.

    Stream ``s`` of ``total_streams`` covers ``base + (s < rem)`` consecutive
    trials (the split of :func:`~closedform.numeric.drivers.split_trials`);
    the slice owns every block whose first trial falls in its share.

    Parameters
    ----------
    trials, first_stream, streams, total_streams, block : int
        The run's size, the slice of streams and the block size.

    Returns
    -------
    range
        Block indices.

    Examples
    --------
    >>> block_range(10, 0, 4, 4, 3), block_range(10, 0, 2, 4, 3), block_range(10, 2, 2, 4, 3)
    (range(0, 4), range(0, 2), range(2, 4))
    """
    base, rem = split_trials(int(trials), int(total_streams))

    def start_of(s: int) -> int:
        return s * base + min(s, rem)

    lo, hi = start_of(int(first_stream)), start_of(int(first_stream) + int(streams))
    return range(-(-lo // block), -(-hi // block))


def _outcome_error(owner: str, problem: str) -> ParameterError:
    return ParameterError(f"claim {owner!r}: the NumPy simulator {problem}")


def check_outcomes(out: Any, size: int, outcome: str, categories: int, owner: str) -> np.ndarray:
    """Check one block's outcomes against the simulator's declared form; return them as an array.

    Parameters
    ----------
    out : array_like
        What the simulator returned.
    size : int
        The ``size`` it was called with.
    outcome : {"event", "category", "value"}
        The form the claim expects.
    categories : int
        The number of categories (for ``"category"``).
    owner : str
        The claim's name, for the message.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ParameterError
        One line naming the claim and the problem: wrong shape, wrong dtype,
        a category out of range, NaN or infinity.

    Examples
    --------
    >>> check_outcomes(np.array([0, 2, 1]), 3, "category", 3, "demo").tolist()
    [0, 2, 1]
    >>> check_outcomes(np.array([0, 3]), 2, "category", 3, "demo")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: claim 'demo': the NumPy simulator returned category 3, outside 0..2 (one per component of the closed form)
    """
    if not isinstance(out, np.ndarray):
        raise _outcome_error(owner, f"must return a numpy array of {size} outcomes, got {type(out).__name__}")
    if out.shape != (size,):
        raise _outcome_error(owner, f"must return an array of shape ({size},) for size={size}, got shape {out.shape}")
    got = OUTCOME_OF_KIND.get(out.dtype.kind)
    if got is None:
        raise _outcome_error(owner, f"returned dtype {out.dtype}; return booleans, integers or floats")
    if got != outcome:
        raise _outcome_error(owner, f"returned {got}s (dtype {out.dtype}) but the claim expects {outcome}s")
    if outcome == "category" and out.size:
        lo, hi = int(out.min()), int(out.max())
        if lo < 0 or hi >= categories:
            bad = lo if lo < 0 else hi
            raise _outcome_error(
                owner,
                f"returned category {bad}, outside 0..{categories - 1} (one per component of the closed form)",
            )
    if outcome == "value" and not np.isfinite(out).all():
        bad = out[~np.isfinite(out)][0]
        raise _outcome_error(owner, f"returned {bad} (values must be finite)")
    return out


def count_outcomes(out: np.ndarray, outcome: str, categories: int) -> np.ndarray:
    """The accumulator row of one block: event count, category counts, or ``(sum, sum of squares)``.

    Examples
    --------
    >>> count_outcomes(np.array([True, False, True]), "event", 1).tolist()
    [2]
    >>> count_outcomes(np.array([0.5, 1.5]), "value", 1).tolist()
    [2.0, 2.5]
    """
    if outcome == "event":
        return np.array([np.count_nonzero(out)], dtype=np.int64)
    if outcome == "category":
        return np.bincount(out.astype(np.int64, copy=False), minlength=categories).astype(np.int64)
    values = out.astype(np.float64, copy=False)
    return np.array([values.sum(), np.dot(values, values)], dtype=np.float64)


@dataclass
class NumpyKernel:
    """A vectorised NumPy simulator behind the :class:`~closedform.numeric.drivers.StreamKernel` interface.

    Parameters
    ----------
    func : callable
        ``func(rng, size, **params) -> numpy.ndarray`` of ``size`` outcomes.
    unpack : callable
        ``unpack(packed) -> dict``: the keyword arguments of ``func`` from the
        float64 parameter vector (the vector is what travels to Dask workers).
    outcome : {"event", "category", "value"}
        What ``func`` returns: booleans, integer categories, or float values.
    categories : int
        Number of categories (``1`` for events and values).
    block : int
        Trials per call of ``func`` (see the module docstring).
    owner : str
        The claim's name, for error messages.

    Examples
    --------
    >>> k = NumpyKernel(lambda rng, size, p: rng.random(size) < p, lambda v: {"p": float(v[0])}, "event")
    >>> run = k.run(np.array([0.25]), 100_000, seed=1)
    >>> run.trials, bool(abs(run.totals[0] / run.trials - 0.25) < 0.01)
    (100000, True)
    >>> bool((k.run(np.array([0.25]), 100_000, seed=1).out == run.out).all())
    True
    """

    func: Callable[..., Any]
    unpack: Callable[[np.ndarray], Mapping[str, Any]]
    outcome: str
    categories: int = 1
    block: int = BLOCK
    owner: str = ""

    #: Seeded by block, not by stream: a cluster runs it in whole slices (closedform.distributed.run_slice).
    runs_in_slices = True

    def __post_init__(self) -> None:
        if self.outcome not in ("event", "category", "value"):
            raise ValueError(f"outcome must be 'event', 'category' or 'value', got {self.outcome!r}")

    @property
    def integer(self) -> bool:
        """Counts (exact int64) for events and categories, float64 sums for values."""
        return self.outcome != "value"

    @property
    def dtype(self) -> type:
        return np.int64 if self.integer else np.float64

    def acc_width(self, params: np.ndarray) -> int:
        """Length of an accumulator row: 1 (event), k (categories) or 2 (sum, sum of squares)."""
        return {"event": 1, "category": int(self.categories), "value": 2}[self.outcome]

    def draw_block(self, kwargs: Mapping[str, Any], seed: int, index: int, size: int) -> np.ndarray:
        """The checked outcomes of block ``index`` (``size`` trials)."""
        out = self.func(block_generator(seed, index), size, **kwargs)
        return check_outcomes(out, size, self.outcome, int(self.categories), self.owner)

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
        """Run the blocks of ``trials`` trials that this slice of streams owns; one row per block.

        Parameters
        ----------
        params : numpy.ndarray
            The packed float64 parameters.
        trials : int
            Trials of the whole run.
        seed : int
            The run's seed.
        streams, first_stream, total_streams : int, optional
            The slice of a larger run, as for ``StreamKernel.run`` (a Dask task).
        device : {"cpu"}
            NumPy runs on the CPU only.

        Returns
        -------
        StreamRun
            ``out`` has one accumulator row per block, in block order.
        """
        state = self.start(params, trials, seed, streams, device, first_stream, total_streams)
        t0 = time.perf_counter()
        state.advance(len(state.plan.blocks))
        return state.result(time.perf_counter() - t0)

    def start(
        self,
        params: np.ndarray,
        trials: int,
        seed: int,
        streams: int | None = None,
        device: str = "cpu",
        first_stream: int = 0,
        total_streams: int | None = None,
    ) -> BlockRun:
        """A run of the blocks this slice owns, none drawn yet: ``advance(k)`` draws k more.

        The form a chunked run (progress bar, Ctrl-C between chunks) drives;
        :meth:`run` is ``start`` then one ``advance`` over every block.

        Returns
        -------
        BlockRun

        Examples
        --------
        >>> k = NumpyKernel(lambda rng, size, p: rng.random(size) < p, lambda v: {"p": float(v[0])}, "event", block=100)
        >>> state = k.start(np.array([0.5]), 1000, seed=4)
        >>> [state.advance(3) for _ in range(4)], state.plan.finished
        ([300, 300, 300, 100], True)
        >>> bool((state.result(0.0).out == k.run(np.array([0.5]), 1000, seed=4).out).all())
        True
        """
        if device != "cpu":
            raise ParameterError(f"claim {self.owner!r}: a NumPy simulator runs on the CPU only, not on {device!r}")
        kwargs = self.unpack(np.asarray(params, dtype=np.float64))
        n_streams = streams_for(trials, streams)
        whole = n_streams if total_streams is None else int(total_streams)
        blocks = block_range(int(trials), int(first_stream), n_streams, whole, self.block)
        out = np.zeros((len(blocks), self.acc_width(params)), dtype=self.dtype)
        return BlockRun(self, kwargs, int(seed), out, BlockPlan(blocks, int(trials), self.block), device)


@dataclass
class BlockPlan:
    """Where a run in blocks stands (the duck type of a stream plan: ``done``, ``finished``, ``trials_done``)."""

    blocks: range
    trials: int
    block: int
    done: int = 0

    @property
    def finished(self) -> bool:
        return self.done >= len(self.blocks)

    @property
    def n_streams(self) -> int:
        return len(self.blocks)

    @property
    def trials_done(self) -> int:
        return sum(min(self.block, self.trials - b * self.block) for b in self.blocks[: self.done])


@dataclass
class BlockRun:
    """A run of a :class:`NumpyKernel` under way: ``advance(k)`` draws the next k blocks.

    Running it in any number of ``advance`` calls gives the rows of one
    :meth:`NumpyKernel.run`, bit for bit (each block has its own generator).
    """

    kernel: NumpyKernel
    kwargs: Mapping[str, Any]
    seed: int
    out: np.ndarray
    plan: BlockPlan
    device: str = "cpu"
    compile_seconds: float = 0.0

    def advance(self, per_stream: int) -> int:
        """Draw the next ``per_stream`` blocks (fewer at the end); return the trials drawn."""
        k, plan = self.kernel, self.plan
        drawn = 0
        for row in range(plan.done, min(plan.done + max(int(per_stream), 1), len(plan.blocks))):
            b = plan.blocks[row]
            size = min(k.block, plan.trials - b * k.block)
            self.out[row] = count_outcomes(k.draw_block(self.kwargs, self.seed, b, size), k.outcome, int(k.categories))
            plan.done = row + 1
            drawn += size
        return drawn

    def result(self, seconds: float) -> StreamRun:
        return StreamRun(
            out=self.out[: self.plan.done], trials=self.plan.trials_done, seconds=seconds, device=self.device
        )


def pack_values(kinds: Sequence[str], values: Sequence[Any], options: Sequence[Sequence[str]] = ()) -> np.ndarray:
    """Flatten parameter values (kernel views) into one float64 vector that :func:`unpack_values` inverts.

    Scalars take one slot; vectors and tokens their length then entries;
    matrices rows, columns, entries; a choice the index of its word (or -1
    then the number).

    Examples
    --------
    >>> v = pack_values(["integer", "vector"], [3, [0.5, 1.5]])
    >>> v.tolist()
    [3.0, 2.0, 0.5, 1.5]
    >>> unpack_values(["integer", "vector"], v)
    [3, array([0.5, 1.5])]
    """
    flat: list[float] = []
    options = list(options) or [()] * len(kinds)
    for kind, value, words in zip(kinds, values, options):
        if kind in ("real", "integer"):
            flat.append(float(value))
        elif kind in ("vector", "tokens"):
            entries = np.asarray(value, dtype=np.float64).ravel()
            flat += [float(entries.size), *entries.tolist()]
        elif kind == "matrix":
            m = np.asarray(value, dtype=np.float64)
            flat += [float(m.shape[0]), float(m.shape[1]), *m.ravel().tolist()]
        elif kind == "choice":
            flat += [float(list(words).index(value)), 0.0] if isinstance(value, str) else [-1.0, float(value)]
        else:  # pragma: no cover - Param kinds are a closed set
            raise ValueError(f"unknown parameter kind {kind!r}")
    return np.array(flat, dtype=np.float64)


def unpack_values(kinds: Sequence[str], packed: np.ndarray, options: Sequence[Sequence[str]] = ()) -> list[Any]:
    """The inverse of :func:`pack_values`: ints for integers, arrays for vectors, words for choices."""
    out: list[Any] = []
    i = 0
    options = list(options) or [()] * len(kinds)
    for kind, words in zip(kinds, options):
        if kind == "real":
            out.append(float(packed[i]))
            i += 1
        elif kind == "integer":
            out.append(int(packed[i]))
            i += 1
        elif kind in ("vector", "tokens"):
            n = int(packed[i])
            entries = packed[i + 1 : i + 1 + n].copy()
            out.append(entries.astype(np.int64) if kind == "tokens" else entries)
            i += 1 + n
        elif kind == "matrix":
            r, c = int(packed[i]), int(packed[i + 1])
            out.append(packed[i + 2 : i + 2 + r * c].reshape(r, c).copy())
            i += 2 + r * c
        elif kind == "choice":
            index = int(packed[i])
            out.append(words[index] if index >= 0 else float(packed[i + 1]))
            i += 2
    return out


def unpack_keywords(
    names: Sequence[str], kinds: Sequence[str], options: Sequence[Sequence[str]], packed: np.ndarray
) -> dict[str, Any]:
    """:func:`unpack_values` as keyword arguments (bind the first three with ``functools.partial``).

    >>> unpack_keywords(["n", "p"], ["integer", "real"], [(), ()], np.array([4.0, 0.5]))
    {'n': 4, 'p': 0.5}
    """
    return dict(zip(names, unpack_values(kinds, packed, options)))


__all__ = [
    "BLOCK",
    "BlockPlan",
    "BlockRun",
    "NumpyKernel",
    "block_generator",
    "block_range",
    "check_outcomes",
    "count_outcomes",
    "pack_values",
    "unpack_keywords",
    "unpack_values",
]
