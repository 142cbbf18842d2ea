"""The front page's decisions as a committee and a script read them: a goal nobody covers is counted as not
covered (not at risk), one mix change is offered under one decision only, and the JSON report carries the
verdict and the ranked decisions with their options and the findings behind them."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import textwrap
from pathlib import Path

import pytest

from conftest import context_of, report_of
from pmorules.analysis import analyze
from test_steering import CASES, RULE_CODE, machine_words

AS_OF = dt.date(2026, 3, 20)
CASES_DIR = Path(__file__).resolve().parent / "cases"


def uncovered_goal() -> str:
    """One goal a running service covers in time, one that nothing in the workspace works towards."""
    return textwrap.dedent("""
        clients: [{id: board, name: The board, weight: 1}]
        services:
          - {id: reporting, name: Status reporting, catalogue: S16, probability: 0.9, effort: 50, approach: supportive, clients: [board]}
        goals:
          - {id: seen, name: The board sees every project, outcomes: [O09], due_months: 12, client: board}
          - {id: ranked, name: Projects ranked for the budget, outcomes: [O14], due_months: 6, client: board}
        """)


def test_a_goal_nobody_covers_is_not_covered_not_at_risk(make_ws) -> None:
    analysis = analyze(make_ws({"pmo.yaml": uncovered_goal()}), AS_OF)
    context = context_of(analysis)
    by_id = {g["id"]: g for g in context["goals"]}
    assert by_id["ranked"]["verdict"] == "not covered" and by_id["ranked"]["outlook"] == "not covered"
    outlook = context["summary"]["outlook"]
    assert outlook["not covered"] == 1 and outlook["at risk"] == sum(g["outlook"] == "at risk" for g in context["goals"])
    assert sum(outlook.values()) == len(context["goals"])
    for fmt in ("md", "html"):
        text = report_of(analysis, fmt).decode()
        front = text.split('id="summary"', 1)[1][:3000]
        assert "1 not covered in time by any running service" in front, fmt
        assert "1 at risk" not in front or outlook["at risk"] == 1
    data = json.loads(report_of(analysis, "json"))
    assert data["verdict"]["outlook"]["not covered"] == 1


def test_one_mix_change_is_offered_under_one_decision(example) -> None:
    decisions = context_of(example)["decisions"]
    offered: dict[str, int] = {}
    referred = []
    for decision in decisions:
        for option in decision["options"]:
            if option["kind"] == "change":
                assert option["change"]["anchor"] not in offered, "the same change offered twice"
                offered[option["change"]["anchor"]] = decision["number"]
            elif option["kind"] == "see":
                referred.append((option["change"]["anchor"], option["decision"]["number"], decision["number"]))
    assert referred, "on the example, the status pack's resize answers two decisions"
    for anchor, number, here in referred:
        assert offered[anchor] == number < here  # offered under the higher-ranked decision, referred to after
    md = report_of(example, "md").decode()
    front = md.split('<a id="summary"></a>', 1)[1].split("\n## ", 2)[1]
    resize = [line for line in front.splitlines() if line.strip().startswith("- Move “Weekly project status pack")]
    assert len(resize) == 1, "a change is spelled out once, under the decision that offers it"
    assert "- Also helped by decision 1." in front


def test_a_service_decision_with_nothing_of_its_own_folds_into_the_one_offering_its_change() -> None:
    """Athabasca: the only change for the status reports' own problems is the resize decision 1 already offers
    (for a goal): that is one decision, its findings listed behind decision 1, not a fifth decision."""
    analysis = analyze(CASES_DIR / "athabasca-university-it-pmo-2010" / "ws")
    decisions = context_of(analysis)["decisions"]
    reports = "Ad hoc status reports on IT projects to the IT steering committees"
    assert reports not in [d["name"] for d in decisions]
    first = decisions[0]
    assert any(o["kind"] == "change" and o["change"]["name"] == reports for o in first["options"])
    behind = {f["title"] for f in first["findings"]}
    assert {"Goal not covered in time", "Service unlikely to deliver"} <= behind
    for decision in decisions[1:]:
        assert any(o["kind"] in ("change", "renegotiate", "recommendation") for o in decision["options"]), decision["name"]


def test_the_json_report_carries_the_front_page(example) -> None:
    data = json.loads(report_of(example, "json"))
    context = context_of(example)
    assert data["verdict"] == {"goals": len(context["goals"]), "outlook": context["summary"]["outlook"],
                               "decisions": len(context["decisions"])}
    ranked = data["decisions"]
    assert [d["rank"] for d in ranked] == list(range(1, len(ranked) + 1))
    assert [d["score"] for d in ranked] == sorted((d["score"] for d in ranked), reverse=True)
    findings = {f["id"]: f["fingerprint"] for f in data["findings"]}
    for decision in ranked:
        assert decision["findings"] and all(findings[f["id"]] == f["fingerprint"] for f in decision["findings"])
        assert decision["options"][-1]["kind"] == "accept"
        for option in decision["options"]:
            if option["kind"] == "see":
                assert option["decision"] < decision["rank"]
    first = ranked[0]
    assert first["goal"]["verdict"] == "not covered"
    assert {o["kind"] for o in first["options"]} >= {"change", "renegotiate", "accept"}
    change = next(o for o in first["options"] if o["kind"] == "change")
    assert change["service"]["name"] and first["goal"]["id"] in {g["id"] for g in change["goals"]}
    assert report_of(example, "json") == report_of(example, "json")  # deterministic


@pytest.mark.parametrize("case", [None, *CASES], ids=["example", *(p.name for p in CASES)])
def test_markdown_body_speaks_in_names_as_the_html_does(example, case: Path | None) -> None:
    """The Markdown report keeps the HTML's order and its rule: codes, ids and settings only in the appendix."""
    analysis = example if case is None else analyze(case / "ws")
    md = report_of(analysis, "md").decode()
    body, appendix = md.split('<a id="appendix"></a>', 1)
    assert machine_words(analysis, body) == []
    assert RULE_CODE.search(appendix) and "evidence-F1" in appendix  # the appendix keeps the codes and evidence
    headings = re.findall(r'^<a id="([\w-]+)"></a>\n## ', md, flags=re.M)
    html = report_of(analysis, "html").decode()
    order = [i for i in re.findall(r'<section class="report-section[^"]*" id="([\w-]+)"', html.split('id="appendix"', 1)[0])]
    assert headings[:len(order)] == order


