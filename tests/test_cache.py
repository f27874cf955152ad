"""The on-disk kernel cache: one decorator family, generated modules, a stamp no edit escapes.

Cache behaviour is process behaviour, so most checks run fresh Python
processes against a temporary ``NUMBA_CACHE_DIR`` and read numba's own
counters (``dispatcher.stats.cache_hits`` / ``cache_misses``).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import cloudpickle
import numba
import pytest

from closedform.cli import main
from closedform.numeric import jitcache
from closedform.numeric import sector as nsector
from closedform.numeric.target import SIMULATOR, jit, parallel_jit, scalar_jit

pytestmark = pytest.mark.skipif(SIMULATOR, reason="the CUDA simulator runs every body as Python: nothing is compiled")

ROOT = Path(__file__).resolve().parents[1]


def run_python(script: Path, cache_dir: Path, *args: str) -> dict:
    """Run ``script`` in a fresh process with its own cache folder; it prints one JSON line."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    out = subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


# A generated body: a closure over a run-time value, the kind numba cannot cache by itself.
BODY = """
import json, sys
from closedform.numeric import jitcache
from closedform.numeric.target import jit


def make(k):
    @jit(inline=False)
    def body(x):
        return x * k{extra}

    return body


@jit
def plain(x):  # module level, outside the package: cached under the package's stamp too
    return x - 1.0


if len(sys.argv) > 1:
    jitcache.fingerprint = lambda: "as if a package source had changed"
f = make(3)
value = f(2.0)
other = make(4)  # another closed-over value: another module, another result
print(json.dumps({{
    "value": value,
    "other": [other(2.0), other.py_func.__module__ != f.py_func.__module__],
    "plain": [plain(2.0), sum(plain.stats.cache_hits.values()), sum(plain.stats.cache_misses.values())],
    "hits": sum(f.stats.cache_hits.values()),
    "misses": sum(f.stats.cache_misses.values()),
    "module": f.py_func.__module__,
    "uncached": jitcache.UNCACHED,
}}))
"""


def test_generated_body_is_cached_and_a_changed_source_recompiles(tmp_path):
    script = tmp_path / "body.py"
    script.write_text(BODY.format(extra=""))
    first = run_python(script, tmp_path / "cache")
    assert first["value"] == 6.0 and first["other"] == [8.0, True] and first["uncached"] == {}
    assert first["plain"] == [1.0, 0, 1]
    assert first["module"].startswith("closedform.numeric.jitcache.body_")
    assert (first["hits"], first["misses"]) == (0, 1)  # compiled, and saved
    second = run_python(script, tmp_path / "cache")
    assert second == {**first, "hits": 1, "misses": 0, "plain": [1.0, 1, 0]}  # loaded, not compiled
    # The body's source changes: another module, compiled anew, and the new result.
    script.write_text(BODY.format(extra=" + 1.0"))
    changed = run_python(script, tmp_path / "cache")
    assert changed["value"] == 7.0 and changed["module"] != first["module"]
    assert (changed["hits"], changed["misses"]) == (0, 1)
    # Any package source changing (the stamp) recompiles the same body instead of loading it.
    script.write_text(BODY.format(extra=""))
    restamped = run_python(script, tmp_path / "cache", "restamp")
    assert restamped["value"] == 6.0 and (restamped["hits"], restamped["misses"]) == (0, 1)
    assert restamped["plain"] == [1.0, 0, 1]


SECTOR = """
import json
from closedform.numeric import jitcache
from closedform.numeric import sector as ns
from closedform.numeric.rng import _fill_jumped
from closedform.cache import cache_info

run = ns.REDUCED.run(ns.pack_sector(4, 3.14159), 1000, seed=1, streams=4)
drivers = [ns.REDUCED.cpu_driver(), _fill_jumped]
info = cache_info()
print(json.dumps({
    "totals": run.totals.tolist(),
    "hits": [sum(d.stats.cache_hits.values()) for d in drivers],
    "misses": [sum(d.stats.cache_misses.values()) for d in drivers],
    "entries": info.entries,
    "path": str(info.path),
    "uncached": jitcache.UNCACHED,
}))
"""


def test_a_second_process_loads_the_sector_driver_instead_of_compiling(tmp_path):
    script = tmp_path / "sector.py"
    script.write_text(SECTOR)
    first = run_python(script, tmp_path / "cache")
    assert first["misses"] == [1, 1] and first["hits"] == [0, 0] and first["uncached"] == {}
    assert first["entries"] >= 2 and first["path"] == str(tmp_path / "cache" / "closedform")
    second = run_python(script, tmp_path / "cache")
    assert second["hits"] == [1, 1] and second["misses"] == [0, 0]
    assert second["totals"] == first["totals"]


def test_package_functions_use_the_package_locator():
    trial = nsector.REDUCED.trial
    assert isinstance(trial._cache, jitcache._PackageCache)
    assert Path(trial._cache.cache_path) == jitcache.kernel_dir()


def test_presets_are_the_family_with_fixed_options():
    def f(x):
        return x + 1.0

    assert scalar_jit(f).targetoptions["inline"] == "always"
    assert parallel_jit(f).targetoptions["parallel"] is True
    plain = jit(f)
    assert plain.targetoptions["inline"] == "never" and plain.targetoptions["error_model"] == "numpy"
    assert isinstance(jit(f, cache=False)._cache, numba.core.caching.NullCache)


