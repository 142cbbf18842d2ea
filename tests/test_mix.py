"""The recommended mix (issue 9): levels decide hardness, the core is protected, effort resizes, no new
problems, context-consistent and honest additions, what-if scenarios; and (issue 14) a bounded number of
analyses per recommendation. Plus the JSON contract, infeasibility, organisation overrides and the
``implies`` blocks of the rule files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import highspy
import pytest
from typer.testing import CliRunner

import pmorules.analysis
import pmorules.counterfactual
from pmorules.diff import history_of
from pmorules.analysis import analyze, load_rules
from pmorules.cli import app
from pmorules.errors import InputError
from pmorules.measures import imposes
from pmorules.mix import recommend
from pmorules.mix.problem import approached_probability, implied_constraints, resized_probability
from pmorules.mix.scenarios import evaluate_scenario, from_options
from conftest import write_files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "knowledge" / "example"
AS_OF = dt.date(2026, 3, 20)


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def example():
    return recommend(analyze(EXAMPLE, AS_OF))


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[..., Path]:
    """A copy of the example whose pmorules.toml ends with ``extra`` (and with extra files)."""

    counter = iter(range(1000))

    def make(extra: str, files: dict[str, str] | None = None) -> Path:
        target = tmp_path / f"example{next(counter)}"
        shutil.copytree(EXAMPLE, target)
        config = target / "pmorules.toml"
        config.write_text(config.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
        for name, text in (files or {}).items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text, encoding="utf-8")
        return target

    return make


def _new(result) -> list[tuple[str, tuple[str, ...]]]:
    today = {(f.rule, tuple(f.subjects)) for f in result.before.findings}
    return [(f.rule, tuple(f.subjects)) for f in result.after.findings
            if f.level in ("error", "warning") and (f.rule, tuple(f.subjects)) not in today]


# --- the example -------------------------------------------------------------------------------


def test_example_removes_every_error_a_mix_can_remove_and_adds_no_new_problem(example) -> None:
    assert example.status == "optimal"
    assert [f.level for f in example.before.findings].count("error") == 3
    errors = [f for f in example.after.findings if f.level == "error"]
    # Only the goal that no candidate can serve in time is left (O05 within 3 months).
    assert [(f.rule, f.subjects) for f in errors] == [("GOL001", ["budget-ranking"])]
    assert [(u.goal, u.target) for u in example.unattainable] == [("budget-ranking", "O05")]
    assert example.to_json()["effort"] <= example.problem.capacity == 96
    assert _new(example) == [] and example.unavoidable == []
    assert example.after.counts()["warning"] < example.before.counts()["warning"]


def test_example_changes_have_reasons_from_the_findings_they_avoid(example) -> None:
    changes = {(c.kind, c.service.id): c for c in example.changes}
    reporting = changes[("changed", "reporting")]
    assert (reporting.before, reporting.after) == ("controlling", "supportive")  # the harm applies no more
    assert "HRM001" in {f.rule for f in reporting.prevents}
    # the erosion goes with the approach and also with the stronger sponsor forum: either alone avoids it, so
    # no single change is credited and it reads as the changes' joint doing
    assert "HRM002" in {f.rule for f in reporting.prevents} | {f.rule for f in example.together()}
    # the same service also grows: the harm is the approach's doing, not the resize's (by counterfactual: the mix
    # without the resize alone still avoids it); the quick share is raised by the resize, the drops and the
    # addition together, and the mix without any one of them still avoids BAL007: it is their joint doing
    resized = changes[("resized", "reporting")]
    assert not {"HRM001", "HRM002"} & {f.rule for f in resized.prevents}
    assert all(c.tested for c in example.changes)
    assert not any("BAL007" in {f.rule for f in c.prevents} for c in example.changes)
    assert "BAL007" in {f.rule for f in example.together()}
    assert "PRB002" in {f.rule for f in changes[("removed", "lessons")].prevents}  # p = 25%
    # capacity is today's effort and the drops free room only for assessed services: no option to assess
    added = [c for (kind, _), c in changes.items() if kind == "added"]
    assert all(c.prevents or c.goals for c in added) and not example.options
    # working services (no warning or error about them) stay: the culture programme and risk management
    assert not {("removed", "culture"), ("removed", "risk")} & set(changes)
    for change in example.changes:
        assert change.prevents or change.goals or change.frees or change.kind == "resized"
        assert change.reason()


def test_every_addition_is_honest_about_what_it_assumes(example_copy) -> None:
    # room to grow: today's capacity is full, and cuts never fund an option to assess
    example = recommend(analyze(example_copy("[mix]\ncapacity = 110\n"), AS_OF))
    data = example.to_json()
    added = data["added"] + data["options"]
    assert added
    for item in added:
        assert item["clients"] and set(item["clients"]) <= set(example.before.kb.clients)
        assert {"effort", "probability", "months_to_value", "clients"} <= set(item["assumed"])
        assert item["effort"] > 0 and 0 < item["probability"] <= 1 and item["months_to_value"] >= 0
    catalogue = next(c for c in example.problem.candidates.values() if c.origin == "catalogue")
    assert catalogue.assumed["effort"] == "[mix] candidate_effort" and not catalogue.assessed  # an option to assess
    assert catalogue.assumed["clients"] == "the clients of the goals it would serve"
    # A catalogue service that would serve none of the workspace's clients is not proposed.
    assert example.problem.excluded and all("no client" in why for why in example.problem.excluded.values())


def test_candidate_settings_set_the_assumptions_and_are_checked(example_copy) -> None:
    workspace = example_copy('[mix.candidates.S07]\neffort = 3\nprobability = 0.7\nmonths_to_value = 2\nclients = ["pm"]\n')
    result = recommend(analyze(workspace, AS_OF))
    s07 = result.problem.candidates["S07"]
    assert (s07.service.effort, s07.service.probability, s07.service.months_to_value, s07.service.clients) == (3, 0.7, 2, ("pm",))
    assert set(s07.assumed.values()) == {"[mix.candidates.S07]"}
    with pytest.raises(InputError) as info:
        recommend(analyze(example_copy('[mix.candidates.S11]\neffort = 3\n'), AS_OF))  # tools (S11) is offered, retired
    assert "pmorules.toml:" in str(info.value) and "S11" in str(info.value)
    with pytest.raises(InputError) as info:
        recommend(analyze(example_copy('[mix.candidates.S07]\nclients = ["nobody"]\n'), AS_OF))
    assert "unknown client 'nobody'" in str(info.value)
    run = cli("mix", str(example_copy('[mix.candidates.S07]\nefort = 3\n')), "--as-of", "2026-03-20")
    assert run.exit_code == 2 and "pmorules.toml:" in run.output and "efort" in run.output


def test_never_forbids_a_candidate(example_copy) -> None:
    result = recommend(analyze(example_copy('[mix]\nnever = ["S21", "portfolio"]\n'), AS_OF))
    assert "S21" not in result.mix and "portfolio" not in result.mix
    assert result.problem.excluded["S21"] == "[mix] never lists it"
    with pytest.raises(InputError) as info:
        recommend(analyze(example_copy('[mix]\nnever = ["reporting"]\n'), AS_OF))
    assert "pmorules.toml:" in str(info.value) and "running today" in str(info.value)


def test_json_contract(example) -> None:
    data = json.loads(json.dumps(example.to_json()))
    for key in ("status", "objective_text", "mix", "added", "removed", "changed", "resized", "shares", "adherence",
                "effort", "capacity", "core", "locked", "not_proposed", "unavoidable", "scenarios", "findings_after"):
        assert key in data
    assert data["status"] == "optimal"
    assert set(data["shares"]) == {"short", "medium", "long"}
    assert abs(sum(data["shares"].values()) - 1) < 1e-3
    for change in data["added"] + data["removed"] + data["changed"] + data["resized"]:
        assert change["reason"]
    assert {f["rule"] for f in data["findings_after"]} >= {"GOL001"}
    constraints = {c["rule"]: c for c in data["constraints"]}
    assert constraints["GOL001"]["hard"] and not constraints["BAL002"]["hard"]
    assert data["core"]["reporting"].startswith("the only service delivering")


def test_cli_json_text_explain_and_help() -> None:
    # A real process: the solver library must print nothing of its own on stdout.
    result = subprocess.run(
        [sys.executable, "-m", "pmorules", "mix", str(EXAMPLE), "--format", "json", "--as-of", "2026-03-20"],
        capture_output=True, text=True, check=True,
    )
    data = json.loads(result.stdout)
    assert data["status"] == "optimal" and data["capacity"] == 96
    text = cli("mix", str(EXAMPLE), "--as-of", "2026-03-20")
    assert text.exit_code == 0
    assert "Today" in text.stdout and "Recommended" in text.stdout and "lessons" in text.stdout
    assert "most likely to meet your goals" in text.stdout
    explain = cli("mix", str(EXAMPLE), "--as-of", "2026-03-20", "--explain")
    assert explain.exit_code == 0
    for words in ("What the optimiser maximises", "([mix] in pmorules.toml", "warning_cost = 0.05", "new_finding_factor", "must hold", "or [mix] capacity",
                  "costs when broken", "Protected", "elasticity"):
        assert words in explain.stdout
    opening = explain.stdout.split("What the optimiser maximises")[0]  # plain sentences come before the weights
    assert "It prefers changing how a service is delivered (2 points of overall goal coverage)" in opening
    assert "It never goes over the capacity, never keeps an error a mix can avoid and never drops the 6 protected" in opening
    assert "Each warning it keeps costs 5 points of overall goal coverage" in opening and "_cost" not in opening
    assert "most likely to meet" in " ".join(cli("mix", "--help").stdout.split())
    bigger = json.loads(cli("mix", str(EXAMPLE), "--format", "json", "--capacity", "104", "--as-of", "2026-03-20").stdout)
    assert bigger["capacity"] == 104 and bigger["effort"] <= 104


# --- levels decide hardness; the core is protected -----------------------------------------------

CORE_WS = """
    services:
      - {id: a, term: short, probability: 0.25, effort: 5, outcomes: [O01]}
      - {id: b, term: short, probability: 0.9, effort: 5, outcomes: [O02]}
      - {id: c, term: medium, probability: 0.7, effort: 5, outcomes: [O03]}
    goals:
      - {id: g1, outcomes: [O01], due_months: 12, priority: 1}
      - {id: g2, outcomes: [O02], due_months: 12, priority: 2}
      - {id: g3, outcomes: [O03], due_months: 12, priority: 1}
