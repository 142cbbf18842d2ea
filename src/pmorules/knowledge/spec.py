"""The knowledge format as strict pydantic models: what a user writes.

``*Spec`` models are what a user writes, one file at a time; catalogue
defaults are not applied yet. ``KnowledgeBase`` (knowledge/base.py) holds the
resolved, cross-checked result. Every field carries its description here, once:
``pmorules schema`` and the generated format reference show them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..vocabulary import Approach, Confidence, ConsensusMethod, Context, DependencyKind, Mandate, Severity, Status, Term

Id = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80,
          description="An identifier: letters, digits, '_', '-' or '.', starting with a letter or digit; "
                      "matched case-insensitively."),
]


def _not_true_or_false(value: Any) -> Any:
    """A number field refuses true and false, which pydantic would read as 1 and 0 (a probability of false is 0%)."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


NotTrueOrFalse = BeforeValidator(_not_true_or_false)
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False), NotTrueOrFalse]
Months = Annotated[float, Field(ge=0.0, le=600.0, allow_inf_nan=False), NotTrueOrFalse]
Amount = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False), NotTrueOrFalse]
MitigatorRef = Annotated[
    str,
    Field(pattern=r"^(tag:)?[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=84,
          description="A service id, a catalogue id (S18) or 'tag:<tag>' (any active service with that tag)."),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, str_strip_whitespace=True)


class TargetProfile(Strict):
    """The effort shares per term the organisation aims for (each 0..1; together they should make 1)."""

    short: Fraction = Field(description="Target share of effort in short-term services, 0..1.", examples=[0.4])
    medium: Fraction = Field(description="Target share of effort in medium-term services, 0..1.", examples=[0.35])
    long: Fraction = Field(description="Target share of effort in long-term services, 0..1.", examples=[0.25])


class Review(Strict):
    """A date at which the PMO must show value to its sponsors. Short form: the date alone."""

    date: dt.date = Field(description="When the review takes place (YYYY-MM-DD).", examples=["2026-06-30"])
    name: str | None = Field(None, description="What the review is called, as the committee says it.",
                             examples=["Q3 steering committee"])

    @model_validator(mode="before")
    @classmethod
    def _from_date(cls, value: Any) -> Any:
        """Accept the short form: a bare date."""
        if isinstance(value, (dt.date, str)):
            return {"date": value}
        return value


