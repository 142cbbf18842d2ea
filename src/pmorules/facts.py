"""Derive neutral facts from the knowledge base and its graph.

A fact is a flat record of measurements (shares, months, counts, paths found)
that rules test. Facts never carry a verdict: ``share_short: 0.38`` yes,
``too_short_term: true`` no. ``FACT_TYPES`` documents every field; the rule
compiler refuses a rule that reads a field not listed here.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .graph import build_graph, dependant_counts, dependency_graph, hard_cycles, nearest_dependants, node, node_id
from .gcpause import gc_paused
from .knowledge import KnowledgeBase, Service, term_for_months
from .vocabulary import TERMS



# fact type -> field -> (type, description). The join key of every fact is ``key``.
FACT_TYPES: dict[str, dict[str, tuple[type, str]]] = {
    "mix": {
        "services": (int, "number of active services"),
        "share_short": (float, "effort share of active short-term services (0..1)"),
        "share_medium": (float, "effort share of active medium-term services (0..1)"),
        "share_long": (float, "effort share of active long-term services (0..1)"),
        "total_effort": (float, "summed effort of the active services"),
        "goals": (int, "number of goals"),
        "adherence": (float, "weighted mean adherence of the goals (only when there are goals)"),
        "age_months": (float, "age of the PMO in months (when given)"),
        "context": (str, "contextual scenario of the PMO (when given)"),
        "capacity_fte": (float, "capacity of the PMO in FTE (when given)"),
        "max_p_short": (float, "highest probability among active short-term services (when there are any)"),
        "value_gap_months": (float, "largest gap between consecutive months to value, starting from 0"),
        "months_given_share": (float, "share of active services that give months_to_value"),
        "short_max_months": (float, "horizon: last month that counts as short term"),
        "medium_max_months": (float, "horizon: last month that counts as medium term"),
        "assessment_age_months": (float, "months since organisation.assessed_on (when given)"),
    },
    "profile": {
        "term": (str, "short|medium|long"),
        "share": (float, "actual effort share of the term"),
        "target": (float, "the organisation's target share of the term"),
        "deviation": (float, "absolute difference between share and target"),
    },
    "tag": {
        "tag": (str, "the tag"),
        "count": (int, "active services carrying the tag"),
        "share": (float, "effort share of active services carrying the tag"),
    },
    "tag_approach": {
        "tag": (str, "the tag"),
        "approach": (str, "the approach"),
        "count": (int, "active services with the tag delivered in the approach"),
    },
    "service": {
        "status": (str, "active|proposed|retired"),
        "term": (str, "short|medium|long"),
        "months": (float, "months to first perceived value"),
        "months_given": (bool, "whether months_to_value was given (not a default by term)"),
        "probability": (float, "probability the service delivers (0..1)"),
        "effort": (float, "effort of the service"),
        "approach": (str, "delivery approach (when given)"),
        "catalogue": (str, "catalogue id it inherits from (when given)"),
        "clients": (int, "number of clients served"),
        "goals": (int, "number of goals it is linked to"),
        "dependants": (int, "active services needing it, directly or transitively (hard or soft)"),
        "hard_dependants": (int, "active services needing it over hard dependencies only"),
        "assessments": (int, "number of expert assessments"),
        "assessment_terms": (int, "number of distinct terms the assessments give"),
        "assessment_p_spread": (float, "highest minus lowest assessed probability"),
    },
    "dependency": {
        "src": (str, "the service that needs"), "dst": (str, "the service needed"),
        "kind": (str, "hard|soft"),
        "src_status": (str, "status of src"), "dst_status": (str, "status of dst (absent: not offered)"),
        "src_months": (float, "months to value of src"), "dst_months": (float, "months to value of dst (when offered)"),
        "src_term": (str, "term of src"), "dst_term": (str, "term of dst (when offered)"),
    },
    "cycle": {
        "members": (int, "number of services in the cycle"),
        "nodes": (str, "the cycle, as 'a > b > a'"),
        "first": (str, "the service the cycle starts at (its smallest id)"),
    },
    "harm": {
        "src": (str, "the harming service"), "target": (str, "the harmed service or outcome"),
        "target_kind": (str, "service|outcome"), "severity": (str, "low|medium|high"),
        "severity_rank": (int, "1 low, 2 medium, 3 high"),
        "applies": (bool, "whether the harming service runs in an approach the harm names (true if none named)"),
        "active": (bool, "source active, the harm applies, and the target is an active service or a goal's outcome"),
        "src_status": (str, "status of the harming service"), "src_term": (str, "term of the harming service"),
        "target_status": (str, "status of a harmed service (absent: not offered)"),
        "target_term": (str, "term of a harmed service"),
        "goals": (int, "goals aiming at the harmed outcome or service"),
        "goal_due_max": (float, "latest due month of those goals"),
        "goal_term": (str, "horizon of goal_due_max"),
        "mitigators": (int, "services named as mitigators"),
        "mitigator_ids": (str, "ids of the services named as mitigators, space-separated ('' if none)"),
        "active_mitigators": (int, "mitigators that are active"),
    },
    "harm_reach": {
        "src": (str, "the harming service"), "via": (str, "the harmed service"),
        "dst": (str, "the nearest active service of dst_term needing via (directly or transitively), "
                     "or the first-due goal of that horizon linked to via"),
        "dst_kind": (str, "service|goal"),
        "dst_term": (str, "term of dst (for a goal: horizon of its due month)"),
        "via_term": (str, "term of the harmed service"), "src_term": (str, "term of the harming service"),
        "severity": (str, "severity of the harm"), "severity_rank": (int, "1 low, 2 medium, 3 high"),
        "active": (bool, "the harm from src to via is active"), "hops": (int, "edges from via to dst"),
    },
    "goal": {
        "due_months": (float, "deadline in months from now"), "priority": (float, "priority"),
        "weight": (float, "priority times the weight of its client"),
        "adherence": (float, "probability-based adherence of the goal (0..1)"),
        "targets": (int, "outcomes plus directly linked services"),
        "linked": (int, "active services linked to it"),
        "earliest_months": (float, "smallest months to value among linked active services (when any)"),
        "client": (str, "its client (when given)"),
    },
    "goal_target": {
        "goal": (str, "the goal"), "target": (str, "an outcome or a directly linked service"),
        "target_kind": (str, "outcome|service"), "due_months": (float, "the goal's deadline"),
    },
    "goal_link": {
        "goal": (str, "the goal"), "target": (str, "the goal target the service serves"),
        "service": (str, "an active service linked to the target"),
        "months": (float, "months to value of the service"), "probability": (float, "its probability"),
        "term": (str, "its term"),
    },
    "client": {
        "weight": (float, "relevance weight 0..1"), "services": (int, "active services serving it"),
    },
    "serves": {
        "client": (str, "the client"), "service": (str, "an active service serving it"),
        "term": (str, "the service's term"), "months": (float, "the service's months to value"),
    },
    "review": {
        "month": (float, "a review month, months from now"),
    },
}


@dataclass
class Fact:
    """One neutral record: ``type``, a join ``key``, fields, and where each field came from."""

    type: str
    key: str
    fields: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)  # graph path behind the fact, as node ids

    @property
    def label(self) -> str:
        return f"{self.type}:{self.key}"


@dataclass
class FactBase:
    facts: list[Fact]
    summary: dict[str, Any]
    graph: nx.MultiDiGraph


_SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}


def _src(kb: KnowledgeBase, kind: str, item_id: str, name: str = "") -> str:
    where = kb.source(kind, item_id, name)
    return where.short() if where else ""


def _shares(active: list[Service], weigh) -> dict[str, float]:
    total = sum(weigh(s) for s in active)
    return {term: (sum(weigh(s) for s in active if s.term == term) / total if total else 0.0) for term in TERMS}


def _months_between(start: dt.date, end: dt.date) -> float:
    return round((end - start).days / 30.4375, 2)


def derive_facts(kb: KnowledgeBase, today: dt.date | None = None) -> FactBase:
    """All facts of one knowledge base.

    The cyclic garbage collector is paused meanwhile, as for loading: deriving
    builds many small acyclic objects, and collections took half the time at
    10,000 services.
    """
    with gc_paused():
        return _derive_facts(kb, today)


def _derive_facts(kb: KnowledgeBase, today: dt.date | None) -> FactBase:
    source_cache: dict[tuple[str, str, str], str] = {}

    def src(kind: str, item_id: str, name: str = "") -> str:  # _src, once per value (facts repeat them)
        key = (kind, item_id, name)
        found = source_cache.get(key)
        if found is None:
            found = source_cache[key] = _src(kb, kind, item_id, name)
        return found

    graph = build_graph(kb)
    facts: list[Fact] = []
    active = [s for s in kb.services.values() if s.active]
    total_effort = sum(s.effort for s in active)
    weigh = (lambda s: s.effort) if total_effort > 0 else (lambda s: 1.0)
    total_weight = sum(weigh(s) for s in active)
    shares = _shares(active, weigh)
    services_by_id = kb.services
    horizons = kb.horizons

    # Goals: targets, links and adherence.
    goal_links: dict[str, dict[str, list[Service]]] = {}
    adherence: dict[str, float] = {}
    active_by_outcome: dict[str, list[Service]] = {}  # in the order of `active`
    for service in active:
        for outcome in dict.fromkeys(service.outcomes):
            active_by_outcome.setdefault(outcome, []).append(service)
    for goal in kb.goals.values():
        targets: dict[str, list[Service]] = {}
        for outcome in goal.outcomes:
            targets[outcome] = list(active_by_outcome.get(outcome, ()))
        for service_id in goal.services:
            service = services_by_id.get(service_id)
            targets[service_id] = [service] if service is not None and service.active else []
        goal_links[goal.id] = targets
        per_target = [1 - math.prod(1 - s.probability for s in linked) for linked in targets.values()]
        adherence[goal.id] = sum(per_target) / len(per_target) if per_target else 0.0

    def goal_weight(goal) -> float:
        client = kb.clients.get(goal.client) if goal.client else None
        return goal.priority * (client.weight if client else 1.0)

    weights = {g.id: goal_weight(g) for g in kb.goals.values()}
    overall = (
        sum(weights[g] * adherence[g] for g in adherence) / sum(weights.values())
        if kb.goals and sum(weights.values()) > 0
        else None
    )

    # Mix.
    mix: dict[str, Any] = {
        "services": len(active),
        "share_short": shares["short"], "share_medium": shares["medium"], "share_long": shares["long"],
        "total_effort": total_effort,
        "goals": len(kb.goals),
        "short_max_months": horizons.short_max_months, "medium_max_months": horizons.medium_max_months,
    }
    if overall is not None:
        mix["adherence"] = overall
    org = kb.organisation
    for name in ("age_months", "context", "capacity_fte"):
        if getattr(org, name) is not None:
            mix[name] = getattr(org, name)
    short_ps = [s.probability for s in active if s.term == "short"]
    if short_ps:
        mix["max_p_short"] = max(short_ps)
    if active:
        months = sorted([0.0] + [s.months for s in active])
        mix["value_gap_months"] = max(b - a for a, b in zip(months, months[1:]))
        mix["months_given_share"] = sum(1 for s in active if s.months_given) / len(active)
    if org.assessed_on is not None:
        mix["assessment_age_months"] = _months_between(org.assessed_on, today or dt.date.today())
    mix_sources = {name: src("organisation", "", name) for name in ("age_months", "context", "capacity_fte")}
    mix_sources["assessment_age_months"] = src("organisation", "", "assessed_on")
    facts.append(Fact("mix", "mix", mix, {k: v for k, v in mix_sources.items() if v and k in mix}))

    if org.target_profile is not None:
        for term in TERMS:
            target = getattr(org.target_profile, term)
            facts.append(
                Fact(
                    "profile", term,
                    {"term": term, "share": shares[term], "target": target, "deviation": abs(shares[term] - target)},
                    {"target": src("organisation", "", "target_profile")},
                )
            )

    # Tags.
    tags = sorted({t for s in kb.services.values() for t in s.tags} | {"capability", "control", "delivery", "firefighting", "reporting"})
    for tag in tags:
        tagged = [s for s in active if tag in s.tags]
        facts.append(
            Fact("tag", tag, {"tag": tag, "count": len(tagged), "share": sum(weigh(s) for s in tagged) / total_weight if total_weight else 0.0})
        )
        for approach in sorted({s.approach for s in tagged if s.approach}):
            count = sum(1 for s in tagged if s.approach == approach)
            facts.append(Fact("tag_approach", f"{tag}/{approach}", {"tag": tag, "approach": approach, "count": count}))

    # Services and dependencies.
    deps_all = dependency_graph(graph)
    deps_hard = dependency_graph(graph, ("hard",))
    goals_of_service: dict[str, set[str]] = {}
    for goal_id, targets in goal_links.items():
        for linked in targets.values():
            for service in linked:
                goals_of_service.setdefault(service.id, set()).add(goal_id)
    all_counts, hard_counts = dependant_counts(deps_all), dependant_counts(deps_hard)
    for service in kb.services.values():
        key = node("service", service.id)
        fields: dict[str, Any] = {
            "status": service.status, "term": service.term, "months": service.months,
            "months_given": service.months_given, "probability": service.probability, "effort": service.effort,
            "clients": len(service.clients), "goals": len(goals_of_service.get(service.id, ())),
            "dependants": all_counts.get(key, 0),
            "hard_dependants": hard_counts.get(key, 0),
            "assessments": len(service.assessments),
        }
        if service.approach:
            fields["approach"] = service.approach
        if service.catalogue:
            fields["catalogue"] = service.catalogue
        if service.assessments:
            fields["assessment_terms"] = len({a.term for a in service.assessments if a.term})
            ps = [a.probability for a in service.assessments if a.probability is not None]
            fields["assessment_p_spread"] = (max(ps) - min(ps)) if ps else 0.0
        sources = {name: src("service", service.id, src_name) for name, src_name in (
            ("status", "status"), ("term", "term"), ("months", "months_to_value"), ("probability", "probability"),
            ("effort", "effort"), ("approach", "approach"), ("clients", "clients"), ("assessments", "assessments"),
            ("assessment_terms", "assessments"), ("assessment_p_spread", "assessments"),
        )}
        facts.append(Fact("service", service.id, fields, {k: v for k, v in sources.items() if v}))

        for dep in service.depends_on:
            target = services_by_id.get(dep.target)
            dep_fields: dict[str, Any] = {
                "src": service.id, "dst": dep.target, "kind": dep.kind,
                "src_status": service.status, "dst_status": target.status if target else "absent",
                "src_months": service.months, "src_term": service.term,
            }
            if target:
                dep_fields |= {"dst_months": target.months, "dst_term": target.term}
            facts.append(
                Fact("dependency", f"{service.id}>{dep.target}", dep_fields, {"kind": dep.location.short()}, [service.id, dep.target])
            )

    for index, cycle in enumerate(hard_cycles(graph), start=1):
        ids = [node_id(k) for k in cycle]
        facts.append(Fact("cycle", f"cycle{index}", {"members": len(ids), "nodes": " > ".join(ids + ids[:1]), "first": ids[0]}, {}, ids + ids[:1]))

    # Harms.
    goals_aiming: dict[str, list[float]] = {}
    for goal in kb.goals.values():
        for target in list(goal.outcomes) + list(goal.services):
            goals_aiming.setdefault(target, []).append(goal.due_months)
    nearest_by_term = {  # per term: the nearest active service of that term needing each service
        term: nearest_dependants(deps_all, [node("service", s.id) for s in active if s.term == term]) for term in TERMS
    }
    for service in kb.services.values():
        for index, harm in enumerate(service.harms):
            applies = harm.approaches is None or (service.approach in harm.approaches)
            target_service = services_by_id.get(harm.target) if harm.target_kind == "service" else None
            dues = goals_aiming.get(harm.target, [])
            target_active = target_service is not None and target_service.active
            active_harm = service.active and applies and (target_active or (harm.target_kind == "outcome" and bool(dues)))
            fields = {
                "src": service.id, "target": harm.target, "target_kind": harm.target_kind,
                "severity": harm.severity, "severity_rank": _SEVERITY_RANK[harm.severity], "applies": applies,
                "active": active_harm, "src_status": service.status, "src_term": service.term,
                "goals": len(dues), "mitigators": len(harm.mitigated_by), "mitigator_ids": " ".join(harm.mitigated_by),
                "active_mitigators": sum(1 for m in harm.mitigated_by if m in services_by_id and services_by_id[m].active),
            }
            if harm.target_kind == "service":
                fields["target_status"] = target_service.status if target_service else "absent"
                if target_service:
                    fields["target_term"] = target_service.term
            if dues:
                fields["goal_due_max"] = max(dues)
                fields["goal_term"] = term_for_months(max(dues), horizons)
            facts.append(
                Fact("harm", f"{service.id}>{harm.target}#{index}", fields,
                     {"severity": harm.location.short(), "src_term": src("service", service.id, "term")},
                     [service.id, harm.target])
            )
            if target_service is None:
                continue
            via_key = node("service", target_service.id)
            reach: list[tuple[str, str, str, list[str]]] = []
            for term in TERMS:
                chain = nearest_by_term[term].get(via_key)
                if chain:
                    reach.append((node_id(chain[-1]), "service", term, [node_id(k) for k in chain]))
            first_goal: dict[str, Any] = {}  # per horizon: the goal linked to via that is due first
            for goal_id in sorted(goals_of_service.get(target_service.id, ())):
                goal = kb.goals[goal_id]
                term = term_for_months(goal.due_months, horizons)
                if term not in first_goal or goal.due_months < first_goal[term].due_months:
                    first_goal[term] = goal
            for term, goal in sorted(first_goal.items()):
                reach.append((goal.id, "goal", term, [target_service.id, goal.id]))
            for dst_id, dst_kind, dst_term, path in reach:
                facts.append(
                    Fact(
                        "harm_reach", f"{service.id}>{target_service.id}>{dst_kind}:{dst_id}#{index}",
                        {"src": service.id, "via": target_service.id, "dst": dst_id, "dst_kind": dst_kind,
                         "dst_term": dst_term, "via_term": target_service.term, "src_term": service.term,
                         "severity": harm.severity, "severity_rank": _SEVERITY_RANK[harm.severity],
                         "active": service.active and applies and target_service.active, "hops": len(path) - 1},
                        {"severity": harm.location.short()},
                        [service.id] + path,
                    )
                )

    # Goals, their targets and links.
    for goal in kb.goals.values():
        targets = goal_links[goal.id]
        linked = {s.id: s for ss in targets.values() for s in ss}
        fields = {
            "due_months": goal.due_months, "priority": goal.priority, "weight": weights[goal.id],
            "adherence": adherence[goal.id], "targets": len(targets), "linked": len(linked),
        }
        if linked:
            fields["earliest_months"] = min(s.months for s in linked.values())
        if goal.client:
            fields["client"] = goal.client
        facts.append(Fact("goal", goal.id, fields, {"due_months": src("goal", goal.id, "due_months"),
                                                    "priority": src("goal", goal.id, "priority")}))
        for target, services in targets.items():
            kind = "service" if target in goal.services else "outcome"
            facts.append(Fact("goal_target", f"{goal.id}/{target}",
                              {"goal": goal.id, "target": target, "target_kind": kind, "due_months": goal.due_months},
                              {"due_months": src("goal", goal.id, "due_months")}, [goal.id, target]))
            for service in services:
                facts.append(Fact("goal_link", f"{goal.id}/{target}/{service.id}",
                                  {"goal": goal.id, "target": target, "service": service.id, "months": service.months,
                                   "probability": service.probability, "term": service.term},
                                  {"months": src("service", service.id, "months_to_value"),
                                   "probability": src("service", service.id, "probability")},
                                  [goal.id, target, service.id] if kind == "outcome" else [goal.id, service.id]))

    # Clients.
    active_by_client: dict[str, list[Service]] = {}  # in the order of `active`
    for service in active:
        for client_id in dict.fromkeys(service.clients):
            active_by_client.setdefault(client_id, []).append(service)
    for client in kb.clients.values():
        serving = active_by_client.get(client.id, [])
        facts.append(Fact("client", client.id, {"weight": client.weight, "services": len(serving)},
                          {"weight": src("client", client.id, "weight")}))
        for service in serving:
            facts.append(Fact("serves", f"{client.id}/{service.id}",
                              {"client": client.id, "service": service.id, "term": service.term, "months": service.months},
                              {"term": src("service", service.id, "term")}, [service.id, client.id]))

    for month in sorted(set(org.reviews_months)):
        facts.append(Fact("review", f"month{month:g}", {"month": month}, {"month": src("organisation", "", "reviews_months")}))

    for fact in facts:
        fact.fields = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in fact.fields.items()}
    summary = {
        "services": len(active),
        "shares": {term: round(shares[term], 4) for term in TERMS},
        "adherence": round(overall, 4) if overall is not None else None,
    }
    return FactBase(facts, summary, graph)
