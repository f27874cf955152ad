r"""Step-checked derivations for CoSENT as a loss on any scores (post 9341).

Identities are checked by SymPy on small batches with symbolic scores and
ties in the labels (labels (0, 1, 1, 2) unless a step says otherwise).  The
one argument that is not an identity (any strictly increasing label map keeps
the pair set) is checked exactly on random label vectors and maps, and says so.
"""

from __future__ import annotations

import random

import sympy as sp

from closedform.derive import cosent as d
from closedform.derive.expr_parser import as_expr
from closedform.proofs.core import Cases, Proof, Shown, Step, StepCheck, Verdict, check_sign

#: Labels with a tie, used by most proofs; four symbolic scores.
LABELS = (0, 1, 1, 2)
f = sp.symbols(f"f0:{len(LABELS)}", real=True)
lam = sp.Symbol("lambda", positive=True)
c = sp.Symbol("c", real=True)
#: Random label vectors tried by the label-map argument.
LABEL_TRIALS = 2000


def _exp_expand(e: sp.Expr) -> sp.Expr:
    return sp.simplify(sp.powsimp(sp.expand(sp.expand_log(e, force=True)), combine="exp"))


def _indexed_at(expr: sp.Expr, scores, labels) -> sp.Expr:
    """Substitute B, f[i], y[i] (1-based) into an indexed formula and evaluate the sums."""
    B = sp.Symbol("B", integer=True, positive=True)
    out = expr.subs(B, len(scores)).doit()
    rep = {}
    for idx in out.atoms(sp.Indexed):
        q = int(idx.indices[0]) - 1
        rep[idx] = scores[q] if idx.base.label.name == "f" else as_expr(labels[q])
    return out.xreplace(rep).doit()


def shift_invariance() -> Proof:
    """L(f + c 1) = L(f): every exponent is a difference of scores."""
    shifted = [x + c for x in f]
    return Proof(
        "shift invariance",
        r"\(L(f + c\mathbf 1) = L(f)\)",
        [
            Step(
                Shown(r"L(f + c\mathbf 1;\ y)", d.cosent_loss(shifted, LABELS, lam)),
                d.cosent_loss(f, LABELS, lam),
                r"\(f_i + c - (f_j + c) = f_i - f_j\), labels \(y = (0, 1, 1, 2)\)",
            ),
            Step(
                d.cosent_loss_grouped(f, LABELS, lam),
                d.cosent_loss(f, LABELS, lam),
                "grouping the pairs by their upper member (the fast kernel's route)",
                simplifier=_exp_expand,
            ),
            Step(
                Shown(d.cosent_loss_indexed(), _indexed_at(d.cosent_loss_indexed(), f, LABELS)),
                d.cosent_loss(f, LABELS, lam),
                "the general formula with the bracket [y_i < y_j], B = 4",
                simplifier=_exp_expand,
            ),
        ],
    )


def _check_pair_sets() -> StepCheck:
    rng = random.Random(9341)
    maps = (lambda v: 2 * v + 1, lambda v: v**3, lambda v: 2.0**v, lambda v: v / (1 + abs(v)))
    for _ in range(LABEL_TRIALS):
        y = [rng.randint(-3, 3) for _ in range(rng.randint(1, 8))]
        for g in maps:
            if d.violating_pairs(y) != d.violating_pairs([g(v) for v in y]):
                return StepCheck(Verdict.REFUTED, f"labels {y} change their pair set under a monotone map")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        "argument: y_i < y_j iff g(y_i) < g(y_j) for strictly increasing g, so the pair set and hence L "
        f"depend on y only through its order; the pair sets agree on {LABEL_TRIALS} random label vectors "
        "under 4 increasing maps (exact comparisons)",
    )


