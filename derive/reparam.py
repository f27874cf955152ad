r"""The categorical law of argmax(μ + τε) for i.i.d. noise ε, as SymPy objects (post 9085).

With ε_j i.i.d. of density f and CDF F (standardised, τ = 1) and scores
:math:`\mu \in \mathbb R^n`, class i wins when :math:`\mu_i + \tau\varepsilon_i`
exceeds every other score.  Conditioning on :math:`x = \mu_i/\tau + \varepsilon_i`
and using independence,

.. math::

    p_i = P\bigl(\operatorname{argmax}_j(\mu_j + \tau\varepsilon_j) = i\bigr)
        = \int_{-\infty}^{\infty} f\!\left(x - \tfrac{\mu_i}{\tau}\right)
          \prod_{j \ne i} F\!\left(x - \tfrac{\mu_j}{\tau}\right) dx .

Noise families are data (:data:`FAMILIES`): each entry holds its pdf, CDF,
support, kinks, quantile (the inverse-CDF sampler of the simulators) and,
where known, the CDF of the difference of two draws (the n = 2 law).  Closed
forms are optional overrides with the integral as the fallback, as in
``sympy.stats``: Gumbel gives softmax(μ/τ) for every n; n = 2 gives
:math:`F_D((\mu_1-\mu_2)/\tau)` for every family; Exponential and Uniform give
piecewise polynomials for every n; Normal with n = 3 is a bivariate normal
orthant with correlation 1/2.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from closedform.derive.expr_parser import as_expr

__all__ = [
    "FAMILIES",
    "BivariateNormalCDF",
    "NoiseFamily",
    "PieceIntegral",
    "ProductExcept",
    "argmax_integrals",
    "closed_form_law",
    "exponential_law",
    "family",
    "general_law",
    "gumbel_law",
    "integral_jacobian",
    "jacobian",
    "law",
    "limit_law",
    "normal_three_law",
    "pair_law",
    "probability_symbol",
    "softmax",
    "softmax_jacobian",
    "strict_order_condition",
    "support_width",
    "uniform_law",
    "zero_probability_condition",
]

x = sp.Symbol("x", real=True)
u = sp.Symbol("u", positive=True)
d = sp.Symbol("d", real=True)
tau = sp.Symbol("tau", positive=True)


@dataclass(frozen=True)
class NoiseFamily:
    r"""One noise family, standardised (location 0, scale 1); τ scales it.

    Attributes
    ----------
    name : str
        The key users type (``"normal"``).
    pdf, cdf : sympy expressions in :data:`x`
        Density and distribution function.
    support : sympy.Interval
        Where the density is positive.
    kinks : tuple
        Points where pdf or CDF is not smooth (quadrature splits there).
    quantile : sympy expression in :data:`u`
        :math:`F^{-1}(u)`, the inverse-CDF sampler.
    pair_cdf : sympy expression in :data:`d` or None
        CDF of :math:`D = \varepsilon_2 - \varepsilon_1`, so that
        :math:`p_1 = F_D(\mu_1 - \mu_2)` for two classes.
    typical : tuple
        Range of μ/τ the tests draw from (the closed forms hold everywhere).
    """

    name: str
    latex: str
    pdf: sp.Expr
    cdf: sp.Expr
    support: sp.Interval
    quantile: sp.Expr
    pair_cdf: sp.Expr | None
    kinks: tuple[sp.Expr, ...] = ()
    typical: tuple[float, float] = (-4.0, 4.0)
    description: str = ""
    #: The same CDF written to keep its relative precision in floating point
    #: (e.g. Cauchy's 1/2 + atan(x)/pi cancels for x -> -oo); None when cdf is fine.
    stable_cdf: sp.Expr | None = None

    @property
    def float_cdf(self) -> sp.Expr:
        """The CDF expression the float kernels compile (a proof checks it equals :attr:`cdf`)."""
        return self.cdf if self.stable_cdf is None else self.stable_cdf


def _piecewise(*pairs):
    return sp.Piecewise(*pairs)


#: The registered noise families.  Adding a family is one entry here (the
#: simulators lambdify its quantile; see closedform.numeric.noise).
FAMILIES: dict[str, NoiseFamily] = {
    f.name: f
    for f in (
        NoiseFamily(
            "gumbel",
            r"\mathrm{Gumbel}",
            sp.exp(-x - sp.exp(-x)),
            sp.exp(-sp.exp(-x)),
            sp.Interval(-sp.oo, sp.oo),
            -sp.log(-sp.log(u)),
            1 / (1 + sp.exp(-d)),
            description="standard Gumbel (max); argmax law = softmax",
        ),
        NoiseFamily(
            "normal",
            r"\mathcal N",
            sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi),
            (1 + sp.erf(x / sp.sqrt(2))) / 2,
            sp.Interval(-sp.oo, sp.oo),
            sp.sqrt(2) * sp.erfinv(2 * u - 1),
            (1 + sp.erf(d / 2)) / 2,
            description="standard normal; argmax law = probit / Thurstone (EXACT)",
        ),
        NoiseFamily(
            "logistic",
            r"\mathrm{Logistic}",
            sp.exp(-x) / (1 + sp.exp(-x)) ** 2,
            1 / (1 + sp.exp(-x)),
            sp.Interval(-sp.oo, sp.oo),
            sp.log(u / (1 - u)),
            sp.exp(d) * (sp.exp(d) - 1 - d) / (sp.exp(d) - 1) ** 2,
            description="standard logistic",
        ),
        NoiseFamily(
            "laplace",
            r"\mathrm{Laplace}",
            sp.exp(-sp.Abs(x)) / 2,
            _piecewise((sp.exp(x) / 2, x < 0), (1 - sp.exp(-x) / 2, True)),
            sp.Interval(-sp.oo, sp.oo),
            _piecewise((sp.log(2 * u), u < sp.Rational(1, 2)), (-sp.log(2 - 2 * u), True)),
            _piecewise(((2 - d) * sp.exp(d) / 4, d < 0), (1 - (2 + d) * sp.exp(-d) / 4, True)),
            kinks=(sp.Integer(0),),
            description="standard Laplace (double exponential)",
        ),
        NoiseFamily(
            "uniform",
            r"\mathcal U",
            _piecewise((0, x < 0), (1, x <= 1), (0, True)),
            _piecewise((0, x < 0), (x, x <= 1), (1, True)),
            sp.Interval(0, 1),
            u,
            _piecewise((0, d < -1), ((1 + d) ** 2 / 2, d < 0), (1 - (1 - d) ** 2 / 2, d < 1), (1, True)),
            kinks=(sp.Integer(0), sp.Integer(1)),
            typical=(-1.5, 1.5),
            description="uniform on [0, 1]: bounded support, sparse laws",
        ),
        NoiseFamily(
            "exponential",
            r"\mathrm{Exp}",
            _piecewise((0, x < 0), (sp.exp(-x), True)),
            _piecewise((0, x < 0), (1 - sp.exp(-x), True)),
            sp.Interval(0, sp.oo),
            -sp.log(1 - u),
            _piecewise((sp.exp(d) / 2, d < 0), (1 - sp.exp(-d) / 2, True)),
            kinks=(sp.Integer(0),),
            description="standard exponential (support bounded below)",
        ),
        NoiseFamily(
            "cauchy",
            r"\mathrm{Cauchy}",
            1 / (sp.pi * (1 + x**2)),
            sp.Rational(1, 2) + sp.atan(x) / sp.pi,
            sp.Interval(-sp.oo, sp.oo),
            sp.tan(sp.pi * (u - sp.Rational(1, 2))),
            sp.Rational(1, 2) + sp.atan(d / 2) / sp.pi,
            description="standard Cauchy (Student t with 1 degree of freedom): heavy tails",
            stable_cdf=sp.atan2(1, -x) / sp.pi,
        ),
    )
}


def family(name: str) -> NoiseFamily:
    """The family called ``name``; a ValueError lists the known ones.

    >>> family("normal").support
    Interval(-oo, oo)
    >>> family("gauss")
    Traceback (most recent call last):
    ...
    ValueError: unknown noise 'gauss'; known noises: gumbel, normal, logistic, laplace, uniform, exponential, cauchy
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown noise {name!r}; known noises: {', '.join(FAMILIES)}") from None


