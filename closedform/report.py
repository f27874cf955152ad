r"""``closedform report``: every result as LaTeX and as one self-contained HTML page.

For each result of the chosen topics the report gives the statement and the
closed form, each registered proof as an ``align*`` derivation with the
verdict of every step, the table of cross-checks that ``closedform verify``
runs (oracle error, z-scores, α, power, trials, throughput) and figures: the
closed form as curves with Monte Carlo estimates and their error bars
(:mod:`closedform.report_plots`).  Everything is driven by the registry:
a result gets figures from its ``plots`` specification, or a default one.

Outputs, in ``out``:

* ``report.tex``: a standalone document for ``pdflatex`` (figures as PDF);
* ``report.html``: one file, the figures embedded as SVG and the formulas
  typeset by MathJax 3, whose script is read from an installed package
  (``django-static-mathjax``) and inlined; nothing is loaded from the network;
* ``figures/<result>-<i>.{svg,pdf,json}``: each figure and the numbers it shows.

With ``deterministic=True`` (fixed seeds are always used) the report leaves
out what depends on the machine (throughput, seconds, library versions), so
that regenerating it gives the same bytes; the tests diff such a report
against a committed golden copy.  The figures' error bars are

.. math::

    \hat\theta \pm 1.96\,\widehat{\mathrm{se}} .

Examples
--------
>>> tex_escape("P(x_1 > c) ≤ 1 & 50%")
'P(x\\_1 > c) $\\le$ 1 \\& 50\\%'
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import closedform
from closedform import checks
from closedform.checks import CheckRow
from closedform.proofs.text import case_rows, mixed_tex, step_math, tex_escape, verdict_word
from closedform.report_plots import ERROR_BAR_Z, PlotData, atomic_write, plot_data, plots_for, write_plot
from closedform.spec import Result

#: The MathJax bundle inlined into the HTML: TeX input with every extension,
#: SVG output with its fonts as paths, so that one file needs nothing else.
MATHJAX_PACKAGE, MATHJAX_MODULE = "django-static-mathjax", "mathjax"
MATHJAX_FILE = ("static", "mathjax", "es5", "tex-svg-full.js")
MATHJAX_MARKER = "/* MathJax inlined here */"
#: Trials per Monte Carlo point of the figures (capped by each result's ``sim_trials``).
PLOT_TRIALS = 200_000
CURVE_POINTS = 121


# ----------------------------------------------------------------------------
# Collecting what the report shows
# ----------------------------------------------------------------------------


@dataclass
class Figure:
    data: PlotData
    files: list[Path]


@dataclass
class Section:
    """One result: its formula, its checked proofs, its check rows and its figures."""

    result: Result
    formula_latex: str
    formula_note: str
    proofs: list[Any] = field(default_factory=list)
    rows: list[CheckRow] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _formula(result: Result) -> tuple[str, str]:
    try:
        return result.formula().latex(), ""
    except Exception as exc:  # noqa: BLE001 - a closed form that needs concrete parameters
        if not result.cases:
            return r"\text{(not printable)}", f"the closed form did not print: {type(exc).__name__}: {exc}"
        case = dict(result.cases[0])
        return result.formula(**case).latex(), "at " + checks.case_label(case)


def _proof_row(result: Result, proof: Any) -> CheckRow:
    weak = [c for c in proof.checked_steps if c.verdict.value != "PROVED"]
    return CheckRow(
        result.name,
        result.topic,
        "proof",
        proof.title,
        proof.verdict.value,
        f"{len(proof.checked_steps)} steps",
        0.0,
        {"steps": len(proof.checked_steps), "weak_steps": len(weak)},
    )


def collect(
    results: Sequence[Result],
    out: Path,
    *,
    trials: int | None = None,
    plot_trials: int = PLOT_TRIALS,
    curve_points: int = CURVE_POINTS,
    progress: bool | None = None,
) -> list[Section]:
    """Check proofs, run the verify checks, compute and write the figures of ``results``."""
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress
    proof_cache: dict[Any, Any] = {}
    sections = []
    for r in results:
        latex, note = _formula(r)
        sections.append(Section(r, latex, note))
    by_name = {s.result.name: s for s in sections}
    # The verify checks, less the proofs (checked once below and shown whole).
    planned = [pc for pc in checks.plan(results, trials=trials) if pc.check != "proof"]
    figure_jobs = [(s, i, p) for s in sections for i, p in enumerate(plots_for(s.result))]
    proof_jobs = [(s, mk) for s in sections for mk in s.result.proofs]
    total = len(planned) + len(figure_jobs) + len(proof_jobs)
    with tqdm(total=total, unit="step", disable=disable, leave=False, desc="report") as bar:
        for s, mk in proof_jobs:
            bar.set_description(f"{s.result.name}: proof")
            if mk not in proof_cache:
                proof_cache[mk] = mk().check()
            s.proofs.append(proof_cache[mk])
            s.rows.append(_proof_row(s.result, proof_cache[mk]))
            bar.update(1)
        for pc in planned:
            bar.set_description(f"{pc.result.name}: {pc.check}")
            by_name[pc.result.name].rows.extend(checks.run_plan([pc], progress=False))
            bar.update(1)
        fig_dir = out / "figures"
        for s, i, spec in figure_jobs:
            bar.set_description(f"{s.result.name}: figure {i}")
            try:
                data = plot_data(s.result, spec, i, trials=plot_trials, curve_points=curve_points)
            except Exception as exc:  # noqa: BLE001 - one bad figure is reported in its section, not fatal
                s.notes.append(f"figure {i} could not be drawn: {type(exc).__name__}: {exc}")
            else:
                s.figures.append(Figure(data, write_plot(data, fig_dir)))
            bar.update(1)
    for s in sections:
        for check, reason in s.result.skips.items():
            s.notes.append(f"not checked: {check}, because {reason}")
    return sections


# ----------------------------------------------------------------------------
# Cells of the check table, shared by both formats (plain text with Unicode)
# ----------------------------------------------------------------------------

COLUMNS = ("check", "case", "status", "measured", "N", "α", "power", "trials/s")


def _cells(row: CheckRow, deterministic: bool) -> list[str]:
    d = row.data
    measured = n = alpha = power = speed = ""
    if row.check == "proof":
        measured = f"{d.get('steps', '?')} steps" + (f", {d['weak_steps']} numerical" if d.get("weak_steps") else "")
    elif row.check == "oracle" and d:
        measured = f"rel. error {d['relative_error']:.2g} ≤ {d['rtol']:g}"
    elif row.check == "simulation" and d:
        measured = f"z = {d['z']:+.2f}, |z| ≤ {d['threshold']:.2f}"
        n = f"{d['trials']:.3g}"
        alpha = f"{d['alpha']:.1e}"
        power = f"|δ| ≥ {d['detectable']:.2g} w.p. {d['power']:g}"
        speed = "—" if deterministic else f"{d['trials_per_second']:.3g}"
    else:
        measured = row.detail[:120]
    return [row.check, row.case, row.status, measured, n, alpha, power, speed]


# ----------------------------------------------------------------------------
# LaTeX
# ----------------------------------------------------------------------------


def _verdict_word(v: Any) -> str:
    return verdict_word(v)


def _proof_align(proof: Any) -> str:
    """The derivation as ``align*``: one line per step, tagged with its number and verdict."""
    return proof.latex() if proof.checked_steps else ""


def _longtable(spec: str, head: str, body: list[str]) -> str:
    """A small-type booktabs ``longtable`` whose head repeats on every page."""
    lines = [r"{\footnotesize", rf"\begin{{longtable}}{{{spec}}}", r"\toprule", head, r"\midrule", r"\endhead"]
    return "\n".join([*lines, *body, r"\bottomrule", r"\end{longtable}}"])


def _tex_table(rows: list[CheckRow], deterministic: bool) -> str:
    spec = r"@{}l p{3.1cm} l p{3.3cm} r r p{2.5cm} r@{}"
    head = " & ".join(rf"\textbf{{{tex_escape(c)}}}" for c in COLUMNS) + r" \\"
    body = []
    for row in rows:
        cells = [tex_escape(c) for c in _cells(row, deterministic)]
        if row.failed:
            cells[2] = rf"\textbf{{{cells[2]}}}"
        body.append(" & ".join(cells) + r" \\")
    return _longtable(spec, head, body)


def _tex_section(s: Section, deterministic: bool) -> str:
    r = s.result
    out = [rf"\subsection{{\texttt{{{tex_escape(r.name)}}}}}\label{{res:{r.name}}}", tex_escape(r.title) + "."]
    if r.params:
        params = ", ".join(f"${p.domain_latex()}$" for p in r.params)
        out.append(rf"\par\noindent Parameters: {params}.")
    note = f" ({tex_escape(s.formula_note)})" if s.formula_note else ""
    out.append(rf"\par\noindent Closed form{note}:")
    out.append(
        r"\[\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{$\displaystyle " + s.formula_latex + r"$}\]"
    )
    if r.oracle is not None:
        out.append(rf"\noindent Oracle tolerance: relative {r.rtol:g}, because {tex_escape(r.rtol_reason)}.")
    for proof in s.proofs:
        out.append(
            rf"\paragraph{{Proof: {tex_escape(proof.title)}}} {mixed_tex(proof.statement)}"
            rf" \hfill\textsc{{{_verdict_word(proof.verdict)}}}"
        )
        out.append(r"{\small" + "\n" + _proof_align(proof) + "}")
        out.append(r"\begin{enumerate}\footnotesize")
        for i, c in enumerate(proof.checked_steps, 1):
            out.append(
                rf"\item[({i})] {mixed_tex(c.step.why)} --- \emph{{{_verdict_word(c.verdict)}}}: "
                + tex_escape(c.reason)
            )
        out.append(r"\end{enumerate}")
    if s.rows:
        out.append(r"\paragraph{Cross-checks}")
        out.append(_tex_table(s.rows, deterministic))
    for f in s.figures:
        pdf = next(p for p in f.files if p.suffix == ".pdf")
        out.append(r"\begin{center}")
        out.append(rf"\includegraphics[width=0.8\linewidth]{{figures/{pdf.name}}}\\")
        out.append(r"{\footnotesize " + tex_escape(_caption(f.data)) + "}")
        out.append(r"\end{center}")
    for n in s.notes:
        out.append(r"\par\noindent{\footnotesize " + tex_escape(n) + "}")
    return "\n".join(out)


def _caption(d: PlotData) -> str:
    pts = [p for s in d.series for p in s.points]
    text = d.title + "."
    sims = [p for p in pts if p.source == "simulation"]
    if sims:
        text += (
            f" Points: Monte Carlo, {sims[0].trials:,} trials each, bars ±{ERROR_BAR_Z} standard errors;"
            f" seeds and values in figures/{d.stem}.json."
        )
    elif pts:
        text += " Crosses: the mpmath oracle at 40 digits."
    skipped = sum(len(s.skipped) for s in d.series)
    if skipped:
        text += f" {skipped} value(s) outside the joint domain left out (listed in the JSON)."
    return text


def _versions(deterministic: bool) -> str:
    if deterministic:
        return f"closedform {closedform.__version__}"
    names = ("sympy", "mpmath", "numpy", "numba", "matplotlib")
    parts = [f"closedform {closedform.__version__}"]
    for n in names:
        try:
            parts.append(f"{n} {importlib.metadata.version(n)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(parts) + f", Python {sys.version.split()[0]}"


def _grouped(sections: Sequence[Section]) -> list[tuple[str, list[Section]]]:
    from closedform.registry import TOPICS

    groups: dict[str, list[Section]] = {}
    for s in sections:
        groups.setdefault(s.result.topic, []).append(s)
    return [(f"{t}: {TOPICS.get(t, '')}", ss) for t, ss in groups.items()]


def _tex_summary(sections: Sequence[Section]) -> str:
    """The summary table: per result, the worst status of each kind of check, worst error, largest |z|."""
    body = []
    for row in summary_rows(sections):
        cells = [rf"\hyperref[res:{row['result']}]{{\texttt{{{tex_escape(row['result'])}}}}}"]
        cells += [tex_escape(row["status"].get(k, "—")) for k in ("proof", "oracle", "simulation", "other")]
        err, z = row["worst_error"], row["max_z"]
        cells.append(f"{err:.2g}" if err is not None else "---")
        cells.append(f"{z[0]:.2f} / {z[1]:.2f}" if z is not None else "---")
        body.append(" & ".join(cells) + r" \\")
    head = r"result & proofs & oracle & simulation & other & worst rel.\ error & max $|z|$ / threshold \\"
    return _longtable(r"@{}l l l l l r r@{}", head, body)


def render_tex(sections: Sequence[Section], deterministic: bool = False) -> str:
    """The standalone LaTeX document."""
    n_fail = sum(r.failed for s in sections for r in s.rows)
    n_rows = sum(len(s.rows) for s in sections)
    parts = [
        r"\documentclass[10pt,a4paper]{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb,bm,graphicx,booktabs,longtable}",
        r"\usepackage[hidelinks]{hyperref}",
        r"\allowdisplaybreaks",
        # Operators hand-written proof steps tend to use; defined only where missing.
        r"\providecommand{\argmax}{\operatorname*{arg\,max}}",
        r"\providecommand{\argmin}{\operatorname*{arg\,min}}",
        r"\providecommand{\softmax}{\operatorname{softmax}}",
        r"\providecommand{\Var}{\operatorname{Var}}",
        r"\providecommand{\Cov}{\operatorname{Cov}}",
        r"\providecommand{\E}{\mathbb{E}}",
        r"\setlength{\parindent}{0pt}",
        r"\title{closedform: closed forms, proofs and cross-checks}",
        rf"\author{{{tex_escape(_versions(deterministic))}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        tex_escape(
            f"{len(sections)} results; {n_rows} checks, {n_fail} failed. Every simulation check is a "
            f"z-test with the standard error under the claimed value; α is the false-failure rate of "
            f"the check (the report's budget {checks.SUITE_ALPHA:g}, Bonferroni-split); the power column "
            f"is the smallest discrepancy detected with probability {checks.POWER:g}."
        ),
    ]
    parts.append(_tex_summary(sections))
    parts.append(r"\tableofcontents")
    for heading, ss in _grouped(sections):
        parts.append(rf"\section{{{tex_escape(heading)}}}")
        parts.extend(_tex_section(s, deterministic) for s in ss)
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
section.result{border:1px solid #e2e2e2;border-radius:6px;padding:.2rem 1rem 1rem;margin:1.2rem 0}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0;width:100%;table-layout:auto}
td,th{border-bottom:1px solid #e5e5e5;padding:.2rem .4rem;text-align:left;vertical-align:top}
.FAIL,.REFUTED{color:#b00020;font-weight:bold}.UNDECIDED{color:#a36b00}.pass,.PROVED{color:#176f2c}
.CHECKED_NUMERICALLY{color:#1a5fa8}.skip{color:#777}
.verdict{font-size:.75rem;border:1px solid;border-radius:3px;padding:0 .3rem;white-space:nowrap}
details.proof{border-left:3px solid #ddd;margin:.6rem 0;padding:.1rem .6rem}
details.proof>summary{cursor:pointer}
ol.steps{padding-left:1.4rem}ol.steps>li{margin:.5rem 0}
.step-head{display:flex;align-items:flex-start;gap:.6rem}.step-head .eq{flex:1 1 auto;min-width:0}
.step-head .verdict{flex:0 0 auto;margin-top:.3rem}
.why{font-size:.85rem;color:#333;margin:.1rem 0}.reason{color:#666}
table.cases{width:auto;font-size:.8rem}
figure{margin:1rem 0;text-align:center}figure img{max-width:100%}
figcaption{font-size:.8rem;color:#555}.note{font-size:.85rem;color:#555}
mjx-container{max-width:100%}mjx-container>svg{max-width:100%;height:auto}
nav#toc{font-size:.9rem}nav#toc ul{margin:.2rem 0}table.summary td:first-child{white-space:nowrap}
"""
_MATHJAX_CONFIG = (
    "window.MathJax={tex:{inlineMath:[['\\\\(','\\\\)']],displayMath:[['\\\\[','\\\\]']],"
    "processEscapes:true,macros:{argmax:'\\\\operatorname*{arg\\\\,max}',argmin:'\\\\operatorname*{arg\\\\,min}',"
    "softmax:'\\\\operatorname{softmax}',Var:'\\\\operatorname{Var}',Cov:'\\\\operatorname{Cov}',"
    "E:'\\\\mathbb{E}'}},svg:{fontCache:'global'},options:{enableMenu:false}};"
)


