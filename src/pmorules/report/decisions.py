"""The decisions the front page asks a steering committee for, ranked.

A decision is about one goal, one service or the mix as a whole: the warnings and errors on it folded into
one, with its options (the recommended mix's changes that address them, renegotiating a date no candidate
can make, the rule's own recommendation, accepting the risk) and their effect on goals. Ranking is
presentation, not a finding: goal priority × client weight × urgency × severity, each weight a ``[report]``
setting (config.ReportSettings). Every word of judgement still comes from the findings, i.e. the rule files.
"""

from __future__ import annotations

from typing import Any

from ..config import ReportSettings
from ..mix import MixResult
from ..text import first_sentence

MIX = "mix"  # the subject of findings about the mix as a whole


def link_changes(findings: list[dict[str, Any]], changes: list[dict[str, Any]], result: MixResult) -> None:
    """Point each finding at the mix changes that address it and each change at its findings (in place)."""
    by_key = {(f["rule"], tuple(s["id"] for s in f["subjects"])): f for f in findings}
    for finding in findings:
        finding["addressed_by"] = []
    for number, (change, row) in enumerate(zip(result.changes, changes), start=1):
        row["anchor"] = f"change-{number}"
        row["addresses"] = []
        for prevented in change.prevents:
            finding = by_key.get((prevented.rule, tuple(prevented.subjects)))
            if finding is not None:
                row["addresses"].append({"id": finding["id"], "title": finding["title"]})
                finding["addressed_by"].append({"anchor": row["anchor"], "name": row["name"],
                                                "kind": "option" if row.get("option") else row["kind"]})


def urgency(due_months: float | None, settings: ReportSettings) -> float:
    """1 for something due now or past, a half at ``urgency_months``; 1 when nothing is due."""
    if due_months is None:
        return 1.0
    return 1.0 / (1.0 + max(due_months, 0.0) / settings.urgency_months)


def decisions(findings: list[dict[str, Any]], goals: list[dict[str, Any]], mix: dict[str, Any],
              result: MixResult, settings: ReportSettings) -> list[dict[str, Any]]:
    """The ranked decisions, at most ``settings.decisions``, heaviest first (ties by name)."""
    severity = {"error": settings.error_weight, "warning": settings.warning_weight, "info": settings.info_weight}
    by_goal = {g["id"]: g for g in goals}
    serves: dict[str, list[dict[str, Any]]] = {}  # service id -> the goals it delivers (in time or later)
    for goal in goals:
        for service in goal["in_time"] + goal["later"]:
            serves.setdefault(service["id"], []).append(goal)

    folded: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        if severity[finding["level"]] > 0 and not finding["good_news"]:
            ids = [s["id"] for s in finding["subjects"]]
            key = next((i for i in ids if i in by_goal), ids[0] if ids else MIX)
            folded.setdefault(key, []).append(finding)

    out = []
    for key, about in folded.items():
        goal = by_goal.get(key)
        linked = [goal] if goal else serves.get(key, [])
        weight = max((g["weight"] for g in linked), default=settings.unlinked_weight)
        due = min((g["due_months"] for g in linked), default=None)
        worst = max(about, key=lambda f: severity[f["level"]])
        score = weight * urgency(due, settings) * severity[worst["level"]]
        out.append({
            "key": key,
            "about": "goal" if goal else (MIX if key == MIX else "service"),
            "name": goal["name"] if goal else about[0]["subjects"][0]["name"] if about[0]["subjects"] else "the mix",
            "level": worst["level"],
            "severity": worst["severity"],
            "goal": goal,
            "findings": [{"id": f["id"], "title": f["title"], "message": f["message"]} for f in about],
            "options": _options(key, goal, about, mix, result),
            "score": round(score, 6),
        })
    out.sort(key=lambda d: (-d["score"], d["name"].lower(), d["key"]))
    for number, decision in enumerate(out, start=1):
        decision["anchor"] = f"decision-{number}"
    return out[:settings.decisions]


def _options(key: str, goal: dict[str, Any] | None, about: list[dict[str, Any]], mix: dict[str, Any],
             result: MixResult) -> list[dict[str, Any]]:
    """Change the mix (each change of the recommended mix that addresses these findings, or that adds to the
    goal), renegotiate a date no candidate can make, do what the rule recommends, or accept the risk."""
    ids = {f["id"] for f in about}
    options = []
    for change in mix["changes"]:
        gains = [g for g in change["goals"] if g["id"] == key]
        if gains or any(a["id"] in ids for a in change["addresses"]) or change["id"] == key:
            options.append({"kind": "change", "change": change,
                            "gain": gains[0]["adherence"] if gains else None})
    for unattainable in result.unattainable:
        if goal is not None and unattainable.goal == key:
            options.append({"kind": "renegotiate", "goal": goal,
                            "outcome": result.before.kb.outcomes[unattainable.target].name
                            if unattainable.target in result.before.kb.outcomes else unattainable.target})
            break
    if not options:
        options.append({"kind": "recommendation", "text": first_sentence(about[0]["recommendation"])})
    options.append({"kind": "accept", "goal": goal})
    return options
