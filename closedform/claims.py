r"""Check your own derivation: a claim in a few lines gets every check a built-in result gets.

:func:`claim` turns a closed form, its parameters and any of an unevaluated
left side, an oracle, a simulator and derivations into a
:class:`~closedform.spec.Result`, the very type of a registry line;
:func:`derivation` writes a step-checked :class:`~closedform.proofs.core.Proof`
one step at a time; :func:`verify` runs every check and returns a
:class:`VerifyTable`.  :func:`load_results` reads the claims of a file or
module (``closedform verify --results my_claims.py``).

A bad claim is refused when it is made, with one :class:`ClaimError` line
naming the claim and the problem; a wrong one passes every construction
step and fails its checks, which say by how much.

Examples
--------
>>> import sympy as sp
>>> import closedform as cf
>>> n = cf.integer("n", 1, 40)
>>> k = sp.Symbol("k", integer=True)
>>> semicircle = cf.claim(
...     "semicircle_doc", [n], n.symbol() / 2 ** (n.symbol() - 1),
...     lhs=sp.Sum(sp.binomial(n.symbol(), k) * (-1) ** (k + 1) * sp.Max(0, 1 - k / sp.Integer(2)) ** (n.symbol() - 1),
...                (k, 1, n.symbol())),
...     cases=[{"n": 3}, {"n": 5}],
...     title="n uniform points of a circle lie in one semicircle")
>>> table = cf.verify(semicircle)
>>> table.ok, [r.status for r in table.rows]
(True, ['pass', 'pass'])
"""

from __future__ import annotations

import functools
import hashlib
import html
import importlib
import importlib.util
import inspect
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from closedform.derive.errors import ParameterError
from closedform.params import Param, validate_all
from closedform.proofs.core import Domain, Proof, Step, StepCheck
from closedform.spec import Result, Simulation, float_or_exact

__all__ = [
    "ClaimError",
    "Derivation",
    "VerifyTable",
    "claim",
    "derivation",
    "load_results",
    "results_of",
    "verify",
]

#: Topic of a claim that does not name one.
DEFAULT_TOPIC = "claims"
#: Guard digits of the oracles derived from a left side, above the caller's ``mp.dps``.
GUARD_DIGITS = 20
#: Least digits an oracle works at (the project's standard for deterministic checks).
MIN_ORACLE_DPS = 30
#: Trials of the probe run that checks a simulator's outcomes when the claim is made.
PROBE_SIZE = 8
#: Bits of a SymPy ``Float`` below which an oracle's value counts as low precision (about 30 digits).
MIN_ORACLE_BITS = 100


class ClaimError(ParameterError):
    """A claim that cannot be checked as written: one line naming the claim and the problem.

    A :class:`~closedform.ParameterError`, so the CLI prints it as one line with exit status 2.

    Examples
    --------
    >>> raise ClaimError("claim 'x': the closed form has a free symbol m that is not a parameter")
    Traceback (most recent call last):
    ...
    closedform.claims.ClaimError: claim 'x': the closed form has a free symbol m that is not a parameter
    """


def _fail(name: str, problem: str) -> ClaimError:
    return ClaimError(f"claim {name!r}: {problem}")


# ---------------------------------------------------------------------------
# Closed forms and left sides
# ---------------------------------------------------------------------------


def _as_expr(value: Any, name: str, what: str) -> sp.Basic:
    """A SymPy expression or Matrix from an expression, a Matrix or a list of expressions (never a string)."""
    if isinstance(value, str):
        raise _fail(name, f"the {what} is the string {value!r}; give a SymPy expression (strings are never evaluated)")
    if isinstance(value, (list, tuple)):
        value = sp.Matrix([_as_expr(v, name, what) for v in value])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = sp.Integer(value) if isinstance(value, int) else sp.Float(value, precision=53)
    if not isinstance(value, (sp.Expr, sp.MatrixBase)):
        raise _fail(name, f"the {what} must be a SymPy expression, got {type(value).__name__}")
    return value


def _check_free_symbols(expr: sp.Basic, params: Sequence[Param], name: str, what: str) -> None:
    names = {p.name for p in params}
    extra = sorted({s.name for s in expr.free_symbols} - names)
    if extra:
        plural = "s" if len(extra) > 1 else ""
        raise _fail(
            name,
            f"the {what} has free symbol{plural} {', '.join(extra)} that {'are' if plural else 'is'} not a "
            f"parameter (parameters: {', '.join(sorted(names)) or 'none'})",
        )


def _with_param_symbols(expr: sp.Basic, params: Sequence[Param]) -> sp.Basic:
    """``expr`` with every symbol named like a parameter replaced by that parameter's own symbol."""
    by_name = {p.name: p.symbol() for p in params}
    return expr.xreplace({s: by_name[s.name] for s in expr.free_symbols if s.name in by_name})


def _substitute(expr: sp.Basic, params: Sequence[Param], values: Mapping[str, Any], name: str) -> sp.Basic:
    mapping = {}
    for p in params:
        v = values[p.name]
        if p.symbol() not in expr.free_symbols:
            continue
        if not isinstance(v, sp.Basic):
            raise _fail(
                name, f"parameter {p.name} ({p.kind}) cannot stand in an expression; give a callable closed form"
            )
        mapping[p.symbol()] = v
    return expr.xreplace(mapping)


