"""The command line: every verb on the sector result, JSON output, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from closedform.cli import main
from closedform.numeric.target import SIMULATOR
from closedform.registry import RESULTS

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU tests; the simulator job runs tests/test_cuda.py")


def run(*args):
    return main(list(args))


def test_latex(capsys):
    assert run("latex", "sector", "--n", "4", "--theta", "pi") == 0
    assert capsys.readouterr().out.strip() == r"P_{4}{\left(\pi \right)} = \frac{1}{2}"


def test_latex_json(capsys):
    assert run("latex", "sector", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["result"] == "sector" and "begin{cases}" in payload["latex"]


def test_prove(capsys):
    assert run("prove", "sector_small_angle") == 0
    out = capsys.readouterr().out
    assert "CHECKED_NUMERICALLY" in out and "REFUTED" not in out
    assert run("prove", "sector", "--latex") == 0
    assert r"\begin{align*}" in capsys.readouterr().out


def test_simulate_json(capsys):
    assert run("simulate", "sector", "--n", "4", "--theta", "3*pi/2", "--trials", "1e5", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["trials"] == 100_000 and payload["closed_form"] == [1.0]
    assert payload["estimate"] == [1.0]


def test_simulate_text_names_a_long_formula_and_times_compilation_apart(capsys):
    from closedform.numeric.noise import argmax_kernel

    # As in a fresh process: the next run compiles first.  ArgmaxKernel runs one
    # kernel per family, so their records are the ones to clear.
    for kernel in argmax_kernel()._families.values():
        kernel._compiled.clear()
    argv = ["simulate", "argmax", "--noise", "normal", "--mu", "0.3,0,-0.5,0.2", "--trials", "1e4"]
    assert run(*argv) == 0
    out = capsys.readouterr().out
    formula = next(line for line in out.splitlines() if "closed form:" in line)
    # The Normal law is a 1-D integral per class (3,000+ characters): named, not dumped.
    assert "closedform latex argmax" in formula and "Integral" not in formula and len(formula) < 300
    assert "compiling first" in out
    assert run(*argv) == 0  # compiled now: nothing to report
    assert "compiling" not in capsys.readouterr().out


def test_verify_sector_json(capsys):
    assert run("verify", "sector", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["status"] in ("pass", "PROVED", "CHECKED_NUMERICALLY") for r in rows)
    assert {r["check"] for r in rows} == {"proof", "oracle", "simulation"}


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["simulate", "sector", "--n", "0", "--theta", "pi"], "n must be an integer in 1..100"),
        (["simulate", "sector", "--n", "4", "--theta", "9"], "theta must lie in (0, 2*pi]"),
        (["simulate", "sector", "--n", "4", "--theta", "nan"], "theta: 'nan' is not allowed"),
        (["simulate", "sector", "--n", "4", "--phi", "1"], "has no parameter 'phi'"),
        (["simulate", "nosuch", "--n", "4"], "unknown result 'nosuch'"),
        (["verify", "nosuch"], "unknown topic 'nosuch'"),
        (["simulate", "sector", "--n", "4", "--theta", "pi", "--device", "cuda"], "device='cuda' needs"),
    ],
)
def test_errors_are_one_line_exit_2(argv, needle, capsys):
    assert run(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_bad_trials_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "closedform", "simulate", "sector", "--n", "4", "--theta", "pi", "--trials", "-3"],
        capture_output=True,
        text=True,
        env=os.environ | {"NUMBA_DISABLE_JIT": "0"},
    )
    assert proc.returncode == 2 and "trials must be a positive integer" in proc.stderr


def test_report_without_its_extra_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    # Simulate a plain install (no MathJax package): exit 2 and one line, no traceback.
    from closedform import report

    def missing():
        raise ImportError("no MathJax package")

    monkeypatch.setattr(report, "mathjax_path", missing)
    assert run("report", "sector", "--out", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install 'closedform[report]'" in err and len(err.splitlines()) == 1


def _cli_text(value) -> str:
    """A case value as a user types it: lists in brackets, everything else as written."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cli_text(v) for v in value) + "]"
    return str(value)


SIMULATED = [r for r in RESULTS if r.simulation is not None]


@pytest.mark.parametrize("result", SIMULATED, ids=lambda r: r.name)
def test_every_simulated_result_runs_from_the_shell_at_its_first_case(result, capsys):
    """No parameter is shadowed by a run option or an abbreviation (--t once meant --trials)."""
    case = result.cases[0]
    argv = ["simulate", result.name, *(f"--{k}={_cli_text(v)}" for k, v in case.items()), "--trials", "2000"]
    assert run(*argv) == 0, capsys.readouterr().err
    assert "estimate" in capsys.readouterr().out


def test_no_result_parameter_is_named_like_a_run_option():
    from closedform.cli import RUN_OPTIONS

    clashes = [(r.name, p.name) for r in RESULTS for p in r.params if p.name in RUN_OPTIONS]
    assert not clashes


def test_abbreviations_are_not_taken_for_options(capsys):
    assert run("simulate", "sector", "--n", "4", "--theta", "pi", "--tri", "100") == 2
    assert "no parameter 'tri'" in capsys.readouterr().err
