r"""The guided DDPM sampler on exact Gaussian-mixture toys (Numba, CPU and CUDA), and the
high-precision oracles of the guidance topic.

**Convention: Su's** (see :mod:`closedform.derive.schedules`): a schedule is the array
:math:`\bar\alpha_0 = 1 > \bar\alpha_1 > \dots > \bar\alpha_T > 0` of *square roots* of Ho et
al.'s :math:`\bar\alpha_t`; :math:`\alpha_t = \bar\alpha_t/\bar\alpha_{t-1}`,
:math:`\beta_t^2 = 1 - \alpha_t^2`, :math:`\bar\beta_t^2 = 1 - \bar\alpha_t^2`.

A particle follows one scalar body (:func:`trajectory`, generated and compiled per dimension
and number of side-by-side particles, its lanes): it starts at
:math:`x_T \sim p_T(x|y)` (exact: the diffused class-y components) or at
:math:`\mathcal N(0, I)`, then runs t = T, ..., 1 with the exact mixture score
:math:`\nabla\log p_t(x) = -\varepsilon_\theta/\bar\beta_t` and the exact noisy classifier,

.. math::

    \text{mean-space (the post's rule):}\quad
    x_{t-1} = \mu(x_t) + \sigma_t^2\gamma\nabla\log p_t(y|x_t) + \sigma_t z,

    \text{ε-space (continuous rule, = classifier-free with } w = \gamma-1\text{):}\quad
    x_{t-1} = \frac{1}{\alpha_t}\Bigl(x_t + \beta_t^2\bigl[\nabla\log p_t(x_t)
        + \gamma\nabla\log p_t(y|x_t)\bigr]\Bigr) + \sigma_t z,

with :math:`\mu(x_t) = (x_t + \beta_t^2\nabla\log p_t(x_t))/\alpha_t` and
:math:`\sigma_t = \bar\beta_{t-1}\beta_t/\bar\beta_t` ("posterior") or :math:`\beta_t` ("beta").
The CPU driver runs groups of :data:`LANES` particles over streams with ``prange``; the CUDA
kernel runs one stream per thread; both call the same body (the same draws in the same order),
so their results agree bit for bit under the simulator, and to rounding on a GPU.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from numba import (  # module level: the CUDA simulator swaps a kernel module's ``cuda`` global
    cuda,
    float64,
)

from closedform.derive import schedules as ds
from closedform.derive.errors import ParameterError
from closedform.numeric.drivers import THREADS_PER_BLOCK, StreamKernel, split_trials
from closedform.numeric.jitcache import define
from closedform.numeric.mixtures import MAX_DIM, Mixture
from closedform.numeric.rng import load_state, make_states, normal_ts, store_state, uniform_ts
from closedform.numeric.target import SIMULATOR, cuda_available, jit, parallel_jit, prange, scalar_jit

#: Most CDF points one CUDA thread counts (its accumulator is a fixed-size local array).
MAX_POINTS = 64
#: Scratch slots of one trial (one particle): its x_0, written once at the end.
SCRATCH_CAPACITY = MAX_DIM
#: Guidance rules: the post's discrete mean-space rule, and the ε-space (continuous/CFG) rule.
MODES = {"mean": 0, "eps": 1}
#: Reverse standard deviations: DDPM's posterior one, or Ho's sigma_t = beta_t.
VARIANCES = ("posterior", "beta")
#: Starting laws: the exact p_T(x|y), or the standard normal.
STARTS = {"prior": 0, "exact": 1}
#: Cosine schedule: Ho's beta_t is clipped at 0.999 (Nichol & Dhariwal), so alpha_T > 0.
COSINE_MAX_BETA2 = 0.999

# ----------------------------------------------------------------------------
# Schedules (float64 arrays, Su's convention)
# ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Schedule:
    r"""A validated discrete schedule in Su's convention.

    ``alpha_bar[t]`` = :math:`\bar\alpha_t` for t = 0..T; ``beta2[t]`` = :math:`\beta_t^2` and
    ``beta_bar2[t]`` = :math:`\bar\beta_t^2`, computed without cancellation.

    >>> s = cosine_schedule(100)
    >>> s.T, float(s.alpha_bar[0]), bool(np.all(np.diff(s.alpha_bar) < 0))
    (100, 1.0, True)
    """

    alpha_bar: np.ndarray
    beta2: np.ndarray
    beta_bar2: np.ndarray

    @property
    def T(self) -> int:
        return int(self.alpha_bar.size - 1)

    @property
    def alpha(self) -> np.ndarray:
        """:math:`\\alpha_t` for t = 0..T (entry 0 is 1 and unused)."""
        return np.sqrt(1.0 - self.beta2)

    def sigma(self, variance: str = "posterior") -> np.ndarray:
        r""":math:`\sigma_t` for t = 0..T: :math:`\bar\beta_{t-1}\beta_t/\bar\beta_t` or :math:`\beta_t`."""
        if variance not in VARIANCES:
            raise ParameterError(f"variance must be one of {', '.join(VARIANCES)}, got {variance!r}")
        out = np.zeros(self.T + 1)
        if variance == "beta":
            out[1:] = np.sqrt(self.beta2[1:])
        else:
            out[1:] = np.sqrt(self.beta_bar2[:-1] * self.beta2[1:] / self.beta_bar2[1:])
        return out

    def check_step(self, t: Any) -> int:
        """``t`` as an int in 1..T, or a ParameterError."""
        if isinstance(t, bool) or not float(t).is_integer() or not 1 <= int(t) <= self.T:
            raise ParameterError(f"t must be an integer in 1..{self.T} (T = {self.T}), got {t!r}")
        return int(t)


def schedule_from_beta2(beta2: Any) -> Schedule:
    r"""The schedule of per-step :math:`\beta_t^2` (= Ho's :math:`\beta_t`), t = 1..T.

    :math:`\bar\alpha_t^2 = \prod_{s \le t}(1 - \beta_s^2)` is accumulated in logs and
    :math:`\bar\beta_t^2 = -\mathrm{expm1}(\cdot)`, so small noise levels keep their digits.
    """
    b = np.asarray(beta2, dtype=np.float64).ravel()
    if b.size < 1 or not np.all(np.isfinite(b)) or np.any(b <= 0) or np.any(b >= 1):
        raise ParameterError("beta_t^2 (Ho's beta_t) must lie in (0, 1) for every t = 1..T")
    log_ab2 = np.concatenate([[0.0], np.cumsum(np.log1p(-b))])
    # + 0.0 turns expm1's -0.0 at t = 0 into +0.0 (sigma_1 prints as 0.0, not -0.0).
    return Schedule(np.exp(0.5 * log_ab2), np.concatenate([[0.0], b]), -np.expm1(log_ab2) + 0.0)


def schedule_from_alpha_bar(alpha_bar: Any) -> Schedule:
    r"""Validate a user schedule :math:`\bar\alpha_0..\bar\alpha_T` (Su's, not Ho's squares).

    It must start at 1, decrease strictly, and stay positive.

    >>> schedule_from_alpha_bar([1.0, 0.9, 0.95])
    Traceback (most recent call last):
    ...
    closedform.ParameterError: alpha_bar must decrease strictly (alpha_bar_1 = 0.9 <= alpha_bar_2 = 0.95); a noise schedule is not decreasing
    """
    ab = np.asarray(alpha_bar, dtype=np.float64).ravel()
    if ab.size < 2 or not np.all(np.isfinite(ab)):
        raise ParameterError("alpha_bar must be a finite array alpha_bar_0 .. alpha_bar_T with T >= 1")
    if ab[0] != 1.0:
        raise ParameterError(f"alpha_bar_0 must be 1 (no noise at t = 0), got {ab[0]!r}")
    bad = np.nonzero(np.diff(ab) >= 0)[0]
    if bad.size:
        i = int(bad[0])
        raise ParameterError(
            f"alpha_bar must decrease strictly (alpha_bar_{i} = {ab[i]:g} <= alpha_bar_{i + 1} = {ab[i + 1]:g}); "
            "a noise schedule is not decreasing"
        )
    if ab[-1] <= 0:
        raise ParameterError(f"alpha_bar_T must be positive (alpha_t = 0 makes 1/alpha_t infinite), got {ab[-1]!r}")
    ratio2 = (ab[1:] / ab[:-1]) ** 2
    return schedule_from_beta2(1.0 - ratio2)


def _check_T(T: Any) -> int:
    if isinstance(T, bool) or not float(T).is_integer() or int(T) < 1:
        raise ParameterError(f"T must be an integer >= 1, got {T!r}")
    return int(T)


def _scaled_linear_betas(params, T: int) -> tuple[float, float]:
    """Ho's linear end points of a derive.schedules entry, rescaled from 1000 steps to T."""
    return tuple(float(params[k]) * ds.LINEAR_REFERENCE_T / T for k in ("beta_1", "beta_T"))


def linear_schedule(T: Any, beta_1: float | None = None, beta_T: float | None = None) -> Schedule:
    r"""Ho's linear schedule in Su's convention, :math:`\alpha_t` from :func:`derive.schedules.linear_alpha`.

    By default the endpoints are Ho's (1e-4, 0.02) scaled by 1000/T, so that every T
    discretises the same continuous-time process (Nichol & Dhariwal's convention).
    """
    T = _check_T(T)
    scaled = _scaled_linear_betas(ds.SCHEDULES["linear"].params, T)
    b1 = scaled[0] if beta_1 is None else float(beta_1)
    bT = scaled[1] if beta_T is None else float(beta_T)
    if not 0 < b1 <= bT < 1:
        raise ParameterError(
            f"need 0 < beta_1 <= beta_T < 1 (Ho's betas), got beta_1={b1:g}, beta_T={bT:g}; "
            "for the scaled default take T > 20"
        )
    t, TT, B1, BT = sp.symbols("t T beta_1 beta_T", positive=True)
    alpha_t = sp.lambdify((t, TT, B1, BT), ds.linear_alpha(t, TT, B1, BT), "numpy")
    steps = np.arange(1, T + 1, dtype=np.float64)
    a = np.broadcast_to(alpha_t(steps, float(max(T, 2)), b1, bT), (T,)) if T > 1 else np.array([math.sqrt(1 - b1)])
    return schedule_from_beta2(1.0 - np.asarray(a, dtype=np.float64) ** 2)


def cosine_schedule(T: Any, s: float = float(ds.COSINE_OFFSET)) -> Schedule:
    r"""Nichol & Dhariwal's cosine schedule in Su's convention (:func:`derive.schedules.cosine_alpha_bar`).

    Ho's per-step :math:`\beta_t` is clipped at 0.999 as in their paper, so the last
    :math:`\alpha_t` stays positive.
    """
    T = _check_T(T)
    t, TT = sp.symbols("t T", nonnegative=True)
    f = sp.lambdify((t, TT), ds.cosine_alpha_bar(t, TT, sp.Float(s)), "numpy")
    ab = np.asarray(f(np.arange(T + 1, dtype=np.float64), float(T)), dtype=np.float64)
    beta2 = np.clip(1.0 - (ab[1:] / ab[:-1]) ** 2, 1e-12, COSINE_MAX_BETA2)
    return schedule_from_beta2(beta2)


def _named_view(name: str):
    """The float64 view of one entry of :data:`closedform.derive.schedules.SCHEDULES`, built from its parameters.

    This view clips Ho's cosine beta_t at 0.999 and refuses a linear beta_T >= 1, where the
    exact view caps it: the sampler divides by alpha_t, so no step may end at pure noise.
    """
    named = ds.SCHEDULES[name]
    if named.family == "cosine":
        return lambda T: cosine_schedule(T, float(named.params["s"]))
    return lambda T: linear_schedule(T, *_scaled_linear_betas(named.params, _check_T(T)))


#: The named schedules as float64 views, one per entry of derive.schedules.SCHEDULES.
SCHEDULES = {name: _named_view(name) for name in ds.SCHEDULES}


def make_schedule(schedule: Any, T: Any) -> Schedule:
    """A named schedule (a key of :data:`SCHEDULES`) with T steps, or a user array of alpha_bar (Su's)."""
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str):
        if schedule not in SCHEDULES:
            raise ParameterError(
                f"schedule must be one of {', '.join(SCHEDULES)} or an alpha_bar array, got {schedule!r}"
            )
        return SCHEDULES[schedule](T)
    return schedule_from_alpha_bar(schedule)


