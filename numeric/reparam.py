r"""The law of argmax(μ + ε) with Normal noise: a fast batched evaluator and its gradient.

For scaled logits :math:`m \in \mathbb R^C` (``m = μ/τ``) and i.i.d. standard
normal noise,

.. math::

    p_i = \int_{-\infty}^{\infty} \varphi(x - m_i) \prod_{j \ne i} \Phi(x - m_j)\,dx
        = \int \rho_i(x)\, G(x)\,dx, \qquad
    G(x) = \prod_j \Phi(x - m_j), \quad \rho_i = \frac{\varphi(x - m_i)}{\Phi(x - m_i)} ,

and the Jacobian :math:`J_{il} = \partial p_i / \partial m_l` is symmetric,
:math:`J_{il} = -\int \rho_i \rho_l G\,dx` for :math:`l \ne i`, with zero row
sums.  Hence the Jacobian-vector product costs one pass as well:

.. math::

    (J c)_i = -\int \rho_i(x) G(x) \bigl(S(x) - c_i R(x)\bigr)\,dx, \qquad
    S = \sum_l \rho_l c_l, \quad R = \sum_l \rho_l .

Writing every class against the common product :math:`G` makes a row cost
:math:`O(CK)` instead of :math:`O(C^2 K)` for :math:`K` nodes.

**Rule.**  Each integrand :math:`\rho_i G = \varphi_i \prod_{j\ne i}\Phi_j` is an
entire function that decays on both sides, so the trapezoid rule
:math:`h \sum_k f(x_k)` converges geometrically in :math:`1/h`.  The step
must resolve the steepest rise of :math:`G`: a cluster of :math:`k` tied
classes makes it a Gumbel-like edge whose width shrinks like :math:`1/\ln k`.
The step is read off the hazard :math:`R(L) = (\log G)'(L)` at the window's
left end: :math:`k` is the number of tied classes that have this hazard at
their own point :math:`G = ε`, and :math:`h = 0.85/(1.1 + \ln k)`, at most 1/2.
Ties were the sharpest rows found in a random search over clustered logits;
the constants put the quadrature error near 1e-15, and the tests check it by
halving the step.

Past the rise of :math:`G` only Gaussian-smooth tails are left, so in rows of
:data:`MAP_MIN_CLASSES` classes or more the nodes spread out there: the rule is
the trapezoid rule in :math:`u` for :math:`x = \psi(u)`,

.. math::

    \psi(u) = L + u + (a - 1)\,s\,\bigl(I(z) - I(z_0)\bigr), \quad
    \psi'(u) = 1 + (a - 1)\,\Phi(z), \quad z = \frac{u - c}{s},

with the entire function :math:`I(z) = z\Phi(z) + \varphi(z)` (so the mapped
integrand :math:`f(\psi(u))\psi'(u)` stays analytic), :math:`c` the width of the
rise from :math:`G = ε` to :math:`G = 0.9` for :math:`k` tied classes,
:math:`s = 5h` and :math:`a h \le` :data:`RIGHT_STEP` = 0.45.  That cuts the nodes
of a row with 100 classes by about 40%.  Node counts are rounded up to whole
vectors of 8, the last node placed on :math:`U`.

**Window.**  :math:`G` is the CDF of :math:`M = \max_j(m_j + ε_j)`.  The part of
:math:`p_i` below :math:`L` is at most :math:`G(L)`; the part above :math:`U` is
at most :math:`P(M > U) \le \sum_j \bar\Phi(U - m_j)`.  Both are kept below
:data:`TRUNCATION` (ε).  :math:`L` lies between :math:`\max m - 7.94`
(:math:`\Phi(-7.94) = ε`) and :math:`\max m + \Phi^{-1}((2ε)^{1/C})`; seven probes
of :math:`G` on that interval bracket it; then, until the bracket is 0.1 wide
(at most three times), a Newton step on the concave :math:`\log G` (which
stays left of :math:`L`) and a secant (which stays right of it) narrow it and
eight probes split it.  The hazard at :math:`L` is interpolated in
:math:`\log G` across the last bracket.  For :math:`U`, the tail sum at
:math:`U_0 = \max m + 7.94` (an eighth probe of the first pass) and
:math:`\bar\Phi(y + δ) \le \bar\Phi(y) e^{-yδ}` give
:math:`U = U_0 + \ln(\text{tail}/ε)/7.94`.  Classes more than
:data:`SATURATION` below a node have :math:`\Phi = 1` and :math:`\varphi < 10^{-16}`
there and are skipped; classes below :math:`\max m - 16.44` are skipped
altogether (their :math:`p_j < 10^{-30}` is returned as 0).

**Φ and φ without erfc or exp.**  The Mills ratio
:math:`\mathcal R(t) = \bar\Phi(t)/\varphi(t)` gives both tails to full relative
precision with no cancellation:

.. math::

    \Phi(y) = \varphi(y)\,\mathcal R(-y), \quad \rho = 1/\mathcal R(-y) \quad (y < 0), \qquad
    \Phi(y) = 1 - \varphi(y)\,\mathcal R(y), \quad \rho = \varphi/\Phi \quad (y \ge 0).

:math:`\mathcal R(t) = τ P(τ)` with :math:`τ = 4/(4 + t)` and :math:`P` a degree-17
polynomial, interpolated from 40-digit mpmath values (once: :func:`generate_tables`
writes it to :mod:`closedform.numeric.reparam_tables`) on
:math:`t \in [0, 9]` (relative error below 1e-15, tested; 5e-16 measured); :math:`\varphi(y)` is
:math:`e^{-n}/\sqrt{2\pi}` from a table times a Taylor polynomial of
:math:`e^{f}` on :math:`|f| \le 1/2`.  Nodes run in the inner loop, one class at a
time, so the compiled loops are branch-free and vectorise for any C; a row
costs two to four probe passes and two node passes over its classes (the
second, a dot product per class, reuses the stored ratios).
"""

from __future__ import annotations

import math

import mpmath
import numba
import numpy as np

from closedform.derive.errors import ParameterError
from closedform.numeric import reparam_tables as _tables
from closedform.numeric.target import jit, parallel_jit, prange, scalar_jit

