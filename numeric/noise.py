r"""Noise families in numbers: mpmath oracle, Monte Carlo sampler of argmax, the post's K-point rule.

Everything here is generated from the SymPy table
:data:`closedform.derive.reparam.FAMILIES`: the quantile is lambdified
into a Numba scalar body (the inverse-CDF sampler), the CDF into mpmath for
the oracle.  Adding a family to that table adds it here.

**Oracle.**  The post's own change of variable :math:`t = F(\varepsilon)`,

.. math::

    p_i = \int_0^1 \prod_{j \ne i} F\bigl(Q(t) + m_i - m_j\bigr)\,dt, \qquad Q = F^{-1},

evaluated by tanh-sinh at 30+ digits with the interval cut where a factor
crosses a kink of F (:math:`t = F(\kappa + m_j - m_i)`).  It uses only F and Q,
not the density, so it checks the integral of
:func:`closedform.derive.reparam.argmax_integrals` and the quantile that the
simulators sample from by an independent route.

**Sampler.**  One scalar trial body per family: n draws, the argmax, one
count.  By default a draw is the lambdified quantile of one float64 uniform
(inverse CDF); :data:`SPECIAL_SAMPLERS` lists the families drawn otherwise,
each by an identity exact in law: ziggurat normals and Cauchy variates
(:mod:`closedform.numeric.rng`), Laplace as a signed ziggurat exponential,
uniform and exponential noise as the argmin of coarse uniforms refined only
when they cannot decide (:mod:`closedform.numeric.coarse_argmin`: two classes
per 64-bit draw), and Gumbel without any logarithm,

.. math::

    \operatorname*{argmax}_j \bigl(m_j - \log E_j\bigr)
    = \operatorname*{argmin}_j E_j e^{-m_j}
    = \operatorname*{argmin}_j E_j e^{\max_k m_k - m_j},
    \qquad E_j \overset{\text{iid}}{\sim} \mathrm{Exp}(1),

since :math:`-\log E` is a standard Gumbel variate and :math:`x \mapsto -\log x`
is decreasing; the weights :math:`e^{\max m - m_j} \ge 1` are packed once
(:func:`pack_argmax`).  The same body runs in the CPU ``prange`` driver and
the CUDA kernel; CUDA accumulates the counts in a local array of
:data:`MAX_CLASSES_CUDA` entries.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import mpmath
import numpy as np
import sympy as sp

from closedform.derive import reparam as d
from closedform.derive.errors import ParameterError
from closedform.derive.expr_parser import as_expr
from closedform.numeric import coarse_argmin as coarse
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.jitcache import define
from closedform.numeric.rng import (
    CAUCHY_DRAWS,
    EXPONENTIAL_DRAWS,
    NORMAL_DRAWS,
    cauchy,
    cauchy_ts,
    exponential,
    exponential_ts,
    laplace,
    laplace_ts,
    normal,
    normal_ts,
    uniform,
    uniform_ts,
)
from closedform.numeric.target import scalar_jit

#: Largest class count the CUDA kernel accepts: its per-thread counts live in
#: a local array whose size is fixed at compile time.
MAX_CLASSES_CUDA = 128


# ----------------------------------------------------------------------------
# mpmath: CDF, quantile and the oracle
# ----------------------------------------------------------------------------


@cache
def mp_functions(noise: str) -> tuple[Callable, Callable, Callable]:
    """(pdf, cdf, quantile) of the standardised family as mpmath callables."""
    fam = d.family(noise)
    modules = [{"exp": d._mp_exp_flushing_underflow}, "mpmath"]
    return (
        sp.lambdify(d.x, fam.pdf, modules),
        sp.lambdify(d.x, fam.cdf, modules),
        sp.lambdify(d.u, fam.quantile, modules),
    )


def _mp(v) -> mpmath.mpf:
    if isinstance(v, sp.Basic):
        return mpmath.mpf(sp.N(v, mpmath.mp.dps + 10))
    return mpmath.mpf(v)


def law_oracle(noise: str, mu: Sequence, tau=1) -> list[mpmath.mpf]:
    r"""The argmax law at the caller's ``mp.dps`` (at least 30), by the quantile form.

    Parameters
    ----------
    noise : str
        A key of :data:`closedform.derive.reparam.FAMILIES`.
    mu : sequence
        Scores (numbers, SymPy numbers or strings).
    tau : number
        Noise scale.

    .. math::

        p_i = \int_0^1 \prod_{j \ne i} F\bigl(Q(t) + (\mu_i - \mu_j)/\tau\bigr)\,dt

    Examples
    --------
    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     p = law_oracle("normal", [0.3, 0, -0.5, 0.2])
    >>> [mpmath.nstr(v, 10) for v in p]
    ['0.3485862717', '0.234126485', '0.1108045477', '0.3064826957']
    >>> with mpmath.workdps(30):
    ...     [mpmath.nstr(v, 12) for v in law_oracle("uniform", [0, 5, 10])]
    ['0.0', '0.0', '1.0']
    """
    _, cdf, quantile = mp_functions(noise)
    fam = d.family(noise)
    dps = max(mpmath.mp.dps, 30)
    with mpmath.workdps(dps + 10):
        t_ = _mp(as_expr(tau))
        m = [_mp(as_expr(v)) / t_ for v in mu]
        # Equal scores have equal probabilities: integrate once per distinct value,
        # with multiplicities in the product (n = 1000 on 20 values costs 20 integrals).
        values = sorted(set(m))
        mult = {v: m.count(v) for v in values}
        kinks = [_mp(k) for k in fam.kinks]
        cache: dict = {}

        def q_cached(t):
            # The classes share most tanh-sinh nodes; erfinv at 45 digits costs about 0.5 ms.
            v = cache.get(t)
            if v is None:
                try:
                    v = quantile(t)
                except (ZeroDivisionError, ValueError):
                    # A node that rounds onto t = 0 or 1: Q is -oo or +oo there.
                    v = mpmath.inf if t > 0.5 else -mpmath.inf
                cache[t] = v
            return v

        law_of = {}
        for v in values:
            others = [(v - w, mult[w] - (w == v)) for w in values if mult[w] - (w == v) > 0]

            def integrand(t, others=others):
                e = q_cached(t)
                return mpmath.fprod(cdf(e + c) ** k for c, k in others)

            # Cut where Q(t) + c crosses a kink of F or, for a far factor, its
            # centre 0 (where it switches on), and at t = 1/2 (Laplace's quantile kink).
            cuts = {mpmath.mpf(0), mpmath.mpf(1), mpmath.mpf(1) / 2}
            for c, _ in others:
                for k in (*kinks, 0) if abs(c) > 3 else kinks:
                    t_cut = cdf(k - c)
                    if 0 < t_cut < 1:
                        cuts.add(t_cut)
            edges = sorted(cuts)
            law_of[v] = mpmath.fsum(mpmath.quad(integrand, [a, b]) for a, b in itertools.pairwise(edges) if b > a)
        out = [law_of[v] for v in m]
    return [+v for v in out]


def jacobian_oracle(noise: str, mu: Sequence, tau=1) -> list[list[mpmath.mpf]]:
    r"""The Jacobian :math:`\partial p_i/\partial \mu_l` at 30+ digits, off-diagonal by quadrature.

    .. math::

        \frac{\partial p_i}{\partial \mu_l} = -\frac1\tau \int f(x - m_i) f(x - m_l)
            \prod_{j \ne i,l} F(x - m_j)\,dx \quad (l \ne i)

    split at every :math:`m_j + \kappa`; the diagonal from the zero row sums.

    >>> import mpmath
    >>> with mpmath.workdps(30):
    ...     J = jacobian_oracle("gumbel", [0, 0])
    >>> mpmath.nstr(J[0][1], 12)  # softmax: -p1 p2
    '-0.25'
    """
    pdf, cdf, _ = mp_functions(noise)
    fam = d.family(noise)
    with mpmath.workdps(max(mpmath.mp.dps, 30) + 15):
        t_ = _mp(as_expr(tau))
        m = [_mp(as_expr(v)) / t_ for v in mu]
        n = len(m)
        pts = sorted({mj + _mp(k) for mj in m for k in (*fam.kinks, 0)})
        edges = [-mpmath.inf, *pts, mpmath.inf]
        jac = [[mpmath.mpf(0)] * n for _ in range(n)]
        for i in range(n):
            for l in range(i + 1, n):

                def f(x, i=i, l=l):
                    rest = mpmath.fprod(cdf(x - m[j]) for j in range(n) if j not in (i, l))
                    return pdf(x - m[i]) * pdf(x - m[l]) * rest

                jac[i][l] = jac[l][i] = -mpmath.quad(f, edges) / t_
        for i in range(n):
            jac[i][i] = -mpmath.fsum(jac[i][l] for l in range(n) if l != i)
    return [[+v for v in row] for row in jac]


# ----------------------------------------------------------------------------
# The post's K-point rule and better rules
# ----------------------------------------------------------------------------

#: Rules on t in (0, 1): nodes and weights for K points.
RULES = ("post", "midpoint", "gauss")


def rule_nodes(rule: str, K: int) -> tuple[list[mpmath.mpf], list[mpmath.mpf]]:
    r"""Nodes and weights on (0, 1): the post's :math:`k/(K+1)`, midpoints :math:`(k-\frac12)/K`, Gauss–Legendre.

    >>> nodes, weights = rule_nodes("post", 3)
    >>> [str(v) for v in nodes], [str(w) for w in weights]
    (['0.25', '0.5', '0.75'], ['0.333333333333333', '0.333333333333333', '0.333333333333333'])
    """
    K = int(K)
    if rule == "post":
        return [mpmath.mpf(k) / (K + 1) for k in range(1, K + 1)], [mpmath.mpf(1) / K] * K
    if rule == "midpoint":
        return [(k - mpmath.mpf(1) / 2) / K for k in range(1, K + 1)], [mpmath.mpf(1) / K] * K
    if rule == "gauss":
        xs, ws = np.polynomial.legendre.leggauss(K)
        # float64 nodes are exact enough for a rule whose own error is >= 1e-12
        return [mpmath.mpf((float(v) + 1) / 2) for v in xs], [mpmath.mpf(float(w) / 2) for w in ws]
    raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")


def quantile_rule_law(noise: str, mu: Sequence, K: int, rule: str = "post") -> list[float]:
    r"""The post's numerical rule (or a better one) for the law, in double precision.

    The quantiles :math:`F^{-1}(t_k)` come from mpmath at 20 digits (they are
    the precomputed constants of the post), the products from the family's
    float CDF: the rules' own errors are at least 1e-12, far above rounding.

    .. math::

        p_i \approx \sum_k w_k \prod_{j \ne i} F\bigl(\mu_i - \mu_j + F^{-1}(t_k)\bigr),
        \qquad t_k = \tfrac{k}{K+1},\ w_k = \tfrac1K \ \text{(the post)} .

    >>> p = quantile_rule_law("normal", [0.3, 0, -0.5, 0.2], 8)
    >>> float(sum(p))  # the rule loses mass (quoted rounded as 0.8979; it is 0.89785 - 3e-7)
    0.89784968...
    """
    _, _, quantile = mp_functions(noise)
    cdf = _float_cdf(noise)
    with mpmath.workdps(20):
        nodes, weights = rule_nodes(rule, K)
        q = [float(quantile(t)) for t in nodes]
    w = [float(v) for v in weights]
    m = [float(sp.N(as_expr(v), 20)) for v in mu]
    n = len(m)
    return [
        math.fsum(wk * math.prod(cdf(e + m[i] - m[j]) for j in range(n) if j != i) for e, wk in zip(q, w))
        for i in range(n)
    ]


@cache
def _float_cdf(noise: str) -> Callable[[float], float]:
    return sp.lambdify(d.x, d.family(noise).float_cdf, "math")


def rule_convergence(noise: str, mu: Sequence, Ks: Sequence[int] = (8, 32, 128, 1024)) -> list[dict]:
    """For each rule and K: Σp and the max absolute error against the 30-digit oracle.

    >>> rows = rule_convergence("normal", [0.3, 0, -0.5, 0.2], Ks=(8,))
    >>> [(r["rule"], round(r["sum"], 4)) for r in rows]
    [('post', 0.8978), ('midpoint', 0.9892), ('gauss', 0.9998)]
    """
    with mpmath.workdps(30):
        truth = law_oracle(noise, mu)
    rows = []
    for rule in RULES:
        for K in Ks:
            p = quantile_rule_law(noise, mu, K, rule)
            rows.append(
                {
                    "rule": rule,
                    "K": int(K),
                    "sum": math.fsum(p),
                    "max_error": max(abs(a - float(b)) for a, b in zip(p, truth)),
                }
            )
    return rows


# ----------------------------------------------------------------------------
# Monte Carlo: inverse-CDF draws, argmax, one count per trial
# ----------------------------------------------------------------------------


def _math_quantile(noise: str) -> Callable[[float], float]:
    fam = d.family(noise)
    return sp.lambdify(d.u, fam.quantile, "math")


def _additive_argmax(draw_ts: Callable) -> Callable:
    """The argmax of m_j + X_j over the classes, X_j i.i.d. from ``draw_ts(s0, s1) -> (x, s0, s1)``.

    The body ``argmax(s0, s1, params, n) -> (class, s0, s1)`` keeps the
    generator state in variables, and calls the sampler from one site only:
    numba-cuda copies the ziggurat tables per compiled call site.
    """

    @scalar_jit
    def argmax_of(s0, s1, params, n):
        best = -math.inf
        arg = 0
        for j in range(n):
            x, s0, s1 = draw_ts(s0, s1)
            v = params[2 + j] + x
            if v > best:  # ties have probability 0 (continuous noise); the first index keeps it
                best = v
                arg = j
        return arg, s0, s1

    return argmax_of


def _quantile_argmax(q: Callable) -> Callable:
    """The argmax of m + Q(u_j) over the classes, for one family's quantile Q."""

    @scalar_jit
    def draw_ts(s0, s1):
        u, s0, s1 = uniform_ts(s0, s1)
        return q(u), s0, s1

    return _additive_argmax(draw_ts)


