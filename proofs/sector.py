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
from closedform.proofs.core import Cases, Proof, Shown, Step, StepCheck, Verdict

n = sp.Symbol("n", integer=True, positive=True)
x = sp.Symbol("x", positive=True)
theta = sp.Symbol("theta", positive=True)
k = sp.Symbol("k", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)
a = sp.Symbol("a", positive=True)

#: Concrete sizes on which identities in n are checked symbolically in the other variables.
SMALL_N = range(2, 9)
#: The sector probability and the spacings' laws as named functions, for the symbolic statements.
P_n = sp.Function("P_n")
F_n = sp.Function("F_n")
theta_k = sp.Symbol("theta_k", positive=True)
theta_n = sp.Symbol("theta_n", positive=True)
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
        r"\(P_n(\theta) = n (\theta/2\pi)^{n-1}\) for \(0 < \theta \le \pi\)",
        [
            Step(
                r"P_n(\theta)",
                r"P\bigl(\textstyle\bigcup_{i=1}^n E_i\bigr)",
                r"\(E_i\): every point lies within \(x = \theta/2\pi\) clockwise of point \(i\)",
                check=_check_gap_reduction,
            ),
            Step(
                r"P\bigl(\textstyle\bigcup_{i=1}^n E_i\bigr)",
                r"\textstyle\sum_{i=1}^n P(E_i)",
                r"the \(E_i\) are disjoint when \(x \le 1/2\)",
                check=_check_disjoint_anchors,
            ),
            Step(
                sp.Product(x, (i, 1, n - 1)),
                x ** (n - 1),
                r"\(P(E_i)\): the other \(n-1\) angles are independent, each in the arc with probability \(x\)",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.Sum(x ** (n - 1), (i, 1, n)),
                n * x ** (n - 1),
                "n equal terms",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.Subs(d.probability_small_angle(n, theta), theta, 2 * sp.pi * x),
                n * x ** (n - 1),
                r"the claimed form at \(\theta = 2\pi x\)",
            ),
        ],
        domains={n: (1, 30, True), x: (0, sp.Rational(1, 2), False)},
    )


def _simplex_integral(m: int) -> sp.Integral:
    """The unevaluated integral of the density (m-1)! over the simplex of the first m-1 spacings."""
    ts = sp.symbols(f"t1:{m}", nonnegative=True)
    limits = [(ts[j], 0, 1 - sum(ts[:j])) for j in reversed(range(m - 1))]
    return sp.Integral(d.spacing_density(m), *limits)


