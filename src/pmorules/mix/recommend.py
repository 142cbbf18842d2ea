"""From a solution to a recommendation: the changed knowledge base, the full rulebook run on it, a reason for
every change, and the new findings no mix avoids, each with why.

The rulebook has the last word: each optimum is analysed in full, and a mix in which it finds a warning or
an error that today's mix does not have, and that the model did not count, is cut off and the next best one
tried (at most ``[mix] verify_rounds`` times). Reasons come from that one before/after pair: a finding today
that the recommended mix no longer has belongs to the changes of the services it is about (its subjects, the
services delivering the goal or serving the client it names), and a finding about the mix as a whole to the
changes that move the measure it tests. The count of analyses is bounded, whatever the number of changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..analysis import Analysis, reanalyze, rematch
from ..counterfactual import affordable, headlines_without, with_service
from ..dates import long_date
from ..errors import Diagnostic, InputError, Location
from ..evaluate import Match
from ..facts import Fact, FactBase
from ..findings import Finding, Headline, headlines_of
from ..gcpause import gc_paused
from ..knowledge import KnowledgeBase, Service
from ..measures import builds_lasting, imposes, is_quick, target_adherence
from ..vocabulary import LEVEL_ORDER
from .infeasible import Conflict, explain_infeasible
from .milp import Program, ProgramRefused, Soft, Solution, Unattainable, build_program, no_good, solve
from .probe import flagged, variant
from .problem import CAPACITY, CORE, Candidate, Problem, additions, approached_probability, build_problem
from .units import Units
from .scenarios import (Scenario, ScenarioResult, avoidable_error, evaluate_scenario, hard_problems, load_scenarios,
                        side)


@dataclass
class Loss:
    """What a drop, a cut or a change of approach gives up: the clients who lose the service (and those left
    with no service at all), the goals whose adherence falls and by how much, the targets no longer covered in
    time, the probability before and after, and how long the service has been running."""

    clients: tuple[str, ...] = ()  # the service's clients, who lose it (dropped) or get it another way (approach)
    unserved: tuple[str, ...] = ()  # of those, the clients no service of the recommended mix serves any more
    goals: tuple[tuple[str, float], ...] = ()  # goal id, adherence it loses (positive)
    uncovered: tuple[tuple[str, str], ...] = ()  # (goal id, target) no longer delivered in time
    probability: tuple[float, float | None] | None = None  # before, after (None: the service is gone)
    running_months: float = 0.0  # how long the service has been running today
    good_news: tuple[Finding, ...] = ()  # findings of good news today (good_news: true) the mix no longer has

    def text(self, kind: str, before: Any = None, after: Any = None, arrow: str = "->",
             name: Callable[[str], str] = str, plain: bool = False) -> str:
        """In words; ``name`` words an id (the report gives names, the terminal ids); ``plain`` leaves rule codes out
        and names adherence the goal's coverage score, as a committee reads it."""
        parts = []
        if self.running_months > 0:  # what is given up is established: a service, or its way of working
            months = f"{round(self.running_months, 1):g} months"
            parts.append(f"the approach it has run with for {months}" if kind == "changed"
                         else f"a service running for {months}")
        if kind == "removed" and self.clients:
            alone = f" ({', '.join(map(name, self.unserved))} left with no service)" if self.unserved else ""
            parts.append(f"no longer serves {', '.join(map(name, self.clients))}{alone}")
        if kind == "changed":
            who = f"{', '.join(map(name, self.clients))} get" if self.clients else "its clients get"
            parts.append(f"{who} it {after} instead of {before}")
        if self.probability is not None:
            was, now = self.probability
            if kind == "changed":
                parts.append(f"probability {was * 100:.0f}% {arrow} {now * 100:.0f}% while its team and clients "
                             "adjust to the new approach" if now != was else f"probability {was * 100:.0f}%, unchanged")
            else:
                parts.append(f"probability {was * 100:.0f}% {arrow} " + ("gone" if now is None else f"{now * 100:.0f}%"))
        if self.goals:
            score = "coverage of" if plain else "adherence to"
            parts.append(", ".join(f"{loss * 100:.1f} points of {score} {name(goal)}" for goal, loss in self.goals))
        if self.uncovered:
            parts.append(", ".join(f"{name(target)} no longer delivered in time for {name(goal)}"
                                   for goal, target in self.uncovered))
        if self.good_news:
            parts.append("no longer " + "; ".join(f.title if plain else f"{f.rule} ({f.level}) {f.title}"
                                                  for f in self.good_news))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"clients": list(self.clients), "unserved": list(self.unserved),
                "goals": [{"goal": goal, "adherence": round(loss, 4)} for goal, loss in self.goals],
                "uncovered": [{"goal": goal, "target": target} for goal, target in self.uncovered],
                "probability_from": self.probability[0] if self.probability else None,
                "probability_to": self.probability[1] if self.probability else None,
                "running_months": self.running_months,
                "good_news": [{"rule": f.rule, "level": f.level, "title": f.title, "subjects": f.subjects}
                              for f in self.good_news]}


