r"""Classifier guidance and classifier-free guidance (post 9257), checked on exact toys.

Convention: Su's (:math:`x_t = \alpha_t x_{t-1} + \beta_t\varepsilon`,
:math:`\alpha_t^2 + \beta_t^2 = 1`; his :math:`\alpha, \beta, \bar\alpha` are the square roots
of Ho et al.'s).  The guided DDPM sampler runs on Gaussian-mixture toys whose scores and noisy
classifiers are exact, so its only errors are the ones under study.

>>> import closedform.guidance as guidance
>>> guidance.guided_mean("mu", "sigma", "g", "gamma")
E[x_{t-1}|x_t, y] = g*gamma*sigma**2 + mu
>>> round(float(guidance.tilt_error_constant(2, "-3/10", "2/5")), 5)
-0.47956
>>> guidance.cfg("eps_c", "eps_u", w="w").expr
eps_c*(w + 1) - eps_u*w
>>> x = guidance.sample("two_class_1d", y=1, gamma=1, T=50, particles=2000, seed=1)
>>> x.shape
(2000, 1)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from closedform import lazy
from closedform.checks import CheckRow
from closedform.derive import guidance as d
from closedform.estimate import Estimate, simulate_result
from closedform.numeric import mixtures as mx
from closedform.numeric import stats
from closedform.numeric.rng_tables import NORMAL_DRAWS
from closedform.proofs import guidance as pr
from closedform.spec import Formula, Param, ParameterError, Result, Simulation

num = lazy.module("closedform.numeric.guidance")  # Numba kernels: imported on first simulation or oracle

REAL = sp.Interval(-sp.oo, sp.oo)
MU = Param("mu", r"\mu", REAL, (-3.0, 3.0), "mean of the unguided reverse step")
SIGMA = Param("sigma", r"\sigma", sp.Interval.open(0, sp.oo), (0.01, 2.0), "standard deviation of the reverse step")
G = Param("g", "g", REAL, (-3.0, 3.0), "gradient of log p(y|x) at x_t")
C = Param("c", "c", REAL, (-3.0, 3.0), "curvature h'' of the log-likelihood (needs sigma^2 c < 1)")
GAMMA = Param("gamma", r"\gamma", sp.Interval(0, sp.oo), (0.0, 5.0), "gradient scale")
A = Param("a", "a", sp.Interval.open(0, sp.oo), (0.1, 4.0), "slope of the logistic classifier")
B = Param("b", "b", REAL, (-2.0, 2.0), "offset of the logistic classifier")
X = Param("x", "x", REAL, (-3.0, 3.0), "point x_t")
ALPHA_T = Param("alpha_t", r"\alpha_t", sp.Interval.open(0, 1), (0.05, 0.9999), "Su's alpha_t = sqrt(Ho's alpha_t)")
EPS_C = Param("eps_c", r"\varepsilon_c", REAL, (-3.0, 3.0), "conditional noise prediction")
EPS_U = Param("eps_u", r"\varepsilon_u", REAL, (-3.0, 3.0), "unconditional noise prediction")
W = Param("w", "w", sp.Interval(-1, sp.oo), (-1.0, 10.0), "Ho & Salimans' guidance weight (gamma = 1 + w >= 0)")
STEPS = Param("T", "T", sp.Range(1, 10**6), (50, 2000), "number of DDPM steps")
CLASS = Param("y", "y", sp.Range(0, 2), (0, 1), "class label")

# ----------------------------------------------------------------------------
# Toys: one exact table (derive), its float64 mixtures and mpmath oracle (numeric)
# ----------------------------------------------------------------------------

#: weights, means, stds, labels (exact rationals); CDF points of the registered checks.
TOY_SPECS: dict[str, dict[str, Any]] = d.TOYS


def toy(name: str) -> mx.Mixture:
    """The numeric :class:`~closedform.numeric.mixtures.Mixture` of a named toy."""
    if isinstance(name, mx.Mixture):
        return name
    if name not in mx.TOYS:
        raise ParameterError(f"toy must be one of {', '.join(mx.TOYS)} or a Mixture, got {name!r}")
    return mx.TOYS[name]


toy_points = mx.toy_points
conditional_cdf_closed_form = d.toy_conditional_cdf


def _cdf_lhs(name: str):
    dim = len(TOY_SPECS[name]["points"][0])
    coords = [sp.Symbol("x_0")] if dim == 1 else [sp.Symbol(f"x_{{0,{i + 1}}}") for i in range(dim)]

    def lhs(y, T):
        rows = []
        for pt in TOY_SPECS[name]["points"]:
            event = sp.And(*[sp.Le(c, v) for c, v in zip(coords, pt)])
            rows.append(sp.Function("P_T")(event, y, T))
        return sp.Matrix(rows)

    return lhs


def _pack_toy(name: str):
    def pack(y, T):
        return num.pack_sampler(
            mx.TOYS[name],
            int(y),
            num.cosine_schedule(int(T)),
            1.0,
            mode="mean",
            variance="posterior",
            start="exact",
            points=mx.toy_points(name),
        )

    return pack


# ----------------------------------------------------------------------------
# Extra verify rows: full DKWM bands, gamma != 1, the score mismatch
# ----------------------------------------------------------------------------

#: False-failure rate of each DKWM row of ``verify`` (well inside the suite's budget of 1e-6).
DKWM_ALPHA = 1e-7
#: Steps and particles of the verify rows.  The sampler is exact only as T -> infinity; its
#: sup-CDF error is about 1.2/T (measured by tests/test_guidance_sampler.py), 2e-3 at T = 600,
#: a tenth of the DKWM half-width of 2e4 particles (0.021 at alpha 1e-7), so the stated alpha
#: is barely inflated by the bias.  Fewer particles and more steps is the cheaper way to keep
#: bias/band small: the cost is N T and the band shrinks only like 1/sqrt(N).
VERIFY_T, VERIFY_PARTICLES = 600, 20_000
#: Steps of the gamma != 1 row: its distance (about 0.13-0.17) hardly depends on T.
GAMMA_T = 200


def _dkwm_row(result: Result, name: str, y: int, thorough: bool) -> CheckRow:
    t0 = time.perf_counter()
    n = VERIFY_PARTICLES * (10 if thorough else 1)
    mix = toy(name)
    xs = sample(name, y=y, gamma=1.0, T=VERIFY_T, particles=n, seed=20220830 + y)
    target = mix.conditional(y)
    worst = None
    for dcoord in range(mix.dim):  # marginals; Bonferroni over the coordinates
        marg = mx.Mixture(target.weights, target.means[:, [dcoord]], target.stds, target.labels)
        res = stats.dkwm_test(xs[:, dcoord], lambda v, m=marg: m.cdf(v[:, None]), DKWM_ALPHA / mix.dim)
        if worst is None or res.sup_distance - res.epsilon > worst.sup_distance - worst.epsilon:
            worst = res
    ok = worst.sup_distance <= worst.epsilon
    detail = (
        f"gamma=1, T={VERIFY_T}: sup|F_N - F| = {worst.sup_distance:.4f} <= DKWM eps {worst.epsilon:.4f} "
        f"(alpha {DKWM_ALPHA:g}, N = {n}, every marginal of p(x|y={y}))"
    )
    return CheckRow(
        result.name,
        result.topic,
        "dkwm_band",
        f"y={y}",
        "pass" if ok else "FAIL",
        detail,
        time.perf_counter() - t0,
    )


def dkwm_band_1d(result: Result, thorough: bool = False) -> CheckRow:
    """The whole sampled law at gamma = 1 lies in the DKWM band of p(x|y) (1-D bimodal toy)."""
    return _dkwm_row(result, "bimodal_1d", 0, thorough)


def dkwm_band_2d(result: Result, thorough: bool = False) -> CheckRow:
    """Both marginals of the sampled 2-D law at gamma = 1 lie in the DKWM bands of p(x|y)."""
    return _dkwm_row(result, "square_2d", 1, thorough)


def gamma_not_tilted(result: Result, thorough: bool = False) -> CheckRow:
    """gamma = 3 and 1/2: the sampler's law lies outside the DKWM band of p(x) p(y|x)^gamma / Z."""
    t0 = time.perf_counter()
    n = VERIFY_PARTICLES * (10 if thorough else 1)
    notes, ok = [], True
    for g in (3.0, 0.5):
        r = gamma_mismatch(g, T=GAMMA_T, particles=n, seed=7 + int(10 * g), alpha=DKWM_ALPHA / 2)
        ok &= r["sup_distance"] > r["epsilon"]
        notes.append(
            f"gamma={g:g}: sup|F_N - F_tilt| = {r['sup_distance']:.3f} > eps {r['epsilon']:.4f}, "
            f"mean {r['mean']:.3f} vs tilted {r['tilted_mean']:.3f}"
        )
    return CheckRow(
        result.name,
        result.topic,
        "gamma_not_tilted",
        "two_class_1d, y=1",
        "pass" if ok else "FAIL",
        "; ".join(notes) + f" (alpha {DKWM_ALPHA:g}, N = {n})",
        time.perf_counter() - t0,
    )


