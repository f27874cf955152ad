r"""The proof machinery: steps, verdicts and their LaTeX rendering.

A :class:`Proof` is a chain of :class:`Step` objects.  Each equality step
``lhs = rhs`` is checked on its own:

* **PROVED** when SymPy reduces ``lhs - rhs`` to exactly 0;
* **REFUTED** when an evaluation at 50 significant digits, at some random
  rational point of the stated domains, shows a difference;
* **CHECKED_NUMERICALLY** when no symbolic route reached 0 but every random
  rational point agrees to 40 digits;
* **UNDECIDED** when neither happened (no point could be evaluated).

``Expr.equals`` returning ``None`` is never taken as success.  A step whose
content is an argument rather than an identity carries its own ``check``
callable that returns a verdict and a reason; the sign checks
(:func:`check_sign`) are the one library such callables share.

A step *shows* what it claims: its two sides are kept unevaluated for display
(``Limit(..., '-')``, ``Integral``, ``Sum``, ``Subs``, a named function value
through :class:`Shown`), and the verdict comes from the evaluated comparison.
A family of concrete cases (``n = 2..8``) is one step with its symbolic
statement and a table of the cases (:class:`Cases`).  Statements and
justifications are text with inline maths in ``\\(...\\)``; they render as
maths in LaTeX and HTML and as Unicode in a terminal (:mod:`.text`).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from closedform.derive.expr_parser import as_expr

#: Digits used to evaluate both sides when symbolic simplification stalls.
NUMERIC_DIGITS = 50
#: Two sides count as equal numerically when they agree to this many digits.
AGREE_DIGITS = 40
#: Random rational points tried per step.
NUMERIC_POINTS = 12


class Verdict(enum.Enum):
    """The outcome of checking one step or a whole proof."""

    PROVED = "PROVED"
    CHECKED_NUMERICALLY = "CHECKED_NUMERICALLY"
    UNDECIDED = "UNDECIDED"
    REFUTED = "REFUTED"

    @property
    def ok(self) -> bool:
        """True for the verdicts a proof may rest on."""
        return self in (Verdict.PROVED, Verdict.CHECKED_NUMERICALLY)

    @staticmethod
    def combine(verdicts: Sequence[Verdict]) -> Verdict:
        """The weakest verdict of a chain: REFUTED < UNDECIDED < CHECKED_NUMERICALLY < PROVED."""
        order = [Verdict.REFUTED, Verdict.UNDECIDED, Verdict.CHECKED_NUMERICALLY, Verdict.PROVED]
        return min(verdicts, key=order.index) if verdicts else Verdict.UNDECIDED


#: A domain for a free symbol: (low, high) bounds for random rationals, and
#: whether the symbol is an integer.  Bounds are inclusive for integers.
Domain = tuple[object, object, bool]


@dataclass(frozen=True)
class StepCheck:
    verdict: Verdict
    reason: str


def _sample_point(symbols: Sequence[sp.Symbol], domains: Mapping[sp.Symbol, Domain], rng: random.Random):
    point = {}
    for s in symbols:
        if s in domains:
            lo, hi, integer = domains[s]
        elif s.is_integer and s.is_positive:
            lo, hi, integer = 1, 12, True
        elif s.is_positive:
            lo, hi, integer = 0, 5, False
        else:
            lo, hi, integer = -5, 5, False
        if integer:
            point[s] = sp.Integer(rng.randint(int(lo), int(hi)))
        else:
            lo_f, hi_f = Fraction(str(sp.Rational(lo))), Fraction(str(sp.Rational(hi)))
            t = Fraction(rng.randint(1, 997), 998)
            v = lo_f + (hi_f - lo_f) * t
            point[s] = sp.Rational(v.numerator, v.denominator)
    return point


def check_equal(
    lhs: sp.Expr,
    rhs: sp.Expr,
    domains: Mapping[sp.Symbol, Domain] | None = None,
    seed: int = 0,
    simplifier: Callable[[sp.Expr], sp.Expr] | None = None,
) -> StepCheck:
    """Check ``lhs = rhs`` symbolically, then numerically at random rational points.

    >>> x = sp.Symbol("x", positive=True)
    >>> check_equal(sp.exp(sp.log(x)), x).verdict
    <Verdict.PROVED: 'PROVED'>
    >>> check_equal(x**2, x).verdict
    <Verdict.REFUTED: 'REFUTED'>
    """
    domains = dict(domains or {})
    diff = as_expr(lhs) - as_expr(rhs)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        diff = sp.Matrix(lhs) - sp.Matrix(rhs)
    try:
        reduced = (simplifier or sp.simplify)(diff)
    except Exception as exc:  # a simplifier crash is not a proof either way
        reduced = diff
        note = f"simplify raised {type(exc).__name__}; "
    else:
        note = ""
    is_zero = reduced.is_zero_matrix if isinstance(reduced, sp.MatrixBase) else reduced == 0
    if is_zero:
        return StepCheck(Verdict.PROVED, "difference simplifies to 0")
    # Numeric evaluation: REFUTED on a real difference, else CHECKED_NUMERICALLY.
    if not isinstance(reduced, sp.MatrixBase) and reduced.is_number and reduced.is_zero is False:
        return StepCheck(Verdict.REFUTED, f"{note}the difference simplifies to the nonzero constant {sp.sstr(reduced)}")
    free = set().union(*(as_expr(e).free_symbols for e in (lhs, rhs)))
    symbols = sorted(free, key=lambda s: s.name)
    rng = random.Random(seed)
    agreed = 0
    for _ in range(NUMERIC_POINTS):
        point = _sample_point(symbols, domains, rng)
        try:
            a = sp.N(
                as_expr(lhs).subs(point) if not isinstance(lhs, sp.MatrixBase) else lhs.subs(point), NUMERIC_DIGITS
            )
            b = sp.N(
                as_expr(rhs).subs(point) if not isinstance(rhs, sp.MatrixBase) else rhs.subs(point), NUMERIC_DIGITS
            )
            pairs = zip(sp.Matrix(a), sp.Matrix(b)) if isinstance(a, sp.MatrixBase) else [(a, b)]
            for u, v in pairs:
                if not (u.is_number and v.is_number) or u.has(sp.nan, sp.zoo) or v.has(sp.nan, sp.zoo):
                    raise ValueError("not a finite number")
                scale = max(abs(u), abs(v), sp.Integer(1))
                if abs(u - v) > scale * sp.Rational(1, 10**AGREE_DIGITS):
                    return StepCheck(
                        Verdict.REFUTED,
                        f"{note}sides differ at {point}: {sp.N(u, 15)} vs {sp.N(v, 15)}",
                    )
        except (ValueError, TypeError, ZeroDivisionError):
            continue
        agreed += 1
    if agreed == 0:
        return StepCheck(Verdict.UNDECIDED, f"{note}simplify left {sp.sstr(reduced)[:80]}; no point evaluated")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        f"{note}no symbolic reduction to 0; agrees to {AGREE_DIGITS} digits at {agreed} random rational points",
    )


def check_sign(expr: object, sign: str, what: str) -> StepCheck:
    """Whether ``expr`` is ``"nonzero"``, ``"positive"``, ``"negative"`` or ``"nonnegative"``.

    PROVED when SymPy's assumptions certify it, or when ``expr`` is a closed-form
    number whose 50-digit evaluation is at least 1e-40 away from the boundary (evalf
    tracks its error, so such a value has the stated sign); REFUTED when the
    assumptions or the evaluation show the opposite; UNDECIDED otherwise (never
    success by default).

    >>> x = sp.Symbol("x", positive=True)
    >>> check_sign(x + 1, "positive", "x + 1").verdict
    <Verdict.PROVED: 'PROVED'>
    >>> check_sign(sp.pi - sp.Rational(355, 113), "nonzero", "pi - 355/113").verdict
    <Verdict.PROVED: 'PROVED'>
    >>> check_sign(sp.Integer(0), "nonzero", "0").verdict
    <Verdict.REFUTED: 'REFUTED'>
    >>> check_sign(sp.Symbol("y", real=True), "nonnegative", "y").verdict
    <Verdict.UNDECIDED: 'UNDECIDED'>
    """
    e = as_expr(expr)
    query, proved, refuted = _SIGNS[sign]
    certified = query(e)
    if certified is True:
        return StepCheck(Verdict.PROVED, f"SymPy's assumptions certify that {what} is {sign}")
    if certified is False and e.free_symbols:
        return StepCheck(Verdict.REFUTED, f"SymPy's assumptions show that {what} is not always {sign}")
    if e.is_number:
        if e.is_zero:
            verdict = Verdict.PROVED if sign == "nonnegative" else Verdict.REFUTED
            return StepCheck(verdict, f"{what} is exactly 0")
        value = sp.N(e, NUMERIC_DIGITS)
        if value.is_number and value.is_real:
            tiny = sp.Rational(1, 10**AGREE_DIGITS)
            if proved(value, tiny):
                return StepCheck(Verdict.PROVED, f"{what} = {sp.N(value, 12)} at {NUMERIC_DIGITS} digits")
            if refuted(value, tiny):
                return StepCheck(Verdict.REFUTED, f"{what} = {sp.N(value, 12)} is not {sign}")
        return StepCheck(Verdict.UNDECIDED, f"{what} evaluates to {sp.N(value, 12)}: too close to 0 to sign")
    return StepCheck(Verdict.UNDECIDED, f"SymPy could not decide whether {what} is {sign}")


#: sign -> (assumption query, "value v clearly has the sign", "v clearly has not"), v beyond +-t.
_SIGNS: dict[str, tuple[Callable[[sp.Expr], object], Callable[..., bool], Callable[..., bool]]] = {
    "nonzero": (lambda e: e.is_nonzero if e.is_real else None, lambda v, t: abs(v) > t, lambda v, t: False),
    "positive": (lambda e: e.is_positive, lambda v, t: v > t, lambda v, t: v < -t),
    "negative": (lambda e: e.is_negative, lambda v, t: v < -t, lambda v, t: v > t),
    "nonnegative": (lambda e: e.is_nonnegative, lambda v, t: v > t, lambda v, t: v < -t),
}


@dataclass(frozen=True)
class Shown:
    r"""A side of a step shown as ``display`` and checked as ``value``.

    ``display`` is a SymPy expression (kept unevaluated) or LaTeX source; use it
    to name what a value is (``P_4(\pi)``, ``\ell_{\mathrm{soft}}(s, t)|_{t=(0,1,1)}``)
    when the expression that computes it would print as its value.

    >>> Shown(r"P_4(\pi)", sp.Rational(1, 2)).value
    1/2
    """

    display: object
    value: object


def _latex_of(x: object) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, (tuple, list)):
        return r"\left(" + ", ".join(_latex_of(v) for v in x) + r"\right)"
    return sp.latex(as_expr(x))


def display_of(side: object) -> object:
    """What a side shows: the display of a :class:`Shown`, else the side itself."""
    return side.display if isinstance(side, Shown) else side


def value_of(side: object) -> object:
    """What a side is checked as: a :class:`Shown`'s value, else the side with its integrals,
    sums, limits and substitutions carried out (``doit``); LaTeX text has no value (None)."""
    if isinstance(side, Shown):
        return side.value
    if isinstance(side, str):
        return None
    if isinstance(side, sp.Basic) or isinstance(side, sp.MatrixBase):
        return side.doit()
    return as_expr(side)


@dataclass(frozen=True)
class Cases:
    r"""A family of concrete cases checked as one step.

    Parameters
    ----------
    label : str
        LaTeX of what varies (``"n"``, ``"(n, x)"``).
    values : sequence
        The cases.
    sides : callable
        ``sides(value) -> (lhs, rhs)``: the concrete sides checked for that case
        (each may be a :class:`Shown`, an unevaluated expression or a value).
    shown : callable, optional
        ``shown(value) -> expression``: the table's entry for that case (by
        default the evaluated left side, when short).
    """

    label: str
    values: Sequence[object]
    sides: Callable[[object], tuple[object, object]]
    shown: Callable[[object], object] | None = None

    def span(self) -> str:
        """The cases as LaTeX: ``n = 2, \\ldots, 8`` for a run of integers, else a list."""
        vals = list(self.values)
        ints = all(isinstance(v, int) for v in vals)
        if ints and len(vals) > 3 and vals == list(range(vals[0], vals[0] + len(vals))):
            return rf"{self.label} = {vals[0]}, \ldots, {vals[-1]}"
        return rf"{self.label} \in \{{" + ", ".join(_latex_of(v) for v in vals) + r"\}"


@dataclass(frozen=True)
class CaseResult:
    value: object
    verdict: Verdict
    reason: str
    shown: object = None


@dataclass(frozen=True)
class Step:
    r"""One step of a derivation.

    Parameters
    ----------
    lhs, rhs : SymPy expression, :class:`Shown` or LaTeX str
        The two sides, shown as given (unevaluated); the step claims
        ``lhs = rhs``, checked on their evaluated values, unless ``check`` is given.
    why : str
        The justification: text with inline maths in ``\(...\)``.
    relation : str
        The LaTeX relation printed between the sides (``=``, ``\le``, ``\iff``).
    check : callable, optional
        A custom checker returning :class:`StepCheck`, for steps that are
        arguments (inequalities, limits, reductions between events).
    simplifier : callable, optional
        A targeted simplifier (``expand``, ``factor``, ...) when ``simplify`` is too slow.
    value : SymPy expression, optional
        The evaluated value, shown after the right side (``= 1/2``).
    cases : Cases, optional
        A family: ``lhs`` and ``rhs`` are the symbolic statement; each case is checked
        on its own concrete sides and listed in a table.
    """

    lhs: object
    rhs: object
    why: str
    relation: str = "="
    check: Callable[[], StepCheck] | None = None
    simplifier: Callable[[sp.Expr], sp.Expr] | None = None
    value: object = None
    cases: Cases | None = None

    def _verify_pair(self, lhs: object, rhs: object, domains: Mapping[sp.Symbol, Domain]) -> StepCheck:
        a, b = value_of(lhs), value_of(rhs)
        if a is None or b is None:
            return StepCheck(Verdict.UNDECIDED, "a side written as text has no value to compare")
        return check_equal(a, b, domains, simplifier=self.simplifier)

    def verify(self, domains: Mapping[sp.Symbol, Domain]) -> StepCheck:
        if self.check is not None:
            return self.check()
        if self.cases is not None:
            results = self.verify_cases(domains)
            verdict = Verdict.combine([c.verdict for c in results])
            weak = [c for c in results if c.verdict is not Verdict.PROVED]
            if not weak:
                return StepCheck(verdict, f"each of the {len(results)} cases: {results[0].reason}")
            return StepCheck(
                verdict,
                "; ".join(f"{self.cases.label} = {sp.sstr(c.value)}: {c.verdict.value} ({c.reason})" for c in weak[:3]),
            )
        return self._verify_pair(self.lhs, self.rhs, domains)

    def verify_cases(self, domains: Mapping[sp.Symbol, Domain]) -> list[CaseResult]:
        out = []
        for v in self.cases.values:
            lhs, rhs = self.cases.sides(v)
            res = self._verify_pair(lhs, rhs, domains)
            shown = self.cases.shown(v) if self.cases.shown else value_of(lhs)
            out.append(CaseResult(v, res.verdict, res.reason, shown))
        return out


@dataclass(frozen=True)
class CheckedStep:
    step: Step
    verdict: Verdict
    reason: str
    cases: tuple[CaseResult, ...] = ()


@dataclass
class Proof:
    r"""A titled chain of steps that establishes ``statement``.

    ``statement`` is text with inline maths in ``\(...\)``.

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> p = Proof("square of a root", r"\(\sqrt{x}^2 = x\)",
    ...           [Step(sp.Pow(sp.sqrt(x), 2, evaluate=False), x, "definition of the square root")])
    >>> p.check().verdict
    <Verdict.PROVED: 'PROVED'>
    >>> print(p.latex().splitlines()[0])
    \begin{align*}
    >>> print(p.text(width=60))
    square of a root  [PROVED]
      √x² = x
      (1) (√x)² = x
          definition of the square root  [proved: difference
          simplifies to 0]
    """

    title: str
    statement: str
    steps: list[Step]
    domains: Mapping[sp.Symbol, Domain] = field(default_factory=dict)
    _checked: list[CheckedStep] | None = field(default=None, init=False, repr=False)

    def check(self) -> Proof:
        """Check every step (once; the verdicts are cached) and return self."""
        if self._checked is None:
            checked = []
            for step in self.steps:
                res = step.verify(self.domains)
                cases = tuple(step.verify_cases(self.domains)) if step.cases is not None and step.check is None else ()
                checked.append(CheckedStep(step, res.verdict, res.reason, cases))
            self._checked = checked
        return self

    @property
    def checked_steps(self) -> list[CheckedStep]:
        return self.check()._checked or []

    @property
    def verdict(self) -> Verdict:
        return Verdict.combine([c.verdict for c in self.checked_steps])

    def latex(self) -> str:
        """The derivation as an ``align*`` block, each step tagged with its number and verdict."""
        from closedform.proofs.text import step_latex

        body = [step_latex(c, i) for i, c in enumerate(self.checked_steps, 1)]
        return "\\begin{align*}\n" + " \\\\\n".join(body) + "\n\\end{align*}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex().replace("align*", "aligned").replace(r"\tag*", r"\qquad\text") + "$$"

    def text(self, width: int | None = None) -> str:
        """A Unicode rendering for terminals, wrapped at ``width`` (default: the terminal's)."""
        from closedform.proofs.text import proof_text

        return proof_text(self, width)
