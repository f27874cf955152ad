"""What a proof shows: no step reads A = A, families are one step, text fits a terminal.

The verdict of a step comes from its evaluated sides; what it *displays* is the
unevaluated claim (an integral, a limit from each side, a named value).  A step
whose two displayed sides are the same expression claims nothing, so every
proof of the registry is scanned for one.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sympy as sp

from closedform.proofs.core import Cases, Proof, Shown, Step, Verdict, check_sign
from closedform.proofs.text import mixed_tex, mixed_unicode, side_latex, to_unicode
from closedform.registry import RESULTS, by_name


def _registry_proofs():
    seen, out = set(), []
    for r in RESULTS:
        for mk in r.proofs:
            if mk not in seen:
                seen.add(mk)
                out.append(mk)
    return out


PROOFS = _registry_proofs()


def _same_display(step: Step) -> bool:
    from closedform.proofs.core import display_of

    a, b = display_of(step.lhs), display_of(step.rhs)
    if isinstance(a, sp.Basic) and isinstance(b, sp.Basic) and a == b:
        return True
    return " ".join(side_latex(step.lhs).split()) == " ".join(side_latex(step.rhs).split())


@pytest.mark.parametrize("make_proof", PROOFS, ids=lambda mk: f"{mk.__module__.rsplit('.', 1)[-1]}.{mk.__name__}")
def test_no_displayed_step_is_a_tautology(make_proof):
    proof = make_proof()
    same = [(i, step.why, side_latex(step.lhs)[:80]) for i, step in enumerate(proof.steps, 1) if _same_display(step)]
    assert not same, f"{proof.title}: steps showing the same expression on both sides: {same}"


def test_the_tautology_scan_can_fail():
    x = sp.Symbol("x")
    assert _same_display(Step(x + 1, x + 1, "copied"))
    assert _same_display(Step(Shown(r"x", x), "x", "named as itself"))
    assert not _same_display(Step(sp.Integral(x, (x, 0, 1)), sp.Rational(1, 2), "evaluated"))


def test_sides_are_shown_unevaluated_and_checked_evaluated():
    x = sp.Symbol("x", positive=True)
    step = Step(sp.Integral(x, (x, 0, 1)), sp.Rational(1, 2), "integrate")
    proof = Proof("t", r"\(\int_0^1 x\,dx = 1/2\)", [step]).check()
    assert proof.verdict is Verdict.PROVED
    assert r"\int" in proof.latex() and "∫" in proof.text(width=80)
    wrong = Proof("t", "s", [Step(sp.Integral(x, (x, 0, 1)), sp.Rational(1, 3), "integrate")]).check()
    assert wrong.verdict is Verdict.REFUTED
    # a side written as LaTeX text has no value: without a check of its own the step is undecided
    text_only = Proof("t", "s", [Step(r"P(A)", r"P(B)", "no checker")]).check()
    assert text_only.verdict is Verdict.UNDECIDED


def test_a_family_is_one_step_with_a_table_and_each_case_is_checked():
    n, x = sp.Symbol("n", integer=True, positive=True), sp.Symbol("x")
    cases = Cases("n", (1, 2, 3, 4), lambda m: (sp.Sum(x, (sp.Symbol("k"), 1, m)), m * x), lambda m: m * x)
    good = Proof("t", "s", [Step(sp.Sum(x, (sp.Symbol("k"), 1, n)), n * x, "n equal terms", cases=cases)]).check()
    assert good.verdict is Verdict.PROVED and len(good.checked_steps) == 1
    assert [c.value for c in good.checked_steps[0].cases] == [1, 2, 3, 4]
    assert r"n = 1, \ldots, 4" in good.latex() and r"\begin{array}" in good.latex()
    bad_cases = Cases("n", (1, 2, 3), lambda m: (m * x, 2 * x))
    bad = Proof("t", "s", [Step(n * x, 2 * x, "wrong except at 2", cases=bad_cases)]).check()
    assert bad.verdict is Verdict.REFUTED
    assert "n = 1: REFUTED" in bad.checked_steps[0].reason
    assert "[refuted]" in bad.text(width=100)


def test_check_sign_is_the_one_sign_checker():
    x = sp.Symbol("x", positive=True)
    assert check_sign(sp.exp(-x), "positive", "e^-x").verdict is Verdict.PROVED
    assert check_sign(sp.Integer(-3), "nonnegative", "-3").verdict is Verdict.REFUTED
    assert check_sign(sp.Integer(0), "positive", "0").verdict is Verdict.REFUTED
    assert check_sign(sp.Integer(0), "nonnegative", "0").verdict is Verdict.PROVED
    # exact numbers are signed by SymPy however small; an unknown sign is undecided, never proved
    assert check_sign(sp.Rational(1, 10**60), "nonzero", "1e-60").verdict is Verdict.PROVED
    assert check_sign(sp.Symbol("y", real=True), "nonzero", "y").verdict is Verdict.UNDECIDED


@pytest.mark.parametrize(
    "tex, text",
    [
        (r"\frac{3 \theta^{2}}{4 \pi^{2}}", "3θ²/(4π²)"),
        (r"\lim_{\theta \to \theta_{k}^-} P_{n}{\left(\theta \right)}", "lim_(θ → θₖ⁻) Pₙ(θ)"),
        (r"\left[\begin{matrix}1 & 2\\3 & 4\end{matrix}\right]", "[1, 2; 3, 4]"),
        (r"\begin{cases} 1 & \text{for}\: x \leq 1 \\ 0 & \text{otherwise} \end{cases}", "{1 for x ≤ 1; 0 otherwise}"),
        (r"\sqrt{1 - \bar{\alpha}^{2}}", "√(1 − α\u0304²)"),
        (r"\binom{n}{k} \ge 0", "C(n, k) ≥ 0"),
    ],
)
def test_latex_reads_as_unicode(tex, text):
    assert to_unicode(tex) == text


def test_statements_mix_text_and_maths():
    s = r"the \(E_i\) are disjoint for \(x \le 1/2\), 50% of the time"
    assert mixed_unicode(s) == "the Eᵢ are disjoint for x ≤ 1/2, 50% of the time"
    assert mixed_tex(s) == r"the \(E_i\) are disjoint for \(x \le 1/2\), 50\% of the time"


SECTOR_WIDTH = 100


def _assert_terminal_text(text: str, width: int) -> None:
    for line in text.splitlines():
        assert len(line) <= width, f"line of {len(line)} columns: {line!r}"
    for raw in (r"\text{", r"\frac", "Matrix([", "\\"):
        assert raw not in text, f"raw {raw!r} in the terminal text"


def test_sector_proofs_read_as_derivations_in_100_columns():
    for mk in by_name("sector").proofs:
        proof = mk().check()
        assert proof.verdict.ok
        _assert_terminal_text(proof.text(width=SECTOR_WIDTH), SECTOR_WIDTH)


def test_the_terminal_check_can_fail():
    with pytest.raises(AssertionError):
        _assert_terminal_text("x" * 101, SECTOR_WIDTH)
    with pytest.raises(AssertionError):
        _assert_terminal_text(r"\text{raw}", SECTOR_WIDTH)


def test_closedform_prove_sector_in_a_100_column_terminal():
    env = {**os.environ, "COLUMNS": str(SECTOR_WIDTH)}
    out = subprocess.run(
        [sys.executable, "-m", "closedform", "prove", "sector"], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    _assert_terminal_text(out.stdout, SECTOR_WIDTH)
    assert "lim_(θ → θₖ⁻) Pₙ(θ) = lim_(θ → θₖ⁺) Pₙ(θ)" in out.stdout


# ----------------------------------------------------------------------------
# The symbolic form shown is the form checked
# ----------------------------------------------------------------------------

#: Results whose printed symbolic form cannot yet be specialised to the checked one, with the reason
#: found by the test below (strict: the mark fails as soon as the two are tied).
DISPLAY_NOT_TIED = {
    "exact_three_class": "the Owen-T display divides by h and k: NaN at the case d1 = d2 = 0, where the checked "
    "form takes the limit",
    "cold_blur_errors": "the display is a trace of matrix symbols A_{t-1}, A_t that are not parameters",
    "hot_posterior_marginal": "the display's variance is written in betabar_{t-1}, which is not a parameter "
    "(it is sqrt(1 - alphabar_{t-1}^2)); nothing substitutes it",
}


def _flat(v):
    if isinstance(v, sp.MatrixBase):
        return list(v)
    if isinstance(v, (list, tuple)):
        return [e for x in v for e in _flat(x)]
    return [v]


def _scalar_cases():
    out = []
    for r in RESULTS:
        if not r.cases or not all(isinstance(v, sp.Expr) for v in r.validate(**r.cases[0]).values()):
            continue  # vector, matrix and token parameters: not covered here (see the module's notes)
        mark = pytest.mark.xfail(strict=True, reason=DISPLAY_NOT_TIED[r.name]) if r.name in DISPLAY_NOT_TIED else ()
        out.append(pytest.param(r, id=r.name, marks=mark))
    return out


@pytest.mark.parametrize("result", _scalar_cases())
def test_displayed_symbolic_form_specialises_to_the_checked_form(result):
    """``closedform latex NAME`` (symbols) at each verify case equals the closed form that is checked.

    A law written in a free index ``k`` (a distribution over k = 0..m) is compared entry by entry.
    """
    shown = result.formula().expr
    for case in result.cases:
        values = result.validate(**case)
        sub = {}
        for p in result.params:
            for s in getattr(shown, "free_symbols", set()):
                if s.name in (p.name, p.symbol().name, getattr(p, "latex", None)):
                    sub[s] = values[p.name]
        checked = _flat(result.closed_form(**values))
        here = [sp.piecewise_fold(e).doit() for e in _flat(shown.xreplace(sub) if sub else shown)]
        left = set().union(*(e.free_symbols for e in here))
        if len(here) == 1 and len(checked) > 1 and len(left) == 1:
            index = left.pop()
            here = [here[0].subs(index, j) for j in range(len(checked))]
        assert len(here) == len(checked), (case, here, checked)
        for a, b in zip(here, checked):
            err = abs(sp.N(a - b, 30))
            assert err.is_number and err < sp.Float("1e-20"), (case, a, b, err)