"""
CORE_CONFIG = "[mix]\ninclude_catalogue = false\nresize_steps = []\n"


def test_an_error_rule_forces_out_a_core_service_and_the_reason_says_so(make_ws) -> None:
    result = recommend(analyze(make_ws({"ws.yaml": CORE_WS, "pmorules.toml": CORE_CONFIG}), AS_OF))
    assert result.problem.candidates["a"].core.startswith("the only service delivering")
    removed = {c.service.id: c for c in result.of("removed")}
    assert "a" in removed and "PRB002" in removed["a"].forced and "core" in removed["a"].forced


def test_a_warning_is_a_cost_and_never_drops_the_core(make_ws) -> None:
    config = CORE_CONFIG + '[rules.PRB002]\nlevel = "warning"\n'
    result = recommend(analyze(make_ws({"ws.yaml": CORE_WS, "pmorules.toml": config}), AS_OF))
    prb002 = next(c for c in result.problem.constraints if c.rule == "PRB002")
    assert not prb002.hard and prb002.level == "warning"
    assert "a" in result.mix  # the only cover of g1: a warning is never silenced by destroying it
    assert "PRB002" in {f.rule for f in result.after.findings}


def test_the_only_work_towards_a_goal_stays_even_when_it_is_late(make_ws) -> None:
    """Dropping the one service working on a goal's target abandons that part of the goal: the PMO lead and
    the goal's owner decide that, not the optimiser, even when the service comes too late to count in time."""
    services = """
        services:
          - {id: fixes, term: medium, months_to_value: 4, probability: 0.45, effort: 5, outcomes: [O22]}
          - {id: quick, term: short, probability: 0.9, effort: 5, outcomes: [O26]}
        goals:
          - {id: data, outcomes: [O22], due_months: 2, priority: 2}
          - {id: view, outcomes: [O26], due_months: 3, priority: 1}
        """
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": CORE_CONFIG}), AS_OF))
    assert result.problem.candidates["fixes"].core.startswith("the only service working towards")
    assert "fixes" in result.mix
    assert "PRB001" in {f.rule for f in result.before.findings}  # a warning about it does not make it go


def test_keep_locks_a_service(make_ws) -> None:
    services = CORE_WS.replace("{id: c, term: medium, probability: 0.7, effort: 5, outcomes: [O03]}",
                               "{id: c, term: medium, probability: 0.7, effort: 5, outcomes: [O03]}\n"
                               "      - {id: d, term: long, probability: 0.2, effort: 5, keep: true}")
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": CORE_CONFIG}), AS_OF))
    # d is very unlikely (an error) and marked keep: no mix can hold it, and the answer says so.
    assert result.status == "infeasible" and ["keep"] in result.conflict.fixes
    assert "marked keep (d)" in result.conflict.text()


def test_top_priority_goals_protect_their_services(example) -> None:
    top = {f.key for f in example.before.facts.facts if f.type == "goal" and f.fields["priority_rank"] == 1}
    assert top == {"budget-ranking"}
    for cid, candidate in example.problem.candidates.items():
        if candidate.core:
            assert cid in example.mix, f"core service {cid} dropped: {candidate.core}"
    assert "governance" in example.problem.candidates and "a goal of top priority" in example.problem.candidates["governance"].core


# --- resizing ------------------------------------------------------------------------------------


def test_resizing_changes_probability_as_documented() -> None:
    assert resized_probability(0.25, 0.25, 1.0) == 0.302  # 1 - 0.75 ** 1.25
    assert resized_probability(0.8, -0.5, 1.0) == 0.553  # 1 - 0.2 ** 0.5
    assert resized_probability(0.8, 0.5, 0.0) == 0.8  # elasticity 0: effort does not move probability
    assert resized_probability(0.6, -1.0, 1.0) == 0.0


def test_effort_moves_from_one_service_to_another(make_ws) -> None:
    services = """
        services:
          - {id: dash, term: short, probability: 0.5, effort: 10, outcomes: [O26]}
          - {id: admin, term: short, probability: 0.9, effort: 10, outcomes: [O15]}
          - {id: backup, term: short, probability: 0.9, effort: 2, outcomes: [O15]}
        goals:
          - {id: g1, outcomes: [O26], due_months: 3, priority: 3}
          - {id: g2, outcomes: [O15], due_months: 3, priority: 1}
    """  # admin is not core: backup delivers g2's outcome in time too (a core service is never cut)
    config = "[mix]\ninclude_catalogue = false\nresize_steps = [-0.25, 0.25]\n"
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": config}), AS_OF))
    resized = {c.service.id: (c.before, c.after) for c in result.of("resized")}
    # issue 23, item 6: 25% of 10 is 2.5; without a headcount effort moves in whole points of capacity, the tie
    # to the smaller move
    assert resized == {"dash": (10, 12), "admin": (10, 8)}
    assert result.to_json()["effort"] == 22
    assert result.to_json()["people"]["step_percent"] == 1 and result.to_json()["people"]["capacity_fte"] is None


