"""Calendar time: a workspace is judged as of the date its data describe, and everything moves together."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules import dates
from pmorules.analysis import analyze
from pmorules.cli import app

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "knowledge" / "example"


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """The system clock reads ``day``."""
    monkeypatch.setattr(dates, "system_today", lambda: day)


@pytest.mark.parametrize("day", [dt.date(2026, 3, 20), dt.date(2026, 12, 4), dt.date(2031, 7, 1), dt.date(2019, 1, 1)])
def test_the_example_gives_the_same_json_on_any_system_date(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    pinned = cli("analyze", str(EXAMPLE), "--format", "json", "--as-of", "2026-03-20")
    _on(monkeypatch, day)
    free = cli("analyze", str(EXAMPLE), "--format", "json")
    assert pinned.exit_code == free.exit_code == 0, free.output
    assert free.stdout == pinned.stdout
    assert json.loads(free.stdout)["dates"]["evaluated_on"] == "2026-03-20"


def test_a_workspace_without_a_date_is_judged_as_of_today_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ws.yaml").write_text(textwrap.dedent("""\
        organisation: {name: Undated PMO, age_months: 4}
        services:
          - {id: reporting, catalogue: S16, probability: 0.8, effort: 50}
        goals:
          - {id: G1, outcomes: [O26], due_months: 3}
    """))
    _on(monkeypatch, dt.date(2026, 12, 4))
    result = cli("analyze", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "as of 4 December 2026, the day it was run (the data give no date" in result.stdout
    data = json.loads(cli("analyze", str(tmp_path), "--format", "json").stdout)
    assert data["dates"]["evaluated_on"] == "2026-12-04" and data["dates"]["data_date"] is None
    assert data["goals"][0]["due"] == "2027-03-05"  # three average months on


def test_one_year_later_everything_moves_together() -> None:
    now = analyze(EXAMPLE)
    later = analyze(EXAMPLE, dt.date(2027, 3, 20))
    assert now.today == dt.date(2026, 3, 20) and now.kb.clock == "assessed_on"
    assert 7 <= now.kb.organisation.age_months < 7.1
    assert 19 <= later.kb.organisation.age_months < 19.1
    culture_now, culture_later = now.kb.goals["project-culture"], later.kb.goals["project-culture"]
    assert culture_now.due == culture_later.due == dt.date(2027, 9, 30)  # a date does not move
    assert culture_later.due_months == pytest.approx(culture_now.due_months - 12, abs=0.05)
    assert [r.ahead for r in later.kb.reviews] == [False, False]  # both 2026 reviews are past
    assert not any(f.type == "review" for f in later.facts.facts)
    overdue = {f.subjects[0] for f in later.findings if f.rule == "GOL006"}
    assert overdue == {"budget-ranking", "exec-visibility", "budget-control", "on-time-delivery"}
    assert not any(f.rule == "GOL006" for f in now.findings)
    for finding in later.findings:  # a past goal is not also "not covered" or "at risk"
        if finding.rule in ("GOL001", "GOL002", "GOL005"):
            assert finding.subjects[0] not in overdue
    message = next(f.message for f in later.findings if f.rule == "GOL006" and f.subjects == ["budget-ranking"])
    assert "was due on 22 June 2026" in message


def test_the_young_pmo_rule_no_longer_fires_a_year_on() -> None:
    """BAL007 asks a young (or starting, rescued, restarting) PMO for quick wins: at 19 months, growing, it is
    no longer young."""
    now = next(f for f in analyze(EXAMPLE).findings if f.rule == "BAL007")
    assert now.message.startswith("The PMO is 7 months old, but services")
    assert not any(f.rule == "BAL007" for f in analyze(EXAMPLE, dt.date(2027, 3, 20)).findings)


def test_without_the_exposed_context_the_young_pmo_rule_stops_firing(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(EXAMPLE, workspace)
    organisation = workspace / "organisation.yaml"
    text = organisation.read_text()
    organisation.write_text(text.replace("context: growing", "context: crisis"))
    young_in_crisis = next(f for f in analyze(workspace).findings if f.rule == "BAL007")
    assert young_in_crisis.message.startswith('The PMO is 7 months old and in the "crisis" scenario, but services')
    crisis = next(f for f in analyze(workspace, dt.date(2027, 3, 20)).findings if f.rule == "BAL007")
    assert crisis.message.startswith('The PMO is in the "crisis" scenario, but services')
    organisation.write_text(text.replace("context: growing", "context: thriving"))
    assert any(f.rule == "BAL007" for f in analyze(workspace).findings)
    assert not any(f.rule == "BAL007" for f in analyze(workspace, dt.date(2027, 3, 20)).findings)


def test_old_month_only_workspaces_load_unchanged() -> None:
    snapshot = analyze(EXAMPLE / "reviews" / "2025-12")
    assert snapshot.today == dt.date(2025, 12, 19)  # its own assessed_on
    goal = snapshot.kb.goals["budget-ranking"]
    assert goal.due_months == 6 and goal.due == dt.date(2026, 6, 20)
    assert snapshot.kb.organisation.age_months == 4
    assert [r.months for r in snapshot.kb.reviews] == [3, 6]


def test_stale_data_are_said_first_on_stderr_with_the_output_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    pinned = cli("analyze", str(EXAMPLE), "--format", "json", "--as-of", "2026-03-20")
    _on(monkeypatch, dt.date(2026, 12, 4))
    late = cli("analyze", str(EXAMPLE), "--format", "json")
    assert late.stdout == pinned.stdout
    assert "data as of 20 March 2026, 8.5 months old; '--as-of today' judges them as of today" in late.stderr
    _on(monkeypatch, dt.date(2026, 8, 1))  # 4.4 months: within the example's six
    assert "data as of" not in cli("analyze", str(EXAMPLE), "--format", "json").stderr
    _on(monkeypatch, dt.date(2026, 12, 4))
    today = cli("analyze", str(EXAMPLE), "--as-of", "today")
    assert "as of 4 December 2026; the data are of 20 March 2026" in today.stdout
    assert "data as of" not in today.stderr  # asked for: nothing to warn about


def test_judged_that_late_the_report_opens_with_the_warning(tmp_path: Path) -> None:
    late, now = tmp_path / "late.md", tmp_path / "now.md"
    assert cli("report", str(EXAMPLE), "--as-of", "2027-03-20", "-o", str(late)).exit_code == 0
    assert cli("report", str(EXAMPLE), "-o", str(now)).exit_code == 0
    head = late.read_text().split("## ")[0]
    assert "As of **20 March 2027** · data of 20 March 2026" in head
    assert "> **Assessment is out of date.**" in head
    assert "Assessment is out of date" not in now.read_text().split("## ")[0]
    assert "As of **20 March 2026** · data of 20 March 2026" in now.read_text()


def test_dates_in_the_format_are_checked(tmp_path: Path) -> None:
    (tmp_path / "ws.yaml").write_text(textwrap.dedent("""\
        organisation: {founded: 2025-01-01, age_months: 3, reviews: [2026-06-30], reviews_months: [3]}
        services:
          - {id: reporting, catalogue: S16, probability: 0.8, effort: 50}
        goals:
          - {id: G1, outcomes: [O26]}
          - {id: G2, outcomes: [O26], due: 2026-06-30, due_months: 3}
          - {id: G3, outcomes: [O26], due: 2026-13-01}
    """))
    result = cli("analyze", str(tmp_path))
    assert result.exit_code == 2
    said = result.stderr
    assert "give founded or age_months, not both" in said and "give reviews or reviews_months, not both" in said
    lines = said.splitlines()
    assert any(line.startswith(f"{tmp_path}/ws.yaml:5:") and line.endswith("give the goal's due date (due: YYYY-MM-DD) "
               "or due_months (hint: for example due: 2027-03-31)") for line in lines), said  # G1: neither
    assert any(line.startswith(f"{tmp_path}/ws.yaml:6:") and line.endswith("or due_months, not both")
               for line in lines), said  # G2: both, located at the second
    assert "ws.yaml:7" in said  # the bad date, located


def test_named_reviews_are_facts_and_words() -> None:
    analysis = analyze(EXAMPLE)
    reviews = [f for f in analysis.facts.facts if f.type == "review"]
    assert [(f.key, f.fields["name"], f.fields["date"]) for f in reviews] == [
        ("review-2026-06-22", "Q3 steering committee", "2026-06-22"),
        ("review-2026-09-21", "Half-year review", "2026-09-21"),
    ]


def test_diff_and_the_report_agree_on_the_example_review(tmp_path: Path) -> None:
    """Each side is judged as of its own date, so diff OLD NEW counts what the report's history counts."""
    diff = json.loads(cli("diff", str(EXAMPLE / "reviews" / "2025-12"), str(EXAMPLE), "--format", "json").stdout)
    report = tmp_path / "r.json"
    assert cli("report", str(EXAMPLE), "-o", str(report)).exit_code == 0
    since = json.loads(report.read_text())["history"]["since"]["findings"]
    assert {k: len(v) for k, v in diff["findings"].items()} == {k: len(v) for k, v in since.items()}