def label_order_invariance() -> Proof:
    """L depends on the labels only through their order (any strictly increasing map of y)."""
    steps = [
        Step(r"\{(i,j): y_i < y_j\}", r"\{(i,j): g(y_i) < g(y_j)\}", "g strictly increasing", check=_check_pair_sets),
    ]
    maps = {r"e^y": sp.exp, r"y^3": lambda v: v**3, r"2y + 1": lambda v: 2 * v + 1}
    steps.append(
        Step(
            r"L(f;\ g(y))",
            r"L(f;\ y)",
            r"labels \(y = (0, 1, 1, 2)\) under three increasing maps \(g\)",
            cases=Cases(
                "g(y)",
                tuple(maps),
                lambda name: (
                    d.cosent_loss(f, [maps[name](sp.Integer(v)) for v in LABELS], lam),
                    d.cosent_loss(f, LABELS, lam),
                ),
                lambda name: None,
            ),
        )
    )
    return Proof("label-order invariance", r"\(L(f; g(y)) = L(f; y) \text{ for strictly increasing } g\)", steps)


def gradient_sums_to_zero() -> Proof:
    """The gradient formula is the derivative, and its entries sum to 0."""
    grad = d.cosent_gradient(f, LABELS, lam)
    loss = d.cosent_loss(f, LABELS, lam)
    k = sp.Symbol("k", integer=True, positive=True)
    return Proof(
        "CoSENT gradient",
        r"\(\partial L/\partial f_k = \lambda\,(\text{up}_k - \text{down}_k)/e^{L}, \quad \sum_k \partial L/\partial f_k = 0\)",
        [
            Step(
                sp.Matrix([sp.Derivative(loss, x) for x in f]),
                grad,
                "differentiate log(1 + sum)",
                simplifier=sp.simplify,
            ),
            Step(
                sp.Add(*grad),
                0,
                "each pair adds +lambda w to its lower and -lambda w to its upper member",
                simplifier=sp.simplify,
            ),
            Step(
                Shown(d.cosent_gradient_indexed(), _indexed_at(d.cosent_gradient_indexed().subs(k, 2), f, LABELS)),
                grad[1],
                "the general component at k = 2, B = 4",
                simplifier=sp.simplify,
            ),
        ],
    )


def convexity() -> Proof:
    """L is convex in f: its Hessian is lambda^2 times a covariance matrix (labels 0, 1, 2)."""
    y = (0, 1, 2)
    g = sp.symbols("f0:3", real=True)
    v = sp.symbols("v0:3", real=True)
    pairs = d.violating_pairs(y)
    # exponent vectors a_p = e_i - e_j of the pairs, and a_0 = 0 for the "1" inside the log
    vecs = [sp.zeros(3, 1)] + [sp.Matrix([int(q == i) - int(q == j) for q in range(3)]) for i, j in pairs]
    weights = [sp.exp(lam * (a.T * sp.Matrix(g))[0]) for a in vecs]
    Z = sp.Add(*weights)
    mean = sp.Add(*(w * a for w, a in zip(weights, vecs))) / Z
    cov = sp.Add(*(w * a * a.T for w, a in zip(weights, vecs))) / Z - mean * mean.T
    H = sp.hessian(d.cosent_loss(g, y, lam), g)
    vv = sp.Matrix(v)
    # The quadratic-form identity is algebraic in the weights: check it for abstract positive weights.
    w = sp.symbols(f"w0:{len(vecs)}", positive=True)
    Zw = sp.Add(*w)
    mean_w = sp.Add(*(wi * a for wi, a in zip(w, vecs))) / Zw
    cov_w = sp.Add(*(wi * a * a.T for wi, a in zip(w, vecs))) / Zw - mean_w * mean_w.T
    quad = sp.Add(*(wi * ((a - mean_w).T * vv)[0] ** 2 for wi, a in zip(w, vecs))) / Zw
    return Proof(
        "convexity in the scores",
        r"\(\nabla^2 L = \lambda^2\,\mathrm{Cov}_w(a) \succeq 0\)",
        [
            Step(
                H,
                lam**2 * cov,
                "Hessian of log sum_p exp(lambda a_p . f), a_0 = 0 for the 1",
                simplifier=lambda e: e.applyfunc(sp.simplify),
            ),
            Step(
                (vv.T * cov_w * vv)[0],
                quad,
                "v^T Cov_w v = weighted mean of squared deviations (any weights w > 0)",
                simplifier=lambda e: sp.cancel(sp.expand(e)),
            ),
            Step(
                quad,
                "0",
                "positive weights times squares",
                relation=r"\ge",
                check=lambda: check_sign(quad, "nonnegative", "the quadratic form"),
            ),
        ],
    )