@dataclass
class Change:
    kind: str  # added | removed | changed (approach) | resized (effort) | extended (to another client)
    service: Service  # as it is in the recommended mix (added, changed, resized) or today (removed)
    before: Any = None  # approach (changed) or effort (resized) today
    after: Any = None  # approach or effort recommended
    origin: str = ""  # active | proposed | catalogue
    assumed: dict[str, str] = field(default_factory=dict)  # an addition: field -> where its value comes from
    probability_before: float | None = None  # resized: the probability at today's effort
    prevents: tuple[Finding, ...] = ()
    goals: tuple[tuple[str, float], ...] = ()  # goal id, adherence it adds
    goal_losses: tuple[tuple[str, float], ...] = ()  # goal id, adherence it takes away
    frees: float = 0.0  # effort it frees where the mix would not fit otherwise
    forced: str = ""  # a core service dropped: why it had to go
    units: Units | None = None  # effort in percent and FTE
    losses: Loss | None = None  # a drop, a cut or a change of approach: what is lost
    option: bool = False  # an addition nobody has assessed (assumed effort or probability): an option to assess
    extends_to: tuple[str, ...] = ()  # extended: the clients a running quick service now serves too
    tested: bool = True  # ``prevents`` by counterfactual (the mix without it alone has them); else what it touches
    keeps_away: tuple[tuple[str, str, str], ...] = ()  # (rule, level, title) of findings the mix without it alone
    # would raise, that neither today nor the recommended mix has: its reason when it has no other

    @property
    def only_keeps_away(self) -> bool:
        """Whether keeping findings away is all this change does (no finding of today avoided, no goal, no room)."""
        return bool(self.keeps_away) and not (self.prevents or self.goals or self.frees or self.forced)

    def effort(self, value: float) -> str:
        """An effort in words: a share of the capacity, and FTE when the headcount is known."""
        return self.units.text(value) if self.units else f"{value:g}"

    def reason(self) -> str:
        parts = []
        if self.forced:
            parts.append(self.forced)
        if self.prevents:
            verb = "avoids " if self.tested else "findings about what it touches that go (not tested alone): "
            parts.append(verb + "; ".join(f"{f.rule} ({f.level}) {f.title}" for f in self.prevents))
        if self.goals:
            parts.append("adds " + ", ".join(f"{gain * 100:.1f} points of adherence to {goal}" for goal, gain in self.goals))
        if self.only_keeps_away:  # the reason, when it has no other
            parts.append("keeps away " + "; ".join(f"{rule} ({level}) {title}" for rule, level, title in self.keeps_away))
        parts += self.effort_notes()
        if self.kind == "extended":
            parts.insert(0, f"gives {', '.join(self.extends_to)} a quick win for {self.effort(self.after - self.before)} "
                            "more effort")
        return "; ".join(parts) or "no effect on findings or goals"

    def effort_notes(self) -> list[str]:
        """What the change does to the effort, in words (no finding or goal is named here)."""
        if self.frees:
            return [f"frees {self.effort(self.frees)} of effort the other changes need"]
        if self.kind == "resized" and self.after < self.before:
            return [f"frees {self.effort(self.before - self.after)} of effort"]
        return []

    def lost(self, arrow: str = "->", name: Callable[[str], str] = str, plain: bool = False) -> str:
        """What the change gives up, in words ("" for an addition or a larger effort)."""
        return self.losses.text(self.kind, self.before, self.after, arrow, name, plain) if self.losses else ""

    def assumptions(self) -> str:
        """What the mix assumes of an addition, in words."""
        s = self.service
        clients = ", ".join(s.clients) or "no client"
        return (f"assumed effort {self.effort(s.effort)} ({self.assumed.get('effort', 'the workspace')}), probability "
                f"{s.probability * 100:g}% ({self.assumed.get('probability', 'the workspace')}), value after "
                f"{s.months_to_value:g} months ({self.assumed.get('months_to_value', 'the workspace')}), serves "
                f"{clients} ({self.assumed.get('clients', 'the workspace')})")

    def to_json(self) -> dict[str, Any]:
        s = self.service
        data: dict[str, Any] = {"service": s.id, "name": s.name}
        if self.kind == "added":
            data |= {"origin": self.origin, "term": s.term, "effort": s.effort, "probability": s.probability,
                     "months_to_value": s.months_to_value, "clients": list(s.clients), "approach": s.approach,
                     "assumed": dict(self.assumed)}
        elif self.kind == "removed":
            data |= {"term": s.term, "effort": s.effort}
        elif self.kind in ("resized", "extended"):
            data |= {"from": self.before, "to": self.after, "probability_from": self.probability_before,
                     "probability_to": s.probability}
            if self.kind == "extended":
                data["clients"] = list(self.extends_to)
            if self.units:
                data |= {"from_people": self.units.to_json(self.before), "to_people": self.units.to_json(self.after)}
        else:
            data |= {"from": self.before, "to": self.after}
        if self.units and self.kind != "changed":
            data["people"] = self.units.to_json(s.effort)
        if self.losses is not None:
            data["loses"] = self.losses.to_json() | {"text": self.lost()}
        return data | {
            "reason": self.reason(),
            "prevents": [{"rule": f.rule, "level": f.level, "title": f.title, "subjects": f.subjects, "message": f.message}
                         for f in self.prevents],
            "tested": self.tested,
            "keeps_away": [{"rule": rule, "level": level, "title": title} for rule, level, title in self.keeps_away],
            "effort_notes": self.effort_notes(), "forced": self.forced,
            "goals": [{"goal": goal, "adherence": round(gain, 4)} for goal, gain in self.goals],
        }


