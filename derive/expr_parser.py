r"""Text to SymPy without running code: the one parser of every user string.

``sympy.sympify`` and ``parse_expr`` call Python's ``eval``: a parameter string
``"__import__('os').system(...)"`` would run.  This module parses the text with
:func:`ast.parse` in ``eval`` mode and walks the tree against a whitelist, so a
string can only ever become a number, a symbol of the caller's choosing, or a
(nested) list of them:

- numbers: integers, decimals (``0.3``) and scientific notation (``1e-3``), each
  the **exact** rational it spells (``0.3`` is ``3/10``, never the double
  nearest to it);
- ``+ - * / **``, unary minus and plus, parentheses;
- the constants ``pi``, ``E`` (and ``oo`` only where the caller allows it);
- the functions ``sqrt``, ``exp``, ``log``, ``sin``, ``cos``, ``tan``,
  ``Rational(p, q)``;
- the names the caller passes (a result's own parameter symbols);
- ``[a, b, ...]`` (or a bare ``a, b, ...``) for vectors, nested for matrices.

Limits keep every string cheap: at most :data:`MAX_LENGTH` characters, a tree at
most :data:`MAX_DEPTH` deep, and no power or exponential whose value could
exceed :math:`10^{\pm 1000}` (``9**9**9`` is refused before it is computed).
Every refusal is one :class:`~closedform.derive.errors.ParameterError` line that
names the parameter.

Examples
--------
>>> parse_expression("3*pi/2", name="theta")
3*pi/2
>>> parse_expression("0.3", name="x")
3/10
>>> parse_expression("[1, 1/2, -3]", name="mu")
[1, 1/2, -3]
>>> parse_expression("__import__('os').system('true')", name="theta")
Traceback (most recent call last):
...
closedform.ParameterError: theta: 'system' is not allowed (numbers, + - * / **, pi, E, sqrt, exp, log, sin, cos, tan, Rational and brackets only)
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import Any

import sympy as sp

from closedform.derive.errors import ParameterError

__all__ = ["MAX_DEPTH", "MAX_EXP10", "MAX_LENGTH", "as_expr", "parse_expression"]

#: Longest accepted string (a vector of a thousand short numbers fits).
MAX_LENGTH = 20_000
#: Deepest accepted expression tree (operators and brackets nested).
MAX_DEPTH = 40
#: Largest decimal exponent of any power or exponential in a string.
MAX_EXP10 = 1000
#: Most digits of one integer literal (Python's own int/str conversion limit is 4300).
MAX_DIGITS = 1000

_CONSTANTS: Mapping[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}
_FUNCTIONS: Mapping[str, Any] = {
    "sqrt": sp.sqrt,
    "exp": sp.exp,
    "log": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_ALLOWED = "numbers, + - * / **, pi, E, sqrt, exp, log, sin, cos, tan, Rational and brackets only"


def parse_expression(
    text: str,
    *,
    name: str,
    symbols: Mapping[str, sp.Symbol] | None = None,
    allow_infinity: bool = False,
    max_length: int = MAX_LENGTH,
) -> Any:
    r"""Parse ``text`` into a SymPy number, expression or nested list, running no code.

    Parameters
    ----------
    text : str
        What the user typed.
    name : str
        The parameter's name, for the error message.
    symbols : mapping of str to sympy.Symbol, optional
        Names that may appear (a result's own parameters, for symbolic use).
    allow_infinity : bool
        Whether ``oo`` is a valid word (only for domains that contain it).
    max_length : int
        Longest accepted string.

    Returns
    -------
    sympy.Expr or list
        A SymPy expression, or a list (of lists) of them for bracketed input.

    Raises
    ------
    ParameterError
        Anything outside the whitelist or over a limit, named and explained.

    Examples
    --------
    >>> parse_expression("2**-3 + Rational(1, 8)", name="x")
    1/4
    >>> parse_expression("[[1, 0], [1/2, 1/2]]", name="T")
    [[1, 0], [1/2, 1/2]]
    >>> parse_expression("9**9**9", name="theta")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    closedform.ParameterError: theta: 9**387420489 is too large (a power or exponential may reach 10**1000 at most)
    """
    if not isinstance(text, str):
        raise ParameterError(f"{name} must be given as text here, got {type(text).__name__}")
    if len(text) > max_length:
        raise ParameterError(f"{name}: the text has {len(text):,} characters; at most {max_length:,} are accepted")
    stripped = text.strip()
    if not stripped:
        raise ParameterError(f"{name} is empty; give a number such as 1/2 or 0.3")
    try:
        tree = ast.parse(stripped, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise ParameterError(f"{name}: cannot read {_show(text)} as a number or expression ({_ALLOWED})") from None
    walker = _Walker(name, stripped, dict(symbols or {}), allow_infinity)
    try:
        return walker.visit(tree.body, 0)
    except ParameterError:
        raise
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        raise ParameterError(f"{name}: cannot evaluate {_show(text)} safely") from None


def as_expr(value: Any, name: str = "value") -> Any:
    """A SymPy object from a number, a SymPy object or text, never through ``eval``.

    The safe replacement for ``sympify`` in the closed forms: text goes through
    :func:`parse_expression`, every other value through ``sympify(strict=True)``,
    which converts numbers and SymPy objects and refuses anything it would have
    to parse.

    Parameters
    ----------
    value : number, sympy.Basic or str
    name : str
        Named in the error message.

    Returns
    -------
    sympy.Basic

    Examples
    --------
    >>> as_expr(0.5), as_expr("1/3"), as_expr(sp.pi)
    (0.500000000000000, 1/3, pi)
    >>> as_expr(None, "t")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: t must be a number or SymPy expression, got NoneType
    """
    if isinstance(value, str):
        return parse_expression(value, name=name)
    try:
        return sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError):
        raise ParameterError(f"{name} must be a number or SymPy expression, got {type(value).__name__}") from None


def _show(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 3] + "...")


class _Walker:
    """A whitelisting evaluator: every node type it does not name is refused."""

    def __init__(self, name: str, text: str, symbols: dict[str, sp.Symbol], allow_infinity: bool):
        self.name, self.text, self.symbols, self.allow_infinity = name, text, symbols, allow_infinity

    def fail(self, what: str) -> ParameterError:
        return ParameterError(f"{self.name}: {what}")

    def visit(self, node: ast.AST, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested more than {MAX_DEPTH} deep")
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise self.fail(f"{_describe(node)} is not allowed ({_ALLOWED})")
        return method(node, depth + 1)

    # -- leaves ---------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant, depth: int) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{value!r} is not a number")
        source = ast.get_source_segment(self.text, node) or repr(value)
        digits = sum(ch.isdigit() for ch in source)
        if digits > MAX_DIGITS:
            raise self.fail(f"a number of {digits} digits is too long (at most {MAX_DIGITS})")
        if isinstance(value, int):
            return sp.Integer(value)
        # The exact decimal the text spells: 0.3 -> 3/10, 1e-3 -> 1/1000.
        mantissa, _, exponent = source.replace("_", "").lower().partition("e")
        if exponent and abs(int(exponent)) > MAX_EXP10:
            raise self.fail(f"{source} is too large (a power or exponential may reach 10**{MAX_EXP10} at most)")
        return sp.Rational(mantissa) * sp.Integer(10) ** int(exponent or 0)

    def visit_Name(self, node: ast.Name, depth: int) -> sp.Expr:
        word = node.id
        if word in _CONSTANTS:
            return _CONSTANTS[word]
        if word == "oo":
            if not self.allow_infinity:
                raise self.fail("oo (infinity) is outside this parameter's domain")
            return sp.oo
        if word in self.symbols:
            return self.symbols[word]
        raise self.fail(f"{word!r} is not allowed ({_ALLOWED})")

    # -- operators ------------------------------------------------------------
    def visit_UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Expr:
        operand = self.scalar(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.fail(f"{_describe(node)} is not allowed ({_ALLOWED})")

    def visit_BinOp(self, node: ast.BinOp, depth: int) -> sp.Expr:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise self.fail(f"{_describe(node)} is not allowed ({_ALLOWED})")
        left, right = self.scalar(node.left, depth), self.scalar(node.right, depth)
        if op == "+":
            return self.sized(left + right)
        if op == "-":
            return self.sized(left - right)
        if op == "*":
            self.bound_product(left, right)
            return self.sized(left * right)
        if op == "/":
            if right == 0:
                raise self.fail("division by zero")
            self.bound_product(left, right)
            return self.sized(left / right)
        self.bound_power(left, right, node)
        return self.sized(left**right)

    def visit_Call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail(f"{_describe(node)} is not allowed ({_ALLOWED})")
        word = node.func.id
        args = [self.scalar(a, depth) for a in node.args]
        if word == "Rational":
            if len(args) != 2 or not all(a.is_Integer for a in args) or args[1] == 0:
                raise self.fail("Rational takes two integers p, q with q != 0")
            return sp.Rational(args[0], args[1])
        function = _FUNCTIONS.get(word)
        if function is None:
            raise self.fail(f"{word!r} is not allowed ({_ALLOWED})")
        if len(args) != 1:
            raise self.fail(f"{word} takes one argument, got {len(args)}")
        if word == "exp":
            self.bound_exp10(_magnitude(args[0]) / math.log(10), f"exp({sp.sstr(args[0])})")
        if word == "log" and args[0] == 0:
            raise self.fail("log(0) is not a finite number")
        return function(args[0])

    # -- brackets -------------------------------------------------------------
    def visit_List(self, node: ast.List, depth: int) -> list:
        return [self.visit(e, depth) for e in node.elts]

    visit_Tuple = visit_List

    # -- helpers --------------------------------------------------------------
    def scalar(self, node: ast.AST, depth: int) -> sp.Expr:
        value = self.visit(node, depth)
        if isinstance(value, list):
            raise self.fail("brackets cannot appear inside arithmetic")
        return value

    def bound_exp10(self, exp10: float, shown: str) -> None:
        if not exp10 <= MAX_EXP10:
            raise self.fail(f"{shown} is too large (a power or exponential may reach 10**{MAX_EXP10} at most)")

    def bound_product(self, left: sp.Expr, right: sp.Expr) -> None:
        self.bound_exp10(abs(_log10_abs(left)) + abs(_log10_abs(right)), "a product")

    def bound_power(self, base: sp.Expr, exponent: sp.Expr, node: ast.AST) -> None:
        shown = f"{sp.sstr(base)}**{sp.sstr(exponent)}"
        if base == 0 and _magnitude(exponent, signed=True) < 0:
            raise self.fail(f"{shown} divides by zero")
        if base in (0, 1, -1) or exponent.free_symbols:
            return
        power = _magnitude(exponent)
        # An exact rational base is raised exactly: its numerator and denominator grow by the
        # exponent's factor.  Any other base: the value is 10**(exponent * log10|base|).
        if base.is_Rational:
            size = max(abs(_log10_abs(sp.Integer(base.p))), abs(_log10_abs(sp.Integer(base.q))), 1.0)
        else:
            size = abs(_log10_abs(base))
        self.bound_exp10(power * size, shown)

    def sized(self, value: Any) -> Any:
        """Refuse an exact intermediate with too many digits (it would make every later step slow)."""
        if isinstance(value, sp.Rational) and int(value.p).bit_length() + int(value.q).bit_length() > _MAX_BITS:
            raise self.fail(f"an intermediate number has more than {MAX_EXP10} digits")
        return value


#: Bits of numerator plus denominator an exact intermediate may have (about 2 * MAX_EXP10 digits).
_MAX_BITS = int(2 * MAX_EXP10 * math.log2(10)) + 64


def _magnitude(expr: sp.Expr, signed: bool = False) -> float:
    """A float estimate of ``expr`` (a huge exponent is kept as a huge float, not computed)."""
    if expr.free_symbols:
        return 0.0
    try:
        value = complex(sp.N(expr, 15))
    except (TypeError, ValueError, OverflowError):
        return math.inf
    return value.real if signed else abs(value)


def _log10_abs(expr: sp.Expr) -> float:
    """log10 |expr| for a number (0 where it is 0 or symbolic, so only magnitudes count)."""
    if expr.free_symbols or expr == 0:
        return 0.0
    if expr.is_Integer:
        return (len(str(abs(int(expr)))) - 1) if abs(int(expr)) > 10**15 else math.log10(abs(int(expr)))
    if expr.is_Rational:
        return _log10_abs(sp.Integer(expr.p)) - _log10_abs(sp.Integer(expr.q))
    try:
        import mpmath

        with mpmath.workdps(15):
            value = abs(sp.N(expr, 15))
            return float(mpmath.log10(mpmath.mpf(value))) if value != 0 else 0.0
    except (TypeError, ValueError, OverflowError):
        return math.inf


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "an attribute access",
        ast.Subscript: "indexing",
        ast.Lambda: "a lambda",
        ast.Compare: "a comparison",
        ast.BoolOp: "a boolean operator",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.JoinedStr: "an f-string",
        ast.ListComp: "a comprehension",
        ast.GeneratorExp: "a generator",
        ast.IfExp: "a conditional",
        ast.Starred: "a starred argument",
        ast.NamedExpr: "an assignment",
    }
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            return repr(func.attr)
        if isinstance(func, ast.Name):
            return repr(func.id)
        return "a call"
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return f"the operator {type(node.op).__name__}"
    return names.get(type(node), type(node).__name__)
