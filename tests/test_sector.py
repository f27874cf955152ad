"""The sector result: exact values, Hypothesis over (n, theta), two simulators, bad input."""

from __future__ import annotations

import math

import mpmath
import numba
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

import closedform.sector as sector
from closedform.derive import sector as d
from closedform.numeric import sector as num
from closedform.numeric import stats
from closedform.numeric.rng import make_states
from closedform.numeric.target import SIMULATOR
from closedform.proofs.sector import EXACT_VALUES
from closedform.spec import ParameterError

from .conftest import THOROUGH

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs tests/test_cuda.py")

ALPHA = 1e-6  # false-failure rate of each stochastic example
TRIALS = 4 * 10**6 if THOROUGH else 10**6
#: Discrepancy each simulation example must be able to detect with power 0.99.
DELTA = 0.005

thetas = st.floats(1e-3, 2 * math.pi, allow_nan=False).filter(lambda t: 0 < t <= 2 * math.pi)

EXACT = EXACT_VALUES


@pytest.mark.parametrize("n, turn, value", EXACT)
def test_exact_rationals(n, turn, value):
    p = sector.probability(n, 2 * sp.pi * turn)
    assert p.expr == value and p.expr.is_Rational


def test_four_ducks_and_latex():
    p = sector.probability(4, "pi")
    assert p.expr == sp.Rational(1, 2)
    assert p.latex() == r"P_{4}{\left(\pi \right)} = \frac{1}{2}"
    assert p._repr_latex_().startswith("$")


def test_symbolic_n_small_angle():
    n = sp.Symbol("n", integer=True, positive=True)
    theta = sp.Symbol("theta", positive=True)
    assert sp.simplify(d.probability_small_angle(n, theta) - n * (theta / (2 * sp.pi)) ** (n - 1)) == 0
    general = sector.probability("n", "theta").expr
    assert isinstance(general, sp.Piecewise)


@given(n=st.integers(1, 30), theta=thetas)
@example(n=1, theta=1e-3).via("n = 1 is certain")
@example(n=30, theta=2 * math.pi).via("theta = 2 pi is certain")
@example(n=30, theta=5.0).via("deep cancellation of the alternating sum")
@example(n=7, theta=math.pi).via("breakpoint theta = pi")
def test_closed_form_matches_oracle(n, theta):
    mpmath.mp.dps = 40
    truth = num.sector_oracle(n, mpmath.mpf(theta))
    closed = float(sector.probability(n, theta))
    # 1e-12 relative: the 30-digit closed form rounded to double is within 1 ulp of the truth.
    assert abs(closed - float(truth)) <= 1e-12 * float(truth)


@given(n=st.integers(2, 30), theta=thetas, seed=st.integers(0, 2**32))
def test_simulation_matches_closed_form(n, theta, seed):
    p = float(sector.probability(n, theta))
    assert stats.min_detectable_discrepancy(p, TRIALS, ALPHA, 0.99) <= DELTA
    est = sector.simulate(n, theta, trials=TRIALS, seed=seed)
    (z,) = est.z_tests([p], ALPHA)
    assert z.passed, str(z)


@given(n=st.integers(2, 9), theta=st.floats(0.3, 6.2), seed=st.integers(0, 2**32))
def test_faithful_and_reduced_simulators_agree(n, theta, seed):
    """Two independent routes (disk points + containment vs gaps): two-sample z-test at ALPHA."""
    trials = 4 * 10**5
    a = sector.simulate(n, theta, trials=trials, seed=seed, method="disk")
    b = sector.simulate(n, theta, trials=trials, seed=seed + 1, method="reduced")
    pooled = (a.value + b.value) / 2
    se = math.sqrt(max(pooled * (1 - pooled), 1e-300) * 2 / trials)
    assert abs(a.value - b.value) <= stats.z_threshold(ALPHA) * se or se == 0 and a.value == b.value


def test_certain_region():
    for n in range(2, 12):
        assert sector.probability(n, d.certain_angle(n)).expr == 1
        assert sector.probability(n, 2 * sp.pi).expr == 1


def test_identity_and_expected_gap():
    x = sp.Symbol("x")
    for n in range(1, 15):
        assert sp.expand(d.alternating_sum(n, x).doit()) == 1
    assert [d.expected_largest_spacing(n) for n in (2, 3, 5, 10)] == [
        sp.Rational(3, 4),
        sp.Rational(11, 18),
        sp.Rational(137, 300),
        sp.Rational(7381, 25200),
    ]


