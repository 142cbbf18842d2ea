"""The steering pack's front page: decisions ranked by goal weight × urgency × severity, one per goal or
service; no rule code, id or config key in the body (only in the appendix); the figures add up."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import context_of, report_of
from pmorules.analysis import analyze

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted(p for p in (ROOT / "tests" / "cases").iterdir() if p.is_dir())
AS_OF = dt.date(2026, 3, 20)
RULE_CODE = re.compile(r"\b(BAL|PRB|GOL|DEP|HRM|CAP|CTX|NWL)\d{3}\b")


def two_goals(early_priority: int, late_priority: int) -> str:
    """Two goals nobody delivers in time, one due in 2 months and one in 12."""
    return textwrap.dedent(f"""
        clients: [{{id: board, name: The board, weight: 1}}]
        services:
          - {{id: reporting, name: Status reporting, catalogue: S16, probability: 0.8, effort: 50, approach: supportive, clients: [board]}}
          - {{id: planning, name: Planning support, catalogue: S01, probability: 0.8, effort: 50, approach: supportive, clients: [board]}}
        goals:
          - {{id: soon, name: Budget list by summer, outcomes: [O25], due_months: 2, client: board, priority: {early_priority}}}
          - {{id: later, name: Benefits by next year, outcomes: [O25], due_months: 12, client: board, priority: {late_priority}}}
        """)


@pytest.mark.parametrize(("early", "late", "first"), [(1, 1, "Budget list by summer"), (1, 5, "Benefits by next year")])
def test_decisions_rank_by_urgency_and_goal_priority(make_ws, early: int, late: int, first: str) -> None:
    analysis = analyze(make_ws({"pmo.yaml": two_goals(early, late)}), AS_OF)
    context = context_of(analysis)
    ranked = [d["name"] for d in context["decisions"] if d["about"] == "goal"]
    assert set(ranked) == {"Budget list by summer", "Benefits by next year"}
    assert ranked[0] == first
    scores = [d["score"] for d in context["decisions"]]
    assert scores == sorted(scores, reverse=True)


def test_one_decision_per_goal_or_service_with_options_and_links(example) -> None:
    context = context_of(example)
    decisions = context["decisions"]
    assert 3 <= len(decisions) <= 5
    assert len({d["key"] for d in decisions}) == len(decisions)
    ids = {f["id"] for c in context["categories"] for f in c["findings"]}
    for decision in decisions:
        assert decision["findings"] and {f["id"] for f in decision["findings"]} <= ids
        assert decision["options"][-1]["kind"] == "accept" and len(decision["options"]) >= 2
    # a goal no candidate can make in time asks to renegotiate it
    unattainable = {u.goal for u in __import__("conftest")._MIXES[id(example)][1].unattainable}
    for decision in decisions:
        if decision["key"] in unattainable:
            assert "renegotiate" in [o["kind"] for o in decision["options"]]


def test_a_healthy_pmo_is_told_to_keep_its_mix(make_ws) -> None:
    """With only information findings (here: a rulebook with one info-level rule) nothing asks a decision."""
    workspace = make_ws({
        "pmo.yaml": textwrap.dedent("""
            organisation: {name: Calm office, age_months: 60, context: thriving}
            clients: [{id: board, name: The board, weight: 1}]
            services:
              - {id: reporting, name: Status reporting, catalogue: S16, probability: 0.9, effort: 40, approach: supportive, clients: [board]}
            """),
        "pmorules.toml": "default_rules = false\n",
        "rules/note.yaml": textwrap.dedent("""
            - id: ORG001
              name: any-service
              title: A service is running
              category: balance
              level: info
              match: [{fact: service, as: s}]
              subjects: [s]
              message: "{{ s.name }} is running."
              why: It is running.
              recommendation: Keep it.
            """),
    })
    analysis = analyze(workspace, AS_OF)
    assert [f.level for f in analysis.findings] == ["info"]
    context = context_of(analysis)
    assert context["decisions"] == []
    html = report_of(analysis, "html").decode()
    assert "The mix is sound: keep it. No decision is requested." in html
    assert "Decisions requested" not in html


class _Visible(HTMLParser):
    """The text a reader sees outside the appendix (style, script and chart pictures left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.skip: list[str] = []  # open tags whose content is not body text
        self.depth = 0  # > 0 inside the appendix

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self.depth:
            self.depth += tag not in VOID
        elif dict(attrs).get("id") == "appendix":
            self.depth = 1
        elif tag in ("style", "script", "svg", "title", "head"):
            self.skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
        elif self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data: str) -> None:
        if not self.depth and not self.skip:
            self.text.append(data)