def test_a_decision_left_with_only_references_offers_the_rules_advice() -> None:
    """Universal Credit: one resize answers four decisions; those after the first still offer something of
    their own (the rule's recommendation), not only "see decision 1" and accepting the risk."""
    analysis = analyze(CASES_DIR / "universal-credit-programme-office-2013" / "ws")
    decisions = context_of(analysis)["decisions"]
    assert any(o["kind"] == "see" for d in decisions for o in d["options"])
    for decision in decisions:
        kinds = [o["kind"] for o in decision["options"]]
        assert {"change", "renegotiate", "recommendation"} & set(kinds), decision["name"]
        assert kinds[-1] == "accept"


def test_an_unnamed_review_and_the_mix_as_a_whole_are_named_for_the_committee(make_ws) -> None:
    """A review the workspace gives no name reads as the calendar numbers it ("Review 1"), in findings and in
    the calendar alike, never as its key; a decision about the mix as a whole is headed so, capitalised."""
    analysis = analyze(make_ws({"pmo.yaml": textwrap.dedent("""
        organisation:
          name: Slow PMO
          reviews: [{date: 2026-04-01}, {date: 2026-09-01, name: Budget round}]
        clients: [{id: board, name: The board, weight: 1}]
        services:
          - {id: coaching, name: PM coaching, catalogue: S05, probability: 0.8, effort: 50, clients: [board]}
          - {id: training, name: PM training, catalogue: S04, probability: 0.8, effort: 50, clients: [board]}
        goals:
          - {id: skills, name: Skilled project managers, outcomes: [O20], due_months: 30, client: board}
        """)}), AS_OF)
    about_review = [f for f in analysis.findings if any(s.startswith("review-") for s in f.subjects)]
    assert ["by Review 1 on 1 April 2026" in f.message for f in about_review] == [True, False]
    assert not any("review-" in f.message for f in about_review)
    assert any(f.message.startswith("For the one goal, the goal coverage score") for f in analysis.findings)
    assert any("but the one goal is not linked to it" in f.message for f in analysis.findings)
    context = context_of(analysis)
    assert [r["name"] for r in context["reviews"]][:2] == ["Review 1", "Budget round"]
    mix = [d for d in context["decisions"] if d["about"] == "mix"]
    assert mix and mix[0]["name"] == "The mix as a whole"
    for fmt in ("md", "html"):
        text = report_of(analysis, fmt).decode()
        body = text.split('id="appendix"', 1)[0]
        assert "review-2026" not in body and "**the mix**" not in body and "<strong>the mix</strong>" not in body, fmt
        assert "**The mix as a whole**" in body or "<strong>The mix as a whole</strong>" in body, fmt
        assert machine_words(analysis, body) == []
    timeline = report_of(analysis, "md").decode().split('id="mix-over-time"', 1)[1]
    assert "| **Review 1** (1 April 2026) |" in timeline and "| **Budget round** (1 September 2026) |" in timeline


