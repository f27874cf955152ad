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

import itertools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

from closedform.derive.errors import ParameterError
from closedform.derive.expr_parser import as_expr

__all__ = [
    "HO_FROM_SU",
    "SCHEDULES",
    "SU_FROM_HO",
    "NamedSchedule",
    "alpha_bar_schedule",
    "beta_bar_of",
    "cosine_alpha_bar",
    "ho_ddim_coefficients",
    "ho_ddim_sigma",
    "ho_ddpm_posterior",
    "ho_from_su",
    "linear_alpha",
    "linear_alpha_bar",
    "schedule_alpha_bars",
    "su_from_ho",
]

#: Ho's linear schedule end points and Nichol-Dhariwal's cosine offset (defaults below).
LINEAR_BETA_1, LINEAR_BETA_T, COSINE_OFFSET = sp.Rational(1, 10**4), sp.Rational(2, 100), sp.Rational(8, 1000)
#: The number of steps Ho's linear end points are stated for (other T rescale them by 1000/T).
LINEAR_REFERENCE_T = 1000
#: Cap on Ho's rescaled linear beta_t, so that every alpha_t > 0 even at few steps.
LINEAR_MAX_HO_BETA = sp.Rational(999, 1000)

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
    a, ab = as_expr(ho_alpha_t), as_expr(ho_alpha_bar_t)
    return {"alpha": sp.sqrt(a), "beta": sp.sqrt(1 - a), "alpha_bar": sp.sqrt(ab), "beta_bar": sp.sqrt(1 - ab)}


def ho_from_su(su_alpha_t: sp.Expr, su_alpha_bar_t: sp.Expr) -> dict[str, sp.Expr]:
    r"""Ho's :math:`(\alpha_t, \beta_t, \bar\alpha_t)` from Su's :math:`(\alpha_t, \bar\alpha_t)`.

    >>> ho_from_su(sp.Rational(9, 10), sp.Rational(3, 5))
    {'alpha': 81/100, 'beta': 19/100, 'alpha_bar': 9/25}
    """
    a, ab = as_expr(su_alpha_t), as_expr(su_alpha_bar_t)
    return {"alpha": a**2, "beta": 1 - a**2, "alpha_bar": ab**2}


def linear_alpha(t: sp.Expr, T: sp.Expr, beta_1=LINEAR_BETA_1, beta_T=LINEAR_BETA_T) -> sp.Expr:
    r"""Su's :math:`\alpha_t` of Ho's linear schedule :math:`\beta^{Ho}_t = \beta_1 + (\beta_T - \beta_1)\frac{t-1}{T-1}`.

    .. math::

        \alpha_t = \sqrt{1 - \beta^{Ho}_t}.

    >>> linear_alpha(1, 1000)
    3*sqrt(1111)/100
    """
    t, T = as_expr(t), as_expr(T)
    return sp.sqrt(1 - (beta_1 + (beta_T - beta_1) * (t - 1) / (T - 1)))


def linear_alpha_bar(t: int, T: int, beta_1=LINEAR_BETA_1, beta_T=LINEAR_BETA_T) -> sp.Expr:
    r"""Su's :math:`\bar\alpha_t = \prod_{s \le t} \alpha_s` for the linear schedule (concrete t).

    >>> linear_alpha_bar(0, 10)
    1
    """
    return sp.Mul(*[linear_alpha(s, T, beta_1, beta_T) for s in range(1, int(t) + 1)])


def cosine_alpha_bar(t: sp.Expr, T: sp.Expr, s=COSINE_OFFSET) -> sp.Expr:
    r"""Su's :math:`\bar\alpha_t` of the cosine schedule (Nichol & Dhariwal), the square root of theirs.

    .. math::

        \bar\alpha_t = \frac{\cos\bigl(\frac{t/T + s}{1 + s}\frac{\pi}{2}\bigr)}
                            {\cos\bigl(\frac{s}{1 + s}\frac{\pi}{2}\bigr)}.

    >>> cosine_alpha_bar(0, 1000)
    1
    """
    t, T = as_expr(t), as_expr(T)
    f = lambda u: sp.cos((u / T + s) / (1 + s) * sp.pi / 2)
    return sp.simplify(f(t) / f(0))


