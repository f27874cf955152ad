r"""Statistical checks with stated error rates: z-tests, power, DKWM bands.

Every stochastic check in closedform goes through these functions, so that its
tolerance comes from a false-failure rate :math:`\alpha` and the standard error
*under the claimed value*, never from a number picked until the test passed.

For a two-sided test at level :math:`\alpha` the threshold is
:math:`z_\alpha = \Phi^{-1}(1 - \alpha/2)`; :math:`\alpha = 10^{-6}` gives 4.89.
A proportion test of :math:`H_0: p = p_0` with :math:`N` trials uses

.. math::

    z = \frac{\hat p - p_0}{\sqrt{p_0 (1 - p_0) / N}},

and detects a discrepancy :math:`\delta` with power :math:`1-\beta` once

.. math::

    N \ge \left(\frac{z_\alpha \sqrt{p_0 q_0} + z_\beta \sqrt{p_1 q_1}}{\delta}\right)^2,
    \qquad p_1 = p_0 \pm \delta .
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

_STD = NormalDist()


def z_threshold(alpha: float) -> float:
    """Return the two-sided threshold :math:`\\Phi^{-1}(1-\\alpha/2)`.

    >>> round(z_threshold(1e-6), 2)
    4.89
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return _STD.inv_cdf(1.0 - alpha / 2.0)


def bonferroni(alpha: float, tests: int) -> float:
    """Split a family-wise false-failure budget ``alpha`` evenly over ``tests`` tests."""
    if tests < 1:
        raise ValueError(f"tests must be >= 1, got {tests!r}")
    return alpha / tests


@dataclass(frozen=True)
class ZTest:
    """The outcome of one z-test: what was estimated, against what, and the verdict."""

    estimate: float
    claimed: float
    stderr: float
    z: float
    threshold: float
    alpha: float
    trials: int

    @property
    def passed(self) -> bool:
        return abs(self.z) <= self.threshold

    def __str__(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        return (
            f"{verdict}: estimate {self.estimate:.6g} vs claimed {self.claimed:.6g}, "
            f"se {self.stderr:.3g}, z = {self.z:+.2f} (|z| <= {self.threshold:.2f} at "
            f"alpha = {self.alpha:.1e}, N = {self.trials})"
        )


def z_test_proportion(count: int, trials: int, claimed: float, alpha: float) -> ZTest:
    """Two-sided z-test of a binomial proportion, standard error under the claim.

    A claim of exactly 0 or 1 has zero variance: any count that differs from
    it is a certain failure, and an equal count a certain pass.

    >>> t = z_test_proportion(5020, 10000, 0.5, 1e-6)
    >>> t.passed, round(t.z, 2)
    (True, 0.4)
    """
    if trials <= 0:
        raise ValueError(f"trials must be positive, got {trials!r}")
    if not 0.0 <= claimed <= 1.0:
        raise ValueError(f"claimed proportion must lie in [0, 1], got {claimed!r}")
    estimate = count / trials
    se = math.sqrt(claimed * (1.0 - claimed) / trials)
    if se == 0.0:
        z = 0.0 if count == claimed * trials else math.inf
    else:
        z = (estimate - claimed) / se
    return ZTest(estimate, claimed, se, z, z_threshold(alpha), alpha, int(trials))


def z_test_mean(total: float, total_sq: float, trials: int, claimed: float, alpha: float) -> ZTest:
    """Two-sided z-test of a mean from the sum and the sum of squares.

    The variance is the sample variance about the *claimed* mean,
    :math:`\\frac1N\\sum (x_i - \\mu_0)^2`, which is what the spread would be if
    the claim held; with large N the normal approximation is exact enough at
    the thresholds used here (N >= 1e4 in every caller).
    """
    if trials <= 1:
        raise ValueError(f"trials must be at least 2, got {trials!r}")
    mean = total / trials
    second = total_sq / trials - 2.0 * claimed * mean + claimed * claimed
    se = math.sqrt(max(second, 0.0) / trials)
    z = 0.0 if se == 0.0 and mean == claimed else (mean - claimed) / se if se > 0 else math.inf
    return ZTest(mean, claimed, se, z, z_threshold(alpha), alpha, int(trials))


def power_of_proportion_test(claimed: float, delta: float, trials: int, alpha: float) -> float:
    """Probability that the z-test rejects when the truth is ``claimed ± delta``.

    The smaller of the two one-sided powers is returned (the harder direction),
    clipped to the admissible proportions.
    """
    z_a = z_threshold(alpha)
    se0 = math.sqrt(claimed * (1.0 - claimed) / trials)
    powers = []
    for p1 in (claimed - delta, claimed + delta):
        if not 0.0 <= p1 <= 1.0:
            continue
        se1 = math.sqrt(max(p1 * (1.0 - p1), 1e-300) / trials)
        powers.append(_STD.cdf((abs(p1 - claimed) - z_a * se0) / se1))
    return min(powers) if powers else 1.0


def min_trials_for_proportion_test(claimed: float, delta: float, alpha: float, power: float = 0.99) -> int:
    """Smallest N for which the z-test detects ``|p - claimed| >= delta`` with ``power``."""
    if delta <= 0:
        raise ValueError(f"delta must be positive, got {delta!r}")
    z_a = z_threshold(alpha)
    z_b = _STD.inv_cdf(power)
    worst = 0.0
    for p1 in (claimed - delta, claimed + delta):
        if not 0.0 <= p1 <= 1.0:
            continue
        n = ((z_a * math.sqrt(claimed * (1 - claimed)) + z_b * math.sqrt(p1 * (1 - p1))) / delta) ** 2
        worst = max(worst, n)
    return max(1, math.ceil(worst))


def min_detectable_discrepancy(claimed: float, trials: int, alpha: float, power: float = 0.99) -> float:
    """Smallest ``delta`` that ``trials`` trials detect with ``power`` (bisection on the power).

    >>> d = min_detectable_discrepancy(0.5, 10**6, 1e-6)
    >>> 0.003 < d < 0.004
    True
    """
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if power_of_proportion_test(claimed, mid, trials, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def min_detectable_mean_discrepancy(stderr: float, alpha: float, power: float = 0.99) -> float:
    r"""Smallest shift of a mean that a two-sided z-test with standard error ``stderr`` detects with ``power``.

    Under a true mean :math:`\mu_0 + \delta` the statistic is about
    :math:`N(\delta/\mathrm{se}, 1)`; it exceeds :math:`z_\alpha` with probability
    ``power`` once :math:`\delta = (z_\alpha + \Phi^{-1}(\text{power}))\,\mathrm{se}`
    (the far tail, below :math:`-z_\alpha`, adds under :math:`10^{-6}` and is left out).

    Parameters
    ----------
    stderr : float
        The test's standard error.
    alpha : float
        The test's two-sided level.
    power : float
        The wanted probability of detection.

    Returns
    -------
    float

    Examples
    --------
    >>> round(min_detectable_mean_discrepancy(0.001, 1e-6, 0.99), 5)
    0.00722
    """
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must lie in (0, 1), got {power!r}")
    return (z_threshold(alpha) + _STD.inv_cdf(power)) * stderr


def dkwm_epsilon(trials: int, alpha: float) -> float:
    """Half-width of the Dvoretzky-Kiefer-Wolfowitz-Massart band, :math:`\\sqrt{\\ln(2/\\alpha)/(2N)}`.

    ``sup |F_N - F| > epsilon`` has probability at most ``alpha`` under the claimed CDF F.
    """
    if trials <= 0:
        raise ValueError(f"trials must be positive, got {trials!r}")
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * trials))


