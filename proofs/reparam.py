r"""Step-checked derivations for the argmax law of post 9085.

Identities are checked by SymPy with abstract f, F (f = F') or with every
registered family; the statements that are theorems about all families rather
than identities (order preservation, the support condition) carry their
argument in the step and a check over every family of
:data:`closedform.derive.reparam.FAMILIES`, exact where the law has an exact
closed form and at 40 digits otherwise.
"""

from __future__ import annotations

import random

import mpmath
import sympy as sp

from closedform.derive import reparam as d
from closedform.proofs.core import Cases, Proof, Shown, Step, StepCheck, Verdict, check_equal

x = d.x
c = sp.Symbol("c", real=True)
tau = sp.Symbol("tau", positive=True)
F = sp.Function("F")
m1, m2, m3, m4 = sp.symbols("mu_1:5", real=True)
#: Random rational points per numerically checked statement.
POINTS = 5


_t = sp.Symbol("t", positive=True)


def _limit_pos(expr, var, point):
    """lim of expr as var -> +oo (point=oo), -oo, or 0+, through a positive variable.

    Each Piecewise is first replaced by the branch that holds near the limit
    point (``sympy.limit`` cannot take limits through Piecewise conditions).
    """
    near = {sp.oo: sp.Integer(10**6), -sp.oo: -sp.Integer(10**6)}.get(point, sp.Rational(1, 10**6))
    smooth = d._resolve_piecewise(expr.subs(var, d.x), near)
    if point == sp.oo:
        return sp.limit(smooth.subs(d.x, _t), _t, sp.oo)
    if point == -sp.oo:
        return sp.limit(smooth.subs(d.x, -_t), _t, sp.oo)
    return sp.limit(smooth.subs(d.x, _t), _t, 0, "+")


def _integrand(mus, i):
    """f(x - mu_i) prod_{j != i} F(x - mu_j) with f = F'."""
    return sp.diff(F(x - mus[i]), x) * sp.Mul(*[F(x - m) for j, m in enumerate(mus) if j != i])


def _all_families(check_one) -> StepCheck:
    """Run ``check_one(family) -> StepCheck`` for every family and combine."""
    verdicts, reasons = [], []
    for name in d.FAMILIES:
        res = check_one(d.FAMILIES[name])
        if res.verdict == Verdict.REFUTED:
            return StepCheck(Verdict.REFUTED, f"{name}: {res.reason}")
        verdicts.append(res.verdict)
        reasons.append(f"{name}: {res.verdict.value.lower()}")
    return StepCheck(Verdict.combine(verdicts), "; ".join(reasons))


def _numeric_agreement(pairs, digits=35) -> StepCheck:
    """Compare (label, lhs, rhs) SymPy numbers at 40 digits."""
    for label, a, b in pairs:
        va, vb = sp.N(a, 40), sp.N(b, 40)
        if abs(va - vb) > sp.Float(10) ** (-digits) * max(1, abs(vb)):
            return StepCheck(Verdict.REFUTED, f"{label}: {sp.N(va, 15)} vs {sp.N(vb, 15)}")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        f"agree to {digits} digits at {len(pairs)} points: "
        + ", ".join(p[0] for p in pairs[:4])
        + ("..." if len(pairs) > 4 else ""),
    )


def _rationals(rng: random.Random, k: int, lo: float = -2, hi: float = 2):
    return [sp.Rational(rng.randint(int(lo * 20), int(hi * 20)), 20) for _ in range(k)]


# ----------------------------------------------------------------------------
# The post's four requirements
# ----------------------------------------------------------------------------