def test_effort_moves_in_quarter_ftes_and_shows_them(make_ws) -> None:
    """Issue 23, item 6: with a headcount of 8, a step is 0.25 FTE (3.125 of a capacity of 100); every size
    of every service is today's effort moved by whole steps, and the text shows FTE beside the percentage."""
    services = """
        organisation: {capacity_fte: 8}
        services:
          - {id: dash, term: short, probability: 0.5, effort: 35, outcomes: [O26]}
          - {id: admin, term: short, probability: 0.9, effort: 35, outcomes: [O15], running_months: 14}
          - {id: backup, term: short, probability: 0.9, effort: 5, outcomes: [O15]}
        goals:
          - {id: g1, outcomes: [O26], due_months: 3, priority: 3}
          - {id: g2, outcomes: [O15], due_months: 3, priority: 1}
    """
    config = "[mix]\ninclude_catalogue = false\nresize_steps = [-0.25, 0.25]\n"
    workspace = make_ws({"ws.yaml": services, "pmorules.toml": config})
    result = recommend(analyze(workspace, AS_OF))
    step = 100 * 0.25 / 8
    for candidate in result.problem.candidates.values():
        for size in candidate.sizes:
            moved = (size.service.effort - candidate.service.effort) / step
            assert abs(moved - round(moved)) < 1e-9 and (round(moved) != 0) == bool(size.step)
    # 25% of 35 is 8.75, 2.8 steps: 3 steps of 0.25 FTE, not 26.25
    assert {c.service.id: (c.before, c.after) for c in result.of("resized")} == {"dash": (35, 44.375),
                                                                               "admin": (35, 25.625)}
    run = cli("mix", str(workspace), "--as-of", "2026-03-20")
    text = " ".join(run.stdout.split())
    assert "effort 35% (2.8 FTE) -> 44.4% (3.55 FTE)" in text and "steps of 0.25 FTE" in text
    assert "26.25" not in text and "8.75" not in text
    data = result.to_json()
    assert data["people"]["step_fte"] == 0.25 and data["resized"][0]["to_people"]["fte"] is not None
    # issue 23, item 2: the cut says what it loses, the larger effort loses nothing
    cut = next(c for c in data["resized"] if c["service"] == "admin")
    assert cut["loses"]["running_months"] == 14 and cut["loses"]["probability_from"] == 0.9
    assert cut["loses"]["probability_to"] < 0.9 and cut["loses"]["goals"][0]["goal"] == "g2"
    assert cut["loses"]["goals"][0]["adherence"] > 0
    assert "loses" not in next(c for c in data["resized"] if c["service"] == "dash")
    assert "loses: a service running for 14 months; probability 90% -> 82%; 0.4 points of adherence to g2" in text  # backup still delivers


def test_every_drop_and_change_of_approach_says_what_it_loses(example) -> None:
    """Issue 23, item 2: a drop names the clients who lose the service, the probability that goes with it and
    the adherence its goals lose; a change of approach names who gets it another way."""
    removed = {c["service"]: c for c in example.to_json()["removed"]}
    resources = removed["resources"]["loses"]
    assert resources["clients"] == ["pm", "bu-sponsors"] and resources["probability_from"] == 0.45
    assert resources["probability_to"] is None
    assert [g["goal"] for g in resources["goals"]] == ["pm-bench"] and resources["goals"][0]["adherence"] > 0
    assert "no longer serves pm, bu-sponsors" in resources["text"] and "points of adherence to pm-bench" in resources["text"]
    changed = example.to_json()["changed"][0]
    moved = example.problem.settings.approach_change_probability  # issue 23, item 5: not free in probability either
    assert moved < 0 and changed["loses"]["probability_to"] == round(changed["loses"]["probability_from"] + moved, 3)
    assert "while its team and clients adjust to the new approach" in changed["loses"]["text"]
    assert "get it supportive instead of controlling" in changed["loses"]["text"]
    assert all(c.losses is None for c in example.of("added"))
    run = cli("mix", str(EXAMPLE), "--as-of", "2026-03-20")
    assert " ".join(run.stdout.split()).count("loses: ") == len(example.of("removed")) + len(example.of("changed")) + sum(
        c.after < c.before for c in example.of("resized"))


# --- no new problems -----------------------------------------------------------------------------

ORG_RULE = """
    - id: ORG003
      name: no-b
      title: We cannot run b
      category: balance
      level: warning
      match:
        - fact: service
          as: s
          where: [{field: key, op: eq, value: e}, {field: status, op: eq, value: active}]
      subjects: [s]
      message: b runs.
      why: Our charter.
      recommendation: Do not run it.
"""
SMALL = """
    services:
      - {id: a, term: short, probability: 0.9, effort: 5, outcomes: [O01]}
      - {id: b, term: short, probability: 0.9, effort: 5, outcomes: [O02]}
      - {id: c, term: medium, probability: 0.6, effort: 5, outcomes: [O03]}
      - {id: d, term: long, probability: 0.6, effort: 5, outcomes: [O04]}
      - {id: e, term: medium, probability: 0.7, effort: 5, status: proposed}
    goals:
      - {id: g1, outcomes: [O01], due_months: 3}
      - {id: g2, outcomes: [O02], due_months: 3}
      - {id: g3, outcomes: [O03], due_months: 12}
      - {id: g4, outcomes: [O04], due_months: 24}
"""
SMALL_CONFIG = "[mix]\ninclude_catalogue = false\ncapacity = 30\nresize_steps = []\n"


def test_a_new_finding_the_model_did_not_count_is_cut_off(make_ws) -> None:
    override = SMALL_CONFIG + "[rules.BAL005]\nparams = { max_short_share = 0.4 }\n"
    plain = recommend(analyze(make_ws({"ws.yaml": SMALL, "pmorules.toml": override}), AS_OF))
    assert "e" in plain.mix  # adding e avoids BAL005
    workspace = make_ws({"ws.yaml": SMALL, "pmorules.toml": override, "rules/org.yaml": ORG_RULE})
    result = recommend(analyze(workspace, AS_OF))
    assert "e" not in result.mix and result.rounds == 2  # the rulebook found ORG003 on the first optimum
    assert _new(result) == []


