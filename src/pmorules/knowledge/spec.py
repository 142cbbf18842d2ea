"""The knowledge format as strict pydantic models: what a user writes.

``*Spec`` models are what a user writes, one file at a time; catalogue
defaults are not applied yet. ``KnowledgeBase`` (knowledge/base.py) holds the
resolved, cross-checked result. Every field carries its description here, once:
``pmorules schema`` and the generated format reference show them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..vocabulary import Approach, Context, DependencyKind, Severity, Status, Term

Id = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80,
          description="An identifier: letters, digits, '_', '-' or '.', starting with a letter or digit; "
                      "matched case-insensitively."),
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Months = Annotated[float, Field(ge=0.0, le=600.0, allow_inf_nan=False)]
Amount = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]
MitigatorRef = Annotated[
    str,
    Field(pattern=r"^(tag:)?[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=84,
          description="A service id, a catalogue id (S18) or 'tag:<tag>' (any active service with that tag)."),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, str_strip_whitespace=True)


class TargetProfile(Strict):
    """The effort shares per term the organisation aims for (each 0..1)."""

    short: Fraction = Field(description="Target effort share of short-term services.", examples=[0.4])
    medium: Fraction = Field(description="Target effort share of medium-term services.", examples=[0.35])
    long: Fraction = Field(description="Target effort share of long-term services.", examples=[0.25])


class Organisation(Strict):
    """Who the PMO is and where it stands."""

    name: str = Field("PMO", description="Name of the PMO, shown in every output.", examples=["Acme IT PMO"])
    age_months: Months | None = Field(
        None, description="Months since the PMO was set up. Young PMOs need quick wins more.", examples=[7])
    context: Context | None = Field(
        None, description="The PMO's contextual scenario: potential (an idea), kickoff (being set up), growing "
                          "(backed and asked for), thriving (established, valued), crisis (questioned: complaints, "
                          "bureaucracy, unused artefacts), decline (losing support), collapse (being shut down), "
                          "resurgence (coming back after a crisis).", examples=["growing"])
    capacity_fte: Amount | None = Field(
        None, description="Headcount of the PMO in full-time equivalents (used to check services per person).",
        examples=[6])
    capacity: Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)] = Field(
        100.0, description="The PMO's capacity in effort units: effort of services is counted in the same unit. "
                           "Default 100, i.e. effort is a percentage of the PMO's capacity.", examples=[100])
    reviews_months: list[Months] = Field(
        default_factory=lambda: [3.0, 6.0],
        description="When the PMO must show value to its sponsors, in months from today (or --as-of).",
        examples=[[3, 6]])
    assessed_on: dt.date | None = Field(
        None, description="Date of the last assessment of the mix with clients and experts (YYYY-MM-DD).",
        examples=["2026-03-20"])
    target_profile: TargetProfile | None = Field(
        None, description="Effort shares per term the organisation has agreed to aim for.")


class Horizons(Strict):
    """What short, medium and long term mean here, in months to first perceived value."""

    short_max_months: Months = Field(3.0, description="Value within this many months counts as short term.")
    medium_max_months: Months = Field(12.0, description="Value within this many months counts as medium term; "
                                                        "later is long term.")

    @model_validator(mode="after")
    def _ordered(self) -> Horizons:
        if self.medium_max_months < self.short_max_months:
            raise ValueError("medium_max_months must not be below short_max_months")
        return self


class Client(Strict):
    """A group whose perception of the PMO's value counts."""

    id: Id
    name: str | None = Field(None, description="Display name.", examples=["CIO and executive committee"])
    weight: Fraction = Field(1.0, description="How much this client's view counts, 0..1 (default 1).", examples=[0.6])


