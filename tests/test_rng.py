"""The per-stream RNG: bit-exact against numba-cuda's xoroshiro128+, open-interval uniforms,
and chunking/threading independence of the driver."""

from __future__ import annotations

import math

import mpmath
import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedform.numeric import rng, stats
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.target import SIMULATOR, scalar_jit

pytestmark = pytest.mark.skipif(SIMULATOR, reason="compiled-RNG tests; the simulator job runs tests/test_rng_cuda.py")

MASK = (1 << 64) - 1


def _next_reference(s0: int, s1: int) -> tuple[int, int, int]:
    """xoroshiro128+ (55, 14, 36) written independently with Python integers."""
    out = (s0 + s1) & MASK
    s1 ^= s0
    rot = lambda v, k: ((v << k) | (v >> (64 - k))) & MASK  # noqa: E731
    return out, rot(s0, 55) ^ s1 ^ ((s1 << 14) & MASK), rot(s1, 36)


@given(seed=st.integers(0, 2**64 - 1), streams=st.integers(1, 6))
def test_states_match_numba_cuda_random(seed, streams):
    from numba.cuda.random import init_xoroshiro128p_states_cpu, xoroshiro128p_dtype

    theirs = np.empty(streams, dtype=xoroshiro128p_dtype)
    init_xoroshiro128p_states_cpu(theirs, np.uint64(seed), np.uint64(0))
    ours = rng.make_states(seed, streams)
    assert (ours[:, 0] == theirs["s0"]).all() and (ours[:, 1] == theirs["s1"]).all()


@given(seed=st.integers(0, 2**64 - 1))
def test_next_matches_reference_and_numba(seed):
    from numba.cuda.random import xoroshiro128p_dtype, xoroshiro128p_next

    states = rng.make_states(seed, 1)
    theirs = np.empty(1, dtype=xoroshiro128p_dtype)
    theirs["s0"], theirs["s1"] = states[0, 0], states[0, 1]
    s0, s1 = int(states[0, 0]), int(states[0, 1])
    for _ in range(50):
        ref, s0, s1 = _next_reference(s0, s1)
        assert int(rng.next_uint64(states, 0)) == ref == int(xoroshiro128p_next(theirs, 0))


def test_jump_python_matches_compiled():
    states = rng.make_states(12345, 3)
    s0, s1 = int(states[0, 0]), int(states[0, 1])
    for i in (1, 2):
        s0, s1 = rng._jump_python(s0, s1)
        assert (s0, s1) == (int(states[i, 0]), int(states[i, 1]))


def test_chunks_are_slices_of_the_whole():
    whole = rng.make_states(99, 10)
    for first in (0, 3, 7):
        assert (rng.make_states(99, 10 - first, first_stream=first) == whole[first:]).all()


def test_uniform_open_interval_extremes():
    # The smallest and largest 53-bit values still map strictly inside (0, 1).
    states = np.zeros((1, 2), dtype=np.uint64)
    assert rng.uniform(states, 0) == 2.0**-53  # output 0
    states[0] = [2**64 - 1, 0]
    u = rng.uniform(states, 0)  # output 2**64 - 1
    assert 0.0 < u < 1.0 and u == 1.0 - 2.0**-53


@pytest.mark.parametrize("bad", [-1, 2**64])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be an integer"):
        rng.make_states(bad, 2)


@scalar_jit
def _sum_uniform_trial(states, stream, params, scratch, acc):
    acc[0] += rng.uniform(states, stream)


_SUM = StreamKernel(_sum_uniform_trial, acc_width=lambda p: 1, integer=False)


def test_result_independent_of_thread_count():
    params = np.zeros(1)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _SUM.run(params, 10_001, seed=5, streams=37).out
        numba.set_num_threads(max(2, before))
        many = _SUM.run(params, 10_001, seed=5, streams=37).out
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, many)


def test_chunked_run_equals_whole_run():
    params = np.zeros(1)
    whole = _SUM.run(params, 1000, seed=3, streams=40)
    a = _SUM.run(params, 1000, seed=3, streams=25, first_stream=0, total_streams=40)
    b = _SUM.run(params, 1000, seed=3, streams=15, first_stream=25, total_streams=40)
    assert np.array_equal(np.vstack([a.out, b.out]), whole.out)
    assert a.trials + b.trials == whole.trials == 1000


# ----------------------------------------------------------------------------
# Ziggurat samplers: tables, laws, draws per variate, simulator parity
# ----------------------------------------------------------------------------

ALPHA = 1e-6  # false-failure rate of each stochastic test below (Bonferroni-split inside a test)