def test_context_moves_follow_the_rules(make_ws) -> None:
    """Approach changes go to [mix] approaches; an organisation rule that caps control in a crisis keeps
    control services out of the additions."""
    services = """
        organisation: {context: crisis, age_months: 30}
        services:
          - {id: gate, term: short, probability: 0.8, effort: 10, approach: controlling, tags: [control], outcomes: [O18]}
          - {id: help, term: short, probability: 0.7, effort: 10, approach: supportive, outcomes: [O26]}
          - {id: audit, term: short, probability: 0.9, effort: 5, status: proposed, tags: [control], outcomes: [O26]}
          - {id: coach, term: short, probability: 0.6, effort: 5, status: proposed, outcomes: [O26]}
        goals:
          - {id: g1, outcomes: [O26], due_months: 3, priority: 2}
          - {id: g2, outcomes: [O18], due_months: 3, priority: 1}
    """
    rule = """
        - id: CTXORG
          name: crisis-control
          title: Control in a crisis
          category: context
          level: warning
          params: {contexts: [crisis, decline], max_control: 0.5}
          match:
            - fact: mix
              where: [{field: context, op: in, param: contexts}, {field: control_share, op: gt, param: max_control}]
          implies: {kind: share_max, term: control, param: max_control}
          subjects: [mix]
          message: Too much control for a PMO in {{ mix.context }}.
          why: Trust is low.
          recommendation: Support, do not police.
    """
    config = "[mix]\ninclude_catalogue = false\ncapacity = 25\nresize_steps = []\n"
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": config, "rules/org.yaml": rule}), AS_OF))
    assert "audit" not in result.mix and "coach" in result.mix
    assert not [c for c in result.of("added") if imposes(c.service)]
    for change in result.of("changed"):
        assert change.after in result.problem.settings.approaches


# --- issue 14: explanations cost a bounded number of analyses -------------------------------------


def test_above_the_size_limit_avoids_falls_back_to_what_a_change_touches_named_so(monkeypatch) -> None:
    from pmorules import counterfactual

    monkeypatch.setattr(counterfactual, "LIMIT", 0)
    result = recommend(analyze(EXAMPLE, AS_OF))
    assert result.changes and not any(c.tested for c in result.changes)
    credited = [c for c in result.changes if c.prevents]
    assert credited and all("(not tested alone)" in c.reason() and "avoids" not in c.reason() for c in credited)
    assert "BAL007" in {f.rule for c in result.changes for f in c.prevents}  # the heuristic credits a change with it


def test_a_recommendation_costs_a_bounded_number_of_analyses(monkeypatch, example_copy) -> None:
    calls = []  # evaluations of the whole rulebook: an analysis, or a counterfactual's (fingerprints only)
    original = pmorules.analysis.build_findings
    monkeypatch.setattr(pmorules.analysis, "build_findings", lambda *a: calls.append(1) or original(*a))
    headlines = pmorules.counterfactual.headlines_of
    monkeypatch.setattr(pmorules.counterfactual, "headlines_of", lambda *a: calls.append(1) or headlines(*a))
    analysis = analyze(EXAMPLE, AS_OF)
    assert len(calls) == 1
    result = recommend(analysis)
    assert len(result.changes) >= 5
    assert result.rounds <= result.problem.settings.verify_rounds + 1
    assert len(calls) - 1 == result.rounds + len(result.changes)  # verifying rounds, then one per change (avoids)
    since = history_of(analysis).since.changes
    undone = sum(1 for c in since if c.fields or c.change != "changed")  # a rename alone has nothing to undo
    calls.clear()
    run = cli("report", str(EXAMPLE), "--as-of", "2026-03-20", "-f", "md")
    assert run.exit_code == 0
    reviews = len(analysis.config.config.history)  # the report also judges each past review once
    # the report analyses once, the mix verifies its optimum and undoes each change once, and "since the last
    # review" undoes each change since once
    assert len(calls) == 1 + reviews + result.rounds + len(result.changes) + undone


# --- infeasibility -------------------------------------------------------------------------------


def test_conflicting_bounds_are_explained(example_copy) -> None:
    workspace = example_copy('[rules.BAL003]\nlevel = "error"\nparams = { max_long_share = 0.05 }\n'
                             '[rules.BAL004]\nlevel = "error"\n')
    result = recommend(analyze(workspace, AS_OF))
    assert result.status == "infeasible"
    assert ["BAL003"] in result.conflict.fixes
    assert "BAL003" in result.conflict.text() and "5%" in result.conflict.text()
    data = result.to_json()
    assert data["status"] == "infeasible" and ["BAL003"] in data["conflict"]["fixes"]
    assert data["added"] == data["removed"] == data["changed"] == []
    run = cli("mix", str(workspace), "--as-of", "2026-03-20")
    assert run.exit_code == 0 and "Traceback" not in run.output
    assert "no recommended mix" in run.stdout


def test_too_little_capacity_names_the_capacity_needed() -> None:
    result = recommend(analyze(EXAMPLE, AS_OF), capacity=10)
    assert result.status == "infeasible"
    assert ["capacity"] in result.conflict.fixes
    assert result.conflict.min_capacity is not None and result.conflict.min_capacity > 10
    assert f"at least {result.conflict.min_capacity:g}" in result.conflict.text()


# --- organisations change the optimum through rules and config ---------------------------------


def test_a_param_override_moves_the_optimum(make_ws) -> None:
    default = recommend(analyze(make_ws({"ws.yaml": SMALL, "pmorules.toml": SMALL_CONFIG}), AS_OF))
    assert default.status == "optimal" and sorted(default.mix) == ["a", "b", "c", "d"]
    assert default.to_json()["shares"]["short"] == 0.5
    override = SMALL_CONFIG + "[rules.BAL005]\nparams = { max_short_share = 0.4 }\n"
    tighter = recommend(analyze(make_ws({"ws.yaml": SMALL, "pmorules.toml": override}), AS_OF))
    assert tighter.status == "optimal" and sorted(tighter.mix) == ["a", "b", "c", "d", "e"]
    assert tighter.to_json()["shares"]["short"] == 0.4
    bal005 = next(c for c in tighter.problem.constraints if c.rule == "BAL005")
    assert bal005.bound == 0.4 and "pmorules.toml" in bal005.origin
    assert [f.rule for f in tighter.of("added")[0].prevents] == ["BAL005"]


def test_the_engine_picks_the_threshold_that_applies_to_the_organisation(make_ws) -> None:
    young = recommend(analyze(make_ws({"ws.yaml": SMALL, "pmorules.toml": SMALL_CONFIG}), AS_OF))
    mature = recommend(analyze(make_ws({"ws.yaml": "organisation: {context: thriving}\n" + textwrap.dedent(SMALL),
                                        "pmorules.toml": SMALL_CONFIG}), AS_OF))
    rescue = recommend(analyze(make_ws({"ws.yaml": "organisation: {context: crisis, age_months: 3}\n" + textwrap.dedent(SMALL),
                                        "pmorules.toml": SMALL_CONFIG}), AS_OF))
    bound = {id(r): {c.rule: (c.bound, c.applies, c.or_none, c.strict) for c in r.problem.constraints}
             for r in (young, mature, rescue)}
    young, mature, rescue = id(young), id(mature), id(rescue)
    assert bound[young]["BAL003"][:2] == (0.5, True) and bound[mature]["BAL003"][:2] == (0.7, True)
    assert bound[young]["BAL002"] == (0.2, True, True, False) and bound[mature]["BAL002"][:2] == (0.1, True)
    assert bound[young]["BAL001"] == (0.0, True, False, True)  # nothing quick at all is the error
    # a young rescue team gets the lower capability floor, not an exemption
    assert bound[rescue]["BAL004"][:2] == (0.05, True) and bound[young]["BAL004"][:2] == (0.1, True)


