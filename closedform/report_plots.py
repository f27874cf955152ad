r"""The report's figures: the closed form as a curve, Monte Carlo estimates with error bars.

A figure is computed first as plain data (:class:`PlotData`: the curve, the
simulated or oracle points with their seeds and trial counts) and drawn
second, so the numbers in a figure can be checked against the simulator
without looking at a picture.  What to draw comes from the result's
:class:`~closedform.spec.Plot` specifications, or, for a result without one,
from :func:`default_plot`: the first real scalar parameter (else the first
integer one) over its typical range, the others at the first verify case; a
result whose parameters are all vectors or names gets its components at the
first case.  Error bars are :math:`\pm 1.96` plug-in standard errors,

.. math::

    \hat p \pm 1.96 \sqrt{\hat p (1 - \hat p) / N}
    \quad\text{(proportions)}, \qquad
    \bar x \pm 1.96\, s / \sqrt{N - 1} \quad\text{(means)}.

Examples
--------
>>> from closedform.registry import by_name
>>> default_plot(by_name("largest_spacing_mean")).x
'n'
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from closedform.checks import ORACLE_DPS, _to_mpf_list, case_label
from closedform.estimate import simulate_result
from closedform.spec import ParameterError, Plot, Result

#: Half-width of the drawn error bars, in standard errors (a 95% interval).
ERROR_BAR_Z = 1.96
#: Components of a vector result drawn when the spec does not choose.
MAX_COMPONENTS = 8
#: Integer sweeps are thinned to at most this many curve points.
MAX_INTEGER_POINTS = 40
#: Seconds one curve may spend evaluating a slow closed form before it is drawn with fewer points.
CURVE_SECONDS = 3.0
#: matplotlib settings that make the files reproducible byte for byte.
STYLE = {
    "svg.hashsalt": "closedform",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
    "legend.fontsize": 8,
}
SVG_METADATA = {"Date": None, "Creator": "closedform"}
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Creator": "closedform", "Producer": "closedform"}


@dataclass
class Point:
    """One checked point: a Monte Carlo estimate (with its run) or an oracle value."""

    x: float
    params: dict[str, str]
    source: str  # "simulation" or "oracle"
    estimate: list[float]
    stderr: list[float]
    trials: int = 0
    seed: int = 0
    streams: int = 0


@dataclass
class Series:
    """One curve: fixed parameters, the closed form along x, and the checked points."""

    label: str
    params: dict[str, str]
    curve_x: list[float] = field(default_factory=list)
    curve_y: list[list[float]] = field(default_factory=list)  # [component][i]
    points: list[Point] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # x values outside the joint domain, with reasons


@dataclass
class PlotData:
    """Everything a figure shows, as JSON-able numbers."""

    result: str
    index: int
    title: str
    x: str | None
    xlabel: str
    ylabel: str
    integer_x: bool
    x_in_pi: bool
    logy: bool
    components: list[int]
    marks: list[tuple[float, str]]
    series: list[Series]

    @property
    def stem(self) -> str:
        return f"{self.result}-{self.index}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PlotData:
        """The inverse of :meth:`as_dict` (reads the JSON written beside each figure)."""
        d = dict(d)
        series = [Series(**{**s, "points": [Point(**p) for p in s["points"]]}) for s in d.pop("series")]
        d["marks"] = [tuple(m) for m in d["marks"]]
        return cls(series=series, **d)


def _scalar_params(result: Result) -> list:
    return [p for p in result.params if p.is_scalar]


def default_plot(result: Result) -> Plot | None:
    """The figure of a result without a plot specification (see the module docstring)."""
    if not result.cases and not all(p.is_scalar for p in result.params):
        return None  # nothing to hold a vector or named parameter at
    scalars = _scalar_params(result)
    real = [p for p in scalars if not p.integer]
    integer = [p for p in scalars if p.integer]
    if real:
        return Plot(real[0].name)
    if integer:
        return Plot(integer[0].name)
    return Plot(None)


def plots_for(result: Result) -> tuple[Plot, ...]:
    """The result's plot specifications, the default one, or none when ``skips["plot"]`` says why."""
    if "plot" in result.skips:
        return ()
    if result.plots:
        return tuple(result.plots)
    plot = default_plot(result)
    return () if plot is None else (plot,)


def _num(v: Any) -> float:
    return float(sp.N(sp.sympify(v), 30))


def _fmt_value(v: Any) -> str:
    return sp.sstr(v) if isinstance(v, sp.Basic) else str(v)


def _mathtext_ok(text: str) -> bool:
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(text)
    except (ValueError, RuntimeError):
        return False
    return True


def _label_latex(result: Result, name: str) -> str:
    p = result.param(name)
    text = f"${p.latex}$"
    return text if _mathtext_ok(text) else name