# ----------------------------------------------------------------------------
# Registry lines
# ----------------------------------------------------------------------------

_E = sp.Symbol("E[x_{t-1}|x_t, y]")
_V = sp.Symbol("Var[x_{t-1}|x_t, y]")


def _guided_moments(mu, sigma, g):
    return sp.Matrix([d.guided_mean(mu, sigma, g), sigma**2])


def _quadratic_moments(mu, sigma, g, c):
    if (sigma**2 * c).is_number and not bool(sigma**2 * c < 1):
        raise ParameterError(
            f"c must satisfy sigma^2 c < 1 (the tilt must stay normalisable), got c={c}, sigma={sigma}"
        )
    return sp.Matrix(d.quadratic_tilt_moments(mu, sigma, g, c))


_LOGISTIC_X = sp.Symbol("x", real=True)


def _tilt_constant(a, b, mu):
    return d.tilt_error_constant(d.log_sigmoid(a * _LOGISTIC_X + b), _LOGISTIC_X, mu)


def _tilt_lhs(a, b, mu):
    s = sp.Symbol("sigma", positive=True)
    delta = sp.Function(r"\Delta")(s)
    return sp.Limit(delta / s**4, s, 0)


GUIDED_MEAN = Result(
    name="guided_mean",
    topic="guidance",
    title="a Gaussian reverse step tilted by a linear log-likelihood is N(mu + sigma^2 g, sigma^2)",
    params=(MU, SIGMA, G),
    closed_form=_guided_moments,
    lhs=lambda mu, sigma, g: sp.Matrix([_E, _V]),
    oracle=lambda mu, sigma, g: num.tilted_gaussian_moments_mp(mu, sigma, g, 0),
    proofs=(pr.bayes_taylor_guided_mean, pr.similarity_guidance),
    cases=(
        {"mu": "2/5", "sigma": "1/2", "g": "3/4"},
        {"mu": -1, "sigma": "1/10", "g": 5},
        {"mu": 0, "sigma": 2, "g": "-1/3"},
    ),
    rtol=1e-25,
    rtol_reason="tanh-sinh quadrature of a Gaussian integrand at 40 digits",
    skips={"simulation": "a Gaussian integral identity; the sampler built on it is simulated by guided_ddpm_1d/2d"},
)

