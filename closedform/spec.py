r"""The objects every registry line is made of: parameters, results, simulations.

A :class:`Param` is data: from its one declaration come the SymPy symbol with
its assumptions, the validation of user input with an error that names the
parameter and its domain, the LaTeX ``\theta \in (0, 2\pi]`` and the
Hypothesis strategy of the tests.  A :class:`Result` bundles a closed form
with everything that checks it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import sympy as sp
from sympy.sets.fancysets import Integers, Naturals, Naturals0, Range

from closedform.derive.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from closedform.numeric.drivers import StreamKernel
    from closedform.proofs.core import Proof




def _parse_number(name: str, value: Any) -> sp.Expr:
    if isinstance(value, sp.Basic):
        expr = value
    elif isinstance(value, bool):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    elif isinstance(value, (int, np.integer)):
        expr = sp.Integer(int(value))
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ParameterError(f"{name} must be a finite number, got {value!r}")
        expr = sp.Float(float(value), 17)
    elif isinstance(value, str):
        try:
            expr = sp.sympify(value, rational=False)
        except (sp.SympifyError, SyntaxError, TypeError) as exc:
            raise ParameterError(f"{name} must be a number or SymPy expression, got {value!r}") from exc
    else:
        raise ParameterError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not expr.is_number:
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or expr.is_real is False:
        raise ParameterError(f"{name} must be a finite real number, got {value!r}")
    return expr


@dataclass(frozen=True)
class Param:
    r"""A named, typed, bounded parameter of a result.

    Parameters
    ----------
    name : str
        The Python keyword and CLI flag (``--theta``).
    latex : str
        The LaTeX symbol (``\theta``).
    domain : sympy.Set
        The valid values: an ``Interval``, or ``Range``/``Naturals`` for integers.
    typical : tuple
        A range the tests draw from (inside the domain).
    description : str
        One line for help texts.

    Examples
    --------
    >>> theta = Param("theta", r"\theta", sp.Interval.Lopen(0, 2 * sp.pi), (0.1, 6.28))
    >>> theta.domain_latex()
    '\\theta \\in \\left(0, 2 \\pi\\right]'
    >>> theta.validate("3*pi/2")
    3*pi/2
    >>> theta.validate(7)
    Traceback (most recent call last):
    ...
    closedform.ParameterError: theta must lie in (0, 2*pi], got 7
    """

    name: str
    latex: str
    domain: sp.Set
    typical: tuple[Any, Any]
    description: str = ""
    #: Optional parser for non-scalar parameters (vectors, names of families):
    #: ``parser(value) -> parsed``; it raises ParameterError itself.
    parser: Callable[[Any], Any] | None = None

    @property
    def integer(self) -> bool:
        return isinstance(self.domain, (Range, Naturals, Naturals0, Integers))

    def symbol(self) -> sp.Symbol:
        """The SymPy symbol, with the assumptions its domain implies."""
        assumptions: dict[str, bool] = {}
        if self.integer:
            assumptions["integer"] = True
        else:
            assumptions["real"] = True
        inf = self.domain.inf
        if inf is not None and inf.is_number:
            if inf > 0 or (inf == 0 and not self.domain.contains(0) == sp.true):
                assumptions["positive"] = True
            elif inf >= 0:
                assumptions["nonnegative"] = True
        return sp.Symbol(self.name, **assumptions)

    def domain_text(self) -> str:
        d = self.domain
        if isinstance(d, sp.Interval):
            left = "(" if d.left_open else "["
            right = ")" if d.right_open else "]"
            return f"{left}{sp.sstr(d.start)}, {sp.sstr(d.end)}{right}"
        if isinstance(d, sp.Range):
            if d.sup == sp.oo:
                return f"integers {d.inf}, {d.inf + 1}, ..."
            return f"integers {d.inf}..{d.sup}"
        if isinstance(d, Naturals):
            return "integers 1, 2, ..."
        return sp.sstr(d)

    def domain_latex(self) -> str:
        return f"{self.latex} \\in {sp.latex(self.domain)}"

    def validate(self, value: Any) -> sp.Expr:
        """Parse ``value`` (number, string in SymPy syntax) and check it lies in the domain."""
        if self.parser is not None:
            return self.parser(value)
        expr = _parse_number(self.name, value)
        if self.integer:
            if not (expr.is_integer or (expr.is_Float and float(expr).is_integer())):
                raise ParameterError(f"{self.name} must be an integer in {self.domain_text()}, got {value!r}")
            expr = sp.Integer(int(expr))
        inside = self.domain.contains(expr)
        if inside != sp.true:
            inside = self.domain.contains(sp.nsimplify(expr)) if expr.is_Float else inside
        if inside != sp.true:
            raise ParameterError(f"{self.name} must lie in {self.domain_text()}, got {value!r}")
        return expr

    def strategy(self):
        """A Hypothesis strategy over the typical range (tests only)."""
        from hypothesis import strategies as st

        lo, hi = self.typical
        if self.integer:
            return st.integers(int(lo), int(hi))
        return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)


@dataclass
class Formula:
    r"""A closed form with its left side: prints as LaTeX, evaluates as a float.

    Wraps a SymPy expression; attributes not defined here are looked up on the
    expression, so ``f.subs(...)``, ``f.free_symbols`` work as on SymPy objects.
    """

    lhs: sp.Expr
    expr: sp.Expr

    def latex(self, **kwargs: Any) -> str:
        """``lhs = expr`` in LaTeX (``sympy.latex`` options pass through)."""
        return sp.latex(sp.Eq(self.lhs, self.expr, evaluate=False), **kwargs)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __float__(self) -> float:
        return float(self.expr)

    def evalf(self, n: int = 15, **kwargs: Any) -> sp.Expr:
        return self.expr.evalf(n, **kwargs)

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.expr, item)

    def __eq__(self, other: object) -> bool:
        other_expr = other.expr if isinstance(other, Formula) else other
        return bool(sp.sympify(self.expr) == sp.sympify(other_expr))

    def __hash__(self) -> int:
        return hash(self.expr)

    def __repr__(self) -> str:
        return f"{sp.sstr(self.lhs)} = {sp.sstr(self.expr)}"


@dataclass(frozen=True, eq=False)
class Simulation:
    """How a result is simulated: a stream kernel and the map from parameters to its input.

    ``kind`` fixes the accumulator layout: ``"proportion"`` accumulates one
    count per category (the estimate is count/trials); ``"mean"`` accumulates
    ``(sum, sum of squares)`` per component.
    """

    kernel: StreamKernel
    pack: Callable[..., np.ndarray]
    kind: Literal["proportion", "mean"] = "proportion"
    draws_per_trial: Callable[..., float] | None = None
    description: str = ""


@dataclass(frozen=True)
class Plot:
    r"""How the report draws a result: the closed form against one parameter.

    Pure data, read by :mod:`closedform.report`.  A result without ``plots``
    gets a default one (its first real scalar parameter over its typical
    range, the others at its first verify case); ``skips["plot"]`` with a
    reason turns the figure off.

    Attributes
    ----------
    x : str or None
        The parameter on the horizontal axis; ``None`` draws the components of
        a vector result at fixed parameters (one bar group per component).
    series : tuple of dict
        One curve per entry: values of other parameters (overriding ``base``).
    base : dict, optional
        Values of the parameters not swept (default: the first verify case).
    x_range : (lo, hi), optional
        The sweep (default: the parameter's typical range).
    sim_x : tuple, optional
        Where the Monte Carlo (or, without a simulator, oracle) points go
        (default: ``sim_points`` evenly spaced values inside the range).
    sim_points : int
        How many such points when ``sim_x`` is not given.
    marks : tuple of (value, label)
        Vertical lines, e.g. breakpoints; values may be SymPy numbers,
        labels matplotlib mathtext.
    title, ylabel : str
        Figure title and y label (defaults from the result).
    x_in_pi : bool
        Label the x ticks in multiples of :math:`\pi`.
    components : tuple of int, optional
        Which components of a vector result to draw (default: up to 8).
    logy : bool
        Logarithmic y axis.

    Examples
    --------
    >>> Plot("theta", series=({"n": 3}, {"n": 4}), x_in_pi=True).series
    ({'n': 3}, {'n': 4})
    """

    x: str | None
    series: tuple[Mapping[str, Any], ...] = ({},)
    base: Mapping[str, Any] | None = None
    x_range: tuple[Any, Any] | None = None
    sim_x: tuple[Any, ...] | None = None
    sim_points: int = 7
    marks: tuple[tuple[Any, str], ...] = ()
    title: str = ""
    ylabel: str = ""
    x_in_pi: bool = False
    components: tuple[int, ...] | None = None
    logy: bool = False


@dataclass(frozen=True, eq=False)
class Result:
    """One registry line: a closed form and everything that checks it.

    Attributes
    ----------
    name, topic, title : str
        Unique snake_case name, topic key, and a one-line statement.
    params : tuple of Param
    closed_form : callable
        ``closed_form(**params) -> sympy expression`` (or ``Matrix`` for a vector result).
    lhs : callable
        ``lhs(**params) -> sympy expression``: the unevaluated left side for LaTeX.
    oracle : callable or None
        ``oracle(**params) -> mpf or list of mpf``: an mpmath evaluation by an
        independent route, at the caller's ``mp.dps`` (>= 30).
    simulation : Simulation or None
    proofs : tuple of callables returning Proof
    cases : tuple of dict
        Concrete parameter sets that ``closedform verify`` checks.
    rtol, rtol_reason : float, str
        Closed form vs oracle tolerance in double precision, and why it is that.
    sim_trials : int
        Trials per case in ``verify`` (the ``--thorough`` run uses 10x).
    skips : mapping
        Check name -> written reason, for a check that does not apply.
    extra_checks : tuple of callables
        Topic-specific checks that ``closedform verify`` also runs:
        ``check(thorough: bool) -> closedform.checks.CheckRow``.
    plots : tuple of Plot
        The figures of the report (a default one when empty; see :class:`Plot`).
    """

    name: str
    topic: str
    title: str
    params: tuple[Param, ...]
    closed_form: Callable[..., Any]
    lhs: Callable[..., Any]
    oracle: Callable[..., Any] | None = None
    simulation: Simulation | None = None
    proofs: tuple[Callable[[], Proof], ...] = ()
    cases: tuple[Mapping[str, Any], ...] = ()
    rtol: float = 1e-12
    rtol_reason: str = "double-precision evaluation of an expression of a few dozen operations"
    sim_trials: int = 10**6
    skips: Mapping[str, str] = field(default_factory=dict)
    extra_checks: tuple[Callable[[bool], Any], ...] = ()
    plots: tuple[Plot, ...] = ()

    def __repr__(self) -> str:
        params = ", ".join(f"{p.name} in {p.domain_text()}" for p in self.params)
        return f"Result({self.name!r}: {self.title}; {params})"

    def _repr_latex_(self) -> str:
        """The closed form with symbolic parameters, for notebooks."""
        return self.formula()._repr_latex_()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def validate(self, **values: Any) -> dict[str, sp.Expr]:
        """Validate keyword values against the params (missing or unknown names are errors)."""
        known = {p.name for p in self.params}
        unknown = set(values) - known
        if unknown:
            raise ParameterError(
                f"{self.name} has no parameter {sorted(unknown)[0]!r}; its parameters are " + ", ".join(sorted(known))
            )
        out = {}
        for p in self.params:
            if p.name not in values:
                raise ParameterError(f"{self.name} needs {p.name} in {p.domain_text()}")
            out[p.name] = p.validate(values[p.name])
        return out

    def formula(self, **values: Any) -> Formula:
        """The closed form at concrete (validated) or symbolic parameters."""
        if values:
            args = self.validate(**values)
        else:
            args = {p.name: p.symbol() for p in self.params}
        return Formula(self.lhs(**args), self.closed_form(**args))

    def symbols(self) -> dict[str, sp.Symbol]:
        return {p.name: p.symbol() for p in self.params}

    def claimed_values(self, **values: Any) -> np.ndarray:
        """The closed form at concrete parameters as float64 (a vector for vector results)."""
        expr = self.closed_form(**self.validate(**values))
        if isinstance(expr, sp.MatrixBase):
            return np.array([float(sp.N(e, 30)) for e in expr], dtype=np.float64)
        return np.array([float(sp.N(expr, 30))], dtype=np.float64)


def float_or_exact(expr: Any, digits: int = 35) -> Any:
    """A closed form evaluated at a float input as one Float (``digits`` significant), else unchanged.

    A float input should yield a float output, not an expression in pi with floats inside;
    exact inputs keep exact outputs.  Matrices are mapped entrywise.

    >>> float_or_exact(sp.pi * sp.Float(0.5))
    1.5707963267948966192313216916397514
    >>> float_or_exact(sp.pi / 2)
    pi/2
    """
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: float_or_exact(e, digits))
    return sp.Float(sp.N(expr, digits), digits) if expr.is_number and expr.has(sp.Float) else expr


def as_list(x: Any) -> list:
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, sp.MatrixBase):
        return list(x)
    return [x]


def keywords(params: Sequence[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    return {p.name: values[p.name] for p in params}