@dataclass
class Unavoidable:
    """A warning or error today's mix does not have and the recommended mix does, with why no mix avoids it."""

    rule: str
    level: str
    subjects: tuple[str, ...]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level, "subjects": list(self.subjects), "reason": self.reason}


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
    unavoidable: list[Unavoidable] = field(default_factory=list)
    rounds: int = 0  # full analyses run to verify optima
    scenarios: list[ScenarioResult] = field(default_factory=list)  # the workspace's what-if variants, evaluated

    def of(self, kind: str) -> list[Change]:
        """The recommended changes of a kind (options to assess are apart: ``options``)."""
        return [c for c in self.changes if c.kind == kind and not c.option]

    @property
    def recommended(self) -> list[Change]:
        return [c for c in self.changes if not c.option]

    @property
    def options(self) -> list[Change]:
        """Additions nobody has assessed that the mix would take: options worth assessing, not decisions."""
        return [c for c in self.changes if c.option]

    @property
    def mix(self) -> list[str]:
        return [s.id for s in self.after.kb.services.values() if s.active]

    def resolved(self) -> list[Finding]:
        """Findings of today that the recommended mix no longer has."""
        after = {_key(f) for f in self.after.findings}
        return [f for f in self.before.findings if _key(f) not in after]

    def together(self) -> list[Finding]:
        """Findings of today the recommended mix no longer has that undoing no single change brings back: more than
        one change avoids each (any one would do, as far as undoing one at a time tells), so none is credited alone.
        Good news is a loss, never listed here."""
        credited = {id(f) for c in self.changes for f in c.prevents}
        return [f for f in self.resolved() if id(f) not in credited and f.rule not in self.problem.good_news]

    def _people(self) -> dict[str, Any]:
        """Effort in people units: the step effort moves in, and today's and the recommended effort."""
        units = self.problem.units
        return {"step": round(units.step, 6), "step_fte": units.step_fte, "step_percent": round(units.step_percent, 4),
                "capacity_fte": units.fte, "effort": units.to_json(effort_of(self.after.kb)),
                "effort_before": units.to_json(effort_of(self.before.kb))}

    def to_json(self) -> dict[str, Any]:
        summary = self.after.facts.summary
        return {
            "status": self.status,
            "as_of": self.before.today.isoformat(),
            "workspace": self.before.kb.workspace,
            "objective_text": OBJECTIVE,
            "mix": self.mix,
            "added": [c.to_json() for c in self.of("added")],
            "removed": [c.to_json() for c in self.of("removed")],
            "changed": [c.to_json() for c in self.of("changed")],
            "resized": [c.to_json() for c in self.of("resized")],
            "extended": [c.to_json() for c in self.of("extended")],
            "options": [c.to_json() for c in self.options],
            "shares": summary["shares"],
            "adherence": summary["adherence"],
            "effort": effort_of(self.after.kb),
            "capacity": self.problem.capacity,
            "capacity_note": self.problem.capacity_note,
            "capacity_source": self.problem.capacity_source,
            "people": self._people(),
            "objective": round(self.solution.objective, 6) if self.solution else None,
            "before": {
                "mix": [s.id for s in self.before.kb.services.values() if s.active],
                "shares": self.before.facts.summary["shares"],
                "adherence": self.before.facts.summary["adherence"],
                "effort": effort_of(self.before.kb),
                "findings": self.before.counts(),
            },
            "core": {cid: c.core for cid, c in sorted(self.problem.candidates.items()) if c.core},
            "locked": sorted(cid for cid, c in self.problem.candidates.items() if c.locked),
            "not_proposed": dict(sorted(self.problem.excluded.items())),
            "constraints": [c.to_json() for c in self.problem.constraints],
            "unattainable": [
                {"rule": u.rule, "goal": u.goal, "target": u.target, "text": unattainable_text(u, self.before.kb)}
                for u in self.unattainable
            ],
            "unavoidable": [u.to_json() for u in self.unavoidable],
            "conflict": self.conflict.to_json() if self.conflict else None,
            "scenarios": [r.to_json(self.before) for r in self.scenarios],
            "resolved": [{"rule": f.rule, "level": f.level, "subjects": f.subjects, "message": f.message} for f in self.resolved()],
            "avoided_together": [{"rule": f.rule, "level": f.level, "title": f.title, "subjects": f.subjects}
                                 for f in self.together()],
            "findings_after": [f.to_json() for f in self.after.findings],
        }


OBJECTIVE = (
    "The recommended mix is the one most likely to meet your goals in time (weighted by their priority and their "
    "client's weight) within the capacity, with no error-level finding a mix can avoid, each warning or info "
    "finding it keeps counted as a cost, and as few changes to today's services as that allows."
)


def comparison(result: MixResult, extra: list[ScenarioResult]) -> list[dict[str, Any]]:
    """The columns of the side-by-side table: today, the recommended mix (when there is one), each scenario;
    every column judged feasible by the one test (``hard_problems``: it meets the hard conditions)."""
    today = result.before

    def column(name: str, state: Analysis) -> dict[str, Any]:
        problems = hard_problems(result.problem, result.unattainable, state)
        return {"name": name, "scenario": False, "feasible": not problems, "problems": problems, **side(state, today)}

    columns = [column("Today", today)]
    if result.status == "optimal":
        columns.append(column("Recommended", result.after))
    columns += [{"name": r.name, "scenario": True, "feasible": r.feasible, "problems": list(r.problems), **side(r.analysis, today)}
                for r in list(result.scenarios) + extra]
    return columns


def unattainable_text(item: Unattainable, kb: KnowledgeBase, ids: bool = True) -> str:
    """In words, each thing by its name and (``ids``, the terminal's and the JSON's way) its id."""
    def tag(key: str) -> str:
        return f" ({key})" if ids else ""

    if item.goal is None:
        client = kb.clients[item.target].name if item.target in kb.clients else item.target
        return f"No candidate whose value is perceived within the short horizon serves {client}{tag(item.target)}"
    target = kb.outcomes[item.target].name if item.target in kb.outcomes else item.target
    goal = kb.goals[item.goal].name or item.goal
    bound = f" with a value of at least {item.bound * 100:g}%" if item.bound is not None else ""
    due = long_date(kb.goals[item.goal].due)
    return (f"No candidate delivers {target}{tag(item.target)} by {due}{bound}, as the goal {goal}{tag(item.goal)} due "
            f"then needs: renegotiate its date or scope with its owner")


def _key(finding: Finding | Headline) -> tuple[str, tuple[str, ...]]:
    return finding.rule, tuple(finding.subjects)


def effort_of(kb: KnowledgeBase) -> float:
    return round(sum(s.effort for s in kb.services.values() if s.active), 6)


def chosen_service(problem: Problem, cid: str, size: int, approach: str | None) -> Service:
    return replace(problem.candidates[cid].sizes[size].service, status="active", approach=approach)