def test_an_unwritable_cache_dir_falls_back_like_numba(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(blocker / "cache"))  # a path under a file
    candidates = jitcache.root_candidates()
    assert candidates[0] == blocker / "cache" / "closedform"
    assert not jitcache._writable(candidates[0])
    assert candidates[1:] == [
        jitcache.PACKAGE_DIR / "__pycache__" / "closedform-numba",
        Path(numba.misc.appdirs.AppDirs(appname="numba", appauthor=False).user_cache_dir) / "closedform",
    ]


def test_a_value_without_import_path_is_refused_not_hashed_away():
    table = object()

    def make():
        def body(x):
            return table

        return body

    with pytest.raises(jitcache.NotMaterializable, match="table"):
        jitcache.module_source(make(), {})


def test_sets_of_flags_are_written_in_a_fixed_order():
    assert jitcache._options_source({"fastmath": {"reassoc", "contract"}}) == "fastmath={'contract', 'reassoc'}"


def test_kernels_pickle_their_trial_by_reference():
    kernel = pickle.loads(cloudpickle.dumps(nsector.REDUCED))
    assert kernel.trial is nsector.REDUCED.trial
    assert jitcache.reference(nsector.REDUCED.trial) == ("closedform.numeric.sector", kernel.trial.__name__, {})


REMOTE = """
import json, pickle, sys
from pathlib import Path
from closedform.numeric import jitcache

kernel = pickle.loads(Path(sys.argv[1]).read_bytes())
run = kernel.run(pickle.loads(Path(sys.argv[2]).read_bytes()), 500, seed=3, streams=2)
print(json.dumps({"totals": run.totals.tolist(), "generated": str(jitcache.generated_dir())}))
"""


def test_a_worker_without_the_generated_modules_writes_them_from_the_pickle(tmp_path):
    from closedform.numeric.noise import argmax_kernel, family_code, pack_argmax

    packed = pack_argmax("logistic", [0.3, 0.0, -0.5])
    kernel = argmax_kernel().for_family(family_code("logistic"))
    ref = jitcache.reference(kernel.trial)
    assert ref is not None and ref[0].startswith("closedform.numeric.jitcache.") and len(ref[2]) >= 2
    (tmp_path / "kernel.pkl").write_bytes(cloudpickle.dumps(kernel))
    (tmp_path / "packed.pkl").write_bytes(pickle.dumps(packed))
    script = tmp_path / "remote.py"
    script.write_text(REMOTE)
    got = run_python(script, tmp_path / "elsewhere", str(tmp_path / "kernel.pkl"), str(tmp_path / "packed.pkl"))
    assert got["generated"].startswith(str(tmp_path / "elsewhere"))
    assert got["totals"] == kernel.run(packed, 500, seed=3, streams=2).totals.tolist()


def test_cli_cache_info_and_unknown_warm_topic(capsys):
    assert main(["cache", "info"]) == 0
    assert "cache folder:" in capsys.readouterr().out
    assert main(["warm", "no_such_topic", "--no-progress"]) == 2
    assert "unknown topic" in capsys.readouterr().err


def test_cache_clear_removes_only_the_package_folders(tmp_path):
    script = tmp_path / "clear.py"
    script.write_text(
        textwrap.dedent(
            """
            import json
            from closedform.cache import cache_clear, cache_info
            from closedform.numeric.target import jit

            def make(k):
                @jit
                def f(x):
                    return x + k
                return f

            make(1)(1.0)
            before = cache_info()
            freed = cache_clear()
            after = cache_info()
            print(json.dumps([before.entries, before.generated, freed, after.entries, after.generated, after.bytes]))
            """
        )
    )
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "someone-else").write_text("kept")
    got = run_python(script, tmp_path / "cache")
    entries, generated, freed, after_entries, after_generated, after_bytes = got
    assert entries >= 1 and generated >= 1 and freed > 0
    assert (after_entries, after_generated, after_bytes) == (0, 0, 0)
    assert (tmp_path / "cache" / "someone-else").read_text() == "kept"


def test_a_worker_warms_a_topic_selection_once(monkeypatch):
    pytest.importorskip("distributed")
    from closedform import cache, distributed

    calls = []
    monkeypatch.setattr(cache, "warm", lambda topics, progress: calls.append(topics))
    monkeypatch.setattr(distributed, "_WARMED", set())
    assert distributed._warm_once(["udm", "sector"]) is True
    assert distributed._warm_once(["sector", "udm"]) is False
    assert distributed._warm_once([]) is True
    assert calls == [("sector", "udm"), ()]


CALLER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from closedform.numeric.target import jit
from usertrial import body


def make(k):
    @jit
    def caller(x):
        return body(x) + k

    return caller


f = make(1.0)
print(json.dumps({"value": f(2.0), "module": f.py_func.__module__}))
"""


def test_an_edit_of_a_users_body_inlined_into_a_generated_one_recompiles(tmp_path):
    # A user's file is outside the package stamp: its hash is written into the generated source.
    (tmp_path / "usertrial.py").write_text(
        "from closedform.numeric.target import scalar_jit\n\n\n@scalar_jit\ndef body(x):\n    return 2.0 * x\n"
    )
    script = tmp_path / "caller.py"
    script.write_text(CALLER)
    first = run_python(script, tmp_path / "cache", str(tmp_path))
    (tmp_path / "usertrial.py").write_text(
        "from closedform.numeric.target import scalar_jit\n\n\n@scalar_jit\ndef body(x):\n    return 3.0 * x\n"
    )
    second = run_python(script, tmp_path / "cache", str(tmp_path))
    assert (first["value"], second["value"]) == (5.0, 7.0)
    assert first["module"] != second["module"]
