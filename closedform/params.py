r"""One parameter system for built-in results and users' claims alike.

A :class:`Param` is data.  From its one declaration come the SymPy symbol with
its assumptions, the validation of user input (one :class:`ParameterError` line
naming the parameter and its domain), the LaTeX ``\theta \in (0, 2\pi]``, the
views each consumer needs (SymPy for the closed form, ``mpf`` for the oracle,
float64 for the kernel) and the Hypothesis strategies of the tests.

Kinds: ``real`` and ``integer`` scalars, ``vector`` (length bounds), ``matrix``
(optional rows summing to one), ``choice`` (named options, optionally or a
number) and ``tokens`` (a sequence of small non-negative integers).

**Number policy.** Text is parsed by :func:`closedform.derive.expr_parser.parse_expression`,
never by ``eval``: decimal text is the exact rational it spells (``"0.3"`` is
3/10), so a closed form gets exact input from the command line.  A Python
``float`` stays a float: it becomes a SymPy ``Float`` carrying exactly its
53-bit value, so closed form, oracle and kernel all see the same number.
Integers are exact.  Vectors are written ``[a, b, c]`` (or ``a, b, c``),
matrices ``[[a, b], [c, d]]``.

Examples
--------
>>> theta = real("theta", 0, 2 * sp.pi, ends="(]", latex=r"\theta")
>>> theta.validate("3*pi/2")
3*pi/2
>>> theta.validate(7)
Traceback (most recent call last):
...
closedform.ParameterError: theta must lie in (0, 2*pi], got 7
>>> vector("mu", length=(2, 1000)).validate("[0.3, 0, -1/2]")
(3/10, 0, -1/2)
>>> choice("noise", ["gumbel", "normal"]).validate("Normal")
'normal'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import sympy as sp
from sympy.sets.fancysets import Integers, Naturals, Naturals0, Range

from closedform.derive.errors import ParameterError
from closedform.derive.expr_parser import parse_expression

__all__ = [
    "Param",
    "ParameterError",
    "choice",
    "integer",
    "matrix",
    "nonnegative",
    "positive",
    "real",
    "tokens",
    "unit_interval",
    "vector",
]

Kind = Literal["real", "integer", "vector", "matrix", "choice", "tokens"]

#: Most entries of a vector or matrix parameter unless its declaration says fewer.
MAX_ENTRIES = 100_000


def _is_integer_set(domain: sp.Set) -> bool:
    return isinstance(domain, (Range, Naturals, Naturals0, Integers))


@dataclass(frozen=True)
class Param:
    r"""A named, typed, bounded parameter of a result.

    Build one with the short constructors (:func:`real`, :func:`positive`,
    :func:`integer`, :func:`vector`, :func:`matrix`, :func:`choice`,
    :func:`tokens`) rather than by hand.

    Parameters
    ----------
    name : str
        The Python keyword and CLI flag (``--theta``).
    latex : str
        The LaTeX symbol (``\theta``).
    domain : sympy.Set
        Valid scalar values: an ``Interval``, or a ``Range`` for integers; for
        vectors, matrices and tokens the domain of each entry; for a choice the
        numbers it also accepts (``EmptySet`` for none).
    typical : tuple
        A ``(low, high)`` range inside the domain that tests and plots draw from
        (for a choice: the options to draw).
    description : str
        One line for help texts.
    kind : {"real", "integer", "vector", "matrix", "choice", "tokens"}, optional
        Inferred from the domain for scalars.
    length : (int, int)
        Least and most entries of a vector or token sequence (columns of a matrix).
    rows : (int, int)
        Least and most rows of a matrix.
    rows_sum_to_one : bool
        Matrix rows must each sum to 1 (exactly for exact entries, to 1e-12 for floats).
    options : tuple of str
        The words a ``choice`` accepts (matched case-insensitively).
    container : {"tuple", "matrix"}
        What a validated vector is: a tuple, or a SymPy column ``Matrix``.

    Examples
    --------
    >>> theta = Param("theta", r"\theta", sp.Interval.Lopen(0, 2 * sp.pi), (0.1, 6.28))
    >>> theta.domain_latex()
    '\\theta \\in \\left(0, 2 \\pi\\right]'
    >>> theta.to_float(theta.validate("pi"))
    3.141592653589793
    """

    name: str
    latex: str
    domain: sp.Set
    typical: tuple[Any, ...]
    description: str = ""
    kind: Kind | None = None
    length: tuple[int, int] = (1, MAX_ENTRIES)
    rows: tuple[int, int] = (1, MAX_ENTRIES)
    rows_sum_to_one: bool = False
    options: tuple[str, ...] = ()
    container: Literal["tuple", "matrix"] = "tuple"

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", "integer" if _is_integer_set(self.domain) else "real")
        if self.kind not in _VALIDATORS:
            raise ValueError(f"Param {self.name!r}: unknown kind {self.kind!r}; kinds are {', '.join(_VALIDATORS)}")
        if not self.name.isidentifier():
            raise ValueError(f"Param name {self.name!r} must be a Python identifier")

    # -- what it is -----------------------------------------------------------
    @property
    def integer(self) -> bool:
        """Whether the values (or entries) are integers."""
        return self.kind in ("integer", "tokens")

    @property
    def is_scalar(self) -> bool:
        """Whether a value is one number (a plot can sweep it)."""
        return self.kind in ("real", "integer")

    def symbol(self) -> sp.Symbol:
        """The SymPy symbol, with the assumptions its domain implies."""
        assumptions: dict[str, bool] = {}
        if not self.is_scalar:
            return sp.Symbol(self.name)
        assumptions["integer" if self.integer else "real"] = True
        inf = self.domain.inf
        if inf is not None and inf.is_number:
            if inf > 0 or (inf == 0 and not self.domain.contains(0) == sp.true):
                assumptions["positive"] = True
            elif inf >= 0:
                assumptions["nonnegative"] = True
        return sp.Symbol(self.name, **assumptions)

    def domain_text(self) -> str:
        """The valid values in words: ``(0, 2*pi]``, ``integers 1, 2, ...``, ``2 to 64 reals``."""
        return _DOMAIN_TEXT[self.kind](self)

    def domain_latex(self) -> str:
        return f"{self.latex} \\in {sp.latex(self.domain)}"

    # -- validation -----------------------------------------------------------
    def validate(self, value: Any) -> Any:
        """Parse ``value`` and check it lies in the domain.

        Strings go through the safe parser (no code runs); numbers, arrays and
        SymPy objects are checked as they are.  A ``sympy.Symbol``, or the
        parameter's own name as text, stands for the symbolic parameter.

        Returns
        -------
        sympy.Expr, tuple, sympy.Matrix, str or tuple of int
            The SymPy view of the value (what closed forms receive).

        Raises
        ------
        ParameterError
            With the parameter's name and domain in the message.
        """
        if isinstance(value, sp.Symbol):
            return value
        if isinstance(value, str) and value.strip() == self.name:
            return self.symbol()
        return _VALIDATORS[self.kind](self, value)

    # -- views ----------------------------------------------------------------
    def to_exact(self, value: Any) -> Any:
        """The checks' view: every float replaced by the exact rational of its binary value.

        A closed form built from a SymPy ``Float`` computes at the float's 53 bits; a
        check against a 30-digit oracle must give it the same number exactly instead.
        """

        def exact(x: Any) -> Any:
            return sp.Rational(x) if isinstance(x, sp.Float) else x

        if isinstance(value, sp.Symbol) or self.kind == "tokens":
            return value
        if self.kind == "vector":
            out = [exact(x) for x in value]
            return sp.Matrix(out) if isinstance(value, sp.MatrixBase) else tuple(out)
        if self.kind == "matrix":
            return value.applyfunc(exact)
        return exact(value)

    def to_mpmath(self, value: Any) -> Any:
        """The oracle's view of a validated value: ``mpf`` at the caller's precision (lists for vectors)."""
        import mpmath

        def mpf(x: Any) -> Any:
            if isinstance(x, (str, int)):
                return x
            return mpmath.mpf(sp.N(x, mpmath.mp.dps + 10)) if not x.is_Float else mpmath.mpf(x)

        return _map_entries(self, value, mpf)

    def to_float(self, value: Any) -> Any:
        """The kernel's view: float64 (int for integers), ``numpy`` arrays for vectors and matrices."""
        if self.kind == "integer":
            return int(value)

        def f64(x: Any) -> Any:
            if isinstance(x, str):
                return x
            out = float(sp.N(x, 30))
            if not math.isfinite(out):
                raise ParameterError(f"{self.name} = {sp.sstr(x)} is outside double precision (|x| < 1.8e308)")
            return out

        out = _map_entries(self, value, f64)
        if self.kind in ("vector", "matrix"):
            return np.asarray(out, dtype=np.float64)
        if self.kind == "tokens":
            return np.asarray(value, dtype=np.int64)
        return out

    # -- tests ----------------------------------------------------------------
    def strategy(self, size: tuple[int, ...] | None = None):
        """A Hypothesis strategy of valid values inside the typical range (tests only).

        ``size`` fixes the length of a vector or token sequence (``(n,)``) or the shape
        of a matrix (``(rows, columns)``), so that related parameters can be drawn alike.
        """
        from closedform import param_strategies

        return param_strategies.valid(self, size)

    def invalid_strategy(self):
        """A Hypothesis strategy of values outside the domain, each to be refused (tests only)."""
        from closedform import param_strategies

        return param_strategies.invalid(self)