def _fam(noise) -> NoiseFamily:
    return noise if isinstance(noise, NoiseFamily) else family(noise)


def _exact(expr: sp.Expr) -> sp.Expr:
    return as_expr(expr).xreplace({f: sp.Rational(f) for f in as_expr(expr).atoms(sp.Float)})


def _scaled(mu: Sequence[sp.Expr], tau_: sp.Expr) -> list[sp.Expr]:
    return [as_expr(m) / tau_ for m in mu]


# ----------------------------------------------------------------------------
# The general law
# ----------------------------------------------------------------------------


class ProductExcept(sp.Function):
    r"""``ProductExcept(expr, j, n, i)``: :math:`\prod_{j=1, j \ne i}^{n} \mathrm{expr}`.

    Prints as a product over :math:`j \ne i`; ``doit()`` expands it when n is a number.

    >>> j, i = sp.symbols("j i", integer=True, positive=True)
    >>> F = sp.Function("F")
    >>> print(sp.latex(ProductExcept(F(j), j, 3, i)))
    \prod_{\substack{j=1\\j \neq i}}^{3} F{\left(j \right)}
    >>> ProductExcept(F(j), j, 3, 2).doit()
    F(1)*F(3)
    """

    def doit(self, **hints):
        expr, j, n, i = self.args
        if n.is_Integer and i.is_Integer:
            return sp.Mul(*[expr.subs(j, k) for k in range(1, int(n) + 1) if k != int(i)])
        return self

    def _latex(self, printer):
        expr, j, n, i = self.args
        return (
            rf"\prod_{{\substack{{{printer._print(j)}=1\\{printer._print(j)} \neq {printer._print(i)}}}}}"
            rf"^{{{printer._print(n)}}} {printer._print(expr)}"
        )


