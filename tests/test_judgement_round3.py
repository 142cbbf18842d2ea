"""Judgement, round three, through the command line: context calibrates, assumptions are not evidence, one
verdict per goal and one finding per harm, and a catalogue pattern is a risk to watch until a sign shows."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.cli import app

AS_OF = "2026-03-20"


def judged(tmp_path: Path, text: str) -> dict:
    """`pmorules analyze WS --format json` of a one-file workspace."""
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    (workspace / "pmo.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(workspace), "--format", "json", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fired(data: dict, rule: str) -> list[dict]:
    return [f for f in data["findings"] if f["rule"] == rule]


RESCUE = """
    organisation: {{name: Recovery office, age_months: 1, context: crisis}}
    clients: [{{id: board, weight: 1}}]
    services:
      - {{id: rescue, catalogue: X01, probability: 0.8, effort: {fire}, approach: supportive, clients: [board]}}
      - {{id: reporting, catalogue: S16, probability: 0.8, effort: {rest}, approach: supportive, clients: [board]}}
"""


def test_a_rescue_team_with_nothing_lasting_hears_it_in_rescue_words(tmp_path: Path) -> None:
    data = judged(tmp_path, RESCUE.format(fire=34, rest=66))
    [capability] = fired(data, "BAL004")
    assert "even for a rescue team 1 month into a crisis" in capability["message"]
    assert "plan what follows the recovery" in capability["recommendation"]
    assert fired(data, "HRM007") == []  # a third on fires is a rescue team's job
    assert "rescue team" in fired(judged(tmp_path, RESCUE.format(fire=70, rest=30)), "HRM007")[0]["message"]


def test_a_triage_service_late_only_by_the_catalogue_time_puts_the_goal_at_risk(tmp_path: Path) -> None:
    base = """
        clients: [{id: cfo, weight: 1}]
        services:
          - {id: triage, catalogue: X01, months_to_value: 1, probability: 0.9, effort: 50, approach: supportive, clients: [cfo]}
        goals:
          - {id: success, outcomes: [O21], due_months: 3, client: cfo}
    """
    assumed = judged(tmp_path, base)
    assert fired(assumed, "GOL001") == [] and [f["subjects"] for f in fired(assumed, "GOL007")] == [["success"]]
    assert "usually perceived only 9 months after a service starts" in fired(assumed, "GOL007")[0]["message"]
    assert assumed["goals"][0]["verdict"] == "at risk"
    slow = judged(tmp_path, base.replace("months_to_value: 1", "months_to_value: 5"))  # the service itself is late
    assert [f["subjects"] for f in fired(slow, "GOL002")] == [["success"]] and fired(slow, "GOL007") == []
    assert slow["goals"][0]["verdict"] == "cannot be met by its date" and slow["goals"][0]["status"] == "red"
    stated = judged(tmp_path, base.replace("months_to_value: 1,", "months_to_value: 1, outcomes: [{id: O21, months: 2}],"))
    assert fired(stated, "GOL001") == fired(stated, "GOL007") == []


CONTROL = """
    organisation: {{name: Assurance authority{mandate}}}
    clients: [{{id: ministers, weight: 1}}]
    services:
      - {{id: reviews, catalogue: S13, probability: 0.8, effort: 70, approach: controlling, clients: [ministers]}}
      - {{id: data, catalogue: S16, probability: 0.8, effort: 30, approach: supportive, clients: [ministers]}}