QUADRATIC_TILT = Result(
    name="guided_mean_quadratic",
    topic="guidance",
    title="with curvature c the tilted step is N(mu + sigma^2 g/(1 - sigma^2 c), sigma^2/(1 - sigma^2 c))",
    params=(MU, SIGMA, G, C),
    closed_form=_quadratic_moments,
    lhs=lambda mu, sigma, g, c: sp.Matrix([_E, _V]),
    oracle=lambda mu, sigma, g, c: num.tilted_gaussian_moments_mp(mu, sigma, g, c),
    proofs=(pr.quadratic_tilt,),
    cases=({"mu": "2/5", "sigma": "1/2", "g": "3/4", "c": -2}, {"mu": 1, "sigma": "1/3", "g": -1, "c": 4}),
    rtol=1e-25,
    rtol_reason="tanh-sinh quadrature of a Gaussian integrand at 40 digits",
    skips={"simulation": "a Gaussian integral identity, exact; nothing random to simulate"},
)

TILT_ERROR = Result(
    name="guided_mean_error",
    topic="guidance",
    title="for log p(y|x) = log sigmoid(a x + b) the guided mean errs by sigma^4 (h'h'' + h'''/2) + O(sigma^6)",
    params=(A, B, MU),
    closed_form=_tilt_constant,
    lhs=_tilt_lhs,
    oracle=lambda a, b, mu: num.tilt_error_limit_mp(mu, a, b),
    proofs=(pr.tilt_error_order_sigma4,),
    cases=({"a": 2, "b": "-3/10", "mu": "2/5"}, {"a": 1, "b": 1, "mu": -2}),
    rtol=1e-13,
    rtol_reason="Richardson extrapolation of (exact - guided)/sigma^4 over sigma = 0.02/2^j, j < 4, in sigma^2: "
    "the neglected term is of order (4e-4)^4 times the series' growth; quadrature at 32+15 digits",
    skips={"simulation": "a limit of deterministic integrals; the sampler's errors are simulated by guided_ddpm_*"},
)

