r"""Multi-label cross-entropy (ZLPR) and the "n m-class" losses of post 9158.

Batched losses with gradients, validated input, and the registry lines:

>>> import numpy as np
>>> import closedform.multiclass as mc
>>> scores = np.array([[2.0, -1.0, 0.5]])
>>> loss, grad = mc.zlpr_loss(scores, np.array([[1.0, 0.0, 1.0]]), grad=True)
>>> round(float(loss[0]), 6), grad.shape
(0.868219, (1, 3))
>>> float(mc.zlpr_sparse_loss(scores, np.array([[0, 2]]))[0]) == float(loss[0])
True
>>> mc.zlpr_probability(np.array([0.0]))          # threshold 0, probability sigma(2s)
array([0.5])
>>> mc.zlpr_loss(scores, np.array([[1.0, 0.0]]))
Traceback (most recent call last):
...
closedform.ParameterError: labels must have the shape of scores (1, 3), got (1, 2)
>>> print(mc.ZLPR_SOFT.formula().latex())  # doctest: +ELLIPSIS
\ell_{\mathrm{ZLPR}} = \log{\left(\sum_{i=1}^{n} \left(1 - {t}_{i}\right) e^{{s}_{i}} + 1 \right)} + ...
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from closedform.derive import multiclass as d
from closedform.numeric import multiclass as num
from closedform.params import matrix, vector
from closedform.proofs import multiclass as pr
from closedform.spec import ParameterError, Result

__all__ = [
    "NM_LOSSES",
    "implied_scales",
    "loss1_soft_optimum",
    "nm_loss",
    "softmax_scale_fit",
    "zlpr_loss",
    "zlpr_probability",
    "zlpr_sparse_loss",
]


# ---------------------------------------------------------------------------
# Vector and matrix parameters of registry lines
# ---------------------------------------------------------------------------


def _same_length(s: sp.Matrix, t: sp.Matrix, names: str = "s and t") -> None:
    if s.shape != t.shape:
        raise ParameterError(f"{names} must have the same shape, got {s.shape} and {t.shape}")


S_VEC = vector("s", typical=(-5, 5), description="scores, one per label (a vector)", container="matrix")
T_VEC = vector("t", 0, 1, typical=(0, 1), description="soft labels in [0, 1] (a vector)", container="matrix")
T_OPEN = vector(
    "t", 0, 1, ends="()", typical=(0.01, 0.99), description="soft labels in (0, 1) (a vector)", container="matrix"
)
Y_VEC = vector(
    "y", 0, 1, integer_entries=True, typical=(0, 1), description="hard labels, 0 or 1 (a vector)", container="matrix"
)
S_MAT = matrix("S", typical=(-5, 5), description="scores s_ij, n tasks x m classes (a matrix)")
T_MAT = matrix("T", 0, 1, rows_sum_to_one=True, typical=(0, 1), description="label rows t_ij summing to 1 (a matrix)")
T_MAT_OPEN = matrix(
    "T",
    0,
    1,
    ends="()",
    rows_sum_to_one=True,
    typical=(0.01, 0.99),
    description="label rows in the open simplex (a matrix)",
)


def _symbolic(*args: Any) -> bool:
    return any(isinstance(a, sp.Symbol) for a in args)


# ---------------------------------------------------------------------------
# Closed forms and oracles of the registry lines
# ---------------------------------------------------------------------------

_j = sp.Symbol("j", integer=True, positive=True)


def _zlpr_hard(s, y):
    if _symbolic(s, y):
        return d.zlpr_hard_loss_indexed()
    _same_length(s, y, "s and y")
    if any(v not in (0, 1) for v in y):
        raise ParameterError("y must hold hard labels, each 0 or 1")
    return d.zlpr_hard_loss(s, [int(v) for v in y])


def _zlpr_soft(s, t):
    if _symbolic(s, t):
        return d.zlpr_soft_loss_indexed()
    _same_length(s, t)
    return d.zlpr_soft_loss(s, t)


def _zlpr_soft_grad(s, t):
    if _symbolic(s, t):
        return d.zlpr_soft_gradient_indexed()
    _same_length(s, t)
    return d.zlpr_soft_gradient(s, t)


def _floats(m: sp.Matrix) -> list:
    return [mpmath.mpf(sp.N(v, mpmath.mp.dps + 5)) for v in m]


def _rows(m: sp.Matrix) -> list[list]:
    return [[mpmath.mpf(sp.N(m[i, j], mpmath.mp.dps + 5)) for j in range(m.cols)] for i in range(m.rows)]


def _zlpr_soft_argmin_oracle(t):
    return num.zlpr_soft_argmin_oracle(_floats(t))


def _nm_matrix_oracle(loss):
    def oracle(S, T):
        _same_length(S, T, "S and T")
        return loss(_rows(S), _rows(T))

    return oracle


def _nm_gradient_oracle(loss):
    def oracle(S, T):
        _same_length(S, T, "S and T")
        return num.nm_gradient_oracle(loss, _rows(S), _rows(T))

    return oracle


def _nm_loss3_argmin_oracle(T):
    return num.nm_loss3_argmin_oracle(_rows(T))


def _nm_closed(func, indexed):
    def closed(S, T):
        if _symbolic(S, T):
            return indexed()
        _same_length(S, T, "S and T")
        return func(S, T)

    return closed


# ---------------------------------------------------------------------------
# Extra verify rows: kernels against oracles, the post's failure cases
# ---------------------------------------------------------------------------

#: Kernel vs oracle tolerance (relative for losses, relative to max |g| for gradients).
KERNEL_RTOL = 1e-12
KERNEL_RTOL_REASON = (
    "float64 sums of at most a few hundred positive terms, exps within 1 ulp: the rounding "
    "bound (terms + 10) * 1.1e-16 * (1 + |largest exponent|) stays below 1e-12 here"
)


#: float32 outputs are the float64 results rounded once: relative error <= 2^-24 (plus the float64 error).
FLOAT32_RTOL = 2.0**-24 + 1e-12


def _row(name: str, check: str, ok: bool, detail: str, t0: float, topic: str = "multiclass"):
    from closedform.checks import CheckRow

    return CheckRow(name, topic, check, "", "pass" if ok else "FAIL", detail, time.perf_counter() - t0)


def kernels_match_oracle(result: Result, thorough: bool = False):
    """The dense float64 kernels (ZLPR, loss-1, loss-3; value and gradient) against the mpmath definitions.

    Moderate and large scores (the shifted path).  The sparse, masked and
    float32 variants are checked against the same oracles in the test suite;
    verify keeps to the kernels it compiles anyway.
    """
    t0 = time.perf_counter()
    worst = num.kernel_oracle_errors(6 if thorough else 2)
    ok = all(v <= KERNEL_RTOL for v in worst.values())
    detail = "max rel. error " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()) + f" (rtol {KERNEL_RTOL:g})"
    return _row(result.name, "kernels_match_oracle", ok, detail, t0)


def loss3_pathology(result: Result, thorough: bool = False):
    """Post 9158: loss-3 nearly 0 with the target logit not the largest; loss-1 about 10."""
    t0 = time.perf_counter()
    S = np.array([[[10.0, 20.0, -30.0]]])
    y = np.array([[[1.0, 0.0, 0.0]]])  # one-hot rows: the dense kernels (verify compiles those anyway)
    l3 = float(nm_loss(S, y, kind="loss3")[0])
    l1 = float(nm_loss(S, y, kind="loss1")[0])
    exact3, exact1 = math.log1p(math.exp(-10)), math.log(1 + math.exp(10) + math.exp(-40))
    ok = (
        num.relative_error(l3, exact3) < 1e-13
        and num.relative_error(l1, exact1) < 1e-13
        and int(np.argmax(S[0, 0])) != 0
    )
    return _row(
        result.name,
        "loss3_pathology",
        ok,
        f"s = (10, 20, -30), target 1: loss-3 = {l3:.4g} (argmax is class 2), loss-1 = {l1:.6g}",
        t0,
    )


#: A fixed soft-label matrix (n = 5 tasks, m = 3 classes) for the loss-1 optimum check.
LOSS1_LABELS = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5], [0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])


def loss1_not_softmax(result: Result, thorough: bool = False):
    """Loss-1's soft optimum is not softmax(c s) for any c: implied scales disagree by far more than the solver error."""
    t0 = time.perf_counter()
    s_opt, gnorm = loss1_soft_optimum(LOSS1_LABELS)
    c_best, err = softmax_scale_fit(s_opt, LOSS1_LABELS)
    scales = implied_scales(s_opt, LOSS1_LABELS)
    spread = float(scales.max() - scales.min())
    ok = gnorm < 1e-10 and err > 1e-3 and spread > 1e-3
    detail = (
        f"|grad| = {gnorm:.1e} at the optimum; best c = {c_best:.4f} leaves max |softmax(c s*) - t| = {err:.4f}; "
        f"implied c from pairs of classes range over [{scales.min():.3f}, {scales.max():.3f}]"
    )
    return _row(result.name, "loss1_not_softmax", ok, detail, t0)


