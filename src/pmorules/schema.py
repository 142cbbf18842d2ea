"""JSON Schema of the knowledge format, for editors and validation tools."""

from __future__ import annotations

import json

from .knowledge.spec import KnowledgeFile


def knowledge_schema() -> dict:
    schema = KnowledgeFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pmorules knowledge file"
    return schema


def knowledge_schema_text() -> str:
    return json.dumps(knowledge_schema(), indent=2, sort_keys=True) + "\n"
