"""Per-organisation extension: overlay rules, `extends`, pmorules.toml settings, init, rules list/show."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pmorules.cli import app

ROOT = Path(__file__).resolve().parents[1]

SERVICES = """\
organisation: {name: Overlay PMO, capacity_fte: 4}
services:
  - {id: reporting, term: short, probability: 0.8, effort: 50}
  - {id: governance, term: medium, probability: 0.7, effort: 30}
  - {id: coaching, term: long, probability: 0.65, effort: 20}
"""

OWN_RULE = """\
# Our own rule: every service should be at least 70% likely to deliver.
- id: ACM001
  name: not-likely-enough
  title: Service below our probability bar
  category: probability
  level: info
  params:
    bar: {default: 0.7, description: our bar}
  match:
    - fact: service
      as: s
      where:
        - {field: status, op: eq, value: active}
        - {field: probability, op: lt, param: bar}
  subjects: [s]
  message: "{{ s.name }} is only {{ s.probability | pct }} likely to deliver."
  why: Our charter says so.
  recommendation: Raise it or drop it.
  references: ["Acme charter"]
  tests:
    - {name: low, expect: fire, facts: [{fact: service, key: x, status: active, probability: 0.5}]}
    - {name: high, expect: no-fire, facts: [{fact: service, key: x, status: active, probability: 0.9}]}
"""

EXTEND_BAL005 = """\
- id: BAL005
  extends: BAL005
  level: error
  params:
    max_short_share: {default: 0.4, description: we want at most 40% quick wins}
"""


@pytest.fixture
def ws(cwd_ws):
    """``ws({path: text})``: this module's services and the given files, as the workspace ``ws`` in the cwd."""
    return lambda files: cwd_ws({"services.yaml": SERVICES, **files})


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def findings(workspace: str) -> dict[tuple[str, tuple[str, ...]], dict]:
    result = cli("analyze", workspace, "--format", "json", "--as-of", "2026-03-20")
    assert result.exit_code == 0, result.output
    return {(f["rule"], tuple(f["subjects"])): f for f in json.loads(result.stdout)["findings"]}


def error_lines(result: Result) -> list[str]:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return [line for line in result.stderr.splitlines() if not re.fullmatch(r"\d+ errors? found", line)]


# ---------------------------------------------------------------- overlay rules


def test_an_overlay_rule_adds_a_rule(ws) -> None:
    found = findings(ws({"rules/acme.yaml": OWN_RULE}))
    finding = found[("ACM001", ("coaching",))]
    assert finding["rule_source"] == "ws/rules/acme.yaml:2"
    assert finding["message"] == "coaching is only 65% likely to deliver."
    assert ("ACM001", ("reporting",)) not in found
    listed = cli("rules", "list", "--workspace", "ws")
    assert re.search(r"ACM001 .*organisation", listed.stdout)


def test_extends_overrides_a_field_and_a_param(ws) -> None:
    assert ("BAL005", ("mix",)) not in findings(ws({}))  # 50% short-term is under the default 60%
    finding = findings(ws({"rules/acme.yaml": EXTEND_BAL005}))[("BAL005", ("mix",))]
    assert finding["level"] == "error"
    assert "(above 40%)" in finding["message"]
    assert finding["rule_source"].startswith("rules/balance.yaml:")  # still the default rule, changed
    why = cli("why", "mix", "ws", "--as-of", "2026-03-20", "--evidence")  # the engine matches
    assert "mix:mix.share_short: 0.5 > 0.4 (max_short_share) [threshold set at ws/rules/acme.yaml:" in why.stdout
    assert "level set at ws/rules/acme.yaml:" in why.stdout
    listed = cli("rules", "list", "--workspace", "ws")
    assert re.search(r"BAL005 .*error .*organisation", listed.stdout)
    assert re.search(r"BAL004 .*default", listed.stdout)