class DependencySpec(Strict):
    """A service this one needs. Short form: 'tools' or 'tools:soft'."""

    service: Id = Field(description="The service needed: a workspace id or a catalogue id.")
    kind: DependencyKind = Field(
        "hard", description="hard: cannot deliver without it; soft: materially better with it.")
    reason: str | None = Field(None, description="Why it is needed (or, with applies: false, why not).")
    applies: bool = Field(True, description="false turns off a dependency inherited from the catalogue; "
                                            "give the reason.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """Accept the short form ``tools`` or ``tools:soft``."""
        if isinstance(value, str):
            name, _, kind = value.partition(":")
            return {"service": name.strip(), "kind": kind.strip() or "hard"}
        return value


class OutcomeLinkSpec(Strict):
    """A service's contribution to an outcome. Short form: the outcome id alone."""

    id: Id = Field(description="The outcome (O01..O30 or a workspace outcome).")
    contribution: Union[Literal["primary", "supporting"], Fraction] | None = Field(
        None, description="How much of the outcome this service delivers when it delivers: primary (it is one "
                          "of the services the outcome needs; the default for catalogue links), supporting (it "
                          "helps; the default for links a workspace adds), or a number 0..1.")
    months: Months | None = Field(
        None, description="When this link delivers the outcome, if not when the outcome is usually perceived.")
    applies: bool = Field(True, description="false turns off a link inherited from the catalogue; give the reason.")
    reason: str | None = Field(None, description="Why the link is set this way.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value


class HarmSpec(Strict):
    """A dis-benefit: running this service costs something else (a service, an outcome or a client relationship)."""

    target: Id = Field(description="What is harmed: a service id or catalogue id, an outcome id, or a client id "
                                   "(the PMO's relationship with that client).")
    severity: Severity = Field("medium", description="low, medium or high.")
    reason: str | None = Field(None, description="The mechanism (or, with applies: false, why it does not apply).")
    mitigated_by: list[MitigatorRef] = Field(
        default_factory=list, description="What counteracts it: service ids, catalogue ids or 'tag:<tag>'; any "
                                          "active match mitigates.", examples=[["coaching", "tag:capability"]])
    approaches: list[Approach] | None = Field(
        None, description="The harm applies only when the service runs in one of these approaches (default: any).")
    party: Literal["any", "served"] | None = Field(
        None, description="Who suffers it: any (default) or served, the clients this service serves (then only "
                          "goals of those clients count as harmed).")
    applies: bool = Field(True, description="false turns off a harm inherited from the catalogue; give the reason.")
    harm_id: str | None = Field(None, description="Catalogue pattern id (H01..), for reference.")
    sources: list[str] = Field(default_factory=list, description="Where the harm is documented.")


class Assessment(Strict):
    """A subject-matter expert's rating of a service."""

    by: str = Field(description="Who assessed it.")
    term: Term | None = Field(None, description="When the expert expects its value to be perceived.")
    probability: Fraction | None = Field(None, description="The expert's probability that it delivers.")


class ServiceSpec(Strict):
    """A service as written in a workspace; unset fields come from the catalogue or defaults."""

    id: Id
    name: str | None = Field(None, description="Display name (default: the catalogue name, else the id).")
    catalogue: Id | None = Field(
        None, description="A catalogue id (S01..S26, X01..X04): inherit term, outcomes, tags, dependencies and "
                          "harms. Fields given here win; outcomes, dependencies and harms merge item by item.",
        examples=["S16"])
    status: Status = Field("active", description="active (in the mix), proposed (a candidate) or retired.")
    term: Term | None = Field(
        None, description="short, medium or long: when its value is first perceived after the service starts. "
                          "Without months_to_value it means short 2, medium 6, long 18 months.")
    months_to_value: Months | None = Field(
        None, description="Months from the start of the service until its value is perceived; when given, the "
                          "term follows from it (horizons).", examples=[4])
    running_months: Months | None = Field(
        None, description="How long the service has run already; value already perceived counts now "
                          "(months from today = months_to_value minus running_months, at least 0).", examples=[36])
    since: dt.date | None = Field(
        None, description="When the service started (YYYY-MM-DD), instead of running_months.")
    probability: Fraction | None = Field(
        None, description="Probability that it delivers the value expected of it, 0..1 (default 0.6).",
        examples=[0.8])
    effort: Amount | None = Field(
        None, description="Effort, in the unit of organisation.capacity (default: percent of capacity). Give it "
                          "for every service or for none (then each counts 1).", examples=[12])
    approach: Approach | None = Field(
        None, description="How it is delivered: consultative (advises), supportive (helps on request), "
                          "facilitative (enables the customer's own work), directive (imposes standard processes), "
                          "controlling (oversees and decides), managed (the PMO does the work).")
    keep: bool = Field(False, description="The recommended mix never drops this service.")
    was: Id | None = Field(
        None, description="The id this service had before it was renamed: comparisons with earlier snapshots "
                          "(pmorules diff, the report's history) then show one service changed, not one removed "
                          "and one added.", examples=["pm-support"])
    description: str | None = Field(None, description="Free text.")
    tags: list[str] | None = Field(
        None, description="Labels rules match (capability, control, delivery, firefighting, reporting, or your "
                          "own); replaces the catalogue's tags.")
    clients: list[Id] = Field(default_factory=list, description="The clients it serves.")
    outcomes: list[OutcomeLinkSpec] | None = Field(
        None, description="Outcomes it contributes to; merged with the catalogue's links by outcome id.")
    depends_on: list[DependencySpec] | None = Field(
        None, description="Services it needs; merged with the catalogue's by service.")
    harms: list[HarmSpec] | None = Field(None, description="Its harms; merged with the catalogue's by target.")
    assessments: list[Assessment] = Field(default_factory=list, description="Expert ratings.")

    @model_validator(mode="after")
    def _one_start(self) -> ServiceSpec:
        if self.running_months is not None and self.since is not None:
            raise ValueError("give running_months or since, not both")
        return self


class Goal(Strict):
    """What a client expects of the PMO, and by when."""

    id: Id
    name: str | None = Field(None, description="Display name.")
    outcomes: list[Id] = Field(default_factory=list, description="The outcomes that make the goal.")
    services: list[Id] = Field(default_factory=list, description="Services the goal names directly.")
    due_months: Months = Field(description="When the goal must be met, in months from today (or --as-of).",
                               examples=[6])
    priority: Amount = Field(1.0, description="Weight of the goal (default 1); the client's weight multiplies it.")
    client: Id | None = Field(None, description="The client the goal belongs to (its owner).")

    @model_validator(mode="after")
    def _linked(self) -> Goal:
        if not self.outcomes and not self.services:
            raise ValueError("a goal needs at least one of 'outcomes' or 'services'")
        return self


class Outcome(Strict):
    """An outcome of the workspace; with a catalogue id (O01..O30) it changes that outcome."""

    id: Id
    name: str | None = Field(None, description="Display name.")
    term: Term | None = Field(None, description="When the outcome is usually perceived.")
    months: Months | None = Field(
        None, description="Months until the outcome is first perceived once a service delivers it (default: the "
                          "catalogue's, else by term: short 2, medium 6, long 12).")


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
    months: Months
    time_hint: str | None = None
    sources: list[str] = Field(default_factory=list)


class CatalogueFile(Strict):
    services: list[CatalogueService] = Field(default_factory=list)
    outcomes: list[CatalogueOutcome] = Field(default_factory=list)
