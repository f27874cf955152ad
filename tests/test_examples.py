"""The scripts of ``examples/`` run, and say what the README says they say.

Each example is run as a script (``runpy``, as ``python examples/X.py`` would)
and its claims are checked: the right claims pass every check, the wrong ones
fail every check that can see them, with the stated power.  The Monte Carlo
rows use the verify defaults (alpha 1e-6 family-wise, power 0.99).
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

import closedform as cf
from closedform import registry
from closedform.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def _fresh_registry():
    saved = list(registry._LOADED)
    registry._LOADED.clear()
    yield
    registry._LOADED[:] = saved


def _run(name: str, capsys) -> tuple[dict, str]:
    namespace = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
    return namespace, capsys.readouterr().out


def test_semicircle_right_passes_and_wrong_is_caught(capsys):
    ns, out = _run("semicircle", capsys)
    assert "semicircle_wrong" in out
    table = cf.verify(ns["RESULTS"])
    rows = {(r.result, r.check, r.case): r for r in table.rows}
    right = [r for r in table.rows if r.result == "semicircle"]
    wrong = [r for r in table.rows if r.result == "semicircle_wrong"]
    assert all(not r.failed for r in right) and {r.check for r in right} == {"proof", "oracle", "simulation"}
    assert rows[("semicircle", "proof", "union of n disjoint events")].status == "PROVED"
    # Every check of the wrong claim fails, and says how.
    assert all(r.failed for r in wrong) and len(wrong) == 7
    proof = rows[("semicircle_wrong", "proof", "a slip in the exponent")]
    assert proof.status == "REFUTED" and "step 2: REFUTED (sides differ at {n:" in proof.detail
    for r in wrong:
        if r.check == "oracle":
            assert "max relative error 0.5 > rtol" in r.detail
        if r.check == "simulation":
            n = int(r.case.split("=")[1])
            gap = n / 2 ** (n - 1) - n / 2**n  # the true discrepancy of the wrong claim
            # The run could detect any discrepancy above `detectable` with power 0.99; this one is larger.
            assert r.data["detectable"] < gap and abs(r.data["z"]) > r.data["threshold"]
            assert f"w.p. {r.data['power']}" in r.detail and "alpha" in r.detail


def test_wendel_numpy_simulator_passes(capsys):
    ns, out = _run("wendel", capsys)
    assert "8 passed, 0 failed" in out  # an oracle and a simulation row per case
    sim = ns["WENDEL"].simulation
    assert sim.kernel.outcome == "event" and sim.description.startswith("NumPy simulator in_half_space")


def test_wendel_half_space_test_is_exact_on_known_configurations():
    import numpy as np

    ns = runpy.run_path(str(EXAMPLES / "wendel.py"))

    class Fixed:
        """A stand-in generator returning given points (the simulator only calls standard_normal)."""

        def __init__(self, points):
            self.points = np.asarray(points, dtype=float)

        def standard_normal(self, shape):
            return np.broadcast_to(self.points, shape).copy()

    # The eight vertices of a cube centred at 0 (perturbed into general position): never in a half-space.
    cube = [[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    cube = np.array(cube) + 1e-3 * np.arange(24).reshape(8, 3) ** 0.5
    assert not ns["in_half_space"](Fixed(cube), 1, 8)[0]
    # Points with positive third coordinate: always.
    upper = np.abs(np.random.default_rng(0).standard_normal((6, 3))) + [0, 0, 0.1]
    assert ns["in_half_space"](Fixed(upper), 1, 6)[0]


def test_derivation_refuted_at_the_wrong_step(capsys):
    ns, out = _run("derivation", capsys)
    wrong = ns["WRONG"].check()
    verdicts = [c.verdict.value for c in wrong.checked_steps]
    assert len(verdicts) == 5 and wrong.verdict.value == "REFUTED"
    assert verdicts.index("REFUTED") == 3 and verdicts.count("REFUTED") == 1  # step 4, and only it
    assert "(4) a\u00b2 \u2212 a + 1/2 = (a \u2212 1/2)\u00b2 + 1/2" in out and "[refuted" in out
    right = ns["RIGHT"].check()
    assert right.verdict.ok and "align*" in right.latex()
    assert "0 failed" in out  # the claim itself: proof, oracle by quadrature, Numba simulation


def test_cli_verify_with_results(capsys):
    path = str(EXAMPLES / "semicircle.py")
    assert main(["verify", "claims", "--results", path, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "semicircle" in out and "semicircle_wrong" not in out and "0 failed" in out
    assert main(["verify", "wrong_claims", "--results", path, "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert {r["result"] for r in rows} == {"semicircle_wrong"} and all(r["status"] in ("FAIL", "REFUTED") for r in rows)
