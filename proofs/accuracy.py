r"""Step-checked derivations for EXACT and the toy example of post 9098.

Identities are checked by SymPy.  The steps that are arguments (a sign count,
positivity, agreement of the three-class closed form with its defining
integral) carry their own check and say how it was done.
"""

from __future__ import annotations

import itertools
import random

import mpmath
import sympy as sp

from closedform.derive import accuracy as d
from closedform.proofs.core import Cases, Proof, Shown, Step, StepCheck, Verdict, check_equal, check_sign, value_of

x = d.x_
a, b_, c_ = sp.symbols("a b c", real=True)
h, k_ = sp.symbols("h k", real=True)
sigma = sp.Symbol("sigma", positive=True)
k = sp.Symbol("k", positive=True)
b = sp.Symbol("b", real=True)
t = sp.Symbol("t", positive=True)
theta = sp.Symbol("theta", real=True)
r = sp.Symbol("r", positive=True)
p = sp.Symbol("p", positive=True)
m = sp.Symbol("m", integer=True, positive=True)

#: Random rational points at which the three-class closed form is compared with its integral.
THREE_CLASS_POINTS = 3


def _positive_terms(expr: sp.Expr, reason: str):
    def check() -> StepCheck:
        terms = sp.Add.make_args(sp.expand(expr))
        if all(term.is_positive for term in terms):
            return StepCheck(Verdict.PROVED, f"every term is positive under the symbols' assumptions ({reason})")
        return StepCheck(Verdict.UNDECIDED, "SymPy could not sign every term")

    return check


def _cheap(e):
    # Expanding and cancelling is enough for most steps; full simplify of these erf/exp
    # expressions takes minutes, and the numeric fallback decides the rest.
    return sp.expand(sp.powsimp(sp.expand(e)))


def _same(lhs, rhs, why: str) -> Step:
    """A step between computed sets or tuples: structural equality of exact SymPy objects."""

    def check() -> StepCheck:
        if value_of(lhs) == value_of(rhs):
            return StepCheck(Verdict.PROVED, "the exact objects are identical")
        return StepCheck(Verdict.REFUTED, f"{lhs} != {rhs}")

    return Step(lhs, rhs, why, check=check)


def binary_closed_form() -> Proof:
    """Two classes: the one-dimensional integral equals Φ(Δ/(σ√2))."""
    lhs_gauss = sp.Integral(d.normal_pdf(x - a) * d.normal_pdf(x - b_), (x, -sp.oo, sp.oo))
    rhs = d.normal_cdf((a - b_) / sp.sqrt(2))
    mu1, mu2 = sp.symbols("mu_1 mu_2", real=True)
    return Proof(
        "EXACT, two classes",
        r"\(\int \varphi(x - a)\Phi(x - b)\,dx = \Phi((a - b)/\sqrt2)\), so \(p_y = \Phi(\Delta/(\sigma\sqrt2))\)",
        [
            Step(
                lhs_gauss,
                d.normal_pdf((a - b_) / sp.sqrt(2)) / sp.sqrt(2),
                "d/db of the left side is minus this Gaussian integral (computed by SymPy)",
            ),
            Step(
                sp.Derivative(rhs, b_),
                -d.normal_pdf((a - b_) / sp.sqrt(2)) / sp.sqrt(2),
                "the right side has the same b-derivative",
            ),
            Step(
                sp.Limit(rhs, b_, -sp.oo),
                sp.Integral(d.normal_pdf(x - a), (x, -sp.oo, sp.oo)),
                "both sides tend to 1 as b -> -oo (Phi(x - b) -> 1), so they are equal",
            ),
            Step(
                rhs.subs({a: mu1 / sigma, b_: mu2 / sigma}),
                d.exact_probability([mu1, mu2], sigma, 0),
                "a = mu_y/sigma, b = mu_j/sigma",
            ),
            Step(
                Shown(r"\operatorname{Var}(\varepsilon_y - \varepsilon_j)", d.orthant_covariance(2)),
                sp.Matrix([[2]]),
                r"equivalently \(\varepsilon_y - \varepsilon_j \sim N(0, 2)\)",
            ),
        ],
        domains={a: (-4, 4, False), b_: (-4, 4, False)},
    )


