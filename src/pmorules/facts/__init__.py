"""Derive neutral facts from the knowledge base: one deriver per fact type (``facts/*.py``), registered with
its fields in ``base.REGISTRY``. ``FACT_TYPES`` is the field table the rule compiler checks rules against.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx

from ..gcpause import gc_paused
from ..graph import build_graph
from ..knowledge import KnowledgeBase
from ..measures import Conventions, TargetCover, term_shares
from ..numbers import clean_fields
from ..vocabulary import TERMS
from . import goals, harms, mix, services  # noqa: F401  (importing registers the fact types)
from .base import REGISTRY, Fact, FactType
from .derivation import Derivation
from .mix import data_age

FACT_TYPES: dict[str, dict[str, tuple[type, str]]] = {name: kind.fields for name, kind in REGISTRY.items()}


@dataclass
class FactBase:
    """The facts of one knowledge base, plus the measures the report shows beside the findings."""

    facts: list[Fact]
    summary: dict[str, Any]
    kb: KnowledgeBase
    covers: dict[str, list[TargetCover]]  # per goal: its targets and the services delivering them

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The knowledge graph, drawn when a view first asks for it: the facts need only the dependencies."""
        return build_graph(self.kb)


def derive_facts(kb: KnowledgeBase, today: dt.date | None = None, conventions: Conventions | None = None) -> FactBase:
    """All facts of one knowledge base.

    The cyclic garbage collector is paused meanwhile, as for loading: deriving
    builds many small acyclic objects, and collections took half the time at
    10,000 services.
    """
    with gc_paused():
        derivation = Derivation(kb, today or kb.today, conventions or Conventions())
        facts = [fact for kind in REGISTRY.values() for fact in kind.derive(derivation)]
        for fact in facts:
            clean_fields(fact.fields)
        shares = term_shares(derivation.active)
        summary = {
            "services": len(derivation.active),
            "shares": {term: round(shares[term], 4) for term in TERMS},
            "adherence": round(derivation.overall, 4) if derivation.overall is not None else None,
        }
        derivation.release()
        return FactBase(facts, summary, kb, derivation.covers)


__all__ = ["FACT_TYPES", "REGISTRY", "Fact", "FactBase", "FactType", "data_age", "derive_facts"]
