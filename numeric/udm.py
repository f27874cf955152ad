r"""Unified diffusion model: Monte Carlo trial bodies (CPU + CUDA) and their parameter packs.

Four stream kernels, each one scalar body shared by the CPU ``prange`` driver
and the CUDA kernel (Su's convention throughout: ``ab`` is
:math:`\bar\alpha`, ``bb`` is :math:`\bar\beta = \sqrt{1-\bar\alpha^2}`):

* :data:`HOT_STEP`: one forward draw :math:`x_t|x_0` and one posterior draw
  :math:`x_{t-1}|x_t, x_0` of the general hot-diffusion kernel, with Gaussian
  or (to show the failure of Gaussian mixing) unit-variance uniform noise;
* :data:`HOT_CHAIN`: a whole reverse chain :math:`x_T \to x_0` for data
  :math:`N(\mu_0, s_0^2)`, predicting :math:`\hat x_0` by an exact posterior
  sample or by the posterior mean (plug-in);
* :data:`COLD`: naive and improved cold-diffusion steps for a circular box
  blur, with a Gaussian error in :math:`\hat x_0`;
* :data:`DISCRETE`: forward and posterior draws of the discrete models
  (edit v1/v2, mask, deletion, D3PM uniform and absorbing).

Accumulators: ``HOT_*`` and ``COLD`` are ``"mean"`` kernels (sum and sum of
squares per component, float64); ``DISCRETE`` counts categories (int64).
The mpmath oracles of these quantities live in :mod:`closedform.numeric.udm_oracles`.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from closedform.derive import udm as d
from closedform.derive import udm_discrete as dd
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.rng import normal, uniform
from closedform.numeric.target import scalar_jit
from closedform.numeric.udm_limits import MAX_LENGTH, MAX_PIXELS, MAX_VOCAB  # noqa: F401  (re-exported)

SQRT3 = math.sqrt(3.0)
DISCRETE_SCRATCH = 3 * MAX_LENGTH + (MAX_LENGTH + 1) ** 2
DISCRETE_CATEGORIES = MAX_LENGTH * (MAX_VOCAB + 1)
#: Model codes of the discrete kernel (params[0]).
MODEL_CODE = {"edit_v2": 0, "mask": 1, "deletion": 2, "d3pm_uniform": 3, "d3pm_absorbing": 4, "edit_v1": 5}

# ----------------------------------------------------------------------------
# Hot diffusion
# ----------------------------------------------------------------------------


@scalar_jit
def _add_moments(acc, x, d):
    """Accumulate (sum, sum of squares) of x, of d^2 and of d^4 into acc[0:6] ("mean" layout)."""
    d2 = d * d
    acc[0] += x
    acc[1] += x * x
    acc[2] += d2
    acc[3] += d2 * d2
    acc[4] += d2 * d2
    acc[5] += d2 * d2 * d2 * d2


@scalar_jit
def _noise(states, stream, kind):
    """Standard noise: Gaussian (kind 0) or uniform on (-sqrt 3, sqrt 3), variance 1 (kind 1)."""
    if kind == 0:
        return normal(states, stream)
    return SQRT3 * (2.0 * uniform(states, stream) - 1.0)


@scalar_jit
def hot_step_trial(states, stream, params, scratch, acc):
    """params = (x0, ab_t, bb_t, ab_prev, bb_prev, sigma, noise kind).

    Accumulates d = x_{t-1} - ab_prev x0 as four components: x_{t-1}, d^2, d^4
    and the indicator |d| > sqrt(3) bb_prev (zero-probability for uniform noise).
    """
    x0 = params[0]
    ab_t = params[1]
    bb_t = params[2]
    ab_p = params[3]
    bb_p = params[4]
    sigma = params[5]
    kind = int(params[6])
    x_t = ab_t * x0 + bb_t * _noise(states, stream, kind)
    keep = math.sqrt(max(bb_p * bb_p - sigma * sigma, 0.0))
    x = ab_p * x0 + keep * (x_t - ab_t * x0) / bb_t + sigma * _noise(states, stream, kind)
    d = x - ab_p * x0
    _add_moments(acc, x, d)
    if abs(d) > SQRT3 * bb_p:
        acc[6] += 1.0
        acc[7] += 1.0


@scalar_jit
def hot_chain_trial(states, stream, params, scratch, acc):
    """params = (mu0, s0, T, plugin, ab_0..ab_T, bb_0..bb_T, sigma_1..sigma_T).

    x_T is drawn from its exact marginal; each step predicts x0 from the exact
    Gaussian posterior p(x0|x_t) (a sample, or its mean when plugin = 1) and
    corrects with the general posterior.  Accumulates x_0, (x_0-mu0)^2, (x_0-mu0)^4.
    """
    mu0 = params[0]
    s0 = params[1]
    T = int(params[2])
    plugin = params[3] != 0.0
    ab0 = 4
    bb0 = 4 + T + 1
    sg0 = 4 + 2 * (T + 1) - 1  # sigma_t sits at params[sg0 + t], t = 1..T
    x = params[ab0 + T] * (mu0 + s0 * normal(states, stream)) + params[bb0 + T] * normal(states, stream)
    s02 = s0 * s0
    for t in range(T, 0, -1):
        ab_t = params[ab0 + t]
        bb_t = params[bb0 + t]
        ab_p = params[ab0 + t - 1]
        bb_p = params[bb0 + t - 1]
        sigma = params[sg0 + t]
        # p(x0|x_t) = N(m, v): precision 1/s0^2 + ab_t^2/bb_t^2, written to stay finite at bb_t -> 1.
        den = ab_t * ab_t * s02 + bb_t * bb_t
        v = s02 * bb_t * bb_t / den
        m = mu0 + ab_t * s02 * (x - ab_t * mu0) / den
        # two normals per step, also with the plug-in mean: the x0hat sample, then the correction noise
        z1 = normal(states, stream)
        x0hat = m if plugin else m + math.sqrt(v) * z1
        keep = math.sqrt(max(bb_p * bb_p - sigma * sigma, 0.0))
        x = ab_p * x0hat + keep * (x - ab_t * x0hat) / bb_t + sigma * normal(states, stream)
    _add_moments(acc, x, x - mu0)


HOT_STEP = StreamKernel(hot_step_trial, acc_width=lambda p: 8, acc_capacity=8, integer=False)
HOT_CHAIN = StreamKernel(hot_chain_trial, acc_width=lambda p: 6, acc_capacity=6, integer=False)


def pack_hot_step(x0, ab_t, ab_prev, sigma, uniform_noise: bool = False) -> np.ndarray:
    """Kernel parameters of :data:`HOT_STEP` (floats from exact inputs)."""
    f = [float(sp.N(v, 30)) for v in (x0, ab_t, ab_prev, sigma)]
    bb_t, bb_p = math.sqrt(1 - f[1] ** 2), math.sqrt(1 - f[2] ** 2)
    return np.array([f[0], f[1], bb_t, f[2], bb_p, f[3], 1.0 if uniform_noise else 0.0])


def pack_mixing_step(x0, alpha_t, alpha_bar_prev, sigma_tilde) -> np.ndarray:
    """Kernel parameters of :data:`HOT_STEP` for post 9262's mixing (c) with uniform noise."""
    s = d.sigma_from_sigma_tilde(sigma_tilde, sp.sqrt(1 - alpha_bar_prev**2))
    return pack_hot_step(x0, alpha_t * alpha_bar_prev, alpha_bar_prev, s, uniform_noise=True)