# ---------------------------------------------------------------------------
# Registry lines
# ---------------------------------------------------------------------------

_LOSS_RTOL = 1e-30
_LOSS_RTOL_REASON = "closed form and oracle are both evaluated at 40 digits; the gap is rounding only"
_GRAD_RTOL = 1e-25
_GRAD_RTOL_REASON = "mpmath's numerical differentiation at 40 digits is good to about 30 digits"
_ARGMIN_RTOL = 1e-20
_ARGMIN_RTOL_REASON = "Newton on a numerically differentiated gradient at 40 digits, stopped at 1e-26"
_NO_SIM = {"simulation": "a deterministic loss: nothing random to simulate"}
#: A label of exactly 1/2 has optimum score 0; Newton, stopped at steps of 1e-26, reaches 0 only to about
#: that (a relative error of 1 against an exact 0): an absolute floor two digits above the stopping step.
_ARGMIN_ATOL = 1e-24

ZLPR_HARD = Result(
    name="zlpr_hard",
    topic="multiclass",
    title="hard-label multi-label cross-entropy log(1 + sum_neg e^s) + log(1 + sum_pos e^-s); threshold 0",
    params=(S_VEC, Y_VEC),
    closed_form=_zlpr_hard,
    lhs=lambda s, y: sp.Symbol(r"\ell_{\mathrm{hard}}"),
    oracle=lambda s, y: num.zlpr_hard_oracle(_floats(s), [int(v) for v in y]),
    proofs=(pr.zlpr_nonnegative, pr.zlpr_threshold_zero, pr.zlpr_hard_is_soft_at_binary_labels),
    cases=({"s": "[2, -1, 1/2]", "y": "[1, 0, 1]"}, {"s": "[-3, 4, 0, 1/3]", "y": "[0, 0, 1, 0]"}),
    rtol=_LOSS_RTOL,
    rtol_reason=_LOSS_RTOL_REASON,
    skips=_NO_SIM,
)