def mix_kb(kb: KnowledgeBase, problem: Problem, solution: Solution) -> KnowledgeBase:
    """Today's knowledge base with the recommended mix: chosen services active at their chosen size and
    approach, dropped ones retired, chosen additions added."""
    services: dict[str, Service] = {}
    for sid, service in kb.services.items():
        if sid in solution.chosen:
            services[sid] = chosen_service(problem, sid, *solution.chosen[sid])
        elif service.active and sid in problem.candidates:
            services[sid] = replace(service, status="retired")
        else:
            services[sid] = service
    for cid, (size, approach) in solution.chosen.items():
        if cid not in services:
            services[cid] = chosen_service(problem, cid, size, approach)
    absent = {k: v for k, v in kb.absent_catalogue.items() if k not in services}
    return replace(kb, services=services, absent_catalogue=absent)


def _changes(before: KnowledgeBase, after: KnowledgeBase, problem: Problem) -> list[Change]:
    changes = _changes_of(before, after, problem)
    for change in changes:
        change.units = problem.units
    return changes


def _as_added(candidate: Candidate, service: Service, problem: Problem) -> dict[str, str]:
    """Where an addition's figures come from; an addition the mix resized says so, and from what."""
    assumed, base = dict(candidate.assumed), candidate.sizes[0].service
    if abs(service.effort - base.effort) > 1e-9:
        assumed["effort"] = (f"resized by the mix from {problem.units.text(base.effort)}, as given by "
                             f"{assumed.get('effort', 'the workspace')}")
    if abs(service.probability - base.probability) > 1e-9:
        assumed["probability"] = (f"resized by the mix from {base.probability * 100:g}%, as given by "
                                  f"{assumed.get('probability', 'the workspace')}")
    return assumed


def _changes_of(before: KnowledgeBase, after: KnowledgeBase, problem: Problem) -> list[Change]:
    changes = []
    for sid, service in after.services.items():
        old = before.services.get(sid)
        candidate = problem.candidates.get(sid)
        if service.active and (old is None or not old.active):
            changes.append(Change("added", service, origin=candidate.origin, assumed=_as_added(candidate, service, problem),
                                  option=not candidate.assessed))
        elif old is not None and old.active and not service.active:
            forced = ""
            if candidate is not None and candidate.core:
                why = problem.core_exempt.get(sid) or problem.paired(sid) or problem.core_note
                forced = f"core ({candidate.core}), but {why}"
            changes.append(Change("removed", old, forced=forced))
        elif service.active and old is not None:
            if service.approach != old.approach:
                changes.append(Change("changed", service, old.approach, service.approach))
            gained = tuple(c for c in service.clients if c not in old.clients)
            # the probability a resize starts from: after the change of approach beside it, when there is one
            start = old.probability if service.approach == old.approach else approached_probability(
                old.probability, problem.settings.approach_change_probability)
            if gained:
                changes.append(Change("extended", service, old.effort, service.effort,
                                      probability_before=start, extends_to=gained))
            elif service.effort != old.effort:
                changes.append(Change("resized", service, old.effort, service.effort, probability_before=start))
    return changes


# ------------------------------------------------------------------ reasons from one before/after pair


def _explain(before: Analysis, after: Analysis, problem: Problem, changes: list[Change]) -> None:
    by_service: dict[str, list[Change]] = {}
    for change in changes:
        by_service.setdefault(change.service.id, []).append(change)
    kb_after = after.kb
    delivering: dict[str, set[str]] = {}  # goal -> services delivering one of its targets, today or after
    for covers in (before.facts.covers, after.facts.covers):
        for goal, targets in covers.items():
            for cover in targets:
                delivering.setdefault(goal, set()).update(d.service for d in cover.deliveries)
    after_keys = {_key(f) for f in after.findings}
    prevents: dict[int, list[Finding]] = {}
    good: dict[int, list[Finding]] = {}  # good news a change makes go: a loss, never something it avoids
    heads = _found_without_each(before, after, changes) if affordable(len(changes), len(after.kb.services)) else None
    without = {key: frozenset(found) for key, found in heads.items()} if heads is not None else None
    for finding in before.findings:
        if _key(finding) in after_keys:
            continue
        if finding.rule in problem.good_news:  # lost through what weakened: a loss of those changes
            for owner in dict.fromkeys(map(id, _good_news_owners(finding, before, changes))):
                good.setdefault(owner, []).append(finding)
            continue
        if without is not None:  # by counterfactual: the mix without that change alone still has it
            for change in changes:
                if finding.fingerprint in without[id(change)]:
                    prevents.setdefault(id(change), []).append(finding)
            continue
        owners: list[Change] = []
        for subject in finding.subjects:
            owners += _of_service(by_service.get(subject, []), finding)
            for sid in sorted(delivering.get(subject, ())):  # a goal gains only from more or stronger delivery
                owners += [c for c in _of_service(by_service.get(sid, []), finding) if _strengthens(c)]
            if subject in before.kb.clients:
                owners += [c for c in changes if subject in c.service.clients]
        if not owners:  # about the mix as a whole: the changes that move what it measures its way
            owners = _movers(finding, before, after, changes)
        for owner in dict.fromkeys(map(id, owners)):
            prevents.setdefault(owner, []).append(finding)
    known = {f.fingerprint for f in before.findings} | {f.fingerprint for f in after.findings}
    titles = {rule.id: rule.spec.title for rule in after.rulebook.rules.values()}
    for change in changes:
        change.prevents = tuple(prevents.get(id(change), ()))
        change.tested = without is not None
        change.keeps_away = tuple((h.rule, h.level, titles.get(h.rule, h.rule))
                                  for p, h in sorted((heads or {}).get(id(change), {}).items(), key=lambda i: (
                                      LEVEL_ORDER[i[1].level], i[1].rule, i[1].subjects))
                                  if p not in known and h.rule not in problem.good_news)
    _gains(before, after, problem, changes)
    _losses(before, after, changes, problem.settings.approach_change_probability)
    for change in changes:
        if good.get(id(change)):
            change.losses = replace(change.losses or Loss(), good_news=tuple(good[id(change)]))
    total = effort_of(kb_after)
    for change in changes:
        freed = change.service.effort if change.kind == "removed" else (
            change.before - change.after if change.kind == "resized" and change.after < change.before else 0.0)
        if freed and total + freed > problem.capacity + 1e-9:
            change.frees = round(freed, 6)