VOID = {"br", "img", "meta", "link", "hr", "input", "wbr", "col", "source"}


def body_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.text).split())


def machine_words(analysis, html: str) -> list[str]:
    """Rule codes, config keys and ids that are not also ordinary words of a name (ids with - or _ or a
    digit, or any id in brackets as "Name (id)" shows one)."""
    text = body_text(html)
    found = [m.group(0) for m in RULE_CODE.finditer(text)]
    found += [m.group(0) for m in re.finditer(r"\[(mix|report|adherence|rules|history)[\].][^ ]*", text)]
    kb = analysis.kb
    for item in [*kb.services, *kb.goals, *kb.clients, *(r.id for r in kb.reviews)]:
        names = " ".join([s.name for s in kb.services.values()] + [g.name or "" for g in kb.goals.values()]
                         + [c.name or "" for c in kb.clients.values()])
        if f"({item})" in text and f"({item})" not in names:
            found.append(f"({item})")
        elif re.search(r"[-_\d]", item) and item not in names and re.search(rf"(?<![\w-]){re.escape(item)}(?![\w-])", text):
            found.append(item)
    return found


@pytest.mark.parametrize("case", [None, *CASES], ids=["example", *(p.name for p in CASES)])
def test_no_rule_code_id_or_config_key_outside_the_appendix(example, case: Path | None) -> None:
    analysis = example if case is None else analyze(case / "ws")  # as of the date its data describe
    html = report_of(analysis, "html").decode()
    assert 'id="appendix"' in html
    assert machine_words(analysis, html) == []
    assert RULE_CODE.search(html.split('id="appendix"', 1)[1])  # the appendix keeps them


def test_the_checker_sees_a_code_in_the_body() -> None:
    html = '<body><p>See GOL001 and (budget-ranking)</p><section id="appendix"><p>HRM001</p></section></body>'
    assert body_text(html) == "See GOL001 and (budget-ranking)"


def test_front_page_figures_equal_the_goals_table(example) -> None:
    context = context_of(example)
    goals = context["goals"]
    outlook = context["summary"]["outlook"]
    assert sum(outlook.values()) == len(goals)
    for word, count in outlook.items():
        assert count == sum(1 for g in goals if g["outlook"] == word)
    html = report_of(example, "html").decode()
    front = html.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert f"Of {len(goals)} goals, {outlook['likely met'] or 'none'} {'are' if outlook['likely met'] > 1 else 'is'} likely met" in front
    for goal in goals:  # each goal's status on the front page is the goals table's
        assert re.search(rf'href="#goal-{re.escape(goal["id"])}">.*?</a></td><td class="when"><span class="due">[^<]*'
                         rf'</span> <span class="rag {goal["rag"]}">{goal["verdict"].capitalize()}<', front)
    calendar = context["reviews"]
    assert sum(len(r["goals"]) for r in calendar) == len(goals)  # every goal falls at exactly one review


def test_deltas_since_the_last_review_are_taken_from_the_shown_values(example) -> None:
    html = report_of(example, "html").decode()
    since = html.split('id="since-last-review"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<td class="num">(\d+)%</td><td class="num">(\d+)%</td><td class="num">([^<]+)</td>', since)
    assert len(rows) == 4  # three shares and the coverage score
    for old, new, change in rows:
        moved = int(new) - int(old)
        assert change == ("±0" if old == new else f"{moved:+d} pt{'' if abs(moved) == 1 else 's'}")


