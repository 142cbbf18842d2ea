"""The decisions the front page asks a steering committee for, ranked.

A decision is about one goal, one service, one client or the mix as a whole: the warnings and errors on it folded into
one, with its options (the recommended mix's changes that address them, renegotiating a date no candidate
can make, the rule's own recommendation, accepting the risk) and their effect on goals. Ranking is
presentation, not a finding: goal priority × client weight × urgency × severity, each weight a ``[report]``
setting (config.ReportSettings). Every word of judgement still comes from the findings, i.e. the rule files.
"""

from __future__ import annotations

from typing import Any

from ..config import ReportSettings
from ..findings import GRAVITY, verdicts
from ..mix import MixResult
from ..text import first_sentence
from ..vocabulary import VERDICTS

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
                row["addresses"].append({"id": finding["id"], "title": finding["title"],
                                         "about": [s["name"] for s in finding["subjects"]]})
                finding["addressed_by"].append({"anchor": row["anchor"], "name": row["name"],
                                                "kind": "option" if row.get("option") else row["kind"]})
        about = [address.pop("about") for address in row["addresses"]]
        titles = [address["title"] for address in row["addresses"]]
        for address, title, names in zip(row["addresses"], titles, about):  # one rule's findings read apart by
            alike = [other for other, t in zip(about, titles) if t == title]  # what only each is about
            own = [name for name in names if not all(name in other for other in alike)]
            if len(alike) > 1 and own:
                address["title"] = f"{title} ({' and '.join(own)})"


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

    changes_of = _changes_by_id(mix)
    verdict_after = verdicts(result.after.findings)  # each goal's verdict with the recommended mix
    kb = result.before.kb
    clients = {cid: c for cid, c in kb.clients.items() if cid not in kb.services}  # ids are unique per kind only
    out = []
    for key, about in folded.items():
        goal = by_goal.get(key)
        client = clients.get(key) if goal is None else None
        if client is not None:  # a client's decision weighs as its goals do, or by its own weight
            linked = [g for g in goals if g["client"] and g["client"]["id"] == key]
            weight = max((g["weight"] for g in linked), default=settings.unlinked_weight * client.weight)
        else:
            linked = [goal] if goal else serves.get(key, [])
            weight = max((g["weight"] for g in linked), default=settings.unlinked_weight)
        due = min((g["due_months"] for g in linked), default=None)
        worst = max(about, key=lambda f: severity[f["level"]])
        score = weight * urgency(due, settings) * severity[worst["level"]]
        out.append({
            "key": key,
            "about": "goal" if goal else "client" if client else (MIX if key == MIX else "service"),
            "name": goal["name"] if goal else "The mix as a whole" if key == MIX else about[0]["subjects"][0]["name"],
            "level": worst["level"],
            "severity": worst["severity"],
            "goal": goal,
            "findings": [{"id": f["id"], "fingerprint": f["fingerprint"], "title": f["title"], "message": f["message"]}
                         for f in about],
            "options": _options(key, goal, about, changes_of, mix, result),
            "advice": first_sentence(about[0]["recommendation"]),  # the rule's own, when no option is left here
            "score": round(score, 6),
            # the goal's verdict with every change of the recommended mix, when that leaves it no better: the
            # changes offered help its coverage, not its status (they read as its remedy)
            "still": verdict_after.get(key, VERDICTS[0]) if goal and goal["verdict"] != VERDICTS[0]
            and GRAVITY[verdict_after.get(key, VERDICTS[0])] >= GRAVITY[goal["verdict"]] else None,
        })
    out.sort(key=lambda d: (-d["score"], d["name"].lower(), d["key"]))
    out = _fold_shared_changes(out)[:settings.decisions]
    for number, decision in enumerate(out, start=1):
        decision["number"] = number
        decision["anchor"] = f"decision-{number}"
    for decision in out:
        helped: dict[int, dict[str, Any]] = {}  # the decisions whose changes also help this one, in words once each
        for option in decision["options"]:
            if option["kind"] == "see":
                first = option.pop("under")
                option["decision"] = {"number": first["number"], "anchor": first["anchor"], "name": first["name"]}
                entry = helped.setdefault(first["number"], {**option["decision"], "gains": []})
                if option["gain"] is not None:
                    entry["gains"].append(option["gain"])
        decision["helped_by"] = list(helped.values())
    return out


