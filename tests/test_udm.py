"""Unified diffusion model: the numbers of posts 9262 and 9271 computed, property tests, stochastic checks, bad input."""

from __future__ import annotations

import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

from closedform import checks, udm
from closedform.derive import udm as d
from closedform.derive import udm_discrete as dd
from closedform.numeric import stats
from closedform.numeric import udm as nu
from closedform.numeric import udm_oracles as nuo
from closedform.numeric.target import SIMULATOR
from closedform.spec import ParameterError

from .conftest import THOROUGH

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs tests/test_cuda.py")

ALPHA = 1e-6  # false-failure rate of each stochastic example (Bonferroni inside an example)
TRIALS = 10**6 if THOROUGH else 200_000
rationals = st.fractions(min_value="1/20", max_value="19/20", max_denominator=100)


def R(f):
    return sp.Rational(f.numerator, f.denominator)


# ---------------------------------------------------------------------------
# The numbers of posts 9262 and 9271 and of their reconstructions, computed by the package
# ---------------------------------------------------------------------------


def test_hot_posterior_example():
    """Post 9271's hot posterior at x0 = 1.3, abar_{t-1} = 0.6, alpha_t = 0.97: mean/std (0.78, 0.80); DDPM sigma 0.2392."""
    f = udm.HOT_POSTERIOR.formula(x0="13/10", alpha_t="97/100", alpha_bar_prev="3/5", sigma="ddpm").expr
    assert f[0] == sp.Rational(39, 50) and round(float(f[0]), 2) == 0.78
    assert round(math.sqrt(float(f[1])), 2) == 0.80
    assert round(float(d.ddpm_sigma(sp.Rational(97, 100), sp.Rational(3, 5))), 4) == 0.2392


def test_plugin_table():
    """The plug-in under-dispersion table of post 9262's sampler, computed exactly (cosine schedule with s = 0, data N(1.5, 0.3^2)).

    The reference values come from a NumPy Monte Carlo at 3 decimals; the DDIM column matches
    to the last digit, the DDPM column sits 0.0006-0.0008 above the exact values (pinned here).
    """
    table = udm.plugin_table()
    exact = {5: (0.1857, 0.1730), 20: (0.2681, 0.2452), 100: (0.2933, 0.2844), 1000: (0.2993, 0.2982)}
    for T, (ddim, ddpm) in table.items():
        assert (round(ddim, 4), round(ddpm, 4)) == exact[T]
        m_ddim, m_ddpm = udm.MONTE_CARLO_PLUGIN_TABLE[T]
        assert round(ddim, 3) == m_ddim
        assert abs(ddpm - m_ddpm) <= 1e-3
    assert udm.MATH_PLUGIN_TABLE is udm.MONTE_CARLO_PLUGIN_TABLE  # the former name still works
    assert all(a < 0.3 and b < 0.3 for a, b in table.values())
    assert table[5][1] < table[5][0]  # DDPM shrinks more than DDIM at few steps


def test_edit_v1_binomial():
    law = [udm.EDIT_V1.formula(l=4, V=3, t=3).expr[k] for k in range(4)]
    assert law == [sp.Rational(1, 27), sp.Rational(2, 9), sp.Rational(4, 9), sp.Rational(8, 27)]


def test_mask_rate_is_d3pm_absorbing():
    """Post 9271's mask model vs D3PM (Austin et al. 2021): 1/t = (abar_{t-1} - abar_t)/(1 - abar_t) at abar_t = 1 - t/l, t = 1..4, l = 4."""
    for t in range(1, 5):
        stay, unmask = dd.absorbing_posterior(dd.su_mask_alpha_bar(t - 1, 4), dd.su_mask_alpha_bar(t, 4))
        assert unmask == sp.Rational(1, t) and stay == sp.Rational(t - 1, t)


def test_uniform_mixing_support():
    """Post 9262's mixing (c) with uniform noise: max |sqrt(1/2) u1 + sqrt(1/2) u2| = 2.45 > sqrt 3 for unit-variance uniforms."""
    assert round(float(sp.sqrt(3) * 2 * sp.sqrt(2) / 2), 2) == 2.45
    assert d.uniform_mixing_moments(sp.sqrt(2) / 2)[1] == sp.Rational(12, 5)