# ----------------------------------------------------------------------------
# Kernel parameters
# ----------------------------------------------------------------------------

#: Header of the packed parameter vector: dim, K, T, gamma, y, mode, start, n_points, K_y.
HEADER = 9
#: Per-t slots: 1/alpha_t, the score coefficient, the guidance coefficient c_t, sigma_t.
PER_T = 4


def record_size(dim: int) -> int:
    """Slots of one (t, k) record: the mean and mean/v (dim each), -1/(2v), 1/v, the log-weight."""
    return 2 * int(dim) + 3


def check_gamma(gamma: Any) -> float:
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ParameterError(f"gamma must be a number >= 0, got {gamma!r}") from None
    if not math.isfinite(g) or g < 0:
        raise ParameterError(f"gamma must be a finite number >= 0 (gradient scale), got {gamma!r}")
    return g


def pack_sampler(
    mixture: Mixture,
    y: Any,
    schedule: Schedule,
    gamma: Any = 1.0,
    mode: str = "mean",
    variance: str = "posterior",
    start: str = "exact",
    points: Any = None,
) -> np.ndarray:
    r"""Pack everything one particle needs into one float64 vector (the kernels' ``params``).

    The components are reordered, class y first (K_y of them, in the header), so that a step
    sums the class-y terms and then adds the others, with no per-component class test.
    Layout: header (:data:`HEADER`); per t = 0..T (:data:`PER_T` slots) :math:`1/\alpha_t`,
    the score coefficient :math:`\beta_t^2/\alpha_t - c_t`, the guidance coefficient
    :math:`c_t` (mean-space :math:`\sigma_t^2\gamma`, ε-space :math:`\gamma\beta_t^2/\alpha_t`) and
    :math:`\sigma_t`; per (t, k) (:func:`record_size` slots) the diffused mean
    :math:`\bar\alpha_t m_k` and :math:`\bar\alpha_t m_k/v_{t,k}` (dim each),
    :math:`-1/(2v_{t,k})`, :math:`1/v_{t,k}` and the shifted log-weight

    .. math::

        \ell_{t,k} = \log\pi_k - \tfrac d2\log v_{t,k}
            - \max_j\bigl(\log\pi_j - \tfrac d2\log v_{t,j}\bigr) \le 0;

    per k the weight and :math:`\sqrt{v_{T,k}}`; then the CDF points (n_points x dim).
    Everything that does not depend on x is tabulated here once, so a step costs K exps, one
    normal per coordinate and multiply-adds.  The shift makes every exponent
    :math:`\ell_{t,k} - |x - \bar\alpha_t m_k|^2/(2v_{t,k})` of a step at most 0, so no exp
    overflows and no pass for the maximum is needed.

    >>> mix = Mixture.make([1, 1], [[-1.0], [1.0]], [0.5, 0.5], [0, 1])
    >>> p = pack_sampler(mix, 1, cosine_schedule(3))
    >>> p.size == HEADER + PER_T * 4 + record_size(1) * 2 * 4 + 2 * 2, int(p[8])
    (True, 1)
    >>> o = HEADER + PER_T * 4  # the means at t = 0: class 1's component comes first
    >>> float(p[o]), float(p[o + record_size(1)])
    (1.0, -1.0)
    """
    g = check_gamma(gamma)
    y = mixture.check_class(y)
    if mode not in MODES:
        raise ParameterError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if start not in STARTS:
        raise ParameterError(f"start must be one of {', '.join(STARTS)}, got {start!r}")
    sigma = schedule.sigma(variance)
    pts = np.zeros((0, mixture.dim)) if points is None else np.atleast_2d(np.asarray(points, dtype=np.float64))
    if pts.shape[1] != mixture.dim or not np.all(np.isfinite(pts)):
        raise ParameterError(f"points must be finite rows of length dim = {mixture.dim}")
    order = np.argsort(mixture.labels != y, kind="stable")  # class y first, order kept within
    weights, stds = mixture.weights[order], mixture.stds[order]
    T, K, dim = schedule.T, mixture.n_components, mixture.dim
    k_y = int(np.sum(mixture.labels == y))
    ab = schedule.alpha_bar
    v = ab[:, None] ** 2 * stds[None, :] ** 2 + schedule.beta_bar2[:, None]  # (T+1, K)
    header = [dim, K, T, g, y, MODES[mode], STARTS[start], pts.shape[0], k_y]
    inv_alpha = np.zeros(T + 1)
    inv_alpha[1:] = 1.0 / schedule.alpha[1:]
    drift = schedule.beta2 * inv_alpha
    guide = sigma**2 * g if mode == "mean" else drift * g
    per_t = np.stack([inv_alpha, drift - guide, guide, sigma], axis=1).ravel()
    mean = ab[:, None, None] * mixture.means[order][None]  # (T+1, K, dim)
    log_w = np.log(weights)[None, :] - 0.5 * dim * np.log(v)
    log_w -= log_w.max(axis=1, keepdims=True)
    per_tk = np.concatenate(
        [mean, mean / v[..., None], (-0.5 / v)[..., None], (1.0 / v)[..., None], log_w[..., None]], axis=2
    ).ravel()
    per_k = np.stack([weights, np.sqrt(v[T])], axis=1).ravel()
    return np.concatenate([np.asarray(header, dtype=np.float64), per_t, per_tk, per_k, pts.ravel()])