def test_a_duplicate_id_without_extends_names_both_files(ws) -> None:
    copy = OWN_RULE.replace("- id: ACM001", "- id: BAL005")
    lines = error_lines(cli("analyze", ws({"rules/copy.yaml": copy})))
    assert len(lines) == 1
    assert re.fullmatch(
        r"ws/rules/copy\.yaml:2:3: rule id BAL005 is defined twice \(first at rules/balance\.yaml:\d+:3\) "
        r"\(hint: to change BAL005, write 'extends: BAL005'\)",
        lines[0],
    ), lines[0]


def test_two_overlay_files_with_one_id_name_both(ws) -> None:
    lines = error_lines(cli("analyze", ws({"rules/a.yaml": OWN_RULE, "rules/b.yaml": "\n" + OWN_RULE})))
    assert len(lines) == 1
    assert lines[0].startswith("ws/rules/b.yaml:3:3: rule id ACM001 is defined twice (first at ws/rules/a.yaml:2:3)")


def test_extending_an_unknown_rule_is_located(ws) -> None:
    lines = error_lines(cli("analyze", ws({"rules/acme.yaml": EXTEND_BAL005.replace("extends: BAL005", "extends: BAL05")
                                                                   .replace("id: BAL005", "id: BAL05")})))
    assert lines == ["ws/rules/acme.yaml:1:3: rule BAL05 extends unknown rule 'BAL05' (hint: did you mean 'BAL005'?)"]


def test_an_overlay_setting_a_param_the_rule_does_not_have_is_located(ws) -> None:
    """A misspelt threshold in an overlay changed nothing, silently (pmorules.toml says so for the same typo).
    A value given alone keeps the param's description."""
    lines = error_lines(cli("analyze", ws({"rules/acme.yaml": "- {id: PRB001, extends: PRB001, params: {lwo: 0.7}}\n"})))
    assert lines == ["ws/rules/acme.yaml:1:33: rule PRB001 has no param 'lwo' (hint: did you mean 'low'?)"]
    ws({"rules/acme.yaml": "- id: BAL005\n  extends: BAL005\n  params: {max_short_share: 0.2}\n"})
    shown = cli("rules", "show", "BAL005", "--workspace", "ws").stdout
    assert "max_short_share = 0.2 (default 0.2; highest acceptable effort share of short-term services;" in shown


def test_a_bad_config_and_a_rule_that_does_not_compile_are_reported_at_once(ws) -> None:
    """A misspelt config key hid the rule files' compile errors (a field typo) until it was fixed."""
    lines = error_lines(cli("analyze", ws({"pmorules.toml": '[rules.BAL005]\nlevle = "error"\n',
                                           "rules/acme.yaml": OWN_RULE.replace("field: probability,", "field: probabilty,")})))
    assert any("pmorules.toml:2:1: unknown setting 'levle'" in line for line in lines), lines
    assert any("acme.yaml" in line and "has no field 'probabilty'" in line for line in lines), lines


def test_a_subject_from_an_optional_field_a_fact_lacks_names_nothing(ws) -> None:
    """A rule about a goal's client, on a goal with no client, found a finding about "None"."""
    rule = """\
- id: ACM002
  name: goal-and-client
  title: Goal and its client
  category: goals
  level: info
  match:
    - fact: goal
      as: g
  subjects: [g, g.client]
  message: "{{ g.name }}"
  why: w
  recommendation: r
"""
    found = findings(ws({"rules/acme.yaml": rule, "goals.yaml": "goals:\n  - {id: g1, name: G, outcomes: [O09], due_months: 6}\n"}))
    assert [subjects for rule_id, subjects in found if rule_id == "ACM002"] == [("g1",)]


