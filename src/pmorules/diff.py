"""Compare two analyses of one PMO: what was fixed, what is new, how the balance, the goals and the mix moved.

Findings are matched by fingerprint (rule + subjects, findings.py), so a finding whose numbers or wording
moved is the same finding, still open. A finding that went away and one that appeared, of rules of one
``family`` (declared in the rule files) on the same subjects, are one problem that escalated or eased: neither
resolved nor new. A service keeps its identity by id; a renamed one is removed + added unless it says
``was: old-id``, which also carries its findings' identity across the rename.

A service change is credited with a finding by counterfactual (counterfactual.py): only if undoing that change
alone on the newer side makes the finding go away (it caused it) or come back (it resolved it); a finding several
changes are each credited with is their joint doing. Above the counterfactual's size limit the changes are tied
to the findings about them instead, and the comparison says so. Each finding still there carries the action the
register (actions.py) records for it, and the ones that most need the committee come first: an overdue action,
or a finding already found at two reviews or more.

Also the linters' baseline: ``read_baseline`` reads a previous ``analyze --format json`` output, whose
findings ``analyze --baseline`` leaves out.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .actions import ActionState, action_register
from .analysis import Analysis
from .counterfactual import affordable, credited, found_without, with_service
from .dates import months_between
from .errors import Diagnostic, InputError, Location
from .findings import Finding, fingerprint, names_of
from .inputs import decode_text, read_input
from .knowledge import KnowledgeBase, Service
from .snapshots import Judged, judge_all, reviews
from .text import num, pct
from .vocabulary import LEVEL_ORDER, TERMS
from .yamlio import locate, parse_yaml

SERVICE_FIELDS = ("name", "status", "term", "months_to_value", "probability", "effort", "approach")
SHOWN_FIELDS = ("status", "term", "effort", "probability")  # of a service added or removed: what it is (was)
STATUS_WORDS = {"active": "running", "proposed": "proposed, not running", "retired": "retired"}  # for a committee


@dataclass(frozen=True)
class Side:
    """What a compared analysis was made from, for the reader: a label, the day it was judged as of, its commit."""

    label: str
    as_of: str
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "as_of": self.as_of, "commit": self.commit}


@dataclass(frozen=True)
class FindingRef:
    """A finding as a comparison reports it (``old_level``: its level before, for a finding still open)."""

    fingerprint: str
    id: str
    rule: str
    title: str
    level: str
    subjects: tuple[str, ...]
    names: tuple[str, ...]
    message: str
    old_level: str | None = None
    old_rule: str | None = None  # of a finding still open in another form of its family: the rule that found it before
    open_since: Side | None = None  # of a finding still open: the earliest review it has been open since
    reviews: int = 0  # of a finding still open: how many reviews in a row (ending with the last) already had it
    action: ActionState | None = field(default=None, compare=False)  # what the register says is done about it

    @property
    def urgent(self) -> bool:
        """Its action is overdue, or it was already found at two reviews or more."""
        return bool(self.action and self.action.overdue) or self.reviews >= 2

    def to_json(self) -> dict[str, Any]:
        data = {"fingerprint": self.fingerprint, "id": self.id, "rule": self.rule, "title": self.title,
                "level": self.level, "subjects": list(self.subjects), "subject_names": list(self.names),
                "message": self.message}
        if self.old_level is not None:
            data["old_level"] = self.old_level
        if self.old_rule is not None:
            data["old_rule"] = self.old_rule
        if self.open_since is not None:
            data["open_since"] = {"label": self.open_since.label, "as_of": self.open_since.as_of}
            data["reviews"] = self.reviews
            data["action"] = None  # still open: what the register records about it, if anything
        if self.action is not None:
            spec = self.action.action.spec
            data["action"] = {"action": spec.action, "owner": spec.owner, "due": spec.due.isoformat() if spec.due else None,
                              "status": spec.status, "overdue": self.action.overdue,
                              "done_but_open": self.action.done_but_open}
        return data


@dataclass(frozen=True)
class Move:
    """One problem that got graver or milder: a finding that went away paired with one of the same family on the
    same subjects that appeared (``old`` as it was, ``new`` as it is)."""

    family: str
    old: FindingRef
    new: FindingRef

    def to_json(self) -> dict[str, Any]:
        return {"family": self.family, "subjects": list(self.new.subjects), "subject_names": list(self.new.names),
                "old": self.old.to_json(), "new": self.new.to_json()}


@dataclass(frozen=True)
class GoalMove:
    """A goal whose status or verdict moved, and its adherence (``None`` on the side it is missing from)."""

    id: str
    name: str
    status: tuple[str | None, str | None]  # the colour
    adherence: tuple[float | None, float | None]
    verdict: tuple[str | None, str | None] = (None, None)  # the words a committee reads: at risk, not covered, ...

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": _pair(self.status), "verdict": _pair(self.verdict),
                "adherence": _pair(self.adherence)}


@dataclass(frozen=True)
class ServiceChange:
    """A service added, removed or changed, with the findings that name it: resolved and caused."""

    change: str  # added | removed | changed
    id: str
    name: str
    was: str | None  # its id before, when it was renamed with `was:`
    fields: dict[str, tuple[Any, Any]]
    resolves: tuple[str, ...]  # fingerprints of resolved findings on it
    causes: tuple[str, ...]  # fingerprints of new findings on it
    eases: tuple[str, ...] = ()  # fingerprints (as now) of the problems on it that got milder
    escalates: tuple[str, ...] = ()  # fingerprints (as now) of the problems on it that got graver
    jointly: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fingerprint -> the other services credited with it
    was_name: str | None = None  # its name before, when it was renamed
    efforts: tuple[str | None, str | None] = (None, None)  # its effort on each side in a committee's words

    def text(self, plain: bool = False) -> str:
        """'was pm-support, effort 18 → 12, probability 60% → 75%'; of one added or removed, what it is (was).
        ``plain`` speaks of a rename by the old name (a committee never saw the id), and not at all when only
        the id changed."""
        if self.change != "changed":
            side = 1 if self.change == "added" else 0
            values = {name: _shown(name, pair[side]) for name, pair in self.fields.items()}
            if plain and self.efforts[side]:
                values["effort"] = self.efforts[side]
            status = STATUS_WORDS.get(self.fields["status"][side], values["status"]) if plain else values["status"]
            return f"{status}, {values['term']} term, effort {values['effort']}, probability {values['probability']}"
        if not self.was:
            parts = []
        elif plain:
            parts = [f"formerly “{self.was_name}”"] if self.was_name and self.was_name != self.name else []
        else:
            parts = [f"was {self.was}"]
        fields = self.fields
        if plain and "status" in fields:  # in words: "retired", "started"; a retired service's effort goes with it
            then, now = fields["status"]
            parts.append("retired" if now == "retired" else "started" if now == "active" else
                         f"{STATUS_WORDS.get(then, then)} → {STATUS_WORDS.get(now, now)}")
            fields = {k: v for k, v in fields.items() if k != "status" and not (k == "effort" and now == "retired")}
        shown = {name: (_shown(name, a), _shown(name, b)) for name, (a, b) in fields.items()}
        if plain and "effort" in shown and all(self.efforts):
            shown["effort"] = self.efforts
        return ", ".join(parts + [f"{name.replace('_', ' ')} {a} → {b}" for name, (a, b) in shown.items()])

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "id": self.id, "name": self.name, "was": self.was,
                "fields": {name: _pair(pair) for name, pair in self.fields.items()},
                "resolves": list(self.resolves), "causes": list(self.causes),
                "eases": list(self.eases), "escalates": list(self.escalates),
                "jointly": {p: list(ids) for p, ids in self.jointly.items()}}


@dataclass
class Diff:
    old: Side
    new: Side
    services: tuple[int, int]  # active services
    shares: dict[str, tuple[float, float]]
    adherence: tuple[float | None, float | None]
    counts: dict[str, tuple[int, int]]
    resolved: list[FindingRef]
    new_findings: list[FindingRef]
    still_open: list[FindingRef]
    goals: list[GoalMove]
    changes: list[ServiceChange]
    escalated: list[Move] = field(default_factory=list)
    eased: list[Move] = field(default_factory=list)
    attribution: str = "counterfactual"  # how changes are tied to findings: counterfactual, or "findings about" them
    # findings that went away only because the goal they are about is past its date now: neither met nor fixed
    past_due: list[FindingRef] = field(default_factory=list)

    def new_at_or_above(self, level: str) -> list[FindingRef]:
        """The new findings, and the graver forms of escalated problems, at or above ``level`` (a finding still
        open never counts, whatever its level did)."""
        return [f for f in self.new_findings + [m.new for m in self.escalated] if LEVEL_ORDER[f.level] <= LEVEL_ORDER[level]]

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of ``pmorules diff --format json`` (docs/history.md)."""
        return {
            "pmorules_version": __version__,
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "summary": {
                "services": _pair(self.services),
                "shares": {term: _pair(pair) for term, pair in self.shares.items()},
                "adherence": _pair(self.adherence),
                "findings": {level: _pair(pair) for level, pair in self.counts.items()},
            },
            "findings": {
                "resolved": [f.to_json() for f in self.resolved],
                "new": [f.to_json() for f in self.new_findings],
                "still_open": [f.to_json() for f in self.still_open],
                "escalated": [m.to_json() for m in self.escalated],
                "eased": [m.to_json() for m in self.eased],
                "past_due": [f.to_json() for f in self.past_due],
            },
            "goals": [g.to_json() for g in self.goals],
            "attribution": self.attribution,
            "services": [c.to_json() for c in self.changes],
        }


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "none"
    return pct(value) if name == "probability" else num(value)