def mathjax_path() -> Path:
    """The MathJax bundle of the installed ``django-static-mathjax`` package."""
    spec = importlib.util.find_spec(MATHJAX_MODULE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc).joinpath(*MATHJAX_FILE)
        if path.is_file():
            return path
    raise ImportError(
        f"the HTML report inlines MathJax from the {MATHJAX_PACKAGE!r} package, which is not installed "
        f"(pip install 'closedform[report]')"
    )


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=False)


def _html_table(rows: list[CheckRow], deterministic: bool) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in COLUMNS)
    body = []
    for row in rows:
        cells = _cells(row, deterministic)
        tds = "".join(
            f'<td class="{_esc(c)}">{_esc(c)}</td>' if i == 2 else f"<td>{_esc(c)}</td>" for i, c in enumerate(cells)
        )
        # The full detail as a tooltip; it quotes the throughput, so not in a deterministic report.
        title = "" if deterministic else f' title="{html.escape(row.detail)}"'
        body.append(f"<tr{title}>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _mixed_html(text: str) -> str:
    r"""Text with inline ``\(...\)`` maths, escaped for HTML (MathJax typesets the maths)."""
    return _esc(text)


def _html_cases(c: Any) -> str:
    """A family step's cases as a small table; only the cases worth a row (a value, or not proved)."""
    rows = [(v, e, verdict) for v, e, verdict in case_rows(c) if e is not None or verdict.value != "PROVED"]
    if not rows:
        return ""
    label = c.step.cases.label

    def maths(t: str | None) -> str:
        return "" if t is None else "\\(" + _esc(t) + "\\)"

    body = "".join(
        f"<tr><td>{maths(v)}</td><td>{maths(e)}</td>"
        f'<td class="{verdict.value}">{_esc(_verdict_word(verdict))}</td></tr>'
        for v, e, verdict in rows
    )
    return f'<table class="cases"><tr><th>{maths(label)}</th><th>value</th><th>verdict</th></tr>{body}</table>'


def _html_proof(proof: Any, anchor: str) -> str:
    """One proof, collapsed to its statement and verdict; the derivation on demand."""
    v = proof.verdict.value
    out = [
        f'<details class="proof" id="{_esc(anchor)}"><summary><span class="verdict {v}">'
        f"{_esc(_verdict_word(proof.verdict))}</span> <b>Proof: {_esc(proof.title)}</b> — "
        f"{_mixed_html(proof.statement)}</summary>",
        '<ol class="steps">',
    ]
    for i, c in enumerate(proof.checked_steps, 1):
        out.append(
            f'<li><div class="step-head"><div class="eq">\\[{_esc(step_math(c))}\\]</div>'
            f'<span class="verdict {c.verdict.value}">({i}) {_esc(_verdict_word(c.verdict))}</span></div>'
            f"{_html_cases(c)}"
            f'<p class="why">{_mixed_html(c.step.why)} <span class="reason">— {_esc(c.reason)}</span></p></li>'
        )
    out.append("</ol></details>")
    return "\n".join(out)


def _html_section(s: Section, deterministic: bool) -> str:
    r = s.result
    out = [
        f'<section class="result" id="{_esc(r.name)}"><h3><code>{_esc(r.name)}</code></h3>',
        f"<p>{_esc(r.title)}.</p>",
    ]
    if r.params:
        out.append("<p>Parameters: " + ", ".join(f"\\({_esc(p.domain_latex())}\\)" for p in r.params) + ".</p>")
    note = f" ({_esc(s.formula_note)})" if s.formula_note else ""
    out.append(f'<p>Closed form{note}:</p><div class="math">\\[{_esc(s.formula_latex)}\\]</div>')
    if r.oracle is not None:
        out.append(f'<p class="note">Oracle tolerance: relative {r.rtol:g}, because {_esc(r.rtol_reason)}.</p>')
    for k, proof in enumerate(s.proofs, 1):
        out.append(_html_proof(proof, f"{r.name}-proof-{k}"))
    if s.rows:
        out.append("<h4>Cross-checks</h4>" + _html_table(s.rows, deterministic))
    for f in s.figures:
        svg = next(p for p in f.files if p.suffix == ".svg")
        payload = base64.b64encode(svg.read_bytes()).decode("ascii")
        out.append(
            f'<figure><img alt="{html.escape(f.data.title)}" data-file="figures/{svg.name}" '
            f'src="data:image/svg+xml;base64,{payload}"><figcaption>{_esc(_caption(f.data))}'
            f"</figcaption></figure>"
        )
    for n in s.notes:
        out.append(f'<p class="note">{_esc(n)}</p>')
    out.append("</section>")
    return "\n".join(out)


#: The order of the statuses, worst first, when one cell summarises several rows.
_WORST_FIRST = ("REFUTED", "FAIL", "UNDECIDED", "CHECKED_NUMERICALLY", "PROVED", "pass", "skip")


def summary_rows(sections: Sequence[Section]) -> list[dict[str, Any]]:
    """Per result: the worst status of each kind of check, the worst oracle error and the largest |z|."""
    out = []
    for s in sections:
        kinds: dict[str, list[str]] = {}
        for row in s.rows:
            kinds.setdefault(row.check if row.check in ("proof", "oracle", "simulation") else "other", []).append(
                row.status
            )
        worst = {
            k: min(v, key=lambda st: _WORST_FIRST.index(st) if st in _WORST_FIRST else 0) for k, v in kinds.items()
        }
        errors = [row.data["relative_error"] for row in s.rows if row.check == "oracle" and row.data]
        zs = [(abs(row.data["z"]), row.data["threshold"]) for row in s.rows if row.check == "simulation" and row.data]
        out.append(
            {
                "result": s.result.name,
                "topic": s.result.topic,
                "status": worst,
                "worst_error": max(errors) if errors else None,
                "max_z": max(zs) if zs else None,
            }
        )
    return out


def _html_summary(sections: Sequence[Section]) -> str:
    head = "<tr><th>result</th><th>proofs</th><th>oracle</th><th>simulation</th><th>other</th>"
    head += "<th>worst rel. error</th><th>max |z| / threshold</th></tr>"
    body = []
    for row in summary_rows(sections):
        cells = [f'<td><a href="#{_esc(row["result"])}">{_esc(row["result"])}</a></td>']
        for kind in ("proof", "oracle", "simulation", "other"):
            st = row["status"].get(kind)
            cells.append(f'<td class="{_esc(st)}">{_esc(st)}</td>' if st else "<td>—</td>")
        err = row["worst_error"]
        cells.append(f"<td>{err:.2g}</td>" if err is not None else "<td>—</td>")
        z = row["max_z"]
        cells.append(f"<td>{z[0]:.2f} / {z[1]:.2f}</td>" if z is not None else "<td>—</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="summary">{head}{"".join(body)}</table>'


def _html_toc(groups: list[tuple[str, list[Section]]]) -> str:
    items = []
    for heading, ss in groups:
        inner = "".join(
            f'<li><a href="#{_esc(s.result.name)}"><code>{_esc(s.result.name)}</code></a>: {_esc(s.result.title)}</li>'
            for s in ss
        )
        items.append(f'<li><a href="#topic-{_esc(ss[0].result.topic)}">{_esc(heading)}</a><ul>{inner}</ul></li>')
    return '<nav id="toc"><h2>Contents</h2><ul>' + "".join(items) + "</ul></nav>"


def render_html(sections: Sequence[Section], deterministic: bool = False) -> str:
    """The self-contained HTML page (MathJax inlined from the installed package)."""
    mathjax = mathjax_path().read_text(encoding="utf-8")
    if "</script" in mathjax:  # would end the inline script early
        mathjax = mathjax.replace("</script", "<\\/script")
    n_fail = sum(r.failed for s in sections for r in s.rows)
    n_rows = sum(len(s.rows) for s in sections)
    groups = _grouped(sections)
    body = []
    for heading, ss in groups:
        body.append(f'<h2 id="topic-{_esc(ss[0].result.topic)}">{_esc(heading)}</h2>')
        body.extend(_html_section(s, deterministic) for s in ss)
    summary = (
        f"{len(sections)} results; {n_rows} checks, {n_fail} failed. Every simulation check is a z-test "
        f"with the standard error under the claimed value; α is the false-failure rate of the check (the "
        f"report's budget {checks.SUITE_ALPHA:g}, Bonferroni-split); the power column is the smallest "
        f"discrepancy detected with probability {checks.POWER:g}. Each proof opens to its derivation."
    )
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                "<title>closedform report</title>",
                f"<style>{_CSS}</style>",
                f"<script>{_MATHJAX_CONFIG}</script>",
                f'<script id="mathjax">{mathjax}</script>',
                "</head><body>",
                "<h1>closedform: closed forms, proofs and cross-checks</h1>",
                f'<p class="note">{_esc(_versions(deterministic))}</p>',
                f"<p>{_esc(summary)}</p>",
                _html_summary(sections),
                _html_toc(groups),
                *body,
                "</body></html>",
            ]
        )
        + "\n"
    )


