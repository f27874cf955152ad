"""Shared test configuration: Hypothesis profiles, precision hygiene, the CUDA marker.

Profiles (``HYPOTHESIS_PROFILE``): ``dev`` (default, few examples), ``ci``
(derandomized, no database, what CI runs), ``thorough`` (many examples; the
statistics tests also raise their trial counts under it), ``random`` (the
``ci`` example count, not derandomized and no database: every run draws new
examples, so repeated runs measure how often a test fails by chance, which
the derandomized ``ci`` profile never shows; ``bench/false_failures.py`` does
the same for verify's Monte Carlo checks).  ``deadline=None``
everywhere: the first example of a Numba test includes compilation.
"""

from __future__ import annotations

import os

import mpmath
import pytest
from hypothesis import HealthCheck, settings

from closedform.numeric.target import SIMULATOR, cuda_available

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=10, **_common)
settings.register_profile("ci", max_examples=15, derandomize=True, database=None, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=200, derandomize=False, **_common)
settings.register_profile("random", max_examples=15, derandomize=False, database=None, print_blob=True, **_common)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)

#: True under the thorough profile: statistical tests use more trials there.
THOROUGH = PROFILE == "thorough"


@pytest.fixture(autouse=True)
def _reset_mpmath_precision():
    """Every test starts at mpmath's default precision and cannot leak a change."""
    mpmath.mp.dps = 15
    yield
    mpmath.mp.dps = 15


def pytest_collection_modifyitems(config, items):
    # CUDA tests need a GPU or the simulator; the simulator makes every CPU
    # kernel plain Python, so CI runs them in their own process
    # (NUMBA_ENABLE_CUDASIM=1 pytest -m cuda) and the CPU run leaves them to it.
    if cuda_available() and not SIMULATOR:
        return
    if SIMULATOR:
        return
    skip = pytest.mark.skip(reason="runs in the CUDA job: NUMBA_ENABLE_CUDASIM=1 pytest -m cuda (no GPU here)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