def test_same_seed_same_counts():
    a = sector.simulate(5, 4.0, trials=10**5, seed=42)
    b = sector.simulate(5, 4.0, trials=10**5, seed=42)
    assert (a.totals == b.totals).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0, "theta": "pi"}, "n must be an integer in 1..100"),
        ({"n": 2.5, "theta": "pi"}, "n must be an integer"),
        ({"n": 4, "theta": 7}, r"theta must lie in \(0, 2\*pi\]"),
        ({"n": 4, "theta": 0}, r"theta must lie in \(0, 2\*pi\]"),
        ({"n": 4, "theta": float("nan")}, "theta must be a finite number"),
        ({"n": 4, "theta": "pi", "trials": 0}, "trials must be a positive integer"),
        ({"n": 4, "theta": "pi", "trials": 1.5}, "trials must be a positive integer"),
        ({"n": 4, "theta": "pi", "device": "tpu"}, "device must be one of cpu, cuda"),
        ({"n": 4, "theta": "pi", "method": "exact"}, "method must be"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        sector.simulate(**kwargs)


def test_largest_uniform_times_k_stays_below_k():
    # largest_crossing_gap indexes bucket uint64(u * k) without a clamp: the
    # largest uniform the generator returns must land in bucket k - 1.
    u_max = ((2**52 - 1) + 0.5) * 2.0**-52
    assert u_max < 1.0
    assert all(int(u_max * k) == k - 1 for k in range(1, 1 << 14))


@numba.njit
def _gaps_both_ways(seed_states, n, k, trials):
    """Per trial, the crossing-gap value with k buckets and the sorted largest gap, from identical draws."""
    crossing = np.empty(trials)
    sorted_gap = np.empty(trials)
    scratch = np.zeros(2 * max(n, k))
    work = np.empty(max(n, 1))
    for t in range(trials):
        before = seed_states.copy()
        crossing[t] = num.largest_crossing_gap(seed_states, 0, n - 1, k, scratch)
        for i in range(n - 1):
            work[i] = num.uniform(before, 0)
        pts = np.sort(work[: n - 1])
        prev = 0.0
        best = 0.0
        for v in pts:
            best = max(best, v - prev)
            prev = v
        sorted_gap[t] = max(best, 1.0 - prev)
        if np.any(scratch != 0.0):
            crossing[t] = np.nan  # the scratch contract (zero in, zero out) was broken
    return crossing, sorted_gap


@numba.njit
def _register_and_sorted_gaps(states, n, trials):
    """Per trial, the register-sort largest gap and the gap of the same draws sorted by np.sort."""
    ours = np.empty(trials)
    sorted_gap = np.empty(trials)
    work = np.empty(max(n - 1, 1))
    for t in range(trials):
        before = states.copy()
        ours[t] = num.largest_gap_of_three(states, 0, n - 1)
        for i in range(n - 1):
            work[i] = num.uniform(before, 0)
        prev = 0.0
        best = 0.0
        for v in np.sort(work[: n - 1]):
            best = max(best, v - prev)
            prev = v
        sorted_gap[t] = max(best, 1.0 - prev)
    return ours, sorted_gap


@pytest.mark.parametrize("n", range(1, num.REGISTER_N + 1))
def test_register_sort_gives_the_largest_gap(n):
    ours, sorted_gap = _register_and_sorted_gaps(make_states(13, 1), n, 20000)
    assert np.array_equal(ours, sorted_gap)  # the same subtractions of the same sorted values


@pytest.mark.parametrize("n", [2, 3, 8, 17, 40])
def test_crossing_gap_is_the_largest_gap_with_n_buckets(n):
    crossing, sorted_gap = _gaps_both_ways(make_states(11, 1), n, n, 20000)
    # 1 - (1 - lo) rounds lo by at most 2**-53; nothing else differs.
    assert np.all(np.abs(crossing - sorted_gap) <= 2.0**-52)


@pytest.mark.parametrize(
    "n, theta", [(9, 1.5 * math.pi), (16, 0.7), (16, math.pi), (30, 1.9 * math.pi), (12, 2 * math.pi)]
)
def test_threshold_test_with_fewer_buckets_decides_exactly(n, theta):
    _, a, k = num.pack_sector(n, theta)
    crossing, sorted_gap = _gaps_both_ways(make_states(12, 1), n, int(k), 50000)
    assert not np.isnan(crossing).any()
    # Same decision on every trial except within rounding of the threshold (none expected in 50000).
    near = np.abs(sorted_gap - a) <= 2.0**-50
    assert np.array_equal((crossing >= a)[~near], (sorted_gap >= a)[~near])
    # And every gap it reports is a real gap: never larger than the largest.
    assert np.all(crossing <= sorted_gap + 2.0**-52)


@pytest.mark.parametrize("n", [45, 60, 100])
def test_small_angle_value_is_not_rounded_to_zero(n):
    """n (θ/2π)^(n-1) is tiny for large n; it must stay the exact rational (nsimplify once made it 0)."""
    assert sector.probability(n, "pi/3").expr == n * sp.Rational(1, 6) ** (n - 1)


def test_points_above_the_stated_bound_are_refused_at_once():
    with pytest.raises(ParameterError, match=r"n must be an integer in 1\.\.100"):
        sector.probability(10**6, "3*pi/2")