def _map_entries(param: Param, value: Any, f: Callable[[Any], Any]) -> Any:
    if isinstance(value, sp.Symbol):
        raise ParameterError(f"{param.name} is symbolic here; give a number")
    if param.kind == "vector":
        return [f(x) for x in value]
    if param.kind == "matrix":
        return [[f(x) for x in row] for row in value.tolist()]
    if param.kind == "tokens":
        return tuple(value)
    return f(value)


# ---------------------------------------------------------------------------
# Scalars: the number policy
# ---------------------------------------------------------------------------


def _number(name: str, value: Any, allow_infinity: bool = False) -> sp.Expr:
    """One number from any accepted form (the policy in the module docstring)."""
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ParameterError(f"{name} must be a finite number, got {value!r}")
        # The float's exact binary value: closed form, oracle and kernel see one number.
        return sp.Float(float(value), precision=53)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, (complex, np.complexfloating)):
        raise ParameterError(f"{name} must be a real number, got the complex {value!r}")
    if isinstance(value, str):
        expr = parse_expression(value, name=name, allow_infinity=allow_infinity)
        if isinstance(expr, list):
            raise ParameterError(f"{name} must be one number, got a list {value!r}")
    elif isinstance(value, sp.Basic):
        expr = value
    elif isinstance(value, np.ndarray) and value.ndim == 0:
        return _number(name, value.item(), allow_infinity)
    else:
        raise ParameterError(f"{name} must be a number, got {type(value).__name__} {_short(value)}")
    if not isinstance(expr, sp.Expr) or not expr.is_number:
        raise ParameterError(f"{name} must be a number, got {_short(value)}")
    if expr.has(sp.nan, sp.zoo) or (expr.has(sp.oo, -sp.oo) and not allow_infinity):
        raise ParameterError(f"{name} must be a finite real number, got {_short(value)}")
    if expr.is_real is False or (expr.is_real is None and not _numerically_real(expr)):
        raise ParameterError(f"{name} must be a real number, got {_short(value)}")
    return expr