# ----------------------------------------------------------------------------
# Scalar bodies (shared by the CPU prange driver and the CUDA kernel)
# ----------------------------------------------------------------------------

#: Table size of :func:`weight_exp`: :math:`2^{j/64}`, j = 0..63, correctly rounded.
_EXP_N = 64
_EXP_TABLE = np.array([float(mpmath.power(2, mpmath.mpf(j) / _EXP_N)) for j in range(_EXP_N)])
#: 1.5 * 2**52: adding it rounds a float of magnitude < 2**51 to an integer held in the low bits.
_EXP_SHIFTER = 6755399441055744.0
_EXP_SHIFTER_BITS = 0x4338000000000000
_EXP_INV_STEP = _EXP_N / math.log(2.0)


def _cody_waite_split(value: mpmath.mpf, bits: int = 32) -> tuple[float, float]:
    """``value`` = hi + lo with hi keeping ``bits`` significant bits: k * hi is exact for |k| < 2**(53 - bits)."""
    m, e = math.frexp(float(value))
    hi = math.ldexp(math.floor(math.ldexp(m, bits)), e - bits)
    return hi, float(value - hi)


with mpmath.workdps(40):
    # ln(2)/64 in two parts (Cody-Waite): |k| <= 64 * 700 / ln 2 < 2**17, so k * hi is exact.
    _EXP_STEP_HI, _EXP_STEP_LO = _cody_waite_split(mpmath.log(2) / _EXP_N)