@scalar_jit
def _gumbel_argmax(s0, s1, params, n):
    r"""The argmax of m_j + G_j as the argmin of :math:`E_j w_j`, :math:`w_j = e^{\max m - m_j}` in params."""
    best = math.inf
    arg = 0
    for j in range(n):
        e, s0, s1 = exponential_ts(s0, s1)
        v = e * params[2 + n + j]
        if v < best:
            best = v
            arg = j
    return arg, s0, s1


@scalar_jit
def _gumbel_draw(states, stream):
    return -math.log(exponential(states, stream))


#: Largest Gumbel weight :math:`e^{\max m - m_j}` stored: a class that far behind wins
#: with probability below 1e-300 either way, and E * w stays finite (no inf, no NaN).
_GUMBEL_WEIGHT_MAX = 1e300


def _gumbel_weights(m: Sequence[float]) -> list[float]:
    top = max(m)
    return [min(math.exp(min(top - v, 700.0)), _GUMBEL_WEIGHT_MAX) for v in m]


@dataclass(frozen=True)
class SpecialSampler:
    r"""An exact sampler of a family's argmax other than its lambdified quantile.

    Attributes
    ----------
    identity : str
        What is drawn and why it has the family's law (also the ``str``).
    draw : callable
        Scalar body ``draw(states, stream)`` of one standardised variate.
    argmax : callable
        Scalar body ``argmax(s0, s1, params, n) -> (class, s0, s1)`` of one
        trial, the generator state in variables.
    draws_per_class : float
        Expected 64-bit generator draws per class (ziggurat rejections counted).
    extra : callable or None
        ``extra(m) -> list``: parameters the argmax body reads after
        :math:`m_1 .. m_n` (see :func:`pack_argmax`).
    classes_per_draw : int
        Classes served by one 64-bit draw: a trial of n classes makes
        :math:`\lceil n / \text{classes\_per\_draw} \rceil` draws of ``draws_per_class``.
    max_classes : int or None
        The most classes the sampler can simulate, if it has a limit.
    """

    identity: str
    draw: Callable
    argmax: Callable
    draws_per_class: float
    extra: Callable[[Sequence[float]], list[float]] | None = None
    classes_per_draw: int = 1
    max_classes: int | None = None

    def __str__(self) -> str:
        return self.identity


