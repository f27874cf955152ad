"""Users' claims: the public surface, bad claims refused in one line, wrong claims caught, loading.

Stochastic checks here follow the project's rule: every z-test states its
alpha (the verify default, 1e-6 family-wise) and the rows state the power;
seeds come from the result and case names (``checks.seed_for``), never tuned.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import closedform as cf
from closedform import registry
from closedform.claims import ClaimError, evaluate_mp, kinks_of, load_results
from closedform.cli import main
from closedform.estimate import simulate_result
from closedform.numeric.numpy_kernel import NumpyKernel, block_generator
from closedform.numeric.target import SIMULATOR

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

P = cf.unit_interval("p")
N = cf.integer("n", 1, 50)
p, n = P.symbol(), N.symbol()


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Every test starts with no loaded claims and leaves none behind."""
    saved = list(registry._LOADED)
    registry._LOADED.clear()
    yield
    registry._LOADED[:] = saved


def below(rng, size, p):
    return rng.random(size) < p


# ---------------------------------------------------------------------------
# The public surface
# ---------------------------------------------------------------------------


def test_import_closedform_stays_light():
    code = "import sys, closedform; print(any(m in sys.modules for m in ('sympy', 'numba', 'closedform.claims')))"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_public_names_are_the_real_objects():
    from closedform import params, spec
    from closedform.proofs.core import Proof

    assert cf.Param is params.Param and cf.real is params.real and cf.tokens is params.tokens
    r = cf.claim("surface_event", [P], p, simulate=below, cases=[{"p": "1/4"}])
    assert type(r) is spec.Result  # the registry's own type, no second one
    d = cf.derivation(p**2, params=[P]).step(p * p, why="square")
    assert isinstance(d, Proof) and d.check().verdict.value == "PROVED"
    assert callable(cf.rng.uniform) and callable(cf.rng.normal) and callable(cf.rng.exponential)


def test_verify_table_has_the_cli_columns():
    r = cf.claim("table_event", [P], p, simulate=below, cases=[{"p": "1/4"}, {"p": "0.6"}], trials=50_000)
    table = cf.verify(r)
    assert table.ok and len(table) == 2
    assert [row.check for row in table.rows] == ["simulation", "simulation"]
    rows = json.loads(table.to_json())
    assert set(rows[0]) >= {"result", "check", "case", "status", "seconds", "detail", "data"}
    text = str(table)
    assert text.splitlines()[0].split() == ["result", "check", "case", "status", "s", "detail"]
    assert "<th>detail</th>" in table._repr_html_() and "2 passed, 0 failed" in table._repr_html_()


def test_verify_power_changes_the_stated_detectable_discrepancy():
    r = cf.claim("power_event", [P], p, simulate=below, cases=[{"p": "1/2"}], trials=100_000)
    d99 = cf.verify(r, power=0.99).rows[0].data["detectable"]
    d50 = cf.verify(r, power=0.5).rows[0].data["detectable"]
    assert d50 < d99
    with pytest.raises(cf.ParameterError, match="power must lie in"):
        cf.verify(r, power=1.5)


# ---------------------------------------------------------------------------
# Bad claims: one clear line naming the claim and the problem
# ---------------------------------------------------------------------------


