r"""Per-stream xoroshiro128+ generators shared by the CPU and CUDA drivers.

The states form a ``(streams, 2)`` array of ``uint64``.  Stream 0 is seeded by
SplitMix64 of the user's seed and stream ``i`` is stream ``i-1`` jumped ahead by
:math:`2^{64}` steps, the same construction as ``numba.cuda.random`` (and bit
for bit the same numbers; a test checks it).  Every simulation therefore
depends only on ``(seed, streams, trials)``, never on the number of threads or
on the target.

Uniforms are mapped to the *open* interval:

.. math::

    u = \left(\lfloor x / 2^{12} \rfloor + \tfrac12\right) 2^{-52}
      \in [2^{-53},\ 1 - 2^{-53}],

so ``log(u)`` and ``log(1 - u)`` are always finite (numba's own float64
uniform can return 0, and its float32 one can return 1).  52 bits, not 53:
with 53 bits the half offset makes the largest value :math:`1 - 2^{-54}`,
which rounds to exactly 1.0 in double precision.

Normal, exponential, Laplace and Cauchy variates come from ziggurats
(Marsaglia & Tsang 2000) whose tables are solved at 40 digits
(:class:`Ziggurat`, :func:`solve_ziggurats`) and stored in the generated
module :mod:`closedform.numeric.rng_tables`: about one 64-bit draw per variate
(:data:`NORMAL_DRAWS`, :data:`EXPONENTIAL_DRAWS`, :data:`CAUCHY_DRAWS`), exact
tails and wedges.  Each sampler has two forms: ``normal(states, stream)``
loads and stores the stream's state around one variate;
``z, s0, s1 = normal_ts(s0, s1)`` works on a state held in variables
(:func:`load_state` / :func:`store_state`), so that a trial drawing many
variates keeps it in registers.  Both give the same numbers.

The tables are module-level arrays: Numba freezes them into the compiled CPU
code, numba-cuda copies them into constant memory (57 KiB for the three
ziggurats, under the 64 KiB a kernel may hold; each is read through one small
function so that a kernel holds one copy), and under the CUDA simulator the
plain-Python bodies read them as numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import llvmlite.ir as ir
import mpmath
import numpy as np
from numba import int64, types, uint32, uint64
from numba.core.cpu import CPUContext
from numba.core.extending import intrinsic

from closedform.numeric import rng_tables
from closedform.numeric.target import SIMULATOR, jit, scalar_jit

MASK64 = (1 << 64) - 1
_JUMP = (0xBEAC0467EBA5FACB, 0xD86B048B86AA9922)
_UNIT = 2.0**-52


if SIMULATOR:
    # Plain-Python integer versions: numpy uint64 scalars warn on the
    # intended wrap-around, and warnings are errors in this project.
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next_ts(s0, s1):
        """One xoroshiro128+ step on a state held in variables: ``(output, s0, s1)``."""
        result = (s0 + s1) & MASK64
        s1 ^= s0
        return result, _rotl(s0, 55) ^ s1 ^ ((s1 << 14) & MASK64), _rotl(s1, 36)

    def load_state(states, stream):
        """The state of ``stream`` as two variables (``uint64`` compiled, ``int`` here)."""
        return int(states[stream, 0]), int(states[stream, 1])

    def store_state(states, stream, s0, s1):
        """Write a state held in variables back to ``states[stream]``."""
        states[stream, 0] = s0
        states[stream, 1] = s1

    def uniform_ts(s0, s1):
        """A float64 uniform on the open interval (0, 1) from a state in variables: ``(u, s0, s1)``."""
        bits, s0, s1 = next_ts(s0, s1)
        return ((bits >> 12) + 0.5) * _UNIT, s0, s1

    def likely(cond):
        """``cond``, marked as usually true for the compiler (the identity here)."""
        return cond

else:

    @scalar_jit
    def _rotl(x, k):
        x = uint64(x)
        return (x << uint32(k)) | (x >> uint32(64 - k))

    @scalar_jit
    def next_ts(s0, s1):
        """One xoroshiro128+ step on a state held in variables: ``(output, s0, s1)``."""
        result = s0 + s1
        s1 ^= s0
        return result, _rotl(s0, 55) ^ s1 ^ (s1 << uint32(14)), _rotl(s1, 36)

    @scalar_jit
    def load_state(states, stream):
        """The state of ``stream`` as two variables (``uint64`` compiled, ``int`` under the simulator)."""
        return states[stream, 0], states[stream, 1]

    @scalar_jit
    def store_state(states, stream, s0, s1):
        """Write a state held in variables back to ``states[stream]``."""
        states[stream, 0] = s0
        states[stream, 1] = s1

    @scalar_jit
    def uniform_ts(s0, s1):
        """A float64 uniform on the open interval (0, 1) from a state in variables: ``(u, s0, s1)``."""
        bits, s0, s1 = next_ts(s0, s1)
        return (float(bits >> uint32(12)) + 0.5) * _UNIT, s0, s1

    @intrinsic
    def likely(typingctx, cond):
        """``cond``, marked as usually true (``llvm.expect``) so that LLVM lays out the rare
        branch as cold: the values live across its libm calls are then spilled there, not
        in the hot loop (measured: 2.7 vs 2.1 ns per ziggurat normal)."""
        if not isinstance(cond, types.Boolean):
            return None

        def codegen(context, builder, signature, args):
            (c,) = args
            if not isinstance(context, CPUContext):  # numba-cuda: NVVM gets no hint
                return c
            fn = builder.module.declare_intrinsic("llvm.expect", [c.type], ir.FunctionType(c.type, [c.type, c.type]))
            return builder.call(fn, [c, c.type(1)])

        return types.boolean(cond), codegen


@scalar_jit
def next_uint64(states, stream):
    """Return the next 64-bit output of ``states[stream]`` and advance it."""
    s0, s1 = load_state(states, stream)
    result, s0, s1 = next_ts(s0, s1)
    store_state(states, stream, s0, s1)
    return result


@scalar_jit
def uniform(states, stream):
    """Return a float64 uniform on the open interval (0, 1)."""
    s0, s1 = load_state(states, stream)
    u, s0, s1 = uniform_ts(s0, s1)
    store_state(states, stream, s0, s1)
    return u


# ----------------------------------------------------------------------------
# Ziggurat tables (Marsaglia & Tsang 2000), solved by solve_ziggurats, stored in rng_tables
# ----------------------------------------------------------------------------

#: Layers of the normal and exponential ziggurats: 8 bits of the 64-bit draw pick one.
ZIGGURAT_LAYERS = 256
#: Layers of the Cauchy ziggurat: its heavy tail makes the lowest layers poor fits
#: (42% of layer 1 is wedge at 256 layers), so it takes 9 bits and one fewer for the abscissa.
CAUCHY_LAYERS = 512


@dataclass(frozen=True)
class Ziggurat:
    r"""The layer tables of a ziggurat for a decreasing density :math:`f` on :math:`[0, \infty)`.

    Layer :math:`i \ge 1` is the box :math:`[0, x_i) \times [f(x_i), f(x_{i+1}))`
    (:math:`x_1 = r`, :math:`x_N = 0`); layer 0 is the box
    :math:`[0, r) \times [0, f(r))` together with the tail :math:`x \ge r` under
    :math:`f`, drawn as the box :math:`[0, x_0)` with :math:`x_0 = v / f(r)`.
    All :math:`N` layers have the same area

    .. math::

        v = r f(r) + \int_r^\infty f(x)\,dx = x_i \bigl(f(x_{i+1}) - f(x_i)\bigr),

    which fixes the recursion :math:`x_{i+1} = f^{-1}\bigl(f(x_i) + v/x_i\bigr)`
    and, through the closing condition :math:`f(x_{N-1}) + v/x_{N-1} = f(0)`,
    the base :math:`r`.  Solved at 40 digits, stored as float64 / int64.

    Attributes
    ----------
    r, v : float
        Base of the ziggurat and the common layer area.
    layers, bits : int
        :math:`N`, and the abscissa scale: an odd integer :math:`m < 2^{bits}`
        (``bits - 1`` random bits and a final 1).
    k : numpy.ndarray
        int64, :math:`k_i = \lfloor 2^{bits} x_{i+1}/x_i \rfloor`: a draw of layer
        :math:`i` whose odd integer :math:`m` is below :math:`k_i` lies in the
        core :math:`[0, x_{i+1})`, under the curve.
    w : numpy.ndarray
        float64, :math:`x_i 2^{-bits}`: the point is :math:`m w_i`, exact before
        the one rounding of the product.
    f : numpy.ndarray
        float64, :math:`f(x_i)` for :math:`i = 0 .. N` (:math:`f(x_N) = f(0)`).
    wedge : numpy.ndarray
        float64, shape ``(N, 5)``, row :math:`i \ge 1`:
        :math:`(f_i, f_{i+1} - f_i, 1/(x_i - x_{i+1}), \ell_i, h_i)`.  In the
        wedge's own coordinates :math:`t = (x_i - x)/(x_i - x_{i+1})` and
        :math:`u_f(t) = (f(x) - f_i)/(f_{i+1} - f_i)`, the curve stays in the
        band :math:`t - \ell_i \le u_f(t) \le t + h_i` (sampled on a grid of
        step :math:`2^{-10}` and widened by the sampling error bound
        :math:`\max|f''|\,\Delta x^2/\Delta f \cdot 2^{-20}/8` plus
        :math:`10^{-12}`): a wedge point below the band is accepted and one
        above it rejected without evaluating :math:`f`.
    x : tuple of mpmath.mpf
        The edges :math:`x_0 .. x_N` at 40 digits (for the tests).
    draws : float
        Expected 64-bit draws per variate of the sampler that uses these tables.
    """

    r: float
    v: float
    layers: int
    bits: int
    k: np.ndarray
    w: np.ndarray
    f: np.ndarray
    wedge: np.ndarray
    x: tuple
    draws: float


def _solve_base(chain_float, chain_mp, lo: float, hi: float) -> mpmath.mpf:
    """The base r: float bisection of the closing residual, then secant steps at 40 digits."""
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if chain_float(mid) > 0:  # too few layers: the area v is too large, r too small
            lo = mid
        else:
            hi = mid
    r = mpmath.findroot(chain_mp, (mpmath.mpf(lo), mpmath.mpf(hi)), solver="secant", tol=mpmath.mpf(10) ** -70)
    if abs(chain_mp(r)) > mpmath.mpf(10) ** -30:  # pragma: no cover - a bug in the tables, not bad input
        raise ArithmeticError("ziggurat base did not converge")
    return +r  # rounded to the working precision (the secant steps carry extra bits): 40 digits throughout


def _closing_residual(f, finv, tail, r, n: int):
    # f(x_{N-1}) + v/x_{N-1} - f(0): positive when the layers reach the top too early.
    v = r * f(r) + tail(r)
    x = r
    for _ in range(1, n - 1):
        y = f(x) + v / x
        if y >= 1:
            return y
        x = finv(y)
    return f(x) + v / x - 1


def _wedge_bands(f_np, xs: np.ndarray, fx: np.ndarray, max_f2: float) -> np.ndarray:
    """The rows ``(f_i, f_{i+1} - f_i, 1/(x_i - x_{i+1}), lo_i, hi_i)`` of :attr:`Ziggurat.wedge`."""
    n = xs.size - 1
    steps = 1024
    t = np.linspace(0.0, 1.0, steps + 1)
    rows = np.zeros((n, 5))
    for i in range(1, n):
        dx = xs[i] - xs[i + 1]
        df = fx[i + 1] - fx[i]
        dev = (f_np(xs[i] - t * dx) - fx[i]) / df - t
        # A C^2 function exceeds its samples' extremes by at most max|dev''| h^2 / 8.
        slack = max_f2 * dx * dx / df / (8.0 * steps * steps) + 1e-12
        rows[i] = (fx[i], df, 1.0 / dx, max(-dev.min(), 0.0) + slack, max(dev.max(), 0.0) + slack)
    return rows


def _build_ziggurat(
    f_float, finv_float, tail_float, f, finv, tail, lo, hi, area, tail_draws, f_np, max_f2, n=ZIGGURAT_LAYERS, bits=53
) -> Ziggurat:
    """Tables for the density ``f`` (``f(0) = 1``, ``|f''| <= max_f2``); ``area``/``tail_draws`` give the draws."""
    with mpmath.workdps(40):
        r = _solve_base(
            lambda s: _closing_residual(f_float, finv_float, tail_float, s, n),
            lambda s: _closing_residual(f, finv, tail, s, n),
            lo,
            hi,
        )
        v = r * f(r) + tail(r)
        x = [v / f(r), r]
        for i in range(1, n - 1):
            x.append(finv(f(x[i]) + v / x[i]))
        x.append(mpmath.mpf(0))
        scale = mpmath.mpf(2) ** bits
        k = np.array([int(mpmath.floor(scale * x[i + 1] / x[i])) for i in range(n)], dtype=np.int64)
        w = np.array([float(x[i] / scale) for i in range(n)], dtype=np.float64)
        fx = np.array([float(f(xi)) for xi in x], dtype=np.float64)
        # Expected 64-bit draws per variate (Wald: attempts x draws per attempt).
        # Per attempt: one draw; one more uniform in a wedge (layers 1..N-1 outside
        # the core); the tail's own draws in layer 0 outside the core.  An attempt
        # returns with probability area / (N v), where area is the part of the
        # region under f that ends the loop.
        core = [mpmath.mpf(int(kk)) / scale for kk in k]
        wedge = mpmath.fsum(1 - c for c in core[1:]) / n
        tail_hit = (1 - core[0]) / n
        per_attempt = 1 + wedge + tail_hit * tail_draws(r)
        draws = float(per_attempt * n * v / area(r))
    xs = np.array([float(xi) for xi in x])
    return Ziggurat(float(r), float(v), n, bits, k, w, fx, _wedge_bands(f_np, xs, fx, max_f2), tuple(x), draws)


def _normal_tail_draws(r):
    # Marsaglia's tail: a = E1/r accepted when 2 E2 > a^2, probability E[exp(-a^2/2)]
    # = r e^{r^2/2} sqrt(pi/2) erfc(r/sqrt 2); two uniforms per try.
    accept = r * mpmath.exp(r * r / 2) * mpmath.sqrt(mpmath.pi / 2) * mpmath.erfc(r / mpmath.sqrt(2))
    return 2 / accept


def solve_ziggurats() -> dict[str, Ziggurat]:
    """Solve the normal, exponential and Cauchy ziggurats at 40 digits (about a second of mpmath).

    What :mod:`closedform.numeric.rng_tables` holds (:func:`generate_tables`);
    the module's :data:`ZIGGURAT_NORMAL` and the others are read from there.
    """
    return {
        # The half-normal ziggurat, f(x) = e^{-x^2/2} (r ~ 3.654).
        "normal": _build_ziggurat(
            lambda x: math.exp(-0.5 * x * x),
            lambda y: math.sqrt(-2.0 * math.log(y)),
            lambda r: math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2)),
            lambda x: mpmath.exp(-x * x / 2),
            lambda y: mpmath.sqrt(-2 * mpmath.log(y)),
            lambda r: mpmath.sqrt(mpmath.pi / 2) * mpmath.erfc(r / mpmath.sqrt(2)),
            3.0,
            4.0,
            area=lambda r: mpmath.sqrt(mpmath.pi / 2),  # the tail always returns
            tail_draws=_normal_tail_draws,
            f_np=lambda x: np.exp(-0.5 * x * x),
            max_f2=1.0,  # |f''(x)| = |x^2 - 1| e^{-x^2/2} <= 1
        ),
        # The exponential ziggurat, f(x) = e^{-x} (r ~ 7.697).
        "exponential": _build_ziggurat(
            lambda x: math.exp(-x),
            lambda y: -math.log(y),
            lambda r: math.exp(-r),
            lambda x: mpmath.exp(-x),
            lambda y: -mpmath.log(y),
            lambda r: mpmath.exp(-r),
            6.0,
            9.0,
            area=lambda r: 1 - mpmath.exp(-r),  # the tail restarts the loop (memoryless shift)
            tail_draws=lambda r: 0,
            f_np=lambda x: np.exp(-x),
            max_f2=1.0,  # f''(x) = e^{-x} <= 1 on [0, oo)
        ),
        # The half-Cauchy ziggurat, f(x) = 1/(1 + x^2), 512 layers (r ~ 646.2).
        "cauchy": _build_ziggurat(
            lambda x: 1.0 / (1.0 + x * x),
            lambda y: math.sqrt(1.0 / y - 1.0),
            lambda r: math.atan(1.0 / r),
            lambda x: 1 / (1 + x * x),
            lambda y: mpmath.sqrt(1 / y - 1),
            lambda r: mpmath.atan(1 / r),
            50.0,
            5000.0,
            area=lambda r: mpmath.pi / 2,  # the tail always returns
            tail_draws=lambda r: 1,  # the tail's inverse CDF: one uniform
            f_np=lambda x: 1.0 / (1.0 + x * x),
            max_f2=2.0,  # f''(x) = (6x^2 - 2)/(1 + x^2)^3, at most 2 in absolute value
            n=CAUCHY_LAYERS,
            bits=52,
        ),
    }


#: Fields of :class:`Ziggurat` written as flat tuples of numbers to :mod:`closedform.numeric.rng_tables`.
_TABLE_ARRAYS = ("k", "w", "f", "wedge")


def generate_tables() -> dict[str, object]:
    """The constants of :mod:`closedform.numeric.rng_tables`, solved now (see :mod:`closedform.numeric.tablegen`).

    Each ziggurat ``NAME`` gives ``NAME_R``, ``NAME_V``, ``NAME_LAYERS``,
    ``NAME_BITS``, ``NAME_DRAWS``, the arrays ``NAME_K``, ``NAME_W``, ``NAME_F``,
    ``NAME_WEDGE`` (flattened rows) and ``NAME_X``, the 40-digit edges as
    decimal strings that read back to the same binary values at 40 digits.
    """
    values: dict[str, object] = {}
    for name, z in solve_ziggurats().items():
        key = name.upper()
        values.update({f"{key}_R": z.r, f"{key}_V": z.v, f"{key}_LAYERS": z.layers, f"{key}_BITS": z.bits})
        values[f"{key}_DRAWS"] = z.draws
        for field in _TABLE_ARRAYS:
            values[f"{key}_{field.upper()}"] = tuple(getattr(z, field).ravel().tolist())
        with mpmath.workdps(40):
            edges = tuple(mpmath.nstr(x, 50, min_fixed=-1, max_fixed=-1) if x else "0" for x in z.x)
            if any(mpmath.mpf(t) != x for t, x in zip(edges, z.x)):  # pragma: no cover - a formatting bug
                raise ArithmeticError("ziggurat edges do not read back exactly")
        values[f"{key}_X"] = edges
    return values


def _ziggurat_from_tables(name: str) -> Ziggurat:
    """The :class:`Ziggurat` ``name`` as stored in :mod:`closedform.numeric.rng_tables`."""
    key = name.upper()

    def get(field):
        return getattr(rng_tables, f"{key}_{field}")

    with mpmath.workdps(40):
        x = tuple(mpmath.mpf(t) for t in get("X"))
    layers = get("LAYERS")
    return Ziggurat(
        get("R"),
        get("V"),
        layers,
        get("BITS"),
        np.array(get("K"), dtype=np.int64),
        np.array(get("W"), dtype=np.float64),
        np.array(get("F"), dtype=np.float64),
        np.array(get("WEDGE"), dtype=np.float64).reshape(layers, 5),
        x,
        get("DRAWS"),
    )


#: The half-normal ziggurat, :math:`f(x) = e^{-x^2/2}` (:math:`r \approx 3.654`).
ZIGGURAT_NORMAL = _ziggurat_from_tables("normal")
#: The exponential ziggurat, :math:`f(x) = e^{-x}` (:math:`r \approx 7.697`).
ZIGGURAT_EXPONENTIAL = _ziggurat_from_tables("exponential")
#: The half-Cauchy ziggurat, :math:`f(x) = 1/(1 + x^2)`, 512 layers (:math:`r \approx 646.2`).
ZIGGURAT_CAUCHY = _ziggurat_from_tables("cauchy")


def _signed_tables(z: Ziggurat) -> tuple[np.ndarray, np.ndarray]:
    # Entry j = 2 i + s of layer i and sign bit s: (k_i, (-1)^s w_i).  The sign
    # comes with the table load, at no arithmetic on the fast path.
    return np.repeat(z.k, 2), np.stack([z.w, -z.w], axis=1).ravel()


# Module-level arrays and floats: Numba freezes them into the compiled CPU code
# and numba-cuda into constant memory; the simulator reads them as numpy arrays.
(_ZN_K, _ZN_W), _ZN_E, ZN_R = _signed_tables(ZIGGURAT_NORMAL), ZIGGURAT_NORMAL.wedge, ZIGGURAT_NORMAL.r
(_ZE_K, _ZE_W), _ZE_E, ZE_R = _signed_tables(ZIGGURAT_EXPONENTIAL), ZIGGURAT_EXPONENTIAL.wedge, ZIGGURAT_EXPONENTIAL.r
# The Cauchy ziggurat's wedge test is a division, cheaper than the band lookup:
# it keeps only f(x_i) (2 KiB of constant memory instead of 10).
(_ZC_K, _ZC_W), _ZC_F, ZC_R = _signed_tables(ZIGGURAT_CAUCHY), ZIGGURAT_CAUCHY.f, ZIGGURAT_CAUCHY.r
#: :math:`\arctan(1/r)`, the Cauchy ziggurat's unnormalised tail mass.
ZC_TAIL = math.atan(1.0 / ZC_R)
_TWO53 = 2.0**53

#: Expected 64-bit draws per standard normal of :func:`normal` (about 1.022).
NORMAL_DRAWS = ZIGGURAT_NORMAL.draws
#: Expected 64-bit draws per standard exponential of :func:`exponential` (about 1.034).
EXPONENTIAL_DRAWS = ZIGGURAT_EXPONENTIAL.draws
#: Expected 64-bit draws per standard Cauchy variate of :func:`cauchy` (about 1.0).
CAUCHY_DRAWS = ZIGGURAT_CAUCHY.draws


# ----------------------------------------------------------------------------
# Ziggurat samplers: one scalar body for the CPU, CUDA and the simulator
# ----------------------------------------------------------------------------

if SIMULATOR:

    def _split(bits):
        """(odd 53-bit integer, 2 x layer + sign) from disjoint bits of one draw (Python integers)."""
        return (bits >> 11) | 1, (bits >> 3) & 0x1FF

    def _split10(bits):
        """(odd 52-bit integer, 2 x layer + sign) for 512 layers (Python integers)."""
        return ((bits >> 13) << 1) | 1, (bits >> 3) & 0x3FF

else:

    @scalar_jit
    def _split(bits):
        r"""(odd 53-bit integer m, table entry j = 2 x layer + sign) from disjoint bits of one draw.

        Bits 12..63 make :math:`m = 2 \lfloor b / 2^{12} \rfloor + 1`, bits 4..11
        the layer, bit 3 the sign; bit 11 is overwritten by the final 1 and the
        three lowest bits, the weakest of xoroshiro128+, are not used.
        Disjoint bits avoid the dependence between layer and abscissa of the
        original ziggurat, which took both from the same 32 bits.
        """
        return int64((bits >> uint32(11)) | uint64(1)), int64((bits >> uint32(3)) & uint64(0x1FF))

    @scalar_jit
    def _split10(bits):
        r"""(odd 52-bit integer m, table entry j = 2 x layer + sign) for the 512 layers of the Cauchy ziggurat.

        Bits 13..63 make :math:`m = 2 \lfloor b / 2^{13} \rfloor + 1`, bits 4..12
        the layer, bit 3 the sign.
        """
        return int64(((bits >> uint32(13)) << uint32(1)) | uint64(1)), int64((bits >> uint32(3)) & uint64(0x3FF))


# Table lookups and slow paths use ``@jit`` (compiled once, not inlined at
# numba's IR level) instead of ``scalar_jit``: numba-cuda copies a global
# array into constant memory each time it lowers a reference to it; referenced
# in bodies inlined at every call site, the tables (up to 20 KiB per ziggurat)
# would be copied per site and overflow the 64 KiB of constant memory
# (measured: 98 KiB for the argmax kernel).  Read through these small
# functions, a kernel holds one copy; LLVM still inlines the small ones on the
# CPU.  The rare slow paths use it too, to keep the inlined fast path short.


@jit
def _zn_layer(j):
    """(k_i, +-w_i) of table entry j = 2 i + sign of the normal ziggurat."""
    return _ZN_K[j], _ZN_W[j]


@jit
def _zn_wedge(i):
    """Row i of the normal ziggurat's wedge table: (f_i, f_{i+1} - f_i, 1/dx, lo, hi)."""
    e = _ZN_E  # one reference: numba-cuda makes one constant array per reference
    return e[i, 0], e[i, 1], e[i, 2], e[i, 3], e[i, 4]


