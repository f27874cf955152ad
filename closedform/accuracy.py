r"""Expected accuracy, EXACT (post 9098): closed forms, the batched loss, the toy example.

>>> import closedform.accuracy as acc
>>> acc.probability([2, 0], 1, 0)
P(Eq(argmax(mu/sigma + varepsilon), 0)) = erf(1)/2 + 1/2
>>> p, dmu, dsigma = acc.exact_probabilities([[0.3, 0.0, -0.5, 0.2]], 1.0, [0])
>>> round(float(p[0]), 10), round(float(dmu[0, 0]), 7)
(0.3485862717, 0.2962534)
>>> loss, dmu, dsigma = acc.exact_loss([[2.0, 0.0], [0.0, 1.0]], [1.0, 0.5], [0, 1], objective="log_mean")
>>> round(loss, 6)  # both rows have p = Phi(sqrt 2) = 0.92135
0.081915
>>> round(acc.toy_summary()["ce_optimum_k1"], 6)
0.700088
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from closedform import lazy
from closedform.derive import accuracy as d
from closedform.estimate import Estimate, simulate_result
from closedform.numeric.rng_tables import NORMAL_DRAWS
from closedform.params import vector
from closedform.proofs import accuracy as pr
from closedform.spec import Formula, Param, ParameterError, Result, Simulation, float_or_exact

num = lazy.module("closedform.numeric.accuracy")  # Numba kernels: imported on first simulation or oracle

#: Most classes a logit vector given to a registry result may have (the oracle is mpmath).
MAX_REGISTRY_CLASSES = 64


MU = vector(
    "mu",
    length=(2, MAX_REGISTRY_CLASSES),
    latex=r"\mu",
    typical=(-3.0, 3.0),
    description="logits, a vector [a, b, ...]",
)
SIGMA = Param("sigma", r"\sigma", sp.Interval.open(0, sp.oo), (0.2, 3.0), "noise scale (temperature)")
LABEL = Param("y", "y", sp.Range(0, sp.oo), (0, 3), "the label, 0-based")
DELTA = Param("delta", r"\Delta", sp.Reals, (-4.0, 4.0), "margin mu_y - mu_other")
D1 = Param("d1", "d_1", sp.Reals, (-4.0, 4.0), "margin mu_y - mu_j of the first other class")
D2 = Param("d2", "d_2", sp.Reals, (-4.0, 4.0), "margin mu_y - mu_j of the second other class")
THRESHOLD = Param("b", "b", sp.Reals, (-1.0, 1.0), "threshold of the toy model f(x) = k(x - b)")
SCALE = Param("k", "k", sp.Interval.open(0, sp.oo), (0.2, 100.0), "scale of the toy model f(x) = k(x - b)")
PROB = Param("p", "p", sp.Interval.Lopen(0, 1), (0.01, 1.0), "the probability of the label")


def _mpf(v) -> mpmath.mpf:
    return mpmath.mpf(sp.N(v, mpmath.mp.dps + 10))


def _check_label(mu, y) -> int:
    if isinstance(mu, sp.Symbol):
        return y
    if not 0 <= int(y) < len(mu):
        raise ParameterError(f"y must be a label in 0..{len(mu) - 1} (0-based, one per entry of mu), got {y}")
    return int(y)


# ----------------------------------------------------------------------------
# Registry lines
# ----------------------------------------------------------------------------


def _binary_oracle(delta, sigma):
    return num.probability_by_quantile_quadrature([_mpf(delta), 0], _mpf(sigma), 0)


EXACT_BINARY = Result(
    name="exact_binary",
    topic="accuracy",
    title="EXACT with two classes: P(argmax(mu/sigma + eps) = y) = Phi(Delta/(sigma sqrt 2))",
    params=(DELTA, SIGMA),
    closed_form=lambda delta, sigma: float_or_exact(d.binary_probability(delta, sigma)),
    lhs=lambda delta, sigma: d.exact_event(0),
    oracle=_binary_oracle,
    simulation=Simulation(
        "closedform.numeric.accuracy:ARGMAX",
        lambda delta, sigma: num.pack_argmax([float(delta), 0.0], float(sigma), 0),
        draws_per_trial=lambda delta, sigma: 2 * NORMAL_DRAWS,
        description="argmax of (delta, 0)/sigma plus two standard normals",
    ),
    proofs=(pr.binary_closed_form,),
    cases=({"delta": 1, "sigma": 1}, {"delta": "-1/2", "sigma": "3/10"}, {"delta": 2, "sigma": "5/2"}),
    rtol=1e-25,
    rtol_reason="the closed form is one erf at 40 digits; the oracle's tanh-sinh quadrature at 50 digits",
    sim_trials=4 * 10**5,
)


def _three_closed(d1, d2, sigma):
    s2 = sigma * sp.sqrt(2)
    return float_or_exact(d.three_class_probability(d1 / s2, d2 / s2))


def _three_lhs(d1, d2, sigma):
    return d.exact_event(0)


EXACT_THREE = Result(
    name="exact_three_class",
    topic="accuracy",
    title="EXACT with three classes: a bivariate normal orthant with correlation 1/2, in Owen's T",
    params=(D1, D2, SIGMA),
    closed_form=_three_closed,
    lhs=_three_lhs,
    oracle=lambda d1, d2, sigma: num.probability_by_quantile_quadrature([0, -_mpf(d1), -_mpf(d2)], _mpf(sigma), 0),
    simulation=Simulation(
        "closedform.numeric.accuracy:ARGMAX",
        lambda d1, d2, sigma: num.pack_argmax([0.0, -float(d1), -float(d2)], float(sigma), 0),
        draws_per_trial=lambda **_: 3 * NORMAL_DRAWS,
        description="argmax of (0, -d1, -d2)/sigma plus three standard normals",
    ),
    proofs=(pr.three_class_closed_form,),
    cases=({"d1": "3/10", "d2": "-7/10", "sigma": 1}, {"d1": 0, "d2": 0, "sigma": 1}),
    rtol=1e-25,
    rtol_reason="Owen's T is evaluated by quadrature of its finite-range integral at 45 digits",
    sim_trials=4 * 10**5,
)


def _accuracy_closed(mu, sigma, y):
    return float_or_exact(d.exact_probability(mu, sigma, _check_label(mu, y)))


def _accuracy_lhs(mu, sigma, y):
    return d.exact_event(y)


EXACT_ACCURACY = Result(
    name="exact_accuracy",
    topic="accuracy",
    title="EXACT's p(y|x) = P(argmax(mu/sigma + eps) = y): the 1-D integral (closed form for C <= 3)",
    params=(MU, SIGMA, LABEL),
    closed_form=_accuracy_closed,
    lhs=_accuracy_lhs,
    oracle=lambda mu, sigma, y: num.probability_by_quantile_quadrature([_mpf(v) for v in mu], _mpf(sigma), int(y)),
    simulation=Simulation(
        "closedform.numeric.accuracy:ARGMAX",
        lambda mu, sigma, y: num.pack_argmax([float(v) for v in mu], float(sigma), _check_label(mu, y)),
        draws_per_trial=lambda mu, sigma, y: len(mu) * NORMAL_DRAWS,
        description="argmax of mu/sigma plus C standard normals",
    ),
    proofs=(pr.binary_closed_form, pr.three_class_closed_form, pr.exact_losses),
    cases=({"mu": "3/10,0,-1/2,1/5", "sigma": 1, "y": 0}, {"mu": "1,0,-1,2,1/2", "sigma": "3/2", "y": 3}),
    rtol=1e-25,
    rtol_reason="the integral is evaluated by tanh-sinh at 50+ digits, the oracle by the quantile route at 50",
    sim_trials=4 * 10**5,
)


def _gradient_closed(mu, sigma, y):
    return float_or_exact(d.exact_gradient(mu, sigma, _check_label(mu, y)))


def _gradient_lhs(mu, sigma, y):
    mu_j, sig = sp.Symbol("mu_j"), sp.Symbol("sigma")
    p = sp.Function("p_y")(mu_j, sig)
    return sp.Matrix([sp.Derivative(p, mu_j), sp.Derivative(p, sig)])


EXACT_GRADIENT = Result(
    name="exact_gradient",
    topic="accuracy",
    title="the gradient of EXACT's p(y|x) in mu (C entries) and sigma",
    params=(MU, SIGMA, LABEL),
    closed_form=_gradient_closed,
    lhs=_gradient_lhs,
    oracle=lambda mu, sigma, y: num.gradient_by_quantile_quadrature([_mpf(v) for v in mu], _mpf(sigma), int(y)),
    simulation=Simulation(
        "closedform.numeric.accuracy:ARGMAX_SCORE",
        lambda mu, sigma, y: num.pack_argmax_score([float(v) for v in mu], float(sigma), _check_label(mu, y)),
        kind="mean",
        draws_per_trial=lambda mu, sigma, y: len(mu) * NORMAL_DRAWS,
        description="score-function estimate: 1{argmax = y} eps_j / sigma, and -1{argmax = y} sum_j m_j eps_j / sigma",
    ),
    proofs=(pr.gradient_identities,),
    cases=({"mu": "1/2,0,-1", "sigma": 1, "y": 1}, {"mu": "1,-1", "sigma": "1/2", "y": 0}),
    rtol=1e-25,
    rtol_reason="elementary closed forms (C <= 3) at 40 digits against the quantile-route quadrature at 50",
    sim_trials=2 * 10**5,
)


def _toy_closed(b, sigma):
    return float_or_exact(d.toy_exact_probabilities(b, sigma))


def _toy_lhs(b, sigma):
    return sp.Matrix([sp.Function("p")(sp.Eq(sp.Symbol("l"), lab, evaluate=False), xv) for xv, lab in d.TOY_DATA])


TOY_PROBABILITIES = Result(
    name="toy_exact_probabilities",
    topic="accuracy",
    title="EXACT on the toy data of post 9098: p(l|x) = Phi(l(x - b)/(sigma sqrt 2)) at the three points",
    params=(THRESHOLD, SIGMA),
    closed_form=_toy_closed,
    lhs=_toy_lhs,
    oracle=lambda b, sigma: num.toy_probabilities_oracle(_mpf(b), _mpf(sigma)),
    simulation=Simulation(
        "closedform.numeric.accuracy:TOY",
        lambda b, sigma: np.array([float(b), float(sigma)]),
        draws_per_trial=lambda **_: 6 * NORMAL_DRAWS,
        description="per point: logits (0, (x - b)/sigma) plus two standard normals, correct class wins",
    ),
    proofs=(pr.binary_closed_form,),
    cases=({"b": "1/10", "sigma": "1/4"}, {"b": "7/10", "sigma": 1}),
    rtol=1e-25,
    rtol_reason="one erf per point at 40 digits against the quantile-route quadrature at 50",
    sim_trials=3 * 10**5,
)

_DETERMINISTIC = "an optimiser of a closed-form loss is deterministic: nothing random to simulate"

TOY_EXACT_OPTIMUM = Result(
    name="toy_exact_optimum",
    topic="accuracy",
    title="the b maximising EXACT's expected accuracy on the toy data at fixed sigma: 8 sigma^2 asinh(e^(1/(64 sigma^2))/2)",
    params=(SIGMA,),
    closed_form=lambda sigma: float_or_exact(d.toy_exact_optimum(sigma)),
    lhs=lambda sigma: sp.Function(r"\operatorname{argmax}_b A")(sigma),
    oracle=lambda sigma: num.toy_exact_optimum_oracle(_mpf(sigma)),
    proofs=(pr.toy_exact_optimum,),
    cases=({"sigma": 1}, {"sigma": "1/2"}, {"sigma": "3/10"}, {"sigma": "1/4"}, {"sigma": "11/50"}, {"sigma": "1/5"}),
    rtol=1e-25,
    rtol_reason="the oracle solves A'(b) = 0 with mpmath.diff at 55 digits",
    skips={"simulation": _DETERMINISTIC},
)

TOY_EXACT_FAILURE = Result(
    name="toy_exact_failure_scale",
    topic="accuracy",
    title="EXACT with fixed sigma leaves the perfect set (0, 1/4) for sigma > 1/(8 sqrt(log w*)), w*^4 - w*^3 = 1",
    params=(),
    closed_form=lambda: d.toy_exact_failure_scale(),
    lhs=lambda: sp.Symbol(r"\sigma^*"),
    oracle=lambda: num.toy_exact_failure_scale_oracle(),
    proofs=(pr.toy_exact_optimum,),
    cases=({},),
    rtol=1e-20,
    rtol_reason="nested root-finding (outer secant on sigma, inner on A'(b) by mpmath.diff) at 50+ digits",
    skips={"simulation": _DETERMINISTIC},
)

TOY_CE_OPTIMUM = Result(
    name="toy_ce_optimum",
    topic="accuracy",
    title="the sigmoid-CE optimum b*(k) on the toy data: (1/k) log of the positive root of e^(k/4) t^3 - (1 + e^(k/4) + e^(k/2)) t - 2 e^(k/4)",
    params=(SCALE,),
    closed_form=lambda k: float_or_exact(d.toy_ce_optimum(k)),
    lhs=lambda k: sp.Function(r"\operatorname{argmin}_b L_{CE}")(k),
    oracle=lambda k: num.toy_ce_optimum_oracle(_mpf(k)),
    proofs=(pr.toy_ce_optimum,),
    cases=({"k": 1}, {"k": 5}, {"k": 20}, {"k": 100}),
    rtol=1e-25,
    rtol_reason="the oracle solves L'(b) = 0 with mpmath.diff at 55 digits",
    skips={"simulation": _DETERMINISTIC},
)

TOY_CE_THRESHOLD = Result(
    name="toy_ce_scale_threshold",
    topic="accuracy",
    title="the CE optimum classifies the toy data perfectly iff k > 4 log c*, c*^3 - c*^2 - c* = 3 (k* = 3.0252...)",
    params=(),
    closed_form=lambda: d.toy_ce_scale_threshold(),
    lhs=lambda: sp.Symbol("k^*"),
    oracle=lambda: num.toy_ce_scale_threshold_oracle(),
    proofs=(pr.toy_ce_scale_threshold, pr.toy_hinge_and_accuracy),
    cases=({},),
    rtol=1e-20,
    rtol_reason="nested root-finding (outer secant on k, inner on L'(b) by mpmath.diff) at 50+ digits",
    skips={"simulation": _DETERMINISTIC},
)


CE_SERIES = Result(
    name="ce_series",
    topic="accuracy",
    title="cross-entropy as smooth accuracy: sum_m (1-p)^m/m = -log p >= 1 - p, gradient reweighted by 1/p",
    params=(PROB,),
    closed_form=lambda p: float_or_exact(-sp.log(p)),
    lhs=lambda p: sp.Sum((1 - p) ** sp.Symbol("m") / sp.Symbol("m"), (sp.Symbol("m"), 1, sp.oo)),
    oracle=lambda p: num.ce_series_oracle(_mpf(p)),
    proofs=(pr.ce_as_smooth_accuracy,),
    cases=({"p": "99/100"}, {"p": "1/2"}, {"p": "1/10"}),
    rtol=1e-25,
    rtol_reason="mpmath.nsum with Richardson/Shanks acceleration of the series at 40 digits",
    skips={"simulation": "a series identity has nothing random to simulate"},
)


# ----------------------------------------------------------------------------
# User functions
# ----------------------------------------------------------------------------


def _symbolic_or_value(param: Param, v: Any):
    if isinstance(v, sp.Symbol):
        return v
    if isinstance(v, str) and v.isidentifier() and v not in ("pi", "E"):
        return param.symbol()
    return param.validate(v)


def probability(mu: Any, sigma: Any, y: Any) -> Formula:
    r"""EXACT's :math:`p_y = P(\arg\max(\mu/\sigma + \varepsilon) = y)` as a :class:`~closedform.spec.Formula`.

    ``mu`` is a vector (or the name ``"mu"`` for C symbolic); ``sigma`` a
    positive number or a name; ``y`` the 0-based label.

    .. math::

        p_y = \int_{-\infty}^{\infty}\varphi\!\left(x - \frac{\mu_y}{\sigma}\right)
            \prod_{j\ne y}\Phi\!\left(x - \frac{\mu_j}{\sigma}\right)dx
    """
    args = {p.name: _symbolic_or_value(p, v) for p, v in ((MU, mu), (SIGMA, sigma), (LABEL, y))}
    return Formula(_accuracy_lhs(**args), _accuracy_closed(**args))


def gradient(mu: Any, sigma: Any, y: Any) -> Formula:
    r"""The gradient :math:`(\partial p_y/\partial\mu_0, \dots, \partial p_y/\partial\mu_{C-1}, \partial p_y/\partial\sigma)`.

    >>> g = gradient([1, 0], 1, 0)
    >>> [round(float(v), 8) for v in g.expr]
    [0.21969564, -0.21969564, -0.21969564]
    """
    args = {p.name: _symbolic_or_value(p, v) for p, v in ((MU, mu), (SIGMA, sigma), (LABEL, y))}
    if isinstance(args["mu"], sp.Symbol):
        raise ParameterError("gradient needs a concrete logit vector mu (its length fixes the number of entries)")
    return Formula(_gradient_lhs(**args), _gradient_closed(**args))


def _batch(
    mu: Any, sigma: Any, labels: Any, margin: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, float | None]:
    """Validate and convert the batch; returns (mu, sigma per row, labels, sigma_was_scalar, margin)."""
    for name, value, domain in (
        ("mu", mu, "a real array of shape (B, C)"),
        ("sigma", sigma, "a positive real number or array of shape (B,)"),
        ("labels", labels, "integers (0-based classes)"),
    ):
        if np.iscomplexobj(value):  # a cast to float64 would drop the imaginary part with only a warning
            raise ParameterError(f"{name} must be {domain}, got a complex value")
    try:
        m = np.asarray(mu, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("mu must be a real array of shape (B, C)") from None
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2:
        raise ParameterError(f"mu must be a real array of shape (B, C), got shape {m.shape}")
    if m.shape[0] == 0:
        raise ParameterError("mu is an empty batch: it needs at least one row (B >= 1)")
    if m.shape[1] < 2:
        raise ParameterError(f"mu needs at least 2 classes (C >= 2), got C = {m.shape[1]}")
    if not np.all(np.isfinite(m)):
        raise ParameterError("mu must be finite: it has a NaN or an infinity")
    bsz, c = m.shape
    try:
        s = np.asarray(sigma, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("sigma must be a positive number or an array of shape (B,)") from None
    scalar = s.ndim == 0
    if scalar:
        s = np.full(bsz, float(s))
    if s.shape != (bsz,):
        raise ParameterError(f"sigma must be a number or have shape ({bsz},) like the rows of mu, got shape {s.shape}")
    if not np.all(np.isfinite(s)) or not np.all(s > 0):
        raise ParameterError("sigma must lie in (0, oo): every entry positive and finite")
    with np.errstate(over="ignore"):
        overflow = not np.all(np.isfinite(m / s[:, None]))
    if overflow:
        raise ParameterError("mu / sigma must be finite in float64: |mu| / sigma below 1.8e308 (the scaled logits)")
    lab = np.asarray(labels)
    if lab.ndim == 0:
        lab = lab[None]
    if lab.shape != (bsz,):
        raise ParameterError(f"labels must have shape ({bsz},) like the rows of mu, got shape {lab.shape}")
    if lab.dtype.kind not in "iu":
        if lab.dtype.kind == "f" and np.all(np.isfinite(lab)) and np.all(lab == np.round(lab)):
            lab = lab.astype(np.int64)
        else:
            raise ParameterError(f"labels must be integers in 0..{c - 1}, got dtype {lab.dtype}")
    if lab.size and (lab.min() < 0 or lab.max() >= c):
        bad = lab[(lab < 0) | (lab >= c)][0]
        raise ParameterError(f"labels must be integers in 0..{c - 1} (0-based classes), got {bad}")
    mg = None
    if margin is not None:
        try:
            mg = float(margin)
        except (TypeError, ValueError):
            raise ParameterError(f"margin must be a positive number or None, got {margin!r}") from None
        if not math.isfinite(mg) or mg <= 0:
            raise ParameterError(f"margin must lie in (0, oo) or be None, got {margin!r}")
    return np.ascontiguousarray(m), np.ascontiguousarray(s), np.ascontiguousarray(lab, dtype=np.int64), scalar, mg


def exact_probabilities(mu: Any, sigma: Any, labels: Any, margin: float | None = None):
    r"""EXACT's :math:`p_y` per row and its gradient, batched (B rows, C classes).

    Parameters
    ----------
    mu : array_like, shape (B, C)
        Logits.
    sigma : float or array_like, shape (B,)
        Positive noise scale(s).
    labels : array_like of int, shape (B,)
        0-based labels.
    margin : float, optional
        EXACT's margin: margins :math:`\mu_y - \mu_j` above it are clipped to it
        (those classes then carry no gradient).

    Returns
    -------
    p : ndarray (B,)
    dp_dmu : ndarray (B, C)
    dp_dsigma : ndarray (B,), or a float when ``sigma`` was a number (summed over rows)

    .. math::

        \frac{\partial p_y}{\partial\sigma} = -\frac1\sigma\sum_j \mu_j \frac{\partial p_y}{\partial \mu_j}

    Accurate to 1e-10 absolute against the mpmath oracle for :math:`|\mu_i - \mu_j|/\sigma \le 40`.
    """
    m, s, lab, scalar, mg = _batch(mu, sigma, labels, margin)
    p, dmu, dsig = num.exact_value_and_grad(m, s, lab, mg)
    return p, dmu, (float(dsig.sum()) if scalar else dsig)


def exact_loss(mu: Any, sigma: Any, labels: Any, objective: str = "error", margin: float | None = None):
    r"""EXACT's loss and its gradient in μ and σ, batched.

    ``objective="error"``: :math:`1 - \frac1B\sum_b p_b` (EXACT's expected error);
    ``"log_mean"``: :math:`-\log\frac1B\sum_b p_b` (the paper's variant, log outside the mean);
    ``"none"``: :math:`1 - p_b` per row.

    Returns ``(loss, dloss_dmu (B, C), dloss_dsigma)``; ``dloss_dsigma`` is a
    float when ``sigma`` was a number.

    >>> loss, g, gs = exact_loss([[1.0, 0.0]], 1.0, [0])
    >>> round(loss, 10), round(float(g[0, 0]), 8)
    (0.2397500611, -0.21969564)
    """
    if objective not in num.OBJECTIVES:
        raise ParameterError(f"objective must be one of {', '.join(num.OBJECTIVES)}, got {objective!r}")
    m, s, lab, scalar, mg = _batch(mu, sigma, labels, margin)
    loss, dmu, dsig = num.exact_loss_and_grad(m, s, lab, objective, mg)
    if scalar:
        dsig = float(dsig.sum()) if objective != "none" else dsig
    return loss, dmu, dsig


def simulate(
    mu: Any, sigma: Any, y: Any, trials: Any = 10**6, *, device: str = "cpu", seed: int = 0, streams: int | None = None
) -> Estimate:
    """Monte Carlo estimate of EXACT's :math:`p_y`: the argmax of ``mu/sigma`` plus standard normals.

    >>> est = simulate([0.3, 0, -0.5, 0.2], 1, 0, trials=100_000, seed=3)
    >>> abs(est.value - 0.3485862717) < 5 * est.error
    True
    """
    return simulate_result(EXACT_ACCURACY, trials, device=device, seed=seed, streams=streams, mu=mu, sigma=sigma, y=y)


def toy_summary() -> dict[str, Any]:
    r"""Every number of the toy example of post 9098, computed from the closed forms.

    Keys: the CE optimum at k = 1, 5, 20, 100 and its loss and accuracy at k = 1,
    the CE scale threshold, the hinge minimum and argmin at k = 1, the scale and
    threshold where the hinge loss first reaches 0 and its best value at
    k = 7.9, the accuracy-1 set, EXACT's optimum at σ = 1, 0.5, 0.3, 0.25, 0.22,
    0.2 and its σ → 0 limit, and the σ beyond which it fails.
    """
    b = sp.Symbol("b", real=True)
    s = sp.Symbol("sigma", positive=True)
    k1 = d.toy_ce_optimum(1)
    hinge_value, hinge_set = d.toy_hinge_argmin(1)
    k_zero, b_zero = d.toy_hinge_zero_loss_scale()
    out: dict[str, Any] = {
        "ce_optimum_k1": float(k1),
        "ce_loss_at_optimum_k1": float(d.toy_ce_loss(1, k1)),
        "ce_accuracy_at_optimum_k1": d.toy_accuracy(sp.nsimplify(sp.N(k1, 30))),
        "ce_optimum": {k: float(d.toy_ce_optimum(k)) for k in (1, 5, 20, 100)},
        "ce_scale_threshold": float(d.toy_ce_scale_threshold()),
        "hinge_minimum_k1": hinge_value,
        "hinge_argmin_k1": hinge_set,
        "hinge_zero_loss_scale": k_zero,
        "hinge_zero_loss_threshold": b_zero,
        "hinge_minimum_k7.9": d.toy_hinge_argmin(sp.Rational(79, 10))[0],
        "perfect_accuracy_set": d.toy_perfect_accuracy_set(),
        "exact_optimum": {
            float(v): float(d.toy_exact_optimum(v))
            for v in (
                sp.Integer(1),
                sp.Rational(1, 2),
                sp.Rational(3, 10),
                sp.Rational(1, 4),
                sp.Rational(11, 50),
                sp.Rational(1, 5),
            )
        },
        "exact_optimum_sigma_to_0": sp.limit(d.toy_exact_optimum(s), s, 0, "+"),
        "exact_failure_scale": float(d.toy_exact_failure_scale()),
        "exact_accuracy_at_optimum_sigma1": float(d.toy_exact_accuracy(d.toy_exact_optimum(1), 1)),
    }
    del b
    return out