def _coarse_sampler(identity: str, draw: Callable, additive: bool) -> SpecialSampler:
    """A family drawn as the argmin of coarse uniforms (:mod:`closedform.numeric.coarse_argmin`)."""
    return SpecialSampler(
        f"{identity}: {coarse.CHUNK_BITS}-bit coarse uniforms, {coarse.per_draw()} per draw, refined to "
        f"{coarse.CHUNK_BITS + 52} bits when they cannot decide (probability below 7 n(n-1) 2^-{coarse.CHUNK_BITS})",
        draw,
        coarse.interval_argmin(additive),
        1.0,
        lambda m: coarse.pack_keys(m, additive),
        coarse.per_draw(),
        1 << coarse.INDEX_BITS if additive else None,
    )


#: Families whose sampler is not the lambdified quantile: the exact identity each uses.
#: The other families draw one float64 uniform per class through their quantile.
SPECIAL_SAMPLERS: dict[str, SpecialSampler] = {
    "normal": SpecialSampler(
        "ziggurat normal (Marsaglia-Tsang, 256 layers, exact tail and wedges); the quantile would need erfinv",
        normal,
        _additive_argmax(normal_ts),
        NORMAL_DRAWS,
    ),
    "gumbel": SpecialSampler(
        "argmax_j (m_j - log E_j) = argmin_j E_j exp(max m - m_j), E_j ziggurat exponentials: "
        "no logarithm per draw, the weights packed once",
        _gumbel_draw,
        _gumbel_argmax,
        EXPONENTIAL_DRAWS,
        _gumbel_weights,
    ),
    "exponential": _coarse_sampler(
        "argmax_j (m_j - log U_j) = argmin_j U_j exp(max m - m_j), no logarithm", exponential, additive=False
    ),
    "uniform": _coarse_sampler("argmax_j (m_j + U_j) = argmin_j (1 - U_j + max m - m_j)", uniform, additive=True),
    "laplace": SpecialSampler(
        "S E with E a ziggurat exponential and S = +-1 from an unused bit of its draw",
        laplace,
        _additive_argmax(laplace_ts),
        EXPONENTIAL_DRAWS,
    ),
    "cauchy": SpecialSampler(
        "ziggurat Cauchy (512 layers, f = 1/(1 + x^2); tail by its inverse CDF 1/tan(u atan(1/r)))",
        cauchy,
        _additive_argmax(cauchy_ts),
        CAUCHY_DRAWS,
    ),
}