@dataclass(frozen=True)
class DKWMTest:
    """Sup-distance between an empirical and a claimed CDF, against the DKWM band."""

    sup_distance: float
    epsilon: float
    alpha: float
    trials: int

    @property
    def passed(self) -> bool:
        return self.sup_distance <= self.epsilon


def dkwm_test(samples, cdf, alpha: float) -> DKWMTest:
    """Compare sorted ``samples`` with the claimed ``cdf`` (a vectorised callable)."""
    import numpy as np

    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = x.size
    f = np.asarray(cdf(x), dtype=np.float64)
    upper = np.arange(1, n + 1) / n - f
    lower = f - np.arange(0, n) / n
    sup = float(max(upper.max(), lower.max()))
    return DKWMTest(sup, dkwm_epsilon(n, alpha), alpha, n)


def binomial_upper_bound(failures: int, trials: int, confidence: float = 0.95) -> float:
    r"""One-sided Clopper-Pearson upper bound on a rate from ``failures`` in ``trials``.

    The largest :math:`p` with :math:`P(\mathrm{Bin}(N, p) \le f) \ge 1 - c`, found by
    bisection on mpmath's regularised incomplete beta function (40 digits); for
    :math:`f = 0` it is :math:`1 - (1 - c)^{1/N}` exactly.

    Examples
    --------
    >>> round(binomial_upper_bound(0, 580), 6) == round(1 - 0.05 ** (1 / 580), 6)
    True
    >>> round(binomial_upper_bound(3, 100), 4)  # scipy.stats.beta.ppf(0.95, 4, 97) gives the same
    0.0757
    """
    import mpmath

    if not 0 <= failures <= trials or trials < 1 or not 0 < confidence < 1:
        raise ValueError(f"need 0 <= failures <= trials, trials >= 1, 0 < confidence < 1; got {failures}, {trials}")
    if failures == trials:
        return 1.0
    with mpmath.workdps(40):
        # P(X <= f | N, p) = 1 - I_p(f + 1, N - f), decreasing in p.
        def cdf(p):
            return 1 - mpmath.betainc(failures + 1, trials - failures, 0, p, regularized=True)

        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        for _ in range(200):
            mid = (lo + hi) / 2
            if cdf(mid) >= 1 - confidence:
                lo = mid
            else:
                hi = mid
        return float(hi)


__all__ = [
    "ZTest",
    "DKWMTest",
    "binomial_upper_bound",
    "bonferroni",
    "dkwm_epsilon",
    "dkwm_test",
    "min_detectable_discrepancy",
    "min_detectable_mean_discrepancy",
    "min_trials_for_proportion_test",
    "power_of_proportion_test",
    "z_test_mean",
    "z_test_proportion",
    "z_threshold",
]
