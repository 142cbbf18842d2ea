"""What every deriver shares: the knowledge base, today, the conventions, and measures computed once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import networkx as nx

from ..graph import dependency_graph, release_views
from ..knowledge import KnowledgeBase, Service
from ..measures import (
    Conventions, TargetCover, goal_adherence, goal_covers, goal_weight, is_overdue, overall_adherence,
)

T = TypeVar("T")


class Derivation:
    """One derivation of facts: inputs plus lazily computed shared measures."""

    def __init__(self, kb: KnowledgeBase, today: dt.date, conventions: Conventions):
        self.kb = kb
        self.today = today
        self.conventions = conventions
        self._sources: dict[tuple[str, str, str], str] = {}
        self._shared: dict[Callable[..., Any], Any] = {}

    def shared(self, build: Callable[[Derivation], T]) -> T:
        """What several derivers need, built once per derivation by ``build(self)``."""
        if build not in self._shared:
            self._shared[build] = build(self)
        return self._shared[build]

    def release(self) -> None:
        """Drop the shared measures: each holds the derivation, a reference cycle that would keep all of them
        (graphs, covers, reach tables) until the cyclic collector runs; and the views the dependency graphs
        keep of themselves."""
        self._shared.clear()
        for name in ("dependencies", "hard_dependencies"):
            if name in vars(self):
                release_views(vars(self)[name])

    def src(self, kind: str, item_id: str, name: str = "") -> str:
        """Where a value was written, as ``file:line`` (cached: facts repeat them)."""
        key = (kind, item_id, name)
        found = self._sources.get(key)
        if found is None:
            where = self.kb.source(kind, item_id, name)
            found = self._sources[key] = where.short() if where else ""
        return found

    def item_sources(self, kind: str, item_id: str, names: tuple[str, ...]) -> dict[str, str]:
        """Where each of one item's values was written, as ``src`` gives it, not cached: the facts of a service
        ask for each of its values once, so remembering them (800,000 at 100,000 services) bought nothing."""
        sources = self.kb.sources
        whole = sources.get((kind, item_id, ""))
        shown = whole.short() if whole else ""
        found = {}
        for name in names:
            where = sources.get((kind, item_id, name))
            found[name] = where.short() if where else shown
        return found

    @cached_property
    def active(self) -> list[Service]:
        return [s for s in self.kb.services.values() if s.active]

    @cached_property
    def covers(self) -> dict[str, list[TargetCover]]:
        return goal_covers(self.kb, self.conventions)

    @cached_property
    def weights(self) -> dict[str, float]:
        return {g.id: goal_weight(g, self.kb.clients) for g in self.kb.goals.values()}

    @cached_property
    def ahead(self) -> list[str]:
        """The goals whose due date is not past: the ones adherence and the goal targets are measured for."""
        return [g.id for g in self.kb.goals.values() if not is_overdue(g)]

    @cached_property
    def adherence(self) -> dict[str, float]:
        return {goal: goal_adherence(self.covers[goal], self.conventions) for goal in self.ahead}

    @cached_property
    def overall(self) -> float | None:
        return overall_adherence(self.adherence, self.weights)

    @cached_property
    def goals_of_service(self) -> dict[str, list[str]]:
        """The goals each active service delivers some target of (in time or later), sorted. Services delivering
        the same targets share one list (never modify it): goals and the services delivering each target both
        grow with the organisation, and a list per service would grow with their product."""
        goals_of_target: dict[tuple[str, str], list[str]] = {}
        deliveries: dict[tuple[str, str], tuple] = {}
        for goal, covers in self.covers.items():
            for cover in covers:
                goals_of_target.setdefault((cover.kind, cover.target), []).append(goal)
                deliveries[(cover.kind, cover.target)] = cover.deliveries  # goals share one tuple per target
        targets_of: dict[str, list[tuple[str, str]]] = {}
        for target, found in deliveries.items():
            for delivery in found:
                targets_of.setdefault(delivery.service, []).append(target)
        shared: dict[tuple[tuple[str, str], ...], list[str]] = {}
        out: dict[str, list[str]] = {}
        for service, targets in targets_of.items():
            key = tuple(targets)  # in the order of `deliveries`, so the same targets give the same key
            if key not in shared:
                shared[key] = sorted({goal for target in targets for goal in goals_of_target[target]})
            out[service] = shared[key]
        return out

    @cached_property
    def dependencies(self) -> nx.DiGraph:
        """The active services and their dependencies (hard and soft)."""
        return dependency_graph(self.kb)

    @cached_property
    def hard_dependencies(self) -> nx.DiGraph:
        return dependency_graph(self.kb, ("hard",))