def _fold_shared_changes(ranked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One change of the mix is offered under one decision, the highest-ranked that needs it; a later decision
    it also answers refers to that one instead of offering it again. A service's decision left with nothing of
    its own is the same decision: it folds into the one offering its change, its findings listed there. A goal's
    keeps its place (the committee decides per goal) and offers the rule's recommendation too."""
    offered: dict[str, dict[str, Any]] = {}  # change anchor -> the decision that offers it
    kept = []
    for decision in ranked:
        for option in decision["options"]:
            if option["kind"] != "change":
                continue
            first = offered.setdefault(option["change"]["anchor"], decision)
            if first is not decision:
                option.update(kind="see", under=first)
        if any(o["kind"] in ("change", "renegotiate", "recommendation") for o in decision["options"]):
            kept.append(decision)
        elif decision["about"] == "service" and any(o["kind"] == "see" for o in decision["options"]):
            first = next(o["under"] for o in decision["options"] if o["kind"] == "see")
            first["findings"] += [f for f in decision["findings"] if f not in first["findings"]]
        else:
            decision["options"].insert(-1, {"kind": "recommendation", "text": decision["advice"]})
            kept.append(decision)
    return kept


def _changes_by_id(mix: dict[str, Any]) -> dict[tuple[str, str], list[int]]:
    """The changes of the mix (by position) that concern each id: the goals a change adds to, the findings it
    addresses, its own service. Looked up per decision, not searched: at 1,000 services a search per decision
    went through every change's findings."""
    index: dict[tuple[str, str], list[int]] = {}
    for position, change in enumerate(mix["changes"]):
        for key in dict.fromkeys([*(("goal", g["id"]) for g in change["goals"]),
                                  *(("finding", a["id"]) for a in change["addresses"]), ("service", change["id"])]):
            index.setdefault(key, []).append(position)
    return index


def _options(key: str, goal: dict[str, Any] | None, about: list[dict[str, Any]], index: dict[tuple[str, str], list[int]],
             mix: dict[str, Any], result: MixResult) -> list[dict[str, Any]]:
    """Renegotiate a date no candidate can make, change the mix (each change of the recommended mix that addresses
    these findings, or that adds to the goal), do what the rule recommends, or accept the risk."""
    changes = mix["changes"]
    related = set(index.get(("goal", key), ())).union(index.get(("service", key), ()),
                                                      *(index.get(("finding", f["id"]), ()) for f in about))
    options = []
    for unattainable in result.unattainable:  # first: no change of the mix makes the date
        if goal is not None and unattainable.goal == key:
            options.append({"kind": "renegotiate", "goal": goal,
                            "outcome": result.before.kb.outcomes[unattainable.target].name
                            if unattainable.target in result.before.kb.outcomes else unattainable.target})
            break
    for change in (changes[i] for i in sorted(related)):  # in the mix's order
        gains = [g for g in change["goals"] if g["id"] == key]
        options.append({"kind": "change", "change": change, "gain": gains[0]["adherence"] if gains else None})
    if not options:
        options.append({"kind": "recommendation", "text": first_sentence(about[0]["recommendation"])})
    options.append({"kind": "accept", "goal": goal})
    return options


def front_page_json(context: dict[str, Any]) -> dict[str, Any]:
    """The front page as data for the JSON report: the verdict's counts and the ranked decisions, each with its
    options (a mix change by its service, with its effect on goals; a change offered under a higher decision
    by that decision's number), its goal and the findings behind it by id and fingerprint."""
    summary = context["summary"]
    return {
        "verdict": {"goals": len(context["goals"]), "outlook": summary["outlook"],
                    "decisions": len(context["decisions"])},
        "decisions": [{
            "rank": d["number"],
            "about": d["about"],
            "subject": {"id": d["key"], "name": d["name"]} if d["about"] != MIX else None,
            "level": d["level"],
            "severity": d["severity"],
            "score": d["score"],
            "goal": {"id": d["goal"]["id"], "name": d["goal"]["name"], "due": d["goal"]["due"],
                     "verdict": d["goal"]["verdict"], "outlook": d["goal"]["outlook"]} if d["goal"] else None,
            "still": d["still"],
            "findings": [{"id": f["id"], "fingerprint": f["fingerprint"], "title": f["title"]} for f in d["findings"]],
            "options": [_option_json(o) for o in d["options"]],
        } for d in context["decisions"]],
    }


def _option_json(option: dict[str, Any]) -> dict[str, Any]:
    kind = option["kind"]
    if kind in ("change", "see"):
        change = option["change"]
        out = {"kind": kind, "change": change["kind"], "service": {"id": change["id"], "name": change["name"]},
               "effort": change["effort"], "from": change["from"], "to": change["to"],
               "goal_gain": None if option["gain"] is None else round(option["gain"], 6),
               "goals": [g | {"adherence": round(g["adherence"], 6)} for g in change["goals"]],
               "addresses": [a["id"] for a in change["addresses"]]}
        return out | ({"decision": option["decision"]["number"]} if kind == "see" else {})
    if kind == "renegotiate":
        client = option["goal"]["client"]
        return {"kind": kind, "goal": option["goal"]["id"], "outcome": option["outcome"],
                "with": client["name"] if client else None}
    if kind == "recommendation":
        return {"kind": kind, "text": option["text"]}
    return {"kind": kind, "goal_stays": option["goal"]["verdict"] if option["goal"] else None}
