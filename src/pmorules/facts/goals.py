"""Facts about goals, each target of a goal (aggregated over the services that deliver it), and clients.

One fact per goal target, not per goal × target × service: the count grows with
the input, and evidence still names the services (best service, contributors).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..dates import long_date
from ..knowledge import Service
from ..measures import (
    Deliveries, TargetCover, by_outcome, deliveries, delivering, goal_adherence, is_overdue, is_quick,
    months_without_default,
)
from .base import Fact, fact_type
from .derivation import Derivation


@fact_type("goal", "One goal: its deadline, weight and how likely it is met in time.", {
    "due_months": (float, "deadline in months from the evaluation date (negative: past)"),
    "due": (str, "deadline as a date, YYYY-MM-DD"),
    "overdue": (bool, "whether the deadline is before the evaluation date (then no cover, adherence or "
                      "service counts are measured)"),
    "priority": (float, "priority"),
    "priority_rank": (int, "1 for the goals of the highest priority, 2 for the next, ..."),
    "weight": (float, "priority times the weight of its client"),
    "adherence": (float, "how likely the goal is met in time (mean over its targets, 0..1)"),
    "adherence_eventual": (float, "the same, counting services that deliver after the deadline too"),
    "targets": (int, "outcomes plus directly named services"),
    "covered": (int, "targets some active service delivers in time"),
    "linked": (int, "active services delivering some target (in time or later)"),
    "in_time": (int, "active services delivering some target in time"),
    "earliest_months": (float, "earliest month an active service delivers some target (when any)"),
    "earliest_own_months": (float, "the same, were each outcome perceived as soon as the service's own value where "
                                   "only the catalogue's typical perception time makes it later (when any)"),
    "client": (str, "the client the goal belongs to (when given)"),
    "weakest_target": (str, "the target least likely delivered in time (lowest adherence, then id; when any)"),
    "weakest_service": (str, "the most valuable service delivering that target in time (when any)"),
}, title="goal {key}")
def goal_facts(d: Derivation) -> Iterator[Fact]:
    kb, conventions = d.kb, d.conventions
    ranks = {p: rank for rank, p in enumerate(sorted({g.priority for g in kb.goals.values()}, reverse=True), start=1)}
    for goal in kb.goals.values():
        fields: dict[str, Any] = {
            "due_months": goal.due_months, "due": goal.due.isoformat(), "overdue": is_overdue(goal),
            "priority": goal.priority, "priority_rank": ranks[goal.priority], "weight": d.weights[goal.id],
            "targets": len(goal.outcomes) + len(goal.services),
        }
        if goal.client:
            fields["client"] = goal.client
        sources = {"due_months": d.src("goal", goal.id, "due_months"),
                   "priority": d.src("goal", goal.id, "priority")}
        if fields["overdue"]:
            yield Fact("goal", goal.id, fields, sources)
            continue
        covers = d.covers[goal.id]
        linked, in_time = d.shared(_Shared).counts(covers, goal.due_months)
        fields |= {
            "adherence": d.adherence[goal.id],
            "adherence_eventual": goal_adherence(covers, conventions, in_time=False),
            "covered": sum(1 for c in covers if c.in_time_count),
            "linked": linked, "in_time": in_time,
        }
        if covers:
            weakest = min(covers, key=lambda c: (c.adherence(conventions), c.target))
            fields["weakest_target"] = weakest.target
            if weakest.best is not None:
                fields["weakest_service"] = weakest.best.service
        earliest = [c.earliest for c in covers if c.earliest is not None]
        if earliest:
            fields["earliest_months"] = min(earliest)
            fields["earliest_own_months"] = _earliest_own(d, covers, min(earliest), goal.due_months)
        words = {"adherence": f"{fields['covered']} of {len(covers)} targets delivered by {long_date(goal.due)}"}
        yield Fact("goal", goal.id, fields, sources, [], words)


@fact_type("goal_target", "One target of a goal (an outcome, or a service the goal names) and the services that "
                          "deliver it.", {
    "goal": (str, "the goal"),
    "target": (str, "an outcome or a directly named service"),
    "target_kind": (str, "outcome|service"),
    "due_months": (float, "the goal's deadline"),
    "months": (float, "when the outcome is usually perceived once delivered (outcome targets)"),
    "linked": (int, "active services delivering it (in time or later)"),
    "in_time": (int, "active services delivering it by the deadline"),
    "best_value": (float, "contribution × probability of the best service delivering it in time (when any)"),
    "best_service": (str, "that service (when any)"),
    "best_months": (float, "when that service delivers it"),
    "earliest_months": (float, "earliest month any active service delivers it (when any)"),
    "adherence": (float, "how likely it is delivered in time (0..1)"),
    "adherence_eventual": (float, "the same, counting late services too"),
    "best_value_own_time": (float, "best value in time were the outcome perceived as soon as each late service's "
                                   "own value, for services late only by the catalogue's typical perception time "
                                   "of the outcome (when any)"),
    "assumed_months": (float, "that typical perception time, in months (when best_value_own_time is given)"),
    "candidates_in_time": (int, "services not running (proposed or retired here, or in the catalogue and not "
                                "offered) that would deliver it by the deadline if started now"),
    "candidate": (str, "the most valuable of those (contribution × probability, then earliest; when any)"),
    "candidate_months": (float, "when that service would deliver it"),
}, title="{target} for goal {goal}")
def goal_target_facts(d: Derivation) -> Iterator[Fact]:
    shared = d.shared(_Shared)
    for goal in d.ahead:
        for cover in d.covers[goal]:
            fields, sources, tail, words = shared.target(cover)
            sources = {"due_months": d.src("goal", cover.goal, "due_months")} | sources
            path = [cover.goal, *tail] if cover.kind == "outcome" or len(tail) == 1 else [cover.goal, tail[-1]]
            yield Fact("goal_target", f"{cover.goal}/{cover.target}", {"goal": cover.goal} | fields, sources, path,
                       words)


class _Shared:
    """What goals aiming at the same targets by the same deadline share, worked out once: a target's fact by
    deadline, and the services delivering a set of targets. Goals grow with the services, and so do the services
    delivering a target: worked out per goal, these would grow with the square of the input."""

    def __init__(self, d: Derivation):
        self.d = d
        self._targets: dict[tuple[str, str, float], tuple] = {}
        self._counts: dict[tuple, int] = {}
        self._own: dict[tuple[str, str], list[tuple[float, float | None, float]]] = {}
        self._own_earliest: dict[tuple[str, str], float] = {}
        self._candidates: dict[tuple[str, str], Deliveries] = {}
        self._pool: tuple[dict[str, list[Service]], dict[str, Service]] | None = None

    def counts(self, covers: list[TargetCover], due: float) -> tuple[int, int]:
        """How many active services deliver some of these targets, in time or later, and by the deadline. The
        first is the same whatever the deadline: goals on the same targets by other dates share it."""
        targets = tuple((c.kind, c.target) for c in covers)
        return self._count(targets, covers, math.inf), self._count(targets, covers, due)

    def _count(self, targets: tuple[tuple[str, str], ...], covers: list[TargetCover], due: float) -> int:
        found = self._counts.get((targets, due))
        if found is None:
            found = self._counts[(targets, due)] = delivering(covers, due)
        return found

    def target(self, cover: TargetCover) -> tuple[dict[str, Any], dict[str, str], list[str], dict[str, str]]:
        """A goal target's fields, sources, path after the goal and words: the same for every goal aiming at
        it by the same deadline."""
        key = (cover.kind, cover.target, cover.due_months)
        found = self._targets.get(key)
        if found is None:
            found = self._targets[key] = self._target(cover)
        return found

    def _target(self, cover: TargetCover) -> tuple[dict[str, Any], dict[str, str], list[str], dict[str, str]]:
        d = self.d
        fields: dict[str, Any] = {
            "target": cover.target, "target_kind": cover.kind, "due_months": cover.due_months,
            "linked": len(cover.deliveries), "in_time": cover.in_time_count,
            "adherence": cover.adherence(d.conventions), "adherence_eventual": cover.adherence(d.conventions, False),
        }
        if cover.months is not None:
            fields["months"] = cover.months
        sources: dict[str, str] = {}
        best = cover.best
        tail = [cover.target]
        if best is not None:
            fields |= {"best_value": best.value, "best_service": best.service, "best_months": best.months}
            sources |= {"best_value": d.src("service", best.service, "probability"),
                        "best_months": d.src("service", best.service, "months_to_value")}
            tail.append(best.service)
        if cover.earliest is not None:
            fields["earliest_months"] = cover.earliest
        if cover.kind == "outcome" and cover.in_time_count < len(cover.deliveries):
            fields |= _without_default(d, cover)
        fields |= self.candidates(cover)
        contributors = ", ".join(f"{x.service} (month {x.months:g}, value {x.value:.2f})"
                                 for x in cover.listed if x.months <= cover.due_months)
        words = {"in_time": f"delivered in time by {contributors}" if contributors else "nothing delivers it in time"}
        return fields, sources, tail, words

    def candidates(self, cover: TargetCover) -> dict[str, Any]:
        """What a service not running yet could do for a target by its deadline: how many would make it, and the
        most valuable of them (what a text offers before it asks to renegotiate the date)."""
        key = (cover.kind, cover.target)
        found = self._candidates.get(key)
        if found is None:
            if self._pool is None:
                pool = [s for s in self.d.kb.services.values() if not s.active] + list(self.d.kb.candidates.values())
                self._pool = (by_outcome(pool), {s.id: s for s in pool})
            linked, by_id = self._pool
            services = linked.get(cover.target, []) if cover.kind == "outcome" else \
                [by_id[cover.target]] if cover.target in by_id else []
            found = self._candidates[key] = deliveries(cover.target, cover.kind, services, self.d.kb,
                                                       self.d.conventions)
        in_time = [x for x in found if x.months <= cover.due_months]  # best value first, then earliest
        if not in_time:
            return {"candidates_in_time": 0}
        return {"candidates_in_time": len(in_time), "candidate": in_time[0].service,
                "candidate_months": in_time[0].months}

    def own_times(self, cover: TargetCover) -> list[tuple[float, float | None, float]]:
        """Each delivery of a target: its month, its month with the catalogue's typical perception time set aside
        (months_without_default), its value. The same for every goal and deadline aiming at the target."""
        key = (cover.kind, cover.target)
        found = self._own.get(key)
        if found is None:
            found = self._own[key] = []
            for delivery in cover.deliveries:
                service = self.d.kb.services[delivery.service]
                link = next((link for link in service.links if link.outcome == cover.target), None)
                found.append((delivery.months, months_without_default(service, link, self.d.kb), delivery.value))
        return found

    def own_earliest(self, cover: TargetCover) -> float:
        """The earliest delivery of an outcome target with the catalogue's typical perception time set aside (the
        same for every goal aiming at the target, so worked out once)."""
        key = (cover.kind, cover.target)
        found = self._own_earliest.get(key)
        if found is None:
            found = self._own_earliest[key] = min((months if own is None else own
                                                   for months, own, _ in self.own_times(cover)), default=math.inf)
        return found


def _earliest_own(d: Derivation, covers: list[TargetCover], earliest: float, due: float) -> float:
    """The earliest delivery of a goal's targets with the catalogue's typical perception times set aside (only
    worked out when everything is late: otherwise it is in time either way)."""
    if earliest <= due:
        return earliest
    shared = d.shared(_Shared)
    return min([earliest] + [shared.own_earliest(c) for c in covers if c.kind == "outcome"])


def _without_default(d: Derivation, cover: TargetCover) -> dict[str, Any]:
    """The target's best value in time were the outcome perceived with each late service's own value, when some
    late service is late only by the catalogue's typical time."""
    best = cover.best.value if cover.best is not None else 0.0
    assumed = False
    for months, own, value in d.shared(_Shared).own_times(cover):
        if months > cover.due_months and own is not None and own <= cover.due_months:
            assumed, best = True, max(best, value)
    if not assumed:
        return {}
    return {"best_value_own_time": best, "assumed_months": d.kb.outcomes[cover.target].months}