def test_an_organisation_rule_constrains_the_mix_and_a_disabled_rule_does_not(make_ws) -> None:
    rule = """
        - id: ORG001
          name: little-long-term
          title: Too much long-term effort for us
          category: balance
          level: warning
          params: {max_long: 0.2}
          match:
            - fact: mix
              where: [{field: share_long, op: gt, param: max_long}]
          implies: {kind: share_max, term: long, param: max_long}
          subjects: [mix]
          message: Long-term share {{ mix.share_long | pct }}.
          why: Our charter.
          recommendation: Less long-term work.
    """
    config = SMALL_CONFIG + "[rules.BAL004]\nenabled = false\n"
    workspace = make_ws({"ws.yaml": SMALL, "pmorules.toml": config, "rules/org.yaml": rule})
    result = recommend(analyze(workspace, AS_OF))
    rules = {c.rule for c in result.problem.constraints}
    assert "ORG001" in rules and "BAL004" not in rules
    assert sorted(result.mix) == ["a", "b", "c", "d", "e"] and result.to_json()["shares"]["long"] == 0.2
    assert [f.rule for f in result.of("added")[0].prevents] == ["ORG001"]


def test_catalogue_candidates_can_be_switched_off(example_copy) -> None:
    result = recommend(analyze(example_copy("[mix]\ninclude_catalogue = false\n"), AS_OF))
    assert {c.origin for c in result.problem.candidates.values()} == {"active", "proposed"}
    assert "tools" not in result.problem.candidates  # retired: never a candidate


# --- the implies blocks ------------------------------------------------------------------------


def test_every_implies_block_of_the_default_rulebook_is_valid() -> None:
    _, book = load_rules(None)
    constraints = implied_constraints(book.enabled())
    kinds = {c.rule: c.kind for c in constraints}
    assert kinds == {
        "BAL001": "share_min", "BAL002": "share_min", "BAL003": "share_max", "BAL004": "share_min",
        "BAL005": "share_max", "BAL007": "share_min", "GOL001": "cover_in_time", "GOL003": "client_quick",
        "GOL005": "goal_adherence_min", "DEP001": "requires_prerequisites", "DEP003": "acyclic", "DEP004": "min_probability",
        "DEP005": "requires_prerequisites", "HRM001": "harm", "HRM002": "harm", "HRM003": "harm",
        "HRM005": "share_max", "PRB001": "min_probability", "PRB002": "min_probability", "PRB003": "quick_probability_min",
        "PRB004": "adherence_min",
    }
    for constraint in constraints:
        assert constraint.text()
        assert constraint.hard == (book.rules[constraint.rule].level == "error")
    assert cli("rules", "check").exit_code == 0


@pytest.mark.parametrize(
    ("implies", "message"),
    [
        ("{kind: share_max, term: short, param: nope}", "unknown param 'nope'"),
        ("{kind: share_most, term: short}", "does not match any of the expected tags"),
        ("{kind: share_max, term: short}", "exactly one of 'value' or 'param'"),
        ("{kind: harm, severity: [high]}", "severity"),
    ],
)
def test_a_bad_implies_block_is_a_located_input_error(make_ws, implies: str, message: str) -> None:
    rule = f"""
        - id: ORG002
          name: org-rule
          title: An organisation rule
          category: balance
          level: info
          params: {{limit: 0.5}}
          match:
            - fact: mix
              where: [{{field: share_short, op: gt, param: limit}}]
          implies: {implies}
          subjects: [mix]
          message: m
          why: w
          recommendation: r
    """
    workspace = make_ws({"ws.yaml": SMALL, "rules/org.yaml": rule})
    with pytest.raises(InputError) as info:
        analyze(workspace, AS_OF)
    assert message in str(info.value) and "rules/org.yaml:" in str(info.value)


def test_an_out_of_range_param_override_is_refused(example_copy) -> None:
    with pytest.raises(InputError) as info:
        recommend(analyze(example_copy("[rules.GOL001]\nparams = { min_p = 1.5 }\n"), AS_OF))
    assert "GOL001" in str(info.value) and "min_p" in str(info.value)


def test_an_overlay_moves_the_bound(make_ws) -> None:
    overlay = """
        - id: BAL005
          extends: BAL005
          level: error
          params: {max_short_share: {default: 0.4}}
    """
    workspace = make_ws({"ws.yaml": SMALL, "pmorules.toml": SMALL_CONFIG, "rules/bal005.yaml": overlay})
    result = recommend(analyze(workspace, AS_OF))
    bal005 = next(c for c in result.problem.constraints if c.rule == "BAL005")
    assert bal005.hard and bal005.bound == 0.4 and bal005.text() == "short-term share ≤ 40%"
    assert result.to_json()["shares"]["short"] <= 0.4


# --- what-if scenarios ---------------------------------------------------------------------------

SCENARIOS = """\
scenarios:
  - name: Keep resources
    description: The CIO asked to keep resource planning.
    drop: [lessons]
    approach: {reporting: supportive}
  - name: Add the dashboard
    add: [S07]
    drop: [lessons, resources]
    effort: {reporting: 10}
"""


def test_a_variant_from_the_command_line_is_evaluated(example) -> None:
    variant = from_options([], ["lessons"], ["S07"], ["reporting=supportive"], ["reporting=10"])
    found = evaluate_scenario(example.before, example.problem, example.unattainable, variant)
    kb = found.analysis.kb
    assert not kb.services["lessons"].active and kb.services["S07"].active
    assert kb.services["reporting"].approach == "supportive" and kb.services["reporting"].effort == 10
    moved = approached_probability(0.8, example.problem.settings.approach_change_probability)  # the change of approach
    assert moved == 0.75 and kb.services["reporting"].probability == resized_probability(moved, 10 / 12 - 1, 1.0)
    assert not found.feasible and found.problems[0] == (
        "its effort 96.2% (5.77 FTE) exceeds today's total effort (no capacity is stated), 96% (5.76 FTE)")
    run = cli("mix", str(EXAMPLE), "--as-of", "2026-03-20", "--drop", "lessons", "--approach", "reporting=supportive")
    assert run.exit_code == 0 and "your variant" in run.stdout and "Findings it resolves" in run.stdout
    data = json.loads(cli("mix", str(EXAMPLE), "--as-of", "2026-03-20", "--drop", "lessons", "--approach",
                          "reporting=supportive", "-f", "json").stdout)
    assert data["variant"]["feasible"] and "lessons" not in data["variant"]["mix"]
    alone = json.loads(cli("mix", str(EXAMPLE), "--as-of", "2026-03-20", "--drop", "lessons", "-f", "json").stdout)
    assert not alone["variant"]["feasible"] and "“Short-term service seriously harms long-term value”" in alone["variant"]["problems"][0]


def test_a_retired_service_added_back_runs_as_the_workspace_records_it(example) -> None:
    variant = from_options([], [], ["tools"], [], ["tools=0.5"])  # the legacy tool, retired in February 2026
    kb = evaluate_scenario(example.before, example.problem, example.unattainable, variant).analysis.kb
    recorded = example.before.kb.services["tools"]
    assert not recorded.active and kb.services["tools"].active
    assert (kb.services["tools"].effort, kb.services["tools"].probability) == (0.5, recorded.probability)
    run = cli("mix", str(EXAMPLE), "--as-of", "2026-03-20", "--add", "tools")
    assert run.exit_code == 0 and "your variant" in run.stdout


