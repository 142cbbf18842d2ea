"""Render a rule's texts and name its subjects for one group of matches.

``message``, ``why`` and ``recommendation`` are sandboxed Jinja templates over
the matched facts, the rule's params, display names and plain knowledge lists.
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError

from ..errors import Diagnostic, InputError
from ..facts import Fact
from ..knowledge.spec import Horizons
from ..text import MESSAGE_ENV
from .compile import CompiledRule


class Names(dict):
    """Display names by id; an unknown id stands for itself."""

    def __missing__(self, key: str) -> str:
        return str(key)


def subjects_of(compiled: CompiledRule, match: Any) -> list[str]:
    subjects = []
    for subject in compiled.rule.spec.subjects or []:
        if subject == "mix":
            subjects.append("mix")
            continue
        pattern, _, name = subject.partition(".")
        fact = match.facts[pattern]
        value = fact.key if not name or name == "key" else fact.fields.get(name)
        if value is not None:  # an optional field the fact does not have names nothing (not "None")
            subjects.append(str(value))
    return subjects


def _fact_view(fact: Fact, names: dict[str, str]) -> dict[str, Any]:
    return {**fact.fields, "key": fact.key, "name": names.get(fact.key, fact.key), "path": list(fact.path)}


def render_texts(
    compiled: CompiledRule, group: list[Any], names: dict[str, str], view: dict[str, Any] | None = None,
    shared: dict[Any, str] | None = None,
) -> dict[str, str]:
    """message / why / recommendation of one finding, from the rule's sandboxed templates. ``shared`` keeps, over
    one analysis, the texts that read nothing of a finding (most rules' ``why``), rendered once."""
    rule = compiled.rule
    first = group[0]
    if view is None:  # a rule's own test case: no workspace
        view = {"services": [], "goals": [], "clients": [], "horizons": Horizons().model_dump(), "today": None}
    own = {name: _fact_view(fact, names) for name, fact in first.facts.items()}
    distinct = _distinct(group) if len(group) > 1 else group
    context = {
        **MESSAGE_ENV.globals, **view, **own, "params": dict(rule.params), "names": names,
        "matches": [own if m is first else {n: _fact_view(f, names) for n, f in m.facts.items()} for m in distinct],
        "subjects": subjects_of(compiled, first),
    }
    texts = {}
    for name, template in compiled.templates.items():
        if shared is not None and not template.per_finding and template in shared:
            texts[name] = shared[template]
            continue
        try:
            texts[name] = " ".join(template.render(context).split())
            if shared is not None and not template.per_finding:
                shared[template] = texts[name]
        except TemplateError as exc:
            where = rule.raw_locations.get(name, rule.source)
            raise InputError([Diagnostic(where, f"rule {rule.id}: {name}: {exc}")]) from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            where = rule.raw_locations.get(name, rule.source)
            raise InputError([Diagnostic(where, f"rule {rule.id}: {name}: cannot render: {exc}")]) from None
    return texts


def _distinct(group: list[Any]) -> list[Any]:
    """The matches of a group with distinct facts: two alternatives of a rule matching the same facts count once."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    out = []
    for match in group:
        key = tuple(sorted((name, fact.label) for name, fact in match.facts.items()))
        if key not in seen:
            seen.add(key)
            out.append(match)
    return out
