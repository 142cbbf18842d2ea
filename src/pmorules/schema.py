"""JSON Schemas of the knowledge format and of rule files, for editors and validation tools."""

from __future__ import annotations

import json

from typing import Any

from .facts import REGISTRY
from .knowledge.spec import KnowledgeFile
from .rules.spec import OP_WORDS, RuleSpec
from .vocabulary import Vocabulary

SHORT_FORMS = {  # items a knowledge file may also write as one string (see the models' "before" validators)
    "OutcomeLinkSpec": {"type": "string", "description": "Short form: the outcome id alone (O05)."},
    "DependencySpec": {"type": "string", "description": "Short form: the service, with ':soft' or ':hard' "
                                                        "(tools:soft; default hard)."},
}


def knowledge_schema() -> dict:
    """Pydantic's schema of a knowledge file, plus the meaning of every vocabulary value: listed in the
    description (any editor shows it on hover) and as ``enumDescriptions`` (VS Code shows each beside the value
    it completes)."""
    schema = KnowledgeFile.model_json_schema()
    for vocabulary in Vocabulary.__subclasses__():
        definition = schema["$defs"].get(vocabulary.__name__)
        if definition is not None:
            values = "; ".join(f"{value}: {meaning}" for value, meaning in vocabulary.meanings().items())
            definition["description"] = f"{definition['description'].rstrip('.')}. Values: {values}."
            definition["enumDescriptions"] = list(vocabulary.meanings().values())
    for name, short in SHORT_FORMS.items():
        _accept_short_form(schema, f"#/$defs/{name}", short)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pmorules knowledge file"
    return schema


def _accept_short_form(node: Any, ref: str, short: dict[str, Any]) -> None:
    """Wherever ``node`` refers to ``ref``, accept the short form too, so editors do not flag ``- O05``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and value == {"$ref": ref}:
                node[key] = {"anyOf": [short, value]}
            else:
                _accept_short_form(value, ref, short)
    elif isinstance(node, list):
        for value in node:
            _accept_short_form(value, ref, short)


def knowledge_schema_text() -> str:
    return json.dumps(knowledge_schema(), indent=2, sort_keys=True) + "\n"


def rules_schema() -> dict:
    """Pydantic's schema of a rule, as a rule file holds it: one rule, a list of rules, or ``rules: [...]``;
    with the fact types (and what each is) for ``fact:`` and the operators in words for ``op:``, and the
    short form of a param (its default alone)."""
    rule = RuleSpec.model_json_schema(by_alias=True)
    definitions = rule.pop("$defs")
    definitions["RuleSpec"] = rule
    fact = definitions["Pattern"]["properties"]["fact"]
    fact.pop("pattern", None)
    fact["enum"] = list(REGISTRY)
    fact["enumDescriptions"] = [kind.doc for kind in REGISTRY.values()]
    fact["description"] = "The fact type the pattern matches; its fields are listed in docs/facts.md."
    op = definitions["Op"]
    op["enumDescriptions"] = [OP_WORDS[value] for value in op["enum"]]
    params = rule["properties"]["params"]
    for name, param in params["patternProperties"].items():
        params["patternProperties"][name] = {"anyOf": [param, definitions["Param"]["properties"]["default"]]}
    params["additionalProperties"] = False  # a param's name is a field-like name (spec.FIELD)
    one = {"$ref": "#/$defs/RuleSpec"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pmorules rule file",
        "description": "One rule, a list of rules, or a mapping with 'rules:' (README, Adapting the rules).",
        "anyOf": [one, {"type": "array", "items": one},
                  {"type": "object", "properties": {"rules": {"type": "array", "items": one}},
                   "required": ["rules"], "additionalProperties": False}],
        "$defs": definitions,
    }


def rules_schema_text() -> str:
    return json.dumps(rules_schema(), indent=2, sort_keys=True) + "\n"