@jit
def _ze_layer(j):
    """(k_i, +-w_i) of table entry j = 2 i + sign of the exponential ziggurat."""
    return _ZE_K[j], _ZE_W[j]


@jit
def _ze_wedge(i):
    """Row i of the exponential ziggurat's wedge table: (f_i, f_{i+1} - f_i, 1/dx, lo, hi)."""
    e = _ZE_E
    return e[i, 0], e[i, 1], e[i, 2], e[i, 3], e[i, 4]


@jit
def _zc_layer(j):
    """(k_i, +-w_i) of table entry j = 2 i + sign of the Cauchy ziggurat."""
    return _ZC_K[j], _ZC_W[j]


@jit
def _zc_edges(i):
    """(f(x_i), f(x_{i+1})) of the Cauchy ziggurat."""
    f = _ZC_F
    return f[i], f[i + 1]


@scalar_jit
def _zn_wedge_accepts(i, x, w, u):
    """Whether the point (x, f_i + u (f_{i+1} - f_i)) of layer i's wedge lies under exp(-x^2/2)."""
    f0, df, dxinv, lo, hi = _zn_wedge(i)
    t = (abs(w) * _TWO53 - abs(x)) * dxinv  # the point's place along the wedge: 0 at x_i, 1 at x_{i+1}
    if u < t - lo:  # below the band around the curve: under it
        return True
    return u <= t + hi and f0 + u * df < math.exp(-0.5 * x * x)


