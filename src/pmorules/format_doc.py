"""docs/format.md, generated from the knowledge models, the vocabularies and the catalogue.

Every field's description, type, default and example is written once, in
knowledge/spec.py; every value's meaning once, in vocabulary.py. This module
only lays them out (with the conventions that tie the fields together), so the
reference cannot drift from the code: a test compares docs/format.md with
``format_markdown()``, and ``pmorules schema --format md > docs/format.md``
regenerates it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .knowledge.base import DEFAULT_MONTHS, DEFAULT_PROBABILITY, OUTCOME_MONTHS
from .knowledge.catalogue import load_catalogue
from .knowledge.spec import (
    Action, Assessment, Client, DependencySpec, Goal, HarmSpec, Horizons, Organisation, Outcome, OutcomeLinkSpec,
    Review, ServiceAssessment, ServiceSpec, TargetProfile,
)
from .schema import SHORT_FORMS, knowledge_schema
from .text import num
from .vocabulary import TERMS, Vocabulary

# (heading, what it is, model): the sections of a knowledge file, then the items nested in them.
SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("organisation", Organisation),
    ("horizons", Horizons),
    ("clients", Client),
    ("services", ServiceSpec),
    ("goals", Goal),
    ("outcomes", Outcome),
    ("assessments", ServiceAssessment),
    ("actions", Action),
)
NESTED: tuple[tuple[str, type[BaseModel]], ...] = (
    ("organisation.target_profile", TargetProfile),
    ("organisation.reviews[]", Review),
    ("services[].outcomes[]", OutcomeLinkSpec),
    ("services[].depends_on[]", DependencySpec),
    ("services[].harms[]", HarmSpec),
    ("services[].assessments[]", Assessment),
)
PERCEPTION_CODES = ("S", "SM", "M", "ML", "L")  # the practice guide's timeframe codes, shortest first

_HEADINGS = {model.__name__: heading for heading, model in SECTIONS + NESTED}


def _heading(title: str, anchor: str) -> list[str]:
    """A level-3 heading with an explicit anchor (GitHub's own drop the dots and brackets of ``services[].harms[]``)."""
    return [f'<a id="{anchor}"></a>', "", f"### {title}", ""]


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def flow(value: Any) -> str:
    """A value as YAML flow text: ``[3, 6]``, ``{id: O12, contribution: supporting}``, ``true``, ``0.4``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return num(value, 6)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    return str(value)


def _type(prop: dict[str, Any]) -> str:
    """A field's type from its JSON Schema, in words, linking models and vocabularies to their sections."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{_HEADINGS.get(name, name)}](#{name.lower()})"
    if "anyOf" in prop:
        parts = [_type(p) for p in prop["anyOf"] if p.get("type") != "null" and p not in SHORT_FORMS.values()]
        shortened = any(p in SHORT_FORMS.values() for p in prop["anyOf"])
        return " or ".join(parts) + (" (or its short form)" if shortened else "")
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop['items'])}"
    if "enum" in prop:
        return " or ".join(f"`{v}`" for v in prop["enum"])
    if kind == "string":
        if prop.get("format") == "date":
            return "date"
        if "pattern" in prop:
            return "id or `tag:<tag>`" if prop["pattern"].startswith("^(tag:)") else "id"
        return "text"
    if kind == "number":
        low = "> 0" if "exclusiveMinimum" in prop else "≥ 0"
        return "number 0..1" if prop.get("maximum") == 1.0 else f"number {low}"
    if kind == "boolean":
        return "`true` or `false`"
    return kind or "any"