def test_scenarios_of_the_workspace_are_compared(example_copy) -> None:
    workspace = example_copy("", {"scenarios/board.yaml": SCENARIOS})
    result = recommend(analyze(workspace, AS_OF))
    assert [s.name for s in result.scenarios] == ["Keep resources", "Add the dashboard"]
    assert result.scenarios[0].feasible and not result.scenarios[1].feasible
    run = cli("mix", str(workspace), "--as-of", "2026-03-20", "--compare")
    assert run.exit_code == 0
    for words in ("Today", "Recommended", "Keep resources", "Add the dashboard", "Feasible"):
        assert words in run.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--drop", "lesons"], "--drop: unknown service 'lesons' (hint: did you mean 'lessons'?)"),
        (["--effort", "reporting=ten"], "--effort: 'ten' is not a number"),
        (["--approach", "reporting"], "--approach: 'reporting' is not SERVICE=VALUE"),
        (["--approach", "reporting=nice"], "--approach: reporting: should be"),
        (["--add", "reporting"], "--add: 'reporting' is running already"),
        (["--drop", "training", "--add", "Training"], "--add: 'training' is also listed under drop"),
    ],
)
def test_bad_variant_options_are_errors(args: list[str], expected: str) -> None:
    run = cli("mix", str(EXAMPLE), "--as-of", "2026-03-20", *args)
    assert run.exit_code == 2 and expected in run.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scenarios:\n  - name: x\n    dorp: [lessons]\n", "board.yaml:3:5: unknown key 'dorp' (hint: did you mean 'drop'?)"),
        ("scenarios:\n  - name: x\n    drop: [lesons]\n", "board.yaml:3:12: drop: unknown service 'lesons'"),
        ("scenarios:\n  - name: x\n    drop:\n      - training\n      - lesons\n", "board.yaml:5:9: drop: unknown service"),
        ("scenarios:\n  - name: x\n    effort:\n      reporting: 5\n      ghost: 3\n", "board.yaml:5:7: effort: unknown service 'ghost'"),
        ("scenarios:\n  - name: x\n  - name: x\n", "board.yaml:3:5: scenario 'x' is defined twice"),
        ("scenarios:\n  - name: x\n    effort: {reporting: -1}\n", "board.yaml:3:14: scenarios.effort.reporting: "),
    ],
)
def test_bad_scenario_files_are_located_errors(example_copy, text: str, expected: str) -> None:
    workspace = example_copy("", {"scenarios/board.yaml": text})
    run = cli("mix", str(workspace), "--as-of", "2026-03-20")
    assert run.exit_code == 2 and expected in run.output, run.output


def test_a_warning_in_place_of_a_resolved_error_says_so(make_ws) -> None:
    """Covering an uncovered goal with the only (weak) candidate turns its error into a warning: a step
    forward, and the recommendation says which error the new warning takes the place of."""
    services = """
        services:
          - {id: a, term: short, probability: 0.9, effort: 5, outcomes: [O26]}
          - {id: b, term: medium, probability: 0.55, effort: 5, outcomes: [O02], status: proposed}
        goals:
          - {id: view, outcomes: [O26], due_months: 3}
          - {id: plan, outcomes: [O02], due_months: 12}
        """
    config = CORE_CONFIG + "capacity = 20\n"
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": config}), AS_OF))
    assert ("GOL001", ["plan"]) in [(f.rule, f.subjects) for f in result.before.findings]
    assert "b" in result.mix
    stepped = [u for u in result.unavoidable if u.subjects == ("plan",)]
    assert [u.rule for u in stepped] == ["GOL005"]
    assert stepped[0].reason.startswith("it takes the place of GOL001 (error), which the mix resolves")



def test_a_milder_finding_of_the_same_family_is_no_new_problem_to_cut(make_ws) -> None:
    """A quick service for one of a goal's two outcomes turns "cannot be met by its date" (GOL002) into "not
    covered in time" (GOL001): both errors, the second milder (``family_rank``), and no mix covers the other
    outcome in time. The optimiser took the GOL001 for a problem it had created and cut each mix adding a quick
    service, round after round, then called it unavoidable because "cutting off every way ... leaves no mix"."""
    services = """
        services:
          - {id: a, term: long, probability: 0.9, effort: 5, outcomes: [O02]}
          - {id: b, term: short, probability: 0.9, effort: 5, outcomes: [O03], status: proposed}
          - {id: c, term: short, probability: 0.8, effort: 5, outcomes: [O03], status: proposed}
        goals:
          - {id: plan, outcomes: [O02, O03], due_months: 6}
        """
    config = CORE_CONFIG + "capacity = 20\n"
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": config}), AS_OF))
    assert ("GOL002", ["plan"]) in [(f.rule, f.subjects) for f in result.before.findings]
    assert result.mix == ["a", "b"] and result.rounds == 1  # was 3 rounds
    assert ("GOL001", ["plan"]) in [(f.rule, f.subjects) for f in result.after.findings]
    eased = [u for u in result.unavoidable if u.subjects == ("plan",)]
    assert [u.reason for u in eased] == [
        "it takes the place of GOL002 (error), which the mix resolves: the same problem, milder"]


def test_an_error_a_mix_avoids_is_never_eased(make_ws) -> None:
    """A cheap supporting service leaves the goal "not covered in time" where today it "cannot be met by its
    date": milder, but a primary service covers it, so the GOL001 breaks a hard condition some mix meets. The
    mix must be the one that covers the goal (it kept the cheap one, and called itself infeasible)."""
    services = """
        services:
          - {id: a, term: long, probability: 0.9, effort: 5, outcomes: [O03]}
          - {id: d, term: short, probability: 0.9, effort: 5, outcomes: [O05]}
          - {id: b, term: short, probability: 0.9, effort: 1, outcomes: [{id: O03, contribution: supporting}],
             status: proposed}
          - {id: c, term: short, probability: 0.9, effort: 5, outcomes: [O03], status: proposed}
        goals:
          - {id: plan, outcomes: [O03], due_months: 6, priority: 1}
          - {id: view, outcomes: [O05], due_months: 6, priority: 3}
        """
    config = CORE_CONFIG + "capacity = 20\n"
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": config}), AS_OF))
    assert "c" in result.mix and "GOL001" not in [f.rule for f in result.after.findings]
    from pmorules.mix.recommend import comparison

    recommended = comparison(result, [])[1]
    assert recommended["feasible"], recommended["problems"]

def test_every_column_of_a_comparison_is_judged_by_the_same_hard_conditions(example) -> None:
    """Issue 23, item 8: today, the recommendation and a scenario are feasible by one test. A variant that
    changes nothing has today's errors, so it is exactly as (in)feasible as today, with the same problems."""
    from pmorules.mix.recommend import comparison
    from pmorules.mix.scenarios import hard_problems

    today_errors = [f for f in example.before.findings if f.level == "error"]
    assert today_errors  # the example has errors today that a mix can avoid
    same = evaluate_scenario(example.before, example.problem, example.unattainable,
                             from_options(["reporting"], [], [], [], []))
    columns = {c["name"]: c for c in comparison(example, [same])}
    assert not columns["Today"]["feasible"] and columns["Today"]["problems"] == same.problems
    assert not columns["your variant"]["feasible"]
    assert any(f"“{f.title}”" in p for f in today_errors for p in columns["Today"]["problems"])
    assert not any(f.rule in p for f in today_errors for p in columns["Today"]["problems"])  # words, not codes
    assert columns["Recommended"]["feasible"] and columns["Recommended"]["problems"] == []
    assert hard_problems(example.problem, example.unattainable, example.after) == []
    run = cli("mix", str(EXAMPLE), "--as-of", "2026-03-20", "--compare", "--keep", "reporting")
    assert run.exit_code == 0
    assert "Today: not feasible: it raises the error" in " ".join(run.stdout.split())
    assert "your variant: not feasible: it raises the error" in " ".join(run.stdout.split())


