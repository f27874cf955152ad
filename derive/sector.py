r"""n uniform points in a disk, all inside one sector of central angle θ.

The angle of a uniform point in a disk is uniform and independent of its
radius, so the question is about n uniform points on a circle.  With the arc
fraction :math:`x = \theta / 2\pi`, the points fit in one arc of length x iff
the largest of the n circular spacings is at least :math:`1 - x`; inclusion
and exclusion over the spacings (Fisher 1929, Stevens 1939) give

.. math::

    P_n(\theta) = \sum_{k=1}^{\lfloor 1/(1-x) \rfloor}
        (-1)^{k+1} \binom{n}{k} \bigl(1 - k(1-x)\bigr)^{n-1},

which is :math:`n x^{n-1}` for :math:`\theta \le \pi` (post 9324 of
Scientific Spaces).  All functions return SymPy expressions; rational
:math:`\theta/\pi` gives exact rationals.
"""

from __future__ import annotations

import sympy as sp

from closedform.derive.expr_parser import as_expr

__all__ = [
    "alternating_sum",
    "arc_fraction",
    "breakpoints",
    "certain_angle",
    "expected_largest_spacing",
    "exceedance_probability",
    "largest_spacing_survival",
    "marginal_density",
    "probability",
    "probability_small_angle",
    "sector_event",
    "spacing_density",
    "wendel_probability",
    "all_spacings_below_by_recursion",
]

_k = sp.Symbol("k", integer=True, positive=True)


def arc_fraction(theta: sp.Expr) -> sp.Expr:
    r"""The arc fraction :math:`x = \theta / 2\pi`.

    >>> arc_fraction(sp.pi)
    1/2
    """
    return theta / (2 * sp.pi)


def probability_small_angle(n: sp.Expr, theta: sp.Expr) -> sp.Expr:
    r"""The sector probability for :math:`\theta \le \pi`: :math:`n (\theta/2\pi)^{n-1}`.

    The n events "every other point lies within θ clockwise of point i" are
    disjoint when :math:`\theta \le \pi` and their union is the event.

    .. math::

        P_n(\theta) = n \left(\frac{\theta}{2\pi}\right)^{n-1}, \qquad 0 < \theta \le \pi .

    >>> n, theta = sp.symbols("n theta", positive=True)
    >>> probability_small_angle(n, theta)
    n*(theta/(2*pi))**(n - 1)
    >>> probability_small_angle(4, sp.pi)
    1/2
    """
    return as_expr(n) * arc_fraction(as_expr(theta)) ** (as_expr(n) - 1)


def largest_spacing_survival(n: sp.Expr, a: sp.Expr, upper: sp.Expr | None = None) -> sp.Expr:
    r"""P(largest of the n spacings of n-1 uniform points on [0, 1] exceeds a).

    .. math::

        P(\max_i x_i > a) = \sum_{k=1}^{\lceil 1/a \rceil - 1}
            (-1)^{k-1} \binom{n}{k} (1 - k a)^{n-1}

    For a concrete ``n`` and ``a`` the terms with ``1 - k a <= 0`` are dropped
    (they are zero or would be negative powers' artefacts); for symbolic
    arguments the upper limit is :math:`\lfloor 1/a \rfloor` (the term
    ``k = 1/a`` is zero for n >= 2).

    >>> largest_spacing_survival(4, sp.Rational(1, 2))
    1/2
    """
    n, a = as_expr(n), as_expr(a)
    if n.is_Integer and a.is_number:
        if a <= 0:
            return sp.Integer(1)
        total = sp.Integer(0)
        for k in range(1, int(n) + 1):
            base = 1 - k * a
            if not (base > 0):
                break
            total += (-1) ** (k - 1) * sp.binomial(n, k) * base ** (n - 1)
        return total
    top = sp.floor(1 / a) if upper is None else upper
    return sp.Sum((-1) ** (_k - 1) * sp.binomial(n, _k) * (1 - _k * a) ** (n - 1), (_k, 1, top))


def breakpoints(n: int) -> list[sp.Expr]:
    r"""The angles :math:`2\pi(1 - 1/k)`, k = 2..n, where a new term enters.

    Past the last one, :math:`2\pi(n-1)/n`, the probability is 1.

    >>> breakpoints(4)
    [pi, 4*pi/3, 3*pi/2]
    """
    return [2 * sp.pi * (1 - sp.Rational(1, k)) for k in range(2, int(n) + 1)]


