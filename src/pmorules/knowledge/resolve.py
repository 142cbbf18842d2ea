"""Resolve validated specs against each other and the catalogue: inheritance, references, merges.

A service that names a catalogue entry inherits its term, tags, outcome links,
dependencies and harms. Outcome links, dependencies and harms merge item by item
with the service's own (by outcome, by needed service, by harmed target): an item
of the same target changes the inherited one, ``applies: false`` turns it off
(the reason is kept for the report), anything else is added.

Every reference error is collected (with a "did you mean" where a close id exists);
nothing is raised here, so the loader can report all problems at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import dates
from ..dates import months_between
from ..errors import Diagnostic, Location, did_you_mean
from ..tables import Locator
from ..yamlio import PosDict, locate
from .base import (
    DEFAULT_PROBABILITY, Dependency, Harm, Mitigator, OutcomeLink, Service, SwitchedOff,
    default_months, term_for_months,
)
from .catalogue import Catalogue
from .consensus import Consensus, consensus
from .spec import CatalogueService, DependencySpec, HarmSpec, Horizons, Organisation, OutcomeLinkSpec, ServiceSpec

Where = Location | Callable[[], Location]  # a place, or how to find it when an error needs it


def _place(where: Where) -> Location:
    return where() if callable(where) else where


@dataclass
class Entry:
    """One validated item with where it came from."""

    value: Any
    where: Location
    locator: Locator
    loc: tuple[Any, ...]
    node: PosDict | None = None  # the item as parsed from YAML: locating inside it is a short walk
    dropped: frozenset[str] = frozenset()  # fields left out (or shortened) for errors reported already

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
    assessments: list[Entry] = field(default_factory=list)  # expert ratings kept apart from their services
    actions: list[Entry] = field(default_factory=list)  # the action register
    unreadable: set[str] = field(default_factory=set)  # ids of items that failed validation: no "unknown id" for them
    unread: dict[str, str] = field(default_factory=dict)  # id (lower case) -> the file it seems defined in, unparsable


def unique(entries: list[Entry], kind: str, errors: list[Diagnostic]) -> dict[str, Entry]:
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


def single(entries: list[Entry], kind: str, errors: list[Diagnostic]) -> Entry | None:
    for extra in entries[1:]:
        errors.append(Diagnostic(extra.where, f"'{kind}' is given twice (first at {entries[0].where})"))
    return entries[0] if entries else None


At = Callable[..., Location]  # where a part of a list item is written: at("target"), at("mitigated_by", 0)


@dataclass
class _Merged:
    """One item of a merged list: the spec in force, where its parts are written, whether the catalogue supplied it."""

    spec: Any
    at: At
    inherited: bool
    own: bool = False  # the service itself writes the item (alone, or changing an inherited one)


_TWICE = {  # how a list item named twice is reported: the phrase and the hint
    "outcome": ("lists outcome {key!r}", "keep one entry"),
    "dependency": ("depends on {key!r}", "keep one entry, with kind hard or soft"),
    "harm": ("lists a harm to {key!r}", "keep one entry per harmed service, outcome or client"),
}


class Resolver:
    """Turns validated specs into resolved services, collecting reference errors."""

    def __init__(self, catalogue: Catalogue, collected: Collected, errors: list[Diagnostic], today: dt.date | None,
                 undated: dt.date | None = None):
        self.catalogue = catalogue
        self.by_alias: dict[str, str] = {}  # an alias (upper case) -> the first catalogue service it names
        for cat_id, cat in catalogue.services.items():
            for alias in cat.aliases:
                self.by_alias.setdefault(alias.upper(), cat_id)
        self.errors = errors
        self.unreadable = {ref.lower() for ref in collected.unreadable}
        self.unread = collected.unread
        self.clients = unique(collected.clients, "client", errors)
        self.services = unique(collected.services, "service", errors)
        self.goals = unique(collected.goals, "goal", errors)
        self.outcomes = unique(collected.outcomes, "outcome", errors)
        org = single(collected.organisation, "organisation", errors)
        hz = single(collected.horizons, "horizons", errors)
        self.organisation: Organisation = org.value if org else Organisation()
        self.horizons: Horizons = hz.value if hz else Horizons()
        # The evaluation date: --as-of, else the date the data describe, else ``undated`` (the newer side's date
        # for an earlier snapshot), else the day it is run.
        assessed_on = self.organisation.assessed_on
        self.today: dt.date = today or assessed_on or undated or dates.system_today()
        self.clock = "as-of" if today or (undated and not assessed_on) else ("assessed_on" if assessed_on else "system")
        self.sources: dict[tuple[str, str, str], Location] = {}
        self.switched_off: list[SwitchedOff] = []
        self.notes: list[str] = []
        if org:
            self.remember("organisation", "", org, org.value.model_fields_set)
        if hz:
            self.remember("horizons", "", hz, hz.value.model_fields_set)
        self.by_catalogue = self._catalogue_uses()
        self.absent: dict[str, str] = {}
        self.all_outcome_ids = {o.lower(): o for o in catalogue.outcomes} | {
            e.value.id.lower(): e.value.id for e in self.outcomes.values()
        }
        self.assessments = self._assessments(collected.assessments)

    def _assessments(self, entries: list[Entry]) -> dict[str, list[Entry]]:
        """The assessments kept apart from their services, by service; an unknown service is an error."""
        found: dict[str, list[Entry]] = {}
        renamed = {e.value.was.lower(): key for key, e in self.services.items()
                   if e.value.was and e.value.was.lower() not in self.services}  # ratings follow a rename
        for entry in entries:
            ref = entry.value.service
            if ref.lower() in self.services or ref.lower() in renamed:
                found.setdefault(renamed.get(ref.lower(), ref.lower()), []).append(entry)
            elif (did_you_mean(ref, [e.value.id for e in self.services.values()]) or ref.lower() in self.unreadable
                  or ref.lower() in self.unread):
                self._unknown(ref, "service", [e.value.id for e in self.services.values()],
                              lambda entry=entry: entry.at("service"))
            else:
                self.errors.append(Diagnostic(entry.at("service"), f"unknown service {ref!r}",
                                              "if the service was renamed, give it was: " + repr(ref) +
                                              "; if it is gone, remove its ratings"))
        return found

    def _catalogue_uses(self) -> dict[str, list[str]]:
        """Catalogue id -> the workspace services that offer it (in file order); unknown catalogue ids are errors."""
        used: dict[str, list[str]] = {}
        for entry in self.services.values():
            spec: ServiceSpec = entry.value
            if not spec.catalogue:
                continue
            cat_id = self.catalogue_id(spec.catalogue)
            if cat_id is None:
                self.errors.append(Diagnostic(
                    entry.at("catalogue"), f"unknown catalogue service {spec.catalogue!r}",
                    did_you_mean(spec.catalogue, list(self.catalogue.services)),
                ))
            else:
                used.setdefault(cat_id, []).append(spec.id)
        return used

    def remember(self, kind: str, item_id: str, entry: Entry, fields: Iterable[str]) -> None:
        self.sources[(kind, item_id, "")] = entry.where
        for name in fields:
            self.sources[(kind, item_id, name)] = entry.at(name)

    def catalogue_id(self, ref: str) -> str | None:
        upper = ref.upper()
        return upper if upper in self.catalogue.services else self.by_alias.get(upper)

    # ------------------------------------------------------------------ references

    def _unknown(self, ref: str, what: str, known: list[str], where: Where) -> None:
        if ref.lower() in self.unreadable:  # an item that failed validation is reported there, once
            return
        if (file := self.unread.get(ref.lower())) is not None:  # follows from that file's error: say so
            self.errors.append(Diagnostic(_place(where), f"{what} {ref!r} is defined in {file}, a file that could "
                                          "not be read", "fix the error in that file first"))
            return
        self.errors.append(Diagnostic(_place(where), f"unknown {what} {ref!r}", did_you_mean(ref, known)))

    def service_ref(self, ref: str, where: Where, also: tuple[str, ...] = (), inherited: bool = False
                    ) -> tuple[str, str] | None:
        """Resolve a reference to (id, kind): a service first, then (if ``also`` names them) an outcome or a client.

        A catalogue id names the workspace service that offers it. When several do, a reference the workspace
        writes is ambiguous (an error); one the catalogue supplies names the first of them.
        """
        key = ref.lower()
        if key in self.services:
            return self.services[key].value.id, "service"
        cat_id = self.catalogue_id(ref)
        if cat_id is not None:
            offered = self.by_catalogue.get(cat_id, [])
            if len(offered) > 1 and not inherited:
                self.errors.append(Diagnostic(
                    _place(where), f"{ref!r} is ambiguous: {', '.join(offered)} all offer catalogue service {cat_id}",
                    "name one of them by its id",
                ))
                return None
            if offered:
                return offered[0], "service"
            self.absent[cat_id] = self.catalogue.services[cat_id].name
            return cat_id, "service"
        if "outcome" in also and key in self.all_outcome_ids:
            return self.all_outcome_ids[key], "outcome"
        if "client" in also and key in self.clients:
            return self.clients[key].value.id, "client"
        known = [e.value.id for e in self.services.values()] + list(self.catalogue.services)
        if "outcome" in also:
            known += list(self.all_outcome_ids.values())
        if "client" in also:
            known += [e.value.id for e in self.clients.values()]
        kinds = ("service",) + also
        self._unknown(ref, ", ".join(kinds[:-1]) + " or " + kinds[-1] if also else "service", known, where)
        return None

    def outcome_ref(self, ref: str, where: Where) -> str | None:
        key = ref.lower()
        if key in self.all_outcome_ids:
            return self.all_outcome_ids[key]
        self._unknown(ref, "outcome", list(self.all_outcome_ids.values()), where)
        return None

    def client_ref(self, ref: str, where: Where) -> str | None:
        if ref.lower() in self.clients:
            return self.clients[ref.lower()].value.id
        self._unknown(ref, "client", [e.value.id for e in self.clients.values()], where)
        return None

    def mitigator_ref(self, ref: str, where: Where) -> Mitigator | None:
        """A mitigator: a tag, a catalogue id (any service offering it counts) or a workspace service."""
        if ref.startswith("tag:"):
            return Mitigator("tag", ref[4:])
        if ref.lower() not in self.services and (cat_id := self.catalogue_id(ref)) is not None:
            if cat_id not in self.by_catalogue:
                self.absent[cat_id] = self.catalogue.services[cat_id].name
            return Mitigator("catalogue", cat_id)
        found = self.service_ref(ref, where)
        return Mitigator("service", found[0]) if found else None

    # ------------------------------------------------------------------ services

    def service(self, entry: Entry, effort_default: float) -> Service | None:
        """The resolved service of one entry, or None when an error already reported makes it unresolvable."""
        spec: ServiceSpec = entry.value
        cat = self.catalogue.services.get(self.catalogue_id(spec.catalogue) or "") if spec.catalogue else None
        if spec.catalogue and cat is None:
            return None  # its unknown catalogue id is already reported; no second error for the same cause
        sources = self._sources(entry, cat)
        apart = self.assessments.get(spec.id.lower(), [])
        assessments = tuple(spec.assessments) + tuple(e.value for e in apart)
        if apart and "assessments" not in sources:
            sources["assessments"] = apart[0].where
        agreed = consensus(assessments, self.organisation.consensus, self.horizons)
        for rating in assessments:  # as for a service: a term and months that disagree, the months count
            if rating.term and rating.months_to_value is not None and \
                    rating.term != term_for_months(rating.months_to_value, self.horizons):
                self.notes.append(f"{spec.id}: {rating.by} gives term {rating.term}, but months_to_value "
                                  f"{rating.months_to_value:g} falls in the "
                                  f"{term_for_months(rating.months_to_value, self.horizons)} term; the months count")
        clients = tuple(
            c for i, ref in enumerate(spec.clients)
            if (c := self.client_ref(ref, lambda i=i: entry.at("clients", i))) is not None
        )
        links, depends_on, harms = self._links(entry, cat), self._dependencies(entry, cat), self._harms(entry, cat)
        timing = self._timing(entry, cat, agreed)
        if timing is None:
            return None  # its references are checked all the same: every problem is said at once
        term, months_to_value, months_given, running = timing
        if agreed is not None and spec.term is None and spec.months_to_value is None and agreed.months is not None:
            sources["term"] = sources["months_to_value"] = sources["assessments"]
        if agreed is not None and spec.probability is None and agreed.probability is not None:
            sources["probability"] = sources["assessments"]
        sources.setdefault("months_to_value", sources.get("term", entry.where))
        return Service(
            id=spec.id,
            name=spec.name or (cat.name if cat else spec.id),
            catalogue=cat.id if cat else None,
            status=spec.status,
            term=term,
            months_to_value=months_to_value,
            months=max(0.0, months_to_value - running),
            months_given=months_given,
            running_months=running,
            probability=(spec.probability if spec.probability is not None
                         else agreed.probability if agreed is not None and agreed.probability is not None
                         else DEFAULT_PROBABILITY),
            probability_given=spec.probability is not None or (agreed is not None and agreed.probability is not None),
            effort=spec.effort if spec.effort is not None else effort_default,
            approach=spec.approach,
            keep=spec.keep,
            mandated=spec.mandated,
            tags=tuple(spec.tags if spec.tags is not None else (cat.tags if cat else [])),
            clients=clients,
            links=links,
            depends_on=depends_on,
            harms=harms,
            assessments=assessments,
            sources=sources,
            was=spec.was,
            consensus=agreed,
        )

    def catalogue_candidate(self, cat: CatalogueService) -> Service:
        """A catalogue service the workspace does not offer, as a proposed service with catalogue defaults."""
        spec = ServiceSpec(id=cat.id, catalogue=cat.id, status="proposed")
        where = self.catalogue.service_location(cat.id)
        service = self.service(Entry(spec, where, lambda loc: where, ()), 0.0)
        assert service is not None, f"catalogue entry {cat.id} does not resolve"
        return service

    def _sources(self, entry: Entry, cat: CatalogueService | None) -> dict[str, Location]:
        spec: ServiceSpec = entry.value
        sources: dict[str, Location] = {"": entry.where}
        for name in spec.model_fields_set:
            sources[name] = entry.at(name)
        if cat is not None:
            for name in ("name", "term", "tags", "outcomes", "depends_on", "harms"):
                if name not in spec.model_fields_set:
                    sources[name] = self.catalogue.service_location(cat.id, name)
        return sources

    def _timing(self, entry: Entry, cat: CatalogueService | None, agreed: Consensus | None = None
                ) -> tuple[str, float, bool, float] | None:
        """(term, months to value, whether the months were given, months it has run already).

        The service's own term or months win; else the experts' consensus; else the catalogue's term."""
        spec: ServiceSpec = entry.value
        if spec.months_to_value is None and spec.term is None and agreed is not None and agreed.months is not None:
            months, given, term = agreed.months, agreed.months_given, agreed.term
        elif spec.months_to_value is not None:
            months, given = spec.months_to_value, True
            term = spec.term or term_for_months(months, self.horizons)
            if spec.term and spec.term != term_for_months(months, self.horizons):
                self.notes.append(
                    f"{spec.id}: term {spec.term} is given, but months_to_value {months:g} falls in the "
                    f"{term_for_months(months, self.horizons)} term; the months count for timing, the term for the mix"
                )
        else:
            term = spec.term or (cat.term if cat else None)
            if term is None and entry.dropped & {"term", "months_to_value", "catalogue"}:
                return None  # its faulty term is reported already
            if term is None:
                self.errors.append(Diagnostic(
                    entry.where, f"service {spec.id!r} has no term",
                    "give 'term' (short|medium|long), 'months_to_value', or a 'catalogue' id",
                ))
                return None
            months, given = default_months(term, self.horizons), False
        running = spec.running_months or 0.0
        if spec.since is not None:
            running = max(0.0, months_between(spec.since, self.today))
        return term, months, given, running

    # ------------------------------------------------------------------ merged lists

    def _merge(self, inherited: list[tuple[str, Any, At]], own: list[tuple[str, Any, At]], kind: str,
               service: str) -> list[_Merged]:
        """Merge inherited and own items keyed by resolved target; record the ones switched off."""
        merged: dict[str, _Merged] = {key: _Merged(spec, at, True) for key, spec, at in inherited}
        seen: dict[str, At] = {}
        for key, spec, at in own:
            if key is None:
                continue  # its reference is reported already
            if key in seen:
                said, hint = _TWICE[kind]
                self.errors.append(Diagnostic(at(), f"service {service!r} {said.format(key=key)} twice (first at {seen[key]()})", hint))
                continue
            seen[key] = at
            base = merged.get(key)
            if base is not None:
                spec = base.spec.model_copy(update={name: getattr(spec, name) for name in spec.model_fields_set})
            if not spec.applies:
                if base is None:
                    self.errors.append(Diagnostic(
                        at(), f"{kind} {key!r} is turned off, but service {service!r} inherits no such {kind}",
                        "remove the entry, or check the id",
                    ))
                else:
                    self.switched_off.append(SwitchedOff(service, kind, key, spec.reason, at()))
                    del merged[key]
                continue
            merged[key] = _Merged(spec, at, base is not None, True)
        return list(merged.values())

    def _inherited(self, cat: CatalogueService | None, name: str, refs: Iterable[tuple[str, Any]],
                   resolve: Callable[[str, Where], str | None]) -> list[tuple[str, Any, At]]:
        """The catalogue's items of a list field, each with its resolved key; errors point at the catalogue."""
        if cat is None:
            return []
        where = self.catalogue.service_location(cat.id, name)
        return [(key, item, lambda *_: where) for ref, item in refs if (key := resolve(ref, where)) is not None]

    def _own(self, entry: Entry, name: str, ref_field: str, resolve: Callable[[str, Where], str | None]):
        """The service's own items of a list field, each with its resolved key and where its parts are."""
        out = []
        for index, item in enumerate(getattr(entry.value, name) or []):
            at: At = (lambda *path, index=index: entry.at(name, index, *path))
            out.append((resolve(getattr(item, ref_field), lambda at=at: at(ref_field)), item, at))
        return out

    def _resolver(self, also: tuple[str, ...] = (), inherited: bool = False) -> Callable[[str, Where], str | None]:
        def resolve(ref: str, where: Where) -> str | None:
            found = self.service_ref(ref, where, also, inherited)
            return found[0] if found else None
        return resolve

    def _links(self, entry: Entry, cat: CatalogueService | None) -> tuple[OutcomeLink, ...]:
        spec: ServiceSpec = entry.value
        inherited = self._inherited(cat, "outcomes", ((ref, OutcomeLinkSpec(id=ref)) for ref in (cat.outcomes if cat else [])),
                                    self.outcome_ref)
        own = self._own(entry, "outcomes", "id", self.outcome_ref)
        links = []
        for item in self._merge(inherited, own, "outcome", spec.id):
            link: OutcomeLinkSpec = item.spec
            default = "primary" if item.inherited or cat is None else "supporting"
            contribution = link.contribution if link.contribution is not None else default
            links.append(OutcomeLink(self.all_outcome_ids[link.id.lower()], contribution, link.months, item.inherited, item.at()))
        return tuple(links)

    def _dependencies(self, entry: Entry, cat: CatalogueService | None) -> tuple[Dependency, ...]:
        spec: ServiceSpec = entry.value
        resolve = self._resolver()
        inherited = self._inherited(cat, "depends_on", ((d.service, d) for d in (cat.depends_on if cat else [])),
                                    self._resolver(inherited=True))
        deps = []
        for item in self._merge(inherited, self._own(entry, "depends_on", "service", resolve), "dependency", spec.id):
            dep: DependencySpec = item.spec
            target = self._resolver(inherited=item.inherited)(dep.service, item.at)
            if target is not None and target != spec.id:
                deps.append(Dependency(target, dep.kind, dep.reason, item.at()))
        return tuple(deps)

    def _harms(self, entry: Entry, cat: CatalogueService | None) -> tuple[Harm, ...]:
        spec: ServiceSpec = entry.value
        resolve = self._resolver(("outcome", "client"))
        inherited = self._inherited(cat, "harms", ((h.target, h) for h in (cat.harms if cat else [])),
                                    self._resolver(("outcome", "client"), inherited=True))
        own = self._own(entry, "harms", "target", resolve)
        for key, harm, at in own:
            if key is None:  # the target is unknown: still check what it names as mitigators
                for i, ref in enumerate(harm.mitigated_by):
                    self.mitigator_ref(ref, lambda i=i, at=at: at("mitigated_by", i))
        harms = []
        for item in self._merge(inherited, own, "harm", spec.id):
            harm: HarmSpec = item.spec
            found = self.service_ref(harm.target, lambda: item.at("target"), ("outcome", "client"), item.inherited)
            if found is None:
                continue
            mitigators = tuple(
                m for i, ref in enumerate(harm.mitigated_by)
                if (m := self.mitigator_ref(ref, lambda i=i: item.at("mitigated_by", i))) is not None
            )
            harms.append(Harm(
                found[0], found[1], harm.severity, harm.reason, mitigators,
                tuple(harm.approaches) if harm.approaches is not None else None, harm.party or "any", harm.harm_id,
                item.at(), item.own,
            ))
        return tuple(harms)