def _ylabel(result: Result, plot: Plot) -> str:
    if plot.ylabel:
        return plot.ylabel
    try:
        lhs = sp.latex(result.lhs(**result.symbols()))
    except Exception:  # noqa: BLE001 - an lhs that needs concrete values: fall back to the name
        return result.name
    text = f"${lhs}$"
    return text if len(lhs) <= 60 and _mathtext_ok(text) else result.name


def _x_values(result: Result, plot: Plot, curve_points: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Curve abscissae and point abscissae of a sweep."""
    p = result.param(plot.x)
    lo, hi = plot.x_range or p.typical
    lo, hi = _num(lo), _num(hi)
    if p.integer:
        xs = np.arange(math.ceil(lo), math.floor(hi) + 1)
        if xs.size > MAX_INTEGER_POINTS:
            xs = np.unique(np.linspace(xs[0], xs[-1], MAX_INTEGER_POINTS).round().astype(int))
        if plot.sim_x is not None:
            pts = np.array([int(_num(v)) for v in plot.sim_x])
        else:
            pts = np.unique(np.linspace(xs[0], xs[-1], min(plot.sim_points, xs.size)).round().astype(int))
        return xs, pts, True
    xs = np.linspace(lo, hi, curve_points)
    if plot.sim_x is not None:
        pts = np.array([_num(v) for v in plot.sim_x])
    else:
        pts = np.linspace(lo, hi, plot.sim_points + 2)[1:-1]  # inside the range, away from its ends
    return xs, pts, False


def _within_budget(result: Result, fixed: dict[str, Any], name: str, xs: np.ndarray, integer: bool) -> np.ndarray:
    """Thin a real sweep whose closed form is slow to evaluate, so that one curve costs about CURVE_SECONDS."""
    if integer or xs.size <= 9:
        return xs
    t0 = time.perf_counter()
    try:
        result.claimed_values(**dict(fixed, **{name: float(xs[xs.size // 2])}))
    except (ParameterError, ValueError, ZeroDivisionError, TypeError):
        return xs
    each = time.perf_counter() - t0
    if each * xs.size <= CURVE_SECONDS:
        return xs
    return np.linspace(xs[0], xs[-1], max(9, int(CURVE_SECONDS / max(each, 1e-9))))


def _x_param_value(x: float, integer: bool) -> Any:
    return int(x) if integer else float(x)


def _point_seed(result: Result, index: int, params: Mapping[str, Any]) -> int:
    # Fixed per (result, figure, point), derived from their names: never tuned.
    return zlib.crc32(f"{result.name}|plot{index}|{case_label(dict(params))}".encode())


def _checked_point(result: Result, index: int, params: dict[str, Any], x: float, trials: int) -> Point | None:
    shown = {k: _fmt_value(v) for k, v in params.items()}
    if result.simulation is not None:
        seed = _point_seed(result, index, shown)
        est = simulate_result(result, trials, seed=seed, **params)
        return Point(
            float(x),
            shown,
            "simulation",
            [float(v) for v in est.estimate],
            [float(v) for v in est.stderr],
            est.trials,
            seed,
            est.streams,
        )
    if result.oracle is not None:
        with mpmath.workdps(ORACLE_DPS):
            values = result.validate(**params)
            truth = _to_mpf_list(result.oracle(**values))
        return Point(float(x), shown, "oracle", [float(v) for v in truth], [0.0] * len(truth))
    return None


def _series_params(result: Result, plot: Plot, extra: Mapping[str, Any]) -> dict[str, Any]:
    base = dict(plot.base) if plot.base is not None else (dict(result.cases[0]) if result.cases else {})
    for p in result.params:
        # A result without verify cases: scalar parameters default to the middle of their typical range.
        if p.name not in base and p.is_scalar:
            lo, hi = (_num(v) for v in p.typical)
            base[p.name] = int(lo) if p.integer else (lo + hi) / 2
    base.update(extra)
    return base


def _series_label(result: Result, extra: Mapping[str, Any]) -> str:
    if not extra:
        return ""
    parts = []
    for k, v in extra.items():
        p = result.param(k)
        text = f"${p.latex} = {sp.latex(sp.sympify(v)) if p.is_scalar else v}$"
        parts.append(text if _mathtext_ok(text) else f"{k} = {v}")
    return ", ".join(parts)


def plot_data(result: Result, plot: Plot, index: int = 0, trials: int = 200_000, curve_points: int = 121) -> PlotData:
    """Compute one figure: the closed form along the sweep and the checked points.

    ``trials`` Monte Carlo trials per point (capped by the result's own
    ``sim_trials``); points outside the joint domain of the parameters are
    skipped and listed with their reason.
    """
    trials = int(min(trials, result.sim_trials))
    title = plot.title or f"{result.name}: {result.title}"
    if plot.x is None:
        return _component_data(result, plot, index, trials, title)
    if plot.x not in {p.name for p in result.params}:
        raise ParameterError(f"plot of {result.name}: no parameter {plot.x!r}")
    xs, pts, integer = _x_values(result, plot, curve_points)
    all_components: set[int] = set()
    series_out = []
    for extra in plot.series:
        fixed = _series_params(result, plot, extra)
        fixed.pop(plot.x, None)
        s = Series(_series_label(result, extra), {k: _fmt_value(v) for k, v in fixed.items()})
        ys: list[np.ndarray] = []
        for x in _within_budget(result, fixed, plot.x, xs, integer):
            params = dict(fixed, **{plot.x: _x_param_value(x, integer)})
            try:
                y = result.claimed_values(**params)
            except (ParameterError, ValueError, ZeroDivisionError, TypeError) as exc:
                s.skipped.append(f"curve at {plot.x}={x:g}: {exc}")
                continue
            if ys and len(y) != len(ys[0]):
                # The number of components follows the swept parameter (a law over V tokens, say):
                # one figure shows one fixed set of components.
                s.skipped.append(f"curve at {plot.x}={x:g}: {len(y)} components, the figure shows {len(ys[0])}")
                continue
            s.curve_x.append(float(x))
            ys.append(y)
        if ys:
            arr = np.vstack(ys)
            all_components.update(range(arr.shape[1]))
            s.curve_y = [arr[:, c].tolist() for c in range(arr.shape[1])]
        for x in pts:
            params = dict(fixed, **{plot.x: _x_param_value(x, integer)})
            try:
                point = _checked_point(result, index, params, x, trials)
            except ParameterError as exc:
                s.skipped.append(f"point at {plot.x}={x:g}: {exc}")
                continue
            if point is not None and ys and len(point.estimate) != len(ys[0]):
                s.skipped.append(
                    f"point at {plot.x}={x:g}: {len(point.estimate)} components, the figure shows {len(ys[0])}"
                )
                continue
            if point is not None:
                s.points.append(point)
        series_out.append(s)
    if not any(s.curve_x for s in series_out):
        reasons = "; ".join(r for s in series_out for r in s.skipped[:1])
        raise ParameterError(f"plot of {result.name}: the closed form could not be evaluated anywhere ({reasons})")
    components = list(plot.components) if plot.components is not None else sorted(all_components)[:MAX_COMPONENTS]
    marks = [(_num(v), label) for v, label in plot.marks]
    return PlotData(
        result.name,
        index,
        title,
        plot.x,
        _label_latex(result, plot.x),
        _ylabel(result, plot),
        integer,
        plot.x_in_pi,
        plot.logy,
        components,
        marks,
        series_out,
    )


def _component_data(result: Result, plot: Plot, index: int, trials: int, title: str) -> PlotData:
    series_out = []
    n_comp = 0
    for extra in plot.series:
        params = _series_params(result, plot, extra)
        s = Series(_series_label(result, extra) or case_label(params), {k: _fmt_value(v) for k, v in params.items()})
        y = result.claimed_values(**params)
        n_comp = max(n_comp, y.size)
        s.curve_x = [float(i) for i in range(y.size)]
        s.curve_y = [y.tolist()]
        point = _checked_point(result, index, params, 0.0, trials)
        if point is not None:
            # One point per component, at x = component index.
            for i in range(y.size):
                s.points.append(
                    Point(
                        float(i),
                        point.params,
                        point.source,
                        [point.estimate[i]],
                        [point.stderr[i]],
                        point.trials,
                        point.seed,
                        point.streams,
                    )
                )
        series_out.append(s)
    return PlotData(
        result.name, index, title, None, "component", _ylabel(result, plot), True, False, plot.logy, [0], [], series_out
    )


# ----------------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------------


def _pi_formatter(value: float, _pos: Any) -> str:
    k = round(value / (math.pi / 4))
    if abs(value - k * math.pi / 4) > 1e-9:
        return f"{value:g}"
    frac = sp.Rational(k, 4)
    if frac == 0:
        return "$0$"
    num, den = frac.p, frac.q
    top = r"\pi" if num == 1 else (r"-\pi" if num == -1 else rf"{num}\pi")
    return f"${top}$" if den == 1 else f"${top}/{den}$"


def draw(data: PlotData) -> Any:
    """The matplotlib Figure of ``data`` (no pyplot state involved).

    Each set of error bars carries the gid ``sim-<series>-<component>`` (or
    ``oracle-...``), which the SVG keeps as the group's id.
    """
    import textwrap

    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    with matplotlib.rc_context(STYLE):
        fig = Figure()
        ax = fig.add_subplot()
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        legend_done: set[str] = set()
        styles = ["-", "--", ":", "-."]
        for si, s in enumerate(data.series):
            color = colors[si % len(colors)]
            for ci, comp in enumerate(data.components):
                if comp >= len(s.curve_y):
                    continue
                label = s.label
                if len(data.components) > 1:
                    label = (label + ", " if label else "") + f"component {comp}"
                if data.x is None:
                    ax.bar(
                        np.array(s.curve_x) + 0.8 * (si - (len(data.series) - 1) / 2) / len(data.series),
                        s.curve_y[comp],
                        width=0.8 / len(data.series),
                        color=color,
                        alpha=0.4,
                        label=(label or "closed form"),
                        gid=f"curve-{si}-{comp}",
                    )
                else:
                    ax.plot(
                        s.curve_x,
                        s.curve_y[comp],
                        styles[ci % len(styles)],
                        color=color,
                        marker="." if data.integer_x else None,
                        label=label or "closed form",
                        gid=f"curve-{si}-{comp}",
                    )
                pts = [
                    (
                        p.x,
                        p.estimate[comp if data.x is not None else 0],
                        p.stderr[comp if data.x is not None else 0],
                        p.source,
                    )
                    for p in s.points
                    if data.x is None or comp < len(p.estimate)
                ]
                if not pts:
                    continue
                px = np.array([p[0] for p in pts])
                if data.x is None:
                    px = px + 0.8 * (si - (len(data.series) - 1) / 2) / len(data.series)
                source = pts[0][3]
                kind = "sim" if source == "simulation" else "oracle"
                # Hollow markers over the curve; one legend entry per kind of point.
                first = kind not in legend_done
                legend_done.add(kind)
                source = f"Monte Carlo, ±{ERROR_BAR_Z} s.e." if kind == "sim" else "mpmath oracle"
                point_label = source if first else None
                cont = ax.errorbar(
                    px,
                    [p[1] for p in pts],
                    yerr=[ERROR_BAR_Z * p[2] for p in pts],
                    fmt="o" if kind == "sim" else "x",
                    color=color,
                    mfc="white",
                    mec=color,
                    ms=5,
                    capsize=2,
                    lw=1,
                    zorder=3,
                    label=point_label,
                )
                # Distinct SVG ids: the markers' group carries the name the tests look up.
                gid = f"{kind}-{si}-{comp}"
                cont.lines[0].set_gid(gid)
                for j, cap in enumerate(cont.lines[1]):
                    cap.set_gid(f"{gid}-cap{j}")
                for j, bars in enumerate(cont.lines[2]):
                    bars.set_gid(f"{gid}-bars{j}")
        for value, label in data.marks:
            ax.axvline(value, color="0.5", lw=0.8, ls=":", gid="mark")
            ax.annotate(
                label,
                (value, 0.5),
                xycoords=("data", "axes fraction"),
                xytext=(2, 0),
                textcoords="offset points",
                fontsize=8,
                color="0.35",
                rotation=90,
            )
        if data.integer_x:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if data.x_in_pi:
            ax.xaxis.set_major_locator(MultipleLocator(math.pi / 2))
            ax.xaxis.set_major_formatter(FuncFormatter(_pi_formatter))
        if data.logy:
            ax.set_yscale("log")
        ax.set_xlabel(data.xlabel)
        ax.set_ylabel(data.ylabel)
        title = data.title.replace("$", r"\$")
        ax.set_title("\n".join(textwrap.wrap(title, 80)[:2]), fontsize=9)
        if ax.get_legend_handles_labels()[1]:
            ax.legend()
        fig.tight_layout()
    return fig


def save(fig: Any, base: Path) -> list[Path]:
    """Write ``base.svg`` and ``base.pdf`` reproducibly (fixed hash salt, no dates, fixed creator)."""
    import matplotlib

    out = []
    with matplotlib.rc_context(STYLE):
        for ext, meta in (("svg", SVG_METADATA), ("pdf", PDF_METADATA)):
            path = base.with_suffix(f".{ext}")
            fig.savefig(path, format=ext, metadata=meta)
            out.append(path)
    return out


def write_plot(data: PlotData, directory: Path) -> list[Path]:
    """Write the figure (SVG, PDF) and its data (JSON) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    base = directory / data.stem
    paths = save(draw(data), base)
    json_path = base.with_suffix(".json")
    json_path.write_text(data.to_json(), encoding="utf-8")
    return [*paths, json_path]


def load_plot_data(path: Path) -> PlotData:
    """Read the JSON written by :func:`write_plot`."""
    return PlotData.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


__all__ = [
    "ERROR_BAR_Z",
    "PlotData",
    "Point",
    "Series",
    "default_plot",
    "draw",
    "load_plot_data",
    "plot_data",
    "plots_for",
    "save",
    "write_plot",
]
