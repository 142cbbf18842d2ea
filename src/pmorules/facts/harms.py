"""Facts about harms: each harm of each service, and what long-term value it reaches through the graph."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..graph import nearest_dependants, needs_of, node, node_id
from ..knowledge import Harm, Service
from ..knowledge.spec import Goal
from ..measures import Mitigators, harm_applies, harm_present, horizon
from ..vocabulary import SEVERITY_RANK, TERMS
from .base import Fact, fact_type
from .derivation import Derivation


@dataclass(frozen=True)
class GoalsHit:
    """What the harm facts read of the goals a harm hits: how many, the latest due month and the lowest adherence
    measured (None: no goal, or none measured)."""

    count: int
    due_max: float | None
    adherence_min: float | None

    @classmethod
    def of(cls, goals: list[str], d: Derivation) -> GoalsHit:
        measured = [d.adherence[g] for g in goals if g in d.adherence]
        return cls(len(goals), max((d.kb.goals[g].due_months for g in goals), default=None),
                   min(measured) if measured else None)

    @classmethod
    def of_parts(cls, parts: list[GoalsHit]) -> GoalsHit:
        """The goals of disjoint parts together (a goal has one client at most)."""
        dues = [p.due_max for p in parts if p.due_max is not None]
        adherences = [p.adherence_min for p in parts if p.adherence_min is not None]
        return cls(sum(p.count for p in parts), max(dues) if dues else None, min(adherences) if adherences else None)


class _Harms:
    """What the harm facts of one derivation share: which goals each target carries, nearest dependants."""

    def __init__(self, d: Derivation):
        self.d = d
        self._first_due: dict[int, tuple[list[str], list[tuple[str, Goal]]]] = {}
        self._aiming: dict[tuple[str, str], list[str]] = {}
        self._clients: dict[int, tuple[list[str], dict[str | None, list[str]]]] = {}
        self._sums: dict[tuple[int, str | None], tuple[list[str], GoalsHit]] = {}
        self._hit: dict[tuple[int, tuple[str, ...]], tuple[list[str], GoalsHit]] = {}

    @cached_property
    def goals_naming(self) -> dict[str, list[str]]:
        """The goals naming each outcome, service and client."""
        out: dict[str, list[str]] = {}
        for goal in self.d.kb.goals.values():
            for target in list(goal.outcomes) + list(goal.services) + ([goal.client] if goal.client else []):
                out.setdefault(target, []).append(goal.id)
        return out

    def goals_aiming(self, harm: Harm) -> list[str]:
        """The goals aiming at a harm's target (a harmed service: the goals it delivers), whoever owns them. One
        list per target, and services that no goal names share Derivation.goals_of_service's (never modify
        it): harms and the goals of a target both grow with the organisation."""
        key = (harm.target_kind, harm.target)
        goals = self._aiming.get(key)
        if goals is None:
            goals = self.goals_naming.get(harm.target, [])
            if harm.target_kind == "service":
                delivered = self.d.goals_of_service.get(harm.target, [])
                goals = sorted(set(goals).union(delivered)) if goals else delivered
            self._aiming[key] = goals
        return goals

    def goals_hit(self, service: Service, harm: Harm) -> GoalsHit:
        """The goals the harm hits, summed up: those aiming at its target, of the harmed party when the harm falls
        on the clients the service serves (a goal without a client counts: its owner is unknown).

        Summed up once per shared list of goals and client, and combined per harm: harms and goals both grow
        with the organisation, and going through the goals of every harm again cost a tenth of the facts at
        100,000 services."""
        aimed = self.goals_aiming(harm)
        if harm.party != "served":
            return self._summed(aimed, "*")
        key = (id(aimed), tuple(sorted(set(service.clients))))
        found = self._hit.get(key)
        if found is None:
            by_client = self._by_client(aimed)
            hit = GoalsHit.of_parts([self._summed(aimed, client) for client in (None, *key[1]) if client in by_client])
            found = self._hit[key] = (aimed, hit)  # the list is kept, so its id stays its own
        return found[1]

    def _by_client(self, goals: list[str]) -> dict[str | None, list[str]]:
        """A shared list of goals by their client (None: the goals without one), worked out once per list."""
        found = self._clients.get(id(goals))
        if found is None:
            by_client: dict[str | None, list[str]] = {}
            for goal_id in goals:
                by_client.setdefault(self.d.kb.goals[goal_id].client, []).append(goal_id)
            found = self._clients[id(goals)] = (goals, by_client)
        return found[1]

    def _summed(self, goals: list[str], client: str | None) -> GoalsHit:
        """The goals of a shared list that belong to one client ("*", never an id: all of them), summed up once."""
        found = self._sums.get((id(goals), client))
        if found is None:
            part = goals if client == "*" else self._by_client(goals).get(client, [])
            found = self._sums[(id(goals), client)] = (goals, GoalsHit.of(part, self.d))
        return found[1]

    def first_due(self, goals: list[str]) -> list[tuple[str, Goal]]:
        """Per horizon, the first-due of these goals (the lowest id among equals). Services delivering the same
        targets share one list of goals (Derivation.goals_of_service), worked out once."""
        found = self._first_due.get(id(goals))
        if found is None:
            first: dict[str, tuple[float, str]] = {}
            for goal_id in goals:
                term, due = self._due[goal_id]
                held = first.get(term)
                if held is None or due < held[0]:
                    first[term] = (due, goal_id)
            kb_goals = self.d.kb.goals
            found = self._first_due[id(goals)] = (goals, sorted((term, kb_goals[g]) for term, (_, g) in first.items()))
        return found[1]

    @cached_property
    def _due(self) -> dict[str, tuple[str, float]]:
        """Each goal's horizon and due month (first_due goes through thousands of goals per list of them)."""
        horizons = self.d.kb.horizons
        return {goal.id: (horizon(goal.due_months, horizons), goal.due_months) for goal in self.d.kb.goals.values()}

    @cached_property
    def nearest(self) -> dict[str, dict[str, list[str]]]:
        """Per term: the nearest active service of that term needing each harmed service."""
        needs = needs_of(self.d.dependencies)
        harmed = {node("service", harm.target) for s in self.d.kb.services.values() for harm in s.harms
                  if harm.target_kind == "service"}
        return {term: nearest_dependants(needs, [node("service", s.id) for s in self.d.active if s.term == term], harmed)
                for term in TERMS}