def _closed_form_function(name: str, params: Sequence[Param], closed_form: Any) -> Callable[..., Any]:
    """``closed_form(**validated values) -> SymPy``, with the free symbols checked now."""
    if callable(closed_form) and not isinstance(closed_form, sp.Basic):
        user = closed_form

        def from_callable(**values: Any) -> Any:
            return float_or_exact(_as_expr(user(**values), name, "closed form"))

        try:
            symbolic = from_callable(**{p.name: p.symbol() for p in params})
        except ClaimError:
            raise
        except Exception:  # noqa: BLE001 - a closed form needing numbers is checked at its cases instead
            symbolic = None
        if symbolic is not None:
            _check_free_symbols(symbolic, params, name, "closed form")
        return from_callable
    expr = _with_param_symbols(_as_expr(closed_form, name, "closed form"), params)
    _check_free_symbols(expr, params, name, "closed form")

    def from_expression(**values: Any) -> Any:
        return float_or_exact(_substitute(expr, params, values, name))

    return from_expression


def _lhs_function(name: str, params: Sequence[Param], lhs: Any) -> tuple[Callable[..., Any], sp.Basic | None]:
    if lhs is None:
        head = sp.Function(name)

        def default_lhs(**values: Any) -> Any:
            scalars = [values[p.name] for p in params if isinstance(values[p.name], sp.Basic)]
            return head(*scalars) if scalars else sp.Symbol(name)

        return default_lhs, None
    expr = _with_param_symbols(_as_expr(lhs, name, "left side"), params)
    _check_free_symbols(expr, params, name, "left side")
    return (lambda **values: _substitute(expr, params, values, name)), expr


# ---------------------------------------------------------------------------
# Oracles: derived from the left side, or the user's own
# ---------------------------------------------------------------------------


