r"""Discrete unified diffusion models (post 9271 and reconstructions): laws and exact enumeration.

Sequences are tuples of tokens ``0..V-1``; the mask token is ``V``.  The
"time" t is an integer count (t ≤ l positions edited, masked or deleted),
except for the two D3PM processes, whose schedule is given by
:math:`\bar\alpha` (D3PM's own convention: :math:`\bar\alpha_t = \prod_s (1-\beta_s)`,
the probability that a token is untouched, *not* Su's square-root convention).

Forward processes :math:`p(x_t|x_0)` and posteriors
:math:`p(x_{t-1}|x_t, x_0)` are enumerated exactly with
:class:`fractions.Fraction`; :func:`marginal_constraint` checks

.. math::

    \sum_{x_t} p(x_{t-1}|x_t, x_0)\, p(x_t|x_0) = p(x_{t-1}|x_0)

term by term.  The closed forms (SymPy) give the laws the enumeration and
the Monte Carlo are compared with.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping
from fractions import Fraction
from math import comb

import sympy as sp

from closedform.derive.errors import ParameterError
from closedform.derive.expr_parser import as_expr

__all__ = [
    "MODELS",
    "absorbing_mask_count_law",
    "absorbing_mask_count_row",
    "absorbing_posterior",
    "check_absorbing",
    "check_edit_v1",
    "check_tokens",
    "constraint_failures",
    "d3pm_schedule",
    "d3pm_uniform_marginal",
    "d3pm_uniform_marginal_row",
    "d3pm_uniform_posterior",
    "deletion_marginal_row",
    "deletion_position_law",
    "edit_v1_change_law",
    "edit_v1_change_row",
    "edit_v2_marginal_row",
    "edit_v2_forward_probability",
    "edit_v2_position_law",
    "forward_law",
    "marginal_constraint",
    "mask_forward_probability",
    "mask_marginal_row",
    "mask_position_law",
    "posterior_law",
    "restore_one_probability",
    "su_mask_alpha_bar",
]

#: The discrete models and what their posterior does (the keys of forward_law / posterior_law).
MODELS: dict[str, str] = {
    "edit_v1": "replace t random positions by uniform tokens (maybe the same); baseline posterior p(x_{t-1}|x_0)",
    "edit_v2": "replace t random positions by different tokens; posterior restores one uniformly chosen differing position",
    "mask": "mask t random positions; posterior unmasks one uniformly chosen masked position",
    "deletion": "delete t random positions; posterior picks a consistent deletion set uniformly and re-inserts one of it",
    "d3pm_uniform": "D3PM uniform replacement, K = V classes, per token; Bayes posterior",
    "d3pm_absorbing": "D3PM absorbing state, per token; Bayes posterior",
}

Law = dict[tuple, Fraction]


# ---------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------


def edit_v1_change_law(t, V, k) -> sp.Expr:
    r"""Edit model v1: P(k of the t replaced positions visibly change) = Binomial(t, (V-1)/V).

    Each replacement token is uniform over V, so it equals the old one w.p. 1/V,
    independently: (x_0, x_t) does not reveal the edited set, the forward map is
    not invertible in ε.

    .. math::

        P(K = k) = \binom tk \Bigl(\frac{V-1}V\Bigr)^k \Bigl(\frac1V\Bigr)^{t-k}

    >>> [edit_v1_change_law(3, 3, k) for k in range(4)]
    [1/27, 2/9, 4/9, 8/27]
    """
    t, V, k = (as_expr(v) for v in (t, V, k))
    return sp.binomial(t, k) * ((V - 1) / V) ** k * (1 / V) ** (t - k)


def edit_v2_forward_probability(l, t, V) -> sp.Expr:
    r"""Edit model v2: :math:`p(x_t|x_0)` for each :math:`x_t` at Hamming distance t (0 otherwise).

    .. math::

        p(x_t|x_0) = \frac{[d_H(x_t, x_0) = t]}{\binom lt (V-1)^t}

    >>> edit_v2_forward_probability(4, 2, 3)
    1/24
    """
    l, t, V = (as_expr(v) for v in (l, t, V))
    return 1 / (sp.binomial(l, t) * (V - 1) ** t)


def edit_v2_position_law(l, t, V) -> tuple[sp.Expr, sp.Expr]:
    r"""One position of :math:`x_t` under edit v2: P(unchanged) and P(equal to one given other token).

    .. math::

        P(x_t^i = x_0^i) = 1 - \frac tl,\qquad P(x_t^i = v) = \frac{t}{l(V-1)}\ (v \ne x_0^i)

    >>> edit_v2_position_law(4, 1, 3)
    (3/4, 1/8)
    """
    l, t, V = (as_expr(v) for v in (l, t, V))
    return (1 - t / l, t / (l * (V - 1)))


def restore_one_probability(l, t) -> sp.Expr:
    r"""Mass that restore/unmask/re-insert-one sends to one given (t-1)-set.

    Each (t-1)-subset lies in l - t + 1 t-subsets, each of probability
    :math:`1/\binom lt`, each restoring the missing element with probability 1/t:

    .. math::

        \frac{l - t + 1}{t\binom lt} = \frac1{\binom l{t-1}}.

    >>> restore_one_probability(4, 2), 1 / sp.binomial(4, 1)
    (1/4, 1/4)
    """
    l, t = as_expr(l), as_expr(t)
    return (l - t + 1) / (t * sp.binomial(l, t))


def mask_forward_probability(l, t) -> sp.Expr:
    r"""Mask model: :math:`p(x_t|x_0) = 1/\binom lt` for each choice of t masked positions.

    >>> mask_forward_probability(4, 2)
    1/6
    """
    return 1 / sp.binomial(as_expr(l), as_expr(t))


def mask_position_law(l, t) -> sp.Expr:
    r"""Mask model: P(a given position is masked in :math:`x_t`) = t / l.

    >>> mask_position_law(4, 3)
    3/4
    """
    return as_expr(t) / as_expr(l)


def su_mask_alpha_bar(t, l) -> sp.Expr:
    r"""The D3PM-absorbing :math:`\bar\alpha_t` with the same per-token mask rate as Su's mask model: :math:`1 - t/l`.

    >>> su_mask_alpha_bar(1, 4)
    3/4
    """
    return 1 - as_expr(t) / as_expr(l)


def absorbing_posterior(alpha_bar_prev, alpha_bar_t) -> tuple[sp.Expr, sp.Expr]:
    r"""D3PM absorbing posterior for a masked :math:`x_t`: (stay masked, unmask to :math:`x_0`).

    .. math::

        P(x_{t-1} = m) = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t},\qquad
        P(x_{t-1} = x_0) = \frac{\bar\alpha_{t-1}-\bar\alpha_t}{1-\bar\alpha_t};

    with :math:`\bar\alpha_t = 1 - t/l` the unmask probability is 1/t, Su's.

    >>> absorbing_posterior(su_mask_alpha_bar(2, 4), su_mask_alpha_bar(3, 4))
    (2/3, 1/3)
    """
    abp, ab = as_expr(alpha_bar_prev), as_expr(alpha_bar_t)
    return ((1 - abp) / (1 - ab), (abp - ab) / (1 - ab))


def absorbing_mask_count_law(l, alpha_bar, k) -> sp.Expr:
    r"""D3PM absorbing: the number of masks among l tokens is Binomial(l, 1 - ᾱ) (Su's is fixed).

    >>> absorbing_mask_count_law(4, sp.Rational(1, 2), 2)
    3/8
    """
    l, ab, k = (as_expr(v) for v in (l, alpha_bar, k))
    return sp.binomial(l, k) * (1 - ab) ** k * ab ** (l - k)


def d3pm_uniform_marginal(j, k, K, alpha_bar) -> sp.Expr:
    r"""D3PM uniform: :math:`q(x_t = j|x_0 = k) = \bar\alpha_t\delta_{jk} + (1-\bar\alpha_t)/K`.

    >>> d3pm_uniform_marginal(0, 0, 3, sp.Rational(1, 2))
    2/3
    """
    ab = as_expr(alpha_bar)
    return ab * sp.KroneckerDelta(j, k) + (1 - ab) / as_expr(K)


def d3pm_uniform_posterior(j, i, k, K, beta_t, alpha_bar_prev) -> sp.Expr:
    r"""D3PM uniform posterior :math:`q(x_{t-1} = j|x_t = i, x_0 = k)` (Bayes).

    .. math::

        q = \frac{\bigl[(1-\beta_t)\delta_{ij} + \beta_t/K\bigr]
                  \bigl[\bar\alpha_{t-1}\delta_{kj} + (1-\bar\alpha_{t-1})/K\bigr]}
                 {\bar\alpha_t\delta_{ik} + (1-\bar\alpha_t)/K},\qquad
        \bar\alpha_t = (1-\beta_t)\bar\alpha_{t-1}.

    >>> d3pm_uniform_posterior(0, 0, 0, 2, sp.Rational(1, 2), sp.Rational(1, 2))
    9/10
    """
    b, abp, K = as_expr(beta_t), as_expr(alpha_bar_prev), as_expr(K)
    ab = (1 - b) * abp
    d = sp.KroneckerDelta
    return ((1 - b) * d(i, j) + b / K) * (abp * d(k, j) + (1 - abp) / K) / (ab * d(i, k) + (1 - ab) / K)


def deletion_position_law(l, m, i, j) -> sp.Expr:
    r"""Deletion: P(the j-th kept position is i) when a uniform m-subset of l positions is kept (0-based).

    .. math::

        P = \binom ij\binom{l-1-i}{m-1-j}\Big/\binom lm

    >>> [deletion_position_law(4, 2, i, 0) for i in range(4)]
    [1/2, 1/3, 1/6, 0]
    """
    l, m, i, j = (as_expr(v) for v in (l, m, i, j))
    return sp.binomial(i, j) * sp.binomial(l - 1 - i, m - 1 - j) / sp.binomial(l, m)


# ---------------------------------------------------------------------------
# Domain checks and the registry's views of the laws: the general term at symbolic
# parameters, at numbers one row of category probabilities in the Monte Carlo kernel's
# layout (position j, token v at index j (V + 1) + v; the mask token is V)
# ---------------------------------------------------------------------------

_K = sp.Symbol("k", integer=True, nonnegative=True)
_V, _X0J = sp.Symbol("v"), sp.Symbol("x_0^j")


def _general(*values) -> bool:
    return any(isinstance(v, sp.Basic) and not v.is_number for v in values)


def check_tokens(x0, V, t=None) -> None:
    """A ParameterError unless every token lies in 0..V-1 and t <= len(x0).

    >>> check_tokens((0, 1, 3), 3)
    Traceback (most recent call last):
    ...
    closedform.ParameterError: x0 tokens must lie in 0..V-1 = 0..2, got 013
    """
    if max(x0) >= int(V):
        raise ParameterError(f"x0 tokens must lie in 0..V-1 = 0..{int(V) - 1}, got {''.join(map(str, x0))}")
    if t is not None and int(t) > len(x0):
        raise ParameterError(f"t must lie in 1..l = 1..{len(x0)} (the length of x0), got t={t}")


def check_edit_v1(l, t) -> None:
    """A ParameterError unless t <= l (at most l positions can be edited).

    >>> check_edit_v1(4, 4)
    """
    if int(t) > int(l):
        raise ParameterError(f"t must lie in 1..l = 1..{l}, got t={t}")


def check_absorbing(alpha_bar_prev, alpha_bar_t) -> None:
    """A ParameterError unless alpha_bar_t < alpha_bar_prev (a schedule decreases).

    >>> check_absorbing(sp.Rational(1, 2), sp.Rational(3, 4))
    Traceback (most recent call last):
    ...
    closedform.ParameterError: alpha_bar_t must be below alpha_bar_prev (the schedule decreases), got 3/4 >= 1/2
    """
    if not alpha_bar_t < alpha_bar_prev:
        raise ParameterError(
            f"alpha_bar_t must be below alpha_bar_prev (the schedule decreases), got {alpha_bar_t} >= {alpha_bar_prev}"
        )


def d3pm_schedule(model: str, alpha_bar_prev, second) -> dict[str, Fraction]:
    """The exact schedule of a D3PM model for :func:`forward_law`: ``second`` is beta_t (uniform) or abar_t (absorbing).

    >>> d3pm_schedule("d3pm_uniform", sp.Rational(2, 3), sp.Rational(1, 4))
    {'alpha_bar_prev': Fraction(2, 3), 'beta_t': Fraction(1, 4)}
    """
    key = {"d3pm_uniform": "beta_t", "d3pm_absorbing": "alpha_bar_t"}[model]
    return {"alpha_bar_prev": _fraction(alpha_bar_prev), key: _fraction(second)}


def _fraction(value) -> Fraction:
    # The exact value, a float's binary one included: nsimplify would turn 0.05 into 1/20,
    # a different number from the one the closed form is given.
    value = as_expr(value)
    exact = value if value.is_Rational else (sp.Rational(value) if value.is_Float else sp.nsimplify(value))
    return Fraction(int(exact.p), int(exact.q))


def _row(probs) -> sp.Matrix:
    return sp.Matrix([list(probs)])


def edit_v2_marginal_row(V, t, x0):
    r"""Edit model v2's :math:`p(x_{t-1}^j = v|x_0)` (the forward law at t - 1), per position and token.

    >>> edit_v2_marginal_row(3, 2, (0, 1))
    Matrix([[1/2, 1/4, 1/4, 0, 1/4, 1/2, 1/4, 0]])
    """
    if _general(V, t, x0):
        l = sp.Symbol("l", integer=True, positive=True)
        same, other = edit_v2_position_law(l, t - 1, V)
        return sp.Piecewise((same, sp.Eq(_V, _X0J)), (other, True))
    check_tokens(x0, V, t)
    same, other = edit_v2_position_law(len(x0), t - 1, V)
    return _row(same if v == x0[j] else (other if v < V else 0) for j in range(len(x0)) for v in range(V + 1))


def mask_marginal_row(V, t, x0):
    r"""Mask model's :math:`p(x_{t-1}^j = v|x_0)`: masked (v = V) with probability (t - 1)/l.

    >>> mask_marginal_row(2, 2, (0, 1))
    Matrix([[1/2, 0, 1/2, 0, 1/2, 1/2]])
    """
    if _general(V, t, x0):
        l = sp.Symbol("l", integer=True, positive=True)
        return sp.Piecewise(
            (mask_position_law(l, t - 1), sp.Eq(_V, sp.Symbol("MASK"))),
            (1 - mask_position_law(l, t - 1), sp.Eq(_V, _X0J)),
            (0, True),
        )
    check_tokens(x0, V, t)
    pm = mask_position_law(len(x0), t - 1)
    return _row(pm if v == V else (1 - pm if v == x0[j] else 0) for j in range(len(x0)) for v in range(V + 1))


def deletion_marginal_row(V, t, x0):
    r"""Deletion's :math:`p(x_{t-1}^j = v|x_0)` for the l - t + 1 positions of :math:`x_{t-1}`.

    >>> deletion_marginal_row(2, 1, (0, 1))
    Matrix([[1, 0, 0, 0, 1, 0]])
    """
    if _general(V, t, x0):
        l, i, j = sp.symbols("l i j", integer=True, nonnegative=True)
        return sp.Sum(
            deletion_position_law(l, l - t + 1, i, j) * sp.KroneckerDelta(sp.Indexed("x_0", i), _V), (i, 0, l - 1)
        )
    check_tokens(x0, V, t)
    l, m = len(x0), len(x0) - int(t) + 1
    return _row(
        sum((deletion_position_law(l, m, i, j) for i in range(l) if x0[i] == v), sp.Integer(0))
        for j in range(m)
        for v in range(V + 1)
    )


def edit_v1_change_row(l, V, t):
    r"""Edit model v1's law of the number of visible changes, :math:`P(K = k)` for k = 0..t.

    >>> edit_v1_change_row(4, 2, 2)
    Matrix([[1/4, 1/2, 1/4]])
    """
    if _general(l, V, t):
        return edit_v1_change_law(t, V, _K)
    check_edit_v1(l, t)
    return _row(edit_v1_change_law(t, V, k) for k in range(int(t) + 1))


def absorbing_mask_count_row(l, alpha_bar_prev, alpha_bar_t):
    r"""D3PM absorbing's law of the number of masks of :math:`x_{t-1}`, k = 0..l.

    >>> absorbing_mask_count_row(2, sp.Rational(1, 2), sp.Rational(1, 4))
    Matrix([[1/4, 1/2, 1/4]])
    """
    if _general(l, alpha_bar_prev, alpha_bar_t):
        return absorbing_mask_count_law(l, alpha_bar_prev, _K)
    check_absorbing(alpha_bar_prev, alpha_bar_t)
    return _row(absorbing_mask_count_law(l, alpha_bar_prev, k) for k in range(int(l) + 1))


def d3pm_uniform_marginal_row(V, alpha_bar_prev, beta_t, x0):
    r"""D3PM uniform's :math:`q(x_{t-1}^j = v|x_0)` per position and token (the mask column is 0).

    >>> d3pm_uniform_marginal_row(2, sp.Rational(1, 2), sp.Rational(1, 4), (1,))
    Matrix([[1/4, 3/4, 0]])
    """
    if _general(V, alpha_bar_prev, beta_t, x0):
        return d3pm_uniform_marginal(_V, _X0J, V, alpha_bar_prev)
    check_tokens(x0, V)
    return _row(
        d3pm_uniform_marginal(v, x0[j], V, alpha_bar_prev) if v < V else 0 for j in range(len(x0)) for v in range(V + 1)
    )


# ---------------------------------------------------------------------------
# Exact enumeration (Fractions)
# ---------------------------------------------------------------------------


def _subsets(l: int, t: int):
    return itertools.combinations(range(l), t)


def _edit_forward(x0: tuple, t: int, V: int, different: bool) -> Law:
    law: Law = defaultdict(Fraction)
    l = len(x0)
    per_token = V - 1 if different else V
    w = Fraction(1, comb(l, t) * per_token**t)
    for s in _subsets(l, t):
        choices = [[v for v in range(V) if not (different and v == x0[i])] for i in s]
        for toks in itertools.product(*choices):
            x = list(x0)
            for i, v in zip(s, toks):
                x[i] = v
            law[tuple(x)] += w
    return dict(law)


def _mask_forward(x0: tuple, t: int, V: int) -> Law:
    w = Fraction(1, comb(len(x0), t))
    return {tuple(V if i in s else x for i, x in enumerate(x0)): w for s in _subsets(len(x0), t)}


def _deletion_forward(x0: tuple, t: int) -> Law:
    law: Law = defaultdict(Fraction)
    w = Fraction(1, comb(len(x0), t))
    for s in _subsets(len(x0), t):
        law[tuple(x for i, x in enumerate(x0) if i not in s)] += w
    return dict(law)


def _per_token_forward(x0: tuple, kernel) -> Law:
    law: Law = {}
    rows = [kernel(x) for x in x0]
    for combo in itertools.product(*(r.items() for r in rows)):
        p = Fraction(1)
        for _, q in combo:
            p *= q
        if p:
            key = tuple(v for v, _ in combo)
            law[key] = law.get(key, Fraction(0)) + p
    return law


def _d3pm_uniform_row(k: int, K: int, ab: Fraction) -> dict[int, Fraction]:
    return {j: ab * (j == k) + (1 - ab) / K for j in range(K)}


def _absorbing_row(k: int, mask: int, ab: Fraction) -> dict[int, Fraction]:
    return {k: ab, mask: 1 - ab}


def forward_law(model: str, x0: tuple, t: int, V: int, schedule: Mapping[str, Fraction] | None = None) -> Law:
    """The exact law :math:`p(x_t|x_0)` of ``model`` as ``{x_t: Fraction}``.

    For the D3PM models ``t`` is 0 (returns the point mass at x_0), ``"prev"``
    or ``"now"``: the law at :math:`\\bar\\alpha_{t-1}` or :math:`\\bar\\alpha_t`
    from ``schedule = {"alpha_bar_prev": ..., "beta_t": ...}`` (uniform) or
    ``{"alpha_bar_prev": ..., "alpha_bar_t": ...}`` (absorbing).

    >>> forward_law("mask", (0, 1), 1, 2)
    {(2, 1): Fraction(1, 2), (0, 2): Fraction(1, 2)}
    """
    x0 = tuple(int(x) for x in x0)
    if model == "edit_v1":
        return _edit_forward(x0, t, V, different=False)
    if model == "edit_v2":
        return _edit_forward(x0, t, V, different=True)
    if model == "mask":
        return _mask_forward(x0, t, V)
    if model == "deletion":
        return _deletion_forward(x0, t)
    if model in ("d3pm_uniform", "d3pm_absorbing"):
        ab = _d3pm_alpha_bar(model, t, schedule or {})
        if model == "d3pm_uniform":
            return _per_token_forward(x0, lambda k: _d3pm_uniform_row(k, V, ab))
        return _per_token_forward(x0, lambda k: _absorbing_row(k, V, ab))
    raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")


def _d3pm_alpha_bar(model: str, t, schedule: Mapping[str, Fraction]) -> Fraction:
    if t == 0:
        return Fraction(1)
    abp = Fraction(schedule["alpha_bar_prev"])
    if t == "prev":
        return abp
    if model == "d3pm_uniform":
        return abp * (1 - Fraction(schedule["beta_t"]))
    return Fraction(schedule["alpha_bar_t"])


def _differing(x_t: tuple, x0: tuple) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(x_t, x0)) if a != b]


def _embeddings(x0: tuple, xt: tuple) -> list[tuple[int, ...]]:
    """Every deletion set S (sorted tuple) with x0 minus S equal to xt."""
    l, m = len(x0), len(xt)
    return [s for s in _subsets(l, l - m) if tuple(x for i, x in enumerate(x0) if i not in s) == xt]


def posterior_law(
    model: str, x_t: tuple, x0: tuple, t: int, V: int, schedule: Mapping[str, Fraction] | None = None
) -> Law:
    """The exact law :math:`p(x_{t-1}|x_t, x_0)` of ``model``'s posterior as ``{x_{t-1}: Fraction}``.

    >>> posterior_law("edit_v2", (1, 1), (0, 0), 2, 2)
    {(0, 1): Fraction(1, 2), (1, 0): Fraction(1, 2)}
    >>> posterior_law("deletion", (0,), (0, 1, 0), 2, 2)  # deletion sets {1, 2} and {0, 1}
    {(0, 0): Fraction(1, 2), (1, 0): Fraction(1, 4), (0, 1): Fraction(1, 4)}
    """
    x_t, x0 = tuple(x_t), tuple(x0)
    law: Law = defaultdict(Fraction)
    if model == "edit_v1":  # the baseline: forget x_t
        return forward_law(model, x0, t - 1, V)
    if model in ("edit_v2", "mask"):
        diff = _differing(x_t, x0)
        for i in diff:
            x = list(x_t)
            x[i] = x0[i]
            law[tuple(x)] += Fraction(1, len(diff))
        return dict(law)
    if model == "deletion":
        sets = _embeddings(x0, x_t)
        for s in sets:
            for r in s:
                law[tuple(x for i, x in enumerate(x0) if i not in s or i == r)] += Fraction(1, len(sets) * len(s))
        return dict(law)
    if model == "d3pm_uniform":
        b, abp = Fraction((schedule or {})["beta_t"]), Fraction((schedule or {})["alpha_bar_prev"])

        def row(pair):
            i, k = pair
            w = {j: ((1 - b) * (i == j) + b / V) * (abp * (k == j) + (1 - abp) / V) for j in range(V)}
            z = sum(w.values())
            return {j: q / z for j, q in w.items()}

        return _per_token_forward(tuple(zip(x_t, x0)), row)
    if model == "d3pm_absorbing":
        s = schedule or {}
        abp, ab = Fraction(s["alpha_bar_prev"]), Fraction(s["alpha_bar_t"])

        def row_abs(pair):
            i, k = pair
            if i != V:
                return {i: Fraction(1)}
            return {V: (1 - abp) / (1 - ab), k: (abp - ab) / (1 - ab)}

        return _per_token_forward(tuple(zip(x_t, x0)), row_abs)
    raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")


def marginal_constraint(
    model: str, x0: tuple, t: int, V: int, schedule: Mapping[str, Fraction] | None = None
) -> tuple[Law, Law]:
    r"""Both sides of the marginal constraint, exactly: :math:`\sum_{x_t} p(x_{t-1}|x_t,x_0)p(x_t|x_0)` and :math:`p(x_{t-1}|x_0)`.

    >>> lhs, rhs = marginal_constraint("mask", (0, 1, 0), 2, 2)
    >>> lhs == rhs
    True
    """
    d3pm = model.startswith("d3pm")
    now = forward_law(model, x0, "now" if d3pm else t, V, schedule)
    lhs: Law = defaultdict(Fraction)
    for xt, p in now.items():
        for x, q in posterior_law(model, xt, x0, t, V, schedule).items():
            lhs[x] += p * q
    rhs = forward_law(model, x0, "prev" if d3pm else t - 1, V, schedule)
    return {k: v for k, v in lhs.items() if v}, rhs


def _constraint_grid(max_length: int):
    """Sequences of length 1..max_length over V = 2, 3 (periodic, quadratic and constant), every t, every model."""
    for l in range(1, max_length + 1):
        for V in (2, 3):
            for x0 in {tuple(i % V for i in range(l)), tuple((i * i + 1) % V for i in range(l)), (0,) * l}:
                for t in range(1, l + 1):
                    for model in ("edit_v1", "edit_v2", "mask", "deletion"):
                        yield model, x0, V, t, None
                yield "d3pm_uniform", x0[:3], V, 1, {"alpha_bar_prev": Fraction(2, 3), "beta_t": Fraction(1, 5)}
                yield "d3pm_absorbing", x0[:3], V, 1, {"alpha_bar_prev": Fraction(3, 5), "alpha_bar_t": Fraction(1, 4)}


def constraint_failures(max_length: int) -> tuple[int, list[str]]:
    """:func:`marginal_constraint` over a grid of every model up to ``max_length``: (configurations, failures).

    >>> constraint_failures(2)
    (84, [])
    """
    n, bad = 0, []
    for model, x0, V, t, schedule in _constraint_grid(max_length):
        lhs, rhs = marginal_constraint(model, x0, t, V, schedule)
        n += 1
        if lhs != rhs:
            bad.append(f"{model} x0={x0} V={V} t={t}")
    return n, bad