@scalar_jit
def _ze_wedge_accepts(i, x, w, u):
    """Whether the point (x, f_i + u (f_{i+1} - f_i)) of layer i's wedge lies under exp(-x), x >= 0."""
    f0, df, dxinv, lo, hi = _ze_wedge(i)
    t = (abs(w) * _TWO53 - x) * dxinv
    if u < t - lo:
        return True
    return u <= t + hi and f0 + u * df < math.exp(-x)


@scalar_jit
def _zc_wedge_accepts(i, x, u):
    """Whether the point (x, f_i + u (f_{i+1} - f_i)) of layer i's wedge lies under 1/(1 + x^2)."""
    f0, f1 = _zc_edges(i)
    return f0 + u * (f1 - f0) < 1.0 / (1.0 + x * x)


@jit
def _normal_tail_ts(s0, s1):
    """A half-normal variate conditioned on exceeding ``ZN_R`` (Marsaglia 1964), exact."""
    while True:
        u, s0, s1 = uniform_ts(s0, s1)
        a = -math.log(u) / ZN_R
        u, s0, s1 = uniform_ts(s0, s1)
        if -2.0 * math.log(u) > a * a:
            return ZN_R + a, s0, s1


@jit
def _normal_slow(s0, s1, j, x, w):
    """The rest of a normal attempt that missed the core, and the further attempts: ``(z, s0, s1)``.

    Out of line (compiled once, called on about 1.5% of the attempts): the
    inlined fast path stays a short straight line.
    """
    while True:
        i = j >> 1
        if i == 0:
            t, s0, s1 = _normal_tail_ts(s0, s1)
            return math.copysign(t, x), s0, s1  # x = m w is never 0: it carries the sign
        u, s0, s1 = uniform_ts(s0, s1)
        if _zn_wedge_accepts(i, x, w, u):
            return x, s0, s1
        bits, s0, s1 = next_ts(s0, s1)  # rejected: a new attempt, a new layer
        m, j = _split(bits)
        k, w = _zn_layer(j)
        x = m * w
        if m < k:
            return x, s0, s1


