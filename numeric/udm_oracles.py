r"""Unified diffusion model: the mpmath oracles, and the 50-digit views of the schedules.

Each oracle evaluates a registry line's quantity by a route independent of its
closed form (quadrature, Ho's notation, Parseval, exact enumeration with
:class:`fractions.Fraction`), at the caller's ``mp.dps`` unless it says 50 digits.
One function here is not an oracle: :func:`plugin_variance` evaluates the closed
form of ``hot_plugin_dispersion`` itself, the recursion of
:func:`closedform.derive.udm.plugin_gain`, in mpmath (an mpmath recursion, so it
lives in numeric/; its oracle is :func:`chain_moments_oracle`).

>>> import mpmath
>>> mpmath.nstr(plugin_variance(sp.Rational(3, 10), 5, "cosine_s0", "ddim") ** 0.5, 4)
'0.1857'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy as sp

from closedform.derive import schedules as sch
from closedform.derive import udm as d
from closedform.derive import udm_discrete as dd
from closedform.derive.errors import ParameterError

# ----------------------------------------------------------------------------
# Schedules and sigma rules at 50 digits (views of derive.schedules)
# ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def schedule_mpf(schedule: str, T: int) -> tuple[mpmath.mpf, ...]:
    """Su's alphabar_0..alphabar_T of a named schedule of derive.schedules, as 50-digit mpf.

    >>> schedule_mpf("cosine_s0", 2)[1] ** 2
    mpf('0.5')
    """
    with mpmath.workdps(50):
        return tuple(mpmath.mpf(sp.N(a, 50)) for a in sch.alpha_bar_schedule(schedule, T))


def step_sigmas_mpf(ab: Sequence[mpmath.mpf], rule) -> list[mpmath.mpf]:
    """sigma_1..sigma_T (Su's convention) for a sigma rule, evaluated from derive's ddpm_sigma.

    ``rule``: ``"ddpm"``, ``"ddim"`` or a number lambda with sigma_t = lambda betabar_{t-1}.

    >>> step_sigmas_mpf(schedule_mpf("cosine_s0", 2), "ddim")
    [mpf('0.0'), mpf('0.0')]
    """
    out = []
    f = _ddpm_sigma_mpmath()
    for t in range(1, len(ab)):
        if rule == "ddpm":
            out.append(f(ab[t] / ab[t - 1], ab[t - 1]))
        elif rule == "ddim":
            out.append(mpmath.mpf(0))
        else:
            out.append(mpmath.mpf(sp.N(rule, 50)) * mpmath.sqrt(1 - ab[t - 1] ** 2))
    return out


@lru_cache(maxsize=1)
def _ddpm_sigma_mpmath():
    a, q = sp.symbols("a q", positive=True)
    return sp.lambdify((a, q), d.ddpm_sigma(a, q), "mpmath")


@lru_cache(maxsize=1)
def _plugin_gain_mpmath():
    q, ab, s, s0 = sp.symbols("q ab s s0", positive=True)
    return sp.lambdify((q, ab, s, s0), d.plugin_gain(q, ab, s, s0), "mpmath")


def pack_chain(mu0, s0, T, schedule, sigma_rule, plugin: bool):
    """Kernel parameters of :data:`closedform.numeric.udm.HOT_CHAIN` on a named schedule (rounded from 50 digits)."""
    from closedform.numeric import udm as nu  # the kernels (Numba): imported when a chain is simulated

    ab = schedule_mpf(schedule, int(T))
    return nu.pack_hot_chain(float(sp.N(mu0)), float(sp.N(s0)), ab, step_sigmas_mpf(ab, sigma_rule), plugin)


#: Working digits of the hot chain's two routes (see :func:`plugin_variance`).
CHAIN_DPS = 80


def plugin_variance(s0, T: int, schedule: str, sigma_rule) -> mpmath.mpf:
    r"""The plug-in sampler's :math:`\operatorname{Var} x_0`: the closed-form recursion
    :math:`v_{t-1} = g_t^2 v_t + \sigma_t^2` (:func:`closedform.derive.udm.plugin_gain`,
    :func:`closedform.derive.udm.plugin_chain_variance`) evaluated in mpmath at 50 digits.

    Not an oracle: this is the closed form's value at concrete parameters (exact SymPy
    would carry T nested radicals); the oracle is :func:`chain_moments_oracle`.
    """
    ab = schedule_mpf(schedule, int(T))
    gain = _plugin_gain_mpmath()
    # 80 digits, sigmas included: at sigma_t = betabar_{t-1} a radicand that is exactly 0 rounds to
    # +-10^-80 and its root to 10^-40, inside the 1e-30 tolerance (at the caller's 40 digits it was 1e-20).
    with mpmath.workdps(CHAIN_DPS):
        sig = step_sigmas_mpf(ab, sigma_rule)
        s0m = mpmath.mpf(sp.N(s0, CHAIN_DPS))
        v = ab[-1] ** 2 * s0m**2 + 1 - ab[-1] ** 2
        for t in range(int(T), 0, -1):
            # at sigma_t = betabar_{t-1} (alpha_t = 0) the radicand rounds to +-1e-50: keep the real part
            v = mpmath.re(gain(ab[t - 1], ab[t], sig[t - 1], s0m)) ** 2 * v + sig[t - 1] ** 2
    return v


# ----------------------------------------------------------------------------
# Hot-diffusion oracles (mpmath; quadrature and Ho's notation, not the closed forms)
# ----------------------------------------------------------------------------


def ho_posterior_oracle(alpha_t, alpha_bar_prev) -> list[mpmath.mpf]:
    """Ho et al.'s eq. (7) in Ho's variables, evaluated in mpmath after squaring Su's (HO_FROM_SU).

    >>> [mpmath.nstr(c, 6) for c in ho_posterior_oracle(sp.Rational(9, 10), sp.Rational(3, 5))]
    ['0.160926', '0.8131', '0.171654']
    """
    a, q = (mpmath.mpf(sp.N(v, mpmath.mp.dps + 5)) for v in (alpha_t, alpha_bar_prev))
    ho_a, ho_abp = a**2, q**2
    ho_ab, ho_b = ho_a * ho_abp, 1 - ho_a
    return [
        mpmath.sqrt(ho_abp) * ho_b / (1 - ho_ab),
        mpmath.sqrt(ho_a) * (1 - ho_abp) / (1 - ho_ab),
        (1 - ho_abp) / (1 - ho_ab) * ho_b,
    ]


def hot_step_oracle(x0, ab_t, ab_prev, sigma) -> list[mpmath.mpf]:
    r"""Moments of :math:`d = x_{t-1} - \bar\alpha_{t-1}x_0` by quadrature over :math:`x_t` (Gaussian noise).

    Given :math:`x_t`, :math:`d` is normal with mean :math:`\mu(x_t)` and variance
    :math:`\sigma_t^2`; integrate its conditional moments against :math:`N(x_t; \bar\alpha_t x_0, \bar\beta_t^2)`.
    Returns E x_{t-1}, E d², E d⁴, P(|d| > √3 β̄_{t-1}).
    """
    x0, ab_t, ab_p, s = (mpmath.mpf(sp.N(v, mpmath.mp.dps + 5)) for v in (x0, ab_t, ab_prev, sigma))
    _bb_t, bb_p = mpmath.sqrt(1 - ab_t**2), mpmath.sqrt(1 - ab_p**2)
    keep = mpmath.sqrt(max(bb_p**2 - s**2, 0))  # sigma = betabar_{t-1} may round a hair above

    def expect(g):
        # x_t = ab_t x0 + bb_t z, z standard normal
        return mpmath.quad(lambda z: mpmath.npdf(z) * g(keep * z), [-mpmath.inf, 0, mpmath.inf])

    c = mpmath.sqrt(3) * bb_p

    def tail(mu):
        if s == 0:
            return mpmath.mpf(abs(mu) > c)
        return mpmath.ncdf((-c - mu) / s) + 1 - mpmath.ncdf((c - mu) / s)

    if s > 0:
        p_tail = expect(tail)
    elif keep > 0:  # d = keep * z exactly: a two-sided normal tail
        p_tail = mpmath.quad(mpmath.npdf, [c / keep, mpmath.inf]) * 2
    else:
        p_tail = mpmath.mpf(0)
    return [
        ab_p * x0 + expect(lambda mu: mu),
        expect(lambda mu: mu**2 + s**2),
        expect(lambda mu: mu**4 + 6 * mu**2 * s**2 + 3 * s**4),
        p_tail,
    ]


def uniform_mixing_oracle(sigma_tilde) -> list[mpmath.mpf]:
    r""":math:`E w^2, E w^4, P(|w| > \sqrt3)` for :math:`w = a u_1 + b u_2` by quadrature over :math:`u_1`.

    Given :math:`u_1`, the moments of :math:`b u_2` and the tail of a uniform are explicit.
    """
    b = mpmath.mpf(sp.N(sigma_tilde, mpmath.mp.dps + 5))
    a = mpmath.sqrt(1 - b**2)
    r3 = mpmath.sqrt(3)
    m2, m4 = mpmath.mpf(1), mpmath.mpf(9) / 5  # E u^2, E u^4

    def tail_given(u):
        c = a * u
        if b == 0:
            return mpmath.mpf(abs(c) > r3)
        # P(c + b u2 > sqrt3) + P(c + b u2 < -sqrt3), u2 uniform on (-sqrt3, sqrt3)
        hi = min(max((r3 - (r3 - c) / b) / (2 * r3), 0), 1)
        lo = min(max(((-r3 - c) / b + r3) / (2 * r3), 0), 1)
        return hi + lo

    def avg(g, pts):
        return mpmath.quad(lambda u: g(u) / (2 * r3), pts)

    pts = sorted({-r3, r3} | ({r3 * (1 - b) / a, -r3 * (1 - b) / a} if a > 0 else set()))
    pts = [p for p in pts if -r3 <= p <= r3]
    return [
        avg(lambda u: (a * u) ** 2 + b**2 * m2, [-r3, r3]),
        avg(lambda u: (a * u) ** 4 + 6 * (a * u) ** 2 * b**2 * m2 + b**4 * m4, [-r3, r3]),
        avg(tail_given, pts),
    ]


def uniform_mixing_step_oracle(x0, alpha_t, alpha_bar_prev, sigma_tilde) -> list[mpmath.mpf]:
    """The four moments of x_{t-1} of post 9262's mixing with uniform noise, from :func:`uniform_mixing_oracle`."""
    w2, w4, tail = uniform_mixing_oracle(sigma_tilde)
    q = mpmath.mpf(sp.N(alpha_bar_prev, mpmath.mp.dps + 5))
    bbp2 = 1 - q**2
    return [q * mpmath.mpf(sp.N(x0, mpmath.mp.dps + 5)), bbp2 * w2, bbp2**2 * w4, tail if bbp2 != 0 else mpmath.mpf(0)]


