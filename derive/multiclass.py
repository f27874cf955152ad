r"""Multi-label cross-entropy (ZLPR) and the "n m-class" losses of post 9158.

Multi-label classification with scores :math:`s_i` (posts 7359 and 9064,
the ZLPR loss of arXiv 2208.02955) uses

.. math::

    \ell_{\text{hard}} = \log\Bigl(1 + \sum_{i \in \Omega_{\text{neg}}} e^{s_i}\Bigr)
                       + \log\Bigl(1 + \sum_{j \in \Omega_{\text{pos}}} e^{-s_j}\Bigr),
    \qquad
    \ell_{\text{soft}} = \log\Bigl(1 + \sum_i t_i e^{-s_i}\Bigr)
                       + \log\Bigl(1 + \sum_i (1 - t_i) e^{s_i}\Bigr).

Its soft-label optimum is :math:`t_i = \sigma(2 s_i)`, not :math:`\sigma(s_i)`.
Post 9158 tries to carry this over to n tasks of m classes (scores
:math:`s_{ij}`, label rows :math:`t_{i\cdot}` summing to 1):

.. math::

    \ell_1 = \sum_j \log\Bigl(1 + \sum_i \sum_{k \ne j} t_{ij} e^{s_{ik} - s_{ij}}\Bigr),
    \qquad
    \ell_3 = \sum_j \log\Bigl(1 + \sum_i t_{ij} e^{\bar s_i - s_{ij}}\Bigr),
    \quad \bar s_i = \tfrac1m \textstyle\sum_j s_{ij}.

Every function takes SymPy expressions (a list or ``Matrix`` of scores and
labels; an n x m ``Matrix`` for the n m-class losses) and returns a SymPy
expression: gradients are ``Matrix`` objects of the shape of the scores.  The
``*_indexed`` functions give the general formulas with symbolic sizes, for
printing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from closedform.derive.expr_parser import as_expr

__all__ = [
    "binary_cross_entropy",
    "nm_cross_entropy",
    "nm_cross_entropy_indexed",
    "nm_loss1",
    "nm_loss1_gradient",
    "nm_loss1_gradient_indexed",
    "nm_loss1_gradient_printed",
    "nm_loss1_indexed",
    "nm_loss2",
    "nm_loss3",
    "nm_loss3_gradient",
    "nm_loss3_gradient_indexed",
    "nm_loss3_indexed",
    "nm_loss3_optimal_logits",
    "nm_loss3_optimal_logits_indexed",
    "row_softmax",
    "zlpr_hard_loss",
    "zlpr_hard_loss_indexed",
    "zlpr_optimal_logits",
    "zlpr_probability",
    "zlpr_soft_gradient",
    "zlpr_soft_gradient_indexed",
    "zlpr_soft_loss",
    "zlpr_soft_loss_indexed",
]

# Index symbols and the symbolic sizes used by the general (indexed) formulas.
_i, _j, _k, _h = sp.symbols("i j k h", integer=True, positive=True)
_ip = sp.Symbol("i'", integer=True, positive=True)
_n, _m = sp.symbols("n m", integer=True, positive=True)


def _vector(v: Sequence[sp.Expr] | sp.MatrixBase) -> list[sp.Expr]:
    return [as_expr(x) for x in list(v)]


def _matrix(a: Sequence[Sequence[sp.Expr]] | sp.MatrixBase) -> sp.Matrix:
    return sp.Matrix(a)


def _check_same_length(s: list, t: list) -> None:
    if len(s) != len(t):
        raise ValueError(f"scores and labels differ in length: {len(s)} vs {len(t)}")


# ---------------------------------------------------------------------------
# ZLPR: multi-label softmax + cross-entropy
# ---------------------------------------------------------------------------


def zlpr_hard_loss(s: Sequence[sp.Expr], positive: Sequence[object]) -> sp.Expr:
    r"""The hard-label multi-label cross-entropy (post 7359).

    ``positive[i]`` is truthy when label i is present.

    .. math::

        \ell = \log\Bigl(1 + \sum_{i \in \Omega_{\text{neg}}} e^{s_i}\Bigr)
             + \log\Bigl(1 + \sum_{j \in \Omega_{\text{pos}}} e^{-s_j}\Bigr)

    >>> a, b, c = sp.symbols("a b c", real=True)
    >>> zlpr_hard_loss([a, b, c], [1, 0, 0])
    log(1 + exp(-a)) + log(exp(b) + exp(c) + 1)
    """
    s = _vector(s)
    pos = [bool(p) for p in positive]
    _check_same_length(s, pos)
    neg_sum = sp.Add(*(sp.exp(x) for x, p in zip(s, pos) if not p))
    pos_sum = sp.Add(*(sp.exp(-x) for x, p in zip(s, pos) if p))
    return sp.log(1 + neg_sum) + sp.log(1 + pos_sum)


def zlpr_soft_loss(s: Sequence[sp.Expr], t: Sequence[sp.Expr]) -> sp.Expr:
    r"""The soft-label ZLPR loss (post 9064), labels :math:`t_i \in [0, 1]`.

    .. math::

        \ell = \log\Bigl(1 + \sum_i t_i e^{-s_i}\Bigr) + \log\Bigl(1 + \sum_i (1 - t_i) e^{s_i}\Bigr)

    It is the binary cross-entropy :math:`\sum_i t_i\log(1+e^{-s_i}) + (1-t_i)\log(1+e^{s_i})`
    with :math:`\prod_i (1 + x_i)^{t_i}` truncated to :math:`1 + \sum_i t_i x_i`.

    >>> a, b = sp.symbols("a b", real=True)
    >>> zlpr_soft_loss([a, b], [sp.Rational(1, 4), 1])
    log(3*exp(a)/4 + 1) + log(1 + exp(-b) + exp(-a)/4)
    """
    s, t = _vector(s), _vector(t)
    _check_same_length(s, t)
    plus = sp.Add(*(ti * sp.exp(-si) for si, ti in zip(s, t)))
    minus = sp.Add(*((1 - ti) * sp.exp(si) for si, ti in zip(s, t)))
    return sp.log(1 + plus) + sp.log(1 + minus)


def zlpr_soft_gradient(s: Sequence[sp.Expr], t: Sequence[sp.Expr]) -> sp.Matrix:
    r"""The gradient of :func:`zlpr_soft_loss` in the scores, as a column.

    .. math::

        \frac{\partial \ell}{\partial s_i}
            = -\frac{t_i e^{-s_i}}{1 + \sum_k t_k e^{-s_k}}
              + \frac{(1 - t_i) e^{s_i}}{1 + \sum_k (1 - t_k) e^{s_k}}

    >>> a = sp.Symbol("a", real=True)
    >>> zlpr_soft_gradient([a], [sp.Rational(1, 2)])
    Matrix([[exp(a)/(2*(exp(a)/2 + 1)) - exp(-a)/(2*(1 + exp(-a)/2))]])
    """
    s, t = _vector(s), _vector(t)
    _check_same_length(s, t)
    plus = 1 + sp.Add(*(ti * sp.exp(-si) for si, ti in zip(s, t)))
    minus = 1 + sp.Add(*((1 - ti) * sp.exp(si) for si, ti in zip(s, t)))
    return sp.Matrix([-ti * sp.exp(-si) / plus + (1 - ti) * sp.exp(si) / minus for si, ti in zip(s, t)])


def zlpr_probability(s: sp.Expr) -> sp.Expr:
    r"""The label probability a ZLPR score stands for: :math:`\sigma(2s) = 1/(1 + e^{-2s})`.

    The soft loss is minimised exactly where :math:`t_i = \sigma(2 s_i)`; a
    score is a positive prediction iff :math:`s > 0` (threshold 0).

    >>> zlpr_probability(0), zlpr_probability(sp.log(3) / 2)
    (1/2, 3/4)
    """
    return (
        sp.nsimplify(1 / (1 + sp.exp(-2 * as_expr(s))))
        if as_expr(s).is_Rational
        else (1 / (1 + sp.exp(-2 * as_expr(s))))
    )


def zlpr_optimal_logits(t: Sequence[sp.Expr]) -> sp.Matrix:
    r"""The minimiser of the soft ZLPR loss for labels in (0, 1): :math:`s_i = \tfrac12 \log\frac{t_i}{1-t_i}`.

    .. math::

        s_i^\star = \tfrac12\,\operatorname{logit}(t_i) \iff t_i = \sigma(2 s_i^\star)

    >>> zlpr_optimal_logits([sp.Rational(3, 4)])
    Matrix([[log(3)/2]])
    """
    return sp.Matrix([sp.log(ti / (1 - ti)) / 2 for ti in _vector(t)])


def binary_cross_entropy(s: Sequence[sp.Expr], t: Sequence[sp.Expr]) -> sp.Expr:
    r"""Sum of soft binary cross-entropies of sigmoid scores, the loss ZLPR truncates.

    .. math::

        \sum_i -t_i \log\sigma(s_i) - (1 - t_i)\log(1 - \sigma(s_i))
            = \sum_i t_i \log(1 + e^{-s_i}) + (1 - t_i)\log(1 + e^{s_i})

    >>> a = sp.Symbol("a", real=True)
    >>> binary_cross_entropy([a], [1])
    log(1 + exp(-a))
    """
    s, t = _vector(s), _vector(t)
    _check_same_length(s, t)
    return sp.Add(*(ti * sp.log(1 + sp.exp(-si)) + (1 - ti) * sp.log(1 + sp.exp(si)) for si, ti in zip(s, t)))


def zlpr_hard_loss_indexed() -> sp.Expr:
    r"""The hard loss written with the label indicator :math:`y_i \in \{0, 1\}`, n symbolic.

    >>> print(sp.latex(zlpr_hard_loss_indexed()))  # doctest: +ELLIPSIS
    \log{\left(\sum_{i=1}^{n} \left(1 - {y}_{i}\right) e^{{s}_{i}} + 1 \right)} + ...
    """
    s, y = sp.IndexedBase("s", real=True), sp.IndexedBase("y")
    return sp.log(1 + sp.Sum(y[_i] * sp.exp(-s[_i]), (_i, 1, _n))) + sp.log(
        1 + sp.Sum((1 - y[_i]) * sp.exp(s[_i]), (_i, 1, _n))
    )


def zlpr_soft_loss_indexed() -> sp.Expr:
    r"""The soft ZLPR loss with n symbolic (for printing and for symbolic-n proofs).

    >>> zlpr_soft_loss_indexed().free_symbols >= {sp.Symbol("n", integer=True, positive=True)}
    True
    """
    s, t = sp.IndexedBase("s", real=True), sp.IndexedBase("t")
    return sp.log(1 + sp.Sum(t[_i] * sp.exp(-s[_i]), (_i, 1, _n))) + sp.log(
        1 + sp.Sum((1 - t[_i]) * sp.exp(s[_i]), (_i, 1, _n))
    )


def zlpr_soft_gradient_indexed() -> sp.Expr:
    r"""The gradient component :math:`\partial\ell/\partial s_j` with n symbolic.

    >>> print(sp.latex(zlpr_soft_gradient_indexed()))  # doctest: +ELLIPSIS
    \frac{\left(1 - {t}_{j}\right) e^{{s}_{j}}}{\sum_{i=1}^{n} \left(1 - {t}_{i}\right) e^{{s}_{i}} + 1} - ...
    """
    s, t = sp.IndexedBase("s", real=True), sp.IndexedBase("t")
    plus = 1 + sp.Sum(t[_i] * sp.exp(-s[_i]), (_i, 1, _n))
    minus = 1 + sp.Sum((1 - t[_i]) * sp.exp(s[_i]), (_i, 1, _n))
    return -t[_j] * sp.exp(-s[_j]) / plus + (1 - t[_j]) * sp.exp(s[_j]) / minus


# ---------------------------------------------------------------------------
# n tasks of m classes (post 9158)
# ---------------------------------------------------------------------------


def _check_same_shape(S: sp.Matrix, T: sp.Matrix) -> None:
    if S.shape != T.shape:
        raise ValueError(f"scores and labels differ in shape: {S.shape} vs {T.shape}")


def row_softmax(S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase) -> sp.Matrix:
    r"""Softmax of every row: :math:`e^{s_{ij}} / \sum_k e^{s_{ik}}`.

    >>> row_softmax([[0, sp.log(3)]])
    Matrix([[1/4, 3/4]])
    """
    S = _matrix(S)
    rows = []
    for r in range(S.rows):
        z = sp.Add(*(sp.exp(S[r, c]) for c in range(S.cols)))
        rows.append([sp.exp(S[r, c]) / z for c in range(S.cols)])
    return sp.Matrix(rows)


def nm_cross_entropy(
    S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase, T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase
) -> sp.Expr:
    r"""The sum of the n softmax cross-entropies, :math:`-\sum_{ij} t_{ij}\log\operatorname{softmax}_j(s_{i\cdot})`.

    .. math::

        \ell_{CE} = \sum_{i,j} t_{ij} \log\Bigl(\sum_k e^{s_{ik}}\Bigr) - t_{ij} s_{ij}

    >>> nm_cross_entropy([[0, 0]], [[1, 0]])
    log(2)
    """
    S, T = _matrix(S), _matrix(T)
    _check_same_shape(S, T)
    total = sp.Integer(0)
    for r in range(S.rows):
        lse = sp.log(sp.Add(*(sp.exp(S[r, c]) for c in range(S.cols))))
        total += sp.Add(*(T[r, c] * (lse - S[r, c]) for c in range(S.cols)))
    return total


def nm_cross_entropy_indexed() -> sp.Expr:
    r"""The summed softmax cross-entropy with n and m symbolic."""
    s, t = sp.IndexedBase("s", real=True), sp.IndexedBase("t")
    return -sp.Sum(
        t[_i, _j] * sp.log(sp.exp(s[_i, _j]) / sp.Sum(sp.exp(s[_i, _k]), (_k, 1, _m))), (_i, 1, _n), (_j, 1, _m)
    )


def nm_loss1(S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase, T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase) -> sp.Expr:
    r"""Post 9158's first candidate: the first-order truncation of the summed cross-entropy.

    .. math::

        \ell_1 = \sum_{j=1}^{m} \log\Bigl(1 + \sum_{i=1}^{n}\sum_{k \ne j} t_{ij}\, e^{s_{ik} - s_{ij}}\Bigr)

    >>> a, b = sp.symbols("a b", real=True)
    >>> nm_loss1([[a, b]], [[1, 0]])
    log(exp(-a + b) + 1)
    """
    S, T = _matrix(S), _matrix(T)
    _check_same_shape(S, T)
    n, m = S.shape
    total = sp.Integer(0)
    for j in range(m):
        inner = sp.Add(*(T[i, j] * sp.exp(S[i, k] - S[i, j]) for i in range(n) for k in range(m) if k != j))
        total += sp.log(1 + inner)
    return total


def _loss1_denominators(S: sp.Matrix, T: sp.Matrix) -> list[sp.Expr]:
    n, m = S.shape
    return [
        1 + sp.Add(*(T[i, j] * sp.exp(S[i, k] - S[i, j]) for i in range(n) for k in range(m) if k != j))
        for j in range(m)
    ]


def nm_loss1_gradient(
    S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase, T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase
) -> sp.Matrix:
    r"""The gradient of :func:`nm_loss1`, derived term by term (n x m matrix).

    With :math:`D_j = 1 + \sum_{i',k\ne j} t_{i'j} e^{s_{i'k} - s_{i'j}}`, the score
    :math:`s_{ij}` enters :math:`D_j` through :math:`e^{-s_{ij}}` and every
    :math:`D_h`, :math:`h \ne j`, through the term :math:`k = j`:

    .. math::

        \frac{\partial \ell_1}{\partial s_{ij}}
          = -\frac{t_{ij}\sum_{k\ne j} e^{s_{ik} - s_{ij}}}{D_j}
            + \sum_{h \ne j} \frac{t_{ih} e^{s_{ij} - s_{ih}}}{D_h}

    >>> a, b = sp.symbols("a b", real=True)
    >>> sp.simplify(nm_loss1_gradient([[a, b]], [[1, 0]])[0] + sp.exp(b - a) / (1 + sp.exp(b - a)))
    0
    """
    S, T = _matrix(S), _matrix(T)
    _check_same_shape(S, T)
    n, m = S.shape
    D = _loss1_denominators(S, T)
    out = sp.zeros(n, m)
    for i in range(n):
        for j in range(m):
            own = -T[i, j] * sp.Add(*(sp.exp(S[i, k] - S[i, j]) for k in range(m) if k != j)) / D[j]
            cross = sp.Add(*(T[i, h] * sp.exp(S[i, j] - S[i, h]) / D[h] for h in range(m) if h != j))
            out[i, j] = own + cross
    return out


def nm_loss1_gradient_printed(
    S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase, T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase
) -> sp.Matrix:
    r"""The gradient of loss-1 exactly as post 9158 prints it, the i in each denominator read as a new index i'.

    .. math::

        \frac{\partial \ell}{\partial s_{ij}}
          = \frac{-t_{ij}e^{-s_{ij}}\sum_{k\ne j}e^{s_{ik}}}{1+\sum_{i'}\sum_{k\ne j} t_{i'j}e^{-s_{i'j}+s_{i'k}}}
          + \sum_{h\ne j}\frac{t_{ih}e^{-s_{ih}}e^{s_{ij}}}{1+\sum_{i'}\sum_{k\ne h} t_{i'h}e^{-s_{i'h}+s_{i'k}}}

    Read literally (the same i inside the denominators, not summed) the
    formula is wrong for n > 1; :mod:`closedform.proofs.multiclass` checks the
    i' reading index by index against the derivative.

    >>> a, b = sp.symbols("a b", real=True)
    >>> g = nm_loss1_gradient_printed([[a, b]], [[1, 0]])
    >>> sp.simplify(g - nm_loss1_gradient([[a, b]], [[1, 0]]))
    Matrix([[0, 0]])
    """
    S, T = _matrix(S), _matrix(T)
    _check_same_shape(S, T)
    n, m = S.shape

    def denominator(col: int) -> sp.Expr:
        return 1 + sp.Add(
            *(T[ip, col] * sp.exp(-S[ip, col] + S[ip, k]) for ip in range(n) for k in range(m) if k != col)
        )

    out = sp.zeros(n, m)
    for i in range(n):
        for j in range(m):
            first = (
                -T[i, j] * sp.exp(-S[i, j]) * sp.Add(*(sp.exp(S[i, k]) for k in range(m) if k != j)) / denominator(j)
            )
            second = sp.Add(
                *(T[i, h] * sp.exp(-S[i, h]) * sp.exp(S[i, j]) / denominator(h) for h in range(m) if h != j)
            )
            out[i, j] = first + second
    return out


def nm_loss2(
    S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase,
    T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase,
    f: Callable[[sp.Matrix, int, int], sp.Expr],
) -> sp.Expr:
    r"""The post's family loss-2 for a transform ``f(S, i, j)`` of the scores.

    .. math::

        \ell_2 = \sum_j \log\Bigl(1 + \sum_i t_{ij} e^{-f(s_{ij})}\Bigr)

    Loss-3 is the member :math:`f(s_{ij}) = s_{ij} - \bar s_i`.

    >>> a, b = sp.symbols("a b", real=True)
    >>> nm_loss2([[a, b]], [[1, 0]], lambda S, i, j: S[i, j])
    log(1 + exp(-a))
    """
    S, T = _matrix(S), _matrix(T)
    _check_same_shape(S, T)
    n, m = S.shape
    return sp.Add(*(sp.log(1 + sp.Add(*(T[i, j] * sp.exp(-f(S, i, j)) for i in range(n)))) for j in range(m)))


def _centred(S: sp.Matrix, i: int, j: int) -> sp.Expr:
    return S[i, j] - sp.Add(*(S[i, k] for k in range(S.cols))) / S.cols


def nm_loss3(S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase, T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase) -> sp.Expr:
    r"""Post 9158's third candidate: loss-2 with centred logits.

    .. math::

        \ell_3 = \sum_{j=1}^{m} \log\Bigl(1 + \sum_{i=1}^{n} t_{ij}\, e^{\bar s_i - s_{ij}}\Bigr),
        \qquad \bar s_i = \frac1m \sum_{k=1}^m s_{ik}

    >>> a, b = sp.symbols("a b", real=True)
    >>> nm_loss3([[a, b]], [[1, 0]])
    log(exp(-a/2 + b/2) + 1)
    """
    S, T = _matrix(S), _matrix(T)
    _check_same_shape(S, T)
    n, m = S.shape
    return sp.Add(*(sp.log(1 + sp.Add(*(T[i, j] * sp.exp(-_centred(S, i, j)) for i in range(n)))) for j in range(m)))


def nm_loss3_gradient(
    S: Sequence[Sequence[sp.Expr]] | sp.MatrixBase, T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase
) -> sp.Matrix:
    r"""The gradient of :func:`nm_loss3` (n x m matrix).

    With :math:`E_j = 1 + \sum_{i'} t_{i'j} e^{\bar s_{i'} - s_{i'j}}` and
    :math:`\partial(\bar s_i - s_{ij})/\partial s_{ik} = 1/m - [j = k]`:

    .. math::

        \frac{\partial \ell_3}{\partial s_{ik}}
          = \frac1m \sum_j \frac{t_{ij} e^{\bar s_i - s_{ij}}}{E_j}
            - \frac{t_{ik} e^{\bar s_i - s_{ik}}}{E_k}

    >>> a, b = sp.symbols("a b", real=True)
    >>> g = nm_loss3_gradient([[a, b]], [[1, 0]])
    >>> sp.simplify(g[0] + g[1])  # per-task shift invariance
    0
    """
    S, T = _matrix(S), _matrix(T)
    _check_same_shape(S, T)
    n, m = S.shape
    w = [[T[i, j] * sp.exp(-_centred(S, i, j)) for j in range(m)] for i in range(n)]
    E = [1 + sp.Add(*(w[i][j] for i in range(n))) for j in range(m)]
    out = sp.zeros(n, m)
    for i in range(n):
        mean_part = sp.Add(*(w[i][j] / E[j] for j in range(m))) / m
        for k in range(m):
            out[i, k] = mean_part - w[i][k] / E[k]
    return out


def nm_loss3_optimal_logits(T: Sequence[Sequence[sp.Expr]] | sp.MatrixBase) -> sp.Matrix:
    r"""The centred minimiser of loss-3 for label rows in the open simplex: :math:`s_{ij} = \log t_{ij} - \overline{\log t_{i\cdot}}`.

    Then :math:`\operatorname{softmax}_j(s_{ij}) = t_{ij}`; loss-3 is invariant
    under :math:`s_i \to s_i + c_i`, so the minimiser is unique up to these shifts.

    .. math::

        s_{ij}^\star = \log t_{ij} - \frac1m\sum_k \log t_{ik}

    >>> nm_loss3_optimal_logits([[sp.Rational(1, 2), sp.Rational(1, 2)]])
    Matrix([[0, 0]])
    """
    T = _matrix(T)
    L = T.applyfunc(sp.log)
    return sp.Matrix(
        [[sp.expand_log(L[i, j] - sp.Add(*L.row(i)) / T.cols) for j in range(T.cols)] for i in range(T.rows)]
    )


def nm_loss3_optimal_logits_indexed() -> sp.Expr:
    r"""The loss-3 minimiser with m symbolic: :math:`s_{ij}^\star = \log t_{ij} - \frac1m\sum_k \log t_{ik}`.

    >>> nm_loss3_optimal_logits_indexed()
    log(t[i, j]) - Sum(log(t[i, k]), (k, 1, m))/m
    """
    t = sp.IndexedBase("t")
    return sp.log(t[_i, _j]) - sp.Sum(sp.log(t[_i, _k]), (_k, 1, _m)) / _m


def nm_loss1_indexed() -> sp.Expr:
    r"""Loss-1 with n and m symbolic (for printing).

    >>> print(sp.latex(nm_loss1_indexed()))  # doctest: +ELLIPSIS
    \sum_{j=1}^{m} \log{\left(\sum_{i=1}^{n} ...
    """
    s, t = sp.IndexedBase("s", real=True), sp.IndexedBase("t")
    inner = sp.Sum(t[_i, _j] * (sp.Sum(sp.exp(s[_i, _k] - s[_i, _j]), (_k, 1, _m)) - 1), (_i, 1, _n))
    return sp.Sum(sp.log(1 + inner), (_j, 1, _m))


def nm_loss1_gradient_indexed() -> sp.Expr:
    r"""The printed loss-1 gradient with n and m symbolic; :math:`\sum_{k\ne j}` written as :math:`\sum_k - (k=j)`."""
    s, t = sp.IndexedBase("s", real=True), sp.IndexedBase("t")

    def den(col: sp.Expr) -> sp.Expr:
        return 1 + sp.Sum(t[_ip, col] * (sp.Sum(sp.exp(s[_ip, _k] - s[_ip, col]), (_k, 1, _m)) - 1), (_ip, 1, _n))

    own = -t[_i, _j] * (sp.Sum(sp.exp(s[_i, _k] - s[_i, _j]), (_k, 1, _m)) - 1) / den(_j)
    cross = sp.Sum(t[_i, _h] * sp.exp(s[_i, _j] - s[_i, _h]) / den(_h), (_h, 1, _m)) - t[_i, _j] / den(_j)
    return own + cross


def nm_loss3_indexed() -> sp.Expr:
    r"""Loss-3 with n and m symbolic (for printing)."""
    s, t = sp.IndexedBase("s", real=True), sp.IndexedBase("t")
    centre = sp.Sum(s[_i, _k], (_k, 1, _m)) / _m
    return sp.Sum(sp.log(1 + sp.Sum(t[_i, _j] * sp.exp(centre - s[_i, _j]), (_i, 1, _n))), (_j, 1, _m))


def nm_loss3_gradient_indexed() -> sp.Expr:
    r"""The loss-3 gradient component :math:`\partial\ell_3/\partial s_{ik}` with n and m symbolic."""
    s, t = sp.IndexedBase("s", real=True), sp.IndexedBase("t")

    def centre(row: sp.Expr) -> sp.Expr:
        return sp.Sum(s[row, _h], (_h, 1, _m)) / _m

    def E(col: sp.Expr) -> sp.Expr:
        return 1 + sp.Sum(t[_ip, col] * sp.exp(centre(_ip) - s[_ip, col]), (_ip, 1, _n))

    mean_part = sp.Sum(t[_i, _j] * sp.exp(centre(_i) - s[_i, _j]) / E(_j), (_j, 1, _m)) / _m
    return mean_part - t[_i, _k] * sp.exp(centre(_i) - s[_i, _k]) / E(_k)
