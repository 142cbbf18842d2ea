"""Cause by counterfactual: what is found once one change alone is undone.

A change is credited with a finding only when undoing that change alone moves it: the finding goes away (the
change caused it) or comes back (the change resolved or avoided it). Naming a service is not enough: the harm
of a status pack that appears because the tool that mitigated it was retired is the retirement's doing, not a
change of the pack's own figures. A finding two changes are each credited with is their joint doing.

Each change costs one re-evaluation of the whole rulebook (about 2.5 s at 1,000 services, 0.07 s on the example), so
the count is bounded: above ``LIMIT`` (changes × services) a comparison falls back to the findings about each
service, and says so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Hashable, Mapping, TypeVar

from .analysis import Analysis
from .evaluate import evaluate
from .facts import derive_facts
from .findings import Headline, fingerprint, headlines_of
from .knowledge import KnowledgeBase, Service

# Changes × services re-evaluated at most: 10 changes on 1,000 services, about 2.5 s each there
# (benchmarks/bench_cause.py); documented in docs/history.md.
LIMIT = 10_000

Key = TypeVar("Key", bound=Hashable)


def affordable(changes: int, services: int) -> bool:
    """Whether undoing each of ``changes`` changes on a workspace of ``services`` services stays within ``LIMIT``."""
    return changes * max(services, 1) <= LIMIT


def found_without(analysis: Analysis, variants: Mapping[Key, KnowledgeBase]) -> dict[Key, frozenset[str]]:
    """The fingerprints found on each variant of the analysis's knowledge (one change undone): one evaluation
    each, as ``reanalyze`` runs it, without the findings' texts and evidence."""
    return {key: frozenset(heads) for key, heads in headlines_without(analysis, variants).items()}


def headlines_without(analysis: Analysis, variants: Mapping[Key, KnowledgeBase]) -> dict[Key, dict[str, Headline]]:
    """As ``found_without``, each fingerprint with what it is (rule, level, subjects): what a change keeps away is
    a finding the knowledge has on neither side, so only its variant can name it."""
    conventions = analysis.config.config.adherence.conventions()
    out = {}
    for key, kb in variants.items():
        heads = headlines_of(evaluate(analysis.compiled, derive_facts(kb, analysis.today, conventions).facts))
        out[key] = {fingerprint(h.rule, h.subjects): h for h in heads}
    return out


def with_service(kb: KnowledgeBase, sid: str, service: Service | None) -> KnowledgeBase:
    """The knowledge with one service put back as it was (``None``: as if it had never been there)."""
    services = {k: v for k, v in kb.services.items() if k != sid}
    if service is not None:
        services[sid] = service if service.id == sid else replace(service, id=sid)
    return replace(kb, services=services)


def credited(found: Mapping[Key, frozenset[str]], appeared: list[str],
             went: list[str]) -> dict[Key, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per change: the fingerprints that appeared and go away when it alone is undone (it caused them), and those
    that went away and come back (it resolved them)."""
    return {key: (tuple(p for p in appeared if p not in prints), tuple(p for p in went if p in prints))
            for key, prints in found.items()}
