r"""Diffusion notation and noise schedules, in the convention of the posts (Su's).

closedform states every diffusion formula in one convention:

.. math::

    x_t = \alpha_t x_{t-1} + \beta_t \varepsilon,\quad \alpha_t^2 + \beta_t^2 = 1,\qquad
    x_t = \bar\alpha_t x_0 + \bar\beta_t \varepsilon,\quad
    \bar\alpha_t = \prod_{s \le t} \alpha_s,\ \bar\beta_t = \sqrt{1 - \bar\alpha_t^2}.

Ho et al. (DDPM, and libraries such as diffusers) use the *squares* of these
quantities under the same names.  :data:`HO_FROM_SU` is the conversion table
(each Ho quantity as an expression in Su's); a test round-trips it.
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "HO_FROM_SU",
    "SU_FROM_HO",
    "cosine_alpha_bar",
    "linear_alpha_bar",
    "linear_alpha",
    "su_from_ho",
    "ho_from_su",
]

#: Su's per-step and cumulative coefficients (all in (0, 1)).
alpha, beta, alpha_bar, beta_bar = sp.symbols("alpha beta alphabar betabar", positive=True)
#: Ho et al.'s names for the same process (their alpha_t = 1 - beta_t is Su's alpha_t squared).
ho_alpha, ho_beta, ho_alpha_bar = sp.symbols("alpha^{Ho} beta^{Ho} alphabar^{Ho}", positive=True)

#: Ho's quantities in Su's notation.
HO_FROM_SU: dict[str, sp.Expr] = {
    "alpha_t (Ho)": alpha**2,
    "beta_t (Ho)": beta**2,
    "alpha_bar_t (Ho)": alpha_bar**2,
    "1 - alpha_bar_t (Ho)": beta_bar**2,
    "sqrt(alpha_bar_t) (Ho)": alpha_bar,
    "sqrt(1 - alpha_bar_t) (Ho)": beta_bar,
}

#: Su's quantities in Ho's notation.
SU_FROM_HO: dict[str, sp.Expr] = {
    "alpha_t": sp.sqrt(ho_alpha),
    "beta_t": sp.sqrt(ho_beta),
    "alpha_bar_t": sp.sqrt(ho_alpha_bar),
    "beta_bar_t": sp.sqrt(1 - ho_alpha_bar),
}


def su_from_ho(ho_alpha_t: sp.Expr, ho_alpha_bar_t: sp.Expr) -> dict[str, sp.Expr]:
    r"""Su's :math:`(\alpha_t, \beta_t, \bar\alpha_t, \bar\beta_t)` from Ho's :math:`(\alpha_t, \bar\alpha_t)`.

    >>> su_from_ho(sp.Rational(81, 100), sp.Rational(36, 100))
    {'alpha': 9/10, 'beta': sqrt(19)/10, 'alpha_bar': 3/5, 'beta_bar': 4/5}
    """
    a, ab = sp.sympify(ho_alpha_t), sp.sympify(ho_alpha_bar_t)
    return {"alpha": sp.sqrt(a), "beta": sp.sqrt(1 - a), "alpha_bar": sp.sqrt(ab), "beta_bar": sp.sqrt(1 - ab)}


def ho_from_su(su_alpha_t: sp.Expr, su_alpha_bar_t: sp.Expr) -> dict[str, sp.Expr]:
    r"""Ho's :math:`(\alpha_t, \beta_t, \bar\alpha_t)` from Su's :math:`(\alpha_t, \bar\alpha_t)`.

    >>> ho_from_su(sp.Rational(9, 10), sp.Rational(3, 5))
    {'alpha': 81/100, 'beta': 19/100, 'alpha_bar': 9/25}
    """
    a, ab = sp.sympify(su_alpha_t), sp.sympify(su_alpha_bar_t)
    return {"alpha": a**2, "beta": 1 - a**2, "alpha_bar": ab**2}


def linear_alpha(t: sp.Expr, T: sp.Expr, beta_1=sp.Rational(1, 10**4), beta_T=sp.Rational(2, 100)) -> sp.Expr:
    r"""Su's :math:`\alpha_t` of Ho's linear schedule :math:`\beta^{Ho}_t = \beta_1 + (\beta_T - \beta_1)\frac{t-1}{T-1}`.

    .. math::

        \alpha_t = \sqrt{1 - \beta^{Ho}_t}.

    >>> linear_alpha(1, 1000)
    3*sqrt(1111)/100
    """
    t, T = sp.sympify(t), sp.sympify(T)
    return sp.sqrt(1 - (beta_1 + (beta_T - beta_1) * (t - 1) / (T - 1)))


def linear_alpha_bar(t: int, T: int, beta_1=sp.Rational(1, 10**4), beta_T=sp.Rational(2, 100)) -> sp.Expr:
    r"""Su's :math:`\bar\alpha_t = \prod_{s \le t} \alpha_s` for the linear schedule (concrete t).

    >>> linear_alpha_bar(0, 10)
    1
    """
    return sp.Mul(*[linear_alpha(s, T, beta_1, beta_T) for s in range(1, int(t) + 1)])


def cosine_alpha_bar(t: sp.Expr, T: sp.Expr, s=sp.Rational(8, 1000)) -> sp.Expr:
    r"""Su's :math:`\bar\alpha_t` of the cosine schedule (Nichol & Dhariwal), the square root of theirs.

    .. math::

        \bar\alpha_t = \frac{\cos\bigl(\frac{t/T + s}{1 + s}\frac{\pi}{2}\bigr)}
                            {\cos\bigl(\frac{s}{1 + s}\frac{\pi}{2}\bigr)}.

    >>> cosine_alpha_bar(0, 1000)
    1
    """
    t, T = sp.sympify(t), sp.sympify(T)
    f = lambda u: sp.cos((u / T + s) / (1 + s) * sp.pi / 2)  # noqa: E731
    return sp.simplify(f(t) / f(0))
