"""The "Recommended mix" section of the report (HTML, Markdown, JSON context)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from pmorules.analysis import analyze
from conftest import report_of

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 25)


def _section(html: str) -> str:
    start = html.index('<section class="report-section" id="recommended-mix">')
    return html[start:html.index("</section>", start)]


def test_the_example_report_shows_the_recommended_mix() -> None:
    analysis = analyze(ROOT / "knowledge" / "example", AS_OF)
    html = report_of(analysis, "html").decode()
    section = _section(html)
    assert '<a href="#recommended-mix">Recommended mix</a>' in html  # in the contents
    for text in ("Change approach", "controlling → supportive", "Drop", "Lessons-learned library", "Add",
                 "Portfolio prioritisation and capacity balancing", "What no mix can fix", "Errors left"):
        assert text in section
    assert '<span class="badge error">PRB002</span>' in section
    markdown = report_of(analysis, "md").decode()
    assert '<a id="recommended-mix"></a>' in markdown and "| **Drop** | Lessons-learned library" in markdown
    context = json.loads(report_of(analysis, "json"))["report"]["mix"]
    assert context["status"] == "optimal" and context["recommended"]["counts"]["error"] == 1
    assert [c["kind"] for c in context["changes"]] == ["changed", "removed", "removed", "added"]


def test_an_infeasible_mix_is_explained_in_the_report(tmp_path: Path) -> None:
    workspace = tmp_path / "example"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    config = workspace / "pmorules.toml"
    config.write_text(config.read_text() + "\n[mix]\ncapacity = 10\n", encoding="utf-8")
    analysis = analyze(workspace, AS_OF)
    section = _section(report_of(analysis, "html").decode())
    assert "No mix meets every constraint" in section and "raise the capacity" in section
    assert "No mix meets every constraint" in report_of(analysis, "md").decode()