def _found_without_each(before: Analysis, after: Analysis, changes: list[Change]) -> dict[int, dict[str, Headline]]:
    """The fingerprints the recommended mix has without each change alone (one evaluation per change): an addition
    left out, a drop kept, a change of approach or a resize left as today."""
    kb, today = after.kb, before.kb
    variants = {}
    for change in changes:
        sid, now = change.service.id, kb.services.get(change.service.id)
        if change.kind in ("added", "removed"):
            variant = with_service(kb, sid, today.services.get(sid))
            if sid in today.absent_catalogue:  # a catalogue service added: referenced, but not offered, again
                variant = replace(variant, absent_catalogue={**variant.absent_catalogue, sid: today.absent_catalogue[sid]})
        elif change.kind == "changed":
            variant = with_service(kb, sid, replace(now, approach=change.before))
        elif change.kind == "extended":  # the clients it was extended to lose it again
            variant = with_service(kb, sid, replace(now, effort=change.before, probability=change.probability_before,
                                                    clients=tuple(c for c in now.clients if c not in change.extends_to)))
        else:
            variant = with_service(kb, sid, replace(now, effort=change.before, probability=change.probability_before))
        variants[id(change)] = variant
    return headlines_without(after, variants)


# What a change of approach moves: whether a harm applies (and so is active), the service's approach, the share
# of effort run in an imposing approach, and the count of services per tag and approach. A resize moves the
# effort and, through it, the probability and everything measured from those.
APPROACH_MOVES = {("harm", "active"), ("harm", "applies"), ("harm_reach", "active"), ("service", "approach"),
                  ("mix", "control_share"), ("tag_approach", "count")}


def _strengthens(change: Change) -> bool:
    """Whether a change can only raise what the service delivers (added, grown, or moved to another approach)."""
    return change.kind in ("added", "changed", "extended") or (change.kind == "resized" and change.after > change.before)


def _good_news_owners(finding: Finding, before: Analysis, changes: list[Change]) -> list[Change]:
    """The changes a good-news finding of today is lost through: those that weaken (a drop, a cut, a change of
    approach) a service it is about or that its facts name (a mitigator holding a harm in check); else every
    change that weakens."""
    weak = [c for c in changes if not _strengthens(c)]
    facts = {f"{f.type}:{f.key}": f for f in before.facts.facts}
    named = set(finding.subjects)
    for evidence in finding.evidence:
        fact = facts.get(evidence.fact)
        if fact is not None:
            named |= {word for value in fact.fields.values() if isinstance(value, str) for word in value.split()}
    return [c for c in weak if c.service.id in named] or weak


def _of_service(changes: list[Change], finding: Finding) -> list[Change]:
    """Which of the changes to one service a finding it no longer has goes to: with both a change of approach
    and a resize, the change of approach when the finding tests something an approach moves, else the resize."""
    kinds = {c.kind for c in changes}
    if not {"changed", "resized"} <= kinds:
        return changes
    moved = any((e.fact.split(":", 1)[0], e.field) in APPROACH_MOVES for e in finding.evidence)
    return [c for c in changes if c.kind == ("changed" if moved else "resized")]


SHARE_PARTS = {  # the mix fact's share fields, and which services each counts (measures.py defines each)
    "share_short": lambda s, h: s.term == "short", "share_medium": lambda s, h: s.term == "medium",
    "share_long": lambda s, h: s.term == "long", "share_quick": is_quick, "control_share": lambda s, h: imposes(s),
    "share_lasting": lambda s, h: builds_lasting(s),
}


def _movers(finding: Finding, before: Analysis, after: Analysis, changes: list[Change]) -> list[Change]:
    """The changes that, each applied alone to today's mix, move a share the finding tests the way the whole
    recommendation moves it (adherence: the changes that add adherence); every change when it tests neither.
    Effort sums per share are updated per change, not recomputed."""
    fields = {e.field for e in finding.evidence} | {  # a target profile fact measures its term's share
        f"share_{e.fact.split(':', 1)[1]}" for e in finding.evidence if e.fact.startswith("profile:")}
    horizons = before.kb.horizons
    today = {s.id: s for s in before.kb.services.values() if s.active}
    now_active = [s for s in after.kb.services.values() if s.active]

    def sums(services) -> tuple[dict[str, float], float]:
        return ({f: sum(s.effort for s in services if part(s, horizons)) for f, part in SHARE_PARTS.items()},
                sum(s.effort for s in services))

    def share(part: float, whole: float) -> float:
        return part / whole if whole else 0.0

    (was, total), (now, now_total) = sums(today.values()), sums(now_active)
    tested = [f for f in SHARE_PARTS if f in fields and abs(share(now[f], now_total) - share(was[f], total)) > 1e-9]
    movers = [c for c in changes if "adherence" in fields and c.goals]
    for change in changes:
        if change in movers or not tested:
            continue
        out = today.get(change.service.id)
        into = None if change.kind == "removed" else change.service
        if change.kind == "changed" and out is not None:  # the new approach alone, at today's effort
            into = replace(out, approach=change.after)
        elif change.kind == "resized" and out is not None:  # the new effort alone, in today's approach
            into = replace(out, effort=change.after)
        for f in tested:
            part = SHARE_PARTS[f]
            moved_part = was[f] - (out.effort if out and part(out, horizons) else 0.0) + (
                into.effort if into and part(into, horizons) else 0.0)
            moved_total = total - (out.effort if out else 0.0) + (into.effort if into else 0.0)
            direction = share(now[f], now_total) - share(was[f], total)
            if (share(moved_part, moved_total) - share(was[f], total)) * direction > 1e-12:
                movers.append(change)
                break
    return movers if tested or movers else list(changes)


