"""The bad-input reproducers of the fuzzing run, each a clear error at once (or the right value).

Each case is one line of the issue "Robust under bad input and long work": before the fix it
hung, returned a wrong value or raised something other than a ParameterError.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import closedform as cf

#: A refusal validates input only; anything slower than this is the hang it replaces.
REFUSAL_SECONDS = 2.0


def _udm():
    import closedform.udm as udm

    return udm


def _sector():
    import closedform.sector as sector

    return sector


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: _udm().alpha_bar_schedule("cosine", 10**6), r"T must be an integer in 1\.\.10000"),
        (lambda: _udm().alpha_bar_schedule("cosine", 2.5), r"T must be an integer in 1\.\.10000"),
        (lambda: _udm().alpha_bar_schedule("cosine", True), r"T must be an integer in 1\.\.10000"),
        (lambda: _sector().probability(10**6, "3*pi/2"), r"n must be an integer in 1\.\.100"),
        (lambda: _sector().probability("1e300", "pi"), r"n must be an integer in 1\.\.100"),
        (lambda: _sector().probability(4, "9**9**9"), r"theta: 9\*\*387420489 is too large"),
        (lambda: _udm().hot_posterior(t=2.5, T=5), r"t must be an integer"),
    ],
)
def test_reproducer_is_refused_at_once(call, match):
    start = time.perf_counter()
    with pytest.raises(cf.ParameterError, match=match):
        call()
    assert time.perf_counter() - start < REFUSAL_SECONDS


def test_named_schedule_takes_any_integer_type():
    udm = _udm()
    assert udm.alpha_bar_schedule("cosine", np.int64(3)) == udm.alpha_bar_schedule("cosine", 3)