LOG_Z_GRADIENT = Result(
    name="sharpened_classifier_normaliser",
    topic="guidance",
    title="for p^gamma/Z with a logistic p = sigmoid(a x), grad log Z = gamma a (sigmoid(gamma a x) - sigmoid(a x)) != 0",
    params=(A, GAMMA, X),
    closed_form=lambda a, gamma, x: d.log_normaliser_gradient_logistic(a, x, gamma),
    lhs=lambda a, gamma, x: sp.Derivative(sp.Function("log Z")(sp.Symbol("x")), sp.Symbol("x")),
    oracle=lambda a, gamma, x: num.log_normaliser_gradient_mp(a, gamma, x),
    proofs=(pr.sharpened_classifier_normaliser,),
    # gamma = 1 gives 0 exactly (Z = 1); a relative check needs a nonzero value, so the proof covers it.
    cases=({"a": "13/10", "gamma": 3, "x": "7/10"}, {"a": 2, "gamma": "1/2", "x": -1}, {"a": 1, "gamma": 10, "x": 2}),
    rtol=1e-25,
    rtol_reason="mpmath.diff at 40 digits (step chosen by mpmath from the working precision)",
    skips={"simulation": "a deterministic derivative; nothing random to simulate"},
)

EPS_SPACE = Result(
    name="epsilon_space_guidance",
    topic="guidance",
    title="eps-space guidance moves DDPM's mean by beta_t^2 gamma g / alpha_t (mean-space: sigma_t^2 gamma g)",
    params=(ALPHA_T, GAMMA, G),
    closed_form=lambda alpha_t, gamma, g: d.epsilon_guidance_mean_shift(alpha_t, gamma, g),
    lhs=lambda alpha_t, gamma, g: sp.Symbol(r"\mu(x_t; \varepsilon - \bar\beta_t\gamma g) - \mu(x_t; \varepsilon)"),
    oracle=lambda alpha_t, gamma, g: num.epsilon_shift_mp(alpha_t, gamma, g),
    proofs=(pr.continuous_guidance,),
    cases=({"alpha_t": "99/100", "gamma": 3, "g": "1/2"}, {"alpha_t": "3/5", "gamma": 1, "g": -2}),
    rtol=1e-30,
    rtol_reason="the oracle evaluates the DDPM mean from its definition at 40 digits: a few roundings",
    skips={"simulation": "an algebraic identity; both rules are simulated by the guided sampler (tests)"},
)