def _linear_root(arg: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """The root of ``arg`` in ``x`` when ``arg`` is linear in ``x`` (a kink of |arg|, max, a step)."""
    if not arg.has(x):
        return None
    slope = sp.diff(arg, x)
    if slope.has(x) or slope == 0:
        return None
    return sp.simplify(-arg.subs(x, 0) / slope)


def kinks_of(expr: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    r"""Points where ``expr`` is not smooth in ``x``: roots of the arguments of ``Abs``, ``Max``, ``Min``,
    ``Heaviside`` and of the conditions of a ``Piecewise``, when they are linear in ``x``.

    Quadrature converges fast only on pieces where the integrand is smooth, so the
    derived oracle splits its interval there (and at the kinks the claim states).

    Parameters
    ----------
    expr : sympy.Expr
    x : sympy.Symbol
        The integration variable.

    Returns
    -------
    list of sympy.Expr

    Examples
    --------
    >>> t, a = sp.symbols("t a")
    >>> kinks_of(sp.Abs(t - a) + sp.Max(0, 2 * t - 1), t)
    [1/2, a]
    """
    found: set[sp.Expr] = set()
    for node in sp.preorder_traversal(expr):
        args: list[sp.Expr] = []
        if isinstance(node, (sp.Abs, sp.Heaviside)):
            args = [node.args[0]]
        elif isinstance(node, (sp.Max, sp.Min)):
            args = [u - v for i, u in enumerate(node.args) for v in node.args[i + 1 :]]
        elif isinstance(node, sp.Piecewise):
            args = [c.lhs - c.rhs for _, c in node.args if isinstance(c, sp.core.relational.Relational)]
        for arg in args:
            root = _linear_root(sp.sympify(arg, strict=True), x)
            if root is not None:
                found.add(root)
    return sorted(found, key=sp.default_sort_key)


def _mpf(expr: sp.Basic) -> Any:
    value = sp.N(expr, mpmath.mp.dps + 5)
    if not value.is_number:
        raise ValueError(f"{sp.sstr(expr)[:80]} is not a number")
    if value.is_real is False and abs(sp.im(value)) > 0:
        return mpmath.mpc(sp.re(value), sp.im(value))
    return mpmath.mpf(sp.re(value))


def _integrand(expr: sp.Expr, x: sp.Symbol, kinks: Mapping[str, Sequence[Any]]) -> Callable[[Any], Any]:
    if expr.has(sp.Integral, sp.Sum):
        # A nested integral or sum: evaluate it afresh at each point of the outer variable.
        return lambda t: evaluate_mp(expr.xreplace({x: sp.Float(t, mpmath.mp.dps)}), kinks)
    return sp.lambdify([x], expr, modules="mpmath")


def _evaluate_integral(integral: sp.Integral, kinks: Mapping[str, Sequence[Any]]) -> Any:
    if len(integral.limits) > 1:
        inner = sp.Integral(integral.function, integral.limits[0])
        return _evaluate_integral(sp.Integral(inner, *integral.limits[1:]), kinks)
    x, lo, hi = integral.limits[0]
    f = _integrand(integral.function, x, kinks)
    a, b = _mpf(lo), _mpf(hi)
    inside = []
    for k in [*kinks_of(integral.function, x), *kinks.get(x.name, ())]:
        if k.free_symbols:
            continue  # a kink depending on an outer variable not bound yet
        v = _mpf(k)
        if min(a, b) < v < max(a, b) and v not in inside:
            inside.append(v)
    points = [a, *sorted(inside, reverse=b < a), b]
    return mpmath.quad(f, points)


def _evaluate_sum(total: sp.Sum, kinks: Mapping[str, Sequence[Any]]) -> Any:
    if len(total.limits) > 1:
        inner = sp.Sum(total.function, total.limits[0])
        return _evaluate_sum(sp.Sum(inner, *total.limits[1:]), kinks)
    k, lo, hi = total.limits[0]
    term = _integrand(total.function, k, kinks)
    # Terms get mpf indices: with Python ints a lambdified 1/k**2 would divide in float64.
    if hi == sp.oo:
        return mpmath.nsum(lambda j: term(mpmath.mpf(j)), [int(lo), mpmath.inf])
    a, b = int(lo), int(hi)
    return mpmath.fsum(term(mpmath.mpf(j)) for j in range(a, b + 1))


def evaluate_mp(expr: sp.Basic, kinks: Mapping[str, Sequence[Any]] | None = None) -> Any:
    r"""An unevaluated SymPy ``Integral``, ``Sum`` or ``Piecewise`` (no free symbols) by mpmath.

    Integrals by tanh-sinh quadrature split at the kinks (:func:`kinks_of` and
    ``kinks``), finite sums term by term with ``fsum``, infinite ones with
    ``nsum``; everything else by SymPy's ``evalf``.  Works at ``mp.dps`` digits.

    Parameters
    ----------
    expr : sympy.Basic
        A number-valued expression, possibly holding integrals and sums.
    kinks : mapping, optional
        Integration variable name -> extra points where the integrand is not smooth.

    Returns
    -------
    mpmath.mpf

    Examples
    --------
    >>> t, k = sp.symbols("t k")
    >>> with mpmath.workdps(40):
    ...     v = evaluate_mp(sp.Integral(sp.Abs(t - sp.Rational(1, 3)), (t, 0, 1)))
    >>> mpmath.nstr(v, 30)
    '0.277777777777777777777777777778'
    >>> mpmath.nstr(evaluate_mp(sp.Sum(1 / k**2, (k, 1, sp.oo))), 15)
    '1.64493406684823'
    """
    kinks = kinks or {}
    expr = sp.sympify(expr, strict=True)  # strict: never parses text
    if isinstance(expr, sp.Integral):
        return _evaluate_integral(expr, kinks)
    if isinstance(expr, sp.Sum):
        return _evaluate_sum(expr, kinks)
    if isinstance(expr, sp.Piecewise):
        for piece, cond in expr.args:
            if cond == sp.true or bool(cond):
                return evaluate_mp(piece, kinks)
        raise ValueError("no piece of the Piecewise applies")
    if isinstance(expr, sp.MatrixBase):
        return [evaluate_mp(e, kinks) for e in expr]
    if expr.has(sp.Integral, sp.Sum, sp.Piecewise):
        parts = [a for a in expr.atoms(sp.Integral, sp.Sum, sp.Piecewise)]
        mapping = {a: sp.Float(evaluate_mp(a, kinks), mpmath.mp.dps) for a in parts}
        return evaluate_mp(expr.xreplace(mapping), kinks)
    return _mpf(expr)


def _lhs_oracle(name, params, lhs_fn: Callable[..., Any], kinks: Mapping[str, Sequence[Any]], lhs: sp.Basic):
    kind = "quadrature" if lhs.has(sp.Integral) else ("summation" if lhs.has(sp.Sum) else "evaluation")

    def oracle(**values: Any) -> Any:
        # Stated kinks may depend on the parameters: they are placed at this case's values.
        here = {var: [_substitute(k, params, values, name) for k in points] for var, points in kinks.items()}
        with mpmath.workdps(max(mpmath.mp.dps, MIN_ORACLE_DPS) + GUARD_DIGITS):
            value = evaluate_mp(lhs_fn(**values), here)
        return [+v for v in value] if isinstance(value, list) else +value

    split = " split at its kinks" if kind == "quadrature" else ""
    oracle.label = f"mpmath {kind} of the left side at {MIN_ORACLE_DPS}+ digits{split}"  # type: ignore[attr-defined]
    return oracle


def _checked_oracle_value(name: str, value: Any) -> Any:
    """The user oracle's value, refused when it is a plain float (53 bits cannot test 1e-12 agreement)."""
    if isinstance(value, sp.MatrixBase):
        return [_checked_oracle_value(name, v) for v in value]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_checked_oracle_value(name, v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        raise _fail(name, f"the oracle returned the boolean {value!r}; return an mpmath.mpf")
    if isinstance(value, (float, np.floating)):
        raise _fail(
            name,
            f"the oracle returned the plain float {float(value)!r} (53 bits, about 16 digits); compute it with "
            f"mpmath at mp.dps >= {MIN_ORACLE_DPS} and return the mpmath.mpf",
        )
    if isinstance(value, sp.Float) and value._prec < MIN_ORACLE_BITS:
        raise _fail(
            name, f"the oracle returned a SymPy Float of {value._prec} bits; give at least {MIN_ORACLE_DPS} digits"
        )
    if isinstance(value, (mpmath.mpf, mpmath.mpc, int, np.integer, sp.Rational)):
        return value
    if isinstance(value, sp.Basic) and value.is_number:
        return value
    raise _fail(name, f"the oracle returned {type(value).__name__}; return an mpmath.mpf (or a list of them)")


def _user_oracle(name: str, params: Sequence[Param], oracle: Callable[..., Any]):
    def checked(**values: Any) -> Any:
        with mpmath.workdps(max(mpmath.mp.dps, MIN_ORACLE_DPS)):
            views = {p.name: p.to_mpmath(values[p.name]) for p in params}
            return _checked_oracle_value(name, oracle(**views))

    checked.label = "the claim's own oracle"  # type: ignore[attr-defined]
    return checked


# ---------------------------------------------------------------------------
# Simulators: a Numba trial body or a vectorised NumPy function
# ---------------------------------------------------------------------------


def _signature_names(func: Callable[..., Any]) -> list[str]:
    target = getattr(func, "py_func", func)
    try:
        return list(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return []


def simulator_form(func: Callable[..., Any]) -> str:
    """``"numpy"`` for ``f(rng, size, **params)``, ``"trial"`` for ``trial(states, stream, *params)``.

    Examples
    --------
    >>> simulator_form(lambda rng, size, p: rng.random(size) < p)
    'numpy'
    >>> simulator_form(lambda states, stream, p: True)
    'trial'
    """
    names = _signature_names(func)
    if names[:2] == ["rng", "size"]:
        return "numpy"
    if names[:2] == ["states", "stream"]:
        return "trial"
    return "unknown"


def _claim_components(closed_form_fn: Callable[..., Any], values: Mapping[str, Any]) -> int | None:
    """None for a scalar closed form, k for a vector of k components."""
    expr = closed_form_fn(**values)
    return len(expr) if isinstance(expr, sp.MatrixBase) else None


def _outcome_for(name: str, got: str, components: int | None) -> str:
    if components is None and got == "category":
        raise _fail(
            name,
            "the simulator returns integers (categories) but the closed form is one number: return booleans for an "
            "event (the claim is its probability) or floats for a value (the claim is their mean)",
        )
    if components is not None and got != "category":
        raise _fail(
            name,
            f"the closed form has {components} components but the simulator returns {got}s: return an integer "
            f"category in 0..{components - 1} per trial (the claim is the vector of their probabilities)",
        )
    return got


def _numpy_simulation(name, params, simulate, closed_form_fn, case_values) -> Simulation:
    from closedform.numeric.numpy_kernel import (
        OUTCOME_OF_KIND,
        NumpyKernel,
        block_generator,
        check_outcomes,
        pack_values,
        unpack_keywords,
    )

    wanted = [p.name for p in params]
    got_names = _signature_names(simulate)[2:]
    if sorted(got_names) != sorted(wanted) and not any(
        v.kind == inspect.Parameter.VAR_KEYWORD for v in inspect.signature(simulate).parameters.values()
    ):
        raise _fail(name, f"the NumPy simulator takes {got_names} after (rng, size); the parameters are {wanted}")
    kinds = [p.kind for p in params]
    options = [p.options for p in params]
    components = _claim_components(closed_form_fn, case_values)
    views = {p.name: p.to_float(case_values[p.name]) for p in params}
    try:
        probe = simulate(block_generator(0, 0), PROBE_SIZE, **views)
    except Exception as exc:  # noqa: BLE001 - the user's code: report it as one line
        raise _fail(name, f"the NumPy simulator raised {type(exc).__name__}: {exc}") from None
    if not isinstance(probe, np.ndarray):
        raise _fail(name, f"the NumPy simulator must return a numpy array of size outcomes, got {type(probe).__name__}")
    got = OUTCOME_OF_KIND.get(probe.dtype.kind)
    if got is None:
        raise _fail(name, f"the NumPy simulator returned dtype {probe.dtype}; return booleans, integers or floats")
    outcome = _outcome_for(name, got, components)
    try:
        check_outcomes(probe, PROBE_SIZE, outcome, components or 1, name)
    except ParameterError as exc:  # already "claim 'name': ..."; raised here as the claim's error
        raise ClaimError(str(exc)) from None
    kernel = NumpyKernel(
        simulate, functools.partial(unpack_keywords, wanted, kinds, options), outcome, components or 1, owner=name
    )

    def pack(**values: Any) -> np.ndarray:
        return pack_values(kinds, [p.to_float(values[p.name]) for p in params], options)

    return Simulation(
        kernel,
        pack,
        kind="mean" if outcome == "value" else "proportion",
        description=f"NumPy simulator {getattr(simulate, '__name__', '')} in seeded blocks of {kernel.block} trials",
    )


def _trial_simulation(name, params, simulate, closed_form_fn, case_values) -> Simulation:
    from closedform.numeric.rng import make_states
    from closedform.numeric.trial_kernel import MAX_ARGS, TrialKernel

    bad = [p.name for p in params if not p.is_scalar]
    if bad:
        raise _fail(
            name,
            f"a Numba trial function takes scalar parameters only; {', '.join(bad)} is not one "
            "(write a NumPy simulator f(rng, size, **params) instead)",
        )
    if len(params) > MAX_ARGS:
        raise _fail(name, f"a Numba trial function takes at most {MAX_ARGS} parameters")
    wanted = [p.name for p in params]
    got_names = _signature_names(simulate)[2:]
    if got_names != wanted:
        raise _fail(
            name, f"the trial function takes {got_names} after (states, stream); the parameters in order are {wanted}"
        )
    components = _claim_components(closed_form_fn, case_values)
    args = [p.to_float(case_values[p.name]) for p in params]
    # One trial in plain Python on a throwaway stream: the outcome's type fixes the form, and a
    # bad outcome is caught here, before any compilation.
    py = getattr(simulate, "py_func", simulate)
    try:
        probe = py(make_states(0, 1), 0, *args)
    except Exception as exc:  # noqa: BLE001 - the user's code: report it as one line
        raise _fail(name, f"the trial function raised {type(exc).__name__}: {exc}") from None
    if isinstance(probe, (bool, np.bool_)):
        got = "event"
    elif isinstance(probe, (int, np.integer)):
        got = "category"
    elif isinstance(probe, (float, np.floating)):
        got = "value"
    else:
        raise _fail(name, f"the trial function returned {type(probe).__name__}; return a bool, an int or a float")
    outcome = _outcome_for(name, got, components)
    if outcome == "category" and not 0 <= int(probe) < components:
        raise _fail(name, f"the trial function returned category {int(probe)}, outside 0..{components - 1}")
    if outcome == "value" and not math.isfinite(float(probe)):
        raise _fail(name, f"the trial function returned {float(probe)} (values must be finite)")
    kernel = TrialKernel(simulate, outcome, tuple(p.kind == "integer" for p in params), components or 1, owner=name)

    def pack(**values: Any) -> np.ndarray:
        return np.array([float(p.to_float(values[p.name])) for p in params], dtype=np.float64)

    return Simulation(
        kernel,
        pack,
        kind="mean" if outcome == "value" else "proportion",
        description=f"Numba trial function {getattr(py, '__name__', '')} through the CPU prange / CUDA drivers",
    )


def _simulation(name, params, simulate, closed_form_fn, cases) -> Simulation | None:
    if simulate is None:
        return None
    if isinstance(simulate, Simulation):
        return simulate
    if not callable(simulate):
        raise _fail(name, f"simulate must be a function, got {type(simulate).__name__}")
    if not cases:
        raise _fail(name, "a claim with a simulator needs at least one case to check it at")
    form = simulator_form(simulate)
    if form == "unknown":
        raise _fail(
            name,
            "simulate must be a NumPy simulator f(rng, size, **params) or a Numba trial function "
            "trial(states, stream, *params) (the first two argument names tell which)",
        )
    build = _numpy_simulation if form == "numpy" else _trial_simulation
    return build(name, params, simulate, closed_form_fn, cases[0])


# ---------------------------------------------------------------------------
# Derivations
# ---------------------------------------------------------------------------


def _domains(params: Sequence[Param]) -> dict[sp.Symbol, Domain]:
    """Random-point ranges of the step checks: each scalar parameter's typical range."""
    out: dict[sp.Symbol, Domain] = {}
    for p in params:
        if p.is_scalar and len(p.typical) == 2:
            lo, hi = p.typical
            out[p.symbol()] = (lo, hi, p.kind == "integer")
    return out


def _random_point(symbols: Sequence[sp.Symbol], domains: Mapping[sp.Symbol, Domain], rng: Any) -> dict:
    point = {}
    for s in symbols:
        lo, hi, integer = domains.get(s, (1, 12, True) if s.is_integer else (0, 5, False))
        if integer:
            point[s] = sp.Integer(rng.randint(int(lo), int(hi)))
        else:
            lo_q, hi_q = sp.nsimplify(lo), sp.nsimplify(hi)
            point[s] = lo_q + (hi_q - lo_q) * sp.Rational(rng.randint(1, 997), 998)
    return point


def _doit_simplify(expr: sp.Expr) -> sp.Expr:
    """Evaluate the integrals and sums SymPy can do, then simplify (so that such steps can be PROVED)."""
    return sp.simplify(expr.doit())


def integral_step_check(lhs: Any, rhs: Any, domains: Mapping[sp.Symbol, Domain], simplifier=None) -> StepCheck:
    r"""Check ``lhs = rhs`` as the proof engine does, but evaluate integrals and sums by :func:`evaluate_mp`.

    SymPy's numeric evaluation of an integral with a kink (``Abs``, ``Max``)
    can be wrong in the 8th digit, which would REFUTE a true step; here
    quadrature is split at the kinks, at 50 digits, and the sides must agree
    to 40.

    Returns
    -------
    closedform.proofs.core.StepCheck
    """
    import random

    from closedform.proofs.core import AGREE_DIGITS, NUMERIC_DIGITS, NUMERIC_POINTS, Verdict, check_equal

    has_limits = any(sp.sympify(e, strict=True).has(sp.Integral, sp.Sum) for e in (lhs, rhs))
    if simplifier is None and has_limits:
        simplifier = _doit_simplify
    first = check_equal(lhs, rhs, domains, simplifier=simplifier)
    if first.verdict == Verdict.PROVED or not has_limits:
        return first
    symbols = sorted(set().union(*(sp.sympify(e, strict=True).free_symbols for e in (lhs, rhs))), key=lambda s: s.name)
    rng = random.Random(0)
    agreed = 0
    for _ in range(NUMERIC_POINTS):
        point = _random_point(symbols, domains, rng)
        try:
            with mpmath.workdps(NUMERIC_DIGITS):
                u = evaluate_mp(sp.sympify(lhs, strict=True).xreplace(point))
                v = evaluate_mp(sp.sympify(rhs, strict=True).xreplace(point))
        except (ValueError, TypeError, ZeroDivisionError):
            continue
        if abs(u - v) > max(abs(u), abs(v), 1) * mpmath.mpf(10) ** (-AGREE_DIGITS):
            return StepCheck(Verdict.REFUTED, f"sides differ at {point}: {mpmath.nstr(u, 15)} vs {mpmath.nstr(v, 15)}")
        agreed += 1
    if agreed == 0:
        return first
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        f"no symbolic reduction to 0; agrees to {AGREE_DIGITS} digits at {agreed} random rational points "
        "(integrals by quadrature split at their kinks)",
    )


@dataclass
class Derivation(Proof):
    r"""A :class:`~closedform.proofs.core.Proof` written one step at a time (see :func:`derivation`).

    Each :meth:`step` claims that the previous expression equals the new one;
    ``.check()`` gives every step its verdict and ``.check().verdict`` the
    whole derivation's.

    Parameters
    ----------
    start : sympy expression
        The first expression (usually the left side of the claim).
    params : tuple of Param
        Their symbols stand for the parameters; a step checked numerically
        draws them from their typical ranges.
    """

    start: Any = None
    params: tuple[Param, ...] = ()
    _current: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.start = self._normalise(self.start)
        self._current = self.start
        if not self.statement:
            self.statement = sp.sstr(self.start)

    def _normalise(self, expr: Any) -> Any:
        if isinstance(expr, str):
            raise ClaimError(f"derivation {self.title!r}: steps are SymPy expressions, not strings ({expr!r})")
        expr = sp.sympify(expr, strict=True) if not isinstance(expr, sp.MatrixBase) else expr
        return _with_param_symbols(expr, self.params) if self.params else expr

    def step(
        self,
        expr: Any,
        why: str,
        *,
        relation: str = "=",
        check: Callable[[], StepCheck] | None = None,
        simplifier: Callable[[sp.Expr], sp.Expr] | None = None,
    ) -> Derivation:
        """Add the step ``previous = expr`` justified by ``why``; returns the derivation (chainable).

        Parameters
        ----------
        expr : sympy expression
            The new right side.
        why : str
            The justification, printed beside the step.
        relation : str
            The LaTeX relation (``=`` unless a ``check`` decides another one).
        check, simplifier : callable, optional
            As for :class:`~closedform.proofs.core.Step`.

        Returns
        -------
        Derivation
        """
        new = self._normalise(expr)
        old = self._current
        if check is None and relation == "=":
            domains = dict(self.domains)
            check = functools.partial(integral_step_check, old, new, domains, simplifier)
        self.steps.append(Step(old, new, why, relation, check, simplifier))
        self._current = new
        self._checked = None  # a new step: the verdicts are checked afresh
        self.statement = f"{sp.sstr(self.start)} = {sp.sstr(new)}"
        return self

    def __call__(self) -> Proof:
        """The derivation itself: so it can stand where a proof function is expected."""
        return self


def derivation(
    start: Any, *, title: str = "derivation", params: Sequence[Param] = (), statement: str = ""
) -> Derivation:
    r"""Start a step-checked derivation at ``start``; add steps with ``.step(expr, why=...)``.

    Parameters
    ----------
    start : sympy expression
        The first expression.
    title : str
        Shown in the verify table and the proof's rendering.
    params : sequence of Param, optional
        The parameters the expressions use (their symbols get the parameters'
        assumptions; numeric step checks draw from the typical ranges).
    statement : str, optional
        What the derivation establishes (default: ``start = last``).

    Returns
    -------
    Derivation
        A :class:`~closedform.proofs.core.Proof`: ``.check()``, ``.verdict``,
        ``.latex()`` (``align*``) and ``.text()``.

    Examples
    --------
    >>> import closedform as cf
    >>> n = cf.integer("n", 1, 30)
    >>> i = sp.Symbol("i", integer=True)
    >>> d = (cf.derivation(sp.Sum(sp.Rational(1, 2) ** (n.symbol() - 1), (i, 1, n.symbol())), params=[n])
    ...      .step(n.symbol() * sp.Rational(1, 2) ** (n.symbol() - 1), why="n equal terms")
    ...      .step(n.symbol() / 2 ** n.symbol(), why="a wrong power of two"))
    >>> [c.verdict.value for c in d.check().checked_steps]
    ['PROVED', 'REFUTED']
    >>> d.verdict.value
    'REFUTED'
    """
    params = tuple(params)
    return Derivation(title, statement, [], _domains(params), start=start, params=params)


def _proof_function(name: str, proof: Any) -> Callable[[], Proof]:
    if isinstance(proof, Proof):

        def make() -> Proof:
            return proof

        make.__name__ = proof.title.replace(" ", "_") or "derivation"
        make.__qualname__ = make.__name__
        return make
    if callable(proof):
        return proof
    raise _fail(name, f"proofs must be derivations, Proofs or functions returning one, got {type(proof).__name__}")


# ---------------------------------------------------------------------------
# The claim
# ---------------------------------------------------------------------------


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise ClaimError(f"claim name {name!r} must be a snake_case identifier such as 'semicircle'")
    from closedform.registry import RESULTS

    if any(r.name == name for r in RESULTS):
        raise _fail(name, "the name is taken by a built-in result (closedform list shows them); choose another")


def _check_params(name: str, params: Any) -> tuple[Param, ...]:
    from closedform.cli import RUN_OPTIONS

    reserved = RUN_OPTIONS | {"results"}  # --results is read before the parameters
    if isinstance(params, Param):
        params = (params,)
    params = tuple(params)
    for p in params:
        if not isinstance(p, Param):
            raise _fail(name, f"params must be Param objects (cf.real, cf.integer, ...), got {type(p).__name__}")
        if p.name in reserved:
            raise _fail(
                name,
                f"parameter {p.name!r} is named like a run option of the command line "
                f"({', '.join(sorted(reserved))}); rename it",
            )
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(name, f"parameter names repeat: {', '.join(dupes)}")
    return params


def _check_cases(name: str, params: Sequence[Param], cases: Any) -> tuple[dict[str, Any], ...]:
    if isinstance(cases, Mapping):
        cases = (cases,)
    out = []
    for i, case in enumerate(cases):
        if not isinstance(case, Mapping):
            raise _fail(name, f"case {i} must be a dict of parameter values, got {type(case).__name__}")
        try:
            validate_all(params, case, name)
        except ParameterError as exc:
            raise _fail(name, f"case {i} ({dict(case)}) is invalid: {exc}") from None
        out.append(dict(case))
    return tuple(out)


def claim(
    name: str,
    params: Sequence[Param] | Param,
    closed_form: Any,
    *,
    lhs: Any = None,
    oracle: Callable[..., Any] | None = None,
    simulate: Callable[..., Any] | None = None,
    proofs: Sequence[Any] = (),
    cases: Sequence[Mapping[str, Any]] = (),
    rtol: float = 1e-12,
    rtol_reason: str = "closed form and oracle both at 40 digits; 1e-12 leaves room for a float input",
    title: str = "",
    topic: str = DEFAULT_TOPIC,
    kinks: Mapping[str, Sequence[Any]] | None = None,
    trials: int = 10**6,
) -> Result:
    r"""State a claim; get a :class:`~closedform.spec.Result` that every check of a built-in result runs on.

    Parameters
    ----------
    name : str
        A snake_case name, not taken by a built-in result.
    params : sequence of Param
        From :func:`~closedform.params.real`, :func:`~closedform.params.integer`, ...
        No name may be a run option of the CLI (``trials``, ``seed``, ...).
    closed_form : sympy expression, list of them, or callable
        In the parameters' symbols (symbols are matched by name), a vector as a
        list or ``Matrix``; or ``closed_form(**values) -> sympy expression``.
    lhs : sympy expression, optional
        The unevaluated left side (``Integral``, ``Sum``, ``Piecewise``): printed
        in LaTeX and, unless ``oracle`` is given, evaluated by mpmath at 30+
        digits as the oracle (quadrature split at kinks, summation).
    oracle : callable, optional
        ``oracle(**values) -> mpmath.mpf`` (or a list), receiving ``mpf`` values at
        ``mp.dps >= 30``; a plain float is refused.
    simulate : callable, optional
        A NumPy simulator ``f(rng, size, **params)`` returning ``size`` booleans
        (an event: the claim is its probability), integer categories (the claim
        is the vector of their probabilities) or floats (the claim is their
        mean); or a Numba trial function ``trial(states, stream, *params)``
        written with :mod:`closedform.rng`, returning a bool, an int category or
        a float.
    proofs : sequence
        Derivations (:func:`derivation`), Proofs or functions returning a Proof.
    cases : sequence of dict
        Parameter values the checks run at (each validated now).
    rtol, rtol_reason : float, str
        Closed form vs oracle tolerance, and why it is that.
    title : str
        One line stating the claim.
    topic : str
        Its topic in ``closedform list`` (default ``"claims"``).
    kinks : mapping, optional
        Integration variable name -> points where the integrand of ``lhs`` is
        not smooth (SymPy expressions in the parameters), beyond those found in
        ``Abs``, ``Max``, ``Min`` and ``Piecewise``.
    trials : int
        Monte Carlo trials per case in ``verify`` (``thorough`` runs ten times more).

    Returns
    -------
    Result

    Raises
    ------
    ClaimError
        One line naming the claim and the problem.

    Examples
    --------
    >>> import closedform as cf
    >>> a = cf.unit_interval("a")
    >>> t = sp.Symbol("t")
    >>> r = cf.claim("mean_distance_doc", [a], a.symbol() ** 2 - a.symbol() + sp.Rational(1, 2),
    ...              lhs=sp.Integral(sp.Abs(t - a.symbol()), (t, 0, 1)), cases=[{"a": "1/3"}])
    >>> r.formula(a="1/3")
    Integral(Abs(t - 1/3), (t, 0, 1)) = 5/18
    >>> cf.claim("bad_doc", [a], a.symbol() + sp.Symbol("m"))
    Traceback (most recent call last):
    ...
    closedform.claims.ClaimError: claim 'bad_doc': the closed form has free symbol m that is not a parameter (parameters: a)
    """
    _check_name(name)
    params = _check_params(name, params)
    cases = _check_cases(name, params, cases)
    closed_form_fn = _closed_form_function(name, params, closed_form)
    lhs_fn, lhs_expr = _lhs_function(name, params, lhs)
    case_values = [validate_all(params, c, name) for c in cases]
    for c, values in zip(cases, case_values):
        try:
            value = closed_form_fn(**values)
        except ClaimError:
            raise
        except Exception as exc:  # noqa: BLE001 - the user's closed form: report it as one line
            raise _fail(name, f"the closed form fails at case {c}: {type(exc).__name__}: {exc}") from None
        _check_free_symbols(value, params, name, f"closed form at case {c}")
        if not all(
            sp.sympify(e, strict=True).is_number for e in (value if isinstance(value, sp.MatrixBase) else [value])
        ):
            raise _fail(name, f"the closed form at case {c} is not a number: {sp.sstr(value)[:80]}")
    kinks = {
        str(var): [_with_param_symbols(_as_expr(k, name, f"kink of {var}"), params) for k in points]
        for var, points in dict(kinks or {}).items()
    }
    if oracle is not None:
        if not callable(oracle):
            raise _fail(name, f"oracle must be a function, got {type(oracle).__name__}")
        oracle_fn = _user_oracle(name, params, oracle)
    elif lhs_expr is not None and lhs_expr.has(sp.Integral, sp.Sum, sp.Piecewise):
        oracle_fn = _lhs_oracle(name, params, lhs_fn, kinks, lhs_expr)
    else:
        oracle_fn = None
    simulation = _simulation(name, params, simulate, closed_form_fn, case_values)
    skips = {}
    if oracle_fn is None:
        skips["oracle"] = "no oracle: give lhs= (an unevaluated Integral, Sum or Piecewise) or oracle="
    if simulation is None:
        skips["simulation"] = "no simulator: give simulate="
    return Result(
        name=name,
        topic=topic,
        title=title or name.replace("_", " "),
        params=params,
        closed_form=closed_form_fn,
        lhs=lhs_fn,
        oracle=oracle_fn,
        simulation=simulation,
        proofs=tuple(_proof_function(name, p) for p in proofs),
        cases=cases,
        rtol=float(rtol),
        rtol_reason=rtol_reason,
        sim_trials=int(trials),
        skips=skips,
    )


# ---------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------

_COLUMNS = ("result", "check", "case", "status", "s", "detail")


@dataclass
class VerifyTable:
    """The rows of a verify run: the table ``closedform verify`` prints, as an object.

    Attributes
    ----------
    rows : list of closedform.checks.CheckRow
        One row per check, with its measured numbers in ``row.data``.
    """

    rows: list[Any]

    @property
    def ok(self) -> bool:
        """No REFUTED step, no failed check."""
        return not any(r.failed for r in self.rows)

    @property
    def failed(self) -> list[Any]:
        """The rows that failed."""
        return [r for r in self.rows if r.failed]

    def to_json(self, indent: int | None = 2) -> str:
        """The rows as the JSON of ``closedform verify --json``."""
        return json.dumps([r.as_dict() for r in self.rows], indent=indent, default=str)

    def __str__(self) -> str:
        from closedform.checks import format_table

        return format_table(self.rows)

    __repr__ = __str__

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (r.result, r.check, r.case, r.status, f"{r.seconds:.2f}", r.detail)
            )
            + "</tr>"
            for r in self.rows
        )
        failed = len(self.failed)
        return (
            f"<div><table><tr>{head}</tr>{body}</table><p>{len(self.rows) - failed} passed, {failed} failed</p></div>"
        )


def _as_results(results: Any) -> list[Result]:
    from closedform.registry import by_name

    if isinstance(results, (Result, str)):
        results = [results]
    out = []
    for r in results:
        if isinstance(r, str):
            try:
                r = by_name(r)
            except KeyError as exc:
                raise ParameterError(exc.args[0]) from None
        if not isinstance(r, Result):
            raise ParameterError(f"verify takes Results (cf.claim) or result names, got {type(r).__name__}")
        out.append(r)
    return out


def verify(
    results: Any,
    *,
    alpha: float = 1e-6,
    power: float = 0.99,
    thorough: bool = False,
    device: str = "cpu",
    trials: int | None = None,
    progress: bool = False,
) -> VerifyTable:
    r"""Run every check of ``results`` (proofs, oracle agreement, Monte Carlo z-tests) and tabulate them.

    Parameters
    ----------
    results : Result, str or iterable of them
        Claims, registry results, or their names.
    alpha : float
        The family-wise false-failure rate of the run, split by Bonferroni over
        the simulated cases and their components.
    power : float
        Each Monte Carlo row states the smallest discrepancy it detects with this power.
    thorough : bool
        Ten times each claim's trials.
    device : {"cpu", "cuda"}
        Where the Numba simulators run (NumPy simulators run on the CPU).
    trials : int, optional
        Replace every claim's trials.
    progress : bool
        Show a progress bar.

    Returns
    -------
    VerifyTable
        ``.ok``, ``.rows``, ``.to_json()``; prints as the ``closedform verify`` table.

    Examples
    --------
    >>> import closedform as cf
    >>> p = cf.unit_interval("p")
    >>> r = cf.claim("uniform_below_doc", [p], p.symbol(), cases=[{"p": "1/4"}],
    ...              simulate=lambda rng, size, p: rng.random(size) < p)
    >>> table = cf.verify(r, trials=200_000)
    >>> table.ok, table.rows[0].check, table.rows[0].data["power"]
    (True, 'simulation', 0.99)
    """
    from closedform import checks

    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must lie in (0, 1), got {alpha!r}")
    if not 0.0 < power < 1.0:
        raise ParameterError(f"power must lie in (0, 1), got {power!r}")
    planned = checks.plan(
        _as_results(results), thorough=thorough, alpha=alpha, device=device, trials=trials, power=power
    )
    return VerifyTable(checks.run_plan(planned, progress=progress))


# ---------------------------------------------------------------------------
# Loading claims from a file, a module or an entry point
# ---------------------------------------------------------------------------


def results_of(module: ModuleType, where: str) -> tuple[Result, ...]:
    """The results a module exposes: its ``RESULTS`` tuple, else every ``Result`` at module level.

    Parameters
    ----------
    module : module
    where : str
        How the user named it, for messages.

    Returns
    -------
    tuple of Result
    """
    if hasattr(module, "RESULTS"):
        found = module.RESULTS
        if isinstance(found, Result):
            found = (found,)
        found = tuple(found) if isinstance(found, Iterable) else ()
        wrong = [type(r).__name__ for r in found if not isinstance(r, Result)]
        if wrong:
            raise ClaimError(f"{where}: RESULTS must hold Result objects (cf.claim), got {wrong[0]}")
    else:
        seen: dict[int, Result] = {}
        for value in vars(module).values():
            if isinstance(value, Result):
                seen.setdefault(id(value), value)
        found = tuple(seen.values())
    if not found:
        raise ClaimError(f"{where}: defines no claim (a RESULTS tuple, or Result objects at module level)")
    return found


def _import_file(path: Path, where: str) -> ModuleType:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"closedform_results_{path.stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ClaimError(f"{where}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except ClaimError:
        del sys.modules[module_name]
        raise
    except Exception as exc:  # noqa: BLE001 - the user's file: report it as one line
        del sys.modules[module_name]
        raise ClaimError(f"{where}: importing it raised {type(exc).__name__}: {exc}") from None
    try:  # Dask workers cannot import a file by path: ship its functions by value
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)
    except (ImportError, ValueError):
        pass
    return module


def load_results(spec: str) -> tuple[Result, ...]:
    """The claims of ``spec``: a path to a ``.py`` file, or an importable module name.

    Parameters
    ----------
    spec : str
        ``path/to/claims.py`` or ``package.module``.

    Returns
    -------
    tuple of Result

    Raises
    ------
    ClaimError
        One line: no such file or module, the import failed, or it defines no claim.

    Examples
    --------
    >>> load_results("no/such/file.py")
    Traceback (most recent call last):
    ...
    closedform.claims.ClaimError: --results no/such/file.py: no such file
    """
    where = f"--results {spec}"
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        path = Path(spec)
        if not path.is_file():
            raise ClaimError(f"{where}: no such file")
        return results_of(_import_file(path, where), where)
    try:
        module = importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        raise ClaimError(
            f"{where}: no module named {exc.name!r} (give a path ending in .py, or a module name)"
        ) from None
    except ClaimError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module: report it as one line
        raise ClaimError(f"{where}: importing it raised {type(exc).__name__}: {exc}") from None
    return results_of(module, where)
