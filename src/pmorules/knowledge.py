"""Load a workspace into a resolved, cross-checked KnowledgeBase.

Reads every knowledge file (YAML, CSV, XLSX), validates each against the
format, merges them, applies catalogue defaults and resolves every reference.
All problems are collected and raised together as one located InputError.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from .catalogue import Catalogue, load_catalogue
from .errors import Diagnostic, InputError, Location, did_you_mean
from .gcpause import gc_paused
from .model import (
    Assessment,
    Client,
    Goal,
    Horizons,
    KnowledgeFile,
    Organisation,
    Outcome,
    ServiceSpec,
)
from .tables import Locator, read_csv, read_xlsx
from .yamlio import PosDict, PosList, locate, read_yaml

DEFAULT_MONTHS = {"short": 2.0, "medium": 6.0, "long": 18.0}
DEFAULT_PROBABILITY = 0.6


@dataclass(frozen=True)
class Dependency:
    target: str  # a workspace service id, or a catalogue id the workspace does not offer
    kind: str
    reason: str | None
    location: Location


@dataclass(frozen=True)
class Harm:
    target: str  # a service id (as for Dependency) or an outcome id
    target_kind: str  # "service" | "outcome"
    severity: str
    reason: str | None
    mitigated_by: tuple[str, ...]
    approaches: tuple[str, ...] | None
    harm_id: str | None
    location: Location


@dataclass(frozen=True)
class Service:
    """A service of the workspace with every default applied and every reference resolved."""

    id: str
    name: str
    catalogue: str | None
    status: str
    term: str
    months: float
    months_given: bool
    probability: float
    probability_given: bool
    effort: float
    approach: str | None
    tags: tuple[str, ...]
    clients: tuple[str, ...]
    outcomes: tuple[str, ...]
    depends_on: tuple[Dependency, ...]
    harms: tuple[Harm, ...]
    assessments: tuple[Assessment, ...]
    sources: dict[str, Location] = field(compare=False, hash=False)

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class InputFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class KnowledgeBase:
    workspace: str
    organisation: Organisation
    horizons: Horizons
    clients: dict[str, Client]
    services: dict[str, Service]
    goals: dict[str, Goal]
    outcomes: dict[str, Outcome]
    absent_catalogue: dict[str, str]  # catalogue services referenced but not offered: id -> name
    sources: dict[tuple[str, str, str], Location]  # (kind, id, field) -> where it was written
    files: tuple[InputFile, ...]
    notes: tuple[str, ...]  # data-quality notes (defaults used, harms not applicable, ...)

    def source(self, kind: str, item_id: str, field: str = "") -> Location | None:
        return self.sources.get((kind, item_id, field)) or self.sources.get((kind, item_id, ""))


def term_for_months(months: float, horizons: Horizons) -> str:
    """The horizon a number of months to first value falls into."""
    if months <= horizons.short_max_months:
        return "short"
    if months <= horizons.medium_max_months:
        return "medium"
    return "long"


def knowledge_files(workspace: Path) -> list[Path]:
    """The knowledge files of a workspace, in a stable order."""
    found: list[Path] = []
    for folder in (workspace, workspace / "knowledge"):
        if folder.is_dir():
            for pattern in ("*.yaml", "*.yml", "*.csv", "*.xlsx"):
                found.extend(p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith((".", "~$")))
    return sorted(set(found))


@dataclass
class _Entry:
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
class _Collected:
    organisation: list[_Entry] = field(default_factory=list)
    horizons: list[_Entry] = field(default_factory=list)
    clients: list[_Entry] = field(default_factory=list)
    services: list[_Entry] = field(default_factory=list)
    goals: list[_Entry] = field(default_factory=list)
    outcomes: list[_Entry] = field(default_factory=list)


def _friendly(error: dict[str, Any]) -> tuple[str, str | None]:
    """A pydantic error as a message a PMO lead understands, plus a hint."""
    loc = error["loc"]
    kind = error["type"]
    got = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key {key!r}", did_you_mean(key, _fields_at(loc[:-1]))
    if kind == "invalid_key":  # pydantic puts the offending key, as text, last in loc
        return f"key {got!r} is not a name: keys must be text", None
    name = ".".join(p for p in loc if isinstance(p, str) and p != "[key]") or "document"
    if kind == "missing":
        return f"{name}: required field is missing", None
    shown = f" (got {got!r})" if isinstance(got, (str, int, float, bool)) or got is None else ""
    if kind == "string_pattern_mismatch":
        return f"{name}: not a valid id{shown}", "use letters, digits, '_', '-' or '.', starting with a letter or digit"
    message = (
        error["msg"]
        .replace("Input should be", "should be")
        .replace("String should", "should")
        .replace("List should", "should")
        .replace("Value error, ", "")
    )
    message = re.sub(r"a valid dictionary or instance of \w+", "a mapping (key: value)", message)
    hint = f"quote it: '{got}'" if kind == "string_type" and isinstance(got, (int, float)) else None
    return f"{name}: {message}{shown}", hint


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[Harm] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if (found := _model_in(arg)) is not None:
            return found
    return None


@lru_cache(maxsize=256)
def _fields_at_path(path: tuple[str, ...]) -> frozenset[str]:
    model: type[BaseModel] | None = KnowledgeFile
    for step in path:
        info = model.model_fields.get(step) if model else None
        model = _model_in(info.annotation) if info else None
        if model is None:
            return frozenset()
    return frozenset(model.model_fields)


def _fields_at(loc: tuple[Any, ...]) -> frozenset[str]:
    """The field names of the model at a pydantic error location (list indexes skipped)."""
    return _fields_at_path(tuple(p for p in loc if isinstance(p, str)))


def _read_one(path: Path, display: str) -> tuple[Any, Locator]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, display)
    if suffix == ".xlsx":
        return read_xlsx(path, display)
    raw = read_yaml(path, display)
    return raw, lambda loc: locate(raw, loc, display)


def _validate_file(raw: Any, locator: Locator, display: str, into: _Collected) -> list[Diagnostic]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        return [Diagnostic(locator(()), "a knowledge file must be a mapping of sections", "start with 'services:'")]
    try:
        parsed = KnowledgeFile.model_validate(raw)
    except ValidationError as exc:
        out = []
        for error in exc.errors():
            message, hint = _friendly(error)
            out.append(Diagnostic(locator(tuple(error["loc"])), message, hint))
        return out
    for section in ("clients", "services", "goals", "outcomes"):
        nodes = raw.get(section) if isinstance(raw, PosDict) else None
        for index, item in enumerate(getattr(parsed, section)):
            node = nodes[index] if isinstance(nodes, PosList) and isinstance(nodes[index], PosDict) else None
            getattr(into, section).append(_Entry(item, locator((section, index)), locator, (section, index), node))
    for section in ("organisation", "horizons"):
        value = getattr(parsed, section)
        if value is not None:
            getattr(into, section).append(_Entry(value, locator((section,)), locator, (section,)))
    return []


def _unique(entries: list[_Entry], kind: str, errors: list[Diagnostic]) -> dict[str, _Entry]:
    """Index by id (case-insensitively), reporting an id defined twice with both places."""
    seen: dict[str, _Entry] = {}
    for entry in entries:
        key = entry.value.id.lower()
        if key in seen:
            errors.append(
                Diagnostic(entry.where, f"{kind} id {entry.value.id!r} is defined twice (first at {seen[key].where})")
            )
        else:
            seen[key] = entry
    return seen


def _single(entries: list[_Entry], kind: str, errors: list[Diagnostic]) -> _Entry | None:
    for extra in entries[1:]:
        errors.append(Diagnostic(extra.where, f"'{kind}' is given twice (first at {entries[0].where})"))
    return entries[0] if entries else None


Where = Location | Callable[[], Location]  # a place, or how to find it when an error needs it


def _place(where: Where) -> Location:
    return where() if callable(where) else where


class _Resolver:
    """Turns validated specs into resolved services, collecting reference errors."""

    def __init__(self, catalogue: Catalogue, collected: _Collected, errors: list[Diagnostic]):
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

    def _remember(self, kind: str, item_id: str, entry: _Entry, fields: set[str]) -> None:
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

    def service(self, entry: _Entry, effort_default: float) -> Service | None:
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


def _check_efforts(services: dict[str, _Entry], errors: list[Diagnostic]) -> float:
    """Effort is given for every service or for none (then every service counts 1)."""
    given = [e for e in services.values() if e.value.effort is not None]
    if given and len(given) < len(services):
        for entry in services.values():
            if entry.value.effort is None:
                errors.append(
                    Diagnostic(
                        entry.where,
                        f"service {entry.value.id!r} has no effort while others do",
                        "give 'effort' for every service, or for none (then each service counts as 1)",
                    )
                )
    return 1.0


def _notes(services: dict[str, Service]) -> tuple[str, ...]:
    notes = []
    for service in services.values():
        if service.active and not service.probability_given:
            notes.append(f"{service.id}: no probability given; the neutral default {DEFAULT_PROBABILITY} is used")
        for harm in service.harms:
            if harm.approaches is not None and service.approach is None:
                notes.append(
                    f"{service.id}: harm to {harm.target} applies only in approaches "
                    f"{', '.join(harm.approaches)}; the service gives no approach, so it is not counted"
                )
    return tuple(sorted(notes))


def load_workspace(path: str | Path) -> KnowledgeBase:
    """Read, validate and resolve a workspace directory, or raise InputError."""
    with gc_paused():
        return _load_workspace(path)


def _load_workspace(path: str | Path) -> KnowledgeBase:
    workspace = Path(path)
    shown = str(path)
    if not workspace.exists():
        raise InputError([Diagnostic(Location(shown), "no such workspace directory")])
    if not workspace.is_dir():
        raise InputError([Diagnostic(Location(shown), "a workspace must be a directory of knowledge files")])
    files = knowledge_files(workspace)
    if not files:
        raise InputError(
            [Diagnostic(Location(shown), "the workspace holds no knowledge files", "add services.yaml, or run 'pmorules init'")]
        )
    errors: list[Diagnostic] = []
    collected = _Collected()
    inputs = []
    for file in files:
        display = str(Path(shown) / file.relative_to(workspace))
        inputs.append(InputFile(display, hashlib.sha256(file.read_bytes()).hexdigest()))
        try:
            raw, locator = _read_one(file, display)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        errors.extend(_validate_file(raw, locator, display, collected))
    if errors:
        raise InputError(errors)

    resolver = _Resolver(load_catalogue(), collected, errors)
    effort_default = _check_efforts(resolver.services, errors)
    services = {}
    for entry in resolver.services.values():
        service = resolver.service(entry, effort_default)
        if service is not None:
            services[service.id] = service
    clients = {e.value.id: e.value for e in resolver.clients.values()}
    for entry in resolver.clients.values():
        resolver._remember("client", entry.value.id, entry, entry.value.model_fields_set)
    goals = {}
    for entry in resolver.goals.values():
        goal: Goal = entry.value
        resolver._remember("goal", goal.id, entry, goal.model_fields_set)
        outcomes = [
            o
            for i, ref in enumerate(goal.outcomes)
            if (o := resolver.outcome_ref(ref, lambda i=i: entry.at("outcomes", i))) is not None
        ]
        linked = [
            s[0]
            for i, ref in enumerate(goal.services)
            if (s := resolver.service_ref(ref, lambda i=i: entry.at("services", i))) is not None
        ]
        client = resolver.client_ref(goal.client, entry.at("client")) if goal.client else None
        goals[goal.id] = goal.model_copy(update={"outcomes": outcomes, "services": linked, "client": client})
    for entry in resolver.services.values():
        if entry.value.id in services:
            for name, where in services[entry.value.id].sources.items():
                resolver.sources[("service", entry.value.id, name)] = where
    if errors:
        raise InputError(errors)
    outcomes = {
        o.id: Outcome(id=o.id, name=o.name, term=o.term) for o in load_catalogue().outcomes.values()
    } | {e.value.id: e.value for e in resolver.outcomes.values()}
    return KnowledgeBase(
        workspace=shown,
        organisation=resolver.organisation,
        horizons=resolver.horizons,
        clients=clients,
        services=services,
        goals=goals,
        outcomes=outcomes,
        absent_catalogue=dict(sorted(resolver.absent.items())),
        sources=resolver.sources,
        files=tuple(inputs),
        notes=_notes(services),
    )
