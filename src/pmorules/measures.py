"""The shared measures: one definition of each quantity the facts, the mix and the report compute.

Neutral measurements only (shares, months, adherence, whether a harm applies);
no threshold and no verdict lives here. The formulas are documented in
docs/measures.md; tests check them against hand-computed cases.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property

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


def group_shares(services: list[Service], key: Callable[[Service], Hashable]) -> dict[Hashable, float]:
    """Effort share (count share when no effort is given) of each group of services, in one pass."""
    weigh = effort_weigh(services)
    total = sum(weigh(s) for s in services)
    shares: dict[Hashable, float] = {}
    for service in services:
        shares[key(service)] = shares.get(key(service), 0.0) + weigh(service)
    return {group: part / total if total else 0.0 for group, part in shares.items()}


def term_shares(services: list[Service]) -> dict[str, float]:
    """Effort share per term (the nature of the services: when each first pays off after it starts)."""
    shares = group_shares(services, lambda s: s.term)
    return {term: shares.get(term, 0.0) for term in TERMS}


def is_quick(service: Service, horizons: Horizons) -> bool:
    """Whether its value is perceived within the short horizon from today (value already perceived counts)."""
    return service.months <= horizons.short_max_months


def quick_share(services: list[Service], horizons: Horizons) -> float:
    """Effort share of the services whose value is perceived within the short horizon from today."""
    return share_of(services, lambda s: is_quick(s, horizons))


def builds_lasting(service: Service) -> bool:
    """Whether it builds lasting capability: long-term by nature, or tagged ``capability`` (coaching, training,
    culture) whatever its horizon, since a workspace may rate such a service's first value within a year."""
    return service.term == "long" or "capability" in service.tags


def imposes(service: Service) -> bool:
    """Whether it controls: tagged control, or delivered in an approach that imposes (directive, controlling)."""
    return "control" in service.tags or service.approach in IMPOSING_APPROACHES


def longest_wait(months: Iterable[float]) -> tuple[float, float]:
    """When the longest wait between consecutive first-perceived values starts and ends, counting from today."""
    arrivals = sorted({0.0, *months})
    return max(zip(arrivals, arrivals[1:]), key=lambda pair: pair[1] - pair[0], default=(0.0, 0.0))


def value_gap(months: Iterable[float]) -> float:
    """The longest wait between consecutive first-perceived values, starting from today."""
    start, end = longest_wait(months)
    return end - start


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


def months_without_default(service: Service, link: OutcomeLink | None, kb: KnowledgeBase) -> float | None:
    """When a service would deliver an outcome were it perceived as soon as the service's own value: only for
    a link whose timing rests on the catalogue's typical perception time of the outcome (no months on the link,
    none stated for the outcome by the workspace), else None. The catalogue's time is an assumption, not
    evidence that this service is late."""
    if link is None or link.months is not None or ("outcome", link.outcome, "months") in kb.sources:
        return None
    return max(0.0, service.months_to_value - service.running_months)


def target_adherence(values: Iterable[float], redundancy: float) -> float:
    """How likely a goal target is delivered by services of these values (contribution × probability):

        (1 − λ) · max v  +  λ · (1 − Π (1 − v)),   0 without any service.

    λ (redundancy) credits backups: 0 counts the best service only, 1 treats services as independent.
    """
    values = list(values)
    if not values:
        return 0.0
    return (1 - redundancy) * max(values) + redundancy * (1 - math.prod(1 - v for v in values))


CONTRIBUTORS_LISTED = 8
"""How many of a goal target's deliveries are listed (in facts' words, the JSON and the report): the best few, in
time first. Every delivery still counts in the measures; what grows with goals × services is never listed."""


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


