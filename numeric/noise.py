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

**Sampler.**  One scalar trial body for every family: n inverse-CDF draws
(Marsaglia's polar pairs for the Normal, whose quantile needs ``erfinv``), the argmax,
one count.  The same body runs in the CPU ``prange`` driver and the CUDA
kernel; CUDA accumulates the counts in a local array of
:data:`MAX_CLASSES_CUDA` entries.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from functools import cache

import mpmath
import numpy as np
import sympy as sp

from closedform.derive import reparam as d
from closedform.numeric.drivers import StreamKernel
from closedform.numeric.rng import normal, uniform
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
        t_ = _mp(sp.sympify(tau))
        m = [_mp(sp.sympify(v)) / t_ for v in mu]
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
        t_ = _mp(sp.sympify(tau))
        m = [_mp(sp.sympify(v)) / t_ for v in mu]
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
    >>> float(sum(p))  # the rule loses mass (MATH.md rounds this to 0.8979; it is 0.89785 - 3e-7)
    0.89784968...
    """
    _, _, quantile = mp_functions(noise)
    cdf = _float_cdf(noise)
    with mpmath.workdps(20):
        nodes, weights = rule_nodes(rule, K)
        q = [float(quantile(t)) for t in nodes]
    w = [float(v) for v in weights]
    m = [float(sp.N(sp.sympify(v), 20)) for v in mu]
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


#: Families whose sampler is not the lambdified quantile, with the reason.
SPECIAL_SAMPLERS = {
    "normal": "Marsaglia's polar method, a pair of normals per accepted pair of float64 "
    "uniforms (the quantile needs erfinv)"
}


@scalar_jit
def normal_pair(states, stream):
    r"""Two independent standard normals (Marsaglia's polar method, float64 uniforms).

    Accepts a point of the unit disc (probability π/4) and scales it by
    :math:`\sqrt{-2\log s / s}`: no trigonometric call, half the logarithms of
    Box–Muller's cosine branch per normal.
    """
    while True:
        a = 2.0 * uniform(states, stream) - 1.0
        b = 2.0 * uniform(states, stream) - 1.0
        s = a * a + b * b
        if 0.0 < s < 1.0:
            f = math.sqrt(-2.0 * math.log(s) / s)
            return a * f, b * f


@cache
def sampler(noise: str) -> Callable:
    """The scalar body ``draw(states, stream) -> float`` of one standardised noise variate."""
    d.family(noise)  # unknown names fail here, with the list of known ones
    if noise == "normal":
        return normal
    q = scalar_jit(_math_quantile(noise))

    @scalar_jit
    def draw(states, stream):
        return q(uniform(states, stream))

    return draw


def _quantile_argmax(q: Callable) -> Callable:
    """The argmax of m + Q(u_j) over the classes, for one family's quantile Q."""

    @scalar_jit
    def argmax_of(states, stream, params, n):
        best = params[2] + q(uniform(states, stream))
        arg = 0
        for j in range(1, n):
            v = params[2 + j] + q(uniform(states, stream))
            if v > best:  # ties have probability 0 (continuous noise); the first index keeps it
                best = v
                arg = j
        return arg

    return argmax_of


@scalar_jit
def _normal_argmax(states, stream, params, n):
    """The argmax of m + Z with the normals drawn in pairs."""
    best = -math.inf
    arg = 0
    for j in range(0, n, 2):
        z1, z2 = normal_pair(states, stream)
        v = params[2 + j] + z1
        if v > best:
            best = v
            arg = j
        if j + 1 < n:
            v = params[3 + j] + z2
            if v > best:
                best = v
                arg = j + 1
    return arg


def _make_argmax_trial() -> Callable:
    """The trial body: the family switch outside the loop over classes, generated from FAMILIES.

    Each family's loop is its own compiled function (one quantile inlined, no
    per-draw switch); a new family in the table adds a branch without an edit.
    """
    names = list(d.FAMILIES)
    env: dict = {}
    lines = [
        "def argmax_trial(states, stream, params, scratch):",
        '    """params = (family code, n, m_1, ..., m_n), m = mu/tau: the class of argmax(m + eps)."""',
        "    code = int(params[0])",
        "    n = int(params[1])",
    ]
    for k, name in enumerate(names):
        env[f"_argmax_{k}"] = _normal_argmax if name == "normal" else _quantile_argmax(scalar_jit(_math_quantile(name)))
        lines += [f"    if code == {k}:", f"        return _argmax_{k}(states, stream, params, n)"]
    lines.append("    return -1  # unreachable: pack_argmax writes a known code")
    exec(compile("\n".join(lines), "<closedform.numeric.noise.argmax_trial>", "exec"), env)  # noqa: S102
    return scalar_jit(env["argmax_trial"])


@cache
def argmax_kernel() -> StreamKernel:
    """The stream kernel counting argmax(μ/τ + ε) per class, any family (compiled on first run)."""
    return StreamKernel(
        _make_argmax_trial(),
        acc_width=lambda p: int(p[1]),
        scratch_len=lambda p: 1,
        scratch_capacity=1,
        acc_capacity=MAX_CLASSES_CUDA,
        outcome="category",
    )


def family_code(noise: str) -> int:
    """The index of ``noise`` in FAMILIES: the kernel's family switch."""
    d.family(noise)
    return list(d.FAMILIES).index(noise)


def pack_argmax(noise: str, mu: Sequence, tau=1) -> np.ndarray:
    """Kernel parameters: (family code, n, μ_1/τ, ..., μ_n/τ) as float64.

    >>> pack_argmax("normal", [1, 2], 2).tolist()
    [1.0, 2.0, 0.5, 1.0]
    """
    t = float(sp.N(sp.sympify(tau), 30))
    m = [float(sp.N(sp.sympify(v), 30)) / t for v in mu]
    return np.array([float(family_code(noise)), float(len(m)), *m], dtype=np.float64)


def draws_per_trial(noise: str, n: int) -> float:
    """Uniforms drawn per trial: one per class; for normals 4/π per pair of classes (polar method)."""
    if noise == "normal":
        return 2 * math.ceil(int(n) / 2) * 4 / math.pi
    return float(n)


__all__ = [
    "MAX_CLASSES_CUDA",
    "RULES",
    "SPECIAL_SAMPLERS",
    "argmax_kernel",
    "draws_per_trial",
    "family_code",
    "jacobian_oracle",
    "law_oracle",
    "mp_functions",
    "pack_argmax",
    "quantile_rule_law",
    "rule_convergence",
    "rule_nodes",
    "sampler",
]
