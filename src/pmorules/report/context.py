"""The report's context: plain data (dicts, lists, strings, numbers) built from one Analysis.

Templates, charts and the JSON report read only this. Python sorts, groups,
counts and looks up display names here; every verdict (level, message, why,
recommendation) comes from the findings, i.e. from the rule files.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from .harms import finding_diagrams, harm_ledger
from ..analysis import Analysis
from ..dates import long_date, month_label
from ..diff import History
from ..estimates import consensus_rows
from ..findings import Finding, by_subject, names_of, statuses, verdicts
from ..knowledge import KnowledgeBase
from ..knowledge.consensus import expert_key
from ..mix import MixResult
from ..mix.recommend import OBJECTIVE, comparison, effort_of, unattainable_text
from ..paths import default_rules_dir
from ..rules.spec import OP_WORDS
from ..measures import (
    CONTRIBUTORS_LISTED, Delivery, TargetCover, delivering, group_shares, longest_wait, share_of,
)
from ..rules.texts import Names
from ..text import first_sentence, num
from ..vocabulary import CONSENSUS_WORDS, LEVEL_ORDER, LEVEL_WORDS, OUTLOOK, TERMS, VERDICTS
from .decisions import decisions, link_changes
from .reviews import review_calendar

TIMELINE_ROWS = 40  # with more active services the timeline shows one row per month instead of per service
TIMELINE_GOALS = 12  # likewise for goal deadlines
GRAPH_NODES = 60  # a larger graph picture is unreadable: keep the nodes nearest the finding paths
CHARTS = ("shares", "timeline", "goals_met", "graph", "trend")  # the HTML report's, in the order of chart_data
EVIDENCE_ROWS = 12  # per finding; a merged finding can hold hundreds (all of them are in the JSON and `pmorules why`)


def build_context(analysis: Analysis, mix: MixResult, history: History | None = None,
                  parts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report shows, in the order a reader meets it; ``parts`` are those already built (by
    ``analysis_parts`` and ``history_part``, while the charts were drawn ahead)."""
    parts = parts or {}
    names = Labels(names_of(analysis.kb), analysis.kb)
    shown = in_workspace(analysis.kb.workspace)
    harms = harm_ledger(analysis, names)
    findings = [_finding(f, analysis, names, shown) | {"diagram": diagram}
                for f, diagram in zip(analysis.findings, finding_diagrams(analysis.findings, analysis, names, harms))]
    drawn = parts if "graph" in parts else analysis_parts(analysis, names)
    goals = drawn["goals"]
    mixed = _mix(analysis, mix, names)
    link_changes(findings, mixed["changes"], mix)
    units = mix.problem.units
    return {
        "pmorules_version": __version__,
        "today": analysis.today.isoformat(),  # the evaluation date: the `when` filter turns months into dates
        "workspace": Path(analysis.kb.workspace).resolve().name,  # its folder's name: no machine path in a report
        "organisation": _organisation(analysis),
        "dates": _dates(analysis, findings),
        "terms": drawn["terms"],
        "level_words": LEVEL_WORDS,
        "summary": _summary(analysis, findings) | {
            "effort_text": units.text(effort_of(analysis.kb)),  # the state reported (a what-if's, in the workbench)
            "outlook": {word: sum(1 for g in goals if g["outlook"] == word) for word in dict.fromkeys(OUTLOOK.values())},
        },
        "decisions": decisions(findings, goals, mixed, mix, analysis.config.config.report),
        "reviews": review_calendar(analysis, goals, names),
        "history": parts["history"] if "history" in parts else history_part(history),
        "timeline": drawn["timeline"],
        "goals": goals,
        "mix": mixed,
        "categories": _categories(findings),
        "harms": harms,
        "graph": drawn["graph"],
        "estimates": _estimates(analysis),
        "appendix": _appendix(analysis, shown),
    }


