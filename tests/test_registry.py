"""Generic tests: every registry line is checked the same way.

A result added to :data:`closedform.registry.RESULTS` is picked up here with
no new test code: its LaTeX renders, its proofs hold, its closed form agrees
with its oracle on every case, and its simulator agrees with its closed form.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from closedform import checks
from closedform.numeric.target import SIMULATOR
from closedform.registry import RESULTS, TOPICS, by_name, by_topic
from closedform.spec import Formula

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU registry checks; the simulator job runs tests/test_cuda.py")

#: Suite-wide false-failure budget of the simulation checks below, split over all cases.
SUITE_ALPHA = 1e-6
N_SIM_CASES = sum(len(r.cases) for r in RESULTS if r.simulation is not None)

PROOFS = sorted({(r.name, mk) for r in RESULTS for mk in r.proofs}, key=lambda t: (t[0], t[1].__name__))
ORACLE_CASES = [(r, c) for r in RESULTS if r.oracle is not None for c in r.cases]
SIM_CASES = [(r, c) for r in RESULTS if r.simulation is not None for c in r.cases]


def _id(pair):
    r, c = pair
    return f"{r.name}[{checks.case_label(c)}]"


def test_names_unique_and_topics_known():
    names = [r.name for r in RESULTS]
    assert len(names) == len(set(names))
    assert all(r.topic in TOPICS for r in RESULTS)
    assert by_name("sector").topic == "sector"
    assert set(by_topic("sector")) <= set(RESULTS)


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.name)
def test_every_result_is_complete(result):
    # A line states what checks it and says why a check does not apply.
    assert result.cases, f"{result.name} has no verify cases"
    assert result.proofs or "proof" in result.skips
    assert result.oracle is not None or "oracle" in result.skips
    assert result.simulation is not None or "simulation" in result.skips
    for reason in result.skips.values():
        assert len(reason) > 15, "a skip needs a written reason"
    for case in result.cases:
        result.validate(**case)


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.name)
def test_latex_renders(result):
    symbolic = result.formula()
    assert isinstance(symbolic, Formula)
    tex = symbolic.latex()
    assert "=" in tex and symbolic._repr_latex_().startswith("$")
    concrete = result.formula(**result.cases[0])
    assert concrete.latex()


@pytest.mark.parametrize("name, make_proof", PROOFS, ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_proofs_hold(name, make_proof):
    proof = make_proof().check()
    bad = [(i, c.verdict, c.reason) for i, c in enumerate(proof.checked_steps, 1) if not c.verdict.ok]
    assert not bad, f"{proof.title}: {bad}"
    for c in proof.checked_steps:
        if c.verdict.value == "CHECKED_NUMERICALLY":
            assert c.reason, "a numerically checked step states how"


@pytest.mark.parametrize("pair", ORACLE_CASES, ids=_id)
def test_closed_form_matches_oracle(pair):
    result, case = pair
    row = checks.oracle_check(result, case)
    assert row.status == "pass", row.detail


@pytest.mark.parametrize("pair", SIM_CASES, ids=_id)
def test_simulation_matches_closed_form(pair):
    result, case = pair
    alpha = SUITE_ALPHA / N_SIM_CASES  # Bonferroni over the suite; within a case over components
    row = checks.simulation_check(result, case, alpha, result.sim_trials)
    assert row.status == "pass", row.detail


def _public_functions(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != module.__name__:
            continue
        yield f"{module.__name__}.{name}", obj


#: derive/ modules that hold no closed form: the input parser and the error type every layer shares.
_DERIVE_INFRASTRUCTURE = {"errors", "expr_parser"}


def test_every_public_derive_function_is_reached_from_the_registry():
    """Each public function of derive/ is used by a registered closed form, lhs, oracle or proof."""
    import closedform.numeric
    import closedform.proofs  # noqa: F401

    sources = []
    for r in RESULTS:
        for f in (r.closed_form, r.lhs, r.oracle, *r.proofs):
            if f is not None:
                try:
                    sources.append(inspect.getsource(inspect.getmodule(f)))
                except (TypeError, OSError):
                    pass
    # The oracles now live in numeric/ (the glue only calls them): their modules count as reached.
    for info in pkgutil.iter_modules(closedform.numeric.__path__):
        sources.append(inspect.getsource(importlib.import_module(f"closedform.numeric.{info.name}")))
    corpus = "\n".join(sources)
    missing = []
    for info in pkgutil.iter_modules(closedform.derive.__path__):
        if info.name in _DERIVE_INFRASTRUCTURE:
            continue
        module = importlib.import_module(f"closedform.derive.{info.name}")
        for qual, func in _public_functions(module):
            if f".{func.__name__}(" not in corpus and f"{func.__name__}(" not in corpus:
                missing.append(qual)
    assert not missing, f"public derive functions no registry line reaches: {missing}"
