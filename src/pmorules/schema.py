"""JSON Schema of the knowledge format, for editors and validation tools."""

from __future__ import annotations

import json

from typing import Any

from .knowledge.spec import KnowledgeFile
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
