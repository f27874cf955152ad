"""The batched Normal-noise evaluator (value and Jacobian-vector product) against mpmath.

Deterministic checks: every comparison is against an oracle at 30 digits with the
issue's stated absolute tolerance, 1e-10 (the evaluator's own truncation and
quadrature errors are designed to stay below 1e-14; 1e-10 is the contract).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedform.numeric.noise import law_oracle
from closedform.numeric.reparam import normal_law, normal_law_oracle, normal_law_vjp
from closedform.spec import ParameterError

from .conftest import THOROUGH

ATOL = 1e-10  # the accuracy contract for C <= 1000 and |m_i - m_j| <= 50


def _oracle(m):
    return np.array([float(v) for v in normal_law_oracle(m)])


def _jacobian_oracle(m):
    """J_il = -∫ φ(x-m_i) φ(x-m_l) Π_{j≠i,l} Φ(x-m_j) dx by tanh-sinh at 30 digits; J_ii from zero row sums."""
    c = len(m)
    with mpmath.workdps(30):
        ms = [mpmath.mpf(float(v)) for v in m]
        split = [-mpmath.inf, *sorted(set(ms)), mpmath.inf]
        jac = [[mpmath.mpf(0)] * c for _ in range(c)]
        for i in range(c):
            for l in range(i + 1, c):

                def f(x, i=i, l=l):
                    rest = mpmath.fprod(mpmath.ncdf(x - ms[j]) for j in range(c) if j not in (i, l))
                    return -mpmath.npdf(x - ms[i]) * mpmath.npdf(x - ms[l]) * rest

                jac[i][l] = jac[l][i] = mpmath.quad(f, split)
        for i in range(c):
            jac[i][i] = -mpmath.fsum(jac[i][l] for l in range(c) if l != i)
        return np.array([[float(v) for v in row] for row in jac])


def test_reference_values_of_math_md():
    # MATH.md §1.6 quotes the Normal law at mu = (0.3, 0, -0.5, 0.2) to 10 digits.
    quoted = np.array([0.3485862717, 0.2341264850, 0.1108045477, 0.3064826957])
    p = normal_law([[0.3, 0.0, -0.5, 0.2]])[0]
    assert np.max(np.abs(p - quoted)) <= 0.5e-10 + 1e-15
    assert np.max(np.abs(_oracle([0.3, 0.0, -0.5, 0.2]) - quoted)) <= 0.5e-10 + 1e-15


@settings(max_examples=40 if THOROUGH else 8)
@given(st.lists(st.floats(-25.0, 25.0), min_size=1, max_size=50 if THOROUGH else 5))
def test_law_matches_oracle(mu):
    # The quantile-form oracle of closedform.numeric.noise, another route than the panel oracle.
    with mpmath.workdps(30):
        truth = np.array([float(v) for v in law_oracle("normal", mu)])
    assert np.max(np.abs(normal_law(np.array(mu)[None])[0] - truth)) <= ATOL


@pytest.mark.parametrize(
    "spread, distinct, seed",
    [(25.0, 40, 0), (1.0, 20, 1), (0.2, 10, 3)] + ([(5.0, 50, 2), (0.05, 5, 4)] if THOROUGH else []),
)
def test_law_matches_oracle_for_a_thousand_classes(spread, distinct, seed):
    # C = 1000 classes on `distinct` values (the oracle groups equal logits); the
    # narrow case is the hardest for the quadrature: G = Π Φ is sharpest there.
    rng = np.random.default_rng(seed)
    m = np.repeat(rng.uniform(-spread, spread, size=distinct), 1000 // distinct)
    assert m.size == 1000
    assert np.max(np.abs(normal_law(m[None])[0] - _oracle(m))) <= ATOL


@settings(max_examples=20 if THOROUGH else 6)
@given(st.lists(st.floats(-8.0, 8.0), min_size=2, max_size=5), st.data())
def test_vjp_matches_oracle_jacobian(mu, data):
    m = np.array(mu)
    cot = np.array(data.draw(st.lists(st.floats(-3.0, 3.0), min_size=m.size, max_size=m.size)))
    p, g = normal_law_vjp(m[None], cot[None])
    jac = _jacobian_oracle(m)
    assert np.max(np.abs(g[0] - jac @ cot)) <= ATOL * max(1.0, np.abs(cot).sum())
    assert np.array_equal(p, normal_law(m[None]))


def test_batched_rows_are_independent_and_sum_to_one():
    rng = np.random.default_rng(3)
    m = rng.normal(size=(64, 12)) * 3
    p = normal_law(m)
    assert np.max(np.abs(p.sum(axis=1) - 1)) < 1e-12
    for b in (0, 17, 63):
        assert np.array_equal(p[b], normal_law(m[b : b + 1])[0])
    # Shift invariance, up to the float rounding of the shifted logits.
    assert np.max(np.abs(normal_law(m + 7.25) - p)) < 1e-12


def test_one_class_and_ties():
    assert normal_law([[4.0]]).tolist() == [[1.0]]
    p = normal_law(np.zeros((1, 7)))
    assert np.max(np.abs(p - 1 / 7)) < 1e-14


@pytest.mark.parametrize(
    "bad, match",
    [
        ([[0.0, np.nan]], "m must be finite"),
        ([[0.0, np.inf]], "m must be finite"),
        ([0.0, 1.0], r"shape \(B, C\)"),
        (np.zeros((2, 0)), r"C >= 1"),
        ([["a", "b"]], "real array"),
    ],
)
def test_bad_logits_are_refused(bad, match):
    with pytest.raises(ParameterError, match=match):
        normal_law(bad)


def test_bad_cotangent_is_refused():
    with pytest.raises(ParameterError, match="cot must have the shape of m"):
        normal_law_vjp([[0.0, 1.0]], [[1.0]])
    with pytest.raises(ParameterError, match="cot must be finite"):
        normal_law_vjp([[0.0, 1.0]], [[1.0, np.nan]])
