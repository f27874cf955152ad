r"""Step-checked derivations for ZLPR and the n m-class losses (posts 7359, 9064, 9158).

Identities are checked by SymPy on concrete sizes with symbolic scores and
labels (n = 3 labels; n = 2 tasks of m = 3 classes for the index-by-index
gradient check).  Inequalities are reduced to a quantity SymPy's assumption
system can certify as nonnegative (``is_nonnegative is True``), which counts
as PROVED; anything it cannot decide is UNDECIDED, never success.
"""

from __future__ import annotations

import itertools

import sympy as sp

from closedform.derive import multiclass as d
from closedform.proofs.core import Cases, Proof, Shown, Step, StepCheck, Verdict, check_sign

#: Labels in the ZLPR proofs; tasks and classes in the n m-class proofs.
N_LABELS = 3
N_TASKS, M_CLASSES = 2, 3

s = sp.symbols(f"s0:{N_LABELS}", real=True)
t = sp.symbols(f"t0:{N_LABELS}", nonnegative=True)
u = sp.symbols(f"u0:{N_LABELS}", nonnegative=True)  # stands for 1 - t_i (also >= 0)
lam = sp.Symbol("lambda", positive=True)
r = sp.Symbol("r", positive=True)


def _score_matrix(n: int, m: int) -> sp.Matrix:
    return sp.Matrix(n, m, lambda i, j: sp.Symbol(f"s{i}{j}", real=True))


def _label_matrix(n: int, m: int) -> sp.Matrix:
    return sp.Matrix(n, m, lambda i, j: sp.Symbol(f"t{i}{j}", nonnegative=True))


def _indexed_to_symbols(expr: sp.Expr, n: int, m: int | None = None) -> sp.Expr:
    """Substitute the symbolic sizes and replace s[i], t[i] (1-based) by the concrete symbols."""
    nn, mm = sp.Symbol("n", integer=True, positive=True), sp.Symbol("m", integer=True, positive=True)
    sub = {nn: n} if m is None else {nn: n, mm: m}
    out = expr.subs(sub).doit()
    rep = {}
    for idx in out.atoms(sp.Indexed):
        base = idx.base.label.name
        if m is None:
            rep[idx] = (
                sp.Symbol(f"{base}{idx.indices[0] - 1}", real=True)
                if base == "s"
                else (sp.Symbol(f"{base}{idx.indices[0] - 1}", nonnegative=True))
            )
        else:
            name = f"{base}{idx.indices[0] - 1}{idx.indices[1] - 1}"
            rep[idx] = sp.Symbol(name, real=True) if base == "s" else sp.Symbol(name, nonnegative=True)
    return out.xreplace(rep)


# ---------------------------------------------------------------------------
# ZLPR
# ---------------------------------------------------------------------------