#: Arguments below this are clamped: e**-700 ~ 1e-304 is still a normal double.
EXP_FLOOR = -700.0


# "contract" lets LLVM fuse a*b + c into one FMA (one rounding instead of two) and nothing
# else: no reassociation, no assumption about NaN or inf, so comparisons keep their meaning
# (why fastmath is off elsewhere).  The exp then costs about 1.8 ns instead of 3 (measured).
# Compiled apart, not with numba's inline="always" (which would lower it with the caller's
# flags); LLVM still inlines the call, and the flag stays on these instructions.
@jit(fastmath={"contract"})
def weight_exp(x):
    r""":math:`e^x` for :data:`EXP_FLOOR` <= x <= 0 within about 1 ulp; arguments below are clamped.

    ``math.exp`` is a libm call: each one costs about 4 ns and makes LLVM spill every live
    float register (all are caller-saved), which hurts most when several particles share one
    loop.  This one is arithmetic, a 64-entry table and bit moves.  With
    :math:`x = (64e + j)\ln 2/64 + r`, :math:`|r| \le \ln 2/128`,

    .. math::

        e^x = 2^e\, 2^{j/64}\Bigl(1 + r + \frac{r^2}{2} + \frac{r^3}{6} + \frac{r^4}{24}
            + \frac{r^5}{120}\Bigr) + O(r^6),

    and :math:`r^6/720 < 4\cdot10^{-17}`; measured within :math:`2^{-52}` relative (a test
    checks it against mpmath).  The clamp keeps :math:`2^e` a normal double; the sampler only
    needs weights relative to a term of at least :data:`TINY_SUM`/K (see :func:`trajectory`),
    against which :math:`e^{-700}` is negligible.

    >>> abs(weight_exp(-1.0) * math.e - 1) < 2.3e-16, weight_exp(0.0), weight_exp(-1e6) == weight_exp(EXP_FLOOR)
    (True, 1.0, True)
    """
    x = max(x, EXP_FLOOR)
    kd = x * _EXP_INV_STEP + _EXP_SHIFTER
    k = np.float64(kd).view(np.int64) - _EXP_SHIFTER_BITS  # round(x * 64 / ln 2), an integer
    kf = kd - _EXP_SHIFTER
    r = (x - kf * _EXP_STEP_HI) - kf * _EXP_STEP_LO
    p = r * (1.0 / 120.0) + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r
    # 2**e * 2**(j/64) with e = k >> 6 (floor), j = k & 63: e goes straight into the exponent bits.
    t = _EXP_TABLE[k & (_EXP_N - 1)] * np.int64(((k >> 6) + 1023) << 52).view(np.float64)
    return t + t * p


@scalar_jit
def _start_component(s0, s1, params, o_k, K_y):
    """The component of x_T, ``(k, s0, s1)``: a class-y one (k < K_y) picked by weight (start "exact"), or -1."""
    if params[6] == 0.0:
        return -1, s0, s1
    total = 0.0
    for k in range(K_y):
        total += params[o_k + 2 * k]
    u, s0, s1 = uniform_ts(s0, s1)
    u *= total
    acc_w = 0.0
    comp = K_y - 1  # if rounding leaves u above the last partial sum
    for k in range(K_y):
        acc_w += params[o_k + 2 * k]
        if u < acc_w:
            comp = k
            break
    return comp, s0, s1


#: Weight sums below this fall back to exps shifted by the exact maxima (see :func:`trajectory`).
TINY_SUM = 1e-250

# The particle body, written once for lane l and coordinate d and expanded by _expand: a line
# with {l} and/or {d} is repeated for every lane and/or coordinate, and <+ item> / <, item>
# joins item over the coordinates with " + " / ", ".  Compound statements are one-liners, so
# that a repeated line is a whole statement.  DIM and SK (the record size) are constants.
_TRAJECTORY = """
def trajectory(states, stream, params, scratch):
    K = int(params[1])
    T = int(params[2])
    K_y = int(params[8])
    o_tk = HEADER + PER_T * (T + 1)
    o_k = o_tk + SK * K * (T + 1)
    # The stream's state lives in variables (registers) for the whole trajectory.
    rs0, rs1 = load_state(states, stream)
    c{l}, rs0, rs1 = _start_component(rs0, rs1, params, o_k, K_y)
    sd{l} = params[o_k + 2 * c{l} + 1] if c{l} >= 0 else 1.0
    z{l}_{d}, rs0, rs1 = normal_ts(rs0, rs1)
    x{l}_{d} = (params[o_tk + SK * (T * K + c{l}) + {d}] if c{l} >= 0 else 0.0) + sd{l} * z{l}_{d}
    for t in range(T, 0, -1):
        row = o_tk + SK * K * t
        # Class y first (pack_sampler's order): Z_y, W_y, S_y, then Z, W, S continue from them.
        zy{l} = 0.0
        wy{l} = 0.0
        sy{l}_{d} = 0.0
        for k in range(K_y):
            b = row + SK * k
            e{l}_{d} = x{l}_{d} - params[b + {d}]
            p{l} = weight_exp(params[b + 2 * DIM + 2] + params[b + 2 * DIM] * (<+ e{l}_{d} * e{l}_{d}>))
            zy{l} += p{l}
            wy{l} += p{l} * params[b + 2 * DIM + 1]
            sy{l}_{d} += p{l} * params[b + DIM + {d}]
        z{l} = zy{l}
        w{l} = wy{l}
        s{l}_{d} = sy{l}_{d}
        for k in range(K_y, K):
            b = row + SK * k
            e{l}_{d} = x{l}_{d} - params[b + {d}]
            p{l} = weight_exp(params[b + 2 * DIM + 2] + params[b + 2 * DIM] * (<+ e{l}_{d} * e{l}_{d}>))
            z{l} += p{l}
            w{l} += p{l} * params[b + 2 * DIM + 1]
            s{l}_{d} += p{l} * params[b + DIM + {d}]
        # Rare: class y so far from x that its weights underflow against the fixed shift.
        if not zy{l} > TINY_SUM: z{l}, zy{l}, w{l}, wy{l}, <, s{l}_{d}>, <, sy{l}_{d}> = exact_sums(params, row, K, K_y, <, x{l}_{d}>)
        # x_{t-1} = x/alpha + (beta^2/alpha - c) (S - xW)/Z + c (S_y - xW_y)/Z_y + sigma z
        ot = HEADER + PER_T * t
        a{l} = params[ot + 1] / z{l}
        g{l} = params[ot + 2] / zy{l}
        keep{l} = params[ot] - a{l} * w{l} - g{l} * wy{l}
        z{l}_{d}, rs0, rs1 = normal_ts(rs0, rs1)
        x{l}_{d} = keep{l} * x{l}_{d} + a{l} * s{l}_{d} + g{l} * sy{l}_{d} + params[ot + 3] * z{l}_{d}
    store_state(states, stream, rs0, rs1)
    scratch[{l} * DIM + {d}] = x{l}_{d}
"""