ZLPR_SOFT = Result(
    name="zlpr_soft",
    topic="multiclass",
    title="soft-label ZLPR log(1 + sum t e^-s) + log(1 + sum (1-t) e^s), the first-order truncation of BCE",
    params=(S_VEC, T_VEC),
    closed_form=_zlpr_soft,
    lhs=lambda s, t: sp.Symbol(r"\ell_{\mathrm{ZLPR}}"),
    oracle=lambda s, t: num.zlpr_soft_oracle(_floats(s), _floats(t)),
    proofs=(pr.zlpr_nonnegative, pr.zlpr_truncates_bce),
    cases=({"s": "[1, -1/2, 2]", "t": "[1/4, 1, 0]"}, {"s": "[3, 0, -7/2, 1/10]", "t": "[9/10, 1/2, 1/3, 0]"}),
    rtol=_LOSS_RTOL,
    rtol_reason=_LOSS_RTOL_REASON,
    skips=_NO_SIM,
    extra_checks=(kernels_match_oracle,),
)

ZLPR_SOFT_GRADIENT = Result(
    name="zlpr_soft_gradient",
    topic="multiclass",
    title="gradient of soft ZLPR: -t e^-s / (1 + sum t e^-s) + (1-t) e^s / (1 + sum (1-t) e^s)",
    params=(S_VEC, T_VEC),
    closed_form=_zlpr_soft_grad,
    lhs=lambda s, t: (
        sp.Symbol(r"\nabla_{s} \ell_{\mathrm{ZLPR}}")
        if not _symbolic(s, t)
        else sp.Derivative(sp.Symbol(r"\ell_{\mathrm{ZLPR}}"), sp.IndexedBase("s", real=True)[_j])
    ),
    oracle=lambda s, t: num.gradient_oracle(lambda p: num.zlpr_soft_oracle(p, _floats(t)), _floats(s)),
    proofs=(pr.zlpr_soft_optimum,),
    cases=({"s": "[1, -1/2, 2]", "t": "[1/4, 1, 0]"}, {"s": "[0, 1/3]", "t": "[1/2, 2/3]"}),
    rtol=_GRAD_RTOL,
    rtol_reason=_GRAD_RTOL_REASON,
    skips=_NO_SIM,
)