def _three_class_against_integral() -> StepCheck:
    rng = random.Random(9098)
    worst = sp.Integer(0)
    for _ in range(THREE_CLASS_POINTS):
        mu = [sp.Rational(rng.randint(-30, 30), 10) for _ in range(3)]
        s = sp.Rational(rng.randint(3, 20), 10)
        y = rng.randint(0, 2)
        closed = sp.N(d.exact_probability(mu, s, y), 30)
        integral = d.exact_probability_integral(mu, s, y)
        with mpmath.workdps(35):
            # SymPy's own evalf of an infinite-range integral is slow; the same integrand,
            # lambdified to mpmath, split at the logits.
            f = sp.lambdify(x, integral.function, "mpmath")
            cuts = sorted({mpmath.mpf(sp.Rational(v) / s) for v in mu})
            value = mpmath.quad(f, [-mpmath.inf, *cuts, mpmath.inf])
        diff = abs(sp.Float(mpmath.nstr(value, 32), 32) - closed)
        worst = max(worst, diff)
        if diff > sp.Float("1e-25", 30):
            return StepCheck(Verdict.REFUTED, f"mu={mu}, sigma={s}, y={y}: {closed} vs {value}")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        f"Owen-T form and the 1-D integral (mpmath quadrature, 35 digits) differ by at most "
        f"{sp.N(worst, 2)} at {THREE_CLASS_POINTS} random rational (mu, sigma, y)",
    )


def three_class_closed_form() -> Proof:
    """Three classes: a bivariate normal orthant with ρ = 1/2, Owen's T form and its gradient."""
    cov = d.orthant_covariance(3) / 2
    owen = d.three_class_probability(h, k_)
    hp, kp = sp.symbols("h k", positive=True)
    owen_pos = d.three_class_probability(hp, kp)
    grad = d.three_class_margin_gradient(hp, kp)
    z = sp.Symbol("z", real=True)
    rho = sp.Rational(1, 2)
    by_def = sp.Integral(d.normal_pdf(z) * d.normal_cdf((kp - rho * z) / sp.sqrt(1 - rho**2)), (z, -sp.oo, hp))
    return Proof(
        "EXACT, three classes",
        r"\(p_y = \Phi_2(h, k; 1/2), h = d_1/(\sigma\sqrt2), k = d_2/(\sigma\sqrt2)\), in Owen's T",
        [
            Step(
                Shown(r"\operatorname{Cov}\bigl((\varepsilon_y - \varepsilon_j)/\sqrt2\bigr)_{j \ne y}", cov),
                sp.Matrix([[1, rho], [rho, 1]]),
                r"\((\varepsilon_y - \varepsilon_j)/\sqrt2\) has unit variances and correlation 1/2",
            ),
            Step(
                # Leibniz's rule, not a quadrature: the value is diff's, which never evaluates the integral.
                Shown(sp.Derivative(by_def, hp), sp.diff(by_def, hp)),
                grad[0],
                "Phi_2(h, k) = int_{-oo}^h phi(z) Phi((k - rho z)/sqrt(1 - rho^2)) dz: its h-derivative",
            ),
            Step(
                sp.Derivative(owen_pos, hp),
                grad[0],
                "the Owen-T form has the same h-derivative (h, k > 0)",
                simplifier=_cheap,
            ),
            Step(sp.Derivative(owen_pos, kp), grad[1], "and the same k-derivative", simplifier=_cheap),
            Step(
                sp.Subs(owen_pos.subs(kp, hp), hp, 0),
                sp.Rational(1, 4) + sp.asin(sp.Rational(1, 2)) / (2 * sp.pi),
                "at the corner h = k -> 0 (T continuous, T(0, a) = atan(a)/2pi) both are Sheppard's "
                "1/4 + asin(rho)/2pi: equal gradients and a common value, so they agree on h, k > 0",
            ),
            Step(
                Shown(r"\Phi_2(0, 0; \tfrac12)", d.three_class_probability(0, 0)),
                sp.Rational(1, 3),
                "zero margins: 1/3",
            ),
            Step(
                owen,
                r"\int_{-\infty}^{\infty} \varphi(x) \prod_{j \ne y} \Phi\bigl(x + (\mu_y - \mu_j)/\sigma\bigr)\, dx",
                "the Owen-T form against the defining 1-D integral, all sign cases",
                check=_three_class_against_integral,
            ),
        ],
        domains={hp: (0, 3, False), kp: (0, 3, False)},
    )