def pack_hot_chain(mu0, s0, alpha_bars, sigmas, plugin: bool) -> np.ndarray:
    """Kernel parameters of :data:`HOT_CHAIN`; ``alpha_bars`` (t = 0..T) and ``sigmas`` (t = 1..T) as mpf/float."""
    ab = [float(a) for a in alpha_bars]
    bb = [float(mpmath.sqrt(1 - mpmath.mpf(a) ** 2)) for a in alpha_bars]
    T = len(ab) - 1
    return np.array([float(mu0), float(s0), float(T), 1.0 if plugin else 0.0, *ab, *bb, *(float(s) for s in sigmas)])


# ----------------------------------------------------------------------------
# Cold diffusion
# ----------------------------------------------------------------------------


@scalar_jit
def _box(e, n, w, i):
    off = (w - 1) // 2
    s = 0.0
    for k in range(w):
        s += e[(i - off + k) % n]
    return s / w


@scalar_jit
def cold_trial(states, stream, params, scratch, acc):
    """params = (n, w_prev, w_t, s): x0hat - x0 = e ~ N(0, s^2 I); per-pixel MSE of both samplers.

    The errors are linear in e (x0 cancels): naive A_prev e, improved (A_prev - A_t) e.
    """
    n = int(params[0])
    wp = int(params[1])
    wt = int(params[2])
    s = params[3]
    for i in range(n):
        scratch[i] = s * normal(states, stream)
    naive = 0.0
    improved = 0.0
    for i in range(n):
        a = _box(scratch, n, wp, i)
        b = _box(scratch, n, wt, i)
        naive += a * a
        improved += (a - b) * (a - b)
    naive /= n
    improved /= n
    acc[0] += naive
    acc[1] += naive * naive
    acc[2] += improved
    acc[3] += improved * improved