def _check_family_consistency(fam) -> StepCheck:
    # F' = f, F(Q(u)) = u, F(-oo) = 0, F(oo) = 1, f >= 0: the table's entries describe one law.
    diff_ok = check_equal(
        sp.diff(fam.cdf, x), fam.pdf, {x: (-3, 3, False)}, simplifier=lambda e: sp.simplify(sp.piecewise_fold(e))
    )
    if diff_ok.verdict == Verdict.REFUTED:
        return StepCheck(Verdict.REFUTED, f"F' != f: {diff_ok.reason}")
    inv = check_equal(fam.cdf.subs(x, fam.quantile), d.u, {d.u: (sp.Rational(1, 50), sp.Rational(49, 50), False)})
    if inv.verdict == Verdict.REFUTED:
        return StepCheck(Verdict.REFUTED, f"F(Q(u)) != u: {inv.reason}")
    lo, hi = _limit_pos(fam.cdf, x, -sp.oo), _limit_pos(fam.cdf, x, sp.oo)
    if (lo, hi) != (0, 1):
        return StepCheck(Verdict.REFUTED, f"F(-oo), F(oo) = {lo}, {hi}")
    if fam.stable_cdf is not None:
        stable = check_equal(fam.stable_cdf, fam.cdf, {x: (-9, 9, False)})
        if stable.verdict == Verdict.REFUTED:
            return StepCheck(Verdict.REFUTED, f"the float-stable CDF differs: {stable.reason}")
    pts = [sp.Rational(k, 7) for k in range(-35, 36)]
    if any(fam.pdf.subs(x, p).evalf(20) < 0 for p in pts):
        return StepCheck(Verdict.REFUTED, "negative density")
    return StepCheck(Verdict.combine([diff_ok.verdict, inv.verdict]), "F' = f, F(Q(u)) = u, F(-oo) = 0, F(oo) = 1")


def sum_to_one() -> Proof:
    """Requirements 1 and 2: p_i >= 0 and the p_i sum to 1, for every family and n."""
    steps = [
        Step(
            "f, F, Q",
            r"\text{one law}",
            "each family's pdf, CDF and quantile agree (F' = f, F(Q(u)) = u, limits 0 and 1, f >= 0)",
            relation=r"\iff",
            check=lambda: _all_families(_check_family_consistency),
        ),
        Step(
            r"f(x-\mu_i)\prod_{j\ne i}F(x-\mu_j)",
            "0",
            "a density times CDF values",
            relation=r"\ge",
            check=lambda: StepCheck(Verdict.PROVED, "f >= 0 and F in [0, 1] (checked per family in step 1)"),
        ),
    ]

    def product_rule(n: int) -> tuple[object, object]:
        mus = sp.symbols(f"mu_1:{n + 1}", real=True)
        return sp.Add(*[_integrand(mus, i) for i in range(n)]), sp.Derivative(sp.Mul(*[F(x - m) for m in mus]), x)

    steps.append(
        Step(
            r"\sum_{i=1}^n f(x-\mu_i)\prod_{j\ne i}F(x-\mu_j)",
            r"\frac{d}{dx} \prod_{j=1}^n F(x - \mu_j)",
            "the integrands sum to the derivative of the product (product rule)",
            simplifier=sp.expand,
            cases=Cases("n", (2, 3, 4, 5), product_rule, lambda n: None),
        )
    )
    steps.append(
        Step(
            r"\sum_i p_i",
            r"\Bigl[\prod_j F(x-\mu_j)\Bigr]_{-\infty}^{\infty} = 1^n - 0^n = 1",
            "integrate the derivative; F(oo) = 1 and F(-oo) = 0 per family (step 1)",
            check=lambda: StepCheck(Verdict.PROVED, "fundamental theorem of calculus with the limits of step 1"),
        )
    )
    return Proof("the law is a probability vector", r"\(p_i \ge 0,\ \sum_i p_i = 1\)", steps)


def shift_invariance() -> Proof:
    """Requirement 4: the law depends on mu only through its differences."""
    mus = (m1, m2, m3)
    steps = [
        Step(
            sp.Subs(_integrand([m + c for m in mus], 0), x, x + c),
            _integrand(mus, 0),
            "substitute x -> x + c in the integral of p_1(mu + c 1), n = 3",
            simplifier=lambda e: sp.simplify(e.doit()),
        ),
        Step(
            d.gumbel_law([m + c for m in mus]),
            d.gumbel_law(mus),
            "softmax is shift invariant (Gumbel)",
        ),
        Step(
            Shown(r"p^{\text{Normal}}(\mu_1 + c, \mu_2 + c)", d.pair_law("normal", [m1 + c, m2 + c])),
            Shown(r"p^{\text{Normal}}(\mu_1, \mu_2)", d.pair_law("normal", [m1, m2])),
            "n = 2: F_D of a difference (Normal)",
        ),
    ]
    return Proof("shift invariance", r"\(p(\mu + c\mathbf 1) = p(\mu)\)", steps)


