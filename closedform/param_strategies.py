"""Hypothesis strategies of every parameter kind: valid draws and out-of-domain draws.

Tests only (imports Hypothesis).  :meth:`Param.strategy` and
:meth:`Param.invalid_strategy` are the entry points; the registry-wide tests
draw each result's parameters from them (SciPy's ``draw_distribution_from_family``
idea), so every result is checked away from its hand-written cases too.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp
from hypothesis import strategies as st

from closedform.params import Param

#: Most entries beyond its least length a drawn vector or token sequence has (the oracles are
#: 30-digit quadratures whose cost grows fast with the length: EXACT's gradient takes a minute at 6).
DRAWN_LENGTH = 3

#: Strings that must be refused wherever a number is expected: code, hangs, junk.
HOSTILE_STRINGS = (
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "9**9**9",
    "10**10**8",
    "factorial(10**7)",
    "exp(10**6)",
    "lambda: 1",
    "[1" * 50,
    "-" * 200 + "1",
    "1" * 5000,
    "nan",
    "x.y",
    "",
)


def _float_range(p: Param) -> tuple[float, float]:
    lo, hi = (float(sp.N(v)) if not isinstance(v, str) else None for v in p.typical[:2])
    return lo, hi


#: Smallest nonzero magnitude a drawn float has.  The oracles' tolerances are relative and stated for
#: arguments of ordinary size: a differentiation or quadrature oracle at 40 digits resolves an output
#: of 1e-134 (from x = 2.7e-134) only to its working precision, which is not a defect of the closed form.
TINY = 1e-8


def _ordinary(x: float) -> bool:
    return x == 0 or abs(x) >= TINY


def _floats(lo: float, hi: float) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False).filter(_ordinary)


def _scalar(p: Param) -> st.SearchStrategy:
    lo, hi = _float_range(p)
    if p.integer:
        return st.integers(math.ceil(lo), math.floor(hi))
    return _floats(lo, hi).filter(lambda x: _inside(p, x))


def _inside(p: Param, x: Any) -> bool:
    try:
        p.validate(x)
        return True
    except ValueError:
        return False


def _entry(p: Param) -> st.SearchStrategy:
    lo, hi = _float_range(p)
    if p.integer:
        return st.integers(math.ceil(lo), math.floor(hi))
    # Exact rationals as well as floats: both number policies reach the closed form.
    floats = _floats(lo, hi)
    ratios = st.integers(math.ceil(lo * 8), math.floor(hi * 8)).map(lambda k: f"{k}/8")
    return st.one_of(floats, ratios)


def _count(bounds: tuple[int, int], fixed: int | None = None) -> st.SearchStrategy:
    lo, hi = bounds
    if fixed is not None:
        return st.just(min(max(fixed, lo), hi))
    return st.integers(lo, max(lo, min(hi, lo + DRAWN_LENGTH - 1)))


def _vector(p: Param, size: tuple[int, ...] | None = None) -> st.SearchStrategy:
    entry = _entry(p)
    return (
        _count(p.length, size[0] if size else None)
        .flatmap(lambda n: st.lists(entry, min_size=n, max_size=n))
        .filter(lambda v: _inside(p, v))
    )


def _matrix(p: Param, size: tuple[int, ...] | None = None) -> st.SearchStrategy:
    rows_n = _count(p.rows, size[0] if size else None)
    cols_n = _count(p.length, size[1] if size and len(size) > 1 else None)
    if p.rows_sum_to_one:
        zero_ok = p.domain.contains(0) == sp.true
        weight = st.integers(0 if zero_ok else 1, 6)

        def rows(shape: tuple[int, int]) -> st.SearchStrategy:
            r, c = shape
            row = st.lists(weight, min_size=c, max_size=c).filter(lambda w: sum(w) > 0)
            return st.lists(row, min_size=r, max_size=r).map(
                lambda ws: [[sp.Rational(w, sum(rw)) for w in rw] for rw in ws]
            )

        return st.tuples(rows_n, cols_n).flatmap(rows).filter(lambda m: _inside(p, m))
    entry = _entry(p)
    return (
        st.tuples(rows_n, cols_n)
        .flatmap(lambda s: st.lists(st.lists(entry, min_size=s[1], max_size=s[1]), min_size=s[0], max_size=s[0]))
        .filter(lambda m: _inside(p, m))
    )


def _choice(p: Param) -> st.SearchStrategy:
    words = st.sampled_from(p.options)
    if p.domain is sp.S.EmptySet:
        return words
    lo, hi = float(p.domain.inf), float(p.domain.sup)
    return st.one_of(words, _floats(lo, hi))


def _tokens(p: Param, size: tuple[int, ...] | None = None) -> st.SearchStrategy:
    hi = 9 if p.domain.sup == sp.oo else int(p.domain.sup)
    return _count(p.length, size[0] if size else None).flatmap(
        lambda n: st.lists(st.integers(0, min(hi, 9)), min_size=n, max_size=n)
    )


_SCALAR_KINDS = {"real": _scalar, "integer": _scalar, "choice": _choice}
_SIZED_KINDS = {"vector": _vector, "matrix": _matrix, "tokens": _tokens}


def valid(p: Param, size: tuple[int, ...] | None = None) -> st.SearchStrategy:
    """Values inside the domain and the typical range (``size``: a vector's length or a matrix's shape)."""
    if p.kind in _SIZED_KINDS:
        return _SIZED_KINDS[p.kind](p, size)
    return _SCALAR_KINDS[p.kind](p)


def sized_params(params, data) -> dict:
    """Draw every parameter of a result, with one length for all vectors and one shape for all matrices.

    Results relate their array parameters (scores and labels of one length, S and T of one
    shape); drawing each size apart would make almost every draw a refused mismatch.
    """
    vectors = [p for p in params if p.kind in ("vector", "tokens")]
    matrices = [p for p in params if p.kind == "matrix"]
    length = data.draw(_count(max((p.length for p in vectors), key=lambda b: b[0]))) if vectors else None
    shape = None
    if matrices:
        shape = (data.draw(_count(matrices[0].rows)), data.draw(_count(matrices[0].length)))
    out = {}
    for p in params:
        size = (length,) if p in vectors else (shape if p in matrices else None)
        out[p.name] = data.draw(valid(p, size), label=p.name)
    return out


def _outside_interval(d: sp.Set) -> list:
    out: list = [math.nan, math.inf, -math.inf, True, 1j]
    if d.inf != -sp.oo:
        lo = float(d.inf)
        out += [lo - 1.0, lo - 1e-6] + ([d.inf] if d.contains(d.inf) != sp.true else [])
    if d.sup != sp.oo:
        hi = float(d.sup)
        out += [hi + 1.0, hi + 1e-6] + ([d.sup] if d.contains(d.sup) != sp.true else [])
    return out


def invalid(p: Param) -> st.SearchStrategy:
    """Values every validation of ``p`` must refuse with a ParameterError naming it."""
    hostile = list(HOSTILE_STRINGS)
    if p.kind in ("real", "integer"):
        bad = _outside_interval(p.domain) + (["1/2", 2.5] if p.integer else [])
    elif p.kind == "vector":
        lo, hi = p.length
        bad = [[], [[0.0, 1.0]] * max(lo, 1), [1j] * lo, [math.nan] * lo]
        if lo > 1:
            bad.append([0.0] * (lo - 1))
        if hi < 10**4:
            bad.append([0.0] * (hi + 1))
        bad += [[x] * lo for x in _outside_interval(p.domain)[:6] if x is not True and lo > 0]
    elif p.kind == "matrix":
        bad = [[], [[0.0, 1.0], [0.0]], [[math.nan]]]
        if p.rows_sum_to_one:
            bad.append([[sp.Rational(1, 2), sp.Rational(1, 4)]])
    elif p.kind == "choice":
        bad = ["no-such-option", 3j, None]
    else:  # tokens
        bad = [[], [-1], [0.5], [[0, 1]]]
        if p.domain.sup != sp.oo:
            bad.append([int(p.domain.sup) + 1])
    return st.sampled_from(bad + hostile)
