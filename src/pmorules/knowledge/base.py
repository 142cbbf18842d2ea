"""The resolved knowledge base: services with every default applied and every reference resolved."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Location
from .spec import Assessment, Client, Goal, Horizons, Organisation, Outcome

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


