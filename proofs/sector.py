r"""Step-checked derivations for the sector problem (post 9324).

Each function returns a :class:`~closedform.proofs.core.Proof`.  Identities
are checked by SymPy; the two steps that are arguments about events (the
reduction to the largest gap, and disjointness for θ ≤ π) are checked on
random configurations, exactly (no tolerance: both predicates are evaluated
on the same points), and say so.
"""

from __future__ import annotations

import random

import sympy as sp

from closedform.derive import sector as d
from closedform.proofs.core import Proof, Step, StepCheck, Verdict

n = sp.Symbol("n", integer=True, positive=True)
x = sp.Symbol("x", positive=True)
theta = sp.Symbol("theta", positive=True)
k = sp.Symbol("k", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)
a = sp.Symbol("a", positive=True)

#: Concrete sizes on which identities in n are checked symbolically in the other variables.
SMALL_N = range(2, 9)
#: Random point configurations used by the event-level steps.
CONFIGURATIONS = 4000


def _evaluated(expr: sp.Expr) -> sp.Expr:
    """Evaluate the integrals of a step (shown unevaluated in the derivation), then simplify."""
    return sp.simplify(expr.doit())


def _random_configurations(seed: int, max_n: int = 9):
    rng = random.Random(seed)
    for _ in range(CONFIGURATIONS):
        m = rng.randint(1, max_n)
        pts = [rng.random() for _ in range(m)]
        yield pts, rng.uniform(0.02, 0.98)


def _in_arc_from(pts, start, frac):
    return all((p - start) % 1.0 <= frac for p in pts)


def _largest_gap(pts):
    s = sorted(pts)
    gaps = [b - a_ for a_, b in zip(s, s[1:])] + [1.0 - s[-1] + s[0]]
    return max(gaps)


def _check_gap_reduction() -> StepCheck:
    for pts, frac in _random_configurations(1):
        direct = any(_in_arc_from(pts, p, frac) for p in pts)
        by_gap = _largest_gap(pts) >= 1.0 - frac
        if direct != by_gap:
            return StepCheck(Verdict.REFUTED, f"configuration {pts} with x={frac} disagrees")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        "argument: an arc holding every point can be turned back to start at a point, and it "
        "then leaves uncovered exactly one gap of length >= 1 - x; both predicates agree on "
        f"{CONFIGURATIONS} random configurations",
    )


def _check_disjoint_anchors() -> StepCheck:
    for pts, frac in _random_configurations(2):
        frac = min(frac, 0.5)
        anchors = sum(_in_arc_from(pts, p, frac) for p in pts)
        direct = _largest_gap(pts) >= 1.0 - frac
        if len(pts) > 1 and anchors > 1:
            return StepCheck(Verdict.REFUTED, f"two anchors at {pts}, x={frac}")
        if (anchors >= 1) != direct:
            return StepCheck(Verdict.REFUTED, f"union of anchor events differs at {pts}, x={frac}")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        "argument: if points i and j both anchored arcs of length x <= 1/2, each would lie within "
        "x clockwise of the other, so the two clockwise distances, which sum to 1, would both be "
        f"<= 1/2 (a null event); no two anchors in {CONFIGURATIONS} random configurations",
    )


def small_angle() -> Proof:
    """θ ≤ π: the n anchor events are disjoint, each has probability x^(n-1)."""
    return Proof(
        "sector, small angle",
        r"P_n(\theta) = n (\theta/2\pi)^{n-1} for 0 < \theta \le \pi",
        [
            Step(
                r"P_n(\theta)",
                r"P\bigl(\textstyle\bigcup_{i=1}^n E_i\bigr)",
                "E_i: every point lies within x = theta/2pi clockwise of point i",
                check=_check_gap_reduction,
            ),
            Step(
                r"P\bigl(\textstyle\bigcup_{i=1}^n E_i\bigr)",
                r"\textstyle\sum_{i=1}^n P(E_i)",
                "the E_i are disjoint when x <= 1/2",
                check=_check_disjoint_anchors,
            ),
            Step(
                sp.Product(x, (i, 1, n - 1)),
                x ** (n - 1),
                "P(E_i): the other n-1 angles are independent, each in the arc w.p. x",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.Sum(x ** (n - 1), (i, 1, n)),
                n * x ** (n - 1),
                "n equal terms",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                n * x ** (n - 1),
                d.probability_small_angle(n, theta).subs(theta, 2 * sp.pi * x),
                "x = theta / 2pi",
            ),
        ],
        domains={n: (1, 30, True), x: (0, sp.Rational(1, 2), False)},
    )


