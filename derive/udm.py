r"""The unified diffusion model (posts 9262 and 9271): hot and cold diffusion.

Convention: Su's, as in :mod:`closedform.derive.schedules` (every coefficient
here is the *square root* of Ho et al.'s quantity of the same name):

.. math::

    x_t = \bar\alpha_t x_0 + \bar\beta_t \varepsilon,\qquad
    \bar\beta_t = \sqrt{1 - \bar\alpha_t^2},\qquad \alpha_t = \bar\alpha_t / \bar\alpha_{t-1}.

The unified model samples :math:`x_{t-1}` in two moves: *predict*
:math:`\hat x_0 \sim p(x_0|x_t)`, then *correct*
:math:`x_{t-1} \sim p(x_{t-1}|x_t, x_0 = \hat x_0)`.  Any correction kernel
is admissible that satisfies the marginal constraint

.. math::

    \int p(x_{t-1}|x_t, x_0)\, p(x_t|x_0)\, dx_t = p(x_{t-1}|x_0).

For hot diffusion the family is

.. math::

    x_{t-1} = \bar\alpha_{t-1} x_0
        + \sqrt{\bar\beta_{t-1}^2 - \sigma_t^2}\,\frac{x_t - \bar\alpha_t x_0}{\bar\beta_t}
        + \sigma_t \varepsilon,\qquad 0 \le \sigma_t \le \bar\beta_{t-1},

which is DDPM for :math:`\sigma_t = \bar\beta_{t-1}\beta_t/\bar\beta_t` and DDIM for
:math:`\sigma_t = 0`.  Every function returns SymPy expressions.
"""

from __future__ import annotations

import sympy as sp

from closedform.derive.errors import ParameterError
from closedform.derive.expr_parser import as_expr

__all__ = [
    "box_blur_matrix",
    "check_blur_widths",
    "cold_errors_row",
    "cold_mean_squared_errors",
    "ddpm_posterior_coefficients",
    "ddpm_sigma",
    "exact_chain_moments",
    "gaussian_x0_posterior",
    "general_posterior",
    "general_posterior_coefficients",
    "hot_step_moments",
    "improved_cold_step",
    "naive_cold_step",
    "plugin_chain_variance",
    "plugin_gain",
    "sigma_from_sigma_tilde",
    "uniform_mixing_moments",
    "uniform_mixing_step_moments",
    "uniform_mixing_tail",
]


