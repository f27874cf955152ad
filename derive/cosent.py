r"""CoSENT as a loss on any scores (post 9341), in SymPy.

For scores :math:`f_1..f_B` (cosines of sentence pairs, or a scalar head of an
interaction model) and labels :math:`y_1..y_B`, CoSENT penalises every pair
whose predicted order contradicts the label order:

.. math::

    L = \log\Bigl(1 + \sum_{(i, j):\ y_i < y_j} e^{\lambda (f_i - f_j)}\Bigr).

Tied labels contribute no pair (strict ``<``).  Grouping the pairs by their
upper member gives the form the fast kernel uses,

.. math::

    L = \log\Bigl(1 + \sum_j e^{-\lambda f_j} \sum_{i:\ y_i < y_j} e^{\lambda f_i}\Bigr),

and for binary labels the double sum factorises into a product of two sums.
Labels are numbers (SymPy or Python); scores and λ are SymPy expressions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from closedform.derive.expr_parser import as_expr

__all__ = [
    "binary_factorised",
    "binary_factorised_indexed",
    "constant_score_value",
    "cosent_gradient",
    "cosent_gradient_indexed",
    "cosent_loss",
    "cosent_loss_grouped",
    "cosent_loss_indexed",
    "cosent_loss_with_ties",
    "max_violation",
    "max_violation_indexed",
    "mean_half_up",
    "sigmoid_bce",
    "softmax2_cross_entropy",
    "violating_pairs",
]

_i, _j, _B = sp.symbols("i j B", integer=True, positive=True)


def violating_pairs(y: Sequence[object]) -> list[tuple[int, int]]:
    r"""The ordered pairs (i, j) with :math:`y_i < y_j`, ties excluded.

    >>> violating_pairs([0, 1, 1])
    [(0, 1), (0, 2)]
    """
    y = [as_expr(v) for v in y]
    return [(i, j) for i in range(len(y)) for j in range(len(y)) if bool(y[i] < y[j])]


def cosent_loss(f: Sequence[sp.Expr], y: Sequence[object], lam: sp.Expr) -> sp.Expr:
    r"""The CoSENT loss summed over the label-ordered pairs.

    .. math::

        L(f; y, \lambda) = \log\Bigl(1 + \sum_{y_i < y_j} e^{\lambda (f_i - f_j)}\Bigr)

    >>> a, b, lam = sp.symbols("a b lambda", positive=True)
    >>> cosent_loss([a, b], [0, 1], lam)
    log(exp(lambda*(a - b)) + 1)
    >>> cosent_loss([a, b], [1, 1], lam)
    0
    """
    f = [as_expr(v) for v in f]
    if len(f) != len(y):
        raise ValueError(f"scores and labels differ in length: {len(f)} vs {len(y)}")
    return sp.log(1 + sp.Add(*(sp.exp(lam * (f[i] - f[j])) for i, j in violating_pairs(y))))


def cosent_loss_with_ties(f: Sequence[sp.Expr], y: Sequence[object], lam: sp.Expr) -> sp.Expr:
    r"""The variant some ports use, with ``<=``: tied pairs (i ≠ j) enter too.

    .. math::

        L_{\le} = \log\Bigl(1 + \sum_{i \ne j,\ y_i \le y_j} e^{\lambda (f_i - f_j)}\Bigr)
            \ge \log(1 + 2\,\#\{\text{tied pairs}\})

    >>> a, b, lam = sp.symbols("a b lambda", positive=True)
    >>> cosent_loss_with_ties([a, b], [1, 1], lam)
    log(exp(lambda*(-a + b)) + exp(lambda*(a - b)) + 1)
    """
    f = [as_expr(v) for v in f]
    yy = [as_expr(v) for v in y]
    pairs = [(i, j) for i in range(len(f)) for j in range(len(f)) if i != j and bool(yy[i] <= yy[j])]
    return sp.log(1 + sp.Add(*(sp.exp(lam * (f[i] - f[j])) for i, j in pairs)))


def cosent_loss_grouped(f: Sequence[sp.Expr], y: Sequence[object], lam: sp.Expr) -> sp.Expr:
    r"""The same loss grouped by the upper member of each pair (the route of the O(B log B) kernel).

    .. math::

        L = \log\Bigl(1 + \sum_j e^{-\lambda f_j} \sum_{i:\ y_i < y_j} e^{\lambda f_i}\Bigr)

    >>> a, b, c = sp.symbols("a b c", real=True)
    >>> sp.expand(sp.exp(cosent_loss_grouped([a, b, c], [0, 1, 2], 1)) - sp.exp(cosent_loss([a, b, c], [0, 1, 2], 1)))
    0
    """
    f = [as_expr(v) for v in f]
    yy = [as_expr(v) for v in y]
    inner = []
    for j in range(len(f)):
        below = sp.Add(*(sp.exp(lam * f[i]) for i in range(len(f)) if bool(yy[i] < yy[j])))
        inner.append(sp.exp(-lam * f[j]) * below)
    return sp.log(1 + sp.Add(*inner))


def cosent_gradient(f: Sequence[sp.Expr], y: Sequence[object], lam: sp.Expr) -> sp.Matrix:
    r"""The gradient of :func:`cosent_loss` in the scores, as a column.

    Score :math:`f_k` appears with + in the pairs where it is the lower-labelled
    member and with - where it is the upper one:

    .. math::

        \frac{\partial L}{\partial f_k} = \lambda\,
          \frac{\sum_{j:\ y_k < y_j} e^{\lambda(f_k - f_j)} - \sum_{i:\ y_i < y_k} e^{\lambda(f_i - f_k)}}
               {1 + \sum_{y_i < y_j} e^{\lambda (f_i - f_j)}}

    >>> a, b = sp.symbols("a b", real=True)
    >>> g = cosent_gradient([a, b], [0, 1], 1)
    >>> sp.simplify(g[0] + g[1])
    0
    """
    f = [as_expr(v) for v in f]
    yy = [as_expr(v) for v in y]
    pairs = violating_pairs(yy)
    den = 1 + sp.Add(*(sp.exp(lam * (f[i] - f[j])) for i, j in pairs))
    out = []
    for k in range(len(f)):
        up = sp.Add(*(sp.exp(lam * (f[k] - f[j])) for j in range(len(f)) if bool(yy[k] < yy[j])))
        down = sp.Add(*(sp.exp(lam * (f[i] - f[k])) for i in range(len(f)) if bool(yy[i] < yy[k])))
        out.append(lam * (up - down) / den)
    return sp.Matrix(out)


def binary_factorised(f_neg: Sequence[sp.Expr], f_pos: Sequence[sp.Expr], lam: sp.Expr) -> sp.Expr:
    r"""CoSENT for labels in {0, 1}: the pair sum is a product of two sums (the Circle-loss form).

    .. math::

        L = \log\Bigl(1 + \sum_{i \in \text{neg}} e^{\lambda f_i} \sum_{j \in \text{pos}} e^{-\lambda f_j}\Bigr)

    >>> a, b = sp.symbols("a b", real=True)
    >>> binary_factorised([a], [b], 2)
    log(exp(2*a)*exp(-2*b) + 1)
    """
    neg = sp.Add(*(sp.exp(lam * as_expr(v)) for v in f_neg))
    pos = sp.Add(*(sp.exp(-lam * as_expr(v)) for v in f_pos))
    return sp.log(1 + neg * pos)


def max_violation(f: Sequence[sp.Expr], y: Sequence[object]) -> sp.Expr:
    r"""The largest order violation :math:`\max(0, \max_{y_i < y_j} (f_i - f_j))`, the limit of L/λ.

    .. math::

        \lim_{\lambda \to \infty} \frac{L}{\lambda} = \max\Bigl(0, \max_{y_i < y_j} (f_i - f_j)\Bigr)

    >>> max_violation([0, sp.Rational(1, 2), 1], [1, 0, 2])
    1/2
    """
    f = [as_expr(v) for v in f]
    return sp.Max(0, *(f[i] - f[j] for i, j in violating_pairs(y)))


def constant_score_value(y: Sequence[object]) -> sp.Expr:
    r"""The loss at constant scores: :math:`\log(1 + \#\{(i, j): y_i < y_j\})`.

    >>> constant_score_value([0, 1, 1, 2])
    log(6)
    """
    return sp.log(1 + len(violating_pairs(y)))


def softmax2_cross_entropy(z0: sp.Expr, z1: sp.Expr, label: int) -> sp.Expr:
    r"""Cross-entropy of a 2-node softmax head, :math:`-\log \operatorname{softmax}(z)_y`.

    .. math::

        \ell = -\log \frac{e^{z_y}}{e^{z_0} + e^{z_1}}

    >>> softmax2_cross_entropy(0, 0, 1)
    log(2)
    """
    z = [as_expr(z0), as_expr(z1)]
    return -sp.log(sp.exp(z[label]) / (sp.exp(z[0]) + sp.exp(z[1])))


def sigmoid_bce(x: sp.Expr, label: int) -> sp.Expr:
    r"""Binary cross-entropy of a sigmoid on one logit :math:`x`.

    .. math::

        \ell = -y \log\sigma(x) - (1 - y)\log(1 - \sigma(x))

    >>> sigmoid_bce(0, 1)
    log(2)
    """
    sig = 1 / (1 + sp.exp(-as_expr(x)))
    return -label * sp.log(sig) - (1 - label) * sp.log(1 - sig)


def mean_half_up(values: Sequence[str | sp.Expr], digits: int = 2) -> sp.Rational:
    r"""The mean of decimal values, rounded half up to ``digits`` places, exactly.

    Python's ``round`` rounds half to even on the binary double, so
    ``round(84.625, 2)`` is 84.62 where the post prints 84.63.

    .. math::

        \operatorname{round}_{d}(x) = 10^{-d} \lfloor 10^{d} x + \tfrac12 \rfloor

    >>> mean_half_up(["85.38", "83.57", "88.10", "81.45"])
    8463/100
    """
    xs = [sp.Rational(str(v)) if not isinstance(v, sp.Basic) else sp.nsimplify(v) for v in values]
    mean = sp.Add(*xs) / len(xs)
    scale = sp.Integer(10) ** digits
    return sp.floor(mean * scale + sp.Rational(1, 2)) / scale


def cosent_loss_indexed() -> sp.Expr:
    r"""The loss with B symbolic, the pair condition written as an Iverson bracket :math:`[y_i < y_j]`.

    >>> print(sp.latex(cosent_loss_indexed()))  # doctest: +ELLIPSIS
    \log{\left(\sum_{\substack{1 \leq i \leq B\\1 \leq j \leq B}} ...
    """
    f, y = sp.IndexedBase("f", real=True), sp.IndexedBase("y", real=True)
    lam = sp.Symbol("lambda", positive=True)
    bracket = sp.Heaviside(y[_j] - y[_i], 0)
    return sp.log(1 + sp.Sum(bracket * sp.exp(lam * (f[_i] - f[_j])), (_i, 1, _B), (_j, 1, _B)))


def cosent_gradient_indexed() -> sp.Expr:
    r"""The gradient component :math:`\partial L / \partial f_k` with B symbolic."""
    f, y = sp.IndexedBase("f", real=True), sp.IndexedBase("y", real=True)
    lam = sp.Symbol("lambda", positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    den = 1 + sp.Sum(sp.Heaviside(y[_j] - y[_i], 0) * sp.exp(lam * (f[_i] - f[_j])), (_i, 1, _B), (_j, 1, _B))
    up = sp.Sum(sp.Heaviside(y[_j] - y[k], 0) * sp.exp(lam * (f[k] - f[_j])), (_j, 1, _B))
    down = sp.Sum(sp.Heaviside(y[k] - y[_i], 0) * sp.exp(lam * (f[_i] - f[k])), (_i, 1, _B))
    return lam * (up - down) / den


def binary_factorised_indexed(lam: sp.Expr) -> sp.Expr:
    r"""The binary factorisation with P negatives and Q positives symbolic; a symbolic ``lam`` prints as λ.

    .. math::

        L = \log\Bigl(1 + \sum_{i=1}^{P} e^{\lambda f^{\mathrm{neg}}_i}\sum_{j=1}^{Q} e^{-\lambda f^{\mathrm{pos}}_j}\Bigr)

    >>> binary_factorised_indexed(2).has(sp.Symbol("P", integer=True, positive=True))
    True
    """
    i, j, P, Q = sp.symbols("i j P Q", integer=True, positive=True)
    neg, pos = sp.IndexedBase(r"f^{\mathrm{neg}}", real=True), sp.IndexedBase(r"f^{\mathrm{pos}}", real=True)
    lam = sp.Symbol("lambda", positive=True) if isinstance(lam, sp.Symbol) else lam
    return sp.log(1 + sp.Sum(sp.exp(lam * neg[i]), (i, 1, P)) * sp.Sum(sp.exp(-lam * pos[j]), (j, 1, Q)))


def max_violation_indexed() -> sp.Expr:
    r"""The large-λ limit with B symbolic, printed as :math:`\max(0, f_i - f_j)` over violating pairs.

    >>> max_violation_indexed()
    Max(0, f[i] - f[j])
    """
    f = sp.IndexedBase("f")
    return sp.Max(0, f[sp.Symbol("i")] - f[sp.Symbol("j")])