def gradient_identities() -> Proof:
    """Differentiation under the integral, shift invariance and σ by homogeneity."""
    m_ = sp.symbols("m0:4", real=True)
    integrand = d.exact_integrand(m_, 0)
    f = sp.Function("f")
    mu1, mu2 = sp.symbols("mu_1 mu_2", real=True)
    g2 = d.exact_gradient([mu1, mu2], sigma, 0)
    direct2 = sp.Matrix([sp.Derivative(d.exact_probability([mu1, mu2], sigma, 0), v) for v in (mu1, mu2, sigma)])
    mu3 = sp.symbols("mu_1:4", real=True)
    g3 = d.exact_gradient(list(mu3), sigma, 1)
    p3 = d.exact_probability(list(mu3), sigma, 1)
    return Proof(
        "the gradient of EXACT's probability",
        r"\(\partial p_y/\partial m_j = -\int\varphi_y\varphi_j\prod\Phi, \sum_j \partial_j p_y = 0, "
        r"\partial_\sigma p = -\sigma^{-1}\sum_j \mu_j\partial_{\mu_j} p\)",
        [
            Step(
                sp.Derivative(integrand, m_[2]),
                -d.normal_pdf(x - m_[0]) * d.normal_pdf(x - m_[2]) * d.normal_cdf(x - m_[1]) * d.normal_cdf(x - m_[3]),
                "C = 4: differentiate the integrand in m_2 (dominated convergence allows it under the integral)",
            ),
            Step(
                sum(sp.Derivative(integrand, v) for v in m_),
                -sp.Derivative(integrand, x),
                "sum over j of d/dm_j is -d/dx, whose integral vanishes: shift invariance",
            ),
            Step(
                sp.Derivative(f(mu1 / sigma, mu2 / sigma), sigma),
                -(
                    mu1 * sp.Derivative(f(mu1 / sigma, mu2 / sigma), mu1)
                    + mu2 * sp.Derivative(f(mu1 / sigma, mu2 / sigma), mu2)
                )
                / sigma,
                "p depends on mu/sigma only: Euler's identity for degree-0 homogeneity",
            ),
            Step(
                d.sigma_gradient_from_mu_gradient(
                    [mu1, mu2], sigma, [sp.Derivative(f(mu1 / sigma, mu2 / sigma), v) for v in (mu1, mu2)]
                ),
                sp.Derivative(f(mu1 / sigma, mu2 / sigma), sigma),
                "the sigma-gradient from the mu-gradient",
            ),
            Step(g2, direct2, "C = 2: the gradient formula equals the derivative of Phi(Delta/(sigma sqrt2))"),
            Step(
                g3[0],
                sp.Derivative(p3, mu3[0]),
                "C = 3: d/dmu_1 of the Owen-T closed form (label 2)",
                simplifier=_cheap,
            ),
            Step(g3[3], sp.Derivative(p3, sigma), "C = 3: d/dsigma of the Owen-T closed form", simplifier=_cheap),
        ],
        domains={
            mu1: (-3, 3, False),
            mu2: (-3, 3, False),
            mu3[0]: (-3, 3, False),
            mu3[1]: (-3, 3, False),
            mu3[2]: (-3, 3, False),
            sigma: (sp.Rational(1, 5), 3, False),
        },
    )


def _one_positive_root() -> StepCheck:
    poly = sp.Poly(t**3 - r * t - 2, t)
    signs = [sp.sign(cf) for cf in poly.all_coeffs() if cf != 0]
    changes = sum(1 for u, v in itertools.pairwise(signs) if u != v)
    if changes == 1:
        return StepCheck(Verdict.PROVED, "coefficient signs (+, -, -) with r > 0: one change, so one positive root")
    return StepCheck(Verdict.REFUTED, f"{changes} sign changes")