#: Bound on each truncated tail of the integral (probability mass), well below the 1e-10 target.
TRUNCATION = 1e-15
#: Beyond this standardised distance Φ(y) rounds to 1 and φ(y) < 1e-16.
SATURATION = 8.5
#: Step rule h = STEP_SCALE / (STEP_OFFSET + ln k), at most STEP_MAX (k: tied classes with the same hazard).
STEP_SCALE = 0.85
STEP_OFFSET = 1.1
STEP_MAX = 0.5
#: Past the rise of G the nodes spread out to this spacing (what is left is Gaussian-smooth)...
RIGHT_STEP = 0.45
#: ...in rows of at least this many active classes (below, mapping the nodes costs more than it saves)...
MAP_MIN_CLASSES = 8
#: ...through a transition centred where k tied classes would have G = RISE_LEVEL, TRANSITION steps wide.
RISE_LEVEL = 0.9
TRANSITION = 5.0
#: Mills ratio R(t) = τ P(τ), τ = MILLS_SHIFT / (MILLS_SHIFT + t), on t in [0, MILLS_RANGE].
MILLS_SHIFT = 4.0
MILLS_RANGE = 9.0
MILLS_DEGREE = 17
#: Probes of G per stage of the window search (one vector of doubles)...
PROBES = 8
#: ...refining the bracket of L at most this often, or until it is this narrow.
REFINE_STAGES = 3
BRACKET_WIDTH = 0.1
#: Node counts are rounded up to a multiple of this (the spacing shrinks to put the last node on U),
#: and so are the nodes a class is evaluated at: a partial vector of doubles runs as scalar code.
NODE_PAD = 8
#: Classes x nodes beyond which the ratios are recomputed in the second pass instead of stored.
STORE_LIMIT = 1 << 22


def _kernel(*, reassoc: bool = False, inline: bool = False):
    """:func:`~closedform.numeric.target.jit` preset for the evaluator's loops (plain Python under the simulator).

    ``error_model="numpy"`` drops the zero-division check that keeps LLVM from
    vectorising a loop with a division; ``contract`` lets it fuse multiply-adds
    (the polynomials); ``reassoc``, only on loops that sum over nodes, lets it
    split a sum across vector lanes.  No flag that assumes finite values or
    ignores signed zeros is set, so the comparisons keep their meaning.
    """
    return jit(fastmath={"contract", "reassoc"} if reassoc else {"contract"}, inline=inline)


def _fit_mills_ratio() -> tuple[np.ndarray, float, float]:
    """Power-basis coefficients of P(τ) = R(t)/τ in s ∈ [-1, 1] (τ = a s + b), from mpmath at 40 digits.

    Chebyshev interpolation at MILLS_DEGREE + 8 points on [τ(MILLS_RANGE), 1]:
    P is analytic around that interval (R(t) ~ 1/t, so P tends to 1/MILLS_SHIFT),
    its Chebyshev coefficients fall to 2e-17 of the first by degree 17, and the
    power-basis coefficients stay below 1 in size, so Horner's rule loses
    nothing.  Returns (coefficients, 1/a, -b/a): s = τ/a - b/a.
    """
    with mpmath.workdps(40):
        shift = mpmath.mpf(MILLS_SHIFT)
        lo = shift / (shift + MILLS_RANGE)
        n = MILLS_DEGREE + 8
        half = mpmath.mpf(1) / 2

        def p_of_tau(tau):
            t = shift * (1 / tau - 1)
            return mpmath.erfc(t / mpmath.sqrt(2)) / 2 / mpmath.npdf(t) / tau

        angles = [mpmath.pi * (k + half) / n for k in range(n)]
        values = [p_of_tau((1 - lo) / 2 * mpmath.cos(a) + (1 + lo) / 2) for a in angles]
        cheb = [
            2 * mpmath.fsum(v * mpmath.cos(j * a) for v, a in zip(values, angles)) / n for j in range(MILLS_DEGREE + 1)
        ]
        cheb[0] /= 2
        # T_j in the power basis by T_{j+1} = 2 s T_j - T_{j-1}, in exact mpf arithmetic.
        basis = [[mpmath.mpf(1)], [mpmath.mpf(0), mpmath.mpf(1)]]
        for _ in range(2, MILLS_DEGREE + 1):
            twice = [mpmath.mpf(0)] + [2 * v for v in basis[-1]]
            older = basis[-2] + [mpmath.mpf(0)] * (len(twice) - len(basis[-2]))
            basis.append([u - v for u, v in zip(twice, older)])
        power = [
            mpmath.fsum(cheb[j] * basis[j][i] for j in range(i, MILLS_DEGREE + 1) if i < len(basis[j]))
            for i in range(MILLS_DEGREE + 1)
        ]
        return np.array([float(v) for v in power]), float(2 / (1 - lo)), float(-(1 + lo) / (1 - lo))


def generate_tables() -> dict[str, object]:
    """The constants of :mod:`closedform.numeric.reparam_tables`, computed now with mpmath (seconds).

    The Mills-ratio fit (:func:`_fit_mills_ratio`) and the tables of the step
    rule and the window search; see :mod:`closedform.numeric.tablegen`.
    """
    coef, s_scale, s_shift = _fit_mills_ratio()
    values: dict[str, object] = {"MILLS_COEF": tuple(coef.tolist()), "MILLS_S_SCALE": s_scale, "MILLS_S_SHIFT": s_shift}
    with mpmath.workdps(30):
        # e^{-n} / sqrt(2 pi) for n = 0..745 (below, e^{-n} underflows), correctly rounded from mpmath.
        values["GAUSS_TABLE"] = tuple(float(mpmath.exp(-n) / mpmath.sqrt(2 * mpmath.pi)) for n in range(746))
        # Taylor coefficients 1/k! of e^f, k = 0..15: on |f| <= 1/2 the remainder is below 1e-18.
        values["EXP_TAYLOR"] = tuple(float(1 / mpmath.factorial(k)) for k in range(16))
        eps = mpmath.mpf(TRUNCATION)
        # Phi(-LEFT_END) = TRUNCATION.
        values["LEFT_END"] = float(-mpmath.sqrt(2) * mpmath.erfinv(2 * eps - 1))
        # Phi(BRACKET[k])^(2^k) = 2 TRUNCATION.
        values["BRACKET"] = tuple(
            float(mpmath.sqrt(2) * mpmath.erfinv(2 * (2 * eps) ** (mpmath.mpf(2) ** -k) - 1)) for k in range(64)
        )
        ties = [mpmath.mpf(2) ** mpmath.mpf(v) for v in _TIE_LOG2]
        # Hazard k r(y) of k tied classes at their point Phi(y)^k = TRUNCATION.
        values["TIE_HAZARD"] = tuple(
            float(k * mpmath.npdf(y) / mpmath.ncdf(y))
            for k in ties
            for y in [mpmath.sqrt(2) * mpmath.erfinv(2 * eps ** (1 / k) - 1)]
        )
        # Width of the rise of Phi(y)^k from TRUNCATION to RISE_LEVEL, same k.
        values["TIE_RISE"] = tuple(
            float(
                mpmath.sqrt(2)
                * (mpmath.erfinv(2 * mpmath.mpf(RISE_LEVEL) ** (1 / k) - 1) - mpmath.erfinv(2 * eps ** (1 / k) - 1))
            )
            for k in ties
        )
    return values