def _one_line(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def test_free_symbol_not_a_parameter():
    with pytest.raises(ClaimError) as e:
        cf.claim("free_symbol", [P], p + sp.Symbol("q"))
    assert _one_line(e) == (
        "claim 'free_symbol': the closed form has free symbol q that is not a parameter (parameters: p)"
    )


def test_a_bound_variable_is_not_free():
    k = sp.Symbol("k", integer=True)
    r = cf.claim("bound_variable", [N], sp.Sum(k, (k, 1, n)).doit(), lhs=sp.Sum(k, (k, 1, n)), cases=[{"n": 4}])
    assert cf.verify(r).ok


def test_case_outside_a_domain():
    with pytest.raises(ClaimError) as e:
        cf.claim("bad_case", [P], p, cases=[{"p": "3/2"}])
    assert "claim 'bad_case': case 0" in _one_line(e) and "p must lie in [0, 1]" in str(e.value)


def test_name_of_a_built_in_result():
    with pytest.raises(ClaimError, match="claim 'sector': the name is taken by a built-in result"):
        cf.claim("sector", [P], p)


@pytest.mark.parametrize("option", ["trials", "seed", "device", "results"])
def test_parameter_named_like_a_run_option(option):
    with pytest.raises(ClaimError, match=f"parameter '{option}' is named like a run option"):
        cf.claim("run_option", [cf.positive(option)], sp.Integer(1))


def test_string_closed_form_is_never_evaluated():
    with pytest.raises(ClaimError, match="strings are never evaluated"):
        cf.claim("string_form", [P], "p**2")


@pytest.mark.parametrize(
    "simulate, message",
    [
        (lambda rng, size, p: rng.random(size + 1) < p, r"shape \(8,\) for size=8, got shape \(9,\)"),
        (lambda rng, size, p: (rng.random(size) < p).astype(str), "returned dtype <U5"),
        (lambda rng, size, p: list(rng.random(size) < p), "must return a numpy array"),
    ],
    ids=["shape", "dtype", "list"],
)
def test_numpy_simulator_wrong_shape_or_dtype(simulate, message):
    with pytest.raises(ClaimError, match=message) as e:
        cf.claim("numpy_bad", [P], p, simulate=simulate, cases=[{"p": "1/2"}])
    assert _one_line(e).startswith("claim 'numpy_bad': ")


def test_numpy_category_out_of_range_and_nan():
    with pytest.raises(ClaimError, match="returned category 2, outside 0..1"):
        cf.claim("cat_range", [P], [1 - p, p], simulate=lambda rng, size, p: np.full(size, 2), cases=[{"p": "1/2"}])
    with pytest.raises(ClaimError, match="returned nan"):
        cf.claim("value_nan", [P], p, simulate=lambda rng, size, p: np.full(size, np.nan), cases=[{"p": "1/2"}])
    with pytest.raises(ClaimError, match="integers .categories. but the closed form is one number"):
        cf.claim("cat_scalar", [P], p, simulate=lambda rng, size, p: np.zeros(size, dtype=int), cases=[{"p": "1/2"}])


def test_numpy_bad_outcome_found_during_a_run():
    # Good on the probe and on block 0; bad on block 1: the run stops with one line naming the claim.
    def late_nan(rng, size, p):
        out = rng.random(size)
        if size > 100:
            out[-1] = np.inf
        return out

    r = cf.claim("late_nan", [P], sp.Rational(1, 2), simulate=late_nan, cases=[{"p": "1/2"}])
    with pytest.raises(cf.ParameterError, match="claim 'late_nan': the NumPy simulator returned inf"):
        simulate_result(r, 10_000, p="1/2")
    row = cf.verify(r, trials=10_000).rows[0]
    assert row.status == "FAIL" and "returned inf" in row.detail


def test_numba_trial_bad_outcomes_at_the_probe():
    def always_two(states, stream, p):
        return 2

    with pytest.raises(ClaimError, match="claim 'trial_cat': the trial function returned category 2, outside 0..1"):
        cf.claim("trial_cat", [P], [1 - p, p], simulate=always_two, cases=[{"p": "1/2"}])

    def nan_value(states, stream, p):
        return cf.rng.uniform(states, stream) * math.nan

    with pytest.raises(ClaimError, match="claim 'trial_nan': the trial function returned nan"):
        cf.claim("trial_nan", [P], p, simulate=nan_value, cases=[{"p": "1/2"}])


def test_numba_trial_nan_in_a_run():
    def rarely_nan(states, stream, p):
        u = cf.rng.uniform(states, stream)
        return u if u > 1e-3 else math.nan

    r = cf.claim("trial_nan_run", [P], sp.Rational(1, 2), simulate=rarely_nan, cases=[{"p": "1/2"}])
    with pytest.raises(cf.ParameterError, match="claim 'trial_nan_run': the trial function returned a NaN or infinite"):
        simulate_result(r, 100_000, seed=5, p="1/2")


def test_numba_trial_out_of_range_in_a_run():
    def sometimes_three(states, stream, p):
        u = cf.rng.uniform(states, stream)
        return 3 if u < 1e-3 else (1 if u < p else 0)

    r = cf.claim("trial_range_run", [P], [1 - p, p], simulate=sometimes_three, cases=[{"p": "1/2"}])
    with pytest.raises(
        cf.ParameterError, match=r"claim 'trial_range_run': the trial function returned a category outside 0..1"
    ):
        simulate_result(r, 100_000, seed=5, p="1/2")


def test_numba_trial_signature_and_types():
    with pytest.raises(ClaimError, match="takes \\['q'\\] after \\(states, stream\\)"):
        cf.claim("trial_names", [P], p, simulate=lambda states, stream, q: True, cases=[{"p": "1/2"}])
    with pytest.raises(ClaimError, match="first two argument names tell which"):
        cf.claim("trial_unknown", [P], p, simulate=lambda a, b, p: True, cases=[{"p": "1/2"}])
    with pytest.raises(ClaimError, match="returned str"):
        cf.claim("trial_str", [P], p, simulate=lambda states, stream, p: "x", cases=[{"p": "1/2"}])


def test_numba_compile_error_is_one_line():
    def uses_a_list(states, stream, p):
        return bool(sp.Integer(1) > 0) and cf.rng.uniform(states, stream) < p  # SymPy: fine in Python, not in Numba

    r = cf.claim("trial_nocompile", [P], p, simulate=uses_a_list, cases=[{"p": "1/2"}])
    with pytest.raises(cf.ParameterError) as e:
        simulate_result(r, 1000, p="1/2")
    assert str(e.value).startswith("claim 'trial_nocompile': the trial function does not compile for Numba")
    assert "\n" not in str(e.value)


def test_oracle_returning_a_plain_float():
    r = cf.claim("float_oracle", [P], p**2, oracle=lambda p: float(p) ** 2, cases=[{"p": "1/3"}])
    with pytest.raises(ClaimError, match="oracle returned the plain float 0.111"):
        r.oracle(p=sp.Rational(1, 3))
    row = cf.verify(r).rows[0]
    assert row.status == "FAIL" and "plain float" in row.detail
    good = cf.claim("mp_oracle", [P], p**2, oracle=lambda p: p**2, cases=[{"p": "1/3"}])
    assert cf.verify(good).ok


# ---------------------------------------------------------------------------
# Oracles derived from the left side
# ---------------------------------------------------------------------------


def test_kinks_and_quadrature_at_40_digits():
    t, a = sp.symbols("t a")
    assert kinks_of(sp.Piecewise((t, t < a), (a, True)), t) == [a]
    with mpmath.workdps(40):
        v = evaluate_mp(sp.Integral(sp.Max(0, t - sp.Rational(1, 3)) ** 2, (t, 0, 1)))
        assert abs(v - mpmath.mpf(8) / 81) < mpmath.mpf(10) ** -38


def test_wrong_integral_claim_fails_its_oracle_with_the_relative_error():
    t = sp.Symbol("t")
    lhs = sp.Integral(sp.Abs(t - p), (t, 0, 1))
    wrong = cf.claim("mean_distance_wrong", [P], p**2 - p + sp.Rational(1, 3), lhs=lhs, cases=[{"p": "1/3"}])
    row = cf.verify(wrong).rows[0]
    assert row.status == "FAIL" and "max relative error 0.6" in row.detail and "quadrature" in row.detail
    assert abs(row.data["relative_error"] - 0.6) < 1e-12  # |1/9 - 5/18| / (5/18)


def test_stated_kinks_split_the_quadrature():
    t = sp.Symbol("t")
    steps = sp.Integral(t * sp.floor(3 * t), (t, 0, 1))  # jumps at 1/3 and 2/3, which no rule finds
    kinks = {"t": [sp.Rational(1, 3), sp.Rational(2, 3)]}
    r = cf.claim("floor_steps", [P], sp.Rational(13, 18), lhs=steps, cases=[{"p": 0}], kinks=kinks)
    assert cf.verify(r).ok
    unsplit = cf.claim("floor_unsplit", [P], sp.Rational(13, 18), lhs=steps, cases=[{"p": 0}])
    assert not cf.verify(unsplit).ok  # the same quadrature across the jumps misses 1e-12


# ---------------------------------------------------------------------------
# Simulators: determinism, threads, processes
# ---------------------------------------------------------------------------


def test_numpy_counts_depend_only_on_the_seed():
    k = NumpyKernel(below, lambda v: {"p": float(v[0])}, "event", block=1000)
    whole = k.run(np.array([0.3]), 10_500, seed=9)
    assert whole.out.shape == (11, 1) and whole.trials == 10_500
    # Any slicing of the streams (what Dask tasks do) runs each block exactly once.
    for total_streams, cut in ((64, 20), (10_500, 4_321), (7, 3)):
        a = k.run(np.array([0.3]), 10_500, 9, streams=cut, first_stream=0, total_streams=total_streams)
        b = k.run(
            np.array([0.3]), 10_500, 9, streams=total_streams - cut, first_stream=cut, total_streams=total_streams
        )
        assert a.trials + b.trials == 10_500
        assert (np.concatenate([a.out, b.out]) == whole.out).all()
    first = below(block_generator(9, 0), 1000, 0.3).sum()
    assert whole.out[0, 0] == first


def test_numpy_chunks_reduce_like_dask_tasks():
    pytest.importorskip("cloudpickle")
    from closedform.distributed import chunk_bounds, kernel_blob, run_slice

    def mean_of_normals(rng, size, p):
        return rng.normal(p, 1.0, size)

    r = cf.claim("numpy_chunks", [P], p, simulate=mean_of_normals, cases=[{"p": "1/2"}])
    kernel, packed = r.simulation.kernel, r.simulation.pack(**r.validate(p="1/2"))
    trials, n_streams = 300_000, 2**18
    single = kernel.run(packed, trials, 3).totals
    parts = [
        run_slice(kernel_blob(kernel), packed, trials, 3, n_streams, a, b, "cpu") for a, b in chunk_bounds(n_streams, 5)
    ]
    rows = np.concatenate([part["out"] for part in parts], axis=0)
    assert sum(part["trials"] for part in parts) == trials
    assert (rows.sum(axis=0) == single).all()


@pytest.mark.skipif(SIMULATOR, reason="thread counts are a property of the compiled CPU driver")
def test_numba_trial_bit_identical_across_thread_counts():
    import numba

    def exp_value(states, stream, p):
        return cf.rng.exponential(states, stream) * p

    r = cf.claim("trial_threads", [P], p, simulate=exp_value, cases=[{"p": "1/2"}])
    kernel, packed = r.simulation.kernel, r.simulation.pack(**r.validate(p="1/2"))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = kernel.run(packed, 50_000, 7, streams=256).out.copy()
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = kernel.run(packed, 50_000, 7, streams=256).out
    finally:
        numba.set_num_threads(before)
    assert one.tobytes() == many.tobytes()


@pytest.mark.cuda
def test_numba_trial_cpu_and_cuda_agree_exactly():
    def cat3(states, stream, p):
        u = cf.rng.uniform(states, stream)
        return 0 if u < p / 2 else (1 if u < p else 2)

    r = cf.claim("trial_cuda", [P], [p / 2, p / 2, 1 - p], simulate=cat3, cases=[{"p": "1/2"}])
    cpu = simulate_result(r, 4096, seed=11, streams=64, device="cpu", p="1/2")
    gpu = simulate_result(r, 4096, seed=11, streams=64, device="cuda", p="1/2")
    assert (cpu.totals == gpu.totals).all()


def test_categories_claim_checks_every_component():
    def die(rng, size, p):
        return rng.integers(0, 3, size)

    fair = cf.claim("die_fair", [P], [sp.Rational(1, 3)] * 3, simulate=die, cases=[{"p": 0}], trials=60_000)
    table = cf.verify(fair)
    assert table.ok and table.rows[0].data["components"] == 3


# ---------------------------------------------------------------------------
# Loading: files, modules, entry points, the CLI
# ---------------------------------------------------------------------------


def test_load_results_from_a_file_and_a_module(tmp_path, monkeypatch):
    loaded = load_results(str(EXAMPLES / "semicircle.py"))
    assert [r.name for r in loaded] == ["semicircle", "semicircle_wrong"]
    (tmp_path / "my_claims.py").write_text(
        "import closedform as cf\nimport sympy as sp\nx = cf.unit_interval('x')\n"
        "LINE = cf.claim('my_line', [x], x.symbol())\nnot_a_result = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [r.name for r in load_results("my_claims")] == ["my_line"]  # every Result at module level


@pytest.mark.parametrize(
    "spec, text, message",
    [
        ("missing.py", None, "no such file"),
        ("empty_claims.py", "x = 1\n", "defines no claim"),
        ("broken_claims.py", "raise RuntimeError('boom')\n", "importing it raised RuntimeError: boom"),
        ("no_such_module_xyz", None, "no module named 'no_such_module_xyz'"),
    ],
)
def test_load_results_errors_are_one_line(tmp_path, spec, text, message):
    path = tmp_path / spec
    if text is not None:
        path.write_text(text)
    target = str(path) if spec.endswith(".py") else spec
    with pytest.raises(ClaimError, match=message) as e:
        load_results(target)
    assert "\n" not in str(e.value)


def test_entry_point_group_adds_results(monkeypatch, tmp_path):
    (tmp_path / "ep_claims.py").write_text(
        "import closedform as cf\nx = cf.unit_interval('x')\nRESULTS = (cf.claim('ep_line', [x], x.symbol()),)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = importlib.metadata.EntryPoint(name="demo", value="ep_claims", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group=None: [ep] if group == registry.ENTRY_POINT_GROUP else []
    )
    monkeypatch.setattr(registry, "_FROM_ENTRY_POINTS", None)
    assert registry.by_name("ep_line").name == "ep_line"
    assert "ep_line" in [r.name for r in registry.by_topic("claims")]
    monkeypatch.setattr(registry, "_FROM_ENTRY_POINTS", None)


def test_cli_list_latex_prove_simulate_with_results(capsys):
    path = str(EXAMPLES / "semicircle.py")
    assert main(["list", "claims", "--results", path]) == 0
    assert "semicircle " in capsys.readouterr().out
    assert main(["latex", "semicircle", "--n", "4", f"--results={path}"]) == 0
    assert "\\frac{1}{2}" in capsys.readouterr().out
    assert main(["prove", "semicircle_wrong", "--results", path]) == 1
    assert "REFUTED" in capsys.readouterr().out
    assert main(["simulate", "semicircle", "--n", "5", "--trials", "1e5", "--results", path, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["result"] == "semicircle" and payload["closed_form"] == [0.3125]


def test_cli_results_errors(capsys, tmp_path):
    assert main(["list", "--results", str(tmp_path / "nope.py")]) == 2
    assert capsys.readouterr().err.strip().endswith("no such file")
    bad = tmp_path / "clash.py"
    bad.write_text("import closedform as cf\nx = cf.unit_interval('x')\nR = cf.claim('sector', [x], x.symbol())\n")
    assert main(["list", "--results", str(bad)]) == 2
    assert "the name is taken by a built-in result" in capsys.readouterr().err


def test_claims_from_a_file_run_on_two_worker_processes():
    # The claims of a file loaded by path (as --results does) travel to Dask workers by value,
    # and give the single-process counts exactly: a NumPy simulator and a Numba trial function.
    distributed = pytest.importorskip("distributed")
    wendel = load_results(str(EXAMPLES / "wendel.py"))[0]
    semicircle = load_results(str(EXAMPLES / "semicircle.py"))[0]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0"
        ) as lc,
        distributed.Client(lc, set_as_default=False) as client,
    ):
        client.wait_for_workers(2)
        for result, params, trials in ((wendel, {"N": 5}, 300_000), (semicircle, {"n": 4}, 200_000)):
            here = simulate_result(result, trials, seed=8, **params)
            there = simulate_result(result, trials, seed=8, cluster=client, chunks=3, **params)
            assert there.trials == here.trials == trials
            assert (there.totals == here.totals).all()


def test_stated_kinks_may_depend_on_parameters_and_are_never_text():
    t = sp.Symbol("t")
    steps = sp.Integral(t * sp.floor(t / p), (t, 0, 1))  # a jump at t = p (p > 1/2: only one)
    value = (1 - p**2) / 2  # t * 1 on (p, 1)
    r = cf.claim("floor_at_p", [P], value, lhs=steps, cases=[{"p": "2/3"}, {"p": "3/4"}], kinks={"t": [p]})
    assert cf.verify(r).ok
    with pytest.raises(ClaimError, match="the kink of t is the string"):
        cf.claim("kink_text", [P], value, lhs=steps, cases=[{"p": "2/3"}], kinks={"t": ["p"]})