@cache
def sampler(noise: str) -> Callable:
    """The scalar body ``draw(states, stream) -> float`` of one standardised noise variate."""
    d.family(noise)  # unknown names fail here, with the list of known ones
    if noise in SPECIAL_SAMPLERS:
        return SPECIAL_SAMPLERS[noise].draw
    q = scalar_jit(_math_quantile(noise))

    @scalar_jit
    def draw(states, stream):
        return q(uniform(states, stream))

    return draw


@cache
def _family_argmax(name: str) -> Callable:
    """The body ``argmax(s0, s1, params, n) -> (class, s0, s1)`` of one family: its special sampler's, or the quantile loop."""
    special = SPECIAL_SAMPLERS.get(name)
    return special.argmax if special is not None else _quantile_argmax(scalar_jit(_math_quantile(name)))


def _make_argmax_trial() -> Callable:
    """The trial body: the family switch outside the loop over classes, generated from FAMILIES.

    Each family's loop is its own compiled function (one sampler inlined, no
    per-draw switch); a new family in the table adds a branch without an edit.
    """
    names = list(d.FAMILIES)
    env: dict = {}
    lines = [
        "def argmax_trial(s0, s1, params, scratch):",
        '    """params = (family code, n, m_1, ..., m_n[, extra]), m = mu/tau: (class of argmax(m + eps), s0, s1)."""',
        "    code = int(params[0])",
        "    n = int(params[1])",
    ]
    for k, name in enumerate(names):
        env[f"_argmax_{k}"] = _family_argmax(name)
        lines += [f"    if code == {k}:", f"        return _argmax_{k}(s0, s1, params, n)"]
    lines.append('    return n, s0, s1  # unreachable (pack_argmax writes a known code); n is the "none" slot')
    # Registered source: scalar_jit writes it as a generated module, cached on disk.
    define("\n".join(lines) + "\n", "<closedform.numeric.noise.argmax_trial>", env)
    return scalar_jit(env["argmax_trial"])


