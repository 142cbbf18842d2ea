"""The resolved knowledge base: services with every default applied and every reference resolved."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from ..dates import long_date
from ..errors import Location
from typing import TYPE_CHECKING

from .spec import Action, Assessment, Client, Goal, Horizons, Organisation, Outcome

if TYPE_CHECKING:
    from .consensus import Consensus

def default_months(term: str, horizons: Horizons) -> float:
    """A term's months to value where only the term is given (a service, an expert's rating): 2, 6 and 18 with the
    standard horizons of 3 and 12 months, and at the same place in other horizons: two thirds of the short one,
    the geometric middle of the medium one, half as long again as the medium one."""
    short, medium = horizons.short_max_months, horizons.medium_max_months
    months = {"short": short * 2 / 3, "medium": math.sqrt(short * medium), "long": medium * 1.5}[term]
    return round(months, 2)


DEFAULT_MONTHS = {term: default_months(term, Horizons()) for term in ("short", "medium", "long")}  # the standard
OUTCOME_MONTHS = {"short": 2.0, "medium": 6.0, "long": 12.0}  # a workspace outcome's perception months by term
DEFAULT_PROBABILITY = 0.6


@dataclass(frozen=True)
class OutcomeLink:
    """A service's contribution to an outcome."""

    outcome: str
    contribution: str | float  # "primary", "supporting" or a number 0..1 (measures.py turns it into a weight)
    months: float | None  # when this link delivers the outcome, when given for the link
    inherited: bool  # from the catalogue
    location: Location


@dataclass(frozen=True)
class Dependency:
    target: str  # a workspace service id, or a catalogue id the workspace does not offer
    kind: str
    reason: str | None
    location: Location


@dataclass(frozen=True)
class Mitigator:
    """What counteracts a harm: a workspace service, any service offering a catalogue entry, or any with a tag."""

    kind: str  # service | catalogue | tag
    ref: str

    def __str__(self) -> str:
        return f"tag:{self.ref}" if self.kind == "tag" else self.ref


@dataclass(frozen=True)
class Harm:
    target: str  # a service id (as for Dependency), an outcome id or a client id
    target_kind: str  # service | outcome | client
    severity: str
    reason: str | None
    mitigated_by: tuple[Mitigator, ...]
    approaches: tuple[str, ...] | None  # applies only in these approaches (None: any)
    party: str  # any | served: who suffers it
    harm_id: str | None
    location: Location
    stated: bool = False  # the workspace states it (its own harms), not only the catalogue


@dataclass(frozen=True)
class SwitchedOff:
    """An inherited outcome link, dependency or harm the workspace turned off, with its reason."""

    service: str
    kind: str  # outcome | dependency | harm
    target: str
    reason: str | None
    location: Location


@dataclass(frozen=True)
class Service:
    """A service of the workspace with every default applied and every reference resolved."""

    id: str
    name: str
    catalogue: str | None
    status: str
    term: str  # when its value is first perceived after it starts (horizon of months_to_value)
    months_to_value: float  # months from its start until its value is perceived
    months: float  # months from today until its value is perceived (less what it has run already)
    months_given: bool
    running_months: float
    probability: float
    probability_given: bool
    effort: float
    approach: str | None
    keep: bool
    mandated: bool  # its approach is mandated: a core service that keeps its approach
    tags: tuple[str, ...]
    clients: tuple[str, ...]
    links: tuple[OutcomeLink, ...]
    depends_on: tuple[Dependency, ...]
    harms: tuple[Harm, ...]
    assessments: tuple[Assessment, ...]
    sources: dict[str, Location] = field(compare=False, hash=False)
    was: str | None = None  # its id before a rename (matched against earlier snapshots only)
    consensus: Consensus | None = field(default=None, compare=False, hash=False)  # of its assessments (consensus.py)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The ids of the outcomes it contributes to."""
        return tuple(link.outcome for link in self.links)


@dataclass(frozen=True)
class ReviewDate:
    """A review at which the PMO must show value: its date, its name and months from the evaluation date."""

    date: dt.date
    months: float  # negative: the review is past
    name: str | None

    @property
    def ahead(self) -> bool:
        return self.months >= 0

    @property
    def id(self) -> str:
        """Its key as a fact and a finding's subject: one review a day."""
        return f"review-{self.date.isoformat()}"


@dataclass(frozen=True)
class AgreedAction:
    """An action of the workspace's action register, and where it was written."""

    spec: Action
    where: Location = field(compare=False, hash=False)


@dataclass(frozen=True)
class InputFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class KnowledgeBase:
    """The workspace resolved as of one evaluation date (``today``): ages, deadlines and reviews in months from it.

    ``clock`` says where that date came from: ``as-of`` (asked for), ``assessed_on`` (the date the data describe)
    or ``system`` (the day it was run, as the workspace states no date).
    """

    workspace: str
    today: dt.date
    clock: str
    organisation: Organisation
    horizons: Horizons
    clients: dict[str, Client]
    services: dict[str, Service]
    goals: dict[str, Goal]
    outcomes: dict[str, Outcome]  # every outcome, with name, term and months resolved
    absent_catalogue: dict[str, str]  # catalogue services referenced but not offered: id -> name
    sources: dict[tuple[str, str, str], Location]  # (kind, id, field) -> where it was written
    files: tuple[InputFile, ...]
    notes: tuple[str, ...]  # data-quality notes (defaults used, harms not applicable, ...)
    switched_off: tuple[SwitchedOff, ...] = ()
    candidates: dict[str, Service] = field(default_factory=dict)  # catalogue services not offered, for the mix
    reviews: tuple[ReviewDate, ...] = ()  # every review stated, past and ahead, by date
    actions: tuple[AgreedAction, ...] = ()  # the action register (`actions:` sections), in file order

    def source(self, kind: str, item_id: str, field: str = "") -> Location | None:
        return self.sources.get((kind, item_id, field)) or self.sources.get((kind, item_id, ""))

    def review_names(self) -> dict[str, str]:
        """Each review's display name by id: its own, else "Review N" counting the reviews ahead (as the report's
        calendar lists them), else, for a past one, its date."""
        ahead = [r for r in self.reviews if r.ahead]
        return {r.id: r.name or (f"Review {ahead.index(r) + 1}" if r.ahead else f"the review of {long_date(r.date)}")
                for r in self.reviews}


def term_for_months(months: float, horizons: Horizons) -> str:
    """The horizon a number of months to first value falls into."""
    if months <= horizons.short_max_months:
        return "short"
    if months <= horizons.medium_max_months:
        return "medium"
    return "long"