class Deliveries(tuple):
    """The deliveries of one target, best value first, with a time profile shared by every goal aiming at it.

    Sorted by delivery month, the services delivering by a deadline are a prefix: a cumulative best value and a
    cumulative product of (1 − v) answer the adherence of any deadline by one binary search.
    """

    @cached_property
    def _profile(self) -> tuple[list[float], list[float], list[float], list[str]]:
        months, best, product, services = [], [], [], []
        top, remaining = 0.0, 1.0
        for delivery in sorted(self, key=lambda d: (d.months, -d.value, d.service)):
            top, remaining = max(top, delivery.value), remaining * (1 - delivery.value)
            months.append(delivery.months)
            best.append(top)
            product.append(remaining)
            services.append(delivery.service)
        return months, best, product, services

    @cached_property
    def _services_by(self) -> dict[float, frozenset[str]]:
        return {}

    @cached_property
    def _listed(self) -> dict[float, tuple[Delivery, ...]]:
        return {}

    def services_by(self, due: float) -> frozenset[str]:
        """The services delivering by month ``due`` (``inf``: all of them), worked out once per deadline."""
        found = self._services_by.get(due)
        if found is None:
            found = self._services_by[due] = frozenset(self._profile[3][:self.count_by(due)])
        return found

    def listed(self, due: float) -> tuple[Delivery, ...]:
        """The best few deliveries for deadline ``due`` (at most CONTRIBUTORS_LISTED): those by the deadline best
        value first, then the late ones in the same order. Worked out once per deadline, whatever the goals."""
        found = self._listed.get(due)
        if found is None:
            in_time = list(itertools.islice((d for d in self if d.months <= due), CONTRIBUTORS_LISTED))
            late = [] if len(in_time) == CONTRIBUTORS_LISTED else list(
                itertools.islice((d for d in self if d.months > due), CONTRIBUTORS_LISTED - len(in_time)))
            found = self._listed[due] = tuple(in_time + late)
        return found

    def count_by(self, due: float) -> int:
        """How many deliver by month ``due``."""
        return bisect_right(self._profile[0], due)

    def adherence_by(self, due: float, redundancy: float) -> float:
        """target_adherence of the deliveries by month ``due`` (``inf``: all of them)."""
        count = self.count_by(due)
        if not count:
            return 0.0
        _, best, product, _ = self._profile
        return (1 - redundancy) * best[count - 1] + redundancy * (1 - product[count - 1])


@dataclass(frozen=True)
class TargetCover:
    """A goal target (an outcome of the goal, or a service it names) and the services that deliver it."""

    goal: str
    target: str
    kind: str  # outcome | service
    due_months: float
    months: float | None  # when the outcome is usually perceived (outcome targets)
    deliveries: Deliveries  # best value first

    @property
    def in_time(self) -> tuple[Delivery, ...]:
        """The deliveries by the deadline, best value first."""
        return tuple(d for d in self.deliveries if d.months <= self.due_months)

    @property
    def in_time_count(self) -> int:
        return self.deliveries.count_by(self.due_months)

    def adherence(self, conventions: Conventions, in_time: bool = True) -> float:
        return self.deliveries.adherence_by(self.due_months if in_time else math.inf, conventions.redundancy)

    @property
    def listed(self) -> tuple[Delivery, ...]:
        """The best few deliveries (Deliveries.listed): what is shown of a target, however many deliver it."""
        return self.deliveries.listed(self.due_months)

    @property
    def best(self) -> Delivery | None:
        """The most valuable delivery in time (the earliest among equals)."""
        listed = self.listed
        return listed[0] if listed and listed[0].months <= self.due_months else None

    @property
    def earliest(self) -> float | None:
        profile = self.deliveries._profile[0]
        return profile[0] if profile else None


def deliveries(target: str, kind: str, services: Iterable[Service], kb: KnowledgeBase,
               conventions: Conventions) -> Deliveries:
    """The deliveries of a target by the given services, best value first (ties: earliest, then id)."""
    found = []
    for service in services:
        if kind == "service":
            if service.id == target:
                found.append(Delivery(service.id, service.months, conventions.primary, service.probability))
            continue
        for link in service.links:  # a loop, not next() over a generator: it runs for each service of each target
            if link.outcome == target:
                found.append(Delivery(service.id, link_months(service, link, kb.outcomes.get(target)),
                                      contribution(link, conventions), service.probability))
                break
    return Deliveries(sorted(found, key=lambda d: (-d.value, d.months, d.service)))