#: Tied-class counts k = 2^(i/4), i = 0..160, of the step rule's tables.
_TIE_LOG2 = np.arange(0, 161) / 4.0
# The tables below were computed by generate_tables() and stored in reparam_tables (generated).
_MILLS_COEF = np.array(_tables.MILLS_COEF)
_MILLS_S_SCALE, _MILLS_S_SHIFT = _tables.MILLS_S_SCALE, _tables.MILLS_S_SHIFT
#: e^{-n} / sqrt(2 pi) for n = 0..745 (below, e^{-n} underflows), correctly rounded from mpmath.
_GAUSS_TABLE = np.array(_tables.GAUSS_TABLE)
#: Taylor coefficients 1/k! of e^f, k = 0..15: on |f| <= 1/2 the remainder is below 1e-18.
_EXP_TAYLOR = np.array(_tables.EXP_TAYLOR)
#: Φ(-LEFT_END) = TRUNCATION: G(max m - LEFT_END) <= Φ(-LEFT_END) bounds the window's left end.
LEFT_END = _tables.LEFT_END
#: Φ(_BRACKET[k])^(2^k) = 2 TRUNCATION: with at most 2^k classes, G(max m + _BRACKET[k]) > TRUNCATION.
_BRACKET = np.array(_tables.BRACKET)
#: Hazard k r(y) of k = 2^(i/4) tied classes at their point Φ(y)^k = TRUNCATION (the step rule's table).
_TIE_HAZARD = np.array(_tables.TIE_HAZARD)
#: Width of the rise of Φ(y)^k from TRUNCATION to RISE_LEVEL, same k (where the nodes may spread out).
_TIE_RISE = np.array(_tables.TIE_RISE)
_LOG_TRUNCATION = math.log(TRUNCATION)


@_kernel(inline=True)
def _gauss(y):
    """φ(y) = e^{-y²/2}/√(2π) from a table and a Taylor polynomial (vectorises; libm's exp does not)."""
    z = min(0.5 * y * y, 745.0)
    n = math.floor(z + 0.5)
    f = n - z  # exact; |f| <= 1/2
    e = _EXP_TAYLOR[15]
    for k in range(14, -1, -1):
        e = e * f + _EXP_TAYLOR[k]
    return e * _GAUSS_TABLE[int(n)]


@_kernel(inline=True)
def _mills(t):
    """Mills ratio Φ̄(t)/φ(t) for t >= 0 (t is clamped to MILLS_RANGE, where φ(t) R(t) < 1e-19 anyway)."""
    tau = MILLS_SHIFT / (MILLS_SHIFT + min(t, MILLS_RANGE))
    s = tau * _MILLS_S_SCALE + _MILLS_S_SHIFT
    a = _MILLS_COEF[MILLS_DEGREE]
    for k in range(MILLS_DEGREE - 1, -1, -1):
        a = a * s + _MILLS_COEF[k]
    return tau * a


@_kernel(inline=True)
def _cdf_ratio(y):
    """(Φ(y), φ(y)/Φ(y), Φ̄(y)): Φ and the ratio to full relative precision in both tails, Φ̄ for y >= 0."""
    phi = _gauss(y)
    mills = _mills(abs(y))
    q = phi * mills  # Φ(y) for y < 0, Φ̄(y) for y >= 0
    neg = y < 0.0
    cdf = q if neg else 1.0 - q
    # Selects rather than branches: both sides are cheap and the loop stays vectorisable.
    ratio = (1.0 if neg else phi) / (mills if neg else cdf)
    return cdf, ratio, (1.0 - q if neg else q)


@_kernel()
def _probe(ms, na, xs, cdf_prod, hazard, tail):
    """G, R = Σ ρ_j and Σ Φ̄_j at the points xs (relative to max m) over the active logits ms[:na]."""
    for k in range(xs.shape[0]):
        cdf_prod[k] = 1.0
        hazard[k] = 0.0
        tail[k] = 0.0
    for j in range(na):
        mj = ms[j]
        for k in range(xs.shape[0]):
            cdf, ratio, upper = _cdf_ratio(xs[k] - mj)
            cdf_prod[k] *= cdf
            hazard[k] += ratio
            tail[k] += upper


@_kernel(inline=True)
def _step(hazard):
    """(h, rise) for a row whose hazard at the window's left end is ``hazard``.

    k, the number of tied classes with this hazard at their own point G = ε, is
    interpolated in log k; h = STEP_SCALE / (STEP_OFFSET + ln k), and ``rise`` is
    how far right of L the G of k tied classes reaches RISE_LEVEL.
    """
    lo = 0
    hi = _TIE_HAZARD.shape[0] - 1
    if hazard <= _TIE_HAZARD[lo]:
        hi = lo
        w = 0.0
    elif hazard >= _TIE_HAZARD[hi]:
        lo = hi
        w = 0.0
    else:
        while hi - lo > 1:  # _TIE_HAZARD increases with k
            mid = (lo + hi) // 2
            if _TIE_HAZARD[mid] <= hazard:
                lo = mid
            else:
                hi = mid
        w = (hazard - _TIE_HAZARD[lo]) / (_TIE_HAZARD[hi] - _TIE_HAZARD[lo])
    log2k = _TIE_LOG2[lo] + w * (_TIE_LOG2[hi] - _TIE_LOG2[lo])
    rise = _TIE_RISE[lo] + w * (_TIE_RISE[hi] - _TIE_RISE[lo])
    return min(STEP_MAX, STEP_SCALE / (STEP_OFFSET + log2k * math.log(2.0))), rise