def _gains(before: Analysis, after: Analysis, problem: Problem, changes: list[Change]) -> None:
    """The adherence each change adds to each goal: the goal's adherence after, less the same with only that
    change undone (its delivery removed, restored or at today's value), from measures.target_adherence. Only
    the targets a change's service delivers (today or after) are looked at."""
    redundancy = problem.conventions.redundancy
    today = {(g, c.target): {d.service: d.value for d in c.in_time} for g, cs in before.facts.covers.items() for c in cs}
    touching: dict[str, set[tuple[str, int]]] = {}  # service -> (goal, index of the target in the goal's covers)
    for covers in (before.facts.covers, after.facts.covers):
        for goal, targets in covers.items():
            for number, cover in enumerate(targets):
                for delivery in cover.in_time:
                    touching.setdefault(delivery.service, set()).add((goal, number))
    values: dict[tuple[str, int], tuple[dict[str, float], float]] = {}  # each target after: deliveries, adherence
    for change in changes:
        if change.kind == "changed":
            continue
        sid = change.service.id
        lost: dict[str, float] = {}
        for goal, number in sorted(touching.get(sid, ())):
            covers = after.facts.covers[goal]
            cover = covers[number]
            if (goal, number) not in values:
                delivered = {d.service: d.value for d in cover.in_time}
                values[goal, number] = delivered, target_adherence(delivered.values(), redundancy)
            delivered, adherence = values[goal, number]
            undone = dict(delivered)
            old = today.get((goal, cover.target), {})
            if change.kind == "added":
                undone.pop(sid, None)
            elif sid in old:
                undone[sid] = old[sid]
            if undone != delivered:
                lost[goal] = lost.get(goal, 0.0) + (adherence - target_adherence(undone.values(), redundancy)) / len(covers)
        change.goals = tuple((goal, gain) for goal, gain in sorted(lost.items()) if gain > 5e-5)
        change.goal_losses = tuple((goal, -gain) for goal, gain in sorted(lost.items()) if gain < -5e-5)


def _losses(before: Analysis, after: Analysis, changes: list[Change], approach_change: float) -> None:
    """What each drop, cut and change of approach gives up (Loss), from the same before/after pair; a change of
    approach gives its own effect on the probability (a resize beside it gives the two together)."""
    served = {c for s in after.kb.services.values() if s.active for c in s.clients}
    covered_after = {(goal, c.target) for goal, cs in after.facts.covers.items() for c in cs if c.in_time}
    delivered: dict[str, set[tuple[str, str]]] = {}  # service -> (goal, target) it delivers in time today
    for goal, covers in before.facts.covers.items():
        for cover in covers:
            for delivery in cover.in_time:
                delivered.setdefault(delivery.service, set()).add((goal, cover.target))
    for change in changes:
        cut = change.kind == "resized" and change.after < change.before
        if change.kind not in ("removed", "changed") and not cut:
            continue
        sid, today = change.service.id, before.kb.services[change.service.id]
        uncovered = tuple(sorted(delivered.get(sid, set()) - covered_after))
        probability = (today.probability, None if change.kind == "removed" else
                       approached_probability(today.probability, approach_change) if change.kind == "changed" else
                       change.service.probability)
        change.losses = Loss(
            clients=tuple(today.clients) if change.kind != "resized" else (),
            unserved=tuple(c for c in today.clients if c not in served) if change.kind == "removed" else (),
            goals=tuple((g, loss) for g, loss in change.goal_losses if loss >= 5e-4),  # a tenth of a point
            uncovered=uncovered, probability=probability,
            running_months=today.running_months if today.active else 0.0)


# ------------------------------------------------------------------ the recommendation


def _new(before: Analysis, found: list[Headline], good_news: frozenset[str] = frozenset()) -> list[Headline]:
    """Warnings and errors found on a mix that today's mix does not have (good news is never a problem)."""
    today = {_key(f) for f in before.findings}
    return [f for f in found if f.level in ("error", "warning") and _key(f) not in today and f.rule not in good_news]


def _stepped_down(before: Analysis, after: Analysis, finding: Headline) -> str:
    """The more severe findings of today about the same subjects that the mix resolves, in words: a new
    warning that takes an error's place (a goal now covered, but not yet likely enough) is a step forward."""
    gone = {_key(f) for f in before.findings} - {_key(f) for f in after.findings}
    rank = LEVEL_ORDER[finding.level]
    worse = [f for f in before.findings
             if _key(f) in gone and LEVEL_ORDER[f.level] < rank and f.subjects == finding.subjects]
    return " and ".join(f"{f.rule} ({f.level})" for f in worse)


def _eased(before: Analysis, problem: Problem, unattainable: list[Unattainable], found: list[Headline] | list[Finding],
           finding: Headline) -> str:
    """Today's findings that ``finding`` is a milder form of, in words: about the same subjects, of the same
    family and graver (a higher level, or the same level and a higher ``family_rank``), and gone from the mix.
    The problem is still there but lighter, as ``pmorules diff`` calls it eased: not a new one for the
    optimiser to cut (a goal no longer "cannot be met by its date" but "not covered in time" took eight rounds
    of cuts, and was then called unavoidable for want of rounds). Never an error some mix avoids: that one
    makes the mix infeasible, whatever it replaces."""
    rules = before.rulebook.rules
    own = rules.get(finding.rule)
    if own is None or not own.spec.family or avoidable_error(problem, unattainable, finding):
        return ""
    kept = {_key(f) for f in found}
    gravity = (-LEVEL_ORDER[finding.level], own.spec.family_rank)
    graver = [f for f in before.findings
              if f.subjects == finding.subjects and _key(f) not in kept and (rule := rules.get(f.rule)) is not None
              and rule.spec.family == own.spec.family and (-LEVEL_ORDER[f.level], rule.spec.family_rank) > gravity]
    return " and ".join(f"{f.rule} ({f.level})" for f in graver)


def _counted(finding: Headline, broken: list[Soft]) -> bool:
    """Whether the model counted this finding: it broke that rule's condition on the finding's subjects."""
    return any(s.rule == finding.rule and set(s.ids) <= set(finding.subjects) for s in broken)