def analysis_parts(analysis: Analysis, names: dict[str, str] | None = None) -> dict[str, Any]:
    """The parts of the context that need only the analysis (not the mix or the reviews): those the charts
    of today's state are drawn from, so they can be drawn while the optimiser works."""
    names = names if names is not None else Labels(names_of(analysis.kb), analysis.kb)
    return {"terms": _terms(analysis), "timeline": _timeline(analysis), "goals": _goals(analysis, names),
            "graph": _graph(analysis, names)}


def chart_data(parts: dict[str, Any]) -> dict[str, tuple]:
    """The plain data each chart of the HTML report is drawn from, by chart name, read from the context or a
    part of it; a chart with nothing to show, or whose data the part lacks, is left out."""
    data: dict[str, tuple] = {}
    if "terms" in parts:
        data["shares"] = (parts["terms"],)
    if "timeline" in parts:
        data["timeline"] = (parts["timeline"],)
        if "goals" in parts:
            data["goals_met"] = (parts["goals"], parts["timeline"])
    if "graph" in parts and parts["graph"]["nodes"]:
        data["graph"] = (parts["graph"],)
    if parts.get("history"):
        data["trend"] = (parts["history"]["trend"],)
    return data


class Labels(Names):
    """Display names by id, and the short label of each id in the graph and in finding paths: the workspace's own
    ids (services, goals, clients) are words its readers know; outcome and catalogue ids (O25, S11) read as names."""

    def __init__(self, names: dict[str, str], kb: KnowledgeBase):
        super().__init__(names)
        self.own = {*kb.services, *kb.goals, *kb.clients}

    def label(self, item: str) -> str:
        return item if item in self.own else self[item]


def in_workspace(workspace: str) -> Callable[[str | None], str | None]:
    """Shows a place (``file:line``) relative to the workspace, as it was given or as an absolute path."""
    prefixes = sorted({str(Path(workspace)) + "/", str(Path(workspace).resolve()) + "/"} - {"./"}, key=len, reverse=True)

    def shown(place: str | None) -> str | None:
        if place is None:
            return None
        return next((place[len(p):] for p in prefixes if place.startswith(p)), place)

    return shown


def _organisation(analysis: Analysis) -> dict[str, Any]:
    org = analysis.kb.organisation
    return {
        "name": org.name,
        "age_months": org.age_months,
        "context": org.context,
        "capacity_fte": org.capacity_fte,
        "reviews": [{"name": r.name or "Review", "date": long_date(r.date), "months": r.months}
                    for r in analysis.kb.reviews if r.ahead],
        "assessed_on": org.assessed_on.isoformat() if org.assessed_on else None,
    }