COLD = StreamKernel(
    cold_trial,
    acc_width=lambda p: 4,
    scratch_len=lambda p: int(p[0]),
    scratch_capacity=MAX_PIXELS,
    acc_capacity=4,
    integer=False,
)


def pack_cold(n, w_prev, w_t, s) -> np.ndarray:
    """Kernel parameters of :data:`COLD`, after the width check of the closed form."""
    d.check_blur_widths(n, w_prev, w_t)
    return np.array([float(n), float(w_prev), float(w_t), float(sp.N(s, 30))])


# ----------------------------------------------------------------------------
# Discrete models
# ----------------------------------------------------------------------------


@scalar_jit
def _randint(states, stream, n):
    """Uniform integer in 0..n-1."""
    k = int(uniform(states, stream) * n)
    return n - 1 if k >= n else k


@scalar_jit
def _choose(states, stream, scratch, off, l, t):
    """Partial Fisher-Yates: scratch[off:off+t] becomes a uniform t-subset of 0..l-1 (uniform order)."""
    for i in range(l):
        scratch[off + i] = i
    for i in range(t):
        j = i + _randint(states, stream, l - i)
        tmp = scratch[off + i]
        scratch[off + i] = scratch[off + j]
        scratch[off + j] = tmp


@scalar_jit
def _restore_one(states, stream, params, scratch, l):
    """Set one uniformly chosen position where x_t (scratch[0:l]) differs from x0 back to x0."""
    ndiff = 0
    for i in range(l):
        if scratch[i] != params[6 + i]:
            ndiff += 1
    r = _randint(states, stream, ndiff)
    for i in range(l):
        if scratch[i] != params[6 + i]:
            if r == 0:
                scratch[i] = params[6 + i]
                return
            r -= 1


@scalar_jit
def _deletion_step(states, stream, params, scratch, acc, l, V, t):
    """Forward: delete t uniform positions.  Posterior: a uniform consistent deletion set, one re-inserted."""
    XT = 0
    FLAG = l
    PERM = 2 * l
    DP = 3 * l
    _choose(states, stream, scratch, PERM, l, t)
    for i in range(l):
        scratch[FLAG + i] = 0.0
    for i in range(t):
        scratch[FLAG + int(scratch[PERM + i])] = 1.0
    m = 0
    for i in range(l):
        if scratch[FLAG + i] == 0.0:
            scratch[XT + m] = params[6 + i]
            m += 1
    # N[i][j] = number of ways x_t[j:] embeds in x0[i:]  (index DP + i*(m+1) + j)
    w = m + 1
    for j in range(m):
        scratch[DP + l * w + j] = 0.0
    scratch[DP + l * w + m] = 1.0
    for i in range(l - 1, -1, -1):
        scratch[DP + i * w + m] = 1.0
        for j in range(m):
            val = scratch[DP + (i + 1) * w + j]
            if params[6 + i] == scratch[XT + j]:
                val += scratch[DP + (i + 1) * w + j + 1]
            scratch[DP + i * w + j] = val
    # Draw an embedding uniformly: keep x0[i] as x_t[j] with probability N[i+1][j+1] / N[i][j].
    j = 0
    for i in range(l):
        # (the uniform is drawn only when x0[i] can match x_t[j]: short-circuit on purpose)
        if (
            j < m
            and params[6 + i] == scratch[XT + j]
            and uniform(states, stream) * scratch[DP + i * w + j] < scratch[DP + (i + 1) * w + j + 1]
        ):
            scratch[FLAG + i] = 0.0
            j += 1
            continue
        scratch[FLAG + i] = 1.0
    r = _randint(states, stream, t)
    for i in range(l):
        if scratch[FLAG + i] == 1.0:
            if r == 0:
                scratch[FLAG + i] = 0.0
                break
            r -= 1
    pos = 0
    for i in range(l):
        if scratch[FLAG + i] == 0.0:
            acc[pos * (V + 1) + int(params[6 + i])] += 1
            pos += 1