def _check_order_all_families() -> StepCheck:
    # n = 2: p_1 >= p_2 iff F_D(d) >= 1/2 for d >= 0; also d > 0 gives strict > for full support.
    rng = random.Random(9085)

    def one(fam):
        pairs = []
        for _ in range(POINTS):
            dd = sp.Rational(rng.randint(1, 60), 20)
            p = d.pair_law(fam, [dd, 0])
            diff = sp.N(p[0] - p[1], 30)
            strict = fam.support.sup - fam.support.inf == sp.oo or dd < fam.support.sup - fam.support.inf
            if diff < 0 or (strict and diff <= 0):
                return StepCheck(Verdict.REFUTED, f"d = {dd}: p1 - p2 = {diff}")
            pairs.append(dd)
        return StepCheck(Verdict.CHECKED_NUMERICALLY, f"p1 > p2 at d = {pairs}")

    return _all_families(one)


def _check_order_exact_families() -> StepCheck:
    # n = 3..5, exact laws: Gumbel (softmax), Exponential and Uniform (piecewise polynomials).
    rng = random.Random(85)
    checked = 0
    for name, make in (("gumbel", d.gumbel_law), ("exponential", d.exponential_law), ("uniform", d.uniform_law)):
        for _ in range(6):
            mu = _rationals(rng, rng.randint(3, 5), -1.5, 1.5)
            p = [sp.N(v, 30) for v in make(mu)]
            for i in range(len(mu)):
                for j in range(len(mu)):
                    if mu[i] > mu[j]:
                        strict = d.strict_order_condition(name, mu, i) == sp.true
                        if p[i] < p[j] - sp.Float(1e-28) or (strict and not p[i] > p[j]):
                            return StepCheck(Verdict.REFUTED, f"{name} mu = {mu}: p = {p}")
            checked += 1
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        f"coupling argument; on {checked} random configurations of the exact laws (n = 3..5), "
        "mu_i > mu_j gives p_i >= p_j, strictly exactly when the support condition holds",
    )


def order_preservation() -> Proof:
    """Requirement 3: mu_i >= mu_j implies p_i >= p_j; strictly iff p_i > 0."""
    return Proof(
        "order preservation",
        r"\(\mu_i > \mu_j \Rightarrow p_i \ge p_j,\ \text{strictly iff } \max_k\mu_k - \mu_i < \tau w\)",
        [
            Step(
                r"p_j",
                r"P\bigl(\mu_j + \varepsilon_i > \mu_i + \varepsilon_j,\ \mu_j + \varepsilon_i > \mu_k + \varepsilon_k\bigr)",
                "swap the i.i.d. noises of i and j (the law is unchanged)",
                check=lambda: StepCheck(Verdict.PROVED, "(eps_i, eps_j) and (eps_j, eps_i) have the same law"),
            ),
            Step(
                r"p_j",
                r"p_i",
                "on that event mu_i + eps_i > mu_j + eps_i > mu_i + eps_j > mu_j + eps_j and > every other "
                "score, so class i wins: the event lies inside {argmax = i}",
                relation=r"\le",
                check=_check_order_all_families,
            ),
            Step(
                r"p_i - p_j",
                r"P\bigl(i \text{ wins},\ \varepsilon_j \in [\varepsilon_i - \delta, \varepsilon_i + \delta)\bigr) > 0",
                "delta = mu_i - mu_j > 0; with eps_i near the top b of a support [a, b] on which f > 0 the event "
                "has positive probability iff mu_i + b > mu_k + a for all k, i.e. p_i > 0",
                relation=r"\ge",
                check=_check_order_exact_families,
            ),
        ],
    )


def _check_jacobian_families() -> StepCheck:
    # n = 2: J = F_D'(d) [[1, -1], [-1, 1]] is symmetric iff the density of D is even.
    def one(fam):
        p = d.pair_law(fam, [m1, m2])
        jac = p.jacobian([m1, m2])
        pts = [(sp.Rational(k, 7), sp.Rational(-k, 11)) for k in (1, 3, 8, 13, 20)]
        pairs = []
        for a, b in pts:
            jv = jac.subs({m1: a, m2: b})
            pairs += [(f"J12-J21 at ({a},{b})", jv[0, 1], jv[1, 0]), (f"row sum at ({a},{b})", jv[0, 0] + jv[0, 1], 0)]
        return _numeric_agreement(pairs)

    return _all_families(one)