# The rare path of one particle: two passes, exps shifted by the largest log-weight overall and
# within class y (libm exp, no clamp), so that neither sum underflows however far x is.
_EXACT_SUMS = """
def exact_sums(params, row, K, K_y, <, x{d}>):
    top = -math.inf
    top_y = -math.inf
    for k in range(K):
        b = row + SK * k
        lk = params[b + 2 * DIM + 2] + params[b + 2 * DIM] * (<+ (x{d} - params[b + {d}]) ** 2>)
        top = max(top, lk)
        top_y = max(top_y, lk) if k < K_y else top_y
    z = 0.0
    zy = 0.0
    w = 0.0
    wy = 0.0
    s{d} = 0.0
    sy{d} = 0.0
    for k in range(K):
        b = row + SK * k
        lk = params[b + 2 * DIM + 2] + params[b + 2 * DIM] * (<+ (x{d} - params[b + {d}]) ** 2>)
        p = math.exp(lk - top)
        py = math.exp(lk - top_y) if k < K_y else 0.0
        z += p
        zy += py
        w += p * params[b + 2 * DIM + 1]
        wy += py * params[b + 2 * DIM + 1]
        s{d} += p * params[b + DIM + {d}]
        sy{d} += py * params[b + DIM + {d}]
    return z, zy, w, wy, <, s{d}>, <, sy{d}>
"""

_JOIN = re.compile(r"<([+,]) ([^<>]*)>")


def _expand(template: str, dim: int, lanes: int) -> str:
    """Join the <+ ...> / <, ...> lists over coordinates, then repeat lines over lanes and coordinates."""
    out = []
    for line in template.strip("\n").splitlines():
        line = _JOIN.sub(
            lambda m: (" + " if m[1] == "+" else ", ").join(m[2].replace("{d}", str(d)) for d in range(dim)), line
        )
        for lane in range(lanes) if "{l}" in line else [None]:
            for d in range(dim) if "{d}" in line else [None]:
                text = line if lane is None else line.replace("{l}", str(lane))
                out.append(text if d is None else text.replace("{d}", str(d)))
    return "\n".join(out) + "\n"


def trajectory_source(dim: int, lanes: int = 1) -> str:
    """The Python source of the particle body for ``dim`` coordinates and ``lanes`` particles.

    >>> src = trajectory_source(2, lanes=2)
    >>> print(next(line for line in src.splitlines() if "p1 = weight_exp" in line))
                p1 = weight_exp(params[b + 2 * DIM + 2] + params[b + 2 * DIM] * (e1_0 * e1_0 + e1_1 * e1_1))
    """
    return _expand(_EXACT_SUMS, dim, 1) + "\n" + _expand(_TRAJECTORY, dim, lanes)


def _called_jit(func, contract: bool = False):
    # A whole trajectory is a call, not an inlined body: inlining the specialisations into every
    # driver multiplied the compile time (about 50 s) for no speed (one call per particle group).
    # ``contract``: FMA only, as in weight_exp; measured 10-14% faster for the trajectory.
    return jit(func, fastmath={"contract"} if contract else False)


#: Particles one body of :func:`sample_particles` runs side by side.  One particle's step is a
#: chain of dependent latencies (exps, two divisions, the next step's distances); independent
#: particles in one loop fill the gaps.  Measured (CPU time, one thread, gamma = 3, T = 200):
#: 4 lanes ran 2.2x (dim 1), 1.6x (dim 2) and 1.3x (dims 3, 4) as fast as 1 lane and
#: 1.06-1.3x as fast as 2; 8 lanes gained 5-10% more at dims 1-2 for twice the compile time
#: and the registers of a CUDA thread.
LANES = 4


def _make_trajectory(key: tuple[int, int]):
    dim, lanes = key
    env = {
        "math": math,
        "normal_ts": normal_ts,
        "load_state": load_state,
        "store_state": store_state,
        "weight_exp": weight_exp,
        "_start_component": _start_component,
        "HEADER": HEADER,
        "PER_T": PER_T,
        "TINY_SUM": TINY_SUM,
        "DIM": dim,
        "SK": record_size(dim),
    }
    source = trajectory_source(dim, lanes)
    # Registered source: jit writes both functions as generated modules, cached on disk.
    define(source, f"<closedform.numeric.guidance.trajectory dim={dim} lanes={lanes}>", env)
    env["exact_sums"] = _called_jit(env["exact_sums"])
    return _called_jit(env["trajectory"], contract=True)


_KERNELS: dict[tuple[str, Any], Any] = {}