@scalar_jit
def normal_ts(s0, s1):
    r"""A standard normal variate from a state held in variables: ``(z, s0, s1)``.

    The ziggurat of Marsaglia and Tsang (256 layers).  One 64-bit draw per
    attempt gives the layer :math:`i`, the sign and an odd integer
    :math:`m < 2^{53}` (52 random bits) from disjoint bits; the abscissa is
    :math:`x = m\, x_i 2^{-53}`, a point of the lattice
    :math:`(\ell + \tfrac12) x_i 2^{-52}` (never 0).  About 98.5% of attempts end at the first comparison
    :math:`m < k_i` (the core of a layer, under the curve).  Otherwise, in
    layer 0 the tail :math:`x > r` is drawn exactly by Marsaglia's method; in
    the other layers one more uniform :math:`u` decides the wedge exactly,

    .. math::

        \text{accept } x \iff f(x_i) + u\,\bigl(f(x_{i+1}) - f(x_i)\bigr) < e^{-x^2/2},

    the exponential evaluated only when :math:`u` falls in the thin band of
    :attr:`Ziggurat.wedge` around the curve; a rejection starts a new attempt
    with a new layer.  Exact in law up to
    the 52-bit lattice of the abscissa; on average :data:`NORMAL_DRAWS` draws.
    """
    bits, s0, s1 = next_ts(s0, s1)
    m, j = _split(bits)
    k, w = _zn_layer(j)
    x = m * w  # signed: the table holds +-w_i
    if likely(m < k):
        return x, s0, s1
    return _normal_slow(s0, s1, j, x, w)