def toy_ce_optimum() -> Proof:
    """The CE optimum b*(k) of the toy example: stationarity, a cubic in e^{kb}, its trigonometric root."""
    loss = d.toy_ce_loss(k, b)
    c = sp.exp(k / 4)
    station = d.toy_ce_stationarity(k, sp.log(t) / k)
    cubic = d.toy_ce_cubic(k, t)
    rr = 1 + 2 * sp.cosh(k / 4)
    root = 2 * sp.sqrt(r / 3) * sp.cos(theta)
    b_star = d.toy_ce_optimum(k)
    return Proof(
        "the CE optimum of the toy example",
        r"\(b^*(k) = \frac1k\log\Bigl(2\sqrt{r/3}\cos\bigl(\tfrac13\arccos (3/r)^{3/2}\bigr)\Bigr), r = 1 + 2\cosh(k/4)\)",
        [
            Step(sp.Derivative(loss, b) / k, d.toy_ce_stationarity(k, b), "dL/db / k"),
            Step(
                sp.Derivative(loss, b, 2),
                sum(k**2 * sp.exp(-z) / (1 + sp.exp(-z)) ** 2 for z in d.toy_margins(k, b)),
                "d2L/db2 = k^2 sum sigma(z)(1 - sigma(z))",
            ),
            Step(
                sum(k**2 * sp.exp(-z) / (1 + sp.exp(-z)) ** 2 for z in d.toy_margins(k, b)),
                0,
                "positive: L is strictly convex in b, a stationary point is the minimum",
                relation=">",
                check=_positive_terms(
                    sum(k**2 * sp.exp(-z) / (1 + sp.exp(-z)) ** 2 for z in d.toy_margins(k, b)), "k > 0, exp > 0"
                ),
            ),
            Step(
                sp.expand(station * (t + c) * (1 + c * t) * (1 + t)),
                cubic,
                "t = e^{kb}, c = e^{k/4}: clear the denominators (t + c)(1 + ct)(1 + t) > 0",
            ),
            Step(
                sp.expand(cubic / c),
                t**3 - rr * t - 2,
                "divide by c: r = c + 1 + 1/c = 1 + 2 cosh(k/4)",
                simplifier=lambda e: sp.simplify(e.rewrite(sp.exp)),
            ),
            Step(
                r"t^3 - r t - 2",
                r"\text{one positive root}",
                "Descartes' rule of signs",
                relation=r"\to",
                check=_one_positive_root,
            ),
            Step(
                sp.expand(root**3 - r * root - 2),
                2 * (r / 3) ** sp.Rational(3, 2) * sp.cos(3 * theta) - 2,
                "t = 2 sqrt(r/3) cos(theta): triple-angle formula 4cos^3 - 3cos = cos 3theta",
                simplifier=lambda e: sp.simplify(sp.expand_trig(e)),
            ),
            Step(
                sp.Subs(
                    2 * (r / 3) ** sp.Rational(3, 2) * sp.cos(3 * theta) - 2,
                    theta,
                    sp.acos((3 / r) ** sp.Rational(3, 2)) / 3,
                ),
                0,
                "cos 3theta = (3/r)^{3/2} <= 1 (r >= 3): theta in [0, pi/6], cos theta > 0, the positive root",
            ),
            Step(
                b_star,
                sp.log(root.subs(theta, sp.acos((3 / r) ** sp.Rational(3, 2)) / 3).subs(r, rr)) / k,
                "b* = log(t*)/k",
            ),
            Step(
                sp.Limit(sp.Function("b^*")(k), k, sp.oo),
                sp.Rational(1, 8),
                "large scale: the max-margin midpoint 1/8",
                simplifier=lambda e: sp.simplify(e.subs(sp.Function("b^*")(k), b_star).doit()),
            ),
        ],
        domains={k: (sp.Rational(1, 10), 40, False), r: (3, 20, False), theta: (0, 1, False), b: (-1, 1, False)},
    )