def _numerically_real(expr: sp.Expr) -> bool:
    try:
        value = sp.N(expr, 30)
    except (TypeError, ValueError):
        return False
    return value.is_real is True or (value.is_number and abs(sp.im(value)) < sp.Float("1e-25"))


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _compare(x: sp.Expr, bound: sp.Expr) -> int:
    """Sign of ``x - bound``, decided exactly where SymPy can, else at 50 digits."""
    if bound in (sp.oo, -sp.oo):
        return -1 if bound == sp.oo else 1
    # A float is compared at its exact binary value (nsimplify would round 1e-300 to 0).
    diff = sp.Rational(x) - bound if x.is_Float else x - bound
    sign = 0 if diff == 0 else (1 if diff.is_positive else (-1 if diff.is_negative else None))
    if sign is None:
        value = sp.N(diff, 50)
        sign = 0 if value == 0 else (1 if value > 0 else -1)
    return sign


def _in_interval(x: sp.Expr, domain: sp.Set) -> bool:
    if domain is sp.S.Reals:
        return True
    if isinstance(domain, sp.Interval):
        lo, hi = _compare(x, domain.start), _compare(x, domain.end)
        left_ok = lo > 0 or (lo == 0 and not domain.left_open)
        right_ok = hi < 0 or (hi == 0 and not domain.right_open)
        return left_ok and right_ok
    if isinstance(domain, sp.Union):
        return any(_in_interval(x, part) for part in domain.args)
    return domain.contains(x) == sp.true


def _in_integers(x: sp.Integer, domain: sp.Set) -> bool:
    inf, sup = domain.inf, domain.sup
    return (inf == -sp.oo or x >= inf) and (sup == sp.oo or x <= sup)