@jit
def _exponential_slow(s0, s1, j, x, w):
    """The rest of an exponential attempt that missed the core, and the further attempts."""
    offset = 0.0
    while True:
        i = j >> 1
        if i == 0:
            offset += ZE_R  # past r the law is r + Exp(1): shift and draw again
        else:
            u, s0, s1 = uniform_ts(s0, s1)
            if _ze_wedge_accepts(i, x, w, u):
                return offset + x, w, s0, s1
        bits, s0, s1 = next_ts(s0, s1)
        m, j = _split(bits)
        k, w = _ze_layer(j)
        x = m * abs(w)
        if m < k:
            return offset + x, w, s0, s1


@scalar_jit
def _exponential_signed_ts(s0, s1):
    r"""An exponential variate and an independent sign: ``(e, s, s0, s1)``, ``s`` a float of random sign.

    The ziggurat for :math:`f(x) = e^{-x}`; an attempt falling in the tail
    :math:`x \ge r` adds :math:`r` and starts again, since
    :math:`P(E > r + t \mid E > r) = e^{-t}`.  The sign bit of the attempt that
    returns is independent of everything that decided the return.
    """
    bits, s0, s1 = next_ts(s0, s1)
    m, j = _split(bits)
    k, w = _ze_layer(j)
    x = m * abs(w)
    if likely(m < k):
        return x, w, s0, s1
    return _exponential_slow(s0, s1, j, x, w)


