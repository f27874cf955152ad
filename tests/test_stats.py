"""The statistics helpers: thresholds, power, design, DKWM."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedform.numeric import stats


@pytest.mark.parametrize("alpha, z", [(1e-6, 4.89), (1e-7, 5.33), (1e-9, 6.11), (0.05, 1.96)])
def test_thresholds(alpha, z):
    assert round(stats.z_threshold(alpha), 2) == z


@given(p=st.floats(0.01, 0.99), delta=st.floats(0.001, 0.05))
def test_design_gives_the_power_it_promises(p, delta):
    n = stats.min_trials_for_proportion_test(p, delta, 1e-6, power=0.99)
    assert stats.power_of_proportion_test(p, delta, n, 1e-6) >= 0.99 - 1e-9
    # and it is not wildly conservative: 20% fewer trials lose the power
    assert stats.power_of_proportion_test(p, delta, int(0.8 * n), 1e-6) < 0.99


def test_detectable_discrepancy_inverts_design():
    d = stats.min_detectable_discrepancy(0.3, 10**6, 1e-6, 0.99)
    n = stats.min_trials_for_proportion_test(0.3, d, 1e-6, 0.99)
    assert abs(n - 10**6) / 10**6 < 1e-3


def test_z_test_rejects_and_accepts():
    assert stats.z_test_proportion(500_000, 10**6, 0.5, 1e-6).passed
    assert not stats.z_test_proportion(503_000, 10**6, 0.5, 1e-6).passed  # z = 6
    assert not stats.z_test_proportion(1, 10, 0.0, 1e-6).passed  # impossible under the claim
    assert stats.z_test_proportion(10, 10, 1.0, 1e-6).passed


def test_z_test_mean_uses_spread_about_claim():
    x = np.full(1000, 2.0)
    t = stats.z_test_mean(x.sum(), (x * x).sum(), x.size, 2.0, 1e-6)
    assert t.passed and t.z == 0.0
    t = stats.z_test_mean(x.sum(), (x * x).sum(), x.size, 1.0, 1e-6)
    # all mass at 2 vs claim 1: spread about the claim is 1, so z = 1 / sqrt(1/1000)
    assert math.isclose(t.z, math.sqrt(1000)) and not t.passed


def test_dkwm():
    assert math.isclose(stats.dkwm_epsilon(10**4, 1e-6), math.sqrt(math.log(2e6) / 2e4))
    u = (np.arange(10_000) + 0.5) / 10_000
    assert stats.dkwm_test(u, lambda x: x, 1e-6).passed
    assert not stats.dkwm_test(u**2, lambda x: x, 1e-6).passed


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1])
def test_bad_alpha(bad):
    with pytest.raises(ValueError, match="alpha"):
        stats.z_threshold(bad)
