r"""Batched kernels and mpmath oracles for ZLPR and the n m-class losses of post 9158.

Every kernel returns the loss of each row and, on request, its gradient in
the scores, in one fused pass over the row.  They are stable for any finite
scores and labels:

* sums of :math:`t\,e^{x}` are accumulated after shifting by the largest
  exponent that carries a nonzero weight, so nothing overflows; a term with a
  zero weight is skipped, never multiplied by a huge mask (no ``±1e12``, and
  no clipped :math:`\log t`: post 9064's pitfall of a masked score meeting a
  clipped label cannot happen);
* :math:`\log(1 + X)` is ``log1p`` when the shift is 0, so a loss of 1e-30
  keeps its relative precision;
* the leave-one-out sums :math:`\sum_{k \ne j} e^{s_{ik}}` of loss-1 come
  from prefix and suffix sums of positive terms, never from a subtraction;
* inputs may be float32 or float64; the arithmetic is float64 and the outputs
  take the input's dtype, so float32 results are the correctly rounded
  float64 ones.

Shapes: ZLPR takes scores ``(B, C)`` with dense labels ``(B, C)`` in [0, 1]
(or positive-index lists ``(B, K)`` padded with -1, the sparse variant for
many labels); the n m-class losses take scores ``(B, n, m)`` with dense label
rows ``(B, n, m)`` or class indices ``(B, n)``.  These functions do not
validate; :mod:`closedform.multiclass` does, and says what is wrong.

The NumPy functions ``*_numpy`` are the vectorised baselines of
``bench/losses.py`` (same mathematics, whole-array operations); the
``*_oracle`` functions evaluate the definitions in mpmath.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from closedform.derive.errors import ParameterError
from closedform.numeric.target import parallel_jit, prange, scalar_jit

#: Below this largest exponent the sums are taken unshifted (e^600 * n stays finite for n < 1e47).
SHIFT_FREE_LIMIT = 600.0
#: Rows handled by one parallel task (one scratch allocation per block).
BLOCK = 64
#: Scores up to this size in absolute value take the fast path: unshifted sums of fast_exp.
FAST_SCORE_LIMIT = 300.0

_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: adding it rounds x/ln2 to an integer kept in the low mantissa bits
_INV_LN2 = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # ln 2 split so that k * _LN2_HI is exact for |k| < 2**20 (Cody-Waite)
_LN2_LO = 1.9082149292705877e-10


@scalar_jit
def fast_exp(x):
    r"""e**x for |x| <= 700, within 1 ulp of the correctly rounded value; loops calling it vectorise.

    ``math.exp`` is a libm call that stops LLVM from vectorising a loop
    (about 5 ns per element here); this body is arithmetic and bit moves only.
    With :math:`x = k \ln 2 + r`, :math:`|r| \le \ln 2 / 2`, the Taylor
    polynomial of degree 13 leaves a truncation error below
    :math:`r^{14}/14! < 5\cdot10^{-18}`, and :math:`2^k` is built in the
    exponent bits.  No overflow or underflow handling: callers keep |x| <= 700.

    .. math::

        e^x = 2^k \sum_{q=0}^{13} rac{r^q}{q!} + O(r^{14}),
        \qquad k = \operatorname{round}(x / \ln 2)

    >>> abs(fast_exp(1.0) / math.e - 1) < 2.3e-16
    True
    """
    kd = x * _INV_LN2 + _SHIFTER
    k = np.float64(kd).view(np.int64) - np.float64(_SHIFTER).view(np.int64)
    kf = kd - _SHIFTER
    r = (x - kf * _LN2_HI) - kf * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * np.int64((k + 1023) << 52).view(np.float64)


@scalar_jit
def _log1p_or_shifted(x, shift):
    """log(1 + e^shift * x), given the shifted sum x; log1p keeps tiny losses exact."""
    if shift == 0.0:
        return math.log1p(x)
    return shift + math.log(x + math.exp(-shift))


# ---------------------------------------------------------------------------
# ZLPR, dense labels
# ---------------------------------------------------------------------------


@scalar_jit
def _sum_pair_unrolled(t, g, h):
    """(sum_c t_c h_c, sum_c (1 - t_c) g_c) with four partial sums each.

    Without reassociation (fastmath off) LLVM cannot vectorise one running
    sum; four independent partial sums hide the add latency.
    """
    C = g.shape[0]
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    c = 0
    while c + 4 <= C:
        t0 = float(t[c])
        t1 = float(t[c + 1])
        t2 = float(t[c + 2])
        t3 = float(t[c + 3])
        a0 += t0 * h[c]
        a1 += t1 * h[c + 1]
        a2 += t2 * h[c + 2]
        a3 += t3 * h[c + 3]
        b0 += (1.0 - t0) * g[c]
        b1 += (1.0 - t1) * g[c + 1]
        b2 += (1.0 - t2) * g[c + 2]
        b3 += (1.0 - t3) * g[c + 3]
        c += 4
    while c < C:
        a0 += float(t[c]) * h[c]
        b0 += (1.0 - float(t[c])) * g[c]
        c += 1
    return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)


@scalar_jit
def _sum_unrolled(a):
    """sum_c a_c with four partial sums (see _sum_pair_unrolled)."""
    C = a.shape[0]
    a0 = a1 = a2 = a3 = 0.0
    c = 0
    while c + 4 <= C:
        a0 += a[c]
        a1 += a[c + 1]
        a2 += a[c + 2]
        a3 += a[c + 3]
        c += 4
    while c < C:
        a0 += a[c]
        c += 1
    return (a0 + a1) + (a2 + a3)


@scalar_jit
def _largest_abs_row(s, mask, has_mask):
    """max |s_c| over the kept entries, with four partial maxima (branch-free selects)."""
    C = s.shape[0]
    m0 = m1 = m2 = m3 = 0.0
    c = 0
    while c + 4 <= C:
        v0 = abs(float(s[c])) if ((not has_mask) or mask[c]) else 0.0
        v1 = abs(float(s[c + 1])) if ((not has_mask) or mask[c + 1]) else 0.0
        v2 = abs(float(s[c + 2])) if ((not has_mask) or mask[c + 2]) else 0.0
        v3 = abs(float(s[c + 3])) if ((not has_mask) or mask[c + 3]) else 0.0
        m0 = max(m0, v0)
        m1 = max(m1, v1)
        m2 = max(m2, v2)
        m3 = max(m3, v3)
        c += 4
    while c < C:
        v0 = abs(float(s[c])) if ((not has_mask) or mask[c]) else 0.0
        m0 = max(m0, v0)
        c += 1
    m0 = max(m0, m1)
    m2 = max(m2, m3)
    return max(m0, m2)


@scalar_jit
def _zlpr_row_fast(s, t, mask, has_mask, want_grad, g, h):
    """The common case |s| <= FAST_SCORE_LIMIT: one vectorised exp per entry, no shifts.

    g and h (C,) receive e^{s_c} and e^{-s_c} (0 for masked entries, whose
    score, maybe -1e7, never reaches the exp); g then receives the gradient.
    """
    C = s.shape[0]
    for c in range(C):
        g[c] = fast_exp(float(s[c]) if ((not has_mask) or mask[c]) else 0.0)
    for c in range(C):
        h[c] = 1.0 / g[c]
    if has_mask:
        for c in range(C):
            keep = mask[c]
            g[c] = g[c] if keep else 0.0
            h[c] = h[c] if keep else 0.0
    x_pos, x_neg = _sum_pair_unrolled(t, g, h)
    loss = math.log1p(x_pos) + math.log1p(x_neg)
    if want_grad:
        r_pos = 1.0 / (1.0 + x_pos)
        r_neg = 1.0 / (1.0 + x_neg)
        for c in range(C):
            tc = float(t[c])
            g[c] = (1.0 - tc) * g[c] * r_neg - tc * h[c] * r_pos
    return loss


@scalar_jit
def _zlpr_row(s, t, mask, has_mask, want_grad, g, h):
    """Loss of one row (and its gradient into g): s, t, g, h float arrays (C,), mask bool (C,); h is scratch."""
    C = s.shape[0]
    if _largest_abs_row(s, mask, has_mask) <= FAST_SCORE_LIMIT:
        return _zlpr_row_fast(s, t, mask, has_mask, want_grad, g, h)
    top_pos = -math.inf  # largest -s over entries with t > 0
    top_neg = -math.inf  # largest s over entries with t < 1
    for c in range(C):
        if has_mask and not mask[c]:
            continue
        sc = float(s[c])
        tc = float(t[c])
        if tc > 0.0 and -sc > top_pos:
            top_pos = -sc
        if tc < 1.0 and sc > top_neg:
            top_neg = sc
    # General path: shift each sum by its largest exponent when that exceeds SHIFT_FREE_LIMIT.
    shift_pos = top_pos if top_pos > SHIFT_FREE_LIMIT else 0.0
    shift_neg = top_neg if top_neg > SHIFT_FREE_LIMIT else 0.0
    x_pos = 0.0
    x_neg = 0.0
    for c in range(C):
        if has_mask and not mask[c]:
            continue
        sc = float(s[c])
        tc = float(t[c])
        if tc > 0.0:
            x_pos += tc * math.exp(-sc - shift_pos)
        if tc < 1.0:
            x_neg += (1.0 - tc) * math.exp(sc - shift_neg)
    loss = _log1p_or_shifted(x_pos, shift_pos) + _log1p_or_shifted(x_neg, shift_neg)
    if want_grad:
        den_pos = 1.0 + x_pos if shift_pos == 0.0 else x_pos + math.exp(-shift_pos)
        den_neg = 1.0 + x_neg if shift_neg == 0.0 else x_neg + math.exp(-shift_neg)
        for c in range(C):
            if has_mask and not mask[c]:
                g[c] = 0.0
                continue
            sc = float(s[c])
            tc = float(t[c])
            gc = 0.0
            if tc > 0.0:
                gc -= tc * math.exp(-sc - shift_pos) / den_pos
            if tc < 1.0:
                gc += (1.0 - tc) * math.exp(sc - shift_neg) / den_neg
            g[c] = gc
    return loss


@parallel_jit
def zlpr_dense_kernel(s, t, mask, has_mask, want_grad, loss, grad):
    """ZLPR loss of every row: s (B, C), t (B, C), mask (B, C) bool; writes loss (B,), grad (B, C).

    Without ``want_grad`` (grad may then be a (1, 1) dummy) each block of rows
    gets its own scratch row, so no two threads share memory.
    """
    B, C = s.shape
    n_blocks = (B + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        tmp = np.empty(C if not want_grad else 0)
        h = np.empty(C)
        for b in range(blk * BLOCK, min(B, (blk + 1) * BLOCK)):
            gb = grad[b] if want_grad else tmp
            mb = mask[b] if has_mask else mask[0]
            loss[b] = _zlpr_row(s[b], t[b], mb, has_mask, want_grad, gb, h)


# ---------------------------------------------------------------------------
# ZLPR, positive-index lists (hard labels, many classes)
# ---------------------------------------------------------------------------


@scalar_jit
def _zlpr_sparse_row(s, pos, marked, want_grad, g, h):
    """Loss of one row with positive indices ``pos`` (-1 = padding).

    ``marked`` is a bool (C,) scratch, all False on entry and on exit; g (C,)
    receives the gradient (or is scratch); h (C,) is scratch.  Duplicated indices count once.
    """
    C = s.shape[0]
    for q in range(pos.shape[0]):
        if pos[q] >= 0:
            marked[pos[q]] = True
    if _largest_abs_row(s, marked, False) <= FAST_SCORE_LIMIT:
        for c in range(C):
            g[c] = fast_exp(float(s[c]))
        for c in range(C):
            h[c] = 1.0 / g[c]
        for c in range(C):  # positives leave the negative sum, negatives the positive one
            pos_c = marked[c]
            g[c] = 0.0 if pos_c else g[c]
            h[c] = h[c] if pos_c else 0.0
        x_pos = _sum_unrolled(h)
        x_neg = _sum_unrolled(g)
        loss = math.log1p(x_pos) + math.log1p(x_neg)
        if want_grad:
            r_pos = 1.0 / (1.0 + x_pos)
            r_neg = 1.0 / (1.0 + x_neg)
            for c in range(C):
                g[c] = g[c] * r_neg - h[c] * r_pos
    else:
        top_pos = -math.inf
        top_neg = -math.inf
        for c in range(C):
            sc = float(s[c])
            if marked[c]:
                top_pos = max(top_pos, -sc)
            elif sc > top_neg:
                top_neg = sc
        shift_pos = top_pos if top_pos > SHIFT_FREE_LIMIT else 0.0
        shift_neg = top_neg if top_neg > SHIFT_FREE_LIMIT else 0.0
        x_pos = 0.0
        x_neg = 0.0
        for c in range(C):
            sc = float(s[c])
            if marked[c]:
                x_pos += math.exp(-sc - shift_pos)
            else:
                x_neg += math.exp(sc - shift_neg)
        loss = _log1p_or_shifted(x_pos, shift_pos) + _log1p_or_shifted(x_neg, shift_neg)
        if want_grad:
            den_pos = 1.0 + x_pos if shift_pos == 0.0 else x_pos + math.exp(-shift_pos)
            den_neg = 1.0 + x_neg if shift_neg == 0.0 else x_neg + math.exp(-shift_neg)
            for c in range(C):
                sc = float(s[c])
                if marked[c]:
                    g[c] = -math.exp(-sc - shift_pos) / den_pos
                else:
                    g[c] = math.exp(sc - shift_neg) / den_neg
    for q in range(pos.shape[0]):  # leave the scratch clean for the next row
        if pos[q] >= 0:
            marked[pos[q]] = False
    return loss


@parallel_jit
def zlpr_sparse_kernel(s, pos, want_grad, loss, grad):
    """ZLPR loss with positive-index lists: s (B, C), pos (B, K) int64, -1 pads; loss (B,), grad (B, C)."""
    B, C = s.shape
    n_blocks = (B + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        marked = np.zeros(C, dtype=np.bool_)
        tmp = np.empty(C if not want_grad else 0)
        h = np.empty(C)
        for b in range(blk * BLOCK, min(B, (blk + 1) * BLOCK)):
            gb = grad[b] if want_grad else tmp
            loss[b] = _zlpr_sparse_row(s[b], pos[b], marked, want_grad, gb, h)


# ---------------------------------------------------------------------------
# n tasks of m classes: loss-1 (first-order truncation)
# ---------------------------------------------------------------------------


_NO_MASK = np.zeros(1, dtype=np.bool_)


@scalar_jit
def _largest_abs(s):
    """max |s_ik| over a C-contiguous (n, m) block, as one flat unrolled scan."""
    n, m = s.shape
    return _largest_abs_row(s.reshape(n * m), _NO_MASK, False)


@scalar_jit
def _exclusive_sums(e, rest):
    """rest[i, j] = sum_{k != j} e[i, k], from prefix and suffix sums (no subtraction, no cancellation)."""
    n, m = e.shape
    for i in range(n):
        run = 0.0
        for k in range(m - 1, -1, -1):
            rest[i, k] = run
            run += e[i, k]
        run = 0.0
        for k in range(m):
            rest[i, k] += run
            run += e[i, k]


@scalar_jit
def _loss1_sample(s, t, want_grad, g, e, rest, top, den, shift, v):
    """Loss-1 of one sample: s, t, g (n, m); scratch e, rest (n, m), top (n,), den, shift, v (m,).

    ``e[i, k] = exp(s_ik - top_i)`` and ``rest[i, j] = sum_{k != j} e[i, k]``,
    so that class j's sum is ``sum_i t_ij rest_ij / e_ij``.  When every
    |s| <= FAST_SCORE_LIMIT, top_i = 0 and no sum is shifted; otherwise top_i
    is the task's largest score and class j's sum is shifted by its largest
    exponent when that exceeds SHIFT_FREE_LIMIT.
    """
    n, m = s.shape
    fast = _largest_abs(s) <= FAST_SCORE_LIMIT
    for i in range(n):
        mx = 0.0
        if not fast:
            mx = -math.inf
            for k in range(m):
                if s[i, k] > mx:
                    mx = float(s[i, k])
        top[i] = mx
        for k in range(m):
            e[i, k] = float(s[i, k]) - mx
    _exp_inplace(e.reshape(n * m), fast)
    _exclusive_sums(e, rest)
    loss = 0.0
    if fast:
        for j in range(m):
            den[j] = 0.0
            shift[j] = 0.0
        for i in range(n):
            for j in range(m):
                den[j] += float(t[i, j]) * rest[i, j] / e[i, j]
        for j in range(m):
            loss += math.log1p(den[j])
            den[j] = 1.0 + den[j]
    else:
        for j in range(m):
            big = -math.inf
            for i in range(n):
                if t[i, j] > 0.0:
                    a = top[i] - float(s[i, j])  # log(1/e_ij) >= 0
                    big = max(big, a)
            sh = big if big > SHIFT_FREE_LIMIT else 0.0
            x = 0.0
            for i in range(n):
                tij = float(t[i, j])
                if tij > 0.0:
                    inv_e = 1.0 / e[i, j] if sh == 0.0 else math.exp(top[i] - float(s[i, j]) - sh)
                    x += tij * rest[i, j] * inv_e
            shift[j] = sh
            den[j] = 1.0 + x if sh == 0.0 else x + math.exp(-sh)
            loss += _log1p_or_shifted(x, sh)
    if want_grad:
        for i in range(n):
            # v_h = t_ih exp(top_i - s_ih) / D_h (<= 1); g_ij = -v_j rest_ij + e_ij sum_{h != j} v_h
            for h in range(m):
                tih = float(t[i, h])
                if fast:
                    v[h] = tih / (e[i, h] * den[h])
                elif tih > 0.0:
                    inv_e = 1.0 / e[i, h] if shift[h] == 0.0 else math.exp(top[i] - float(s[i, h]) - shift[h])
                    v[h] = tih * inv_e / den[h]
                else:
                    v[h] = 0.0
            run = 0.0
            for j in range(m - 1, -1, -1):  # suffix sums of v, parked in g
                g[i, j] = run
                run += v[j]
            run = 0.0
            for j in range(m):
                others = g[i, j] + run
                run += v[j]
                g[i, j] = -v[j] * rest[i, j] + e[i, j] * others
    return loss


@parallel_jit
def nm_loss1_dense_kernel(s, t, want_grad, loss, grad):
    """Loss-1 of every sample: s, t (B, n, m); loss (B,), grad (B, n, m) float64."""
    B, n, m = s.shape
    n_blocks = (B + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        e = np.empty((n, m))
        rest = np.empty((n, m))
        tmp = np.empty((n if not want_grad else 0, m))
        top = np.empty(n)
        den = np.empty(m)
        shift = np.empty(m)
        v = np.empty(m)
        for b in range(blk * BLOCK, min(B, (blk + 1) * BLOCK)):
            gb = grad[b] if want_grad else tmp
            loss[b] = _loss1_sample(s[b], t[b], want_grad, gb, e, rest, top, den, shift, v)


@scalar_jit
def _loss1_sparse_sample(s, y, want_grad, g, a, r, den, shift):
    """Loss-1 of one sample with class indices y (n,); g (n, m) first stores e_ik.

    ``a[i] = top_i - s_{i y_i}`` and ``r[i] = sum_{k != y_i} e_ik`` (top_i = 0
    on the fast path, else the task's largest score).
    """
    n, m = s.shape
    fast = _largest_abs(s) <= FAST_SCORE_LIMIT
    for i in range(n):
        mx = 0.0
        if not fast:
            mx = -math.inf
            for k in range(m):
                if s[i, k] > mx:
                    mx = float(s[i, k])
        yi = y[i]
        acc = 0.0
        for k in range(m):
            ek = fast_exp(float(s[i, k]) - mx) if fast else math.exp(float(s[i, k]) - mx)
            g[i, k] = ek
            acc += ek if k != yi else 0.0
        r[i] = acc
        a[i] = mx - float(s[i, yi])
    for j in range(m):
        den[j] = -math.inf  # the largest exponent of class j, until the sums below
    for i in range(n):
        den[y[i]] = max(den[y[i]], a[i])
    for j in range(m):
        shift[j] = den[j] if den[j] > SHIFT_FREE_LIMIT else 0.0
        den[j] = 0.0
    for i in range(n):
        yi = y[i]
        if shift[yi] == 0.0:
            den[yi] += r[i] / g[i, yi]
        else:
            den[yi] += r[i] * math.exp(a[i] - shift[yi])
    loss = 0.0
    for j in range(m):
        x = den[j]
        loss += _log1p_or_shifted(x, shift[j])
        den[j] = 1.0 + x if shift[j] == 0.0 else x + math.exp(-shift[j])
    if want_grad:
        for i in range(n):
            yi = y[i]
            vi = 1.0 / (g[i, yi] * den[yi]) if shift[yi] == 0.0 else math.exp(a[i] - shift[yi]) / den[yi]
            for k in range(m):
                g[i, k] = g[i, k] * vi
            g[i, yi] = -r[i] * vi
    return loss


def _per_sample_kernel(sample, doc: str):
    """The batched kernel around ``sample(s_b, labels_b, want_grad, g_b, a, r, den, shift)``.

    Samples run in blocks of :data:`BLOCK`, one block per ``prange``
    iteration, each block with its own scratch: two n-vectors ``a``, ``r``
    and two m-vectors ``den``, ``shift`` (a sample that needs one n-vector
    ignores ``r``).  ``labels`` is t (B, n, m) or y (B, n); loss (B,),
    grad (B, n, m) float64.
    """

    @parallel_jit
    def kernel(s, labels, want_grad, loss, grad):
        B, n, m = s.shape
        n_blocks = (B + BLOCK - 1) // BLOCK
        for blk in prange(n_blocks):
            a = np.empty(n)
            r = np.empty(n)
            den = np.empty(m)
            shift = np.empty(m)
            tmp = np.empty((n if not want_grad else 0, m))
            for b in range(blk * BLOCK, min(B, (blk + 1) * BLOCK)):
                gb = grad[b] if want_grad else tmp
                loss[b] = sample(s[b], labels[b], want_grad, gb, a, r, den, shift)

    kernel.__doc__ = doc
    return kernel


nm_loss1_sparse_kernel = _per_sample_kernel(
    _loss1_sparse_sample,
    "Loss-1 with class indices: s (B, n, m), y (B, n) int64; loss (B,), grad (B, n, m) float64.",
)


# ---------------------------------------------------------------------------
# n tasks of m classes: loss-3 (centred logits)
# ---------------------------------------------------------------------------


@scalar_jit
def _exp_inplace(x, fast):
    """x[q] <- exp(x[q]) over a flat array, by the vectorisable fast_exp when |x| <= 700 is known."""
    if fast:
        for q in range(x.shape[0]):
            x[q] = fast_exp(x[q])
    else:
        for q in range(x.shape[0]):
            x[q] = math.exp(x[q])


@scalar_jit
def _weighted_exp_inplace(x, w, fast):
    """x[q] <- w[q] exp(x[q]) over flat arrays; zero weights give 0 (never 0 * inf)."""
    if fast:
        for q in range(x.shape[0]):
            x[q] = float(w[q]) * fast_exp(x[q])
    else:
        for q in range(x.shape[0]):
            x[q] = float(w[q]) * math.exp(x[q]) if w[q] > 0.0 else 0.0


@scalar_jit
def _loss3_sample(s, t, want_grad, g, centre, _unused, den, shift):
    """Loss-3 of one sample: s, t, g (n, m); scratch centre (n,), den, shift (m,) (``_unused``: see _per_sample_kernel).

    g first holds the weights t_ij exp(centre_i - s_ij - shift_j), then the gradient.
    """
    n, m = s.shape
    fast = _largest_abs(s) <= FAST_SCORE_LIMIT  # then |centre - s| <= 600: no shift
    for i in range(n):
        acc = 0.0
        for k in range(m):
            acc += float(s[i, k])
        centre[i] = acc / m
    for j in range(m):
        shift[j] = 0.0
    if not fast:
        for j in range(m):
            big = -math.inf
            for i in range(n):
                if t[i, j] > 0.0:
                    c = centre[i] - float(s[i, j])
                    big = max(big, c)
            shift[j] = big if big > SHIFT_FREE_LIMIT else 0.0
    for i in range(n):  # the exponents first, then one flat (vectorisable) sweep of exps
        for j in range(m):
            g[i, j] = centre[i] - float(s[i, j]) - shift[j]
    _weighted_exp_inplace(g.reshape(n * m), t.reshape(n * m), fast)
    for j in range(m):
        den[j] = 0.0
    for i in range(n):
        for j in range(m):
            den[j] += g[i, j]
    loss = 0.0
    for j in range(m):
        x = den[j]
        loss += _log1p_or_shifted(x, shift[j])
        den[j] = 1.0 / (1.0 + x if shift[j] == 0.0 else x + math.exp(-shift[j]))  # reciprocal
    if want_grad:
        for i in range(n):
            mean_w = 0.0
            for j in range(m):
                g[i, j] = g[i, j] * den[j]
                mean_w += g[i, j]
            mean_w /= m
            for k in range(m):
                g[i, k] = mean_w - g[i, k]
    return loss


nm_loss3_dense_kernel = _per_sample_kernel(
    _loss3_sample, "Loss-3 of every sample: s, t (B, n, m); loss (B,), grad (B, n, m) float64."
)


@scalar_jit
def _loss3_sparse_sample(s, y, want_grad, g, c, _unused, den, shift):
    """Loss-3 of one sample with class indices y (n,); c[i] = centre_i - s_{i y_i} (``_unused``: see _per_sample_kernel)."""
    n, m = s.shape
    for j in range(m):
        den[j] = -math.inf
    for i in range(n):
        acc = 0.0
        for k in range(m):
            acc += float(s[i, k])
        c[i] = acc / m - float(s[i, y[i]])
        den[y[i]] = max(den[y[i]], c[i])
    for j in range(m):
        shift[j] = den[j] if den[j] > SHIFT_FREE_LIMIT else 0.0
        den[j] = 0.0
    for i in range(n):
        den[y[i]] += math.exp(c[i] - shift[y[i]])
    loss = 0.0
    for j in range(m):
        x = den[j]
        loss += _log1p_or_shifted(x, shift[j])
        den[j] = 1.0 + x if shift[j] == 0.0 else x + math.exp(-shift[j])
    if want_grad:
        for i in range(n):
            yi = y[i]
            w = math.exp(c[i] - shift[yi]) / den[yi]
            for k in range(m):
                g[i, k] = w / m
            g[i, yi] = w / m - w
    return loss


nm_loss3_sparse_kernel = _per_sample_kernel(
    _loss3_sparse_sample,
    "Loss-3 with class indices: s (B, n, m), y (B, n) int64; loss (B,), grad (B, n, m) float64.",
)


# ---------------------------------------------------------------------------
# Vectorised NumPy baselines (bench/losses.py; same mathematics, whole arrays)
# ---------------------------------------------------------------------------


def _log1p_exp_shifted(x: np.ndarray, shift: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(shift == 0.0, np.log1p(x), shift + np.log(x + np.exp(-shift)))


def zlpr_numpy(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised NumPy ZLPR (dense soft labels): loss (B,) and gradient (B, C), float64."""
    s = np.asarray(s, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    pos, neg = t > 0.0, t < 1.0
    top_pos = np.where(pos, -s, -np.inf).max(axis=1, keepdims=True)
    top_neg = np.where(neg, s, -np.inf).max(axis=1, keepdims=True)
    sh_pos = np.where(top_pos > SHIFT_FREE_LIMIT, top_pos, 0.0)
    sh_neg = np.where(top_neg > SHIFT_FREE_LIMIT, top_neg, 0.0)
    w_pos = t * np.exp(-s - sh_pos)
    w_neg = (1.0 - t) * np.exp(s - sh_neg)
    x_pos = w_pos.sum(axis=1, keepdims=True)
    x_neg = w_neg.sum(axis=1, keepdims=True)
    loss = _log1p_exp_shifted(x_pos, sh_pos) + _log1p_exp_shifted(x_neg, sh_neg)
    den_pos = np.where(sh_pos == 0.0, 1.0 + x_pos, x_pos + np.exp(-sh_pos))
    den_neg = np.where(sh_neg == 0.0, 1.0 + x_neg, x_neg + np.exp(-sh_neg))
    return loss[:, 0], w_neg / den_neg - w_pos / den_pos


def _exclusive_sums_numpy(e: np.ndarray) -> np.ndarray:
    """sum_{k != j} e[..., k] from shifted prefix and suffix cumsums (no subtraction of e itself)."""
    zero = np.zeros(e.shape[:-1] + (1,))
    prefix = np.concatenate([zero, np.cumsum(e[..., :-1], axis=-1)], axis=-1)
    suffix = np.concatenate([np.cumsum(e[..., :0:-1], axis=-1)[..., ::-1], zero], axis=-1)
    return prefix + suffix


def nm_loss1_numpy(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised NumPy loss-1 (dense labels): loss (B,) and gradient (B, n, m), float64."""
    s = np.asarray(s, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    top = s.max(axis=2, keepdims=True)
    e = np.exp(s - top)
    rest = _exclusive_sums_numpy(e)
    a = np.where(t > 0.0, top - s, -np.inf)
    big = a.max(axis=1, keepdims=True)  # (B, 1, m)
    sh = np.where(big > SHIFT_FREE_LIMIT, big, 0.0)
    with np.errstate(over="ignore"):
        inv_e = np.exp(top - s - sh)
    # Only where t > 0: elsewhere inv_e may be inf, and 0 * inf would be NaN.
    v_num = np.multiply(t, inv_e, out=np.zeros_like(t), where=t > 0.0)
    x = (v_num * rest).sum(axis=1, keepdims=True)
    loss = _log1p_exp_shifted(x, sh).sum(axis=(1, 2))
    den = np.where(sh == 0.0, 1.0 + x, x + np.exp(-sh))
    v = v_num / den
    others = _exclusive_sums_numpy(v)
    return loss, -v * rest + e * others


def nm_loss3_numpy(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised NumPy loss-3 (dense labels): loss (B,) and gradient (B, n, m), float64."""
    s = np.asarray(s, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    m = s.shape[2]
    c = s.mean(axis=2, keepdims=True) - s
    big = np.where(t > 0.0, c, -np.inf).max(axis=1, keepdims=True)
    sh = np.where(big > SHIFT_FREE_LIMIT, big, 0.0)
    # Only where t > 0: elsewhere exp may overflow, and 0 * inf would be NaN.
    labelled = t > 0.0
    w = np.exp(c - sh, out=np.zeros(np.broadcast_shapes(c.shape, sh.shape)), where=labelled)
    w = np.multiply(t, w, out=np.zeros_like(t), where=labelled)
    x = w.sum(axis=1, keepdims=True)
    loss = _log1p_exp_shifted(x, sh).sum(axis=(1, 2))
    den = np.where(sh == 0.0, 1.0 + x, x + np.exp(-sh))
    w = w / den
    return loss, w.sum(axis=2, keepdims=True) / m - w


# ---------------------------------------------------------------------------
# Input checks of the batched API: one ParameterError naming the argument
# ---------------------------------------------------------------------------


def score_limit(m: int) -> float:
    """Largest |score| of the n m-class kernels: sums of the m scores of a task and differences of
    two of them must stay finite in float64 (the loss itself is checked by :func:`check_finite_loss`)."""
    return float(np.finfo(np.float64).max) / (2 * m)


def check_scores(x, name: str, ndim: int) -> np.ndarray:
    """A finite real float32/float64 array of ``ndim`` dimensions, C-contiguous (ints become float64);
    for the n m-class losses (``ndim`` 3) with |entries| <= :func:`score_limit`."""
    a = np.asarray(x)
    if a.dtype not in (np.float32, np.float64):
        if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
            raise ParameterError(f"{name} must be a real float array, got dtype {a.dtype}")
        a = a.astype(np.float64)
    if a.ndim != ndim:
        shape = "(B, C)" if ndim == 2 else "(B, n, m)"
        raise ParameterError(f"{name} must be a {ndim}-d array of shape {shape}, got shape {a.shape}")
    if a.size == 0:
        raise ParameterError(f"{name} must not be empty, got shape {a.shape}")
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise ParameterError(f"{name} must be finite, got {a[where]} at index {where}")
    if ndim == 3 and float(np.abs(a).max()) > score_limit(a.shape[-1]):
        limit = score_limit(a.shape[-1])
        raise ParameterError(
            f"{name} must lie in [-{limit:.3g}, {limit:.3g}] (float64 max / 2m: the kernels sum a task's m scores), "
            f"got {np.abs(a).max():.3g} in absolute value"
        )
    return np.ascontiguousarray(a)


def check_finite_loss(loss: np.ndarray, dtype) -> None:
    """One ParameterError when a loss, in the scores' dtype, lies beyond its range (scores too large)."""
    bad = ~np.isfinite(loss)
    if bad.any():
        b = int(np.argmax(bad))
        raise ParameterError(
            f"scores too large: the loss of row {b} exceeds the {np.dtype(dtype).name} range "
            f"(|loss| > {float(np.finfo(dtype).max):.3g})"
        )


def check_unit_labels(t, shape: tuple, dtype) -> np.ndarray:
    """Labels of the scores' shape with entries in [0, 1], as a C-contiguous array of ``dtype``."""
    a = np.asarray(t)
    if a.shape != shape:
        raise ParameterError(f"labels must have the shape of scores {shape}, got {a.shape}")
    if a.dtype.kind not in "biuf":  # complex or object: casting would drop an imaginary part or fail inside NumPy
        raise ParameterError(f"labels must be a real array with entries in [0, 1], got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=dtype)
    bad = ~((a >= 0) & (a <= 1))  # also catches NaN
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise ParameterError(f"labels must lie in [0, 1], got {a[where]} at index {where}")
    return a


def check_label_rows(t, shape: tuple, dtype) -> np.ndarray:
    """Dense n m-class labels (B, n, m): entries in [0, 1], every row summing to 1 (1e-5 for float32, else 1e-9)."""
    a = check_unit_labels(t, shape, dtype)
    sums = a.sum(axis=2, dtype=np.float64)
    tol = 1e-5 if a.dtype == np.float32 else 1e-9
    off = np.abs(sums - 1.0) > tol
    if off.any():
        b, i = (int(v) for v in np.argwhere(off)[0])
        raise ParameterError(f"label rows must sum to 1, got {sums[b, i]:.6g} for sample {b}, task {i}")
    return a


def check_mask(mask, shape: tuple) -> np.ndarray:
    mk = np.asarray(mask)
    if mk.shape != shape or mk.dtype != np.bool_:
        raise ParameterError(f"mask must be a bool array of shape {shape}, got {mk.dtype} {mk.shape}")
    return np.ascontiguousarray(mk)


def check_positives(positives, shape: tuple) -> np.ndarray:
    """Positive class indices (B, K) for scores of ``shape`` (B, C): ints in [0, C-1], -1 as padding."""
    p = np.asarray(positives)
    if p.ndim != 2 or p.shape[0] != shape[0] or not np.issubdtype(p.dtype, np.integer):
        raise ParameterError(f"positives must be an integer array of shape ({shape[0]}, K), got {p.dtype} {p.shape}")
    if p.size and (p.min() < -1 or p.max() >= shape[1]):
        raise ParameterError(
            f"positives must be class indices in [0, {shape[1] - 1}] or -1 (padding), "
            f"got {p.min() if p.min() < -1 else p.max()}"
        )
    return np.ascontiguousarray(p, dtype=np.int64)


def check_class_indices(lab: np.ndarray, shape: tuple) -> np.ndarray:
    """Class-index labels (B, n) for scores of ``shape`` (B, n, m): ints in [0, m-1]."""
    B, n, m = shape
    if lab.shape != (B, n):
        raise ParameterError(f"class-index labels must have shape {(B, n)}, got {lab.shape}")
    if lab.min() < 0 or lab.max() >= m:
        raise ParameterError(f"class indices must lie in [0, {m - 1}], got {lab.min() if lab.min() < 0 else lab.max()}")
    return np.ascontiguousarray(lab, dtype=np.int64)


def real_array(x, name: str, ndim: int | None = None) -> np.ndarray:
    """A finite real float64 array (any shape, or ``ndim`` dimensions), else one ParameterError naming ``name``."""
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise ParameterError(f"{name} must be an array of finite real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if ndim is not None and a.ndim != ndim:
        raise ParameterError(f"{name} must be a {ndim}-d array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} must be finite: it has a NaN or an infinity")
    return a


def label_rows(labels, name: str = "labels", positive: bool = False) -> np.ndarray:
    """An (n, m) matrix of probability rows: entries in [0, 1] (or (0, 1] if ``positive``), rows summing to 1."""
    T = real_array(labels, name, 2)
    if T.size == 0:
        raise ParameterError(f"{name} must be a non-empty (n, m) matrix, got shape {T.shape}")
    inside = (T > 0 if positive else T >= 0) & (T <= 1)
    if not np.all(inside):
        where = tuple(int(v) for v in np.argwhere(~inside)[0])
        domain = "(0, 1] (positive rows of probabilities)" if positive else "[0, 1] (rows of probabilities)"
        raise ParameterError(f"{name} must lie in {domain}, got {T[where]} at index {where}")
    sums = T.sum(axis=1)
    if np.any(np.abs(sums - 1) > 1e-9):
        i = int(np.argmax(np.abs(sums - 1)))
        raise ParameterError(f"{name} rows must sum to 1 (within 1e-9), got {sums[i]:.12g} for row {i}")
    return np.ascontiguousarray(T)


def scores_like(scores, T: np.ndarray) -> np.ndarray:
    """Finite real scores of the labels' shape (n, m)."""
    S = real_array(scores, "scores", 2)
    if S.shape != T.shape:
        raise ParameterError(f"scores must have the shape of labels {T.shape}, got {S.shape}")
    return S


# ---------------------------------------------------------------------------
# mpmath oracles: the definitions, summed at the caller's precision
# ---------------------------------------------------------------------------


def zlpr_soft_oracle(s, t) -> mpmath.mpf:
    """The soft ZLPR loss summed term by term in mpmath."""
    s = [mpmath.mpf(x) for x in s]
    t = [mpmath.mpf(x) for x in t]
    return mpmath.log1p(mpmath.fsum(ti * mpmath.exp(-si) for si, ti in zip(s, t))) + mpmath.log1p(
        mpmath.fsum((1 - ti) * mpmath.exp(si) for si, ti in zip(s, t))
    )


def zlpr_hard_oracle(s, positive) -> mpmath.mpf:
    """The hard loss as post 7359 writes it: a virtual class of score 0 against each side."""
    s = [mpmath.mpf(x) for x in s]
    neg = [x for x, p in zip(s, positive) if not p]
    pos = [x for x, p in zip(s, positive) if p]
    # -log softmax of the 0-class over {0} u neg, and of each positive against {0}: log(1 + sum)
    return mpmath.log1p(mpmath.fsum(mpmath.exp(x) for x in neg)) + mpmath.log1p(
        mpmath.fsum(mpmath.exp(-x) for x in pos)
    )


def bce_oracle(s, t) -> mpmath.mpf:
    """Summed soft binary cross-entropy of sigmoid scores."""
    total = mpmath.mpf(0)
    for x, ti in zip(s, t):
        p = 1 / (1 + mpmath.exp(-mpmath.mpf(x)))
        total += -mpmath.mpf(ti) * mpmath.log(p) - (1 - mpmath.mpf(ti)) * mpmath.log(1 - p)
    return total


def nm_loss1_oracle(S, T) -> mpmath.mpf:
    """Loss-1 summed over classes j, tasks i and k != j, in mpmath."""
    n, m = len(S), len(S[0])
    total = mpmath.mpf(0)
    for j in range(m):
        inner = mpmath.fsum(
            mpmath.mpf(T[i][j]) * mpmath.exp(mpmath.mpf(S[i][k]) - mpmath.mpf(S[i][j]))
            for i in range(n)
            for k in range(m)
            if k != j
        )
        total += mpmath.log1p(inner)
    return total


def nm_loss3_oracle(S, T) -> mpmath.mpf:
    """Loss-3 summed over classes and tasks, in mpmath."""
    n, m = len(S), len(S[0])
    total = mpmath.mpf(0)
    for j in range(m):
        inner = mpmath.mpf(0)
        for i in range(n):
            centre = mpmath.fsum(mpmath.mpf(x) for x in S[i]) / m
            inner += mpmath.mpf(T[i][j]) * mpmath.exp(centre - mpmath.mpf(S[i][j]))
        total += mpmath.log1p(inner)
    return total


def nm_cross_entropy_oracle(S, T) -> mpmath.mpf:
    """The summed softmax cross-entropy, -sum t log softmax, in mpmath."""
    total = mpmath.mpf(0)
    for row_s, row_t in zip(S, T):
        z = mpmath.fsum(mpmath.exp(mpmath.mpf(x)) for x in row_s)
        total += mpmath.fsum(-mpmath.mpf(ti) * mpmath.log(mpmath.exp(mpmath.mpf(x)) / z) for x, ti in zip(row_s, row_t))
    return total


def gradient_oracle(loss, point) -> list[mpmath.mpf]:
    """The gradient of ``loss(flat_list)`` at ``point`` by mpmath's numerical differentiation.

    mpmath differentiates with a step and working precision chosen from
    ``mp.dps``, so at 40 digits the partial derivatives are good to ~35 digits.
    """
    point = [mpmath.mpf(x) for x in point]
    out = []
    for q in range(len(point)):

        def along(x, q=q):
            p = list(point)
            p[q] = x
            return loss(p)

        out.append(mpmath.diff(along, point[q]))
    return out


def nm_gradient_oracle(loss, S, T) -> list[mpmath.mpf]:
    """The gradient of an n m-class ``loss(S, T)`` in the flattened scores S (row-major), in mpmath."""
    n, m = len(S), len(S[0])
    return gradient_oracle(lambda p: loss([p[i * m : (i + 1) * m] for i in range(n)], T), [v for row in S for v in row])


def _newton_tolerance() -> mpmath.mpf:
    # A numerically differentiated gradient is good to about 2/3 of the working digits.
    return mpmath.mpf(10) ** (-2 * mpmath.mp.dps // 3)


def zlpr_soft_argmin_oracle(t) -> list[mpmath.mpf]:
    """Minimise soft ZLPR from its definition: Newton on mpmath's numerical gradient, from s = 0.

    Shares nothing with the closed form s* = logit(t)/2 (post 9158).

    >>> [mpmath.nstr(v, 10) for v in zlpr_soft_argmin_oracle([mpmath.mpf(1) / 4])]
    ['-0.5493061443']
    """
    tv = [mpmath.mpf(x) for x in t]

    def grad(*sv):
        return gradient_oracle(lambda p: zlpr_soft_oracle(p, tv), list(sv))

    root = mpmath.findroot(grad, [mpmath.mpf(0)] * len(tv), tol=_newton_tolerance())
    return [root[q] for q in range(len(tv))]


def nm_loss3_argmin_oracle(T) -> list[mpmath.mpf]:
    """Minimise loss-3 from its definition in the centred gauge (last column = -sum of the others).

    Newton on mpmath's numerical gradient from S = 0; returns the optimum flattened row-major.
    """
    n, m = len(T), len(T[0])

    def full(x):
        rows = []
        for i in range(n):
            free = list(x[i * (m - 1) : (i + 1) * (m - 1)])
            rows.append(free + [-mpmath.fsum(free)])
        return rows

    def grad(*x):
        return gradient_oracle(lambda p: nm_loss3_oracle(full(p), T), list(x))

    size = n * (m - 1)
    root = mpmath.findroot(grad, [mpmath.mpf(0)] * size, tol=_newton_tolerance())
    root = [root[q] for q in range(size)]
    return [v for row in full(root) for v in row]


# ---------------------------------------------------------------------------
# Loss-1's soft optimum and the softmax-scale fit (float64 solvers on the kernels)
# ---------------------------------------------------------------------------


def _loss1_gradient(S: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The loss-1 gradient kernel on a batch (B, n, m) of validated float64 scores and label rows."""
    loss = np.empty(S.shape[0])
    g = np.empty(S.shape)
    nm_loss1_dense_kernel(np.ascontiguousarray(S), np.ascontiguousarray(T), True, loss, g)
    return g


def loss1_soft_optimum(T: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, float]:
    """Newton for loss-1's minimiser at label rows T (n, m) (validated: positive rows summing to 1).

    The Hessian is the central difference of the analytic gradient kernel, all
    2nm perturbed copies in one batched call; the per-task shift invariance
    makes it singular, so each step is the least-squares solution, and the
    result is centred (each row sums to 0).  Returns ``(S_star, max |gradient|)``.
    """
    n, m = T.shape
    N = n * m
    S = np.log(T) - np.log(T).mean(axis=1, keepdims=True)
    h = 1e-6
    eye = np.eye(N).reshape(N, n, m)
    for _ in range(max_iter):
        g = _loss1_gradient(S[None], T[None])
        if float(np.abs(g).max()) < tol:
            break
        batch = np.concatenate([S[None] + h * eye, S[None] - h * eye])
        gb = _loss1_gradient(batch, np.broadcast_to(T, batch.shape))
        H = ((gb[:N] - gb[N:]) / (2 * h)).reshape(N, N)
        H = 0.5 * (H + H.T)
        step = np.linalg.lstsq(H, -g.reshape(N), rcond=1e-10)[0].reshape(n, m)
        S = S + step
        S -= S.mean(axis=1, keepdims=True)
    g = _loss1_gradient(S[None], T[None])
    return S, float(np.abs(g).max())


def _softmax(S: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # a gap beyond the float range is -inf: its exp is the right 0
        z = np.exp(S - S.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def softmax_scale_fit(S: np.ndarray, T: np.ndarray) -> tuple[float, float]:
    """The c in [0, 20] minimising max |softmax(c S) - T|: a grid of 401 points, then 80 golden-section steps."""

    def err(c: float) -> float:
        with np.errstate(over="ignore"):
            scaled = c * S
            if not np.all(np.isfinite(scaled)):  # huge scores: shift before scaling (c > 0, as c S overflowed)
                scaled = c * (S - S.max(axis=-1, keepdims=True))
        return float(np.abs(_softmax(scaled) - T).max())

    grid = np.linspace(0.0, 20.0, 401)
    k = int(np.argmin([err(c) for c in grid]))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    phi = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
        if err(a) < err(b):
            hi = b
        else:
            lo = a
    c = 0.5 * (lo + hi)
    best = float(grid[k])
    if err(best) + 1e-12 < err(c):  # a minimum at the grid's end c = 0 (huge scores) that refinement leaves
        return best, err(best)
    return c, err(c)


def implied_scales(S: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(log t_ij - log t_ik) / (s_ij - s_ik) for every task i and pair j < k with |s_ij - s_ik| > 1e-9."""
    L = np.log(T)
    out = []
    n, m = S.shape
    for i in range(n):
        for j in range(m):
            for k in range(j + 1, m):
                with np.errstate(over="ignore"):
                    ds = S[i, j] - S[i, k]  # beyond the float range: inf, and the implied c is the right 0
                if abs(ds) > 1e-9:
                    out.append((L[i, j] - L[i, k]) / ds)
    return np.array(out)


# ---------------------------------------------------------------------------
# The kernels against the oracles (a verify row's measurement)
# ---------------------------------------------------------------------------


def relative_error(a: float, b: float) -> float:
    """|a - b| / |b|, or |a - b| when b is 0."""
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def kernel_oracle_errors(rows: int, seed: int = 7359) -> dict[str, float]:
    """Largest relative error of the dense float64 kernels (ZLPR, loss-1, loss-3; value and gradient).

    Against the mpmath definitions at 30 digits, on random rows at moderate
    scores (scale 3) and large ones (scale 400: the shifted path); gradients
    relative to max |g|.  Keys: ``zlpr``, ``zlpr grad``, ``loss1``, ``loss1 grad``,
    ``loss3``, ``loss3 grad``.
    """
    rng = np.random.default_rng(seed)
    worst: dict[str, float] = {}

    def note(key: str, err: float) -> None:
        worst[key] = max(worst.get(key, 0.0), err)

    with mpmath.workdps(30):
        for scale in (3.0, 400.0):
            s = rng.normal(size=(rows, 12)) * scale
            t = rng.uniform(size=(rows, 12))
            t[:, :3] = 0.0
            t[:, 3:5] = 1.0
            loss, g = np.empty(rows), np.empty((rows, 12))
            zlpr_dense_kernel(s, t, np.ones((1, 1), dtype=np.bool_), False, True, loss, g)
            for b in range(rows):
                note("zlpr", relative_error(loss[b], float(zlpr_soft_oracle(s[b], t[b]))))
            go = gradient_oracle(lambda p, t=t: zlpr_soft_oracle(p, t[0]), s[0])
            note("zlpr grad", max(abs(float(x) - y) for x, y in zip(go, g[0])) / max(abs(g[0]).max(), 1e-300))
            n, m = 4, 3
            S = rng.normal(size=(rows, n, m)) * scale / 3
            T = rng.dirichlet(np.full(m, 2.0), size=(rows, n))
            for kind, kernel, oracle in (
                ("loss1", nm_loss1_dense_kernel, nm_loss1_oracle),
                ("loss3", nm_loss3_dense_kernel, nm_loss3_oracle),
            ):
                lv, gv = np.empty(rows), np.empty(S.shape)
                kernel(S, T, True, lv, gv)
                for b in range(rows):
                    note(kind, relative_error(lv[b], float(oracle(S[b].tolist(), T[b].tolist()))))
                go = nm_gradient_oracle(oracle, S[0].tolist(), T[0].tolist())
                note(kind + " grad", max(abs(float(x) - v) for x, v in zip(go, gv[0].ravel())) / abs(gv[0]).max())
    return worst
