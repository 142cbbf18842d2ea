"""Every default rule's own test cases (its ``tests:`` list) run under pytest, one test each."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from pmorules.analysis import load_rules
from pmorules.cli import app
from pmorules.errors import InputError
from pmorules.facts import FACT_TYPES
from pmorules.paths import default_rules_dir
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


def test_rule_paths_from_the_command_line_are_read_alone_unless_they_extend(tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(default_rules_dir(), copy / "rules")  # an organisation's edited copy of the defaults
    (copy / "tighter.yaml").write_text("- {id: BAL001, extends: BAL001, level: error}\n", encoding="utf-8")
    tested = CliRunner().invoke(app, ["rules", "test", str(copy / "rules"), "--coverage"])
    assert tested.exit_code == 0, tested.output
    cases = sum(len(r.spec.tests) for r in RULES)
    assert f"{cases} passed, 0 failed" in tested.output
    assert CliRunner().invoke(app, ["rules", "check", str(copy / "rules")]).exit_code == 0
    overlay = CliRunner().invoke(app, ["rules", "test", str(copy / "tighter.yaml")])  # its sibling rules/ is not read
    assert overlay.exit_code == 0, overlay.output
    assert {line.split()[1] for line in overlay.output.splitlines() if line.startswith("ok")} == {"BAL001"}
    missing = CliRunner().invoke(app, ["rules", "test", str(copy / "nowhere")])
    assert missing.exit_code == 2 and f"{copy / 'nowhere'}: rule path 'nowhere' does not exist" in missing.stderr


def test_rules_check_fails_on_a_dangling_docs_reference(tmp_path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    source = (RULES[0].source.file, RULES[0].id)
    text = """- id: ORG001
  name: org-rule
  title: An organisation rule
  category: test
  level: info
  match: [{fact: mix, where: [{field: services, op: gt, value: 100}]}]
  subjects: [mix]
  message: Many services.
  why: Because.
  recommendation: Fewer.
  references: ["docs/domain.md#balancing", "docs/domain.md#no-such-anchor", "docs/nowhere.md", "Our charter, section 2"]
  tests:
    - {name: many, expect: fire, facts: [{fact: mix, services: 101}]}
    - {name: few, expect: no-fire, facts: [{fact: mix, services: 3}]}
"""
    (rules / "org.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(rules)])
    assert result.exit_code == 2, (source, result.output)
    assert "reference 'docs/domain.md#no-such-anchor' dangles: docs/domain.md has no anchor #no-such-anchor" in result.stderr
    assert "reference 'docs/nowhere.md' dangles: docs/nowhere.md does not exist" in result.stderr
    assert "#balancing" not in result.stderr.replace("#no-such", "") and "charter" not in result.stderr


def test_every_catalogue_source_is_a_documented_public_source() -> None:
    from pmorules.knowledge.catalogue import load_catalogue
    from pmorules.rules.lint import doc_anchors

    anchors = doc_anchors("sources.md")
    catalogue = load_catalogue()
    cited = {s for svc in catalogue.services.values() for s in svc.sources + [x for h in svc.harms for x in h.sources]}
    cited |= {s for outcome in catalogue.outcomes.values() for s in outcome.sources}
    assert cited and cited <= anchors, sorted(cited - anchors)


CASE_RULE = """- id: ORG030
  name: low-odds
  title: Low odds
  category: probability
  level: warning
  params:
    low: {default: 0.5, description: below this}
  match:
    - fact: service
      as: s
      where:
        - {field: probability, op: lt, param: low}
  subjects: [s]
  message: "{{ s.name }} is unlikely"
  why: odds
  recommendation: fix it
  tests:
    - name: a
      expect: fire
      facts:
        - {key: x, probability: 0.2}
    - name: b
      expect: fire
      facts:
        - {fact: service, key: x, probability: 0.2, probabilty: 0.3}
    - name: c
      expect: fire
      params: {lo: 0.4}
      facts:
        - {fact: service, key: x, probability: 0.2}