def _words(service: Service, harm: Harm, applies: bool, present: bool, target: Service | None) -> dict[str, str]:
    """Why the harm is or is not active, in words."""
    if not service.active:
        because = f"{service.id} is {service.status}, not running"
    elif not applies:
        runs = f"runs {service.approach}" if service.approach else "gives no approach"
        because = f"the harm applies to the {' or '.join(harm.approaches or ())} approach; {service.id} {runs}"
    elif not present:
        because = f"the harmed service {harm.target} is " + (f"{target.status}" if target else "not offered")
    else:
        return {"active": f"{service.id} runs and the harm applies"}
    return {"active": f"not active: {because}", "applies": because if not applies else "the harm applies"}


@fact_type("harm", "One harm (dis-benefit) of a service on a service, an outcome or a client relationship.", {
    "src": (str, "the harming service"),
    "target": (str, "the harmed service, outcome or client"),
    "target_kind": (str, "service|outcome|client (the PMO's relationship with that client)"),
    "severity": (str, "low|medium|high"), "severity_rank": (int, "1 low, 2 medium, 3 high"),
    "party": (str, "who suffers it: any, or served (the clients the harming service serves)"),
    "applies": (bool, "whether the harming service runs in an approach the harm names (true if none named)"),
    "active": (bool, "the harming service is active, the harm applies, and its target is there (an active "
                     "service, or an outcome or client relationship, which always are)"),
    "src_status": (str, "status of the harming service"), "src_term": (str, "term of the harming service"),
    "target_status": (str, "status of a harmed service (absent: not offered)"),
    "target_term": (str, "term of a harmed service, or when a harmed outcome is usually perceived"),
    "goals": (int, "goals the harm hits: aiming at its target, of the harmed party"),
    "goals_all": (int, "goals aiming at its target, whoever they belong to"),
    "goal_due_max": (float, "latest due month of those goals"),
    "goal_term": (str, "horizon of goal_due_max"),
    "mitigators": (int, "mitigators named (services or tags)"),
    "mitigator_ids": (str, "the mitigators named, space-separated ('' if none; tags as tag:name)"),
    "active_mitigators": (int, "active services that mitigate it"),
    "active_mitigator_ids": (str, "ids of the active services that mitigate it, space-separated"),
    "delivering_mitigators": (int, "active mitigators whose value is already perceived (they have run at least "
                                   "their months to value): the harm is being counteracted now"),
    "delivering_mitigator_ids": (str, "ids of those mitigators, space-separated"),
}, title="the harm of {src} on {target}")
def harm_facts(d: Derivation) -> Iterator[Fact]:
    shared = d.shared(_Harms)
    services, outcomes = d.kb.services, d.kb.outcomes
    mitigators = Mitigators(d.active)
    for service in services.values():
        for index, harm in enumerate(service.harms):
            target = services.get(harm.target) if harm.target_kind == "service" else None
            applies = harm_applies(harm, service.approach)
            present = harm_present(harm, services)
            mitigating = mitigators.of(harm)
            delivering = [sid for sid in mitigating if services[sid].months == 0]
            hit = shared.goals_hit(service, harm)
            aimed = shared.goals_aiming(harm)
            fields: dict[str, Any] = {
                "src": service.id, "target": harm.target, "target_kind": harm.target_kind,
                "severity": harm.severity, "severity_rank": SEVERITY_RANK[harm.severity], "party": harm.party,
                "applies": applies, "active": service.active and applies and present,
                "src_status": service.status, "src_term": service.term, "goals": hit.count, "goals_all": len(aimed),
                "mitigators": len(harm.mitigated_by), "mitigator_ids": " ".join(str(m) for m in harm.mitigated_by),
                "active_mitigators": len(mitigating), "active_mitigator_ids": " ".join(mitigating),
                "delivering_mitigators": len(delivering), "delivering_mitigator_ids": " ".join(delivering),
            }
            if harm.target_kind == "service":
                fields["target_status"] = target.status if target else "absent"
                if target:
                    fields["target_term"] = target.term
            elif harm.target_kind == "outcome" and outcomes[harm.target].term:
                fields["target_term"] = outcomes[harm.target].term
            if hit.due_max is not None:
                fields["goal_due_max"] = hit.due_max
                fields["goal_term"] = horizon(hit.due_max, d.kb.horizons)
            words = _words(service, harm, applies, present, target)
            words["active_mitigators"] = (f"mitigated by {', '.join(mitigating)}" if mitigating else
                                          f"none of {fields['mitigator_ids'] or 'its (unnamed) mitigators'} is active")
            words["delivering_mitigators"] = (f"{', '.join(delivering)} already delivers" if delivering else
                                              "no active mitigator delivers yet" if mitigating else "no mitigator runs")
            yield Fact("harm", f"{service.id}>{harm.target}#{index}", fields,
                       {"severity": harm.location.short(), "src_term": d.src("service", service.id, "term")},
                       [service.id, harm.target], words)