class Organisation(Strict):
    """Who the PMO is and where it stands."""

    name: str = Field("PMO", description="Name of the PMO, shown in every output.", examples=["Acme IT PMO"])
    founded: dt.date | None = Field(
        None, description="When the PMO was set up (YYYY-MM-DD); its age is counted to the evaluation date. "
                          "A young PMO needs quick wins more.", examples=["2025-08-01"])
    age_months: Months | None = Field(
        None, description="Months since the PMO was set up, at the evaluation date (instead of founded).",
        examples=[7])
    context: Context | None = Field(
        None, description="The situation the PMO is in (one of the Context values).", examples=["growing"])
    mandate: Mandate | None = Field(
        None, description="What the PMO was set up to do, as its clients accept it (one of the Mandate values): "
                          "with control, oversight is the mandate, not a sign of a PMO turned police.",
        examples=["control"])
    capacity_fte: Amount | None = Field(
        None, description="Headcount of the PMO in full-time equivalents. Not the unit of effort: it checks "
                          "how many services each person runs, and the recommended mix moves effort in steps of "
                          "0.25 FTE and shows FTE beside each effort.", examples=[6])
    capacity: Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)] = Field(
        100.0, description="The PMO's capacity in effort units; every service's effort is in the same unit. "
                           "Default 100: effort is then a percentage of the PMO's capacity. The mix is over capacity "
                           "when the active services' effort adds up to more.", examples=[100])
    reviews: list[Review] | None = Field(
        None, description="When the PMO must show value to its sponsors: dates, each optionally named "
                          "({date: ..., name: ...}). Reviews before the evaluation date are past.",
        examples=[["2026-06-30", {"date": "2026-09-30", "name": "Half-year review"}]])
    reviews_months: list[Months] = Field(
        default_factory=lambda: [3.0, 6.0],
        description="When the PMO must show value to its sponsors, in months from the evaluation date "
                    "(instead of reviews; default 3 and 6).",
        examples=[[3, 6]])
    assessed_on: dt.date | None = Field(
        None, description="Date the data describe: the last assessment of the mix with clients and experts "
                          "(YYYY-MM-DD). The workspace is judged as of this date unless --as-of says otherwise; "
                          "without it, as of the day it is run.", examples=["2026-03-20"])
    target_profile: TargetProfile | None = Field(
        None, description="The effort shares per term the organisation has agreed to aim for (default: none; "
                          "the rules' own minimum and maximum shares apply).",
        examples=[{"short": 0.4, "medium": 0.35, "long": 0.25}])
    consensus: ConsensusMethod = Field(
        "median", description="How several experts' assessments of a service become its term and probability when "
                              "the service does not state them (one of the ConsensusMethod values; each expert's "
                              "latest round counts).", examples=["cautious"])

    @field_validator("reviews")
    @classmethod
    def _one_review_a_day(cls, reviews: list[Review] | None) -> list[Review] | None:
        days = [r.date for r in reviews or []]
        twice = sorted({day.isoformat() for day in days if days.count(day) > 1})
        if twice:
            raise ValueError(f"two reviews on {', '.join(twice)}: one review a day (give them one name)")
        return reviews

    @model_validator(mode="after")
    def _one_of_each(self) -> Organisation:
        twice = [f"give {dated} or {counted}, not both" for dated, counted, both in (
            ("founded", "age_months", self.founded is not None and self.age_months is not None),
            ("reviews", "reviews_months", self.reviews is not None and "reviews_months" in self.model_fields_set),
        ) if both]
        if twice:
            raise ValueError("; ".join(twice))
        return self


class Horizons(Strict):
    """What short, medium and long term mean here, in months from a service's start to its first perceived value."""

    short_max_months: Months = Field(
        3.0, description="Value within this many months counts as short term.", examples=[3])
    medium_max_months: Months = Field(
        12.0, description="Value within this many months (and after short_max_months) counts as medium term; "
                          "later is long term. Not below short_max_months.", examples=[12])

    @model_validator(mode="after")
    def _ordered(self) -> Horizons:
        if self.medium_max_months < self.short_max_months:
            raise ValueError("medium_max_months must not be below short_max_months")
        return self


class Client(Strict):
    """A group whose perception of the PMO's value counts."""

    id: Id = Field(description="Unique id of the client; services (clients) and goals (client) refer to it.",
                   examples=["exec"])
    name: str | None = Field(None, description="Display name (default: the id).",
                             examples=["CIO and executive committee"])
    weight: Fraction = Field(1.0, description="How much this client's view counts, 0..1; it multiplies the "
                                              "priority of the client's goals.", examples=[0.6])


class DependencySpec(Strict):
    """A service this one needs. Short form: 'tools' (hard) or 'tools:soft'."""

    service: Id = Field(description="The service needed: a workspace service id or a catalogue id.",
                        examples=["tools"])
    kind: DependencyKind = Field(
        "hard", description="How much it is needed (one of the DependencyKind values).", examples=["soft"])
    reason: str | None = Field(None, description="Why it is needed (or, with applies: false, why not).",
                               examples=["no monthly review without the weekly data"])
    applies: bool = Field(True, description="false turns off a dependency inherited from the catalogue (same "
                                            "service); give the reason.", examples=[False])

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

    id: Id = Field(description="The outcome: a catalogue outcome (O01..O30) or a workspace outcome.",
                   examples=["O12"])
    contribution: Union[Literal["primary", "supporting"], Fraction] | None = Field(
        None, description="How much of the outcome this service delivers when it delivers: primary (one of the "
                          "services the outcome needs; counts 1.0, the default for catalogue links), supporting "
                          "(it helps; counts 0.5, the default for links the workspace adds), or a number 0..1. "
                          "The weights of primary and supporting are set in pmorules.toml ([adherence]).",
        examples=["supporting"])
    months: Months | None = Field(
        None, description="Months from the service's start until this link delivers the outcome (default: the "
                          "outcome's months). It never delivers before the service's own months to value.",
        examples=[24])
    applies: bool = Field(True, description="false turns off a link inherited from the catalogue (same outcome); "
                                            "give the reason.", examples=[False])
    reason: str | None = Field(None, description="Why the link is set this way.",
                               examples=["our executives own priorities; no effect on commitment"])

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value