# ---------------------------------------------------------------------------
# Ho et al.'s and Song et al.'s formulas, written in *their* notation, so that a
# test can substitute HO_FROM_SU and compare with the formulas in Su's notation.
# ---------------------------------------------------------------------------


def ho_ddpm_posterior(
    ho_alpha_t: sp.Expr, ho_alpha_bar_t: sp.Expr, ho_alpha_bar_prev: sp.Expr
) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Ho et al. (2020), eq. (7), **in Ho's notation**: the x_0 and x_t coefficients of
    :math:`\tilde\mu_t` and the variance :math:`\tilde\beta_t` of :math:`q(x_{t-1}|x_t, x_0)`.

    .. math::

        \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\beta_t}{1-\bar\alpha_t} x_0
            + \frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t} x_t,\qquad
        \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t,\qquad \beta_t = 1 - \alpha_t.

    >>> ho_ddpm_posterior(sp.Rational(81, 100), sp.Rational(81, 100) * sp.Rational(9, 25), sp.Rational(9, 25))
    (285/1771, 1440/1771, 304/1771)
    """
    a, ab, abp = (as_expr(v) for v in (ho_alpha_t, ho_alpha_bar_t, ho_alpha_bar_prev))
    b = 1 - a
    return (sp.sqrt(abp) * b / (1 - ab), sp.sqrt(a) * (1 - abp) / (1 - ab), (1 - abp) / (1 - ab) * b)


def ho_ddim_sigma(eta: sp.Expr, ho_alpha_bar_t: sp.Expr, ho_alpha_bar_prev: sp.Expr) -> sp.Expr:
    r"""Song et al. (DDIM, 2021), eq. (16), **in Ho's notation**: the step noise for a given :math:`\eta`.

    .. math::

        \sigma_t(\eta) = \eta\sqrt{\frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}}
            \sqrt{1 - \frac{\bar\alpha_t}{\bar\alpha_{t-1}}}

    (η = 1 is DDPM's posterior standard deviation, η = 0 is DDIM).

    >>> ho_ddim_sigma(1, sp.Rational(1, 4), sp.Rational(1, 2))
    sqrt(3)/3
    """
    ab, abp = as_expr(ho_alpha_bar_t), as_expr(ho_alpha_bar_prev)
    return as_expr(eta) * sp.sqrt((1 - abp) / (1 - ab)) * sp.sqrt(1 - ab / abp)


def ho_ddim_coefficients(
    ho_alpha_bar_t: sp.Expr, ho_alpha_bar_prev: sp.Expr, sigma: sp.Expr
) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""Song et al. eq. (12), **in Ho's notation**, as coefficients of :math:`(x_0, x_t)` and the noise scale.

    .. math::

        x_{t-1} = \sqrt{\bar\alpha_{t-1}}\,x_0 + \sqrt{1-\bar\alpha_{t-1}-\sigma_t^2}\;
            \frac{x_t - \sqrt{\bar\alpha_t}x_0}{\sqrt{1-\bar\alpha_t}} + \sigma_t z .

    >>> ho_ddim_coefficients(sp.Rational(1, 4), sp.Rational(1, 2), 0)
    (-sqrt(6)/6 + sqrt(2)/2, sqrt(6)/3, 0)
    """
    ab, abp, s = (as_expr(v) for v in (ho_alpha_bar_t, ho_alpha_bar_prev, sigma))
    c = sp.sqrt(1 - abp - s**2) / sp.sqrt(1 - ab)
    return (sp.sqrt(abp) - c * sp.sqrt(ab), c, s)


def beta_bar_of(alpha_bar_t: sp.Expr) -> sp.Expr:
    r"""Su's :math:`\bar\beta_t = \sqrt{1 - \bar\alpha_t^2}` (the noise scale of :math:`x_t` given :math:`x_0`).

    >>> beta_bar_of(sp.Rational(3, 5))
    4/5
    """
    return sp.sqrt(1 - as_expr(alpha_bar_t) ** 2)


def schedule_alpha_bars(kind: str, T: int, s=None, beta_1=LINEAR_BETA_1, beta_T=LINEAR_BETA_T) -> list[sp.Expr]:
    r"""Su's :math:`\bar\alpha_0 = 1, \bar\alpha_1, \dots, \bar\alpha_T` of a named schedule, exactly.

    ``"linear"``: Ho's linear :math:`\beta^{Ho}_t` from :math:`10^{-4}` to 0.02 rescaled
    to T steps (:math:`\beta^{Ho}_t \cdot 1000/T`, as improved-DDPM does, capped at 0.999 so
    that every :math:`\alpha_t > 0`); ``"cosine"``: :func:`cosine_alpha_bar` with offset
    ``s`` (default 0.008; ``s = 0`` gives :math:`\bar\alpha_t = \cos(\pi t / 2T)`, the
    schedule of the plug-in under-dispersion table of post 9262's predict-correct sampler).

    >>> schedule_alpha_bars("cosine", 2, s=0)
    [1, sqrt(2)/2, 0]
    >>> [sp.nsimplify(a**2) for a in schedule_alpha_bars("linear", 1)]
    [1, 1/1000]
    """
    T = int(T)
    if kind == "cosine":
        off = COSINE_OFFSET if s is None else sp.nsimplify(s)
        # The ratio of cosines of cosine_alpha_bar, left unsimplified (simplify costs ~0.1 s a term).
        f0 = sp.cos(off / (1 + off) * sp.pi / 2)
        return [sp.Integer(1)] + [
            sp.cos((sp.Rational(t, T) + off) / (1 + off) * sp.pi / 2) / f0 for t in range(1, T + 1)
        ]
    if kind == "linear":
        scale = sp.Rational(LINEAR_REFERENCE_T, T)
        b1, bT = sp.nsimplify(beta_1) * scale, sp.nsimplify(beta_T) * scale
        out, prod = [sp.Integer(1)], sp.Integer(1)
        for t in range(1, T + 1):
            ho_beta_t = b1 + (bT - b1) * sp.Rational(t - 1, T - 1) if T > 1 else bT
            # Ho's alpha-bar is a rational product; Su's is its one square root (fast and exact).
            prod = prod * (1 - min(ho_beta_t, LINEAR_MAX_HO_BETA))
            # unevaluated: sqrt of a huge rational would try to factor it
            out.append(sp.Pow(prod, sp.S.Half, evaluate=False))
        return out
    raise ValueError(f"schedule must be 'linear' or 'cosine', got {kind!r}")


# ---------------------------------------------------------------------------
# The named schedules: the one table every view (exact here, mpf and float64 in numeric/) reads
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedSchedule:
    r"""One named noise schedule: its family (``"linear"`` or ``"cosine"``) and that family's parameters.

    The parameters are exact; :func:`schedule_alpha_bars` turns them into Su's
    :math:`\bar\alpha_t`, and the float64 views of :mod:`closedform.numeric.guidance`
    read the same numbers.

    >>> SCHEDULES["cosine_s0"].params["s"]
    0
    """

    family: str
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


#: Named schedules, in the order error messages list them.
SCHEDULES: Mapping[str, NamedSchedule] = MappingProxyType(
    {
        "linear": NamedSchedule(
            "linear",
            MappingProxyType({"beta_1": LINEAR_BETA_1, "beta_T": LINEAR_BETA_T}),
            "Ho's linear beta_t from 1e-4 to 0.02, rescaled by 1000/T (capped at 0.999 in the exact view)",
        ),
        "cosine": NamedSchedule(
            "cosine", MappingProxyType({"s": COSINE_OFFSET}), "Nichol & Dhariwal's cosine schedule, s = 0.008"
        ),
        "cosine_s0": NamedSchedule(
            "cosine", MappingProxyType({"s": sp.Integer(0)}), "the cosine schedule at s = 0: cos(pi t / 2T)"
        ),
    }
)


def alpha_bar_schedule(schedule: Any, T: int | None = None) -> tuple[sp.Expr, ...]:
    r"""Su's :math:`(\bar\alpha_0 = 1, \bar\alpha_1, \dots, \bar\alpha_T)`, validated.

    Parameters
    ----------
    schedule : str or sequence
        A name of :data:`SCHEDULES` (then T is required) or the values
        :math:`\bar\alpha_1..\bar\alpha_T` (Su's convention: the square roots of Ho's
        :math:`\bar\alpha`), which must decrease strictly from below 1 to at least 0.
    T : int, optional
        The number of steps.

    Returns
    -------
    tuple of sympy expressions, exact.

    Examples
    --------
    >>> alpha_bar_schedule("cosine_s0", 2)
    (1, sqrt(2)/2, 0)
    >>> alpha_bar_schedule([0.5, 0.6])
    Traceback (most recent call last):
    ...
    closedform.ParameterError: schedule must be strictly decreasing (alphabar_0 = 1 > alphabar_1 > ... > alphabar_T >= 0), got alphabar_2 = 3/5 >= alphabar_1 = 1/2
    """
    if isinstance(schedule, str):
        if schedule not in SCHEDULES:
            raise ParameterError(
                f"schedule must be one of {', '.join(SCHEDULES)} or a sequence of alphabar_t, got {schedule!r}"
            )
        steps = _steps(T, schedule)
        named = SCHEDULES[schedule]
        return tuple(schedule_alpha_bars(named.family, steps, **named.params))
    return _validated_alpha_bars(schedule, T)


#: Most steps of a named schedule: its values are exact SymPy expressions, one per step
#: (10**4 of them take seconds; 10**6 took minutes, which is a hang to a user).
MAX_STEPS = 10_000


def _steps(T: Any, schedule: str) -> int:
    """T as an int in 1..MAX_STEPS: a bool, a fraction or text is refused, not truncated."""
    try:
        steps = None if isinstance(T, bool) else operator.index(T)  # ints of any kind; 2.5 and "4" fail
    except TypeError:
        steps = None
    if steps is None or not 1 <= steps <= MAX_STEPS:
        raise ParameterError(
            f"T must be an integer in 1..{MAX_STEPS} for the named schedule {schedule!r} "
            f"(its values are exact, one expression per step), got {T!r}"
        )
    return steps


def _validated_alpha_bars(schedule: Sequence[Any], T: int | None) -> tuple[sp.Expr, ...]:
    values = [sp.nsimplify(v) if isinstance(v, (float, int)) else as_expr(v) for v in schedule]
    if T is not None and len(values) != int(T):
        raise ParameterError(f"schedule must hold T = {T} values alphabar_1..alphabar_T, got {len(values)}")
    full = [sp.Integer(1)] + values
    for t, (prev, cur) in enumerate(itertools.pairwise(full), start=1):
        if not (cur.is_real and 0 <= cur <= 1):
            raise ParameterError(f"schedule values must lie in [0, 1) (Su's alphabar_t), got alphabar_{t} = {cur}")
        if not cur < prev:
            raise ParameterError(
                "schedule must be strictly decreasing (alphabar_0 = 1 > alphabar_1 > ... > alphabar_T >= 0), "
                f"got alphabar_{t} = {cur} >= alphabar_{t - 1} = {prev}"
            )
    return tuple(full)