def by_outcome(services: Iterable[Service]) -> dict[str, list[Service]]:
    """The services linked to each outcome, in the given order."""
    index: dict[str, list[Service]] = {}
    for service in services:
        for outcome in dict.fromkeys(service.outcomes):
            index.setdefault(outcome, []).append(service)
    return index


def is_overdue(goal: Goal) -> bool:
    """Whether its due date is before the evaluation date: nothing can deliver it in time any more, so it is
    out of the adherence and its targets are not judged; its services still count as linked to a goal."""
    return goal.due_months < 0


def goal_covers(kb: KnowledgeBase, conventions: Conventions, services: Iterable[Service] | None = None
                ) -> dict[str, list[TargetCover]]:
    """Per goal, each target with the deliveries of the given services (default: the active services)."""
    pool = [s for s in kb.services.values() if s.active] if services is None else list(services)
    linked = by_outcome(pool)
    by_id = {s.id: s for s in pool}
    known: dict[tuple[str, str], Deliveries] = {}  # goals share targets: each is measured once

    def delivered(target: str, kind: str) -> Deliveries:
        if (target, kind) not in known:
            candidates = linked.get(target, []) if kind == "outcome" else [by_id[target]] if target in by_id else []
            known[(target, kind)] = deliveries(target, kind, candidates, kb, conventions)
        return known[(target, kind)]

    covers: dict[str, list[TargetCover]] = {}
    for goal in kb.goals.values():
        targets = [(o, "outcome") for o in goal.outcomes] + [(s, "service") for s in goal.services]
        covers[goal.id] = [
            TargetCover(goal.id, target, kind, goal.due_months,
                        kb.outcomes[target].months if kind == "outcome" and target in kb.outcomes else None,
                        delivered(target, kind))
            for target, kind in targets
        ]
    return covers


def delivering(covers: list[TargetCover], due: float = math.inf) -> int:
    """How many services deliver some of a goal's targets by month ``due`` (``inf``: at all, in time or later)."""
    return _union_size([c.deliveries.services_by(due) for c in covers])


def _union_size(sets: list[frozenset[str]]) -> int:
    """How many members the sets have together, without building the union of the last one (of a goal's two
    targets, |A| + |B| − |A ∩ B|: a goal's targets can each be delivered by thousands of services)."""
    if not sets:
        return 0
    *first, last = sets
    seen = first[0] if len(first) == 1 else frozenset().union(*first)
    return len(seen) + len(last) - len(last & seen)


def goal_adherence(covers: list[TargetCover], conventions: Conventions, in_time: bool = True) -> float:
    """The mean adherence of a goal's targets."""
    return sum(c.adherence(conventions, in_time) for c in covers) / len(covers) if covers else 0.0


def overall_adherence(adherence: dict[str, float], weights: dict[str, float]) -> float | None:
    """Σ w·a / Σ w over the goals measured; None without goals (or without any weight)."""
    total = sum(weights[g] for g in adherence)
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


class Mitigators:
    """Which of the given (active) services mitigate a harm: named by id, by a catalogue id they offer, or by a tag.

    Indexed once, so that each harm costs the size of its mitigator list, not the size of the mix.
    """

    def __init__(self, services: Iterable[Service]):
        self.order: dict[str, int] = {}
        self.index: dict[tuple[str, str], list[str]] = {}
        for number, service in enumerate(services):
            self.order[service.id] = number
            self.index.setdefault(("service", service.id), []).append(service.id)
            if service.catalogue:
                self.index.setdefault(("catalogue", service.catalogue), []).append(service.id)
            for tag in dict.fromkeys(service.tags):
                self.index.setdefault(("tag", tag), []).append(service.id)

    def of(self, harm: Harm) -> list[str]:
        found = {sid for m in harm.mitigated_by for sid in self.index.get((m.kind, m.ref), ())}
        return sorted(found, key=self.order.__getitem__)


def active_mitigators(harm: Harm, active: Iterable[Service]) -> list[str]:
    """The active services that mitigate a harm (for one harm; index with ``Mitigators`` for many)."""
    return Mitigators(active).of(harm)