def general_law() -> sp.Eq:
    r"""The law for abstract f, F and n: :math:`p_i = \int f(x - \mu_i) \prod_{j \ne i} F(x - \mu_j)\,dx`.

    >>> print(sp.latex(general_law()))  # doctest: +ELLIPSIS
    p_{i} = \int\limits_{-\infty}^{\infty} \prod_{\substack{j=1\\j \neq i}}^{n} F{\left(x - {\mu}_{j} \right)} f{\left(x - {\mu}_{i} \right)}\, dx
    """
    i, j, n = sp.symbols("i j n", integer=True, positive=True)
    mu = sp.IndexedBase("mu", real=True)
    f, F = sp.Function("f"), sp.Function("F")
    return sp.Eq(
        sp.Symbol("p_i"),
        sp.Integral(f(x - mu[i]) * ProductExcept(F(x - mu[j]), j, n, i), (x, -sp.oo, sp.oo)),
    )


def probability_symbol(noise, n: int, tau_: sp.Expr = 1) -> sp.Matrix:
    """The left side p = P(argmax_j (μ_j + τ ε_j) = i), i = 1..n, for LaTeX.

    >>> print(sp.latex(probability_symbol("gumbel", 2)))
    \\left[\\begin{matrix}p^{\\mathrm{Gumbel}}_{1}\\\\p^{\\mathrm{Gumbel}}_{2}\\end{matrix}\\right]
    """
    fam = _fam(noise)
    return sp.Matrix([sp.Symbol(f"p^{{{fam.latex}}}_{{{k}}}") for k in range(1, int(n) + 1)])


class PieceIntegral(sp.Integral):
    r"""An Integral of a smooth piece (no Piecewise, no kink inside) over numeric limits.

    It prints and behaves as :class:`sympy.Integral`; ``evalf`` goes straight to
    mpmath's tanh-sinh quadrature of the lambdified integrand at the requested
    precision plus guard digits.  SymPy's generic route tries symbolic
    integration first and takes minutes on a product of four ``erf`` factors.
    """

    def _eval_evalf(self, prec):
        import mpmath

        ((var, a, b),) = self.limits
        if self.function.free_symbols - {var} or not (a.is_number and b.is_number):
            return super()._eval_evalf(prec)
        func = sp.lambdify(var, self.function, [{"exp": _mp_exp_flushing_underflow}, "mpmath"])
        with mpmath.workprec(prec + 20):
            lo = -mpmath.inf if a == -sp.oo else mpmath.mpf(sp.N(a, mpmath.mp.dps))
            hi = mpmath.inf if b == sp.oo else mpmath.mpf(sp.N(b, mpmath.mp.dps))
            value = mpmath.quad(func, [lo, hi])
        return sp.Float(value, mpmath.libmp.prec_to_dps(prec))