def test_a_name_in_a_decision_option_is_escaped_once_in_markdown(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(Path(__file__).resolve().parents[1] / "knowledge" / "example", workspace)
    services = workspace / "services.yaml"
    name = "Weekly project status pack and executive dashboard"
    services.write_text(services.read_text(encoding="utf-8").replace(name, "Status pack_weekly [exec]"), encoding="utf-8")
    text = report_of(analyze(workspace, dt.date(2026, 3, 20)), "md").decode()
    front = text.split("### Decisions requested", 1)[1].split("| Goal |", 1)[0]
    assert "**Status pack\\_weekly \\[exec\\]**" in front and "Run “Status pack\\_weekly \\[exec\\]” supportive" in front
    assert "\\\\" not in front


@pytest.mark.parametrize(("as_of", "half_year", "after"), [
    ("2026-06-25", "**Half-year review**, 21 September 2026: 1 goal due, cannot be met", "4 goals due"),
    ("2028-06-01", None, None),  # every goal is past its date: no review is left to show one
])
def test_a_goal_past_its_date_is_in_no_reviews_list(as_of: str, half_year: str | None, after: str | None) -> None:
    analysis = analyze(Path(__file__).resolve().parents[1] / "knowledge" / "example", dt.date.fromisoformat(as_of))
    text = report_of(analysis, "md").decode()
    calendar = text.split("**At each review:**", 1)[1].split("<a id=", 1)[0] if "**At each review:**" in text else ""
    if half_year:
        assert half_year in calendar
    assert ("**After the last review**: " + after in calendar) if after else "After the last review" not in text
    by_review = text.split("| Review | Goals due by then |", 1)[-1].split("\n\n", 1)[0]
    past = [g.name for g in analysis.kb.goals.values() if g.due < analysis.today]
    assert past and not [name for name in past if name in calendar or name in by_review]


SOLO_PMO = """\
organisation:
  name: Solo PMO
  assessed_on: 2026-03-20
  founded: 2026-01-20
  capacity_fte: 1
  reviews:
    - {date: 2026-04-30, name: First steering committee}
    - {date: 2026-07-31}
clients:
  - {id: exec, name: Executive committee, weight: 0.8}
services:
  - {id: status, name: Weekly status report, catalogue: S16, probability: 0.8, effort: 60, clients: [exec]}
  - {id: templates, name: Template library, catalogue: S09, probability: 0.7, effort: 40, clients: [exec]}
goals:
  - {id: G1, name: Executive visibility of all projects, outcomes: [O26], due: 2026-06-30, client: exec}
"""


def test_a_review_is_named_as_the_workspace_names_it(make_ws) -> None:
    analysis = analyze(make_ws({"pmo.yaml": SOLO_PMO}), dt.date(2026, 3, 20))
    finding = next(f for f in analysis.findings if f.subjects == ["review-2026-04-30"])
    assert "show value by First steering committee on 30 April 2026" in finding.message
    front = report_of(analysis, "md").decode().split("| Goal |", 1)[0]
    assert "**First steering committee**" in front and "review-2026-04-30" not in front


def test_a_pmo_with_no_goal_ahead_is_not_told_its_mix_is_sound(make_ws) -> None:
    no_goals = SOLO_PMO.split("goals:", 1)[0]
    analysis = analyze(make_ws({"pmo.yaml": no_goals}), dt.date(2026, 3, 20))
    assert [f.subjects for f in analysis.findings if f.rule == "GOL008"] == [["mix"]]
    front = report_of(analysis, "md").decode().split("**At each review:**", 1)[0]
    assert "The mix is sound" not in front and "No goal to judge the mix against" in front


def test_a_pmo_with_nothing_running_is_told_so_not_0_of_0(make_ws) -> None:
    dormant = SOLO_PMO.replace("catalogue: S16,", "catalogue: S16, status: proposed,").replace(
        "catalogue: S09,", "catalogue: S09, status: proposed,")
    analysis = analyze(make_ws({"pmo.yaml": dormant}), dt.date(2026, 3, 20))
    assert not any(s.active for s in analysis.kb.services.values())
    nothing = next(f for f in analysis.findings if f.subjects == ["review-2026-04-30"])
    assert nothing.message.endswith("on 30 April 2026: no service is running.")
    text = report_of(analysis, "md").decode()
    assert "No service is running: nothing will show value at any review." in text and "0 of 0" not in text