def test_cold_blur_numbers_and_quoted_discrepancy():
    """A reconstruction of post 9271's cold diffusion (Bansal et al. 2022) quoted 0.141 (naive) vs 0.064 (improved)
    for box widths 3 -> 2, n = 16, s = 0.1, without saying how the error is measured; the exact root-mean-square
    errors of that setup are 0.0707 and 0.0408."""
    naive, improved = (math.sqrt(float(v)) for v in udm.cold_errors(16, 2, 3, "1/10").expr)
    assert (round(naive, 4), round(improved, 4)) == (0.0707, 0.0408)
    assert improved < naive
    assert list(udm.cold_errors(16, 2, 3, 0).expr) == [0, 0]


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@given(x0=rationals, a=rationals, q=rationals, lam=st.fractions(0, 1, max_denominator=20))
@example(x0=1, a=1, q=1, lam=0).via("t = 1: betabar_{t-1} = 0")
def test_hot_posterior_closed_form_matches_quadrature(x0, a, q, lam):
    a = min(R(a), sp.Rational(99, 100))
    q = R(q)
    sigma = R(lam) * sp.sqrt(1 - q**2)
    mpmath.mp.dps = 40
    claimed = udm.HOT_POSTERIOR.closed_form(x0=R(x0), alpha_t=a, alpha_bar_prev=q, sigma=sigma)
    truth = nuo.hot_step_oracle(R(x0), a * q, q, sigma)
    for c, o in zip(claimed, truth):
        assert abs(mpmath.mpf(sp.N(c, 40)) - o) <= mpmath.mpf("1e-25") * max(1, abs(o))


@given(st_=st.fractions(0, 1, max_denominator=50))
def test_uniform_mixing_closed_form_matches_quadrature(st_):
    mpmath.mp.dps = 40
    _m2, m4 = d.uniform_mixing_moments(R(st_))
    _w2, w4, tail = nuo.uniform_mixing_oracle(R(st_))
    assert abs(mpmath.mpf(sp.N(m4, 40)) - w4) < mpmath.mpf("1e-30")
    assert abs(mpmath.mpf(sp.N(d.uniform_mixing_tail(R(st_)), 40)) - tail) < mpmath.mpf("1e-30")
    assert (m4 == sp.Rational(9, 5)) == (st_ in (0, 1))


@given(
    T=st.integers(1, 30),
    lam=st.fractions(0, 1, max_denominator=10),
    kind=st.sampled_from(["cosine", "linear", "cosine_s0"]),
)
def test_exact_chain_oracle_keeps_the_data_law(T, lam, kind):
    mpmath.mp.dps = 40
    m, v, _ = udm.HOT_EXACT.oracle(mu0=sp.Rational(3, 2), s0=sp.Rational(3, 10), T=T, schedule=kind, sigma_rule=R(lam))
    assert abs(m - mpmath.mpf(1.5)) < mpmath.mpf("1e-30") and abs(v - mpmath.mpf("0.09")) < mpmath.mpf("1e-30")


@given(T=st.integers(1, 40), rule=st.sampled_from(["ddpm", "ddim", "1/2"]))
def test_plugin_variance_below_data_and_matches_ho_route(T, rule):
    mpmath.mp.dps = 40
    kw = {
        "mu0": sp.Rational(3, 2),
        "s0": sp.Rational(3, 10),
        "T": T,
        "schedule": "cosine",
        "sigma_rule": udm.SIGMA_RULE.validate(rule),
    }
    v = udm.HOT_PLUGIN.closed_form(**kw)[1]
    o = udm.HOT_PLUGIN.oracle(**kw)[1]
    assert abs(mpmath.mpf(sp.N(v, 40)) - o) < mpmath.mpf("1e-30")
    assert v < sp.Rational(9, 100)


def _sum_with(posterior, model, x0, t, V):
    out = {}
    for xt, p in dd.forward_law(model, x0, t, V).items():
        for x, q in posterior(xt, x0).items():
            out[x] = out.get(x, 0) + p * q
    return out


def test_enumeration_detects_a_wrong_posterior():
    """Restoring the *leftmost* differing position breaks the marginal constraint: the check can fail."""
    from fractions import Fraction

    def leftmost(xt, x0):
        i = next(i for i, (a, b) in enumerate(zip(xt, x0)) if a != b)
        x = list(xt)
        x[i] = x0[i]
        return {tuple(x): Fraction(1)}

    x0 = (0, 1, 2, 0)
    assert _sum_with(leftmost, "edit_v2", x0, 2, 3) != dd.forward_law("edit_v2", x0, 1, 3)
    assert udm.marginal_constraint("edit_v2", "0120", 2, 3)


@given(l=st.integers(1, 5), V=st.integers(2, 3), data=st.data())
def test_every_discrete_constraint_by_enumeration(l, V, data):
    x0 = tuple(data.draw(st.lists(st.integers(0, V - 1), min_size=l, max_size=l)))
    t = data.draw(st.integers(1, l))
    for model in ("edit_v1", "edit_v2", "mask", "deletion"):
        lhs, rhs = dd.marginal_constraint(model, x0, t, V)
        assert lhs == rhs, model


# ---------------------------------------------------------------------------
# Monte Carlo at larger sizes than enumeration reaches
# ---------------------------------------------------------------------------

LARGE = [
    (udm.EDIT_V2, {"V": 15, "t": 9, "x0": "0123456789abcdef"}),
    (udm.MASK, {"V": 15, "t": 11, "x0": "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,0"}),
    (udm.DELETION, {"V": 4, "t": 7, "x0": "0123012301233210"}),
    (udm.D3PM_UNIFORM, {"V": 15, "alpha_bar_prev": "3/10", "beta_t": "1/5", "x0": "0,14,7,3,9,11"}),
    (udm.ABSORBING, {"l": 16, "alpha_bar_prev": "2/3", "alpha_bar_t": "1/3"}),
]