def gap_reduction() -> Proof:
    """All points in some arc of length x ⇔ the largest of the n circular gaps is ≥ 1 − x."""
    steps = [
        Step(
            r"\{\text{all in an arc of length } x\}",
            r"\{\max_i g_i \ge 1 - x\}",
            "the uncovered part of the circle is one gap",
            relation=r"\iff",
            check=_check_gap_reduction,
        )
    ]
    for m in (2, 3, 4, 5):
        steps.append(
            Step(
                d.spacing_density(m) * _simplex_volume(m - 1),
                sp.Integer(1),
                f"(n-1)! times the simplex volume 1/(n-1)!, n={m}",
            )
        )
    steps.append(
        Step(
            (n - 1) * d.spacing_density(n - 1),
            d.spacing_density(n),
            "the post's induction p_n = (n-1) p_{n-1}",
            simplifier=lambda e: sp.simplify(sp.combsimp(e)),
        )
    )
    return Proof(
        "largest-gap reduction and the law of the spacings",
        "the n spacings of the circle cut at a point are uniform on the simplex, density (n-1)!",
        steps,
        domains={n: (2, 30, True)},
    )


def _simplex_volume(m: int) -> sp.Expr:
    """Volume of {t_j >= 0, sum t_j <= 1} in m dimensions, by iterated integration."""
    ts = sp.symbols(f"t0:{m}", nonnegative=True)
    expr = sp.Integer(1)
    for j in reversed(range(m)):
        expr = sp.integrate(expr, (ts[j], 0, 1 - sum(ts[:j])))
    return expr


def marginals_and_exceedance() -> Proof:
    """Integrating out one spacing at a time gives the marginals; shifting gives the exceedance law."""
    s_ = sp.Symbol("s", nonnegative=True)
    t = sp.Symbol("t", nonnegative=True)
    m = sp.Symbol("m", integer=True, nonnegative=True)
    c1, c2, c3 = sp.symbols("c1 c2 c3", nonnegative=True)
    u1, u2, u3 = sp.symbols("u1 u2 u3", nonnegative=True)
    dens3 = d.marginal_density(5, [u1, u2, u3])
    exc5 = sp.Integral(dens3, (u3, c3, 1 - u1 - u2), (u2, c2, 1 - u1 - c3), (u1, c1, 1 - c2 - c3))
    return Proof(
        "marginals and exceedances of the spacings",
        r"p_n(x_1..x_k) = (n-1)!/(n-k-1)! (1-\sum x)^{n-k-1};  P(x_i > c_i, i<=k) = (1-\sum c)^{n-1}",
        [
            Step(
                sp.Integral((1 - s_ - t) ** m, (t, 0, 1 - s_)),
                (1 - s_) ** (m + 1) / (m + 1),
                "integrate out the next spacing, t from 0 to 1 - s (s = sum of the earlier ones)",
                simplifier=lambda e: sp.simplify(sp.piecewise_fold(e.doit()).rewrite(sp.Piecewise)),
            ),
            Step(
                sp.Integral(d.marginal_density(5, [u1, u2]), (u2, 0, 1 - u1)),
                d.marginal_density(5, [u1]),
                "n = 5: from the pair to the single marginal",
                simplifier=_evaluated,
            ),
            Step(
                sp.Integral(d.marginal_density(5, [u1, u2]), (u2, 0, 1 - u1), (u1, 0, 1)),
                1,
                "n = 5: the pair marginal 12(1 - x1 - x2)^2 integrates to 1",
                simplifier=_evaluated,
            ),
            Step(
                sp.Integral(d.marginal_density(n, [u1]).subs(n, 7), (u1, c1, 1)),
                d.exceedance_probability(7, [c1]),
                "k = 1, n = 7",
                simplifier=_evaluated,
            ),
            Step(
                exc5,
                d.exceedance_probability(5, [c1, c2, c3]),
                "k = 3, n = 5 (the post's example)",
                simplifier=lambda e: sp.factor(sp.expand(e.doit())),
            ),
            Step(
                d.exceedance_probability(5, [sp.Rational(1, 10), sp.Rational(1, 5), sp.Rational(3, 20)]),
                sp.Rational(55, 100) ** 4,
                "c = (0.1, 0.2, 0.15): 0.55^4",
            ),
        ],
        domains={
            s_: (0, 1, False),
            m: (0, 12, True),
            c1: (0, sp.Rational(1, 3), False),
            c2: (0, sp.Rational(1, 3), False),
            c3: (0, sp.Rational(1, 3), False),
        },
    )