def zlpr_nonnegative() -> Proof:
    """Both ZLPR forms are >= 0, and -> 0 as every margin grows."""
    x_pos = sp.Add(*(ti * sp.exp(-si) for si, ti in zip(s, t)))
    x_neg = sp.Add(*(ui * sp.exp(si) for si, ui in zip(s, u)))
    soft = d.zlpr_soft_loss(s, t).subs({1 - ti: ui for ti, ui in zip(t, u)})
    hard = d.zlpr_hard_loss([lam * s[0], -lam * s[1], -lam * s[2]], [1, 0, 0]).subs(
        {s[0]: 1, s[1]: sp.Rational(1, 2), s[2]: 2}
    )
    return Proof(
        "ZLPR is nonnegative",
        r"\(\ell \ge 0, \text{ with } \ell \to 0 \text{ as the margins grow}\)",
        [
            Step(
                Shown(r"\ell_{\text{soft}}(s, t)\big|_{1 - t_i = u_i}", soft),
                sp.log(1 + x_pos) + sp.log(1 + x_neg),
                r"the soft loss, with \(u_i = 1 - t_i \ge 0\)",
            ),
            Step(
                x_pos,
                "0",
                "t_i >= 0 and e^{-s_i} > 0",
                relation=r"\ge",
                check=lambda: check_sign(x_pos, "nonnegative", "sum t_i e^{-s_i}"),
            ),
            Step(
                sp.log(1 + x_pos) + sp.log(1 + x_neg),
                "0",
                "log(1 + x) >= 0 for x >= 0",
                relation=r"\ge",
                check=lambda: check_sign(sp.log(1 + x_pos) + sp.log(1 + x_neg), "nonnegative", "the loss"),
            ),
            Step(
                sp.Limit(hard, lam, sp.oo),
                0,
                "hard labels (pos = {0}), scores lambda*(1, -1/2, -2): every term decays",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
        ],
    )


def zlpr_threshold_zero() -> Proof:
    """The virtual class of score 0: positives should beat 0, negatives lose to it; sigma(2s) > 1/2 iff s > 0."""
    sv = sp.Symbol("s", real=True)
    s0 = sp.Symbol("s_0", real=True)  # the virtual class
    pos = [1, 0, 0]
    concrete = [sp.Rational(3, 2), sp.Rational(1, 2), -1]
    scaled = d.zlpr_hard_loss([lam * c for c in concrete], pos)
    neg_part = sp.log(sp.exp(s0) + sp.exp(s[1]) + sp.exp(s[2])) - s0
    return Proof(
        "ZLPR's threshold is 0",
        r"\(\text{predict label } i \iff s_i > 0 \iff \sigma(2 s_i) > 1/2\)",
        [
            Step(
                sp.Subs(neg_part, s0, 0),
                sp.log(1 + sp.exp(s[1]) + sp.exp(s[2])),
                "negatives' term = softmax cross-entropy of a class of score s_0 = 0 against them",
            ),
            Step(
                Shown(r"\ell_{\text{hard}}(s, t)\big|_{t = (1, 0, 0)}", d.zlpr_hard_loss(s, pos)),
                sp.Subs(neg_part, s0, 0) + sp.log(1 + sp.exp(-s[0])),
                "the hard loss is that term plus the positives' term against s_0 = 0",
            ),
            Step(
                sp.Limit(scaled / lam, lam, sp.oo),
                sp.Max(0, *(concrete[i] for i in (1, 2))) + sp.Max(0, -concrete[0]),
                "L(lambda s)/lambda -> max(0, max_neg s) + max(0, max_pos -s): zero iff negatives <= 0 <= positives",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                sp.ConditionSet(sv, d.zlpr_probability(sv) > sp.Rational(1, 2), sp.Reals),
                sp.Interval.open(0, sp.oo),
                "sigma(2s) > 1/2 exactly for s > 0",
                check=lambda: StepCheck(
                    Verdict.PROVED
                    if sp.solve_univariate_inequality(d.zlpr_probability(sv) > sp.Rational(1, 2), sv, relational=False)
                    == sp.Interval.open(0, sp.oo)
                    else Verdict.REFUTED,
                    "solve_univariate_inequality returns (0, oo)",
                ),
            ),
        ],
    )


def _soft_opt_steps() -> list[Step]:
    grad = d.zlpr_soft_gradient(s, t)
    loss = d.zlpr_soft_loss(s, t)
    A = 1 + sp.Add(*(ti * sp.exp(-si) for si, ti in zip(s, t)))
    Bd = 1 + sp.Add(*((1 - ti) * sp.exp(si) for si, ti in zip(s, t)))
    v = sp.symbols(f"v0:{N_LABELS}", positive=True)
    A_r = 1 + r * sp.Add(*v)  # u_i = r v_i for all i
    B_r = 1 + sp.Add(*v)
    at_opt = {ti: d.zlpr_probability(si) for si, ti in zip(s, t)}
    x = sp.Symbol("x", real=True)
    single = d.zlpr_soft_gradient([x], [1 / (1 + sp.exp(-x))])[0].subs(x, 1)
    return [
        Step(
            sp.Matrix([sp.Derivative(loss, si) for si in s]), grad, "differentiate the two logs", simplifier=sp.cancel
        ),
        Step(
            grad[0] * A * Bd,
            -t[0] * sp.exp(-s[0]) * Bd + (1 - t[0]) * sp.exp(s[0]) * A,
            "stationarity <=> u_i B = v_i A with u_i = t_i e^{-s_i}, v_i = (1-t_i) e^{s_i}",
            simplifier=lambda e: sp.expand(sp.cancel(e)),
        ),
        Step(
            A_r - r * B_r,
            1 - r,
            "if u_i = r v_i for every i, then A - r B = 1 - r, so A = r B forces r = 1",
            simplifier=sp.expand,
        ),
        Step(
            sp.solve(sp.Eq(t[0] * sp.exp(-s[0]), (1 - t[0]) * sp.exp(s[0])), t[0])[0],
            d.zlpr_probability(s[0]),
            "u_i = v_i solved for t_i: t_i = sigma(2 s_i)",
        ),
        Step(
            grad.subs(at_opt),
            sp.zeros(N_LABELS, 1),
            "the gradient vanishes at t = sigma(2s)",
            simplifier=lambda e: e.applyfunc(sp.simplify),
        ),
        Step(
            d.zlpr_optimal_logits(t).subs({ti: d.zlpr_probability(si) for si, ti in zip(s, t)}),
            sp.Matrix(s),
            "s* = logit(t)/2 inverts sigma(2s)",
            simplifier=lambda e: e.applyfunc(lambda q: sp.simplify(sp.expand_log(sp.simplify(q), force=True))),
        ),
        Step(
            single,
            "0",
            "n = 1 at t = sigma(s), s = 1: the BCE calibration is not ZLPR's optimum",
            relation=r"\ne",
            check=lambda: check_sign(single, "nonzero", "dl/ds"),
        ),
    ]


def zlpr_soft_optimum() -> Proof:
    """The soft loss is stationary exactly at t_i = sigma(2 s_i) (convex, so that is the minimum)."""
    return Proof(
        "soft ZLPR optimum",
        r"\(\nabla_s \ell = 0 \iff t_i = \sigma(2 s_i) \text{ for all } i \quad (\text{not } \sigma(s_i))\)",
        _soft_opt_steps(),
    )


def zlpr_hard_is_soft_at_binary_labels() -> Proof:
    """At t in {0, 1}^n the soft form is the hard form (every pattern of n = 3 labels)."""
    patterns = tuple(itertools.product((0, 1), repeat=N_LABELS))
    steps = [
        Step(
            r"\ell_{\text{soft}}(s, t)",
            r"\ell_{\text{hard}}(s, t)",
            r"every pattern \(t \in \{0, 1\}^3\): \(\log(1 + \sum_i t_i e^{-s_i})\) keeps exactly the positives",
            cases=Cases("t", patterns, lambda p: (d.zlpr_soft_loss(s, p), d.zlpr_hard_loss(s, p)), lambda p: None),
        )
    ]
    steps.append(
        Step(
            Shown(d.zlpr_soft_loss_indexed(), _indexed_to_symbols(d.zlpr_soft_loss_indexed(), N_LABELS)),
            d.zlpr_soft_loss(s, t),
            "the general formula with n = 3",
        )
    )
    y = sp.symbols(f"y0:{N_LABELS}", nonnegative=True)
    hard_ix = _indexed_to_symbols(d.zlpr_hard_loss_indexed(), N_LABELS)
    steps.append(
        Step(
            Shown(d.zlpr_hard_loss_indexed(), hard_ix.subs(dict(zip(y, (1, 0, 1))))),
            d.zlpr_hard_loss(s, (1, 0, 1)),
            "the indicator form with y = (1, 0, 1)",
        )
    )
    steps.append(
        Step(
            Shown(
                d.zlpr_soft_gradient_indexed(),
                _indexed_to_symbols(
                    d.zlpr_soft_gradient_indexed().subs(sp.Symbol("j", integer=True, positive=True), 2), N_LABELS
                ),
            ),
            d.zlpr_soft_gradient(s, t)[1],
            "the general gradient, component j = 2, n = 3",
        )
    )
    return Proof(
        "hard = soft on binary labels",
        r"\(\ell_{\text{soft}}(s, t) = \ell_{\text{hard}}(s, t) \text{ for } t \in \{0,1\}^n\)",
        steps,
    )


def zlpr_truncates_bce() -> Proof:
    """The soft loss is the summed BCE with prod (1 + x_i)^{t_i} truncated at first order."""
    eps = sp.Symbol("epsilon", positive=True)
    prod_pos = sp.Mul(*((1 + eps * sp.exp(-si)) ** ti for si, ti in zip(s, t)))
    prod_neg = sp.Mul(*((1 + eps * sp.exp(si)) ** (1 - ti) for si, ti in zip(s, t)))

    def first_order(e: sp.Expr) -> sp.Expr:
        return sp.series(e, eps, 0, 2).removeO().subs(eps, 1)

    return Proof(
        "ZLPR from BCE",
        r"\(\sum_i \mathrm{BCE}(s_i, t_i) = \log\prod_i(1 + e^{-s_i})^{t_i}(1 + e^{s_i})^{1-t_i}"
        r"\text{; first order in the products gives } \ell_{\text{soft}}\)",
        [
            Step(
                d.binary_cross_entropy(s, t),
                sp.log(prod_pos.subs(eps, 1)) + sp.log(prod_neg.subs(eps, 1)),
                "-log sigma(s) = log(1 + e^{-s}); a sum of logs is the log of the product",
                simplifier=lambda e: sp.expand_log(e, force=True),
            ),
            Step(
                Shown(
                    r"\log\bigl[\prod_i (1 + e^{-s_i})^{t_i}\bigr]_{\le 1} + \log\bigl[\prod_i (1 + e^{s_i})^{1 - t_i}\bigr]_{\le 1}",
                    sp.log(first_order(prod_pos)) + sp.log(first_order(prod_neg)),
                ),
                d.zlpr_soft_loss(s, t),
                "keep the terms of order <= 1 in each product: 1 + sum_i t_i e^{-s_i} and 1 + sum_i (1-t_i) e^{s_i}",
                simplifier=lambda e: sp.simplify(sp.expand(e)),
            ),
        ],
    )


# ---------------------------------------------------------------------------
# n tasks of m classes
# ---------------------------------------------------------------------------


def nm_cross_entropy_rewrite() -> Proof:
    """The first two lines of post 9158's attempt 1 are exact equalities."""
    S, T = _score_matrix(N_TASKS, M_CLASSES), _label_matrix(N_TASKS, M_CLASSES)
    n, m = S.shape
    line1 = sp.Add(
        *(
            T[i, j] * sp.log(1 + sp.Add(*(sp.exp(S[i, k] - S[i, j]) for k in range(m) if k != j)))
            for i in range(n)
            for j in range(m)
        )
    )
    line2 = sp.Add(
        *(
            sp.log(
                sp.Mul(
                    *(
                        (1 + sp.Add(*(sp.exp(S[i, k] - S[i, j]) for k in range(m) if k != j))) ** T[i, j]
                        for i in range(n)
                    )
                )
            )
            for j in range(m)
        )
    )
    force = lambda e: sp.simplify(sp.expand_log(sp.expand(e), force=True))
    return Proof(
        "cross-entropy rewritten",
        r"\(-\sum_{ij} t_{ij}\log\mathrm{softmax}_j = \sum_j \log\prod_i\bigl(1 + \sum_{k\ne j} e^{s_{ik}-s_{ij}}\bigr)^{t_{ij}}\)",
        [
            Step(
                d.nm_cross_entropy(S, T),
                line1,
                "-log(e^a / sum_k e^{s_k}) = log(1 + sum_{k != j} e^{s_k - a})",
                simplifier=force,
            ),
            Step(line1, line2, "sum over i of t log(.) = log of the product of powers", simplifier=force),
            Step(
                _indexed_to_symbols(d.nm_cross_entropy_indexed(), n, m),
                d.nm_cross_entropy(S, T),
                "the general formula at n = 2, m = 3",
                simplifier=force,
            ),
        ],
    )


def nm_loss1_printed_gradient() -> Proof:
    """Post 9158's printed gradient of loss-1, index by index (n = 2, m = 3), i in the denominators read as i'."""
    S, T = _score_matrix(N_TASKS, M_CLASSES), _label_matrix(N_TASKS, M_CLASSES)
    loss = d.nm_loss1(S, T)
    printed = d.nm_loss1_gradient_printed(S, T)
    steps = []
    for i in range(N_TASKS):
        for j in range(M_CLASSES):
            steps.append(
                Step(
                    sp.diff(loss, S[i, j]),
                    printed[i, j],
                    f"d loss-1 / d s_{{{i + 1}{j + 1}}} as printed",
                    simplifier=lambda e: sp.cancel(sp.powsimp(sp.expand(e))),
                )
            )
    steps.append(
        Step(
            d.nm_loss1_gradient(S, T),
            printed,
            "the derived form (D_j notation) is the printed one",
            simplifier=lambda e: e.applyfunc(lambda q: sp.cancel(sp.powsimp(sp.expand(q)))),
        )
    )
    ix, jx = sp.symbols("i j", integer=True, positive=True)
    general = _indexed_to_symbols(d.nm_loss1_gradient_indexed().subs({ix: 2, jx: 3}), N_TASKS, M_CLASSES)
    steps.append(
        Step(
            general,
            printed[1, 2],
            "the general printed formula at i = 2, j = 3",
            simplifier=lambda e: sp.cancel(sp.powsimp(sp.expand(e))),
        )
    )
    steps.append(
        Step(
            _indexed_to_symbols(d.nm_loss1_indexed(), N_TASKS, M_CLASSES),
            loss,
            "the general loss-1 at n = 2, m = 3",
            simplifier=lambda e: sp.simplify(sp.powsimp(sp.expand(e))),
        )
    )
    return Proof("loss-1 gradient as printed", r"\(\partial\ell_1/\partial s_{ij} \text{ (post 9158)}\)", steps)


def nm_loss3_softmax_stationary() -> Proof:
    """Loss-3's gradient vanishes at t = softmax(s): the loss-2 argument with f = s - mean(s)."""
    S, T = _score_matrix(N_TASKS, M_CLASSES), _label_matrix(N_TASKS, M_CLASSES)
    n, m = S.shape
    loss = d.nm_loss3(S, T)
    grad = d.nm_loss3_gradient(S, T)
    P = d.row_softmax(S)
    at_softmax = {T[i, j]: P[i, j] for i in range(n) for j in range(m)}
    f_centred = lambda M, i, j: M[i, j] - sp.Add(*M.row(i)) / M.cols
    Z0 = sp.Add(*(sp.exp(f_centred(S, 0, k)) for k in range(m)))
    T_opt = sp.Matrix(
        [
            [sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 6)],
            [sp.Rational(1, 5), sp.Rational(3, 5), sp.Rational(1, 5)],
        ]
    )
    s_opt = d.nm_loss3_optimal_logits(T_opt)
    ix, kx = sp.symbols("i k", integer=True, positive=True)
    return Proof(
        "loss-3 is stationary at softmax",
        r"\(t_{ij} = \mathrm{softmax}_j(s_{ij}) \implies \nabla_s \ell_3 = 0\)",
        [
            Step(
                Shown(r"\ell_2(S, T; f)\big|_{f(s_{ij}) = s_{ij} - \bar s_i}", d.nm_loss2(S, T, f_centred)),
                Shown(r"\ell_3(S, T)", loss),
                r"loss-3 is loss-2 with \(f(s_{ij}) = s_{ij} - \frac1m \sum_k s_{ik}\)",
            ),
            Step(
                sp.Matrix(n, m, lambda i, j: sp.Derivative(loss, S[i, j])),
                grad,
                "differentiate",
                simplifier=lambda e: e.applyfunc(sp.simplify),
            ),
            Step(
                Shown(r"\sum_j f(s_{1j})", sp.Add(*(f_centred(S, 0, j) for j in range(m)))),
                0,
                r"\(\sum_j f(s_{ij}) = 0\): constant, so its gradient is 0",
            ),
            Step(
                T[0, 0] * sp.exp(-f_centred(S, 0, 0)),
                1 / Z0,
                "with t_ij = e^{f(s_ij)}/Z_i every t e^{-f} is 1/Z_i, the same for every j",
                simplifier=lambda e: sp.simplify(e.subs(T[0, 0], sp.exp(f_centred(S, 0, 0)) / Z0)),
            ),
            Step(
                grad.subs(at_softmax),
                sp.zeros(n, m),
                "at t = softmax(s) every gradient entry is 0",
                simplifier=lambda e: e.applyfunc(sp.simplify),
            ),
            Step(
                Shown(r"\operatorname{softmax}\bigl(\log T - \overline{\log T}\bigr)", d.row_softmax(s_opt)),
                T_opt,
                "the centred optimum log t - mean log t has softmax t",
                simplifier=lambda e: e.applyfunc(lambda q: sp.nsimplify(sp.simplify(q))),
            ),
            Step(
                Shown(r"\nabla_S \ell_3(S^*, T)", d.nm_loss3_gradient(s_opt, T_opt)),
                sp.zeros(n, m),
                "and the gradient vanishes there (T rational)",
                simplifier=lambda e: e.applyfunc(lambda q: sp.simplify(sp.expand_log(q, force=True))),
            ),
            Step(
                Shown(
                    d.nm_loss3_gradient_indexed(),
                    _indexed_to_symbols(d.nm_loss3_gradient_indexed().subs({ix: 1, kx: 2}), n, m),
                ),
                grad[0, 1],
                "the general gradient at i = 1, k = 2",
                simplifier=sp.simplify,
            ),
            Step(
                Shown(d.nm_loss3_indexed(), _indexed_to_symbols(d.nm_loss3_indexed(), n, m)),
                loss,
                "the general loss-3 at n = 2, m = 3",
                simplifier=sp.simplify,
            ),
        ],
    )


