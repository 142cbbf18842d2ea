"""The shared measures: one definition of each quantity the facts, the mix and the report compute.

Neutral measurements only (shares, months, adherence, whether a harm applies);
no threshold and no verdict lives here. The formulas are documented in
docs/measures.md; tests check them against hand-computed cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .knowledge import Harm, KnowledgeBase, OutcomeLink, Service, term_for_months
from .knowledge.spec import Client, Goal, Horizons, Outcome
from .vocabulary import IMPOSING_APPROACHES, TERMS


@dataclass(frozen=True)
class Conventions:
    """How links count towards adherence (``[adherence]`` in pmorules.toml): a measurement convention, not a rule."""

    primary: float = 1.0  # contribution of a primary link (the outcome needs this service)
    supporting: float = 0.5  # contribution of a supporting link (the service helps)
    redundancy: float = 0.5  # credit for backups: 0 = only the best link counts, 1 = independent services


# ---------------------------------------------------------------- effort and time


def effort_weigh(services: Iterable[Service]) -> Callable[[Service], float]:
    """How a service counts in a share: its effort, or 1 each when the services give no effort at all."""
    return (lambda s: s.effort) if sum(s.effort for s in services) > 0 else (lambda s: 1.0)


def share_of(services: list[Service], part: Callable[[Service], bool]) -> float:
    """Effort share (count share when no effort is given) of the services for which ``part`` holds."""
    weigh = effort_weigh(services)
    total = sum(weigh(s) for s in services)
    return sum(weigh(s) for s in services if part(s)) / total if total else 0.0


def term_shares(services: list[Service]) -> dict[str, float]:
    """Effort share per term (the nature of the services: when each first pays off after it starts)."""
    return {term: share_of(services, lambda s, term=term: s.term == term) for term in TERMS}


def is_quick(service: Service, horizons: Horizons) -> bool:
    """Whether its value is perceived within the short horizon from today (value already perceived counts)."""
    return service.months <= horizons.short_max_months


def quick_share(services: list[Service], horizons: Horizons) -> float:
    """Effort share of the services whose value is perceived within the short horizon from today."""
    return share_of(services, lambda s: is_quick(s, horizons))


def imposes(service: Service) -> bool:
    """Whether it controls: tagged control, or delivered in an approach that imposes (directive, controlling)."""
    return "control" in service.tags or service.approach in IMPOSING_APPROACHES


def value_gap(months: Iterable[float]) -> float:
    """The longest wait between consecutive first-perceived values, starting from today."""
    arrivals = sorted({0.0, *months})
    return max((b - a for a, b in zip(arrivals, arrivals[1:])), default=0.0)


def horizon(months: float, horizons: Horizons) -> str:
    return term_for_months(months, horizons)


# ---------------------------------------------------------------- goals and adherence


def goal_weight(goal: Goal, clients: dict[str, Client]) -> float:
    """A goal's weight: its priority times its client's weight (1 without a client)."""
    client = clients.get(goal.client) if goal.client else None
    return goal.priority * (client.weight if client else 1.0)


def contribution(link: OutcomeLink | None, conventions: Conventions) -> float:
    """The weight of a link: primary, supporting or the number given (a goal's direct service link is primary)."""
    if link is None or link.contribution == "primary":
        return conventions.primary
    if link.contribution == "supporting":
        return conventions.supporting
    return float(link.contribution)


def link_months(service: Service, link: OutcomeLink | None, outcome: Outcome | None) -> float:
    """When a service delivers an outcome, in months from today.

    Counted from the service's start: not before its own value is perceived, nor before the outcome can be
    (the link's months when given, else the outcome's); what the service has run already counts.
    """
    own = link.months if link is not None and link.months is not None else (outcome.months if outcome else None)
    return max(0.0, max(service.months_to_value, own or 0.0) - service.running_months)


def target_adherence(values: Iterable[float], redundancy: float) -> float:
    """How likely a goal target is delivered by services of these values (contribution × probability):

        (1 − λ) · max v  +  λ · (1 − Π (1 − v)),   0 without any service.

    λ (redundancy) credits backups: 0 counts the best service only, 1 treats services as independent.
    """
    values = list(values)
    if not values:
        return 0.0
    return (1 - redundancy) * max(values) + redundancy * (1 - math.prod(1 - v for v in values))


@dataclass(frozen=True)
class Delivery:
    """One service delivering one goal target: when, and how much it is worth."""

    service: str
    months: float  # when it delivers the target
    contribution: float
    probability: float

    @property
    def value(self) -> float:
        return self.contribution * self.probability


@dataclass(frozen=True)
class TargetCover:
    """A goal target (an outcome of the goal, or a service it names) and the services that deliver it."""

    goal: str
    target: str
    kind: str  # outcome | service
    due_months: float
    months: float | None  # when the outcome is usually perceived (outcome targets)
    deliveries: tuple[Delivery, ...]  # best value first

    @property
    def in_time(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if d.months <= self.due_months)

    def adherence(self, conventions: Conventions, in_time: bool = True) -> float:
        chosen = self.in_time if in_time else self.deliveries
        return target_adherence((d.value for d in chosen), conventions.redundancy)

    @property
    def best(self) -> Delivery | None:
        """The most valuable delivery in time (the earliest among equals)."""
        return next(iter(self.in_time), None)

    @property
    def earliest(self) -> float | None:
        return min((d.months for d in self.deliveries), default=None)


def deliveries(target: str, kind: str, services: Iterable[Service], kb: KnowledgeBase,
               conventions: Conventions) -> tuple[Delivery, ...]:
    """The deliveries of a target by the given services, best value first (ties: earliest, then id)."""
    found = []
    for service in services:
        if kind == "service":
            if service.id == target:
                found.append(Delivery(service.id, service.months, conventions.primary, service.probability))
            continue
        link = next((link for link in service.links if link.outcome == target), None)
        if link is not None:
            found.append(Delivery(service.id, link_months(service, link, kb.outcomes.get(target)),
                                  contribution(link, conventions), service.probability))
    return tuple(sorted(found, key=lambda d: (-d.value, d.months, d.service)))


def by_outcome(services: Iterable[Service]) -> dict[str, list[Service]]:
    """The services linked to each outcome, in the given order."""
    index: dict[str, list[Service]] = {}
    for service in services:
        for outcome in dict.fromkeys(service.outcomes):
            index.setdefault(outcome, []).append(service)
    return index


def goal_covers(kb: KnowledgeBase, conventions: Conventions, services: Iterable[Service] | None = None
                ) -> dict[str, list[TargetCover]]:
    """Per goal, each target with the deliveries of the given services (default: the active services)."""
    pool = [s for s in kb.services.values() if s.active] if services is None else list(services)
    linked = by_outcome(pool)
    by_id = {s.id: s for s in pool}
    covers: dict[str, list[TargetCover]] = {}
    for goal in kb.goals.values():
        targets = [(o, "outcome", linked.get(o, [])) for o in goal.outcomes]
        targets += [(s, "service", [by_id[s]] if s in by_id else []) for s in goal.services]
        covers[goal.id] = [
            TargetCover(goal.id, target, kind, goal.due_months,
                        kb.outcomes[target].months if kind == "outcome" and target in kb.outcomes else None,
                        deliveries(target, kind, candidates, kb, conventions))
            for target, kind, candidates in targets
        ]
    return covers


def goal_adherence(covers: list[TargetCover], conventions: Conventions, in_time: bool = True) -> float:
    """The mean adherence of a goal's targets."""
    return sum(c.adherence(conventions, in_time) for c in covers) / len(covers) if covers else 0.0


def overall_adherence(adherence: dict[str, float], weights: dict[str, float]) -> float | None:
    """Σ w·a / Σ w over the goals; None without goals (or without any weight)."""
    total = sum(weights.values())
    if not adherence or total <= 0:
        return None
    return sum(weights[g] * a for g, a in adherence.items()) / total


# ---------------------------------------------------------------- harms


def harm_applies(harm: Harm, approach: str | None) -> bool:
    """Whether a harm applies to a service run in this approach (a harm naming no approach always applies)."""
    return harm.approaches is None or approach in harm.approaches


def harm_present(harm: Harm, services: dict[str, Service]) -> bool:
    """Whether what a harm hits is there: an active target service, or an outcome or a client relationship."""
    if harm.target_kind != "service":
        return True
    target = services.get(harm.target)
    return target is not None and target.active


def active_mitigators(harm: Harm, active: Iterable[Service]) -> list[str]:
    """The active services that mitigate a harm: named by id, by a catalogue id they offer, or by a tag they carry."""
    ids = {m.ref for m in harm.mitigated_by if m.kind == "service"}
    catalogue = {m.ref for m in harm.mitigated_by if m.kind == "catalogue"}
    tags = {m.ref for m in harm.mitigated_by if m.kind == "tag"}
    return [s.id for s in active if s.id in ids or s.catalogue in catalogue or tags.intersection(s.tags)]