def _pair(pair: tuple[Any, Any]) -> dict[str, Any]:
    old, new = pair
    data = {"old": old, "new": new}
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
        data["change"] = round(new - old, 6)
    return data


def compare(old: Analysis, new: Analysis, old_side: Side, new_side: Side) -> Diff:
    """How the PMO moved from ``old`` to ``new`` (both judged by the same rules)."""
    renamed = renames(old.kb, new.kb)
    old_names, new_names = names_of(old.kb), names_of(new.kb)
    before = {fingerprint(f.rule, [renamed.get(s.lower(), s) for s in f.subjects]): f for f in old.findings}
    after = {f.fingerprint: f for f in new.findings}
    resolved = [_ref(f, old_names) for key, f in before.items() if key not in after]
    appeared = [_ref(f, new_names) for key, f in after.items() if key not in before]
    still = [replace(_ref(f, new_names, before[key].level), open_since=old_side, reviews=1) for key, f in after.items() if key in before]
    escalated, eased, reformed = _moves(resolved, appeared, renamed, _families(old, new))
    paired = {id(m.old) for m in escalated + eased + reformed} | {id(m.new) for m in escalated + eased + reformed}
    resolved = [f for f in resolved if id(f) not in paired]
    appeared = [f for f in appeared if id(f) not in paired]
    overdue = {f.key.lower() for f in new.facts.facts if f.type == "goal" and f.fields.get("overdue")}
    past_due = [f for f in resolved if any(s.lower() in overdue for s in f.subjects)]
    resolved = [f for f in resolved if not any(s.lower() in overdue for s in f.subjects)]
    if reformed:
        order = {f.fingerprint: i for i, f in enumerate(new.findings)}
        still = sorted(still + [replace(m.new, old_level=m.old.level, old_rule=m.old.rule, open_since=old_side, reviews=1)
                                for m in reformed],
                       key=lambda f: order[f.fingerprint])
    answers: dict[str, ActionState] = {}
    for state in action_register(new):  # overdue first: a finding shows the action that most needs the committee
        if state.finding is not None:
            answers.setdefault(state.finding.fingerprint, state)
    act = lambda f: replace(f, action=answers.get(f.fingerprint))  # noqa: E731
    appeared, still = [act(f) for f in appeared], _urgent_first([act(f) for f in still], new.findings)
    escalated = [replace(m, new=act(m.new)) for m in escalated]
    eased = [replace(m, new=act(m.new)) for m in eased]
    old_summary, new_summary = old.facts.summary, new.facts.summary
    old_counts, new_counts = old.counts(), new.counts()
    changes = _services(old.kb, new.kb, renamed, resolved, appeared, eased, escalated)
    attribution = "counterfactual" if affordable(len(changes), len(new.kb.services)) else "findings about"
    if attribution == "counterfactual":
        changes = _credit(changes, old.kb, new, renamed, resolved, appeared, eased, escalated)
    return Diff(
        old=old_side,
        new=new_side,
        services=(old_summary["services"], new_summary["services"]),
        shares={term: (old_summary["shares"][term], new_summary["shares"][term]) for term in TERMS},
        adherence=(old_summary["adherence"], new_summary["adherence"]),
        counts={level: (old_counts[level], new_counts[level]) for level in LEVEL_ORDER},
        resolved=resolved,
        new_findings=appeared,
        still_open=still,
        goals=_goals(old, new),
        changes=changes,
        escalated=escalated,
        eased=eased,
        attribution=attribution,
        past_due=past_due,
    )