"""


def test_rules_test_reports_every_case_error_at_its_case(tmp_path) -> None:
    """One case error at a time, every one at the rule's tests: line, so the second showed only once the
    first was fixed."""
    path = tmp_path / "org.yaml"
    path.write_text(CASE_RULE, encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "test", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:21:11: test 'a': fact #1 needs 'fact:' one of {', '.join(FACT_TYPES)}",
        f"{path}:25:11: test 'b': fact 'service' has no field 'probabilty' (hint: did you mean 'probability'?)",
        f"{path}:28:7: test 'c': rule ORG030 has no param 'lo' (hint: did you mean 'low'?)",
        "3 errors found",
    ]


def _tested(tmp_path, case: str):
    """``rules test`` on CASE_RULE with this one case (YAML under ``tests:``), printed 400 columns wide; and the file."""
    path = tmp_path / "org.yaml"
    path.write_text(CASE_RULE.split("  tests:")[0] + "  tests:\n" + case, encoding="utf-8")
    return CliRunner(env={"COLUMNS": "400"}).invoke(app, ["rules", "test", str(path)]), path


def test_a_failing_case_names_its_subjects_in_words(tmp_path) -> None:
    result, _ = _tested(tmp_path, "    - name: h\n      expect: fire\n      subjects: [y]\n      facts:\n"
                                  "        - {fact: service, key: x, probability: 0.2}\n")
    assert result.exit_code == 1 and "FAIL ORG030 fire    h: fired for x, not y" in result.stdout, result.stdout


def test_a_case_that_does_not_fire_says_which_condition_fails_and_where_the_case_is(tmp_path) -> None:
    """A failing case printed "did not fire" with neither the case's place nor what the engine found."""
    result, path = _tested(tmp_path, "    - name: h\n      expect: fire\n      params: {low: 0.3}\n      facts:\n"
                                     "        - {fact: service, key: x, probability: 0.4}\n")
    assert result.exit_code == 1
    assert (f"FAIL ORG030 fire    h: did not fire: service x: probability is 0.4; the rule needs it below 0.3 "
            f"(low, set at {path}:20), off by 0.1 (at {path}:18:7)") in result.stdout, result.stdout


def test_a_case_value_of_another_kind_than_its_field_is_an_error(tmp_path) -> None:
    """The text "0.2" against a number threshold fired as if it were the number: the case tested nothing."""
    result, path = _tested(tmp_path, "    - name: h\n      expect: fire\n      facts:\n"
                                     "        - {fact: service, key: x, probability: '0.2', status: 1}\n")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:21:11: test 'h': field 'probability' of fact 'service' must be a number, not '0.2'",
        f"{path}:21:11: test 'h': field 'status' of fact 'service' must be text, not 1",
        "2 errors found",
    ]


JOINED_RULE = """- id: ORG041
  name: effort-over-weight
  title: A service's effort over its goal's weight
  category: probability
  level: info
  match:
    - fact: goal
      as: g
      where:
        - {field: adherence, op: lt, value: 0.9}
    - fact: service
      as: s
      where:
        - {field: key, op: eq, ref: g.weakest_service}
        - {field: effort, op: gt, value: 2, times: {ref: g.weight}}
  subjects: [g, s]
  message: "{{ g.key }} {{ s.key }}"
  why: w
  recommendation: r
  tests:
    - name: the weight scales the bar past the effort
      expect: fire
      facts: [{fact: goal, key: g1, adherence: 0.5, weakest_service: x, weight: 5}, {fact: service, key: x, effort: 3}]
"""


def test_a_case_failing_on_a_join_says_so_and_names_no_condition_that_holds(tmp_path) -> None:
    """A times: ref to another pattern was checked as if it were the fact's own, and ended in a made-up compile
    error (exit 2); each pattern met alone, the explanation must blame the join, not the facts."""
    path = tmp_path / "org.yaml"
    path.write_text(JOINED_RULE, encoding="utf-8")
    result = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["rules", "test", str(path)])
    assert result.exit_code == 1, result.output
    assert ("did not fire: each pattern is met by a fact of the case on its own, but no combination of them meets the "
            "rule's joins and absent patterns") in result.stdout


def test_why_not_gives_a_scaled_threshold_as_the_engine_compares_it() -> None:
    """CAP001 compares the services with 3 per FTE times the 6 FTE: the bar is 18, not 3."""
    result = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["why", "mix", "knowledge/example", "--not", "CAP001"])
    assert ("services is 17; the rule needs it above 18 (services_per_fte 3 × capacity fte 6; services_per_fte set at "
            "rules/capacity.yaml:") in result.stdout, result.stdout


def test_a_threshold_the_engine_computes_a_hair_above_reads_as_it_is() -> None:
    """3 × 0.1 is 0.30000000000000004 for the engine: "at least 0.3, off by 0" contradicted itself."""
    from pmorules.conditions import ConditionCheck

    check = ConditionCheck("mix", "share_short", "ge", 0.1 * 3, 0.3, False, abs(0.3 - 0.1 * 3), scaled="0.1 × 3")
    assert check.text() == ("fails: share short is 0.3; the rule needs it at least 0.30000000000000004 (0.1 × 3), "
                            "off by 5.55e-17")


def test_times_with_a_key_is_refused_where_it_is_written(tmp_path) -> None:
    """A key is text: times: {ref: g.key} compiled without a word, and the rule could never fire."""
    path = tmp_path / "org.yaml"
    path.write_text(JOINED_RULE.replace("times: {ref: g.weight}", "times: {ref: g.key}"), encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:15:45: rule ORG041: 'times' computes with numbers; g.key is not a number" in result.stderr, result.stderr