def certain_angle(n: sp.Expr) -> sp.Expr:
    r"""The smallest θ with :math:`P_n(\theta) = 1`: :math:`2\pi (n-1)/n` (pigeonhole).

    >>> certain_angle(4)
    3*pi/2
    """
    n = as_expr(n)
    return 2 * sp.pi * (n - 1) / n


def _piecewise_in_theta(n: int, theta: sp.Expr) -> sp.Expr:
    x = arc_fraction(theta)
    pieces = []
    for top in range(1, n):
        # On (2π(1-1/top), 2π(1-1/(top+1))] exactly the terms k = 1..top are present.
        poly = sum((-1) ** (k - 1) * sp.binomial(n, k) * (1 - k * (1 - x)) ** (n - 1) for k in range(1, top + 1))
        pieces.append((sp.expand(poly), theta <= 2 * sp.pi * (1 - sp.Rational(1, top + 1))))
    pieces.append((sp.Integer(1), True))
    return sp.Piecewise(*pieces)


def probability(n: sp.Expr, theta: sp.Expr) -> sp.Expr:
    r"""The probability that n uniform points of a disk lie in one sector of angle θ.

    * concrete ``n`` and ``theta``: the exact value (a rational for rational θ/π);
    * concrete ``n``, symbolic ``theta``: a Piecewise polynomial in θ over the
      intervals between the breakpoints :math:`2\pi(1 - 1/k)`;
    * symbolic ``n``: ``Piecewise`` of :math:`n x^{n-1}` for θ ≤ π, 1 for
      θ ≥ 2π, and the alternating sum otherwise.

    .. math::

        P_n(\theta) = \sum_{k=1}^{\lfloor 1/(1-x) \rfloor}
            (-1)^{k+1} \binom{n}{k} \bigl(1 - k(1-x)\bigr)^{n-1},
        \qquad x = \frac{\theta}{2\pi}.

    Examples
    --------
    >>> probability(4, sp.pi)
    1/2
    >>> probability(5, sp.Rational(7, 5) * sp.pi)
    1891/2000
    >>> theta = sp.Symbol("theta", positive=True)
    >>> probability(3, theta)
    Piecewise((3*theta**2/(4*pi**2), theta <= pi), (-9*theta**2/(4*pi**2) + 6*theta/pi - 3, theta <= 4*pi/3), (1, True))
    """
    n, theta = as_expr(n), as_expr(theta)
    if n.is_Integer and n >= 1:
        if int(n) == 1:
            return sp.Integer(1)
        if theta.is_number:
            if theta >= 2 * sp.pi:
                return sp.Integer(1)
            x = arc_fraction(theta)
            if x <= sp.Rational(1, 2):
                # Exact as it stands: nsimplify here would round a tiny n x^(n-1) (n >= 45) to 0.
                return probability_small_angle(n, theta)
            return largest_spacing_survival(n, 1 - x)
        return _piecewise_in_theta(int(n), theta)
    x = arc_fraction(theta)
    return sp.Piecewise(
        (probability_small_angle(n, theta), theta <= sp.pi),
        (sp.Integer(1), theta >= 2 * sp.pi),
        (largest_spacing_survival(n, 1 - x, upper=sp.floor(1 / (1 - x))), True),
    )


def sector_event(n: sp.Expr, theta: sp.Expr) -> sp.Expr:
    r"""The unevaluated left side :math:`P_n(\theta)` for printing.

    >>> sp.latex(sector_event(4, sp.pi))
    'P_{4}{\\left(\\pi \\right)}'
    """
    return sp.Function(f"P_{{{sp.sstr(n)}}}")(theta)


def spacing_density(n: sp.Expr) -> sp.Expr:
    r"""Joint density of the first n-1 of the n spacings: :math:`(n-1)!` on the simplex.

    .. math::

        p_n(x_1, \dots, x_{n-1}) = (n-1)!, \qquad x_i \ge 0,\ \sum_{i<n} x_i \le 1 .

    >>> spacing_density(5)
    24
    """
    return sp.factorial(as_expr(n) - 1)


def marginal_density(n: sp.Expr, xs: list[sp.Expr]) -> sp.Expr:
    r"""Marginal density of the first k spacings.

    .. math::

        p_n(x_1, \dots, x_k) = \frac{(n-1)!}{(n-k-1)!} \Bigl(1 - \sum_{i \le k} x_i\Bigr)^{n-k-1}.

    >>> a, b = sp.symbols("a b", positive=True)
    >>> marginal_density(5, [a, b])  # a quoted "24" here would be a slip: 4!/2! = 12
    12*(-a - b + 1)**2
    """
    n = as_expr(n)
    k = len(xs)
    return sp.factorial(n - 1) / sp.factorial(n - k - 1) * (1 - sum(xs)) ** (n - k - 1)


