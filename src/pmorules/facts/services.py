"""Facts about each service, its dependencies, and tangles of hard dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

from ..graph import DEPENDANTS_CAP, dependant_counts, hard_cycles, node, node_id, tangles
from ..measures import is_quick
from .base import Fact, fact_type
from .derivation import Derivation


class _Dependants:
    """Dependant counts over all and over hard dependencies (computed once per derivation)."""

    def __init__(self, d: Derivation):
        self.d = d

    @cached_property
    def all(self) -> dict[str, int]:
        return dependant_counts(self.d.dependencies)

    @cached_property
    def hard(self) -> dict[str, int]:
        return dependant_counts(self.d.hard_dependencies)


_WRITTEN = ("status", "term", "probability", "effort", "approach", "clients", "months_to_value", "assessments")


@fact_type("service", "One service of the workspace (active, proposed or retired).", {
    "status": (str, "active|proposed|retired"),
    "term": (str, "short|medium|long: when its value is first perceived after it starts"),
    "months": (float, "months from today until its value is perceived (less what it has run already)"),
    "months_to_value": (float, "months from its start until its value is perceived"),
    "running_months": (float, "how long it has run already"),
    "months_given": (bool, "whether months_to_value was given (not a default by term)"),
    "quick": (bool, "whether its value is perceived within the short horizon from today"),
    "probability": (float, "probability the service delivers (0..1)"),
    "effort": (float, "effort of the service"),
    "approach": (str, "delivery approach (when given)"),
    "catalogue": (str, "catalogue id it inherits from (when given)"),
    "keep": (bool, "the workspace asks to keep it in any recommended mix"),
    "clients": (int, "number of clients served"),
    "client_ids": (list, "the ids of the clients it serves (test with contains or any_in)"),
    "goals": (int, "number of goals it delivers a target of"),
    "goal_ids": (list, "the ids of the goals it delivers a target of"),
    "outcome_ids": (list, "the ids of the outcomes it contributes to"),
    "dependants": (int, f"active services needing it, directly or transitively (hard or soft; counted up to "
                        f"{DEPENDANTS_CAP})"),
    "hard_dependants": (int, f"active services needing it over hard dependencies only (counted up to {DEPENDANTS_CAP})"),
    "assessments": (int, "number of experts whose assessment counts (each expert's latest round)"),
    "assessment_rounds": (int, "the latest round of assessment (0: not assessed)"),
    "assessment_terms": (int, "number of distinct terms the experts give"),
    "assessment_p_spread": (float, "highest minus lowest probability the experts give"),
    "assessment_months_spread": (float, "latest minus earliest months to value the experts give"),
}, title="service {key}")
def service_facts(d: Derivation) -> Iterator[Fact]:
    counts = d.shared(_Dependants)
    for service in d.kb.services.values():
        key = node("service", service.id)
        fields: dict[str, Any] = {
            "status": service.status, "term": service.term, "months": service.months,
            "months_to_value": service.months_to_value, "running_months": service.running_months,
            "months_given": service.months_given, "quick": is_quick(service, d.kb.horizons),
            "probability": service.probability, "effort": service.effort, "keep": service.keep,
            "clients": len(service.clients), "client_ids": sorted(service.clients),
            "goals": len(d.goals_of_service.get(service.id, ())),
            "goal_ids": d.goals_of_service.get(service.id, []),
            "outcome_ids": sorted({link.outcome for link in service.links}),
        }
        if service.active:
            fields["dependants"] = counts.all.get(key, 0)
            fields["hard_dependants"] = counts.hard.get(key, 0)
        for name in ("approach", "catalogue"):
            if getattr(service, name) is not None:
                fields[name] = getattr(service, name)
        agreed = service.consensus  # the figures the report and `pmorules assess` show (knowledge/consensus.py)
        fields["assessments"] = len(agreed.assessors) if agreed else 0
        fields["assessment_rounds"] = agreed.rounds if agreed else 0
        fields["assessment_terms"] = agreed.terms if agreed else 0
        fields["assessment_p_spread"] = agreed.p_spread if agreed else 0.0
        fields["assessment_months_spread"] = agreed.months_spread if agreed else 0.0
        where = d.item_sources("service", service.id, _WRITTEN)
        sources = {name: where[name] for name in ("status", "term", "probability", "effort", "approach")}
        sources["client_ids"] = where["clients"]
        sources["months"] = sources["months_to_value"] = where["months_to_value"]
        for name in ("assessments", "assessment_rounds", "assessment_terms", "assessment_p_spread",
                     "assessment_months_spread"):
            sources[name] = where["assessments"]
        yield Fact("service", service.id, fields, {k: v for k, v in sources.items() if v})


@fact_type("dependency", "One service needing another.", {
    "src": (str, "the service that needs"), "dst": (str, "the service needed"),
    "kind": (str, "hard|soft"),
    "src_status": (str, "status of src"), "dst_status": (str, "status of dst (absent: not offered)"),
    "src_months": (float, "months from today until src's value is perceived"),
    "dst_months": (float, "months from today until dst's value is perceived (when offered)"),
    "src_term": (str, "term of src"), "dst_term": (str, "term of dst (when offered)"),
}, title="{src} needing {dst}")
def dependency_facts(d: Derivation) -> Iterator[Fact]:
    services = d.kb.services
    for service in services.values():
        for dep in service.depends_on:
            target = services.get(dep.target)
            fields: dict[str, Any] = {
                "src": service.id, "dst": dep.target, "kind": dep.kind,
                "src_status": service.status, "dst_status": target.status if target else "absent",
                "src_months": service.months, "src_term": service.term,
            }
            if target:
                fields |= {"dst_months": target.months, "dst_term": target.term}
            yield Fact("dependency", f"{service.id}>{dep.target}", fields, {"kind": dep.location.short()},
                       [service.id, dep.target])


@fact_type("cycle", "A tangle of hard dependencies among active services (each needs the others).", {
    "members": (int, "number of services in the tangle"),
    "length": (int, "number of services on the cycle shown"),
    "nodes": (str, "a cycle through the tangle, as 'a > b > a'"),
    "first": (str, "the service the cycle starts at (the tangle's smallest id)"),
}, title="the tangle of hard dependencies through {first}")
def cycle_facts(d: Derivation) -> Iterator[Fact]:
    sizes = tangles(d.hard_dependencies)
    for index, cycle in enumerate(hard_cycles(d.hard_dependencies), start=1):
        ids = [node_id(k) for k in cycle]
        yield Fact("cycle", f"cycle{index}", {
            "members": sizes[cycle[0]], "length": len(ids), "nodes": " > ".join(ids + ids[:1]), "first": ids[0],
        }, {}, ids + ids[:1])
