"""docs/format.md and the schema explain every field and value, from the one place each is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.cli import app
from pmorules.format_doc import NESTED, SECTIONS, flow, format_markdown
from pmorules.knowledge.base import DEFAULT_MONTHS, DEFAULT_PROBABILITY, OUTCOME_MONTHS
from pmorules.knowledge.spec import (
    CatalogueFile, CatalogueOutcome, CatalogueService, Horizons, KnowledgeFile, Organisation, Outcome, ServiceSpec,
)
from pmorules.schema import knowledge_schema
from pmorules.vocabulary import Term, Vocabulary

ROOT = Path(__file__).resolve().parents[1]
FORMAT_DOC = ROOT / "docs" / "format.md"
USER_MODELS = [model for _, model in SECTIONS + NESTED]


def test_committed_format_doc_is_current() -> None:
    assert FORMAT_DOC.is_file(), "docs/format.md is missing"
    assert FORMAT_DOC.read_text(encoding="utf-8") == format_markdown(), (
        "docs/format.md is stale: run `pmorules schema --format md > docs/format.md`"
    )


def test_schema_command_prints_the_reference() -> None:
    result = CliRunner().invoke(app, ["schema", "--format", "md"])
    assert result.exit_code == 0
    assert result.stdout == format_markdown()


@pytest.mark.parametrize("model", USER_MODELS, ids=lambda m: m.__name__)
def test_every_field_has_a_description_and_an_example(model) -> None:
    for name, field in model.model_fields.items():
        assert field.description and field.description.endswith("."), f"{model.__name__}.{name}: no description"
        assert field.examples, f"{model.__name__}.{name}: no example"
        given = {**_required(model), name: field.examples[0]}
    if model.__name__ == "Goal" and name == "due_months":
        del given["due"]  # a goal gives its date or its months, not both
    if model.__name__ == "Organisation" and name == "reviews_months":
        given.pop("reviews", None)
    if model.__name__ == "Action":
        given.setdefault("decision", model.model_fields["decision"].examples[0])  # it answers a finding or a decision
    model.model_validate(given)  # the example is a valid value


def _required(model) -> dict:
    """The smallest valid item of a model, from the examples of its required fields."""
    values = {name: field.examples[0] for name, field in model.model_fields.items() if field.is_required()}
    return values | ({"outcomes": ["O26"], "due": "2027-03-31"} if model.__name__ == "Goal" else {})


@pytest.mark.parametrize("model", [KnowledgeFile, CatalogueFile, CatalogueService, CatalogueOutcome],
                         ids=lambda m: m.__name__)
def test_sections_and_catalogue_fields_are_described(model) -> None:
    assert [n for n, f in model.model_fields.items() if not f.description] == []


def test_every_field_and_value_is_in_the_reference() -> None:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    for heading, model in SECTIONS + NESTED:
        section = text.split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0]
        for name, field in model.model_fields.items():
            row = next((line for line in section.splitlines() if line.startswith(f"| `{name}` |")), None)
            assert row is not None, f"{heading}.{name} is not in docs/format.md"
            assert field.description in row.replace("\\|", "|")
    for vocabulary in Vocabulary.__subclasses__():
        for value, meaning in vocabulary.meanings().items():
            assert meaning, f"{vocabulary.__name__}.{value} has no meaning"
            assert f"| `{value}` | {meaning} |" in text


def test_the_schema_carries_every_value_meaning() -> None:
    definitions = knowledge_schema()["$defs"]
    for vocabulary in Vocabulary.__subclasses__():
        definition = definitions[vocabulary.__name__]
        assert definition["enum"] == list(vocabulary.meanings())
        assert definition["enumDescriptions"] == list(vocabulary.meanings().values())
        for value, meaning in vocabulary.meanings().items():
            assert f"{value}: {meaning}" in definition["description"]
    service = definitions["ServiceSpec"]["properties"]
    assert all(service[name].get("description") for name in ServiceSpec.model_fields)
    assert service["outcomes"]["anyOf"][0]["items"]["anyOf"][0]["type"] == "string"  # `- O05` is valid in an editor


def test_the_numbers_in_the_descriptions_are_the_code_defaults() -> None:
    """Descriptions repeat a few defaults the code holds elsewhere: they must agree."""
    per_term = ", ".join(f"{t} {months:g}" for t, months in DEFAULT_MONTHS.items())
    assert per_term in ServiceSpec.model_fields["term"].description
    assert ", ".join(f"{t} {m:g}" for t, m in OUTCOME_MONTHS.items()) in Outcome.model_fields["months"].description
    assert f"default {DEFAULT_PROBABILITY:g}" in ServiceSpec.model_fields["probability"].description
    assert f"Default {Organisation().capacity:g}" in Organisation.model_fields["capacity"].description
    assert f"default {Horizons().short_max_months:g} months" in Term.short.meaning
    assert f"default {Horizons().medium_max_months:g} months" in Term.medium.meaning


def test_the_reference_states_the_conventions() -> None:
    text = format_markdown()
    assert "evaluation date" in text and "assessed_on" in text and "--as-of" in text
    assert "short 2, medium 6, long 18 months to value" in text
    assert "S 2, SM 3, M 6, ML 9, L 12" in text
    assert "short 2, medium 6, long 12" in text
    assert "*effort X of capacity Y*" in text
    assert "`applies: false`" in text
    for anchor in re.findall(r"\]\(#([^)]+)\)", text):
        assert f'<a id="{anchor}"></a>' in text, f"#{anchor} points nowhere"


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (0.25, "0.25"), (100.0, "100"), ([3, 6], "[3, 6]"), ("S16", "S16"),
    ({"id": "O12", "contribution": "supporting"}, "{id: O12, contribution: supporting}"),
])
def test_flow(value, text) -> None:
    assert flow(value) == text