def _check_integral_jacobian() -> StepCheck:
    pairs = []
    for noise, point in (("logistic", [sp.Rational(1, 3), -1]), ("gumbel", [sp.Rational(1, 2), 0, -1])):
        syms = sp.symbols(f"a0:{len(point)}", real=True)
        closed = d.closed_form_law(noise, syms).jacobian(syms).subs(dict(zip(syms, point)))
        integral = d.integral_jacobian(noise, point)
        pairs += [
            (f"{noise} J[{i},{j}]", integral[i, j], closed[i, j]) for i in range(len(point)) for j in range(len(point))
        ]
    return _numeric_agreement(pairs)


def jacobian_symmetry() -> Proof:
    """dp_i/dmu_l = -int f_i f_l prod F: symmetric, with zero row sums (Williams-Daly-Zachary)."""
    mus = (m1, m2, m3)
    g = _integrand(mus, 0)
    cross = -sp.diff(F(x - m1), x) * sp.diff(F(x - m2), x) * F(x - m3)
    return Proof(
        "the Jacobian is symmetric with zero row sums",
        r"\(J_{il} = J_{li},\ \sum_l J_{il} = 0\)",
        [
            Step(
                sp.Derivative(g, m2),
                cross,
                "differentiate p_1's integrand in mu_2 (n = 3)",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.Derivative(_integrand(mus, 1), m1),
                sp.Derivative(g, m2),
                "the same integrand for dp_2/dmu_1: J is symmetric",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.Derivative(g, m1) + sp.Derivative(g, m2) + sp.Derivative(g, m3),
                -sp.Derivative(g, x),
                "the sum over l of d/dmu_l is -d/dx (shift invariance)",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                r"\sum_l J_{1l}",
                "0",
                "the integral of -d/dx of an integrand vanishing at both ends",
                check=lambda: StepCheck(Verdict.PROVED, "f(x - mu_1) -> 0 as x -> +-oo"),
            ),
            Step(
                Shown(r"J^{\text{Gumbel}}", d.softmax_jacobian([m1, m2, m3])),
                Shown(r"\bigl(J^{\text{Gumbel}}\bigr)^\top", d.softmax_jacobian([m1, m2, m3]).T),
                "Gumbel: diag(p) - pp^T is symmetric",
            ),
            Step(
                "J^{(2)}", "J^{(2)T}", "n = 2, every family: symmetric, rows sum to 0", check=_check_jacobian_families
            ),
            Step(
                r"J^{\mathrm{integral}}",
                r"J^{\mathrm{closed}}",
                "the 1-D integral Jacobian against the derivative of the closed forms (logistic n = 2, Gumbel n = 3)",
                check=_check_integral_jacobian,
            ),
        ],
    )


# ----------------------------------------------------------------------------
# Closed forms
# ----------------------------------------------------------------------------


def gumbel_softmax() -> Proof:
    """Gumbel noise gives softmax, by the substitution u = e^{-x} (n = 3 and n = 4)."""
    steps = []
    u = d.u
    gum = d.FAMILIES["gumbel"]
    for mus in ((m1, m2, m3), (m1, m2, m3, m4)):
        n = len(mus)
        integrand = gum.pdf.subs(x, x - mus[0]) * sp.Mul(*[gum.cdf.subs(x, x - m) for m in mus[1:]])
        s = sp.Add(*[sp.exp(m) for m in mus])
        in_u = sp.exp(mus[0]) * sp.exp(-u * s)
        steps += [
            Step(
                integrand.subs(x, -sp.log(u)) / u,
                in_u,
                f"n = {n}: x = -log u, dx = -du/u; exp(-(x - mu_j)) = u e^(mu_j)",
                simplifier=lambda e: sp.simplify(sp.powsimp(sp.expand_power_exp(sp.expand(e)), force=True)),
            ),
            Step(
                Shown(sp.Integral(in_u, (u, 0, sp.oo)), sp.integrate(in_u, (u, 0, sp.oo), conds="none")),
                sp.exp(mus[0]) / s,
                r"the exponential integral, \(S > 0\)",
            ),
            Step(sp.exp(mus[0]) / s, Shown(r"\operatorname{softmax}(\mu)_1", d.gumbel_law(mus)[0]), "softmax"),
        ]
    steps.append(
        Step(
            d.gumbel_law([m1 / tau, m2 / tau])[0],
            d.pair_law("gumbel", [m1, m2], tau)[0],
            "n = 2: softmax is the sigmoid of the difference; tau scales the noise",
        )
    )
    return Proof("Gumbel-max run backwards", r"\(p = \operatorname{softmax}(\mu/\tau)\)", steps)