CFG = Result(
    name="classifier_free_guidance",
    topic="guidance",
    title="(1 + w) eps_c - w eps_u equals the libraries' eps_u + s (eps_c - eps_u) with s = 1 + w = gamma",
    params=(EPS_C, EPS_U, W),
    closed_form=lambda eps_c, eps_u, w: d.cfg_epsilon(eps_c, eps_u, w),
    lhs=lambda eps_c, eps_u, w: sp.Symbol(r"\tilde\varepsilon_\theta(x_t, y, t)"),
    oracle=lambda eps_c, eps_u, w: num.cfg_library_mp(eps_c, eps_u, w),
    proofs=(pr.classifier_free_identities,),
    cases=(
        {"eps_c": "3/10", "eps_u": -1, "w": "13/2"},
        {"eps_c": 2, "eps_u": 2, "w": 3},
        {"eps_c": 1, "eps_u": 0, "w": -1},
    ),
    rtol=1e-30,
    rtol_reason="two multiplications and additions at 40 digits",
    skips={"simulation": "an algebraic identity; CFG with exact models is the eps-space sampler (tests)"},
)

GUIDED_DDPM_1D = Result(
    name="guided_ddpm_1d",
    topic="guidance",
    title="the guided DDPM sampler (gamma = 1, exact scores) samples p(x|y) of a 1-D Gaussian mixture",
    params=(CLASS, STEPS),
    closed_form=lambda y, T: d.toy_conditional_cdf("bimodal_1d", y),
    lhs=_cdf_lhs("bimodal_1d"),
    oracle=lambda y, T: mx.toy_cdf_oracle("bimodal_1d", y),
    simulation=Simulation(
        lambda: num.cdf_counts(1),
        _pack_toy("bimodal_1d"),
        kind="proportion",
        draws_per_trial=lambda y, T: (int(T) + 1) * NORMAL_DRAWS + 1,  # a component, then normals
        description="one particle from p_T(x|y) through T guided steps; counts below each CDF point",
    ),
    proofs=(pr.guided_score_at_gamma_one, pr.bayes_taylor_guided_mean),
    cases=({"y": 0, "T": VERIFY_T},),
    rtol=1e-25,
    rtol_reason="mpmath quadrature of each component density at 40 digits vs erfc",
    sim_trials=VERIFY_PARTICLES,
    extra_checks=(dkwm_band_1d, gamma_not_tilted),
)

GUIDED_DDPM_2D = Result(
    name="guided_ddpm_2d",
    topic="guidance",
    title="the guided DDPM sampler (gamma = 1, exact scores) samples p(x|y) of a 2-D Gaussian mixture",
    params=(CLASS, STEPS),
    closed_form=lambda y, T: d.toy_conditional_cdf("square_2d", y),
    lhs=_cdf_lhs("square_2d"),
    oracle=lambda y, T: mx.toy_cdf_oracle("square_2d", y),
    simulation=Simulation(
        lambda: num.cdf_counts(2),
        _pack_toy("square_2d"),
        kind="proportion",
        draws_per_trial=lambda y, T: 2 * (int(T) + 1) * NORMAL_DRAWS + 1,
        description="one 2-D particle from p_T(x|y) through T guided steps; joint CDF counts",
    ),
    proofs=(pr.guided_score_at_gamma_one,),
    cases=({"y": 1, "T": VERIFY_T},),
    rtol=1e-25,
    rtol_reason="mpmath quadrature of each component density at 40 digits vs erfc",
    sim_trials=VERIFY_PARTICLES,
    extra_checks=(dkwm_band_2d,),
)


# ----------------------------------------------------------------------------
# User API
# ----------------------------------------------------------------------------


def _arg(p: Param, v: Any) -> sp.Expr:
    if isinstance(v, str) and v.isidentifier():
        return p.symbol()
    if isinstance(v, sp.Symbol):
        return v
    return p.validate(v)


def guided_mean(mu: Any, sigma: Any, g: Any, gamma: Any = 1) -> Formula:
    r"""The guided mean :math:`\mu + \sigma_t^2\gamma\nabla\log p(y|x_t)` (symbols or numbers).

    .. math::

        \mathbb E[x_{t-1}|x_t, y] = \mu(x_t) + \sigma_t^2\,\gamma\,g

    >>> guided_mean("1/2", "1/10", 3, 2).expr
    14/25
    >>> guided_mean(0, 1, 1, -1)
    Traceback (most recent call last):
    ...
    closedform.ParameterError: gamma must lie in [0, oo), got -1
    """
    args = [_arg(p, v) for p, v in ((MU, mu), (SIGMA, sigma), (G, g), (GAMMA, gamma))]
    return Formula(_E, d.guided_mean(*args))