ZLPR_SOFT_ARGMIN = Result(
    name="zlpr_soft_argmin",
    topic="multiclass",
    title="soft ZLPR is minimised at s = logit(t)/2, i.e. the label probability is sigma(2s), not sigma(s)",
    params=(T_OPEN,),
    closed_form=lambda t: (
        d.zlpr_optimal_logits([sp.IndexedBase("t")[_j]])[0] if _symbolic(t) else d.zlpr_optimal_logits(t)
    ),
    lhs=lambda t: sp.Symbol(r"s^{\star}") if not _symbolic(t) else sp.IndexedBase("s^{\\star}")[_j],
    oracle=_zlpr_soft_argmin_oracle,
    proofs=(pr.zlpr_soft_optimum,),
    cases=({"t": "[1/4, 9/10, 2/5]"}, {"t": "[1/3]"}),
    rtol=_ARGMIN_RTOL,
    rtol_reason=_ARGMIN_RTOL_REASON,
    atol=_ARGMIN_ATOL,
    skips=_NO_SIM,
)

NM_LOSS1 = Result(
    name="nm_loss1",
    topic="multiclass",
    title="post 9158 loss-1: sum_j log(1 + sum_i sum_{k != j} t_ij e^(s_ik - s_ij)), below CE for hard labels",
    params=(S_MAT, T_MAT),
    closed_form=_nm_closed(d.nm_loss1, d.nm_loss1_indexed),
    lhs=lambda S, T: sp.Symbol(r"\ell_1"),
    oracle=_nm_matrix_oracle(num.nm_loss1_oracle),
    proofs=(pr.nm_cross_entropy_rewrite, pr.nm_loss1_below_cross_entropy, pr.nm_m2_reductions),
    cases=(
        {"S": "[[1, 0, -1], [1/2, 2, 0]]", "T": "[[1/2, 1/4, 1/4], [0, 1, 0]]"},
        {"S": "[[3, -1], [0, 1/2], [-2, 1]]", "T": "[[1, 0], [1/3, 2/3], [1/2, 1/2]]"},
    ),
    rtol=_LOSS_RTOL,
    rtol_reason=_LOSS_RTOL_REASON,
    skips=_NO_SIM,
)