@scalar_jit
def exponential_ts(s0, s1):
    """A standard exponential variate from a state held in variables: ``(e, s0, s1)``."""
    e, _, s0, s1 = _exponential_signed_ts(s0, s1)
    return e, s0, s1


@scalar_jit
def laplace_ts(s0, s1):
    """A standard Laplace variate, the exponential with its free sign bit: ``(x, s0, s1)``."""
    e, sign, s0, s1 = _exponential_signed_ts(s0, s1)
    return math.copysign(e, sign), s0, s1


@jit
def _cauchy_tail(s0, s1, x):
    """The tail x > r by its inverse CDF, P(X > x | X > r) = atan(1/x) / atan(1/r), with the sign of ``x``."""
    u, s0, s1 = uniform_ts(s0, s1)
    return math.copysign(1.0 / math.tan(u * ZC_TAIL), x), s0, s1


@scalar_jit
def _cauchy_slow(s0, s1, j, x):
    """The rest of a Cauchy attempt that missed the core, and the further attempts: ``(c, s0, s1)``.

    Inlined (no libm call but in the tail): about 1.8% of Cauchy attempts come here.
    """
    while True:
        i = j >> 1
        if i == 0:
            return _cauchy_tail(s0, s1, x)
        u, s0, s1 = uniform_ts(s0, s1)
        if _zc_wedge_accepts(i, x, u):
            return x, s0, s1
        bits, s0, s1 = next_ts(s0, s1)
        m, j = _split10(bits)
        k, w = _zc_layer(j)
        x = m * w
        if m < k:
            return x, s0, s1