def tilt_error_constant(a: Any, b: Any, mu: Any) -> Formula:
    r"""The σ⁴ constant :math:`h'h'' + h'''/2` of the guided mean for :math:`h = \log\sigma(ax+b)` at μ.

    .. math::

        \lim_{\sigma\to 0}\frac{\mathbb E_{\rm tilt}[x] - \mu - \sigma^2 h'(\mu)}{\sigma^4}
        = h'(\mu)h''(\mu) + \tfrac12 h'''(\mu)
    """
    vals = TILT_ERROR.validate(a=a, b=b, mu=mu)
    return Formula(_tilt_lhs(**vals), _tilt_constant(**vals))


def tilt_error_table(
    sigmas: Sequence[Any] = ("1/2", "1/5", "1/10", "1/20", "1/40"),
    a: Any = 2,
    b: Any = "-3/10",
    mu: Any = "2/5",
    dps: int = 30,
) -> list[tuple[float, float, float]]:
    r"""Rows (σ, exact tilted mean − guided mean, that / σ⁴), by mpmath quadrature at ``dps`` digits.

    The defaults are the worked example of the σ⁴ error term of post 9257's Taylor step
    (prior N(0.4, σ²), classifier sigmoid(2x − 0.3)).

    >>> rows = tilt_error_table(["1/10"])
    >>> round(rows[0][1], 9)
    -4.7431e-05
    """
    vals = TILT_ERROR.validate(a=a, b=b, mu=mu)
    return num.tilt_error_rows(vals["mu"], vals["a"], vals["b"], [SIGMA.validate(s) for s in sigmas], dps)


def log_normaliser_gradient(a: Any, gamma: Any, x: Any) -> Formula:
    r""":math:`\nabla_x\log Z(x)` for the sharpened logistic classifier (the term the paper drops).

    >>> round(float(log_normaliser_gradient("13/10", 3, "7/10")), 5)
    0.88052
    """
    vals = LOG_Z_GRADIENT.validate(a=a, gamma=gamma, x=x)
    return Formula(LOG_Z_GRADIENT.lhs(**vals), LOG_Z_GRADIENT.closed_form(**vals))


def sharpened_gradients(a: Any, gamma: Any, x: Any) -> dict[str, float]:
    r"""The three gradients of the Z(x_t) criticism: :math:`\nabla\log\tilde p`, :math:`\gamma\nabla\log p`, :math:`\nabla\log Z`.

    >>> {k: round(v, 5) for k, v in sharpened_gradients("13/10", 3, "7/10").items()}
    {'grad_log_sharpened': 0.23878, 'gamma_grad_log_p': 1.1193, 'grad_log_Z': 0.88052}
    """
    vals = LOG_Z_GRADIENT.validate(a=a, gamma=gamma, x=x)
    exprs = d.sharpened_gradients_logistic(vals["a"], vals["x"], vals["gamma"])
    return {k: float(sp.N(v, 30)) for k, v in exprs.items()}


def cfg(eps_c: Any, eps_u: Any, *, w: Any = None, scale: Any = None) -> Formula:
    r"""Classifier-free guidance, given Ho & Salimans' ``w`` or the libraries' ``scale`` s = 1 + w.

    .. math::

        \tilde\varepsilon = (1+w)\varepsilon_c - w\varepsilon_u = \varepsilon_u + s(\varepsilon_c - \varepsilon_u)

    >>> cfg(1, 0, scale="15/2").expr
    15/2
    """
    if (w is None) == (scale is None):
        raise ParameterError("give exactly one of w (Ho & Salimans) or scale (guidance_scale = 1 + w)")
    ec, eu = _arg(EPS_C, eps_c), _arg(EPS_U, eps_u)
    if scale is not None:
        s = _arg(GAMMA, scale)  # a scale is a gamma >= 0
        ww = d.w_from_guidance_scale(s)
    else:
        ww = _arg(W, w)
    return Formula(CFG.lhs(ec, eu, ww), d.cfg_epsilon(ec, eu, ww))