@_kernel(inline=True)
def _integral_of_cdf(z):
    """I(z) = ∫_{-∞}^z Φ = z Φ(z) + φ(z), the map's stretch (I' = Φ, I'' = φ)."""
    phi = _gauss(z)
    q = phi * _mills(abs(z))
    return z * (q if z < 0.0 else 1.0 - q) + phi, (q if z < 0.0 else 1.0 - q)


@_kernel()
def _map_nodes(lo, h, centre, width, stretch, count, xs, ws):
    """Nodes x_k = ψ(kh) and weights h ψ'(kh), k < count, of the trapezoid rule in u.

    ψ(u) = L + u + (a - 1) s (I(z) - I(z_0)), z = (u - c)/s, z_0 = -c/s, with the
    entire function I(z) = z Φ(z) + φ(z) (I' = Φ): ψ' = 1 + (a - 1) Φ(z) rises
    smoothly from 1 to a = ``stretch``, and the mapped integrand stays analytic.
    """
    first, _ = _integral_of_cdf(-centre / width)
    for k in range(count):
        u = k * h
        big_i, cdf = _integral_of_cdf((u - centre) / width)
        xs[k] = lo + u + (stretch - 1.0) * width * (big_i - first)
        ws[k] = h * (1.0 + (stretch - 1.0) * cdf)


@_kernel()
def _nodes(lo, h, rise, hi, stretch, xs, ws):
    """Nodes and weights on [L, U] in whole vectors; returns (count, h, stretch, offset).

    ``stretch`` = 1: the plain trapezoid rule, its step shrunk so that the last
    node lands on U.  Otherwise the mapped rule of :func:`_map_nodes`: ψ(u) >=
    L + a u - offset for every u (I(z) >= z), with equality but for the tiny
    I(z) - z once u is past the transition, so that line's crossing of U gives
    the count; then the stretch is lowered (never raised: the right-hand spacing
    stays at most RIGHT_STEP) so that the last node lands on U.
    """
    if stretch == 1.0:
        nodes = (int(math.ceil((hi - lo) / h)) + NODE_PAD) // NODE_PAD * NODE_PAD
        h = (hi - lo) / (nodes - 1)
        for k in range(nodes):
            xs[k] = lo + k * h
            ws[k] = h
        return nodes, h, 1.0, 0.0
    width = TRANSITION * h
    first, _ = _integral_of_cdf(-rise / width)
    span = (hi - lo + (stretch - 1.0) * (rise + width * first)) / stretch
    nodes = (int(math.ceil(span / h)) + NODE_PAD) // NODE_PAD * NODE_PAD
    end_i, _ = _integral_of_cdf(((nodes - 1) * h - rise) / width)
    stretched = width * (end_i - first)
    if stretched > 0.0:
        stretch = min(stretch, max(1.0, 1.0 + (hi - lo - (nodes - 1) * h) / stretched))
    _map_nodes(lo, h, rise, width, stretch, nodes, xs, ws)
    return nodes, h, stretch, (stretch - 1.0) * (rise + width * first)


@_kernel(inline=True)
def _window(ms, na, xs, cdf_prod, hazard, tail, step_scale):
    """(L, h, rise, U) of one row, relative to max m: window ends, trapezoid step, width of G's rise."""
    left = -LEFT_END  # G(left) <= Φ(left) = TRUNCATION
    right = _BRACKET[min(63, int(math.ceil(math.log2(na))))]  # G(right) > TRUNCATION
    width = (right - left) / (PROBES - 2)
    for k in range(PROBES - 1):
        xs[k] = left + k * width
    xs[PROBES - 1] = LEFT_END  # not a bracket probe: the upper tail sum is read there
    _probe(ms, na, xs, cdf_prod, hazard, tail)
    upper_tail = tail[PROBES - 1]
    i = 0
    for k in range(1, PROBES - 2):
        if cdf_prod[k] <= TRUNCATION:
            i = k
    x0, g0, r0 = xs[i], cdf_prod[i], hazard[i]  # G(x0) <= ε < G(x1)
    x1, g1, r1 = xs[i + 1], cdf_prod[i + 1], hazard[i + 1]
    for _ in range(REFINE_STAGES):
        if x1 - x0 <= BRACKET_WIDTH:
            break
        # log G is concave: a Newton step from x0 stays left of L, the secant lands right of it.
        # (Below 1e-300, G may have underflowed: then the probes split the whole bracket.)
        near = x0
        far = x1
        if g0 > 1e-300:
            l0 = math.log(g0)
            near = min(max(x0 + (_LOG_TRUNCATION - l0) / r0, x0), x1)
            far = min(max(x0 + (x1 - x0) * (_LOG_TRUNCATION - l0) / (math.log(g1) - l0), near), x1)
        for k in range(PROBES):
            xs[k] = near + k * (far - near) / (PROBES - 1)
        _probe(ms, na, xs, cdf_prod, hazard, tail)
        for k in range(PROBES):
            if cdf_prod[k] <= TRUNCATION:
                x0, g0, r0 = xs[k], cdf_prod[k], hazard[k]
            elif xs[k] < x1:
                x1, g1, r1 = xs[k], cdf_prod[k], hazard[k]
                break
    lo = x0
    # The hazard at L itself (where the step rule was calibrated), interpolated in log G.
    lo_hazard = r0
    if g0 > 1e-300 and g1 > g0:
        t = (_LOG_TRUNCATION - math.log(g0)) / (math.log(g1) - math.log(g0))
        lo_hazard = r0 + min(max(t, 0.0), 1.0) * (r1 - r0)
    h, rise = _step(lo_hazard)
    hi = LEFT_END + max(0.0, math.log(upper_tail / TRUNCATION)) / LEFT_END
    return lo, h * step_scale, rise, hi