def general_posterior_coefficients(alpha_bar_prev, alpha_bar_t, sigma) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Coefficients :math:`(c_0, c_t, \sigma_t)` of the hot-diffusion posterior (Su's convention).

    .. math::

        x_{t-1} = c_0 x_0 + c_t x_t + \sigma_t\varepsilon,\quad
        c_t = \frac{\sqrt{\bar\beta_{t-1}^2 - \sigma_t^2}}{\bar\beta_t},\quad
        c_0 = \bar\alpha_{t-1} - c_t\bar\alpha_t .

    >>> general_posterior_coefficients(sp.Rational(3, 5), sp.Rational(3, 5) * sp.Rational(9, 10), 0)
    (3/5 - 108*sqrt(1771)/8855, 40*sqrt(1771)/1771, 0)
    """
    abp, ab, s = (as_expr(v) for v in (alpha_bar_prev, alpha_bar_t, sigma))
    ct = sp.sqrt(1 - abp**2 - s**2) / sp.sqrt(1 - ab**2)
    return (abp - ct * ab, ct, s)


def general_posterior(x0, x_t, eps, alpha_bar_prev, alpha_bar_t, sigma) -> sp.Expr:
    r"""The sample :math:`x_{t-1}` of the general hot-diffusion posterior (Su's convention).

    .. math::

        x_{t-1} = \bar\alpha_{t-1}x_0 + \sqrt{\bar\beta_{t-1}^2-\sigma_t^2}\,
            \frac{x_t - \bar\alpha_t x_0}{\bar\beta_t} + \sigma_t\varepsilon

    >>> x0, xt, e = sp.symbols("x_0 x_t varepsilon")
    >>> general_posterior(x0, xt, e, sp.Rational(3, 5), sp.Rational(0), 0)
    3*x_0/5 + 4*x_t/5
    """
    abp, ab, s = (as_expr(v) for v in (alpha_bar_prev, alpha_bar_t, sigma))
    return abp * x0 + sp.sqrt(1 - abp**2 - s**2) * (x_t - ab * x0) / sp.sqrt(1 - ab**2) + s * eps


def ddpm_sigma(alpha_t, alpha_bar_prev) -> sp.Expr:
    r"""DDPM's choice :math:`\sigma_t = \bar\beta_{t-1}\beta_t/\bar\beta_t` (Su's convention).

    .. math::

        \sigma_t = \frac{\sqrt{1-\bar\alpha_{t-1}^2}\,\sqrt{1-\alpha_t^2}}{\sqrt{1-\alpha_t^2\bar\alpha_{t-1}^2}}

    >>> ddpm_sigma(sp.Rational(4, 5), sp.Rational(3, 5))
    12*sqrt(481)/481
    """
    a, abp = as_expr(alpha_t), as_expr(alpha_bar_prev)
    return sp.sqrt(1 - abp**2) * sp.sqrt(1 - a**2) / sp.sqrt(1 - a**2 * abp**2)


def ddpm_posterior_coefficients(alpha_t, alpha_bar_prev) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""The usual DDPM posterior in Su's convention: x_0 and x_t coefficients and the variance.

    .. math::

        \frac{\bar\alpha_{t-1}\beta_t^2}{\bar\beta_t^2}x_0 + \frac{\alpha_t\bar\beta_{t-1}^2}{\bar\beta_t^2}x_t,
        \qquad \operatorname{Var} = \frac{\bar\beta_{t-1}^2\beta_t^2}{\bar\beta_t^2}.

    >>> ddpm_posterior_coefficients(sp.Rational(9, 10), sp.Rational(3, 5))
    (285/1771, 1440/1771, 304/1771)
    """
    a, abp = as_expr(alpha_t), as_expr(alpha_bar_prev)
    b2, bbp2, bb2 = 1 - a**2, 1 - abp**2, 1 - a**2 * abp**2
    return (abp * b2 / bb2, a * bbp2 / bb2, bbp2 * b2 / bb2)


def hot_step_moments(x0, alpha_bar_prev, beta_bar_prev=None) -> tuple[sp.Expr, ...]:
    r"""The law :math:`N(\bar\alpha_{t-1}x_0, \bar\beta_{t-1}^2)` of :math:`x_{t-1}` that every admissible
    :math:`\sigma_t` gives (post 9271), as four moments of :math:`d = x_{t-1} - \bar\alpha_{t-1}x_0`.

    .. math::

        E x_{t-1} = \bar\alpha_{t-1}x_0,\quad E d^2 = \bar\beta_{t-1}^2,\quad E d^4 = 3\bar\beta_{t-1}^4,\quad
        P(|d| > \sqrt3\,\bar\beta_{t-1}) = \operatorname{erfc}\sqrt{3/2}

    (the tail is 0 when :math:`\bar\beta_{t-1} = 0`).  ``beta_bar_prev`` defaults to
    :math:`\sqrt{1 - \bar\alpha_{t-1}^2}`; pass a symbol for the general form.

    >>> hot_step_moments(sp.Rational(13, 10), sp.Rational(3, 5))
    (39/50, 16/25, 768/625, erfc(sqrt(6)/2))
    """
    abp = as_expr(alpha_bar_prev)
    bbp2 = 1 - abp**2 if beta_bar_prev is None else as_expr(beta_bar_prev) ** 2
    tail = sp.erfc(sp.sqrt(sp.Rational(3, 2))) if bbp2 != 0 else sp.Integer(0)
    return (abp * x0, bbp2, 3 * bbp2**2, tail)


def exact_chain_moments(mu0, s0) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Mean, variance and fourth central moment of the data law :math:`N(\mu_0, s_0^2)`, which the reverse
    chain reproduces for any T and :math:`\sigma_t` when :math:`\hat x_0` is an exact sample of :math:`p(x_0|x_t)`.

    >>> exact_chain_moments(sp.Rational(3, 2), sp.Rational(3, 10))
    (3/2, 9/100, 243/10000)
    """
    return (mu0, s0**2, 3 * s0**4)


def plugin_chain_variance(s0, T) -> sp.Expr:
    r"""The plug-in sampler's :math:`\operatorname{Var} x_0`, the recursion :math:`v_{t-1} = g_t^2 v_t + \sigma_t^2`
    (:func:`plugin_gain`) unrolled from :math:`v_T = \bar\alpha_T^2 s_0^2 + \bar\beta_T^2`.

    .. math::

        v_0 = \prod_{s=1}^T g_s^2\, v_T + \sum_{t=1}^T \sigma_t^2 \prod_{s=1}^{t-1} g_s^2

    >>> plugin_chain_variance(sp.Symbol("s_0"), sp.Symbol("T"))
    (\bar\alpha_T**2*s_0**2 - \bar\alpha_T**2 + 1)*Product(g[s]**2, (s, 1, T)) + Sum(sigma[t]**2*Product(g[s]**2, (s, 1, t - 1)), (t, 1, T))
    """
    g, sg = sp.IndexedBase("g"), sp.IndexedBase("sigma")
    t, s = sp.Symbol("t", integer=True), sp.Symbol("s", integer=True)
    v_T = sp.Symbol(r"\bar\alpha_T") ** 2 * s0**2 + 1 - sp.Symbol(r"\bar\alpha_T") ** 2
    return sp.Product(g[s] ** 2, (s, 1, T)) * v_T + sp.Sum(sg[t] ** 2 * sp.Product(g[s] ** 2, (s, 1, t - 1)), (t, 1, T))


def sigma_from_sigma_tilde(sigma_tilde, beta_bar_prev) -> sp.Expr:
    r"""Post 9262's (c) mixes :math:`\sqrt{1-\tilde\sigma^2}\varepsilon_1 + \tilde\sigma\varepsilon_2`; in 9271's form :math:`\sigma_t = \tilde\sigma_t\bar\beta_{t-1}`.

    >>> sigma_from_sigma_tilde(sp.Rational(1, 2), sp.Rational(4, 5))
    2/5
    """
    return as_expr(sigma_tilde) * as_expr(beta_bar_prev)


def gaussian_x0_posterior(x_t, mu0, s0, alpha_bar_t) -> tuple[sp.Expr, sp.Expr]:
    r"""Mean and variance of :math:`p(x_0|x_t)` for data :math:`N(\mu_0, s_0^2)` (Su's convention).

    .. math::

        \operatorname{Var} = \Bigl(\frac1{s_0^2} + \frac{\bar\alpha_t^2}{\bar\beta_t^2}\Bigr)^{-1},\qquad
        \text{mean} = \operatorname{Var}\Bigl(\frac{\mu_0}{s_0^2} + \frac{\bar\alpha_t x_t}{\bar\beta_t^2}\Bigr).

    >>> gaussian_x0_posterior(1, 0, 1, sp.sqrt(2) / 2)
    (sqrt(2)/2, 1/2)
    """
    ab, s0 = as_expr(alpha_bar_t), as_expr(s0)
    bb2 = 1 - ab**2
    var = sp.simplify(1 / (1 / s0**2 + ab**2 / bb2))
    return (sp.simplify(var * (as_expr(mu0) / s0**2 + ab * as_expr(x_t) / bb2)), var)


def plugin_gain(alpha_bar_prev, alpha_bar_t, sigma, s0) -> sp.Expr:
    r"""The factor g with :math:`x_{t-1} - \bar\alpha_{t-1}\mu_0 = g\,(x_t - \bar\alpha_t\mu_0) + \sigma_t\varepsilon`
    when :math:`\hat x_0 = E[x_0|x_t]` (plug-in mean, Gaussian data :math:`N(\mu_0, s_0^2)`).

    .. math::

        g = \bar\alpha_{t-1}k + c_t(1 - \bar\alpha_t k),\qquad
        k = \frac{\bar\alpha_t s_0^2}{\bar\alpha_t^2 s_0^2 + \bar\beta_t^2},

    so the variance obeys :math:`v_{t-1} = g^2 v_t + \sigma_t^2`.

    >>> plugin_gain(1, 0, 0, sp.Rational(3, 10))
    0
    """
    abp, ab, s, s0 = (as_expr(v) for v in (alpha_bar_prev, alpha_bar_t, sigma, s0))
    k = ab * s0**2 / (ab**2 * s0**2 + 1 - ab**2)
    ct = general_posterior_coefficients(abp, ab, s)[1]
    return abp * k + ct * (1 - ab * k)


def uniform_mixing_moments(sigma_tilde) -> tuple[sp.Expr, sp.Expr]:
    r"""Second and fourth moments of :math:`w = \sqrt{1-\tilde\sigma^2}u_1 + \tilde\sigma u_2`, :math:`u_i` uniform with variance 1.

    .. math::

        E w^2 = 1,\qquad E w^4 = \tfrac95(a^4 + b^4) + 6a^2b^2,\quad a^2 = 1-\tilde\sigma^2,\ b = \tilde\sigma;

    a uniform variable has :math:`E u^4 = 9/5`, so the mixture is not uniform unless
    :math:`\tilde\sigma \in \{0, 1\}`.

    >>> uniform_mixing_moments(sp.sqrt(2) / 2)
    (1, 12/5)
    """
    b = as_expr(sigma_tilde)
    a2, b2 = 1 - b**2, b**2
    return (sp.expand(a2 + b2), sp.expand(sp.Rational(9, 5) * (a2**2 + b2**2) + 6 * a2 * b2))


def uniform_mixing_tail(sigma_tilde) -> sp.Expr:
    r""":math:`P(|w| > \sqrt3)` for the uniform mixture :math:`w`; 0 for a uniform variable of variance 1.

    With :math:`a = \max(\sqrt{1-\tilde\sigma^2}, \tilde\sigma)`, :math:`b` the other,
    :math:`w/\sqrt3 = aV_1 + bV_2` (:math:`V_i` uniform on (-1, 1)) has a trapezoidal
    density whose ramp beyond 1 carries

    .. math::

        P(|w| > \sqrt3) = \frac{(a + b - 1)^2}{4ab}\quad (ab > 0),\qquad 0\ (ab = 0).

    >>> sp.nsimplify(uniform_mixing_tail(sp.sqrt(2) / 2))
    3/2 - sqrt(2)
    """
    b = as_expr(sigma_tilde)
    a = sp.sqrt(1 - b**2)
    return sp.Piecewise((0, sp.Eq(a * b, 0)), ((a + b - 1) ** 2 / (4 * a * b), True))


def uniform_mixing_step_moments(x0, alpha_bar_prev, sigma_tilde) -> tuple[sp.Expr, ...]:
    r"""The four moments of :func:`hot_step_moments` when post 9262's mixing (c) uses uniform noise:
    :math:`d = \bar\beta_{t-1}w` with :math:`w` of :func:`uniform_mixing_moments` and :func:`uniform_mixing_tail`.

    >>> uniform_mixing_step_moments(1, sp.Rational(3, 5), sp.sqrt(2) / 2)[1:3]
    (16/25, 3072/3125)
    """
    m2, m4 = uniform_mixing_moments(sigma_tilde)
    bbp2 = 1 - alpha_bar_prev**2
    return (alpha_bar_prev * x0, bbp2 * m2, bbp2**2 * m4, uniform_mixing_tail(sigma_tilde) if bbp2 != 0 else 0)


def naive_cold_step(F_prev_of_x0hat) -> sp.Expr:
    r"""Cold diffusion, naive sampling: :math:`x_{t-1} = F_{t-1}(\hat x_0)` (the baseline kernel, σ → 0).

    >>> naive_cold_step(sp.Symbol("y"))
    y
    """
    return as_expr(F_prev_of_x0hat)


def improved_cold_step(x_t, F_prev_of_x0hat, F_t_of_x0hat) -> sp.Expr:
    r"""Cold diffusion, improved sampling (invert :math:`\varepsilon = (x_t - F_t(x_0))/\sigma`).

    .. math::

        x_{t-1} = x_t + F_{t-1}(\hat x_0) - F_t(\hat x_0)

    >>> improved_cold_step(*sp.symbols("x a b"))
    a - b + x
    """
    return as_expr(x_t) + as_expr(F_prev_of_x0hat) - as_expr(F_t_of_x0hat)


def box_blur_matrix(n: int, width: int) -> sp.Matrix:
    r"""The circular box blur of odd or even ``width`` on n pixels, centred at offset ⌊(w-1)/2⌋.

    .. math::

        (A_w x)_i = \frac1w\sum_{k=0}^{w-1} x_{(i - \lfloor (w-1)/2\rfloor + k) \bmod n}

    >>> box_blur_matrix(3, 2)
    Matrix([
    [1/2, 1/2,   0],
    [  0, 1/2, 1/2],
    [1/2,   0, 1/2]])
    """
    n, w = int(n), int(width)
    a = sp.zeros(n, n)
    off = (w - 1) // 2
    for i in range(n):
        for k in range(w):
            a[i, (i - off + k) % n] += sp.Rational(1, w)
    return a


def cold_mean_squared_errors(n, w_prev, w_t, s) -> tuple[sp.Expr, sp.Expr]:
    r"""Per-pixel mean squared error of the naive and improved cold samplers for a linear blur.

    With :math:`F_t = A_{w_t}` (box blur), :math:`\hat x_0 = x_0 + e`,
    :math:`e \sim N(0, s^2 I)` and σ → 0, the errors against the true
    :math:`A_{t-1}x_0` are :math:`A_{t-1}e` (naive) and :math:`(A_{t-1} - A_t)e`
    (improved: the first-order error cancels), so

    .. math::

        \text{MSE}_{\rm naive} = \frac{s^2}{n}\operatorname{tr}(A_{t-1}^\top A_{t-1}),\qquad
        \text{MSE}_{\rm improved} = \frac{s^2}{n}\operatorname{tr}\bigl((A_{t-1}-A_t)^\top(A_{t-1}-A_t)\bigr).

    >>> cold_mean_squared_errors(16, 2, 3, sp.Rational(1, 10))
    (1/200, 1/600)
    """
    ap, at = box_blur_matrix(n, w_prev), box_blur_matrix(n, w_t)
    d = ap - at
    s2 = as_expr(s) ** 2
    return (s2 * (ap.T * ap).trace() / n, s2 * (d.T * d).trace() / n)


def check_blur_widths(n, w_prev, w_t) -> None:
    """A ParameterError unless w_prev < w_t <= n (more blur at t than at t - 1, within the signal).

    >>> check_blur_widths(16, 3, 3)
    Traceback (most recent call last):
    ...
    closedform.ParameterError: the blur widths must satisfy w_prev < w_t <= n (more blur at t), got w_prev=3, w_t=3, n=16
    """
    if not int(w_prev) < int(w_t) <= int(n):
        raise ParameterError(
            f"the blur widths must satisfy w_prev < w_t <= n (more blur at t), got w_prev={w_prev}, w_t={w_t}, n={n}"
        )


def cold_errors_row(n, w_prev, w_t, s) -> sp.Matrix:
    r"""Both cold-sampling MSEs of :func:`cold_mean_squared_errors` as a row; at symbolic parameters, their trace form.

    >>> cold_errors_row(16, 2, 3, sp.Rational(1, 10))
    Matrix([[1/200, 1/600]])
    """
    if any(isinstance(v, sp.Basic) and not v.is_number for v in (n, w_prev, w_t, s)):
        A_p, A_t = sp.MatrixSymbol("A_{t-1}", n, n), sp.MatrixSymbol("A_t", n, n)
        return sp.Matrix([[s**2 * sp.Trace(A_p.T * A_p) / n, s**2 * sp.Trace((A_p - A_t).T * (A_p - A_t)) / n]])
    check_blur_widths(n, w_prev, w_t)
    return sp.Matrix([list(cold_mean_squared_errors(int(n), int(w_prev), int(w_t), s))])
