"""The parameter system and its parser: no user string runs code or hangs, one number policy.

The hostile strings are the ones a fuzzing run found (code through ``sympify``,
towers of powers that hang, huge factorials) plus Hypothesis-generated text; each
must be refused with one line that names the parameter, within a second.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import closedform as cf
from closedform import params as P
from closedform.derive.expr_parser import parse_expression
from closedform.param_strategies import HOSTILE_STRINGS
from closedform.registry import RESULTS

THETA = P.real("theta", 0, 2 * sp.pi, ends="(]")

#: The strings of the issue that ran code, hung or crashed, each through a scalar parameter.
ATTACKS = (
    "__import__('os').system('touch pwned')+3",
    "9**9**9",
    "10**10**8",
    "factorial(10**7)",
    "10**10**7",
    "exec('1')",
    "eval('1')",
    "open('/etc/passwd').read()",
    "(lambda: 1)()",
    "[c for c in ().__class__.__bases__[0].__subclasses__()]",
    "Symbol('x')",
    "Integer(10)**Integer(10)**Integer(10)",
    "pi.__class__",
    "2**2**2**2**2",
    "exp(exp(exp(10)))",
    "(1 + 1/10**7)**10**9",
    "2**Rational(10**9, 3)",
    "10**-10**8",
    "sin(10**10**5)",
    "1" * 5000,
)


@pytest.mark.parametrize("text", ATTACKS + HOSTILE_STRINGS)
def test_hostile_strings_are_refused_quickly_with_the_parameter_named(text):
    start = time.perf_counter()
    with pytest.raises(cf.ParameterError) as info:
        THETA.validate(text)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert message.startswith("theta"), message
    assert "\n" not in message


@given(st.text(alphabet="0123456789+-*/()piEexpsqrtlogsincoa,.[] _'\"", max_size=60))
def test_generated_strings_never_run_code_hang_or_escape_as_another_error(text):
    start = time.perf_counter()
    try:
        value = parse_expression(text, name="x")
    except cf.ParameterError as exc:
        assert str(exc).startswith("x")
    else:
        assert isinstance(value, (sp.Expr, list))
    assert time.perf_counter() - start < 1.0


@given(st.from_regex(r"\A[0-9*()]{1,40}\Z"))
def test_generated_power_towers_are_bounded(text):
    """Any arithmetic of digits and powers is computed within the size limits or refused."""
    text = text.replace("*", "**")
    start = time.perf_counter()
    try:
        value = parse_expression(text, name="x")
    except cf.ParameterError:
        pass
    else:
        if isinstance(value, sp.Rational):
            assert int(abs(value.p)).bit_length() < 10_000
    assert time.perf_counter() - start < 1.0


def test_the_number_policy_is_one_for_every_kind():
    """Decimal text is exact, a Python float stays its own binary value, integers stay exact."""
    assert THETA.validate("0.3") == sp.Rational(3, 10)
    assert P.vector("mu").validate("[0.3, 1e-3]") == (sp.Rational(3, 10), sp.Rational(1, 1000))
    assert P.matrix("S").validate("[[0.3]]")[0, 0] == sp.Rational(3, 10)
    as_float = THETA.validate(0.3)
    assert as_float.is_Float and float(as_float) == 0.3
    assert sp.Rational(as_float) == sp.Rational(0.3)  # the exact binary value, not 3/10
    assert P.vector("mu").validate([0.3])[0] == as_float
    assert P.integer("n", 1).validate(np.int64(4)) == 4


def test_views_give_each_consumer_its_own_type():
    import mpmath

    mu = P.vector("mu")
    value = mu.validate("[1/3, 2]")
    with mpmath.workdps(40):
        oracle = mu.to_mpmath(value)
        assert abs(oracle[0] - mpmath.mpf(1) / 3) < mpmath.mpf(10) ** -39
    kernel = mu.to_float(value)
    assert kernel.dtype == np.float64 and kernel.tolist() == [1 / 3, 2.0]
    n = P.integer("n", 1)
    assert n.to_float(n.validate("4")) == 4 and isinstance(n.to_float(n.validate("4")), int)


@pytest.mark.parametrize(
    ("param", "value", "pattern"),
    [
        (P.integer("n", 1), True, r"n must be a number, got True"),
        (P.integer("n", 1), 2.5, r"n must be an integer in 1, 2, \.\.\."),
        (P.integer("n", 1), "4.5", r"n must be an integer"),
        (P.real("x"), 1j, r"x must be a real number"),
        (P.real("x"), "1/0", r"x: division by zero"),
        (P.real("x"), float("nan"), r"x must be a finite number"),
        (P.real("x"), "oo", r"x: oo \(infinity\) is outside"),
        (P.vector("mu", length=(2, 3)), "[1]", r"mu must have 2 to 3 entries, got 1"),
        (P.vector("mu"), [[1, 2]], r"mu must be a vector \(one bracket level\)"),
        (P.vector("mu"), np.array([1 + 1j]), r"mu must hold real numbers, got a complex array"),
        (P.vector("mu"), "[1", r"mu: cannot read"),
        (P.vector("t", 0, 1), [0.5, 2], r"t\[1\] must lie in \[0, 1\], got 2"),
        (P.matrix("T", 0, 1, rows_sum_to_one=True), [[0.5, 0.25]], r"T row 0 must sum to 1"),
        (P.matrix("S"), [[1, 2], [3]], r"S must be rectangular"),
        (P.choice("noise", ["gumbel"]), "gauss", r"noise must be one of gumbel, got 'gauss'"),
        (P.tokens("x0", length=(1, 4)), "01234", r"x0 must have 1 to 4 tokens, got 5"),
        (P.tokens("x0"), [-1], r"x0\[0\] must be an integer in 0, 1, \.\.\."),
    ],
)
def test_bad_values_get_one_line_naming_the_parameter_and_domain(param, value, pattern):
    with pytest.raises(cf.ParameterError, match=pattern):
        param.validate(value)


def test_every_kind_has_a_strategy_whose_draws_validate():
    """``Param.strategy()`` works for every kind of every registry parameter (it was dead before)."""
    from hypothesis import find

    seen = set()
    for result in RESULTS:
        for p in result.params:
            key = (p.kind, p.name, p.domain_text())
            if key in seen:
                continue
            seen.add(key)
            drawn = find(p.strategy(), lambda v: True)
            p.validate(drawn)
    assert {k[0] for k in seen} >= {"real", "integer", "vector", "matrix", "choice", "tokens"}


#: Package files where user input is parsed; none of them may hand text to SymPy's eval-based parsers.
_PACKAGE = pathlib.Path(cf.__file__).resolve().parent.parent


def test_no_user_string_reaches_an_eval_based_parser():
    """No ``sympify``/``parse_expr``/``eval(`` that could see a string: the package has none left at all."""
    pattern = re.compile(
        r"(?<![\w.])(?:sp\.|sympy\.)?(sympify|parse_expr)\(|(?:sp|sympy)\.S\(|(?<![\w.])(?<!def )eval\("
    )
    offenders = []
    for folder in ("closedform", "derive", "numeric", "proofs"):
        for path in sorted((_PACKAGE / folder).glob("*.py")):
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if pattern.search(code) and "strict=True" not in code:
                    offenders.append(f"{path.relative_to(_PACKAGE)}:{lineno}: {line.strip()}")
    assert not offenders, "eval-based parsing on a possible user path:\n" + "\n".join(offenders)


def _cli(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "closedform", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["latex", "sector", "--n", "4", "--theta", "__import__('os').system('touch pwned')+3"],
        ["latex", "sector", "--n", "__import__('os').system('touch pwned')", "--theta", "pi"],
        ["latex", "exact_accuracy", "--mu", "[__import__('os').system('touch pwned'), 0]", "--sigma", "1", "--y", "0"],
        ["latex", "sector", "--n", "4", "--theta", "9**9**9"],
        ["latex", "sector", "--n", "10**10**7", "--theta", "pi"],
    ],
)
def test_cli_hostile_parameters_exit_2_with_one_line_and_run_nothing(argv, tmp_path):
    done = _cli(*argv, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert not (tmp_path / "pwned").exists()
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("closedform: error:"), done.stderr
    assert "Traceback" not in done.stderr


def test_cli_decimal_vector_is_exact_for_every_topic(tmp_path):
    """The same decimal text means the same exact number in accuracy as in reparam (it did not)."""
    done = _cli("latex", "exact_accuracy", "--mu", "[0.3,0,-0.5]", "--sigma", "1", "--y", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0.3" not in done.stdout
