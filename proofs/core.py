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
callable that returns a verdict and a reason.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

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
    diff = sp.sympify(lhs) - sp.sympify(rhs)
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
    free = set().union(*(sp.sympify(e).free_symbols for e in (lhs, rhs)))
    symbols = sorted(free, key=lambda s: s.name)
    rng = random.Random(seed)
    agreed = 0
    for _ in range(NUMERIC_POINTS):
        point = _sample_point(symbols, domains, rng)
        try:
            a = sp.N(
                sp.sympify(lhs).subs(point) if not isinstance(lhs, sp.MatrixBase) else lhs.subs(point), NUMERIC_DIGITS
            )
            b = sp.N(
                sp.sympify(rhs).subs(point) if not isinstance(rhs, sp.MatrixBase) else rhs.subs(point), NUMERIC_DIGITS
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


@dataclass(frozen=True)
class Step:
    r"""One step of a derivation.

    Parameters
    ----------
    lhs, rhs : sympy expressions
        The two sides; the step claims ``lhs = rhs`` unless ``check`` is given.
    why : str
        The justification, printed beside the step.
    relation : str
        The LaTeX relation printed between the sides (``=``, ``\le``, ``\iff``).
    check : callable, optional
        A custom checker returning :class:`StepCheck`, for steps that are
        arguments (inequalities, limits, reductions between events).
    simplifier : callable, optional
        A targeted simplifier (``expand``, ``factor``, ...) when ``simplify`` is too slow.
    """

    lhs: object
    rhs: object
    why: str
    relation: str = "="
    check: Callable[[], StepCheck] | None = None
    simplifier: Callable[[sp.Expr], sp.Expr] | None = None

    def verify(self, domains: Mapping[sp.Symbol, Domain]) -> StepCheck:
        if self.check is not None:
            return self.check()
        return check_equal(self.lhs, self.rhs, domains, simplifier=self.simplifier)


@dataclass(frozen=True)
class CheckedStep:
    step: Step
    verdict: Verdict
    reason: str


@dataclass
class Proof:
    r"""A titled chain of steps that establishes ``statement``.

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> p = Proof("square of a root", "sqrt(x)**2 = x",
    ...           [Step(sp.sqrt(x)**2, x, "definition of the square root")])
    >>> p.check().verdict
    <Verdict.PROVED: 'PROVED'>
    >>> print(p.latex().splitlines()[0])
    \begin{align*}
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
                checked.append(CheckedStep(step, res.verdict, res.reason))
            self._checked = checked
        return self

    @property
    def checked_steps(self) -> list[CheckedStep]:
        return self.check()._checked or []

    @property
    def verdict(self) -> Verdict:
        return Verdict.combine([c.verdict for c in self.checked_steps])

    def latex(self) -> str:
        """The derivation as an ``align*`` block, each step tagged with its verdict and reason."""
        lines = [r"\begin{align*}"]
        for i, c in enumerate(self.checked_steps):
            lhs = sp.latex(c.step.lhs) if not isinstance(c.step.lhs, str) else c.step.lhs
            rhs = sp.latex(c.step.rhs) if not isinstance(c.step.rhs, str) else c.step.rhs
            end = r" \\" if i < len(self.checked_steps) - 1 else ""
            why = c.step.why.replace("_", r"\_").replace("%", r"\%")
            lines.append(
                f"{lhs} &{c.step.relation} {rhs} && \\text{{{why}}}\\quad"
                f"[\\textsc{{{c.verdict.value.lower().replace('_', ' ')}}}]{end}"
            )
        lines.append(r"\end{align*}")
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        return "$$" + self.latex().replace("align*", "aligned") + "$$"

    def text(self) -> str:
        """A plain-text rendering for terminals."""
        out = [f"{self.title}: {self.statement}  [{self.verdict.value}]"]
        for i, c in enumerate(self.checked_steps, 1):
            lhs = sp.sstr(c.step.lhs) if not isinstance(c.step.lhs, str) else c.step.lhs
            rhs = sp.sstr(c.step.rhs) if not isinstance(c.step.rhs, str) else c.step.rhs
            rel = {"=": "=", r"\le": "<=", r"\ge": ">=", r"\iff": "<=>", r"\to": "->"}.get(
                c.step.relation, c.step.relation
            )
            out.append(f"  {i}. {lhs}  {rel}  {rhs}")
            out.append(f"     because {c.step.why}  [{c.verdict.value}: {c.reason}]")
        return "\n".join(out)
