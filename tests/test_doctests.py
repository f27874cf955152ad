"""Run every docstring example of the package, imported under its installed name."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import closedform
from closedform.numeric.target import SIMULATOR

pytestmark = pytest.mark.skipif(
    SIMULATOR, reason="doctests run compiled kernels; the simulator job runs tests/test_cuda.py"
)

# The distributed and report modules need optional extras; they are doctested when installed.
OPTIONAL = {"closedform.distributed": "distributed", "closedform.report": "matplotlib"}


def _modules():
    names = ["closedform"]
    for info in pkgutil.walk_packages(closedform.__path__, "closedform."):
        names.append(info.name)
    for sub in ("derive", "numeric", "proofs"):
        pkg = importlib.import_module(f"closedform.{sub}")
        names += [i.name for i in pkgutil.walk_packages(pkg.__path__, f"closedform.{sub}.")]
    return sorted(set(n for n in names if not n.endswith("__main__")))


@pytest.mark.parametrize("name", _modules())
def test_doctests(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name], reason=f"{name} needs the optional {OPTIONAL[name]} package")
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_readme_examples():
    from pathlib import Path

    readme = Path(__file__).resolve().parents[1] / "README.md"
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(str(readme), module_relative=False, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} README example(s) failed"
