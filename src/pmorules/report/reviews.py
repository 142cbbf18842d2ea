"""Value by review date: what the PMO can show at each coming review.

For each review ahead (name and date): the goals due by then with their outlook (likely met, at risk, cannot
be met: the goal's verdict from the findings), and the services whose first results become visible since the
review before. Goals due after the last review close the calendar; goals already past their date are in no
review's list (the goals table shows them as past their date). Nothing here judges: outlooks are the goals'
verdicts, months are the services' own.
"""

from __future__ import annotations

from typing import Any

from ..analysis import Analysis
from ..dates import long_date
from ..vocabulary import OUTLOOK


def review_calendar(analysis: Analysis, goals: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per coming review, oldest first, then one for what falls due after the last."""
    active = sorted((s for s in analysis.kb.services.values() if s.active), key=lambda s: (s.months, s.name.lower()))
    goals = [g for g in goals if not g["overdue"]]
    ahead = [r for r in analysis.kb.reviews if r.ahead]
    out, since = [], float("-inf")
    for review in ahead:
        out.append(_entry(names[review.id], long_date(review.date), since, review.months, goals, active))
        since = review.months
    if any(g["due_months"] > since for g in goals):
        out.append(_entry(None, None, since, float("inf"), goals, active))
    return out


def _entry(name: str | None, date: str | None, since: float, until: float, goals: list[dict[str, Any]],
           active: list) -> dict[str, Any]:
    due = [g for g in goals if since < g["due_months"] <= until]
    return {
        "name": name,
        "date": date,
        "goals": [{"id": g["id"], "name": g["name"], "due": g["due"], "outlook": g["outlook"]} for g in due],
        "outlook": {word: sum(1 for g in due if g["outlook"] == word) for word in dict.fromkeys(OUTLOOK.values())},
        # first results: what starts to show after today (a service already delivering has shown its own)
        "visible": [s.name for s in active if max(since, 0.0) < s.months <= until] if name else [],
        "running": sum(1 for s in active if s.months <= until) if name else len(active),
    }