def binary_factorisation() -> Proof:
    """For labels in {0, 1} the pair sum factorises."""
    y = (0, 1, 0, 1, 1)
    g = sp.symbols("f0:5", real=True)
    neg = [g[i] for i in range(5) if y[i] == 0]
    pos = [g[i] for i in range(5) if y[i] == 1]
    return Proof(
        "binary labels factorise",
        r"\(L = \log\bigl(1 + \sum_{\text{neg}} e^{\lambda f_i}\sum_{\text{pos}} e^{-\lambda f_j}\bigr)\)",
        [
            Step(
                d.cosent_loss(g, y, lam),
                d.binary_factorised(neg, pos, lam),
                "sum over (neg, pos) pairs of e^{lambda f_i} e^{-lambda f_j} is a product of sums",
                simplifier=_exp_expand,
            )
        ],
    )


def large_lambda_limit() -> Proof:
    """L/lambda -> the largest violation: max(0, max_{y_i<y_j} f_i - f_j)."""
    f1 = [sp.Rational(3, 10), sp.Rational(-1, 2), sp.Rational(4, 5), sp.Rational(1, 10)]  # violations present
    f2 = [sp.Rational(-1), sp.Rational(1, 5), sp.Rational(1, 10), sp.Rational(2)]  # correctly ordered
    M = sp.Symbol("M", nonnegative=True)
    N = sp.Symbol("N", integer=True, positive=True)
    x = sp.Symbol("x", nonnegative=True)  # the sum of e^{lambda (d_p - M)}, between e^{-lambda M}... and N
    return Proof(
        "large-lambda limit",
        r"\(\lim_{\lambda\to\infty} L/\lambda = \max\bigl(0, \max_{y_i<y_j}(f_i - f_j)\bigr)\)",
        [
            Step(
                sp.log(1 + sp.exp(lam * M) * x) - lam * M,
                sp.log(sp.exp(-lam * M) + x),
                "factor e^{lambda M}: M the largest exponent over the pairs and the 0 term",
                simplifier=_exp_expand,
            ),
            Step(
                sp.log(1 + N),
                sp.log(sp.exp(-lam * M) + x),
                "the shifted sum has a term 1 and at most N + 1 terms <= 1, so 0 <= L - lambda M <= log(1 + N)",
                relation=r"\ge",
                check=lambda: StepCheck(
                    Verdict.PROVED,
                    "argument: each of the N + 1 shifted terms lies in (0, 1] and one "
                    "equals 1, so the log of their sum lies in [0, log(N + 1)]",
                ),
            ),
            Step(
                sp.Limit(d.cosent_loss(f1, LABELS, lam) / lam, lam, sp.oo),
                d.max_violation(f1, LABELS),
                "f = (3/10, -1/2, 4/5, 1/10), labels (0, 1, 1, 2)",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.Limit(d.cosent_loss(f2, LABELS, lam), lam, sp.oo),
                0,
                "correctly ordered scores: L itself -> 0",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
        ],
    )


def ties_excluded() -> Proof:
    """Tied labels make no pair; with <= a correctly ordered batch could never reach L = 0."""
    y = (0, 0, 1)
    g = sp.symbols("f0:3", real=True)
    a = sp.Symbol("a", positive=True)
    spread = [0, a / 2, 2 * a]  # both ties below the top, margins growing with a
    with_ties = d.cosent_loss_with_ties(spread, y, 1)
    return Proof(
        "ties are excluded",
        r"\(y_i = y_j \text{ contributes no term; } L \to 0 \text{ is reachable, unlike the } \le \text{ variant}\)",
        [
            Step(
                Shown(r"L\bigl(f;\ (0, 0, 1)\bigr)", d.cosent_loss(g, y, lam)),
                sp.log(1 + sp.exp(lam * (g[0] - g[2])) + sp.exp(lam * (g[1] - g[2]))),
                "labels (0, 0, 1): only the pairs (1, 3) and (2, 3)",
            ),
            Step(
                sp.Limit(d.cosent_loss(spread, y, 1), a, sp.oo),
                0,
                "strict <: margins -> infinity gives L -> 0",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.Limit(with_ties, a, sp.oo),
                sp.oo,
                "<= : the tied pair contributes e^{a/2} + e^{-a/2} and L -> infinity",
                relation=r"=",
                check=lambda: StepCheck(
                    Verdict.PROVED if sp.limit(with_ties, a, sp.oo) == sp.oo else Verdict.REFUTED,
                    "sympy.limit returns oo",
                ),
            ),
            Step(
                Shown(r"L_{\le}\bigl((0, 0, 5);\ (0, 0, 1)\bigr)", d.cosent_loss_with_ties([0, 0, 5], y, 1)),
                sp.log(3 + 2 * sp.exp(-5)),
                "<= even with equal tied scores keeps log(1 + 2) from the tie",
            ),
        ],
    )


def degenerate_batches() -> Proof:
    """All labels equal: L = 0 (no signal); constant scores: L = log(1 + #pairs)."""
    k = sp.Symbol("k", real=True)
    return Proof(
        "degenerate batches",
        r"\(y \text{ constant} \implies L = 0; \quad f \text{ constant} \implies L = \log(1 + \#\{y_i < y_j\})\)",
        [
            Step(
                Shown(r"L\bigl(f;\ (3, 3, 3, 3)\bigr)", d.cosent_loss(f, (3, 3, 3, 3), lam)),
                0,
                r"no pair with \(y_i < y_j\): \(\log(1 + 0)\)",
            ),
            Step(
                Shown(r"L\bigl((k, k, k, k);\ y\bigr)", d.cosent_loss([k] * 4, LABELS, lam)),
                d.constant_score_value(LABELS),
                r"every term is \(e^0 = 1\): 5 pairs",
            ),
        ],
    )


def softmax2_is_sigmoid() -> Proof:
    """A 2-node softmax with cross-entropy is a sigmoid on the logit difference with BCE."""
    z0, z1 = sp.symbols("z0 z1", real=True)
    return Proof(
        "2-class softmax CE = sigmoid BCE",
        r"\(-\log\mathrm{softmax}(z)_y = \mathrm{BCE}(\sigma(z_1 - z_0), y)\)",
        # both sides are real, so A = B iff e^{A - B} = 1: compare the exponentials
        [
            Step(
                d.softmax2_cross_entropy(z0, z1, y),
                d.sigmoid_bce(z1 - z0, y),
                f"label y = {y} (compared through e^(lhs - rhs) = 1)",
                simplifier=lambda e: sp.simplify(sp.exp(e)) - 1,
            )
            for y in (0, 1)
        ],
    )


def table_averages() -> Proof:
    """The post's avg column is the half-up rounded mean of the four tasks (two rows where it matters)."""
    return Proof(
        "table averages",
        r"\(\mathrm{avg} = \mathrm{round}_{1/2\uparrow}\bigl(\tfrac14\sum \text{tasks}, 2\bigr)\)",
        [
            Step(
                Shown(
                    r"\mathrm{round}_{1/2\uparrow}\bigl(\tfrac14(85.38 + 83.57 + 88.10 + 81.45), 2\bigr)",
                    d.mean_half_up(["85.38", "83.57", "88.10", "81.45"]),
                ),
                sp.Rational(8463, 100),
                "BERT+CE accuracy: mean 84.625 rounds half up to 84.63",
            ),
            Step(
                Shown(
                    r"\mathrm{round}_{1/2\uparrow}\bigl(\tfrac14(86.06 + 84.23 + 88.14 + 83.03), 2\bigr)",
                    d.mean_half_up(["86.06", "84.23", "88.14", "83.03"]),
                ),
                sp.Rational(8537, 100),
                "RoBERTa+CoSENT accuracy: mean 85.365 rounds half up to 85.37",
            ),
        ],
    )


ALL = (
    shift_invariance,
    label_order_invariance,
    gradient_sums_to_zero,
    convexity,
    binary_factorisation,
    large_lambda_limit,
    ties_excluded,
    degenerate_batches,
    softmax2_is_sigmoid,
    table_averages,
)