def gap_reduction() -> Proof:
    """All points in some arc of length x ⇔ the largest of the n circular gaps is ≥ 1 − x."""
    steps = [
        Step(
            r"\{\text{all in an arc of length } x\}",
            r"\{\max_i g_i \ge 1 - x\}",
            "the uncovered part of the circle is one gap",
            relation=r"\iff",
            check=_check_gap_reduction,
        ),
        Step(
            r"\int_{\Delta_{n-1}} (n-1)!\, dt_1 \cdots dt_{n-1}",
            sp.Integer(1),
            r"the density \((n-1)!\) integrates to 1: the simplex has volume \(1/(n-1)!\) (iterated integrals)",
            cases=Cases("n", (2, 3, 4, 5), lambda m: (_simplex_integral(m), 1), lambda m: _simplex_volume(m - 1)),
        ),
        Step(
            (n - 1) * d.spacing_density(n - 1),
            d.spacing_density(n),
            r"the post's induction \(p_n = (n-1)\, p_{n-1}\)",
            simplifier=lambda e: sp.simplify(sp.combsimp(e)),
        ),
    ]
    return Proof(
        "largest-gap reduction and the law of the spacings",
        r"the \(n\) spacings of the circle cut at a point are uniform on the simplex, with density \((n-1)!\)",
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
    post_c = (sp.Rational(1, 10), sp.Rational(1, 5), sp.Rational(3, 20))
    return Proof(
        "marginals and exceedances of the spacings",
        r"\(p_n(x_1, \ldots, x_k) = \frac{(n-1)!}{(n-k-1)!} (1-\sum_i x_i)^{n-k-1}\) and "
        r"\(P(x_i > c_i,\ i \le k) = (1-\sum_i c_i)^{n-1}\)",
        [
            Step(
                sp.Integral((1 - s_ - t) ** m, (t, 0, 1 - s_)),
                (1 - s_) ** (m + 1) / (m + 1),
                r"integrate out the next spacing, \(t\) from 0 to \(1 - s\) (\(s\) = sum of the earlier ones)",
                simplifier=lambda e: sp.simplify(sp.piecewise_fold(e.doit()).rewrite(sp.Piecewise)),
            ),
            Step(
                sp.Integral(d.marginal_density(5, [u1, u2]), (u2, 0, 1 - u1)),
                d.marginal_density(5, [u1]),
                r"\(n = 5\): from the pair to the single marginal",
                simplifier=_evaluated,
            ),
            Step(
                sp.Integral(d.marginal_density(5, [u1, u2]), (u2, 0, 1 - u1), (u1, 0, 1)),
                1,
                r"\(n = 5\): the pair marginal \(12(1 - x_1 - x_2)^2\) integrates to 1",
                simplifier=_evaluated,
            ),
            Step(
                sp.Integral(d.marginal_density(n, [u1]).subs(n, 7), (u1, c1, 1)),
                d.exceedance_probability(7, [c1]),
                r"\(k = 1,\ n = 7\)",
                simplifier=_evaluated,
            ),
            Step(
                exc5,
                d.exceedance_probability(5, [c1, c2, c3]),
                r"\(k = 3,\ n = 5\) (the post's example)",
                simplifier=lambda e: sp.factor(sp.expand(e.doit())),
            ),
            Step(
                sp.Subs(d.exceedance_probability(5, [c1, c2, c3]), (c1, c2, c3), post_c),
                sp.Pow(sp.Rational(55, 100), 4, evaluate=False),
                r"\(c = (0.1, 0.2, 0.15)\): \(0.55^4\)",
                value=sp.Rational(55, 100) ** 4,
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


def _by_inclusion_exclusion(m: int, y: sp.Symbol) -> sp.Matrix:
    """1 - (the inclusion-exclusion sum) on each [1/(i+1), 1/i], i = 1..m-1."""
    pieces = []
    for piece in range(1, m):
        # On [1/(piece+1), 1/piece] exactly the terms k <= piece are present.
        surv = sum((-1) ** (q - 1) * sp.binomial(m, q) * (1 - q * y) ** (m - 1) for q in range(1, piece + 1))
        pieces.append(sp.expand(1 - surv))
    return sp.Matrix(pieces)


def inclusion_exclusion() -> Proof:
    """P(max > a) by inclusion-exclusion equals the first-spacing recursion, piece by piece."""
    y = sp.Symbol("y", positive=True)
    return Proof(
        "inclusion-exclusion over the spacings",
        r"\(P(\max_i x_i > a) = \sum_{k < 1/a} (-1)^{k-1} \binom{n}{k} (1-ka)^{n-1}\)",
        [
            Step(
                r"1 - \sum_{k=1}^{i} (-1)^{k-1} \binom{n}{k} (1-ky)^{n-1}",
                r"H_n^{(i)}(y)",
                r"on each \([1/(i+1), 1/i]\), \(i = 1, \ldots, n-1\): inclusion-exclusion against "
                r"\(H_n(y) = \int_{1-y}^1 (n-1) u^{n-2} H_{n-1}(y/u)\, du\), the recursion on the first spacing",
                simplifier=sp.expand,
                cases=Cases(
                    "n",
                    tuple(range(2, 8)),
                    lambda m: (_by_inclusion_exclusion(m, y), sp.Matrix(d.all_spacings_below_by_recursion(m))),
                    lambda m: None,
                ),
            )
        ],
    )


def reduces_to_small_angle() -> Proof:
    """For θ ≤ π only k = 1 survives: the general formula equals n x^(n-1)."""
    term = (-1) ** (k - 1) * sp.binomial(n, k) * (1 - k * (1 - x)) ** (n - 1)
    r = sp.Symbol("r", integer=True, positive=True)

    def first_piece(m: int) -> tuple[object, object]:
        piece = d.probability(m, theta).args[0][0]
        return Shown(rf"P_{{{m}}}(\theta)\big|_{{\theta \le \pi}}", piece), d.probability_small_angle(m, theta)

    steps = [
        Step(
            sp.Sum(term, (k, 1, 1)),
            n * x ** (n - 1),
            r"\(x < 1/2\): \(\lfloor 1/(1-x) \rfloor = 1\), one term",
            simplifier=lambda e: sp.simplify(e.doit()),
        ),
        Step(
            sp.Subs(term.subs(n, r + 2), (k, x), (2, sp.Rational(1, 2))),
            0,
            r"\(x = 1/2\): the \(k = 2\) term is \(0^{n-1} = 0\) for \(n = r + 2 \ge 2\)",
        ),
        Step(
            r"P_n(\theta)\big|_{\theta \le \pi}",
            d.probability_small_angle(n, theta),
            "the first piece of the Piecewise closed form",
            simplifier=sp.expand,
            cases=Cases("n", tuple(SMALL_N), first_piece, lambda m: None),
        ),
    ]
    return Proof(
        "general formula at θ ≤ π",
        r"\(P_n(\theta) = n(\theta/2\pi)^{n-1}\) on \((0, \pi]\)",
        steps,
        domains={n: (1, 30, True), x: (0, sp.Rational(1, 2), False)},
    )


def _pieces(m: int) -> list[sp.Expr]:
    return [e for e, _ in d.probability(m, theta).args]


def _continuity(m: int) -> tuple[object, object]:
    pieces = _pieces(m)
    bps = d.breakpoints(m)
    left = sp.Matrix([sp.Limit(pieces[q], theta, bp, "-") for q, bp in enumerate(bps)])
    right = sp.Matrix([sp.Limit(pieces[q + 1], theta, bp, "+") for q, bp in enumerate(bps)])
    return left, right


def continuity_and_ends() -> Proof:
    """Continuity at every breakpoint, P = 1 at θ = 2π and past 2π(n-1)/n, P = 1 for n = 1."""
    steps = [
        Step(sp.Subs(d.probability_small_angle(n, theta), n, 1), sp.Integer(1), r"\(n = 1\): \(x^0 = 1\)"),
        Step(
            sp.Limit(P_n(theta), theta, theta_k, "-"),
            sp.Limit(P_n(theta), theta, theta_k, "+"),
            r"at each breakpoint \(\theta_k = 2\pi(1 - 1/k)\), \(k = 2, \ldots, n\), the pieces on either "
            r"side agree; the table lists \(P_n(\theta_k)\), \(k = 2, \ldots, n\)",
            simplifier=sp.expand,
            cases=Cases("n", tuple(SMALL_N), _continuity, lambda m: sp.ImmutableMatrix([_continuity(m)[0].doit()]).T),
        ),
        Step(
            sp.Limit(P_n(theta), theta, theta_n, "-"),
            1,
            r"\(P_n = 1\) from \(\theta_n = 2\pi(n-1)/n\) on: the last polynomial piece reaches 1 there",
            simplifier=sp.expand,
            cases=Cases(
                "n",
                tuple(SMALL_N),
                lambda m: (sp.Limit(_pieces(m)[-2], theta, d.certain_angle(m), "-"), 1),
                lambda m: None,
            ),
        ),
        Step(
            P_n(2 * sp.pi),
            1,
            r"the whole circle holds every point",
            cases=Cases(
                "n", tuple(SMALL_N), lambda m: (sp.Subs(d.probability(m, theta), theta, 2 * sp.pi), 1), lambda m: None
            ),
        ),
    ]
    return Proof(
        "continuity and end values",
        r"\(P_n\) is continuous on \((0, 2\pi]\), equal to 1 at \(2\pi\), and \(P_1 \equiv 1\)",
        steps,
    )


def identity_is_one() -> Proof:
    """The post's open question: the alternating sum is identically 1."""
    return Proof(
        "the alternating sum is 1",
        r"\(\sum_{k=1}^n (-1)^{k-1}\binom nk (1-kx)^{n-1} \equiv 1\): the \(n\)-th difference of a "
        r"polynomial of degree \(n-1\) vanishes (checked symbolically in \(x\) for \(n \le 12\))",
        [
            Step(
                d.alternating_sum(n, x),
                1,
                "expand the polynomial",
                simplifier=sp.expand,
                cases=Cases("n", tuple(range(1, 13)), lambda m: (d.alternating_sum(m, x), 1), lambda m: None),
            )
        ],
    )


def density_integrates_to_one() -> Proof:
    """dP/dθ integrates to 1 over (0, 2π]: P(0+) = 0 for n >= 2 and P(2π) = 1."""

    def sides(m: int) -> tuple[object, object]:
        return sp.Integral(sp.diff(d.probability(m, theta), theta), (theta, 0, 2 * sp.pi)), 1

    return Proof(
        "the sector density",
        r"\(\int_0^{2\pi} P_n'(\theta)\,d\theta = 1\)",
        [
            Step(
                sp.Integral(sp.Derivative(P_n(theta), theta), (theta, 0, 2 * sp.pi)),
                1,
                "integrate the derivative piece by piece",
                simplifier=_evaluated,
                cases=Cases("n", tuple(SMALL_N), sides, lambda m: None),
            )
        ],
    )


def expected_largest_gap() -> Proof:
    """E[max spacing] = ∫_0^1 P(max > a) da = Σ (-1)^(k-1) C(n,k)/(kn) = H_n/n."""

    def by_survival(m: int) -> tuple[object, object]:
        return sp.Integral(1 - _piecewise_cdf(m, a), (a, 0, 1)), d.expected_largest_spacing(m)

    steps = [
        Step(
            sp.Integral((1 - k * a) ** (n - 1), (a, 0, 1 / k)),
            1 / (k * n),
            r"term \(k\) vanishes past \(a = 1/k\)",
            simplifier=lambda e: sp.simplify(
                sp.piecewise_fold(e.doit()).rewrite(sp.Piecewise).subs(sp.Eq(n, 0), False)
            ),
        ),
        # S_n = sum_k (-1)^(k-1) C(n,k)/k equals H_n: same first value, same recurrence.
        Step(
            (-1) ** (k - 1) * (sp.binomial(n, k) - sp.binomial(n - 1, k)) / k,
            (-1) ** (k - 1) * sp.binomial(n, k) / n,
            r"\(S_n - S_{n-1}\), term by term: Pascal's rule, then \(\binom{n-1}{k-1}/k = \binom nk/n\)",
            simplifier=lambda e: sp.simplify(sp.gammasimp(e)),
        ),
        Step(
            sp.Sum((-1) ** (k - 1) * sp.binomial(n, k) / n, (k, 1, n)),
            1 / n,
            r"binomial theorem: \(\sum_{k=0}^n (-1)^k \binom nk = (1-1)^n = 0\)",
            simplifier=lambda e: sp.simplify(e.doit()),
        ),
        Step(
            sp.harmonic(n) - sp.harmonic(n - 1),
            1 / n,
            r"\(H_n\) obeys the same recurrence",
            simplifier=lambda e: sp.simplify(sp.expand_func(e)),
        ),
        Step(
            sp.Sum((-1) ** (k - 1) * sp.binomial(1, k) / k, (k, 1, 1)),
            sp.harmonic(1),
            r"and starts from the same value, \(S_1 = H_1 = 1\); so \(S_n = H_n\) and \(E \max_i x_i = H_n / n\)",
            simplifier=lambda e: sp.simplify(e.doit()),
        ),
        Step(
            sp.Integral(1 - F_n(a), (a, 0, 1)),
            d.expected_largest_spacing(n),
            r"integrate the survival function \(1 - F_n(a) = P(\max_i x_i > a)\) piece by piece",
            simplifier=_evaluated,
            cases=Cases("n", tuple(range(1, 11)), by_survival, lambda m: d.expected_largest_spacing(m)),
        ),
    ]
    return Proof(
        "expected largest spacing",
        r"\(E\max_i x_i = H_n / n\)",
        steps,
        domains={n: (1, 40, True), k: (1, 40, True)},
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


#: Exact values (n, theta / 2 pi, P_n(theta)) from the table of post 9324.
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
    j = sp.Symbol("j", integer=True, nonnegative=True)
    xs = sp.Symbol("x", positive=True)
    wendel = sp.Integer(2) ** (1 - 4) * sp.Sum(sp.binomial(4 - 1, j), (j, 0, 2 - 1))
    return Proof(
        "exact values",
        r"four ducks in a semicircle: \(P_4(\pi) = 1/2\), and the post's table of exact values",
        [
            Step(
                P_n(2 * sp.pi * xs),
                r"p_{\text{post}}(n, x)",
                r"the closed form at \(\theta = 2\pi x\) against the value printed in the post",
                cases=Cases(
                    "(n, x)",
                    tuple((m, frac) for m, frac, _ in EXACT_VALUES),
                    lambda v: (d.probability(v[0], 2 * sp.pi * v[1]), dict(((m, f), p) for m, f, p in EXACT_VALUES)[v]),
                    lambda v: dict(((m, f), p) for m, f, p in EXACT_VALUES)[v],
                ),
            ),
            Step(
                Shown(wendel, d.wendel_probability(4, 2)),
                Shown(r"P_4(\pi)", d.probability(4, sp.pi)),
                r"Wendel's \(p_{d,N} = 2^{1-N} \sum_{k<d} \binom{N-1}{k}\) at \(d = 2\), \(N = 4\) is \(\theta = \pi\)",
                value=sp.Rational(1, 2),
            ),
        ],
    )


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