def _forbid_states(analysis: Analysis, after: list[Fact], problem: Problem, program: Program, finding: Headline) -> bool:
    """Cut the sizes and approaches of the services a new finding is about that the rule would flag as things
    stand in this mix: the engine runs the rule on each service's fact of the mix (``after``), at each of its
    sizes and approaches. False when the finding is about no candidate's own fact (cut otherwise)."""
    rule = analysis.rulebook.rules[finding.rule]
    facts = {f.key: f for f in after if f.type == "service"}
    owners, probes = [], []
    for cid in finding.subjects:
        candidate = problem.candidates.get(cid)
        if candidate is None or cid not in facts or "service" not in {p.fact for p in rule.spec.match or []}:
            continue
        for index, approach in candidate.pairs:
            size = candidate.sizes[index]
            fields = {"status": "active", "probability": size.service.probability, "effort": size.service.effort}
            probes.append(variant(facts[cid], **fields, **({"approach": approach} if approach else {})))
            owners.append((cid, index, approach))
    hits = flagged(analysis.compiled, rule, probes, after)
    for (cid, index, approach), hit in zip(owners, hits):
        if hit:
            program.row({program.size(cid, index): 1.0, program.approach(cid, approach): 1.0}
                        if program.size(cid, index) != program.approach(cid, approach) else {program.x[cid]: 1.0},
                        -math.inf, 1.0 if program.size(cid, index) != program.approach(cid, approach) else 0.0, None)
    return any(hits)


def _moved(kb: KnowledgeBase, solution: Solution, problem: Problem, finding: Headline) -> set[str] | None:
    """Where to cut: the services a finding is about whose place in the mix changed, else the changed services
    next to them (a dependency either way, or a harm), else None (cut the whole mix)."""
    def changed(cid: str) -> bool:
        candidate = problem.candidates.get(cid)
        if candidate is None:
            return False
        old = kb.services.get(cid)
        state = solution.chosen.get(cid)
        return old is None or not old.active or state is None or state != (0, candidate.approaches[0])

    moved = {s for s in finding.subjects if changed(s)}
    if moved:
        return moved
    subjects = set(finding.subjects)
    near = set()
    for cid, candidate in problem.candidates.items():
        links = {d.target for d in candidate.service.depends_on} | {h.target for h in candidate.service.harms}
        if cid in subjects:
            near |= links
        elif links & subjects:
            near.add(cid)
    moved = {cid for cid in near if changed(cid)}
    return moved | (subjects & set(problem.candidates)) if moved else None


def _why_unavoidable(program: Program, problem: Problem, solution: Solution, rule: str) -> str:
    """Why no mix avoids the new findings of a rule that the model counted: one solve with them forbidden."""
    mine = [s for s in solution.broken if s.rule == rule and s.new]
    other = solve(program, problem, fixed={s.var: 0.0 for s in mine})
    if other is None:
        return "every mix that meets the hard conditions (capacity, protected services, error-level rules) has it"
    instead = sorted({f"{s.rule} ({s.level})" for s in other.broken if s.new} - {f"{rule} ({mine[0].level})"})
    worse = f", and would raise {', '.join(instead)} instead" if instead else ""
    return (f"the best mix without it is worse ({other.objective:.3f} against {solution.objective:.3f}: it gives up "
            f"more adherence or changes more{worse})")


def _raise_capacity(program: Program, problem: Problem, conflict: Conflict, organisation: float) -> bool:
    """When nobody set the capacity and today's effort cannot keep the core and meet the error-level rules,
    the capacity becomes the least effort that can, if the organisation's capacity has room for it."""
    needed = conflict.min_capacity
    if problem.capacity_given or problem.capacity_note or needed is None or needed > organisation or needed <= problem.capacity:
        return False
    options = any(not c.assessed for c in problem.candidates.values())
    problem.capacity_note = (f"today's effort ({problem.units.text(problem.capacity)}) cannot keep every core service "
                             "and meet the error-level rules" + (" without cutting a running service to fund an option "
                                                                 "to assess" if options else "") +
                             f"; {problem.units.text(needed)} is the least effort that can")
    for row in program.rows:
        if row.group == CAPACITY:
            row.hi += needed - problem.capacity
    problem.capacity = needed
    return True


def _make_room(analysis: Analysis, program: Program, problem: Problem, conflict: Conflict) -> Program | None:
    """When keeping every core service leaves no feasible mix and more capacity would not help, keep as many
    as the error-level conditions allow: the fewest drops first (a solve that minimises them), then the best
    mix with that many (a new program)."""
    if problem.core_keep is not None or not any(CORE in fix for fix in conflict.fixes) or [CAPACITY] in conflict.fixes:
        return None  # a core service never goes to fit the capacity: the conflict says what it needs
    core = [program.x[cid] for cid, c in problem.candidates.items() if c.core and cid not in problem.core_exempt]
    fewest = solve(program, problem, frozenset([CORE]), cost={var: -1.0 for var in core})
    if fewest is None:
        return None
    problem.core_keep = sum(1 for var in core if any(program.x[c] == var for c in fewest.chosen))
    others = [" and ".join(fix) for fix in conflict.fixes if CORE not in fix]
    problem.core_note = "the capacity and the error-level conditions leave no room for every core service" + (
        f" (relaxing {' or '.join(others)} would)" if others else "")
    return build_program(problem)


def recommend(analysis: Analysis, capacity: float | None = None, scenarios: list[Scenario] | None = None,
              like: Problem | None = None, asked: Location | None = None) -> MixResult:
    """The best mix under the conditions the rules imply, verified by the full rulebook, beside the what-if
    scenarios (default: those of the workspace's scenarios/ folder), each run through the rulebook once.
    ``like``: today's problem, when ``analysis`` is a what-if on it (its capacity is today's); ``asked``: where
    that what-if was asked, blamed for numbers the solver cannot hold (else the workspace's [mix])."""
    with gc_paused():  # probes, programs and re-analyses allocate a great deal
        problem = build_problem(analysis, capacity, like)
        try:
            result = recommend_program(analysis, problem, build_program(problem))
        except ProgramRefused as refused:
            hint = ("look for an extreme value among the what-if's efforts" if asked is not None
                    else "look for an extreme value among the efforts, the capacity and [mix]")
            raise InputError([Diagnostic(asked or analysis.config.where("mix"), f"the mix cannot be worked out: {refused}",
                                         hint)]) from None
        if scenarios is None:
            scenarios = load_scenarios(analysis.kb.workspace)
        if scenarios:
            open_services = additions(analysis)
            result.scenarios = [evaluate_scenario(analysis, problem, result.unattainable, s, open_services)
                                for s in scenarios]
    return result