def softmax_jacobian() -> Proof:
    """d softmax / d mu = diag(p) - p p^T (n = 3), symmetric, rows summing to 0."""
    p = d.gumbel_law([m1, m2, m3])
    jac = d.softmax_jacobian([m1, m2, m3])
    return Proof(
        "Jacobian of softmax",
        r"\(\partial p / \partial \mu = \operatorname{diag}(p) - p p^\top\)",
        [
            Step(
                Shown(r"\partial \operatorname{softmax}(\mu) / \partial \mu", p.jacobian([m1, m2, m3])),
                jac,
                r"differentiate \(e^{\mu_i}/S\)",
            ),
            Step(jac * sp.Matrix([1, 1, 1]), sp.zeros(3, 1), "rows sum to 0"),
            Step(
                Shown(r"J^{\text{Gumbel}}(\mu)", d.jacobian("gumbel", [m1, m2, m3])),
                jac,
                "derive.jacobian uses the closed form",
            ),
        ],
    )


def _check_limit(expr, var, point, expected) -> StepCheck:
    got = sp.limit(expr, var, point)
    if sp.simplify(got - expected) == 0:
        return StepCheck(Verdict.PROVED, f"sympy.limit gives {got}")
    return StepCheck(Verdict.REFUTED, f"sympy.limit gives {got}, not {expected}")


def temperature_limits() -> Proof:
    """tau -> 0 gives the one-hot argmax, tau -> oo the uniform law (softmax exactly; n = 2 every family)."""
    mu = [1, 3, 2]
    soft = d.gumbel_law(mu, tau)
    steps = [
        Step(
            sp.Limit(soft[k], tau, 0, "+"),
            d.limit_law(mu, "zero")[k],
            f"softmax component {k + 1}, tau -> 0+",
            relation=r"=",
            check=lambda k=k: _check_limit(soft[k], tau, 0, d.limit_law(mu, "zero")[k]),
        )
        for k in range(3)
    ]
    steps += [
        Step(
            sp.Limit(soft[k], tau, sp.oo),
            d.limit_law(mu, "infinity")[k],
            f"softmax component {k + 1}, tau -> oo",
            check=lambda k=k: _check_limit(soft[k], tau, sp.oo, sp.Rational(1, 3)),
        )
        for k in range(3)
    ]

    def pair_limits(fam):
        # p_1 = F_D(delta/tau) with delta > 0: tau -> 0+ sends the argument to +oo, tau -> oo to 0+.
        got = (_limit_pos(fam.pair_cdf, d.d, sp.oo), _limit_pos(fam.pair_cdf, d.d, 0))
        if got != (1, sp.Rational(1, 2)):
            return StepCheck(Verdict.REFUTED, f"limits {got}")
        return StepCheck(Verdict.PROVED, "F_D(+oo) = 1, F_D(0+) = 1/2")

    steps.append(
        Step(
            r"\lim p_1(\delta, 0)",
            r"1,\ \tfrac12",
            "n = 2, every family: p_1 = F_D(delta/tau), delta > 0; tau -> 0+ and tau -> oo",
            check=lambda: _all_families(pair_limits),
        )
    )
    return Proof("temperature limits", r"\(\tau\to0: \text{one-hot};\ \tau\to\infty: 1/n\)", steps)


def _check_pair(fam) -> StepCheck:
    # F_D(delta) = P(argmax of (delta, 0) is 1) = the exact integral of derive.argmax_integrals.
    rng = random.Random(2)
    pairs = []
    for _ in range(POINTS):
        dd = sp.Rational(rng.randint(-50, 50), 17)
        pairs.append((f"d={dd}", d.pair_law(fam, [dd, 0])[0], d.argmax_integrals(fam, [dd, 0])[0]))
    return _numeric_agreement(pairs)


def _check_pair_symmetry(fam) -> StepCheck:
    res = check_equal(
        fam.pair_cdf + fam.pair_cdf.subs(d.d, -d.d),
        1,
        {d.d: (-4, 4, False)},
        simplifier=lambda e: sp.simplify(sp.piecewise_fold(e)),
    )
    lim = _limit_pos(fam.pair_cdf, d.d, sp.oo)
    if lim != 1:
        return StepCheck(Verdict.REFUTED, f"F_D(oo) = {lim}")
    return res