_HO = None


def _ho_functions():
    """Ho's and Song's formulas (derive.schedules, in Ho's notation) lambdified for mpmath, once."""
    global _HO
    if _HO is None:
        _a, ab, abp, s, eta = sp.symbols("a ab abp s eta", positive=True)
        coef = sp.lambdify((ab, abp, s), sch.ho_ddim_coefficients(ab, abp, s)[:2], "mpmath")
        sig = sp.lambdify((eta, ab, abp), sch.ho_ddim_sigma(eta, ab, abp), "mpmath")
        _HO = (coef, sig)
    return _HO


def chain_moments_oracle(mu0, s0, alpha_bars, sigma_rule, plugin: bool) -> list[mpmath.mpf]:
    r"""Mean, variance and fourth central moment of the reverse chain's :math:`x_0`, in Ho's notation.

    The chain is linear-Gaussian, so (mean, variance, covariance) propagate exactly.
    The steps use Song et al.'s eq. (12) and eq. (16) written with Ho's
    :math:`\bar\alpha^{Ho} = \bar\alpha^2` (:func:`~closedform.derive.schedules.ho_ddim_coefficients`),
    an independent route from the closed form's Su-notation recursion.
    ``sigma_rule``: ``"ddpm"`` (η = 1), ``"ddim"`` (η = 0) or a number λ with
    :math:`\sigma_t = \lambda\sqrt{1-\bar\alpha^{Ho}_{t-1}}`.
    """
    coef, sig = _ho_functions()
    mu0, s0 = mpmath.mpf(mu0), mpmath.mpf(s0)
    ho = [mpmath.mpf(a) ** 2 for a in alpha_bars]
    T = len(ho) - 1
    mean = mpmath.sqrt(ho[T]) * mu0
    var = ho[T] * s0**2 + 1 - ho[T]
    for t in range(T, 0, -1):
        h, hp = ho[t], ho[t - 1]
        if sigma_rule == "ddpm":
            s = sig(1, h, hp)
        elif sigma_rule == "ddim":
            s = mpmath.mpf(0)
        else:
            s = mpmath.mpf(sigma_rule) * mpmath.sqrt(1 - hp)
        # at sigma = sqrt(1 - abar_{t-1}) the radicand of Song's eq. (12) rounds to +-1e-50: keep the real part
        c0, ct = (mpmath.re(c) for c in coef(h, hp, s))
        # x0hat = mu0 + k (x_t - sqrt(h) mu0) + sqrt(v) xi
        k = mpmath.sqrt(h) * s0**2 / (h * s0**2 + 1 - h)
        v = mpmath.mpf(0) if plugin else s0**2 * (1 - h) / (h * s0**2 + 1 - h)
        m_hat = mu0 + k * (mean - mpmath.sqrt(h) * mu0)
        var_hat, cov = k**2 * var + v, k * var
        mean = c0 * m_hat + ct * mean
        var = c0**2 * var_hat + ct**2 * var + 2 * c0 * ct * cov + s**2
    return [mean, var, 3 * var**2]


