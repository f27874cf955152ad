"""ZLPR and the n m-class losses: kernels against mpmath, NumPy and each other; the post's claims; bad input.

Deterministic checks compare against mpmath definitions at 30 digits with a
relative tolerance of 1e-12 (float64 sums of at most ~50 positive terms with
exps within 1 ulp: the rounding bound is far below it) unless a test says why
it differs.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

import closedform.multiclass as mc
from closedform.cli import main
from closedform.derive import multiclass as d
from closedform.numeric import multiclass as num
from closedform.numeric.target import SIMULATOR
from closedform.spec import ParameterError

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs tests/test_cuda.py")

RTOL = 1e-12
FLOAT32_RTOL = 2.0**-24 + 1e-12  # float32 outputs are float64 results rounded once


def rel(a: float, b) -> float:
    b = float(b)
    return abs(a - b) / abs(b) if b else abs(a)


scores_1d = st.lists(st.floats(-60, 60, allow_nan=False, allow_subnormal=False), min_size=1, max_size=12)


@st.composite
def zlpr_rows(draw):
    s = draw(scores_1d)
    kinds = st.sampled_from([0.0, 1.0, None])
    t = []
    for _ in s:
        k = draw(kinds)
        t.append(draw(st.floats(0, 1)) if k is None else k)
    scale = draw(st.sampled_from([1.0, 1.0, 20.0]))  # 20: scores up to 1200, the shifted path
    return np.array(s) * scale, np.array(t)


@given(zlpr_rows())
@example((np.array([45.0, -45.0]), np.array([1.0, 0.0])))  # loss ~ 5.7e-20: relative precision through log1p
@example((np.array([-1e4, 3.0]), np.array([1e-30, 0.5])))  # 9064's pitfall: tiny soft label on a huge score
def test_zlpr_kernel_matches_oracle(row):
    s, t = row
    loss, g = mc.zlpr_loss(s[None], t[None], grad=True)
    with mpmath.workdps(30):
        assert rel(loss[0], num.zlpr_soft_oracle(s, t)) <= RTOL
        exact = d.zlpr_soft_gradient([sp.Float(x, 30) for x in s], [sp.Float(x, 30) for x in t])
        gref = np.array([float(sp.N(e, 30)) for e in exact])
    assert np.abs(g[0] - gref).max() <= RTOL * max(np.abs(gref).max(), 1e-300)
    assert loss[0] >= 0.0


def test_zlpr_kernel_matches_numpy_baseline_and_is_batched():
    rng = np.random.default_rng(1)
    s = rng.normal(size=(70, 33)) * 4  # 70 rows: more than one block of 64
    t = rng.uniform(size=(70, 33))
    loss, g = mc.zlpr_loss(s, t, grad=True)
    lref, gref = num.zlpr_numpy(s, t)
    assert np.abs(loss - lref).max() <= 1e-13 * np.abs(lref).max()
    assert np.abs(g - gref).max() <= 1e-13
    assert np.array_equal(mc.zlpr_loss(s, t), loss)  # value-only path equals


def test_mask_drops_entries_even_at_minus_1e7():
    rng = np.random.default_rng(2)
    s = rng.normal(size=(5, 9))
    t = rng.uniform(size=(5, 9))
    mask = rng.uniform(size=(5, 9)) < 0.7
    masked = np.where(mask, s, -1e7)  # GlobalPointer-style masking of the scores
    loss, g = mc.zlpr_loss(masked, t, mask=mask, grad=True)
    for b in range(5):
        keep = mask[b]
        lb, gb = mc.zlpr_loss(s[b, keep][None], t[b, keep][None], grad=True)
        assert rel(loss[b], lb[0]) <= 1e-15
        assert np.array_equal(g[b, ~keep], np.zeros((~keep).sum()))
        assert np.abs(g[b, keep] - gb[0]).max() <= 1e-15


@given(st.integers(1, 40), st.integers(0, 6), st.integers(0, 2**32 - 1), st.sampled_from([1.0, 300.0]))
def test_sparse_equals_dense_hard(C, K, seed, scale):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(3, C)) * scale
    pos = np.full((3, K + 1), -1, dtype=np.int64)
    hard = np.zeros((3, C))
    for b in range(3):
        k = min(K, C)
        pos[b, :k] = rng.choice(C, k, replace=False)
        pos[b, k] = pos[b, 0] if k else -1  # a repeated index counts once
        hard[b, pos[b, :k]] = 1.0
    ls, gs = mc.zlpr_sparse_loss(s, pos, grad=True)
    ld, gd = mc.zlpr_loss(s, hard, grad=True)
    assert np.abs(ls - ld).max() <= 1e-15 * max(np.abs(ld).max(), 1)
    assert np.abs(gs - gd).max() <= 1e-15
    with mpmath.workdps(30):
        for b in range(3):
            assert rel(ls[b], num.zlpr_hard_oracle(s[b], hard[b])) <= RTOL


def test_float32_is_float64_rounded_once_and_never_overflows():
    rng = np.random.default_rng(3)
    s = (rng.normal(size=(8, 50)) * 30).astype(np.float32)
    s[0, :5] = [90.0, -90.0, 1e4, -1e4, 3e38]  # exp of each overflows float32 (and 3e38 float64)
    t = rng.uniform(size=(8, 50)).astype(np.float32)
    l32, g32 = mc.zlpr_loss(s, t, grad=True)
    l64, _g64 = mc.zlpr_loss(s.astype(np.float64), t.astype(np.float64), grad=True)
    assert l32.dtype == np.float32 and g32.dtype == np.float32
    assert np.all(np.isfinite(l32)) and np.all(np.isfinite(g32))
    assert np.all(np.abs(l32 - l64) <= FLOAT32_RTOL * np.abs(l64))
    with mpmath.workdps(30):
        assert rel(float(l32[0]), num.zlpr_soft_oracle(s[0].astype(float), t[0].astype(float))) <= FLOAT32_RTOL


def test_fast_exp_within_one_ulp():
    xs = np.linspace(-700, 700, 20011)
    with mpmath.workdps(30):
        for x in xs[::97]:
            truth = mpmath.exp(mpmath.mpf(float(x)))
            assert abs(num.fast_exp(float(x)) - truth) <= 1.0 * float(truth) * 2.0**-52


def test_zlpr_soft_optimum_is_sigma_2s():
    t = np.array([[0.1, 0.35, 0.5, 0.8, 0.97]])
    s_star = 0.5 * np.log(t / (1 - t))
    _, g = mc.zlpr_loss(s_star, t, grad=True)
    assert np.abs(g).max() <= 1e-15
    assert np.allclose(mc.zlpr_probability(s_star), t, rtol=1e-14, atol=0)
    _, g_bce = mc.zlpr_loss(2 * s_star, t, grad=True)  # the BCE calibration sigma(s) = t
    assert np.abs(g_bce).max() > 0.05
    # threshold 0: predicted probability > 1/2 iff s > 0
    s = np.array([-3.0, -1e-9, 0.0, 1e-9, 2.0])
    assert list(mc.zlpr_probability(s) > 0.5) == list(s > 0)


@given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**32 - 1), st.sampled_from([1.0, 3.0, 250.0]))
@example(1, 2, 0, 250.0)  # loss 1e-28: caught a log(1 + x) oracle and a cumsum-minus-self baseline
def test_nm_kernels_match_oracles(n, m, seed, scale):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(2, n, m)) * scale
    T = rng.dirichlet(np.full(m, 0.7), size=(2, n))
    T[0, 0] = np.eye(m)[0]  # a hard row among soft ones
    y = rng.integers(0, m, size=(2, n))
    with mpmath.workdps(30):
        for kind, oracle, baseline in (
            ("loss1", num.nm_loss1_oracle, num.nm_loss1_numpy),
            ("loss3", num.nm_loss3_oracle, num.nm_loss3_numpy),
        ):
            loss, g = mc.nm_loss(S, T, kind=kind, grad=True)
            lref, gref = baseline(S, T)
            assert np.abs(g - gref).max() <= 1e-12 * max(np.abs(gref).max(), 1e-300)
            for b in range(2):
                truth = oracle(S[b].tolist(), T[b].tolist())
                assert rel(loss[b], truth) <= RTOL and rel(lref[b], truth) <= RTOL
            lh, gh = mc.nm_loss(S, y, kind=kind, grad=True)
            ld, gd = mc.nm_loss(S, np.eye(m)[y], kind=kind, grad=True)
            assert np.abs(lh - ld).max() <= 1e-14 * max(np.abs(ld).max(), 1) and np.abs(gh - gd).max() <= 1e-14
            Sx = [[sp.Float(v, 30) for v in row] for row in S[0]]
            Tx = [[sp.Float(v, 30) for v in row] for row in T[0]]
            exact = (d.nm_loss1_gradient if kind == "loss1" else d.nm_loss3_gradient)(Sx, Tx)
            gx = np.array([[float(sp.N(e, 30)) for e in exact.row(i)] for i in range(n)])
            assert np.abs(g[0] - gx).max() <= RTOL * max(np.abs(gx).max(), 1e-300)


def test_pathology_numbers_match_math_md():
    # Post 9158's failure case of loss-3: s = (10, 20, -30), target class 0: loss-3 = 4.5e-5 although argmax = 1; loss-1 = 10.0.
    S = np.array([[[10.0, 20.0, -30.0]]])
    l3 = float(mc.nm_loss(S, np.array([[0]]), kind="loss3")[0])
    l1 = float(mc.nm_loss(S, np.array([[0]]), kind="loss1")[0])
    assert f"{l3:.1e}" == "4.5e-05" and f"{l1:.1f}" == "10.0"
    assert int(np.argmax(S[0, 0])) == 1


@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_m2_reductions_numerically(n, seed):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(1, n, 2)) * 3
    t = rng.uniform(size=n)
    T = np.stack([t, 1 - t], axis=1)[None]
    gap = S[0, :, 0] - S[0, :, 1]
    l1 = mc.nm_loss(S, T, kind="loss1")[0]
    l3 = mc.nm_loss(S, T, kind="loss3")[0]
    assert rel(l1, mc.zlpr_loss(gap[None], t[None])[0]) <= 1e-14
    assert rel(l3, mc.zlpr_loss(gap[None] / 2, t[None])[0]) <= 1e-14


@given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_hard_labels_loss1_below_ce_and_equal_for_one_task(n, m, seed):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(n, m)) * 2
    T = np.eye(m)[rng.integers(0, m, size=n)]
    l1 = float(mc.nm_loss(S[None], T[None], kind="loss1")[0])
    with mpmath.workdps(30):
        ce = float(num.nm_cross_entropy_oracle(S.tolist(), T.tolist()))
        assert l1 <= ce * (1 + 1e-14)
        if n == 1:
            assert rel(l1, ce) <= RTOL


def test_loss3_stationary_at_softmax_and_loss1_not():
    rng = np.random.default_rng(9158)
    T = rng.dirichlet(np.full(3, 2.0), size=5)  # a reconstructed check of post 9158: n = 5, m = 3, Dirichlet(2)
    S = np.log(T)
    _, g3 = mc.nm_loss(S[None], T[None], kind="loss3", grad=True)
    _, g1 = mc.nm_loss(S[None], T[None], kind="loss1", grad=True)
    assert np.abs(g3).max() <= 1e-15
    assert np.abs(g1).max() > 0.01  # 0.199 for the reconstruction's own draw


def test_loss1_soft_optimum_is_no_softmax():
    rng = np.random.default_rng(9158)
    for _ in range(3):
        T = rng.dirichlet(np.full(3, 2.0), size=5)
        S, gnorm = mc.loss1_soft_optimum(T)
        assert gnorm <= 1e-12
        c, err = mc.softmax_scale_fit(S, T)
        # post 9158's conclusion: no c makes softmax(c s*) = t (c ~ 1.77 left 0.069 on another draw)
        assert err > 0.01, (c, err)
        scales = mc.implied_scales(S, T)
        assert scales.max() - scales.min() > 0.05
    # m = 2 is ZLPR: there c = 2 works exactly
    T2 = np.array([[0.3, 0.7], [0.9, 0.1]])
    S2, _ = mc.loss1_soft_optimum(T2)
    c2, err2 = mc.softmax_scale_fit(S2, T2)
    assert abs(c2 - 2) < 1e-6 and err2 < 1e-9


BAD = [
    (lambda: mc.zlpr_loss(np.ones((2, 3)), np.ones((2, 4))), "labels must have the shape"),
    (lambda: mc.zlpr_loss(np.array([[1.0, np.nan]]), np.ones((1, 2))), "scores must be finite"),
    (lambda: mc.zlpr_loss(np.ones((1, 2)), np.array([[0.5, 1.5]])), r"labels must lie in \[0, 1\]"),
    (lambda: mc.zlpr_loss(np.ones((1, 2)), np.array([[0.5, np.nan]])), r"labels must lie in \[0, 1\]"),
    (lambda: mc.zlpr_loss(np.ones((0, 3)), np.ones((0, 3))), "must not be empty"),
    (lambda: mc.zlpr_loss(np.ones(3), np.ones(3)), "2-d array"),
    (lambda: mc.zlpr_loss(np.ones((1, 2)), np.ones((1, 2)), mask=np.ones((1, 2))), "mask must be a bool array"),
    (lambda: mc.zlpr_sparse_loss(np.ones((1, 4)), np.array([[0, 4]])), r"class indices in \[0, 3\]"),
    (lambda: mc.zlpr_sparse_loss(np.ones((1, 4)), np.array([[0.5]])), "integer array"),
    (lambda: mc.nm_loss(np.ones((1, 2, 3)), np.array([[0, 3]])), r"class indices must lie in \[0, 2\]"),
    (lambda: mc.nm_loss(np.ones((1, 2, 3)), np.full((1, 2, 3), 0.5)), "label rows must sum to 1"),
    (lambda: mc.nm_loss(np.ones((1, 2, 3)), np.ones((1, 2, 3)) / 3, kind="loss2"), "kind must be one of"),
    (lambda: mc.nm_loss(np.ones((1, 2, 3)), np.ones((1, 3, 3)) / 3), "labels must have the shape"),
    (lambda: mc.ZLPR_SOFT.formula(s="[1, 2]", t="[1]"), "s and t must have the same shape"),
    (lambda: mc.ZLPR_SOFT.formula(s="[1, nan]", t="[1, 0]"), "'nan' is not allowed"),
    (lambda: mc.NM_LOSS1.formula(S="[[1, 2]]", T="[[1/2, 1/3]]"), "row 0 must sum to 1"),
    (lambda: mc.ZLPR_HARD.formula(s="[1, 2]", y="[1, 1/2]"), r"y\[1\] must be an integer in 0\.\.1"),
    (lambda: mc.loss1_soft_optimum([[0.0, 1.0]]), "positive rows"),
    # issue 14: probabilities above 1 or negative, complex arrays, and NaN were accepted silently
    (lambda: mc.softmax_scale_fit([[1.0, 0.0]], [[1.5, -0.5]]), r"labels must lie in \[0, 1\]"),
    (lambda: mc.softmax_scale_fit([[1.0, 0.0]], [[0.5, 0.25]]), "rows must sum to 1"),
    (lambda: mc.softmax_scale_fit([[1.0, 0.0, 2.0]], [[0.5, 0.5]]), "scores must have the shape of labels"),
    (lambda: mc.softmax_scale_fit([[1.0, np.nan]], [[0.5, 0.5]]), "scores must be finite"),
    (lambda: mc.implied_scales([[1.0, 0.0]], [[1.5, -0.5]]), r"labels must lie in \(0, 1\]"),
    (lambda: mc.implied_scales([[1.0, 0.0]], [[1.0, 0.0]]), r"labels must lie in \(0, 1\]"),
    (lambda: mc.implied_scales([[1.0 + 1j, 0.0]], [[0.5, 0.5]]), "scores must be an array of finite real numbers"),
    (lambda: mc.zlpr_probability(np.array([1.0 + 1j])), "scores must be an array of finite real numbers"),
    (lambda: mc.zlpr_probability([0.0, np.nan]), "scores must be finite"),
    (lambda: mc.zlpr_loss(np.ones((1, 2)), np.array([[0.5 + 1j, 0.0]])), "labels must be a real array"),
    (lambda: mc.nm_loss(np.ones((1, 1, 2)), np.array([[[0.5 + 1j, 0.5]]])), "labels must be a real array"),
    (lambda: mc.zlpr_loss(np.ones((1, 2)) + 0j, np.ones((1, 2))), "scores must be a real float array"),
    # scores whose loss overflows: one error instead of inf or NaN
    (lambda: mc.zlpr_loss(np.array([[1e308, -1e308]]), np.array([[0.0, 1.0]])), "exceeds the float64 range"),
    (lambda: mc.zlpr_sparse_loss(np.array([[1e308, -1e308]]), np.array([[1]])), "exceeds the float64 range"),
    (lambda: mc.nm_loss(np.array([[[1e308, -1e308]]]), np.array([[1]])), "scores must lie in"),
    (lambda: mc.nm_loss(np.array([[[1e308, 1e308]]]), np.array([[[0.5, 0.5]]]), kind="loss3"), "scores must lie in"),
    (lambda: mc.zlpr_loss(np.array([[3e38, -3e38]], dtype=np.float32), np.array([[0.0, 1.0]])), "float32 range"),
]


@pytest.mark.parametrize("call, message", BAD)
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(ParameterError, match=message):
        call()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scores_near_the_range_give_the_exact_finite_loss(dtype):
    # At s = (L, -L) with labels (0, 1) both ZLPR softplus terms are log(1 + e^L) = L (e^-L underflows),
    # so the loss is exactly 2L; loss-1 with the target on class 1 is log(1 + e^{2L}) = 2L as well.
    L = float(np.finfo(dtype).max) / 4  # 2L: half the range
    s = np.array([[L, -L]], dtype=dtype)
    loss, g = mc.zlpr_loss(s, np.array([[0.0, 1.0]]), grad=True)
    assert loss[0] == dtype(2 * L) and np.array_equal(g, [[1.0, -1.0]])
    assert mc.zlpr_sparse_loss(s, np.array([[1]]))[0] == dtype(2 * L)
    assert mc.nm_loss(s[None], np.array([[1]]))[0] == dtype(2 * L)
    # loss-3 with equal huge scores: the centred exponents are 0, loss = log(1 + 1/2) + log(1 + 1/2)
    big = np.full((1, 1, 2), num.score_limit(2), dtype=np.float64)
    assert mc.nm_loss(big, np.full((1, 1, 2), 0.5), kind="loss3")[0] == 2 * np.log1p(0.5)


def test_softmax_scale_fit_with_huge_scores():
    # c = 0 (the uniform softmax) is the exact fit; c S overflows for every other c of the grid
    assert mc.softmax_scale_fit([[1e308, 0.0]], [[0.5, 0.5]]) == (0.0, 0.0)
    c, err = mc.softmax_scale_fit([[1e308, -1e308]], [[1.0, 0.0]])
    assert err == 0.0 and c > 0
    assert np.array_equal(mc.implied_scales([[1e308, -1e308]], [[0.5, 0.5]]), [0.0])


def test_latex_general_and_concrete(capsys):
    general = mc.NM_LOSS1_GRADIENT.formula().latex()
    assert r"\sum" in general
    concrete = mc.ZLPR_SOFT.formula(s="[1, -1/2]", t="[1/4, 1]")
    assert concrete.expr == d.zlpr_soft_loss([1, sp.Rational(-1, 2)], [sp.Rational(1, 4), 1])
    assert main(["latex", "zlpr_soft", "--s", "[1, -1/2]", "--t", "[1/4, 1]"]) == 0
    assert r"\ell_{\mathrm{ZLPR}}" in capsys.readouterr().out
    assert main(["latex", "nm_loss1", "--S", "[[1, 2]]", "--T", "[[1/2, 1/3]]"]) == 2
    assert "must sum to 1" in capsys.readouterr().err


def test_prove_prints_the_index_by_index_check(capsys):
    assert main(["prove", "nm_loss1_gradient"]) == 0
    out = capsys.readouterr().out
    assert out.count("as printed") >= 6 and "REFUTED" not in out
