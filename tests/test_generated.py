"""Generated artefacts are regenerated and diffed: the README table, the LaTeX of every result."""

from __future__ import annotations

from pathlib import Path

from closedform.docs import render_readme

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_current():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render_readme(text) == text, "README table is stale: run `python -m closedform.docs`"