def _urgent_first(still: list[FindingRef], findings: list[Finding]) -> list[FindingRef]:
    """Findings still open with an overdue action or open across two reviews or more first; each part in the
    analysis's order (level, rule, subjects)."""
    order = {f.fingerprint: i for i, f in enumerate(findings)}
    return sorted(still, key=lambda f: (not f.urgent, order[f.fingerprint]))


def _families(old: Analysis, new: Analysis) -> dict[str, tuple[str, int]]:
    """Rule id → (family, family_rank) of every rule that declares a family (the newer side's rulebook first)."""
    out: dict[str, tuple[str, int]] = {}
    for book in (new.rulebook, old.rulebook):
        for rule in book.rules.values():
            if rule.spec.family and rule.id not in out:
                out[rule.id] = (rule.spec.family, rule.spec.family_rank)
    return out


def _moves(resolved: list[FindingRef], appeared: list[FindingRef], renamed: dict[str, str],
           families: dict[str, tuple[str, int]]) -> tuple[list[Move], list[Move], list[Move]]:
    """Pair findings that went away with findings that appeared, of one family on the same subjects: escalated
    (the new one graver), eased (milder) and reformed (as grave: still open in another form). In each family and
    subject, the gravest that went away pairs with the gravest that appeared, and so on; the rest stay resolved
    or new. Gravity is the level, then the rule's ``family_rank``; ties go by rule id."""

    def gravity(f: FindingRef) -> tuple[int, int]:
        return (-LEVEL_ORDER[f.level], families[f.rule][1])

    def groups(findings: list[FindingRef], subjects: Any) -> dict[tuple[str, tuple[str, ...]], list[FindingRef]]:
        out: dict[tuple[str, tuple[str, ...]], list[FindingRef]] = {}
        for f in findings:
            if f.rule in families:
                out.setdefault((families[f.rule][0], subjects(f)), []).append(f)
        return {key: sorted(fs, key=lambda f: (gravity(f), f.rule), reverse=True) for key, fs in out.items()}

    then = groups(resolved, lambda f: tuple(renamed.get(s.lower(), s).lower() for s in f.subjects))
    now = groups(appeared, lambda f: tuple(s.lower() for s in f.subjects))
    escalated, eased, reformed = [], [], []
    for key in sorted(set(then) & set(now)):
        for old, new in zip(then[key], now[key]):
            move = Move(key[0], old, new)
            (escalated if gravity(new) > gravity(old) else eased if gravity(new) < gravity(old) else reformed).append(move)
    by_level = lambda m: (LEVEL_ORDER[m.new.level], m.new.rule, m.new.subjects)  # noqa: E731
    return sorted(escalated, key=by_level), sorted(eased, key=by_level), reformed