def step_coefficients(t: Any, T: Any, schedule: Any = "cosine", variance: str = "posterior") -> dict[str, float]:
    r"""Su's :math:`\bar\alpha_t, \alpha_t, \beta_t^2, \bar\beta_t^2, \sigma_t` of reverse step t (1 ≤ t ≤ T).

    >>> c = step_coefficients(1, 10)
    >>> c["sigma_t"]
    0.0
    >>> step_coefficients(11, 10)
    Traceback (most recent call last):
    ...
    closedform.ParameterError: t must be an integer in 1..10 (T = 10), got 11
    """
    sch = num.make_schedule(schedule, T)
    t = sch.check_step(t)
    return {
        "alpha_bar_t": float(sch.alpha_bar[t]),
        "alpha_t": float(sch.alpha[t]),
        "beta_t2": float(sch.beta2[t]),
        "beta_bar_t2": float(sch.beta_bar2[t]),
        "sigma_t": float(sch.sigma(variance)[t]),
    }


def sample(
    mixture: Any = "bimodal_1d",
    *,
    y: Any = 0,
    gamma: Any = 1.0,
    T: Any = 500,
    schedule: Any = "cosine",
    mode: str = "mean",
    variance: str = "posterior",
    start: str = "exact",
    particles: Any = 100_000,
    device: str = "cpu",
    seed: int = 0,
    streams: int | None = None,
) -> np.ndarray:
    r"""Run the guided DDPM sampler on a toy (name or Mixture); return x_0 as (particles, dim).

    ``mode="mean"`` is the post's rule :math:`\mu + \sigma_t^2\gamma\nabla\log p(y|x_t)`;
    ``mode="eps"`` the ε-space rule (= classifier-free guidance with w = γ − 1 and exact models).
    ``schedule`` is "cosine", "linear" or an array :math:`\bar\alpha_0..\bar\alpha_T` (Su's).
    """
    mix = toy(mixture)
    sch = num.make_schedule(schedule, T)
    params = num.pack_sampler(mix, y, sch, gamma, mode=mode, variance=variance, start=start)
    if device not in ("cpu", "cuda"):
        raise ParameterError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ParameterError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    if isinstance(particles, bool) or not float(particles).is_integer() or int(particles) < 1:
        raise ParameterError(f"particles must be a positive integer, got {particles!r}")
    x = num.sample_particles(params, int(particles), int(seed), streams, device)
    if not np.all(np.isfinite(x)):
        # Not a bug of the sampler: with classes whose components differ in width, grad log p(y|x)
        # grows linearly in x, so each guided step multiplies x by about 1 + sigma_t^2 gamma c and a
        # large gamma overflows float64 (measured on bimodal_1d, y = 1: from gamma ~ 2.5e3 at T = 1000).
        raise ParameterError(
            f"gamma = {float(gamma):g} is too large for this toy and T = {sch.T}: the guided particles left the "
            "float64 range (the guided drift sigma_t^2 gamma grad log p(y|x) grows with |x|); use a smaller gamma"
        )
    return x


def simulate(
    mixture: str = "bimodal_1d",
    y: Any = 0,
    T: Any = 500,
    trials: Any = 10**5,
    *,
    device: str = "cpu",
    seed: int = 0,
    streams: int | None = None,
) -> Estimate:
    """Monte Carlo CDF of the guided sampler (γ = 1) at the registered points of a 1-D or 2-D toy."""
    result = {"bimodal_1d": GUIDED_DDPM_1D, "square_2d": GUIDED_DDPM_2D}.get(mixture)
    if result is None:
        raise ParameterError(f"mixture must be 'bimodal_1d' or 'square_2d', got {mixture!r}")
    return simulate_result(result, trials, device=device, seed=seed, streams=streams, y=y, T=T)


