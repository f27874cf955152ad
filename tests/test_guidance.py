"""Guidance (post 9257): reference numbers computed by the package, identities, bad input.

Every reference number of the checks reconstructed for post 9257 (the sigma^4 error table, the sharpened
classifier, the score mismatch) is recomputed here and compared with the quoted
digits (a quoted value with k significant digits must agree to half a unit in its last digit).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from closedform import guidance
from closedform.derive import guidance as d
from closedform.derive import schedules as ds
from closedform.numeric import guidance as num
from closedform.numeric import mixtures as mx
from closedform.numeric.target import SIMULATOR
from closedform.proofs import guidance as pr
from closedform.spec import ParameterError

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs tests/test_cuda.py")


def agrees_to_quoted(value: float, quoted: str) -> bool:
    """``value`` rounds to the quoted decimal: |value - q| <= half a unit of the last quoted digit."""
    q = float(quoted)
    mantissa = quoted.lower().split("e")[0].lstrip("-")
    exp = int(quoted.lower().split("e")[1]) if "e" in quoted.lower() else 0
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return abs(value - q) <= 0.5 * 10 ** (exp - decimals) * (1 + 1e-9)


# ----------------------------------------------------------------------------- reference numbers


TILT_TABLE = [
    ("1/2", "-2.35e-2"),
    ("1/5", "-7.35e-4"),
    ("1/10", "-4.74e-5"),
    ("1/20", "-2.99e-6"),
    ("1/40", "-1.87e-7"),
]


def test_tilt_error_table_matches_reference():
    rows = guidance.tilt_error_table([s for s, _ in TILT_TABLE])
    for (sigma, quoted), (_, err, _ratio) in zip(TILT_TABLE, rows):
        assert agrees_to_quoted(err, quoted), (sigma, err, quoted)
    # err / sigma^4 tends to the predicted constant; at sigma = 1/40 it reads -0.479.
    assert agrees_to_quoted(rows[-1][2], "-0.479")
    const = float(guidance.tilt_error_constant(2, "-3/10", "2/5"))
    assert agrees_to_quoted(const, "-0.47956")
    # and the approach is O(sigma^2): (ratio - C)/sigma^2 stays bounded and settles.
    slopes = [(r - const) / s**2 for s, _, r in rows[2:]]
    assert abs(slopes[-1] - slopes[-2]) < 0.05 * abs(slopes[-1])


def test_tilt_constant_closed_form_for_logistic():
    a, b, mu = sp.Integer(2), sp.Rational(-3, 10), sp.Rational(2, 5)
    s = 1 / (1 + sp.exp(-(a * mu + b)))
    closed = -(a**3) * s * (1 - s) * (3 - 4 * s) / 2
    assert sp.simplify(float(guidance.tilt_error_constant(a, b, mu)) - sp.N(closed, 30)) < 1e-15


def test_linear_log_likelihood_is_exact_and_quadratic_is_not():
    mean, var = d.gaussian_tilt_moments(sp.Rational(2, 5), sp.Rational(1, 2), sp.Rational(3, 4))
    assert mean == d.guided_mean(sp.Rational(2, 5), sp.Rational(1, 2), sp.Rational(3, 4)) and var == sp.Rational(1, 4)
    m_q, _ = d.quadratic_tilt_moments(0, sp.Rational(1, 2), 1, -2)
    assert m_q != d.guided_mean(0, sp.Rational(1, 2), 1)
    with mpmath.workdps(30):
        oracle = num.tilted_gaussian_moments_mp(0, sp.Rational(1, 2), 1, -2)
        assert abs(oracle[0] - mpmath.mpf(sp.N(m_q, 30))) < mpmath.mpf(10) ** -25


def test_sharpened_logistic_numbers_match_reference():
    grads = guidance.sharpened_gradients("13/10", 3, "7/10")
    assert agrees_to_quoted(grads["grad_log_sharpened"], "0.23878")
    assert agrees_to_quoted(grads["gamma_grad_log_p"], "1.11930")
    assert agrees_to_quoted(grads["grad_log_Z"], "0.88052")
    assert math.isclose(grads["gamma_grad_log_p"] - grads["grad_log_sharpened"], grads["grad_log_Z"], rel_tol=1e-14)
    assert float(guidance.log_normaliser_gradient(2, 1, "3/10")) == 0.0  # Z = 1 at gamma = 1


@pytest.mark.parametrize("alpha_bar, quoted", [(0.9, "7.56"), (0.6, "3.00"), (0.3, "0.98")])
def test_score_mismatch_matches_reference(alpha_bar, quoted):
    assert agrees_to_quoted(guidance.score_mismatch(3, alpha_bar), quoted)
    assert guidance.score_mismatch(1, alpha_bar) < 5e-4  # the reference: 0.000 at gamma = 1


def test_score_mismatch_is_in_sus_convention():
    # Read as Ho's alpha_bar (the square), 0.9 would give another number: Su's alpha_bar is Ho's square root.
    assert not agrees_to_quoted(guidance.score_mismatch(3, math.sqrt(0.9)), "7.56")


def test_cfg_scale_is_one_plus_w():
    assert guidance.cfg(1, 0, w="13/2").expr == guidance.cfg(1, 0, scale="15/2").expr == sp.Rational(15, 2)
    assert d.guidance_scale_from_w(sp.Symbol("w")) - 1 == sp.Symbol("w")


@given(st.floats(-5, 5), st.floats(-5, 5), st.floats(-1, 20))
def test_cfg_identity_in_floats(ec, eu, w):
    ours = float(d.cfg_epsilon(sp.Float(ec, 30), sp.Float(eu, 30), sp.Float(w, 30)))
    lib = eu + (1 + w) * (ec - eu)  # diffusers: noise_uncond + guidance_scale * (noise_text - noise_uncond)
    assert math.isclose(ours, lib, rel_tol=1e-12, abs_tol=1e-12 * (abs(ec) + abs(eu)) * (1 + abs(w)))


def test_epsilon_space_factor_one_over_alpha():
    a_t = sp.Rational(99, 100)
    shift = d.epsilon_guidance_mean_shift(a_t, 2, 1)
    assert shift / d.guided_mean(0, sp.sqrt(1 - a_t**2), 1, 2) == 1 / a_t


# ----------------------------------------------------------------------------- proofs and conventions


@pytest.mark.parametrize(
    "make",
    [
        pr.bayes_taylor_guided_mean,
        pr.quadratic_tilt,
        pr.tilt_error_order_sigma4,
        pr.sharpened_classifier_normaliser,
        pr.similarity_guidance,
        pr.continuous_guidance,
        pr.classifier_free_identities,
        pr.guided_score_at_gamma_one,
    ],
)
def test_proofs_render(make):
    proof = make().check()
    assert proof.verdict.ok
    assert proof.latex().startswith(r"\begin{align*}") and proof.text()


def test_a_wrong_step_is_refuted():
    # The discrete rule and the eps rule are not equal: claiming so must be REFUTED.
    from closedform.proofs.core import Verdict, check_equal

    a = sp.Symbol("alpha_t", positive=True)
    wrong = check_equal(
        d.epsilon_guidance_mean_shift(a, 1, 1), 1 - a**2, {a: (sp.Rational(1, 2), sp.Rational(9, 10), False)}
    )
    assert wrong.verdict is Verdict.REFUTED


def test_schedule_is_sus_convention():
    sch = num.linear_schedule(1000)
    # Su's alpha_bar_t is the square root of Ho's cumulative product of (1 - beta_t).
    ho_beta = np.linspace(1e-4, 0.02, 1000)
    assert np.allclose(sch.alpha_bar[1:] ** 2, np.cumprod(1 - ho_beta), rtol=1e-12, atol=0)
    assert float(ds.linear_alpha(1, 1000)) == pytest.approx(sch.alpha[1], rel=1e-15)
    cos = num.cosine_schedule(50)
    assert np.allclose(cos.alpha_bar[:-1], [float(ds.cosine_alpha_bar(t, 50)) for t in range(50)], rtol=1e-12)
    assert np.allclose(cos.alpha_bar**2 + cos.beta_bar2, 1.0, rtol=0, atol=1e-15)


def test_one_toy_table_two_views():
    # The float64 mixtures are built from derive's exact table; the literals below are the
    # toys as first written, so a changed table (or a changed float view) fails here.
    literal = {
        "two_class_1d": ([0.5, 0.5], [[-1.0], [1.0]], [0.5, 0.5], [0, 1]),
        "bimodal_1d": ([0.3, 0.5, 0.2], [[-2.0], [0.5], [2.5]], [0.5, 0.4, 0.6], [0, 1, 0]),
        "square_2d": (
            [0.3, 0.2, 0.25, 0.25],
            [[-1.5, -1.0], [1.5, 1.2], [-1.2, 1.5], [1.0, -1.5]],
            [0.5, 0.6, 0.4, 0.5],
            [0, 0, 1, 1],
        ),
    }
    assert guidance.TOY_SPECS is d.TOYS and set(mx.TOYS) == set(literal)
    for name, (w, means, stds, labels) in literal.items():
        m, spec = mx.TOYS[name], d.TOYS[name]
        assert np.array_equal(m.weights, np.array(w) / np.sum(w))
        assert np.array_equal(m.means, means) and np.array_equal(m.stds, stds)
        assert m.labels.tolist() == labels == spec["labels"]
        assert all(isinstance(v, sp.Rational) for v in spec["weights"] + spec["stds"])
        assert np.array_equal(guidance.toy_points(name), [[float(c) for c in row] for row in spec["points"]])


def test_mixture_scores_are_exact():
    m = mx.BIMODAL_1D
    x = np.linspace(-3, 3, 13)[:, None]
    h = 1e-6
    numeric = (m.log_density(x + h) - m.log_density(x - h)) / (2 * h)
    assert np.allclose(m.score(x)[:, 0], numeric, rtol=1e-7, atol=1e-7)  # central difference, O(h^2) + roundoff/h


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("toy, y, gamma, T", [("two_class_1d", 1, 1e300, 50), ("bimodal_1d", 1, 1e4, 1000)])
def test_diverging_guidance_is_one_clear_error(toy, y, gamma, T):
    # issue 14: gamma = 1e300 returned NaN particles; the guided drift overflows float64
    with pytest.raises(ParameterError, match=r"gamma = .* is too large for this toy"):
        guidance.sample(toy, y=y, gamma=gamma, T=T, particles=200, seed=1)
    assert np.isfinite(guidance.sample(toy, y=y, gamma=100, T=50, particles=200, seed=1)).all()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: guidance.sample("bimodal_1d", gamma=-0.5, T=10, particles=10), "gamma must be a finite number >= 0"),
        (lambda: guidance.sample("bimodal_1d", T=0, particles=10), "T must be an integer >= 1"),
        (lambda: guidance.sample("bimodal_1d", schedule=[1.0, 0.9, 0.95], particles=10), "not decreasing"),
        (lambda: guidance.sample("bimodal_1d", schedule=[0.9, 0.5], particles=10), "alpha_bar_0 must be 1"),
        (lambda: guidance.sample("bimodal_1d", schedule=[1.0, 0.5, 0.0], particles=10), "alpha_bar_T must be positive"),
        (lambda: guidance.sample("bimodal_1d", y=2, T=10, particles=10), "y must be one of the classes"),
        (lambda: guidance.sample("nope", T=10), "toy must be one of"),
        (lambda: guidance.sample("bimodal_1d", T=10, particles=0), "particles must be a positive integer"),
        (lambda: guidance.sample("bimodal_1d", T=10, mode="x"), "mode must be one of"),
        (lambda: guidance.sample("bimodal_1d", T=10, variance="x"), "variance must be one of"),
        (lambda: guidance.sample("bimodal_1d", T=10, device="tpu"), "device must be"),
        (lambda: guidance.step_coefficients(0, 10), r"t must be an integer in 1\.\.10"),
        (lambda: guidance.step_coefficients(11, 10), r"t must be an integer in 1\.\.10"),
        (lambda: guidance.guided_mean(0, 1, 1, -1), r"gamma must lie in \[0, oo\)"),
        (lambda: guidance.cfg(1, 0, w=-2), r"w must lie in \[-1, oo\)"),
        (lambda: guidance.cfg(1, 0), "exactly one of w"),
        (lambda: guidance.score_mismatch(3, 1.2), "alpha_bar must lie in"),
        (lambda: guidance.score_mismatch(3, 0.5 + 0.1j), "alpha_bar must lie in"),
        (lambda: guidance.QUADRATIC_TILT.formula(mu=0, sigma=1, g=1, c=2), "sigma\\^2 c < 1"),
        (lambda: num.linear_schedule(10), "beta_1 <= beta_T < 1"),
        (lambda: mx.Mixture.make([1, -1], [[0], [1]], [1, 1], [0, 1]), "weights must be positive"),
        (lambda: mx.Mixture.make([1, 1], [[0], [1]], [1, 0], [0, 1]), "stds must be"),
        (lambda: mx.Mixture.make([1] * 17, [[0]] * 17, [1] * 17, [0] * 17), "at most 16 components"),
    ],
)
def test_bad_input_is_one_clear_error(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
