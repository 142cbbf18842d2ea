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
    for text in ("Change approach", "controlling → supportive", "Drop", "Lessons-learned library",
                 "What no mix can fix", "Errors left", "Resize", "most likely to meet your goals",
                 "must hold", "a cost when broken"):
        assert text in section
    assert '<span class="badge error">critical</span>' in section and "PRB002" not in section
    assert "[mix]" not in section  # settings are named in the appendix, not in the body
    markdown = report_of(analysis, "md").decode()
    assert '<a id="recommended-mix"></a>' in markdown and "| **Drop** | Lessons-learned library" in markdown
    context = context_of(analysis)["mix"]
    assert context["status"] == "optimal" and context["recommended"]["counts"]["error"] == 1
    assert {"changed", "removed", "resized"} <= {c["kind"] for c in context["changes"]}
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


def test_the_report_shows_additions_extensions_and_options_apart(tmp_path: Path) -> None:
    """Issue 23: with room to grow the example adds its proposed portfolio service and extends a quick service
    to a client without a quick win; an addition on assumed figures is listed apart, as an option to assess."""
    workspace = tmp_path / "example"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    config = workspace / "pmorules.toml"
    config.write_text(config.read_text() + "\n[mix]\ncapacity = 120\n", encoding="utf-8")
    analysis = analyze(workspace, AS_OF)
    section = _section(report_of(analysis, "html").decode())
    for text in ("<strong>Add</strong>", "Portfolio prioritisation and capacity balancing", "Assumed: effort",
                 "<strong>Extend</strong>", "Planning and coordination support for project managers"):
        assert text in section
    assert "| **Extend** | Planning and coordination support for project managers (to Finance" in \
        report_of(analysis, "md").decode()
    options = tmp_path / "options"
    options.mkdir()
    (options / "ws.yaml").write_text(
        "services:\n"
        "  - {id: a, term: short, probability: 0.7, effort: 10, outcomes: [O26], running_months: 6}\n"
        "  - {id: guess, name: Benefits tracking, status: proposed, term: short, effort: 5, outcomes: [O15]}\n"
        "goals:\n  - {id: g1, outcomes: [O26], due_months: 3, priority: 1}\n"
        "  - {id: g2, outcomes: [O15], due_months: 6, priority: 3}\n", encoding="utf-8")
    (options / "pmorules.toml").write_text(
        "[rules.GOL005]\nparams = { target_adherence = 0.5 }\n[mix]\ninclude_catalogue = false\ncapacity = 20\n",
        encoding="utf-8")
    analysis = analyze(options, AS_OF)
    markdown = report_of(analysis, "md").decode()
    assert "### Options worth assessing" in markdown and "- Benefits tracking (short term, proposed)" in markdown
    assert "| **Add** |" not in markdown  # an option is not a decided addition
    assert "<h3>Options worth assessing</h3>" in _section(report_of(analysis, "html").decode())


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
