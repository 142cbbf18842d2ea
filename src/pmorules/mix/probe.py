"""Ask the engine what a rule says about facts the mix could create, instead of mirroring its conditions.

The mix needs to know, before it solves, which harm edges, services, dependencies, clients, goal targets
and share levels a rule would flag. It copies the fact each would have in some mix, changes the fields the
mix decides (a harm active and unmitigated, a service at another size, a share just past a threshold), and
runs the rule itself on the copies. Python never restates a rule's conditions or thresholds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..evaluate import evaluate
from ..facts import REGISTRY, Fact
from ..facts.derivation import Derivation
from ..knowledge import KnowledgeBase, Service
from ..measures import Conventions
from ..numbers import clean_fields
from ..rules.compile import CompiledBook, fields_read
from ..rules.load import Rule

DELTA = 1e-6  # a value this far past a threshold (a number a person wrote) is past it for the rule too


def flagged(book: CompiledBook, rule: Rule, probes: list[Fact], context: Iterable[Fact]) -> list[bool]:
    """For each probe fact: does the rule match with it (beside the context facts)? One engine run, over the
    distinct probes only: the engine sees only the fields the rule reads, so probes equal on them are one."""
    compiled = [c for c in book.rules if c.rule.id == rule.id]
    if not probes or not compiled:
        return [False] * len(probes)
    fields = {kind: sorted(names) for kind, names in fields_read(compiled).items()}
    distinct: dict[tuple, Fact] = {}
    signatures = [signature(fact, fields.get(fact.type, ())) for fact in probes]
    for sig, fact in zip(signatures, probes):
        distinct.setdefault(sig, fact)
    index = {id(fact): sig for sig, fact in distinct.items()}
    types = {p.fact for c in compiled for p in c.patterns}
    probe_types = {f.type for f in probes}
    facts = [f for f in context if f.type in types and f.type not in probe_types] + list(distinct.values())
    hits: set[tuple] = set()
    for match in evaluate(CompiledBook(compiled, fields_read(compiled)), facts):
        for fact in match.facts.values():
            if id(fact) in index:
                hits.add(index[id(fact)])
    return [sig in hits for sig in signatures]


def signature(fact: Fact, fields: Iterable[str]) -> tuple:
    """What the engine sees of a fact when rules read these fields (``k`` is the key)."""
    return (fact.type,) + tuple(fact.key if name == "k" else fact.fields.get(name) for name in fields)


def reads_of(book: CompiledBook, rule: Rule, fact_type: str) -> list[str]:
    """The fields of one fact type a rule reads (``k``: the key)."""
    return sorted(fields_read([c for c in book.rules if c.rule.id == rule.id]).get(fact_type, ()))


def reads(rule: Rule) -> set[str]:
    """The fact types a rule matches on."""
    return {p.fact for p in rule.spec.match or []}


def variant(fact: Fact, **fields: Any) -> Fact:
    """A copy of a fact with some fields changed (numbers cleaned as in the analysis's facts)."""
    return Fact(fact.type, fact.key, {**fact.fields, **clean_fields(fields)}, fact.sources, fact.path, fact.words)


def universe_facts(kb: KnowledgeBase, services: dict[str, Service], today: dt.date, conventions: Conventions,
                   types: Iterable[str]) -> dict[str, list[Fact]]:
    """Facts of the given types in a knowledge base with these services (every candidate active): the raw
    material of probes, numbers cleaned as in the analysis's facts."""
    derivation = Derivation(replace(kb, services=services), today, conventions)
    out = {}
    for name in types:
        out[name] = list(REGISTRY[name].derive(derivation))
        for fact in out[name]:
            clean_fields(fact.fields)
    return out
