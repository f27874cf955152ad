"""The coarse-uniform argmin behind uniform and exponential noise (numeric/coarse_argmin.py).

Two claims.  (1) Every coarse decision is the refined one: trial by trial, on
the same generator state, the sampler and a copy that refines every trial
return the same class (deterministic, no tolerance).  (2) The law is exact:
with 6-bit coarse uniforms, so that a large share of trials is refined, the
class frequencies pass per-class z-tests against the closed forms at a
Bonferroni-split α, with a sample that detects a 0.01 error of any class
with probability 0.99.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from closedform import reparam
from closedform.numeric import coarse_argmin as coarse
from closedform.numeric import stats
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.target import SIMULATOR
from closedform.spec import ParameterError

from .conftest import THOROUGH

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs tests/test_reparam_cuda.py")

#: Scores that stress the decision: the post's example, ties, a class exactly
#: one noise width behind (a tie of the uniform's support), far classes, one
#: class, odd counts that leave a padded chunk.
SCORES = {
    "post": [0.3, 0.0, -0.5, 0.2],
    "ties": [0.0, 0.0, 0.0, 0.5, 0.5],
    "width": [1.0, 0.0, 0.999, 0.25],
    "far": [0.0, 5.0, 10.0],
    "one": [0.7],
    "many": list(np.linspace(-1.5, 1.5, 17)),
}
FAMILIES = {"uniform": True, "exponential": False}  # noise: additive keys


def _params(mu, additive, chunk_bits):
    return np.array([0.0, len(mu), *mu, *coarse.pack_keys(mu, additive, chunk_bits)])


def _decisions_agree(additive, chunk_bits):
    fast = coarse.interval_argmin(additive, chunk_bits)
    refined = coarse.interval_argmin(additive, chunk_bits, always_refine=True)

    @numba.njit
    def compare(params, n, s0, s1, trials):
        mismatches = 0
        refinements = 0
        for _ in range(trials):
            a, t0, t1 = fast(s0, s1, params, n)
            b, u0, u1 = refined(s0, s1, params, n)
            mismatches += a != b
            refinements += (t0 == u0) and (t1 == u1)  # the sampler refined too: same draws used
            s0, s1 = t0, t1
        return mismatches, refinements

    return compare


@pytest.mark.parametrize("chunk_bits", [6, coarse.CHUNK_BITS])
@pytest.mark.parametrize("noise", list(FAMILIES))
def test_every_coarse_decision_is_the_refined_one(noise, chunk_bits):
    additive = FAMILIES[noise]
    compare = _decisions_agree(additive, chunk_bits)
    trials = 20_000 if chunk_bits == 6 else 200_000
    for name, mu in SCORES.items():
        states = np.array([[0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9]], dtype=np.uint64)
        mismatches, refinements = compare(
            _params(mu, additive, chunk_bits), len(mu), states[0, 0], states[0, 1], trials
        )
        assert mismatches == 0, (noise, name)
        if chunk_bits == 6 and len(mu) > 1 and name != "far":
            # The refined path is exercised: with 64 coarse values, some share of trials ties.
            assert refinements > trials // 100, (noise, name, refinements)
        if chunk_bits == coarse.CHUNK_BITS:
            # refinement_bound: at most 7 n(n-1) 2^-30 of trials, none expected in these samples.
            assert refinements <= 2, (noise, name, refinements)


LAW_TRIALS = 2_000_000 if THOROUGH else 400_000
LAW_ALPHA = 1e-6


@pytest.mark.parametrize("noise", list(FAMILIES))
def test_law_with_coarse_uniforms_of_six_bits(noise):
    additive = FAMILIES[noise]
    body = coarse.interval_argmin(additive, chunk_bits=6)

    @numba.njit
    def trial(s0, s1, params, scratch):
        return body(s0, s1, params, int(params[1]))

    kernel = StreamKernel(trial, acc_width=lambda p: int(p[1]), outcome="category_ts", acc_capacity=32)
    tests_per_case = {name: len(mu) for name, mu in SCORES.items()}
    a = stats.bonferroni(LAW_ALPHA / len(FAMILIES), sum(tests_per_case.values()))
    for name, mu in SCORES.items():
        claimed = np.clip(reparam.evaluate(noise, mu), 0.0, 1.0)
        run = kernel.run(_params(mu, additive, 6), LAW_TRIALS, seed=11, streams=256)
        counts = run.totals
        assert counts.sum() == LAW_TRIALS
        for c, p in zip(counts, claimed):
            test = stats.z_test_proportion(int(c), LAW_TRIALS, float(p), a)
            assert test.passed, (noise, name, test)
        # Power: an error of 0.01 in the likeliest class is detected w.p. 0.99.
        assert stats.min_trials_for_proportion_test(float(claimed.max()), 0.01, a) <= LAW_TRIALS


def test_a_class_behind_by_the_support_width_never_wins():
    # Uniform noise on [0, 1]: class 1 at mu - 1 wins only on a tie of probability 0.
    est = reparam.simulate("uniform", [1.0, 0.0], trials=200_000, seed=4)
    assert est.totals.tolist() == [200_000, 0]


def test_more_classes_than_the_key_index_holds_is_a_clear_error():
    with pytest.raises(ParameterError, match="mu must have 1 to 1048576 entries"):
        reparam.simulate("uniform", [0.0] * (2**20 + 1), trials=10)
