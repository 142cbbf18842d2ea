"""Facts about the mix as a whole: shares, totals, the organisation, the target profile, tags and reviews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ..dates import months_between
from ..knowledge import KnowledgeBase
from ..measures import builds_lasting, imposes, is_quick, quick_share, share_of, term_shares, value_gap
from ..vocabulary import TERMS
from .base import Fact, fact_type
from .derivation import Derivation

DEFAULT_TAGS = ("capability", "control", "delivery", "firefighting", "reporting")  # tags the default rules read


@fact_type("mix", "The active services as a whole, and the organisation they serve.", {
    "services": (int, "number of active services"),
    "share_short": (float, "effort share of short-term services (by when each first pays off after it starts)"),
    "share_medium": (float, "effort share of medium-term services"),
    "share_long": (float, "effort share of long-term services"),
    "share_lasting": (float, "effort share of services that build lasting capability: long-term, or tagged capability "
                             "whatever their horizon"),
    "share_quick": (float, "effort share of services whose value is perceived within the short horizon from today "
                           "(value already perceived counts)"),
    "total_effort": (float, "summed effort of the active services"),
    "capacity": (float, "the PMO's capacity, in effort units"),
    "load": (float, "total effort divided by the capacity"),
    "goals": (int, "number of goals whose due date is not past"),
    "adherence": (float, "weighted mean adherence of the goals in time (only when there are goals)"),
    "weakest_goal": (str, "the goal ahead least likely met in time (lowest adherence, then the heaviest, then id; "
                          "when there are goals)"),
    "age_months": (float, "age of the PMO in months (when given)"),
    "context": (str, "contextual scenario of the PMO (when given)"),
    "mandate": (str, "what the PMO was set up to do: control, support or delivery (when given)"),
    "capacity_fte": (float, "headcount of the PMO in FTE (when given)"),
    "max_p_quick": (float, "highest probability among services perceived within the short horizon (when any)"),
    "value_gap_months": (float, "longest wait between consecutive first-perceived values, starting from today"),
    "months_given_share": (float, "share of active services that give months_to_value"),
    "control_share": (float, "effort share of services that control: tagged control, or run in a directive or "
                             "controlling approach"),
    "share_firefighting": (float, "effort share of services tagged firefighting (recovery, issue escalation)"),
    "short_max_months": (float, "horizon: last month that counts as short term"),
    "medium_max_months": (float, "horizon: last month that counts as medium term"),
    "assessment_age_months": (float, "months from organisation.assessed_on to the evaluation date (when given)"),
    "assessed_on": (str, "organisation.assessed_on, the date the data describe, YYYY-MM-DD (when given)"),
}, about_mix=True, title="the mix")
def mix_facts(d: Derivation) -> Iterator[Fact]:
    kb, active, org = d.kb, d.active, d.kb.organisation
    total = sum(s.effort for s in active)
    shares = term_shares(active)
    fields: dict[str, Any] = {
        "services": len(active),
        "share_short": shares["short"], "share_medium": shares["medium"], "share_long": shares["long"],
        "share_quick": quick_share(active, kb.horizons), "share_lasting": share_of(active, builds_lasting),
        "total_effort": total, "capacity": org.capacity, "load": total / org.capacity,
        "goals": len(d.ahead), "control_share": share_of(active, imposes),
        "share_firefighting": share_of(active, lambda s: "firefighting" in s.tags),
        "short_max_months": kb.horizons.short_max_months, "medium_max_months": kb.horizons.medium_max_months,
    }
    if d.overall is not None:
        fields["adherence"] = d.overall
    if d.ahead:
        fields["weakest_goal"] = min(d.ahead, key=lambda g: (d.adherence[g], -d.weights[g], g))
    for name in ("age_months", "context", "mandate", "capacity_fte"):
        if getattr(org, name) is not None:
            fields[name] = getattr(org, name)
    quick = [s.probability for s in active if is_quick(s, kb.horizons)]
    if quick:
        fields["max_p_quick"] = max(quick)
    if active:
        fields["value_gap_months"] = value_gap(s.months for s in active)
        fields["months_given_share"] = sum(1 for s in active if s.months_given) / len(active)
    if org.assessed_on is not None:
        fields |= data_age(kb, d.today)
    sources = {name: d.src("organisation", "", name) for name in ("age_months", "context", "mandate", "capacity_fte",
                                                                  "capacity")}
    sources["assessment_age_months"] = d.src("organisation", "", "assessed_on")
    yield Fact("mix", "mix", fields, {k: v for k, v in sources.items() if v and k in fields})


def data_age(kb: KnowledgeBase, day: dt.date) -> dict[str, Any]:
    """How old the data are on ``day``: the mix fact's fields about organisation.assessed_on."""
    assessed_on = kb.organisation.assessed_on
    if assessed_on is None:
        return {}
    return {"assessment_age_months": months_between(assessed_on, day), "assessed_on": assessed_on.isoformat()}