def inclusion_exclusion() -> Proof:
    """P(max > a) by inclusion-exclusion equals the first-spacing recursion, piece by piece."""
    y = sp.Symbol("y", positive=True)
    steps = []
    for m in range(2, 8):
        rec = d.all_spacings_below_by_recursion(m)
        by_ie = []
        for piece in range(1, m):
            # On [1/(piece+1), 1/piece] exactly the terms k <= piece are present.
            surv = sum((-1) ** (q - 1) * sp.binomial(m, q) * (1 - q * y) ** (m - 1) for q in range(1, piece + 1))
            by_ie.append(sp.expand(1 - surv))
        steps.append(
            Step(
                sp.Matrix(by_ie),
                sp.Matrix(rec),
                f"n={m}: 1 - sum_k (-1)^(k-1) C(n,k)(1-ky)^(n-1) vs the recursion, on each [1/(i+1), 1/i]",
                simplifier=sp.expand,
            )
        )
    return Proof(
        "inclusion-exclusion over the spacings",
        r"P(\max x_i > a) = \sum_{k < 1/a} (-1)^{k-1} C(n,k)(1-ka)^{n-1}",
        steps,
    )


def reduces_to_small_angle() -> Proof:
    """For θ ≤ π only k = 1 survives: the general formula equals n x^(n-1)."""
    term = (-1) ** (k - 1) * sp.binomial(n, k) * (1 - k * (1 - x)) ** (n - 1)
    steps = [
        Step(
            sp.Sum(term, (k, 1, 1)),
            n * x ** (n - 1),
            "x < 1/2: floor(1/(1-x)) = 1",
            simplifier=lambda e: sp.simplify(e.doit()),
        ),
        Step(
            term.subs({k: 2, x: sp.Rational(1, 2)}).subs(n, sp.Symbol("r", integer=True, positive=True) + 2),
            0,
            "x = 1/2: the k = 2 term is 0^(n-1) = 0 for n >= 2",
        ),
    ]
    for m in SMALL_N:
        first = d.probability(m, theta).args[0][0]
        steps.append(
            Step(
                first, d.probability_small_angle(m, theta), f"n={m}: first piece of the Piecewise", simplifier=sp.expand
            )
        )
    return Proof(
        "general formula at theta <= pi",
        r"P_n(\theta) = n(\theta/2\pi)^{n-1} \text{ on } (0, \pi]",
        steps,
        domains={n: (1, 30, True), x: (0, sp.Rational(1, 2), False)},
    )


def continuity_and_ends() -> Proof:
    """Continuity at every breakpoint, P = 1 at θ = 2π and past 2π(n-1)/n, P = 1 for n = 1."""
    steps = [Step(d.probability_small_angle(1, theta), sp.Integer(1), "n = 1: x^0 = 1")]
    for m in SMALL_N:
        pw = d.probability(m, theta)
        pieces = [e for e, _ in pw.args]
        left = sp.Matrix([pieces[q].subs(theta, bp) for q, bp in enumerate(d.breakpoints(m))])
        right = sp.Matrix([pieces[q + 1].subs(theta, bp) for q, bp in enumerate(d.breakpoints(m))])
        steps.append(
            Step(left, right, f"n={m}: left and right pieces agree at 2pi(1-1/k), k=2..{m}", simplifier=sp.expand)
        )
        steps.append(
            Step(pieces[-2].subs(theta, d.certain_angle(m)), 1, f"n={m}: P = 1 at 2pi(n-1)/n", simplifier=sp.expand)
        )
        steps.append(Step(pw.subs(theta, 2 * sp.pi), 1, f"n={m}: P = 1 at theta = 2pi"))
    return Proof("continuity and end values", "P_n is continuous on (0, 2pi], 1 at 2pi and for n = 1", steps)


def identity_is_one() -> Proof:
    """The post's open question: the alternating sum is identically 1."""
    steps = []
    for m in range(1, 13):
        steps.append(Step(d.alternating_sum(m, x).doit(), 1, f"n={m}: expand", simplifier=sp.expand))
    return Proof(
        "the alternating sum is 1",
        r"\sum_{k=1}^n (-1)^{k-1}\binom nk (1-kx)^{n-1} \equiv 1 "
        r"(n-th difference of a polynomial of degree n-1 vanishes; symbolic in x for n <= 12)",
        steps,
    )


def density_integrates_to_one() -> Proof:
    """dP/dθ integrates to 1 over (0, 2π]: P(0+) = 0 for n >= 2 and P(2π) = 1."""
    steps = []
    for m in SMALL_N:
        pw = d.probability(m, theta)
        dens = sp.diff(pw, theta)
        steps.append(
            Step(
                sp.Integral(dens, (theta, 0, 2 * sp.pi)),
                1,
                f"n={m}: integrate the derivative piecewise",
                simplifier=_evaluated,
            )
        )
    return Proof("the sector density", r"\int_0^{2\pi} P_n'(\theta)\,d\theta = 1", steps)