class HarmSpec(Strict):
    """A dis-benefit: running this service costs something else (a service, an outcome or a client relationship)."""

    target: Id = Field(description="What is harmed: a service id or catalogue id, an outcome id, or a client id "
                                   "(the PMO's relationship with that client).", examples=["culture"])
    severity: Severity = Field("medium", description="How much it costs (one of the Severity values).",
                               examples=["high"])
    reason: str | None = Field(None, description="The mechanism (or, with applies: false, why it does not apply).",
                               examples=["mandatory weekly packs chased by the PMO make PMs feel policed"])
    mitigated_by: list[MitigatorRef] = Field(
        default_factory=list, description="What counteracts it: service ids, catalogue ids or 'tag:<tag>'; any "
                                          "active match mitigates (default: nothing).",
        examples=[["coaching", "tag:capability"]])
    approaches: list[Approach] | None = Field(
        None, description="The harm applies only while the service runs in one of these approaches (default: in "
                          "any approach).", examples=[["directive", "controlling"]])
    party: Literal["any", "served"] | None = Field(
        None, description="Who suffers it: any (the default: every goal on what is harmed counts), or served (only "
                          "the clients this service serves: only their goals count as harmed).",
        examples=["served"])
    applies: bool = Field(True, description="false turns off a harm inherited from the catalogue (same target); "
                                            "give the reason.", examples=[False])
    harm_id: str | None = Field(None, description="The catalogue's harm pattern id (H01..), for reference only.",
                                examples=["H01"])
    sources: list[str] = Field(default_factory=list, description="Where the harm is documented (free text ids).",
                               examples=[["R13"]])


class Assessment(Strict):
    """A subject-matter expert's rating of a service; experts who disagree are reported."""

    by: str = Field(description="Who assessed it.", max_length=200, examples=["R. Okafor (Head of Delivery)"])
    term: Term | None = Field(None, description="When the expert expects the service's value to be perceived.",
                              examples=["medium"])
    months_to_value: Months | None = Field(
        None, description="The expert's months from the start of the service until its value is perceived, instead "
                          "of a term (the term then follows from the horizons).", examples=[9])
    probability: Fraction | None = Field(None, description="The expert's probability that it delivers, 0..1.",
                                         examples=[0.7])
    confidence: Confidence | None = Field(None, description="How sure the expert is (one of the Confidence "
                                                            "values).", examples=["high"])
    comment: str | None = Field(None, description="The expert's reasons, in their words.", max_length=2000,
                                examples=["line managers will keep overriding the plan"])
    round: Annotated[int, NotTrueOrFalse] = Field(1, ge=1, le=99, description="The round of the assessment (a second round lets experts "
                                                   "revise after seeing the first); each expert's latest round "
                                                   "counts.", examples=[2])
    date: dt.date | None = Field(None, description="When the rating was given or collected (YYYY-MM-DD).",
                                 examples=["2026-03-20"])


class ServiceAssessment(Assessment):
    """An expert's rating of one service, kept apart from the service (`pmorules assess --collect` writes them
    to assessments.yaml); it counts as one of that service's assessments."""

    service: Id = Field(description="The service rated (a workspace service id).", examples=["resources"])


