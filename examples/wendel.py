r"""Wendel's theorem in R^3, checked against a vectorised NumPy simulator with an exact half-space test.

N points drawn from a distribution symmetric about 0 (here standard normal) in
R^d lie in some open half-space through the origin with probability

    P = 2^(1-N) * sum_{k<d} C(N-1, k)          (J. G. Wendel, 1962),

here for d = 3: P = 2^(1-N) (1 + (N-1) + (N-1)(N-2)/2).  The oracle sums the
left side term by term at 40 digits; the simulation decides the event exactly.

**The half-space test.**  The points lie in an open half-space through 0 iff
some w has w.x_i > 0 for all i.  With probability 1 no two points are
collinear with 0 and no three coplanar with 0 (general position).  Then, for
N >= 2, such a w exists iff for some pair (a, b) the triple products
c_i = (x_a x x_b).x_i of all the other points have one strict sign:

* if they do, w = s (x_a x x_b) (s that sign) has w.x_i > 0 for i != a, b and
  w.x_a = w.x_b = 0; adding a small u with u.x_a > 0 and u.x_b > 0 (it exists
  since x_a, x_b are independent) makes all N products positive;
* conversely, the closed cone K = {w : w.x_i >= 0 for all i} of a feasible
  set of N >= 3 points in general position is pointed (the points span R^3)
  with non-empty interior, so it has an extreme ray; in R^3 an extreme ray has
  two independent active constraints, w.x_a = w.x_b = 0, hence w is parallel
  to x_a x x_b, and general position makes every other product non-zero,
  hence positive.  (N = 2: the lone pair passes with no other point to check.)

Floating point decides the sign of each triple product exactly unless it is
within rounding of 0, an event of probability about 1e-15 per product,
far below what 10^5-10^6 trials can see.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp

import closedform as cf

N_param = cf.integer("N", 1, 12, typical=(1, 10), description="number of points")
N = N_param.symbol()
k = sp.Symbol("k", integer=True, nonnegative=True)
D = 3


def in_half_space(rng, size, N):
    """``size`` trials of N standard normal points of R^3: True when they lie in an open half-space through 0."""
    x = rng.standard_normal((size, N, D))
    if N <= 2:
        return np.ones(size, dtype=bool)
    found = np.zeros(size, dtype=bool)
    for a, b in combinations(range(N), 2):
        normal = np.cross(x[:, a], x[:, b])  # (size, 3): the plane through 0, x_a and x_b
        others = [i for i in range(N) if i not in (a, b)]
        c = np.einsum("sj,sij->si", normal, x[:, others])  # the others' triple products
        found |= (c > 0).all(axis=1) | (c < 0).all(axis=1)
    return found


WENDEL = cf.claim(
    "wendel_3d",
    [N_param],
    2 ** (1 - N) * (1 + (N - 1) + (N - 1) * (N - 2) / 2),
    lhs=2 ** (1 - N) * sp.Sum(sp.binomial(N - 1, k), (k, 0, D - 1)),
    simulate=in_half_space,
    cases=[{"N": 4}, {"N": 5}, {"N": 6}, {"N": 8}],
    title="N symmetric points of R^3 lie in a half-space through 0 with probability 2^(1-N) sum_{k<3} C(N-1, k)",
    trials=200_000,
)

RESULTS = (WENDEL,)

if __name__ == "__main__":
    print(cf.verify(RESULTS))