def chain_oracle(mu0, s0, T, schedule, sigma_rule, plugin: bool) -> list[mpmath.mpf]:
    """:func:`chain_moments_oracle` on a named schedule, at 50 digits (the registry's hot-chain oracle)."""
    ab = schedule_mpf(schedule, int(T))
    with mpmath.workdps(CHAIN_DPS):
        rule = sigma_rule if isinstance(sigma_rule, str) else mpmath.mpf(sp.N(sigma_rule, CHAIN_DPS))
        mu0m, s0m = mpmath.mpf(sp.N(mu0, CHAIN_DPS)), mpmath.mpf(sp.N(s0, CHAIN_DPS))
        out = chain_moments_oracle(mu0m, s0m, ab, rule, plugin)
    return out


# ----------------------------------------------------------------------------
# Cold diffusion
# ----------------------------------------------------------------------------


def cold_mse_oracle(n: int, w_prev: int, w_t: int, s) -> list[mpmath.mpf]:
    r"""Both MSEs by Parseval: a circulant's :math:`\operatorname{tr}(A^\top A) = \sum_k |\hat a_k|^2`.

    An independent route from the matrix traces of the closed form.
    """
    d.check_blur_widths(n, w_prev, w_t)
    n = int(n)
    s2 = mpmath.mpf(sp.N(s, mpmath.mp.dps + 5)) ** 2

    def spectrum(w):
        off = (w - 1) // 2
        return [
            mpmath.fsum(mpmath.expj(-2 * mpmath.pi * ((k - off) % n) * f / n) for k in range(w)) / w for f in range(n)
        ]

    lp, lt = spectrum(int(w_prev)), spectrum(int(w_t))
    # Parseval: tr(A^T A) = n sum_j a_j^2 = sum_k |a^_k|^2, and the MSE is s^2 tr / n.
    naive = mpmath.fsum(abs(a) ** 2 for a in lp) / n
    improved = mpmath.fsum(abs(a - b) ** 2 for a, b in zip(lp, lt)) / n
    return [s2 * naive, s2 * improved]