_MATHJAX_RE = re.compile(r'(<script id="mathjax">)(.*?)(</script>)', re.DOTALL)
_IMG_RE = re.compile(r'data-file="([^"]+)" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]*"')


def normalize_html(text: str) -> str:
    """The page with the inlined MathJax and the embedded figures replaced by markers (for golden diffs)."""
    text = _MATHJAX_RE.sub(lambda m: m.group(1) + MATHJAX_MARKER + m.group(3), text, count=1)
    return _IMG_RE.sub(lambda m: f'data-file="{m.group(1)}" src="data:image/svg+xml;base64,<{m.group(1)}>"', text)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------


def writable_folder(out: str | Path) -> Path:
    """``out`` as a folder this process can write into, created if missing; else one ParameterError.

    Called before any work, so that a bad path costs nothing.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     writable_folder(Path(d) / "new").is_dir()
    True
    >>> writable_folder("")
    Traceback (most recent call last):
    ...
    closedform.ParameterError: out must name a folder for the report, got an empty path
    """
    import os
    import tempfile

    from closedform.spec import ParameterError

    if not str(out).strip():
        raise ParameterError("out must name a folder for the report, got an empty path")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"out must be a folder, but {str(path)!r} is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
        # os.access misjudges some filesystems (read-only mounts, ACLs): write a probe instead.
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ParameterError(f"out must be a writable folder; {str(path)!r}: {exc.strerror or exc}") from None
    return path


