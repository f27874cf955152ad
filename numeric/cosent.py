r"""CoSENT kernels: the O(B²) pair sum and an exact O(B log B) one, value and gradient.

With :math:`z = \lambda f` and the batch sorted by label (stable sort, equal
labels form one group), the pair sum groups by its upper member:

.. math::

    \sum_{y_i < y_j} e^{z_i - z_j} = \sum_j e^{P_{g(j)} - z_j},
    \qquad P_g = \log \sum_{i \in \text{groups below } g} e^{z_i},

and the gradient needs the mirror suffix :math:`Q_g = \log\sum_{j \in
\text{groups above } g} e^{-z_j}`:

.. math::

    \frac{\partial L}{\partial f_k} = \lambda\bigl(e^{z_k + Q_{g(k)} - L} - e^{P_{g(k)} - z_k - L}\bigr).

Both exponents are at most 0 (each is one part of :math:`e^L`), so nothing
overflows; ties never enter (a group is excluded from its own prefix and
suffix).  Cost: one sort plus O(B) exps and logs, linear memory.

The reference :func:`cosent_pairs_kernel` visits all B² ordered pairs with a
max shift, as the definition reads.  Neither validates its input;
:mod:`closedform.cosent` does.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from closedform.numeric.multiclass import gradient_oracle
from closedform.numeric.target import scalar_jit


@scalar_jit
def _logaddexp(a, b):
    """log(e^a + e^b) for a, b possibly -inf."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@scalar_jit
def _softplus(x):
    """log(1 + e^x), relative precision kept for x << 0."""
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@scalar_jit
def cosent_sorted_kernel(f, y, lam, want_grad, grad):
    """CoSENT by sorting: f, y float64 (B,), lam > 0; returns L, writes grad (B,) when asked.

    Groups of equal labels are found after a stable argsort of y; P (prefix
    log-sum-exp of z over lower groups) and Q (suffix log-sum-exp of -z over
    higher groups) are kept per group.
    """
    B = f.shape[0]
    order = np.argsort(y, kind="mergesort")
    z = np.empty(B)
    for q in range(B):
        z[q] = lam * f[order[q]]
    # group boundaries in sorted order: group of sorted position q is gid[q]
    gid = np.empty(B, dtype=np.int64)
    n_groups = 0
    for q in range(B):
        if q > 0 and y[order[q]] != y[order[q - 1]]:
            n_groups += 1
        gid[q] = n_groups
    n_groups += 1
    own = np.full(n_groups, -math.inf)  # lse of z within each group
    own_neg = np.full(n_groups, -math.inf)  # lse of -z within each group
    for q in range(B):
        own[gid[q]] = _logaddexp(own[gid[q]], z[q])
        own_neg[gid[q]] = _logaddexp(own_neg[gid[q]], -z[q])
    below = np.empty(n_groups)
    above = np.empty(n_groups)
    run = -math.inf
    for g in range(n_groups):
        below[g] = run
        run = _logaddexp(run, own[g])
    run = -math.inf
    for g in range(n_groups - 1, -1, -1):
        above[g] = run
        run = _logaddexp(run, own_neg[g])
    # T = log sum_j e^{P_g(j) - z_j}, by a max shift over the finite exponents
    top = -math.inf
    for q in range(B):
        x = below[gid[q]] - z[q]
        top = max(top, x)
    if top == -math.inf:  # no pair: all labels equal (or B = 1)
        if want_grad:
            for q in range(B):
                grad[q] = 0.0
        return 0.0
    acc = 0.0
    for q in range(B):
        p = below[gid[q]]
        if p != -math.inf:
            acc += math.exp(p - z[q] - top)
    loss = _softplus(top + math.log(acc))
    if want_grad:
        for q in range(B):
            g = gid[q]
            up = math.exp(z[q] + above[g] - loss) if above[g] != -math.inf else 0.0
            down = math.exp(below[g] - z[q] - loss) if below[g] != -math.inf else 0.0
            grad[order[q]] = lam * (up - down)
    return loss


