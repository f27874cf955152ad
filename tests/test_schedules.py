"""Diffusion conventions: the Su <-> Ho conversion table, Ho's and Song's formulas, named schedules."""

from __future__ import annotations

import itertools
import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from closedform import udm
from closedform.derive import schedules as sch
from closedform.derive import udm as d
from closedform.numeric import guidance as ng
from closedform.numeric import udm_oracles as nuo
from closedform.spec import ParameterError

unit = st.fractions(min_value="1/100", max_value="99/100", max_denominator=997)


def _f(e):
    return float(sp.N(e, 30))


@given(a=unit, ab=unit)
def test_round_trip_at_rationals(a, ab):
    a, ab = sp.Rational(a.numerator, a.denominator), sp.Rational(ab.numerator, ab.denominator)
    ho = sch.ho_from_su(a, ab)
    assert ho == {"alpha": a**2, "beta": 1 - a**2, "alpha_bar": ab**2}
    back = sch.su_from_ho(ho["alpha"], ho["alpha_bar"])
    assert back["alpha"] == a and back["alpha_bar"] == ab
    assert sp.simplify(back["beta"] ** 2 - (1 - a**2)) == 0 and sp.simplify(back["beta_bar"] ** 2 - (1 - ab**2)) == 0
    table = {
        k: v.subs({sch.alpha: a, sch.beta: sp.sqrt(1 - a**2), sch.alpha_bar: ab, sch.beta_bar: sp.sqrt(1 - ab**2)})
        for k, v in sch.HO_FROM_SU.items()
    }
    assert table["alpha_t (Ho)"] == ho["alpha"] and table["alpha_bar_t (Ho)"] == ho["alpha_bar"]
    assert sp.simplify(table["1 - alpha_bar_t (Ho)"] - (1 - ho["alpha_bar"])) == 0


@given(a=unit, abp=unit)
def test_ho_posterior_equals_su_posterior(a, abp):
    """Ho et al. eq. (7) in Ho's variables equals the Su-notation DDPM posterior after squaring."""
    a, abp = sp.Rational(a.numerator, a.denominator), sp.Rational(abp.numerator, abp.denominator)
    ho = sch.ho_ddpm_posterior(a**2, a**2 * abp**2, abp**2)
    su = d.ddpm_posterior_coefficients(a, abp)
    for h, s in zip(ho, su):
        assert sp.simplify(h - s) == 0
    # and DDPM's sigma from the general family equals Song's eta = 1
    assert abs(_f(sch.ho_ddim_sigma(1, a**2 * abp**2, abp**2)) - _f(d.ddpm_sigma(a, abp))) < 1e-14


def test_mixing_conventions_is_detected():
    """Using Ho's alpha where Su's is expected gives a different (wrong) posterior: the test can fail."""
    a, abp = sp.Rational(9, 10), sp.Rational(3, 5)
    wrong = d.ddpm_posterior_coefficients(a**2, abp**2)  # Ho's numbers fed into Su's formula
    right = sch.ho_ddpm_posterior(a**2, a**2 * abp**2, abp**2)
    assert any(sp.simplify(w - r) != 0 for w, r in zip(wrong, right))


def test_cosine_schedule_is_square_root_of_nichol():
    T = 50
    ab = udm.alpha_bar_schedule("cosine", T)
    s = 0.008
    f = [math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2 for t in range(T + 1)]
    for t in (1, 10, 25, 49):
        assert abs(float(ab[t]) ** 2 - f[t] / f[0]) < 1e-14
    assert udm.alpha_bar_schedule("cosine_s0", 4)[2] == sp.sqrt(2) / 2
    assert udm.alpha_bar_schedule("cosine_s0", 4)[4] == 0


def test_linear_schedule_is_hos_product():
    ab = sch.schedule_alpha_bars("linear", 1000)
    mpmath.mp.dps = 30
    prod = mpmath.mpf(1)
    for t in range(1, 11):
        prod *= 1 - (mpmath.mpf("1e-4") + (mpmath.mpf("0.02") - mpmath.mpf("1e-4")) * (t - 1) / 999)
        assert abs(mpmath.mpf(sp.N(ab[t] ** 2, 30)) - prod) < mpmath.mpf("1e-25")
    assert sp.simplify(sch.linear_alpha_bar(3, 1000) ** 2 - ab[3] ** 2) == 0
    # rescaled to few steps the schedule still ends near pure noise and decreases strictly
    few = [float(v) for v in sch.schedule_alpha_bars("linear", 10)]
    assert all(x > y for x, y in itertools.pairwise(few)) and few[-1] < 0.01


@pytest.mark.parametrize(
    "bad, match",
    [
        ([0.9, 0.95], "strictly decreasing"),
        ([1.0, 0.5], "strictly decreasing"),
        ([0.5, -0.1], "lie in"),
        ("quadratic", "schedule must be one of"),
    ],
)
def test_bad_schedules_are_clear_errors(bad, match):
    with pytest.raises(ParameterError, match=match):
        udm.alpha_bar_schedule(bad, None if not isinstance(bad, str) else 10)


def test_schedule_length_must_match_T():
    with pytest.raises(ParameterError, match="T = 3"):
        udm.alpha_bar_schedule([0.9, 0.5], 3)


def test_beta_bar_and_ho_ddim():
    assert sch.beta_bar_of(sp.Rational(3, 5)) == sp.Rational(4, 5)
    c0, ct, s = sch.ho_ddim_coefficients(sp.Rational(9, 25) * sp.Rational(81, 100), sp.Rational(9, 25), 0)
    g0, gt, _ = d.general_posterior_coefficients(sp.Rational(3, 5), sp.Rational(27, 50), 0)
    assert sp.simplify(c0 - g0) == 0 and sp.simplify(ct - gt) == 0 and s == 0


def test_one_schedule_table_feeds_every_view():
    """derive.schedules.SCHEDULES is the one table: udm validates names against it, numeric.udm_oracles reads
    it at 50 digits and numeric.guidance builds its float64 views from its parameters.

    Tolerance 1e-12: the float view accumulates log1p over at most 50 steps from double-precision
    inputs (errors ~1e-15); only the last cosine step differs, where the float view clips Ho's
    beta_t at 0.999 so that alpha_T > 0.
    """
    assert udm.SCHEDULES is sch.SCHEDULES and set(ng.SCHEDULES) == set(sch.SCHEDULES)
    T = 50
    for name, named in sch.SCHEDULES.items():
        exact = [float(sp.N(a, 30)) for a in sch.alpha_bar_schedule(name, T)]
        mp50 = [float(a) for a in nuo.schedule_mpf(name, T)]
        flt = ng.make_schedule(name, T).alpha_bar
        last = T if named.family == "linear" else T - 1
        assert mp50 == exact
        assert max(abs(flt[t] - exact[t]) for t in range(last + 1)) <= 1e-12, name


def test_extra_checks_belong_to_their_results():
    """Each extra verify row is attached where its Result is defined, and names that Result."""
    assert udm.HOT_PLUGIN.extra_checks == (udm.plugin_table_check,)
    assert udm.EDIT_V2.extra_checks == (udm.discrete_enumeration_check,)
    row = udm.discrete_enumeration_check(udm.EDIT_V2)
    assert (row.result, row.status) == (udm.EDIT_V2.name, "pass")
    assert udm.plugin_table_check(udm.HOT_PLUGIN).result == udm.HOT_PLUGIN.name