def _argmax_stream_kernel(trial: Callable) -> StreamKernel:
    return StreamKernel(
        trial,
        acc_width=lambda p: int(p[1]),
        scratch_len=lambda p: 1,
        scratch_capacity=1,
        acc_capacity=MAX_CLASSES_CUDA,
        outcome="category_ts",
    )


def _one_family_trial(body: Callable) -> Callable:
    @scalar_jit
    def trial(s0, s1, params, scratch):
        return body(s0, s1, params, int(params[1]))

    return trial


@dataclass
class ArgmaxKernel(StreamKernel):
    """The argmax kernel: :meth:`run` uses a driver compiled for the family code ``params[0]``.

    ``trial`` is the body with the family switch inside (any family, for
    callers that run it themselves); :meth:`run` instead picks a kernel whose
    trial is one family's loop, compiled on that family's first run.  Same
    numbers; no per-trial switch and a smaller function to allocate registers
    in (measured: 5.3 against 6.1 ns per trial for the Normal at n = 4), and on
    CUDA only that family's ziggurat tables in constant memory.
    """

    _families: dict = field(default_factory=dict, init=False, repr=False)

    def for_family(self, code: int) -> StreamKernel:
        """The kernel of the family with code ``code`` (see :func:`family_code`)."""
        names = list(d.FAMILIES)
        if not 0 <= code < len(names):
            raise ValueError(f"family code must be in 0..{len(names) - 1}, got {code!r} (use pack_argmax)")
        if code not in self._families:
            self._families[code] = _argmax_stream_kernel(_one_family_trial(_family_argmax(names[code])))
        return self._families[code]

    def for_params(self, params) -> StreamKernel:
        """The kernel of the family code ``params[0]``: :meth:`run` and :meth:`start` use it."""
        return self.for_family(int(params[0]))