def exceedance_probability(n: sp.Expr, thresholds: list[sp.Expr]) -> sp.Expr:
    r"""P(x_1 > c_1, ..., x_k > c_k) for the spacings: :math:`(1 - \sum c)^{n-1}`, when :math:`\sum c \le 1`.

    >>> exceedance_probability(5, [sp.Rational(1, 10), sp.Rational(1, 5), sp.Rational(3, 20)])
    14641/160000
    """
    return (1 - sum(as_expr(c) for c in thresholds)) ** (as_expr(n) - 1)


def alternating_sum(n: sp.Expr, x: sp.Expr) -> sp.Expr:
    r"""The polynomial :math:`\sum_{k=1}^{n} (-1)^{k-1}\binom{n}{k}(1-kx)^{n-1}`, identically 1.

    For x < 1/n every term is present and the largest spacing certainly
    exceeds x (pigeonhole), so the sum is 1 there; a polynomial equal to 1 on
    an interval is 1 everywhere.  Returned unevaluated for symbolic n.

    >>> sp.expand(alternating_sum(5, sp.Symbol("x")).doit())
    1
    """
    return sp.Sum((-1) ** (_k - 1) * sp.binomial(n, _k) * (1 - _k * x) ** (n - 1), (_k, 1, n))


def expected_largest_spacing(n: sp.Expr) -> sp.Expr:
    r"""E[largest of the n spacings] :math:`= H_n / n`.

    .. math::

        \mathbb E \max_i x_i = \int_0^1 P(\max_i x_i > a)\, da
            = \sum_{k=1}^{n} \frac{(-1)^{k-1}}{n k}\binom{n}{k} = \frac{H_n}{n}.

    >>> expected_largest_spacing(3)
    11/18
    """
    n = as_expr(n)
    return sp.harmonic(n) / n


def wendel_probability(points: sp.Expr, dim: sp.Expr) -> sp.Expr:
    r"""Wendel (1962): P(N symmetric points of :math:`\mathbb R^d` lie in a half-space through 0).

    .. math::

        p_{d,N} = 2^{1-N} \sum_{k=0}^{d-1} \binom{N-1}{k};

    for d = 2 it is :math:`N / 2^{N-1}`, the θ = π case of :func:`probability`.

    >>> wendel_probability(4, 2), wendel_probability(4, 3)
    (1/2, 7/8)
    """
    points, dim = as_expr(points), as_expr(dim)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    return (sp.Integer(2) ** (1 - points) * sp.Sum(sp.binomial(points - 1, j), (j, 0, dim - 1))).doit()


def all_spacings_below_by_recursion(m: int) -> list[sp.Expr]:
    r"""The law of the largest spacing, derived by conditioning on the first spacing.

    Returns the polynomials :math:`H_m^{(i)}(y)`, i = 1..m-1, with
    :math:`H_m(y) = P(\max_i x_i \le y) = H_m^{(i)}(y)` on :math:`[1/(i+1), 1/i]`:

    .. math::

        H_m(y) = \int_{1-y}^{1} (m-1) u^{m-2} H_{m-1}(y/u)\, du,\qquad H_1(y) = [y \ge 1].

    This route does not use inclusion-exclusion; the proofs compare the two.

    >>> all_spacings_below_by_recursion(3)
    [-3*y**2 + 6*y - 2, 9*y**2 - 6*y + 1]
    """
    y, u = sp.Symbol("y", positive=True), sp.Symbol("u", positive=True)
    prev: list[sp.Expr] = [sp.Integer(1)]  # H_1: piece 0 (y >= 1) is 1, every other piece 0
    for level in range(2, int(m) + 1):

        def piece(j: int) -> sp.Expr:
            return prev[j] if j < len(prev) else sp.Integer(0)

        cur = [sp.Integer(1)]
        for i in range(1, level):
            upper = sp.integrate((level - 1) * u ** (level - 2) * piece(i).subs(y, y / u), (u, i * y, 1))
            lower = sp.integrate((level - 1) * u ** (level - 2) * piece(i - 1).subs(y, y / u), (u, 1 - y, i * y))
            cur.append(sp.expand(upper + lower))
        prev = cur
    return prev[1:] if int(m) > 1 else []
