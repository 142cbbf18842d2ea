"""The written report: formats, content, determinism, golden files, safety and organisation templates."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, given, settings
from markupsafe import escape
from typer.testing import CliRunner

from pmorules.analysis import analyze
from conftest import context_of, report_of
from pmorules.cli import app
from pmorules.errors import InputError
from pmorules.diff import history_of
from pmorules.mix import recommend
from pmorules.report import render_report
from strategies import workspaces, write_workspace

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "knowledge" / "example"
GOLDEN = Path(__file__).resolve().parent / "golden"
AS_OF = dt.date(2026, 3, 20)
PAYLOAD = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def example_html(example) -> str:
    return report_of(example, "html").decode()


@pytest.fixture(scope="module")
def example_md(example) -> str:
    return report_of(example, "md").decode()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example at ``tmp_path/knowledge/example``, run from ``tmp_path``."""
    target = tmp_path / "knowledge" / "example"
    shutil.copytree(EXAMPLE, target)
    monkeypatch.chdir(tmp_path)
    return Path("knowledge/example")


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


class Elements(HTMLParser):
    """Every start tag with its attributes, plus the text of <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


# --- formats and the CLI -----------------------------------------------------------------------


def test_markdown_to_stdout_by_default(workspace: Path) -> None:
    result = run("report", str(workspace), "--as-of", "2026-03-20")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Recommendations report: Northwind Logistics IT PMO")


def test_html_from_the_suffix_of_o(workspace: Path, tmp_path: Path) -> None:
    result = run("report", str(workspace), "-o", "report.html", "--as-of", "2026-03-20")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report.html")] == []  # no temp file left


def test_json_is_the_analysis_the_mix_and_what_only_the_report_computes(example) -> None:
    data = json.loads(report_of(example, "json"))
    # places relative to the workspace, as the other formats show them (the example runs as knowledge/example)
    analysis = json.loads(json.dumps(example.to_json()).replace('"knowledge/example/', '"')) | {"workspace": "example"}
    assert {k: data[k] for k in analysis} == analysis  # findings, goals, manifest: once, in the analyze shape
    assert set(data) == set(analysis) | {"mix", "timeline", "graph", "history", "verdict", "decisions"}
    assert data["mix"]["status"] == "optimal" and "findings_after" in data["mix"]
    assert data["timeline"] == json.loads(json.dumps(context_of(example)["timeline"]))


def test_unknown_format_is_an_input_error(example) -> None:
    with pytest.raises(InputError, match="unknown report format"):
        report_of(example, "docx")


def test_pdf_without_weasyprint_is_a_clear_input_error(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint now raises ImportError
    result = run("report", str(workspace), "-o", "report.pdf", "--as-of", "2026-03-20")
    assert result.exit_code == 2
    assert "PDF output needs the pdf extra: pip install 'pmorules[pdf]'" in result.stderr
    assert not Path("report.pdf").exists()


def test_pdf_with_weasyprint(example) -> None:
    pytest.importorskip("weasyprint", reason="the optional pdf extra is not installed")
    assert report_of(example, "pdf").startswith(b"%PDF-")


def test_an_input_file_is_never_overwritten(workspace: Path) -> None:
    target = workspace / "services.yaml"
    before = target.read_bytes()
    result = run("report", str(workspace), "-o", str(target), "--as-of", "2026-03-20")
    assert result.exit_code == 2
    assert "refusing to overwrite an input file" in result.stderr
    assert target.read_bytes() == before


# --- content -------------------------------------------------------------------------------------


def test_sections_come_in_the_order_an_executive_reads(example_html: str, example_md: str) -> None:
    order = ["summary", "mix-over-time", "goals", "findings", "appendix", "graph", "estimates", "evidence",
             "rulebook-and-inputs"]  # the appendix holds the analyst's part: network, estimates, evidence, rulebook
    positions = [example_html.index(f' id="{s}">') for s in order]
    assert positions == sorted(positions)
    appendix = example_html[example_html.index('<div class="appendix" id="appendix">'):]
    assert all(f' id="{s}">' in appendix for s in order[5:])
    order = ["summary", "mix-over-time", "goals", "findings", "appendix", "graph", "estimates", "evidence"]
    positions = [example_md.index(f'<a id="{s}"></a>') for s in order]  # the Markdown keeps the HTML's order
    assert positions == sorted(positions)


def test_every_finding_has_an_anchor_and_the_summary_links_to_the_findings_behind_its_decisions(example, example_html: str) -> None:
    ids = {attrs.get("id") for _, attrs in elements(example_html)}
    links = {attrs["href"][1:] for tag, attrs in elements(example_html) if tag == "a" and (attrs.get("href") or "").startswith("#")}
    assert {f.id for f in example.findings} <= ids
    assert links <= ids, f"links to missing anchors: {links - ids}"
    summary = example_html[example_html.index('id="summary"'):example_html.index('id="since-last-review"')]
    behind = [f["id"] for d in context_of(example)["decisions"] for f in d["findings"]]
    assert behind and all(f'href="#{f}"' in summary for f in behind)


def test_goal_status_comes_from_the_findings_on_the_goal(example) -> None:
    for goal in context_of(example)["goals"]:
        levels = {f.level for f in example.findings if goal["id"] in f.subjects}
        expected = "red" if "error" in levels else "amber" if "warning" in levels else "green"
        assert goal["rag"] == expected, goal["id"]
        assert goal["findings"] == [f.id for f in example.findings if goal["id"] in f.subjects]
        assert all(s["months"] <= goal["due_months"] for s in goal["in_time"])
        assert all(s["months"] > goal["due_months"] for s in goal["later"])


def test_findings_are_grouped_by_category_with_the_errors_open(example, example_html: str) -> None:
    categories = context_of(example)["categories"]
    assert sorted(f["id"] for c in categories for f in c["findings"]) == sorted(f.id for f in example.findings)
    for category in categories:
        tag = re.search(rf'<details class="category" id="category-{category["name"]}"[^>]*>', example_html).group(0)
        assert (" open" in tag) == any(f["level"] == "error" for f in category["findings"])


def test_harm_and_dependency_findings_show_their_path(example, example_html: str) -> None:
    with_path = [f for f in example.findings if f.path]
    assert with_path
    for finding in with_path:
        card = example_html[example_html.index(f'id="{finding.id}"'):]
        card = card[:card.index("</article>")]
        assert 'class="path"' in card
        steps = next(f["path"] for c in context_of(example)["categories"] for f in c["findings"] if f["id"] == finding.id)
        assert all(f">{escape(step['name'])}<" in card for step in steps)  # every step by name, not O25 or an id


def test_the_appendix_marks_organisation_overrides_and_lists_inputs_and_notes(example, example_html: str) -> None:
    appendix = example_html[example_html.index('id="appendix"'):]
    overlaid = [r for r in example.rulebook.rules.values() if r.overlay]
    assert overlaid, "the example changes some rules in pmorules.toml"
    for rule in overlaid:
        row = appendix[appendix.index(f'<td class="mono">{rule.id}</td>') - 40:]
        assert row[:row.index("</tr>")].count("organisation") >= 1
    for item in example.manifest()["inputs"]:  # knowledge/example/services.yaml shows as services.yaml
        assert f'<td class="mono">{item["path"].removeprefix("knowledge/example/")}</td>' in appendix
        assert item["sha256"] in appendix
    assert str(ROOT) not in example_html and "knowledge/example" not in appendix
    assert "As of <strong>2026-03-20</strong>" in appendix
    assert "2026-03-20" not in example_html[:example_html.index('id="appendix"')], "the run date belongs in the appendix only"


def test_the_timeline_shows_reviews_and_what_is_ready_before_the_first(example) -> None:
    timeline = context_of(example)["timeline"]
    first = timeline["first_review"]
    assert first["month"] == min(example.kb.organisation.reviews_months)
    assert first["services"] == sum(1 for s in example.kb.services.values() if s.active and s.months <= first["month"])
    months = [event["month"] for event in timeline["events"]]
    assert months == sorted(months)


def test_a_large_mix_is_grouped_by_month_in_the_timeline(example, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmorules.report import context

    monkeypatch.setattr(context, "TIMELINE_ROWS", 5)
    monkeypatch.setattr(context, "TIMELINE_GOALS", 2)
    monkeypatch.setattr(context, "GRAPH_NODES", 6)
    data = context_of(example)
    rows = data["timeline"]["rows"]
    assert data["timeline"]["grouped"] and sum(len(r["ids"]) for r in rows) == data["timeline"]["services"]
    assert len({(r["months"], r["term"]) for r in rows}) == len(rows)
    effort = {s.id: s.effort for s in example.kb.services.values() if s.active}
    for row in rows:  # a group's share is its members' part of the effort
        assert row["share"] == pytest.approx(sum(effort[i] for i in row["ids"]) / sum(effort.values()))
    assert sum(len(d["goals"]) for d in data["timeline"]["deadlines"]) == len(example.kb.goals)
    graph = data["graph"]
    assert graph["shown"] == 6 < graph["total"]
    refs = {n["ref"] for n in graph["nodes"]}
    assert all(e["src"] in refs and e["dst"] in refs for e in graph["edges"])
    assert "showing 6 of the" in report_of(example, "html").decode()


# --- self-contained, deterministic ---------------------------------------------------------------


def test_html_is_self_contained(example, example_html: str) -> None:
    for tag, attrs in elements(example_html):
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert tag != "script" or "src" not in attrs
        for name in ("href", "src", "xlink:href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), f"<{tag} {name}={value!r}>"
    assert not re.search(r"url\((?!#)", example_html), "CSS or SVG fetches something"
    assert "@import" not in example_html and "@font-face" not in example_html
    ids = [attrs["id"] for _, attrs in elements(example_html) if "id" in attrs]
    assert len(ids) == len(set(ids)), "duplicate ids (charts must prefix theirs)"
    assert example_html.count('<svg class="chart"') == 5  # shares, goals met by review, timeline, graph, and the trend over the reviews
    diagrams = sum(1 for c in context_of(example)["categories"] for f in c["findings"] if f["diagram"])
    assert diagrams and example_html.count('<svg class="diagram"') == diagrams  # one inside each harm or dependency finding


def test_rendering_twice_gives_the_same_bytes(example) -> None:
    for fmt in ("html", "md", "json"):
        assert report_of(example, fmt) == report_of(example, fmt), fmt


LAYOUT_SCRIPT = """
import json
from pmorules.report.charts import _layout
nodes = [{"ref": f"n{i}", "term": ("short", "medium", "long")[i % 3]} for i in range(40)]
edges = [{"src": f"n{i}", "dst": f"n{i + step}"} for i in range(0, 40, 8) for step in (1, 2, 3, 5)]
print(json.dumps(sorted(_layout({"nodes": nodes, "edges": edges}).items())))
"""


def test_the_graph_layout_is_the_same_whatever_the_hash_seed() -> None:
    # many small parts: networkx's subgraph views list their nodes in a set's order, which the hash seed sets
    runs = {subprocess.run([sys.executable, "-c", LAYOUT_SCRIPT], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3", "4")}
    assert len(runs) == 1


def test_charts_leave_matplotlib_settings_alone(example) -> None:
    before = dict(matplotlib.rcParams)
    report_of(example, "html")
    assert dict(matplotlib.rcParams) == before
    html = report_of(example, "html").decode()
    assert "<dc:date>" not in html and "Matplotlib v" not in html


@pytest.mark.parametrize("fmt, suffix", [("md", "md"), ("html", "html")])
def test_golden_report(example, fmt: str, suffix: str) -> None:
    golden = GOLDEN / f"example_report.{suffix}"
    rendered = report_of(example, fmt)
    if os.environ.get("PMORULES_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(rendered)
    assert golden.is_file(), f"{golden} is missing: run PMORULES_UPDATE_GOLDEN=1 python -m pytest tests/test_report.py"
    assert rendered == golden.read_bytes(), (
        f"the {fmt} report of knowledge/example (as of {AS_OF}) differs from {golden.relative_to(ROOT)}; "
        "if the change is intended, regenerate with: PMORULES_UPDATE_GOLDEN=1 python -m pytest tests/test_report.py "
        "and review the diff"
    )


# --- safety --------------------------------------------------------------------------------------


def _hostile(workspace: Path) -> None:
    """Put markup, a script, a pipe and quotes into a service, a goal and a client name."""
    services = workspace / "services.yaml"
    text = services.read_text(encoding="utf-8")
    text = text.replace("name: Weekly project status pack and executive dashboard",
                        f"name: 'Status | pack {PAYLOAD} \"q\" `x` [l](http://x)'", 1)
    services.write_text(text, encoding="utf-8")
    goals = workspace / "goals.yaml"
    goals.write_text(goals.read_text(encoding="utf-8").replace(
        "name: A ranked, evidence-based project list for the FY2027 budget round", f"name: 'Ranking {PAYLOAD} | now'", 1
    ), encoding="utf-8")
    clients = workspace / "clients.yaml"
    clients.write_text(clients.read_text(encoding="utf-8").replace(
        "name: CIO and executive committee", "name: 'CIO <img src=x onerror=alert(2)> | board'", 1
    ), encoding="utf-8")


def test_names_with_markup_are_text_in_html_svg_markdown_and_mermaid(workspace: Path) -> None:
    _hostile(workspace)
    analysis = analyze(workspace, AS_OF)
    html = report_of(analysis, "html").decode()
    assert PAYLOAD not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert any("&lt;script&gt;" in svg for svg in svgs), "the timeline labels services by name"
    assert sum(1 for tag, _ in elements(html) if tag == "script") == 1  # only the report's own

    md = report_of(analysis, "md").decode()
    assert PAYLOAD not in md and "<img" not in md
    mermaid = md[md.index("```mermaid\ngraph LR"):]
    mermaid = mermaid[:mermaid.index("\n```\n")]
    assert "<" not in mermaid.replace("-->", "").replace("-.->", "")
    assert "#lt;script#gt;" in mermaid
    for line in md.splitlines():  # a name's pipe must not add a column to any table
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line.replace("`\\|`", ""))) == len(re.findall(r"(?<!\\)\|", _header_of(md, line))), line


def _header_of(md: str, row: str) -> str:
    lines = md.splitlines()
    index = lines.index(row)
    while index > 0 and lines[index - 1].startswith("|"):
        index -= 1
    return lines[index]


def _org_template(workspace: Path, name: str, text: str) -> None:
    path = workspace / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("body, line, message", [
    ("ok\n{{ ''.__class__.__mro__ }}\n", 2, "unsafe"),
    ("{{ cycler.__init__.__globals__ }}", 1, "unsafe"),
    ("{% extends 'base.html.j2' %}\n{% block heading %}{{ organisation.nmae }}{% endblock %}", 2, "nmae"),
    ("{% extends 'base.html.j2' %}\n\n{% block heading %}{% if %}{% endblock %}", 3, "syntax error"),
])
def test_an_organisation_template_cannot_escape_the_sandbox(workspace: Path, body: str, line: int, message: str) -> None:
    _org_template(workspace, "report.html.j2", body)
    result = run("report", str(workspace), "-o", "out.html", "--as-of", "2026-03-20")
    assert result.exit_code == 2, result.output
    assert f"{workspace}/templates/report.html.j2:{line}: " in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not Path("out.html").exists()


def test_filters_do_not_reach_internals_either(workspace: Path) -> None:
    _org_template(workspace, "report.md.j2", "{{ range(3)|map(attribute='__class__')|list }}")
    text = report_of(analyze(workspace, AS_OF), "md").decode()
    assert "class" not in text and "int" not in text
    _org_template(workspace, "report.md.j2", "{{ summary|attr('__class__') }}")
    with pytest.raises(InputError, match=r"templates/report.md.j2:1: template error: access to attribute '__class__'"):
        report_of(analyze(workspace, AS_OF), "md")


def test_an_error_in_an_overridden_partial_is_located_in_that_partial(workspace: Path) -> None:
    _org_template(workspace, "partials/goals.md.j2", "\n## Goals\n\n{{ goals[0].deadline }}\n")
    result = run("report", str(workspace), "--as-of", "2026-03-20")
    assert result.exit_code == 2
    assert f"{workspace}/templates/partials/goals.md.j2:4: template error:" in result.stderr


def test_organisation_templates_override_and_extend_the_defaults(workspace: Path) -> None:
    _org_template(workspace, "report.html.j2",
                  "{% extends 'base.html.j2' %}{% block heading %}Quarterly review of {{ organisation.name }}{% endblock %}")
    _org_template(workspace, "partials/appendix.html.j2", '<section class="report-section" id="appendix">Ours</section>')
    html = report_of(analyze(workspace, AS_OF), "html").decode()
    assert "<h1>Quarterly review of Northwind Logistics IT PMO</h1>" in html
    assert ">Ours</section>" in html and "The rulebook used" not in html
    assert 'id="findings"' in html  # the other partials still come from the defaults


def test_config_template_paths_are_searched_after_the_workspace_templates(workspace: Path) -> None:
    config = workspace / "pmorules.toml"
    lines = config.read_text(encoding="utf-8").splitlines()
    lines.insert(2, 'templates = ["brand"]')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (workspace / "brand" / "partials").mkdir(parents=True)
    (workspace / "brand" / "partials" / "goals.md.j2").write_text("\n## Goals (brand) {{ goals|length }}\n", encoding="utf-8")
    assert "## Goals (brand) 6" in report_of(analyze(workspace, AS_OF), "md").decode()
    _org_template(workspace, "partials/goals.md.j2", "\n## Goals (workspace)\n")
    assert "## Goals (workspace)" in report_of(analyze(workspace, AS_OF), "md").decode()


def test_a_missing_config_template_path_is_located(workspace: Path) -> None:
    config = workspace / "pmorules.toml"
    lines = config.read_text(encoding="utf-8").splitlines()
    lines.insert(2, 'templates = ["nowhere"]')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("report", str(workspace), "--as-of", "2026-03-20")
    assert result.exit_code == 2
    assert f"{workspace}/pmorules.toml:3:1: template path 'nowhere'" in result.stderr


def test_html_templates_of_an_organisation_are_autoescaped(workspace: Path) -> None:
    _org_template(workspace, "report.html.j2", "<p>{{ '<b>bold</b>' }}</p>")
    html = report_of(analyze(workspace, AS_OF), "html").decode()
    assert html.startswith("<p>&lt;b&gt;bold&lt;/b&gt;</p>")


def test_the_graph_picture_spreads_many_small_parts() -> None:
    from pmorules.report.charts import _layout

    nodes = [{"ref": f"n{i}", "term": ("short", "medium", "long")[i % 3]} for i in range(40)]
    edges = [{"src": f"n{i}", "dst": f"n{i + 1}"} for i in range(0, 40, 2)]  # 20 separate pairs
    pos = _layout({"nodes": nodes, "edges": edges})
    span = max(max(x for x, _ in pos.values()) - min(x for x, _ in pos.values()),
               max(y for _, y in pos.values()) - min(y for _, y in pos.values()))
    closest = min(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5
                  for a, (ax, ay) in pos.items() for b, (bx, by) in pos.items() if a < b)
    assert closest > span / 40, "nodes of a big report's graph must not collapse onto each other"
    assert _layout({"nodes": nodes, "edges": edges}) == pos  # seeded: the same picture every time


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=workspaces())
def test_any_workspace_renders_the_same_bytes_twice(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        analysis = analyze(write_workspace(files, Path(tmp) / "ws"), AS_OF)
        rendered = {fmt: report_of(analysis, fmt) for fmt in ("md", "html", "json")}
        assert rendered == {fmt: report_of(analysis, fmt) for fmt in rendered}
        assert all(f'id="{f.id}"' in rendered["html"].decode() for f in analysis.findings)


def test_the_report_shows_what_the_workspace_turned_off_and_why(make_ws) -> None:
    workspace = make_ws({"k.yaml": """
        services:
          - id: method
            catalogue: S09
            approach: directive
            probability: 0.7
            harms:
              - {target: O30, applies: false, reason: cycle time fell 20% since the method came in}
        """})
    analysis = analyze(workspace, AS_OF)
    assert [(x.kind, x.target) for x in analysis.kb.switched_off] == [("harm", "O30")]
    for fmt in ("md", "html"):
        text = report_of(analysis, fmt).decode()
        assert "cycle time fell 20% since the method came in" in text, fmt
        assert "its harm to Reduction of project life cycle (O30)" in text, fmt
    assert not [f for f in analysis.findings if "O30" in f.subjects]


def test_the_appendix_is_printed_only_on_request(workspace: Path, tmp_path: Path) -> None:
    plain, full = tmp_path / "plain.html", tmp_path / "full.html"
    assert run("report", str(workspace), "--as-of", "2026-03-20", "-o", str(plain)).exit_code == 0
    assert run("report", str(workspace), "--as-of", "2026-03-20", "-o", str(full), "--appendix").exit_code == 0
    plain_html, full_html = plain.read_text(), full.read_text()
    assert '<body class="with-appendix">' in full_html and "<body>" in plain_html
    assert "body:not(.with-appendix) .appendix" in plain_html  # the print stylesheet leaves it out
    assert 'id="appendix"' in plain_html, "on screen the appendix is there either way"


def test_harms_are_told_in_a_ledger_and_a_small_diagram(example, example_html: str, example_md: str) -> None:
    ledger = example_html[example_html.index('<section class="report-section" id="harms">'):]
    ledger = ledger[:ledger.index("</section>")]
    first = ledger[ledger.index("<tbody>"):ledger.index("</tr>", ledger.index("<tbody>"))]  # the most severe harm first
    assert "Weekly project status pack and executive dashboard" in first and "project-culture programme" in first
    assert "serious" in first and "Project register and timesheet tool (MS Access, legacy)" in first
    assert '<span class="unheld">(retired)</span>' in first, "the mitigator the PMO retired shows as not running"
    assert "| Weekly project status pack and executive dashboard | " in example_md
    rows = ledger.split("</tr>")  # a service's harms of one severity held in check by the same services: one row
    same = [r for r in rows if "Improved reliability of information" in r]
    assert len(same) == 1 and "Improved stakeholder engagement" in same[0] and "Improved organisational commitment" in same[0]
    harm = next(f for f in example.findings if f.rule == "HRM001")
    article = example_html[example_html.index(f'<article class="finding error" id="{harm.id}"'):]
    article = article[:article.index("</article>")]
    diagram = article[article.index('<svg class="diagram"'):article.index("</svg>")]
    assert ">harms</text>" in diagram and "retired</tspan>" in diagram and "Meant to hold the harm in check" in diagram
    soft = next(f for f in example.findings if f.rule == "DEP005")
    article = example_html[example_html.index(f'id="{soft.id}"'):]
    assert ">works better with</text>" in article[:article.index("</article>")]
    no_path = next(f for f in example.findings if not f.path)
    article = example_html[example_html.index(f'id="{no_path.id}"'):]
    assert "finding-diagram" not in article[:article.index("</article>")]


def test_the_network_picture_keeps_only_what_is_behind_findings(example) -> None:
    graph = context_of(example)["graph"]
    assert 0 < graph["shown"] < graph["total"]
    harms_on_paths = {(e["src"], e["dst"]) for e in graph["edges"] if e["kind"] == "harms"}
    assert harms_on_paths and all(e["on_path"] for e in graph["edges"] if e["kind"] != "mitigates")
    protected = {dst for _, dst in harms_on_paths}
    assert all(e["dst"] in protected for e in graph["edges"] if e["kind"] == "mitigates")


def test_the_weasyprint_pdf_is_the_same_steering_pack(example) -> None:
    weasyprint = pytest.importorskip("weasyprint", reason="PDF output comes with the pdf extra")
    analysis = example
    plain = weasyprint.HTML(string=report_of(analysis, "html").decode()).render()
    full_html = render_report(analysis, recommend(analysis), "html", history=history_of(analysis), appendix=True)
    full = weasyprint.HTML(string=full_html.decode()).render()
    assert 1 <= len(plain.pages) <= 8, f"the steering pack prints to {len(plain.pages)} A4 pages"
    assert len(full.pages) > len(plain.pages) + 2, "--appendix prints the appendix"


def test_the_printed_footer_quotes_the_organisation_name_safely() -> None:
    from pmorules.report.render import css_string

    quoted = str(css_string('Ops "North" </style><script>x()</script> \\ café'))
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == '"' and not set(inner) & set('"<>\'{};')
    assert "<" not in inner and '"' not in inner and inner.count("\\") == len(re.findall(r"\\[0-9a-f]+ ", inner))
    assert "caf\\e9 " in inner and "Ops " in inner


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_the_report_is_the_same_however_the_workspace_path_is_written(tmp_path: Path, monkeypatch, fmt: str) -> None:
    """A relative path, an absolute one or '.', and a workspace rule file named like a built-in one: the same
    bytes, both rule files listed with their own hash, and no path of the machine in the report."""
    workspace = tmp_path / "ws"
    shutil.copytree(Path(__file__).resolve().parents[1] / "knowledge" / "example", workspace)
    (workspace / "rules" / "northwind.yaml").rename(workspace / "rules" / "balance.yaml")
    monkeypatch.chdir(tmp_path)
    outputs = []
    for where, named in ((tmp_path, "ws"), (tmp_path, str(workspace)), (workspace, ".")):
        monkeypatch.chdir(where)
        run = CliRunner().invoke(app, ["report", named, "--as-of", "2026-03-20", "-f", fmt])
        assert run.exit_code == 0, run.output
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert str(tmp_path) not in outputs[0]
    if fmt == "json":
        files = json.loads(outputs[0])["manifest"]["rule_files"]
        balance = [f for f in files if f["path"].endswith("balance.yaml")]
        assert len(balance) == 2 and balance[0]["sha256"] != balance[1]["sha256"]
    else:
        assert "| `rules/balance.yaml` (built-in) |" in outputs[0] and "| `rules/balance.yaml` |" in outputs[0]
