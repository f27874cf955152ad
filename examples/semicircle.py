r"""n points uniform on a circle lie in one semicircle with probability n / 2^(n-1).

Checked three ways, and next to it the wrong n / 2^n, which every check catches:

* symbolically: the events "every other point lies within half a turn
  clockwise of point i" are disjoint for i = 1..n (two of them would need a
  pair of points each clockwise of the other) and each has probability
  (1/2)^(n-1), so P = sum_i (1/2)^(n-1) = n / 2^(n-1), a derivation SymPy proves;
* by an oracle: the inclusion-exclusion over which gaps reach half a turn,
  sum_k (-1)^(k+1) C(n, k) max(0, 1 - k/2)^(n-1), summed by mpmath at 40 digits
  (an independent route: it never uses the disjointness above);
* by simulation: a Numba trial function (the largest circular gap of n
  uniform angles is at least 1/2 exactly when they fit in a semicircle).

Run ``python examples/semicircle.py``, or from the command line
``closedform verify claims --results examples/semicircle.py`` (the right claim: exit 0) and
``closedform verify wrong_claims --results examples/semicircle.py`` (the wrong one: exit 1).
"""

from __future__ import annotations

import sympy as sp

import closedform as cf

n_param = cf.integer("n", 2, 60, typical=(2, 20), description="number of points")
n = n_param.symbol()
k, i = sp.symbols("k i", integer=True, positive=True)

#: The oracle's route: inclusion-exclusion over the gaps of at least half a turn.
INCLUSION_EXCLUSION = sp.Sum(
    (-1) ** (k + 1) * sp.binomial(n, k) * sp.Max(0, 1 - k / sp.Integer(2)) ** (n - 1), (k, 1, n)
)

UNION = (
    cf.derivation(sp.Sum(sp.Rational(1, 2) ** (n - 1), (i, 1, n)), title="union of n disjoint events", params=[n_param])
    .step(n * sp.Rational(1, 2) ** (n - 1), why="n equal terms")
    .step(n / 2 ** (n - 1), why="powers of two")
)

WRONG_UNION = (
    cf.derivation(sp.Sum(sp.Rational(1, 2) ** (n - 1), (i, 1, n)), title="a slip in the exponent", params=[n_param])
    .step(n * sp.Rational(1, 2) ** (n - 1), why="n equal terms")
    .step(n / 2**n, why="powers of two (wrong: drops a factor 2)")
)


def in_semicircle(states, stream, n):
    """One trial: do n uniform points of the circle fit in a half turn?

    Rotate so that the first point sits at 0 and measure angles in turns.  The
    points fit in a half turn iff some gap between neighbours is at least 1/2;
    a gap cannot contain the point 0, and an arc of length 1/2 not containing 0
    contains 1/2, so the only candidate is the gap around 1/2: from the highest
    point below 1/2 (or 0) to the lowest point above it (or 1).  O(n), no memory.
    """
    below = 0.0
    above = 1.0
    for _ in range(n - 1):
        u = cf.rng.uniform(states, stream)
        if u < 0.5:
            below = max(below, u)
        else:
            above = min(above, u)
    return above - below >= 0.5


SEMICIRCLE = cf.claim(
    "semicircle",
    [n_param],
    n / 2 ** (n - 1),
    lhs=INCLUSION_EXCLUSION,
    simulate=in_semicircle,
    proofs=[UNION],
    cases=[{"n": 3}, {"n": 4}, {"n": 6}],
    title="n uniform points of a circle lie in one semicircle with probability n / 2^(n-1)",
    trials=400_000,
)

SEMICIRCLE_WRONG = cf.claim(
    "semicircle_wrong",
    [n_param],
    n / 2**n,
    lhs=INCLUSION_EXCLUSION,
    simulate=in_semicircle,
    proofs=[WRONG_UNION],
    cases=[{"n": 3}, {"n": 4}, {"n": 6}],
    title="the same with the wrong n / 2^n: every check must catch it",
    topic="wrong_claims",
    trials=400_000,
)

RESULTS = (SEMICIRCLE, SEMICIRCLE_WRONG)

if __name__ == "__main__":
    table = cf.verify(RESULTS)
    print(table)