def discretisation_error(
    steps: Sequence[int] = (25, 50, 100, 200),
    particles: int = 200_000,
    *,
    mixture: Any = "bimodal_1d",
    y: int = 0,
    mode: str = "mean",
    variance: str = "posterior",
    seed: int = 1,
    alpha: float = 1e-6,
) -> list[dict[str, float]]:
    r"""Error of the γ = 1 sampler against the number of steps T (1-D toys).

    Per T: the Kolmogorov distance sup|F_N − F| to :math:`p(x|y)` with its DKWM half-width at
    ``alpha``, and the largest |F_N − F| at the toy's points with the binomial standard error.
    """
    mix = toy(mixture)
    if mix.dim != 1:
        raise ParameterError("discretisation_error measures 1-D toys; got a 2-D mixture")
    target = mix.conditional(y)
    pts = mx.toy_points(mixture) if isinstance(mixture, str) else np.linspace(-3, 3, 7)[:, None]
    rows = []
    for T in steps:
        xs = sample(mix, y=y, gamma=1.0, T=T, mode=mode, variance=variance, particles=particles, seed=seed)[:, 0]
        ks = stats.dkwm_test(xs, lambda v: target.cdf(v[:, None]), alpha)
        f = target.cdf(pts)
        emp = (xs[:, None] <= pts[:, 0][None, :]).mean(0)
        j = int(np.argmax(np.abs(emp - f)))
        rows.append(
            {
                "T": int(T),
                "ks": ks.sup_distance,
                "dkwm_eps": ks.epsilon,
                "point_error": float(emp[j] - f[j]),
                "point_se": float(math.sqrt(f[j] * (1 - f[j]) / particles)),
                "point": float(pts[j, 0]),
            }
        )
    return rows


def gamma_mismatch(
    gamma: Any, *, T: Any = 500, particles: int = 50_000, seed: int = 0, alpha: float = 1e-6, mode: str = "mean"
) -> dict[str, float]:
    r"""How far the γ-guided sampler is from the tilted law :math:`p_0(x)p_0(y|x)^\gamma/Z`.

    On the two-class 1-D toy (±1, s = 0.5, y = +1 class; post 9257's γ ≠ 1 remark): the Kolmogorov distance with
    its DKWM half-width, and the sampled mean against the tilted mean.
    """
    g = num.check_gamma(gamma)
    mix = toy("two_class_1d")
    xs = sample(mix, y=1, gamma=g, T=T, mode=mode, particles=particles, seed=seed)[:, 0]
    res = stats.dkwm_test(xs, lambda v: mx.tilted_cdf_1d(mix, 1, g, v), alpha)
    return {
        "gamma": g,
        "sup_distance": res.sup_distance,
        "epsilon": res.epsilon,
        "mean": float(xs.mean()),
        "mean_se": float(xs.std() / math.sqrt(xs.size)),
        "tilted_mean": mx.tilted_mean_1d(mix, 1, g),
    }


def score_mismatch(gamma: Any, alpha_bar: Any) -> float:
    r"""max over |x| < 2 of |guided score − score of the diffused tilted law| on the two-class toy.

    >>> round(score_mismatch(3, 0.9), 2), round(score_mismatch(1, 0.9), 6)
    (7.56, 0.0)
    """
    g = num.check_gamma(gamma)
    try:
        ab = float(alpha_bar)
    except (TypeError, ValueError):
        ab = math.nan  # complex, a string, None: refused below with the domain
    if not 0 < ab < 1:
        raise ParameterError(f"alpha_bar must lie in (0, 1) (Su's alpha_bar_t), got {alpha_bar!r}")
    return mx.guided_score_mismatch(mx.TWO_CLASS_1D, 1, g, ab)


__all__ = [
    "TOY_SPECS",
    "cfg",
    "discretisation_error",
    "gamma_mismatch",
    "guided_mean",
    "log_normaliser_gradient",
    "sample",
    "score_mismatch",
    "sharpened_gradients",
    "simulate",
    "step_coefficients",
    "tilt_error_constant",
    "tilt_error_table",
    "toy",
]