@pytest.mark.parametrize("args", [["mix"], ["mix", "--explain"], ["mix", "--compare"], ["mix", "--drop", "training"],
                                  ["why", "reporting"], ["actions"]],
                         ids=["mix", "explain", "compare", "what-if", "why", "actions"])
def test_every_view_states_the_day_it_judges(args: list[str]) -> None:
    """mix, its explanation and comparison, why and actions depend on the day judged and did not say it."""
    example = str(EXAMPLE)
    command = [args[0], "reporting", example] if args[0] == "why" else [args[0], example, *args[1:]]
    result = CliRunner().invoke(app, [*command, "--as-of", "2026-03-20"])
    assert result.exit_code == 0, result.output
    assert "as of 20 March 2026, the date of the data" in result.stdout


def test_the_mix_as_json_says_the_day_it_judges() -> None:
    example = str(EXAMPLE)
    result = CliRunner().invoke(app, ["mix", example, "--as-of", "2026-03-20", "--format", "json"])
    assert json.loads(result.stdout)["as_of"] == "2026-03-20"


def test_a_goal_with_two_due_dates_shows_its_other_errors_too(tmp_path: Path) -> None:
    """The due dates are checked beside the goal's references: one run names every mistake in the goal."""
    (tmp_path / "goals.yaml").write_text(textwrap.dedent("""\
        goals:
          - id: G1
            outcomes: [O26, O99]
            due: 2026-06-30
            due_months: 3
            client: nobody
    """))
    result = cli("validate", str(tmp_path))
    assert result.exit_code == 2
    lines = [line.removeprefix(f"{tmp_path}/") for line in result.stderr.splitlines()]
    assert lines == ["goals.yaml:3:21: unknown outcome 'O99' (hint: did you mean 'O29'?)",
                     "goals.yaml:5:5: give the goal's due date (due: YYYY-MM-DD) or due_months, not both",
                     "goals.yaml:6:5: unknown client 'nobody'",
                     "3 errors found"], result.stderr


def test_judged_before_the_pmo_was_founded_every_view_says_so(tmp_path: Path) -> None:
    """--as-of before organisation.founded judged a PMO that did not exist yet as "0 months old", without a word."""
    analysed = cli("analyze", str(EXAMPLE), "--as-of", "2025-01-01")
    assert analysed.stdout.splitlines()[1] == ("as of 1 January 2025, before the PMO was founded on 18 August 2025 (its "
                                               "age counts as 0 months); the data are of 20 March 2026")
    report = tmp_path / "early.md"
    assert cli("report", str(EXAMPLE), "--as-of", "2025-01-01", "-o", str(report)).exit_code == 0
    assert ("As of **1 January 2025** · data of 20 March 2026 · before the PMO was founded on 18 August 2025: its age "
            "counts as 0 months") in report.read_text()
    assert "founded" not in cli("analyze", str(EXAMPLE), "--as-of", "2025-08-18").stdout.splitlines()[1]
