"""Run compiled rules over facts on the engine and collect what matched.

Facts reach the engine stripped to the fields some rule tests, with short
engine ids that are unique in the engine's 32-bit duplicate hash, plus the
answers of ``matches`` tests (rules/regex.py) as true/false fields. The gate fact
goes in last, so rules with absent patterns see every fact (the engine fires eagerly and never
withdraws a match).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .engine import Engine, fact_ids
from .facts import Fact
from .gcpause import gc_paused
from .rules.compile import GATE_PATTERN, GATE_TYPE, CompiledBook, CompiledRule


@dataclass
class Match:
    """One firing: the compiled rule alternative and the fact behind each positive pattern."""

    compiled: CompiledRule
    facts: dict[str, Fact]


def engine_facts(book: CompiledBook, facts: list[Fact]) -> tuple[list[dict[str, Any]], dict[str, Fact]]:
    """The facts some rule reads, as engine records, and the map back from engine id to fact."""
    records: list[dict[str, Any]] = []
    by_id: dict[str, Fact] = {}
    ids = fact_ids(len(facts))  # unique in the engine's 32-bit duplicate hash by construction
    reads = {fact_type: tuple(sorted(fields)) for fact_type, fields in book.reads.items()}
    for number, fact in enumerate(facts):
        fields = reads.get(fact.type)
        if fields is None:
            continue
        engine_id = ids[number]
        values = fact.fields
        record: dict[str, Any] = {"id": engine_id, "t": fact.type, "k": fact.key}
        for name in fields:
            if name in values:
                record[name] = values[name]
            elif (matcher := book.matchers.get(name)) is not None:
                text = fact.key if matcher.source == "k" else values.get(matcher.source)
                if isinstance(text, str):
                    record[name] = matcher.pattern.fullmatch(text)
        records.append(record)
        by_id[engine_id] = fact
    return records, by_id


def evaluate(book: CompiledBook, facts: list[Fact]) -> list[Match]:
    """Every match of every rule, in a deterministic order."""
    with gc_paused():  # tens of thousands of small acyclic records and matches
        return _evaluate(book, facts)


def _evaluate(book: CompiledBook, facts: list[Fact]) -> list[Match]:
    records, by_id = engine_facts(book, facts)
    matches: list[Match] = []
    for index, (shard, types) in enumerate(book.runs()):
        actions = {}
        for compiled in shard:
            names = {p.engine: p.name for p in compiled.positive}

            def act(matched: dict[str, dict[str, Any]], compiled: CompiledRule = compiled, names: dict[str, str] = names) -> None:
                found = {names[k]: by_id[v["id"]] for k, v in matched.items() if k != GATE_PATTERN}
                matches.append(Match(compiled, found))

            actions[compiled.engine_name] = act
        rules = {c.engine_name: c.definition for c in shard}
        with Engine(f"pmorules{index}", rules, actions) as engine:
            engine.assert_facts([r for r in records if r["t"] in types])
            if any(c.gated for c in shard):
                engine.assert_facts([{"id": "__gate__", "t": GATE_TYPE}])
    matches.sort(key=lambda m: (m.compiled.engine_name, sorted((k, f.label) for k, f in m.facts.items())))
    return matches
