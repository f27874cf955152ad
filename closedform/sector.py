r"""n uniform points in a disk, all inside one sector of angle θ (post 9324).

>>> import closedform.sector as sector
>>> sector.probability(4, "pi")
P_{4}(pi) = 1/2
>>> print(sector.probability(3, "theta").latex())  # doctest: +ELLIPSIS
P_{3}{\left(\theta \right)} = \begin{cases} \frac{3 \theta^{2}}{4 \pi^{2}} & \text{for}\: \theta \leq \pi \\...
>>> round(float(sector.probability(5, 1.4 * 3.141592653589793)), 12)
0.9455
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from closedform import lazy
from closedform.derive import sector as d
from closedform.estimate import Estimate
from closedform.proofs import sector as pr
from closedform.spec import Formula, Param, Plot, Result, Simulation, float_or_exact

num = lazy.module("closedform.numeric.sector")  # Numba kernels: imported on first simulation or oracle

#: Most points the exact forms take.  The alternating sum loses about 0.3 n digits to cancellation,
#: and SymPy's evalf works to 100 digits at most; n <= 100 also keeps each exact value under a second.
MAX_POINTS = 100
N = Param("n", "n", sp.Range(1, MAX_POINTS + 1), (1, 30), "number of points")
THETA = Param("theta", r"\theta", sp.Interval.Lopen(0, 2 * sp.pi), (0.05, 6.28), "central angle of the sector")
THETA_SMALL = Param("theta", r"\theta", sp.Interval.Lopen(0, sp.pi), (0.05, 3.14), "central angle, at most pi")
THRESHOLD = Param("c", "c", sp.Interval(0, sp.Rational(1, 3)), (0.0, 0.33), "common threshold of three spacings")
C1 = Param("c1", "c_1", sp.Interval(0, sp.Rational(1, 3)), (0.0, 0.33), "threshold of the first spacing")
C2 = Param("c2", "c_2", sp.Interval(0, sp.Rational(1, 3)), (0.0, 0.33), "threshold of the second spacing")
C3 = Param("c3", "c_3", sp.Interval(0, sp.Rational(1, 3)), (0.0, 0.33), "threshold of the third spacing")
N4 = Param("n", "n", sp.Range(4, MAX_POINTS + 1), (4, 30), "number of points (at least 4: three spacings and the rest)")
X = Param("x", "x", sp.Interval(-1, 2), (-1.0, 2.0), "any real argument of the polynomial")
N_ID = Param("n", "n", sp.Range(1, 41), (1, 40), "degree plus one")


#: Where a new inclusion-exclusion term switches on: theta_k = 2 pi (1 - 1/k); P = 1 from theta_n on.
BREAKPOINTS = tuple((2 * sp.pi * (1 - sp.Rational(1, k)), rf"$\theta_{k}$") for k in range(2, 7))
_QUARTERS = tuple(k * sp.pi / 4 for k in range(1, 8))


def _sector_closed_form(n, theta):
    if isinstance(theta, sp.Float):
        # A float input is its exact binary value: evaluated exactly then rounded at 35 digits, so the
        # alternating sum does not cancel at the float's 53 bits (1.3e-12 at n = 11, theta just below 2 pi).
        return sp.Float(sp.N(d.probability(n, sp.Rational(theta)), 35), 35)
    return float_or_exact(d.probability(n, theta))


def _sector_oracle(n, theta):
    import mpmath

    return num.sector_oracle(int(n), mpmath.mpf(sp.N(theta, mpmath.mp.dps + 10)))


SECTOR = Result(
    name="sector",
    topic="sector",
    title="n uniform points of a disk lie in one sector of central angle theta",
    params=(N, THETA),
    closed_form=_sector_closed_form,
    lhs=d.sector_event,
    oracle=_sector_oracle,
    simulation=Simulation(
        "closedform.numeric.sector:REDUCED",
        lambda n, theta: num.pack_sector(n, theta),
        draws_per_trial=lambda n, theta: max(int(n) - 1, 1),
        description="largest circular gap of n-1 uniform angles and one at 0",
    ),
    proofs=(
        pr.gap_reduction,
        pr.inclusion_exclusion,
        pr.reduces_to_small_angle,
        pr.continuity_and_ends,
        pr.density_integrates_to_one,
        pr.four_ducks,
    ),
    cases=(
        {"n": 4, "theta": "pi"},
        {"n": 4, "theta": "5*pi/4"},
        {"n": 5, "theta": "7*pi/5"},
        {"n": 6, "theta": "6*pi/5"},
        {"n": 7, "theta": "8*pi/5"},
        {"n": 3, "theta": "pi/2"},
        {"n": 10, "theta": "3*pi/2"},
        {"n": 2, "theta": "2*pi/3"},
        {"n": 1, "theta": "pi/7"},
    ),
    plots=(
        Plot(
            "theta",
            series=({"n": 2}, {"n": 3}, {"n": 4}, {"n": 6}, {"n": 10}),
            x_range=(sp.Rational(1, 50), 2 * sp.pi),
            sim_x=_QUARTERS,
            marks=BREAKPOINTS,
            x_in_pi=True,
            ylabel=r"$P_n(\theta)$",
            title="P_n(theta) for several n: a new term at each breakpoint theta_k = 2pi(1 - 1/k); "
            "P = 1 from theta_n on",
        ),
        Plot(
            "n",
            series=({"theta": "pi"}, {"theta": "3*pi/2"}),
            x_range=(1, 20),
            sim_x=(2, 3, 4, 6, 8, 10, 12),
            logy=True,
            ylabel=r"$P_n(\theta)$",
            title="P_n(theta) against n: n / 2^(n-1) at theta = pi (Wendel's d = 2 case)",
        ),
    ),
    rtol=1e-12,
    rtol_reason="the alternating sum loses about log10(C(n, n/2)) digits to cancellation in double "
    "precision; for n <= 30 that leaves better than 1e-12 (the closed form is evaluated at 30 digits "
    "before rounding, so the tolerance covers the float input theta only)",
    sim_trials=2 * 10**6,
)

SECTOR_FAITHFUL = Result(
    name="sector_disk",
    topic="sector",
    title="the same probability, simulated faithfully: points uniform in the disk, direct containment test",
    params=(N, THETA),
    closed_form=_sector_closed_form,
    lhs=d.sector_event,
    oracle=_sector_oracle,
    simulation=Simulation(
        "closedform.numeric.sector:FAITHFUL",
        lambda n, theta: num.pack_faithful(n, theta),
        draws_per_trial=lambda n, theta: 2 * int(n),
        description="points (sqrt(U) cos 2piV, sqrt(U) sin 2piV), atan2, rotate to each point",
    ),
    proofs=(pr.gap_reduction,),
    cases=(
        {"n": 4, "theta": "pi"},
        {"n": 4, "theta": "5*pi/4"},
        {"n": 3, "theta": "pi/2"},
        {"n": 6, "theta": "6*pi/5"},
    ),
    sim_trials=10**6,
    plots=(
        Plot(
            "theta",
            series=({"n": 3}, {"n": 4}, {"n": 6}),
            x_range=(sp.Rational(1, 50), 2 * sp.pi),
            sim_x=_QUARTERS,
            marks=BREAKPOINTS,
            x_in_pi=True,
            ylabel=r"$P_n(\theta)$",
            title="the closed form against the faithful simulation: points in the disk, direct containment",
        ),
    ),
)

SECTOR_SMALL = Result(
    name="sector_small_angle",
    topic="sector",
    title="for theta <= pi the sector probability is n (theta/2pi)^(n-1), for symbolic n",
    params=(N, THETA_SMALL),
    closed_form=lambda n, theta: float_or_exact(d.probability_small_angle(n, theta)),
    lhs=d.sector_event,
    oracle=_sector_oracle,
    simulation=SECTOR.simulation,
    proofs=(pr.small_angle,),
    cases=({"n": 4, "theta": "pi"}, {"n": 3, "theta": "pi/2"}, {"n": 8, "theta": "9*pi/10"}),
    sim_trials=10**6,
    plots=(
        Plot(
            "theta",
            series=({"n": 2}, {"n": 3}, {"n": 5}, {"n": 8}),
            x_range=(sp.Rational(1, 50), sp.pi),
            sim_x=tuple(k * sp.pi / 8 for k in range(1, 9)),
            x_in_pi=True,
            ylabel=r"$P_n(\theta)$",
            title="for theta <= pi only the first term survives: n (theta/2pi)^(n-1)",
        ),
    ),
)

SPACING_EXCEEDANCE = Result(
    name="spacing_exceedance",
    topic="sector",
    title="P(x1 > c1, x2 > c2, x3 > c3) = (1 - c1 - c2 - c3)^(n-1) for the spacings of n-1 uniform points",
    params=(N4, C1, C2, C3),
    closed_form=lambda n, c1, c2, c3: float_or_exact(d.exceedance_probability(n, [c1, c2, c3])),
    lhs=lambda n, c1, c2, c3: sp.Function("P")(
        sp.Gt(sp.Symbol("x_1"), c1) & sp.Gt(sp.Symbol("x_2"), c2) & sp.Gt(sp.Symbol("x_3"), c3)
    ),
    oracle=lambda n, c1, c2, c3: num.exceedance_oracle(int(n), *(sp.N(c, 40) for c in (c1, c2, c3))),
    simulation=Simulation(
        "closedform.numeric.sector:EXCEEDANCE",
        lambda n, c1, c2, c3: __import__("numpy").array([float(n), float(c1), float(c2), float(c3)]),
        draws_per_trial=lambda n, **_: int(n) - 1,
        description="sort n-1 uniforms, test the first three spacings",
    ),
    proofs=(pr.marginals_and_exceedance,),
    cases=({"n": 5, "c1": "1/10", "c2": "1/5", "c3": "3/20"}, {"n": 8, "c1": "0", "c2": "1/10", "c3": "1/4"}),
    plots=(
        Plot(
            "c1",
            series=({"n": 4}, {"n": 5}, {"n": 8}),
            base={"c2": "1/10", "c3": "1/10"},
            x_range=(0, sp.Rational(1, 3)),
            ylabel=r"$P(x_1>c_1, x_2>c_2, x_3>c_3)$",
            title="(1 - c1 - c2 - c3)^(n-1) against c1, with c2 = c3 = 1/10",
        ),
    ),
    rtol=1e-12,
    rtol_reason="tanh-sinh quadrature of a smooth polynomial at 40 digits; the closed form is one power",
    sim_trials=10**6,
)

LARGEST_SPACING_MEAN = Result(
    name="largest_spacing_mean",
    topic="sector",
    title="the expected largest of the n spacings of n-1 uniform points is H_n / n",
    params=(N,),
    closed_form=lambda n: d.expected_largest_spacing(n),
    lhs=lambda n: sp.Function("E")(sp.Function("max")(sp.Symbol("x_i"))),
    oracle=lambda n: num.largest_gap_mean_oracle(int(n)),
    simulation=Simulation(
        "closedform.numeric.sector:LARGEST_GAP",
        lambda n: __import__("numpy").array([float(n)]),
        kind="mean",
        draws_per_trial=lambda n: max(int(n) - 1, 1),
        description="mean of the largest circular gap",
    ),
    proofs=(pr.expected_largest_gap,),
    cases=({"n": 2}, {"n": 3}, {"n": 5}, {"n": 10}, {"n": 30}),
    sim_trials=10**6,
    plots=(
        Plot(
            "n",
            x_range=(1, 30),
            sim_x=(2, 3, 5, 10, 20, 30),
            ylabel=r"$E[\max_i x_i] = H_n/n$",
            title="expected largest of the n spacings: H_n / n",
        ),
    ),
)

ALTERNATING_IDENTITY = Result(
    name="alternating_identity",
    topic="sector",
    title="the alternating binomial sum left open by the post is identically 1",
    params=(N_ID, X),
    closed_form=lambda n, x: sp.Integer(1),
    lhs=lambda n, x: d.alternating_sum(n, x),
    oracle=lambda n, x: _alternating_mp(int(n), x),
    proofs=(pr.identity_is_one,),
    cases=({"n": 5, "x": "3/10"}, {"n": 12, "x": "-7/10"}, {"n": 30, "x": "1/3"}),
    rtol=1e-25,
    rtol_reason="the oracle sums the terms at 30+ digits; the cancellation of terms of size up to "
    "C(n, n/2) n^(n-1) is absorbed by raising the working precision by that many digits",
    skips={"simulation": "a polynomial identity has nothing random to simulate"},
    plots=(
        Plot(
            "x",
            series=({"n": 5}, {"n": 12}, {"n": 30}),
            ylabel="alternating sum",
            title="the alternating sum, evaluated at high precision by the oracle, is 1 for every x and n",
        ),
    ),
)


def _alternating_mp(n: int, x: Any):
    import mpmath

    with mpmath.workdps(mpmath.mp.dps + 3 * n + 10):
        xm = mpmath.mpf(sp.N(x, mpmath.mp.dps))
        total = mpmath.fsum((-1) ** (j - 1) * mpmath.binomial(n, j) * (1 - j * xm) ** (n - 1) for j in range(1, n + 1))
    return +total


def probability(n: Any, theta: Any) -> Formula:
    r"""The sector probability :math:`P_n(\theta)` as a :class:`~closedform.spec.Formula`.

    ``n`` may be a positive integer or a symbol name (``"n"``); ``theta`` a
    number, a SymPy string such as ``"3*pi/2"`` or a symbol name
    (``"theta"``).  Concrete inputs are validated (n a positive integer,
    θ in (0, 2π]).

    .. math::

        P_n(\theta) = \sum_{k=1}^{\lfloor 1/(1-x) \rfloor}
            (-1)^{k+1} \binom nk \bigl(1 - k(1-x)\bigr)^{n-1}, \qquad x = \theta/2\pi .
    """
    args = {}
    for p, v in ((N, n), (THETA, theta)):
        if isinstance(v, str) and v.isidentifier() and v != "pi":
            args[p.name] = p.symbol()
        elif isinstance(v, sp.Symbol):
            args[p.name] = v
        else:
            args[p.name] = p.validate(v)
    return Formula(d.sector_event(args["n"], args["theta"]), _sector_closed_form(args["n"], args["theta"]))


def simulate(
    n: Any,
    theta: Any,
    trials: Any = 10**6,
    *,
    device: str = "cpu",
    seed: int = 0,
    streams: int | None = None,
    method: str = "reduced",
    cluster: Any = None,
) -> Estimate:
    """Monte Carlo estimate of :math:`P_n(\\theta)`.

    ``method="reduced"`` (fast: angles only, first point at 0, largest gap) or
    ``"disk"`` (faithful: points in the disk, direct containment).

    >>> est = simulate(4, "pi", trials=100_000, seed=1)
    >>> abs(est.value - 0.5) < 5 * est.error
    True
    """
    result = {"reduced": SECTOR, "disk": SECTOR_FAITHFUL}.get(method)
    if result is None:
        from closedform.spec import ParameterError

        raise ParameterError(f"method must be 'reduced' or 'disk', got {method!r}")
    return result.simulate(trials, device=device, seed=seed, streams=streams, cluster=cluster, n=n, theta=theta)
