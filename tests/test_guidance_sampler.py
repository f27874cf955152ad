"""The guided DDPM sampler on exact mixture toys: gamma = 1 samples p(x|y), gamma != 1 does not.

Every stochastic check states its false-failure rate alpha (DKWM bands and z-tests from
closedform.numeric.stats); sizes grow under the thorough Hypothesis profile.  The sampler is
exact only as T -> infinity: its sup-CDF error is about 1.2/T here (measured below), so the
gamma = 1 checks use T large enough that the bias is a small fraction of the band.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from closedform import guidance
from closedform.numeric import guidance as num
from closedform.numeric import mixtures as mx
from closedform.numeric import stats
from closedform.numeric.target import SIMULATOR

from .conftest import THOROUGH

ALPHA = 1e-6
SCALE = 10 if THOROUGH else 1


def _marginal(mix: mx.Mixture, d: int) -> mx.Mixture:
    return mx.Mixture(mix.weights, mix.means[:, [d]], mix.stds, mix.labels)


cpu = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs the cuda-marked ones")


@cpu
@pytest.mark.parametrize("mode", ["mean", "eps"])
def test_gamma_one_samples_the_conditional_law_1d(mode):
    # Bias at T = 800 is about 1.5e-3; the DKWM half-width of 3e4 particles at alpha 1e-6 is 0.016.
    n, T = 30_000 * SCALE, 800
    xs = guidance.sample("bimodal_1d", y=0, gamma=1, T=T, mode=mode, particles=n, seed=11)[:, 0]
    target = mx.BIMODAL_1D.conditional(0)
    res = stats.dkwm_test(xs, lambda v: target.cdf(v[:, None]), ALPHA)
    assert res.passed, (res.sup_distance, res.epsilon)


@cpu
def test_gamma_one_samples_the_conditional_law_2d():
    n, T = 20_000 * SCALE, 800
    xs = guidance.sample("square_2d", y=0, gamma=1, T=T, particles=n, seed=12)
    target = mx.SQUARE_2D.conditional(0)
    for d in range(2):  # Bonferroni over the two marginals
        m = _marginal(target, d)
        res = stats.dkwm_test(xs[:, d], lambda v, m=m: m.cdf(v[:, None]), ALPHA / 2)
        assert res.passed, (d, res.sup_distance, res.epsilon)
    # joint CDF at the registered points, z-tests under the claim (Bonferroni over the points)
    pts = guidance.toy_points("square_2d")
    counts = (xs[:, None, :] <= pts[None]).all(-1).sum(0)
    for c, f in zip(counts, target.cdf(pts)):
        assert stats.z_test_proportion(int(c), n, float(f), ALPHA / len(pts)).passed


@cpu
def test_discretisation_error_is_first_order_in_T():
    """sup|F_N - F| shrinks like 1/T: detected at small T, and the fitted order is 1.

    Tolerance on the order: the noise of each KS distance is below 0.003 (N = 1e5), against
    errors of 0.05..0.012, so the log-log slope is known to about +-0.1; the band (0.75, 1.25)
    also absorbs the O(1/T^2) term at T = 25 and rejects orders 1/2 and 2.
    """
    rows = guidance.discretisation_error((25, 50, 100), particles=100_000, seed=5, alpha=ALPHA)
    assert rows[0]["ks"] > rows[0]["dkwm_eps"]  # the finite-T bias is real and detected
    logT = np.log([r["T"] for r in rows])
    loge = np.log([r["ks"] for r in rows])
    order = -np.polyfit(logT, loge, 1)[0]
    assert 0.75 < order < 1.25, (order, rows)
    for r in rows:  # and T * error is about the same constant (about 1.2 on this toy)
        assert 0.6 < r["T"] * r["ks"] < 2.0, rows


@cpu
def test_mean_and_eps_rules_differ_at_finite_T():
    """The 1/alpha_t factor: at T = 10 the two rules give measurably different laws."""
    n = 50_000
    a = guidance.sample("bimodal_1d", y=0, T=10, mode="mean", particles=n, seed=3)[:, 0]
    b = guidance.sample("bimodal_1d", y=0, T=10, mode="eps", particles=n, seed=4)[:, 0]
    se = math.sqrt(a.var() / n + b.var() / n)
    assert abs(a.mean() - b.mean()) > stats.z_threshold(ALPHA) * se


@cpu
@pytest.mark.parametrize("gamma", [3.0, 0.5])
def test_gamma_not_one_misses_the_tilted_law(gamma):
    r = guidance.gamma_mismatch(gamma, T=200, particles=20_000 * SCALE, seed=9, alpha=ALPHA)
    assert r["sup_distance"] > r["epsilon"]  # rejected at alpha = 1e-6
    # by how much: the sampled mean is off the tilted mean by many standard errors
    assert abs(r["mean"] - r["tilted_mean"]) > stats.z_threshold(ALPHA) * r["mean_se"]
    # the discrepancy is not a discretisation effect: it stays as T grows
    r2 = guidance.gamma_mismatch(gamma, T=800, particles=20_000 * SCALE, seed=10, alpha=ALPHA)
    assert r2["sup_distance"] > 0.1


@cpu
def test_numba_sampler_agrees_with_numpy_baseline():
    """Two implementations, same discretisation (T = 20): two-sample DKWM at alpha = 1e-6."""
    n, T = 40_000, 20
    sch = num.cosine_schedule(T)
    a = guidance.sample("bimodal_1d", y=0, T=T, particles=n, seed=21)[:, 0]
    b = num.sample_numpy(mx.BIMODAL_1D, 0, sch, 1.0, n, np.random.default_rng(22))[:, 0]
    grid = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(np.sort(a), grid, side="right") / n
    fb = np.searchsorted(np.sort(b), grid, side="right") / n
    eps = 2 * stats.dkwm_epsilon(n, ALPHA / 2)
    assert np.abs(fa - fb).max() <= eps


@cpu
def test_prior_start_and_linear_schedule_run():
    xs = guidance.sample(
        "two_class_1d", y=0, T=300, schedule="linear", start="prior", variance="beta", particles=20_000, seed=2
    )[:, 0]
    target = mx.TWO_CLASS_1D.conditional(0)
    res = stats.dkwm_test(xs, lambda v: target.cdf(v[:, None]), ALPHA)
    assert res.passed, (res.sup_distance, res.epsilon)


@cpu
def test_results_depend_only_on_seed_and_streams():
    a = guidance.sample("bimodal_1d", T=20, particles=1000, seed=5, streams=7)
    b = guidance.sample("bimodal_1d", T=20, particles=1000, seed=5, streams=7)
    c = guidance.sample("bimodal_1d", T=20, particles=1000, seed=6, streams=7)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@cpu
def test_far_class_does_not_underflow():
    # A class whose components are 60 standard deviations away: the class weights all underflow
    # against the overall maximum, and the kernel must switch to the class maximum (no NaN).
    mix = mx.Mixture.make([0.5, 0.5], [[-30.0], [30.0]], [0.5, 0.5], [0, 1])
    xs = guidance.sample(mix, y=1, T=50, start="prior", particles=2000, seed=1)
    assert np.all(np.isfinite(xs))


@cpu
@pytest.mark.parametrize("y", [0, 1])
def test_one_step_is_the_exact_linear_map_also_far_from_class_y(y):
    """T = 1, ε-space, posterior variance (σ_1 = 0): x_0 = A x_1 + B exactly, x_1 ~ N(0, 1).

    Class 1 is two components at 60 and 64 (s = 0.1): from x_1 ~ N(0, 1) their log-weights
    are below -40000 and differ by about 8000, so for y = 1 every class-y weight underflows
    (or is clamped) and the step must take the exactly shifted path, which gives the one at 60
    all the class weight; for y = 0 it takes the fast one.  Either way the class-1 terms of Z
    are 0 in double precision, so ∇log p_1(x) = -x/v_0 and x_0 ~ N(B, A²) (DKWM, alpha 1e-6).
    """
    mix = mx.Mixture.make([0.5, 0.25, 0.25], [[0.0], [60.0], [64.0]], [0.5, 0.1, 0.1], [0, 1, 1])
    ab, gamma, n = 0.99, 2.0, 20_000
    xs = guidance.sample(
        mix, y=y, gamma=gamma, T=1, schedule=[1.0, ab], mode="eps", start="prior", particles=n, seed=4
    )[:, 0]
    alpha, beta2 = ab, 1 - ab * ab  # alpha_1 = alpha_bar_1 / alpha_bar_0
    v = ab * ab * mix.stds**2 + (1 - ab * ab)
    c = gamma * beta2 / alpha
    # x_0 = x/alpha + (beta^2/alpha - c) * score + c * score_y, score = -x/v_0
    score_y = (-1 / v[0], 0.0) if y == 0 else (-1 / v[1], ab * 60.0 / v[1])  # slope, intercept
    A = 1 / alpha - (beta2 / alpha - c) / v[0] + c * score_y[0]
    B = c * score_y[1]
    assert np.all(np.isfinite(xs))
    res = stats.dkwm_test(xs, lambda u: 0.5 * (1 + np.vectorize(math.erf)((u - B) / (abs(A) * math.sqrt(2)))), ALPHA)
    assert res.passed, (res.sup_distance, res.epsilon, A, B)


@cpu
def test_lanes_are_independent_particles():
    """The LANES particles of one body call (consecutive rows) are uncorrelated.

    A body whose lanes shared normals would give identical rows; z-test on each pairwise
    correlation of the 4 columns of rows grouped by call (Bonferroni over the 6 pairs).
    """
    assert num.LANES == 4
    n = 4 * 10_000
    xs = guidance.sample("bimodal_1d", y=0, T=50, particles=n, seed=8)[:, 0].reshape(-1, 4)
    r = np.corrcoef(xs.T)
    bound = stats.z_threshold(ALPHA / 6) / math.sqrt(xs.shape[0])
    assert np.all(np.abs(r[np.triu_indices(4, 1)]) < bound), r


@cpu
def test_particles_need_not_fill_the_last_group():
    a = guidance.sample("square_2d", T=10, particles=1001, seed=5, streams=7)
    b = guidance.sample("square_2d", T=10, particles=1001, seed=5, streams=7)
    assert a.shape == (1001, 2) and np.array_equal(a, b) and np.all(np.isfinite(a))
    assert len(np.unique(a[:, 0])) == 1001  # no lane left unfilled or copied


@cpu
def test_weight_exp_within_one_ulp():
    """e^x on [-700, 0] (random, and every table node k ln2/64) within 2^-52 relative, vs mpmath."""
    rng = np.random.default_rng(1)
    nodes = -np.arange(64 * 10) * math.log(2) / 64
    xs = np.concatenate([-rng.uniform(0, 700, 3000), -rng.exponential(1.0, 3000), nodes, [-700.0, 0.0, -1e-300]])
    for x in xs:
        truth = mpmath.exp(mpmath.mpf(float(x)))
        assert abs(mpmath.mpf(num.weight_exp(float(x))) - truth) <= truth * 2.0**-52, x
    # below the floor the value is the floor's: positive and normal, never garbage from the bits
    assert num.weight_exp(-1e300) == num.weight_exp(-math.inf) == num.weight_exp(num.EXP_FLOOR) > 2.0**-1022


@pytest.mark.cuda
def test_cuda_sampler_matches_cpu_bit_for_bit():
    params = num.pack_sampler(mx.SQUARE_2D, 1, num.cosine_schedule(4), 2.0, mode="eps")
    cpu_x = num.sample_particles(params, 40, seed=3, streams=16, device="cpu")
    gpu_x = num.sample_particles(params, 40, seed=3, streams=16, device="cuda")
    if SIMULATOR:
        assert np.array_equal(cpu_x, gpu_x)
    else:  # the GPU's libm may round the last bit of exp/log differently
        assert np.allclose(cpu_x, gpu_x, rtol=1e-12, atol=1e-12)