def renames(old: KnowledgeBase, new: KnowledgeBase) -> dict[str, str]:
    """Old id (lower case) → new id, for each new service whose ``was`` names a service only the old side has.

    A ``was`` is ignored while the old id is still in use on the new side or the new id already existed on
    the old side: then the ids match as they are.
    """
    old_ids = {i.lower() for i in old.services}
    new_ids = {i.lower() for i in new.services}
    found: dict[str, Service] = {}
    problems = []
    for service in sorted(new.services.values(), key=lambda s: s.id.lower()):
        was = (service.was or "").lower()
        if not was or was not in old_ids or was in new_ids or service.id.lower() in old_ids:
            continue
        if was in found:
            problems.append(Diagnostic(service.sources.get("was", service.sources[""]),
                                       f"{service.id} and {found[was].id} both say they were {service.was!r}",
                                       "a renamed service names its one old id; remove the other 'was'"))
        found.setdefault(was, service)
    if problems:
        raise InputError(problems)
    return {was: service.id for was, service in found.items()}


def _ref(finding: Finding, names: dict[str, str], old_level: str | None = None) -> FindingRef:
    return FindingRef(finding.fingerprint, finding.id, finding.rule, finding.title, finding.level,
                      tuple(finding.subjects), tuple(names.get(s, s) for s in finding.subjects), finding.message, old_level)