def nm_m2_reductions() -> Proof:
    """m = 2: loss-1 is soft ZLPR of s1 - s2; loss-3 only of (s1 - s2)/2 (post's claim holds up to a factor 2)."""
    n = 3
    S = _score_matrix(n, 2)
    tv = sp.symbols(f"t0:{n}", nonnegative=True)
    T = sp.Matrix([[ti, 1 - ti] for ti in tv])
    diff = [S[i, 0] - S[i, 1] for i in range(n)]
    expand = lambda e: sp.simplify(sp.powsimp(sp.expand(e)))
    S1 = sp.Matrix([[1, 0]])
    T1 = sp.Matrix([[sp.Rational(1, 2), sp.Rational(1, 2)]])
    gap = d.nm_loss3(S1, T1) - d.zlpr_soft_loss([1], [sp.Rational(1, 2)])
    x = sp.Symbol("x", real=True)
    tt = sp.Symbol("t", positive=True)
    return Proof(
        "m = 2 reductions",
        r"\(\ell_1(S, T) = \ell_{\text{ZLPR}}(s_1 - s_2, t), \quad \ell_3(S, T) = \ell_{\text{ZLPR}}((s_1 - s_2)/2, t)\)",
        [
            Step(
                Shown(r"\ell_1(S, T)", d.nm_loss1(S, T)),
                d.zlpr_soft_loss(diff, tv),
                "loss-1, n = 3 tasks of 2 classes",
                simplifier=expand,
            ),
            Step(
                Shown(r"\ell_3(S, T)", d.nm_loss3(S, T)),
                d.zlpr_soft_loss([q / 2 for q in diff], tv),
                "loss-3: the centred logit is half the gap",
                simplifier=expand,
            ),
            Step(
                gap,
                "0",
                "so loss-3 is not ZLPR of the full gap: n = 1, s = (1, 0), t = 1/2",
                relation=r"\ne",
                check=lambda: check_sign(gap, "nonzero", "loss-3 - ZLPR(s1 - s2)"),
            ),
            Step(
                sp.solve(sp.Eq(d.zlpr_soft_gradient([x], [tt])[0], 0), tt)[0],
                d.zlpr_probability(x),
                "loss-1's optimum: t = sigma(2(s1 - s2))",
                simplifier=sp.simplify,
            ),
            Step(
                sp.solve(sp.Eq(d.zlpr_soft_gradient([x / 2], [tt])[0], 0), tt)[0],
                1 / (1 + sp.exp(-x)),
                "loss-3's optimum: t = sigma(s1 - s2) = softmax",
                simplifier=sp.simplify,
            ),
        ],
    )


