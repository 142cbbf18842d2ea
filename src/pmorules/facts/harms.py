"""Facts about harms: each harm of each service, and what long-term value it reaches through the graph."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

from ..graph import nearest_dependants, node, node_id
from ..knowledge import Harm, Service
from ..knowledge.spec import Goal
from ..measures import Mitigators, harm_applies, harm_present, horizon
from ..vocabulary import SEVERITY_RANK, TERMS
from .base import Fact, fact_type
from .derivation import Derivation


class _Harms:
    """What the harm facts of one derivation share: which goals each target carries, nearest dependants."""

    def __init__(self, d: Derivation):
        self.d = d
        self._first_due: dict[int, tuple[list[str], list[tuple[str, Goal]]]] = {}
        self._aiming: dict[tuple[str, str], list[str]] = {}
        self._hit: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
        self._over: dict[tuple[int, str], tuple[list[str], Any]] = {}

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
        list per target, shared by its harms (never modify it): harms and the goals of a target both grow with
        the organisation."""
        key = (harm.target_kind, harm.target)
        goals = self._aiming.get(key)
        if goals is None:
            goals = self.goals_naming.get(harm.target, [])
            if harm.target_kind == "service":
                goals = sorted(set(goals).union(self.d.goals_of_service.get(harm.target, ())))
            self._aiming[key] = goals
        return goals

    def over(self, goals: list[str], what: str) -> Any:
        """The latest due month (``what`` "due") or the lowest adherence ("adherence", None if none is measured)
        of a shared list of goals, worked out once per list."""
        found = self._over.get((id(goals), what))
        if found is None:
            if what == "due":
                value: Any = max(self.d.kb.goals[g].due_months for g in goals)
            else:
                value = min((self.d.adherence[g] for g in goals if g in self.d.adherence), default=None)
            found = self._over[(id(goals), what)] = (goals, value)  # the list is kept, so its id stays its own
        return found[1]

    def goals_hit(self, service: Service, harm: Harm) -> list[str]:
        """The goals the harm hits: those aiming at its target, of the harmed party when the harm falls on the
        clients the service serves (a goal without a client counts: its owner is unknown)."""
        goals = self.goals_aiming(harm)
        if harm.party != "served":
            return goals
        key = (harm.target_kind, harm.target, tuple(sorted(service.clients)))
        found = self._hit.get(key)
        if found is None:
            found = self._hit[key] = [g for g in goals if (client := self.d.kb.goals[g].client) is None
                                      or client in service.clients]
        return found

    def first_due(self, goals: list[str]) -> list[tuple[str, Goal]]:
        """Per horizon, the first-due of these goals (the lowest id among equals). Services delivering the same
        targets share one list of goals (Derivation.goals_of_service), worked out once."""
        found = self._first_due.get(id(goals))
        if found is None:
            first: dict[str, Goal] = {}
            for goal_id in goals:
                goal = self.d.kb.goals[goal_id]
                term = horizon(goal.due_months, self.d.kb.horizons)
                if term not in first or goal.due_months < first[term].due_months:
                    first[term] = goal
            found = self._first_due[id(goals)] = (goals, sorted(first.items()))
        return found[1]

    @cached_property
    def nearest(self) -> dict[str, dict[str, list[str]]]:
        """Per term: the nearest active service of that term needing each harmed service."""
        deps = self.d.dependencies
        harmed = {node("service", harm.target) for s in self.d.kb.services.values() for harm in s.harms
                  if harm.target_kind == "service"}
        return {term: nearest_dependants(deps, [node("service", s.id) for s in self.d.active if s.term == term], harmed)
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
                "src_status": service.status, "src_term": service.term, "goals": len(hit), "goals_all": len(aimed),
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
            if hit:
                due = shared.over(hit, "due")
                fields["goal_due_max"] = due
                fields["goal_term"] = horizon(due, d.kb.horizons)
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
            lowest = shared.over(shared.goals_hit(service, harm), "adherence")
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