@scalar_jit
def discrete_trial(states, stream, params, scratch, acc):
    """params = (model, l, V, t, ab_prev, beta_t or ab_t, x0_0..x0_{l-1}); the mask token is V.

    Models 0-3 count (position, token) of x_{t-1} (category j*(V+1) + v); model 4
    (D3PM absorbing) counts the number of masks of x_{t-1}; model 5 (edit v1) the
    number of visible changes of x_t.
    """
    model = int(params[0])
    l = int(params[1])
    V = int(params[2])
    t = int(params[3])
    if model == 2:
        _deletion_step(states, stream, params, scratch, acc, l, V, t)
        return
    if model == 5:
        _choose(states, stream, scratch, 0, l, t)
        changed = 0
        for i in range(t):
            if _randint(states, stream, V) != int(params[6 + int(scratch[i])]):
                changed += 1
        acc[changed] += 1
        return
    ab_p = params[4]
    if model == 4:
        ab_t = params[5]
        masks = 0
        for _ in range(l):
            # masked at t (first draw), and still masked at t-1 (second draw, only when masked)
            if uniform(states, stream) >= ab_t and uniform(states, stream) * (1.0 - ab_t) < 1.0 - ab_p:
                masks += 1
        acc[masks] += 1
        return
    if model == 3:
        beta = params[5]
        ab_t = ab_p * (1.0 - beta)
        for i in range(l):
            k = int(params[6 + i])
            xi = k if uniform(states, stream) < ab_t else _randint(states, stream, V)
            z = 0.0
            for j in range(V):
                z += ((1.0 - beta) * (xi == j) + beta / V) * (ab_p * (k == j) + (1.0 - ab_p) / V)
            u = uniform(states, stream) * z
            c = 0.0
            pick = V - 1
            for j in range(V):
                c += ((1.0 - beta) * (xi == j) + beta / V) * (ab_p * (k == j) + (1.0 - ab_p) / V)
                if u < c:
                    pick = j
                    break
            acc[i * (V + 1) + pick] += 1
        return
    # edit v2 (0) and mask (1): forward into scratch[0:l], posterior restores one position.
    for i in range(l):
        scratch[i] = params[6 + i]
    _choose(states, stream, scratch, l, l, t)
    for r in range(t):
        i = int(scratch[l + r])
        if model == 1:
            scratch[i] = V
        else:
            tok = _randint(states, stream, V - 1)
            if tok >= int(params[6 + i]):
                tok += 1
            scratch[i] = tok
    _restore_one(states, stream, params, scratch, l)
    for i in range(l):
        acc[i * (V + 1) + int(scratch[i])] += 1


def discrete_categories(params: np.ndarray) -> int:
    """Accumulator width of :data:`DISCRETE` for packed parameters."""
    model, l, V, t = (int(params[k]) for k in range(4))
    if model == MODEL_CODE["d3pm_absorbing"]:
        return l + 1
    if model == MODEL_CODE["edit_v1"]:
        return t + 1
    if model == MODEL_CODE["deletion"]:
        return (l - t + 1) * (V + 1)
    return l * (V + 1)


DISCRETE = StreamKernel(
    discrete_trial,
    acc_width=discrete_categories,
    scratch_len=lambda p: 3 * int(p[1]) + (int(p[1]) + 1) ** 2,
    scratch_capacity=DISCRETE_SCRATCH,
    acc_capacity=DISCRETE_CATEGORIES,
)


def pack_discrete(model: str, x0, V: int, t: int = 0, alpha_bar_prev=0, second=0) -> np.ndarray:
    """Kernel parameters of :data:`DISCRETE` (``second`` is β_t for d3pm_uniform, ᾱ_t for d3pm_absorbing)."""
    x0 = [int(v) for v in x0]
    head = [MODEL_CODE[model], len(x0), int(V), int(t), float(sp.N(alpha_bar_prev, 30)), float(sp.N(second, 30))]
    return np.array(head + x0, dtype=np.float64)


def pack_positions(model: str):
    """The pack ``(V, t, x0) -> parameters`` of a position law (edit v2, mask, deletion), tokens checked."""

    def pack(V, t, x0):
        dd.check_tokens(x0, V, t)
        return pack_discrete(model, x0, int(V), int(t))

    return pack


def pack_edit_v1(l, V, t) -> np.ndarray:
    """Kernel parameters of edit model v1 on the all-zero sequence of length l."""
    dd.check_edit_v1(l, t)
    return pack_discrete("edit_v1", (0,) * int(l), int(V), int(t))


def pack_absorbing(l, alpha_bar_prev, alpha_bar_t) -> np.ndarray:
    """Kernel parameters of D3PM absorbing on the all-zero sequence of length l."""
    dd.check_absorbing(alpha_bar_prev, alpha_bar_t)
    return pack_discrete("d3pm_absorbing", (0,) * int(l), 1, 1, alpha_bar_prev, alpha_bar_t)


def pack_d3pm_uniform(V, alpha_bar_prev, beta_t, x0) -> np.ndarray:
    """Kernel parameters of D3PM uniform replacement."""
    dd.check_tokens(x0, V)
    return pack_discrete("d3pm_uniform", x0, int(V), 1, alpha_bar_prev, beta_t)