@scalar_jit
def cauchy_ts(s0, s1):
    r"""A standard Cauchy variate from a state held in variables: ``(c, s0, s1)``.

    The ziggurat of :func:`normal_ts` for :math:`f(x) = 1/(1 + x^2)`, with
    :data:`CAUCHY_LAYERS` layers (:math:`r \approx 646.2`) and an odd 52-bit
    :math:`m`: the wedge test is a division, and the tail
    :math:`x > r` is drawn exactly by its inverse CDF,

    .. math::

        x = 1 / \tan\bigl(u \arctan(1/r)\bigr), \qquad
        P(X > x \mid X > r) = \frac{\arctan(1/x)}{\arctan(1/r)} .

    About :data:`CAUCHY_DRAWS` 64-bit draws per variate, half the draws of a
    ratio of two normals, and no ``tan`` on the fast path.
    """
    bits, s0, s1 = next_ts(s0, s1)
    m, j = _split10(bits)
    k, w = _zc_layer(j)
    x = m * w
    if likely(m < k):
        return x, s0, s1
    return _cauchy_slow(s0, s1, j, x)


@scalar_jit
def normal(states, stream):
    r"""Return a standard normal variate (ziggurat, see :func:`normal_ts`).

    The ``(states, stream)`` form loads and stores the state around one
    variate; a trial drawing many keeps the state in variables with
    :func:`load_state`, :func:`normal_ts`, :func:`store_state` (same numbers).

    Examples
    --------
    >>> s = make_states(2024, 1)
    >>> z = np.array([normal(s, 0) for _ in range(200_000)])
    >>> bool(abs(z.mean()) < 0.02 and abs(z.var() - 1) < 0.02)
    True
    """
    s0, s1 = load_state(states, stream)
    z, s0, s1 = normal_ts(s0, s1)
    store_state(states, stream, s0, s1)
    return z


@scalar_jit
def exponential(states, stream):
    r"""Return a standard exponential variate (ziggurat, 256 layers, exact tail).

    The same ziggurat as :func:`normal` for :math:`f(x) = e^{-x}`; an attempt
    falling in the tail :math:`x \ge r` restarts with :math:`r` added, since

    .. math::

        P(E > r + t \mid E > r) = e^{-t} .

    On average :data:`EXPONENTIAL_DRAWS` 64-bit draws; never returns 0.

    >>> s = make_states(7, 1)
    >>> e = np.array([exponential(s, 0) for _ in range(200_000)])
    >>> bool(abs(e.mean() - 1) < 0.02 and e.min() > 0)
    True
    """
    s0, s1 = load_state(states, stream)
    e, s0, s1 = exponential_ts(s0, s1)
    store_state(states, stream, s0, s1)
    return e


