"""How several experts' assessments of a service become one term and probability (docs/measures.md#consensus).

The one definition: the loader applies it to a service that states no term or
probability of its own, the service facts read its spread (the disagreement
rule), and ``pmorules assess`` and the report show the same figures.

- **Who counts**: each expert who gave a figure (a timing or a probability), in
  the expert's latest round (experts are matched by name, case and spaces
  ignored); an assessment without a round is round 1. A
  figure that round leaves out (the timing, or the probability) is the expert's
  latest earlier one.
- **Months to value** of an assessment: its ``months_to_value``, else its
  term's default months (short 2, medium 6, long 18 with the standard
  horizons, at the same place in others: ``default_months``); its **term**:
  its own, else the horizon of its months.
- **Consensus**: ``median`` (default), ``mean`` or ``cautious`` (the latest
  months and the lowest probability) of the counted assessments; the term is
  the horizon of the consensus months (experts who all say "long" agree on
  long, whatever the workspace's horizons: the default months are on them).
- **Spread**: highest minus lowest probability, latest minus earliest months,
  and the number of different terms. The experts farthest from the consensus
  are named when three or more experts count (with two, each is as far).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .base import default_months, term_for_months
from .spec import Assessment, Horizons


def expert_key(name: str) -> str:
    """Two spellings of one expert's name that differ only in case, spaces or punctuation are the same expert
    ("S. Lindqvist", "s.lindqvist" and "S Lindqvist": the last was a second expert, yet got the first one's form
    file); letters of any script count."""
    folded = name.casefold()
    return "".join(ch for ch in folded if ch.isalnum()) or "".join(folded.split())


def rated(assessment: Assessment) -> bool:
    """Whether an assessment gives a figure (a timing or a probability), not only a comment or a confidence."""
    return assessment.term is not None or assessment.months_to_value is not None or assessment.probability is not None


def counted(assessments: Iterable[Assessment]) -> list[Assessment]:
    """The assessments that count: each expert's latest round (the last written, within a round), with the
    expert's latest timing (term or months) and probability where that round leaves one out. A second-round
    row with only a comment says "I keep my rating": it must not drop the expert from the consensus."""
    by_expert: dict[str, list[Assessment]] = {}
    for assessment in assessments:
        by_expert.setdefault(expert_key(assessment.by), []).append(assessment)
    out = []
    for given in by_expert.values():
        if not any(rated(a) for a in given):
            continue  # only comments or a confidence: an expert who has not rated the service
        rounds = sorted(given, key=lambda a: a.round)  # stable: within a round, the last written is last
        latest = rounds[-1]
        timing = next((a for a in reversed(rounds) if a.term is not None or a.months_to_value is not None), latest)
        chance = next((a for a in reversed(rounds) if a.probability is not None), latest)
        kept = ({"term": timing.term, "months_to_value": timing.months_to_value} if timing is not latest else {}) | (
            {"probability": chance.probability} if chance is not latest else {})
        out.append(latest.model_copy(update=kept) if kept else latest)
    return out


def months_of(assessment: Assessment, horizons: Horizons) -> float | None:
    """An assessment's months to value: given, else its term's default months, else None (no timing given)."""
    if assessment.months_to_value is not None:
        return assessment.months_to_value
    return default_months(assessment.term, horizons) if assessment.term else None


def term_of(assessment: Assessment, horizons: Horizons) -> str | None:
    """The term a rating gives: its months' when it gives months (as for a service, a term that disagrees with
    them yields to the months: the experts whose months all fall in one term agree on it), else its term."""
    if assessment.months_to_value is not None:
        return term_for_months(assessment.months_to_value, horizons)
    return assessment.term


def _combine(values: Sequence[float], method: str, cautious: str) -> float:
    if method == "mean":
        return round(statistics.fmean(values), 6)
    if method == "cautious":
        return max(values) if cautious == "max" else min(values)
    return round(statistics.median(values), 6)


@dataclass(frozen=True)
class Consensus:
    """The figures of one service's counted assessments."""

    method: str
    assessors: tuple[str, ...]  # the experts who count, as written, in the order given
    rounds: int  # the latest round among them
    months: float | None  # consensus months to value (None: no expert gave a term or months)
    months_given: bool  # some expert gave months to value, not only a term
    term: str | None
    probability: float | None
    months_range: tuple[float, float] | None
    probability_range: tuple[float, float] | None
    terms: int  # different terms the experts give
    p_spread: float  # highest minus lowest probability (0 when fewer than two give one)
    months_spread: float
    farthest_probability: tuple[str, ...]  # experts farthest from the consensus probability (three or more experts)
    farthest_months: tuple[str, ...]


def consensus(assessments: Iterable[Assessment], method: str, horizons: Horizons) -> Consensus | None:
    """The consensus of a service's assessments, or None when it has none."""
    rated = counted(assessments)
    if not rated:
        return None
    months = [(a.by, m) for a in rated if (m := months_of(a, horizons)) is not None]
    probabilities = [(a.by, a.probability) for a in rated if a.probability is not None]
    m = _combine([v for _, v in months], method, "max") if months else None
    months_given = any(a.months_to_value is not None for a in rated)
    p = _combine([v for _, v in probabilities], method, "min") if probabilities else None
    return Consensus(
        method=method,
        assessors=tuple(a.by for a in rated),
        rounds=max(a.round for a in rated),
        months=m,
        months_given=months_given,
        term=term_for_months(m, horizons) if m is not None else None,
        probability=p,
        months_range=(min(v for _, v in months), max(v for _, v in months)) if months else None,
        probability_range=(min(v for _, v in probabilities), max(v for _, v in probabilities)) if probabilities else None,
        terms=len({t for a in rated if (t := term_of(a, horizons))}),
        p_spread=round(max(v for _, v in probabilities) - min(v for _, v in probabilities), 6) if probabilities else 0.0,
        months_spread=max(v for _, v in months) - min(v for _, v in months) if months else 0.0,
        farthest_probability=_farthest(probabilities, p),
        farthest_months=_farthest(months, m),
    )


def _farthest(values: list[tuple[str, float]], centre: float | None) -> tuple[str, ...]:
    """The experts farthest from the consensus, when three or more gave a value and someone differs from it."""
    if centre is None or len(values) < 3:
        return ()
    distance = {by: round(abs(value - centre), 6) for by, value in values}
    widest = max(distance.values())
    return tuple(by for by, _ in values if distance[by] == widest) if widest > 0 else ()