def _mp_exp_flushing_underflow(z):
    """exp(z), but 0 for z < -10**6 (below 10**-434294).

    mpmath takes minutes for ``exp(-exp(10**30))``, which tanh-sinh meets in
    the Gumbel tail at x -> -oo; every such factor multiplies at most
    ``exp(|x|)``, so flushing it to 0 changes no digit at any practical precision.
    """
    import mpmath

    return mpmath.mpf(0) if mpmath.re(z) < -(10**6) else mpmath.exp(z)


def _resolve_piecewise(expr: sp.Expr, point: sp.Expr) -> sp.Expr:
    """Replace every Piecewise in ``expr`` by the branch that holds at x = ``point``."""

    def pick(pw):
        for e, c in pw.args:
            if c == sp.true or bool(c.subs(x, point)):
                return e
        raise ValueError("no branch holds")

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def argmax_integrals(noise, mu: Sequence, tau_=1, split: bool = True) -> sp.Matrix:
    r"""The exact integral representation of every :math:`p_i`, as unevaluated Integrals.

    With numeric μ and ``split=True`` each integral is cut at the kinks
    :math:`\mu_j/\tau + \kappa` and clipped to the support, and on every piece
    the Piecewise pdf/CDF are resolved to their smooth branch, so that
    ``evalf(40)`` of the result is a sum of smooth quadratures (40 digits).

    >>> p = argmax_integrals("normal", [0, 0])
    >>> p[0].evalf(30)
    0.500000000000000000000000000000
    >>> len(argmax_integrals("uniform", [0, sp.Rational(1, 2)])[0].args)  # cut at 1/2 and 1
    2
    """
    fam = _fam(noise)
    # Floats become their exact binary value: a jump of the pdf must sit exactly
    # where the pieces are cut, not 1e-18 away in the printed integrand.
    m = [_exact(v) for v in _scaled(mu, as_expr(tau_))]
    n = len(m)
    lo_s, hi_s = fam.support.inf, fam.support.sup
    out = []
    for i in range(n):
        integrand = fam.pdf.subs(x, x - m[i]) * sp.Mul(*[fam.cdf.subs(x, x - m[j]) for j in range(n) if j != i])
        lo, hi = m[i] + lo_s, m[i] + hi_s
        if not split or not all(v.is_number for v in m):
            out.append(sp.Integral(integrand, (x, lo, hi)))
            continue
        # The integrand vanishes below max_j (m_j + support inf) (some F is 0 there).
        lo = sp.Max(*[mj + lo_s for mj in m]) if lo_s.is_finite else lo
        out.append(_split_integral(integrand, lo, hi, fam, m))
    return sp.Matrix(out)


def _split_integral(integrand: sp.Expr, lo: sp.Expr, hi: sp.Expr, fam: NoiseFamily, m: Sequence) -> sp.Expr:
    """The integral over [lo, hi] as a sum of PieceIntegrals cut at every kink m_j + κ and every m_j."""
    cuts = sorted({c for mj in m for k in (*fam.kinks, 0) for c in [mj + k] if lo < c < hi}, key=float)
    edges = [lo, *cuts, hi]
    pieces = []
    for a, b in itertools.pairwise(edges):
        if a == b:
            continue
        mid = (a + b) / 2 if a.is_finite and b.is_finite else (b - 1 if a == -sp.oo else a + 1)
        pieces.append(PieceIntegral(_resolve_piecewise(integrand, mid), (x, a, b)))
    return sp.Add(*pieces, evaluate=False) if len(pieces) > 1 else (pieces[0] if pieces else sp.Integer(0))


# ----------------------------------------------------------------------------
# Closed forms (optional overrides of the integral)
# ----------------------------------------------------------------------------


def softmax(z: Sequence) -> sp.Matrix:
    r"""softmax(z): :math:`e^{z_i} / \sum_j e^{z_j}`.

    >>> softmax([0, sp.log(3)])
    Matrix([
    [1/4],
    [3/4]])
    """
    e = [sp.exp(as_expr(v)) for v in z]
    s = sp.Add(*e)
    return sp.Matrix([v / s for v in e])


