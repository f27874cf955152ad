r"""The objects every registry line is made of: parameters, results, simulations.

A :class:`~closedform.params.Param` (see :mod:`closedform.params`) is data:
from its one declaration come the SymPy symbol, the validation of user input
and the views each consumer needs.  A :class:`Result` bundles a closed form
with everything that checks it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import sympy as sp

from closedform.derive.errors import ParameterError  # noqa: F401  (re-exported: closedform.spec.ParameterError)
from closedform.derive.expr_parser import as_expr
from closedform.params import Param, validate_all

if TYPE_CHECKING:  # pragma: no cover
    from closedform.numeric.drivers import StreamKernel
    from closedform.proofs.core import Proof


@dataclass
class Formula:
    r"""A closed form with its left side: prints as LaTeX, evaluates as a float.

    Wraps a SymPy expression; attributes not defined here are looked up on the
    expression, so ``f.subs(...)``, ``f.free_symbols`` work as on SymPy objects.
    """

    lhs: sp.Expr
    expr: sp.Expr

    def latex(self, **kwargs: Any) -> str:
        """``lhs = expr`` in LaTeX (``sympy.latex`` options pass through)."""
        return sp.latex(sp.Eq(self.lhs, self.expr, evaluate=False), **kwargs)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __float__(self) -> float:
        return float(self.expr)

    def evalf(self, n: int = 15, **kwargs: Any) -> sp.Expr:
        return self.expr.evalf(n, **kwargs)

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.expr, item)

    def __eq__(self, other: object) -> bool:
        other_expr = other.expr if isinstance(other, Formula) else other
        return bool(as_expr(self.expr) == as_expr(other_expr))

    def __hash__(self) -> int:
        return hash(self.expr)

    def __repr__(self) -> str:
        return f"{sp.sstr(self.lhs)} = {sp.sstr(self.expr)}"


class Simulation:
    """How a result is simulated: a stream kernel and the map from parameters to its input.

    ``kind`` fixes the accumulator layout: ``"proportion"`` accumulates one
    count per category (the estimate is count/trials); ``"mean"`` accumulates
    ``(sum, sum of squares)`` per component.

    ``kernel`` and ``pack`` may be given as references ``"module:attribute"``
    (see :func:`closedform.lazy.resolve`), and ``kernel`` as a zero-argument
    function that builds it: the module is imported (the function called) on
    the first read of :attr:`kernel` or :attr:`pack`, so that a registry line
    imports no Numba kernel until the result is simulated.

    Parameters
    ----------
    kernel : StreamKernel, str or function
        The kernel, a reference to it, or a zero-argument function returning it.
    pack : callable or str
        ``pack(**params) -> numpy.ndarray``, the kernel's input, or a reference to it.
    kind : {"proportion", "mean"}
    draws_per_trial : callable, optional
        ``draws_per_trial(**params) -> float``: expected 64-bit draws per trial.
    description : str
        What one trial does, for the reader.

    Examples
    --------
    >>> sim = Simulation("closedform.numeric.sector:REDUCED", "closedform.numeric.sector:pack_sector")
    >>> sim
    Simulation('closedform.numeric.sector:REDUCED', kind='proportion')
    >>> type(sim.kernel).__name__
    'StreamKernel'
    """

    __slots__ = ("_kernel", "_pack", "kind", "draws_per_trial", "description")

    def __init__(
        self,
        kernel: StreamKernel | str | Callable[[], StreamKernel],
        pack: Callable[..., np.ndarray] | str,
        kind: Literal["proportion", "mean"] = "proportion",
        draws_per_trial: Callable[..., float] | None = None,
        description: str = "",
    ) -> None:
        values = {"_kernel": kernel, "_pack": pack, "kind": kind}
        values |= {"draws_per_trial": draws_per_trial, "description": description}
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Simulation is immutable: cannot set {name!r}")

    def _resolved(self, slot: str) -> Any:
        value = getattr(self, slot)
        if isinstance(value, str):
            from closedform.lazy import resolve

            value = resolve(value)
        elif slot == "_kernel" and inspect.isfunction(value):  # a factory (a kernel is a dataclass, not a function)
            value = value()
        else:
            return value
        object.__setattr__(self, slot, value)  # resolved once: later reads are plain
        return value

    @property
    def kernel(self) -> StreamKernel:
        """The stream kernel (its module imported now if it was given by reference)."""
        return self._resolved("_kernel")

    @property
    def pack(self) -> Callable[..., np.ndarray]:
        """The packer ``pack(**params) -> numpy.ndarray`` (imported now if given by reference)."""
        return self._resolved("_pack")

    def __reduce__(self) -> tuple:
        # __setattr__ refuses writes, so pickling rebuilds through __init__.
        return (Simulation, (self._kernel, self._pack, self.kind, self.draws_per_trial, self.description))

    def __repr__(self) -> str:
        kernel = repr(self._kernel) if isinstance(self._kernel, str) else f"<{type(self._kernel).__name__}>"
        return f"Simulation({kernel}, kind={self.kind!r})"


@dataclass(frozen=True)
class Plot:
    r"""How the report draws a result: the closed form against one parameter.

    Pure data, read by :mod:`closedform.report`.  A result without ``plots``
    gets a default one (its first real scalar parameter over its typical
    range, the others at its first verify case); ``skips["plot"]`` with a
    reason turns the figure off.

    Attributes
    ----------
    x : str or None
        The parameter on the horizontal axis; ``None`` draws the components of
        a vector result at fixed parameters (one bar group per component).
    series : tuple of dict
        One curve per entry: values of other parameters (overriding ``base``).
    base : dict, optional
        Values of the parameters not swept (default: the first verify case).
    x_range : (lo, hi), optional
        The sweep (default: the parameter's typical range).
    sim_x : tuple, optional
        Where the Monte Carlo (or, without a simulator, oracle) points go
        (default: ``sim_points`` evenly spaced values inside the range).
    sim_points : int
        How many such points when ``sim_x`` is not given.
    marks : tuple of (value, label)
        Vertical lines, e.g. breakpoints; values may be SymPy numbers,
        labels matplotlib mathtext.
    title, ylabel : str
        Figure title and y label (defaults from the result).
    x_in_pi : bool
        Label the x ticks in multiples of :math:`\pi`.
    components : tuple of int, optional
        Which components of a vector result to draw (default: up to 8).
    logy : bool
        Logarithmic y axis.

    Examples
    --------
    >>> Plot("theta", series=({"n": 3}, {"n": 4}), x_in_pi=True).series
    ({'n': 3}, {'n': 4})
    """

    x: str | None
    series: tuple[Mapping[str, Any], ...] = ({},)
    base: Mapping[str, Any] | None = None
    x_range: tuple[Any, Any] | None = None
    sim_x: tuple[Any, ...] | None = None
    sim_points: int = 7
    marks: tuple[tuple[Any, str], ...] = ()
    title: str = ""
    ylabel: str = ""
    x_in_pi: bool = False
    components: tuple[int, ...] | None = None
    logy: bool = False


@dataclass(frozen=True, eq=False)
class Result:
    """One registry line: a closed form and everything that checks it.

    Attributes
    ----------
    name, topic, title : str
        Unique snake_case name, topic key, and a one-line statement.
    params : tuple of Param
    closed_form : callable
        ``closed_form(**params) -> sympy expression`` (or ``Matrix`` for a vector result).
    lhs : callable
        ``lhs(**params) -> sympy expression``: the unevaluated left side for LaTeX.
    oracle : callable or None
        ``oracle(**params) -> mpf or list of mpf``: an mpmath evaluation by an
        independent route, at the caller's ``mp.dps`` (>= 30).
    simulation : Simulation or None
    proofs : tuple of callables returning Proof
    cases : tuple of dict
        Concrete parameter sets that ``closedform verify`` checks.
    rtol, rtol_reason : float, str
        Closed form vs oracle tolerance in double precision, and why it is that.
    atol : float
        Absolute floor of that comparison (default 0), for components that are exactly 0.
    sim_trials : int
        Trials per case in ``verify`` (the ``--thorough`` run uses 10x).
    skips : mapping
        Check name -> written reason, for a check that does not apply.
    extra_checks : tuple of callables
        Topic-specific checks that ``closedform verify`` also runs:
        ``check(result, thorough: bool) -> closedform.checks.CheckRow``, defined before the
        ``Result`` and handed it when it runs (its row carries the result's name).
    plots : tuple of Plot
        The figures of the report (a default one when empty; see :class:`Plot`).
    """

    name: str
    topic: str
    title: str
    params: tuple[Param, ...]
    closed_form: Callable[..., Any]
    lhs: Callable[..., Any]
    oracle: Callable[..., Any] | None = None
    simulation: Simulation | None = None
    proofs: tuple[Callable[[], Proof], ...] = ()
    cases: tuple[Mapping[str, Any], ...] = ()
    rtol: float = 1e-12
    rtol_reason: str = "double-precision evaluation of an expression of a few dozen operations"
    #: Absolute floor of the oracle check, for components whose true value is 0 (an oracle that
    #: solves for a root reaches 0 only to its working precision): |c - o| <= rtol |o| + atol.
    atol: float = 0.0
    sim_trials: int = 10**6
    skips: Mapping[str, str] = field(default_factory=dict)
    extra_checks: tuple[Callable[[Result, bool], Any], ...] = ()
    plots: tuple[Plot, ...] = ()

    def __repr__(self) -> str:
        params = ", ".join(f"{p.name} in {p.domain_text()}" for p in self.params)
        return f"Result({self.name!r}: {self.title}; {params})"

    def _repr_latex_(self) -> str:
        """The closed form with symbolic parameters, for notebooks."""
        return self.formula()._repr_latex_()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def validate(self, **values: Any) -> dict[str, sp.Expr]:
        """Validate keyword values against the params (missing or unknown names are errors)."""
        return validate_all(self.params, values, self.name)

    def exact_values(self, **values: Any) -> dict[str, Any]:
        """Validated values with every float as its exact binary rational (what the checks compare at)."""
        return {name: self.param(name).to_exact(v) for name, v in self.validate(**values).items()}

    def formula(self, **values: Any) -> Formula:
        """The closed form at concrete (validated) or symbolic parameters."""
        if values:
            args = self.validate(**values)
        else:
            args = {p.name: p.symbol() for p in self.params}
        return Formula(self.lhs(**args), self.closed_form(**args))

    def symbols(self) -> dict[str, sp.Symbol]:
        return {p.name: p.symbol() for p in self.params}

    def simulate(
        self,
        trials: Any = 10**6,
        *,
        device: str = "cpu",
        seed: int = 0,
        streams: int | None = None,
        cluster: Any = None,
        progress: bool | None = None,
        **params: Any,
    ) -> Any:
        """Monte Carlo estimate of this result at ``params``: the one signature of every simulator.

        Parameters
        ----------
        trials : int
            Number of trials (an integral float such as ``1e8`` is accepted).
        device : {"cpu", "cuda"}
            The CPU ``prange`` driver or the CUDA kernel (a GPU, or the simulator).
        seed : int
            With ``streams``, fixes every count bit for bit on every route.
        streams : int, optional
            Independent RNG streams (default: the result's own count).
        cluster : str or dask.distributed.Client, optional
            Run on a Dask cluster (``"local"`` starts one); the counts do not change.
        progress : bool, optional
            A progress bar for runs over a second (default: on terminals and in notebooks).
        **params
            The result's parameters, validated like every input.

        Returns
        -------
        closedform.estimate.Estimate
            The estimate with its standard error, throughput and raw totals.

        Examples
        --------
        >>> from closedform.registry import by_name
        >>> est = by_name("sector").simulate(20_000, seed=1, n=4, theta="pi")
        >>> abs(est.value - 0.5) < 6 * est.error
        True
        """
        from closedform.estimate import simulate_result  # estimate imports this module

        return simulate_result(
            self, trials, device=device, seed=seed, streams=streams, cluster=cluster, progress=progress, **params
        )

    def claimed_values(self, **values: Any) -> np.ndarray:
        """The closed form at concrete parameters as float64 (a vector for vector results)."""
        expr = self.closed_form(**self.validate(**values))
        if isinstance(expr, sp.MatrixBase):
            return np.array([float(sp.N(e, 30)) for e in expr], dtype=np.float64)
        return np.array([float(sp.N(expr, 30))], dtype=np.float64)


def float_or_exact(expr: Any, digits: int = 35) -> Any:
    """A closed form evaluated at a float input as one Float (``digits`` significant), else unchanged.

    A float input should yield a float output, not an expression in pi with floats inside;
    exact inputs keep exact outputs.  Matrices are mapped entrywise.

    >>> float_or_exact(sp.pi * sp.Float(0.5))
    1.5707963267948966192313216916397514
    >>> float_or_exact(sp.pi / 2)
    pi/2
    """
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: float_or_exact(e, digits))
    return sp.Float(sp.N(expr, digits), digits) if expr.is_number and expr.has(sp.Float) else expr


def as_list(x: Any) -> list:
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, sp.MatrixBase):
        return list(x)
    return [x]


def keywords(params: Sequence[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    return {p.name: values[p.name] for p in params}