@fact_type("profile", "One term of the organisation's target profile, against the actual share.", {
    "term": (str, "short|medium|long"),
    "share": (float, "actual effort share of the term"),
    "target": (float, "the organisation's target share of the term"),
    "deviation": (float, "absolute difference between share and target"),
}, about_mix=True, title="the {term}-term target share")
def profile_facts(d: Derivation) -> Iterator[Fact]:
    profile = d.kb.organisation.target_profile
    if profile is None:
        return
    shares = term_shares(d.active)
    for term in TERMS:
        target = getattr(profile, term)
        yield Fact("profile", term, {"term": term, "share": shares[term], "target": target,
                                     "deviation": abs(shares[term] - target)},
                   {"target": d.src("organisation", "", "target_profile")})


@fact_type("tag", "A tag and the active services carrying it.", {
    "tag": (str, "the tag"),
    "count": (int, "active services carrying the tag"),
    "share": (float, "effort share of active services carrying the tag"),
}, about_mix=True, title="the services tagged {tag}")
def tag_facts(d: Derivation) -> Iterator[Fact]:
    tags = sorted({t for s in d.kb.services.values() for t in s.tags} | set(DEFAULT_TAGS))
    for tag in tags:
        tagged = [s for s in d.active if tag in s.tags]
        yield Fact("tag", tag, {"tag": tag, "count": len(tagged), "share": share_of(d.active, lambda s: tag in s.tags)})


@fact_type("tag_approach", "A tag, an approach, and how many active services with the tag run in it.", {
    "tag": (str, "the tag"),
    "approach": (str, "the approach"),
    "count": (int, "active services with the tag delivered in the approach"),
}, about_mix=True, title="the {tag} services run {approach}")
def tag_approach_facts(d: Derivation) -> Iterator[Fact]:
    counts: dict[tuple[str, str], int] = {}
    for service in d.active:
        for tag in service.tags:
            if service.approach:
                counts[(tag, service.approach)] = counts.get((tag, service.approach), 0) + 1
    for (tag, approach), count in sorted(counts.items()):
        yield Fact("tag_approach", f"{tag}/{approach}", {"tag": tag, "approach": approach, "count": count})


@fact_type("review", "A review still ahead at which the PMO must show value, and what is ready by then.", {
    "month": (float, "months from the evaluation date to the review"),
    "date": (str, "the review's date, YYYY-MM-DD"),
    "name": (str, "what the review is called (when given)"),
    "ready": (int, "active services whose value is perceived by the review"),
    "ready_share": (float, "effort share of those services"),
}, about_mix=True, title="the review on {date}")
def review_facts(d: Derivation) -> Iterator[Fact]:
    given = "reviews" if d.kb.organisation.reviews is not None else "reviews_months"
    for review in d.kb.reviews:
        if not review.ahead:
            continue
        month = review.months
        fields: dict[str, Any] = {"month": month, "date": review.date.isoformat(),
                                  "ready": sum(1 for s in d.active if s.months <= month),
                                  "ready_share": share_of(d.active, lambda s: s.months <= month)}
        if review.name:
            fields["name"] = review.name
        yield Fact("review", review.id, fields,
                   {"month": d.src("organisation", "", given)})