NM_LOSS1_GRADIENT = Result(
    name="nm_loss1_gradient",
    topic="multiclass",
    title="loss-1's gradient exactly as post 9158 prints it (i in the denominators read as i'); its soft optimum is no softmax",
    params=(S_MAT, T_MAT),
    closed_form=_nm_closed(d.nm_loss1_gradient_printed, d.nm_loss1_gradient_indexed),
    lhs=lambda S, T: sp.Symbol(r"\nabla_{S} \ell_{1}"),
    oracle=_nm_gradient_oracle(num.nm_loss1_oracle),
    proofs=(pr.nm_loss1_printed_gradient,),
    cases=({"S": "[[1, 0, -1], [1/2, 2, 0]]", "T": "[[1/2, 1/4, 1/4], [0, 1, 0]]"},),
    rtol=_GRAD_RTOL,
    rtol_reason=_GRAD_RTOL_REASON,
    skips=_NO_SIM,
    extra_checks=(loss1_not_softmax,),
)

NM_LOSS3 = Result(
    name="nm_loss3",
    topic="multiclass",
    title="post 9158 loss-3 (centred logits): sum_j log(1 + sum_i t_ij e^(mean_k s_ik - s_ij))",
    params=(S_MAT, T_MAT),
    closed_form=_nm_closed(d.nm_loss3, d.nm_loss3_indexed),
    lhs=lambda S, T: sp.Symbol(r"\ell_3"),
    oracle=_nm_matrix_oracle(num.nm_loss3_oracle),
    proofs=(pr.nm_m2_reductions, pr.nm_loss3_pathology),
    cases=(
        {"S": "[[1, 0, -1], [1/2, 2, 0]]", "T": "[[1/2, 1/4, 1/4], [0, 1, 0]]"},
        {"S": "[[10, 20, -30]]", "T": "[[1, 0, 0]]"},
    ),
    rtol=_LOSS_RTOL,
    rtol_reason=_LOSS_RTOL_REASON,
    skips=_NO_SIM,
    extra_checks=(loss3_pathology,),
)

NM_LOSS3_GRADIENT = Result(
    name="nm_loss3_gradient",
    topic="multiclass",
    title="loss-3's gradient (1/m) sum_j w_ij - w_ik, w_ij = t_ij e^(mean s_i - s_ij) / E_j; zero at t = softmax(s)",
    params=(S_MAT, T_MAT),
    closed_form=_nm_closed(d.nm_loss3_gradient, d.nm_loss3_gradient_indexed),
    lhs=lambda S, T: sp.Symbol(r"\nabla_{S} \ell_{3}"),
    oracle=_nm_gradient_oracle(num.nm_loss3_oracle),
    proofs=(pr.nm_loss3_softmax_stationary,),
    cases=({"S": "[[1, 0, -1], [1/2, 2, 0]]", "T": "[[1/2, 1/4, 1/4], [0, 1, 0]]"},),
    rtol=_GRAD_RTOL,
    rtol_reason=_GRAD_RTOL_REASON,
    skips=_NO_SIM,
)

NM_LOSS3_ARGMIN = Result(
    name="nm_loss3_argmin",
    topic="multiclass",
    title="loss-3 is minimised at s = log t (centred): softmax of the optimum is t",
    params=(T_MAT_OPEN,),
    closed_form=lambda T: d.nm_loss3_optimal_logits_indexed() if _symbolic(T) else d.nm_loss3_optimal_logits(T),
    lhs=lambda T: sp.Symbol(r"S^{\star}"),
    oracle=_nm_loss3_argmin_oracle,
    proofs=(pr.nm_loss3_softmax_stationary,),
    cases=({"T": "[[1/2, 1/3, 1/6], [1/5, 3/5, 1/5]]"},),
    rtol=_ARGMIN_RTOL,
    rtol_reason=_ARGMIN_RTOL_REASON,
    atol=_ARGMIN_ATOL,
    skips=_NO_SIM,
)


# ---------------------------------------------------------------------------
# The batched API
# ---------------------------------------------------------------------------


def _out(loss: np.ndarray, grad: np.ndarray | None, dtype, want: bool):
    with np.errstate(over="ignore"):
        loss = loss.astype(dtype, copy=False)
    num.check_finite_loss(loss, dtype)
    return (loss, grad.astype(dtype, copy=False)) if want else loss


