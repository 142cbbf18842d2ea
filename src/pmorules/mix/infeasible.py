"""Why no mix meets every constraint: relax each constraint group (then each pair) and re-solve.

A group is the capacity, the protection of the core or of the services marked keep, or the hard
condition of one error-level rule. The answer names the relaxations that make
the problem feasible, and for the capacity the least effort a feasible mix needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

from .milp import Program, solve
from .problem import CAPACITY, CORE, KEEP, Problem


@dataclass
class Conflict:
    fixes: list[list[str]]  # each a set of groups whose relaxation makes the problem feasible
    groups: list[str]  # every group that was tried
    min_capacity: float | None  # the least effort of a mix meeting every rule's constraint
    texts: dict[str, str]  # group -> what it requires
    note: str = ""  # the protected services alone exceed the capacity

    def text(self) -> str:
        return " ".join(filter(None, [self.note, self._text()]))

    def _text(self) -> str:
        if not self.fixes:
            return (
                "No mix meets every constraint, and relaxing any one or two of them does not help: "
                + "; ".join(f"{g}: {self.texts[g]}" for g in self.groups) + "."
            )
        how = "Relaxing any one" if len(self.fixes[0]) == 1 else "Relaxing two at once, any of these pairs"
        options = [" and ".join(self._relax(g) for g in fix) for fix in self.fixes]
        return f"No mix meets every constraint at once. {how} makes it feasible: " + "; or ".join(options) + "."

    def _relax(self, group: str) -> str:
        if group == CAPACITY:
            needed = f" to at least {self.min_capacity:g}" if self.min_capacity is not None else ""
            return f"raise the capacity ({self.texts[group]}){needed}"
        if group in (CORE, KEEP):
            return f"give up {self.texts[group]}"
        return f"drop {group} ({self.texts[group]})"

    def to_json(self) -> dict[str, Any]:
        return {"fixes": self.fixes, "groups": self.groups, "min_capacity": self.min_capacity, "text": self.text()}


def _feasible(program: Program, problem: Problem, omit: frozenset[str]) -> bool:
    return solve(program, problem, omit, cost={}) is not None


def _needed(problem: Problem, chosen: dict[str, tuple[int, str | None]]) -> float:
    """The capacity a mix needs: its effort, and with an option to assess, its effort with no running service
    counted below today's (options are never funded by cuts)."""
    effort = sum(problem.candidates[c].sizes[size].service.effort for c, (size, _) in chosen.items())
    if all(problem.candidates[c].assessed for c in chosen):
        return effort
    today = {c: problem.candidates[c].sizes[0].service.effort for c in problem.today if c in problem.candidates}
    return sum(today.values()) + sum(
        max(0.0, problem.candidates[c].sizes[size].service.effort - today.get(c, 0.0)) for c, (size, _) in chosen.items())


def explain_infeasible(program: Program, problem: Problem) -> Conflict:
    groups = problem.groups()
    fixes = [[g] for g in groups if _feasible(program, problem, frozenset([g]))]
    if not fixes:
        fixes = [list(pair) for pair in combinations(groups, 2) if _feasible(program, problem, frozenset(pair))]
    min_capacity = None
    if any(CAPACITY in fix for fix in fixes):
        cheapest = solve(program, problem, frozenset([CAPACITY]), cost=program.floor or program.effort)
        if cheapest is not None:
            min_capacity = round(_needed(problem, cheapest.chosen), 6)
    core = sorted(c for c, candidate in problem.candidates.items() if candidate.core)
    locked = sorted(c for c, candidate in problem.candidates.items() if candidate.locked)
    texts = {CAPACITY: f"total effort ≤ {problem.capacity:g}",
             CORE: "keeping every core service (" + ", ".join(core) + ")",
             KEEP: "keeping every service marked keep (" + ", ".join(locked) + ")"}
    for constraint in problem.constraints:
        if not (constraint.hard and constraint.applies):
            continue
        texts[constraint.rule] = "; ".join(filter(None, [texts.get(constraint.rule), constraint.text()]))
    return Conflict(fixes, groups, min_capacity, texts)