def _validate_real(p: Param, value: Any, name: str | None = None) -> sp.Expr:
    name = name or p.name
    expr = _number(name, value, allow_infinity=p.domain.sup == sp.oo and p.domain.contains(sp.oo) == sp.true)
    if not _in_interval(expr, p.domain):
        raise ParameterError(f"{name} must lie in {_interval_text(p.domain)}, got {_short(value)}")
    return expr


def _validate_integer(p: Param, value: Any, name: str | None = None) -> sp.Integer:
    name = name or p.name
    expr = _number(name, value)
    if not expr.is_integer:
        if expr.is_Float and float(expr).is_integer() and abs(float(expr)) < 2**53:
            expr = sp.Integer(int(expr))
        else:
            raise ParameterError(f"{name} must be an integer in {_integer_text(p.domain)}, got {_short(value)}")
    expr = sp.Integer(expr)
    if not _in_integers(expr, p.domain):
        raise ParameterError(f"{name} must be an integer in {_integer_text(p.domain)}, got {_short(value)}")
    return expr


def _entry_validator(p: Param) -> Callable[[Param, Any, str], sp.Expr]:
    return _validate_integer if _is_integer_set(p.domain) else _validate_real


# ---------------------------------------------------------------------------
# Vectors, matrices, tokens
# ---------------------------------------------------------------------------


def _as_items(p: Param, value: Any) -> list:
    """A flat or nested Python list from text, a sequence, an array or a SymPy Matrix."""
    if isinstance(value, str):
        parsed = parse_expression(value, name=p.name)
        return parsed if isinstance(parsed, list) else [parsed]
    if isinstance(value, sp.MatrixBase):
        return value.tolist() if p.kind == "matrix" else list(value)
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            raise ParameterError(f"{p.name} must hold real numbers, got a complex array")
        if value.dtype.kind not in "biuf" and value.dtype != object:
            raise ParameterError(f"{p.name} must hold numbers, got an array of dtype {value.dtype}")
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ParameterError(f"{p.name} must be {_DOMAIN_TEXT[p.kind](p)}, got {type(value).__name__} {_short(value)}")


def _check_count(p: Param, count: int, bounds: tuple[int, int], what: str) -> None:
    lo, hi = bounds
    if not lo <= count <= hi:
        size = f"exactly {lo}" if lo == hi else f"{lo} to {hi}"
        raise ParameterError(f"{p.name} must have {size} {what}, got {count}")


def _validate_vector(p: Param, value: Any) -> Any:
    items = _as_items(p, value)
    _check_count(p, len(items), p.length, "entries")
    entry = _entry_validator(p)
    out = []
    for i, v in enumerate(items):
        if isinstance(v, (list, tuple, np.ndarray)):
            raise ParameterError(f"{p.name} must be a vector (one bracket level), got a nested list")
        out.append(entry(p, v, f"{p.name}[{i}]"))
    return sp.Matrix(out) if p.container == "matrix" else tuple(out)


def _validate_matrix(p: Param, value: Any) -> sp.Matrix:
    rows = _as_items(p, value)
    if not rows or not all(isinstance(r, (list, tuple)) for r in rows):
        raise ParameterError(f"{p.name} must be a matrix written [[a, b], [c, d]] (a list of rows)")
    _check_count(p, len(rows), p.rows, "rows")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ParameterError(f"{p.name} must be rectangular: its rows have lengths {[len(r) for r in rows]}")
    _check_count(p, width, p.length, "columns")
    entry = _entry_validator(p)
    out = []
    for i, row in enumerate(rows):
        parsed = [entry(p, v, f"{p.name}[{i}][{j}]") for j, v in enumerate(row)]
        if p.rows_sum_to_one:
            total = sp.Add(*parsed)
            exact = not any(x.is_Float for x in parsed)
            if (total != 1) if exact else abs(float(total) - 1) > 1e-12:
                raise ParameterError(f"{p.name} row {i} must sum to 1, got {sp.sstr(total)}")
        out.append(parsed)
    return sp.Matrix(out)


def _validate_tokens(p: Param, value: Any) -> tuple[int, ...]:
    if isinstance(value, str) and value.strip().isdigit():
        items: list = [int(ch) for ch in value.strip()]  # "0120": one digit per token
    else:
        items = _as_items(p, value)
    _check_count(p, len(items), p.length, "tokens")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, (list, tuple)):
            raise ParameterError(f"{p.name} must be a flat sequence of tokens, got a nested list")
        out.append(int(_validate_integer(p, v, f"{p.name}[{i}]")))
    return tuple(out)


