"""Recommendations that use what the analysis knows: the service that could still make a date or, when none
can, renegotiating it; a retired prerequisite by its role; a harm's own mitigators; a goal's weakest part."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pmorules.analysis import analyze
from pmorules.findings import names_of
from pmorules.paths import default_rules_dir
from pmorules.text import MESSAGE_ENV, Records

CASES = Path(__file__).resolve().parent / "cases"


def finding(analysis, rule: str, *subjects: str):
    return next(f for f in analysis.findings if f.rule == rule and list(subjects) == f.subjects[:len(subjects)])


def target_fact(analysis, key: str) -> dict:
    return next(f.fields for f in analysis.facts.facts if f.type == "goal_target" and f.key == key)


def test_no_candidate_can_make_the_date_so_renegotiate(example) -> None:
    fields = target_fact(example, "budget-ranking/O05")
    assert fields["candidates_in_time"] == 0 and "candidate" not in fields
    text = finding(example, "GOL001", "budget-ranking").recommendation
    assert text.startswith("No service the PMO runs or could add shows “Better project prioritisation” by 22 June 2026.")
    assert "Renegotiate the date or the scope with the goal's owner (CIO and executive committee)" in text
    assert "Add or strengthen" not in text


@pytest.fixture(scope="module")
def athabasca():
    return analyze(CASES / "athabasca-university-it-pmo-2010" / "ws")


def test_a_candidate_that_makes_the_date_is_named(athabasca) -> None:
    fields = target_fact(athabasca, "integrated-plan/delivery-plan")
    assert fields["candidates_in_time"] == 1 and fields["candidate"] == "delivery-plan"
    text = finding(athabasca, "GOL001", "integrated-plan").recommendation
    assert text.startswith("Start the proposed “Integrated IT delivery plan with a business case for every IT project” now")
    assert "renegotiate the date" in text  # the fallback, after the candidate
    project = finding(athabasca, "GOL001", "project-performance").recommendation
    assert "add “Systems and tools management”" in project  # from the catalogue, not offered yet
    assert "more likely to deliver than its 45%" in project  # or strengthen the one that is too unlikely


def test_a_retired_prerequisite_is_asked_back_by_its_role(example) -> None:
    text = finding(example, "DEP005", "reporting", "tools").recommendation
    assert text.startswith("Nothing to decide now.")
    assert "misses is its role, systems and tools management" in text and "need not be the same tool" in text


def test_a_goal_at_risk_names_its_weakest_part(example) -> None:
    names = names_of(example.kb)
    at_risk = [f for f in example.findings if f.rule == "GOL005"]
    assert at_risk
    for f in at_risk:
        fields = next(x.fields for x in example.facts.facts if x.type == "goal" and x.key == f.subjects[0])
        assert f"is weakest, “{names[fields['weakest_target']]}”" in f.recommendation
    cost = finding(example, "GOL005", "budget-control").recommendation
    assert "“Change requests and budget change control”: give it the sponsor, data or people it lacks" in cost


def test_a_harm_names_its_own_mitigators() -> None:
    analysis = analyze(CASES / "healthcare-gov-tech-surge-2013" / "ws")
    text = finding(analysis, "HRM003", "punch-list").recommendation
    assert "put one of its mitigators in place: “Audit assessments” (not offered yet) or" in text
    assert "for example coaching" not in text


def test_the_crisis_rule_names_the_weakest_goal() -> None:
    analysis = analyze(CASES / "healthcare-gov-tech-surge-2013" / "ws")
    mix = next(f.fields for f in analysis.facts.facts if f.type == "mix")
    text = finding(analysis, "CTX002", "mix").recommendation
    assert f"first “{analysis.kb.goals[mix['weakest_goal']].name}”" in text


def test_an_unlikely_prerequisite_names_the_services_that_wait_on_it() -> None:
    analysis = analyze(CASES / "nz-msd-pmo-disbanded-2005" / "ws")
    text = finding(analysis, "DEP004", "method-compliance").recommendation
    waiting = sorted(s.name for s in analysis.kb.services.values()
                     if s.active and "method-compliance" in [d.target for d in s.depends_on])
    assert waiting and all(f"“{name}”" in text for name in waiting)


def test_the_balance_rules_name_the_services_to_grow_or_start(example, athabasca) -> None:
    """Too few quick wins: grow the quick services the PMO already runs, by name; too little lasting capability:
    start the capability service already proposed; the generic examples only when the workspace has none."""
    quick = finding(example, "BAL007").recommendation
    assert "give more effort to what already shows value within 3 months" in quick
    assert "“Weekly project status pack and executive dashboard”" in quick and "status reporting and dashboards" not in quick
    lasting = finding(athabasca, "BAL004").recommendation
    assert lasting.startswith("Start “Tracking whether IT projects deliver their expected results and benefits”, proposed")
    assert "for example mentoring" not in lasting
    surge = analyze(CASES / "healthcare-gov-tech-surge-2013" / "ws")
    medium = finding(surge, "BAL006").recommendation
    assert medium.startswith("Start “Single accountable leadership and decision rights for the marketplace programme”")


def _rule(rule_id: str) -> dict:
    """A default rule as its file writes it."""
    return next(r for path in sorted(default_rules_dir().glob("*.yaml")) for r in yaml.safe_load(path.read_text())
                if r["id"] == rule_id)


def _params(rule_id: str) -> dict:
    """A default rule's params at their defaults."""
    return {name: spec["default"] for name, spec in _rule(rule_id)["params"].items()}