def _cached(kind: str, key: Any, build):
    # Built on first use: a run compiles only the dimensions (and lane counts) it samples.
    if (kind, key) not in _KERNELS:
        _KERNELS[kind, key] = build(key)
    return _KERNELS[kind, key]


def trajectory(dim: int, lanes: int = 1):
    r"""The compiled body running ``lanes`` particles of ``dim`` coordinates: ``body(states, stream, params, scratch)``.

    It runs the particles from t = T to 0 side by side and leaves lane l's x_0 in
    ``scratch[l * dim : (l + 1) * dim]``; ``params`` is :func:`pack_sampler`'s vector. With the
    shifted log-weights :math:`\lambda_k = \ell_{t,k} - |x - \bar\alpha_t m_k|^2/(2v_{t,k}) \le 0`,
    :math:`p_k = e^{\lambda_k}` (:func:`weight_exp`) and the sums :math:`Z = \sum_k p_k`,
    :math:`W = \sum_k p_k/v_{t,k}`, :math:`S = \sum_k p_k\bar\alpha_t m_k/v_{t,k}` (and
    :math:`Z_y, W_y, S_y` over the class-y components), the scores are
    :math:`\nabla\log p_t(x) = (S - xW)/Z` and :math:`\nabla\log p_t(x|y) = (S_y - xW_y)/Z_y`, and

    .. math::

        x_{t-1} = \frac{x_t}{\alpha_t} + \Bigl(\frac{\beta_t^2}{\alpha_t} - c_t\Bigr)\nabla\log p_t(x_t)
            + c_t\,\nabla\log p_t(x_t|y) + \sigma_t z,

    which is :math:`x_t/\alpha_t + \tfrac{\beta_t^2}{\alpha_t}\nabla\log p_t(x_t) + c_t\nabla\log p_t(y|x_t)
    + \sigma_t z` with :math:`c_t = \sigma_t^2\gamma` (mean-space) or :math:`\gamma\beta_t^2/\alpha_t`
    (ε-space).  The class-y terms are summed first (:func:`pack_sampler` puts them first), and
    :math:`Z, W, S` continue from :math:`Z_y, W_y, S_y`.  When :math:`Z_y \le` :data:`TINY_SUM`
    (x far from class y, perhaps from every component) the sums are recomputed with exps
    shifted by the exact maxima (libm exp, two passes); otherwise the largest class-y term is
    at least :data:`TINY_SUM`/K, and the terms below :math:`e^{-700}` (clamped by
    :func:`weight_exp`, or underflowed) change the sums by less than :math:`10^{-50}` relative.
    The code is generated (:func:`trajectory_source`) so that every coordinate and lane is a
    scalar that LLVM keeps in a register: no store in the loop over steps.  Lanes draw their
    normals from the stream in turn (lane 0 coordinate 0, lane 0 coordinate 1, ..., lane 1 ...).

    >>> trajectory(2) is trajectory(2)
    True
    """
    if not 1 <= int(dim) <= MAX_DIM:
        raise ParameterError(f"dim must lie in 1..{MAX_DIM}, got {dim!r}")
    if not 1 <= int(lanes) <= MAX_LANES:
        raise ParameterError(f"lanes must lie in 1..{MAX_LANES}, got {lanes!r}")
    return _cached("trajectory", (int(dim), int(lanes)), _make_trajectory)


#: Most lanes one body may run.
MAX_LANES = 8


def _make_trials(dim: int):
    body = trajectory(dim)

    @scalar_jit
    def cdf_count_trial(states, stream, params, scratch, acc):
        # One particle; count it under every CDF point it lies below (all coordinates).
        body(states, stream, params, scratch)
        n_points = int(params[7])
        o_p = params.shape[0] - n_points * dim
        for j in range(n_points):
            below = 1
            for d in range(dim):
                below &= scratch[d] <= params[o_p + j * dim + d]
            acc[j] += below

    @scalar_jit
    def moment_trial(states, stream, params, scratch, acc):
        # One particle; accumulate each coordinate and its square (kind "mean").
        body(states, stream, params, scratch)
        for d in range(dim):
            acc[2 * d] += scratch[d]
            acc[2 * d + 1] += scratch[d] * scratch[d]

    return cdf_count_trial, moment_trial


def _scratch_len(params: np.ndarray) -> int:
    return int(params[0])


def cdf_counts(dim: int) -> StreamKernel:
    """Final-CDF counts at the packed points (kind "proportion"), for ``dim``-D mixtures (one particle a trial)."""
    return _cached(
        "cdf",
        int(dim),
        lambda d: StreamKernel(
            _make_trials(d)[0],
            acc_width=lambda p: int(p[7]),
            scratch_len=_scratch_len,
            scratch_capacity=SCRATCH_CAPACITY,
            acc_capacity=MAX_POINTS,
        ),
    )


def moments(dim: int) -> StreamKernel:
    """Per-coordinate sums and sums of squares of x_0 (kind "mean"), for ``dim``-D mixtures."""
    return _cached(
        "moments",
        int(dim),
        lambda d: StreamKernel(
            _make_trials(d)[1],
            acc_width=lambda p: 2 * int(p[0]),
            scratch_len=_scratch_len,
            scratch_capacity=SCRATCH_CAPACITY,
            acc_capacity=2 * MAX_DIM,
            integer=False,
        ),
    )


# ----------------------------------------------------------------------------
# Drivers that return the particles themselves (for DKWM bands and users)
# ----------------------------------------------------------------------------