def write_report(
    topics: Iterable[str] = (),
    out: str | Path = "closedform-report",
    *,
    results: Sequence[Result] | None = None,
    trials: int | None = None,
    plot_trials: int = PLOT_TRIALS,
    curve_points: int = CURVE_POINTS,
    deterministic: bool = False,
    progress: bool | None = None,
) -> list[Path]:
    """Write the report of ``topics`` (all when empty) into ``out``; return the files written.

    Parameters
    ----------
    topics : iterable of str
        Topics or groups, as for ``closedform verify``.
    out : path
        The output folder (created); checked to be writable before any work.
    results : sequence of Result, optional
        Exactly these results instead of ``topics``.
    trials : int, optional
        Trials of every simulation check (default: each result's ``sim_trials``).
    plot_trials : int
        Trials per Monte Carlo point of the figures.
    curve_points : int
        Points of each closed-form curve over a real parameter.
    deterministic : bool
        Leave out throughput, timings and library versions (golden copies).
    progress : bool, optional
        Progress bar (``tqdm.auto``: a widget in notebooks); default on terminals only.

    Returns
    -------
    list of Path
        ``report.tex``, ``report.html``, then every figure file.
    """
    from closedform.registry import by_topic

    if results is None:
        try:
            results = by_topic(*topics)
        except KeyError as exc:
            from closedform.spec import ParameterError

            raise ParameterError(exc.args[0]) from None
    mathjax_path()  # fail before the long work, not after it
    out = writable_folder(out)
    sections = collect(
        list(results), out, trials=trials, plot_trials=plot_trials, curve_points=curve_points, progress=progress
    )
    # Each file appears whole or not at all (temporary file, then rename); the documents come last.
    tex = atomic_write(out / "report.tex", render_tex(sections, deterministic))
    page = atomic_write(out / "report.html", render_html(sections, deterministic))
    figures = [p for s in sections for f in s.figures for p in f.files]
    return [tex, page, *figures]


