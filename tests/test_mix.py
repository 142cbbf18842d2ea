"""The recommended mix: the example, the JSON contract, infeasibility, organisation overrides,
and the ``implies`` blocks of the rule files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.analysis import analyze, load_rules
from pmorules.cli import app
from pmorules.errors import InputError
from pmorules.mix import recommend
from pmorules.mix.problem import implied_constraints

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "knowledge" / "example"
AS_OF = dt.date(2026, 11, 25)


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def example():
    return recommend(analyze(EXAMPLE, AS_OF))


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """A copy of the example whose pmorules.toml ends with ``extra``."""

    counter = iter(range(1000))

    def make(extra: str) -> Path:
        target = tmp_path / f"example{next(counter)}"
        shutil.copytree(EXAMPLE, target)
        config = target / "pmorules.toml"
        config.write_text(config.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
        return target

    return make


# --- the example -------------------------------------------------------------------------------


def test_example_removes_every_error_a_mix_can_remove(example) -> None:
    assert example.status == "optimal"
    assert [f.level for f in example.before.findings].count("error") == 3
    errors = [f for f in example.after.findings if f.level == "error"]
    # Only the goal that no candidate can serve in time is left (O05 within 3 months).
    assert [(f.rule, f.subjects) for f in errors] == [("GOL001", ["budget-ranking"])]
    assert [(u.goal, u.target) for u in example.unattainable] == [("budget-ranking", "O05")]
    assert example.to_json()["effort"] <= example.problem.capacity == 96


def test_example_changes_have_reasons_from_the_findings_they_avoid(example) -> None:
    changes = {(c.kind, c.service.id): c for c in example.changes}
    assert set(changes) == {
        ("changed", "reporting"), ("removed", "lessons"), ("removed", "resources"), ("added", "portfolio"),
    }
    reporting = changes[("changed", "reporting")]
    assert (reporting.before, reporting.after) == ("controlling", "supportive")  # the harm applies no more
    assert {"HRM001", "HRM003"} <= {f.rule for f in reporting.prevents}
    assert "PRB002" in {f.rule for f in changes[("removed", "lessons")].prevents}  # p = 25%
    assert "DEP001" in {f.rule for f in changes[("added", "portfolio")].prevents}  # benefits needs it
    assert changes[("removed", "resources")].frees == 6  # room for portfolio within the capacity of 96
    for change in example.changes:
        assert change.prevents or change.goals or change.frees
        assert change.reason()


def test_more_capacity_keeps_resource_planning(example_copy) -> None:
    result = recommend(analyze(example_copy(""), AS_OF), capacity=104)
    assert {(c.kind, c.service.id) for c in result.changes} == {
        ("changed", "reporting"), ("removed", "lessons"), ("added", "portfolio"),
    }
    assert "resources" in result.mix and result.to_json()["effort"] == 102


def test_json_contract(example) -> None:
    data = json.loads(json.dumps(example.to_json()))
    for key in ("status", "mix", "added", "removed", "changed", "shares", "adherence", "effort", "capacity", "findings_after"):
        assert key in data
    assert data["status"] == "optimal"
    assert set(data["shares"]) == {"short", "medium", "long"}
    assert abs(sum(data["shares"].values()) - 1) < 1e-3
    for change in data["added"] + data["removed"] + data["changed"]:
        assert change["reason"]
    assert {f["rule"] for f in data["findings_after"]} >= {"GOL001"}
    assert all({"rule", "level", "subjects", "message"} <= set(f) for f in data["findings_after"])
    assert {c["rule"] for c in data["constraints"]} >= {"BAL001", "BAL005", "GOL001", "DEP001", "HRM001", "HRM003"}


def test_cli_json_and_text() -> None:
    # A real process: the solver library must print nothing of its own on stdout.
    result = subprocess.run(
        [sys.executable, "-m", "pmorules", "mix", str(EXAMPLE), "--format", "json", "--as-of", "2026-11-25"],
        capture_output=True, text=True, check=True,
    )
    data = json.loads(result.stdout)
    assert data["status"] == "optimal" and data["capacity"] == 96
    text = cli("mix", str(EXAMPLE), "--as-of", "2026-11-25")
    assert text.exit_code == 0
    assert "Today" in text.stdout and "Recommended" in text.stdout and "lessons" in text.stdout
    bigger = json.loads(cli("mix", str(EXAMPLE), "--format", "json", "--capacity", "104", "--as-of", "2026-11-25").stdout)
    assert bigger["capacity"] == 104 and "resources" in bigger["mix"]


# --- infeasibility ---------------------------------------------------------------------------


def test_conflicting_bounds_are_explained(example_copy) -> None:
    workspace = example_copy("[rules.BAL005]\nparams = { max_short_share = 0.1 }\n")
    result = recommend(analyze(workspace, AS_OF))
    assert result.status == "infeasible"
    fixes = result.conflict.fixes
    # Two goals due in 3 months need short-term services, so only the 10% cap can give way.
    assert fixes == [["BAL005"]]
    assert "BAL005" in result.conflict.text() and "10%" in result.conflict.text()
    data = result.to_json()
    assert data["status"] == "infeasible" and data["conflict"]["fixes"] == fixes
    assert data["added"] == data["removed"] == data["changed"] == []
    run = cli("mix", str(workspace), "--as-of", "2026-11-25")
    assert run.exit_code == 0 and "Traceback" not in run.output
    assert "no recommended mix" in run.stdout


def test_too_little_capacity_names_the_capacity_needed() -> None:
    result = recommend(analyze(EXAMPLE, AS_OF), capacity=10)
    assert result.status == "infeasible"
    assert ["capacity"] in result.conflict.fixes
    assert result.conflict.min_capacity is not None and result.conflict.min_capacity > 10
    assert f"at least {result.conflict.min_capacity:g}" in result.conflict.text()


# --- organisations change the optimum through rules and config ---------------------------------

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
SMALL_CONFIG = "[mix]\ninclude_catalogue = false\ncapacity = 30\n"


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


def test_settings_set_candidate_efforts_and_refuse_unknown_ids(example_copy) -> None:
    result = recommend(analyze(example_copy("[mix.efforts]\nS07 = 3\nportfolio = 6\n"), AS_OF))
    assert result.problem.candidates["S07"].service.effort == 3
    assert result.problem.candidates["portfolio"].service.effort == 6
    with pytest.raises(InputError) as info:
        recommend(analyze(example_copy("[mix.efforts]\nS11 = 3\n"), AS_OF))  # tools (S11) is offered, retired
    assert "pmorules.toml" in str(info.value) and "S11" in str(info.value)


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
        "BAL005": "share_max", "GOL001": "cover_in_time", "DEP001": "requires_prerequisites",
        "DEP003": "acyclic", "HRM001": "harm_inactive", "HRM003": "harm_mitigated", "PRB002": "min_probability",
    }
    for constraint in constraints:
        assert constraint.text()
        param = getattr(constraint.spec, "param", None)
        if param is not None:
            assert constraint.bound == book.rules[constraint.rule].params[param]
    assert cli("rules", "check").exit_code == 0


@pytest.mark.parametrize(
    ("implies", "message"),
    [
        ("{kind: share_max, term: short, param: nope}", "unknown param 'nope'"),
        ("{kind: share_most, term: short}", "does not match any of the expected tags"),
        ("{kind: share_max, term: short}", "exactly one of 'value' or 'param'"),
        ("{kind: harm_inactive, severity: [dire]}", "severity"),
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


def test_an_overlay_can_change_what_a_rule_implies(make_ws) -> None:
    overlay = """
        - id: BAL005
          extends: BAL005
          params: {max_short_share: {default: 0.4}}
          implies: {kind: share_max, term: short, param: max_short_share, strict: true}
    """
    workspace = make_ws({"ws.yaml": SMALL, "pmorules.toml": SMALL_CONFIG, "rules/bal005.yaml": overlay})
    result = recommend(analyze(workspace, AS_OF))
    bal005 = next(c for c in result.problem.constraints if c.rule == "BAL005")
    assert bal005.spec.strict and bal005.bound == 0.4 and bal005.text() == "short-term share < 40%"
    # 10 of 25 is exactly 40%, not below it: nothing fits the capacity of 30 any more.
    assert result.status == "infeasible" and ["BAL005"] in result.conflict.fixes
