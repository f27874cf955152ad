"""Benchmark: EXACT's p_y with its full gradient, per sample, against SciPy and NumPy.

Baselines (C = 10 and C = 100 classes, sigma = 1, logits ~ N(0, 2^2)):

* ``scipy.stats.multivariate_normal.cdf`` of the orthant form, value only
  (Genz's randomised lattice rule, default tolerances): P(d + e > 0) with
  e ~ N(0, I + 11^T) in C - 1 dimensions;
* a vectorised NumPy evaluation of the same 1-D integral and its gradient
  (``scipy.special.ndtr``/``log_ndtr`` on (rows, classes, nodes) arrays), with
  a composite Gauss-Legendre rule on [max m - 8.5, max m + 9.5] refined until
  it reaches the same 1e-10 accuracy against the mpmath oracle.

closedform's kernel (``closedform.accuracy.exact_probabilities``: validation,
the shared Normal-law VJP on all cores, the chain rule to mu and sigma) is timed
after compilation.  Errors are measured against the mpmath oracle on a few rows.

Run: ``python bench/accuracy.py`` (add ``--quick`` for a smaller run).
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import mpmath
import numpy as np
from scipy import special, stats

from closedform import accuracy as acc
from closedform.numeric import accuracy as num


def numpy_value_and_grad(m: np.ndarray, y: np.ndarray, panels: int, nodes: int, chunk: int = 128):
    """p_y and dp_y/dm by a fixed composite Gauss-Legendre rule, vectorised over (rows, classes, nodes)."""
    gx, gw = np.polynomial.legendre.leggauss(nodes)
    bsz, c = m.shape
    p = np.empty(bsz)
    g = np.empty((bsz, c))
    for start in range(0, bsz, chunk):
        mm = m[start : start + chunk]
        yy = y[start : start + chunk]
        rows = np.arange(mm.shape[0])
        top = mm.max(axis=1)
        left, width = top - 8.5, 18.0 / panels
        # nodes: (rows, K) with K = panels * nodes
        t = (np.arange(panels)[:, None] + (gx[None, :] + 1) / 2).ravel()
        x = left[:, None] + width * t[None, :]
        w = np.tile(gw * width / 2, panels)[None, :]
        z = x[:, None, :] - mm[:, :, None]  # (rows, C, K)
        log_cdf = special.log_ndtr(z)
        log_pdf = -0.5 * z * z - 0.5 * math.log(2 * math.pi)
        log_g = log_cdf.sum(axis=1)  # log prod_j Phi(x - m_j)
        ratio = np.exp(log_pdf - log_cdf)  # phi/Phi per class and node
        base = w * np.exp(log_g) * ratio[rows, yy, :]  # w phi_y prod_{j != y} Phi_j
        p[start : start + chunk] = base.sum(axis=1)
        gj = -(base[:, None, :] * ratio).sum(axis=2)
        gj[rows, yy] = 0.0
        gj[rows, yy] = -gj.sum(axis=1)
        g[start : start + chunk] = gj
    return p, g


def oracle_errors(m, y, p, g, rows):
    mpmath.mp.dps = 20
    worst = 0.0
    for b in rows:
        op, og = num.probability_and_logit_gradient([mpmath.mpf(float(v)) for v in m[b]], int(y[b]))
        worst = max(worst, abs(float(op) - p[b]), max(abs(float(v) - g[b, j]) for j, v in enumerate(og)))
    return worst


def time_call(f, repeat=3):
    best = math.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def scipy_orthant(m_row, y):
    d = np.delete(m_row[y] - m_row, y)
    k = d.size
    cov = np.eye(k) + np.ones((k, k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats.multivariate_normal(mean=np.zeros(k), cov=cov).cdf(d, rng=np.random.default_rng(0))


def bench(c: int, batch: int, scipy_rows: int, check_rows: int) -> dict:
    rng = np.random.default_rng(c)
    mu = rng.normal(0, 2, (batch, c))
    y = rng.integers(0, c, batch)
    sigma = np.ones(batch)
    acc.exact_probabilities(mu[:8], sigma[:8], y[:8])  # compile
    t_ours, (p, dmu, _) = time_call(lambda: acc.exact_probabilities(mu, sigma, y))
    err_ours = oracle_errors(mu, y, p, dmu, range(check_rows))
    # NumPy: refine the rule until it meets the same 1e-10 on the checked rows.
    for panels, nodes in ((4, 12), (8, 12), (12, 16), (16, 20), (24, 24)):
        pn, gn = numpy_value_and_grad(mu[:check_rows], y[:check_rows], panels, nodes)
        err_np = oracle_errors(mu, y, pn, gn, range(check_rows))
        if err_np <= 1e-10:
            break
    t_np, _ = time_call(lambda: numpy_value_and_grad(mu, y, panels, nodes), repeat=2)
    t0 = time.perf_counter()
    vals = [scipy_orthant(mu[b], y[b]) for b in range(scipy_rows)]
    t_scipy = (time.perf_counter() - t0) / scipy_rows
    err_scipy = max(abs(v - p[b]) for b, v in enumerate(vals))
    return {
        "C": c,
        "B": batch,
        "ours_us": 1e6 * t_ours / batch,
        "ours_err": err_ours,
        "numpy_us": 1e6 * t_np / batch,
        "numpy_rule": f"{panels}x{nodes}",
        "numpy_err": err_np,
        "scipy_us": 1e6 * t_scipy,
        "scipy_err": err_scipy,
    }


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    plan = ((10, 4000 if quick else 20000, 10, 4), (100, 400 if quick else 2000, 2, 2))
    print("EXACT p_y + gradient (mu, sigma) per sample; SciPy mvn.cdf is value only")
    print(
        f"{'C':>4} {'B':>6} {'closedform us':>14} {'err':>8} {'NumPy us':>10} {'rule':>6} {'err':>8} "
        f"{'SciPy us':>10} {'err':>8} {'vs NumPy':>9} {'vs SciPy':>9}"
    )
    for c, batch, srows, crows in plan:
        r = bench(c, batch, srows, crows)
        print(
            f"{r['C']:>4} {r['B']:>6} {r['ours_us']:>14.2f} {r['ours_err']:>8.1e} {r['numpy_us']:>10.2f} "
            f"{r['numpy_rule']:>6} {r['numpy_err']:>8.1e} {r['scipy_us']:>10.0f} {r['scipy_err']:>8.1e} "
            f"{r['numpy_us'] / r['ours_us']:>8.1f}x {r['scipy_us'] / r['ours_us']:>8.0f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