GOOD_NEWS = """
    clients:
      - {id: c1}
    services:
      - {id: q, term: short, probability: 0.9, effort: 10, outcomes: [O26], approach: directive, clients: [c1],
         harms: [{target: c1, severity: medium, mitigated_by: [m]}]}
      - {id: m, term: short, probability: 0.1, effort: 10, running_months: 24, clients: [c1]}
      - {id: l, term: long, probability: 0.7, effort: 10, outcomes: [O15], clients: [c1]}
    goals:
      - {id: g1, outcomes: [O26], due_months: 3, client: c1}
      - {id: g2, outcomes: [O15], due_months: 24, client: c1}
"""


def test_good_news_is_no_cost_and_losing_it_is_a_loss(make_ws) -> None:
    """Issue 23, item 4: a rule file marks a finding as good news (HRM008, a harm held in check by a mitigator
    that already delivers): it is never a condition or a cost of the optimiser, even with an implies block,
    never something a change "avoids"; the change that makes it go (dropping the mitigator, which PRB002
    forces out) lists it among what it loses."""
    config = "[mix]\ninclude_catalogue = false\n"
    costed = "- id: HRM008\n  extends: HRM008\n  implies: {kind: harm}\n"
    workspace = make_ws({"ws.yaml": GOOD_NEWS, "pmorules.toml": config, "rules/hrm008.yaml": costed})
    analysis = analyze(workspace, AS_OF)
    assert analysis.rulebook.rules["HRM008"].spec.good_news
    assert any(f.rule == "HRM008" for f in analysis.findings)
    result = recommend(analysis)
    assert "HRM008" not in {c.rule for c in result.problem.constraints}  # no cost, even with an implies block
    assert "HRM008" in implied_constraints([analysis.rulebook.rules["HRM008"].__class__(
        **{**vars(analysis.rulebook.rules["HRM008"]), "spec": analysis.rulebook.rules["HRM008"].spec.model_copy(
            update={"good_news": False})})])[0].rule  # without the mark, the same block would be a cost
    dropped = next(c for c in result.of("removed") if c.service.id == "m")
    assert [f.rule for f in dropped.losses.good_news] == ["HRM008"]
    assert all(f.rule != "HRM008" for c in result.changes for f in c.prevents)
    data = next(c for c in result.to_json()["removed"] if c["service"] == "m")
    assert data["loses"]["good_news"][0]["rule"] == "HRM008" and "no longer HRM008" in data["loses"]["text"]


# --- issue 23: a mix a PMO lead can defend -------------------------------------------------------------


TWO_CLIENTS = """
    clients:
      - {id: c1, weight: 1.0}
      - {id: c2, weight: 1.0}
    services:
      - {id: s1, term: short, probability: 0.8, effort: 10, outcomes: [O26], clients: [c1], running_months: 6}
      - {id: s2, term: long, probability: 0.8, effort: 10, outcomes: [O15], clients: [c2], running_months: 6}
    goals:
      - {id: g1, outcomes: [O26], due_months: 3, priority: 2, client: c1}
      - {id: g2, outcomes: [O15], due_months: 24, priority: 2, client: c2}
"""


def test_a_quick_service_is_extended_to_a_client_without_a_quick_win(make_ws) -> None:
    """Item 7: c2 gets nothing quick; one more point of effort extends s1 to it, no new service needed."""
    workspace = make_ws({"ws.yaml": TWO_CLIENTS, "pmorules.toml": "[mix]\ninclude_catalogue = false\ncapacity = 21\n"})
    result = recommend(analyze(workspace, AS_OF))
    [extended] = result.of("extended")
    assert (extended.service.id, extended.extends_to, extended.before, extended.after) == ("s1", ("c2",), 10, 11)
    assert extended.service.probability == 0.8 and "c2" in result.after.kb.services["s1"].clients
    assert "GOL003" in {f.rule for f in extended.prevents} and not result.of("added")
    assert result.to_json()["extended"][0]["clients"] == ["c2"]
    run = cli("mix", str(workspace), "--as-of", "2026-03-20")
    assert "> s1 (s1): extended to c2, effort 10% -> 11%" in run.stdout and "gives c2 a quick win" in run.stdout


OPTION_WS = """
    services:
      - {id: a, term: short, probability: 0.7, effort: 10, outcomes: [O26], running_months: 6}
      - {id: b, term: short, probability: 0.7, effort: 10, outcomes: [O26], running_months: 6}
      - {id: guess, status: proposed, term: short, effort: 5, outcomes: [O15]}
    goals:
      - {id: g1, outcomes: [O26], due_months: 3, priority: 1}
      - {id: g2, outcomes: [O15], due_months: 6, priority: 3}
"""


def test_an_option_to_assess_is_never_funded_by_a_cut(make_ws) -> None:
    """Item 1: `guess` has no probability of its own: an option to assess. With today's effort as the capacity it
    could only come in by cutting a or b, which it may not; the error only it could fix stays, as a cost."""
    config = ("[rules.GOL005]\nparams = { target_adherence = 0.5 }\n"  # guess at 60% would put g2 at risk
              "[mix]\ninclude_catalogue = false\nresize_steps = [-0.5]\n")
    result = recommend(analyze(make_ws({"ws.yaml": OPTION_WS, "pmorules.toml": config}), AS_OF))
    assert not result.problem.candidates["guess"].assessed
    assert result.status == "optimal" and "guess" not in result.mix
    assert all(result.after.kb.services[s].effort == 10 for s in ("a", "b"))
    assert ("GOL001", ["g2"]) in [(f.rule, f.subjects) for f in result.after.findings]
    # with room to spare it is taken, and shown apart: an option worth assessing, not a decision
    workspace = make_ws({"ws.yaml": OPTION_WS, "pmorules.toml": config + "capacity = 25\n"})
    result = recommend(analyze(workspace, AS_OF))
    assert [c.service.id for c in result.options] == ["guess"] and not result.of("added")
    data = result.to_json()
    assert [o["service"] for o in data["options"]] == ["guess"] and data["added"] == []
    assert data["options"][0]["assumed"]["probability"] == "the default"
    assert all(result.after.kb.services[s].effort == 10 for s in ("a", "b"))
    text = " ".join(cli("mix", str(workspace), "--as-of", "2026-03-20").stdout.split())
    assert "Options worth assessing" in text and "? guess (guess) [proposed]" in text
    assert "No change to today's services" in text
    # stated figures make it an assessed addition
    assessed = OPTION_WS.replace("effort: 5, outcomes: [O15]", "effort: 5, probability: 0.6, outcomes: [O15]")
    result = recommend(analyze(make_ws({"ws.yaml": assessed, "pmorules.toml": config + "capacity = 25\n"}), AS_OF))
    assert [c.service.id for c in result.of("added")] == ["guess"] and not result.options


def test_core_services_alone_over_the_capacity_are_not_chosen_between(make_ws) -> None:
    """Item 3: both services are core (each the only one delivering its goal in time); 15 cannot hold their 20,
    and the mix says so rather than cutting or dropping one."""
    services = """
        services:
          - {id: a, term: short, probability: 0.7, effort: 10, outcomes: [O26]}
          - {id: b, term: short, probability: 0.7, effort: 10, outcomes: [O15]}
        goals:
          - {id: g1, outcomes: [O26], due_months: 3, priority: 2}
          - {id: g2, outcomes: [O15], due_months: 3, priority: 1}
    """
    config = "[mix]\ninclude_catalogue = false\ncapacity = 15\n"
    result = recommend(analyze(make_ws({"ws.yaml": services, "pmorules.toml": config}), AS_OF))
    assert {c for c, cand in result.problem.candidates.items() if cand.core} == {"a", "b"}
    assert result.status == "infeasible"
    assert "(a, b) alone need 20 of effort, more than the capacity 15" in result.conflict.text()