def _default(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None or value == []:
        return "–"
    return f"`{flow(value.value if isinstance(value, Vocabulary) else value)}`"


def _fields(model: type[BaseModel], definitions: dict[str, Any]) -> list[str]:
    """The table of a model's fields: name, type, default, meaning, example."""
    props = definitions[model.__name__]["properties"]
    lines = ["| Field | Type | Default | Meaning | Example |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        example = f"`{flow(field.examples[0])}`" if field.examples else ""
        lines.append(
            f"| `{name}` | {_type(props[name])} | {_default(model, name)} | {_cell(field.description or '')} "
            f"| {_cell(example)} |"
        )
    return lines


def _vocabularies() -> list[str]:
    lines = ["## Values", "", "Every closed set of words the format uses, and what each word means.", ""]
    for vocabulary in Vocabulary.__subclasses__():
        lines += _heading(vocabulary.__name__, vocabulary.__name__.lower())
        lines += [" ".join((vocabulary.__doc__ or "").split()), "", "| Value | Meaning |", "|---|---|"]
        lines += [f"| `{value}` | {_cell(meaning)} |" for value, meaning in vocabulary.meanings().items()]
        lines.append("")
    return lines


def _perception_months() -> str:
    """The catalogue's outcome months per timeframe code, as the catalogue holds them: ``S 2, SM 3, ...``."""
    by_code: dict[str, set[float]] = {}
    for outcome in load_catalogue().outcomes.values():
        by_code.setdefault(outcome.perception, set()).add(outcome.months)
    return ", ".join(f"{code} {' or '.join(num(m) for m in sorted(by_code[code]))}"
                     for code in PERCEPTION_CODES if code in by_code)


def _per_term(months: dict[str, float]) -> str:
    return ", ".join(f"{term} {num(months[term])}" for term in TERMS)


def _conventions() -> list[str]:
    return ["## Conventions", "", *_time(), *_effort(), *_ids(), *_inheritance(), *_defaults()]


def _time() -> list[str]:
    """Months, the two clocks, and when a service delivers an outcome."""
    horizons = Horizons()
    return [
        "### Time",
        "",
        "A workspace describes one dated moment. It is judged as of its **evaluation date**: "
        "`organisation.assessed_on` (the date the data describe), or the date given with `--as-of`; only a "
        "workspace without `assessed_on` is judged as of the day it is run (and every view says so). Dates are "
        "written YYYY-MM-DD; a month is the average month (30.4375 days).",
        "",
        "- **Dates**: `organisation.founded` (the PMO's age is counted to the evaluation date), "
        "`organisation.reviews` (each a date, or `{date: ..., name: ...}`; reviews before the evaluation date are "
        "past) and `goals[].due`. A goal whose due date is before the evaluation date is *overdue*: it leaves the "
        "coverage and adherence and is reported as past its date.",
        "- **Months from the evaluation date**, the older forms, still accepted: `organisation.age_months`, "
        "`organisation.reviews_months` and `goals[].due_months` (give the date or the months, not both).",
        "- **From the start of a service**: `services[].months_to_value`, `outcomes[].months` and "
        "`services[].outcomes[].months`. `running_months` (or `since`, counted to the evaluation date) says how "
        "long a service has run already; what it has run counts, so its value is perceived "
        "`max(0, months_to_value - running_months)` months after the evaluation date.",
        "",
        f"Terms are horizons of months to first value: **short** up to `horizons.short_max_months` "
        f"(default {num(horizons.short_max_months)}), **medium** up to `horizons.medium_max_months` "
        f"(default {num(horizons.medium_max_months)}), **long** after that.",
        "",
        f"- A service with a term but no `months_to_value` (its own or the catalogue's term) counts "
        f"{_per_term(DEFAULT_MONTHS)} months to value with the default horizons, and at the same place within "
        "others (two thirds of the short horizon, the geometric middle of the medium one, half as long again as "
        "the medium one).",
        f"- A catalogue outcome is perceived at the months the catalogue gives it, from the practice guide's "
        f"timeframe code: {_perception_months()} (see [the catalogue](#catalogue-outcomes)).",
        f"- A workspace outcome without `months` gets them from its term: {_per_term(OUTCOME_MONTHS)}.",
        "- A service delivers a linked outcome at `max(months_to_value, link months or outcome months) - "
        "running_months` months after the evaluation date (at least 0): never before its own value, nor before "
        "the outcome can "
        "be perceived.",
        "",
    ]


def _effort() -> list[str]:
    """One unit of effort, set by the organisation's capacity."""
    organisation = Organisation()
    return [
        "### Effort and capacity",
        "",
        f"Effort has one unit, set by `organisation.capacity` (default {num(organisation.capacity)}: effort is then "
        "a percentage of the PMO's capacity). Every service's `effort` is in that unit, and every output uses it "
        "the same way:",
        "",
        "- the rules read the load, the active services' total effort divided by the capacity (over 1 is over "
        "capacity);",
        "- the report and the terminal say *effort X of capacity Y*;",
        "- the recommended mix keeps its total effort within a capacity in the same unit (`pmorules mix "
        "--capacity N`, or `[mix] capacity` in pmorules.toml).",
        "",
        "`organisation.capacity_fte` is headcount, not the unit of effort: it checks how many services each "
        "person runs, and the recommended mix moves effort in steps of 0.25 FTE and shows FTE beside each effort "
        "(docs/mix.md). Give `effort` for every service or for none (then each service counts 1).",
        "",
    ]


def _ids() -> list[str]:
    """How ids are written and how a service is named."""
    return [
        "### Ids and references",
        "",
        "An id is letters, digits, `_`, `-` or `.`, starting with a letter or digit, and matches "
        "case-insensitively. Wherever a service is named (a goal's `services`, `depends_on`, a harm's `target` "
        "or `mitigated_by`), a catalogue id (`S16`) names the workspace service that offers it; if none does, "
        "it names the catalogue service itself (missing from the mix). An unknown id is reported with the "
        "closest known id, if there is one.",
        "",
    ]


def _inheritance() -> list[str]:
    """What a service inherits from its catalogue entry, and how lists merge."""
    return [
        "### Inheriting from the catalogue",
        "",
        "A service with `catalogue: S16` inherits that entry's name, term, tags, outcome links, dependencies and "
        "harms. Plain fields given in the workspace win. Three lists merge with the catalogue's item by item "
        "instead of replacing it:",
        "",
        "| List | Items match by |",
        "|---|---|",
        "| `outcomes` | the outcome (`id`) |",
        "| `depends_on` | the service needed (`service`) |",
        "| `harms` | what is harmed (`target`) |",
        "",
        "An item that matches an inherited one changes it: the fields it gives win, the others stay as the "
        "catalogue has them. With `applies: false` it turns the inherited item off instead. Any other item is "
        "added. `applies: false` needs an inherited item to turn off, and should give a "
        "`reason`: the report lists what was turned off and why. `tags` is the exception: a service's own tags "
        "replace the catalogue's.",
        "",
        "```yaml",
        "services:",
        "  - id: reporting",
        "    catalogue: S16",
        "    outcomes:",
        "      - {id: O12, contribution: supporting}   # added: S16 does not link O12",
        "      - {id: O27, applies: false, reason: \"forecasts come from the ERP\"}   # inherited link turned off",
        "    depends_on:",
        "      - S09:hard                                # short form service:kind; the inherited soft one, now hard",
        "    harms:",
        "      - {target: O22, severity: medium}         # the inherited harm to O22, now medium",
        "```",
        "",
    ]


def _defaults() -> list[str]:
    """What unset fields count as."""
    return [
        "### Defaults",
        "",
        f"Unset fields take the catalogue's value (for a service that names a catalogue entry), else the default "
        f"in the tables below. A service without `probability` counts {num(DEFAULT_PROBABILITY)}, and the report "
        f"notes it as a data-quality gap. `organisation` and `horizons` are given once per workspace; every "
        f"list (clients, services, goals, outcomes) may be spread over several files.",
        "",
    ]


def _files() -> list[str]:
    return [
        "## Files",
        "",
        "A workspace is a folder of knowledge files, read in name order from the folder and its `knowledge/` "
        "subfolder:",
        "",
        "- **YAML** (`*.yaml`, `*.yml`, any name): a mapping of the sections below.",
        "- **CSV** tables named after their section (`services.csv`, `clients.csv`, `goals.csv`, `outcomes.csv`, "
        "`organisation.csv`, `assessments.csv`), and **XLSX** workbooks with one sheet per section (sheet names as the section, any "
        "case). `pmorules init DIR --xlsx` writes a workbook to fill in; `pmorules export WS --xlsx FILE` writes "
        "a workspace as one.",
        "",
        "In a table, the first row holds the field names, or the same names in words as the workbooks pmorules "
        "writes head them (`Months to value` for `months_to_value`, `Horizons: short max months` for "
        "`horizons.short_max_months`, `Capacity (FTE)` for `capacity_fte`; each note ends with the field's name). "
        "A catalogue service or outcome (a service's `catalogue` and `outcomes`, a goal's `outcomes`, an "
        "outcome's `id`) may be written as the workbook's drop-downs show it, `S16 – Data analytics and "
        "reporting`: the id, a dash, and that entry's name (a different name is an error). The sheets `Catalogue` "
        "and `Catalogue outcomes` pmorules writes beside the sections (the catalogue to read, protected) are not "
        "read. A row whose first cell starts with `#` is a note and "
        "is skipped when that cell is in the `id` column (an id never starts with `#`), or, in a table without "
        "ids (the organisation), when it is the row right under the header and a row follows it (a workbook "
        "written by pmorules has one there, explaining each column). A workbook's text cells are read as text, "
        "never as numbers. Each "
        "further row is one item; the organisation table has a single row, and its columns may also hold the "
        "horizons (`horizons.short_max_months`) and the target profile (`target_profile.short`). A list cell "
        "holds `;`-separated items in their short form (`exec; pm`, `tools:soft; methodology`, harms as "
        "`target:severity`), or a YAML flow list for items with more fields "
        "(`[{target: culture, severity: high, mitigated_by: [tools]}]`). Errors point at the cell: "
        "`pmo.xlsx!Services!C7`.",
        "",
        "Expert assessments may be written on their service (`services[].assessments`) or apart from it, in the "
        "`assessments` section: `pmorules assess WS --collect DIR` keeps the ratings it collects from the experts' "
        "forms in `assessments.yaml`, a file it owns (it never changes the others). How several assessments become "
        "a service's term and probability is `organisation.consensus` (docs/measures.md#consensus).",
        "",
    ]


def _catalogue() -> list[str]:
    catalogue = load_catalogue()
    lines = [
        "## Catalogue",
        "",
        "The built-in services and outcomes a workspace refers to by id (`knowledge/catalogue/`).",
        "",
        *_heading("Catalogue services", "catalogue-services"),
        "| Id | Service | Term | Tags | Outcomes |",
        "|---|---|---|---|---|",
    ]
    for service in catalogue.services.values():
        lines.append(f"| `{service.id}` | {_cell(service.name)} | {service.term} | {', '.join(service.tags)} "
                     f"| {', '.join(service.outcomes)} |")
    lines += ["", *_heading("Catalogue outcomes", "catalogue-outcomes"), "| Id | Outcome | Code | Months | Term |", "|---|---|---|---|---|"]
    for outcome in catalogue.outcomes.values():
        lines.append(f"| `{outcome.id}` | {_cell(outcome.name)} | {outcome.perception} | {num(outcome.months)} "
                     f"| {outcome.term} |")
    return lines + [""]


def format_markdown() -> str:
    """The whole format reference, as Markdown."""
    definitions = knowledge_schema()["$defs"]
    lines = [
        "# The knowledge format",
        "",
        "<!-- Generated from src/pmorules/knowledge/spec.py, vocabulary.py and the catalogue by "
        "`pmorules schema --format md > docs/format.md`; do not edit by hand. -->",
        "",
        "How to describe a PMO to pmorules: every section, field and value, with its type, default and an "
        "example. `knowledge/example/` is a complete workspace; `pmorules schema` gives the same descriptions "
        "as a JSON Schema for editors.",
        "",
    ]
    lines += _files() + _conventions()
    lines += ["## Sections", ""]
    for heading, model in SECTIONS:
        shape = "a list of items" if heading not in ("organisation", "horizons") else "one mapping"
        lines += _heading(heading, model.__name__.lower())
        lines += [f"{' '.join((model.__doc__ or '').split())} ({shape})", ""] + _fields(model, definitions) + [""]
    lines += ["## Nested items", ""]
    for heading, model in NESTED:
        lines += _heading(heading, model.__name__.lower())
        lines += [" ".join((model.__doc__ or "").split()), ""] + _fields(model, definitions) + [""]
    lines += _vocabularies() + _catalogue()
    return "\n".join(lines).rstrip("\n") + "\n"