@fact_type("harm_basis", "What a harm rests on in this workspace: stated here, or only the catalogue's pattern for an "
                         "approach; and the signs that would show it biting.", {
    "harm": (str, "the harm (the key of its harm fact)"),
    "stated": (bool, "the workspace states the harm itself (in the service's harms), not only the catalogue"),
    "approach_only": (bool, "the harm applies only in the approaches it names"),
    "target_probability": (float, "probability of the harmed service (when the target is a service)"),
    "goal_adherence_min": (float, "lowest adherence among the goals still ahead that the harm hits (when any)"),
}, title="what the harm {harm} rests on")
def harm_basis_facts(d: Derivation) -> Iterator[Fact]:
    shared = d.shared(_Harms)
    for service in d.kb.services.values():
        for index, harm in enumerate(service.harms):
            key = f"{service.id}>{harm.target}#{index}"
            fields: dict[str, Any] = {"harm": key, "stated": harm.stated, "approach_only": harm.approaches is not None}
            target = d.kb.services.get(harm.target) if harm.target_kind == "service" else None
            if target is not None:
                fields["target_probability"] = target.probability
            lowest = shared.goals_hit(service, harm).adherence_min
            if lowest is not None:
                fields["goal_adherence_min"] = lowest
            yield Fact("harm_basis", key, fields, {"stated": harm.location.short()}, [service.id, harm.target])


@fact_type("harm_reach", "A harm on a service that long-term value builds on: the nearest service or goal that "
                         "needs the harmed service.", {
    "src": (str, "the harming service"), "via": (str, "the harmed service"),
    "dst": (str, "the nearest active service of dst_term needing via (directly or transitively), "
                 "or the first-due goal of that horizon linked to via"),
    "dst_kind": (str, "service|goal"),
    "dst_term": (str, "term of dst (for a goal: horizon of its due month)"),
    "via_term": (str, "term of the harmed service"), "src_term": (str, "term of the harming service"),
    "severity": (str, "severity of the harm"), "severity_rank": (int, "1 low, 2 medium, 3 high"),
    "active": (bool, "the harm from src to via is active"), "hops": (int, "edges from via to dst"),
}, title="the harm of {src} on {via}, which {dst} builds on")
def harm_reach_facts(d: Derivation) -> Iterator[Fact]:
    shared = d.shared(_Harms)
    for service in d.kb.services.values():
        for index, harm in enumerate(service.harms):
            via = d.kb.services.get(harm.target) if harm.target_kind == "service" else None
            if via is None:
                continue
            active = service.active and harm_applies(harm, service.approach) and via.active
            for dst, dst_kind, dst_term, path in _reach(d, shared, via):
                yield Fact(
                    "harm_reach", f"{service.id}>{via.id}>{dst_kind}:{dst}#{index}",
                    {"src": service.id, "via": via.id, "dst": dst, "dst_kind": dst_kind, "dst_term": dst_term,
                     "via_term": via.term, "src_term": service.term, "severity": harm.severity,
                     "severity_rank": SEVERITY_RANK[harm.severity], "active": active, "hops": len(path) - 1},
                    {"severity": harm.location.short()}, [service.id] + path,
                )


def _reach(d: Derivation, shared: _Harms, via: Service) -> list[tuple[str, str, str, list[str]]]:
    """Per term, the nearest active service needing ``via``, and the first-due goal ``via`` delivers."""
    reach = []
    key = node("service", via.id)
    for term in TERMS:
        chain = shared.nearest[term].get(key)
        if chain:
            reach.append((node_id(chain[-1]), "service", term, [node_id(k) for k in chain]))
    for term, goal in shared.first_due(d.goals_of_service.get(via.id, [])):
        reach.append((goal.id, "goal", term, [via.id, goal.id]))
    return reach