#: The small fixed configuration whose output is committed under tests/golden/report.
GOLDEN_RESULTS = ("sector", "largest_spacing_mean", "alternating_identity")
GOLDEN_OPTIONS = {"trials": 4000, "plot_trials": 2000, "curve_points": 41, "deterministic": True, "progress": False}
#: Libraries whose version the golden figure files depend on (recorded beside them).
GOLDEN_LIBRARIES = ("matplotlib", "sympy")


def write_golden(out: str | Path) -> list[Path]:
    """The report of the golden configuration."""
    from closedform.registry import by_name

    return write_report(out=out, results=[by_name(n) for n in GOLDEN_RESULTS], **GOLDEN_OPTIONS)


def library_versions() -> dict[str, str]:
    return {n: importlib.metadata.version(n) for n in GOLDEN_LIBRARIES}


def regenerate_golden(target: str | Path) -> list[Path]:
    """Rewrite the committed golden copy: ``python -m closedform.report tests/golden/report``.

    The HTML is stored normalized (:func:`normalize_html`): MathJax is not ours
    to commit, and the figures are committed as their own files.
    """
    import json
    import shutil

    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    paths = write_golden(target)
    page = target / "report.html"
    page.write_text(normalize_html(page.read_text(encoding="utf-8")), encoding="utf-8")
    versions = target / "VERSIONS.json"
    versions.write_text(json.dumps(library_versions(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return [*paths, versions]


if __name__ == "__main__":  # pragma: no cover
    for p in regenerate_golden(sys.argv[1] if len(sys.argv) > 1 else "tests/golden/report"):
        print(p)
