r"""The unified diffusion model (posts 9262 and 9271): hot, cold and discrete diffusion.

Convention (every function here): Su's, :math:`x_t = \bar\alpha_t x_0 + \bar\beta_t\varepsilon`
with :math:`\bar\beta_t = \sqrt{1-\bar\alpha_t^2}`; Ho et al.'s quantities are the squares
(:data:`closedform.derive.schedules.HO_FROM_SU`).  Discrete "time" is an integer count.
The closed forms live in :mod:`closedform.derive.udm` and :mod:`closedform.derive.udm_discrete`,
the schedules in :mod:`closedform.derive.schedules`, the kernels in :mod:`closedform.numeric.udm`
and the oracles in :mod:`closedform.numeric.udm_oracles`; this module holds the registry lines.

>>> import closedform.udm as udm
>>> udm.ddpm_posterior(alpha_t="9/10", alpha_bar_prev="3/5")
Matrix([[mu_{x_0}, mu_{x_t}, sigma_t^2]]) = Matrix([[285/1771, 1440/1771, 304/1771]])
>>> udm.hot_posterior(t=2, T=2, schedule="cosine_s0", sigma="ddim")  # DDIM's last-but-one step
x_{t-1} = sqrt(2)*x_0/2 + sqrt(2)*x_t/2
>>> round(udm.plugin_std(T=5, schedule="cosine_s0", sigma_rule="ddim"), 4)  # the Monte Carlo table: 0.186
0.1857
>>> udm.marginal_constraint("deletion", "0101", t=2, V=2)
True
>>> udm.alpha_bar_schedule([0.9, 0.95])
Traceback (most recent call last):
...
closedform.ParameterError: schedule must be strictly decreasing (alphabar_0 = 1 > alphabar_1 > ... > alphabar_T >= 0), got alphabar_2 = 19/20 >= alphabar_1 = 9/10
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sympy as sp

from closedform import lazy
from closedform.checks import CheckRow
from closedform.derive import udm as d
from closedform.derive import udm_discrete as dd
from closedform.derive.expr_parser import as_expr
from closedform.derive.schedules import SCHEDULES, alpha_bar_schedule
from closedform.estimate import Estimate, simulate_result
from closedform.numeric import udm_limits as limits
from closedform.numeric import udm_oracles as nuo
from closedform.numeric.rng_tables import NORMAL_DRAWS
from closedform.params import choice, tokens
from closedform.proofs import udm as pr
from closedform.spec import Formula, Param, ParameterError, Result, Simulation

nu = lazy.module("closedform.numeric.udm")  # Numba kernels: imported on first simulation

TOPIC = "udm"

# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


_U = sp.Interval.open(0, 1)
X0 = Param("x0", "x_0", sp.Interval(-10, 10), (-3.0, 3.0), "the clean data point")
ALPHA_T = Param("alpha_t", r"\alpha_t", _U, (0.5, 0.999), "Su's one-step signal scale (Ho's sqrt(alpha_t))")
ALPHA_BAR_PREV = Param(
    "alpha_bar_prev",
    r"\bar\alpha_{t-1}",
    sp.Interval.Lopen(0, 1),
    (0.05, 1.0),
    "Su's cumulative scale at t-1 (1 at t = 1)",
)
SIGMA = choice(
    "sigma",
    ("ddpm", "ddim"),
    or_between=(0, 1),
    latex=r"\sigma_t",
    description="posterior noise: ddpm, ddim or a number in [0, betabar_{t-1}]",
)
SIGMA_TILDE = Param("sigma_tilde", r"\tilde\sigma_t", sp.Interval(0, 1), (0.0, 1.0), "post 9262's mixing weight")
MU0 = Param("mu0", r"\mu_0", sp.Interval(-10, 10), (-3.0, 3.0), "mean of the Gaussian data")
S0 = Param("s0", "s_0", sp.Interval.Lopen(0, 10), (0.05, 3.0), "standard deviation of the Gaussian data")
T_STEPS = Param("T", "T", sp.Range(1, 10001), (1, 50), "number of diffusion steps")
SCHEDULE = choice(
    "schedule",
    tuple(SCHEDULES),
    latex=r"\bar\alpha_{\cdot}",
    description="noise schedule (Su's alphabar): linear, cosine (s = 0.008) or cosine_s0",
)
SIGMA_RULE = choice(
    "sigma_rule",
    ("ddpm", "ddim"),
    or_between=(0, 1),
    latex=r"\sigma_t",
    description="ddpm, ddim or lambda in [0, 1] with sigma_t = lambda betabar_{t-1}",
)
N_PIX = Param("n", "n", sp.Range(2, limits.MAX_PIXELS + 1), (4, 64), "signal length")
W_PREV = Param("w_prev", "w_{t-1}", sp.Range(1, limits.MAX_PIXELS + 1), (1, 5), "box width of F_{t-1}")
W_T = Param("w_t", "w_t", sp.Range(2, limits.MAX_PIXELS + 1), (2, 9), "box width of F_t (> w_prev)")
S_ERR = Param("s", "s", sp.Interval(0, 10), (0.0, 1.0), "standard deviation of the x0hat error")
LENGTH = Param("l", "l", sp.Range(1, limits.MAX_LENGTH + 1), (1, 16), "sequence length")
VOCAB = Param("V", "V", sp.Range(2, limits.MAX_VOCAB + 1), (2, 15), "vocabulary size (D3PM's K)")
T_COUNT = Param("t", "t", sp.Range(1, limits.MAX_LENGTH + 1), (1, 16), "number of edited / masked / deleted positions")
TOKENS = tokens("x0", length=(1, limits.MAX_LENGTH), latex="x_0", description="the clean sequence, e.g. 0120")
ABAR_PREV_D = Param("alpha_bar_prev", r"\bar\alpha_{t-1}", _U, (0.05, 0.95), "D3PM's P(token untouched) at t-1")
ABAR_T_D = Param("alpha_bar_t", r"\bar\alpha_t", sp.Interval.Ropen(0, 1), (0.0, 0.9), "D3PM's P(token untouched) at t")
BETA_D = Param("beta_t", r"\beta_t", _U, (0.01, 0.99), "D3PM's replacement rate at step t")


def _pretty(fn):
    """Give symbolic arguments their LaTeX names (a Param's symbol is named after its keyword)."""
    names = {p.name: p for p in (ALPHA_T, ALPHA_BAR_PREV, SIGMA_TILDE, MU0, S0, X0, S_ERR, ABAR_T_D, BETA_D)}

    def wrapped(**kw):
        out = {}
        for k, v in kw.items():
            if isinstance(v, sp.Symbol) and v.name == k and k in names:
                v = sp.Symbol(names[k].latex, **v.assumptions0)
            out[k] = v
        return fn(**out)

    wrapped.__name__ = getattr(fn, "__name__", "closed_form")
    return wrapped


def _symbolic(*values) -> bool:
    return any(isinstance(v, sp.Basic) and not v.is_number for v in values if not isinstance(v, (str, tuple)))


def _beta_bar(ab):
    return sp.sqrt(1 - ab**2)


def _step_sigma(sigma, alpha_t, alpha_bar_prev):
    """sigma_t of the general posterior from the sigma parameter (validated against betabar_{t-1})."""
    if sigma == "ddpm":
        return d.ddpm_sigma(alpha_t, alpha_bar_prev)
    if sigma == "ddim":
        return sp.Integer(0)
    if sp.N(sigma**2 - (1 - alpha_bar_prev**2), 30) > 0:
        raise ParameterError(
            f"sigma must lie in [0, betabar_(t-1)] = [0, {sp.N(_beta_bar(alpha_bar_prev), 6)}] "
            f"(sigma_t^2 <= betabar_(t-1)^2), got {sigma}"
        )
    return sigma


# ---------------------------------------------------------------------------
# Registry lines: hot diffusion
# ---------------------------------------------------------------------------


def _row(values) -> sp.Matrix:
    return sp.Matrix([list(values)])


#: Names of the results with extra verify rows (each check is defined before its Result and names it).
HOT_PLUGIN_NAME, EDIT_V2_NAME = "hot_plugin_dispersion", "edit_v2_marginal"


def _verify_row(result: str, check: str, case: str, ok: bool, detail: str, t0: float) -> CheckRow:
    return CheckRow(result, TOPIC, check, case, "pass" if ok else "FAIL", detail, time.perf_counter() - t0)


_COEF_LHS = sp.Matrix([[sp.Symbol("mu_{x_0}"), sp.Symbol("mu_{x_t}"), sp.Symbol("sigma_t^2")]])

CONVENTIONS = Result(
    name="diffusion_conventions",
    topic=TOPIC,
    title="Su's notation (alpha = sqrt of Ho's): DDPM's posterior coefficients equal Ho et al.'s eq. (7) after conversion",
    params=(ALPHA_T, ALPHA_BAR_PREV),
    closed_form=_pretty(lambda alpha_t, alpha_bar_prev: _row(d.ddpm_posterior_coefficients(alpha_t, alpha_bar_prev))),
    lhs=lambda alpha_t, alpha_bar_prev: _COEF_LHS,
    oracle=nuo.ho_posterior_oracle,
    proofs=(pr.conversion_round_trip, pr.ho_formulas_in_su_notation),
    cases=(
        {"alpha_t": "9/10", "alpha_bar_prev": "3/5"},
        {"alpha_t": "9999/10000", "alpha_bar_prev": "3/10"},
        {"alpha_t": "1/2", "alpha_bar_prev": 1},
    ),
    rtol=1e-30,
    rtol_reason="both sides are evaluated at 40 digits from exact inputs; only mpmath rounding differs",
    skips={
        "simulation": "a change of notation has nothing random; hot_posterior_marginal simulates these coefficients"
    },
)


def _hot_values(x0, alpha_t, alpha_bar_prev, sigma):
    """(alphabar_t, alphabar_{t-1}, sigma_t), sigma validated against betabar_{t-1}."""
    return alpha_t * alpha_bar_prev, alpha_bar_prev, _step_sigma(sigma, alpha_t, alpha_bar_prev)


_BBP = sp.Symbol(r"\bar\beta_{t-1}", positive=True)


def _hot_closed(x0, alpha_t, alpha_bar_prev, sigma):
    if _symbolic(x0, alpha_t, alpha_bar_prev) or isinstance(sigma, sp.Symbol):
        return _row(d.hot_step_moments(x0, alpha_bar_prev, _BBP))
    _hot_values(x0, alpha_t, alpha_bar_prev, sigma)  # refuses sigma_t > betabar_{t-1}
    return _row(d.hot_step_moments(x0, alpha_bar_prev))


_E, _P, _dd = sp.Function("E"), sp.Function("P"), sp.Symbol("d")
_BBP_TAIL = sp.Gt(sp.Abs(_dd), sp.sqrt(3) * sp.Symbol(r"\bar\beta_{t-1}"))
_HOT_LHS = _row([_E(sp.Symbol("x_{t-1}")), _E(_dd**2), _E(_dd**4), _P(_BBP_TAIL)])
#: The step of the hot cases: x0 = 1.3, alpha_t = 0.97, alphabar_{t-1} = 0.6 (mean/std 0.78/0.80 for every sigma).
_STEP_CASE = {"x0": "13/10", "alpha_t": "97/100", "alpha_bar_prev": "3/5"}

HOT_POSTERIOR = Result(
    name="hot_posterior_marginal",
    topic=TOPIC,
    title="hot diffusion: x_{t-1} = abar_{t-1} x0 + sqrt(bbar_{t-1}^2 - sigma^2)(x_t - abar_t x0)/bbar_t + sigma eps "
    "has law N(abar_{t-1} x0, bbar_{t-1}^2) (d = x_{t-1} - abar_{t-1} x0); DDPM and DDIM are sigma choices",
    params=(X0, ALPHA_T, ALPHA_BAR_PREV, SIGMA),
    closed_form=_pretty(_hot_closed),
    lhs=lambda **_: _HOT_LHS,
    oracle=lambda x0, alpha_t, alpha_bar_prev, sigma: nuo.hot_step_oracle(
        x0, *_hot_values(x0, alpha_t, alpha_bar_prev, sigma)
    ),
    simulation=Simulation(
        "closedform.numeric.udm:HOT_STEP",
        lambda x0, alpha_t, alpha_bar_prev, sigma: nu.pack_hot_step(
            x0, *_hot_values(x0, alpha_t, alpha_bar_prev, sigma)
        ),
        kind="mean",
        draws_per_trial=lambda **_: 2 * NORMAL_DRAWS,
        description="x_t from x_0, then one draw of the general posterior (Gaussian noise)",
    ),
    proofs=(pr.hot_marginal_constraint, pr.ddpm_and_ddim_reductions),
    cases=tuple({**_STEP_CASE, "sigma": s} for s in (0, "2/5", "ddpm", "4/5")),
    rtol=1e-25,
    rtol_reason="tanh-sinh quadrature of smooth Gaussian integrands at 40 digits",
    sim_trials=200_000,
)


UNIFORM_MIXING = Result(
    name="gaussian_mixing_uniform_noise",
    topic=TOPIC,
    title="post 9262's mixing construction with uniform noise gives d/bbar_{t-1} = sqrt(1-st^2) u1 + st u2: "
    "E d^4 = bbar^4 (9/5 - 12/5 st^2 (1 - st^2) ... ) and mass beyond sqrt3 bbar, so not p(x_{t-1}|x0) (uniform)",
    params=(X0, ALPHA_T, ALPHA_BAR_PREV, SIGMA_TILDE),
    closed_form=_pretty(
        lambda x0, alpha_t, alpha_bar_prev, sigma_tilde: _row(
            d.uniform_mixing_step_moments(x0, alpha_bar_prev, sigma_tilde)
        )
    ),
    lhs=lambda **_: _HOT_LHS,
    oracle=nuo.uniform_mixing_step_oracle,
    simulation=Simulation(
        "closedform.numeric.udm:HOT_STEP",
        "closedform.numeric.udm:pack_mixing_step",
        kind="mean",
        draws_per_trial=lambda **_: 2,
        description="x_t with uniform eps, then the Gaussian-mixing posterior with uniform noise",
    ),
    proofs=(pr.uniform_mixing_fails,),
    cases=tuple({**_STEP_CASE, "sigma_tilde": s} for s in ("sqrt(2)/2", "3/5", 0)),
    rtol=1e-25,
    rtol_reason="quadrature of piecewise-polynomial integrands split at their kinks, at 40 digits",
    sim_trials=200_000,
)


def _chain_closed(mu0, s0, T, schedule, sigma_rule, plugin: bool):
    # the plug-in's variance: derive's recursion unrolled (symbolic), or evaluated in mpmath by numeric (numbers)
    if not plugin:
        return _row(d.exact_chain_moments(mu0, s0))
    if _symbolic(mu0, s0, T) or isinstance(schedule, sp.Symbol) or isinstance(sigma_rule, sp.Symbol):
        v = d.plugin_chain_variance(s0, T)
    else:
        v = sp.Float(nuo.plugin_variance(s0, T, schedule, sigma_rule), 45)
    return sp.Matrix([[mu0, v, 3 * v**2]])


def _chain_simulation(plugin: bool, description: str) -> Simulation:
    return Simulation(
        "closedform.numeric.udm:HOT_CHAIN",
        lambda **kw: nuo.pack_chain(**kw, plugin=plugin),
        kind="mean",
        draws_per_trial=lambda T, **_: 2 * (int(T) + 1) * NORMAL_DRAWS,  # the plug-in draws z1 too
        description=description,
    )


_CHAIN_PARAMS = (MU0, S0, T_STEPS, SCHEDULE, SIGMA_RULE)
_x0s, _mu0s = sp.Symbol("x_0"), sp.Symbol(r"\mu_0")
_CHAIN_LHS = sp.Matrix([[_E(_x0s), _E((_x0s - _mu0s) ** 2), _E((_x0s - _mu0s) ** 4)]])

HOT_EXACT = Result(
    name="hot_exact_sampler",
    topic=TOPIC,
    title="predict-correct with exact samples x0hat ~ p(x0|x_t) reproduces the data law N(mu0, s0^2) for any T and sigma",
    params=_CHAIN_PARAMS,
    closed_form=_pretty(lambda **kw: _chain_closed(**kw, plugin=False)),
    lhs=lambda **_: _CHAIN_LHS,
    oracle=lambda **kw: nuo.chain_oracle(**kw, plugin=False),
    simulation=_chain_simulation(False, "x_T ~ p_T, then T predict-correct steps with exact Gaussian x0hat samples"),
    proofs=(pr.exactness_theorem,),
    cases=(
        {"mu0": "3/2", "s0": "3/10", "T": 1, "schedule": "cosine", "sigma_rule": 0},
        {"mu0": "3/2", "s0": "3/10", "T": 2, "schedule": "cosine", "sigma_rule": "1/2"},
        {"mu0": "3/2", "s0": "3/10", "T": 5, "schedule": "cosine_s0", "sigma_rule": 1},
        {"mu0": "3/2", "s0": "3/10", "T": 20, "schedule": "linear", "sigma_rule": "ddpm"},
    ),
    rtol=1e-30,
    rtol_reason="the oracle propagates exact moments through the chain at 50 digits",
    sim_trials=200_000,
)


def plugin_table_check(result: Result, thorough: bool = False) -> CheckRow:
    """verify row of hot_plugin_dispersion: the plug-in table computed and compared with the Monte Carlo table."""
    t0 = time.perf_counter()
    table = plugin_table()
    worst = max(abs(c - m) for T, pair in table.items() for c, m in zip(pair, MONTE_CARLO_PLUGIN_TABLE[T]))
    body = "; ".join(f"T={T}: {a:.4f}/{b:.4f}" for T, (a, b) in table.items())
    detail = (
        f"DDIM/DDPM std {body}; max |computed - Monte Carlo| = {worst:.4f} <= 0.001 (a 3-decimal NumPy "
        "Monte Carlo table; its DDPM column sits 0.0006-0.0008 above the exact values)"
    )
    return _verify_row(result.name, "plugin_table_check", "cosine_s0, N(1.5, 0.3^2)", worst <= 1e-3, detail, t0)


HOT_PLUGIN = Result(
    name=HOT_PLUGIN_NAME,
    topic=TOPIC,
    title="the plug-in mean x0hat = E[x0|x_t] (DDPM/DDIM practice) shrinks the output: Var x_0 from the recursion "
    "v_{t-1} = g_t^2 v_t + sigma_t^2 (table: cosine_s0, N(1.5, 0.3^2); posts 9262, 9271)",
    params=_CHAIN_PARAMS,
    closed_form=_pretty(lambda **kw: _chain_closed(**kw, plugin=True)),
    lhs=lambda **_: _CHAIN_LHS,
    oracle=lambda **kw: nuo.chain_oracle(**kw, plugin=True),
    simulation=_chain_simulation(True, "x_T ~ p_T, then T steps with x0hat the posterior mean"),
    proofs=(pr.exactness_theorem, pr.ho_formulas_in_su_notation),
    cases=(
        {"mu0": "3/2", "s0": "3/10", "T": 5, "schedule": "cosine_s0", "sigma_rule": "ddim"},
        {"mu0": "3/2", "s0": "3/10", "T": 5, "schedule": "cosine_s0", "sigma_rule": "ddpm"},
        {"mu0": "3/2", "s0": "3/10", "T": 20, "schedule": "cosine_s0", "sigma_rule": "ddpm"},
        {"mu0": "3/2", "s0": "3/10", "T": 100, "schedule": "cosine_s0", "sigma_rule": "ddim"},
    ),
    rtol=1e-30,
    rtol_reason="Su-notation recursion vs Ho/Song-notation moment propagation, both at 50 digits",
    sim_trials=200_000,
    extra_checks=(plugin_table_check,),
)

COLD = Result(
    name="cold_blur_errors",
    topic=TOPIC,
    title="cold diffusion with a circular box blur: per-pixel MSE of naive (A_{t-1} e) and improved ((A_{t-1} - A_t) e) "
    "sampling for x0hat = x0 + e; improved is exact when e = 0",
    params=(N_PIX, W_PREV, W_T, S_ERR),
    closed_form=_pretty(lambda **kw: d.cold_errors_row(**kw)),
    lhs=lambda **_: sp.Matrix([[sp.Symbol("MSE_{naive}"), sp.Symbol("MSE_{improved}")]]),
    oracle=lambda n, w_prev, w_t, s: nuo.cold_mse_oracle(int(n), int(w_prev), int(w_t), s),
    simulation=Simulation(
        "closedform.numeric.udm:COLD",
        "closedform.numeric.udm:pack_cold",
        kind="mean",
        draws_per_trial=lambda n, **_: int(n) * NORMAL_DRAWS,
        description="e ~ N(0, s^2 I), both samplers' errors",
    ),
    proofs=(pr.cold_improved_exact,),
    cases=(
        {"n": 16, "w_prev": 2, "w_t": 3, "s": "1/10"},
        {"n": 16, "w_prev": 3, "w_t": 5, "s": "1/10"},
        {"n": 64, "w_prev": 5, "w_t": 7, "s": "1/2"},
        {"n": 16, "w_prev": 2, "w_t": 3, "s": 0},
    ),
    rtol=1e-28,
    rtol_reason="Parseval sums of roots of unity at 40 digits vs exact rationals",
    sim_trials=100_000,
)


# ---------------------------------------------------------------------------
# Registry lines: discrete diffusion
# ---------------------------------------------------------------------------

_POS_LHS = sp.Matrix([[sp.Symbol(r"P(x_{t-1}^j = v \mid x_0)")]])
_DISCRETE_PARAMS = (VOCAB, T_COUNT, TOKENS)
_EXACT_RATIONALS = "exact rationals on both sides; the oracle rounds each quotient to 40 digits"


def _discrete_sim(pack, draws, what) -> Simulation:
    return Simulation(
        "closedform.numeric.udm:DISCRETE", pack, kind="proportion", draws_per_trial=draws, description=what
    )


def _position_sim(model, what) -> Simulation:
    return _discrete_sim(lambda **kw: nu.pack_positions(model)(**kw), lambda V, t, x0: 3 * len(x0), what)


def discrete_enumeration_check(result: Result, thorough: bool = False) -> CheckRow:
    """verify row of edit_v2_marginal: the marginal constraint of every discrete posterior, by exact enumeration."""
    t0, max_l = time.perf_counter(), 5 if thorough else 4
    n, bad = dd.constraint_failures(max_l)
    verdict = "differ: " + "; ".join(bad[:3]) if bad else "all equal"
    detail = f"{n} (model, x0, V, t) configurations, exact Fractions; {verdict}"
    return _verify_row(result.name, "discrete_enumeration_check", f"l <= {max_l}, V in 2, 3", not bad, detail, t0)


EDIT_V2 = Result(
    name=EDIT_V2_NAME,
    topic=TOPIC,
    title="edit model v2 (t positions changed to different tokens), posterior 'restore one uniformly chosen differing "
    "position': x_{t-1} has the forward law at t-1 (marginal constraint)",
    params=_DISCRETE_PARAMS,
    closed_form=_pretty(lambda **kw: dd.edit_v2_marginal_row(**kw)),
    lhs=lambda **_: _POS_LHS,
    oracle=nuo.discrete_oracle("edit_v2"),
    simulation=_position_sim("edit_v2", "forward edit of t positions, then restore one differing position"),
    proofs=(pr.restore_one_marginal,),
    cases=({"V": 3, "t": 1, "x0": "0120"}, {"V": 3, "t": 4, "x0": "0120"}, {"V": 4, "t": 3, "x0": "012301"}),
    rtol=1e-35,
    rtol_reason=_EXACT_RATIONALS,
    sim_trials=200_000,
    extra_checks=(discrete_enumeration_check,),
)

MASK = Result(
    name="mask_marginal",
    topic=TOPIC,
    title="mask model: unmasking one uniformly chosen masked position satisfies the marginal constraint; per "
    "position it is D3PM-absorbing's (abar_{t-1} - abar_t)/(1 - abar_t) = 1/t at abar_t = 1 - t/l",
    params=_DISCRETE_PARAMS,
    closed_form=_pretty(lambda **kw: dd.mask_marginal_row(**kw)),
    lhs=lambda **_: _POS_LHS,
    oracle=nuo.discrete_oracle("mask"),
    simulation=_position_sim("mask", "mask t positions, then unmask one"),
    proofs=(pr.restore_one_marginal, pr.mask_and_absorbing),
    cases=({"V": 3, "t": 2, "x0": "0120"}, {"V": 3, "t": 4, "x0": "0120"}, {"V": 5, "t": 5, "x0": "0123401234"}),
    rtol=1e-35,
    rtol_reason=_EXACT_RATIONALS,
    sim_trials=200_000,
)

DELETION = Result(
    name="deletion_marginal",
    topic=TOPIC,
    title="deletion (not in the post): a uniform consistent deletion set, one element re-inserted, satisfies the "
    "marginal constraint though repeated tokens hide which positions were deleted",
    params=_DISCRETE_PARAMS,
    closed_form=_pretty(lambda **kw: dd.deletion_marginal_row(**kw)),
    lhs=lambda **_: sp.Matrix([[sp.Symbol(r"P(x_{t-1}^j = v \mid x_0)")]]),
    oracle=nuo.discrete_oracle("deletion"),
    simulation=_position_sim("deletion", "delete t positions, then re-insert one of a uniform consistent deletion set"),
    proofs=(pr.restore_one_marginal,),
    cases=({"V": 2, "t": 2, "x0": "0101"}, {"V": 2, "t": 4, "x0": "0101"}, {"V": 3, "t": 4, "x0": "0012010210"}),
    rtol=1e-35,
    rtol_reason=_EXACT_RATIONALS,
    sim_trials=200_000,
)

EDIT_V1 = Result(
    name="edit_v1_visible_changes",
    topic=TOPIC,
    title="edit model v1 (t positions replaced by uniform tokens) is not invertible: the number of visible changes is "
    "Binomial(t, (V-1)/V)",
    params=(LENGTH, VOCAB, T_COUNT),
    closed_form=_pretty(lambda **kw: dd.edit_v1_change_row(**kw)),
    lhs=lambda l, V, t: sp.Function("P")(sp.Eq(sp.Symbol("K"), sp.Symbol("k"))),
    oracle=nuo.edit_v1_oracle,
    simulation=_discrete_sim(
        "closedform.numeric.udm:pack_edit_v1",
        lambda l, V, t: 2 * int(t),
        "replace t uniform positions by uniform tokens, count visible changes",
    ),
    proofs=(pr.edit_v1_not_invertible,),
    cases=({"l": 4, "V": 3, "t": 3}, {"l": 6, "V": 4, "t": 5}, {"l": 5, "V": 2, "t": 2}),
    rtol=1e-35,
    rtol_reason=_EXACT_RATIONALS,
    sim_trials=200_000,
)

ABSORBING = Result(
    name="d3pm_absorbing_mask_count",
    topic=TOPIC,
    title="D3PM absorbing (per-token masking, Bayes posterior): x_{t-1} has Binomial(l, 1 - abar_{t-1}) masks, "
    "unlike Su's mask model whose count is exactly t-1",
    params=(LENGTH, ABAR_PREV_D, ABAR_T_D),
    closed_form=_pretty(lambda **kw: dd.absorbing_mask_count_row(**kw)),
    lhs=lambda **_: sp.Function("P")(sp.Eq(sp.Symbol(r"\#\mathrm{MASK}(x_{t-1})"), sp.Symbol("k"))),
    oracle=nuo.absorbing_oracle,
    simulation=_discrete_sim(
        "closedform.numeric.udm:pack_absorbing",
        lambda l, **_: 2 * int(l),
        "mask each token w.p. 1 - abar_t, then the absorbing posterior",
    ),
    proofs=(pr.mask_and_absorbing,),
    cases=(
        {"l": 4, "alpha_bar_prev": "3/4", "alpha_bar_t": "1/2"},
        {"l": 8, "alpha_bar_prev": "1/2", "alpha_bar_t": "1/8"},
    ),
    rtol=1e-35,
    rtol_reason=_EXACT_RATIONALS,
    sim_trials=200_000,
)

D3PM_UNIFORM = Result(
    name="d3pm_uniform_marginal",
    topic=TOPIC,
    title="D3PM uniform replacement over K = V classes: the Bayes posterior q(x_{t-1}|x_t, x0) satisfies the marginal "
    "constraint, q(x_{t-1} = v|x0) = abar_{t-1} [v = x0] + (1 - abar_{t-1})/K",
    params=(VOCAB, ABAR_PREV_D, BETA_D, TOKENS),
    closed_form=_pretty(lambda **kw: dd.d3pm_uniform_marginal_row(**kw)),
    lhs=lambda **_: _POS_LHS,
    oracle=nuo.d3pm_uniform_oracle,
    simulation=_discrete_sim(
        "closedform.numeric.udm:pack_d3pm_uniform",
        lambda x0, **_: 3 * len(x0),
        "x_t from Qbar_t, then the Bayes posterior, per token",
    ),
    proofs=(pr.d3pm_uniform_constraint,),
    cases=(
        {"V": 3, "alpha_bar_prev": "2/3", "beta_t": "1/4", "x0": "012"},
        {"V": 5, "alpha_bar_prev": "1/2", "beta_t": "1/10", "x0": "04"},
    ),
    rtol=1e-35,
    rtol_reason=_EXACT_RATIONALS,
    sim_trials=200_000,
)

#: The topic's registry lines (closedform.registry.RESULTS lists them in this order): hot, then discrete.


# ---------------------------------------------------------------------------
# Thin API: conventions, schedules, the plug-in table, simulation and exact checks
# ---------------------------------------------------------------------------


def ddpm_posterior(alpha_t: Any, alpha_bar_prev: Any) -> Formula:
    r"""DDPM's posterior :math:`q(x_{t-1}|x_t, x_0)` in Su's convention: x_0 and x_t coefficients, variance.

    .. math::

        \Bigl(\frac{\bar\alpha_{t-1}\beta_t^2}{\bar\beta_t^2},\ \frac{\alpha_t\bar\beta_{t-1}^2}{\bar\beta_t^2},\
        \frac{\bar\beta_{t-1}^2\beta_t^2}{\bar\beta_t^2}\Bigr)
    """
    return CONVENTIONS.formula(alpha_t=alpha_t, alpha_bar_prev=alpha_bar_prev)


def hot_posterior(t: int, T: int, schedule: Any = "cosine", sigma: Any = "ddpm") -> Formula:
    r"""The general hot-diffusion posterior sample :math:`x_{t-1}` at step t of a schedule (Su's convention).

    .. math::

        x_{t-1} = \bar\alpha_{t-1}x_0 + \sqrt{\bar\beta_{t-1}^2 - \sigma_t^2}\,
            \frac{x_t - \bar\alpha_t x_0}{\bar\beta_t} + \sigma_t\varepsilon

    ``sigma``: ``"ddpm"``, ``"ddim"`` or a number in :math:`[0, \bar\beta_{t-1}]`.
    """
    T = int(T_STEPS.validate(T))
    tt = as_expr(t, "t")
    if not (tt.is_integer and 1 <= tt <= T):
        raise ParameterError(f"t must be an integer in 1..T = 1..{T}, got {t!r}")
    ab = alpha_bar_schedule(schedule, T)
    abp, abt = ab[int(tt) - 1], ab[int(tt)]
    s = _step_sigma(SIGMA.validate(sigma), abt / abp, abp)
    x0, xt, eps = sp.symbols("x_0 x_t varepsilon")
    return Formula(sp.Symbol("x_{t-1}"), d.general_posterior(x0, xt, eps, abp, abt, s))


def plugin_std(
    T: int, schedule: Any = "cosine_s0", sigma_rule: Any = "ddim", mu0: Any = "3/2", s0: Any = "3/10"
) -> float:
    """Standard deviation of x_0 produced by the plug-in-mean sampler for N(mu0, s0^2) data (exact recursion)."""
    v = HOT_PLUGIN.formula(mu0=mu0, s0=s0, T=T, schedule=schedule, sigma_rule=sigma_rule).expr[1]
    return float(sp.sqrt(v))


#: The plug-in under-dispersion table ``{T: (DDIM std, DDPM std)}`` for N(1.5, 0.3^2) data on
#: cosine_s0, from an independent 3-decimal NumPy Monte Carlo of post 9262's predict-correct
#: sampler with post 9271's DDPM/DDIM sigma choices (compared with, never used as the answer).
MONTE_CARLO_PLUGIN_TABLE = {5: (0.186, 0.173), 20: (0.268, 0.246), 100: (0.293, 0.285), 1000: (0.299, 0.299)}
#: The former name of :data:`MONTE_CARLO_PLUGIN_TABLE`.
MATH_PLUGIN_TABLE = MONTE_CARLO_PLUGIN_TABLE


def plugin_table(Ts: Sequence[int] = (5, 20, 100, 1000), schedule: str = "cosine_s0") -> dict[int, tuple[float, float]]:
    """The plug-in under-dispersion table, computed: ``{T: (DDIM std, DDPM std)}``."""
    return {T: (plugin_std(T, schedule, "ddim"), plugin_std(T, schedule, "ddpm")) for T in Ts}


def simulate_chain(
    mu0: Any = "3/2",
    s0: Any = "3/10",
    T: int = 20,
    schedule: Any = "cosine",
    sigma_rule: Any = "ddpm",
    plugin: bool = False,
    trials: Any = 10**6,
    *,
    device: str = "cpu",
    seed: int = 0,
    streams: int | None = None,
) -> Estimate:
    """Run the reverse chain for N(mu0, s0^2) data; the estimate holds E x_0, E(x_0-mu0)^2, E(x_0-mu0)^4.

    >>> est = simulate_chain(T=5, trials=20_000, seed=1)
    >>> bool(abs(est.estimate[1] - 0.09) < 5 * est.stderr[1])
    True
    """
    case = {"mu0": mu0, "s0": s0, "T": T, "schedule": schedule, "sigma_rule": sigma_rule}
    return simulate_result(
        HOT_PLUGIN if plugin else HOT_EXACT, trials, device=device, seed=seed, streams=streams, **case
    )


def simulate_posterior(
    x0: Any,
    alpha_t: Any,
    alpha_bar_prev: Any,
    sigma: Any = "ddpm",
    trials: Any = 10**6,
    *,
    device: str = "cpu",
    seed: int = 0,
) -> Estimate:
    """One forward and one posterior draw per trial: E x_{t-1}, E d^2, E d^4, P(|d| > sqrt3 betabar_{t-1})."""
    case = {"x0": x0, "alpha_t": alpha_t, "alpha_bar_prev": alpha_bar_prev, "sigma": sigma}
    return simulate_result(HOT_POSTERIOR, trials, device=device, seed=seed, **case)


def cold_errors(n: int = 16, w_prev: int = 2, w_t: int = 3, s: Any = "1/10") -> Formula:
    """Per-pixel MSE of naive and improved cold sampling for a circular box blur (exact)."""
    return COLD.formula(n=n, w_prev=w_prev, w_t=w_t, s=s)


def marginal_constraint(model: str, x0: Any, t: int, V: int, alpha_bar_prev: Any = None, second: Any = None) -> bool:
    r"""Whether :math:`\sum_{x_t} p(x_{t-1}|x_t,x_0)p(x_t|x_0) = p(x_{t-1}|x_0)` holds exactly for ``model``.

    ``model`` is one of :data:`closedform.derive.udm_discrete.MODELS`; the D3PM models
    take ``alpha_bar_prev`` and ``second`` (β_t for uniform, ᾱ_t for absorbing).
    """
    if model not in dd.MODELS:
        raise ParameterError(f"model must be one of {', '.join(dd.MODELS)}, got {model!r}")
    toks = TOKENS.validate(x0)
    V = int(VOCAB.validate(V))
    dd.check_tokens(toks, V, t)
    if not 1 <= int(t):
        raise ParameterError(f"t must be an integer in 1..l, got {t!r}")
    second_param = {"d3pm_uniform": BETA_D, "d3pm_absorbing": ABAR_T_D}.get(model)
    sched = None
    if second_param is not None:
        abp, second = ABAR_PREV_D.validate(alpha_bar_prev), second_param.validate(second)
        if model == "d3pm_absorbing":
            dd.check_absorbing(abp, second)
        sched = dd.d3pm_schedule(model, abp, second)
    lhs, rhs = dd.marginal_constraint(model, toks, int(t), V, sched)
    return lhs == rhs