@fact_type("client", "One client, and what the active services give it.", {
    "weight": (float, "relevance weight 0..1"),
    "services": (int, "active services serving it"),
    "quick_services": (int, "active services serving it whose value is perceived within the short horizon"),
    "quick_p_max": (float, "highest probability among those quick services (when any)"),
    "goals": (int, "goals it owns"),
}, title="client {key}")
def client_facts(d: Derivation) -> Iterator[Fact]:
    serving: dict[str, list] = {}
    for service in d.active:
        for client in dict.fromkeys(service.clients):
            serving.setdefault(client, []).append(service)
    owned: dict[str, int] = {}
    for goal in d.kb.goals.values():
        if goal.client:
            owned[goal.client] = owned.get(goal.client, 0) + 1
    for client in d.kb.clients.values():
        services = serving.get(client.id, [])
        quick = [s for s in services if is_quick(s, d.kb.horizons)]
        fields = {"weight": client.weight, "services": len(services), "quick_services": len(quick),
                  "goals": owned.get(client.id, 0)}
        if quick:
            fields["quick_p_max"] = max(s.probability for s in quick)
        words = {"quick_services": ", ".join(s.id for s in quick) or "no quick service serves it"}
        yield Fact("client", client.id, fields, {"weight": d.src("client", client.id, "weight")}, [], words)