def gumbel_law(mu: Sequence, tau_=1) -> sp.Matrix:
    r"""Gumbel noise: :math:`p = \operatorname{softmax}(\mu/\tau)` for every n.

    .. math::

        p_i = \int_0^\infty e^{-u (1 + \sum_{j\ne i} e^{\mu_j - \mu_i})}\,du
            = \frac{e^{\mu_i/\tau}}{\sum_j e^{\mu_j/\tau}} \quad (u = e^{-x}).

    >>> gumbel_law([0, 0, 0])
    Matrix([
    [1/3],
    [1/3],
    [1/3]])
    """
    return softmax(_scaled(mu, as_expr(tau_)))


def pair_law(noise, mu: Sequence, tau_=1) -> sp.Matrix:
    r"""Two classes, any family: :math:`p_1 = F_D((\mu_1 - \mu_2)/\tau)`, :math:`p_2 = 1 - p_1`.

    :math:`F_D` is the CDF of the difference of two independent draws
    (symmetric about 0, so :math:`p_2 = F_D((\mu_2 - \mu_1)/\tau)` as well).

    >>> pair_law("normal", [sp.Rational(7, 10), 0])[0]
    erf(7/20)/2 + 1/2
    >>> pair_law("uniform", [0, 2])
    Matrix([
    [0],
    [1]])
    """
    fam = _fam(noise)
    if len(mu) != 2:
        raise ValueError(f"pair_law needs exactly 2 scores, got {len(mu)}")
    if fam.pair_cdf is None:
        raise ValueError(f"{fam.name} has no registered difference CDF")
    m = _scaled(mu, as_expr(tau_))
    if sp.simplify(m[0] - m[1]) == 0:
        # Tied scores: 1/2 by symmetry (the logistic F_D is 0/0 at d = 0).
        return sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2)])
    return sp.Matrix([fam.pair_cdf.subs(d, m[0] - m[1]), fam.pair_cdf.subs(d, m[1] - m[0])])


def _elementary_symmetric(values: Sequence[sp.Expr]) -> list[sp.Expr]:
    e = [sp.Integer(1)]
    for v in values:
        e = [e[0]] + [e[k] + v * e[k - 1] for k in range(1, len(e))] + [v * e[-1]]
    return e


def exponential_law(mu: Sequence, tau_=1) -> sp.Matrix:
    r"""Exponential noise, every n: a polynomial in :math:`a_j = e^{(\mu_j - \mu_i)/\tau}`.

    With :math:`u = e^{-x}`, :math:`F(\mu_i - \mu_j + x) = 1 - a_j u` while
    :math:`u \le 1/a_j`, so

    .. math::

        p_i = \int_0^{U_i} \prod_{j \ne i} (1 - a_j u)\,du
            = \sum_{k=0}^{n-1} \frac{(-1)^k e_k(a)}{k+1}\, U_i^{k+1},
        \qquad U_i = \min\bigl(1, e^{(\mu_i - \max_{j\ne i}\mu_j)/\tau}\bigr),

    with :math:`e_k` the elementary symmetric polynomials of the :math:`a_j`, j ≠ i.

    >>> [sp.nsimplify(v) for v in exponential_law([0, 0, 0])]
    [1/3, 1/3, 1/3]
    >>> [round(float(v), 6) for v in exponential_law([0.3, 0, -0.5, 0.2])]
    [0.347129, 0.22831, 0.126524, 0.298037]
    """
    m = _scaled(mu, as_expr(tau_))
    n = len(m)
    out = []
    for i in range(n):
        others = [m[j] for j in range(n) if j != i]
        a = [sp.exp(mj - m[i]) for mj in others]
        upper = sp.Min(1, sp.exp(m[i] - sp.Max(*others))) if others else sp.Integer(1)
        e = _elementary_symmetric(a)
        out.append(sp.Add(*[(-1) ** k * e[k] * upper ** (k + 1) / (k + 1) for k in range(len(e))]))
    return sp.Matrix(out)