@scalar_jit
def laplace(states, stream):
    r"""Return a standard Laplace variate, :math:`\pm E` with the sign from an unused bit of the draw.

    .. math::

        f(x) = \tfrac12 e^{-|x|}: \quad X = S E,\ S = \pm 1 \text{ equally likely, independent of } E .

    The sign bit of the attempt that returns is independent of everything that
    decided the return, so one exponential costs no extra draw.

    >>> s = make_states(3, 1)
    >>> x = np.array([laplace(s, 0) for _ in range(200_000)])
    >>> bool(abs(x.mean()) < 0.02 and abs(x.var() - 2) < 0.05)
    True
    """
    s0, s1 = load_state(states, stream)
    x, s0, s1 = laplace_ts(s0, s1)
    store_state(states, stream, s0, s1)
    return x


@scalar_jit
def cauchy(states, stream):
    r"""Return a standard Cauchy variate (ziggurat, see :func:`cauchy_ts`).

    .. math::

        f(x) = \frac{1}{\pi (1 + x^2)} .

    >>> s = make_states(11, 1)
    >>> c = np.array([cauchy(s, 0) for _ in range(100_000)])
    >>> bool(abs(np.median(c)) < 0.02 and abs(np.mean(np.abs(c) < 1) - 0.5) < 0.01)
    True
    """
    s0, s1 = load_state(states, stream)
    c, s0, s1 = cauchy_ts(s0, s1)
    store_state(states, stream, s0, s1)
    return c


def _splitmix64(seed: int) -> int:
    z = (seed + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _jump_python(s0: int, s1: int) -> tuple[int, int]:
    """Advance one state by 2**64 steps (reference version, Python integers)."""
    t0 = t1 = 0
    for word in _JUMP:
        for bit in range(64):
            if (word >> bit) & 1:
                t0 ^= s0
                t1 ^= s1
            r = (s0 + s1) & MASK64  # noqa: F841  (the output is discarded)
            s1 ^= s0
            s0 = (((s0 << 55) | (s0 >> 9)) & MASK64) ^ s1 ^ ((s1 << 14) & MASK64)
            s1 = ((s1 << 36) | (s1 >> 28)) & MASK64
    return t0, t1


if SIMULATOR:

    def _fill_jumped(states, first):
        s0, s1 = int(states[0, 0]), int(states[0, 1])
        for _ in range(first):
            s0, s1 = _jump_python(s0, s1)
        for i in range(states.shape[0]):
            if i > 0:
                s0, s1 = _jump_python(s0, s1)
            states[i, 0] = s0
            states[i, 1] = s1

else:

    @jit
    def _jump_inplace(s):
        j0 = uint64(0xBEAC0467EBA5FACB)
        j1 = uint64(0xD86B048B86AA9922)
        t0 = uint64(0)
        t1 = uint64(0)
        for w in range(2):
            word = j0 if w == 0 else j1
            for b in range(64):
                if (word >> uint32(b)) & uint64(1):
                    t0 ^= s[0]
                    t1 ^= s[1]
                a0 = s[0]
                a1 = s[1] ^ a0
                s[0] = ((a0 << uint32(55)) | (a0 >> uint32(9))) ^ a1 ^ (a1 << uint32(14))
                s[1] = (a1 << uint32(36)) | (a1 >> uint32(28))
        s[0] = t0
        s[1] = t1

    @jit
    def _fill_jumped(states, first):
        cur = states[0].copy()
        for _ in range(first):
            _jump_inplace(cur)
        for i in range(states.shape[0]):
            if i > 0:
                _jump_inplace(cur)
            states[i, 0] = cur[0]
            states[i, 1] = cur[1]


def make_states(seed: int, streams: int, first_stream: int = 0) -> np.ndarray:
    """Return the xoroshiro128+ states of streams ``first_stream .. first_stream+streams-1``.

    Parameters
    ----------
    seed : int
        Any integer in ``[0, 2**64)``.
    streams : int
        Number of consecutive streams wanted (at least 1).
    first_stream : int
        Index of the first stream, so that a chunk of a larger run gets exactly
        the states the whole run would give it (Dask splits rely on this).

    Returns
    -------
    numpy.ndarray
        ``uint64`` array of shape ``(streams, 2)``.

    Examples
    --------
    >>> a = make_states(7, 4)
    >>> b = make_states(7, 2, first_stream=2)
    >>> bool((a[2:] == b).all())
    True
    """
    if not 0 <= int(seed) <= MASK64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    if int(streams) < 1:
        raise ValueError(f"streams must be an integer >= 1, got {streams!r}")
    z = _splitmix64(int(seed))
    states = np.empty((int(streams), 2), dtype=np.uint64)
    states[0, 0] = z
    states[0, 1] = z
    _fill_jumped(states, int(first_stream))
    return states
