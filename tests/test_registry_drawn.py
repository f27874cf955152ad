"""Registry-wide drawn tests: every result away from its hand-written cases.

SciPy's ``draw_distribution_from_family`` idea: each result's parameters are drawn
from their own :meth:`~closedform.params.Param.strategy`, and

- the closed form must agree with the independent mpmath oracle at the drawn
  point (the same :func:`closedform.checks.oracle_check` as ``closedform verify``,
  so the same stated ``rtol`` and its reason);
- one parameter at a time replaced by a value from its
  :meth:`~closedform.params.Param.invalid_strategy` must be refused with a
  :class:`~closedform.ParameterError` that names that parameter, quickly, never a
  NaN, another exception or a hang.

Draws that break a cross-parameter constraint (``w_prev < w_t``, ``t <= l``,
``sigma^2 c < 1``, ...) are refused by the result itself with a
``ParameterError``; Hypothesis discards those draws (``assume``), so a result
whose constraints reject almost every draw shows up as a health-check failure,
not as a silent pass.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from closedform import checks
from closedform.derive.errors import ParameterError
from closedform.numeric.target import SIMULATOR
from closedform.param_strategies import sized_params
from closedform.registry import RESULTS

pytestmark = pytest.mark.skipif(SIMULATOR, reason="CPU registry checks; the simulator job runs tests/test_cuda.py")

ORACLE_RESULTS = [r for r in RESULTS if r.oracle is not None and r.params]
PARAMETRISED = [r for r in RESULTS if r.params]

#: Drawn points per result in each run (the ci profile's count would cost minutes of 30-digit quadrature).
DRAWN_POINTS = 4
#: A refusal must come at once: validation never computes the closed form.
REFUSAL_SECONDS = 2.0


def _params(result, data):
    return sized_params(result.params, data)


@pytest.mark.parametrize("result", ORACLE_RESULTS, ids=lambda r: r.name)
@settings(max_examples=DRAWN_POINTS, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_closed_form_matches_oracle_at_drawn_parameters(result, data):
    case = _params(result, data)
    try:
        result.validate(**case)
        row = checks.oracle_check(result, case)
    except ParameterError:
        assume(False)  # a cross-parameter constraint of the result refused the draw, with a clear error
        return
    assert row.status == "pass", f"{result.name} at {case}: {row.detail}"


@pytest.mark.parametrize("result", PARAMETRISED, ids=lambda r: r.name)
@settings(max_examples=2 * DRAWN_POINTS)
@given(data=st.data())
def test_out_of_domain_values_are_refused_naming_the_parameter(result, data):
    param = data.draw(st.sampled_from(result.params), label="parameter")
    bad = data.draw(param.invalid_strategy(), label="bad value")
    case = dict(result.cases[0]) | {param.name: bad}
    start = time.perf_counter()
    with pytest.raises(ParameterError) as info:
        result.formula(**case)
    assert time.perf_counter() - start < REFUSAL_SECONDS
    message = str(info.value)
    assert param.name in message, f"{result.name}: the error for {param.name}={bad!r} does not name it: {message}"
    assert "\n" not in message