def nm_loss1_below_cross_entropy() -> Proof:
    """Hard labels: loss-1 <= CE (prod(1 + a_i) >= 1 + sum a_i); one task: loss-1 = CE."""
    a = sp.symbols("a0:4", nonnegative=True)
    gap = sp.expand(sp.Mul(*(1 + ai for ai in a)) - 1 - sp.Add(*a))
    S = _score_matrix(1, 3)
    T = sp.Matrix([[0, 1, 0]])
    S2 = _score_matrix(3, 3)
    T2 = sp.Matrix([[1, 0, 0], [1, 0, 0], [0, 0, 1]])
    ce_minus_l1 = d.nm_cross_entropy(S2, T2) - d.nm_loss1(S2, T2)
    a0 = sp.exp(S2[0, 1] - S2[0, 0]) + sp.exp(S2[0, 2] - S2[0, 0])
    a1 = sp.exp(S2[1, 1] - S2[1, 0]) + sp.exp(S2[1, 2] - S2[1, 0])
    force = lambda e: sp.simplify(sp.expand_log(sp.expand(e), force=True))
    return Proof(
        "loss-1 below cross-entropy",
        r"\(t \text{ one-hot} \implies \ell_1 \le \ell_{CE}, \text{ with equality for } n = 1\)",
        [
            Step(
                gap,
                "0",
                "prod(1 + a_i) - 1 - sum a_i is a polynomial with positive coefficients in a_i >= 0",
                relation=r"\ge",
                check=lambda: check_sign(gap, "nonnegative", "prod(1+a_i) - 1 - sum a_i"),
            ),
            Step(
                ce_minus_l1,
                sp.log((1 + a0) * (1 + a1)) - sp.log(1 + a0 + a1),
                "tasks 1, 2 in class 1: the class-1 terms differ by log prod - log(1 + sum)",
                simplifier=force,
            ),
            Step(d.nm_loss1(S, T), d.nm_cross_entropy(S, T), "n = 1: nothing is dropped", simplifier=force),
        ],
    )