# ----------------------------------------------------------------------------
# Discrete models: exact enumeration (Fractions), after the domain checks of derive
# ----------------------------------------------------------------------------


#: Most sequences an enumeration oracle sums over (exact Fractions: about a second at 2e4, three minutes
#: at 6.5e4 (D3PM absorbing, l = 16), 8 GB at l = 16, V = 15).
MAX_ENUMERATED = 2 * 10**4


def _support_size(model: str, l: int, V: int, t: int) -> int:
    """How many x_t the forward law of ``model`` reaches from one x0 (what the enumeration sums over)."""
    if model.startswith("d3pm"):
        return (V + 1) ** l  # every position may change (absorbing: V = 1, kept or masked)
    if model in ("mask", "deletion"):
        return math.comb(l, t)
    return math.comb(l, t) * max(V - 1, 1) ** t  # edit models: t positions changed to another token


def enumerated_categories(model: str, x0, V: int, t: int, schedule=None) -> list[mpmath.mpf]:
    """Oracle: the category probabilities of :data:`closedform.numeric.udm.DISCRETE`, from the exact enumeration of
    :math:`\\sum_{x_t} p(x_{t-1}|x_t, x_0) p(x_t|x_0)` (Fractions), not from a closed form."""
    x0 = tuple(int(v) for v in x0)
    l = len(x0)
    size = _support_size(model, l, int(V), int(t))
    if size > MAX_ENUMERATED:
        raise ParameterError(
            f"the enumeration oracle of {model} sums over about {size:.3g} sequences (l = {l}, V = {V}, t = {t}); "
            f"it takes at most {MAX_ENUMERATED:.0e} (memory and minutes past it): check such sizes by the closed form "
            "and Monte Carlo"
        )
    if model == "edit_v1":
        law = dd.forward_law(model, x0, t, V)
        probs = [0] * (t + 1)
        for x, p in law.items():
            probs[sum(a != b for a, b in zip(x, x0))] += p
    else:
        lhs, _ = dd.marginal_constraint(model, x0, t, V, schedule)
        if model == "d3pm_absorbing":
            probs = [0] * (l + 1)
            for x, p in lhs.items():
                probs[sum(v == V for v in x)] += p
        else:
            width = (l - t + 1) if model == "deletion" else l
            probs = [0] * (width * (V + 1))
            for x, p in lhs.items():
                for j, v in enumerate(x):
                    probs[j * (V + 1) + v] += p
    return [mpmath.mpf(p.numerator) / p.denominator if p else mpmath.mpf(0) for p in map(Fraction, probs)]