def test_an_overlay_that_changes_a_threshold_keeps_the_cases_it_inherits_passing(tmp_path: Path) -> None:
    """BAL005's cases test its own 60%: an overlay at 50% that writes no cases of its own runs them at 60% (one
    failed: "exactly the maximum" fired at 50%); cases the overlay writes run at its 50%."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ovl.yaml").write_text("- id: BAL005\n  extends: BAL005\n  params: {max_short_share: 0.5}\n")
    result = cli("rules", "test", str(rules))
    assert result.exit_code == 0 and "ok   BAL005 no-fire exactly the maximum" in result.stdout, result.stdout
    (rules / "ovl.yaml").write_text(
        "- id: BAL005\n  extends: BAL005\n  params: {max_short_share: 0.5}\n  tests:\n"
        "    - {name: 55% is too much here, expect: fire, facts: [{fact: mix, services: 10, share_short: 0.55, share_medium: 0.3, share_long: 0.15}]}\n")
    result = cli("rules", "test", str(rules))
    assert result.exit_code == 0 and "ok   BAL005 fire    55% is too much here: fired" in result.stdout, result.stdout


# ---------------------------------------------------------------- pmorules.toml


def test_toml_can_disable_a_rule(ws) -> None:
    workspace = ws({"rules/acme.yaml": EXTEND_BAL005, "pmorules.toml": '[rules.BAL005]\nenabled = false\n'})
    assert ("BAL005", ("mix",)) not in findings(workspace)
    why_not = cli("why", "mix", workspace, "--not", "BAL005", "--as-of", "2026-03-20")
    assert why_not.stdout.strip().splitlines()[1:] == ["BAL005 is disabled (set at ws/pmorules.toml:2)."]
    assert why_not.stdout.startswith("as of 20 March 2026")


def test_toml_can_change_a_level(ws) -> None:
    workspace = ws({"rules/acme.yaml": OWN_RULE, "pmorules.toml": 'name = "Acme"\n\n[rules.ACM001]\nlevel = "error"\n'})
    assert findings(workspace)[("ACM001", ("coaching",))]["level"] == "error"
    assert "level set at ws/pmorules.toml:4" in cli("why", "coaching", workspace).stdout


def test_toml_params_change_behaviour_and_why_shows_the_toml_line(ws) -> None:
    workspace = ws({"pmorules.toml": 'name = "Acme"\n# stricter\n[rules.PRB001]\nparams = { low = 0.75 }\n'})
    found = findings(workspace)
    assert {s for rule, s in found if rule == "PRB001"} == {("governance",), ("coaching",)}
    why = cli("why", "governance", workspace, "--evidence")  # the engine matches
    assert "service:governance.probability: 0.7 < 0.75 (low) [threshold set at ws/pmorules.toml:4]" in why.stdout
    assert "(very_low) [threshold set at rules/probability.yaml:" in why.stdout
    listed = cli("rules", "list", "--workspace", workspace)
    assert re.search(r"PRB001 .*organisation", listed.stdout)
    shown = cli("rules", "show", "PRB001", "--workspace", workspace)
    assert "low = 0.75 (default 0.5;" in shown.stdout and "set at ws/pmorules.toml:4" in shown.stdout


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[rules.BAL055]\nlevel = "error"\n', "ws/pmorules.toml:1:1: no rule 'BAL055' to configure (hint: did you mean 'BAL005'?)"),
        ('[rules.BAL005]\nparams = { max_short = 0.5 }\n',
         "ws/pmorules.toml:2:12: rule BAL005 has no param 'max_short' (hint: did you mean 'max_short_share'?)"),
        ('[rules.BAL005]\nparams = { max_short_share = "half" }\n', "ws/pmorules.toml:2:12: param BAL005.max_short_share must be a number"),
        ('name = "x"\n[rules.BAL005\nlevel = "error"\n', "ws/pmorules.toml:2:14: TOML syntax error: Expected ']' at the end of a table declaration"),
        ('[rules.BAL005]\nlevel = "fatal"\n', "ws/pmorules.toml:2:1: rules.BAL005.level: should be 'error', 'warning' or 'info'"),
        ('rule_path = ["more"]\n', "ws/pmorules.toml:1:1: unknown setting 'rule_path' (hint: did you mean 'rule_paths'?)"),
        ('[report]\nerror_wieght = 3.0\n', "ws/pmorules.toml:2:1: unknown setting 'error_wieght' (hint: did you mean 'error_weight'?)"),
        ('[report]\nwarning_cost = 1\n', "ws/pmorules.toml:2:1: unknown setting 'warning_cost' (hint: did you mean 'warning_weight'?)"),
        ('[rules.BAL005]\nparams = { max_short_share = [[0.5]] }\n',  # one line, not one per branch of the type
         "ws/pmorules.toml:2:12: rules.BAL005.params.max_short_share: should be a number, true or false, a text, or a list of these"),
    ],
    ids=["unknown rule", "unknown param", "param not a number", "bad TOML", "bad level", "unknown setting",
         "unknown report setting", "a mix setting under report", "param nested"],
)
def test_bad_config_is_located(ws, toml: str, expected: str) -> None:
    assert error_lines(cli("analyze", ws({"pmorules.toml": toml}))) == [expected]


KICKOFF = SERVICES.replace("organisation: {name: Overlay PMO, capacity_fte: 4}",
                           "organisation: {name: Overlay PMO, capacity_fte: 4, context: kickoff, age_months: 30}")


def test_an_empty_list_is_a_param_value(ws) -> None:
    """``quick_win_contexts = []``: no context excuses a short-term-heavy mix (``not_in []`` holds for any
    context), and none makes a PMO count as exposed (``in []`` holds for none)."""
    def judged(toml: str) -> dict:
        return findings(ws({"services.yaml": KICKOFF, "pmorules.toml": toml}))

    strict = '[rules.BAL005]\nparams = { max_short_share = 0.4 }\n'
    assert ("BAL005", ("mix",)) not in judged(strict)
    assert ("BAL005", ("mix",)) in judged(strict.replace("}", ", quick_win_contexts = [] }"))
    exposed = '[rules.BAL007]\nparams = { min_quick_win_share = 0.6 }\n'
    assert ("BAL007", ("mix",)) in judged(exposed)
    assert ("BAL007", ("mix",)) not in judged(exposed.replace("}", ", quick_win_contexts = [] }"))
    shown = cli("rules", "show", "BAL007", "--workspace", "ws")
    assert "set at ws/pmorules.toml:2" in shown.stdout


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[rules.BAL005]\nparams = { quick_win_contexts = "kickoff" }\n',
         "ws/pmorules.toml:2:12: param BAL005.quick_win_contexts must be a list of text"),
        ('[rules.BAL005.params]\nmax_short_share = 0.5\nquick_win_contexts = [1, "crisis"]\n',
         "ws/pmorules.toml:3:1: param BAL005.quick_win_contexts must be a list of text"),
        ('[rules.BAL005.params]\nmax_short_share = [0.5]\n', "ws/pmorules.toml:2:1: param BAL005.max_short_share must be a number"),
        ('[rules.PRB002.params]\nvery_low = 0.2\n\n[rules.PRB001]\nparams = { very_low = "x" }\n',
         "ws/pmorules.toml:5:12: param PRB001.very_low must be a number"),  # not PRB002's line with the same key
        ('[rules.BAL005.params]\nmax_short_share = 0.5\nmax_short = 0.5\n',
         "ws/pmorules.toml:3:1: rule BAL005 has no param 'max_short' (hint: did you mean 'max_short_share'?)"),
        ('name = "x"\n\n[rules.BAL005.params]\nquick_win_contexts = ["crisis", "crisis"]\n',
         "ws/pmorules.toml:4:1: rule BAL005: param quick_win_contexts: 'crisis' is listed twice in 'not_in'"),
    ],
    ids=["text for a list", "a number in a list of text", "a list for a number", "the same key in another table",
         "unknown param on its line", "a value twice, found by the compiler"],
)
def test_every_param_error_points_at_the_toml_line(ws, toml: str, expected: str) -> None:
    assert error_lines(cli("analyze", ws({"pmorules.toml": toml}))) == [expected]


def test_default_rules_false_keeps_only_the_workspace_rules(ws) -> None:
    workspace = ws({"rules/acme.yaml": OWN_RULE, "pmorules.toml": "default_rules = false\n"})
    assert {rule for rule, _ in findings(workspace)} == {"ACM001"}
    listed = cli("rules", "list", "--workspace", workspace)
    assert re.findall(r"^ *([A-Z]{3}\d{3}) ", listed.stdout, re.M) == ["ACM001"]


@pytest.mark.parametrize("key", ["rule_paths", "rules"])
def test_extra_rule_folders(ws, key: str) -> None:
    workspace = ws({"more-rules/acme.yaml": OWN_RULE, "pmorules.toml": f'{key} = ["more-rules"]\n'})
    finding = findings(workspace)[("ACM001", ("coaching",))]
    assert finding["rule_source"] == "ws/more-rules/acme.yaml:2"


@pytest.mark.parametrize("paths", ['["./rules/"]', '["rules/acme.yaml"]', '["rules", "more/../rules"]'])
def test_the_rules_folder_named_again_is_read_once(ws, paths: str) -> None:
    """rules/ is always read: naming it (or a file in it) again in other words said "rule id ACM001 is defined
    twice (first at" the very same place)."""
    workspace = ws({"rules/acme.yaml": OWN_RULE, "more/keep.txt": "", "pmorules.toml": f"rule_paths = {paths}\n"})
    assert ("ACM001", ("coaching",)) in findings(workspace)


def test_every_config_error_comes_at_once(ws) -> None:
    """A number the policy refuses hid every other error of pmorules.toml, and a bad [rules] paths did too."""
    config = 'bogus = 1\n[rules]\npaths = "x"\n[rules.BAL005]\nlevel = "bogus"\n[mix]\ncapacity = nan\n'
    lines = error_lines(cli("analyze", ws({"pmorules.toml": config})))
    assert lines == ["ws/pmorules.toml:1:1: unknown setting 'bogus'",
                     "ws/pmorules.toml:3:1: rules.paths: should be a list of rule folders or files",
                     "ws/pmorules.toml:5:1: rules.BAL005.level: should be 'error', 'warning' or 'info'",
                     "ws/pmorules.toml:7:1: mix.capacity: nan is not a finite number"]


@pytest.mark.parametrize("command", [["analyze"], ["validate"]])
def test_a_bad_setting_of_a_rule_does_not_hide_its_other_settings_errors(ws, command: list[str]) -> None:
    """A bad level hid a misspelt param of the same [rules.ID] table, and any table naming no rule."""
    config = '[rules.BAL005]\nlevel = "urgent"\nparams = { max_short = 0.5 }\n[rules.BAL055]\nenabled = false\n'
    lines = error_lines(cli(*command, ws({"pmorules.toml": config})))
    assert lines == ["ws/pmorules.toml:2:1: rules.BAL005.level: should be 'error', 'warning' or 'info'",
                     "ws/pmorules.toml:3:12: rule BAL005 has no param 'max_short' (hint: did you mean 'max_short_share'?)",
                     "ws/pmorules.toml:4:1: no rule 'BAL055' to configure (hint: did you mean 'BAL005'?)"]


def test_the_rules_are_checked_against_what_the_file_says_of_them_beside_its_other_errors(ws) -> None:
    """A nested param value named like a type ({ int = "a" }) dropped every [rules] table from the check; two
    reviews on one date hid a misspelt param; a bad rule_paths must not make its rules read as unknown."""
    config = '[rules.BAL005]\nparams = { max_short_share = { int = "a" } }\n[rules.BAL055]\nenabled = false\n'
    assert error_lines(cli("analyze", ws({"pmorules.toml": config})))[1:] == [
        "ws/pmorules.toml:3:1: no rule 'BAL055' to configure (hint: did you mean 'BAL005'?)"]
    review = '[history.{0}]\nlabel = "{0}"\ndate = 2025-12-19\npath = "reviews/{0}"\n'
    config = '[rules.BAL005]\nparams = { max_shrt = 1 }\n' + review.format("a") + review.format("b")
    assert [line.split(": ", 1)[1] for line in error_lines(cli("analyze", ws({"pmorules.toml": config})))] == [
        "rule BAL005 has no param 'max_shrt' (hint: did you mean 'max_short_share'?)",
        "history.b: the review 'a' has the same date (hint: give each review its own date)"]
    config = 'rule_paths = ["more", 3]\n[rules.ACM001]\nlevel = "warning"\n'
    assert error_lines(cli("analyze", ws({"more/acme.yaml": OWN_RULE, "pmorules.toml": config}))) == [
        "ws/pmorules.toml:1:1: rule_paths.1: should be a valid string"]
    config = '[history.q1]\ndate = 3\npath = "x"\n[rules.BAL005]\nparams = { max_shrt = 1 }\n'  # a review less its date
    assert [line.split(": ", 1)[1] for line in error_lines(cli("analyze", ws({"pmorules.toml": config})))] == [
        "history.q1.date: should be a date, written date = 2025-12-19",
        "rule BAL005 has no param 'max_shrt' (hint: did you mean 'max_short_share'?)"]


def test_config_errors_speak_of_tables_not_of_the_models_behind_them(ws) -> None:
    config = 'mix = 3\n[history.q1]\npath = ""\n'
    assert [line.split(": ", 1)[1] for line in error_lines(cli("analyze", ws({"pmorules.toml": config})))] == [
        "mix: should be a table", "history.q1.date: required setting is missing", "history.q1.path: should not be empty"]


@pytest.mark.parametrize("config, line", [
    ('name = "x"\nrule_paths = ["nowhere"]\n', 2),
    ('name = "x"\nrules = ["nowhere"]\n', 2),  # the short forms had no line
    ('name = "x"\n\n[rules]\npaths = ["nowhere"]\n', 4),
])
def test_a_missing_rule_folder_is_located(ws, config: str, line: int) -> None:
    lines = error_lines(cli("analyze", ws({"pmorules.toml": config})))
    assert lines == [f"ws/pmorules.toml:{line}:1: rule path 'nowhere' does not exist"]


# ---------------------------------------------------------------- init, rules show


def test_init_scaffolds_a_workspace_and_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = cli("init", "newws")
    assert first.exit_code == 0, first.output
    files = sorted(p.relative_to(tmp_path / "newws").as_posix() for p in (tmp_path / "newws").rglob("*") if p.is_file())
    assert files == ["knowledge.yaml", "pmorules.toml", "rules/organisation.yaml"]
    assert first.stderr.count("created ") == 3
    (tmp_path / "newws" / "knowledge.yaml").write_text((tmp_path / "newws" / "knowledge.yaml").read_text() + "# mine\n")
    before = {p: p.read_bytes() for p in (tmp_path / "newws").rglob("*") if p.is_file()}
    second = cli("init", "newws")
    assert second.exit_code == 0 and second.stderr.count("kept existing ") == 3
    assert {p: p.read_bytes() for p in (tmp_path / "newws").rglob("*") if p.is_file()} == before
    third = cli("init", "newws", "--xlsx")  # the folder has knowledge already: no workbook beside it
    assert third.exit_code == 0 and "kept existing newws/knowledge.yaml" in third.stderr
    assert not (tmp_path / "newws" / "pmo.xlsx").exists()
    assert cli("analyze", "newws").exit_code == 0
    assert cli("validate", "newws").exit_code == 0
    assert cli("rules", "check", "newws/rules").exit_code == 0
    assert cli("rules", "test", "newws/rules").exit_code == 0


def test_init_in_a_workspace_with_knowledge_adds_no_example_rule(tmp_path: Path) -> None:
    """init in an existing workspace added the example rule ORG001, whose finding then showed in its analysis."""
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    before = json.loads(cli("analyze", str(workspace), "--format", "json").stdout)["findings"]
    assert cli("init", str(workspace)).exit_code == 0
    assert not (workspace / "rules" / "organisation.yaml").exists()
    assert json.loads(cli("analyze", str(workspace), "--format", "json").stdout)["findings"] == before


def test_rules_show_prints_the_fixed_headings() -> None:
    result = cli("rules", "show", "BAL005")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    headings = ["What it flags", "Why it matters", "Example", "Recommendation", "Params", "Source"]
    positions = [lines.index(h) for h in headings]
    assert positions == sorted(positions)
    assert lines[0].startswith("BAL005 short-term-heavy: ")
    assert any(line.startswith("max_short_share = 0.6 (default 0.6;") for line in lines)
    assert re.fullmatch(r"rules/balance\.yaml:\d+:\d+", lines[lines.index("Source") + 1])


def test_rules_list_piped_shows_every_name_whole_and_as_json_every_rule(ws) -> None:
    """Piped (80 columns), the list cut the longest names ("goal-below-target-adheren…"); each row is whole now."""
    default, example = cli("rules", "list"), cli("rules", "list", "-w", str(ROOT / "knowledge" / "example"))
    for listed in (default, example):
        assert listed.exit_code == 0
        assert re.search(r"GOL005 +goal-below-target-adherence +warning", listed.stdout), listed.stdout
    assert re.search(r"NWL002 +executive-service-unlikely +info +probability +yes +organisation", example.stdout)
    assert "NWL002" not in default.stdout
    workspace = ws({"rules/acme.yaml": OWN_RULE})
    data = json.loads(cli("rules", "list", "--workspace", workspace, "--format", "json").stdout)["rules"]
    assert [r["id"] for r in data] == sorted(r["id"] for r in data) and len(data) > 40
    acme = next(r for r in data if r["id"] == "ACM001")
    assert acme["origin"] == "organisation" and acme["source"].startswith("ws/rules/acme.yaml:")


def test_rules_list_and_show_in_a_workspace_folder_read_that_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a workspace's folder, as every other command reads it, they showed the default rulebook."""
    shutil.copytree(ROOT / "knowledge" / "example", tmp_path / "ws")
    monkeypatch.chdir(tmp_path / "ws")
    assert "NWL002" in cli("rules", "list").stdout
    assert "executive-service-unlikely" in cli("rules", "show", "NWL002").stdout
    monkeypatch.chdir(tmp_path)  # not a workspace: the default rulebook
    assert "NWL002" not in cli("rules", "list").stdout
    (tmp_path / "knowledge").write_text("")  # nor is a folder whose knowledge/ is a file
    assert cli("rules", "list").exit_code == 0


def test_rules_show_an_unknown_rule_is_bad_input() -> None:
    result = cli("rules", "show", "BAL05")
    assert result.exit_code == 2 and "did you mean 'BAL005'?" in result.stderr


@pytest.mark.parametrize(("command", "message"), [
    (["rules", "list", "--workspace", "/no/such/folder"], "/no/such/folder: no such workspace directory"),
    (["rules", "show", "GOL001", "--workspace", "/no/such/folder"], "/no/such/folder: no such workspace directory"),
    (["rules", "list", "--workspace", "knowledge/example/services.yaml"],
     "knowledge/example/services.yaml: a workspace must be a directory of knowledge files"),
])
def test_a_workspace_that_is_not_a_folder_is_an_error_not_the_default_rulebook(command: list[str], message: str,
                                                                                monkeypatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    run = cli(*command)
    assert run.exit_code == 2 and message in run.output and "GOL002" not in run.output


def test_config_lines_are_counted_as_toml_counts_them(ws) -> None:
    """A line separator (U+2028) inside a comment is no line break for TOML: the error below it keeps its line."""
    workspace = ws({"pmorules.toml": "# a note\u2028with a separator\n[report]\nerror_wieght = 3.0\n"})
    result = cli("validate", str(workspace))
    assert result.exit_code == 2
    assert "ws/pmorules.toml:3:1: unknown setting 'error_wieght'" in result.output, result.output


def test_rules_check_reports_a_bad_config_and_the_rule_files_at_once(ws) -> None:
    """A pmorules.toml error does not hide the errors of the workspace's rule files from `rules check`, as it
    does not from `validate`."""
    workspace = ws({"pmorules.toml": '[rules.BAL005]\nlevel = "fatal"\n', "rules/bad.yaml": "rules: [\n"})
    result = cli("rules", "check", workspace)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any(line.startswith("ws/pmorules.toml:2:1: rules.BAL005.level") for line in lines), result.output
    assert any(line.startswith("ws/rules/bad.yaml:") for line in lines), result.output
