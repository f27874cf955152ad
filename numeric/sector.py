r"""Sector problem: Monte Carlo trial bodies and an exact recursive oracle.

Two simulators estimate the same probability by different routes:

* :data:`FAITHFUL` draws points uniformly in the unit disk (radius
  :math:`\sqrt U`, angle :math:`2\pi V`), recovers their angles with ``atan2``
  and tests directly whether some point starts a sector of angle θ holding
  all the others (O(n²) per trial);
* :data:`REDUCED` fixes the first point at angle 0 (rotation invariance),
  draws the other n-1 angles as fractions of the turn and tests whether some
  circular gap is at least :math:`a = 1 - \theta/2\pi`: by sorting for
  small n (in registers up to n = 4), else by a bucket scan over only
  :math:`k = \min(\lceil 1/a\rceil, n)` buckets, since a gap of length
  :math:`a` must cross a multiple of :math:`1/k` (O(n + k) per trial).

The oracle does not use the inclusion-exclusion formula: it conditions on the
first spacing, whose density is :math:`(m-1)(1-t)^{m-2}`, and recurses on the
rescaled remaining stick,

.. math::

    H_m(y) = \int_{\max(1-y, 0)}^{1} (m-1)\,u^{m-2}\,H_{m-1}(y/u)\,du,
    \qquad H_1(y) = [y \ge 1],

where :math:`H_m(y) = P(\text{all } m \text{ spacings} \le y)`.  Each
:math:`H_m` is a polynomial on every interval :math:`[1/(i+1), 1/i]`; the
recursion is carried out exactly in rational arithmetic.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import mpmath
import numpy as np
from numba import uint64

from closedform.numeric.drivers import StreamKernel
from closedform.numeric.rng import uniform
from closedform.numeric.target import scalar_jit

#: Largest n the CUDA kernels accept (local-memory scratch is sized at compile time).
MAX_POINTS_CUDA = 128

# ----------------------------------------------------------------------------
# Scalar bodies (shared by the CPU prange driver and the CUDA kernel)
# ----------------------------------------------------------------------------


#: Up to this many points the largest gap comes from a sort held in registers
#: (:func:`largest_gap_of_three`), up to :data:`SMALL_N` from an insertion sort
#: through memory, above it from the crossing-gap bucket scan.  Measured on this
#: project's 2-core machine: registers are 1.8x faster than insertion at n = 4
#: (95% of the RNG limit), insertion 1.3x faster than the buckets at n = 5, the
#: buckets faster from n = 8 on.  (Register sorts of more points were faster
#: still, but numba took minutes to compile the driver around them.)
REGISTER_N = 4
SMALL_N = 7


@scalar_jit
def largest_gap_of_three(states, stream, m):
    """Largest circular gap of m <= 3 uniforms and the point 0, sorted in registers.

    Draws that are not needed become points at 1.0 (the same point as 0 on
    the circle), which only add gaps of length 0.  The three compare-exchanges
    are ``min``/``max`` pairs: selects, with no loads, stores or branches
    (the tests on ``m`` go the same way on every trial of a run).
    """
    a = uniform(states, stream) if m > 0 else 1.0
    b = uniform(states, stream) if m > 1 else 1.0
    c = uniform(states, stream) if m > 2 else 1.0
    a, b = min(a, b), max(a, b)
    b, c = min(b, c), max(b, c)
    a, b = min(a, b), max(a, b)
    return max(max(a, b - a), max(c - b, 1.0 - c))


@scalar_jit
def largest_gap_by_insertion(states, stream, n, scratch):
    """Largest circular gap of n-1 uniforms and 0, sorting into ``scratch`` (n-1 slots)."""
    m = uint64(0)
    for _ in range(n - 1):
        carry = uniform(states, stream)
        # Insert by carrying the larger value rightwards: selects, no data-dependent branch.
        for j in range(m):
            v = scratch[j]
            smaller = carry < v
            scratch[j] = carry if smaller else v
            carry = v if smaller else carry
        scratch[m] = carry
        m += uint64(1)
    prev = 0.0
    best = 0.0
    for j in range(m):
        v = scratch[j]
        gap = v - prev
        best = gap if gap > best else best
        prev = v
    wrap = 1.0 - prev
    return wrap if wrap > best else best


@scalar_jit
def largest_crossing_gap(states, stream, m, k, scratch):
    r"""Draw m uniforms; return the largest circular gap (with the point 0) that contains some b/k.

    The gap containing the boundary :math:`b/k` runs from the highest point
    below it to the lowest point above it.  With buckets of width 1/k,

    .. math::

        g_b = \min_{j \ge b} \mathrm{lo}_j - \max_{j < b} \mathrm{hi}_j,
        \qquad b = 1, \dots, k,

    a suffix minimum minus a prefix maximum, with :math:`\mathrm{lo}_k = 1`
    (the point 0 seen from above).  ``scratch`` holds
    :math:`1 - \mathrm{lo}_j` in slots ``0..k-1`` and :math:`\mathrm{hi}_j` in
    slots ``k..2k-1``, both running maxima whose neutral value is 0: an empty
    bucket (lo = 1, hi = 0) can never move a minimum that includes 1 or a
    maximum that includes 0, so no occupancy test is needed.  The slots must
    be zero on entry and are zero again on return (the final sweep resets
    them): the drivers hand out zeroed scratch, and a fresh fill per trial
    would cost a store per slot that the next loads must wait for.

    With k = n this is the largest gap (it is at least 1/n, so it contains a
    boundary); with k = :func:`boundary_count` it decides "some gap
    :math:`\ge a`" exactly.  Indices are unsigned on purpose: numba wraps
    negative signed indices, four more instructions per access (measured:
    the loop runs 1.4x faster without them).
    """
    ku = uint64(k)
    for _ in range(m):
        u = uniform(states, stream)
        # u <= 1 - 2**-53, so u * k rounds below k for every k >= 1 (tested): no clamp.
        b = uint64(u * k)
        v = 1.0 - u
        a = scratch[b]
        h = scratch[ku + b]
        # Selects, not branches: which bucket a point falls in is random.
        scratch[b] = v if v > a else a
        scratch[ku + b] = u if u > h else h
    # Upward: prefix maxima of hi, in place.  Downward: suffix maximum of 1 - lo, the gaps, the reset.
    top = 0.0
    for b in range(ku):
        h = scratch[ku + b]
        top = h if h > top else top
        scratch[ku + b] = top
    above = 0.0  # 1 - (lowest point above the current boundary); the point 1 gives 0
    best = 0.0
    for i in range(ku):
        b = ku - uint64(1) - i
        g = 1.0 - above - scratch[ku + b]  # the gap through the boundary (b + 1)/k
        best = g if g > best else best
        a = scratch[b]
        above = a if a > above else above
        scratch[b] = 0.0
        scratch[ku + b] = 0.0
    return best


@scalar_jit
def largest_gap_through(states, stream, n, k, scratch):
    """Draw n-1 uniform angles (plus one at 0); return the largest circular gap containing some b/k.

    Small n are sorted, which gives the largest gap itself (it contains a
    boundary whenever it reaches 1/k, so the threshold test decides alike);
    larger n go through :func:`largest_crossing_gap` with k buckets.  With
    k = n the result is the largest gap for every n.  2k scratch slots.
    """
    if n <= REGISTER_N:
        return largest_gap_of_three(states, stream, n - 1)
    if n <= SMALL_N:
        return largest_gap_by_insertion(states, stream, n, scratch)
    return largest_crossing_gap(states, stream, n - 1, k, scratch)


@scalar_jit
def largest_circular_gap(states, stream, n, scratch):
    """Draw n-1 uniform angles (plus one at 0) and return the largest circular gap (2n scratch slots)."""
    return largest_gap_through(states, stream, n, n, scratch)


@scalar_jit
def reduced_trial(states, stream, params, scratch):
    """params = pack_sector(n, θ): category 0 when some circular gap reaches 1 - θ/2π, else -1."""
    g = largest_gap_through(states, stream, int(params[0]), int(params[2]), scratch)
    return 0 if g >= params[1] else -1


@scalar_jit
def faithful_trial(states, stream, params, scratch):
    """params = (n, θ): uniform points in the disk, direct sector containment test (0 = inside, -1 = not)."""
    n = int(params[0])
    theta = params[1]
    two_pi = 2.0 * math.pi
    for i in range(n):
        r = math.sqrt(uniform(states, stream))
        phi = two_pi * uniform(states, stream)
        a = math.atan2(r * math.sin(phi), r * math.cos(phi))
        if a < 0.0:
            a += two_pi
        scratch[i] = a
    for i in range(n):
        inside = True
        for j in range(n):
            d = scratch[j] - scratch[i]
            if d < 0.0:
                d += two_pi
            if d > theta:
                inside = False
                break
        if inside:
            return 0
    return -1


@scalar_jit
def largest_gap_moment_trial(states, stream, params, scratch, acc):
    """params = (n,): accumulate the largest spacing and its square."""
    g = largest_circular_gap(states, stream, int(params[0]), scratch)
    acc[0] += g
    acc[1] += g * g


@scalar_jit
def exceedance_trial(states, stream, params, scratch):
    """params = (n, c1, c2, c3): sort n-1 uniforms, test x1 > c1, x2 > c2, x3 > c3."""
    n = int(params[0])
    m = n - 1
    for i in range(m):
        u = uniform(states, stream)
        j = i
        while j > 0 and scratch[j - 1] > u:  # insertion sort: n is small here
            scratch[j] = scratch[j - 1]
            j -= 1
        scratch[j] = u
    prev = 0.0
    for k in range(3):
        nxt = scratch[k] if k < m else 1.0
        if nxt - prev <= params[1 + k]:
            return -1
        prev = nxt
    return 0


REDUCED = StreamKernel(
    reduced_trial,
    acc_width=lambda p: 1,
    scratch_len=lambda p: 2 * int(p[0]),
    scratch_capacity=2 * MAX_POINTS_CUDA,
    acc_capacity=1,
    outcome="category",
)
FAITHFUL = StreamKernel(
    faithful_trial,
    acc_width=lambda p: 1,
    scratch_len=lambda p: int(p[0]),
    scratch_capacity=MAX_POINTS_CUDA,
    acc_capacity=1,
    outcome="category",
)
LARGEST_GAP = StreamKernel(
    largest_gap_moment_trial,
    acc_width=lambda p: 2,
    scratch_len=lambda p: 2 * int(p[0]),
    scratch_capacity=2 * MAX_POINTS_CUDA,
    acc_capacity=2,
    integer=False,
)
EXCEEDANCE = StreamKernel(
    exceedance_trial,
    acc_width=lambda p: 1,
    scratch_len=lambda p: max(int(p[0]) - 1, 1),
    scratch_capacity=MAX_POINTS_CUDA,
    acc_capacity=1,
    outcome="category",
)


def boundary_count(n: int, threshold: float) -> int:
    r"""Buckets that make the threshold test exact: :math:`k = \min(\lceil 1/a \rceil, n)`.

    A gap of length at least :math:`a \ge 1/k` contains some boundary
    :math:`b/k`; when :math:`k = n`, the largest gap is at least :math:`1/n`
    (n gaps sum to 1) and contains one.  Either way "some gap :math:`\ge a`"
    holds exactly when some gap through a boundary is :math:`\ge a`, and
    fewer buckets mean less work per trial.

    >>> boundary_count(16, 0.25), boundary_count(16, 0.01), boundary_count(16, 0.0)
    (4, 16, 16)
    """
    if threshold <= 0.0:
        return max(int(n), 1)
    return max(1, min(math.ceil(1.0 / threshold), int(n)))


def pack_sector(n, theta) -> np.ndarray:
    """Kernel parameters of :data:`REDUCED`: (n, gap threshold a = 1 - θ/2π, buckets k).

    >>> pack_sector(16, 1.5 * math.pi).tolist()
    [16.0, 0.25, 4.0]
    """
    a = 1.0 - float(theta) / (2.0 * math.pi)
    return np.array([float(n), a, float(boundary_count(int(n), a))])


def pack_faithful(n, theta) -> np.ndarray:
    return np.array([float(n), float(theta)])


# ----------------------------------------------------------------------------
# Oracle: exact recursion over the first spacing
# ----------------------------------------------------------------------------

Poly = tuple[Fraction, ...]


def _poly_add(a: list[Fraction], b, scale: Fraction = Fraction(1)) -> None:
    for i, c in enumerate(b):
        while len(a) <= i:
            a.append(Fraction(0))
        a[i] += scale * c


@cache
def _one_minus_y_power(k: int) -> Poly:
    return tuple(Fraction(math.comb(k, j) * (-1) ** j) for j in range(k + 1))


@cache
def all_spacings_below_pieces(m: int) -> tuple[Poly, ...]:
    """Pieces of :math:`H_m`: entry i (1..m-1) is the polynomial on [1/(i+1), 1/i].

    Entry 0 stands for y >= 1 (H = 1); pieces i >= m are 0 (y < 1/m).
    """
    if m == 1:
        return ((Fraction(1),),)
    prev = all_spacings_below_pieces(m - 1)

    def piece_of_prev(j: int) -> Poly:
        return prev[j] if j < len(prev) else ()

    pieces: list[Poly] = [(Fraction(1),)]
    for i in range(1, m):
        acc: list[Fraction] = []
        # u from i*y to 1: argument y/u in piece i of H_{m-1}.
        for j, c in enumerate(piece_of_prev(i)):
            e = m - 1 - j  # exponent of u after integrating u^(m-2-j)
            w = Fraction(m - 1, e) * c
            _poly_add(acc, [Fraction(0)] * j + [w])  # upper limit u = 1: y^j
            _poly_add(acc, [Fraction(0)] * (m - 1) + [w * i**e], Fraction(-1))  # u = i*y
        # u from 1-y to i*y: argument y/u in piece i-1 of H_{m-1}.
        for j, c in enumerate(piece_of_prev(i - 1)):
            e = m - 1 - j
            w = Fraction(m - 1, e) * c
            _poly_add(acc, [Fraction(0)] * (m - 1) + [w * i**e])  # u = i*y
            lower = [Fraction(0)] * j + list(_one_minus_y_power(e))  # y^j (1-y)^e
            _poly_add(acc, lower, -w)
        pieces.append(tuple(acc))
    return tuple(pieces)


def all_spacings_below(m: int, y: Fraction) -> Fraction:
    """Exact :math:`H_m(y)` = P(every one of the m spacings is at most y) for rational y."""
    if y >= 1:
        return Fraction(1)
    if y * m < 1:
        return Fraction(0)
    i = math.floor(1 / y)
    if i >= m:  # only at y == 1/m exactly
        return Fraction(0)
    total = Fraction(0)
    for c in reversed(all_spacings_below_pieces(m)[i]):
        total = total * y + c
    return total


def _mpf_to_fraction(x: mpmath.mpf) -> Fraction:
    man, exp = mpmath.mpf(x).man_exp
    return Fraction(int(man)) * (Fraction(2) ** int(exp))


def sector_oracle(n: int, theta) -> mpmath.mpf:
    """P(n disk points in a sector of angle θ) = 1 - H_n(1 - θ/2π), exact for the mpf θ given."""
    n = int(n)
    theta = mpmath.mpf(theta)
    with mpmath.workprec(mpmath.mp.prec + 64):
        a = 1 - theta / (2 * mpmath.pi)
    if n == 1 or a <= 0:
        return mpmath.mpf(1)
    p = 1 - all_spacings_below(n, _mpf_to_fraction(a))
    return mpmath.mpf(p.numerator) / p.denominator


def largest_gap_mean_oracle(n: int) -> mpmath.mpf:
    """E[largest spacing] = ∫_0^1 (1 - H_n(y)) dy, integrated piece by piece exactly."""
    n = int(n)
    pieces = all_spacings_below_pieces(n)
    total = Fraction(1)  # ∫_0^1 1 dy, minus ∫ H_n
    for i in range(1, n):
        lo, hi = Fraction(1, i + 1), Fraction(1, i)
        for j, c in enumerate(pieces[i]):
            total -= c * (hi ** (j + 1) - lo ** (j + 1)) / (j + 1)
    return mpmath.mpf(total.numerator) / total.denominator


def exceedance_oracle(n: int, c1, c2, c3) -> mpmath.mpf:
    """P(x1 > c1, x2 > c2, x3 > c3) by iterated quadrature of the marginal density of order statistics.

    With the sorted uniforms :math:`u_{(1)} < u_{(2)} < u_{(3)}`, the joint density
    of the first three is :math:`\\frac{(n-1)!}{(n-4)!}(1-u_3)^{n-4}`; the
    event is :math:`u_1 > c_1, u_2 - u_1 > c_2, u_3 - u_2 > c_3`.  The inner
    integral over :math:`u_3` is done in closed form, the outer two by tanh-sinh.
    """
    n = int(n)
    c1, c2, c3 = (mpmath.mpf(c) for c in (c1, c2, c3))
    if n < 4:
        raise ValueError("the three-spacing oracle needs n >= 4")
    const = mpmath.factorial(n - 1) / mpmath.factorial(n - 4)

    def inner(u2):
        # ∫_{u2+c3}^1 (1-u3)^(n-4) du3, done in closed form.
        return const * (1 - u2 - c3) ** (n - 3) / (n - 3)

    top = 1 - c2 - c3
    if c1 >= top:
        return mpmath.mpf(0)
    # Integration limits follow the support, so both integrands are smooth polynomials.
    return mpmath.quad(lambda u1: mpmath.quad(inner, [u1 + c2, 1 - c3]), [c1, top])
