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

**Window.**  :math:`G` is the CDF of :math:`M = \max_j(m_j + ε_j)`.  The part
of :math:`p_i` below :math:`L` is the probability that class i wins with
:math:`M < L`, at most :math:`G(L)`; the part above :math:`U` is at most
:math:`P(M > U) \le \sum_j \bar\Phi(U - m_j)`.  Each row's window
:math:`[L, U]` is found by bisection so that both are below
:data:`TRUNCATION`; on it a composite Gauss–Legendre rule of
:data:`PANELS` panels × :data:`NODES` nodes integrates the smooth integrand.
Classes with :math:`x - m_j > 8.5` at a node have :math:`\Phi = 1` and
:math:`\varphi < 10^{-16}` there and are skipped.
"""

from __future__ import annotations

import math

import numpy as np

from closedform.numeric.target import parallel_jit, prange, scalar_jit
from closedform.spec import ParameterError

#: Bound on each truncated tail of the integral (per class), well below the 1e-10 target.
TRUNCATION = 1e-15
#: Composite Gauss–Legendre rule on the window: panels and nodes per panel.
PANELS = 7
NODES = 12
#: Beyond this standardised distance Φ(y) rounds to 1 and φ(y) < 1e-16.
SATURATION = 8.5
_GL_X, _GL_W = np.polynomial.legendre.leggauss(NODES)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@scalar_jit
def std_normal_cdf(y):
    """Φ(y) to full relative precision in both tails (``erfc`` never cancels)."""
    return 0.5 * math.erfc(-y * _INV_SQRT2)


@scalar_jit
def _log_max_cdf(m, x, floor):
    """log G(x) = Σ_j log Φ(x − m_j), stopping once it falls below ``floor``."""
    s = 0.0
    for j in range(m.shape[0]):
        y = x - m[j]
        if y < SATURATION:
            s += math.log(std_normal_cdf(y))
            if s < floor:
                return s
    return s


@scalar_jit
def _window(m):
    """Integration window [L, U] of one row: both truncated tails below TRUNCATION."""
    top = m[0]
    for j in range(1, m.shape[0]):
        top = max(top, m[j])
    log_tol = math.log(TRUNCATION)
    # G(top - 8) <= Φ(-8) < 1e-15, so the lower end lies in [top - 8, top + 9].
    lo, hi = top - 8.0, top + 9.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if _log_max_cdf(m, mid, log_tol) < log_tol:
            lo = mid
        else:
            hi = mid
        if hi - lo < 0.15:  # the rule does not need a tight end, only a safe one
            break
    # Σ_j Φ̄(U - m_j) <= C Φ̄(U - top) <= C exp(-(U - top)^2 / 2) / 2 <= TRUNCATION: no search needed.
    return lo, top + math.sqrt(2.0 * math.log(0.5 * m.shape[0] / TRUNCATION))


@scalar_jit
def _row_law(m, cot, p, g, ratio, gl_x, gl_w, with_jvp):
    """p (and g = J cot when ``with_jvp``) of one row; ``ratio`` is a length-C work vector."""
    c = m.shape[0]
    for i in range(c):
        p[i] = 0.0
        if with_jvp:
            g[i] = 0.0
    if c == 1:
        p[0] = 1.0  # one class always wins; its Jacobian is 0
        return
    left, right = _window(m)
    width = (right - left) / PANELS
    for panel in range(PANELS):
        a = left + panel * width
        for k in range(gl_x.shape[0]):
            x = a + 0.5 * width * (gl_x[k] + 1.0)
            w = 0.5 * width * gl_w[k]
            big_g = 1.0
            ratio_sum = 0.0
            weighted_sum = 0.0
            for j in range(c):
                y = x - m[j]
                if y >= SATURATION:
                    ratio[j] = 0.0  # Φ(y) = 1 in double and φ(y) < 1e-16: no weight, no factor
                else:
                    cdf = std_normal_cdf(y)
                    big_g *= cdf
                    r = math.exp(-0.5 * y * y) * _INV_SQRT2PI / cdf
                    ratio[j] = r
                    if with_jvp:
                        ratio_sum += r
                        weighted_sum += r * cot[j]
            if big_g == 0.0:
                continue  # underflow: the whole node is below 1e-308
            wg = w * big_g
            for j in range(c):
                r = ratio[j]
                if r != 0.0:
                    p[j] += wg * r
                    if with_jvp:
                        g[j] -= wg * r * (weighted_sum - cot[j] * ratio_sum)


@parallel_jit
def _batch_law(m, cot, p, g, gl_x, gl_w, with_jvp):
    # Rows are independent; each writes only its own row of p and g.
    for b in prange(m.shape[0]):
        ratio = np.empty(m.shape[1], dtype=np.float64)
        _row_law(m[b], cot[b], p[b], g[b], ratio, gl_x, gl_w, with_jvp)


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
    :math:`|m_i - m_j| \le 50` (tested).

    Examples
    --------
    >>> p = normal_law([[0.3, 0.0, -0.5, 0.2]])
    >>> [round(float(v), 10) for v in p[0]]
    [0.3485862717, 0.234126485, 0.1108045477, 0.3064826957]
    >>> normal_law([[0.0, 0.0, 0.0]]).round(12).tolist()
    [[0.333333333333, 0.333333333333, 0.333333333333]]
    """
    arr = _as_logits(m)
    p = np.empty_like(arr)
    _batch_law(arr, arr, p, p, _GL_X, _GL_W, False)
    return p


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
    c = np.ascontiguousarray(c)
    p = np.empty_like(arr)
    g = np.empty_like(arr)
    _batch_law(arr, c, p, g, _GL_X, _GL_W, True)
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
    >>> family_law("uniform", [[0.0, 5.0, 10.0]]).tolist()
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


def _family_batch(noise: str, m, cot):
    from closedform.derive import reparam as dr

    try:
        dr.family(noise)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
    arr = _as_logits(m)
    if noise == "normal":
        return normal_law(arr) if cot is None else normal_law_vjp(arr, cot)
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
