"""Start-up: generated tables are current, topic imports and light verbs load no Monte Carlo kernel.

Issue 16: tables solved at import (ziggurat layers, the Mills-ratio fit) are
generated modules; ``closedform list``, ``latex``, ``prove``, ``--help`` and
``import closedform.<topic>`` import no Numba kernel they do not run; and
``simulate`` prints no long closed form it does not show.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from closedform.numeric import tablegen

#: Modules that define Monte Carlo kernels (Numba dispatchers, drivers, CUDA kernels).
KERNEL_MODULES = (
    "closedform.numeric.drivers",
    "closedform.numeric.rng",
    "closedform.numeric.sector",
    "closedform.numeric.noise",
    "closedform.numeric.coarse_argmin",
    "closedform.numeric.reparam",
    "closedform.numeric.udm",
    "closedform.numeric.guidance",
    "closedform.numeric.accuracy",
    "numba.cuda",
)

#: Topic modules whose import loads no Numba at all (multiclass and cosent still import their
#: per-sample kernels, which define their dispatchers at import: see the report of issue 16).
NUMBA_FREE_TOPICS = ("sector", "reparam", "udm", "accuracy", "guidance")


# ----------------------------------------------------------------------------
# Generated tables
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("module", list(tablegen.GENERATORS))
def test_generated_tables_are_what_their_generator_gives(module):
    # Regenerated from scratch (mpmath at 40 digits, seconds) and compared character for character:
    # floats are written with repr, which reads back to the same double.
    committed = tablegen.path_of(module).read_text(encoding="utf-8")
    assert tablegen.generate(module) == committed, f"run `python -m closedform.numeric.tablegen {module}`"
    assert tablegen.GENERATORS[module] in committed.splitlines()[0]


def test_table_literals_read_back_to_the_same_doubles():
    values = {"A": 0.1 + 0.2, "B": (1 / 3, -2.5e-300, 5e-324, 1.7976931348623157e308), "N": 7, "S": ("1.5",)}
    namespace: dict = {}
    exec(tablegen.render("demo", "tests:demo", values), namespace)  # our own literal text, not user input
    assert {k: namespace[k] for k in values} == values
    assert all(a.hex() == b.hex() for a, b in zip(namespace["B"], values["B"]))


def test_rng_tables_load_as_the_solver_gives_them():
    import numpy as np

    from closedform.numeric import rng

    solved = rng.solve_ziggurats()["normal"]
    stored = rng.ZIGGURAT_NORMAL
    for field in ("k", "w", "f", "wedge"):
        a, b = getattr(solved, field), getattr(stored, field)
        assert a.dtype == b.dtype and np.array_equal(a, b), field
    assert (solved.r, solved.v, solved.draws) == (stored.r, stored.v, stored.draws)
    assert solved.x == stored.x  # the 40-digit edges, exactly


# ----------------------------------------------------------------------------
# Light imports (each in a fresh interpreter: this one has imported everything)
# ----------------------------------------------------------------------------

_REPORT = "import json, sys; print(json.dumps(sorted(m for m in sys.modules if m.startswith(('closedform', 'numba')))))"


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\n{_REPORT}"], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import closedform.registry",
        "from closedform.cli import main; main(['list'])",
        "from closedform.cli import main; main(['latex', 'sector'])",
        "from closedform.cli import main; main(['latex', 'argmax'])",
        "from closedform.cli import main; main(['prove', 'sector'])",
    ],
)
def test_light_verbs_import_no_monte_carlo_kernel(code):
    loaded = _modules_after(code)
    assert "closedform.registry" in loaded
    assert not loaded & set(KERNEL_MODULES), sorted(loaded & set(KERNEL_MODULES))


def test_help_imports_neither_the_registry_nor_numba():
    loaded = _modules_after("from closedform.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert "closedform.cli" in loaded
    assert not {m for m in loaded if m.startswith(("numba", "closedform.numeric", "closedform.registry"))}


@pytest.mark.parametrize("topic", NUMBA_FREE_TOPICS)
def test_topic_import_loads_no_numba(topic):
    loaded = _modules_after(f"import closedform.{topic}")
    assert f"closedform.{topic}" in loaded
    assert not {m for m in loaded if m == "numba" or m.startswith("numba.")}


def test_kernel_module_is_imported_on_first_simulation():
    loaded = _modules_after(
        "import closedform.sector as s, sys\n"
        "assert 'closedform.numeric.sector' not in sys.modules\n"
        "s.SECTOR.simulation.kernel"
    )
    assert "closedform.numeric.sector" in loaded and "closedform.numeric.drivers" in loaded


# ----------------------------------------------------------------------------
# Simulation: kernel and packer by reference
# ----------------------------------------------------------------------------


def test_simulation_resolves_a_reference_once():
    from closedform.numeric import sector as num
    from closedform.spec import Simulation

    sim = Simulation("closedform.numeric.sector:REDUCED", "closedform.numeric.sector:pack_sector", kind="proportion")
    assert sim.kernel is num.REDUCED and sim.kernel is num.REDUCED
    assert sim.pack is num.pack_sector
    assert sim.kind == "proportion" and sim.draws_per_trial is None
    with pytest.raises(AttributeError):
        sim.kind = "mean"


def test_simulation_calls_a_kernel_factory_once_and_keeps_objects_as_given():
    from closedform.numeric import sector as num
    from closedform.spec import Simulation

    calls = []

    def factory():
        calls.append(1)
        return num.REDUCED

    pack = lambda n, theta: num.pack_sector(n, theta)
    sim = Simulation(factory, pack)
    assert calls == []
    assert sim.kernel is num.REDUCED and sim.kernel is num.REDUCED and calls == [1]
    assert sim.pack is pack  # a packer is a function: never called to resolve it
    assert Simulation(num.REDUCED, pack).kernel is num.REDUCED


def test_a_bad_reference_is_one_clear_error():
    from closedform.lazy import resolve

    with pytest.raises(ValueError, match="module:attribute"):
        resolve("closedform.numeric.sector")
    with pytest.raises(AttributeError):
        resolve("closedform.numeric.sector:NO_SUCH_KERNEL")


def test_registry_simulations_resolve_to_stream_kernels():
    from closedform.numeric.drivers import StreamKernel
    from closedform.registry import RESULTS

    for result in RESULTS:
        if result.simulation is not None:
            assert isinstance(result.simulation.kernel, StreamKernel), result.name
            assert callable(result.simulation.pack), result.name


# ----------------------------------------------------------------------------
# simulate prints no long closed form it does not show
# ----------------------------------------------------------------------------


def test_simulate_text_never_prints_the_long_closed_form(monkeypatch, capsys):
    import sympy as sp
    from sympy.printing.str import StrPrinter

    from closedform.cli import main

    printed = []
    original = StrPrinter.doprint

    def counting(self, expr):
        printed.append(
            sum(1 for node in sp.preorder_traversal(expr) if not node.args) if isinstance(expr, sp.Basic) else 0
        )
        return original(self, expr)

    monkeypatch.setattr(StrPrinter, "doprint", counting)
    argv = ["simulate", "argmax", "--noise", "normal", "--mu", "0.3,0,-0.5,0.2", "--trials", "1e3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "640 symbols and numbers" in out and "closedform latex argmax" in out
    assert max(printed) < 50, max(printed)  # only the left sides were printed
    assert main([*argv, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["closed_form_exact"].count("Integral") == 20  # --json shows it, so it is printed
