r"""Expected accuracy (EXACT, arXiv 2205.09615) and the toy example of post 9098.

EXACT scores a sample by the probability that its label wins the argmax of
noisy, temperature-scaled logits, :math:`s = \mu/\sigma + \varepsilon` with
:math:`\varepsilon \sim N(0, I)`.  Conditioning on the label's noise gives a
one-dimensional integral (the Normal case of the law of post 9085):

.. math::

    p_y = P\bigl(\arg\max_j (\mu_j/\sigma + \varepsilon_j) = y\bigr)
        = \int_{-\infty}^{\infty} \varphi(x - m_y) \prod_{j \ne y} \Phi(x - m_j)\, dx,
    \qquad m = \mu / \sigma .

It depends on the margins :math:`d_j = \mu_y - \mu_j` only.  Two classes give
:math:`\Phi(d/(\sigma\sqrt2))`; three give a bivariate normal orthant with
correlation 1/2, written here with Owen's T function.

The second half is the toy example of the post: three points
:math:`\{(-\tfrac14, -1), (0, -1), (\tfrac14, +1)\}`, a model
:math:`f(x) = k(x - b)`, and the optimum of each loss in ``b``, every one in
closed form (no floats: all functions return exact SymPy objects).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from closedform.derive.expr_parser import as_expr

__all__ = [
    "TOY_DATA",
    "LogitIntegral",
    "OwenT",
    "binary_probability",
    "ce_gradient_weight",
    "clipped_margins",
    "exact_event",
    "exact_gradient",
    "exact_integrand",
    "exact_probability",
    "exact_probability_integral",
    "expected_error",
    "log_mean_loss",
    "neg_log_series",
    "normal_cdf",
    "normal_pdf",
    "orthant_covariance",
    "piecewise_linear_argmin",
    "sigma_gradient_from_mu_gradient",
    "three_class_margin_gradient",
    "three_class_probability",
    "toy_accuracy",
    "toy_ce_cubic",
    "toy_ce_loss",
    "toy_ce_optimum",
    "toy_ce_scale_threshold",
    "toy_ce_stationarity",
    "toy_exact_accuracy",
    "toy_exact_failure_scale",
    "toy_exact_optimum",
    "toy_exact_probabilities",
    "toy_hinge_argmin",
    "toy_hinge_loss",
    "toy_hinge_zero_loss_scale",
    "toy_margins",
    "toy_perfect_accuracy_set",
]

x_ = sp.Symbol("x", real=True)
_t = sp.Symbol("t", real=True)
_j = sp.Symbol("j", integer=True, positive=True)


# ----------------------------------------------------------------------------
# Owen's T function (for the three-class closed form)
# ----------------------------------------------------------------------------


class OwenT(sp.Function):
    r"""Owen's T function :math:`T(h, a) = \frac{1}{2\pi}\int_0^a \frac{e^{-h^2(1+t^2)/2}}{1+t^2}\,dt`.

    Evaluates by SymPy quadrature of its defining integral (to any precision),
    differentiates in closed form, and rewrites as that integral.

    >>> h, a = sp.symbols("h a", real=True)
    >>> OwenT(0, a)
    atan(a)/(2*pi)
    >>> sp.diff(OwenT(h, a), a)
    exp(-h**2*(a**2 + 1)/2)/(2*pi*(a**2 + 1))
    >>> sp.diff(OwenT(h, a), h)
    -sqrt(2)*exp(-h**2/2)*erf(sqrt(2)*a*h/2)/(4*sqrt(pi))
    >>> round(float(OwenT(sp.Rational(1, 2), 2)), 12)
    0.141580603654
    >>> round(float(OwenT(sp.Rational(1, 10**90), 10**96)), 12)  # reflected: 1/4 - T(10^6, 10^-96)
    0.25
    """

    nargs = 2

    @classmethod
    def eval(cls, h, a):
        if h.is_zero:
            return sp.atan(a) / (2 * sp.pi)
        if a.is_zero:
            return sp.Integer(0)
        if h.could_extract_minus_sign():
            return cls(-h, a)
        if a.could_extract_minus_sign():
            return -cls(h, -a)
        return None

    def fdiff(self, argindex=1):
        h, a = self.args
        if argindex == 2:
            return sp.exp(-(h**2) * (1 + a**2) / 2) / (2 * sp.pi * (1 + a**2))
        if argindex == 1:
            # d/dh of the integrand is -h e^{-h^2(1+t^2)/2}/(2 pi); integrate t from 0 to a.
            return -sp.exp(-(h**2) / 2) * sp.erf(a * h / sp.sqrt(2)) / (2 * sp.sqrt(2 * sp.pi))
        raise sp.ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_Integral(self, h, a, **kwargs):
        return sp.Integral(sp.exp(-(h**2) * (1 + _t**2) / 2) / (1 + _t**2), (_t, 0, a)) / (2 * sp.pi)

    def _eval_evalf(self, prec):
        h, a = self.args
        if not (h.is_number and a.is_number):
            return None
        dps = sp.core.evalf.prec_to_dps(prec)
        if abs(a) > 1:
            # Quadrature up to a huge a loses the integrand's mass near 0; Owen's
            # reflection T(h, a) + T(ah, 1/a) = (Phi(h) + Phi(ah))/2 - Phi(h)Phi(ah) - [h < 0]/2
            # (a > 0) leaves an integral over [0, 1/a] instead.
            sign = 1 if a > 0 else -1
            a = abs(a)
            big, small = (1 + sp.erf(h / sp.sqrt(2))) / 2, (1 + sp.erf(a * h / sp.sqrt(2))) / 2
            step = sp.Rational(1, 2) if h < 0 else 0
            value = (big + small) / 2 - big * small - step - OwenT(a * h, 1 / a)
            return (sign * value).evalf(dps + 5)._eval_evalf(prec)
        import mpmath  # SymPy's numerical backend; its quad is far faster than Integral.evalf here

        with mpmath.workprec(prec + 30):
            hh, aa = mpmath.mpf(sp.N(h, dps + 10)), mpmath.mpf(sp.N(a, dps + 10))
            value = mpmath.quad(lambda t: mpmath.exp(-(hh**2) * (1 + t**2) / 2) / (1 + t**2), [0, aa]) / (2 * mpmath.pi)
        return sp.Float(value, dps + 5)._eval_evalf(prec)

    def _latex(self, printer):
        h, a = self.args
        return rf"T\left({printer._print(h)}, {printer._print(a)}\right)"


class LogitIntegral(sp.Integral):
    r"""An integral over the real line of normal densities and CDFs, fast to evaluate numerically.

    Prints and manipulates as :class:`sympy.Integral`; only ``evalf`` differs:
    SymPy's generic evaluation of an infinite-range integral of ``erf``
    products takes minutes at 30 digits, so the integrand is lambdified to
    mpmath (SymPy's own numerical backend) and integrated by tanh-sinh with
    the interval split at the kinks of its factors.

    >>> float(exact_probability_integral([0, 0, 0, 0], 1, 0))
    0.25
    """

    def _eval_evalf(self, prec):
        import mpmath  # SymPy's numerical backend, as in every evalf

        if len(self.limits) != 1 or self.free_symbols:
            return super()._eval_evalf(prec)
        ((var, _lo, _hi),) = self.limits
        f = sp.lambdify(var, self.function, "mpmath")
        cuts = set()
        for fn in self.function.atoms(sp.erf, sp.exp):
            arg = fn.args[0]
            if arg.is_polynomial(var) and sp.degree(arg, var) >= 1:
                centre = sp.solve(sp.diff(arg, var) if isinstance(fn, sp.exp) else arg, var)
                cuts.update(c for c in centre if c.is_real)
        with mpmath.workprec(prec + 40):
            pts = [mpmath.mpf(sp.N(c, sp.core.evalf.prec_to_dps(prec) + 15)) for c in sorted(cuts, key=float)]
            value = mpmath.quad(f, [-mpmath.inf, *pts, mpmath.inf])
        return sp.Float(value, sp.core.evalf.prec_to_dps(prec) + 5)._eval_evalf(prec)


# ----------------------------------------------------------------------------
# EXACT's probability
# ----------------------------------------------------------------------------


def normal_pdf(z: sp.Expr) -> sp.Expr:
    r"""The standard normal density :math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}`.

    >>> normal_pdf(0)
    sqrt(2)/(2*sqrt(pi))
    """
    return sp.exp(-(as_expr(z) ** 2) / 2) / sp.sqrt(2 * sp.pi)


def normal_cdf(z: sp.Expr) -> sp.Expr:
    r"""The standard normal CDF :math:`\Phi(z) = \tfrac12\bigl(1 + \operatorname{erf}(z/\sqrt2)\bigr)`.

    >>> normal_cdf(0)
    1/2
    """
    return (1 + sp.erf(as_expr(z) / sp.sqrt(2))) / 2


def exact_integrand(m: Sequence[sp.Expr], y: int, x: sp.Expr = x_) -> sp.Expr:
    r"""The integrand :math:`\varphi(x - m_y)\prod_{j\ne y}\Phi(x - m_j)` (labels 0-based).

    >>> exact_integrand([0, 0], 0)
    sqrt(2)*(erf(sqrt(2)*x/2)/2 + 1/2)*exp(-x**2/2)/(2*sqrt(pi))
    """
    m = [as_expr(v) for v in m]
    out = normal_pdf(x - m[y])
    for j, mj in enumerate(m):
        if j != y:
            out *= normal_cdf(x - mj)
    return out


def _symbolic_vector(mu: sp.Symbol) -> tuple[sp.IndexedBase, sp.Symbol]:
    return sp.IndexedBase(mu.name, real=True), sp.Symbol("C", integer=True, positive=True)


def exact_probability_integral(mu, sigma: sp.Expr, y) -> sp.Integral:
    r"""EXACT's :math:`p_y` as the unevaluated one-dimensional integral.

    ``mu`` is a sequence of logits, or a symbol (then the number of classes is
    the symbol ``C`` and the label's factor is removed by a Kronecker exponent).

    .. math::

        p_y = \int_{-\infty}^{\infty} \varphi\!\left(x - \frac{\mu_y}{\sigma}\right)
              \prod_{j \ne y} \Phi\!\left(x - \frac{\mu_j}{\sigma}\right) dx

    >>> s = sp.Symbol("sigma", positive=True)
    >>> exact_probability_integral([1, 0], s, 0).limits
    ((x, -oo, oo),)
    >>> print(sp.latex(exact_probability_integral(sp.Symbol("mu"), s, 1)))  # doctest: +ELLIPSIS
    \int\limits_{-\infty}^{\infty} ... \prod_{j=1}^{C} ...^{1 - \delta_{1 j}}}{2 \sqrt{\pi}}\, dx
    """
    sigma = as_expr(sigma)
    if isinstance(mu, sp.Symbol):
        base, c = _symbolic_vector(mu)
        y = as_expr(y)
        prod = sp.Product(normal_cdf(x_ - base[_j] / sigma) ** (1 - sp.KroneckerDelta(_j, y)), (_j, 1, c))
        return sp.Integral(normal_pdf(x_ - base[y] / sigma) * prod, (x_, -sp.oo, sp.oo))
    m = [as_expr(v) / sigma for v in mu]
    return LogitIntegral(exact_integrand(m, int(y)), (x_, -sp.oo, sp.oo))


def binary_probability(delta: sp.Expr, sigma: sp.Expr) -> sp.Expr:
    r"""Two classes: :math:`p_y = \Phi\bigl(\Delta/(\sigma\sqrt2)\bigr)`, :math:`\Delta = \mu_y - \mu_{\text{other}}`.

    The difference of the two noises is :math:`N(0, 2)`.

    >>> s = sp.Symbol("sigma", positive=True)
    >>> binary_probability(1, s)
    erf(1/(2*sigma))/2 + 1/2
    """
    return normal_cdf(as_expr(delta) / (as_expr(sigma) * sp.sqrt(2)))


def three_class_probability(h: sp.Expr, k: sp.Expr) -> sp.Expr:
    r"""Three classes: the bivariate normal CDF :math:`\Phi_2(h, k; \rho = \tfrac12)`.

    Here :math:`h = d_1/(\sigma\sqrt2)`, :math:`k = d_2/(\sigma\sqrt2)` with the
    margins :math:`d_j = \mu_y - \mu_j`: the vector :math:`d/\sigma + e`,
    :math:`e \sim N(0, I + 11^T)`, has unit-variance coordinates of correlation
    1/2 after division by :math:`\sqrt 2`.  Owen (1956):

    .. math::

        \Phi_2(h, k; \rho) = \tfrac12\Phi(h) + \tfrac12\Phi(k)
            - T\!\left(h, \frac{k - \rho h}{h\sqrt{1-\rho^2}}\right)
            - T\!\left(k, \frac{h - \rho k}{k\sqrt{1-\rho^2}}\right) - \beta,

    :math:`\beta = \tfrac12` when :math:`hk < 0` or (:math:`hk = 0` and
    :math:`h + k < 0`), else 0.  A zero argument uses :math:`T(0, \pm\infty) = \pm\tfrac14`.

    >>> three_class_probability(0, 0)
    1/3
    >>> h, k = sp.symbols("h k", positive=True)
    >>> three_class_probability(h, k).has(OwenT)
    True
    """
    h, k = as_expr(h), as_expr(k)
    r3 = sp.sqrt(3)

    def t_term(u, v):
        # T(u, (2v - u)/(sqrt3 u)); at u = 0 the second argument is +-infinity.
        if u.is_zero:
            return sp.sign(v) / 4 if not v.is_zero else sp.Integer(0)
        return OwenT(u, (2 * v - u) / (r3 * u))

    if h.is_zero and k.is_zero:
        # Sheppard's orthant formula: 1/4 + asin(rho)/(2 pi) at rho = 1/2.
        return sp.Rational(1, 4) + sp.asin(sp.Rational(1, 2)) / (2 * sp.pi)
    beta = sp.Piecewise(
        (sp.Integer(0), h * k > 0),
        (sp.Integer(0), sp.Eq(h * k, 0) & (h + k >= 0)),
        (sp.Rational(1, 2), True),
    )
    return (normal_cdf(h) + normal_cdf(k)) / 2 - t_term(h, k) - t_term(k, h) - beta


def three_class_margin_gradient(h: sp.Expr, k: sp.Expr) -> sp.Matrix:
    r"""Gradient of :math:`\Phi_2(h, k; \tfrac12)` in (h, k), elementary.

    .. math::

        \frac{\partial \Phi_2}{\partial h} = \varphi(h)\,\Phi\!\left(\frac{k - h/2}{\sqrt{3}/2}\right)

    >>> three_class_margin_gradient(0, 0)
    Matrix([
    [sqrt(2)/(4*sqrt(pi))],
    [sqrt(2)/(4*sqrt(pi))]])
    """
    h, k = as_expr(h), as_expr(k)
    r3 = sp.sqrt(3)
    return sp.Matrix([normal_pdf(h) * normal_cdf((2 * k - h) / r3), normal_pdf(k) * normal_cdf((2 * h - k) / r3)])


def exact_probability(mu, sigma: sp.Expr, y) -> sp.Expr:
    r"""EXACT's :math:`p_y`: closed form for C ≤ 3, the one-dimensional integral beyond.

    >>> s = sp.Symbol("sigma", positive=True)
    >>> exact_probability([2, 0], s, 0)
    erf(1/sigma)/2 + 1/2
    >>> exact_probability([0, 0, 0], 1, 2)
    1/3
    >>> isinstance(exact_probability([0, 0, 0, 0], 1, 0), sp.Integral)
    True
    """
    if isinstance(mu, sp.Symbol):
        return exact_probability_integral(mu, sigma, y)
    mu = [as_expr(v) for v in mu]
    y = int(y)
    sigma = as_expr(sigma)
    if len(mu) == 1:
        return sp.Integer(1)
    margins = [mu[y] - v for j, v in enumerate(mu) if j != y]
    if len(mu) == 2:
        return binary_probability(margins[0], sigma)
    if len(mu) == 3:
        s2 = sigma * sp.sqrt(2)
        return three_class_probability(margins[0] / s2, margins[1] / s2)
    return exact_probability_integral(mu, sigma, y)


def exact_gradient(mu, sigma: sp.Expr, y) -> sp.Matrix:
    r"""The gradient :math:`(\partial p_y/\partial\mu_1, \dots, \partial p_y/\partial\mu_C, \partial p_y/\partial\sigma)`.

    Differentiating under the integral sign: for :math:`j \ne y`

    .. math::

        \frac{\partial p_y}{\partial \mu_j} = -\frac1\sigma \int \varphi(x - m_y)\,
            \varphi(x - m_j) \prod_{k \ne y, j} \Phi(x - m_k)\, dx,

    :math:`\partial p_y/\partial\mu_y = -\sum_{j\ne y}\partial p_y/\partial\mu_j`
    (shift invariance) and :math:`\partial p_y/\partial\sigma = -\sum_j
    (\mu_j/\sigma)\,\partial p_y/\partial\mu_j` (homogeneity of degree 0).
    C = 2 and C = 3 come out elementary.

    >>> s = sp.Symbol("sigma", positive=True)
    >>> g = exact_gradient([1, 0], s, 0)
    >>> sp.simplify(g[0] - sp.diff(exact_probability([sp.Symbol("a"), 0], s, 0), sp.Symbol("a")).subs(sp.Symbol("a"), 1))
    0
    """
    if isinstance(mu, sp.Symbol):
        return _symbolic_gradient(mu, as_expr(sigma), as_expr(y))
    mu = [as_expr(v) for v in mu]
    y = int(y)
    sigma = as_expr(sigma)
    c = len(mu)
    if c == 1:
        return sp.zeros(2, 1)
    grads: list[sp.Expr] = [sp.Integer(0)] * c
    others = [j for j in range(c) if j != y]
    if c == 2:
        (j,) = others
        g = -normal_pdf((mu[y] - mu[j]) / (sigma * sp.sqrt(2))) / (sigma * sp.sqrt(2))
        grads[j] = g
    elif c == 3:
        s2 = sigma * sp.sqrt(2)
        h, k = (mu[y] - mu[others[0]]) / s2, (mu[y] - mu[others[1]]) / s2
        dh, dk = three_class_margin_gradient(h, k)
        grads[others[0]] = -dh / s2
        grads[others[1]] = -dk / s2
    else:
        m = [v / sigma for v in mu]
        for j in others:
            integrand = normal_pdf(x_ - m[y]) * normal_pdf(x_ - m[j])
            for q in others:
                if q != j:
                    integrand *= normal_cdf(x_ - m[q])
            grads[j] = -LogitIntegral(integrand, (x_, -sp.oo, sp.oo)) / sigma
    grads[y] = -sum(grads[j] for j in others)
    dsigma = sigma_gradient_from_mu_gradient(mu, sigma, grads)
    return sp.Matrix([*grads, dsigma])


def _symbolic_gradient(mu: sp.Symbol, sigma: sp.Expr, y: sp.Expr) -> sp.Matrix:
    # Symbolic C: (d p_y / d mu_j for j != y, d p_y / d sigma), Kronecker exponents drop factors.
    base, c = _symbolic_vector(mu)
    j, q = sp.Symbol("j", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
    prod = sp.Product(
        normal_cdf(x_ - base[q] / sigma) ** (1 - sp.KroneckerDelta(q, y) - sp.KroneckerDelta(q, j)), (q, 1, c)
    )
    grad_j = (
        -sp.Integral(normal_pdf(x_ - base[y] / sigma) * normal_pdf(x_ - base[j] / sigma) * prod, (x_, -sp.oo, sp.oo))
        / sigma
    )
    # Shift invariance turns sum_j mu_j g_j into sum_{j != y} (mu_j - mu_y) g_j.
    dsigma = -sp.Sum((1 - sp.KroneckerDelta(j, y)) * (base[j] - base[y]) * grad_j, (j, 1, c)) / sigma
    return sp.Matrix([grad_j, dsigma])


def sigma_gradient_from_mu_gradient(mu: Sequence[sp.Expr], sigma: sp.Expr, grad_mu: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`\partial p/\partial\sigma = -\frac1\sigma\sum_j \mu_j\,\partial p/\partial\mu_j`.

    p depends on :math:`\mu/\sigma` only, so it is homogeneous of degree 0 in
    :math:`(\mu, \sigma)` and Euler's identity gives the σ-derivative.

    >>> a, b, s = sp.symbols("a b sigma", positive=True)
    >>> sigma_gradient_from_mu_gradient([a, b], s, [1, -1])
    (-a + b)/sigma
    """
    return -sum(as_expr(m) * g for m, g in zip(mu, grad_mu)) / as_expr(sigma)


def orthant_covariance(classes: int) -> sp.Matrix:
    r"""The covariance :math:`I + 11^T` of the C − 1 noise differences :math:`\varepsilon_y - \varepsilon_j`.

    >>> orthant_covariance(3)
    Matrix([
    [2, 1],
    [1, 2]])
    """
    n = int(classes) - 1
    return sp.eye(n) + sp.ones(n, n)


def clipped_margins(mu: Sequence[sp.Expr], y: int, margin: sp.Expr) -> list[sp.Expr]:
    r"""EXACT's margin option: the margins :math:`d_j = \mu_y - \mu_j` clipped above at ``margin``.

    A class already beaten by more than the margin stops pulling (zero
    gradient), like a hinge.

    >>> clipped_margins([3, 0, 2], 0, 2)
    [2, 1]
    """
    mu = [as_expr(v) for v in mu]
    return [sp.Min(mu[y] - v, as_expr(margin)) for j, v in enumerate(mu) if j != int(y)]


def expected_error(probabilities: Sequence[sp.Expr]) -> sp.Expr:
    r"""EXACT's loss :math:`1 - \frac1B\sum_b p_b` (one minus the expected accuracy).

    >>> expected_error([sp.Rational(1, 2), 1])
    1/4
    """
    ps = list(probabilities)
    return 1 - sum(ps) / len(ps)


def log_mean_loss(probabilities: Sequence[sp.Expr]) -> sp.Expr:
    r"""The paper's variant :math:`-\log\bigl(\frac1B\sum_b p_b\bigr)`: log outside the dataset mean.

    >>> log_mean_loss([sp.Rational(1, 2), 1])
    -log(3/4)
    """
    ps = list(probabilities)
    return -sp.log(sum(ps) / len(ps))


def exact_event(y) -> sp.Expr:
    r"""The unevaluated left side :math:`P(\arg\max(\mu/\sigma + \varepsilon) = y)`.

    >>> sp.latex(exact_event(1))
    'P{\\left(\\operatorname{argmax}{\\left(\\frac{\\mu}{\\sigma} + \\varepsilon \\right)} = 1 \\right)}'
    """
    mu, sigma, eps = sp.Symbol("mu"), sp.Symbol("sigma"), sp.Symbol("varepsilon")
    return sp.Function("P")(sp.Eq(sp.Function("argmax")(mu / sigma + eps), as_expr(y), evaluate=False))


# ----------------------------------------------------------------------------
# The toy example of post 9098
# ----------------------------------------------------------------------------

#: The paper's data set: (x, label) with labels -1 and +1.
TOY_DATA: tuple[tuple[sp.Rational, int], ...] = (
    (sp.Rational(-1, 4), -1),
    (sp.Integer(0), -1),
    (sp.Rational(1, 4), 1),
)


def toy_margins(k: sp.Expr, b: sp.Expr) -> list[sp.Expr]:
    r"""The signed scores :math:`l\,f(x) = l\,k(x - b)` of the three points.

    >>> b = sp.Symbol("b", real=True)
    >>> toy_margins(1, b)
    [b + 1/4, b, 1/4 - b]
    """
    k, b = as_expr(k), as_expr(b)
    return [sp.expand(lab * k * (xv - b)) for xv, lab in TOY_DATA]


def toy_ce_loss(k: sp.Expr, b: sp.Expr) -> sp.Expr:
    r"""Sigmoid cross-entropy :math:`\sum \log(1 + e^{-l k (x - b)})` on the toy data.

    >>> b = sp.Symbol("b", real=True)
    >>> toy_ce_loss(1, b)
    log(1 + exp(-b)) + log(exp(-b - 1/4) + 1) + log(exp(b - 1/4) + 1)
    """
    return sum(sp.log(1 + sp.exp(-z)) for z in toy_margins(k, b))


def toy_ce_stationarity(k: sp.Expr, b: sp.Expr) -> sp.Expr:
    r"""Stationarity of the CE loss in b, as :math:`\sigma(k(b-\tfrac14)) - \sigma(-k(b+\tfrac14)) - \sigma(-kb) = 0`.

    It is :math:`\frac1k\,\partial L/\partial b`.

    >>> b = sp.Symbol("b", real=True)
    >>> toy_ce_stationarity(1, b)
    -1/(exp(b + 1/4) + 1) + 1/(exp(1/4 - b) + 1) - 1/(exp(b) + 1)
    """
    k, b = as_expr(k), as_expr(b)

    def sig(z):
        return 1 / (1 + sp.exp(-z))

    return sig(k * (b - sp.Rational(1, 4))) - sig(-k * (b + sp.Rational(1, 4))) - sig(-k * b)


def toy_ce_cubic(k: sp.Expr, t: sp.Expr) -> sp.Expr:
    r"""The cubic whose positive root is :math:`t = e^{kb}` at the CE optimum.

    With :math:`c = e^{k/4}`, clearing denominators in the stationarity
    equation leaves

    .. math::

        c\,t^3 - (1 + c + c^2)\,t - 2c = 0 .

    >>> t = sp.Symbol("t", positive=True)
    >>> toy_ce_cubic(4, t)
    E*t**3 - t*(1 + E + exp(2)) - 2*E
    """
    c = sp.exp(as_expr(k) / 4)
    t = as_expr(t)
    return c * t**3 - (1 + c + c**2) * t - 2 * c


def toy_ce_optimum(k: sp.Expr) -> sp.Expr:
    r"""The CE-optimal threshold for scale k, in closed form.

    Dividing the cubic of :func:`toy_ce_cubic` by c gives
    :math:`t^3 - r t - 2 = 0` with :math:`r = 1 + 2\cosh(k/4) \ge 3`: three real
    roots, exactly one positive (Descartes), the trigonometric one

    .. math::

        b^*(k) = \frac1k \log\left(2\sqrt{\frac r3}\,
            \cos\left(\frac13 \arccos\Bigl(\frac3r\Bigr)^{3/2}\right)\right),
        \qquad r = 1 + 2\cosh\frac k4 .

    >>> round(float(toy_ce_optimum(1)), 6)
    0.700088
    >>> k = sp.Symbol("k", positive=True)
    >>> sp.limit(toy_ce_optimum(k), k, sp.oo)
    1/8
    """
    k = as_expr(k)
    r = 1 + 2 * sp.cosh(k / 4)
    t = 2 * sp.sqrt(r / 3) * sp.cos(sp.acos((3 / r) ** sp.Rational(3, 2)) / 3)
    return sp.log(t) / k


def toy_ce_scale_threshold() -> sp.Expr:
    r"""The scale above which the CE optimum is a perfect classifier: :math:`k^* = 4\log c^*`.

    :math:`b^*(k) < \tfrac14` iff :math:`t^* < c`, iff the cubic is positive at
    :math:`t = c`, i.e. :math:`c(c^3 - c^2 - c - 3) > 0`; that cubic in c has a
    single real root :math:`c^*`.

    >>> k = toy_ce_scale_threshold()
    >>> k
    4*log(CRootOf(_c**3 - _c**2 - _c - 3, 0))
    >>> round(float(k), 4)
    3.0252
    """
    c = sp.Symbol("_c")
    return 4 * sp.log(sp.CRootOf(c**3 - c**2 - c - 3, 0))


def toy_hinge_loss(k: sp.Expr, b: sp.Expr) -> sp.Expr:
    r"""Hinge loss :math:`\sum \max(0, 1 - l k (x - b))` on the toy data.

    >>> b = sp.Symbol("b", real=True)
    >>> toy_hinge_loss(1, b)
    Max(0, 3/4 - b) + Max(0, 1 - b) + Max(0, b + 3/4)
    """
    return sum(sp.Max(0, 1 - z) for z in toy_margins(k, b))


def piecewise_linear_argmin(expr: sp.Expr, var: sp.Symbol) -> tuple[sp.Expr, sp.Set]:
    r"""Minimum value and argmin set of a convex piecewise-linear sum of ``Max(0, linear)`` terms.

    The kinks are the zeros of the ``Max`` arguments; a convex piecewise-linear
    function attains its minimum at a kink or on a whole piece of slope 0.

    >>> b = sp.Symbol("b", real=True)
    >>> piecewise_linear_argmin(sp.Max(0, 1 - b) + sp.Max(0, b - 2), b)
    (0, Interval(1, 2))
    """
    kinks = sorted({sp.solve(arg, var)[0] for m in expr.atoms(sp.Max) for arg in m.args if arg.has(var)})
    # Points just left and right of every kink decide the slope of each piece.
    best = min(expr.subs(var, p) for p in kinks)
    points = [p for p in kinks if expr.subs(var, p) == best]
    lo, hi = points[0], points[-1]
    left_slope = sp.diff(expr, var).subs(var, lo - 1)
    right_slope = sp.diff(expr, var).subs(var, hi + 1)
    if left_slope >= 0 or right_slope <= 0:
        raise ValueError("the minimum is not attained (unbounded piece)")
    return best, sp.Interval(lo, hi) if lo != hi else sp.FiniteSet(lo)


def toy_hinge_argmin(k: sp.Expr = 1) -> tuple[sp.Expr, sp.Set]:
    r"""Minimum of the hinge loss in b at scale k, and the set of minimisers.

    >>> toy_hinge_argmin(1)
    (7/4, Interval(3/4, 1))
    >>> toy_hinge_argmin(8)
    (0, {1/8})
    """
    b = sp.Symbol("b", real=True)
    return piecewise_linear_argmin(toy_hinge_loss(k, b), b)


def toy_hinge_zero_loss_scale() -> tuple[sp.Expr, sp.Expr]:
    r"""The smallest scale with zero hinge loss, and its threshold: :math:`(k, b) = (8, 1/8)`.

    Zero loss needs every :math:`l k (x - b) \ge 1`, i.e.
    :math:`k \min(b, \tfrac14 - b) \ge 1`; :math:`\max_b \min(b, \tfrac14 - b) = \tfrac18` at
    :math:`b = \tfrac18`.

    >>> toy_hinge_zero_loss_scale()
    (8, 1/8)
    """
    b = sp.Symbol("b", real=True)
    lines = toy_margins(1, b)
    # The smallest margin is concave and piecewise linear in b: its maximum sits
    # where two of the lines cross.
    crossings = {
        sp.solve(sp.Eq(u, v), b)[0] for i, u in enumerate(lines) for v in lines[i + 1 :] if sp.diff(u - v, b) != 0
    }
    smallest = {c: min(z.subs(b, c) for z in lines) for c in crossings}
    b_star = max(smallest, key=lambda c: smallest[c])
    return 1 / smallest[b_star], b_star


def toy_accuracy(b: sp.Expr) -> sp.Expr:
    r"""Accuracy of :math:`\operatorname{sign}(x - b)` on the toy data (a tie counts as wrong).

    >>> toy_accuracy(sp.Rational(1, 8)), toy_accuracy(sp.Rational(-1, 8))
    (1, 2/3)
    """
    b = as_expr(b)
    return sum(sp.Piecewise((1, z > 0), (0, True)) for z in toy_margins(1, b)) / len(TOY_DATA)


def toy_perfect_accuracy_set() -> sp.Set:
    r"""The thresholds b with accuracy 1: the intersection of the three half-lines :math:`l(x - b) > 0`.

    >>> toy_perfect_accuracy_set()
    Interval.open(0, 1/4)
    """
    b = sp.Symbol("b", real=True)
    return sp.Intersection(*(sp.solveset(z > 0, b, sp.S.Reals) for z in toy_margins(1, b)))


def toy_exact_probabilities(b: sp.Expr, sigma: sp.Expr) -> sp.Matrix:
    r"""EXACT's :math:`p(l \mid x) = \Phi\bigl(l(x - b)/(\sigma\sqrt2)\bigr)` at the three points.

    Two classes with logits (0, x − b): the binary closed form.

    >>> toy_exact_probabilities(0, 1)[1]
    1/2
    """
    return sp.Matrix([binary_probability(z, sigma) for z in toy_margins(1, b)])


def toy_exact_accuracy(b: sp.Expr, sigma: sp.Expr) -> sp.Expr:
    r"""EXACT's expected accuracy on the toy data, :math:`\frac13\sum_i \Phi(l_i(x_i - b)/(\sigma\sqrt2))`.

    >>> toy_exact_accuracy(0, 1)
    erf(1/8)/3 + 1/2
    """
    return sum(toy_exact_probabilities(b, sigma)) / len(TOY_DATA)


def toy_exact_optimum(sigma: sp.Expr) -> sp.Expr:
    r"""The b maximising EXACT's expected accuracy at fixed σ, in closed form.

    With :math:`u = e^{-b/(8\sigma^2)}` and :math:`a = e^{1/(64\sigma^2)}` the
    stationarity equation becomes :math:`u^2 + a u - 1 = 0`, whose positive
    root gives

    .. math::

        b^*(\sigma) = 8\sigma^2 \operatorname{asinh}\!\left(\tfrac12 e^{1/(64\sigma^2)}\right).

    The sign of the derivative is that of :math:`u^2 + au - 1`, decreasing in
    b, so this is the unique global maximum for every σ.

    >>> round(float(toy_exact_optimum(sp.Rational(1, 4))), 3)
    0.302
    >>> s = sp.Symbol("sigma", positive=True)
    >>> sp.limit(toy_exact_optimum(s), s, 0, "+")
    1/8
    """
    sigma = as_expr(sigma)
    return 8 * sigma**2 * sp.asinh(sp.exp(1 / (64 * sigma**2)) / 2)


def toy_exact_failure_scale() -> sp.Expr:
    r"""The σ above which EXACT's optimum leaves the perfect set: :math:`b^*(\sigma) = \tfrac14`.

    With :math:`s = 1/(64\sigma^2)`, :math:`b^* = 1/4` reads
    :math:`\operatorname{asinh}(e^s/2) = 2s`, i.e. :math:`w^4 - w^3 - 1 = 0` for
    :math:`w = e^s`; so :math:`\sigma^* = 1/(8\sqrt{\log w^*})`.

    >>> s = toy_exact_failure_scale()
    >>> round(float(s), 4)
    0.2202
    """
    w = sp.Symbol("_w")
    root = sp.CRootOf(w**4 - w**3 - 1, 1)  # the real root above 1 (index 0 is the negative one)
    return 1 / (8 * sp.sqrt(sp.log(root)))


# ----------------------------------------------------------------------------
# Cross-entropy against 1 - p
# ----------------------------------------------------------------------------


def neg_log_series(p: sp.Expr, terms: int | sp.Expr) -> sp.Expr:
    r"""The partial sum :math:`\sum_{m=1}^{M} (1-p)^m/m` of :math:`-\log p` (M = ``terms``).

    Every term is non-negative for :math:`0 < p \le 1`, so
    :math:`-\log p \ge 1 - p` (the first term), with equality to first order at p = 1.

    >>> p = sp.Symbol("p", positive=True)
    >>> neg_log_series(p, 2)
    -p + (1 - p)**2/2 + 1
    """
    m = sp.Symbol("m", integer=True, positive=True)
    expr = sp.Sum((1 - as_expr(p)) ** m / m, (m, 1, terms))
    return expr.doit() if isinstance(terms, int) else expr


def ce_gradient_weight(p: sp.Expr) -> sp.Expr:
    r"""The factor by which CE reweights the smooth-accuracy gradient: :math:`\partial(-\log p)/\partial(1-p) = 1/p`.

    >>> ce_gradient_weight(sp.Rational(1, 10))
    10
    """
    q = sp.Symbol("q", positive=True)
    return (sp.diff(-sp.log(q), q) / sp.diff(1 - q, q)).subs(q, as_expr(p))