def expected_largest_gap() -> Proof:
    """E[max spacing] = ∫_0^1 P(max > a) da = Σ (-1)^(k-1) C(n,k)/(kn) = H_n/n."""
    steps = [
        Step(
            sp.Integral((1 - k * a) ** (n - 1), (a, 0, 1 / k)),
            1 / (k * n),
            "term k vanishes past a = 1/k",
            simplifier=lambda e: sp.simplify(
                sp.piecewise_fold(e.doit()).rewrite(sp.Piecewise).subs(sp.Eq(n, 0), False)
            ),
        ),
        # S_n = sum_k (-1)^(k-1) C(n,k)/k equals H_n: same first value, same recurrence.
        Step(
            (-1) ** (k - 1) * (sp.binomial(n, k) - sp.binomial(n - 1, k)) / k,
            (-1) ** (k - 1) * sp.binomial(n, k) / n,
            "S_n - S_(n-1), term by term: Pascal's rule, then C(n-1,k-1)/k = C(n,k)/n",
            simplifier=lambda e: sp.simplify(sp.gammasimp(e)),
        ),
        Step(
            sp.Sum((-1) ** (k - 1) * sp.binomial(n, k) / n, (k, 1, n)),
            1 / n,
            "binomial theorem: sum_(k=0)^n (-1)^k C(n,k) = (1-1)^n = 0",
            simplifier=lambda e: sp.simplify(e.doit()),
        ),
        Step(
            sp.harmonic(n) - sp.harmonic(n - 1),
            1 / n,
            "H_n obeys the same recurrence",
            simplifier=lambda e: sp.simplify(sp.expand_func(e)),
        ),
        Step(
            sp.Sum((-1) ** (k - 1) * sp.binomial(1, k) / k, (k, 1, 1)),
            sp.harmonic(1),
            "and starts from the same value, S_1 = H_1 = 1; so S_n = H_n and E max = H_n / n",
            simplifier=lambda e: sp.simplify(e.doit()),
        ),
    ]
    for m in range(1, 11):
        steps.append(
            Step(
                sp.Integral(1 - _piecewise_cdf(m, a), (a, 0, 1)),
                d.expected_largest_spacing(m),
                f"n={m}: integrate the survival function",
                simplifier=_evaluated,
            )
        )
    return Proof(
        "expected largest spacing", r"E\max_i x_i = H_n / n", steps, domains={n: (1, 40, True), k: (1, 40, True)}
    )


def _piecewise_cdf(m: int, var: sp.Expr) -> sp.Expr:
    """P(max spacing <= var) for concrete m as a Piecewise in var."""
    if m == 1:
        return sp.Piecewise((0, var < 1), (1, True))
    pieces = []
    for top in range(m - 1, 0, -1):
        surv = sum((-1) ** (q - 1) * sp.binomial(m, q) * (1 - q * var) ** (m - 1) for q in range(1, top + 1))
        pieces.append((1 - surv, var <= sp.Rational(1, top)))
    return sp.Piecewise((0, var < sp.Rational(1, m)), *pieces, (1, True))


#: Exact values (n, theta / 2 pi, P_n(theta)) from the post's table (MATH.md, sector).
EXACT_VALUES = (
    (3, sp.Rational(1, 4), sp.Rational(3, 16)),
    (3, sp.Rational(1, 2), sp.Rational(3, 4)),
    (4, sp.Rational(1, 2), sp.Rational(1, 2)),
    (4, sp.Rational(5, 8), sp.Rational(113, 128)),
    (4, sp.Rational(2, 3), sp.Rational(26, 27)),
    (5, sp.Rational(1, 2), sp.Rational(5, 16)),
    (5, sp.Rational(7, 10), sp.Rational(1891, 2000)),
    (5, sp.Rational(3, 4), sp.Rational(255, 256)),
    (6, sp.Rational(3, 5), sp.Rational(1443, 3125)),
    (10, sp.Rational(3, 4), sp.Rational(86955, 131072)),
)


def four_ducks() -> Proof:
    """The post's motivating puzzle and the table of exact values."""
    steps = [
        Step(d.probability(m, 2 * sp.pi * frac), val, f"n={m}, theta = {frac} of a turn")
        for m, frac, val in EXACT_VALUES
    ]
    steps.append(Step(d.wendel_probability(4, 2), d.probability(4, sp.pi), "Wendel's d = 2 case is theta = pi"))
    return Proof("exact values", "four ducks in a semicircle: 1/2, and the reference table", steps)


ALL = (
    small_angle,
    gap_reduction,
    marginals_and_exceedance,
    inclusion_exclusion,
    reduces_to_small_angle,
    continuity_and_ends,
    identity_is_one,
    density_integrates_to_one,
    expected_largest_gap,
    four_ducks,
)
