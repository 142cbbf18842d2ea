"""Rules over relations: a service's client, goal and outcome ids as list fields, the list operators
``contains`` and ``any_in`` on the engine, lists in rule tests, and ``rules test WS``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner, Result

from pmorules.analysis import analyze, load_rules
from pmorules.cli import app
from pmorules.evaluate import engine_facts
from pmorules.paths import example_dir
from pmorules.rules.compile import compile_rulebook
from pmorules.rules.spec import RuleTest

TODAY = dt.date(2026, 3, 20)

SERVICES = """\
organisation: {name: Relations PMO}
clients: [{id: exec}, {id: pm}, {id: finance}]
services:
  - {id: reporting, term: short, probability: 0.8, effort: 40, clients: [exec, pm]}
  - {id: governance, term: medium, probability: 0.5, effort: 30, clients: [finance, exec]}
  - {id: coaching, term: long, probability: 0.5, effort: 30, clients: [pm]}
goals:
  - {id: G1, name: Visibility, outcomes: [O26], due_months: 6, client: exec}
"""

ANY_IN = """\
- id: ACM010
  name: money-clients-unlikely
  title: A service the money people rely on is unlikely
  category: probability
  level: info
  params:
    funders: {default: [exec, finance], description: clients whose confidence funds us}
  match:
    - fact: service
      as: s
      where:
        - {field: client_ids, op: any_in, param: funders}
        - {field: probability, op: lt, value: 0.6}
  subjects: [s]
  message: "{{ s.key }} serves {{ s.client_ids | join(', ') }} and is {{ s.probability | pct }} likely."
  why: Because.
  recommendation: Fix it.
  references: ["tests"]
  tests:
    - {name: a funder, expect: fire, subjects: [x], facts: [{fact: service, key: x, client_ids: [pm, finance], probability: 0.5}]}
    - {name: no funder, expect: no-fire, facts: [{fact: service, key: x, client_ids: [pm], probability: 0.5}]}
"""


@pytest.fixture
def ws(cwd_ws):
    """``ws({path: text})``: this module's services and the given files, as the workspace ``ws`` in the cwd."""
    return lambda files: cwd_ws({"services.yaml": SERVICES, **files})


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_a_service_fact_carries_its_relations() -> None:
    analysis = analyze(example_dir(), TODAY)
    reporting = next(f for f in analysis.facts.facts if f.type == "service" and f.key == "reporting")
    assert reporting.fields["client_ids"] == ["exec", "pm"] and reporting.fields["clients"] == 2
    assert "exec-visibility" in reporting.fields["goal_ids"] and reporting.fields["goals"] == len(reporting.fields["goal_ids"])
    assert "O26" in reporting.fields["outcome_ids"]


def test_relations_reach_the_engine_only_when_a_rule_reads_them() -> None:
    analysis = analyze(example_dir(), TODAY)  # the example's NWL002 reads client_ids
    records, _ = engine_facts(analysis.compiled, analysis.facts.facts)
    services = [r for r in records if r["t"] == "service"]
    assert all("client_ids" in r for r in services) and not any("goal_ids" in r for r in services)
    default = compile_rulebook(load_rules(None)[1])
    records, _ = engine_facts(default, analysis.facts.facts)
    assert not any("client_ids" in r for r in records)


def test_the_example_organisation_rule_uses_a_relation() -> None:
    """NWL002: an active service the executive committee (client exec) relies on, below the bar. Benefits
    (exec and finance, 50%) is flagged; lessons (25%, project managers only) is not."""
    found = {(f.rule, tuple(f.subjects)) for f in analyze(example_dir(), TODAY).findings if f.rule == "NWL002"}
    assert found == {("NWL002", ("benefits",))}


def test_any_in_on_the_engine_and_in_why(ws) -> None:
    workspace = ws({"rules/acme.yaml": ANY_IN})
    result = cli("analyze", workspace, "--format", "json", "--as-of", "2026-03-20")
    assert result.exit_code == 0, result.output
    found = {tuple(f["subjects"]): f for f in json.loads(result.stdout)["findings"] if f["rule"] == "ACM010"}
    assert list(found) == [("governance",)]  # coaching serves only pm; reporting is likely enough
    assert found[("governance",)]["message"] == "governance serves exec, finance and is 50% likely."
    why = cli("why", "coaching", workspace, "--not", "ACM010", "--as-of", "2026-03-20")
    assert "fails: client ids is pm" in why.stdout and "to contain one of exec, finance (funders" in why.stdout
    emptied = ws({"rules/acme.yaml": ANY_IN, "pmorules.toml": "[rules.ACM010]\nparams = { funders = [] }\n"})
    assert all(f["rule"] != "ACM010" for f in json.loads(cli("analyze", emptied, "--format", "json").stdout)["findings"])


def test_rules_test_on_a_workspace_tests_its_own_rules(ws) -> None:
    workspace = ws({"rules/acme.yaml": ANY_IN, "pmorules.toml": "[rules.ACM010]\nparams = { funders = [\"pm\"] }\n"})
    result = cli("rules", "test", workspace)
    assert result.exit_code == 0, result.output
    assert "ok   ACM010 fire    a funder: fired" in result.stdout  # with the rule file's params, not the toml's
    assert "BAL005" not in result.stdout and "2 passed, 0 failed" in result.stdout
    broken = ws({"rules/acme.yaml": ANY_IN.replace("client_ids: [pm, finance]", "client_ids: [pm]")})
    failed = cli("rules", "test", broken)
    assert failed.exit_code == 1 and "FAIL ACM010 fire    a funder: did not fire" in failed.stdout
    example = cli("rules", "test", str(example_dir()))
    assert example.exit_code == 0 and "NWL002" in example.stdout


def test_a_rule_test_may_give_a_list_but_not_a_mapping() -> None:
    case = RuleTest.model_validate({"name": "x", "expect": "fire", "facts": [{"fact": "service", "client_ids": ["exec"]}]})
    assert case.facts[0]["client_ids"] == ["exec"]
    with pytest.raises(ValueError, match="a list of them"):
        RuleTest.model_validate({"name": "x", "expect": "fire", "facts": [{"fact": "service", "client_ids": [{"id": 1}]}]})


def test_a_rule_test_gives_a_list_only_for_a_list_field(ws) -> None:
    """A list where the engine compares one value (or one value for a relation) would only make a case fail
    without saying why: it is an error at the case's fact."""
    wrong = ANY_IN.replace("client_ids: [pm], probability", "client_ids: pm, probability")
    result = cli("rules", "test", ws({"rules/acme.yaml": wrong}))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "ws/rules/acme.yaml:21:50: test 'no funder': field 'client_ids' of fact 'service' must be a list" in result.stderr
