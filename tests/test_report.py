"""The report: golden copy, figures whose numbers are the simulator's, LaTeX that compiles, HTML offline.

One report of the small fixed golden configuration is written per test
session (module fixture) and every test reads it.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import mpmath
import numpy as np
import pytest

from closedform.numeric.target import SIMULATOR

pytest.importorskip("matplotlib", reason="the report needs the optional 'report' extra: pip install -e '.[report]'")
pytestmark = pytest.mark.skipif(SIMULATOR, reason="the report runs compiled kernels; the simulator job runs test_cuda")

from closedform import report
from closedform import report_plots as rp
from closedform.checks import ORACLE_DPS, _to_mpf_list
from closedform.estimate import simulate_result
from closedform.registry import RESULTS, by_name

try:
    report.mathjax_path()
except ImportError as exc:  # pragma: no cover - the report extra installs it
    pytest.skip(f"the HTML report needs MathJax from the 'report' extra: {exc}", allow_module_level=True)

GOLDEN = Path(__file__).parent / "golden" / "report"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    paths = report.write_golden(out)
    return out, paths


def _relative_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------
# Golden copy
# ----------------------------------------------------------------------------


def test_golden_file_list(generated):
    out, paths = generated
    assert paths[0].name == "report.tex" and paths[1].name == "report.html"
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert _relative_files(out) == [f for f in _relative_files(GOLDEN) if f != "VERSIONS.json"]


def test_golden_text_artefacts_are_unchanged(generated):
    # The LaTeX, the HTML (MathJax and the embedded figures stand as markers)
    # and every figure's numbers, byte for byte.
    out, _ = generated
    hint = "regenerate with `python -m closedform.report tests/golden/report` and review the diff"
    assert (out / "report.tex").read_text(encoding="utf-8") == (GOLDEN / "report.tex").read_text(encoding="utf-8"), hint
    page = report.normalize_html((out / "report.html").read_text(encoding="utf-8"))
    assert page == (GOLDEN / "report.html").read_text(encoding="utf-8"), hint
    for js in sorted((GOLDEN / "figures").glob("*.json")):
        assert (out / "figures" / js.name).read_text(encoding="utf-8") == js.read_text(encoding="utf-8"), (
            js.name,
            hint,
        )


def _pdf_text(data: bytes) -> str:
    """The text a PDF draws (its Tj/TJ strings), printable ASCII only.

    The embedded font subset (and so the code of a non-ASCII glyph) differs between machines
    with the same libraries; what the figure says does not.
    """
    import zlib

    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            body = zlib.decompress(m.group(1))
        except zlib.error:
            continue  # an uncompressed or binary stream (fonts, images): not text
        for t in re.finditer(rb"\[(.*?)\]\s*TJ|\(((?:[^()\\]|\\.)*)\)\s*Tj", body, re.DOTALL):
            parts = re.findall(rb"\(((?:[^()\\]|\\.)*)\)", t.group(1)) if t.group(1) is not None else [t.group(2)]
            out.append("".join(chr(b) for part in parts for b in part if 32 <= b < 127))
    return "\n".join(out)


def test_golden_figures_say_the_same(generated):
    # Meaningful content only: what each PDF writes, and (where the drawing libraries are the
    # recorded ones) the SVG, whose glyphs are paths; never the PDF's font bytes.
    out, _ = generated
    for f in sorted((GOLDEN / "figures").glob("*.pdf")):
        new = (out / "figures" / f.name).read_bytes()
        assert new.startswith(b"%PDF") and new.rstrip().endswith(b"%%EOF"), f.name
        assert _pdf_text(new) == _pdf_text(f.read_bytes()), f.name
        assert _pdf_text(new).strip(), f"no text found in {f.name}"
    recorded = json.loads((GOLDEN / "VERSIONS.json").read_text(encoding="utf-8"))
    if recorded != report.library_versions():
        pytest.skip(
            f"the golden SVGs were drawn with {recorded}, this is {report.library_versions()}: the PDF text and "
            "the figure data (JSON) were compared; regenerate with `python -m closedform.report tests/golden/report`"
        )
    for f in sorted((GOLDEN / "figures").glob("*.svg")):
        assert (out / "figures" / f.name).read_text(encoding="utf-8") == f.read_text(encoding="utf-8"), f.name


def test_pdf_text_sees_a_changed_label(generated):
    import io

    out, _ = generated
    text = _pdf_text((out / "figures" / "sector-0.pdf").read_bytes())
    assert "several n" in text
    data = rp.load_plot_data(out / "figures" / "sector-0.json")
    data.title = data.title.replace("several n", "a few n")
    buf = io.BytesIO()
    rp.draw(data).savefig(buf, format="pdf", metadata=rp.PDF_METADATA)
    assert _pdf_text(buf.getvalue()) != text


def test_regenerating_gives_the_same_bytes(tmp_path):
    # Determinism of everything, figures included, on this machine (no dates, fixed hash salt).
    result = by_name("largest_spacing_mean")
    a = report.write_report(out=tmp_path / "a", results=[result], **report.GOLDEN_OPTIONS)
    b = report.write_report(out=tmp_path / "b", results=[result], **report.GOLDEN_OPTIONS)
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


# ----------------------------------------------------------------------------
# Figures hold what the simulator returned
# ----------------------------------------------------------------------------


def _figure_data(out: Path) -> list[rp.PlotData]:
    return [rp.load_plot_data(p) for p in sorted((out / "figures").glob("*.json"))]


def test_each_figure_is_written(generated):
    out, _ = generated
    expected = {f"{r}-{i}" for r in report.GOLDEN_RESULTS for i, _ in enumerate(rp.plots_for(by_name(r)))}
    for stem in expected:
        for ext in ("svg", "pdf", "json"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 0, (stem, ext)
        svg = (out / "figures" / f"{stem}.svg").read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
        assert (out / "figures" / f"{stem}.pdf").read_bytes().startswith(b"%PDF")


def test_figure_points_equal_the_simulator_and_the_oracle(generated):
    out, _ = generated
    n_sim = n_oracle = 0
    for data in _figure_data(out):
        result = by_name(data.result)
        for s in data.series:
            for p in s.points:
                if p.source == "simulation":
                    est = simulate_result(result, p.trials, seed=p.seed, **p.params)
                    assert est.estimate.tolist() == p.estimate and est.stderr.tolist() == p.stderr
                    assert est.streams == p.streams
                    n_sim += 1
                else:
                    with mpmath.workdps(ORACLE_DPS):
                        truth = _to_mpf_list(result.oracle(**result.validate(**p.params)))
                    assert [float(t) for t in truth] == p.estimate
                    n_oracle += 1
            # The curve is the closed form (spot checks at both ends and in the middle).
            for i in (0, len(s.curve_x) // 2, len(s.curve_x) - 1):
                x = s.curve_x[i]
                params = dict(s.params, **{data.x: int(x) if data.integer_x else x})
                claimed = result.claimed_values(**params)
                assert [c[i] for c in s.curve_y] == claimed.tolist()
    assert n_sim > 20 and n_oracle > 5


def test_drawn_artists_and_svg_hold_the_points(generated):
    out, _ = generated
    for data in _figure_data(out):
        fig = rp.draw(data)
        lines = {line.get_gid(): line for line in fig.axes[0].lines}
        svg = (out / "figures" / f"{data.stem}.svg").read_text(encoding="utf-8")
        for si, s in enumerate(data.series):
            for comp in data.components:
                pts = [p for p in s.points if comp < len(p.estimate)]
                if not pts:
                    continue
                gid = f"{'sim' if pts[0].source == 'simulation' else 'oracle'}-{si}-{comp}"
                xy = lines[gid].get_xydata()
                assert xy[:, 0].tolist() == [p.x for p in pts]
                assert xy[:, 1].tolist() == [p.estimate[comp] for p in pts]
                # In the SVG, the markers' group holds one marker per point.
                group = re.search(rf'<g id="{gid}">(.*?)</g>', svg, re.DOTALL)
                assert group is not None, gid
                assert group.group(1).count("<use ") == len(pts), gid
                bars = next(c for c in fig.axes[0].collections if c.get_gid() == f"{gid}-bars0")
                half = [abs(seg[1, 1] - seg[0, 1]) / 2 for seg in bars.get_segments()]
                assert np.allclose(half, [rp.ERROR_BAR_Z * p.stderr[comp] for p in pts], rtol=1e-12, atol=0)


# ----------------------------------------------------------------------------
# The two documents
# ----------------------------------------------------------------------------


def test_latex_compiles(generated, tmp_path):
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip(
            "pdflatex not found: install a TeX distribution (e.g. Debian's texlive-latex-recommended) "
            "to compile the report"
        )
    out, _ = generated
    work = tmp_path / "tex"
    shutil.copytree(out, work)
    for _ in range(2):  # longtable settles its column widths on the second pass
        run = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-3000:]
    assert (work / "report.pdf").read_bytes().startswith(b"%PDF")


def test_latex_has_every_part(generated):
    out, _ = generated
    tex = (out / "report.tex").read_text(encoding="utf-8")
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    for name in report.GOLDEN_RESULTS:
        result = by_name(name)
        assert rf"\label{{res:{name}}}" in tex
        assert result.formula().latex() in tex
        for mk in result.proofs:
            assert report._proof_align(mk().check()) in tex
    assert tex.count(r"\begin{longtable}") == len(report.GOLDEN_RESULTS) + 1  # one per result, and the summary
    assert r"\tag*{(1) proved}" in tex
    assert "includegraphics" in tex


def test_html_is_self_contained(generated):
    out, _ = generated
    page = (out / "report.html").read_text(encoding="utf-8")
    # Nothing fetched: no external script, stylesheet, image or frame.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", page)
    assert "<link" not in page
    assert re.search(r"<script[^>]*\bsrc=", page) is None
    inlined = re.search(r'<script id="mathjax">(.*?)</script>', page, re.DOTALL).group(1)
    assert inlined == report.mathjax_path().read_text(encoding="utf-8")
    images = re.findall(r'data-file="([^"]+)" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(list((out / "figures").glob("*.svg")))
    for name, payload in images:
        assert base64.b64decode(payload) == (out / name).read_bytes()


def test_html_has_the_formulas_proofs_and_checks(generated):
    out, _ = generated
    page = (out / "report.html").read_text(encoding="utf-8")
    for name in report.GOLDEN_RESULTS:
        assert f'<section class="result" id="{name}">' in page
    assert '<details class="proof"' in page and "(1) proved</span>" in page
    assert "<th>α</th>" in page and "|δ| ≥" in page
    # one collapsed block per proof, its verdict and statement in the summary line
    n_proofs = sum(len(by_name(n).proofs) for n in report.GOLDEN_RESULTS)
    assert page.count('<details class="proof"') == n_proofs
    assert page.count('<summary><span class="verdict ') == n_proofs


def test_report_without_failures_in_the_golden_configuration(generated):
    out, _ = generated
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "0 failed" in page
    assert 'class="FAIL"' not in page and 'class="REFUTED"' not in page


def test_html_has_a_summary_and_contents_that_link_to_every_result(generated):
    out, _ = generated
    page = (out / "report.html").read_text(encoding="utf-8")
    summary = re.search(r'<table class="summary">(.*?)</table>', page, re.DOTALL).group(1)
    toc = re.search(r'<nav id="toc">(.*?)</nav>', page, re.DOTALL).group(1)
    for name in report.GOLDEN_RESULTS:
        assert f'<a href="#{name}">' in summary and f'<a href="#{name}">' in toc
        assert f'id="{name}"' in page
    assert "max |z| / threshold" in summary and "worst rel. error" in summary
    assert '<a href="#topic-sector">' in toc and 'id="topic-sector"' in page
    # statements are maths for MathJax, not raw LaTeX in a paragraph
    assert r"\(P(\max_i x_i &gt; a)" in page


def test_tex_has_a_summary_contents_and_typeset_statements(generated):
    out, _ = generated
    tex = (out / "report.tex").read_text(encoding="utf-8")
    assert r"\tableofcontents" in tex and r"\hyperref[res:sector]" in tex
    assert r"\(P(\max_i x_i > a)" in tex and r"\textbackslash{}max" not in tex


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "no chromium on PATH for the browser check (Debian: apt-get install chromium)"
#: Injected before MathJax: record every uncaught error and console.error.
_BROWSER_HEAD = (
    "<script>window.__errors=[];window.addEventListener('error',function(e){__errors.push(String(e.message))});"
    "(function(){var ce=console.error;console.error=function(){"
    "__errors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments)}})();</script>"
)
#: Injected at the end: open every proof, wait for MathJax, measure, and write the findings to the title.
_BROWSER_TAIL = r"""<script>
document.querySelectorAll('details').forEach(function(d){d.open=true});
MathJax.startup.promise.then(function(){return MathJax.typesetPromise()}).then(function(){
  var raw=[], w=document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while(w.nextNode()){var n=w.currentNode; if(n.parentElement.closest('script,style,mjx-container,code'))continue;
    if(/\\[A-Za-z]+|\\\(|\\\[/.test(n.textContent)) raw.push(n.textContent.slice(0,120));}
  var mjx=[].map.call(document.querySelectorAll('mjx-merror,[data-mjx-error]'),
    function(e){return e.getAttribute('data-mjx-error')||e.textContent});
  var over=[];
  document.querySelectorAll('section.result *, nav *, table.summary *').forEach(function(el){
    if(el.closest('mjx-assistive-mml'))return;  // MathJax's off-screen copy for screen readers
    var box=el.closest('section.result')||document.body, r=el.getBoundingClientRect(), b=box.getBoundingClientRect();
    if(r.width>0 && r.right>b.right+1) over.push(el.tagName+'.'+el.className);});
  var clipped=[].filter.call(document.querySelectorAll('section.result *'),function(el){
    if(el.closest('mjx-assistive-mml'))return false;
    var st=getComputedStyle(el);
    return (st.overflowX=='auto'||st.overflowX=='scroll'||st.overflowX=='hidden') && el.scrollWidth>el.clientWidth+1;
  }).map(function(el){return el.tagName+'.'+el.className});
  var tags=document.querySelectorAll('.step-head .verdict'), hidden=[].filter.call(tags,function(t){
    var r=t.getBoundingClientRect(); return r.width==0||r.height==0}).length;
  document.title=JSON.stringify({done:true,errors:__errors,raw:raw.slice(0,10),mjx:mjx.slice(0,10),
    overflow:over.slice(0,10),clipped:clipped.slice(0,10),tags:tags.length,hidden_tags:hidden,
    typeset:document.querySelectorAll('mjx-container').length});
});
</script>"""


def _browser_findings(page: Path, work: Path, width: int) -> dict:
    import html as html_module

    probe = work / "probe.html"
    text = page.read_text(encoding="utf-8")
    text = text.replace("<head>", "<head>" + _BROWSER_HEAD, 1).replace("</body>", _BROWSER_TAIL + "</body>", 1)
    probe.write_text(text, encoding="utf-8")
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={work / 'profile'}",
            f"--window-size={width},900",
            "--virtual-time-budget=120000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    title = re.search(r"<title>(.*?)</title>", run.stdout, re.DOTALL)
    assert title is not None, run.stderr[-2000:]
    return json.loads(html_module.unescape(title.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
@pytest.mark.parametrize("width", [1280, 700])
def test_html_in_a_real_browser(generated, tmp_path, width):
    out, _ = generated
    found = _browser_findings(out / "report.html", tmp_path, width)
    assert found.get("done"), found
    assert found["errors"] == [], found["errors"]
    assert found["mjx"] == [], f"MathJax could not typeset: {found['mjx']}"
    assert found["raw"] == [], f"raw TeX left in the page text: {found['raw']}"
    assert found["typeset"] > 50
    assert found["overflow"] == [] and found["clipped"] == [], found
    assert found["tags"] > 0 and found["hidden_tags"] == 0


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_browser_check_can_fail(tmp_path):
    mathjax = report.mathjax_path().read_text(encoding="utf-8")
    page = tmp_path / "bad.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><script>{report._MATHJAX_CONFIG}</script><script>{mathjax}</script></head>"
        '<body><section class="result" style="width:300px"><div style="width:900px">wide</div>'
        r"<p>\(x^1^2\)</p><p>\frac raw</p></section>"
        "<script>console.error('boom')</script></body></html>",
        encoding="utf-8",
    )
    found = _browser_findings(page, tmp_path, 1000)
    assert found["errors"] and found["overflow"] and found["raw"] and found["mjx"], found


# ----------------------------------------------------------------------------
# Where the report is written
# ----------------------------------------------------------------------------


def _no_work(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the report did work before checking its output folder")

    monkeypatch.setattr(report, "collect", forbidden)


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_out_is_refused_before_any_work(bad, monkeypatch):
    from closedform import ParameterError

    _no_work(monkeypatch)
    with pytest.raises(ParameterError, match="out must name a folder"):
        report.write_report(out=bad, results=[by_name("alternating_identity")])


def test_out_that_is_a_file_or_unwritable_is_refused_before_any_work(tmp_path, monkeypatch):
    import os

    from closedform import ParameterError

    _no_work(monkeypatch)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        report.write_report(out=a_file, results=[by_name("alternating_identity")])
    with pytest.raises(ParameterError, match="writable folder"):  # a file where a parent folder should be
        report.write_report(out=a_file / "sub", results=[by_name("alternating_identity")])
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root writes anyway
            with pytest.raises(ParameterError, match="writable folder"):
                report.write_report(out=locked, results=[by_name("alternating_identity")])
    finally:
        locked.chmod(0o700)


def test_an_interrupted_write_leaves_no_half_file(tmp_path, monkeypatch):
    import os

    target = tmp_path / "report.html"
    target.write_text("the old report")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rp.atomic_write(target, "the new report, " * 1000)
    monkeypatch.undo()
    assert target.read_text() == "the old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    rp.atomic_write(target, "the new report")
    assert target.read_text() == "the new report"


def test_a_failing_simulation_row_says_so():
    import dataclasses

    import sympy as sp

    from closedform import checks

    # A deliberately wrong claim: P_4(pi) = 9/10 (it is 1/2).
    wrong = dataclasses.replace(by_name("sector"), closed_form=lambda n, theta: sp.Rational(9, 10))
    row = checks.simulation_check(wrong, {"n": 4, "theta": "pi"}, 1e-6, 20_000)
    assert row.status == "FAIL"
    z, threshold = abs(row.data["z"]), row.data["threshold"]
    assert z > threshold
    assert f"max |z| = {z:.2f} > {threshold:.2f}" in row.detail and "<=" not in row.detail.split("(")[0]
    good = checks.simulation_check(by_name("sector"), {"n": 4, "theta": "pi"}, 1e-6, 20_000)
    assert good.status == "pass" and f"<= {good.data['threshold']:.2f}" in good.detail


# ----------------------------------------------------------------------------
# Registry-generic: every result (of every topic, as topics are merged) can be drawn
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.name)
def test_every_result_has_a_figure_or_a_reason(result):
    specs = rp.plots_for(result)
    if not specs:
        assert "plot" in result.skips or rp.default_plot(result) is None
        return
    for i, spec in enumerate(specs):
        data = rp.plot_data(result, spec, i, trials=300, curve_points=9)
        assert any(s.curve_x for s in data.series)
        for s in data.series:
            for y in s.curve_y:
                assert np.all(np.isfinite(y))
            for p in s.points:
                assert np.all(np.isfinite(p.estimate))
        fig = rp.draw(data)
        assert fig.axes[0].lines


# ----------------------------------------------------------------------------
# Command line, notebook display, progress bars
# ----------------------------------------------------------------------------


def test_cli_report_writes_both_documents(tmp_path, monkeypatch, capsys):
    from closedform.cli import main

    real = report.write_report

    def small(topics, out):  # the CLI's call, at the golden configuration's size
        assert list(topics) == ["sector"]
        return real(out=out, results=[by_name("largest_spacing_mean")], **report.GOLDEN_OPTIONS)

    monkeypatch.setattr(report, "write_report", small)
    assert main(["report", "sector", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[0].endswith("report.tex") and printed[1].endswith("report.html")
    assert all(Path(p).is_file() for p in printed)


def test_cli_report_unknown_topic_is_a_usage_error(tmp_path, capsys):
    from closedform.cli import main

    assert main(["report", "nosuchtopic", "--out", str(tmp_path)]) == 2
    assert "unknown topic 'nosuchtopic'" in capsys.readouterr().err


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.name)
def test_notebook_reprs(result):
    latex = result._repr_latex_()
    assert latex.startswith("$\\displaystyle ") and latex.endswith("$")
    assert result.name in repr(result)
    for mk in result.proofs:
        proof_latex = mk()._repr_latex_()
        assert proof_latex.startswith("$$") and r"\begin{aligned}" in proof_latex


def test_estimate_reprs():
    est = simulate_result(by_name("sector"), 2000, seed=1, n=4, theta="pi")
    text = repr(est)
    assert text.startswith("Estimate(sector(n=4, theta=pi) = ") and "±" in text and "seed=1" in text
    page = est._repr_html_()
    assert "<table>" in page and "95% interval" in page and "trials/s" in page


def test_progress_bars_come_from_tqdm_auto(monkeypatch, tmp_path):
    # tqdm.auto picks the notebook widget inside Jupyter and the text bar elsewhere;
    # the report and the cluster runner both take their bar from it.
    import tqdm.auto

    used = []

    class Recording(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            used.append(kwargs.get("desc") or kwargs.get("unit"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    report.collect(
        [by_name("alternating_identity")], tmp_path, trials=100, plot_trials=100, curve_points=5, progress=False
    )
    assert "report" in used