def test_a_goal_past_its_date_is_counted_as_past_its_date_not_as_cannot_be_met() -> None:
    """As of 15 July 2026 two of the example's goals are past their date (met or not: agree a new date). The
    verdict counts them as such, not as "cannot be met", and speaks of one goal met in the singular."""
    analysis = analyze(Path(__file__).resolve().parents[1] / "knowledge" / "example", dt.date(2026, 7, 15))
    for fmt in ("md", "html"):
        front = report_of(analysis, fmt).decode().split('id="summary"', 1)[1].split('id="since-last-review"', 1)[0]
        front = html.unescape(re.sub(r"<[^>]+>", "", front))
        assert "Of 6 goals, 1 is likely met by its date," in front and "2 past their date" in front, fmt
        assert "cannot be met" not in front and "stays past its date" not in front, fmt
        assert "ccept the risk: the goal's date has passed" in front, fmt
    assert json.loads(report_of(analysis, "json"))["verdict"]["outlook"]["past its date"] == 2


def test_a_service_delivering_for_years_is_no_first_result_at_the_next_review(make_ws) -> None:
    """Tacoma's EPMO had run its services for four years: at the next review they show nothing new. Only a
    service whose value starts to show between today and the review is a first result there."""
    analysis = analyze(make_ws({"pmo.yaml": textwrap.dedent("""
        organisation: {name: Old PMO, reviews: [{date: 2026-06-22, name: Board}]}
        clients: [{id: board, name: The board, weight: 1}]
        services:
          - {id: reporting, name: Status reporting, term: short, since: 2022-01-01, probability: 0.9, effort: 50, clients: [board]}
          - {id: planning, name: Planning support, months_to_value: 2, probability: 0.8, effort: 50, clients: [board]}
        goals:
          - {id: seen, name: The board sees every project, outcomes: [O09], due_months: 12, client: board}
        """)}), AS_OF)
    [board, *_] = context_of(analysis)["reviews"]
    assert board["name"] == "Board" and board["visible"] == ["Planning support"]


def test_the_report_says_when_the_mix_leaves_part_of_the_headcount_unused(example, make_ws) -> None:
    """The example's services take 96% of its 6 FTE and nobody stated a capacity: the mix holds today's effort,
    and the report says that 0.24 FTE go to no service and stay so (the `mix` command said it; the report did not)."""
    basis = context_of(example)["mix"]["capacity_basis"]
    assert basis.startswith("today's total effort") and "the 4% (0.24 FTE) of the PMO's 6 FTE that no service uses" in basis
    assert "Capacity 96% (5.76 FTE): today's total effort" in report_of(example, "md").decode()


def test_two_findings_of_one_rule_a_change_addresses_read_apart(example) -> None:
    """Dropping the resource planning addresses two "lacks a soft prerequisite" findings: each names the
    prerequisite it is about, not the same title twice."""
    change = next(c for c in context_of(example)["mix"]["changes"] if c["id"] == "resources")
    titles = [a["title"] for a in change["addresses"]]
    assert len(titles) == len(set(titles))
    assert "Active service lacks a soft prerequisite (Portfolio prioritisation and capacity balancing)" in titles


def test_errors_left_in_the_recommended_mix_say_why() -> None:
    """HealthCare.gov's recommended mix keeps an error: the report says no mix within today's total effort (its
    capacity: nobody stated one) avoids it (it listed it with no reason, then blamed "the capacity" a committee
    reads as the stated headcount)."""
    analysis = analyze(CASES_DIR / "healthcare-gov-tech-surge-2013" / "ws")
    text = report_of(analysis, "md").decode()
    assert "### Errors left in the recommended mix: no mix within today's total effort avoids it\n" in text


def test_a_goal_decision_says_when_the_mix_leaves_the_goal_as_it_is(example) -> None:
    """The example's budget-ranking goal cannot be covered by its date: renegotiating comes first, and the resize
    offered beside it (coverage +1.8 points) is said not to change the goal's status (it read as the remedy)."""
    first = context_of(example)["decisions"][0]
    assert first["key"] == "budget-ranking" and first["still"] == "not covered"
    assert [o["kind"] for o in first["options"]][:2] == ["renegotiate", "change"]
    assert "   - Accept the risk: with the recommended mix the goal stays not covered\n" in report_of(example, "md").decode()
    assert all(d["still"] is None for d in context_of(example)["decisions"] if d["about"] != "goal")


def test_a_clients_decision_is_about_the_client_and_weighs_as_its_goals(example) -> None:
    """The finance controllers get no quick win (a client finding): the decision was labelled a service's and
    weighed 1.0 (unlinked), ignoring the client's 0.4 and its goal, and took a place on the front page."""
    from pmorules.config import ReportSettings
    from pmorules.mix import recommend
    from pmorules.report.context import build_context
    from pmorules.report.decisions import decisions

    context = build_context(example, recommend(example))
    findings = [f for category in context["categories"] for f in category["findings"]]
    ranked = decisions(findings, context["goals"], context["mix"], recommend(example), ReportSettings(decisions=20))
    finance = next(d for d in ranked if d["key"] == "finance")
    goals = [g for g in context["goals"] if g["client"] and g["client"]["id"] == "finance"]
    assert finance["about"] == "client" and goals
    assert finance["score"] < 1.0 and all(d["key"] != "finance" for d in context["decisions"])