def _dates(analysis: Analysis, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The cover's dates, and the findings of banner rules (data older than the rules accept) that open it."""
    banner = {rule.id for rule in analysis.rulebook.enabled() if rule.spec.banner}
    data_date, founded = analysis.kb.organisation.assessed_on, analysis.kb.organisation.founded
    return {
        "evaluated_on": long_date(analysis.today),
        "data_date": long_date(data_date) if data_date else None,
        "before_founded": long_date(founded) if founded and analysis.today < founded else None,
        "words": analysis.evaluation_words(),
        "banners": [f for f in findings if f["rule"] in banner],
    }


def _terms(analysis: Analysis) -> list[dict[str, Any]]:
    """Per term: what it means here, its effort share, the target share, effort and service count."""
    horizons = analysis.kb.horizons
    ranges = {
        "short": f"up to {num(horizons.short_max_months)} months",
        "medium": f"{num(horizons.short_max_months)} to {num(horizons.medium_max_months)} months",
        "long": f"over {num(horizons.medium_max_months)} months",
    }
    profile = analysis.kb.organisation.target_profile
    active = [s for s in analysis.kb.services.values() if s.active]
    return [
        {
            "term": term,
            "label": f"{term.capitalize()} term",
            "range": ranges[term],
            "share": analysis.facts.summary["shares"][term],
            "target": getattr(profile, term) if profile else None,
            "effort": sum(s.effort for s in active if s.term == term),
            "services": sum(1 for s in active if s.term == term),
        }
        for term in TERMS
    ]


def _summary(analysis: Analysis, findings: list[dict[str, Any]]) -> dict[str, Any]:
    counts = analysis.counts()
    load = next(f.fields for f in analysis.facts.facts if f.type == "mix")  # the figures the capacity rule reads
    return {
        "services": analysis.facts.summary["services"],
        "effort": load["total_effort"],
        "capacity": load["capacity"],
        "load": load["load"],
        "goals": len(analysis.kb.goals),
        "adherence": analysis.facts.summary["adherence"],
        "counts": counts,
        "findings": sum(counts.values()),
    }


def history_part(history: History | None) -> dict[str, Any] | None:
    """The reviews on the trend (oldest first, now last) and the moves since the last review, with their texts."""
    if history is None:
        return None
    data = history.to_json()
    since = data["since_last_review"]
    tied = {f["fingerprint"]: f for f in since["findings"]["resolved"] + since["findings"]["new"]}
    moved = {m["new"]["fingerprint"]: m for m in since["findings"]["eased"] + since["findings"]["escalated"]}
    names = {s["id"]: s["name"] for s in since["services"]}
    for change, service in zip(history.since.changes, since["services"]):
        service["text"] = change.text(plain=True)
        service["jointly"] = {p: ", ".join(names[i] for i in ids) for p, ids in service["jointly"].items()}
        service["resolves"] = [tied[p] for p in service["resolves"]]
        service["causes"] = [tied[p] for p in service["causes"]]
        service["eases"] = [moved[p] for p in service["eases"]]
        service["escalates"] = [moved[p] for p in service["escalates"]]
    # a service only renamed in the workspace (its id, not its name) changed nothing a committee sees
    since["services"] = [s for s in since["services"]
                         if s["text"] or s["change"] != "changed" or s["resolves"] or s["causes"] or s["eases"] or s["escalates"]]
    since["moved"] = [f for f in since["findings"]["still_open"] if f["old_level"] != f["level"]]
    return {"last": data["trend"][-2], "trend": data["trend"], "since": since}


def _timeline(analysis: Analysis) -> dict[str, Any]:
    """When each active service first shows value, against the reviews and the goal deadlines."""
    kb = analysis.kb
    active = sorted((s for s in kb.services.values() if s.active), key=lambda s: (s.months, s.name.lower(), s.id))
    rows = _timeline_rows(active)
    names = kb.review_names()
    reviews = [
        {"number": number, "month": r.months, "name": names[r.id], "date": long_date(r.date),
         "services": sum(1 for s in active if s.months <= r.months),
         "share": share_of(active, lambda s, month=r.months: s.months <= month)}
        for number, r in enumerate((r for r in kb.reviews if r.ahead), start=1)
    ]
    deadlines = _deadlines(sorted((g for g in kb.goals.values() if g.due_months >= 0), key=lambda g: (g.due_months, g.id)))
    order = {"service": 0, "review": 1, "deadline": 2}  # at the same month: what is ready, then the review, then what is due
    events = sorted(
        [{"kind": "service", "month": row["months"], **row} for row in rows]
        + [{"kind": "review", **review} for review in reviews]
        + [{"kind": "deadline", **deadline} for deadline in deadlines],
        key=lambda event: (event["month"], order[event["kind"]]),
    )
    start, end = longest_wait(s.months for s in active)
    return {
        "rows": rows,
        "today": analysis.today.isoformat(),
        "grouped": len(active) > TIMELINE_ROWS,
        "services": len(active),
        "reviews": reviews,
        "deadlines": deadlines,
        "events": events,
        "first_review": reviews[0] if reviews else None,
        "longest_wait": {"start": start, "end": end, "months": end - start},
        "horizon_months": max([0.0, *(s.months for s in active), *kb.organisation.reviews_months,
                               *(g.due_months for g in kb.goals.values())]),
    }


def _timeline_rows(active: list) -> list[dict[str, Any]]:
    """One row per service, or per month and term when there are too many services to read one by one."""
    if len(active) <= TIMELINE_ROWS:
        return [{"label": s.name, "ids": [s.id], "term": s.term, "months": s.months, "probability": s.probability,
                 "share": share_of(active, lambda x, s=s: x is s)} for s in active]
    groups: dict[tuple[float, str], list] = {}
    for service in active:
        groups.setdefault((service.months, service.term), []).append(service)
    shares = group_shares(active, lambda s: (s.months, s.term))
    return [
        {"label": f"{len(members)} services", "ids": [s.id for s in members], "term": term, "months": months,
         "probability": None, "share": shares[months, term]}
        for (months, term), members in sorted(groups.items(), key=lambda item: (item[0][0], TERMS.index(item[0][1])))
    ]


def _deadlines(goals: list) -> list[dict[str, Any]]:
    """One deadline per goal, or per month when there are too many goals."""
    if len(goals) <= TIMELINE_GOALS:
        return [{"label": g.name or g.id, "goals": [g.id], "month": g.due_months, "date": long_date(g.due),
                 "month_label": month_label(g.due)} for g in goals]
    by_month: dict[float, list] = {}
    for goal in goals:
        by_month.setdefault(goal.due_months, []).append(goal)
    return [{"label": f"{len(ids)} goal{'s' if len(ids) != 1 else ''}", "goals": [g.id for g in ids], "month": month,
             "date": long_date(ids[0].due), "month_label": month_label(ids[0].due)} for month, ids in by_month.items()]


def _goals(analysis: Analysis, names: dict[str, str]) -> list[dict[str, Any]]:
    """Each goal with its deadline, the services delivering it (in time or later), its adherence and status."""
    facts = {f.key: f.fields for f in analysis.facts.facts if f.type == "goal"}
    about, status, verdict = by_subject(analysis.findings), statuses(analysis.findings), verdicts(analysis.findings)
    rows = []
    first = _FirstDelivering(names)
    for goal in sorted(analysis.kb.goals.values(), key=lambda g: (g.due_months, g.id)):
        covers = analysis.facts.covers[goal.id]
        in_time, later = first.of(covers, goal.due_months)
        linked, in_time_count = delivering(covers), delivering(covers, goal.due_months)
        on_goal = about.get(goal.id, [])
        worst = min((f.level for f in on_goal if f.level != "info"), key=LEVEL_ORDER.__getitem__, default=None)
        rows.append({
            "id": goal.id,
            "name": goal.name or goal.id,
            "client": {"id": goal.client, "name": names[goal.client]} if goal.client else None,
            "due_months": goal.due_months,
            "due": long_date(goal.due),
            "due_short": f"{goal.due.day} {month_label(goal.due)}",
            "overdue": facts[goal.id]["overdue"],
            "priority": goal.priority,
            "weight": facts[goal.id]["weight"],
            "adherence": facts[goal.id].get("adherence"),
            "in_time": in_time, "in_time_count": in_time_count,
            "later": later, "later_count": linked - in_time_count,
            "level": worst,
            "rag": status.get(goal.id, "green"),
            "verdict": verdict.get(goal.id, VERDICTS[0]),
            "outlook": OUTLOOK[verdict.get(goal.id, VERDICTS[0])],
            "findings": [f.id for f in on_goal],
            "finding_titles": [{"id": f.id, "title": f.title} for f in on_goal],
        })
    return rows


class _FirstDelivering:
    """The first services delivering a goal's targets, in time and later, by month then name: at most
    CONTRIBUTORS_LISTED of each, however many deliver (a goal can reach a fifteenth of all services)."""

    def __init__(self, names: dict[str, str]):
        self.names = names
        self._by_month: dict[tuple[str, str], list[Delivery]] = {}

    def by_month(self, cover: TargetCover) -> list[Delivery]:
        """A target's deliveries by month, then name (sorted once per target, whatever the goals)."""
        key = (cover.kind, cover.target)
        if key not in self._by_month:
            self._by_month[key] = sorted(cover.deliveries, key=lambda d: (d.months, self.names[d.service].lower(),
                                                                          d.service))
        return self._by_month[key]

    def of(self, covers: list[TargetCover], due: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A service's month is its earliest over the goal's targets; the first few of every target by that order
        hold the first few of the goal, and a late service is one no target has in time."""
        months: dict[str, Delivery] = {}
        for cover in covers:
            by_month, split = self.by_month(cover), cover.deliveries.count_by(due)
            late = itertools.islice((d for d in by_month[split:]
                                     if not any(d.service in c.deliveries.services_by(due) for c in covers)),
                                    CONTRIBUTORS_LISTED)
            for d in itertools.chain(by_month[:min(split, CONTRIBUTORS_LISTED)], late):
                if d.service not in months or d.months < months[d.service].months:
                    months[d.service] = d
        ordered = sorted(months.values(), key=lambda d: (d.months, self.names[d.service].lower(), d.service))
        rows = [{"id": d.service, "name": self.names[d.service], "months": d.months, "probability": d.probability}
                for d in ordered]
        return ([r for r in rows if r["months"] <= due][:CONTRIBUTORS_LISTED],
                [r for r in rows if r["months"] > due][:CONTRIBUTORS_LISTED])


def _mix(analysis: Analysis, result: MixResult, names: dict[str, str]) -> dict[str, Any]:
    """The recommended mix against today's: what the optimiser maximises, the changes with their reasons
    (additions with their assumptions), the new findings no mix avoids, what no mix can fix, the errors left
    (or, when no mix is feasible, why), and the side-by-side table of today, the recommendation and each
    what-if scenario."""

    units = result.problem.units
    plain = Plain(analysis)

    def side(state: Analysis) -> dict[str, Any]:
        summary = state.facts.summary
        return {"services": summary["services"], "effort": effort_of(state.kb), "shares": summary["shares"],
                "effort_text": units.text(effort_of(state.kb)), "adherence": summary["adherence"],
                "counts": state.counts()}

    return {
        "status": result.status,
        "objective": OBJECTIVE,
        "capacity": result.problem.capacity,
        "capacity_note": result.problem.capacity_note,
        "capacity_source": result.problem.capacity_source,
        "capacity_text": units.text(result.problem.capacity),
        "capacity_basis": _capacity_basis(analysis, result),
        "capacity_words": "today's total effort" if _held_at_today(analysis, result) else "the capacity",
        "step_text": units.step_text(),
        "today": side(result.before),
        "recommended": side(result.after),
        "changes": [
            {"kind": c.kind, "id": c.service.id, "name": c.service.name, "origin": c.origin, "from": c.before,
             "to": c.after, "term": c.service.term, "effort": c.service.effort,
             "probability": c.service.probability, "probability_from": c.probability_before,
             "months_to_value": c.service.months_to_value,
             "clients": [{"id": k, "name": names.get(k, k)} for k in c.service.clients],
             "assumed": dict(c.assumed), "assumed_plain": {k: plain.source(v) for k, v in c.assumed.items()},
             "forced": c.forced, "option": c.option,
             "extends_to": [{"id": k, "name": names.get(k, k)} for k in c.extends_to],
             "prevents": [{"rule": f.rule, "level": f.level, "title": f.title} for f in c.prevents], "tested": c.tested,
             "keeps_away": [{"rule": rule, "level": level, "title": title} for rule, level, title in c.keeps_away]
             if c.only_keeps_away else [],
             "goals": [{"id": goal, "name": names[goal], "adherence": gain} for goal, gain in c.goals],
             "frees": c.frees, "loses": c.lost("→", lambda key: names.get(key, key), plain=True), "effort_text": c.effort(c.service.effort), "frees_text": c.effort(c.frees),
             "from_text": c.effort(c.before) if c.kind in ("resized", "extended") else None,
             "to_text": c.effort(c.after) if c.kind in ("resized", "extended") else None}
            for c in result.changes
        ],
        "together": [{"rule": f.rule, "level": f.level, "title": f.title} for f in result.together()]
                    if result.status == "optimal" else [],
        "unavoidable": [{"rule": u.rule, "level": u.level, "subjects": [{"id": s, "name": names.get(s, s)} for s in u.subjects],
                         "title": plain.title(u.rule), "reason": plain(u.reason)} for u in result.unavoidable],
        "unattainable": [unattainable_text(u, analysis.kb, ids=False) for u in result.unattainable],
        "errors_left": [
            {"rule": f.rule, "title": f.title, "subjects": [{"id": s, "name": names[s]} for s in f.subjects], "message": f.message}
            for f in result.after.findings if f.level == "error"
        ] if result.status == "optimal" else [],
        "conflict": plain(result.conflict.text()) if result.conflict else None,
        "constraints": [{"rule": c.rule, "text": plain(c.text()), "level": c.level, "hard": c.hard, "applies": c.applies}
                        for c in result.problem.constraints],
        "compare": [{k: v for k, v in column.items() if k not in ("findings", "mix")} | {"effort_text": units.text(column["effort"])}
                    for column in comparison(result, [])],
        "scenarios": [{"name": r.name, "description": r.scenario.spec.description, "problems": [plain(p) for p in r.problems]}
                      for r in result.scenarios],
    }


class Plain:
    """The optimiser's explanations (written for the terminal, with rule ids and settings) in the report's words:
    each rule id as its title, and the clauses that name a setting to change left to the appendix and JSON."""

    SETTING = re.compile(r"\[[a-z_.]+\]|\b[a-z]+_[a-z_]+\b")
    RESIZED = re.compile(r"(resized by the mix from .*?, as given by) (.*)")

    def __init__(self, analysis: Analysis):
        self.titles = {rule.id: rule.spec.title or rule.id for rule in analysis.rulebook.rules.values()}
        ids = "|".join(re.escape(i) for i in sorted(self.titles, key=len, reverse=True))
        self.rule = re.compile(rf"\b({ids})\b(?: \((error|warning|info)\))?") if ids else None

    def source(self, text: str) -> str:
        """Where an assumption comes from, or, when that is a setting, that it is the default (also inside
        "resized by the mix from 5%, as given by [mix] candidate_effort")."""
        resized = self.RESIZED.fullmatch(text)
        if resized:
            return f"{resized.group(1)} {self.source(resized.group(2))}"
        return "the default for a service not offered yet" if self.SETTING.search(text) else text

    def title(self, rule: str) -> str:
        return self.titles.get(rule, rule)

    def __call__(self, text: str) -> str:
        text = "; ".join(part for part in text.split("; ") if not self.SETTING.search(part))
        if self.rule is None:
            return text
        return self.rule.sub(lambda m: f"“{self.titles[m.group(1)]}”" + (f" ({LEVEL_WORDS[m.group(2)]})" if m.group(2) else ""),
                             text)


def _finding(finding: Finding, analysis: Analysis, names: dict[str, str], shown: Callable) -> dict[str, Any]:
    rule = analysis.rulebook.rules.get(finding.rule)
    return {
        "id": finding.id,
        "fingerprint": finding.fingerprint,
        "rule": finding.rule,
        "name": finding.name,
        "title": finding.title,
        "level": finding.level,
        "severity": LEVEL_WORDS[finding.level],
        "good_news": bool(rule and rule.spec.good_news),
        "category": finding.category,
        "subjects": [{"id": s, "name": names[s]} for s in finding.subjects],
        "message": finding.message,
        "why": finding.why,
        "why_short": first_sentence(finding.why),
        "recommendation": finding.recommendation,
        "evidence": [
            {"fact": e.fact, "field": e.field, "op": e.op, "op_text": OP_WORDS.get(e.op, e.op), "expected": e.expected,
             "actual": e.actual, "source": shown(e.source), "param": e.param, "param_source": shown(e.param_source)}
            for e in finding.evidence[:EVIDENCE_ROWS]
        ],
        "evidence_total": len(finding.evidence),
        "path": [{"id": p, "name": names[p], "label": names.label(p)} for p in finding.path],
        "rule_source": shown(finding.rule_source),
        "rule_overlay": bool(rule and rule.overlay),
    }


def _categories(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings grouped by category; categories in the order of their most severe finding."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(finding["category"] or "other", []).append(finding)
    return [
        {
            "name": name,
            "title": name.replace("-", " ").replace("_", " ").capitalize(),
            "counts": {level: sum(1 for f in members if f["level"] == level) for level in LEVEL_ORDER},
            "has_errors": any(f["level"] == "error" for f in members),
            "findings": members,
        }
        for name, members in groups.items()
    ]


def _graph(analysis: Analysis, names: dict[str, str]) -> dict[str, Any]:
    """The dependencies, harms and mitigations on the paths behind findings, and the mitigators of those harms
    (``total``: the nodes of the whole network, for the caption)."""
    graph = analysis.facts.graph
    harm_active: dict[tuple[str, str], bool] = {}
    for fact in analysis.facts.facts:
        if fact.type == "harm":
            pair = (fact.fields["src"], fact.fields["target"])
            harm_active[pair] = harm_active.get(pair, False) or fact.fields["active"]
    on_paths: dict[frozenset[str], int] = {}  # node pair on a finding's path -> most severe level (0 error) of those findings
    for finding in analysis.findings:
        for pair in zip(finding.path, finding.path[1:]):
            key = frozenset(pair)
            on_paths[key] = min(on_paths.get(key, 9), LEVEL_ORDER[finding.level])
    path_nodes = {p for f in analysis.findings for p in f.path}

    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    rank: dict[tuple[str, str, str], tuple] = {}
    total_keys: set[str] = set()
    for src, dst, data in ((src, dst, data) for src, near in graph.adj.items() for dst, keyed in near.items()
                           for data in keyed.values()):  # graph.edges(data=True), without its view's overhead
        kind = data["kind"]
        if kind not in ("depends_on", "harms", "mitigates"):
            continue
        a, b = src.split(":", 1)[1], dst.split(":", 1)[1]
        owner = data["source"] if kind == "mitigates" else a  # the service whose dependency or harm this is
        if graph.nodes[f"service:{owner}"].get("status") != "active":
            continue
        kind = data["dep"] if kind == "depends_on" else kind
        on_path = kind != "mitigates" and frozenset((a, b)) in on_paths
        if not on_path and not (kind == "mitigates" and frozenset((owner, b)) in on_paths):
            total_keys.update((src, dst))
            continue  # the picture is the network behind the findings; a mitigator stays with the harm it checks
        edges[(src, dst, kind)] = {
            "src": src, "dst": dst, "kind": kind,
            "active": harm_active.get((a, b), False) if kind == "harms" else True,
            "on_path": on_path,
        }
        severity = on_paths[frozenset((a, b))] if on_path else 9
        rank[(src, dst, kind)] = (severity, ("harms", "hard", "soft", "mitigates").index(kind), src, dst)
    keys = sorted({e["src"] for e in edges.values()} | {e["dst"] for e in edges.values()})
    total = len(total_keys | set(keys))
    if total > GRAPH_NODES:  # keep whole edges, those behind the most severe findings first
        kept: set[str] = set()
        for edge in sorted(edges, key=rank.__getitem__):
            new = {edge[0], edge[1]} - kept
            if len(kept) + len(new) <= GRAPH_NODES:
                kept |= new
            if len(kept) == GRAPH_NODES:
                break
        keys = sorted(kept)
    refs = {key: f"n{index}" for index, key in enumerate(keys, start=1)}
    nodes = []
    for key in keys:
        data = graph.nodes[key]
        item = key.split(":", 1)[1]
        nodes.append({
            "ref": refs[key], "key": key, "id": item, "name": names[item], "label": names.label(item),
            "kind": data.get("kind", "service"),
            "term": data.get("term"), "status": data.get("status", "active") if data.get("kind") == "service" else None,
            "on_path": item in path_nodes,
        })
    shown = [dict(e, src=refs[e["src"]], dst=refs[e["dst"]]) for _, e in sorted(edges.items()) if e["src"] in refs and e["dst"] in refs]
    return {"nodes": nodes, "edges": shown, "shown": len(nodes), "total": total}


def _held_at_today(analysis: Analysis, result: MixResult) -> bool:
    """Whether the mix's capacity is today's total effort: nobody stated one, nor did the core need more."""
    problem = result.problem
    return not (problem.capacity_note or problem.capacity_given or "capacity" in analysis.kb.organisation.model_fields_set)


def _capacity_basis(analysis: Analysis, result: MixResult) -> str:
    """Where the mix's capacity comes from, in a committee's words, when it is not plain from the numbers: raised
    to keep the core, or held at today's effort while part of the stated headcount goes to no service."""
    problem, organisation = result.problem, analysis.kb.organisation
    if problem.capacity_note:
        return f"raised from today's effort: {problem.capacity_note}"
    if not _held_at_today(analysis, result):
        return ""
    text = "today's total effort (the mix moves effort between services)"
    idle = organisation.capacity - problem.capacity
    if organisation.capacity_fte is not None and idle > 1e-9:
        text += (f"; the {problem.units.text(idle)} of the PMO's {organisation.capacity_fte:g} FTE that no service uses "
                 "stay unused unless the workspace states the PMO's capacity")
    return text


def _estimates(analysis: Analysis) -> dict[str, Any]:
    """How the estimates were made: per service rated by experts, who, in how many rounds, their consensus and
    spread, the figure the analysis uses, and the disagreement a finding reads (estimates.py)."""
    rows = consensus_rows(analysis)
    experts = {expert_key(name) for row in rows for name in row["experts"]}
    return {
        "method": analysis.kb.organisation.consensus,
        "method_words": CONSENSUS_WORDS[analysis.kb.organisation.consensus],
        "services": rows,
        "experts": len(experts),
        "rounds": max((row["rounds"] for row in rows), default=0),
        "unrated": sum(1 for s in analysis.kb.services.values() if s.active and s.consensus is None),
    }


def _appendix(analysis: Analysis, shown: Callable) -> dict[str, Any]:
    """The rulebook used (organisation changes marked), input files with hashes, data-quality notes; every path
    relative to the workspace, and the built-in rule files marked as such."""
    manifest = analysis.manifest()
    defaults = default_rules_dir().resolve()
    built_in = [Path(path).resolve().is_relative_to(defaults) for _, path in analysis.rulebook.files]  # as listed
    rules = []
    for entry in manifest["rules"]:
        rule = analysis.rulebook.rules[entry["id"]]
        rules.append({
            **entry,
            "title": rule.spec.title or "",
            "category": rule.spec.category or "",
            "source": shown(rule.source.short()),
            "changes": [{"setting": k, "origin": shown(v)} for k, v in entry["origins"].items()
                        if not v.endswith("(default)")],
        })
    names = names_of(analysis.kb)
    what = {"outcome": "its contribution to {}", "dependency": "its need for {}", "harm": "its harm to {}"}
    switched_off = [
        {"service": x.service, "service_name": names[x.service], "what": what[x.kind].format(f"{names[x.target]} ({x.target})"),
         "reason": x.reason, "source": shown(x.location.short())}
        for x in analysis.kb.switched_off
    ]
    return {
        "as_of": manifest["as_of"],
        "rules": rules,
        "inputs": [item | {"path": shown(item["path"])} for item in manifest["inputs"]],
        "rule_files": [item | {"path": shown(item["path"]), "built_in": inside}
                       for item, inside in zip(manifest["rule_files"], built_in)],
        "switched_off": switched_off,
        "notes": list(analysis.kb.notes),
    }