def uniform_law(mu: Sequence, tau_=1) -> sp.Matrix:
    r"""Uniform noise on [0, τ], every n, numeric μ: an exact piecewise polynomial.

    With :math:`d_j = (\mu_i - \mu_j)/\tau`, :math:`p_i = \int_0^1 \prod_{j\ne i}
    \operatorname{clip}(t + d_j, 0, 1)\,dt`; on each interval between the kinks
    :math:`-d_j, 1 - d_j` every factor is 0, :math:`t + d_j` or 1, so the
    integral is a sum of polynomial integrals, exact for rational μ/τ.

    .. math::

        p_i = \sum_{\text{pieces } [a,b]} \int_a^b \prod_{j \ne i} c_j(t)\,dt,
        \qquad c_j \in \{0,\ t + d_j,\ 1\}.

    >>> uniform_law([0, 5, 10])
    Matrix([
    [0],
    [0],
    [1]])
    >>> uniform_law([0, sp.Rational(1, 2), 0])
    Matrix([
    [ 5/48],
    [19/24],
    [ 5/48]])
    """
    m = [_exact(v) for v in _scaled(mu, as_expr(tau_))]
    if not all(v.is_number for v in m):
        raise ValueError("uniform_law needs numeric scores (the pieces depend on their order)")
    t = sp.Symbol("t", real=True)
    n = len(m)
    out = []
    for i in range(n):
        dd = [m[i] - m[j] for j in range(n) if j != i]
        cuts = sorted({c for dj in dd for c in (-dj, 1 - dj) if 0 < c < 1} | {sp.Integer(0), sp.Integer(1)}, key=float)
        total = sp.Integer(0)
        for a, b in itertools.pairwise(cuts):
            mid = (a + b) / 2
            factors = []
            for dj in dd:
                v = mid + dj
                factors.append(sp.Integer(0) if v <= 0 else (sp.Integer(1) if v >= 1 else t + dj))
            poly = sp.Mul(*factors)
            if poly != 0:
                total += sp.integrate(sp.expand(poly), (t, a, b))
        out.append(total)
    return sp.Matrix(out)


class BivariateNormalCDF(sp.Function):
    r""":math:`\Phi_2(h, k; \rho) = P(Z_1 \le h, Z_2 \le k)` for standard normals with correlation ρ.

    Evaluated by the Sheppard–Drezner formula, a smooth integral over a finite
    angle (independent of the 1-D integral of the argmax law):

    .. math::

        \Phi_2(h,k;\rho) = \Phi(h)\Phi(k) + \frac{1}{2\pi}\int_0^{\arcsin\rho}
            \exp\!\left(-\frac{h^2 + k^2 - 2hk\sin\theta}{2\cos^2\theta}\right) d\theta .

    >>> BivariateNormalCDF(0, 0, sp.Rational(1, 2))
    1/3
    >>> BivariateNormalCDF(1, 2, sp.Rational(1, 2)).evalf(20)
    0.83186083113088047692
    """

    @classmethod
    def eval(cls, h, k, rho):
        if h == 0 and k == 0 and rho.is_number:
            return sp.Rational(1, 4) + sp.asin(rho) / (2 * sp.pi)  # Sheppard's orthant formula
        return None

    def _eval_evalf(self, prec):
        import mpmath

        h, k, rho = (sp.Float(a.evalf(prec + 20), prec + 20) for a in self.args)
        if not all(v.is_number for v in (h, k, rho)):
            return None
        with mpmath.workprec(prec + 30):
            hm, km, rm = mpmath.mpf(str(h)), mpmath.mpf(str(k)), mpmath.mpf(str(rho))
            integral = mpmath.quad(
                lambda th: mpmath.exp(-(hm**2 + km**2 - 2 * hm * km * mpmath.sin(th)) / (2 * mpmath.cos(th) ** 2)),
                [0, mpmath.asin(rm)],
            )
            value = mpmath.ncdf(hm) * mpmath.ncdf(km) + integral / (2 * mpmath.pi)
        return sp.Float(value, mpmath.libmp.prec_to_dps(prec))

    def _latex(self, printer):
        h, k, rho = (printer._print(a) for a in self.args)
        return rf"\Phi_2\left({h}, {k}; {rho}\right)"


def normal_three_law(mu: Sequence, tau_=1) -> sp.Matrix:
    r"""Normal noise, n = 3: a bivariate normal orthant with correlation 1/2.

    :math:`D_j = \varepsilon_j - \varepsilon_i` (j ≠ i) have variance 2 and
    covariance 1, so

    .. math::

        p_i = \Phi_2\!\left(\frac{\mu_i - \mu_j}{\sqrt2\,\tau},
                            \frac{\mu_i - \mu_k}{\sqrt2\,\tau}; \tfrac12\right).

    >>> normal_three_law([0, 0, 0])
    Matrix([
    [1/3],
    [1/3],
    [1/3]])
    """
    m = _scaled(mu, as_expr(tau_))
    if len(m) != 3:
        raise ValueError(f"normal_three_law needs exactly 3 scores, got {len(m)}")
    out = []
    for i in range(3):
        j, k = [t for t in range(3) if t != i]
        out.append(BivariateNormalCDF((m[i] - m[j]) / sp.sqrt(2), (m[i] - m[k]) / sp.sqrt(2), sp.Rational(1, 2)))
    return sp.Matrix(out)