@_kernel(inline=True)
def _saturation_end(y0, h, stretch, offset, nodes):
    """A node index past which class j has y >= SATURATION (Φ = 1, ρ < 1e-16), in whole vectors.

    ``y0`` = L - m_j.  The nodes satisfy x_k - L >= kh and x_k - L >= a kh - offset
    (ψ' >= 1; ψ lies above its asymptote): the first k where either bound reaches
    SATURATION - y0 is at or past the true end, so the skipped nodes are all
    saturated; the few extra ones computed are exact anyway.  Rounded up to a
    multiple of NODE_PAD: a partial vector would run as scalar code.
    """
    need = SATURATION - y0
    if need <= 0.0:
        return 0
    end = min(math.ceil(need / h), math.ceil((need + offset) / (stretch * h)))
    return min(nodes, (int(end) + NODE_PAD - 1) // NODE_PAD * NODE_PAD)


@_kernel(reassoc=True)
def _sweep(
    ms, cs, na, nodes, xs, ws, lo, h, stretch, offset, p, g, with_jvp, cdf_prod, hazard, weighted, ratios, store
):
    """Quadrature sums of one row at the nodes xs (weights ws): p[j] (and g[j] with_jvp), j < na.

    Without ``store`` the ratios of each class are recomputed in the second pass
    (rows too large to keep ``na * nodes`` of them); ``reassoc`` lets the node
    sums of that pass split across vector lanes.
    """
    for k in range(nodes):
        cdf_prod[k] = 1.0
        hazard[k] = 0.0
        weighted[k] = 0.0
    # Pass 1: G, R and S at every node, one class at a time (nodes vectorise).
    for j in range(na):
        mj = ms[j]
        end = _saturation_end(lo - mj, h, stretch, offset, nodes)
        base = j * nodes if store else 0  # without storing, one row of `ratios` is overwritten
        cj = cs[j]
        # Two copies of the loop rather than a test inside it: each compiles to straight vector code.
        if with_jvp:
            for k in range(end):
                cdf, ratio, _ = _cdf_ratio(xs[k] - mj)
                cdf_prod[k] *= cdf
                hazard[k] += ratio
                weighted[k] += cj * ratio
                ratios[base + k] = ratio
        else:
            for k in range(end):
                cdf, ratio, _ = _cdf_ratio(xs[k] - mj)
                cdf_prod[k] *= cdf
                ratios[base + k] = ratio
        for k in range(end, nodes):
            ratios[base + k] = 0.0
    for k in range(nodes):
        cdf_prod[k] *= ws[k]
        hazard[k] *= cdf_prod[k]
        weighted[k] *= cdf_prod[k]
    # Pass 2: p_j = Σ_k w_k G ρ_j and g_j = -Σ_k w_k G ρ_j (S - c_j R).
    for j in range(na):
        base = j * nodes
        if not store:
            base = 0
            mj = ms[j]
            end = _saturation_end(lo - mj, h, stretch, offset, nodes)
            for k in range(end):
                ratios[k] = _cdf_ratio(xs[k] - mj)[1]
            for k in range(end, nodes):
                ratios[k] = 0.0
        s0 = 0.0
        if with_jvp:
            s1 = 0.0
            s2 = 0.0
            for k in range(nodes):
                ratio = ratios[base + k]
                s0 += cdf_prod[k] * ratio
                s1 += weighted[k] * ratio
                s2 += hazard[k] * ratio
            g[j] = -(s1 - cs[j] * s2)
        else:
            for k in range(nodes):
                s0 += cdf_prod[k] * ratios[base + k]
        p[j] = s0


@_kernel(inline=True)
def _row_law(m, cot, p, g, with_jvp, step_scale, active, ms, cs, pa, ga, xs, probes, nodes_buf, ratios, plan):
    """p (and g = J cot) of one row; returns the work arrays, reallocated when the row needs more room."""
    c = m.shape[0]
    for i in range(c):
        p[i] = 0.0
        if with_jvp:
            g[i] = 0.0
    top = m[0]
    for j in range(1, c):
        top = max(top, m[j])
    # Classes below max m - LEFT_END - SATURATION are saturated at every node: p_j < 1e-30, left at 0.
    na = 0
    for j in range(c):
        if m[j] - top > -LEFT_END - SATURATION:
            active[na] = j
            ms[na] = m[j] - top  # shift by the max: exact for nearby logits, every x below is small
            cs[na] = cot[j]
            na += 1
    if na == 1:
        p[active[0]] = 1.0  # one class always wins; its Jacobian is 0
        plan[0] = 0.0
        plan[1] = 0.0
        plan[2] = 0.0
        plan[3] = 0.0
        return ratios, nodes_buf
    lo, h, rise, hi = _window(ms, na, xs, probes[0], probes[1], probes[2], step_scale)
    # The plain rule's node count bounds the mapped one (ψ' >= 1).
    most = (int(math.ceil((hi - lo) / h)) + NODE_PAD) // NODE_PAD * NODE_PAD
    if most > nodes_buf.shape[1]:
        nodes_buf = np.empty((5, most))
    xs_nodes = nodes_buf[3]
    ws_nodes = nodes_buf[4]
    stretch = max(1.0, RIGHT_STEP * step_scale / h) if na >= MAP_MIN_CLASSES else 1.0
    nodes, h, stretch, offset = _nodes(lo, h, rise, hi, stretch, xs_nodes, ws_nodes)
    store = na * nodes <= STORE_LIMIT
    if (na if store else 1) * nodes > ratios.shape[0]:
        ratios = np.empty((na if store else 1) * nodes)
    plan[0] = lo
    plan[1] = h
    plan[2] = nodes
    plan[3] = xs_nodes[nodes - 1]
    _sweep(
        ms,
        cs,
        na,
        nodes,
        xs_nodes,
        ws_nodes,
        lo,
        h,
        stretch,
        offset,
        pa,
        ga,
        with_jvp,
        nodes_buf[0],
        nodes_buf[1],
        nodes_buf[2],
        ratios,
        store,
    )
    for j in range(na):
        p[active[j]] = pa[j]
        if with_jvp:
            g[active[j]] = ga[j]
    return ratios, nodes_buf


@parallel_jit
def _batch_law(m, cot, p, g, with_jvp, step_scale, plan, threads):
    # Rows are independent; each writes only its own row of p, g and plan.  Work
    # arrays are allocated once per chunk of rows, not once per row.  ``threads``
    # is numba.get_num_threads() from the caller: called in here it is a dynamic
    # global, and numba cannot cache the function.
    rows, c = m.shape
    chunks = min(rows, 8 * threads)
    for chunk in prange(chunks):
        active = np.empty(c, dtype=np.int64)
        ms = np.empty(c)
        cs = np.empty(c)
        pa = np.empty(c)
        ga = np.empty(c)
        xs = np.empty(PROBES)
        probes = np.empty((3, PROBES))
        nodes_buf = np.empty((5, 256))
        ratios = np.empty(c * 64)
        for b in range(chunk * rows // chunks, (chunk + 1) * rows // chunks):
            ratios, nodes_buf = _row_law(
                m[b],
                cot[b],
                p[b],
                g[b],
                with_jvp,
                step_scale,
                active,
                ms,
                cs,
                pa,
                ga,
                xs,
                probes,
                nodes_buf,
                ratios,
                plan[b],
            )


def _as_logits(m, name: str = "m") -> np.ndarray:
    try:
        arr = np.asarray(m, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real array of shape (B, C), got {type(m).__name__}") from None
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ParameterError(f"{name} must be a real array of shape (B, C) with C >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite (every entry in (-inf, inf)), got a NaN or infinity")
    return np.ascontiguousarray(arr)


def _law(m: np.ndarray, cot: np.ndarray | None, step_scale: float = 1.0):
    """(p, g or None, plan) for validated logits; ``plan[b]`` = (L, h, nodes, last node) of row b, relative to max m.

    ``step_scale`` multiplies every node spacing (the step h and RIGHT_STEP): the
    tests halve it to measure the quadrature error of the rule in use.
    """
    p = np.empty_like(m)
    plan = np.empty((m.shape[0], 4))
    if cot is None:
        _batch_law(m, m, p, p, False, float(step_scale), plan, numba.get_num_threads())
        return p, None, plan
    g = np.empty_like(m)
    _batch_law(m, cot, p, g, True, float(step_scale), plan, numba.get_num_threads())
    return p, g, plan


def normal_law(m) -> np.ndarray:
    r"""The argmax law under standard normal noise, batched over rows.

    Parameters
    ----------
    m : array_like, shape (B, C)
        Scaled logits :math:`m = μ/τ`, finite.

    Returns
    -------
    numpy.ndarray, shape (B, C)
        :math:`p_{bi} = P(\operatorname{argmax}_j (m_{bj} + ε_j) = i)`, ε ~ N(0, I).

    .. math::

        p_i = \int \varphi(x - m_i) \prod_{j \ne i} \Phi(x - m_j)\,dx

    Accurate to 1e-10 absolute against the mpmath oracle for C <= 1000 and
    :math:`|m_i - m_j| \le 50` (tested); built for about 1e-15 (each truncated
    tail below 1e-15, the step chosen for a quadrature error near 1e-15), and the
    hardest rows found (ties, one class above a tie of 999) stay below 3e-14.

    Examples
    --------
    >>> p = normal_law([[0.3, 0.0, -0.5, 0.2]])
    >>> [round(float(v), 10) for v in p[0]]
    [0.3485862717, 0.234126485, 0.1108045477, 0.3064826957]
    >>> normal_law([[0.0, 0.0, 0.0]]).round(12).tolist()
    [[0.333333333333, 0.333333333333, 0.333333333333]]
    """
    return _law(_as_logits(m), None)[0]


def normal_law_vjp(m, cot) -> tuple[np.ndarray, np.ndarray]:
    r"""The argmax law under normal noise and the vector-Jacobian product, batched.

    Parameters
    ----------
    m : array_like, shape (B, C)
        Scaled logits.
    cot : array_like, shape (B, C)
        Cotangents (the gradient of a loss with respect to p).

    Returns
    -------
    p, g : numpy.ndarray, shape (B, C)
        The law and :math:`g_b = J_b^\top c_b` with :math:`J = \partial p/\partial m`,
        which is symmetric with zero row sums, so :math:`J^\top c = J c`:

    .. math::

        g_i = \sum_l \frac{\partial p_l}{\partial m_i} c_l
            = -\int \frac{\varphi(x - m_i)}{\Phi(x - m_i)} G(x)
              \sum_{l} \frac{\varphi(x - m_l)}{\Phi(x - m_l)} (c_l - c_i)\,dx .

    Examples
    --------
    >>> p, g = normal_law_vjp([[0.3, 0.0, -0.5, 0.2]], [[1.0, 0.0, 0.0, 0.0]])
    >>> abs(float(g[0].sum())) < 1e-12  # rows of J sum to 0
    True
    >>> bool(g[0, 0] > 0 and (g[0, 1:] < 0).all())  # raising m_0 raises p_0, lowers p_l
    True
    """
    arr = _as_logits(m)
    try:
        c = np.asarray(cot, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"cot must be a real array of shape {arr.shape}") from None
    if c.shape != arr.shape:
        raise ParameterError(f"cot must have the shape of m, {arr.shape}, got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ParameterError("cot must be finite (every entry in (-inf, inf)), got a NaN or infinity")
    p, g, _ = _law(arr, np.ascontiguousarray(c))
    return p, g


# ----------------------------------------------------------------------------
# mpmath oracle: the same integral at 30+ digits, by an independent route
# ----------------------------------------------------------------------------


def normal_law_oracle(m, dps: int = 30) -> list:
    r"""The Normal-noise law of one row at ``dps`` digits (mpmath), for any C.

    Independent of :func:`normal_law`: the window comes from exact tail bounds at
    ``dps + 5`` digits, panels of width 1/4 carry 24-node Gauss–Legendre rules at
    ``dps + 10`` digits, and a second rule (24 nodes per panel of width 1/2)
    must agree to ``10**-dps`` or the oracle raises.  Equal logits are grouped,
    so C = 1000 classes on a few dozen distinct values cost little.

    Examples
    --------
    >>> import mpmath
    >>> [mpmath.nstr(v, 10) for v in normal_law_oracle([0.3, 0.0, -0.5, 0.2])]
    ['0.3485862717', '0.234126485', '0.1108045477', '0.3064826957']
    """
    import mpmath

    return _grouped_panel_oracle(
        [float(v) for v in np.asarray(m, dtype=np.float64).ravel()],
        mpmath.npdf,
        mpmath.ncdf,
        dps,
    )


def _grouped_panel_oracle(m, pdf, cdf, dps, jacobian_cot=None):
    import mpmath
    from mpmath.calculus.quadrature import GaussLegendre

    values = sorted(set(m))
    mult = {v: m.count(v) for v in values}
    out = []
    with mpmath.workdps(dps + 10):
        mv = [mpmath.mpf(v) for v in values]
        top = mv[-1]
        eps = mpmath.mpf(10) ** (-(dps + 5))

        def log_g(x):
            return mpmath.fsum(mult[v] * mpmath.log(cdf(x - w)) for v, w in zip(values, mv))

        def upper_tail(x):
            return mpmath.fsum(mult[v] * (1 - cdf(x - w)) for v, w in zip(values, mv))

        lo, hi = top - 15, top + 2
        while hi - lo > mpmath.mpf("0.01"):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if log_g(mid) < mpmath.log(eps) else (lo, mid)
        left = lo
        lo, hi = top, top + 16
        while hi - lo > mpmath.mpf("0.01"):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if upper_tail(mid) > eps else (lo, mid)
        right = hi

        def integrate(width, degree):
            nodes = GaussLegendre(mpmath.mp).calc_nodes(degree, mpmath.mp.prec)
            panels = int(mpmath.ceil((right - left) / width))
            h = (right - left) / panels
            acc = {v: mpmath.mpf(0) for v in values}
            for k in range(panels):
                a = left + k * h
                for t, w in nodes:
                    x = a + h * (t + 1) / 2
                    # Values far below x have cdf = 1 and pdf = 0 to dps + 10 digits.
                    live = [(v, wv) for v, wv in zip(values, mv) if x - wv < saturation]
                    cdfs = {v: cdf(x - wv) for v, wv in live}
                    big_g = mpmath.fprod(cdfs[v] ** mult[v] for v, _ in live)
                    for v, wv in live:
                        acc[v] += w * h / 2 * big_g * pdf(x - wv) / cdfs[v]
            return acc

        saturation = mpmath.sqrt(2 * (dps + 12) * mpmath.log(10))
        fine = integrate(mpmath.mpf(1) / 4, 4)
        coarse = integrate(mpmath.mpf(1) / 2, 4)
        worst = max(abs(fine[v] - coarse[v]) for v in values)
        if worst > mpmath.mpf(10) ** (-dps):
            raise ArithmeticError(f"oracle rules disagree by {mpmath.nstr(worst, 3)} at {dps} digits")
        out = [fine[v] for v in m]
    return [+v for v in out]


# ----------------------------------------------------------------------------
# Every other family: the same one-pass integral, with a per-family window
# ----------------------------------------------------------------------------

#: Standardised tail levels of the window: each truncated tail is below 1e-17 per class.
_TAIL = "1/100000000000000000"
#: Gauss–Legendre nodes per panel of the generic evaluator.
FAMILY_NODES = 16
_FGL_X, _FGL_W = np.polynomial.legendre.leggauss(FAMILY_NODES)


def _family_constants(name: str) -> tuple[float, float, float, float, bool]:
    """(qlo, qhi, width, panel, heavy): tail quantiles, support width, panel length, heavy-tail flag."""
    import mpmath
    import sympy as sp

    from closedform.derive import reparam as dr

    fam = dr.family(name)
    heavy = name == "cauchy"  # algebraic tails: integrate in s with x = m_max + tan(s)
    if heavy:
        return 0.0, 0.0, math.inf, math.pi / 64, True
    with mpmath.workdps(40):
        q = sp.lambdify(dr.u, fam.quantile, "mpmath")
        tail = mpmath.mpf(sp.Rational(_TAIL).p) / sp.Rational(_TAIL).q
        qlo, qhi = float(q(tail)), float(q(1 - tail))
    width = float(fam.support.sup - fam.support.inf)
    return qlo, qhi, width, 0.5, False


def _build_family_kernel(name: str):
    import sympy as sp

    from closedform.derive import reparam as dr

    fam = dr.family(name)
    pdf = scalar_jit(sp.lambdify(dr.x, fam.pdf, "math"))
    cdf = scalar_jit(sp.lambdify(dr.x, fam.float_cdf, "math"))
    qlo, qhi, _width, panel, heavy = _family_constants(name)
    if heavy:
        # Each class's bump has width 1 in x but 1/(1 + (m_j - max m)^2) in s: cut
        # geometrically around every centre so each piece is resolved.
        kinks = np.array([0.0, 1.0, -1.0, 3.0, -3.0, 10.0, -10.0, 30.0, -30.0, 100.0, -100.0])
    else:
        kinks = np.array([float(k) for k in fam.kinks] or [0.0], dtype=np.float64)

    @scalar_jit
    def node(m, cot, p, g, ratio, x, w, with_jvp):
        """Add one quadrature node (abscissa x, weight w) of every class of one row."""
        c = m.shape[0]
        big_g = 1.0
        ratio_sum = 0.0
        weighted_sum = 0.0
        for j in range(c):
            y = x - m[j]
            if (not heavy) and y > qhi:
                ratio[j] = 0.0  # F = 1 and f < 1e-17 there
                continue
            cj = cdf(y)
            if cj <= 0.0:
                return  # below some class's support: G = 0 at this node
            big_g *= cj
            r = pdf(y) / cj
            ratio[j] = r
            if with_jvp:
                ratio_sum += r
                weighted_sum += r * cot[j]
        if big_g == 0.0:
            return
        wg = w * big_g
        for j in range(c):
            r = ratio[j]
            if r != 0.0:
                p[j] += wg * r
                if with_jvp:
                    g[j] -= wg * r * (weighted_sum - cot[j] * ratio_sum)

    @scalar_jit
    def row(m, cot, p, g, ratio, edges, gl_x, gl_w, with_jvp):
        c = m.shape[0]
        for i in range(c):
            p[i] = 0.0
            if with_jvp:
                g[i] = 0.0
        if c == 1:
            p[0] = 1.0
            return
        top = m[0]
        for j in range(1, c):
            top = max(top, m[j])
        # Panel edges: a regular grid of the window plus every kink m_j + kappa inside it.
        if heavy:
            lo, hi = -0.5 * math.pi, 0.5 * math.pi
        else:
            lo, hi = top + qlo, top + qhi + math.log(c)
        k = 0
        steps = math.ceil((hi - lo) / panel)
        for s in range(steps + 1):
            edges[k] = lo + (hi - lo) * s / steps
            k += 1
        for j in range(c):
            for q in range(kinks.shape[0]):
                e = math.atan(m[j] - top + kinks[q]) if heavy else m[j] + kinks[q]
                if lo < e < hi:
                    edges[k] = e
                    k += 1
        ed = np.sort(edges[:k])
        for s in range(k - 1):
            a = ed[s]
            b = ed[s + 1]
            if b - a < 1e-13:
                continue
            half = 0.5 * (b - a)
            for t in range(gl_x.shape[0]):
                z = a + half * (gl_x[t] + 1.0)
                w = half * gl_w[t]
                if heavy:
                    sec = 1.0 / math.cos(z)
                    node(m, cot, p, g, ratio, top + math.tan(z), w * sec * sec, with_jvp)
                else:
                    node(m, cot, p, g, ratio, z, w, with_jvp)

    n_grid = math.ceil(math.pi / panel) + 1 if heavy else None

    @parallel_jit
    def batch(m, cot, p, g, gl_x, gl_w, with_jvp, grid):
        for b in prange(m.shape[0]):
            ratio = np.empty(m.shape[1], dtype=np.float64)
            edges = np.empty(grid + m.shape[1] * kinks.shape[0] + 1, dtype=np.float64)
            row(m[b], cot[b], p[b], g[b], ratio, edges, gl_x, gl_w, with_jvp)

    def grid_size(m: np.ndarray) -> int:
        if heavy:
            return n_grid + 1
        spread_hi = qhi + math.log(m.shape[1]) - qlo
        return math.ceil(spread_hi / panel) + 2

    return batch, grid_size


_FAMILY_KERNELS: dict = {}


def _family_kernel(name: str):
    if name not in _FAMILY_KERNELS:
        _FAMILY_KERNELS[name] = _build_family_kernel(name)
    return _FAMILY_KERNELS[name]


def family_law(noise: str, m) -> np.ndarray:
    r"""The argmax law of any registered family, batched: rows of scaled logits m = μ/τ.

    The same one-pass integral as :func:`normal_law`,
    :math:`p_i = \int (f_i/F_i)\,G\,dx`, on panels of a window found from the
    family's 1e-17 tail quantiles, cut at every kink :math:`m_j + \kappa`
    (Laplace, Uniform, Exponential); Cauchy is integrated in
    :math:`s = \arctan(x - \max m)` because its tails are algebraic.  Normal
    rows go to :func:`normal_law`.

    Examples
    --------
    >>> family_law("gumbel", [[0.0, np.log(3.0)]]).round(12).tolist()
    [[0.25, 0.75]]
    >>> family_law("uniform", [[0.0, 5.0, 10.0]]).round(12).tolist()
    [[0.0, 0.0, 1.0]]
    """
    return _family_batch(noise, m, None)


def family_law_vjp(noise: str, m, cot) -> tuple[np.ndarray, np.ndarray]:
    r"""The law and :math:`g = J^\top c` (J symmetric) for any family, batched.

    .. math::

        g_i = -\int \frac{f_i}{F_i} G \sum_l \frac{f_l}{F_l}(c_l - c_i)\,dx

    >>> p, g = family_law_vjp("gumbel", [[0.0, 0.0]], [[1.0, 0.0]])
    >>> g.round(12).tolist()  # softmax: (diag p - p p^T) c
    [[0.25, -0.25]]
    """
    return _family_batch(noise, m, cot)


#: Widest Cauchy row (max - min of mu/tau) the batched quadrature evaluates to 1e-12: measured,
#: rows [0, -g, -2g] lose 2e-15 of their mass at 2g = 400, 3e-12 at 800 and 2e-10 at 1200.
CAUCHY_MAX_SPREAD = 500.0


def _family_batch(noise: str, m, cot):
    from closedform.derive import reparam as dr

    try:
        dr.family(noise)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
    arr = _as_logits(m)
    if noise == "normal":
        return normal_law(arr) if cot is None else normal_law_vjp(arr, cot)
    # The law depends on differences only: measured from each row's maximum, logits of 1e17
    # stop putting the quadrature window where float64 cannot resolve the noise's scale.
    arr = np.ascontiguousarray(arr - arr.max(axis=1, keepdims=True))
    if noise == "cauchy":
        spread = float(-arr.min()) if arr.size else 0.0
        if spread > CAUCHY_MAX_SPREAD:
            raise ParameterError(
                f"cauchy noise: max(mu) - min(mu) must be at most {CAUCHY_MAX_SPREAD:g} tau in a row for "
                f"1e-12 accuracy (algebraic tails; the quadrature loses digits past it), got {spread:.3g} tau"
            )
    batch, grid_size = _family_kernel(noise)
    p = np.empty_like(arr)
    if cot is None:
        batch(arr, arr, p, p, _FGL_X, _FGL_W, False, grid_size(arr))
        return p
    c = np.asarray(cot, dtype=np.float64)
    if c.shape != arr.shape or not np.all(np.isfinite(c)):
        raise ParameterError(f"cot must be finite with the shape of m, {arr.shape}, got {c.shape}")
    g = np.empty_like(arr)
    batch(arr, np.ascontiguousarray(c), p, g, _FGL_X, _FGL_W, True, grid_size(arr))
    return p, g
