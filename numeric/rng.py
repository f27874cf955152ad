r"""Per-stream xoroshiro128+ generators shared by the CPU and CUDA drivers.

The states form a ``(streams, 2)`` array of ``uint64``.  Stream 0 is seeded by
SplitMix64 of the user's seed and stream ``i`` is stream ``i-1`` jumped ahead by
:math:`2^{64}` steps, the same construction as ``numba.cuda.random`` (and bit
for bit the same numbers; a test checks it).  Every simulation therefore
depends only on ``(seed, streams, trials)``, never on the number of threads or
on the target.

Uniforms are mapped to the *open* interval:

.. math::

    u = \left(\lfloor x / 2^{12} \rfloor + \tfrac12\right) 2^{-52}
      \in [2^{-53},\ 1 - 2^{-53}],

so ``log(u)`` and ``log(1 - u)`` are always finite (numba's own float64
uniform can return 0, and its float32 one can return 1).  52 bits, not 53:
with 53 bits the half offset makes the largest value :math:`1 - 2^{-54}`,
which rounds to exactly 1.0 in double precision.
"""

from __future__ import annotations

import math

import numpy as np
from numba import uint32, uint64

from closedform.numeric.target import SIMULATOR, scalar_jit

MASK64 = (1 << 64) - 1
_JUMP = (0xBEAC0467EBA5FACB, 0xD86B048B86AA9922)
_UNIT = 2.0**-52


if SIMULATOR:
    # Plain-Python integer versions: numpy uint64 scalars warn on the
    # intended wrap-around, and warnings are errors in this project.
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next_uint64(states, stream):
        """Return the next 64-bit output of ``states[stream]`` and advance it."""
        s0 = int(states[stream, 0])
        s1 = int(states[stream, 1])
        result = (s0 + s1) & MASK64
        s1 ^= s0
        states[stream, 0] = _rotl(s0, 55) ^ s1 ^ ((s1 << 14) & MASK64)
        states[stream, 1] = _rotl(s1, 36)
        return result

    def uniform(states, stream):
        """Return a float64 uniform on the open interval (0, 1)."""
        return ((next_uint64(states, stream) >> 12) + 0.5) * _UNIT

else:

    @scalar_jit
    def _rotl(x, k):
        x = uint64(x)
        return (x << uint32(k)) | (x >> uint32(64 - k))

    @scalar_jit
    def next_uint64(states, stream):
        """Return the next 64-bit output of ``states[stream]`` and advance it."""
        s0 = states[stream, 0]
        s1 = states[stream, 1]
        result = s0 + s1
        s1 ^= s0
        states[stream, 0] = _rotl(s0, 55) ^ s1 ^ (s1 << uint32(14))
        states[stream, 1] = _rotl(s1, 36)
        return result

    @scalar_jit
    def uniform(states, stream):
        """Return a float64 uniform on the open interval (0, 1)."""
        return (float(next_uint64(states, stream) >> uint32(12)) + 0.5) * _UNIT


@scalar_jit
def normal(states, stream):
    """Return a standard normal from two float64 uniforms (Box-Muller, cosine branch).

    numba's ``xoroshiro128p_normal_float64`` draws float32 uniforms; here both
    uniforms have 53 bits, so the tails are right to about 8.5 sigma.
    """
    u1 = uniform(states, stream)
    u2 = uniform(states, stream)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@scalar_jit
def exponential(states, stream):
    """Return a standard exponential variate, ``-log(u)`` with ``u`` in (0, 1)."""
    return -math.log(uniform(states, stream))


def _splitmix64(seed: int) -> int:
    z = (seed + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _jump_python(s0: int, s1: int) -> tuple[int, int]:
    """Advance one state by 2**64 steps (reference version, Python integers)."""
    t0 = t1 = 0
    for word in _JUMP:
        for bit in range(64):
            if (word >> bit) & 1:
                t0 ^= s0
                t1 ^= s1
            r = (s0 + s1) & MASK64  # noqa: F841  (the output is discarded)
            s1 ^= s0
            s0 = (((s0 << 55) | (s0 >> 9)) & MASK64) ^ s1 ^ ((s1 << 14) & MASK64)
            s1 = ((s1 << 36) | (s1 >> 28)) & MASK64
    return t0, t1


if SIMULATOR:

    def _fill_jumped(states, first):
        s0, s1 = int(states[0, 0]), int(states[0, 1])
        for _ in range(first):
            s0, s1 = _jump_python(s0, s1)
        for i in range(states.shape[0]):
            if i > 0:
                s0, s1 = _jump_python(s0, s1)
            states[i, 0] = s0
            states[i, 1] = s1

else:
    import numba

    @numba.njit(cache=False)
    def _jump_inplace(s):
        j0 = uint64(0xBEAC0467EBA5FACB)
        j1 = uint64(0xD86B048B86AA9922)
        t0 = uint64(0)
        t1 = uint64(0)
        for w in range(2):
            word = j0 if w == 0 else j1
            for b in range(64):
                if (word >> uint32(b)) & uint64(1):
                    t0 ^= s[0]
                    t1 ^= s[1]
                a0 = s[0]
                a1 = s[1] ^ a0
                s[0] = ((a0 << uint32(55)) | (a0 >> uint32(9))) ^ a1 ^ (a1 << uint32(14))
                s[1] = (a1 << uint32(36)) | (a1 >> uint32(28))
        s[0] = t0
        s[1] = t1

    @numba.njit(cache=False)
    def _fill_jumped(states, first):
        cur = states[0].copy()
        for _ in range(first):
            _jump_inplace(cur)
        for i in range(states.shape[0]):
            if i > 0:
                _jump_inplace(cur)
            states[i, 0] = cur[0]
            states[i, 1] = cur[1]


def make_states(seed: int, streams: int, first_stream: int = 0) -> np.ndarray:
    """Return the xoroshiro128+ states of streams ``first_stream .. first_stream+streams-1``.

    Parameters
    ----------
    seed : int
        Any integer in ``[0, 2**64)``.
    streams : int
        Number of consecutive streams wanted (at least 1).
    first_stream : int
        Index of the first stream, so that a chunk of a larger run gets exactly
        the states the whole run would give it (Dask splits rely on this).

    Returns
    -------
    numpy.ndarray
        ``uint64`` array of shape ``(streams, 2)``.

    Examples
    --------
    >>> a = make_states(7, 4)
    >>> b = make_states(7, 2, first_stream=2)
    >>> bool((a[2:] == b).all())
    True
    """
    if not 0 <= int(seed) <= MASK64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    if int(streams) < 1:
        raise ValueError(f"streams must be an integer >= 1, got {streams!r}")
    z = _splitmix64(int(seed))
    states = np.empty((int(streams), 2), dtype=np.uint64)
    states[0, 0] = z
    states[0, 1] = z
    _fill_jumped(states, int(first_stream))
    return states
