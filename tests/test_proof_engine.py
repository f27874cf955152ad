"""The proof engine's verdicts: each of the four can be produced, and None is never success."""

from __future__ import annotations

import sympy as sp

from closedform.proofs.core import Proof, Step, StepCheck, Verdict, check_equal

x = sp.Symbol("x", positive=True)
n = sp.Symbol("n", integer=True, positive=True)


def test_proved():
    assert check_equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1).verdict is Verdict.PROVED


def test_refuted_with_counterexample():
    res = check_equal(sp.sqrt(x**2 + 1), x + 1)
    assert res.verdict is Verdict.REFUTED and "differ" in res.reason


def test_checked_numerically_when_simplify_stalls():
    # simplify cannot close this hypergeometric-looking sum, but it is true (n-th harmonic number)
    k = sp.Symbol("k", integer=True, positive=True)
    lhs = sp.Sum((-1) ** (k - 1) * sp.binomial(n, k) / k, (k, 1, n))
    res = check_equal(lhs, sp.harmonic(n), {n: (1, 25, True)})
    assert res.verdict is Verdict.CHECKED_NUMERICALLY


def test_undecided_when_nothing_evaluates():
    f = sp.Function("f")
    res = check_equal(
        f(x),
        f(x)
        + sp.Integral(f(x), x) * 0
        + sp.Symbol("y") * 0
        + sp.Derivative(f(x), x)
        - sp.Derivative(f(x), x)
        + f(x)
        - f(x)
        + sp.Function("g")(x)
        - sp.Function("g")(x)
        + sp.Function("h")(x),
    )
    assert res.verdict is Verdict.UNDECIDED


def test_equals_none_is_not_success():
    # Expr.equals returns None here; the engine must not call that PROVED.
    e = sp.Function("h")(x)
    assert e.equals(0) is None or e.equals(0) is False
    assert check_equal(e, 0).verdict is Verdict.UNDECIDED


def test_proof_combines_weakest_and_renders():
    p = Proof(
        "t",
        "s",
        [
            Step(x + x, 2 * x, "collect"),
            Step(
                "A",
                "B",
                "an argument",
                relation=r"\iff",
                check=lambda: StepCheck(Verdict.CHECKED_NUMERICALLY, "sampled"),
            ),
        ],
    )
    assert p.verdict is Verdict.CHECKED_NUMERICALLY
    tex = p.latex()
    assert tex.startswith(r"\begin{align*}") and tex.endswith(r"\end{align*}")
    assert "checked numerically" in tex and "&=" in tex
    bad = Proof("t", "s", [Step(x, x + 1, "wrong")])
    assert bad.verdict is Verdict.REFUTED


def test_a_step_checks_its_evaluated_sides_and_shows_them_unevaluated():
    from closedform.proofs.core import Shown

    limit = sp.Limit(sp.sin(x) / x, x, 0, "+")
    p = Proof("t", "s", [Step(limit, 1, "the sine limit")])
    assert p.verdict is Verdict.PROVED and r"\lim" in p.latex()
    named = Proof("t", "s", [Step(Shown(r"P_4(\pi)", sp.Rational(1, 2)), sp.Rational(1, 3), "a wrong value")])
    assert named.verdict is Verdict.REFUTED and "P_4(\\pi)" in named.latex()
