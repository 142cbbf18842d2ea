"""Resolve validated specs against each other and the catalogue: inheritance, references, merges.

Every reference error is collected (with a "did you mean" where a close id exists);
nothing is raised here, so the loader can report all problems at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic, Location, did_you_mean
from ..tables import Locator
from ..yamlio import PosDict, locate
from .base import DEFAULT_MONTHS, DEFAULT_PROBABILITY, Dependency, Harm, Service, term_for_months
from .catalogue import Catalogue
from .spec import Horizons, Organisation, ServiceSpec

@dataclass
class Entry:
    """One validated item with where it came from."""

    value: Any
    where: Location
    locator: Locator
    loc: tuple[Any, ...]
    node: PosDict | None = None  # the item as parsed from YAML: locating inside it is a short walk

    def at(self, *path: Any) -> Location:
        node = self.node
        if node is not None:
            if len(path) == 1 and (pos := node.key_pos.get(path[0])) is not None:  # the common case: a field
                return Location(self.where.file, pos[0], pos[1])
            return locate(node, path, self.where.file)
        return self.locator(self.loc + path)


@dataclass
class Collected:
    organisation: list[Entry] = field(default_factory=list)
    horizons: list[Entry] = field(default_factory=list)
    clients: list[Entry] = field(default_factory=list)
    services: list[Entry] = field(default_factory=list)
    goals: list[Entry] = field(default_factory=list)
    outcomes: list[Entry] = field(default_factory=list)


def _unique(entries: list[Entry], kind: str, errors: list[Diagnostic]) -> dict[str, Entry]:
    """Index by id (case-insensitively), reporting an id defined twice with both places."""
    seen: dict[str, Entry] = {}
    for entry in entries:
        key = entry.value.id.lower()
        if key in seen:
            errors.append(
                Diagnostic(entry.where, f"{kind} id {entry.value.id!r} is defined twice (first at {seen[key].where})")
            )
        else:
            seen[key] = entry
    return seen


def _single(entries: list[Entry], kind: str, errors: list[Diagnostic]) -> Entry | None:
    for extra in entries[1:]:
        errors.append(Diagnostic(extra.where, f"'{kind}' is given twice (first at {entries[0].where})"))
    return entries[0] if entries else None


Where = Location | Callable[[], Location]  # a place, or how to find it when an error needs it


def _place(where: Where) -> Location:
    return where() if callable(where) else where


class Resolver:
    """Turns validated specs into resolved services, collecting reference errors."""

    def __init__(self, catalogue: Catalogue, collected: Collected, errors: list[Diagnostic]):
        self.catalogue = catalogue
        self.errors = errors
        self.clients = _unique(collected.clients, "client", errors)
        self.services = _unique(collected.services, "service", errors)
        self.goals = _unique(collected.goals, "goal", errors)
        self.outcomes = _unique(collected.outcomes, "outcome", errors)
        org = _single(collected.organisation, "organisation", errors)
        hz = _single(collected.horizons, "horizons", errors)
        self.organisation: Organisation = org.value if org else Organisation()
        self.horizons: Horizons = hz.value if hz else Horizons()
        self.sources: dict[tuple[str, str, str], Location] = {}
        if org:
            self._remember("organisation", "", org, org.value.model_fields_set)
        if hz:
            self._remember("horizons", "", hz, hz.value.model_fields_set)
        self.by_catalogue: dict[str, str] = {}
        for entry in self.services.values():
            spec: ServiceSpec = entry.value
            if spec.catalogue:
                cat_id = self._catalogue_id(spec.catalogue)
                if cat_id is None:
                    errors.append(
                        Diagnostic(
                            entry.at("catalogue"),
                            f"unknown catalogue service {spec.catalogue!r}",
                            did_you_mean(spec.catalogue, list(catalogue.services)),
                        )
                    )
                elif cat_id in self.by_catalogue:
                    first = self.services[self.by_catalogue[cat_id].lower()].where
                    errors.append(
                        Diagnostic(entry.at("catalogue"), f"catalogue service {cat_id} is used twice (first at {first})")
                    )
                else:
                    self.by_catalogue[cat_id] = spec.id
        self.absent: dict[str, str] = {}
        self.all_outcome_ids = {o.lower(): o for o in catalogue.outcomes} | {
            e.value.id.lower(): e.value.id for e in self.outcomes.values()
        }

    def _remember(self, kind: str, item_id: str, entry: Entry, fields: set[str]) -> None:
        self.sources[(kind, item_id, "")] = entry.where
        for name in fields:
            self.sources[(kind, item_id, name)] = entry.at(name)

    def _catalogue_id(self, ref: str) -> str | None:
        upper = ref.upper()
        if upper in self.catalogue.services:
            return upper
        for cat_id, cat in self.catalogue.services.items():
            if upper in (alias.upper() for alias in cat.aliases):
                return cat_id
        return None

    def service_ref(self, ref: str, where: Where, allow_outcome: bool = False) -> tuple[str, str] | None:
        """Resolve a service reference to (id, kind); kind is service or outcome."""
        key = ref.lower()
        if key in self.services:
            return self.services[key].value.id, "service"
        cat_id = self._catalogue_id(ref)
        if cat_id is not None:
            if cat_id in self.by_catalogue:
                return self.by_catalogue[cat_id], "service"
            self.absent[cat_id] = self.catalogue.services[cat_id].name
            return cat_id, "service"
        if allow_outcome and key in self.all_outcome_ids:
            return self.all_outcome_ids[key], "outcome"
        known = [e.value.id for e in self.services.values()] + list(self.catalogue.services)
        if allow_outcome:
            known += list(self.all_outcome_ids.values())
        what = "service or outcome" if allow_outcome else "service"
        self.errors.append(Diagnostic(_place(where), f"unknown {what} {ref!r}", did_you_mean(ref, known)))
        return None

    def outcome_ref(self, ref: str, where: Where) -> str | None:
        key = ref.lower()
        if key in self.all_outcome_ids:
            return self.all_outcome_ids[key]
        self.errors.append(
            Diagnostic(_place(where), f"unknown outcome {ref!r}", did_you_mean(ref, list(self.all_outcome_ids.values())))
        )
        return None

    def client_ref(self, ref: str, where: Where) -> str | None:
        if ref.lower() in self.clients:
            return self.clients[ref.lower()].value.id
        known = [e.value.id for e in self.clients.values()]
        self.errors.append(Diagnostic(_place(where), f"unknown client {ref!r}", did_you_mean(ref, known)))
        return None

    def service(self, entry: Entry, effort_default: float) -> Service | None:
        spec: ServiceSpec = entry.value
        cat = self.catalogue.services.get(self._catalogue_id(spec.catalogue) or "") if spec.catalogue else None
        sources: dict[str, Location] = {"": entry.where}
        for name in spec.model_fields_set:
            sources[name] = entry.at(name)
        if cat is not None:
            for name in ("name", "term", "tags", "outcomes", "depends_on", "harms"):
                if name not in spec.model_fields_set:
                    sources[name] = self.catalogue.service_location(cat.id, name)

        if spec.months_to_value is not None:
            months, months_given = spec.months_to_value, True
            term = spec.term or term_for_months(months, self.horizons)
        else:
            term = spec.term or (cat.term if cat else None)
            if term is None and spec.catalogue:
                return None  # its unknown catalogue id is already reported; no second error for the same cause
            if term is None:
                self.errors.append(
                    Diagnostic(
                        entry.where,
                        f"service {spec.id!r} has no term",
                        "give 'term' (short|medium|long), 'months_to_value', or a 'catalogue' id",
                    )
                )
                return None
            months, months_given = DEFAULT_MONTHS[term], False
        sources.setdefault("months_to_value", sources.get("term", entry.where))

        # a reference's own place is needed only to report it: located lazily (the loader's hot path)
        clients = tuple(
            c
            for i, ref in enumerate(spec.clients)
            if (c := self.client_ref(ref, lambda i=i: entry.at("clients", i))) is not None
        )
        if spec.outcomes is not None:
            outcome_refs: list[tuple[str, Where]] = [
                (ref, lambda i=i: entry.at("outcomes", i)) for i, ref in enumerate(spec.outcomes)
            ]
        else:
            outcome_refs = [(ref, sources.get("outcomes", entry.where)) for ref in (cat.outcomes if cat else [])]
        outcomes = tuple(o for ref, where in outcome_refs if (o := self.outcome_ref(ref, where)) is not None)
        deps = []
        for index, dep in enumerate(spec.depends_on if spec.depends_on is not None else (cat.depends_on if cat else [])):
            where = entry.at("depends_on", index) if spec.depends_on is not None else sources["depends_on"]
            resolved = self.service_ref(
                dep.service,
                (lambda index=index: entry.at("depends_on", index, "service")) if spec.depends_on is not None else where,
            )
            if resolved and resolved[0] != spec.id:
                twice = next((d for d in deps if d.target == resolved[0]), None)
                if twice is not None:
                    self.errors.append(
                        Diagnostic(where, f"service {spec.id!r} depends on {resolved[0]!r} twice (first at {twice.location})",
                                   "keep one entry, with kind hard or soft")
                    )
                    continue
                deps.append(Dependency(resolved[0], dep.kind, dep.reason, where))
        harms = []
        for index, harm in enumerate(spec.harms if spec.harms is not None else (cat.harms if cat else [])):
            where = entry.at("harms", index) if spec.harms is not None else sources["harms"]
            target = self.service_ref(
                harm.target,
                (lambda index=index: entry.at("harms", index, "target")) if spec.harms is not None else where,
                allow_outcome=True,
            )
            mitigators = tuple(
                m[0]
                for i, ref in enumerate(harm.mitigated_by)
                if (
                    m := self.service_ref(
                        ref,
                        (lambda index=index, i=i: entry.at("harms", index, "mitigated_by", i))
                        if spec.harms is not None
                        else where,
                    )
                )
                is not None
            )
            if target:
                harms.append(
                    Harm(
                        target[0], target[1], harm.severity, harm.reason, mitigators,
                        tuple(harm.approaches) if harm.approaches is not None else None, harm.harm_id, where,
                    )
                )
        return Service(
            id=spec.id,
            name=spec.name or (cat.name if cat else spec.id),
            catalogue=cat.id if cat else None,
            status=spec.status,
            term=term,
            months=months,
            months_given=months_given,
            probability=spec.probability if spec.probability is not None else DEFAULT_PROBABILITY,
            probability_given=spec.probability is not None,
            effort=spec.effort if spec.effort is not None else effort_default,
            approach=spec.approach,
            tags=tuple(spec.tags if spec.tags is not None else (cat.tags if cat else [])),
            clients=clients,
            outcomes=outcomes,
            depends_on=tuple(deps),
            harms=tuple(harms),
            assessments=tuple(spec.assessments),
            sources=sources,
        )


