r"""The categorical law of argmax(μ + τε) for i.i.d. noise ε (post 9085, "Perturb Max").

>>> import closedform.reparam as reparam
>>> reparam.law("gumbel", [0, "log(3)"])
Matrix([
[1/4],
[3/4]])
>>> reparam.evaluate("normal", [0.3, 0, -0.5, 0.2]).round(10).tolist()
[0.3485862717, 0.234126485, 0.1108045477, 0.3064826957]
>>> reparam.law("uniform", [0, 5, 10]).T  # bounded support: a sparse law
Matrix([[0, 0, 1]])
>>> reparam.law("cauchy", [1, 2, 3, 4])[0].evalf(12)  # no closed form: the exact integral
0.0907488800309
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from closedform import lazy
from closedform.derive import reparam as d
from closedform.estimate import Estimate, simulate_result
from closedform.params import choice, vector
from closedform.proofs import reparam as pr
from closedform.spec import Param, ParameterError, Result, Simulation

# Numba kernels and their oracles: imported on first simulation, evaluation or oracle call.
nz = lazy.module("closedform.numeric.noise")
num = lazy.module("closedform.numeric.reparam")

NOISES = tuple(d.FAMILIES)

# ----------------------------------------------------------------------------
# Parameters: a family name and a vector of scores, parsed from text or Python
# ----------------------------------------------------------------------------


NOISE = choice("noise", NOISES, latex=r"\varepsilon", description="noise family")
#: Most classes a simulation takes: the uniform-noise keys carry the class in 20 index bits.
MAX_CLASSES = 2**20
MU = vector("mu", length=(1, MAX_CLASSES), latex=r"\mu", typical=(-4.0, 4.0), description="scores [a, b, ...] (n >= 1)")
MU2 = vector("mu", length=2, latex=r"\mu", typical=(-4.0, 4.0), description="two scores")
MU3 = vector("mu", length=3, latex=r"\mu", typical=(-4.0, 4.0), description="three scores")


def parse_noise(value: Any) -> str:
    """A family name (case-insensitive) from FAMILIES, else a ParameterError listing them."""
    if isinstance(value, sp.Symbol):
        value = value.name
    return NOISE.validate(value)


TAU = Param("tau", r"\tau", sp.Interval.open(0, sp.oo), (0.2, 5.0), "noise scale (temperature)")

# ----------------------------------------------------------------------------
# Closed forms, left sides and oracles of the registry lines
# ----------------------------------------------------------------------------

_i, _j, _n = sp.symbols("i j n", integer=True, positive=True)
_MU = sp.IndexedBase("mu", real=True)


def _lhs(noise, mu, tau=1):
    if isinstance(mu, sp.Symbol):
        name = noise.name if isinstance(noise, sp.Symbol) else d.family(noise).latex
        return sp.Symbol(f"p^{{{name}}}_i")
    return d.probability_symbol(noise, len(mu), tau)


def _gumbel_closed_form(mu, tau):
    if isinstance(mu, sp.Symbol):
        return sp.exp(_MU[_i] / tau) / sp.Sum(sp.exp(_MU[_j] / tau), (_j, 1, _n))
    return d.gumbel_law(mu, tau)


def _pair_closed_form(noise, mu):
    if isinstance(mu, sp.Symbol):
        mu = sp.symbols("mu_1 mu_2", real=True)
    if isinstance(noise, sp.Symbol):
        f_d = sp.Function("F_D")
        return sp.Matrix([f_d(mu[0] - mu[1]), f_d(mu[1] - mu[0])])
    return d.pair_law(noise, mu)


def _exponential_closed_form(mu):
    if isinstance(mu, sp.Symbol):
        a, big_u = sp.IndexedBase("a", positive=True), sp.Symbol("U_i", positive=True)
        return sp.Integral(d.ProductExcept(1 - a[_j] * d.u, _j, _n, _i), (d.u, 0, big_u))
    return d.exponential_law(mu)


def _uniform_closed_form(mu):
    if isinstance(mu, sp.Symbol):
        clip = sp.Min(1, sp.Max(0, d.x + _MU[_i] - _MU[_j]))
        return sp.Integral(d.ProductExcept(clip, _j, _n, _i), (d.x, 0, 1))
    return d.uniform_law(mu)


def _normal3_closed_form(mu):
    if isinstance(mu, sp.Symbol):
        mu = sp.symbols("mu_1:4", real=True)
    return d.normal_three_law(mu)


def _general_closed_form(noise, mu):
    if isinstance(mu, sp.Symbol) or isinstance(noise, sp.Symbol):
        return d.general_law().rhs
    return d.law(noise, mu)


def _oracle(noise):
    return lambda mu, tau=1, **_: nz.law_oracle(noise, mu, tau)


def _pack(noise, mu, tau=1):
    # Here, not in simulate(): every route (simulate, the CLI, verify, Dask) packs through this.
    limit = nz.max_classes(noise)
    if limit is not None and len(mu) > limit:
        raise ParameterError(f"mu has {len(mu)} classes; the {noise}-noise simulator takes at most {limit}")
    return nz.pack_argmax(noise, mu, tau)


def _simulation(fixed_noise: str | None) -> Simulation:
    if fixed_noise is None:
        pack = lambda noise, mu: _pack(noise, mu)
        draws = lambda noise, mu: nz.draws_per_trial(noise, len(mu))
    else:
        pack = lambda mu, tau=1: _pack(fixed_noise, mu, tau)
        draws = lambda mu, tau=1: nz.draws_per_trial(fixed_noise, len(mu))
    return Simulation(
        lambda: nz.argmax_kernel(),
        pack,
        kind="proportion",
        draws_per_trial=draws,
        description=(
            "argmax of mu/tau + n noise draws (ziggurat, coarse uniforms refined when they tie, or inverse CDF: "
            "numeric.noise.SPECIAL_SAMPLERS); one count per trial"
        ),
    )


def kpoint_rule_report(result: Result, thorough: bool = False):
    """The post's K-point rule against midpoint and Gauss–Legendre nodes (extra row of ``verify``).

    Passes when the post's rule behaves as post 9085 says (Σp < 1 at every K and an
    error shrinking like 1/K: K x error within a factor 2 from K = 128 to 1024)
    and each better rule beats it at every K.
    """
    from closedform.checks import CheckRow

    t0 = time.perf_counter()
    ks = (8, 32, 128, 1024)
    rows = nz.rule_convergence("normal", REFERENCE_MU, ks)
    by = {(r["rule"], r["K"]): r for r in rows}
    post = [by["post", k] for k in ks]
    ok = all(r["sum"] < 1 for r in post)
    scaled = [r["K"] * r["max_error"] for r in post[2:]]
    ok &= max(scaled) / min(scaled) < 2
    ok &= all(by[rule, k]["max_error"] < by["post", k]["max_error"] for rule in ("midpoint", "gauss") for k in ks)
    detail = "; ".join(
        f"{rule} K={k}: sum {by[rule, k]['sum']:.7f}, err {by[rule, k]['max_error']:.1e}"
        for rule in nz.RULES
        for k in (ks[0], ks[-1])
    )
    return CheckRow(
        result.name,
        result.topic,
        "kpoint_rule_report",
        "normal, mu=(0.3,0,-0.5,0.2)",
        "pass" if ok else "FAIL",
        detail,
        time.perf_counter() - t0,
    )


#: The post's example scores (post 9085, its four-class example).
REFERENCE_MU = (sp.Rational(3, 10), 0, sp.Rational(-1, 2), sp.Rational(1, 5))

_RTOL_QUAD = 1e-25
_RTOL_QUAD_REASON = (
    "both sides are quadratures at 40+ digits (tanh-sinh, cut at every kink); the tolerance leaves 15 "
    "digits for their own error estimates, far below anything a double-precision user sees"
)

ARGMAX_GUMBEL = Result(
    name="argmax_gumbel",
    topic="reparam",
    title="Gumbel noise: the law of argmax(mu + tau*eps) is softmax(mu/tau), for every n",
    params=(MU, TAU),
    closed_form=_gumbel_closed_form,
    lhs=lambda mu, tau: _lhs("gumbel", mu, tau),
    oracle=lambda mu, tau: nz.law_oracle("gumbel", mu, tau),
    simulation=_simulation("gumbel"),
    proofs=(pr.gumbel_softmax, pr.softmax_jacobian, pr.temperature_limits),
    cases=({"mu": "0.3,0,-0.5,0.2", "tau": 1}, {"mu": "1,2,3,-1,0", "tau": "1/2"}),
    rtol=_RTOL_QUAD,
    rtol_reason=_RTOL_QUAD_REASON,
    sim_trials=10**6,
)

ARGMAX_PAIR = Result(
    name="argmax_pair",
    topic="reparam",
    title="two classes, any noise: p_1 = F_D(mu_1 - mu_2), the CDF of the difference of two draws",
    params=(NOISE, MU2),
    closed_form=_pair_closed_form,
    lhs=lambda noise, mu: _lhs(noise, mu),
    oracle=lambda noise, mu: nz.law_oracle(noise, mu),
    simulation=_simulation(None),
    proofs=(pr.pair_closed_forms,),
    cases=tuple(
        {"noise": n, "mu": m}
        for n, m in (
            ("gumbel", "0.7,0"),
            ("normal", "0.7,0"),
            ("logistic", "-1.3,0.4"),
            ("laplace", "0.9,-0.6"),
            ("uniform", "0.35,0"),
            ("exponential", "-0.8,0"),
            ("cauchy", "2,-1"),
        )
    ),
    rtol=_RTOL_QUAD,
    rtol_reason=_RTOL_QUAD_REASON,
    sim_trials=10**6,
)

ARGMAX_EXPONENTIAL = Result(
    name="argmax_exponential",
    topic="reparam",
    title="Exponential noise, every n: a polynomial in exp(mu_j - mu_i) integrated up to min(1, exp(mu_i - max others))",
    params=(MU,),
    closed_form=_exponential_closed_form,
    lhs=lambda mu: _lhs("exponential", mu),
    oracle=lambda mu: nz.law_oracle("exponential", mu),
    simulation=_simulation("exponential"),
    proofs=(pr.exponential_closed_form,),
    cases=({"mu": "0.3,0,-0.5,0.2"}, {"mu": "2,1.5,1.5,0,-1,3"}),
    rtol=_RTOL_QUAD,
    rtol_reason=_RTOL_QUAD_REASON,
    sim_trials=10**6,
)

ARGMAX_UNIFORM = Result(
    name="argmax_uniform",
    topic="reparam",
    title="Uniform noise on [0, 1], every n: an exact piecewise polynomial, zero when mu_i trails the leader by >= 1",
    params=(MU,),
    closed_form=_uniform_closed_form,
    lhs=lambda mu: _lhs("uniform", mu),
    oracle=lambda mu: nz.law_oracle("uniform", mu),
    simulation=_simulation("uniform"),
    proofs=(pr.bounded_support_sparsity,),
    cases=({"mu": "0,5,10"}, {"mu": "0,1/2,0,0.3"}, {"mu": "0.1,0.9,0.5,0.2,1.6"}),
    rtol=_RTOL_QUAD,
    rtol_reason=_RTOL_QUAD_REASON,
    sim_trials=10**6,
)

ARGMAX_NORMAL3 = Result(
    name="argmax_normal3",
    topic="reparam",
    title="Normal noise, three classes: a bivariate normal orthant with correlation 1/2",
    params=(MU3,),
    closed_form=_normal3_closed_form,
    lhs=lambda mu: _lhs("normal", mu),
    oracle=lambda mu: nz.law_oracle("normal", mu),
    simulation=_simulation("normal"),
    proofs=(pr.normal_three_orthant,),
    cases=({"mu": "0.3,0,-0.5"},),
    rtol=_RTOL_QUAD,
    rtol_reason=_RTOL_QUAD_REASON,
    sim_trials=10**6,
)

ARGMAX = Result(
    name="argmax",
    topic="reparam",
    title="any noise, any n: p_i = integral of f(x - mu_i) prod_{j != i} F(x - mu_j) (the closed form where known)",
    params=(NOISE, MU),
    closed_form=_general_closed_form,
    lhs=lambda noise, mu: _lhs(noise, mu),
    oracle=lambda noise, mu: nz.law_oracle(noise, mu),
    simulation=_simulation(None),
    proofs=(pr.sum_to_one, pr.shift_invariance, pr.order_preservation, pr.jacobian_symmetry),
    cases=(
        {"noise": "normal", "mu": "0.3,0,-0.5,0.2"},
        {"noise": "laplace", "mu": "1,0,-1,0.5"},
        {"noise": "cauchy", "mu": "1,0,-2"},
    ),
    rtol=_RTOL_QUAD,
    rtol_reason="where no closed form exists the closed form is the exact integral, cut at every kink and "
    "evaluated by tanh-sinh at 40+ digits; the oracle is the post's quantile form t = F(x), another "
    "integral by another route; 15 digits of slack for their error estimates",
    sim_trials=10**6,
    skips={
        "closed form": "no closed form is known for most (family, n): such cases use the exact "
        "integral representation, which evaluates to 40 digits (split at kinks; see PieceIntegral)"
    },
    extra_checks=(kpoint_rule_report,),
)


# ----------------------------------------------------------------------------
# The user surface
# ----------------------------------------------------------------------------


def _check_tau(tau: Any) -> sp.Expr:
    # A float temperature means the decimal it prints as (0.1 -> 1/10), like the scores.
    if isinstance(tau, (float, np.floating)) and math.isfinite(float(tau)):
        tau = sp.Rational(repr(float(tau)))
    return TAU.validate(tau)


def law(noise: str, mu: Sequence | str, tau: Any = 1) -> sp.Matrix:
    r"""The law :math:`p_i = P(\operatorname{argmax}_j(\mu_j + \tau\varepsilon_j) = i)` as a SymPy Matrix.

    The closed form where one is known (Gumbel, Exponential, Uniform for every
    n; every family for n = 2; Normal for n = 3), else the exact integral

    .. math::

        p_i = \int f\!\left(x - \tfrac{\mu_i}{\tau}\right) \prod_{j \ne i} F\!\left(x - \tfrac{\mu_j}{\tau}\right) dx,

    cut at the kinks so that ``.evalf(40)`` is exact to 40 digits.  ``mu``
    may be a list of numbers or SymPy expressions, or text ``"0.3,0,-0.5"``.

    >>> law("normal", [0, 0])
    Matrix([
    [1/2],
    [1/2]])
    >>> law("gauss", [0, 1])
    Traceback (most recent call last):
    ...
    closedform.ParameterError: noise must be one of gumbel, normal, logistic, laplace, uniform, exponential, cauchy, got 'gauss'
    """
    name = parse_noise(noise)
    return d.law(name, MU.validate(mu), _check_tau(tau))


def _float_logits(mu: Any, tau: Any) -> np.ndarray:
    """(B, C) float64 array of μ/τ from a vector or a batch, validated."""
    t = float(_check_tau(tau))
    if isinstance(mu, str):
        mu = [float(v) for v in MU.validate(mu)]
    try:
        arr = np.array(mu, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"mu must be a list (or a (B, C) array) of finite real numbers, got {mu!r}") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ParameterError(f"mu must be a non-empty vector or a (B, C) array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("mu must hold finite real numbers, got a NaN or infinity")
    return arr / t


def evaluate(noise: str, mu: Any, tau: Any = 1, cot: Any = None):
    r"""The law as float64 numbers, fast: batched over rows, with an optional vector-Jacobian product.

    Normal noise runs the Numba evaluator of :mod:`closedform.numeric.reparam`
    (1e-10 absolute for n <= 1000 and :math:`|\mu_i - \mu_j| \le 50\tau`);
    every other family runs the batched Numba quadrature of the same integral
    (:func:`closedform.numeric.reparam.family_law`), Gumbel its closed form.

    Parameters
    ----------
    noise : str
    mu : array_like, shape (C,) or (B, C)
    tau : float
    cot : array_like, optional
        Cotangent of the same shape: the function then returns ``(p, g)`` with
        :math:`g = J^\top c = J c`, :math:`J = \partial p / \partial \mu` (symmetric).

    >>> evaluate("gumbel", [0.0, np.log(3.0)]).round(12).tolist()
    [0.25, 0.75]
    >>> p, g = evaluate("normal", [[0.0, 1.0]], cot=[[1.0, 0.0]])
    >>> bool(abs(g[0, 0] + g[0, 1]) < 1e-15 and g[0, 0] > 0)  # g = J c: dp_0/dmu_0 > 0, rows sum to 0
    True
    """
    name = parse_noise(noise)
    squeeze = not (isinstance(mu, (list, tuple, np.ndarray)) and np.ndim(mu) == 2)
    m = _float_logits(mu, tau)
    t = float(_check_tau(tau))
    if cot is None:
        p = num.normal_law(m) if name == "normal" else num.family_law(name, m)
        return p[0] if squeeze else p
    c = np.array(cot, dtype=np.float64).reshape(m.shape) if np.size(cot) == m.size else None
    if c is None:
        raise ParameterError(f"cot must have the shape of mu, {m.shape}, got {np.shape(cot)}")
    if name == "normal":
        p, g = num.normal_law_vjp(m, c)
    else:
        p, g = num.family_law_vjp(name, m, c)
    g = g / t  # d/dmu = (1/tau) d/dm
    return (p[0], g[0]) if squeeze else (p, g)


def simulate(
    noise: str,
    mu: Sequence | str,
    tau: Any = 1,
    trials: Any = 10**6,
    *,
    device: str = "cpu",
    seed: int = 0,
    streams: int | None = None,
    cluster: Any = None,
) -> Estimate:
    """Monte Carlo estimate of the law: per-class frequencies of argmax(μ + τε) with standard errors.

    CUDA runs accept at most :data:`closedform.numeric.noise.MAX_CLASSES_CUDA` classes.  The
    default stream count is that of every result, on every device and cluster
    (:func:`closedform.numeric.drivers.streams_for`), so a seed fixes the counts.

    >>> est = simulate("normal", [0.3, 0, -0.5, 0.2], trials=200_000, seed=3)
    >>> bool(np.all(np.abs(est.estimate - evaluate("normal", [0.3, 0, -0.5, 0.2])) < 5 * est.stderr))
    True
    """
    name = parse_noise(noise)
    values = MU.validate(mu)
    t = _check_tau(tau)
    if device == "cuda" and len(values) > nz.MAX_CLASSES_CUDA:
        raise ParameterError(
            f"mu has {len(values)} classes; the CUDA kernel counts at most {nz.MAX_CLASSES_CUDA} per thread "
            "(use device='cpu')"
        )
    scaled = ",".join(str(v / t) for v in values)
    return simulate_result(
        ARGMAX, trials, device=device, seed=seed, streams=streams, cluster=cluster, noise=name, mu=scaled
    )


def latex(noise: str | None = None, mu: Sequence | None = None, tau: Any = 1) -> str:
    r"""LaTeX of the law: the general integral, or the law of a family at given scores.

    >>> print(latex())  # doctest: +ELLIPSIS
    p_{i} = \int\limits_{-\infty}^{\infty} ...
    >>> latex("gumbel", [0, 0])
    '\\left[\\begin{matrix}p^{\\mathrm{Gumbel}}_{1}\\\\p^{\\mathrm{Gumbel}}_{2}\\end{matrix}\\right] = \\left[\\begin{matrix}\\frac{1}{2}\\\\\\frac{1}{2}\\end{matrix}\\right]'
    """
    if noise is None:
        return sp.latex(d.general_law())
    name = parse_noise(noise)
    values = MU.validate(mu)
    return sp.latex(d.probability_symbol(name, len(values), _check_tau(tau))) + " = " + sp.latex(law(name, values, tau))


__all__ = ["NOISES", "evaluate", "kpoint_rule_report", "latex", "law", "simulate"]