def pair_closed_forms() -> Proof:
    """n = 2: p_1 = F_D(mu_1 - mu_2), D = eps_2 - eps_1, for every family."""
    return Proof(
        "two classes: the CDF of a difference",
        r"\(p_1 = P(\varepsilon_2 - \varepsilon_1 < \mu_1 - \mu_2) = F_D(\mu_1 - \mu_2)\)",
        [
            Step(
                r"F_D(\delta)",
                r"\int f(x) F(x + \delta)\,dx",
                "condition on eps_1 = x",
                check=lambda: _all_families(_check_pair),
            ),
            Step(
                r"F_D(\delta) + F_D(-\delta)",
                "1",
                "D is symmetric (D and -D have the same law); F_D(oo) = 1",
                check=lambda: _all_families(_check_pair_symmetry),
            ),
            Step(
                Shown(r"F_D^{\text{Normal}}(d)", d.FAMILIES["normal"].pair_cdf),
                (1 + sp.erf(d.d / (sp.sqrt(2) * sp.sqrt(2)))) / 2,
                "Normal: D ~ N(0, 2), so F_D(d) = Phi(d / sqrt 2)",
            ),
            Step(
                Shown(
                    r"F_D^{\text{Exp}}(t)", d.FAMILIES["exponential"].pair_cdf.subs(d.d, sp.Symbol("t", positive=True))
                ),
                1 - sp.exp(-sp.Symbol("t", positive=True)) / 2,
                "Exponential: D is Laplace(0, 1)",
            ),
        ],
    )


def exponential_closed_form() -> Proof:
    """Exponential noise, every n: p_i = int_0^{U_i} prod (1 - a_j u) du, exact at rational scores."""
    steps = []
    for mu in ([sp.Rational(1, 2), 0, -1], [sp.Rational(3, 10), 0, sp.Rational(-1, 2), sp.Rational(1, 5)]):
        closed = d.exponential_law(mu)
        integ = d.argmax_integrals("exponential", mu)
        for k in range(len(mu)):
            steps.append(
                Step(
                    Shown(integ[k], integ[k].doit()),
                    closed[k],
                    f"mu = {tuple(mu)}, class {k + 1}: integrate the pieces exactly",
                    simplifier=lambda e: sp.simplify(sp.expand(e)),
                )
            )
    pmath = [
        sp.Rational(347129, 10**6),
        sp.Rational(228310, 10**6),
        sp.Rational(126524, 10**6),
        sp.Rational(298037, 10**6),
    ]
    closed = d.exponential_law([sp.Rational(3, 10), 0, sp.Rational(-1, 2), sp.Rational(1, 5)])
    steps.append(
        Step(
            r"p(0.3, 0, -0.5, 0.2)",
            r"(0.347129, 0.228310, 0.126524, 0.298037)",
            "post 9085, to its 6 digits",
            check=lambda: (
                StepCheck(Verdict.PROVED, "exact values round to the quoted digits")
                if all(abs(sp.N(a - b, 30)) <= sp.Rational(5, 10**7) for a, b in zip(closed, pmath))
                else StepCheck(Verdict.REFUTED, f"exact values {[sp.N(v, 8) for v in closed]}")
            ),
        )
    )
    a1, a2 = sp.symbols("a_1 a_2", positive=True)
    U = sp.Symbol("U", positive=True)
    steps.append(
        Step(
            sp.Integral((1 - a1 * d.u) * (1 - a2 * d.u), (d.u, 0, U)),
            U - (a1 + a2) * U**2 / 2 + a1 * a2 * U**3 / 3,
            "the elementary symmetric sum, n = 3",
        )
    )
    return Proof(
        "Exponential noise: a closed form for every n", r"\(p_i = \sum_k \frac{(-1)^k e_k(a)}{k+1} U_i^{k+1}\)", steps
    )


def _check_uniform_condition() -> StepCheck:
    rng = random.Random(10)
    count = 0
    for _ in range(25):
        mu = _rationals(rng, rng.randint(3, 5), -1.5, 1.5)
        p = d.uniform_law(mu)
        for i in range(len(mu)):
            zero = d.zero_probability_condition("uniform", mu, i) == sp.true
            if (p[i] == 0) != zero:
                return StepCheck(Verdict.REFUTED, f"mu = {mu}, class {i}: p = {p[i]}, condition {zero}")
        count += 1
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        f"argument in the step; exact rational laws of {count} random configurations (n = 3..5) "
        "are zero exactly where the condition says",
    )


