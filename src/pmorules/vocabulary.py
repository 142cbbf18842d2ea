"""The closed vocabularies of the knowledge format and the rules, defined once.

Knowledge models, rule models, facts and presenters all take their terms,
statuses, approaches, severities and levels from here. Each value of the
knowledge format's vocabularies carries its meaning, so that ``pmorules schema``
and docs/format.md explain every value from this one place.
"""

from __future__ import annotations

from enum import Enum


class Vocabulary(str, Enum):
    """A closed set of words, each defined as ``word = "word", "what it means"``."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> Vocabulary:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    @classmethod
    def meanings(cls) -> dict[str, str]:
        return {member.value: member.meaning for member in cls}


class Term(Vocabulary):
    """When a service's (or an outcome's) value is first perceived: the horizon its months to value fall into."""

    short = "short", "first perceived within the short horizon (horizons.short_max_months, default 3 months)"
    medium = "medium", ("first perceived after the short and within the medium horizon (horizons.medium_max_months, "
                        "default 12 months)")
    long = "long", "first perceived after the medium horizon"


TERMS: tuple[str, ...] = tuple(t.value for t in Term)


class Status(Vocabulary):
    """Whether a service is part of the PMO's mix today."""

    active = "active", "run today: counts in every share, measure and rule"
    proposed = "proposed", "a candidate the PMO considers: not counted today; the recommended mix may add it"
    retired = "retired", "no longer run: kept for the record, never counted or added"


class Approach(Vocabulary):
    """How a service is delivered, ordered by how much the PMO takes over from its customers (PMI practice guide)."""

    consultative = "consultative", "the PMO advises when asked; customers decide and do the work"
    supportive = "supportive", "the PMO helps customers do the work themselves"
    facilitative = "facilitative", "the PMO brings people together and eases their work"
    directive = "directive", "the PMO sets standard processes that customers must follow"
    controlling = "controlling", "the PMO oversees and decides; customers keep much less autonomy"
    managed = "managed", "the PMO does the work itself; customers keep very little control"


class Context(Vocabulary):
    """The contextual scenario the PMO is in, from the idea of a PMO to its collapse or comeback (PMI practice
    guide); the rules on quick wins, maturity and crisis read it."""

    potential = "potential", "a PMO is an idea: someone is making the case for one"
    kickoff = "kickoff", "the PMO is being set up; it must show early results to be taken seriously"
    growing = "growing", "backed by its sponsors and increasingly asked for; still proving itself"
    thriving = "thriving", "established and valued by its clients: a mature PMO"
    crisis = "crisis", ("questioned: artefacts go unused, complaints about bureaucracy, customers resist; "
                        "it will not be given time for slow work to pay off")
    decline = "decline", "losing support, budget or people; like a crisis, quick value decides its fate"
    collapse = "collapse", "being shut down or merged away"
    resurgence = "resurgence", "coming back after a crisis or a closure; must rebuild credibility quickly"


class Mandate(Vocabulary):
    """What the PMO was set up to do, as its sponsors and clients accept it; the rule on control reads it."""

    control = "control", ("assurance or compliance: oversight is what it exists for (a review authority, a "
                          "regulator-driven remediation office), and its clients accept being controlled")
    support = "support", "helping projects and their managers succeed: control is a means, not the mandate"
    delivery = "delivery", "running projects or programmes itself"


# What a finding says of the goal it is about, in the committee's words, mildest first; a rule file gives
# each goal rule its verdict. A goal no such finding is about is on track; with several, the gravest counts.
VERDICTS: tuple[str, ...] = ("on track", "at risk", "not covered", "cannot be met by its date", "past its date")
# What each verdict means for the goal by its date, as the report's review calendar says it.
OUTLOOK: dict[str, str] = {"on track": "likely met", "at risk": "at risk", "not covered": "not covered",
                           "cannot be met by its date": "cannot be met", "past its date": "past its date"}


class DependencyKind(Vocabulary):
    """How much a service needs another."""

    hard = "hard", "cannot deliver its value without the other service"
    soft = "soft", "delivers, but materially better with the other service"


class Severity(Vocabulary):
    """How much a harm costs what it harms."""

    low = "low", "a small cost: noticed, but it changes little of what it harms"
    medium = "medium", "wears down what it harms a little more every cycle the service runs, unless mitigated"
    high = "high", "can undo what it harms (people disengage, information stops being trusted)"


SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}


class Confidence(Vocabulary):
    """How sure an expert is of a rating (recorded and shown beside it; it does not weight the consensus)."""

    low = "low", "a guess: the expert knows little of how this service works here"
    medium = "medium", "an informed view: the expert has seen similar services or parts of this one"
    high = "high", "the expert has run or closely watched this service, here or in a similar organisation"


class ConsensusMethod(Vocabulary):
    """How several experts' ratings of a service become its term and probability (docs/measures.md#consensus)."""

    median = "median", ("the middle value of the experts' months to value and of their probabilities (half give "
                        "more, half less; with an even number, halfway between the two middle ones); one outlier "
                        "does not move it")
    mean = "mean", "the average of the experts' months to value and of their probabilities"
    cautious = "cautious", "the latest months to value and the lowest probability any expert gives"


# How a consensus is formed, in words (the report's estimates section and `pmorules assess`).
CONSENSUS_WORDS = {
    "median": "the median of each expert's latest figures",
    "mean": "the mean of each expert's latest figures",
    "cautious": "the most cautious of each expert's latest figures (the latest months, the lowest probability)",
}


class Level(str, Enum):
    """How serious a finding is."""

    error = "error"
    warning = "warning"
    info = "info"


LEVEL_ORDER = {"error": 0, "warning": 1, "info": 2}
# A finding's level in the words a steering committee uses (the report's body; codes stay in its appendix).
LEVEL_WORDS = {"error": "critical", "warning": "needs attention", "info": "for information"}

IMPOSING_APPROACHES = ("directive", "controlling")  # the approaches in which the PMO imposes or decides