def test_a_mandated_service_is_core_and_keeps_its_approach(make_ws) -> None:
    """Item 5: mandated: true on the funding gate; the same service without it may move to another approach."""
    services = """
        services:
          - {id: gate, term: short, probability: 0.7, effort: 10, outcomes: [O26], approach: controlling, mandated: true}
          - {id: pack, term: short, probability: 0.7, effort: 10, outcomes: [O26], approach: controlling}
          - {id: plan, term: short, probability: 0.7, effort: 10, outcomes: [O15]}
        goals:
          - {id: g1, outcomes: [O26], due_months: 3, priority: 1}
          - {id: g2, outcomes: [O15], due_months: 3, priority: 3}
    """
    result = recommend(analyze(make_ws({"ws.yaml": services}), AS_OF))
    gate, pack = result.problem.candidates["gate"], result.problem.candidates["pack"]
    assert gate.approaches == ("controlling",) and "mandated" in gate.core
    assert len(pack.approaches) > 1 and not pack.core
    assert result.after.kb.services["gate"].approach == "controlling"
    assert result.after.kb.services["gate"].effort >= 10


def test_numbers_the_solver_cannot_hold_are_located_errors(example_copy) -> None:
    workspace = example_copy("[mix]\ncandidate_effort = 1e15\npercent_step = 1e15\n[mix.candidates.S07]\neffort = 1e15\n")
    run = cli("mix", str(workspace), "--as-of", "2026-03-20")
    assert run.exit_code == 2 and "Traceback" not in run.output
    for key in ("mix.candidate_effort", "mix.percent_step", "mix.candidates.S07.effort"):
        assert "pmorules.toml:" in run.output and f"{key}: should be less than or equal to" in run.output
    tiny = example_copy("")
    organisation = tiny / "organisation.yaml"
    organisation.write_text(organisation.read_text(encoding="utf-8").replace("capacity_fte: 6", "capacity_fte: 1.0e-15"),
                            encoding="utf-8")
    for command in (["mix"], ["report", "-o", str(tiny / "out.html")]):
        run = cli(*command[:1], str(tiny), "--as-of", "2026-03-20", *command[1:])
        assert run.exit_code == 2 and "mix.fte_step: a step of 0.25 FTE is more than the PMO's whole headcount " \
                                      "(organisation.capacity_fte: 1e-15 FTE)" in run.output
    assert not (tiny / "out.html").exists()


def test_a_program_the_solver_refuses_is_a_located_error_not_a_crash(example, monkeypatch) -> None:
    monkeypatch.setattr(highspy._Highs, "passModel", lambda self, lp: highspy.HighsStatus.kError)
    with pytest.raises(InputError) as caught:
        recommend(example.before)
    problem, = caught.value.diagnostics
    assert str(problem.location).endswith("pmorules.toml") and "the mix cannot be worked out" in problem.message


HARMED = """\
organisation: {name: Harmed PMO, assessed_on: 2026-03-20, founded: 2024-05-01, capacity_fte: 5, capacity: 100}
clients:
  - {id: exec, name: Executive committee, weight: 1.0}
  - {id: pm, name: Project managers, weight: 0.7}
services:
  - id: status
    name: Weekly status pack
    catalogue: S16
    probability: 0.8
    effort: 25
    approach: controlling
    clients: [exec]
    harms:
      - {target: coaching, severity: high, reason: PMs spend coaching time filling the pack}
  - {id: coaching, name: PM coaching, catalogue: S18, probability: 0.7, effort: 20, approach: supportive, clients: [pm]}
  - {id: training, name: PM training, catalogue: S17, probability: 0.7, effort: 20, approach: supportive, clients: [pm]}
goals:
  - {id: G1, name: Executive visibility of all projects, outcomes: [O26], due: 2026-06-30, client: exec}
  - {id: G3, name: Skilled project managers, outcomes: [O07], due: 2027-06-30, client: pm}
"""


def test_a_harm_is_resolved_at_its_source_never_by_dropping_the_service_it_hurts(tmp_path: Path) -> None:
    today = analyze(write_files(tmp_path / "ws", {"pmo.yaml": HARMED}), AS_OF)
    assert any(f.rule == "HRM001" and f.subjects == ["status"] for f in today.findings)
    result = recommend(today)
    running = {sid for sid, s in result.after.kb.services.items() if s.active}
    assert "coaching" in running  # the long-term service the harm protects stays
    assert not any(f.rule == "HRM001" for f in result.after.findings)  # resolved at the quick win instead


DORMANT = """\
organisation:
  name: Dormant PMO
  assessed_on: 2026-03-20
  founded: 2024-01-15
  context: resurgence
  capacity_fte: 3
  capacity: 100
  reviews:
    - {date: 2026-06-22, name: Restart review}
clients:
  - {id: exec, name: Executive committee, weight: 1.0}
  - {id: pm, name: Project managers, weight: 0.7}
services:
  - id: reporting
    catalogue: S16
    status: retired
    probability: 0.7
    effort: 30
    clients: [exec]
  - id: audits
    catalogue: S13
    status: retired
    probability: 0.5
    effort: 30
    clients: [exec]
  - id: tools
    catalogue: S11
    status: proposed
    probability: 0.8
    effort: 30
    clients: [pm, exec]
  - id: coaching
    catalogue: S18
    status: proposed
    probability: 0.7
    effort: 30
    clients: [pm]
goals:
  - {id: G1, name: Executive visibility of all projects, outcomes: [O26], due: 2026-09-30, client: exec}
  - {id: G2, name: Better project managers, outcomes: [O01], due: 2027-06-30, client: pm}
"""


def test_an_addition_the_mix_resizes_says_so_and_from_what(tmp_path: Path) -> None:
    result = recommend(analyze(write_files(tmp_path / "ws", {"pmo.yaml": DORMANT}), AS_OF))
    tools = next(c for c in result.changes if c.kind == "added" and c.service.id == "tools")
    assert tools.service.effort != 30  # the mix chose another size than the workspace's
    assert tools.assumed["effort"] == "resized by the mix from 30% (0.9 FTE), as given by the workspace"
    assert tools.assumed["probability"] == "resized by the mix from 80%, as given by the workspace"
    coaching = next(c for c in result.changes if c.kind == "added" and c.service.id == "coaching")
    assert "effort" not in coaching.assumed or not coaching.assumed["effort"].startswith("resized")


def test_a_resize_beside_a_change_of_approach_starts_from_the_new_approach_and_says_what_it_keeps_away() -> None:
    """New Zealand's method compliance moves from directive to supportive (its probability 50% → 45% while people
    adjust) and is resized: the resize starts from 45%, not 50%, and its reason is the warning it keeps away (the
    service would be unlikely to deliver), not "no effect on findings or goals"."""
    case = Path(__file__).resolve().parent / "cases" / "nz-msd-pmo-disbanded-2005" / "ws"
    result = recommend(analyze(case))
    resize = next(c for c in result.changes if c.service.id == "method-compliance" and c.kind == "resized")
    assert resize.probability_before == pytest.approx(0.45)
    assert ("PRB001", "warning", "Service unlikely to deliver") in resize.keeps_away
    assert resize.reason().startswith("keeps away PRB001 (warning) Service unlikely to deliver")
    data = next(c for c in result.to_json()["resized"] if c["service"] == "method-compliance")
    assert data["probability_from"] == pytest.approx(0.45) and data["keeps_away"][0]["rule"] == "PRB001"