def _recommendation(rule_id: str, **context) -> str:
    """A default rule's recommendation rendered on a hand-made context (names: upper-case ids)."""
    rule = _rule(rule_id)
    context = {"names": {k: k.upper() for k in "abcdefgh"}, "horizons": {"short_max_months": 3}, **context}
    context["services"] = Records(context.get("services", []))
    return " ".join(MESSAGE_ENV.from_string(rule["recommendation"]).render(context).split())


@pytest.mark.parametrize("goals, carried", [
    (["a"], "it carries “A”."),
    (["a", "b"], "it carries “A” and “B”."),
    (["a", "b", "c"], "it carries “A”, “B” and “C”."),
    (["a", "b", "c", "d"], "it carries “A”, “B”, “C” and 1 other goal."),
    (["a", "b", "c", "d", "e", "f"], "it carries “A”, “B”, “C” and 3 other goals."),
])
def test_an_unlikely_service_names_three_of_its_goals_and_counts_the_rest(goals, carried) -> None:
    """At 100,000 services a service carries hundreds of goals: the text names three, whatever the size."""
    text = _recommendation("PRB001", s={"name": "X", "probability": 0.4, "effort": 3, "goal_ids": goals})
    assert carried in text


@pytest.mark.parametrize("needing, named", [
    ([], "of the services that need it a fallback"),
    (["a"], "of the services that need it (“A”) a fallback"),
    (["a", "b"], "of the services that need it (“A” and “B”) a fallback"),
    (["a", "b", "c"], "of the services that need it (“A”, “B” and “C”) a fallback"),
])
def test_a_fragile_prerequisite_names_the_active_services_that_need_it(needing, named) -> None:
    """The services that need it, in a sentence: commas, then "and" before the last; one that is not running,
    or that does not need it, is not named."""
    services = [{"id": i, "name": i.upper(), "status": "active", "needs": ["x"]} for i in needing]
    services += [{"id": "p", "name": "P", "status": "proposed", "needs": ["x"]},
                 {"id": "o", "name": "O", "status": "active", "needs": ["y"]}]
    text = _recommendation("DEP004", s={"key": "x", "name": "X"}, services=services)
    assert named in text


@pytest.mark.parametrize("quick, named", [
    (2, "(“Q0” or “Q1”), cut to what"),
    (3, "(“Q0”, “Q1” or “Q2”), cut to what"),
    (7, "(“Q0”, “Q1”, “Q2” or one of 4 others), cut to what"),
])
def test_a_client_without_quick_wins_is_offered_three_quick_services_by_name(quick, named) -> None:
    services = [{"id": f"q{i}", "name": f"Q{i}", "status": "active", "months": 2, "clients": ["other"]} for i in range(quick)]
    services += [{"id": "mine", "name": "Mine", "status": "active", "months": 1, "clients": ["fin"]},
                 {"id": "slow", "name": "Slow", "status": "active", "months": 9, "clients": ["other"]}]
    text = _recommendation("GOL003", c={"key": "fin", "name": "Finance"}, services=services)
    assert named in text and "Mine" not in text and "Slow" not in text


@pytest.mark.parametrize("mix, limit", [
    ({"age_months": 12, "short_max_months": 3}, "50%"),
    ({"age_months": 60, "short_max_months": 3}, "70%"),  # mature: the message's limit too
    ({"context": "thriving", "short_max_months": 3}, "70%"),
])
def test_the_long_term_share_is_brought_under_the_limit_the_message_names(mix, limit) -> None:
    assert f"Bring the long-term share under {limit}." in _recommendation("BAL003", mix=mix, params=_params("BAL003"))


@pytest.mark.parametrize("mix, limit", [({}, "back to 50% or less"), ({"mandate": "control"}, "back to 85% or less")])
def test_control_effort_is_brought_back_to_the_ceiling_that_applies(mix, limit) -> None:
    assert limit in _recommendation("HRM005", mix=mix, params=_params("HRM005"))


@pytest.mark.parametrize("services, expected, absent", [
    ([], "Give “Finance” one quick win: add a short-term service aimed at their first expectation.", ("or add", "phase")),
    ([{"id": "p", "name": "P", "status": "proposed", "months": 1, "clients": ["fin"]}],
     "Give “Finance” one quick win: start the proposed “P”, which already names them, or add a short-term service",
     ("phase",)),
    ([{"id": "q", "name": "Q", "status": "active", "months": 1, "clients": ["other"]},
      {"id": "p", "name": "P", "status": "proposed", "months": 1, "clients": ["fin"]}],
     "start the proposed “P”, which already names them, or extend one of the quick services you already run to them "
     "(“Q”), cut to what they ask for first, or add", ("phase",)),
])
def test_a_client_served_by_nothing_is_not_told_to_phase_its_services(services, expected, absent) -> None:
    text = _recommendation("GOL003", c={"key": "fin", "name": "Finance", "services": 0}, services=services)
    assert expected in text and not any(word in text for word in absent)
    served = _recommendation("GOL003", c={"key": "fin", "name": "Finance", "services": 2}, services=services)
    assert "Alternatively, phase one of their current services" in served