class Action(Strict):
    """What the PMO agreed to do about a finding (by its fingerprint) or a decision of a steering committee, who
    owns it, by when, and where it stands. Kept in the workspace (e.g. actions.yaml) and carried across reviews."""

    finding: str | None = Field(None, pattern=r"^[0-9a-f]{16}$", description="The fingerprint of the finding it "
                                "answers (`pmorules analyze --format json`, `findings[].fingerprint`).",
                                examples=["9c1d3f0e5a7b2c48"])
    decision: str | None = Field(None, min_length=1, max_length=200, description="The decision it carries out, "
                                 "when it answers no single finding.", examples=["Retire the legacy register by Q3"])
    action: str = Field(min_length=1, max_length=2000, description="What was agreed.",
                        examples=["Move the weekly pack to the supportive approach"])
    owner: str | None = Field(None, max_length=200, description="Who carries it out.", examples=["J. Lin"])
    due: dt.date | None = Field(None, description="By when (YYYY-MM-DD).", examples=["2026-06-30"])
    status: Literal["open", "done", "dropped"] = Field("open", description="open, done or dropped (with a reason).",
                                                       examples=["open"])
    reason: str | None = Field(None, max_length=2000, description="Why it was dropped.",
                               examples=["the steering committee accepted the risk"])
    notes: str | None = Field(None, max_length=2000, description="Anything else worth knowing.",
                              examples=["new pack template in use since January"])

    @model_validator(mode="after")
    def _answers_one_thing(self) -> "Action":
        if (self.finding is None) == (self.decision is None):
            raise ValueError("give 'finding' (a fingerprint) or 'decision', exactly one")
        if self.status == "dropped" and not self.reason:
            raise ValueError("a dropped action gives its 'reason'")
        return self