def discrete_oracle(model: str):
    """The oracle ``(V, t, x0) -> probabilities`` of a position law (edit v2, mask, deletion)."""

    def oracle(V, t, x0):
        dd.check_tokens(x0, V, t)
        return enumerated_categories(model, x0, int(V), int(t))

    return oracle


def edit_v1_oracle(l, V, t) -> list[mpmath.mpf]:
    """Edit model v1's law of visible changes, by enumeration of the forward law."""
    dd.check_edit_v1(l, t)
    return enumerated_categories("edit_v1", (0,) * int(l), int(V), int(t))


def absorbing_oracle(l, alpha_bar_prev, alpha_bar_t) -> list[mpmath.mpf]:
    """D3PM absorbing's law of the number of masks of x_{t-1}, by enumeration (all-zero x0 of length l)."""
    dd.check_absorbing(alpha_bar_prev, alpha_bar_t)
    schedule = dd.d3pm_schedule("d3pm_absorbing", alpha_bar_prev, alpha_bar_t)
    return enumerated_categories("d3pm_absorbing", (0,) * int(l), 1, 1, schedule)


def d3pm_uniform_oracle(V, alpha_bar_prev, beta_t, x0) -> list[mpmath.mpf]:
    """D3PM uniform's per-position law of x_{t-1}, by enumeration."""
    dd.check_tokens(x0, V)
    return enumerated_categories(
        "d3pm_uniform", x0, int(V), 1, dd.d3pm_schedule("d3pm_uniform", alpha_bar_prev, beta_t)
    )