@scalar_jit
def cosent_pairs_kernel(f, y, lam, want_grad, grad):
    """CoSENT over all B² ordered pairs (the reference): f, y float64 (B,); returns L, fills grad.

    Three sweeps over the pairs: the largest exponent (the shift), the shifted
    sum, and per score the sums over the pairs it is the lower and the upper
    member of.  Serial, in index order: the result is deterministic.
    """
    B = f.shape[0]
    z = np.empty(B)
    for q in range(B):
        z[q] = lam * f[q]
    top = -math.inf
    for i in range(B):
        for j in range(B):
            if y[i] < y[j] and z[i] - z[j] > top:
                top = z[i] - z[j]
    if top == -math.inf:
        if want_grad:
            for q in range(B):
                grad[q] = 0.0
        return 0.0
    shift = max(0.0, top)
    acc = 0.0
    for i in range(B):
        for j in range(B):
            if y[i] < y[j]:
                acc += math.exp(z[i] - z[j] - shift)
    loss = math.log1p(acc) if shift == 0.0 else shift + math.log(acc + math.exp(-shift))
    if want_grad:
        for k in range(B):
            up = 0.0
            down = 0.0
            for j in range(B):
                if y[k] < y[j]:
                    up += math.exp(z[k] - z[j] - loss)
                elif y[j] < y[k]:
                    down += math.exp(z[j] - z[k] - loss)
            grad[k] = lam * (up - down)
    return loss


def cosent_pairs_numpy(f: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """The B x B masked-matrix form used by existing ports, vectorised NumPy, without ±1e12 masks."""
    z = lam * np.asarray(f, dtype=np.float64)
    pair = y[:, None] < y[None, :]
    diff = np.where(pair, z[:, None] - z[None, :], -np.inf)
    top = max(diff.max(initial=-np.inf), 0.0)
    w = np.exp(diff - top)
    loss = top + math.log(math.exp(-top) + w.sum())
    w = w * math.exp(top - loss)
    return loss, lam * (w.sum(axis=1) - w.sum(axis=0))


def cosent_oracle(f, y, lam) -> mpmath.mpf:
    """The definition, summed over every ordered pair at mpmath's precision."""
    f = [mpmath.mpf(v) for v in f]
    lam = mpmath.mpf(lam)
    terms = [mpmath.exp(lam * (f[i] - f[j])) for i in range(len(f)) for j in range(len(f)) if y[i] < y[j]]
    return mpmath.log1p(mpmath.fsum(terms))


def cosent_gradient_oracle(f, y, lam) -> list[mpmath.mpf]:
    """dL/df of the definition by mpmath's numerical differentiation (good to about 30 digits at 40)."""
    lam = mpmath.mpf(lam)
    return gradient_oracle(lambda p: cosent_oracle(p, list(y), lam), [mpmath.mpf(v) for v in f])


#: The lambda of :func:`large_lambda_oracle`: L/lambda is within log(1 + #pairs)/lambda of its limit.
LARGE_LAMBDA = mpmath.mpf(10) ** 35


def large_lambda_oracle(f, y) -> mpmath.mpf:
    """L(lambda)/lambda at lambda = 1e35, which is within log(1 + #pairs)/lambda < 1e-34 of the limit."""
    return cosent_oracle(f, list(y), LARGE_LAMBDA) / LARGE_LAMBDA


def softmax2_cross_entropy_oracle(z0, z1, label: int) -> mpmath.mpf:
    """-log softmax(z0, z1)_label from the definition in mpmath."""
    z = [mpmath.mpf(z0), mpmath.mpf(z1)]
    return -mpmath.log(mpmath.exp(z[int(label)]) / (mpmath.exp(z[0]) + mpmath.exp(z[1])))


def random_batch(rng: np.random.Generator, size: int, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores ~ N(0, 1/2) and labels from ``levels`` values (so with many ties)."""
    return rng.normal(scale=0.5, size=size), rng.integers(0, levels, size=size).astype(np.float64)


def _sorted_loss(f: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    g = np.empty(f.shape[0])
    return float(cosent_sorted_kernel(f, y, lam, True, g)), g


def kernel_oracle_errors(thorough: bool, seed: int = 8847) -> tuple[float, float]:
    """Largest relative error (value; gradient relative to max |g|) of the O(B log B) kernel against
    :func:`cosent_oracle` at 30 digits, B = 40 with ties, lambda in (20, 1); gradients at lambda = 1
    (and 20 when ``thorough``)."""
    rng = np.random.default_rng(seed)
    worst_v = worst_g = 0.0
    with mpmath.workdps(30):
        for lam in (20.0, 1.0):
            f, y = random_batch(rng, 40, 4)
            lf, gf = _sorted_loss(f, y, lam)
            o = cosent_oracle(f.tolist(), y.tolist(), lam)
            worst_v = max(worst_v, float(abs(lf - o) / o))
            if lam == 1.0 or thorough:
                go = cosent_gradient_oracle(f.tolist(), y.tolist(), lam)
                worst_g = max(worst_g, max(abs(float(a) - b) for a, b in zip(go, gf)) / float(np.abs(gf).max()))
    return worst_v, worst_g
