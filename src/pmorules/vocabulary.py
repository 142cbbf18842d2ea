"""The closed vocabularies of the knowledge format and the rules, defined once.

Knowledge models, rule models, facts and presenters all take their terms,
statuses, approaches, severities and levels from here.
"""

from __future__ import annotations

from enum import Enum


class Term(str, Enum):
    """When a service's value is first perceived: the horizon its months to value fall into."""

    short = "short"
    medium = "medium"
    long = "long"


TERMS: tuple[str, ...] = tuple(t.value for t in Term)


class Status(str, Enum):
    """Whether a service is in the mix (active), a candidate (proposed) or no longer run (retired)."""

    active = "active"
    proposed = "proposed"
    retired = "retired"


class Approach(str, Enum):
    """How a service is delivered, from advising the customer to the PMO doing the work itself."""

    consultative = "consultative"
    supportive = "supportive"
    facilitative = "facilitative"
    directive = "directive"
    controlling = "controlling"
    managed = "managed"


class Context(str, Enum):
    """The contextual scenario of the PMO, from the idea of a PMO to its collapse or comeback."""

    potential = "potential"
    kickoff = "kickoff"
    growing = "growing"
    thriving = "thriving"
    crisis = "crisis"
    decline = "decline"
    collapse = "collapse"
    resurgence = "resurgence"


class DependencyKind(str, Enum):
    """hard: the service cannot deliver without the other; soft: the other materially improves it."""

    hard = "hard"
    soft = "soft"


class Severity(str, Enum):
    """How much a harm costs what it harms."""

    low = "low"
    medium = "medium"
    high = "high"


SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}


class Level(str, Enum):
    """How serious a finding is."""

    error = "error"
    warning = "warning"
    info = "info"


LEVEL_ORDER = {"error": 0, "warning": 1, "info": 2}

IMPOSING_APPROACHES = ("directive", "controlling")  # the approaches in which the PMO imposes or decides