def _goals(old: Analysis, new: Analysis) -> list[GoalMove]:
    """Goals whose status or verdict moved (with their adherence), in the new side's order; goals only one side has, too. A
    goal that has come past its date did not move: it is no longer judged (its findings went with it)."""
    before = {g["id"].lower(): g for g in old.goals()}
    after = {g["id"].lower(): g for g in new.goals()}
    moves = []
    for key in list(after) + [k for k in before if k not in after]:
        then, now = before.get(key), after.get(key)
        if now is not None and now["overdue"] and not (then is not None and then["overdue"]):
            continue
        status = (then and then["status"], now and now["status"])
        verdict = (then and then["verdict"], now and now["verdict"])
        adherence = (then and then["adherence"], now and now["adherence"])
        if status[0] != status[1] or verdict[0] != verdict[1]:
            goal = now or then
            moves.append(GoalMove(goal["id"], goal["name"], status, adherence, verdict))
    return moves


def _services(old: KnowledgeBase, new: KnowledgeBase, renamed: dict[str, str], resolved: list[FindingRef],
              appeared: list[FindingRef], eased: Sequence[Move] = (), escalated: Sequence[Move] = ()) -> list[ServiceChange]:
    """Services added, removed or changed (field by field), each with the findings that name it: resolved, new,
    and the problems on it that eased or escalated (named by their finding now)."""
    before = {renamed.get(i.lower(), i).lower(): s for i, s in old.services.items()}
    after = {i.lower(): s for i, s in new.services.items()}

    def index(findings: list[FindingRef]) -> dict[str, tuple[str, ...]]:
        """The fingerprints of the findings naming each subject (ids compared case-insensitively)."""
        out: dict[str, list[str]] = {}
        for f in findings:
            for subject in {s.lower() for s in f.subjects}:
                out.setdefault(subject, []).append(f.fingerprint)
        return {subject: tuple(prints) for subject, prints in out.items()}

    from .mix.units import effort_text  # here, not above: the optimiser's package (HiGHS, numpy) is no import of analyze

    resolved_by, appeared_by = index(resolved), index(appeared)
    in_words = (effort_text(old), effort_text(new))
    eased_by, escalated_by = index([m.new for m in eased]), index([m.new for m in escalated])

    def naming(by: dict[str, tuple[str, ...]], service: Service | None) -> tuple[str, ...]:
        return by.get(service.id.lower(), ()) if service else ()

    changes = []
    for key in sorted(set(before) | set(after)):
        then, now = before.get(key), after.get(key)
        if then and now:
            fields = {name: (getattr(then, name), getattr(now, name)) for name in SERVICE_FIELDS
                      if getattr(then, name) != getattr(now, name)}
        else:
            fields = {name: (then and getattr(then, name), now and getattr(now, name)) for name in SHOWN_FIELDS}
        was = then.id if then and now and then.id.lower() != now.id.lower() else None
        if then and now and not fields and not was:
            continue
        kind = "changed" if then and now else "added" if now else "removed"
        service = now or then
        assert service is not None
        changes.append(ServiceChange(kind, service.id, service.name, was, fields,
                                     naming(resolved_by, then), naming(appeared_by, now),
                                     naming(eased_by, now), naming(escalated_by, now),
                                     was_name=then.name if was and then else None,
                                     efforts=(then and in_words[0](then.effort), now and in_words[1](now.effort))))
    order = {"added": 0, "removed": 1, "changed": 2}
    return sorted(changes, key=lambda c: (order[c.change], c.id.lower()))


def _undone(then: Service | None, now: Service | None, fields: dict[str, tuple[Any, Any]],
            elapsed: float) -> Service | None:
    """The service as it is now with one change undone: the fields that moved back to what they were (the months
    to its value counted from now), a removed one back as it was, having run on since (``elapsed`` months from
    the older side's day to the newer's, when it was running), an added one gone."""
    if now is None and then is not None and then.active:
        running = then.running_months + max(0.0, elapsed)
        return replace(then, running_months=running, months=max(0.0, then.months_to_value - running))
    if then is None or now is None:
        return then
    back = {name: old for name, (old, _) in fields.items()}
    if "months_to_value" in back:
        back["months"] = max(0.0, back["months_to_value"] - now.running_months)
    return replace(now, **back)