def closed_form_law(noise, mu: Sequence, tau_=1) -> sp.Matrix | None:
    """The closed form of the law when one is known for this family and n, else None.

    Gumbel (every n), Exponential (every n), Uniform (every n, numeric μ),
    Normal (n = 3), and every family with n = 2; n = 1 is the certain law.

    >>> closed_form_law("normal", [0, 1, 2, 3]) is None
    True
    >>> closed_form_law("logistic", [0, 0])
    Matrix([
    [1/2],
    [1/2]])
    """
    fam = _fam(noise)
    n = len(mu)
    if n == 1:
        return sp.Matrix([1])
    if fam.name == "gumbel":
        return gumbel_law(mu, tau_)
    if n == 2 and fam.pair_cdf is not None:
        return pair_law(fam, mu, tau_)
    if fam.name == "exponential":
        return exponential_law(mu, tau_)
    if fam.name == "uniform" and all(as_expr(v).is_number for v in mu) and as_expr(tau_).is_number:
        return uniform_law(mu, tau_)
    if fam.name == "normal" and n == 3:
        return normal_three_law(mu, tau_)
    return None


def law(noise, mu: Sequence, tau_=1) -> sp.Matrix:
    r"""The law p as a SymPy Matrix: the closed form when known, else the exact integrals.

    >>> law("gumbel", [sp.log(2), 0])
    Matrix([
    [2/3],
    [1/3]])
    >>> law("normal", [0, 1, 2, 3])[0].atoms(sp.Integral) != set()
    True
    """
    p = closed_form_law(noise, mu, tau_)
    return argmax_integrals(noise, mu, tau_) if p is None else p


# ----------------------------------------------------------------------------
# Jacobian, limits, sparsity
# ----------------------------------------------------------------------------


def softmax_jacobian(z: Sequence) -> sp.Matrix:
    r"""The Jacobian of softmax: :math:`\operatorname{diag}(p) - p p^\top`.

    >>> softmax_jacobian([0, 0])
    Matrix([
    [ 1/4, -1/4],
    [-1/4,  1/4]])
    """
    p = softmax(z)
    return sp.diag(*p) - p * p.T


def jacobian(noise, mu: Sequence, tau_=1) -> sp.Matrix:
    r""":math:`J_{il} = \partial p_i / \partial \mu_l`: symbolic from the closed form, else as integrals.

    >>> m = sp.symbols("m1 m2", real=True)
    >>> J = jacobian("gumbel", m)
    >>> sp.simplify(J - J.T) == sp.zeros(2, 2)
    True
    """
    mus = [as_expr(v) for v in mu]
    p = closed_form_law(noise, mus, tau_)
    syms = [v for v in mus if isinstance(v, sp.Symbol)]
    if p is not None and len(syms) == len(mus):
        return p.jacobian(mus)
    return integral_jacobian(noise, mus, tau_)


def integral_jacobian(noise, mu: Sequence, tau_=1) -> sp.Matrix:
    r"""The Jacobian as 1-D integrals (off the diagonal), with zero row sums (on it).

    .. math::

        \frac{\partial p_i}{\partial \mu_l} = -\frac1\tau \int f\!\left(x - \tfrac{\mu_i}\tau\right)
            f\!\left(x - \tfrac{\mu_l}\tau\right) \prod_{j \ne i, l} F\!\left(x - \tfrac{\mu_j}\tau\right) dx
        \quad (l \ne i), \qquad \frac{\partial p_i}{\partial \mu_i} = -\sum_{l \ne i} \frac{\partial p_i}{\partial \mu_l}.

    The off-diagonal integrand is symmetric in (i, l), so J is symmetric.

    >>> J = integral_jacobian("normal", [0, 0])
    >>> float(J[0, 1].evalf(20)), float(J[0, 0].evalf(20))  # -1/(2 sqrt(pi)) and its negative
    (-0.28209479177387814, 0.28209479177387814)
    """
    fam = _fam(noise)
    tau_ = as_expr(tau_)
    m = [_exact(v) for v in _scaled(mu, tau_)]
    n = len(m)
    numeric = all(v.is_number for v in m)
    jac = sp.zeros(n, n)
    for i in range(n):
        for l in range(i + 1, n):
            rest = sp.Mul(*[fam.cdf.subs(x, x - m[j]) for j in range(n) if j not in (i, l)])
            integrand = fam.pdf.subs(x, x - m[i]) * fam.pdf.subs(x, x - m[l]) * rest
            lo, hi = sp.Max(m[i], m[l]) + fam.support.inf, sp.Min(m[i], m[l]) + fam.support.sup
            if lo.is_finite and numeric:
                lo = sp.Max(*[mj + fam.support.inf for mj in m])
            integral = _split_integral(integrand, lo, hi, fam, m) if numeric else sp.Integral(integrand, (x, lo, hi))
            jac[i, l] = jac[l, i] = -integral / tau_
    for i in range(n):
        jac[i, i] = -sp.Add(*[jac[i, l] for l in range(n) if l != i])
    return jac


