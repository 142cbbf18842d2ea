"""The action register: what the PMO agreed to do about findings and decisions (``actions:`` sections of the
workspace's knowledge, e.g. actions.yaml), each joined with the finding it answers as the analysis finds it now.

An action names its finding by fingerprint (rule + subjects), so it follows the finding whatever its numbers
do, and across a rename: a service that says ``was: old-id`` answers to the fingerprints its findings had under the
old id. Overdue actions come first, then open ones, then done and dropped ones; each by due date.

Drafting (``pmorules actions --draft``) only proposes: the findings no action answers yet are printed for a person
to complete and paste; no file is ever written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .analysis import Analysis
from .findings import Finding, fingerprint, names_of
from .knowledge import AgreedAction

ORDER = {"overdue": 0, "open": 1, "done": 2, "dropped": 3}
DRAFTED_LEVELS = ("error", "warning")  # what a committee acts on; an info finding is for information


@dataclass(frozen=True)
class ActionState:
    """An agreed action as it stands on the analysis's day."""

    action: AgreedAction
    finding: Finding | None  # the finding it answers, when the analysis still finds it
    names: tuple[str, ...]  # the finding's subjects, by name
    overdue: bool  # open, and its due date is before the analysis's day

    @property
    def state(self) -> str:
        return "overdue" if self.overdue else self.action.spec.status

    @property
    def done_but_open(self) -> bool:
        """Marked done while the finding it answers is still there."""
        return self.action.spec.status == "done" and self.finding is not None

    def to_json(self) -> dict[str, Any]:
        spec = self.action.spec
        finding = None if self.finding is None else {
            "id": self.finding.id, "rule": self.finding.rule, "title": self.finding.title, "level": self.finding.level,
            "subjects": list(self.finding.subjects), "subject_names": list(self.names)}
        return {"finding": spec.finding, "decision": spec.decision, "action": spec.action, "owner": spec.owner,
                "due": spec.due.isoformat() if spec.due else None, "status": spec.status, "reason": spec.reason,
                "notes": spec.notes, "overdue": self.overdue, "still_found": finding, "done_but_open": self.done_but_open,
                "source": str(self.action.where)}


def findings_by_print(analysis: Analysis) -> dict[str, Finding]:
    """Each finding now under every fingerprint an action may name it by: its own, the one it had before a
    service it is about was renamed (``was:``, the old id no longer in use), so an action survives the rename,
    and those of the other forms of its problem (the rules of its ``family``, on the same subjects), so an action
    follows a problem that escalated or eased, as ``diff`` does."""
    ids = {i.lower() for i in analysis.kb.services}
    was = {s.id.lower(): s.was for s in analysis.kb.services.values() if s.was and s.was.lower() not in ids}
    families: dict[str, list[str]] = {}
    for rule in analysis.rulebook.rules.values():
        if rule.spec.family:
            families.setdefault(rule.spec.family, []).append(rule.id)
    family_of = {rid: family for family, rids in families.items() for rid in rids}
    out = {f.fingerprint: f for f in analysis.findings}
    for f in analysis.findings:
        out.setdefault(fingerprint(f.rule, [was.get(s.lower(), s) for s in f.subjects]), f)
    for f in analysis.findings:  # a form of the problem no longer found: the action follows to this one
        for other in families.get(family_of.get(f.rule, ""), ()):
            for subjects in (list(f.subjects), [was.get(s.lower(), s) for s in f.subjects]):
                out.setdefault(fingerprint(other, subjects), f)
    return out


def unanswered(analysis: Analysis) -> list[Finding]:
    """The errors and warnings found now that no action in the register answers (in the analysis's order)."""
    found = findings_by_print(analysis)
    answered = {id(found[a.spec.finding]) for a in analysis.kb.actions if a.spec.finding in found}
    return [f for f in analysis.findings if f.level in DRAFTED_LEVELS and id(f) not in answered]


def action_register(analysis: Analysis) -> list[ActionState]:
    """The workspace's actions, overdue first, then open, done and dropped; each group by due date, then file order."""
    findings = findings_by_print(analysis)
    names = names_of(analysis.kb)
    states = []
    for action in analysis.kb.actions:
        spec = action.spec
        finding = findings.get(spec.finding) if spec.finding else None
        names_now = tuple(names.get(s, s) for s in finding.subjects) if finding else ()
        overdue = spec.status == "open" and spec.due is not None and spec.due < analysis.today
        states.append(ActionState(action, finding, names_now, overdue))
    indexed = list(enumerate(states))
    indexed.sort(key=lambda p: (ORDER[p[1].state], p[1].action.spec.due is None, p[1].action.spec.due or analysis.today, p[0]))
    return [state for _, state in indexed]