def _graver_forms(new: Analysis, findings: list[FindingRef]) -> dict[str, frozenset[str]]:
    """Per finding of a rule with a ``family``: the fingerprints its graver forms would have on the same subjects
    (the family's rules of a graver level, or of the same level and a higher ``family_rank``)."""
    rules = [r for r in new.rulebook.rules.values() if r.spec.family]
    gravity = lambda rule: (-LEVEL_ORDER[rule.level], rule.spec.family_rank)  # noqa: E731
    by_id = {r.id: r for r in rules}
    out = {}
    for f in findings:
        own = by_id.get(f.rule)
        if own is not None:
            out[f.fingerprint] = frozenset(fingerprint(r.id, list(f.subjects)) for r in rules
                                           if r.spec.family == own.spec.family and gravity(r) > gravity(own))
    return out


def _credit(changes: list[ServiceChange], old: KnowledgeBase, new: Analysis, renamed: dict[str, str],
            resolved: list[FindingRef], appeared: list[FindingRef], eased: list[Move], escalated: list[Move]) -> list[ServiceChange]:
    """Each change credited by counterfactual: undone alone on the newer side (one evaluation per change), the
    findings that go away are its doing (caused, escalated or eased), those that come back it resolved."""
    before = {renamed.get(i.lower(), i).lower(): s for i, s in old.services.items()}
    ids = {i.lower(): i for i in new.kb.services}
    variants = {}
    for change in changes:
        if change.fields or change.change != "changed":  # a rename alone changes nothing to undo
            sid = ids.get(change.id.lower(), change.id)
            undone = _undone(before.get(change.id.lower()), new.kb.services.get(sid), change.fields,
                             months_between(old.today, new.kb.today))
            variants[change.id] = with_service(new.kb, sid, undone)
    moves = eased + escalated
    old_key = lambda f: fingerprint(f.rule, [renamed.get(s.lower(), s) for s in f.subjects])  # noqa: E731
    keys = {f.fingerprint: old_key(f) for f in resolved} | {m.new.fingerprint: old_key(m.old) for m in moves}
    back = {key: fp for fp, key in keys.items()}
    found = found_without(new, variants)
    credit = credited(found, [f.fingerprint for f in appeared] + [m.new.fingerprint for m in moves], list(keys.values()))
    graver = _graver_forms(new, appeared)
    # a finding that, with the change undone, would be a graver form of the same problem was eased by it, not caused
    doing = {cid: {p for p in caused if not graver.get(p, frozenset()) & found[cid]} | {back[k] for k in came_back}
             for cid, (caused, came_back) in credit.items()}
    owners: dict[str, list[str]] = {}
    for cid, prints in doing.items():
        for p in prints:
            owners.setdefault(p, []).append(cid)
    out = []
    for change in changes:
        mine = doing.get(change.id, set())
        pick = lambda refs: tuple(f.fingerprint for f in refs if f.fingerprint in mine)  # noqa: E731
        jointly = {p: tuple(o for o in owners[p] if o != change.id) for p in sorted(mine) if len(owners[p]) > 1}
        out.append(replace(change, resolves=pick(resolved), causes=pick(appeared), eases=pick([m.new for m in eased]),
                           escalates=pick([m.new for m in escalated]), jointly=jointly))
    return out


# ------------------------------------------------------------------ history


@dataclass(frozen=True)
class Point:
    """One review on the trend: its balance, adherence and open findings by level."""

    label: str
    date: str
    source: str  # the folder or revision it was read from ("" for the state now)
    commit: str | None
    services: int
    shares: dict[str, float]
    adherence: float | None
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "date": self.date, "source": self.source, "commit": self.commit,
                "services": self.services, "shares": dict(self.shares), "adherence": self.adherence,
                "findings": dict(self.counts)}


@dataclass
class History:
    """The reviews of a PMO, oldest first, then the state now; and how it moved since the last review."""

    points: list[Point]
    since: Diff

    def to_json(self) -> dict[str, Any]:
        return {"trend": [p.to_json() for p in self.points], "since_last_review": self.since.to_json()}