"""


def test_control_that_is_the_mandate_is_weighed_not_flagged(tmp_path: Path) -> None:
    assert fired(judged(tmp_path, CONTROL.format(mandate=", mandate: control")), "HRM005") == []
    assert len(fired(judged(tmp_path, CONTROL.format(mandate=", mandate: support")), "HRM005")) == 1
    assert len(fired(judged(tmp_path, CONTROL.format(mandate="")), "HRM005")) == 1


def test_a_goal_that_cannot_be_met_by_its_date_says_so(tmp_path: Path) -> None:
    data = judged(tmp_path, """
        services:
          - {id: training, catalogue: S12, probability: 0.9, effort: 100}
        goals:
          - {id: skills, outcomes: [O01], due_months: 3}
    """)
    assert data["goals"][0]["verdict"] == "cannot be met by its date" and data["goals"][0]["status"] == "red"


def test_an_unlikely_quick_service_is_no_quick_win(tmp_path: Path) -> None:
    base = """
        clients: [{id: finance, weight: 0.5}]
        services:
          - {id: dashboard, catalogue: S16, probability: P, effort: 50, approach: supportive, clients: [finance]}
          - {id: benefits, catalogue: S02, probability: 0.8, effort: 50, clients: [finance]}
    """
    unlikely = fired(judged(tmp_path, base.replace("P", "0.2")), "GOL003")
    assert [f["subjects"] for f in unlikely] == [["finance"]] and "unlikely to deliver it" in unlikely[0]["message"]
    assert fired(judged(tmp_path, base.replace("P", "0.7")), "GOL003") == []


def test_one_harm_gives_one_finding_per_service_listing_its_targets(tmp_path: Path) -> None:
    data = judged(tmp_path, """
        services:
          - id: reporting
            catalogue: S16
            probability: 0.8
            effort: 100
            approach: controlling
            harms:
              - {target: O17, severity: high, reason: the PMs feel policed}
              - {target: O24, severity: high, reason: nobody learns from a pack they fill in for others}
    """)
    [finding] = [f for f in data["findings"] if f["rule"] in ("HRM001", "HRM002", "HRM003") and f["subjects"] == ["reporting"]]
    assert "Improved organisational commitment to results" in finding["message"]
    assert "Increased organisational learning" in finding["message"]


def test_one_goal_gets_one_verdict(tmp_path: Path) -> None:
    data = judged(tmp_path, """
        services:
          - {id: fast, term: short, probability: 0.95, effort: 50, outcomes: [O26]}
          - {id: flaky, term: short, probability: 0.35, effort: 50, outcomes: [O15]}
        goals:
          - {id: visible, outcomes: [O26, O15], due_months: 6}
    """)
    assert [f["rule"] for f in data["findings"] if f["subjects"] == ["visible"]] == ["GOL001"]


def test_a_catalogue_harm_on_the_approach_alone_is_a_risk_to_watch_until_a_sign(tmp_path: Path) -> None:
    base = """
        clients: [{id: exec, weight: 1}]
        services:
          - {id: reporting, catalogue: S16, probability: 0.8, effort: 60, approach: controlling, clients: [exec]}
          - {id: culture, catalogue: S03, probability: P, effort: 40, clients: [exec]}
        goals:
          - {id: commitment, outcomes: [O17], due_months: 24, client: exec}
    """
    quiet = judged(tmp_path, base.replace("P", "0.9"))
    assert [f["subjects"] for f in fired(quiet, "HRM009")] == [["reporting"]]
    assert not [f for f in quiet["findings"] if f["rule"] in ("HRM001", "HRM002", "HRM003")]
    assert quiet["findings"][[f["rule"] for f in quiet["findings"]].index("HRM009")]["level"] == "info"
    at_risk = judged(tmp_path, base.replace("P", "0.55"))  # the goal on the harmed outcome is at risk: a sign
    targets = {rule: {e["fact"] for f in fired(at_risk, rule) for e in f["evidence"] if e["fact"].startswith("harm:")}
               for rule in ("HRM001", "HRM009")}
    assert "harm:reporting>O17#0" in targets["HRM001"] and "harm:reporting>O17#0" not in targets["HRM009"]


@pytest.mark.parametrize("override", ["[]", '["crisis"]'])
def test_the_calibrated_rules_take_organisation_params(tmp_path: Path, override: str) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "pmo.yaml").write_text(textwrap.dedent(RESCUE.format(fire=34, rest=66)), encoding="utf-8")
    (workspace / "pmorules.toml").write_text(f"[rules.BAL004]\nparams = {{ rescue_contexts = {override} }}\n")
    result = CliRunner().invoke(app, ["analyze", str(workspace), "--format", "json", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    [capability] = fired(json.loads(result.stdout), "BAL004")
    assert ("rescue team" in capability["message"]) == (override != "[]")
