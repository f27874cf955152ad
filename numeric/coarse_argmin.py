r"""The argmin of uniform-driven keys from coarse uniforms, refined only when they cannot decide.

Two noise families have an argmax that is an argmin of keys increasing in one
uniform per class.  With :math:`c_j = \max_k m_k - m_j \ge 0`,

.. math::

    \operatorname*{argmax}_j (m_j + U_j) = \operatorname*{argmin}_j (U'_j + c_j),
    \qquad
    \operatorname*{argmax}_j (m_j - \log U_j) = \operatorname*{argmin}_j U_j e^{c_j},

(uniform noise, with :math:`U' = 1 - U` of the same law; exponential noise,
:math:`-\log U \sim \mathrm{Exp}(1)`, no logarithm needed).  A key is
*additive* (:math:`U + c`) or *multiplicative* (:math:`U w`).

A full 52-bit uniform per class is wasteful: the argmin is decided by the
leading bits almost always.  So each 64-bit draw gives :math:`G` coarse
uniforms of :math:`B` bits (:data:`CHUNK_BITS`), :math:`U_j \in [k_j, k_j + 1)
\, 2^{-B}`, and each key is known to lie in an interval
:math:`[\ell_j, \ell_j + \delta_j)`.  If the smallest lower end :math:`\ell_a`
is followed by a second smallest above :math:`\ell_a + \delta_a`, class
:math:`a` wins whatever the remaining bits are.  Otherwise (probability at
most :func:`refinement_bound`) the trial is *refined*: the coarse draws are replayed from the saved state and
each uniform becomes :math:`(k_j + V_j) 2^{-B}` with :math:`V_j` a fresh
52-bit uniform, and the argmin is taken on those.  The output is therefore
exactly the refined sampler's, a uniform of :math:`B + 52` bits per class
(exponential tails to :math:`(B + 53) \log 2 \approx 57.5`), with on average
:math:`\lceil n/G \rceil` draws per trial instead of :math:`n`.

The decision is safe under rounding: the refined keys are monotone
roundings of values inside the intervals, and the test keeps a margin of
several ulps (:func:`interval_argmin`).  Coarse bits are the top
:math:`G B` bits of a draw: with :math:`B = 30`, bits 4..63, so the weakest
low bits of xoroshiro128+ are never used, as in the ziggurats.

Keys are packed after :math:`m_1..m_n` in the parameter vector, padded to a
multiple of :math:`G` with keys that never win (:func:`pack_keys`), so that
the hot loop has no per-class bounds test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from numba import int64, uint32, uint64

from closedform.numeric.rng import likely, next_ts, uniform_ts
from closedform.numeric.target import SIMULATOR, scalar_jit, signed, unsigned

#: Bits of one coarse uniform; a 64-bit draw holds ``64 // CHUNK_BITS`` of them (its top bits).
CHUNK_BITS = 30

#: Largest multiplicative key stored: keys times coarse uniforms (below 2^30 + 1)
#: stay finite.  A class that far behind never wins either way: a refined uniform
#: is at least 2^-83, so the refined sampler gives 0 beyond e^57.5.
WEIGHT_MAX = 1e298

#: Largest additive offset stored, in units of the noise's width: a class at least
#: 1 behind never wins (its key exceeds the leader's), and bounded keys bound the rounding.
OFFSET_MAX = 2.0

#: The relative margin of the multiplicative test: far above the few ulps of rounding.
_MULTIPLICATIVE_MARGIN = 2.0**-40

#: Additive fast keys are integers below 2^53, exact in float64: the coarse uniform
#: scaled by 2^(EXACT_BITS - 3 - B) plus a packed offset, at most 5 2^(EXACT_BITS - 3).
_EXACT_BITS = 53

#: Low bits of an additive fast key that hold its class: a constant mask, not one
#: more load per trial (8% of the uniform-noise trial), and at most 2^20 classes.
INDEX_BITS = 20


def per_draw(chunk_bits: int = CHUNK_BITS) -> int:
    """Coarse uniforms (classes) served by one 64-bit draw.

    >>> per_draw(30), per_draw(4)
    (2, 16)
    """
    return 64 // chunk_bits


def refinement_bound(n: int, chunk_bits: int = CHUNK_BITS) -> float:
    r"""Upper bound on the probability that a trial is refined: :math:`7\, n(n-1)\, 2^{-B}`.

    A union bound over pairs.  A refinement needs two keys whose true values
    (noise units) are within :math:`7 \cdot 2^{-B}` (additive: one grid
    step of margin, two of packing, and each fast key within two steps of
    its true value) or within :math:`(w_i + w_j)(1 + 2^{-40})\, 2^{-B}`
    (multiplicative); the difference of two keys has density at most 1,
    resp. :math:`1/\max(w_i, w_j)`, so a pair is that close with
    probability at most :math:`14 \cdot 2^{-B}`, resp. :math:`4.1 \cdot 2^{-B}`.

    >>> f"{refinement_bound(4):.1e}"
    '7.8e-08'
    """
    return min(1.0, 7.0 * n * (n - 1) * 2.0**-chunk_bits)


def pack_keys(m: Sequence[float], additive: bool, chunk_bits: int = CHUNK_BITS) -> list[float]:
    r"""What the body reads after :math:`m_1..m_n`: the fast keys, then the exact keys.

    With :math:`c_j = \max m - m_j` and :math:`G` classes per draw, the fast
    keys are padded to a multiple of :math:`G` with keys that never win, so
    that the hot loop has no per-class bounds test.

    *Multiplicative:* fast and exact keys :math:`w_j = \min(e^{c_j},
    10^{298})`, padding :math:`10^{298}` (a padded chunk of 0 only forces a
    refinement, which never looks at padding).

    *Additive:* exact keys :math:`p_j = \min(c_j, 2)\, 2^B`, offsets in
    units of the coarse grid.  The fast keys are integers :math:`Q_j`: the
    offset in units of :math:`2^{-S}` of a grid step (:math:`S = 50 - B`),
    rounded down to a multiple of :math:`2^I` (:data:`INDEX_BITS`), plus the
    index :math:`j < 2^I` in the low bits; padding has offset :math:`4 \cdot
    2^B`.  The coarse key :math:`k_j 2^S + Q_j` is then an integer below
    :math:`2^{53}`, exact in float64, and its minimum carries its class.

    >>> pack_keys([0.0, 1.0, -1.0], additive=False)  # 3 keys and a padding, then 3 keys
    [2.718281828459045, 1.0, 7.38905609893065, 1e+298, 2.718281828459045, 1.0, 7.38905609893065]
    >>> keys = pack_keys([0.0, 1.0], additive=True)
    >>> [int(v) for v in keys[:2]], keys[2:]
    ([1125899906842624, 1], [1073741824.0, 0.0])
    >>> pack_keys([0.0] * (2**20 + 1), additive=True)
    Traceback (most recent call last):
    ...
    ValueError: uniform noise simulates at most 1048576 classes (the index bits of its keys), got 1048577
    """
    top = max(m)
    n = len(m)
    g = per_draw(chunk_bits)
    padded = -(-n // g) * g
    if not additive:
        exact = [min(math.exp(min(top - v, 700.0)), WEIGHT_MAX) for v in m]
        return exact + [WEIGHT_MAX] * (padded - n) + exact
    if padded > 1 << INDEX_BITS:
        raise ValueError(
            f"uniform noise simulates at most {1 << INDEX_BITS} classes (the index bits of its keys), got {n}"
        )
    scale = 2.0**chunk_bits
    exact = [min(top - v, OFFSET_MAX) * scale for v in m]
    sub = _EXACT_BITS - 3 - chunk_bits
    fast = [
        float(((int(p * 2.0**sub) >> INDEX_BITS) << INDEX_BITS) | j)
        for j, p in enumerate(exact + [2 * OFFSET_MAX * scale] * (padded - n))
    ]
    return fast + exact


def _chunk_readers(chunk_bits: int) -> tuple[Callable, Callable]:
    """``chunk(bits, c)``: coarse uniform ``c`` of a draw as a float; ``scaled(bits, c)``: it times 2^S."""
    mask = (1 << chunk_bits) - 1
    sub = _EXACT_BITS - 3 - chunk_bits
    if SIMULATOR:

        def chunk(bits, c):
            return float((bits >> (64 - chunk_bits * (c + 1))) & mask)

        def scaled(bits, c):
            return float(((bits >> (64 - chunk_bits * (c + 1))) & mask) << sub)

        return chunk, scaled

    @scalar_jit
    def chunk(bits, c):
        # int64 before float: a signed conversion is one instruction, an unsigned one several.
        return float(int64((bits >> uint32(64 - chunk_bits * (c + 1))) & uint64(mask)))

    @scalar_jit
    def scaled(bits, c):
        # The chunk moved straight to its scaled place: one shift (left or right) and one mask.
        shift = 64 - chunk_bits * (c + 1) - sub
        if shift >= 0:
            return float(int64((bits >> uint32(shift)) & uint64(mask << sub)))
        return float(int64((bits << uint32(-shift)) & uint64(mask << sub)))

    return chunk, scaled


@scalar_jit
def _merge(b1, s1, a1, b2, s2, a2):
    """(smallest, second smallest, index of smallest) of two such triples; ties keep the first."""
    return min(b1, b2), min(max(b1, b2), min(s1, s2)), a2 if b2 < b1 else a1


def _chunk_tree(leaf_key: Callable, tracked: bool, first: int, count: int) -> Callable:
    """Body ``(bits, params, j) -> (smallest, second, index)`` over chunks ``first..first+count`` of a draw.

    A balanced tree of :func:`_merge`: its depth, not the chunk count, is the
    latency of one draw's reduction.  Chunk ``c`` is class ``j + c`` and
    ``leaf_key(bits, c, params[j + c])`` its key.  Untracked trees (keys that
    carry their index) return index 0, and the compiler drops the selects.
    """
    if count == 1:

        @scalar_jit
        def leaf(bits, params, j):
            x = leaf_key(bits, first, params[j + unsigned(first)])
            return x, math.inf, j + unsigned(first) if tracked else unsigned(0)

        return leaf
    if count == 2:

        @scalar_jit
        def pair(bits, params, j):
            x0 = leaf_key(bits, first, params[j + unsigned(first)])
            x1 = leaf_key(bits, first + 1, params[j + unsigned(first + 1)])
            if tracked:
                return min(x0, x1), max(x0, x1), j + unsigned(first + 1) if x1 < x0 else j + unsigned(first)
            return min(x0, x1), max(x0, x1), unsigned(0)

        return pair
    half = count // 2
    left = _chunk_tree(leaf_key, tracked, first, half)
    right = _chunk_tree(leaf_key, tracked, first + half, count - half)

    @scalar_jit
    def node(bits, params, j):
        b1, s1, a1 = left(bits, params, j)
        b2, s2, a2 = right(bits, params, j)
        return _merge(b1, s1, a1, b2, s2, a2)

    return node


def interval_argmin(additive: bool, chunk_bits: int = CHUNK_BITS, always_refine: bool = False) -> Callable:
    r"""The trial body ``argmin(s0, s1, params, n) -> (class, s0, s1)`` over keys packed by :func:`pack_keys`.

    ``params = (code, n, m_1..m_n, fast keys, exact keys)``; ``s0, s1``
    the generator state in variables.  The key of class :math:`j` with coarse
    uniform :math:`k_j 2^{-B}` lies in

    .. math::

        [k_j + p_j,\ k_j + p_j + 1) \ \text{(additive)}, \qquad
        [k_j w_j,\ (k_j + 1) w_j) \ \text{(multiplicative)},

    in units of :math:`2^{-B}`.  The coarse pass decides when the second
    smallest lower end clears the smallest one's upper end: additive keys
    are exact integers with a margin for the packing (:func:`pack_keys`),
    multiplicative ones are tested with a relative margin of :math:`2^{-40}`,
    far above their rounding; both refined keys are monotone roundings of
    values inside the intervals, so the coarse decision is the refined one.
    ``always_refine=True`` builds the reference that tests hold it to: every
    trial takes the refined path.
    """
    g = per_draw(chunk_bits)
    chunk, scaled = _chunk_readers(chunk_bits)

    sub = _EXACT_BITS - 3 - chunk_bits
    # One grid step, both roundings of a packed offset, and the refined keys' rounding.
    additive_margin = 2.0**sub + 2.0 ** (INDEX_BITS + 1) + 2.0 ** (sub - 12)
    index_mask = (1 << INDEX_BITS) - 1

    if additive:

        @scalar_jit
        def leaf_key(bits, c, q):
            return scaled(bits, c) + q

        @scalar_jit
        def exact_key(u, p):
            return u + p

        @scalar_jit
        def finish(best, second, arg, params, off):
            # The winner's class sits in the low bits of its (integer) key.
            return unsigned(signed(best)) & unsigned(index_mask), second - best > additive_margin

    else:

        @scalar_jit
        def leaf_key(bits, c, w):
            return chunk(bits, c) * w

        @scalar_jit
        def exact_key(u, w):
            return u * w

        @scalar_jit
        def finish(best, second, arg, params, off):
            return arg - off, second > (best + params[arg]) * (1.0 + _MULTIPLICATIVE_MARGIN)

    group = _chunk_tree(leaf_key, not additive, 0, g)

    @scalar_jit
    def argmin(s0, s1, params, n):
        r0, r1 = s0, s1  # the coarse draws start here: a refinement replays them
        nn = unsigned(n)
        off = unsigned(2) + nn
        draws = (nn + unsigned(g - 1)) // unsigned(g)
        exact = off + draws * unsigned(g)
        bits, s0, s1 = next_ts(s0, s1)
        best, second, arg = group(bits, params, off)
        for d in range(unsigned(1), draws):
            bits, s0, s1 = next_ts(s0, s1)
            b, s, a = group(bits, params, off + d * unsigned(g))
            best, second, arg = _merge(best, second, arg, b, s, a)
        cls, decided = finish(best, second, arg, params, off)
        if always_refine or not likely(decided):
            # Inline, not a function taking params: numba would then count
            # references to params around every trial.  The fine bits come
            # from (s0, s1), after the coarse ones.
            best = math.inf
            j = unsigned(0)
            while j < nn:
                bits, r0, r1 = next_ts(r0, r1)
                for c in range(g):
                    if j < nn:
                        v, s0, s1 = uniform_ts(s0, s1)
                        x = exact_key(chunk(bits, c) + v, params[exact + j])
                        if x < best:
                            best = x
                            cls = j
                    j += unsigned(1)
        return signed(cls), s0, s1

    return argmin


__all__ = ["CHUNK_BITS", "INDEX_BITS", "interval_argmin", "pack_keys", "per_draw", "refinement_bound"]