def _point(judged: Judged | None, analysis: Analysis, label: str, workspace: str) -> Point:
    summary = analysis.facts.summary
    snapshot = judged.snapshot if judged else None
    source = "" if snapshot is None else f"{snapshot.rev}" if snapshot.rev else _within(snapshot.folder, workspace)
    return Point(label, analysis.today.isoformat(), source, judged.commit if judged else None, summary["services"],
                 dict(summary["shares"]), summary["adherence"], analysis.counts())


def _within(folder: Path, workspace: str) -> str:
    """A snapshot folder as a report may show it: relative to the workspace (reviews() keeps it inside), never a
    path of the machine the report was made on."""
    return Path(os.path.relpath(folder.resolve(), Path(workspace).resolve())).as_posix()


def history(reviews: list[Judged], current: Analysis, label: str = "Now") -> History | None:
    """The trend over the reviews (oldest first) and the current analysis, and the diff since the last review."""
    if not reviews:
        return None
    last = reviews[-1]
    since = compare(last.analysis, current, side_of(last), Side(label, current.today.isoformat()))
    since.still_open = _urgent_first(_open_since(reviews, current, since.still_open), current.findings)
    workspace = current.kb.workspace
    points = [_point(r, r.analysis, r.snapshot.label, workspace) for r in reviews] + [_point(None, current, label, workspace)]
    return History(points, since)


def _open_since(reviews: list[Judged], current: Analysis, still: list[FindingRef]) -> list[FindingRef]:
    """The still-open findings, each open since the earliest review of the unbroken run of reviews (ending with
    the last one) that had it; a finding is followed across renames (``was:``) between each review and now."""
    since = {f.fingerprint: f.open_since for f in still}
    count = {f.fingerprint: f.reviews for f in still}
    running = set(since)
    for judged in reversed(reviews[:-1]):
        try:
            renamed = renames(judged.analysis.kb, current.kb)
        except InputError:
            break
        then = {fingerprint(f.rule, [renamed.get(s.lower(), s) for s in f.subjects]) for f in judged.analysis.findings}
        running &= then
        for key in running:
            since[key] = side_of(judged)
            count[key] += 1
    return [replace(f, open_since=since[f.fingerprint], reviews=count[f.fingerprint]) for f in still]


def history_of(current: Analysis) -> History | None:
    """The history of the reviews a workspace names in its ``[history]`` (None without any)."""
    return history(judge_all(reviews(current), current), current)


def side_of(judged: Judged) -> Side:
    return Side(judged.snapshot.label, judged.analysis.today.isoformat(), judged.commit)


# ------------------------------------------------------------------ baseline


def read_baseline(path: Path) -> frozenset[str]:
    """The finding fingerprints of a previous ``analyze --format json`` output; a malformed file is located."""
    shown = str(path)
    # a regular file only (a FIFO would wait forever, /dev/zero fill the memory), of at most 2 GiB: the JSON of a
    # 100,000-service analysis is far below that
    try:
        text = decode_text(read_input(path, shown, limit=1 << 31), shown)
    except InputError as exc:
        raise InputError([replace(d, message=f"cannot read the baseline: {d.message}") for d in exc.diagnostics]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Diagnostic(Location(shown, exc.lineno, exc.colno), f"not JSON: {exc.msg}",
                                     "give the output of pmorules analyze --format json")]) from None
    except (RecursionError, ValueError):  # nested too deeply, or an integer too long to convert
        parse_yaml(text, shown)  # JSON is YAML: its reader bounds nesting and numbers, and says where
        raise InputError([Diagnostic(Location(shown, 1, 1), "not JSON pmorules can read (nested too deeply, or a number "
                                     "too long)", "give the output of pmorules analyze --format json")]) from None
    problems = _baseline_problems(data)
    if problems:
        try:
            tree = parse_yaml(text, shown)  # JSON is YAML: this parse knows where each value is
        except InputError:
            tree = None
        raise InputError([Diagnostic(locate(tree, loc, shown) if tree is not None else Location(shown), message,
                                     "give the output of pmorules analyze --format json")
                          for loc, message in problems])
    return frozenset(f["fingerprint"] for f in data["findings"])


def _baseline_problems(data: Any) -> list[tuple[tuple[Any, ...], str]]:
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        return [((), "a baseline is an analysis in JSON, with a list of findings")]
    return [
        (("findings", index), f"findings[{index}]: no fingerprint")
        for index, finding in enumerate(data["findings"])
        if not isinstance(finding, dict) or not isinstance(finding.get("fingerprint"), str)
    ]
