"""From a solution to a recommendation: the changed knowledge base, the full rulebook run on it,
and a reason for every change.

A change's reason is counterfactual: undo that one change in the recommended mix, run the rulebook
again, and the findings that come back (and the adherence lost) are what the change addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..analysis import Analysis, reanalyze
from ..findings import Finding
from ..knowledge import KnowledgeBase, Service
from .infeasible import Conflict, explain_infeasible
from .milp import Solution, Unattainable, build_program, solve
from .problem import Problem, build_problem


@dataclass
class Change:
    kind: str  # added | removed | changed
    service: Service  # as it is in the recommended mix (added, changed) or today (removed)
    before: str | None = None  # approach today (changed)
    after: str | None = None  # approach recommended (changed)
    origin: str = ""  # active | proposed | catalogue
    prevents: tuple[Finding, ...] = ()
    goals: tuple[tuple[str, float], ...] = ()  # goal id, adherence it adds
    frees: float = 0.0  # effort it frees where the mix would not fit otherwise

    def reason(self) -> str:
        parts = []
        if self.prevents:
            parts.append("avoids " + "; ".join(f"{f.rule} ({f.level}) {f.title}" for f in self.prevents))
        if self.goals:
            parts.append("adds " + ", ".join(f"{gain * 100:.1f} points of adherence to {goal}" for goal, gain in self.goals))
        if self.frees:
            parts.append(f"frees {self.frees:g} effort the other changes need")
        return "; ".join(parts) or "no effect on findings or goals"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"service": self.service.id, "name": self.service.name}
        if self.kind == "added":
            data |= {"origin": self.origin, "term": self.service.term, "effort": self.service.effort,
                     "probability": self.service.probability, "approach": self.service.approach}
        elif self.kind == "removed":
            data |= {"term": self.service.term, "effort": self.service.effort}
        else:
            data |= {"from": self.before, "to": self.after}
        return data | {
            "reason": self.reason(),
            "prevents": [{"rule": f.rule, "level": f.level, "title": f.title, "subjects": f.subjects, "message": f.message}
                         for f in self.prevents],
            "goals": [{"goal": goal, "adherence": round(gain, 4)} for goal, gain in self.goals],
        }


@dataclass
class MixResult:
    status: str  # optimal | infeasible
    before: Analysis
    after: Analysis  # the full rulebook on the recommended mix (today's mix when infeasible)
    problem: Problem
    solution: Solution | None
    changes: list[Change]
    unattainable: list[Unattainable]
    conflict: Conflict | None

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def mix(self) -> list[str]:
        return [s.id for s in self.after.kb.services.values() if s.active]

    def resolved(self) -> list[Finding]:
        """Findings of today that the recommended mix no longer has."""
        after = {_key(f) for f in self.after.findings}
        return [f for f in self.before.findings if _key(f) not in after]

    def to_json(self) -> dict[str, Any]:
        summary = self.after.facts.summary
        return {
            "status": self.status,
            "workspace": self.before.kb.workspace,
            "mix": self.mix,
            "added": [c.to_json() for c in self.of("added")],
            "removed": [c.to_json() for c in self.of("removed")],
            "changed": [c.to_json() for c in self.of("changed")],
            "shares": summary["shares"],
            "adherence": summary["adherence"],
            "effort": effort_of(self.after.kb),
            "capacity": self.problem.capacity,
            "objective": round(self.solution.objective, 6) if self.solution else None,
            "before": {
                "mix": [s.id for s in self.before.kb.services.values() if s.active],
                "shares": self.before.facts.summary["shares"],
                "adherence": self.before.facts.summary["adherence"],
                "effort": effort_of(self.before.kb),
                "findings": self.before.counts(),
            },
            "constraints": [c.to_json() for c in self.problem.constraints],
            "unattainable": [
                {"rule": u.rule, "goal": u.goal, "target": u.target, "text": unattainable_text(u, self.before.kb)}
                for u in self.unattainable
            ],
            "conflict": self.conflict.to_json() if self.conflict else None,
            "resolved": [{"rule": f.rule, "level": f.level, "subjects": f.subjects, "message": f.message} for f in self.resolved()],
            "findings_after": [f.to_json() for f in self.after.findings],
        }


def unattainable_text(item: Unattainable, kb: KnowledgeBase) -> str:
    target = kb.outcomes[item.target].name if item.target in kb.outcomes else item.target
    goal = kb.goals[item.goal].name or item.goal
    return (
        f"No candidate delivers {target} ({item.target}) within {item.due_months:g} months with p ≥ "
        f"{item.bound * 100:g}%, as the goal {goal} ({item.goal}) needs"
    )


def _key(finding: Finding) -> tuple[str, tuple[str, ...]]:
    return finding.rule, tuple(finding.subjects)


def effort_of(kb: KnowledgeBase) -> float:
    return round(sum(s.effort for s in kb.services.values() if s.active), 6)


def mix_kb(kb: KnowledgeBase, problem: Problem, solution: Solution) -> KnowledgeBase:
    """Today's knowledge base with the recommended mix: chosen services active in their chosen
    approach, dropped ones retired, chosen catalogue services added."""
    services: dict[str, Service] = {}
    chosen = set(solution.chosen)
    for sid, service in kb.services.items():
        candidate = problem.candidates.get(sid)
        if candidate is None:
            services[sid] = service
        elif sid in chosen:
            services[sid] = replace(candidate.service, status="active", approach=solution.approaches[sid])
        else:
            services[sid] = replace(service, status="retired") if service.active else service
    for cid in solution.chosen:
        if cid not in services:
            services[cid] = replace(problem.candidates[cid].service, status="active", approach=solution.approaches[cid])
    absent = {k: v for k, v in kb.absent_catalogue.items() if k not in services}
    return replace(kb, services=services, absent_catalogue=absent)


def _changes(before: KnowledgeBase, after: KnowledgeBase, problem: Problem) -> list[Change]:
    changes = []
    for sid, service in after.services.items():
        old = before.services.get(sid)
        if service.active and (old is None or not old.active):
            changes.append(Change("added", service, origin=problem.candidates[sid].origin))
        if old is not None and old.active and not service.active:
            changes.append(Change("removed", old))
        if service.active and sid in problem.candidates and service.approach != problem.candidates[sid].approaches[0]:
            changes.append(Change("changed", service, problem.candidates[sid].approaches[0], service.approach))
    return changes


def _undo(change: Change, before: KnowledgeBase, after: KnowledgeBase) -> KnowledgeBase:
    services = dict(after.services)
    sid = change.service.id
    if change.kind == "added" and sid not in before.services:
        del services[sid]
    elif change.kind == "added":
        services[sid] = replace(services[sid], status=before.services[sid].status)
    elif change.kind == "removed":
        services[sid] = before.services[sid]
    else:
        services[sid] = replace(services[sid], approach=change.before)
    return replace(after, services=services)


def _goal_adherence(analysis: Analysis) -> dict[str, float]:
    return {f.key: f.fields["adherence"] for f in analysis.facts.facts if f.type == "goal"}


def _explain_changes(result_after: Analysis, before: Analysis, problem: Problem, changes: list[Change]) -> None:
    after_keys = {_key(f) for f in result_after.findings}
    adherence = _goal_adherence(result_after)
    for change in changes:
        undone = reanalyze(before, _undo(change, before.kb, result_after.kb))
        change.prevents = tuple(f for f in undone.findings if _key(f) not in after_keys)
        change.goals = tuple(
            (goal, adherence[goal] - value) for goal, value in _goal_adherence(undone).items()
            if adherence[goal] - value > 5e-5
        )
        if change.kind == "removed" and effort_of(undone.kb) > problem.capacity + 1e-9:
            change.frees = change.service.effort


def recommend(analysis: Analysis, capacity: float | None = None) -> MixResult:
    """The best mix under the constraints the rules imply, with the full rulebook run on it."""
    problem = build_problem(analysis, capacity)
    program = build_program(problem)
    solution = solve(program, problem)
    if solution is None:
        return MixResult("infeasible", analysis, analysis, problem, None, [], program.unattainable,
                         explain_infeasible(program, problem))
    after = reanalyze(analysis, mix_kb(analysis.kb, problem, solution))
    changes = _changes(analysis.kb, after.kb, problem)
    _explain_changes(after, analysis, problem, changes)
    return MixResult("optimal", analysis, after, problem, solution, changes, program.unattainable, None)
