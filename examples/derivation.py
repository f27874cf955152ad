r"""A derivation of five steps with one wrong step, REFUTED at that step; and the right one, PROVED.

The claim: for U uniform on (0, 1) and a in [0, 1], E|U - a| = a^2 - a + 1/2.
Its left side is an unevaluated integral, so the oracle is mpmath quadrature
split at the kink t = a; its simulation is a Numba trial function returning a
float (the claim is the mean of the values).

Run ``python examples/derivation.py`` to see the step verdicts.
"""

from __future__ import annotations

import sympy as sp

import closedform as cf

a_param = cf.unit_interval("a", description="the point distances are measured from")
a = a_param.symbol()
t = sp.Symbol("t", real=True)
HALF = sp.Rational(1, 2)

MEAN_DISTANCE = sp.Integral(sp.Abs(t - a), (t, 0, 1))


def _steps(derivation, square):
    return (
        derivation.step(sp.Integral(a - t, (t, 0, a)) + sp.Integral(t - a, (t, a, 1)), why="split at the kink t = a")
        .step(a**2 / 2 + (1 - a) ** 2 / 2, why="integrate each piece")
        .step(a**2 - a + HALF, why="expand")
        .step(square, why="complete the square")
        .step(sp.expand(square), why="expand again")
    )


#: Five steps, all true.
RIGHT = _steps(
    cf.derivation(MEAN_DISTANCE, title="mean distance", params=[a_param]), (a - HALF) ** 2 + sp.Rational(1, 4)
)

#: The same five steps with a slip in step 4: (a - 1/2)^2 + 1/2 is a^2 - a + 3/4, not a^2 - a + 1/2.
WRONG = _steps(
    cf.derivation(MEAN_DISTANCE, title="mean distance, with a slip", params=[a_param]), (a - HALF) ** 2 + HALF
)


def distance(states, stream, a):
    """One trial: the distance of a uniform point of (0, 1) from a."""
    return abs(cf.rng.uniform(states, stream) - a)


MEAN_DISTANCE_CLAIM = cf.claim(
    "mean_distance",
    [a_param],
    a**2 - a + HALF,
    lhs=MEAN_DISTANCE,
    simulate=distance,
    proofs=[RIGHT],
    cases=[{"a": 0}, {"a": "1/3"}, {"a": "0.9"}],
    title="E|U - a| = a^2 - a + 1/2 for U uniform on (0, 1)",
    trials=400_000,
)

RESULTS = (MEAN_DISTANCE_CLAIM,)

if __name__ == "__main__":
    print(WRONG.check().text())
    print()
    print(cf.verify(RESULTS))