def toy_ce_scale_threshold() -> Proof:
    """b*(k) < 1/4 iff k > 4 log c*, c* the real root of c³ - c² - c - 3."""
    cc = sp.Symbol("c", positive=True)
    g = cc**3 - cc**2 - cc - 3
    kstar = d.toy_ce_scale_threshold()
    return Proof(
        "scale threshold of the CE optimum",
        r"\(b^*(k) \in (0, 1/4) \iff k > 4\log c^*, \; c^{*3} - c^{*2} - c^* - 3 = 0\)",
        [
            Step(
                sp.expand(d.toy_ce_cubic(k, t).subs(sp.exp(k / 4), cc).subs(t, cc)),
                cc * g,
                "the cubic at t = c (i.e. b = 1/4); it is -2c < 0 at t = 0, so b* < 1/4 iff this is > 0",
            ),
            Step(
                sp.discriminant(g, cc),
                0,
                "negative discriminant: g has exactly one real root c*",
                relation="<",
                check=lambda: check_sign(sp.discriminant(g, cc), "negative", "the discriminant"),
            ),
            Step(
                Shown(r"g_k(t)\big|_{t = 1,\ e^{k/4} = c}", d.toy_ce_cubic(k, 1).subs(sp.exp(k / 4), cc)),
                -(cc**2 + 2 * cc + 1),
                "t = 1 (b = 0): negative, so b* > 0",
                simplifier=sp.expand,
            ),
            Step(
                d.toy_ce_optimum(kstar),
                sp.Rational(1, 4),
                "at k* the optimum sits on the edge b = 1/4",
                simplifier=lambda e: e,
            ),
        ],
        domains={cc: (1, 5, False)},
    )


def toy_hinge_and_accuracy() -> Proof:
    """The hinge argmin [3/4, 1], zero hinge loss first at k = 8, b = 1/8; accuracy 1 exactly on (0, 1/4)."""
    value, where = d.toy_hinge_argmin(1)
    kz, bz = d.toy_hinge_zero_loss_scale()
    return Proof(
        "hinge loss and accuracy on the toy example",
        r"\(\arg\min_b \text{hinge} = [3/4, 1]; \text{hinge} = 0 \text{ first at } k = 8, b = 1/8; \text{acc} = 1 \iff b \in (0, 1/4)\)",
        [
            Step(sp.Subs(d.toy_hinge_loss(1, b), b, 0), sp.Rational(5, 2), r"\(L(b) = 5/2 - b\) on \([-3/4, 3/4]\)"),
            Step(
                r"L(b)\big|_{b \in [3/4, 1]}",
                sp.Rational(7, 4),
                r"\(L = 7/4\) on \([3/4, 1]\)",
                cases=Cases(
                    "b",
                    (sp.Rational(3, 4), sp.Rational(7, 8), sp.Integer(1)),
                    lambda v: (d.toy_hinge_loss(1, v), sp.Rational(7, 4)),
                    lambda v: None,
                ),
            ),
            _same(
                Shown(r"\bigl(\min_b L, \arg\min_b L\bigr)", sp.Tuple(value, where)),
                sp.Tuple(sp.Rational(7, 4), sp.Interval(sp.Rational(3, 4), 1)),
                "convex piecewise linear: minimum over the kinks, flat piece [3/4, 1]",
            ),
            _same(
                Shown(r"\bigl(\min\{k : \min_b L_k = 0\}, b\bigr)", sp.Tuple(kz, bz)),
                sp.Tuple(8, sp.Rational(1, 8)),
                r"\(\max_b \min(b, 1/4 - b) = 1/8\) at \(b = 1/8\)",
            ),
            Step(Shown(r"L_8(1/8)", d.toy_hinge_loss(8, sp.Rational(1, 8))), 0, "zero loss at k = 8, b = 1/8"),
            _same(
                Shown(r"\bigl(\min_b L_8, \arg\min_b L_8\bigr)", d.piecewise_linear_argmin(d.toy_hinge_loss(8, b), b)),
                (0, sp.FiniteSet(sp.Rational(1, 8))),
                "at k = 8 the zero loss is attained at b = 1/8 only",
            ),
            Step(
                Shown(r"\min_b L_{7.9}(b)", d.toy_hinge_argmin(sp.Rational(79, 10))[0]),
                sp.Rational(1, 40),
                "k = 7.9: the best loss is 0.025 > 0",
            ),
            _same(
                Shown(r"\{b : \operatorname{acc}(b) = 1\}", d.toy_perfect_accuracy_set()),
                sp.Interval.open(0, sp.Rational(1, 4)),
                "accuracy 1 iff b > -1/4, b > 0 and b < 1/4",
            ),
            Step(
                Shown(
                    r"\bigl(\operatorname{acc}(-\tfrac12), \operatorname{acc}(-\tfrac18), \operatorname{acc}(\tfrac18), \operatorname{acc}(\tfrac12)\bigr)",
                    sp.Matrix(
                        [
                            d.toy_accuracy(v)
                            for v in (sp.Rational(-1, 2), sp.Rational(-1, 8), sp.Rational(1, 8), sp.Rational(1, 2))
                        ]
                    ),
                ),
                sp.Matrix([sp.Rational(1, 3), sp.Rational(2, 3), 1, sp.Rational(2, 3)]),
                "accuracy on each piece: 1/3, 2/3, 1, 2/3",
            ),
        ],
    )


