"""Every default rule's own test cases (its ``tests:`` list) run under pytest, one test each."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pmorules.analysis import load_rules
from pmorules.cli import app
from pmorules.errors import InputError
from pmorules.rules.load import Rule
from pmorules.rules.spec import RuleTest
from pmorules.rule_cases import run_case


def _default_rules() -> tuple[list[Rule], str | None]:
    try:
        return sorted(load_rules(None)[1].rules.values(), key=lambda r: r.id), None
    except InputError as error:  # reported by a test below rather than as a collection error
        return [], str(error)


RULES, LOAD_ERROR = _default_rules()
CASES = [(rule, case) for rule in RULES for case in rule.spec.tests]


def test_the_default_rulebook_loads() -> None:
    assert LOAD_ERROR is None, LOAD_ERROR
    assert len(RULES) >= 30


@pytest.mark.parametrize(("rule", "case"), CASES, ids=[f"{rule.id}-{case.name}" for rule, case in CASES])
def test_rule_case(rule: Rule, case: RuleTest) -> None:
    result = run_case(rule, case)
    where = rule.raw_locations.get("tests", rule.source)
    assert result.passed, f"{rule.id} {case.expect} case {case.name!r} ({where}): {result.detail}"


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_every_default_rule_has_fire_and_no_fire_cases(rule: Rule) -> None:
    expects = {case.expect for case in rule.spec.tests}
    assert expects == {"fire", "no-fire"}, f"{rule.id} ({rule.source}) has only {sorted(expects)} cases"


def test_rules_test_with_coverage_passes() -> None:
    result = CliRunner().invoke(app, ["rules", "test", "--coverage"])
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output


def test_rules_check_passes() -> None:
    result = CliRunner().invoke(app, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert "rules OK" in result.output