@pytest.mark.parametrize("result, case", LARGE, ids=lambda v: v.name if hasattr(v, "name") else "")
def test_discrete_monte_carlo_large(result, case):
    if result is udm.EDIT_V2:
        case = {**case, "x0": ",".join(str(int(c, 16) % 15) for c in case["x0"])}
    row = checks.simulation_check(result, case, ALPHA, TRIALS)
    assert row.status == "pass", row.detail


def test_monte_carlo_rejects_uniform_noise_claim():
    """With uniform noise the mixing construction's x_{t-1} is not the uniform-noise marginal: the z-test sees it."""
    case = {"x0": "13/10", "alpha_t": "97/100", "alpha_bar_prev": "3/5", "sigma_tilde": "sqrt(2)/2"}
    est = udm.simulate_result(udm.UNIFORM_MIXING, TRIALS, seed=3, **case)
    bbp2 = 1 - 0.36
    would_be = [0.78, bbp2, 1.8 * bbp2**2, 0.0]  # the law of ab x0 + bb_{t-1} u, u uniform
    tests = est.z_tests(would_be, ALPHA)
    assert not tests[2].passed and not tests[3].passed
    assert all(t.passed for t in est.z_tests(udm.UNIFORM_MIXING.claimed_values(**case), ALPHA))


@given(T=st.integers(1, 12), seed=st.integers(0, 2**32))
def test_plugin_sampler_simulation(T, seed):
    est = udm.simulate_chain(T=T, schedule="cosine_s0", sigma_rule="ddim", plugin=True, trials=TRIALS // 4, seed=seed)
    claimed = udm.HOT_PLUGIN.claimed_values(mu0="3/2", s0="3/10", T=T, schedule="cosine_s0", sigma_rule="ddim")
    assert all(t.passed for t in est.z_tests(claimed, ALPHA))


def test_exact_chain_detects_plugin_shrinkage():
    """At T = 5 the plug-in sampler's variance 0.0345 is far from 0.09, and the test has the power to say so."""
    est = udm.simulate_chain(T=5, schedule="cosine_s0", sigma_rule="ddim", plugin=True, trials=TRIALS, seed=9)
    (_, var_test, _) = est.z_tests([1.5, 0.09, 3 * 0.09**2], ALPHA)
    assert not var_test.passed


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: udm.hot_posterior(t=0, T=5), r"t must be an integer in 1..T = 1..5"),
        (lambda: udm.hot_posterior(t=6, T=5), r"1..T"),
        (lambda: udm.hot_posterior(t=2, T=5, sigma="0.99"), r"sigma must lie in \[0, betabar_\(t-1\)\]"),
        (
            lambda: udm.HOT_POSTERIOR.formula(x0=1, alpha_t="1/2", alpha_bar_prev="3/5", sigma="9/10"),
            "sigma_t\\^2 <= betabar",
        ),
        (lambda: udm.hot_posterior(t=2, T=5, sigma="fast"), "sigma must be one of ddpm, ddim"),
        (lambda: udm.simulate_chain(schedule="quadratic", trials=10), "schedule must be one of"),
        (lambda: udm.simulate_chain(s0=0, trials=10), "s0 must lie in"),
        (lambda: udm.cold_errors(16, 3, 3), "w_prev < w_t <= n"),
        (lambda: udm.EDIT_V2.formula(V=3, t=5, x0="0120"), "t must lie in 1..l"),
        (lambda: udm.EDIT_V2.formula(V=3, t=1, x0="0130"), "tokens must lie in 0..V-1"),
        (lambda: udm.EDIT_V2.formula(V=3, t=1, x0="0" * 17), "x0 must have 1 to 16 tokens"),
        (lambda: udm.ABSORBING.formula(l=4, alpha_bar_prev="1/2", alpha_bar_t="3/4"), "alpha_bar_t must be below"),
        (lambda: udm.marginal_constraint("insertion", "01", 1, 2), "model must be one of"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_cli_error_exit_code():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "closedform",
            "latex",
            "cold_blur_errors",
            "--n",
            "16",
            "--w_prev",
            "4",
            "--w_t",
            "3",
            "--s",
            "0.1",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "w_prev < w_t" in proc.stderr and "Traceback" not in proc.stderr


def test_cuda_capacity_respected_by_domains():
    assert nu.DISCRETE_CATEGORIES >= nu.MAX_LENGTH * (nu.MAX_VOCAB + 1)
    assert nu.DISCRETE_SCRATCH >= 3 * nu.MAX_LENGTH + (nu.MAX_LENGTH + 1) ** 2
    assert np.isfinite(stats.z_threshold(ALPHA))