def toy_exact_optimum() -> Proof:
    """EXACT's optimum b*(σ) = 8σ² asinh(e^{1/(64σ²)}/2), unique, → 1/8 as σ → 0; σ* where it crosses 1/4."""
    acc = d.toy_exact_accuracy(b, sigma)
    u = sp.exp(-b / (8 * sigma**2))
    av = sp.exp(1 / (64 * sigma**2))
    uu, aa = sp.symbols("u a", positive=True)
    factor = -d.normal_pdf((sp.Rational(1, 4) - b) / (sigma * sp.sqrt(2))) / (3 * sigma * sp.sqrt(2))
    w = sp.Symbol("w", positive=True)
    s_star = d.toy_exact_failure_scale()
    return Proof(
        "EXACT's optimum on the toy example",
        r"\(b^*(\sigma) = 8\sigma^2\operatorname{asinh}(e^{1/(64\sigma^2)}/2)\)",
        [
            Step(
                sp.Derivative(acc, b) / factor,
                1 - u**2 - av * u,
                "A'(b) = -(phi(z_3)/(3 sigma sqrt2)) (1 - u^2 - a u), u = e^{-b/8sigma^2}, a = e^{1/64sigma^2}",
                simplifier=lambda e: sp.simplify(sp.powsimp(sp.expand(e))),
            ),
            Step(
                Shown(r"\max\{u : u^2 + a u - 1 = 0\}", sp.solve(uu**2 + aa * uu - 1, uu)[-1]),
                (sp.sqrt(aa**2 + 4) - aa) / 2,
                "the positive root in u",
            ),
            Step(
                -8 * sigma**2 * sp.log((sp.sqrt(aa**2 + 4) - aa) / 2),
                8 * sigma**2 * sp.asinh(aa / 2),
                "b = -8 sigma^2 log u",
                simplifier=lambda e: sp.simplify(sp.expand_log(e.rewrite(sp.log), force=True)),
            ),
            Step(
                sp.Derivative(uu**2 + aa * uu - 1, uu),
                2 * uu + aa,
                "u^2 + a u - 1 rises with u, u falls with b: A' > 0 before b*, < 0 after; the maximum is global",
            ),
            Step(
                sp.Limit(sp.Function("b^*")(sigma), sigma, 0, "+"),
                sp.Rational(1, 8),
                r"\(\sigma \to 0\): \(b^* \to 1/8\)",
                simplifier=lambda e: sp.simplify(e.subs(sp.Function("b^*")(sigma), d.toy_exact_optimum(sigma)).doit()),
            ),
            Step(
                sp.sinh(2 * sp.log(w)),
                (w**2 - w**-2) / 2,
                "b* = 1/4 iff asinh(w/2) = 2 log w with w = e^{1/(64 sigma^2)}, i.e. w/2 = sinh(2 log w)",
                simplifier=lambda e: sp.simplify(e.rewrite(sp.exp)),
            ),
            Step(
                sp.Mul(w**2 - w**-2 - w, w**2, evaluate=False),
                w**4 - w**3 - 1,
                r"times \(w^2\): the quartic of \(\sigma^*\)",
                simplifier=sp.expand,
            ),
            Step(d.toy_exact_optimum(s_star), sp.Rational(1, 4), "at sigma* = 1/(8 sqrt(log w*)) the optimum is 1/4"),
        ],
        domains={
            b: (-1, 1, False),
            sigma: (sp.Rational(1, 10), 2, False),
            uu: (0, 3, False),
            aa: (1, 3, False),
            w: (1, 3, False),
        },
    )