#: name -> (tables, mpmath f, mpmath tail mass beyond x, |X| two-sided band CDF complement)
_ZIG = {
    "normal": (
        rng.ZIGGURAT_NORMAL,
        lambda x: mpmath.exp(-x * x / 2),
        lambda x: mpmath.sqrt(mpmath.pi / 2) * mpmath.erfc(x / mpmath.sqrt(2)),
    ),
    "exponential": (rng.ZIGGURAT_EXPONENTIAL, lambda x: mpmath.exp(-x), lambda x: mpmath.exp(-x)),
    "cauchy": (rng.ZIGGURAT_CAUCHY, lambda x: 1 / (1 + x * x), lambda x: mpmath.atan(1 / x)),
}

#: P(|X| > x) of each sampler, in mpmath (laplace: |X| is exponential).
_ABS_SURVIVAL = {
    "normal": lambda x: mpmath.erfc(x / mpmath.sqrt(2)),
    "exponential": lambda x: mpmath.exp(-x),
    "laplace": lambda x: mpmath.exp(-x),
    "cauchy": lambda x: 2 * mpmath.atan(1 / x) / mpmath.pi if x > 0 else mpmath.mpf(1),
}
_DRAW_TS = {
    "normal": rng.normal_ts,
    "exponential": rng.exponential_ts,
    "laplace": rng.laplace_ts,
    "cauchy": rng.cauchy_ts,
}
_TABLES_OF = {"normal": "normal", "exponential": "exponential", "laplace": "exponential", "cauchy": "cauchy"}
_SIGNED = {"normal": True, "exponential": False, "laplace": True, "cauchy": True}


@pytest.mark.parametrize("name", list(_ZIG))
def test_ziggurat_layers_have_equal_area_and_close(name):
    z, f, tail = _ZIG[name]
    x = z.x
    n = z.layers
    with mpmath.workdps(40):
        v = x[1] * f(x[1]) + tail(x[1])
        assert abs(v - mpmath.mpf(z.v)) < 1e-15 * v
        assert abs(x[0] * f(x[1]) - v) < mpmath.mpf(10) ** -35  # the base box [0, x_0) x [0, f(r))
        for i in range(1, n):
            assert abs(x[i] * (f(x[i + 1]) - f(x[i])) - v) < mpmath.mpf(10) ** -30, i
        assert x[n] == 0 and all(x[i] > x[i + 1] for i in range(1, n))


def test_ziggurat_bases_match_the_published_constants():
    # Marsaglia & Tsang (2000), 256 layers: r and v of the normal and the exponential.
    assert rng.ZIGGURAT_NORMAL.r == pytest.approx(3.6541528853610088, rel=1e-15)
    assert rng.ZIGGURAT_NORMAL.v == pytest.approx(4.92867323399e-3, rel=1e-11)
    assert rng.ZIGGURAT_EXPONENTIAL.r == pytest.approx(7.69711747013104972, rel=1e-15)
    assert rng.ZIGGURAT_EXPONENTIAL.v == pytest.approx(3.9496598225815571993e-3, rel=1e-15)


@pytest.mark.parametrize("name", list(_ZIG))
def test_core_points_lie_under_the_curve(name):
    # The largest odd m below k_i gives a float abscissa below x_{i+1}: every
    # fast-path point is under the curve; and the first m at or above k_i is
    # not far past it (the core is not needlessly small).
    z = _ZIG[name][0]
    xs = [float(v) for v in z.x]
    for i in range(z.layers):
        k = int(z.k[i])
        if k > 0:
            top = k - 1 if (k - 1) % 2 else k - 2
            assert top * z.w[i] <= xs[i + 1], i
        first_out = k if k % 2 else k + 1
        assert first_out * z.w[i] >= xs[i + 1] * (1 - 1e-15), i


@pytest.mark.parametrize("name", ["normal", "exponential"])
def test_wedge_bands_contain_the_curve(name):
    # Denser than the grid the bands were computed on: the curve must stay inside.
    z = _ZIG[name][0]
    f = {"normal": lambda x: np.exp(-0.5 * x * x), "exponential": lambda x: np.exp(-x)}[name]
    xs = np.array([float(v) for v in z.x])
    t = np.linspace(0.0, 1.0, 20_001)
    for i in range(1, z.layers):
        f0, df, dxinv, lo, hi = z.wedge[i]
        assert dxinv == pytest.approx(1 / (xs[i] - xs[i + 1]), rel=1e-15)
        u = (f(xs[i] - t * (xs[i] - xs[i + 1])) - f0) / df
        assert np.all(u >= t - lo) and np.all(u <= t + hi), i
        assert lo + hi < 0.25  # a band this thin decides most wedge points without f


