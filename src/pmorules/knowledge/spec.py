"""The knowledge format as strict pydantic models: what a user writes.

``*Spec`` models are what a user writes, one file at a time; catalogue
defaults are not applied yet. ``KnowledgeBase`` (knowledge/base.py) holds the
resolved, cross-checked result.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..vocabulary import Approach, Context, DependencyKind, Severity, Status, Term

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Months = Annotated[float, Field(ge=0.0, le=600.0, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, str_strip_whitespace=True)


class TargetProfile(Strict):
    short: Fraction
    medium: Fraction
    long: Fraction


class Organisation(Strict):
    name: str = "PMO"
    age_months: Months | None = None
    context: Context | None = None
    capacity_fte: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    reviews_months: list[Months] = Field(default_factory=lambda: [3.0, 6.0])
    assessed_on: dt.date | None = None
    target_profile: TargetProfile | None = None


class Horizons(Strict):
    short_max_months: Months = 3.0
    medium_max_months: Months = 12.0

    @model_validator(mode="after")
    def _ordered(self) -> Horizons:
        if self.medium_max_months < self.short_max_months:
            raise ValueError("medium_max_months must not be below short_max_months")
        return self


class Client(Strict):
    id: Id
    name: str | None = None
    weight: Fraction = 1.0


class DependencySpec(Strict):
    service: Id
    kind: DependencyKind = "hard"
    reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """Accept the short form ``tools`` or ``tools:soft``."""
        if isinstance(value, str):
            name, _, kind = value.partition(":")
            return {"service": name.strip(), "kind": kind.strip() or "hard"}
        return value


class HarmSpec(Strict):
    target: Id
    severity: Severity = "medium"
    reason: str | None = None
    mitigated_by: list[Id] = Field(default_factory=list)
    approaches: list[Approach] | None = None
    harm_id: str | None = None
    sources: list[str] = Field(default_factory=list)


class Assessment(Strict):
    by: str
    term: Term | None = None
    probability: Fraction | None = None


class ServiceSpec(Strict):
    """A service as written in a workspace; unset fields come from the catalogue or defaults."""

    id: Id
    name: str | None = None
    catalogue: Id | None = None
    status: Status = "active"
    term: Term | None = None
    months_to_value: Months | None = None
    probability: Fraction | None = None
    effort: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    approach: Approach | None = None
    description: str | None = None
    tags: list[str] | None = None
    clients: list[Id] = Field(default_factory=list)
    outcomes: list[Id] | None = None
    depends_on: list[DependencySpec] | None = None
    harms: list[HarmSpec] | None = None
    assessments: list[Assessment] = Field(default_factory=list)


class Goal(Strict):
    id: Id
    name: str | None = None
    outcomes: list[Id] = Field(default_factory=list)
    services: list[Id] = Field(default_factory=list)
    due_months: Months
    priority: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 1.0
    client: Id | None = None

    @model_validator(mode="after")
    def _linked(self) -> Goal:
        if not self.outcomes and not self.services:
            raise ValueError("a goal needs at least one of 'outcomes' or 'services'")
        return self


class Outcome(Strict):
    id: Id
    name: str | None = None
    term: Term | None = None


class KnowledgeFile(Strict):
    """The sections one knowledge file may hold; lists from all files are concatenated."""

    organisation: Organisation | None = None
    horizons: Horizons | None = None
    clients: list[Client] = Field(default_factory=list)
    services: list[ServiceSpec] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)

    @field_validator("clients", "services", "goals", "outcomes", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class CatalogueService(Strict):
    """A built-in reference service (knowledge/catalogue/services.yaml)."""

    id: Id
    name: str
    type: str
    domains: list[str] = Field(default_factory=list)
    term: Term
    term_basis: str | None = None
    aliases: list[str] = Field(default_factory=list)
    description: str | None = None
    rationale: str | None = None
    tags: list[str] = Field(default_factory=list)
    outcomes: list[Id] = Field(default_factory=list)
    depends_on: list[DependencySpec] = Field(default_factory=list)
    harms: list[HarmSpec] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class CatalogueOutcome(Strict):
    id: Id
    name: str
    perception: str
    term: Term
    time_hint: str | None = None
    sources: list[str] = Field(default_factory=list)


class CatalogueFile(Strict):
    services: list[CatalogueService] = Field(default_factory=list)
    outcomes: list[CatalogueOutcome] = Field(default_factory=list)