def _validate_choice(p: Param, value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in p.options:
        return value.strip().lower()
    word = isinstance(value, str) and value.strip().isidentifier()
    if p.domain is not sp.S.EmptySet and not word:
        try:
            return _validate_real(p, value)
        except ParameterError:
            pass
    raise ParameterError(f"{p.name} must be {_choice_text(p)}, got {_short(value)}")


_VALIDATORS: dict[str, Callable[[Param, Any], Any]] = {
    "real": _validate_real,
    "integer": _validate_integer,
    "vector": _validate_vector,
    "matrix": _validate_matrix,
    "choice": _validate_choice,
    "tokens": _validate_tokens,
}


# ---------------------------------------------------------------------------
# Domains in words
# ---------------------------------------------------------------------------


def _interval_text(d: sp.Set) -> str:
    if d is sp.S.Reals:
        return "(-oo, oo)"
    if isinstance(d, sp.Interval):
        left = "(" if d.left_open else "["
        right = ")" if d.right_open else "]"
        return f"{left}{sp.sstr(d.start)}, {sp.sstr(d.end)}{right}"
    if isinstance(d, sp.Union):
        return " or ".join(_interval_text(part) for part in d.args)
    return sp.sstr(d)


def _integer_text(d: sp.Set) -> str:
    if isinstance(d, Naturals):
        return "1, 2, ..."
    if isinstance(d, Naturals0):
        return "0, 1, 2, ..."
    inf, sup = d.inf, d.sup
    if sup == sp.oo:
        return f"{inf}, {inf + 1}, ..."
    return f"{inf}..{sup}"


def _count_text(bounds: tuple[int, int]) -> str:
    lo, hi = bounds
    return f"{lo}" if lo == hi else (f"at least {lo}" if hi >= MAX_ENTRIES else f"{lo} to {hi}")


def _entry_text(p: Param) -> str:
    return (
        f"integers {_integer_text(p.domain)}" if _is_integer_set(p.domain) else f"reals in {_interval_text(p.domain)}"
    )


def _choice_text(p: Param) -> str:
    words = ", ".join(p.options)
    numbers = f", or a number in {_interval_text(p.domain)}" if p.domain is not sp.S.EmptySet else ""
    return f"one of {words}{numbers}"


_DOMAIN_TEXT: dict[str, Callable[[Param], str]] = {
    "real": lambda p: _interval_text(p.domain),
    "integer": lambda p: f"integers {_integer_text(p.domain)}",
    "vector": lambda p: f"a vector of {_count_text(p.length)} {_entry_text(p)}, written [a, b, ...]",
    "matrix": lambda p: (
        f"a matrix of {_count_text(p.rows)} rows and {_count_text(p.length)} columns of {_entry_text(p)}"
        + (", rows summing to 1" if p.rows_sum_to_one else "")
        + ", written [[a, b], [c, d]]"
    ),
    "choice": _choice_text,
    "tokens": lambda p: f"a sequence of {_count_text(p.length)} tokens in {_integer_text(p.domain)}, e.g. 0120",
}


# ---------------------------------------------------------------------------
# Short constructors: the public way to declare parameters
# ---------------------------------------------------------------------------

_ENDS = {"[]": (False, False), "(]": (True, False), "[)": (False, True), "()": (True, True)}


def _bound(value: Any, name: str) -> sp.Expr:
    if isinstance(value, str) and value.strip() in ("oo", "-oo"):
        return sp.oo if value.strip() == "oo" else -sp.oo
    if value in (math.inf, -math.inf):
        return sp.oo if value > 0 else -sp.oo
    if isinstance(value, sp.Basic):
        return value
    return _number(f"the bound of {name}", value)


def _interval(name: str, low: Any, high: Any, ends: str) -> sp.Interval:
    if ends not in _ENDS:
        raise ValueError(f"ends must be one of {', '.join(_ENDS)}, got {ends!r}")
    lo, hi = _bound(low, name), _bound(high, name)
    left_open, right_open = _ENDS[ends]
    return sp.Interval(lo, hi, left_open or lo == -sp.oo, right_open or hi == sp.oo)


def _default_typical(domain: sp.Set) -> tuple[float, float]:
    lo = float(domain.inf) if domain.inf != -sp.oo else None
    hi = float(domain.sup) if domain.sup != sp.oo else None
    if lo is None and hi is None:
        return (-3.0, 3.0)
    if hi is None:
        return (lo + (0.05 if _open_low(domain) else 0.0), lo + 5.0)
    if lo is None:
        return (hi - 5.0, hi - (0.05 if _open_high(domain) else 0.0))
    pad = (hi - lo) * 0.01
    return (lo + (pad if _open_low(domain) else 0.0), hi - (pad if _open_high(domain) else 0.0))


def _open_low(domain: sp.Set) -> bool:
    return isinstance(domain, sp.Interval) and bool(domain.left_open)


def _open_high(domain: sp.Set) -> bool:
    return isinstance(domain, sp.Interval) and bool(domain.right_open)


def real(
    name: str,
    low: Any = -sp.oo,
    high: Any = sp.oo,
    *,
    ends: str = "[]",
    latex: str | None = None,
    typical: tuple[Any, Any] | None = None,
    description: str = "",
) -> Param:
    r"""A real parameter in an interval.

    Parameters
    ----------
    name : str
        Keyword and CLI flag.
    low, high : number, SymPy expression or ``"oo"``
        The ends of the interval (infinite ends are always open).
    ends : {"[]", "(]", "[)", "()"}
        Which finite ends belong to the domain, written as in interval notation.
    latex : str, optional
        The LaTeX symbol (default: the name).
    typical : (low, high), optional
        The range tests draw from (default: inside the domain, at most 5 wide).
    description : str
        One line for help texts.

    Returns
    -------
    Param

    Examples
    --------
    >>> x = real("x", 0, 1, ends="(]")
    >>> x.domain_text(), x.validate("0.25")
    ('(0, 1]', 1/4)
    """
    domain = _interval(name, low, high, ends)
    return Param(name, latex or name, domain, typical or _default_typical(domain), description, kind="real")


def positive(name: str, **kwargs: Any) -> Param:
    r"""A real parameter in :math:`(0, \infty)`.

    >>> positive("sigma").validate("1/2")
    1/2
    """
    return real(name, 0, sp.oo, ends="(]", **kwargs)


def nonnegative(name: str, **kwargs: Any) -> Param:
    r"""A real parameter in :math:`[0, \infty)`.

    >>> nonnegative("gamma").domain_text()
    '[0, oo)'
    """
    return real(name, 0, sp.oo, **kwargs)


def unit_interval(name: str, *, ends: str = "[]", **kwargs: Any) -> Param:
    """A real parameter in [0, 1] (``ends`` opens either end).

    >>> unit_interval("p", ends="(]").domain_text()
    '(0, 1]'
    """
    return real(name, 0, 1, ends=ends, **kwargs)


def integer(
    name: str,
    low: int | None = None,
    high: int | None = None,
    *,
    latex: str | None = None,
    typical: tuple[int, int] | None = None,
    description: str = "",
) -> Param:
    r"""An integer parameter in ``low..high`` (both included; ``None`` for unbounded).

    Examples
    --------
    >>> n = integer("n", 1)
    >>> n.domain_text(), n.validate("4")
    ('integers 1, 2, ...', 4)
    """
    lo = -sp.oo if low is None else sp.Integer(low)
    domain = sp.Range(lo, sp.oo if high is None else sp.Integer(high) + 1) if low is not None else sp.Integers
    if low is None and high is not None:
        domain = sp.Range(-sp.oo, sp.Integer(high) + 1)
    if typical is None:
        t_lo = int(low) if low is not None else (int(high) - 10 if high is not None else -10)
        typical = (t_lo, int(high) if high is not None else t_lo + 10)
    return Param(name, latex or name, domain, typical, description, kind="integer")


def vector(
    name: str,
    low: Any = -sp.oo,
    high: Any = sp.oo,
    *,
    length: tuple[int, int] | int = (1, MAX_ENTRIES),
    ends: str = "[]",
    integer_entries: bool = False,
    latex: str | None = None,
    typical: tuple[Any, Any] | None = None,
    description: str = "",
    container: Literal["tuple", "matrix"] = "tuple",
) -> Param:
    r"""A vector parameter: ``length`` entries, each in ``[low, high]`` (see ``ends``).

    Written ``[a, b, c]`` (or ``a, b, c``) on the command line.

    Examples
    --------
    >>> mu = vector("mu", length=(2, 4))
    >>> mu.validate([0.5, "1/3"])
    (0.500000000000000, 1/3)
    >>> mu.validate("[1]")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: mu must have 2 to 4 entries, got 1
    """
    if isinstance(length, int):
        length = (length, length)
    if integer_entries:
        top = sp.oo if high in (sp.oo, math.inf, "oo") else sp.Integer(high) + 1
        domain = sp.Range(sp.Integer(low), top)
    else:
        domain = _interval(name, low, high, ends)
    return _array_param(name, latex, domain, typical, description, kind="vector", length=length, container=container)


def matrix(
    name: str,
    low: Any = -sp.oo,
    high: Any = sp.oo,
    *,
    rows: tuple[int, int] = (1, MAX_ENTRIES),
    columns: tuple[int, int] = (1, MAX_ENTRIES),
    ends: str = "[]",
    rows_sum_to_one: bool = False,
    latex: str | None = None,
    typical: tuple[Any, Any] | None = None,
    description: str = "",
) -> Param:
    r"""A matrix parameter (a SymPy ``Matrix``), written ``[[a, b], [c, d]]``.

    Examples
    --------
    >>> T = matrix("T", 0, 1, rows_sum_to_one=True)
    >>> T.validate("[[1/2, 1/2], [1, 0]]").tolist()
    [[1/2, 1/2], [1, 0]]
    >>> T.validate("[[1/2, 1/4]]")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: T row 0 must sum to 1, got 3/4
    """
    domain = _interval(name, low, high, ends)
    return _array_param(
        name,
        latex,
        domain,
        typical,
        description,
        kind="matrix",
        length=columns,
        rows=rows,
        rows_sum_to_one=rows_sum_to_one,
    )


def _array_param(name, latex, domain, typical, description, *, length, **kind_fields: Any) -> Param:
    """A vector or matrix Param with the defaults the constructors share."""
    if "rows" in kind_fields:
        kind_fields["rows"] = tuple(kind_fields["rows"])
    return Param(
        name,
        latex or name,
        domain,
        typical or _default_typical(domain),
        description,
        length=tuple(length),
        **kind_fields,
    )


def choice(
    name: str,
    options: Iterable[str],
    *,
    or_between: tuple[Any, Any] | None = None,
    latex: str | None = None,
    description: str = "",
) -> Param:
    r"""One of named options (case-insensitive), or also a number in ``or_between`` (closed).

    Examples
    --------
    >>> sigma = choice("sigma", ["ddpm", "ddim"], or_between=(0, 1))
    >>> sigma.validate("DDIM"), sigma.validate("1/2")
    ('ddim', 1/2)
    >>> sigma.validate("ddpn")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: sigma must be one of ddpm, ddim, or a number in [0, 1], got 'ddpn'
    """
    words = tuple(str(o).lower() for o in options)
    if not words:
        raise ValueError(f"choice {name!r} needs at least one option")
    domain = sp.S.EmptySet if or_between is None else _interval(name, *or_between, "[]")
    return Param(name, latex or name, domain, words, description, kind="choice", options=words)


def tokens(
    name: str,
    *,
    length: tuple[int, int] = (1, MAX_ENTRIES),
    high: int | None = None,
    latex: str | None = None,
    typical: tuple[Any, ...] = ("0120",),
    description: str = "",
) -> Param:
    r"""A sequence of integer tokens in ``0..high``: ``"0120"`` (one digit each), ``"0,1,12"`` or a list.

    Examples
    --------
    >>> tokens("x0", length=(1, 16)).validate("0120")
    (0, 1, 2, 0)
    """
    domain = sp.Range(0, sp.oo if high is None else high + 1)
    return Param(name, latex or name, domain, typical, description, kind="tokens", length=tuple(length))


def validate_all(params: Sequence[Param], values: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Validate keyword values against ``params``; a missing or unknown name is a ParameterError."""
    known = {p.name for p in params}
    unknown = set(values) - known
    if unknown:
        raise ParameterError(
            f"{owner} has no parameter {sorted(unknown)[0]!r}; its parameters are "
            + ", ".join(f"{p.name} ({p.domain_text()})" for p in params)
        )
    out = {}
    for p in params:
        if p.name not in values:
            raise ParameterError(f"{owner} needs {p.name} in {p.domain_text()}")
        out[p.name] = p.validate(values[p.name])
    return out