class ServiceSpec(Strict):
    """A service as written in a workspace; unset fields come from the catalogue or the defaults."""

    id: Id = Field(description="Unique id of the service; goals, dependencies, harms and mitigators refer to it.",
                   examples=["reporting"])
    name: str | None = Field(None, description="Display name (default: the catalogue name, else the id).",
                             examples=["Weekly project status pack"])
    catalogue: Id | None = Field(
        None, description="A catalogue service (S01..S26, X01..X04) it offers: it inherits that entry's name, term, "
                          "tags, outcome links, dependencies and harms. Fields given here win; outcomes, depends_on "
                          "and harms merge with the catalogue's item by item.", examples=["S16"])
    status: Status = Field("active", description="Whether it is run today (one of the Status values).",
                           examples=["proposed"])
    term: Term | None = Field(
        None, description="When its value is first perceived after the service starts. Without months_to_value "
                          "it stands for short 2, medium 6, long 18 months with the standard horizons (at the same place "
                          "within others). Required unless months_to_value or "
                          "catalogue gives it.", examples=["short"])
    months_to_value: Months | None = Field(
        None, description="Months from the start of the service until its value is perceived; when given, the "
                          "term follows from it (horizons).", examples=[4])
    running_months: Months | None = Field(
        None, description="Months the service has run already (default 0): value already perceived counts now, "
                          "months after the evaluation date = max(0, months_to_value - running_months).", examples=[36])
    since: dt.date | None = Field(
        None, description="When the service started (YYYY-MM-DD), instead of running_months; the months run are "
                          "counted to the evaluation date.", examples=["2024-01-15"])
    probability: Fraction | None = Field(
        None, description="Probability that it delivers the value expected of it, 0..1 (default 0.6, noted as a "
                          "data-quality gap).", examples=[0.8])
    effort: Amount | None = Field(
        None, description="Effort, in the unit of organisation.capacity (default unit: percent of the PMO's "
                          "capacity). Give it for every service or for none (then each service counts 1).",
        examples=[12])
    approach: Approach | None = Field(
        None, description="How it is delivered (one of the Approach values; default: not stated, and harms "
                          "limited to some approaches then do not count).", examples=["facilitative"])
    keep: bool = Field(False, description="true: the recommended mix never drops or cuts this service, nor changes "
                                          "its approach.", examples=[True])
    mandated: bool = Field(
        False, description="true: its approach is mandated (a funding gate, a review board the PMO's mandate rests "
                           "on): the recommended mix keeps the service as a core service, never cuts it and never "
                           "changes its approach.", examples=[True])
    was: Id | None = Field(
        None, description="The id this service had before it was renamed: comparisons with earlier snapshots "
                          "(pmorules diff, the report's history) then show one service changed, not one removed "
                          "and one added.", examples=["pm-support"])
    description: str | None = Field(None, description="Free text.", examples=["Mandatory for projects over 50k EUR"])
    tags: list[str] | None = Field(
        None, description="Labels rules match: capability, control, delivery, firefighting, reporting, or your "
                          "own. Replaces the catalogue's tags (default: the catalogue's, else none).",
        examples=[["control", "reporting"]])
    clients: list[Id] = Field(default_factory=list, description="The clients it serves (client ids).",
                              examples=[["exec", "pm"]])
    outcomes: list[OutcomeLinkSpec] | None = Field(
        None, description="Outcomes it contributes to; merged with the catalogue's links by outcome id.",
        examples=[["O05", {"id": "O12", "contribution": "supporting"}]])
    depends_on: list[DependencySpec] | None = Field(
        None, description="Services it needs; merged with the catalogue's dependencies by service.",
        examples=[["tools:soft", {"service": "S16", "applies": False, "reason": "data comes from the ERP"}]])
    harms: list[HarmSpec] | None = Field(
        None, description="What running it costs; merged with the catalogue's harms by target.",
        examples=[[{"target": "culture", "severity": "high", "mitigated_by": ["tools"]}]])
    assessments: list[Assessment] = Field(default_factory=list, description="Expert ratings of the service.",
                                          examples=[[{"by": "jane", "term": "short", "probability": 0.7}]])

    @model_validator(mode="after")
    def _one_start(self) -> ServiceSpec:
        if self.running_months is not None and self.since is not None:
            raise ValueError("give running_months or since, not both")
        return self


class Goal(Strict):
    """What a client expects of the PMO, and by when."""

    id: Id = Field(description="Unique id of the goal.", examples=["G1"])
    name: str | None = Field(None, description="Display name (default: the id).",
                             examples=["Executive visibility of all projects"])
    outcomes: list[Id] = Field(default_factory=list, description="The outcomes that make the goal (outcome ids).",
                               examples=[["O26", "O15"]])
    services: list[Id] = Field(default_factory=list, description="Services the goal names directly (service or "
                                                                  "catalogue ids).", examples=[["change-control"]])
    due: dt.date | None = Field(None, description="When the goal must be met (YYYY-MM-DD).",
                                examples=["2027-03-31"])
    due_months: Months | None = Field(None, description="When the goal must be met, in months from the evaluation "
                                                        "date (instead of due).", examples=[6])
    priority: Amount = Field(1.0, description="Weight of the goal (default 1); the weight of its client "
                                              "multiplies it.", examples=[3])
    client: Id | None = Field(None, description="The client the goal belongs to (its owner; a client id).",
                              examples=["exec"])

    @model_validator(mode="after")
    def _linked(self) -> Goal:
        if not self.outcomes and not self.services:
            raise ValueError("a goal needs at least one of 'outcomes' or 'services'")
        return self  # its due date is checked beside its references (knowledge.load), so neither hides the other