def bounded_support_sparsity() -> Proof:
    """Uniform noise: p_i = 0 iff max mu - mu_i >= tau (the support width); the post's requirement 3 fails strictly."""
    p = d.uniform_law([0, 5, 10])
    return Proof(
        "bounded support: sparse laws and the failure of strict order",
        r"\(p_i = 0 \iff \max_k \mu_k - \mu_i \ge \tau (b - a)\)",
        [
            Step(
                Shown(r"p^{U[0,1]}(0, 5, 10)", p),
                sp.Matrix([0, 0, 1]),
                "U[0,1] noise, mu = (0, 5, 10): class 3 wins surely",
            ),
            Step(
                Shown(r"p_1 - p_2", p[0] - p[1]),
                0,
                r"so \(p_1 = p_2\) although \(\mu_1 < \mu_2\): strict order preservation fails",
            ),
            Step(
                r"\{p_i = 0\}",
                r"\{\max_k\mu_k - \mu_i \ge \tau w\}",
                "if mu_k >= mu_i + tau w then mu_k + tau eps_k > mu_k + tau a >= mu_i + tau b > mu_i + tau eps_i a.s.; "
                "otherwise eps_i near b and every eps_k near a happen together with positive probability",
                relation=r"\iff",
                check=_check_uniform_condition,
            ),
            Step(Shown(r"w_{U[0,1]}", d.support_width("uniform")), 1, "the support width of U[0, 1]"),
            Step(
                r"w_{\mathrm{Exp}}",
                r"\infty",
                "half-bounded or full support: no zeros, strict order",
                check=lambda: (
                    StepCheck(Verdict.PROVED, "support_width = oo for every family but uniform")
                    if all((d.support_width(n) == sp.oo) == (n != "uniform") for n in d.FAMILIES)
                    else StepCheck(Verdict.REFUTED, "a support width differs")
                ),
            ),
        ],
    )


def normal_three_orthant() -> Proof:
    """Normal noise, n = 3: p_1 = Phi_2((mu_1-mu_2)/sqrt2, (mu_1-mu_3)/sqrt2; 1/2)."""
    e1, e2, e3 = sp.symbols("e1:4")
    var = {e1: 1, e2: 1, e3: 1}

    def cov(a, b):  # covariance of linear forms in independent unit-variance variables
        return sp.Add(*[a.coeff(v) * b.coeff(v) * var[v] for v in var])

    dd2, dd3 = e2 - e1, e3 - e1
    rho = cov(dd2, dd3) / sp.sqrt(cov(dd2, dd2) * cov(dd3, dd3))
    rng = random.Random(3)
    pairs = []
    for _ in range(3):
        mu = _rationals(rng, 3)
        pairs.append((f"mu={tuple(mu)}", d.normal_three_law(mu)[0], d.argmax_integrals("normal", mu)[0]))
    return Proof(
        "Normal noise with three classes: a bivariate orthant",
        r"\(p_1 = \Phi_2\left(\tfrac{\mu_1-\mu_2}{\sqrt2}, \tfrac{\mu_1-\mu_3}{\sqrt2}; \tfrac12\right)\)",
        [
            Step(
                Shown(r"\operatorname{Var}(\varepsilon_2 - \varepsilon_1)", cov(dd2, dd2)),
                2,
                "independent unit variances add",
            ),
            Step(
                Shown(r"\operatorname{corr}(\varepsilon_2 - \varepsilon_1, \varepsilon_3 - \varepsilon_1)", rho),
                sp.Rational(1, 2),
                "Cov / Var = 1/2",
            ),
            Step(
                Shown(r"\Phi_2(0, 0; \tfrac12)", d.BivariateNormalCDF(0, 0, rho)),
                sp.Rational(1, 3),
                r"Sheppard: \(1/4 + \arcsin(1/2)/(2 \pi) = 1/3\), ties",
            ),
            Step(
                r"\Phi_2(\cdot)",
                r"\int\varphi(x-\mu_1)\Phi(x-\mu_2)\Phi(x-\mu_3)\,dx",
                "the Sheppard-Drezner angle integral against the 1-D integral of the law",
                check=lambda: _numeric_agreement(pairs),
            ),
        ],
    )


_ = mpmath  # mpmath is used through SymPy's evalf of PieceIntegral and BivariateNormalCDF