@cache
def argmax_kernel() -> ArgmaxKernel:
    """The stream kernel counting argmax(μ/τ + ε) per class, any family (each compiled on its first run).

    >>> k = argmax_kernel()
    >>> run = k.run(pack_argmax("gumbel", [0.0, 0.0]), 1000, seed=1, streams=8)
    >>> int(run.totals.sum()), run.trials
    (1000, 1000)
    """
    k = _argmax_stream_kernel(_make_argmax_trial())
    return ArgmaxKernel(k.trial, k.acc_width, k.scratch_len, k.scratch_capacity, k.acc_capacity, k.integer, k.outcome)


def max_classes(noise: str) -> int | None:
    """The most classes the sampler of ``noise`` simulates, or None for no limit.

    >>> max_classes("uniform"), max_classes("normal")
    (1048576, None)
    """
    d.family(noise)
    special = SPECIAL_SAMPLERS.get(noise)
    return special.max_classes if special is not None else None


def family_code(noise: str) -> int:
    """The index of ``noise`` in FAMILIES: the kernel's family switch."""
    d.family(noise)
    return list(d.FAMILIES).index(noise)


def pack_argmax(noise: str, mu: Sequence, tau=1) -> np.ndarray:
    r"""Kernel parameters: (family code, n, μ_1/τ, ..., μ_n/τ), then the family's extra ones, as float64.

    Gumbel appends the weights :math:`w_j = e^{\max_k m_k - m_j}` (at most 1e300)
    that its argmin form reads.  A non-finite :math:`\mu_j/\tau` is refused.

    >>> pack_argmax("normal", [1, 2], 2).tolist()
    [1.0, 2.0, 0.5, 1.0]
    >>> pack_argmax("gumbel", [0, 1]).tolist()
    [0.0, 2.0, 0.0, 1.0, 2.718281828459045, 1.0]
    """
    t = as_expr(tau, "tau")
    m = [float(sp.N(as_expr(v, "mu") / t, 30)) for v in mu]
    if not all(math.isfinite(v) for v in m):
        raise ParameterError(f"mu/tau must lie in double precision (|mu_j/tau| < 1.8e308), got {m!r}")
    special = SPECIAL_SAMPLERS.get(noise)
    extra = special.extra(m) if special is not None and special.extra is not None else []
    return np.array([float(family_code(noise)), float(len(m)), *m, *extra], dtype=np.float64)


def draws_per_trial(noise: str, n: int) -> float:
    r"""Expected 64-bit generator draws per trial of the sampler the kernel uses for ``noise``.

    One uniform per class on the quantile path; a special sampler's expected
    count per class, ziggurat rejections and tails included.  The coarse
    samplers (uniform, exponential) count their coarse pass only: a refined
    trial draws :math:`\lceil n/2 \rceil + n` more, with a probability below
    :func:`closedform.numeric.coarse_argmin.refinement_bound` (7.8e-8 at n = 4).

    >>> draws_per_trial("logistic", 4), draws_per_trial("uniform", 5), round(draws_per_trial("normal", 4), 3)
    (4.0, 3.0, 4.088)
    """
    d.family(noise)
    special = SPECIAL_SAMPLERS.get(noise)
    if special is None:
        return float(n)
    return -(-int(n) // special.classes_per_draw) * special.draws_per_class


__all__ = [
    "MAX_CLASSES_CUDA",
    "RULES",
    "SPECIAL_SAMPLERS",
    "argmax_kernel",
    "draws_per_trial",
    "family_code",
    "jacobian_oracle",
    "law_oracle",
    "max_classes",
    "mp_functions",
    "pack_argmax",
    "quantile_rule_law",
    "rule_convergence",
    "rule_nodes",
    "sampler",
]