def zlpr_loss(scores: Any, labels: Any, *, mask: Any = None, grad: bool = False):
    r"""ZLPR loss of every row, soft or hard labels, with its gradient on request.

    .. math::

        \ell_b = \log\Bigl(1 + \sum_c t_{bc} e^{-s_{bc}}\Bigr) + \log\Bigl(1 + \sum_c (1 - t_{bc}) e^{s_{bc}}\Bigr)

    Parameters
    ----------
    scores : array (B, C), float32 or float64
    labels : array (B, C) in [0, 1] (0/1 for hard labels)
    mask : bool array (B, C), optional
        Entries with False take part in neither sum (their score is ignored, a
        masked -1e7 is safe).
    grad : bool
        Also return the gradient (B, C).

    Returns
    -------
    loss : array (B,) of the scores' dtype, or ``(loss, gradient)``.
    """
    s = num.check_scores(scores, "scores", 2)
    t = num.check_unit_labels(labels, s.shape, s.dtype)
    has_mask = mask is not None
    mk = num.check_mask(mask, s.shape) if has_mask else np.ones((1, 1), dtype=np.bool_)
    B, C = s.shape
    loss = np.empty(B)
    g = np.empty((B, C) if grad else (1, 1))
    num.zlpr_dense_kernel(s, t, mk, has_mask, bool(grad), loss, g)
    return _out(loss, g, s.dtype, grad)


def zlpr_sparse_loss(scores: Any, positives: Any, *, grad: bool = False):
    r"""Hard-label ZLPR from lists of positive class indices (the variant for many labels).

    ``positives`` is an int array (B, K); -1 pads rows with fewer than K
    positives; a repeated index counts once.  Exact for any scores: the
    negative sum is taken over the non-positive classes directly, never as
    "all minus positives" (the cancellation behind bert4keras#436).

    .. math::

        \ell_b = \log\Bigl(1 + \sum_{c \notin P_b} e^{s_{bc}}\Bigr) + \log\Bigl(1 + \sum_{c \in P_b} e^{-s_{bc}}\Bigr)
    """
    s = num.check_scores(scores, "scores", 2)
    p = num.check_positives(positives, s.shape)
    B, C = s.shape
    loss = np.empty(B)
    g = np.empty((B, C) if grad else (1, 1))
    num.zlpr_sparse_kernel(s, p, bool(grad), loss, g)
    return _out(loss, g, s.dtype, grad)


def zlpr_probability(scores: Any) -> np.ndarray:
    r"""The label probability a ZLPR score stands for, :math:`\sigma(2s)` (predict iff s > 0).

    .. math::

        p = \frac{1}{1 + e^{-2s}}
    """
    s = num.real_array(scores, "scores")
    return 0.5 * (1.0 + np.tanh(s))  # sigma(2s) = (1 + tanh s)/2, no overflow


#: The n m-class losses by name: (dense kernel, class-index kernel).
NM_LOSSES: dict[str, tuple[Callable, Callable]] = {
    "loss1": (num.nm_loss1_dense_kernel, num.nm_loss1_sparse_kernel),
    "loss3": (num.nm_loss3_dense_kernel, num.nm_loss3_sparse_kernel),
}