def _no_cuts_for_infos(program: Program, problem: Problem) -> None:
    """A running service is never cut or dropped to avoid info-level findings only: the best mix with every
    info finding free keeps some running services whole, and so must the recommendation."""
    free = [v for s in program.soft if s.level == "info" for v in (s.var, s.miss) if v is not None]
    if not free or program.settled:
        return
    program.settled = True
    saved = {v: program.cost[v] for v in free}
    for v in free:
        program.cost[v] = 0.0
    try:
        first = solve(program, problem)
    finally:
        for v, cost in saved.items():
            program.cost[v] = cost
    if first is None:
        return
    problem.info_free = dict(first.chosen)
    program.start = first.values  # the rows below keep what it keeps whole: the verified solves start from it
    for cid in sorted(problem.today & set(problem.candidates)):
        candidate, state = problem.candidates[cid], first.chosen.get(cid)
        if state is None or candidate.sizes[state[0]].step < 0:
            continue  # cut or dropped for more than info findings
        program.row({program.x[cid]: 1.0}, 1.0, math.inf, None)
        cuts = {program.size(cid, i): 1.0 for i, size in enumerate(candidate.sizes) if size.step < 0}
        if cuts:
            program.row(cuts, 0.0, 0.0, None)


def recommend_program(analysis: Analysis, problem: Problem, program: Program) -> MixResult:
    """The verified optimum of a built program."""
    _no_cuts_for_infos(program, problem)
    # each mix tried: its solution, knowledge, facts and matches, and the new findings (texts only for the one kept)
    # and how many of those the model did not count (the mix kept is the one with the fewest)
    tried: list[tuple[Solution, KnowledgeBase, tuple[FactBase, list[Match]], list[Headline], int]] = []
    exhausted = False  # the cuts left no mix: the findings the rulebook raised on every mix tried are unavoidable
    for _ in range(problem.settings.verify_rounds + 1):
        solution = solve(program, problem)
        if solution is None:
            exhausted = bool(tried)
            break
        kb = mix_kb(analysis.kb, problem, solution)
        matched = rematch(analysis, kb)
        found = headlines_of(matched[1])
        new = _new(analysis, found, problem.good_news)
        uncounted = [f for f in new if not _counted(f, solution.broken)
                     and not _eased(analysis, problem, program.unattainable, found, f)]
        tried.append((solution, kb, matched, new, len(uncounted)))
        if not uncounted:
            break
        for finding in uncounted:
            if not _forbid_states(analysis, matched[0].facts, problem, program, finding):
                no_good(program, problem, solution, _moved(analysis.kb, solution, problem, finding))
    if not tried:
        conflict = explain_infeasible(program, problem)
        if _raise_capacity(program, problem, conflict, analysis.kb.organisation.capacity):
            return recommend_program(analysis, problem, program)
        roomier = _make_room(analysis, program, problem, conflict)
        core = sorted(cid for cid in problem.candidates if problem.protected(cid))
        if roomier is None and problem.core_effort() > problem.capacity + 1e-9:
            conflict.note = (f"The services the mix must keep whole ({', '.join(core)}) alone need "
                             f"{problem.core_effort():g} of effort, more than the capacity {problem.capacity:g}: "
                             "which of them to give up is for the PMO lead and the goals' owners, not the optimiser.")
        if roomier is None:
            return MixResult("infeasible", analysis, analysis, problem, None, [], program.unattainable, conflict)
        return recommend_program(analysis, problem, roomier)
    solution, kb, matched, new, _ = min(tried, key=lambda t: (t[4], len(t[3]), -t[0].objective))
    after = reanalyze(analysis, kb, matched)
    unavoidable, reasons = [], {}
    kept = {_key(f) for f in after.findings}
    resolved_errors = ", ".join(dict.fromkeys(f"{f.rule} (error)" for f in analysis.findings
                                              if f.level == "error" and _key(f) not in kept))
    for finding in new:
        eased = _eased(analysis, problem, program.unattainable, after.findings, finding)
        if _counted(finding, solution.broken):
            if finding.rule not in reasons:
                reasons[finding.rule] = _why_unavoidable(program, problem, solution, finding.rule)
            reason = reasons[finding.rule]
        elif eased:
            unavoidable.append(Unavoidable(finding.rule, finding.level, tuple(finding.subjects),
                                           f"it takes the place of {eased}, which the mix resolves: the same "
                                           "problem, milder"))
            continue
        elif exhausted:
            reason = (f"the full rulebook raised it on each of the {len(tried)} best mixes, and cutting off every "
                      f"way of running the services it is about that raises it leaves no mix the hard conditions allow")
        else:
            reason = (f"the full rulebook raised it on each of the {len(tried)} best mixes tried; "
                      f"raise [mix] verify_rounds to look further")
        stepped = _stepped_down(analysis, after, finding)
        if stepped:
            reason = f"it takes the place of {stepped}, which the mix resolves; {reason}"
        elif reason.startswith("every mix") and resolved_errors:
            reason += f"; today's mix avoids it only by keeping its errors ({resolved_errors}), which the mix resolves"
        unavoidable.append(Unavoidable(finding.rule, finding.level, tuple(finding.subjects), reason))
    changes = _changes(analysis.kb, after.kb, problem)
    _explain(analysis, after, problem, changes)
    return MixResult("optimal", analysis, after, problem, solution, changes, program.unattainable, None,
                     unavoidable, len(tried))