def nm_loss3_pathology() -> Proof:
    """s = (10, 20, -30), target class 1: loss-3 = log(1 + e^-10) although class 2 has the top score."""
    S = sp.Matrix([[10, 20, -30]])
    T = sp.Matrix([[1, 0, 0]])
    return Proof(
        "loss-3 on hard labels",
        r"\(\ell_3 \approx 4.5\cdot10^{-5} \text{ with the target logit not the largest; } \ell_1 \approx 10\)",
        [
            Step(
                Shown(r"\ell_3\bigl((10, 20, -30), (1, 0, 0)\bigr)", d.nm_loss3(S, T)),
                sp.log(1 + sp.exp(-10)),
                r"mean score 0, target score 10: only \(e^{-10}\) remains",
            ),
            Step(
                Shown(r"\ell_1\bigl((10, 20, -30), (1, 0, 0)\bigr)", d.nm_loss1(S, T)),
                sp.log(1 + sp.exp(10) + sp.exp(-40)),
                "loss-1 sees the larger score 20",
            ),
            Step(
                S[0, 1] - S[0, 0],
                "0",
                "the target logit is not the largest",
                relation=">",
                check=lambda: check_sign(S[0, 1] - S[0, 0], "positive", "s_2 - s_1"),
            ),
        ],
    )


ALL = (
    zlpr_nonnegative,
    zlpr_threshold_zero,
    zlpr_soft_optimum,
    zlpr_hard_is_soft_at_binary_labels,
    zlpr_truncates_bce,
    nm_cross_entropy_rewrite,
    nm_loss1_printed_gradient,
    nm_loss3_softmax_stationary,
    nm_m2_reductions,
    nm_loss1_below_cross_entropy,
    nm_loss3_pathology,
)