def ce_as_smooth_accuracy() -> Proof:
    """-log p = Σ (1-p)^m/m ≥ 1 - p, and CE's gradient is the smooth-accuracy gradient times 1/p."""
    theta_ = sp.Symbol("theta", real=True)
    pf = sp.Function("p")(theta_)
    series = sp.Sum((1 - p) ** m / m, (m, 1, sp.oo))
    tail = sp.Sum((1 - p) ** m / m, (m, 2, sp.oo))
    return Proof(
        "cross-entropy as reweighted smooth accuracy",
        r"\(-\log p = \sum_{m\ge1} (1-p)^m/m \ge 1 - p;\; \partial(-\log p) = \tfrac1p\,\partial(1 - p)\)",
        [
            Step(
                series.doit(),
                -sp.log(p),
                "the Mercator series of log(1 - q) at q = 1 - p, 0 < p <= 1",
                simplifier=lambda e: sp.simplify(sp.piecewise_fold(e).subs(sp.Abs(p - 1) <= 1, True)),
            ),
            Step(Shown(sp.Subs(series.function, m, 1), d.neg_log_series(p, 1)), 1 - p, "the first term"),
            Step(
                tail,
                0,
                "the other terms are >= 0 for 0 < p <= 1, so -log p >= 1 - p, equal to first order at p = 1",
                relation=r"\ge",
                check=lambda: StepCheck(
                    Verdict.PROVED
                    if ((1 - p) ** m / m).subs(p, 1 - sp.Symbol("q", nonnegative=True)).is_nonnegative
                    else Verdict.UNDECIDED,
                    "each term q^m/m with q = 1 - p in [0, 1) is non-negative (SymPy, from the assumptions)",
                ),
            ),
            Step(
                sp.Derivative(-sp.log(pf), theta_),
                d.ce_gradient_weight(pf) * sp.Derivative(1 - pf, theta_),
                "chain rule: the CE gradient is the (1 - p) gradient reweighted by 1/p",
            ),
            Step(Shown(r"w_{\text{CE}}(p)", d.ce_gradient_weight(p)), 1 / p, "the weight"),
        ],
        domains={p: (sp.Rational(1, 100), 1, False)},
    )


def exact_losses() -> Proof:
    """EXACT's two data-set losses, their gradients in p, and what the margin does."""
    p1, p2, p3 = sp.symbols("p1:4", positive=True)
    ps = [p1, p2, p3]
    dd, rr = sp.symbols("d r", real=True)
    mu = sp.symbols("mu0:3", real=True)
    return Proof(
        "EXACT's losses and margin",
        r"\(1 - \bar p, \; -\log \bar p, \; d_j \to \min(d_j, r)\)",
        [
            Step(
                Shown(r"\ell_{\text{err}}(p)", d.expected_error(ps)),
                1 - (p1 + p2 + p3) / 3,
                "expected error: one minus the mean accuracy",
            ),
            Step(sp.Derivative(d.expected_error(ps), p1), -sp.Rational(1, 3), "every sample weighs -1/B"),
            Step(
                Shown(r"\ell_{\log}(p)", d.log_mean_loss(ps)),
                -sp.log((p1 + p2 + p3) / 3),
                "the variant: log outside the data-set mean",
            ),
            Step(
                sp.Derivative(d.log_mean_loss(ps), p1),
                -1 / (3 * (p1 + p2 + p3) / 3),
                "every sample weighs -1/(B mean p): one common factor, unlike CE's per-sample 1/p_b",
            ),
            Step(
                Shown(r"\bigl(d_1^{(r)}, d_2^{(r)}\bigr)", sp.Matrix(d.clipped_margins(mu, 0, rr))),
                sp.Matrix([sp.Min(mu[0] - mu[1], rr), sp.Min(mu[0] - mu[2], rr)]),
                "the margin clips d_j = mu_y - mu_j at r",
            ),
            Step(
                sp.Derivative(sp.Min(dd, rr), dd),
                sp.Heaviside(rr - dd),
                "a clipped margin (d_j > r) carries no gradient",
                simplifier=lambda e: sp.simplify(e.rewrite(sp.Heaviside)),
            ),
        ],
        domains={dd: (-3, 3, False), rr: (-3, 3, False)},
    )


ALL = (
    binary_closed_form,
    three_class_closed_form,
    gradient_identities,
    toy_ce_optimum,
    toy_ce_scale_threshold,
    toy_hinge_and_accuracy,
    toy_exact_optimum,
    ce_as_smooth_accuracy,
    exact_losses,
)

__all__ = [f.__name__ for f in ALL] + ["check_equal"]
