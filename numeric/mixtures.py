r"""Gaussian-mixture toys whose diffused scores and classifiers are exact.

Data :math:`p_0(x) = \sum_k \pi_k \mathcal N(x; m_k, s_k^2 I)` in ``dim`` dimensions; every
component k carries a class label :math:`c_k`, and the label of a sample is the label of the
component that drew it, so :math:`y \to k \to x_0 \to x_t` is a Markov chain.  Diffusing with
Su's :math:`x_t = \bar\alpha_t x_0 + \bar\beta_t\varepsilon` keeps a mixture,

.. math::

    p_t(x) = \sum_k \pi_k\, \mathcal N\bigl(x;\ \bar\alpha_t m_k,\ v_{t,k} I\bigr),\qquad
    v_{t,k} = \bar\alpha_t^2 s_k^2 + \bar\beta_t^2,

and the noisy classifier is exact: :math:`p_t(y|x) = \sum_{c_k = y} r_{t,k}(x)` with the
responsibilities :math:`r_{t,k} \propto \pi_k \mathcal N(x; \bar\alpha_t m_k, v_{t,k} I)`.  So are
:math:`\nabla\log p_t(x) = \sum_k r_{t,k}(\bar\alpha_t m_k - x)/v_{t,k}` and the conditional
score (the same sum over the components of class y, renormalised).  Everything here is
float64 NumPy or mpmath; the Numba sampler lives in :mod:`closedform.numeric.guidance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from closedform.derive import guidance as d
from closedform.derive.errors import ParameterError

#: Most components and dimensions the CUDA sampler compiles for (local memory is fixed-size).
MAX_COMPONENTS = 16
MAX_DIM = 4


@dataclass(frozen=True, eq=False)
class Mixture:
    """An isotropic Gaussian mixture with one class label per component.

    Parameters
    ----------
    weights : (K,) array
        Positive mixing weights (normalised to sum 1 on construction).
    means : (K, dim) array
    stds : (K,) array
        Positive per-component standard deviations (isotropic).
    labels : (K,) int array
        Class of each component, in ``0 .. n_classes - 1``.

    Examples
    --------
    >>> m = Mixture.make([1, 1], [[-1.0], [1.0]], [0.5, 0.5], [0, 1])
    >>> m.dim, m.n_components, m.n_classes
    (1, 2, 2)
    >>> float(m.conditional(1).cdf(np.array([[1.0]]))[0])
    0.5
    """

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    labels: np.ndarray

    @classmethod
    def make(cls, weights: Any, means: Any, stds: Any, labels: Any) -> Mixture:
        """Validate and build a mixture; errors name the argument and its domain."""
        w = np.asarray(weights, dtype=np.float64).ravel()
        m = np.asarray(means, dtype=np.float64)
        s = np.asarray(stds, dtype=np.float64).ravel()
        lab = np.asarray(labels)
        if w.size < 1 or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ParameterError(f"weights must be positive finite numbers, got {weights!r}")
        k = w.size
        if k > MAX_COMPONENTS:
            raise ParameterError(f"a mixture has at most {MAX_COMPONENTS} components, got {k}")
        if m.ndim == 1:
            m = m.reshape(k, -1) if m.size == k else m.reshape(1, -1)
        if m.ndim != 2 or m.shape[0] != k or not np.all(np.isfinite(m)):
            raise ParameterError(f"means must be a finite ({k}, dim) array, got shape {np.shape(means)}")
        if not 1 <= m.shape[1] <= MAX_DIM:
            raise ParameterError(f"dim must lie in 1..{MAX_DIM}, got {m.shape[1]}")
        if s.size != k or not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ParameterError(f"stds must be {k} positive finite numbers, got {stds!r}")
        if lab.size != k or not np.all(np.equal(np.mod(lab, 1), 0)) or np.any(lab < 0):
            raise ParameterError(f"labels must be {k} integers >= 0, got {labels!r}")
        return cls(w / w.sum(), np.ascontiguousarray(m), s, lab.astype(np.int64).ravel())

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def n_components(self) -> int:
        return int(self.weights.size)

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1

    def check_class(self, y: Any) -> int:
        """``y`` as an int, or a ParameterError naming the classes that exist."""
        if isinstance(y, bool) or not float(y).is_integer() or int(y) not in set(self.labels.tolist()):
            raise ParameterError(f"y must be one of the classes {sorted(set(self.labels.tolist()))}, got {y!r}")
        return int(y)

    def conditional(self, y: Any) -> Mixture:
        """The data law given the class, :math:`p_0(x|y)`: the class-y components, renormalised."""
        keep = self.labels == self.check_class(y)
        return Mixture(
            self.weights[keep] / self.weights[keep].sum(), self.means[keep], self.stds[keep], self.labels[keep]
        )

    def diffused(self, alpha_bar: float) -> Mixture:
        """The law of :math:`x_t = \\bar\\alpha_t x_0 + \\bar\\beta_t\\varepsilon` (Su's ᾱ_t)."""
        ab = float(alpha_bar)
        return Mixture(self.weights, ab * self.means, np.sqrt(ab * ab * self.stds**2 + (1 - ab * ab)), self.labels)

    # -- exact densities, scores and classifier (float64, vectorised over points) ----------------

    def _log_components(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        d2 = ((x[:, None, :] - self.means[None, :, :]) ** 2).sum(-1)
        v = self.stds**2
        return np.log(self.weights) - d2 / (2 * v) - 0.5 * self.dim * np.log(2 * np.pi * v)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        lc = self._log_components(x)
        top = lc.max(1, keepdims=True)
        return (top + np.log(np.exp(lc - top).sum(1, keepdims=True)))[:, 0]

    def score(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\nabla\log p(x)` at the rows of x."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        lc = self._log_components(x)
        r = np.exp(lc - lc.max(1, keepdims=True))
        r /= r.sum(1, keepdims=True)
        return ((r[:, :, None] * (self.means[None] - x[:, None, :])) / (self.stds**2)[None, :, None]).sum(1)

    def class_probability(self, y: int, x: np.ndarray) -> np.ndarray:
        """:math:`p(y|x)` at the rows of x (the posterior mass of the class-y components)."""
        lc = self._log_components(x)
        r = np.exp(lc - lc.max(1, keepdims=True))
        return r[:, self.labels == self.check_class(y)].sum(1) / r.sum(1)

    def cdf(self, points: np.ndarray) -> np.ndarray:
        r"""The joint CDF :math:`P(x_d \le a_d\ \forall d)` at each row a of ``points``."""
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        z = (pts[:, None, :] - self.means[None]) / self.stds[None, :, None]
        phi = 0.5 * _erfc(-z / math.sqrt(2.0))
        return (self.weights[None] * phi.prod(-1)).sum(1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Exact draws (NumPy Generator; for baselines and tests, never inside kernels)."""
        k = rng.choice(self.n_components, size=n, p=self.weights)
        return self.means[k] + self.stds[k, None] * rng.standard_normal((n, self.dim))


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def cdf_oracle(
    weights: Sequence[Any], means: Sequence[Sequence[Any]], stds: Sequence[Any], point: Sequence[Any]
) -> mpmath.mpf:
    """The joint CDF of an isotropic mixture at one point, by mpmath quadrature.

    Independent of the erfc closed form: every factor is ``quad`` of the Gaussian density
    from -inf, at the caller's ``mp.dps``; pass exact values (mpf of rationals) for full accuracy.

    >>> float(cdf_oracle([1], [[0]], [1], [0]))
    0.5
    """
    total = mpmath.mpf(0)
    for w, m, s in zip(weights, means, stds):
        term = mpmath.mpf(w)
        s_ = mpmath.mpf(s)
        for a, md in zip(point, m):
            md = mpmath.mpf(md)
            dens = lambda u, md=md, s_=s_: (
                mpmath.exp(-((u - md) ** 2) / (2 * s_**2)) / (mpmath.sqrt(2 * mpmath.pi) * s_)
            )
            term *= mpmath.quad(dens, [-mpmath.inf, md, mpmath.mpf(a)])
        total += term
    return total


def tilted_cdf_1d(mixture: Mixture, y: int, gamma: float, points: np.ndarray, grid: int = 40001) -> np.ndarray:
    r"""CDF of the tilted law :math:`p_0(x)\,p_0(y|x)^\gamma / Z` (1-D) at ``points``.

    The naive reading of guidance with scale γ.  No closed form for γ ≠ 1, so the
    density is integrated on a uniform grid over 12 standard deviations beyond the
    outermost means (trapezoid rule on a smooth, Gaussian-tailed density: error far
    below 1e-8 with the default grid).
    """
    if mixture.dim != 1:
        raise ParameterError(f"tilted_cdf_1d needs a 1-D mixture, got dim={mixture.dim}")
    lo = float((mixture.means[:, 0] - 12 * mixture.stds).min())
    hi = float((mixture.means[:, 0] + 12 * mixture.stds).max())
    x = np.linspace(lo, hi, grid)
    logd = mixture.log_density(x[:, None]) + gamma * np.log(mixture.class_probability(y, x[:, None]))
    dens = np.exp(logd - logd.max())
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(x))])
    cum /= cum[-1]
    return np.interp(np.asarray(points, dtype=np.float64).ravel(), x, cum, left=0.0, right=1.0)


def tilted_mean_1d(mixture: Mixture, y: int, gamma: float, grid: int = 40001) -> float:
    r"""Mean of :math:`p_0(x)p_0(y|x)^\gamma/Z` (1-D), same grid and rule as :func:`tilted_cdf_1d`."""
    lo = float((mixture.means[:, 0] - 12 * mixture.stds).min())
    hi = float((mixture.means[:, 0] + 12 * mixture.stds).max())
    x = np.linspace(lo, hi, grid)
    logd = mixture.log_density(x[:, None]) + gamma * np.log(mixture.class_probability(y, x[:, None]))
    dens = np.exp(logd - logd.max())
    return float(np.trapezoid(x * dens, x) / np.trapezoid(dens, x))


def guided_score_mismatch(
    mixture: Mixture,
    y: int,
    gamma: float,
    alpha_bar: float,
    half_width: float = 2.0,
    points: int = 801,
    grid: int = 20001,
) -> float:
    r"""max over :math:`|x| \le` ``half_width`` of |guided score − score of the diffused tilted law| (1-D).

    The guided sampler follows :math:`\nabla\log p_t(x) + \gamma\nabla\log p_t(y|x)`; the diffusion
    of the tilted data law :math:`\tilde p_0 \propto p_0\,p_0(y|x)^\gamma` has the score

    .. math::

        \nabla\log\tilde p_t(x) = \frac{\int \tilde p_0(x_0)\,
            \frac{\bar\alpha_t x_0 - x}{\bar\beta_t^2}\,\mathcal N(x;\bar\alpha_t x_0, \bar\beta_t^2)\,dx_0}
            {\int \tilde p_0(x_0)\,\mathcal N(x;\bar\alpha_t x_0, \bar\beta_t^2)\,dx_0}

    (quadrature on a uniform grid of ``grid`` points over ±12 component widths).  Zero at
    γ = 1; for γ = 3 on the two-class toy it is 7.56, 3.00, 0.98 at ᾱ = 0.9, 0.6, 0.3
    (a check of post 9257's remark that guidance with γ ≠ 1 does not sample the tilted law).
    """
    ab = float(alpha_bar)
    bb2 = 1.0 - ab * ab
    xs = np.linspace(-half_width, half_width, points)
    diffused = mixture.diffused(ab)
    lc = diffused._log_components(xs[:, None])
    r = np.exp(lc - lc.max(1, keepdims=True))
    rc = r * (mixture.labels == y)
    comp = (diffused.means[None, :, 0] - xs[:, None]) / diffused.stds[None] ** 2
    guided = (r * comp).sum(1) / r.sum(1) + gamma * ((rc * comp).sum(1) / rc.sum(1) - (r * comp).sum(1) / r.sum(1))
    lo = float((mixture.means[:, 0] - 12 * mixture.stds).min())
    hi = float((mixture.means[:, 0] + 12 * mixture.stds).max())
    x0 = np.linspace(lo, hi, grid)
    log_tilt = mixture.log_density(x0[:, None]) + gamma * np.log(mixture.class_probability(y, x0[:, None]))
    log_k = log_tilt[None, :] - (xs[:, None] - ab * x0[None, :]) ** 2 / (2 * bb2)
    k = np.exp(log_k - log_k.max(1, keepdims=True))
    tilted = (k * (ab * x0[None, :] - xs[:, None])).sum(1) / (bb2 * k.sum(1))
    return float(np.abs(guided - tilted).max())


def _float_toy(name: str) -> Mixture:
    toy = d.TOYS[name]
    return Mixture.make(
        [float(v) for v in toy["weights"]],
        [[float(c) for c in row] for row in toy["means"]],
        [float(v) for v in toy["stds"]],
        toy["labels"],
    )


#: The toys of :data:`closedform.derive.guidance.TOYS` as float64 mixtures (the one table, two views).
TOYS: dict[str, Mixture] = {name: _float_toy(name) for name in d.TOYS}
#: Two classes N(-1, 0.5²) and N(+1, 0.5²), equal weights (the gamma != 1 example of post 9257's checks).
TWO_CLASS_1D = TOYS["two_class_1d"]
#: A 1-D toy whose class 0 is bimodal (components 0 and 2): p(x|y=0) is itself a mixture.
BIMODAL_1D = TOYS["bimodal_1d"]
#: A 2-D toy: four components on a square, classes by diagonal.
SQUARE_2D = TOYS["square_2d"]


def toy_points(name: str) -> np.ndarray:
    """The CDF points of a toy's registered checks, float64 (points, dim)."""
    return np.array([[float(c) for c in row] for row in d.TOYS[name]["points"]])


def _mp_rational(v: Any) -> mpmath.mpf:
    return mpmath.mpf(int(v.p)) / int(v.q)


def toy_cdf_oracle(name: str, y: int) -> list[mpmath.mpf]:
    """The CDF of p_0(x|y) at the toy's points by :func:`cdf_oracle` quadrature, at the caller's ``mp.dps``.

    The weights, means and stds enter as mpf of the table's exact rationals.

    >>> [mpmath.nstr(v, 8) for v in toy_cdf_oracle("two_class_1d", 1)][:3]
    ['0.001349898', '0.15865525', '0.5']
    """
    weights, means, stds = d.conditional_mixture(name, int(y))
    w = [_mp_rational(v) for v in weights]
    m = [[_mp_rational(c) for c in row] for row in means]
    s = [_mp_rational(v) for v in stds]
    return [cdf_oracle(w, m, s, [_mp_rational(c) for c in pt]) for pt in d.TOYS[name]["points"]]


__all__ = [
    "BIMODAL_1D",
    "MAX_COMPONENTS",
    "MAX_DIM",
    "SQUARE_2D",
    "TOYS",
    "TWO_CLASS_1D",
    "Mixture",
    "cdf_oracle",
    "guided_score_mismatch",
    "tilted_cdf_1d",
    "tilted_mean_1d",
    "toy_cdf_oracle",
    "toy_points",
]
