"""What a rule author needs without reading Python: docs/facts.md and `rules facts` (every fact type and
field, with meaning, unit and an example), and the JSON Schema of rule files (`rules schema`)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pmorules.cli import app
from pmorules.facts import FACT_TYPES
from pmorules.facts_doc import fact_docs, facts_markdown
from pmorules.paths import default_rules_dir, example_dir
from pmorules.schema import rules_schema, rules_schema_text
from pmorules.yamlio import read_yaml

ROOT = Path(__file__).resolve().parents[1]
FACTS_DOC = ROOT / "docs" / "facts.md"
RULES_SCHEMA = ROOT / "schema" / "rules.schema.json"


def test_committed_facts_doc_is_current() -> None:
    assert FACTS_DOC.read_text(encoding="utf-8") == facts_markdown(), (
        "docs/facts.md is stale: run `pmorules rules facts --format md > docs/facts.md`"
    )


def test_every_fact_type_and_field_has_meaning_unit_and_example() -> None:
    docs = {doc.name: doc for doc in fact_docs()}
    assert list(docs) == list(FACT_TYPES)
    for name, fields in FACT_TYPES.items():
        assert [f.name for f in docs[name].fields] == list(fields)
        for field in docs[name].fields:
            assert field.meaning and field.unit and field.example != "–", f"{name}.{field.name}"
    service = {f.name: f for f in docs["service"].fields}
    assert service["client_ids"].unit == "list of ids" and service["client_ids"].example == '["exec", "pm"]'
    assert service["months"].unit == "months" and service["probability"].unit == "fraction 0..1"


def test_rules_facts_command() -> None:
    text = CliRunner().invoke(app, ["rules", "facts"])
    assert text.exit_code == 0
    assert "service: One service of the workspace" in text.stdout
    assert "client_ids" in text.stdout and '[list of ids; e.g. ["exec", "pm"]]' in text.stdout
    md = CliRunner().invoke(app, ["rules", "facts", "--format", "md"])
    assert md.exit_code == 0 and md.stdout == facts_markdown()


def test_committed_rules_schema_is_current_and_printed() -> None:
    assert RULES_SCHEMA.read_text(encoding="utf-8") == rules_schema_text(), (
        "schema/rules.schema.json is stale: run `pmorules rules schema > schema/rules.schema.json`"
    )
    result = CliRunner().invoke(app, ["rules", "schema"])
    assert result.exit_code == 0 and json.loads(result.stdout) == rules_schema()


def test_the_rules_schema_accepts_the_bundled_rules_and_completes_facts_and_operators() -> None:
    schema = rules_schema()
    defs = schema["$defs"]
    assert defs["Pattern"]["properties"]["fact"]["enum"] == list(FACT_TYPES)
    assert {"contains", "any_in", "not_in"} <= set(defs["Op"]["enum"])
    assert defs["RuleSpec"]["additionalProperties"] is False  # a misspelt key is flagged in the editor
    files = sorted(default_rules_dir().glob("*.yaml")) + sorted((example_dir() / "rules").glob("*.yaml"))
    for path in files:
        for rule in read_yaml(path, path.name):
            assert set(rule) <= set(defs["RuleSpec"]["properties"]), path.name
            for pattern in rule.get("match") or []:
                assert pattern["fact"] in FACT_TYPES and set(pattern) <= set(defs["Pattern"]["properties"])