def _make_sample_cpu(dim: int):
    lanes = LANES
    body = trajectory(dim, lanes)

    @parallel_jit
    def sample_cpu(states, base, rem, params, out):
        # Stream s fills its own contiguous block of groups of rows: no shared writes.
        for s in prange(states.shape[0]):
            scratch = np.empty(lanes * dim, dtype=np.float64)
            si = np.int64(s)  # a parfor index may be unsigned; keep the row arithmetic in int64
            first = (si * base + min(si, rem)) * lanes
            count = base + 1 if si < rem else base
            for i in range(count):
                body(states, s, params, scratch)
                for q in range(lanes * dim):
                    out[first + i * lanes + q // dim, q % dim] = scratch[q]

    return sample_cpu


def _make_sample_cuda(dim: int):
    lanes = LANES
    body = trajectory(dim, lanes)

    @cuda.jit
    def kernel(states, base, rem, params, out):
        s = cuda.grid(1)
        if s < states.shape[0]:
            scratch = cuda.local.array(LANES * MAX_DIM, float64)
            first = (s * base + min(s, rem)) * lanes
            count = base + 1 if s < rem else base
            for i in range(count):
                body(states, s, params, scratch)
                for q in range(lanes * dim):
                    out[first + i * lanes + q // dim, q % dim] = scratch[q]

    return kernel


def sample_particles(
    params: np.ndarray, particles: int, seed: int, streams: int | None = None, device: str = "cpu"
) -> np.ndarray:
    """Run ``particles`` guided trajectories and return x_0 as a (particles, dim) array.

    Particles run in groups of :data:`LANES` (one body call); stream s (of ``streams``,
    default ``min(groups, 2**16)``) runs the groups of its block, and the extra lanes of the
    last group (fewer than :data:`LANES` particles) are dropped.  Results depend only on
    (params, particles, seed, streams), not on the device.
    """
    particles = int(particles)
    if particles < 1:
        raise ParameterError(f"particles must be a positive integer, got {particles!r}")
    dim = int(params[0])
    lanes = LANES
    groups = -(-particles // lanes)
    n_streams = min(groups, 2**16) if streams is None else int(streams)
    base, rem = split_trials(groups, n_streams)
    states = make_states(int(seed), n_streams)
    out = np.empty((groups * lanes, dim), dtype=np.float64)
    if device == "cpu":
        _cached("sample_cpu", dim, _make_sample_cpu)(states, np.int64(base), np.int64(rem), params, out)
    elif device == "cuda":
        if not cuda_available():
            raise RuntimeError("device='cuda' needs an NVIDIA GPU, or the simulator (NUMBA_ENABLE_CUDASIM=1)")
        d_states, d_params, d_out = cuda.to_device(states), cuda.to_device(params), cuda.to_device(out)
        blocks = math.ceil(n_streams / THREADS_PER_BLOCK)
        _cached("sample_cuda", dim, _make_sample_cuda)[blocks, THREADS_PER_BLOCK](d_states, base, rem, d_params, d_out)
        cuda.synchronize()
        out = d_out.copy_to_host()
    else:
        raise ParameterError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return out[:particles]


# ----------------------------------------------------------------------------
# The vectorised NumPy baseline (benchmarks, and an independent implementation for tests)
# ----------------------------------------------------------------------------


def sample_numpy(
    mixture: Mixture,
    y: int,
    schedule: Schedule,
    gamma: float,
    particles: int,
    rng: np.random.Generator,
    mode: str = "mean",
    variance: str = "posterior",
    start: str = "exact",
) -> np.ndarray:
    """The same sampler written as a vectorised NumPy loop over time (all particles at once)."""
    T, dim = schedule.T, mixture.dim
    sigma = schedule.sigma(variance)
    cls = mixture.labels == y
    n = int(particles)
    if start == "exact":
        top = mixture.diffused(schedule.alpha_bar[T]).conditional(y)
        x = top.sample(n, rng)
    else:
        x = rng.standard_normal((n, dim))
    log_w = np.log(mixture.weights)
    s2 = mixture.stds**2
    for t in range(T, 0, -1):
        ab = schedule.alpha_bar[t]
        v = ab * ab * s2 + schedule.beta_bar2[t]
        diff = ab * mixture.means[None, :, :] - x[:, None, :]  # (n, K, dim)
        logits = log_w - 0.5 * dim * np.log(v) - 0.5 * (diff**2).sum(-1) / v
        r = np.exp(logits - logits.max(1, keepdims=True))
        g = diff / v[None, :, None]
        score = (r[:, :, None] * g).sum(1) / r.sum(1)[:, None]
        rc = r * cls
        guide = (rc[:, :, None] * g).sum(1) / rc.sum(1)[:, None] - score
        z = rng.standard_normal((n, dim))
        a, b2, sg = schedule.alpha[t], schedule.beta2[t], sigma[t]
        if mode == "mean":
            x = (x + b2 * score) / a + sg * sg * gamma * guide + sg * z
        else:
            x = (x + b2 * (score + gamma * guide)) / a + sg * z
    return x


# ----------------------------------------------------------------------------
# mpmath oracles of the deterministic results
# ----------------------------------------------------------------------------


def _mp(v: Any) -> mpmath.mpf:
    return mpmath.mpf(sp.N(v, mpmath.mp.dps + 10)) if isinstance(v, sp.Basic) else mpmath.mpf(v)


def tilted_moments_mp(mu: Any, sigma: Any, log_lik) -> tuple[mpmath.mpf, mpmath.mpf]:
    r"""Mean and variance of :math:`\mathcal N(\mu,\sigma^2)e^{h(x)}/Z` by tanh-sinh quadrature.

    ``log_lik`` is an mpmath callable h.  The integrals run over :math:`x = \mu + \sigma z`,
    z split at 0 (tanh-sinh on each half-line).
    """
    mu, sigma = _mp(mu), _mp(sigma)
    h0 = log_lik(mu)
    w = lambda z: mpmath.exp(-z * z / 2 + log_lik(mu + sigma * z) - h0)
    nodes = [-mpmath.inf, 0, mpmath.inf]
    z0 = mpmath.quad(w, nodes)
    m1 = mpmath.quad(lambda z: z * w(z), nodes) / z0
    m2 = mpmath.quad(lambda z: z * z * w(z), nodes) / z0
    return mu + sigma * m1, sigma**2 * (m2 - m1**2)


def logistic_log_lik(a: Any, b: Any):
    r"""The mpmath callable :math:`h(x) = \log\sigma(ax + b)`."""
    a, b = _mp(a), _mp(b)
    return lambda x: -mpmath.log1p(mpmath.exp(-(a * x + b)))


def tilt_error_mp(mu: Any, sigma: Any, a: Any, b: Any) -> mpmath.mpf:
    r"""Exact tilted mean minus the guided mean :math:`\mu + \sigma^2 h'(\mu)`, h = log σ(ax+b).

    Computed with enough guard digits for the σ⁴ cancellation.
    """
    with mpmath.workdps(mpmath.mp.dps + 15):
        mu_, sigma_, a_, b_ = _mp(mu), _mp(sigma), _mp(a), _mp(b)
        mean, _ = tilted_moments_mp(mu_, sigma_, logistic_log_lik(a_, b_))
        h1 = a_ / (1 + mpmath.exp(a_ * mu_ + b_))  # d/dx log sigmoid(ax+b) = a (1 - sigmoid)
        out = mean - (mu_ + sigma_**2 * h1)
    return +out


def tilt_error_limit_mp(mu: Any, a: Any, b: Any, sigma0: float = 0.02, levels: int = 4, dps: int = 32) -> mpmath.mpf:
    r""":math:`\lim_{\sigma\to0}` (tilted mean − guided mean)/σ⁴ by Richardson extrapolation in σ².

    The ratio is :math:`C + c_1\sigma^2 + c_2\sigma^4 + \dots`, so halving σ and eliminating
    powers of 4 removes one term per level.  The work runs at ``dps`` digits whatever the
    caller's precision: sigma^4 >= (0.02/8)^4 ~ 4e-11 costs 11 digits to cancellation, and the
    Richardson remainder after 4 levels is of order (sigma0^2)^4 ~ 3e-14 times the series'
    growth, so about 17 digits are right (the registry's rtol is 1e-13).
    """
    with mpmath.workdps(dps):
        rows = []
        for j in range(levels):
            s = mpmath.mpf(sigma0) / 2**j
            rows.append(tilt_error_mp(mu, s, a, b) / s**4)
        for level in range(1, levels):
            rows = [(4**level * rows[i + 1] - rows[i]) / (4**level - 1) for i in range(len(rows) - 1)]
        out = rows[0]
    return +out


def tilt_error_rows(mu: Any, a: Any, b: Any, sigmas: list, dps: int) -> list[tuple[float, float, float]]:
    """(σ, tilted mean − guided mean, that / σ⁴) per σ by :func:`tilt_error_mp`, at ``dps`` digits."""
    rows = []
    with mpmath.workdps(dps):
        for sv in sigmas:
            err = tilt_error_mp(mu, sv, a, b)
            rows.append((float(sv), float(err), float(err / mpmath.mpf(sp.N(sv, dps + 10)) ** 4)))
    return rows


def log_normaliser_gradient_mp(a: Any, gamma: Any, x: Any) -> mpmath.mpf:
    r""":math:`\frac{d}{dx}\log\bigl(\sigma(ax)^\gamma + \sigma(-ax)^\gamma\bigr)` by mpmath differentiation."""
    a, gamma, x = _mp(a), _mp(gamma), _mp(x)
    sig = lambda u: 1 / (1 + mpmath.exp(-u))
    return mpmath.diff(lambda u: mpmath.log(sig(a * u) ** gamma + sig(-a * u) ** gamma), x)


def epsilon_shift_mp(alpha_t: Any, gamma: Any, g: Any) -> mpmath.mpf:
    r"""DDPM mean under ε-space guidance minus the unguided mean, evaluated from the definitions.

    Uses :math:`\mu = (x_t - \beta_t^2\varepsilon/\bar\beta_t)/\alpha_t` at three unrelated
    (x_t, ε, β̄_{t-1}²) and checks they agree (the shift must not depend on them).
    """
    alpha_t, gamma, g = _mp(alpha_t), _mp(gamma), _mp(g)
    beta2 = 1 - alpha_t**2
    shifts = []
    for x_t, eps, bbp2 in (
        (mpmath.mpf("0.37"), mpmath.mpf("-1.21"), mpmath.mpf("0.5")),
        (mpmath.mpf("-2.5"), mpmath.mpf("0.3"), mpmath.mpf("0.01")),
        (mpmath.mpf("1.0"), mpmath.mpf("2.0"), mpmath.mpf("0.99")),
    ):
        bb = mpmath.sqrt(beta2 + alpha_t**2 * bbp2)  # beta_bar_t^2 = beta_t^2 + alpha_t^2 beta_bar_{t-1}^2
        mu = lambda e, x_t=x_t, bb=bb: (x_t - beta2 / bb * e) / alpha_t
        shifts.append(mu(eps - bb * gamma * g) - mu(eps))
    spread = max(shifts) - min(shifts)
    if spread > abs(shifts[0]) * mpmath.mpf(10) ** (-mpmath.mp.dps + 5) + mpmath.mpf(10) ** (-mpmath.mp.dps + 5):
        raise AssertionError(f"the epsilon-space mean shift depends on x_t or eps: {shifts}")
    return shifts[0]


def cfg_library_mp(eps_cond: Any, eps_uncond: Any, w: Any) -> mpmath.mpf:
    r"""diffusers' classifier-free rule :math:`\varepsilon_u + s(\varepsilon_c - \varepsilon_u)` at s = 1 + w."""
    ec, eu, w = _mp(eps_cond), _mp(eps_uncond), _mp(w)
    s = 1 + w
    return eu + s * (ec - eu)


def tilted_gaussian_moments_mp(mu: Any, sigma: Any, g: Any, c: Any = 0) -> list[mpmath.mpf]:
    r"""[mean, variance] of :math:`\mathcal N(\mu,\sigma^2)e^{g(x-\mu) + c(x-\mu)^2/2}/Z` by quadrature."""
    mu_, g_, c_ = _mp(mu), _mp(g), _mp(c)
    mean, var = tilted_moments_mp(mu, sigma, lambda x: g_ * (x - mu_) + c_ * (x - mu_) ** 2 / 2)
    return [mean, var]


__all__ = [
    "MODES",
    "SIMULATOR",
    "STARTS",
    "VARIANCES",
    "Schedule",
    "cdf_counts",
    "cfg_library_mp",
    "cosine_schedule",
    "epsilon_shift_mp",
    "linear_schedule",
    "log_normaliser_gradient_mp",
    "make_schedule",
    "moments",
    "pack_sampler",
    "sample_numpy",
    "sample_particles",
    "schedule_from_alpha_bar",
    "schedule_from_beta2",
    "tilt_error_limit_mp",
    "tilt_error_mp",
    "tilt_error_rows",
    "tilted_gaussian_moments_mp",
    "trajectory",
]
