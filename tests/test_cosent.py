"""CoSENT: O(B log B) vs O(B^2) vs mpmath, the invariances, the post's tables, bad input."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

import closedform.cosent as cs
from closedform.derive import cosent as d
from closedform.numeric import cosent as num
from closedform.numeric.target import SIMULATOR
from closedform.spec import ParameterError

from .conftest import THOROUGH

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs tests/test_cuda.py")

#: The issue's agreement target between the two exact algorithms (value relative; gradient relative to max |g|).
AGREE = 1e-12


@st.composite
def batches(draw, max_size=300):
    B = draw(st.integers(1, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    levels = draw(st.sampled_from([1, 2, 3, 6, 1000]))
    lam = draw(st.sampled_from([0.5, 1.0, 20.0, 45.0]))
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.6, size=B), rng.integers(0, levels, size=B).astype(float), lam


@given(batches())
@example((np.array([0.3, 0.3, 0.3]), np.array([0.0, 1.0, 1.0]), 20.0))
def test_sort_kernel_matches_pair_sum(batch):
    f, y, lam = batch
    lf, gf = cs.cosent_loss(f, y, lam, grad=True)
    lp, gp = cs.cosent_loss(f, y, lam, grad=True, method="pairs")
    assert abs(lf - lp) <= AGREE * abs(lp)
    assert np.abs(gf - gp).max() <= AGREE * max(np.abs(gp).max(), 1e-300)
    ln, gn = num.cosent_pairs_numpy(f, y, lam)
    assert abs(ln - lp) <= AGREE * abs(lp) and np.abs(gn - gp).max() <= AGREE * max(np.abs(gp).max(), 1e-300)


def test_agreement_at_the_benchmark_size():
    rng = np.random.default_rng(4096)
    for levels in (2, 5, 4096):
        f, y = rng.normal(size=4096), rng.integers(0, levels, size=4096).astype(float)
        lf, gf = cs.cosent_loss(f, y, 20.0, grad=True)
        lp, gp = cs.cosent_loss(f, y, 20.0, grad=True, method="pairs")
        assert abs(lf - lp) <= AGREE * lp and np.abs(gf - gp).max() <= AGREE * np.abs(gp).max()


@given(batches(max_size=25))
def test_sort_kernel_matches_mpmath(batch):
    f, y, lam = batch
    lf, gf = cs.cosent_loss(f, y, lam, grad=True)
    with mpmath.workdps(30):
        o = num.cosent_oracle(f.tolist(), y.tolist(), lam)
        # float64 exponents up to lam * 2 max|f| ~ 100: error <= 100 * 2^-52 relative, plus the sums
        assert abs(lf - float(o)) <= 1e-13 * max(float(o), 1e-300) or (o == 0 and lf == 0)
        exact = d.cosent_gradient([sp.Float(v, 30) for v in f], y.tolist(), sp.Float(lam, 30))
        gx = np.array([float(sp.N(e, 30)) for e in exact])
    assert np.abs(gf - gx).max() <= 1e-13 * max(np.abs(gx).max(), 1e-300)


@given(batches(max_size=60), st.floats(-5, 5))
def test_invariances(batch, c):
    f, y, lam = batch
    base, g = cs.cosent_loss(f, y, lam, grad=True)
    assert base >= 0.0
    assert abs(cs.cosent_loss(f + c, y, lam) - base) <= 1e-12 * max(base, 1e-300) + 1e-15
    # any strictly increasing map of the labels: the same groups in the same order, so bit-identical
    for g_map in (lambda v: np.exp(v / 100), lambda v: v**3, lambda v: 2 * v + 1):
        assert cs.cosent_loss(f, g_map(y), lam) == base
    assert abs(g.sum()) <= 1e-12 * max(np.abs(g).max(), 1e-300) * len(f) + 1e-300


def test_degenerate_batches():
    f = np.array([0.1, 0.9, -0.3, 0.4])
    assert cs.cosent_loss(f, np.full(4, 2.0), 20.0, grad=True) == (0.0, pytest.approx(np.zeros(4), abs=0))
    y = np.array([0.0, 1, 1, 2])
    assert cs.cosent_loss(np.full(4, 0.5), y, 20.0) == pytest.approx(math.log(6), rel=1e-15)
    assert cs.cosent_loss(np.array([0.7]), np.array([1.0]), 3.0) == 0.0


def test_binary_factorisation_and_ties():
    rng = np.random.default_rng(5)
    f, y = rng.normal(size=40), rng.integers(0, 2, size=40).astype(float)
    neg, pos = f[y == 0], f[y == 1]
    fact = math.log1p(np.exp(20 * neg).sum() * np.exp(-20 * pos).sum())
    assert abs(cs.cosent_loss(f, y, 20.0) - fact) <= 1e-13 * fact
    # ties make no pair: tied scores may be in any order
    y3, f3 = np.array([0.0, 0.0, 1.0]), np.array([-2.0, -1.0, 3.0])
    assert cs.cosent_loss(f3, y3, 5.0) == cs.cosent_loss(f3[[1, 0, 2]], y3, 5.0)
    assert cs.cosent_loss(f3, y3, 5.0) < 1e-8  # a well-ordered batch with ties reaches ~0; '<=' could not


def test_large_lambda_tends_to_largest_violation():
    f = np.array([0.3, -0.5, 0.8, 0.1])
    y = np.array([0.0, 1, 1, 2])
    M = float(d.max_violation(f.tolist(), y.tolist()))
    for lam in (10.0, 100.0, 1000.0):
        gap = cs.cosent_loss(f, y, lam) / lam - M
        assert 0 <= gap <= math.log(1 + 5) / lam


#: Post 9341's two result tables as printed there: four tasks and the printed avg, per model.
POST_9341_TABLES = {
    "spearman": [
        ("BERT+CE", 48.01, 71.96, 78.53, 68.59, 66.77),
        ("BERT+CoSENT", 48.09, 72.25, 78.70, 69.34, 67.10),
        ("RoBERTa+CE", 49.70, 73.20, 79.13, 70.52, 68.14),
        ("RoBERTa+CoSENT", 49.82, 73.09, 78.78, 70.54, 68.06),
    ],
    "accuracy": [
        ("BERT+CE", 85.38, 83.57, 88.10, 81.45, 84.63),
        ("BERT+CoSENT", 85.55, 83.73, 87.92, 81.85, 84.76),
        ("RoBERTa+CE", 85.97, 84.67, 88.14, 82.85, 85.41),
        ("RoBERTa+CoSENT", 86.06, 84.23, 88.14, 83.03, 85.37),
    ],
}
TABLE_ROWS = [(t, row) for t, rows in POST_9341_TABLES.items() for row in rows]


@pytest.mark.parametrize("table, row", TABLE_ROWS, ids=lambda v: v if isinstance(v, str) else v[0])
def test_post_table_averages_recomputed(table, row):
    model, *tasks, printed = row
    data = cs.POST_TABLES[table][model]
    assert [float(v) for v in data] == [*tasks, printed]  # the package's copy is the post's table
    recomputed = {m: a for m, a, _ in cs.table_averages(table)}[model]
    assert float(recomputed) == printed  # half-up rounding of the exact decimal mean
    assert abs(sum(tasks) / 4 - printed) <= 0.005 + 1e-9


def test_python_round_would_miss_two_averages():
    assert round(84.625, 2) == 84.62 and d.mean_half_up(["84.625"]) == sp.Rational(8463, 100)
    assert cs.largest_gain("spearman", "BERT+CE", "BERT+CoSENT") == ("PAWSX", sp.Rational(3, 4))


BAD = [
    (lambda: cs.cosent_loss(np.ones(3), np.ones(4)), "same length"),
    (lambda: cs.cosent_loss(np.array([0.1, np.nan]), np.ones(2)), "scores must be finite"),
    (lambda: cs.cosent_loss(np.ones(2), np.array([1.0, np.inf])), "labels must be finite"),
    (lambda: cs.cosent_loss(np.ones(2), np.ones(2), lam=0), "lam must be a finite number > 0"),
    (lambda: cs.cosent_loss(np.ones(2), np.ones(2), lam=-1.0), "lam must be a finite number > 0"),
    (lambda: cs.cosent_loss(np.ones(2), np.ones(2), lam=float("nan")), "lam must be a finite number > 0"),
    (lambda: cs.cosent_loss(np.ones(0), np.ones(0)), "must not be empty"),
    (lambda: cs.cosent_loss(np.ones((2, 2)), np.ones((2, 2))), "1-d arrays"),
    (lambda: cs.cosent_loss(np.ones(2), np.array(["a", "b"])), "labels must be real numbers"),
    (lambda: cs.cosent_loss(np.ones(2), np.ones(2), method="fast"), "method must be one of"),
    (lambda: cs.COSENT.formula(f="[1, 2]", y="[1]", lam=1), "same length"),
    (lambda: cs.COSENT.formula(f="[1, 2]", y="[1, 2]", lam=0), "lam must lie in"),
    (lambda: cs.table_averages("f1"), "table must be one of"),
    # issue 14: complex arrays, and lam (f_i - f_j) beyond float64 (it gave NaN)
    (lambda: cs.cosent_loss(np.ones(2) + 1j, np.ones(2)), "scores must be real numbers"),
    (lambda: cs.cosent_loss(np.ones(2), np.ones(2), lam=1 + 1j), "lam must be a finite number > 0"),
    (lambda: cs.cosent_loss(np.array([1e308, -1e308]), np.array([0, 1])), r"lam \* max\|scores\| must be at most"),
    (lambda: cs.cosent_loss(np.array([1.0, 0.0]), np.array([0, 1]), lam=1e308), r"lam \* max\|scores\|"),
]


@pytest.mark.parametrize("method", cs.METHODS)
def test_scores_at_the_limit_give_the_exact_finite_loss(method):
    # One violating pair, lam (f_0 - f_1) = 2 SCALED_LIMIT: L = log(1 + e^{2 S}) = 2 S exactly in float64,
    # dL/df = lam (1, -1) (the pair's weight e^{2S}/(1 + e^{2S}) rounds to 1).
    S = cs.SCALED_LIMIT
    loss, g = cs.cosent_loss(np.array([1.0, -1.0]), np.array([0, 1]), lam=S, grad=True, method=method)
    assert loss == 2 * S and np.array_equal(g, [S, -S])


@pytest.mark.parametrize("call, message", BAD)
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(ParameterError, match=message):
        call()


@pytest.mark.skipif(not THOROUGH, reason="larger batches under the thorough profile")
def test_agreement_many_large_batches():
    rng = np.random.default_rng(10145)
    for _ in range(20):
        B = int(rng.integers(1000, 4097))
        f, y = rng.normal(size=B), rng.integers(0, int(rng.integers(2, 20)), size=B).astype(float)
        lf, gf = cs.cosent_loss(f, y, 20.0, grad=True)
        lp, gp = cs.cosent_loss(f, y, 20.0, grad=True, method="pairs")
        assert abs(lf - lp) <= AGREE * lp and np.abs(gf - gp).max() <= AGREE * np.abs(gp).max()
