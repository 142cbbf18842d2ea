"""The "Recommended mix" section of the report (HTML, Markdown, JSON context)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from conftest import context_of, report_of

from pmorules.analysis import analyze

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 3, 20)


def _section(html: str) -> str:
    start = html.index('<section class="report-section" id="recommended-mix">')
    return html[start:html.index("</section>", start)]


def test_the_example_report_shows_the_recommended_mix() -> None:
    analysis = analyze(ROOT / "knowledge" / "example", AS_OF)
    html = report_of(analysis, "html").decode()
    section = _section(html)
    assert '<a href="#recommended-mix">Recommended mix</a>' in html  # in the contents
    added = [c for c in context_of(analysis)["mix"]["changes"] if c["kind"] == "added"]
    assert added
    for text in ("Change approach", "controlling → supportive", "Drop", "Lessons-learned library", "Add",
                 added[0]["name"], "What no mix can fix", "Errors left", "Resize",
                 "most likely to meet your goals", "Assumed: effort", "(the clients of the goals it would serve)",
                 "must hold", "a cost when broken"):
        assert text in section
    assert '<span class="badge error">critical</span>' in section and "PRB002" not in section
    assert "the default for a service not offered yet" in section and "[mix]" not in section
    markdown = report_of(analysis, "md").decode()
    assert '<a id="recommended-mix"></a>' in markdown and "| **Drop** | Lessons-learned library" in markdown
    context = context_of(analysis)["mix"]
    assert context["status"] == "optimal" and context["recommended"]["counts"]["error"] == 1
    assert {"changed", "removed", "added", "resized"} <= {c["kind"] for c in context["changes"]}
    for change in context["changes"]:
        if change["kind"] == "added":
            assert change["clients"] and {"effort", "probability", "months_to_value", "clients"} <= set(change["assumed"])
    assert "mix-scenarios" not in html  # no scenarios/ folder: no comparison table
    # issue 23: what each drop, cut and change of approach loses; efforts with FTE beside the percentage
    for view in (section, markdown):
        assert "Loses: no longer serves Project managers (IT delivery, about 25 people), Warehouse" in view
        assert "get it supportive instead of controlling" in view
        assert "(5.76 FTE)" in view and "Effort moves in steps of 0.25 FTE" in view
    assert all(c["loses"] for c in context["changes"] if c["kind"] in ("removed", "changed"))
    assert not any(c["loses"] for c in context["changes"] if c["kind"] == "added")


def test_the_report_compares_the_scenarios(tmp_path: Path) -> None:
    workspace = tmp_path / "example"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    (workspace / "scenarios").mkdir()
    (workspace / "scenarios" / "board.yaml").write_text(
        "scenarios:\n  - name: Drop the library\n    description: Lessons go to the wiki.\n    drop: [lessons]\n",
        encoding="utf-8")
    analysis = analyze(workspace, AS_OF)
    section = _section(report_of(analysis, "html").decode())
    table = section[section.index('<table id="mix-scenarios">'):]
    for text in ("Today", "Recommended", "Drop the library", "Feasible", "Lessons go to the wiki.", "Not feasible"):
        assert text in table
    markdown = report_of(analysis, "md").decode()
    assert "| | Today | Recommended | Drop the library |" in markdown
    context = context_of(analysis)["mix"]
    assert [c["name"] for c in context["compare"]] == ["Today", "Recommended", "Drop the library"]


def test_an_infeasible_mix_is_explained_in_the_report(tmp_path: Path) -> None:
    workspace = tmp_path / "example"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    config = workspace / "pmorules.toml"
    config.write_text(config.read_text() + "\n[mix]\ncapacity = 10\n", encoding="utf-8")
    analysis = analyze(workspace, AS_OF)
    section = _section(report_of(analysis, "html").decode())
    assert "No mix meets every constraint" in section and "raise the capacity" in section
    assert "No mix meets every constraint" in report_of(analysis, "md").decode()