def limit_law(mu: Sequence, which: str) -> sp.Matrix:
    r"""The law as τ → 0 (``"zero"``) or τ → ∞ (``"infinity"``), for every family.

    τ → ∞: :math:`\mu/\tau \to 0` and the law tends to the exchangeable law 1/n.
    τ → 0: the noise vanishes and the law is uniform over the maximisers of μ
    (one-hot of the argmax when it is unique).

    >>> limit_law([1, 3, 2], "zero").T
    Matrix([[0, 1, 0]])
    >>> limit_law([1, 3, 3], "zero").T
    Matrix([[0, 1/2, 1/2]])
    >>> limit_law([1, 3, 2], "infinity").T
    Matrix([[1/3, 1/3, 1/3]])
    """
    mus = [as_expr(v) for v in mu]
    n = len(mus)
    if which == "infinity":
        return sp.Matrix([sp.Rational(1, n)] * n)
    if which == "zero":
        top = sp.Max(*mus)
        winners = [sp.simplify(v - top) == 0 for v in mus]
        k = sum(winners)
        return sp.Matrix([sp.Rational(1, k) if w else 0 for w in winners])
    raise ValueError(f"which must be 'zero' or 'infinity', got {which!r}")


def support_width(noise) -> sp.Expr:
    """Length of the support of the standardised noise (oo for unbounded).

    >>> support_width("uniform"), support_width("exponential")
    (1, oo)
    """
    s = _fam(noise).support
    return s.sup - s.inf


def zero_probability_condition(noise, mu: Sequence, i: int, tau_=1) -> sp.Boolean:
    r"""The exact condition for :math:`p_i = 0`: :math:`\max_j \mu_j - \mu_i \ge \tau w`, w the support width.

    If some :math:`\mu_k \ge \mu_i + \tau w` then :math:`\mu_k + \tau\varepsilon_k > \mu_k + \tau a
    \ge \mu_i + \tau b > \mu_i + \tau\varepsilon_i` almost surely; otherwise class i
    wins with positive probability when its noise is near the top of the support.
    Full-support families (w = ∞) never give a zero.

    >>> zero_probability_condition("uniform", [0, 5, 10], 1)
    True
    >>> zero_probability_condition("uniform", [0, sp.Rational(1, 2), 1], 1)
    False
    >>> zero_probability_condition("normal", [0, 5, 10], 0)
    False
    """
    w = support_width(noise)
    mus = [as_expr(v) for v in mu]
    if w == sp.oo:
        return sp.false
    return sp.Ge(sp.Max(*mus) - mus[i], as_expr(tau_) * w)


def strict_order_condition(noise, mu: Sequence, i: int, tau_=1) -> sp.Boolean:
    r"""When :math:`\mu_i > \mu_j` implies :math:`p_i > p_j` (for every j with smaller μ).

    Exactly when :math:`p_i > 0`, i.e. :math:`\mu_i > \max_k \mu_k - \tau w`: the
    post's requirement 3 holds strictly for full-support noise and fails for
    bounded support only among classes of probability zero.

    >>> strict_order_condition("uniform", [0, 5, 10], 1)
    False
    >>> strict_order_condition("laplace", [0, 5, 10], 1)
    True
    """
    return sp.Not(zero_probability_condition(noise, mu, i, tau_))