class Outcome(Strict):
    """An outcome of the workspace; with a catalogue id (O01..O30) it changes that outcome."""

    id: Id = Field(description="A new outcome id, or a catalogue outcome id (O01..O30) to change that outcome.",
                   examples=["O05"])
    name: str | None = Field(None, description="Display name (default: the catalogue's name, else the id).",
                             examples=["Fewer escalations"])
    term: Term | None = Field(None, description="When the outcome is usually perceived (default: from months, "
                                                "else medium).", examples=["medium"])
    months: Months | None = Field(
        None, description="Months from the start of a service that delivers it until the outcome is perceived "
                          "(default: the catalogue's, else by term: short 2, medium 6, long 12).", examples=[3])


class KnowledgeFile(Strict):
    """The sections one knowledge file may hold; lists from all files are concatenated."""

    organisation: Organisation | None = Field(None, description="Who the PMO is (once per workspace).")
    horizons: Horizons | None = Field(None, description="What short, medium and long term mean (once per "
                                                        "workspace; default 3 and 12 months).")
    clients: list[Client] = Field(default_factory=list, description="The groups whose view of the PMO counts.")
    services: list[ServiceSpec] = Field(default_factory=list, description="The services the PMO runs, proposes "
                                                                          "or has retired.")
    goals: list[Goal] = Field(default_factory=list, description="What the clients expect, and by when.")
    outcomes: list[Outcome] = Field(default_factory=list, description="New outcomes, or changes to catalogue "
                                                                      "outcomes.")
    assessments: list[ServiceAssessment] = Field(
        default_factory=list, description="Expert ratings of services, kept apart from the services (as "
                                          "`pmorules assess --collect` writes them); each counts as one of its "
                                          "service's assessments.")
    actions: list[Action] = Field(default_factory=list, description="What the PMO agreed to do about findings and "
                                  "decisions: action, owner, due date and status (`pmorules actions`).")

    @field_validator("clients", "services", "goals", "outcomes", "assessments", "actions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class CatalogueService(Strict):
    """A built-in reference service (knowledge/catalogue/services.yaml)."""

    id: Id = Field(description="Catalogue id: S01..S26 (PMI practice guide) or X01..X04 (extras).")
    name: str = Field(description="Short factual label.")
    type: str = Field(description="strategic, tactical or operational.")
    domains: list[str] = Field(default_factory=list, description="portfolio, program and/or project.")
    term: Term = Field(description="Default term, derived from the outcomes that recommend the service.")
    term_basis: str | None = Field(None, description="How the term was derived (mean code and count).")
    aliases: list[str] = Field(default_factory=list, description="Other ids that name it (Hobbs & Aubry HA01..).")
    description: str | None = Field(None, description="What the service does (paraphrase).")
    rationale: str | None = Field(None, description="Why its value takes the time it does.")
    tags: list[str] = Field(default_factory=list, description="Default tags the rules match.")
    outcomes: list[Id] = Field(default_factory=list, description="Outcomes that recommend this service.")
    depends_on: list[DependencySpec] = Field(default_factory=list, description="Default dependencies.")
    harms: list[HarmSpec] = Field(default_factory=list, description="Default harms.")
    sources: list[str] = Field(default_factory=list, description="Source ids (docs/sources.md).")


class CatalogueOutcome(Strict):
    """A built-in outcome (knowledge/catalogue/outcomes.yaml)."""

    id: Id = Field(description="Catalogue id O01..O30.")
    name: str = Field(description="Short factual label.")
    perception: str = Field(description="The guide's timeframe code: S, SM, M, ML or L.")
    term: Term = Field(description="Term derived from the timeframe code.")
    months: Months = Field(description="Months until it is first perceived once a service delivers it, from the "
                                       "code: S 2, SM 3, M 6, ML 9, L 12.")
    time_hint: str | None = Field(None, description="What takes time (paraphrase).")
    sources: list[str] = Field(default_factory=list, description="Source ids (docs/sources.md).")


class CatalogueFile(Strict):
    """One catalogue file."""

    services: list[CatalogueService] = Field(default_factory=list, description="Catalogue services.")
    outcomes: list[CatalogueOutcome] = Field(default_factory=list, description="Catalogue outcomes.")