def nm_loss(scores: Any, labels: Any, *, kind: str = "loss1", grad: bool = False):
    r"""Post 9158's loss-1 or loss-3 for B samples of n tasks with m classes each.

    .. math::

        \ell_1 = \sum_j \log\Bigl(1 + \sum_i \sum_{k\ne j} t_{ij} e^{s_{ik} - s_{ij}}\Bigr), \qquad
        \ell_3 = \sum_j \log\Bigl(1 + \sum_i t_{ij} e^{\bar s_i - s_{ij}}\Bigr)

    Parameters
    ----------
    scores : array (B, n, m)
    labels : array (B, n, m) of label rows summing to 1, or int array (B, n) of class indices
    kind : "loss1" or "loss3"
    grad : bool
        Also return the gradient (B, n, m).

    >>> import numpy as np
    >>> s = np.array([[[10.0, 20.0, -30.0]]])
    >>> float(nm_loss(s, np.array([[0]]), kind="loss3")[0])  # tiny, though class 2 has the top score
    4.539889921686465e-05
    """
    if kind not in NM_LOSSES:
        raise ParameterError(f"kind must be one of {', '.join(NM_LOSSES)}, got {kind!r}")
    dense_kernel, index_kernel = NM_LOSSES[kind]
    s = num.check_scores(scores, "scores", 3)
    B, n, m = s.shape
    lab = np.asarray(labels)
    loss = np.empty(B)
    g = np.empty((B, n, m) if grad else (1, 1, 1))
    if lab.ndim == 2 and np.issubdtype(lab.dtype, np.integer):
        index_kernel(s, num.check_class_indices(lab, (B, n, m)), bool(grad), loss, g)
    else:
        dense_kernel(s, num.check_label_rows(lab, s.shape, s.dtype), bool(grad), loss, g)
    return _out(loss, g, s.dtype, grad)


# ---------------------------------------------------------------------------
# Loss-1's soft optimum, solved with the gradient kernel
# ---------------------------------------------------------------------------


def loss1_soft_optimum(labels: Any, *, tol: float = 1e-12, max_iter: int = 60) -> tuple[np.ndarray, float]:
    r"""Minimise loss-1 over the scores for soft labels T (n, m): Newton with a kernel-built Hessian.

    The Hessian is the central difference of the analytic gradient kernel,
    all 2nm perturbed copies evaluated in one batched call; the per-task
    shift invariance makes it singular, so each step is the least-squares
    solution, and the result is centred (each row sums to 0)
    (:func:`closedform.numeric.multiclass.loss1_soft_optimum`).

    .. math::

        S^\star = \arg\min_S \ell_1(S, T), \qquad \nabla_S \ell_1(S^\star, T) = 0

    Returns ``(S_star, max |gradient|)``.

    >>> s, g = loss1_soft_optimum([[0.5, 0.5], [0.25, 0.75]])   # m = 2: ZLPR, t = sigma(2 (s1 - s2))
    >>> bool(np.allclose(1 / (1 + np.exp(-2 * (s[:, 0] - s[:, 1]))), [0.5, 0.25])), g < 1e-12
    (True, True)
    """
    return num.loss1_soft_optimum(num.label_rows(labels, positive=True), float(tol), int(max_iter))


def softmax_scale_fit(scores: Any, labels: Any) -> tuple[float, float]:
    r"""The scale c minimising :math:`\max |\operatorname{softmax}(c s) - t|`, and that error.

    A grid over c in [0, 20] followed by golden-section refinement.  ``labels``
    are probability rows (entries in [0, 1], each row summing to 1), ``scores``
    a finite real matrix of the same shape.

    .. math::

        c^\star = \arg\min_{c \ge 0} \max_{ij} \bigl|\operatorname{softmax}_j(c\, s_{i\cdot}) - t_{ij}\bigr|

    >>> c, err = softmax_scale_fit([[1.0, 0.0]], [[0.75, 0.25]])   # softmax(c (1, 0)) = (3/4, 1/4) at c = log 3
    >>> round(float(c), 6), err < 1e-9
    (1.098612, True)
    """
    T = num.label_rows(labels)
    return num.softmax_scale_fit(num.scores_like(scores, T), T)


def implied_scales(scores: Any, labels: Any) -> np.ndarray:
    r"""For every task and pair of classes, the c that softmax(c s) = t would need.

    .. math::

        c_{ijk} = \frac{\log t_{ij} - \log t_{ik}}{s_{ij} - s_{ik}}

    softmax(c s) = t for some c exactly when all of them are equal.  ``labels``
    are positive probability rows (entries in (0, 1], rows summing to 1).

    >>> implied_scales([[1.0, 0.0]], [[0.75, 0.25]])
    array([1.09861229])
    """
    T = num.label_rows(labels, positive=True)
    return num.implied_scales(num.scores_like(scores, T), T)