@numba.njit
def _wedge_decisions(which, layers, ms, us, signs):
    out = np.empty(layers.size, dtype=np.bool_)
    for q in range(layers.size):
        i = layers[q]
        if which == 0:
            k, w = rng._zn_layer(2 * i + signs[q])
            out[q] = rng._zn_wedge_accepts(i, ms[q] * w, w, us[q])
        elif which == 1:
            k, w = rng._ze_layer(2 * i + signs[q])
            out[q] = rng._ze_wedge_accepts(i, ms[q] * abs(w), w, us[q])
        else:
            k, w = rng._zc_layer(2 * i + signs[q])
            out[q] = rng._zc_wedge_accepts(i, ms[q] * w, us[q])
    return out


@pytest.mark.parametrize("which, name", [(0, "normal"), (1, "exponential"), (2, "cauchy")])
def test_wedge_decisions_are_the_exact_test(which, name):
    """Every wedge decision (band squeeze, then f) equals the plain test y < f(x).

    Points of every layer's wedge, half of them with u inside the band, where
    f itself decides; points within 1e-12 of the curve are left out (there the
    last bit of exp decides, as it does in the plain test).
    """
    z = _ZIG[name][0]
    f = {0: lambda x: np.exp(-0.5 * x * x), 1: lambda x: np.exp(-x), 2: lambda x: 1 / (1 + x * x)}[which]
    gen = np.random.default_rng(which)
    per = 400
    layers = np.repeat(np.arange(1, z.layers), per)
    k = z.k[layers]
    # Odd m in [k_i, 2^bits): the abscissae of the wedge, as the sampler makes them.
    ms = (gen.integers(k // 2, 2 ** (z.bits - 1), size=layers.size) * 2 + 1).astype(np.int64)
    signs = gen.integers(0, 2, size=layers.size)
    x = np.abs(ms * z.w[layers])
    xs = np.array([float(v) for v in z.x])
    t = (xs[layers] - x) / (xs[layers] - xs[layers + 1])
    us = gen.random(layers.size)
    if which < 2:  # half the points inside the band around the curve
        lo, hi = z.wedge[layers, 3], z.wedge[layers, 4]
        inside = gen.random(layers.size) < 0.5
        us = np.where(inside, np.clip(t - lo + gen.random(layers.size) * (lo + hi), 1e-9, 1 - 1e-9), us)
    f0, f1 = z.f[layers], z.f[layers + 1]
    y = f0 + us * (f1 - f0)
    truth = y < f(x)
    clear = np.abs(y - f(x)) > 1e-12
    got = _wedge_decisions(which, layers, ms, us, signs)
    assert np.array_equal(got[clear], truth[clear])
    assert clear.mean() > 0.99 and 0.05 < truth.mean() < 0.95


# --- laws -------------------------------------------------------------------


@numba.njit
def _fill(draw_ts, s0, s1, out):
    for i in range(out.size):
        out[i], s0, s1 = draw_ts(s0, s1)
    return s0, s1


@numba.njit
def _survey(draw_ts, s0, s1, n, asc, signed, thresholds, exceed, tail, tail_out):
    """Counts of (sign, layer band) of |X|, of X > each threshold, and the first values of |X| - tail."""
    nb = asc.size
    counts = np.zeros(2 * nb, dtype=np.int64)
    kept = 0
    for _ in range(n):
        v, s0, s1 = draw_ts(s0, s1)
        a = abs(v)
        band = nb - np.searchsorted(asc, a, side="right")  # 0: a >= x_1 (the tail); i: x_{i+1} <= a < x_i
        counts[band + (nb if signed and v < 0 else 0)] += 1
        for k in range(thresholds.size):
            if v > thresholds[k]:
                exceed[k] += 1
        if a >= tail and kept < tail_out.size:
            tail_out[kept] = a - tail
            kept += 1
    return counts, kept


@numba.njit
def _normal_cdf(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = 0.5 * math.erfc(-x[i] / math.sqrt(2.0))
    return out


_CDF = {
    "normal": _normal_cdf,
    "exponential": lambda x: -np.expm1(-x),
    "laplace": lambda x: np.where(x < 0, 0.5 * np.exp(np.minimum(x, 0)), 1 - 0.5 * np.exp(-np.maximum(x, 0))),
    "cauchy": lambda x: 0.5 + np.arctan(x) / np.pi,
}


@pytest.mark.parametrize("name", list(_DRAW_TS))
def test_whole_cdf_within_the_dkwm_band(name):
    # 2e6 draws: at alpha = 1e-6 the band is eps = 0.0019; any CDF off by 2 eps
    # somewhere fails with probability >= 1 - alpha (the empirical CDF is within
    # eps of the true one with that probability).
    n = 2 * 10**6
    s = rng.make_states(20240525, 1)
    x = np.empty(n)
    _fill(_DRAW_TS[name], s[0, 0], s[0, 1], x)
    assert np.all(np.isfinite(x))
    test = stats.dkwm_test(x, _CDF[name], ALPHA)
    assert test.passed, (name, test)
    assert 2 * test.epsilon < 0.004


@pytest.mark.parametrize("name", list(_DRAW_TS))
def test_layer_bands_tails_and_signs(name):
    """Every band [x_{i+1}, x_i) of every layer, by sign, and the tail probabilities, by z-tests.

    A wedge or tail error, or a sign not independent of the layer, moves the
    mass of some band; with n draws each of the 2N band tests at
    alpha / (2N + 3) detects a relative discrepancy of about 8.4 / sqrt(n p)
    with power 0.99: 6% for a typical band, 25% for the rarest (asserted
    below).  Then the law of |X| - r beyond the base r against its exact
    conditional CDF (DKWM).
    """
    z = _ZIG[_TABLES_OF[name]][0]
    n = 3 * 10**7 * z.layers // 256  # the same draws per band for the 512-layer Cauchy
    xs = [mpmath.mpf(v) for v in z.x]
    asc = np.array([float(v) for v in xs[:0:-1]])  # x_N = 0, x_{N-1}, ..., x_1 = r
    nb = asc.size
    survival = _ABS_SURVIVAL[name]
    signed = _SIGNED[name]
    r = float(xs[1])
    thresholds = np.array([3.5, r] if name == "normal" else [r, 1.5 * r] if name != "laplace" else [r])
    exceed = np.zeros(thresholds.size, dtype=np.int64)
    tail_out = np.empty(100_000)
    s = rng.make_states(9085, 1)
    counts, kept = _survey(_DRAW_TS[name], s[0, 0], s[0, 1], n, asc, signed, thresholds, exceed, r, tail_out)
    with mpmath.workdps(30):
        band_p = [survival(xs[1])] + [survival(xs[i + 1]) - survival(xs[i]) for i in range(1, nb)]
        one_sided = [survival(mpmath.mpf(t)) / (2 if signed else 1) for t in thresholds]
    claimed = [float(p) / 2 for p in band_p] * 2 if signed else [float(p) for p in band_p] + [0.0] * nb
    n_tests = 2 * nb + len(thresholds)
    a = stats.bonferroni(ALPHA, n_tests)
    failures = [
        (k, t)
        for k, (c, p) in enumerate(zip(counts, claimed))
        if not (t := stats.z_test_proportion(int(c), n, p, a)).passed
    ]
    failures += [
        (float(t), test)
        for t, c, p in zip(thresholds, exceed, one_sided)
        if not (test := stats.z_test_proportion(int(c), n, float(p), a)).passed
    ]
    assert not failures, failures[:5]
    positive = sorted(p for p in claimed if p > 0)
    typical, rarest = positive[len(positive) // 2], positive[0]
    assert stats.min_detectable_discrepancy(typical, n, a) < 0.06 * typical
    assert stats.min_detectable_discrepancy(rarest, n, a) < 0.25 * rarest
    # Beyond r: |X| - r has the conditional law (survival(r + t) / survival(r)).
    tail = tail_out[:kept]
    assert kept > 5000
    with mpmath.workdps(20):
        sr = survival(xs[1])
        cond = np.vectorize(lambda t: float(1 - survival(xs[1] + mpmath.mpf(t)) / sr))
    test = stats.dkwm_test(tail, cond, ALPHA)
    assert test.passed, test


# --- draws per variate -------------------------------------------------------


@numba.njit
def _steps_between(s0, s1, t0, t1):
    """How many 64-bit draws lead from state (s0, s1) to (t0, t1); -1 past 100000."""
    c = 0
    while s0 != t0 or s1 != t1:
        _, s0, s1 = rng.next_ts(s0, s1)
        c += 1
        if c > 100_000:
            return -1
    return c


@numba.njit
def _count_draws(draw_ts, s0, s1, n):
    """Sum and sum of squares of the 64-bit draws each variate consumed (state distance)."""
    total = 0
    total_sq = 0
    for _ in range(n):
        _, t0, t1 = draw_ts(s0, s1)
        c = _steps_between(s0, s1, t0, t1)
        if c < 0:
            return -1, -1
        s0, s1 = t0, t1
        total += c
        total_sq += c * c
    return total, total_sq


@pytest.mark.parametrize(
    "name, claimed",
    [
        ("normal", rng.NORMAL_DRAWS),
        ("exponential", rng.EXPONENTIAL_DRAWS),
        ("laplace", rng.EXPONENTIAL_DRAWS),
        ("cauchy", rng.CAUCHY_DRAWS),
    ],
)
def test_expected_draws_per_variate_are_honest(name, claimed):
    # The stated expectation (Wald's identity on the tables) against the draws
    # actually consumed by 1e6 variates; se ~ 2e-4, so a claim off by 0.2% fails.
    n = 10**6
    s = rng.make_states(31, 1)
    total, total_sq = _count_draws(_DRAW_TS[name], s[0, 0], s[0, 1], n)
    assert total > 0
    test = stats.z_test_mean(float(total), float(total_sq), n, claimed, ALPHA)
    assert test.passed, test
    assert test.stderr * (test.threshold + 2.33) < 0.002 * claimed


def test_draws_per_trial_of_the_argmax_samplers_are_honest():
    from closedform.numeric import noise as nz

    mu = [0.3, 0.0, -0.5, 0.2, 1.1]
    trials = 2 * 10**5
    a = stats.bonferroni(ALPHA, len(nz.SPECIAL_SAMPLERS) + 1)
    for noise in [*nz.SPECIAL_SAMPLERS, "logistic"]:
        params = nz.pack_argmax(noise, mu)
        kernel = nz.argmax_kernel().trial
        states = rng.make_states(77, 1)
        total, total_sq = _count_trial_draws(kernel, states, params, trials)
        test = stats.z_test_mean(float(total), float(total_sq), trials, nz.draws_per_trial(noise, len(mu)), a)
        assert test.passed, (noise, test)


@numba.njit
def _count_trial_draws(trial, states, params, n):
    total = 0
    total_sq = 0
    scratch = np.empty(1)
    s0, s1 = states[0, 0], states[0, 1]
    for _ in range(n):
        _, t0, t1 = trial(s0, s1, params, scratch)
        c = _steps_between(s0, s1, t0, t1)
        s0, s1 = t0, t1
        if c < 0:
            return -1, -1
        total += c
        total_sq += c * c
    return total, total_sq


# --- the compiled samplers against the simulator's plain-Python ones ----------

_PARITY_SCRIPT = """
import numpy as np
from closedform.numeric import rng
s = rng.make_states(2718, 4)
out = []
for k, f in enumerate((rng.normal, rng.exponential, rng.laplace, rng.cauchy)):
    out += [f(s, k) for _ in range(PER)]
out += [rng.uniform(s, 0) for _ in range(10)]
print(np.array(out, dtype=np.float64).tobytes().hex())
"""


def test_compiled_samplers_match_the_simulator_bit_for_bit():
    """The CUDA simulator runs rng.py's plain-Python integer branch: same bits as the compiled CPU code.

    40000 variates of each sampler, so that the tails and wedges (0.03% to 3%
    of the draws) are exercised too; the slow paths' hits are counted below.
    """
    import os
    import subprocess
    import sys

    per = 40_000
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    script = _PARITY_SCRIPT.replace("PER", str(per))
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    theirs = np.frombuffer(bytes.fromhex(res.stdout.strip()), dtype=np.float64)
    s = rng.make_states(2718, 4)
    ours = []
    for k, f in enumerate((rng.normal, rng.exponential, rng.laplace, rng.cauchy)):
        ours += [f(s, k) for _ in range(per)]
    ours += [rng.uniform(s, 0) for _ in range(10)]
    ours = np.array(ours)
    assert theirs.shape == ours.shape
    assert np.array_equal(theirs.view(np.uint64), ours.view(np.uint64))
    normal, expo, _, cauchy = ours[:per], ours[per : 2 * per], ours[2 * per : 3 * per], ours[3 * per : 4 * per]
    assert (
        np.sum(np.abs(normal) > rng.ZN_R) > 0 and np.sum(expo > rng.ZE_R) > 0 and np.sum(np.abs(cauchy) > rng.ZC_R) > 0
    )


def test_ziggurat_tables_fit_in_cuda_constant_memory():
    # numba-cuda puts the module-level tables in constant memory (64 KiB per
    # kernel); the argmax kernel reads all three ziggurats.
    tables = (rng._ZN_K, rng._ZN_W, rng._ZN_E, rng._ZE_K, rng._ZE_W, rng._ZE_E, rng._ZC_K, rng._ZC_W, rng._ZC_F)
    assert sum(t.nbytes for t in tables) <= 60 * 1024
    assert all(t.flags.c_contiguous and t.dtype in (np.int64, np.float64) for t in tables)
