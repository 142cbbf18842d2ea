"""The mixed-integer linear program of a Problem, solved to proven optimality by HiGHS.

HiGHS is called through highspy, the same solver ``scipy.optimize.milp`` wraps: importing
scipy.optimize alone takes about 0.3 s, a fifth of the example report's time budget.

Variables: x_c (the candidate is in the mix), z_c,i (at size i) and y_c,a (in approach a) where it has a
choice, one adherence a_t per goal target, and per soft condition a binary that is 1 when the mix breaks it.
Every row belongs to a group: the capacity, the protections, the rule whose ``implies`` block it comes from,
or none (the structure of the model, never relaxed). Explanations re-solve with groups left out.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import chain

import highspy
import networkx as nx
import numpy as np

from ..measures import builds_lasting, imposes, is_quick
from .problem import (
    CAPACITY,
    CORE,
    KEEP,
    Candidate,
    Constraint,
    Problem,
    Target,
    split_vid,
)

STRICT_MARGIN = 1e-6  # a strict share bound holds with this margin, so the rounded fact is past it too
FLOOR = 1e-9  # 1 − v for a sure delivery (v = 1), so that its logarithm is finite
TANGENTS = (1.0, 0.7, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05, 0.02, 0.005)  # Π(1 − v) of the first tangents
EXACT = 1e-7  # the noisy-OR estimate of the optimum must be this close to the truth (the solver's tolerance)

Expr = dict[int, float]


class ProgramRefused(ValueError):
    """HiGHS would not take the program: input numbers so far apart that no check of the inputs caught them."""


@dataclass
class Row:
    coefs: Expr
    lo: float
    hi: float
    group: str | None

    @cached_property
    def entries(self) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """The variables and coefficients of the row's nonzero terms, taken once: a program is solved several
        times (with info findings free, then each verification round), and only ever gains rows and bounds."""
        terms = [(var, coef) for var, coef in self.coefs.items() if coef]
        return tuple(var for var, _ in terms), tuple(coef for _, coef in terms)


@dataclass
class Unattainable:
    """A condition no candidate can meet (a goal target nobody delivers in time, a client no quick service
    serves): no mix fixes it, so it constrains nothing."""

    rule: str
    goal: str | None
    target: str
    due_months: float | None
    bound: float | None


@dataclass(frozen=True)
class Soft:
    """A condition of a warning or info rule: its binary is 1 when the mix breaks it (a finding)."""

    var: int
    rule: str
    level: str
    ids: tuple[str, ...]  # what the finding would be about
    new: bool  # today's mix has no such finding
    cost: float
    miss: int | None = None  # the variable of how far the mix misses the bound (its cost follows the level's)


@dataclass
class Program:
    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    constant: float = 0.0  # added to the minimised cost: the change cost of today's mix
    x: dict[str, int] = field(default_factory=dict)  # candidate -> chosen
    z: dict[tuple[str, int], int] = field(default_factory=dict)  # (candidate, size) -> at that size
    y: dict[tuple[str, str | None], int] = field(default_factory=dict)  # (candidate, approach) -> runs in it
    a: dict[tuple[str, str, float], int] = field(default_factory=dict)  # target -> its adherence
    effort: Expr = field(default_factory=dict)
    floor: Expr = field(default_factory=dict)  # with an option: effort beyond today's running services (options())
    unattainable: list[Unattainable] = field(default_factory=list)
    soft: list[Soft] = field(default_factory=list)
    nor: dict[tuple[str, str, float], tuple[int, Expr]] = field(default_factory=dict)  # target -> (n, L's terms)
    depth: dict[tuple[str, str, float], int] = field(default_factory=dict)  # target -> −L, the variable
    tangents: set[tuple[tuple[str, str, float], float]] = field(default_factory=set)  # (target, L) already cut
    settled: bool = False  # the running services the best mix with info findings free keeps whole are held
    start: list[float] | None = None  # a mix every row allows (the info-free optimum, once held): solves start there

    def var(self, cost: float = 0.0, upper: float = 1.0, integer: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, coefs: Expr, lo: float, hi: float, group: str | None) -> None:
        self.rows.append(Row(coefs, lo, hi, group))

    def size(self, cid: str, index: int) -> int:
        """The binary of a candidate at a size (x itself when it has one size)."""
        return self.z.get((cid, index), self.x[cid])

    def approach(self, cid: str, approach: str | None) -> int:
        return self.y.get((cid, approach), self.x[cid])


@dataclass
class Solution:
    chosen: dict[str, tuple[int, str | None]]  # candidate -> (size index, approach)
    objective: float  # weighted adherence minus change costs and finding costs
    adherence: float  # the overall adherence the model computes
    broken: list[Soft]  # the soft conditions the mix breaks
    values: list[float] = field(default_factory=list, repr=False)  # every variable's value, to start a next solve from


def _add(expr: Expr, var: int, coef: float) -> None:
    expr[var] = expr.get(var, 0.0) + coef


class _Builder:
    def __init__(self, problem: Problem):
        self.p = problem
        self.prog = Program()

    @cached_property
    def forced(self) -> frozenset[str]:
        """The candidates every mix holds, taken once per program (the problem does not change while it is built)."""
        return frozenset(cid for cid in self.p.candidates if self.p.forced(cid))

    # --- soft or hard ---------------------------------------------------------------------------

    def holds(self, constraint: Constraint, ids: tuple[str, ...], expr: Expr, lo: float, hi: float,
              depth: float = 0.0, assumed: bool = False) -> None:
        """``lo ≤ expr ≤ hi``: a row of the rule's group when it is an error, else a cost when broken.

        With ``depth`` (the value of one unit of expr in "how far the mix misses", e.g. 1/capacity for an
        effort), a broken condition also costs the miss_cost times the distance it misses by. An error only
        options to assess can meet (``assumed``) is a cost too: no mix is refused for lack of an assumption.
        """
        prog = self.prog
        if constraint.hard and not assumed:
            prog.row(expr, lo, hi, constraint.rule)
            return
        new = self.p.is_new(constraint.rule, constraint.level, ids)
        cost = self.p.level_cost(constraint.level) * (self.p.settings.new_finding_factor if new else 1.0)
        broken = prog.var(cost=cost)
        span = sum(abs(c) for c in expr.values()) + abs(lo if math.isfinite(lo) else 0) + abs(hi if math.isfinite(hi) else 0) + 1
        miss = None
        if depth:
            miss = prog.var(cost=cost * self.p.settings.miss_cost * depth, upper=span, integer=False)
            prog.row({miss: 1.0, broken: -span}, -math.inf, 0.0, None)
        prog.soft.append(Soft(broken, constraint.rule, constraint.level, ids, new, cost, miss))
        if math.isfinite(hi):
            prog.row({**expr, **({miss: -1.0} if depth else {broken: -span})}, -math.inf, hi, None)
        if math.isfinite(lo):
            prog.row({**expr, **({miss: 1.0} if depth else {broken: span})}, lo, math.inf, None)

    # --- the choice of each candidate -----------------------------------------------------------

    def choices(self) -> None:
        prog, settings = self.prog, self.p.settings
        for cid, candidate in self.p.candidates.items():
            today = cid in self.p.today
            drop = self.p.drop_cost(cid) if today else settings.change_cost
            if not candidate.assessed:
                drop += settings.unassessed_cost
            prog.x[cid] = prog.var(cost=-drop if today else drop)
            prog.constant += drop if today else 0.0
            if len(candidate.sizes) > 1:
                choice = {prog.x[cid]: -1.0}
                for index, size in enumerate(candidate.sizes):
                    prog.z[(cid, index)] = prog.var(cost=settings.resize_cost * abs(size.step))
                    choice[prog.z[(cid, index)]] = 1.0
                prog.row(choice, 0.0, 0.0, None)
            for index, size in enumerate(candidate.sizes):
                _add(prog.effort, prog.size(cid, index), size.service.effort)
            if len(candidate.approaches) > 1:
                choice = {prog.x[cid]: -1.0}
                for index, approach in enumerate(candidate.approaches):
                    prog.y[(cid, approach)] = prog.var(cost=settings.approach_change_cost if index else 0.0)
                    choice[prog.y[(cid, approach)]] = 1.0
                prog.row(choice, 0.0, 0.0, None)
                for number, approach in enumerate(candidate.approaches):  # sizes tied to an approach run in it
                    tied = {prog.z[(cid, i)]: -1.0 for i, size in enumerate(candidate.sizes) if size.approach == number}
                    if tied:
                        prog.row({prog.y[(cid, approach)]: 1.0, **tied}, 0.0, 0.0, None)
        prog.row({v: 1.0 for v in prog.x.values()}, 1.0, math.inf, None)  # a PMO with no service is no mix
        prog.row(dict(prog.effort), -math.inf, self.p.capacity, CAPACITY)

    def protections(self) -> None:
        """Services marked keep stay; core services stay unless the hard conditions force them out (all of them
        but the exempt ones, or, once the problem says how many the hard conditions leave room for, that many).
        Neither is cut below its effort today."""
        prog, problem = self.prog, self.p
        core = []
        for cid, candidate in problem.candidates.items():
            cuts = {prog.size(cid, i): 1.0 for i, size in enumerate(candidate.sizes) if size.step < 0}
            if cuts and problem.protected(cid):  # never cut: a protected service keeps at least today's effort
                prog.row(cuts, 0.0, 0.0, KEEP if candidate.locked else CORE)
            if candidate.locked:
                prog.row({prog.x[cid]: 1.0}, 1.0, math.inf, KEEP)
            elif candidate.core and cid not in problem.core_exempt:
                core.append(cid)
                if problem.core_keep is None and problem.paired(cid) is None:
                    prog.row({prog.x[cid]: 1.0}, 1.0, math.inf, CORE)
        if problem.core_keep is not None:
            prog.row({prog.x[cid]: 1.0 for cid in core}, float(problem.core_keep), math.inf, CORE)
        else:
            for members, keep, _ in problem.core_groups:
                prog.row({prog.x[cid]: 1.0 for cid in members}, float(keep), math.inf, CORE)

    def options(self) -> None:
        """Options to assess are never funded by cutting or dropping a running service: when the mix holds one,
        it fits the capacity with every running service counted at no less than its effort today."""
        prog, problem = self.prog, self.p
        unassessed = [cid for cid, c in problem.candidates.items() if not c.assessed]
        if not unassessed:
            return
        floor: Expr = {}
        constant = 0.0
        for cid, candidate in problem.candidates.items():
            today = candidate.sizes[0].service.effort if cid in problem.today else 0.0
            constant += today
            for index, size in enumerate(candidate.sizes):
                if size.service.effort > today:
                    _add(floor, prog.size(cid, index), size.service.effort - today)
        some = prog.var()  # 1 when the mix holds an option to assess
        for cid in unassessed:
            prog.row({some: 1.0, prog.x[cid]: -1.0}, 0.0, math.inf, None)
        big = constant + sum(floor.values())
        prog.row({**floor, some: big}, -math.inf, problem.capacity - constant + big, CAPACITY)
        prog.floor = floor

    # --- adherence --------------------------------------------------------------------------------

    def coverage(self, key: tuple[str, str, float], target: Target, weight: float) -> None:
        """a_t exactly as measures.target_adherence defines it over the chosen sizes delivering in time:
        (1 − λ)·max v + λ·(1 − Π(1 − v)), with continuous variables only.

        The max is a staircase: with the distinct values sorted v_1 > v_2 > …, max = Σ_i (v_i − v_{i+1})·h_i where
        h_i ≤ 1 and h_i ≤ h_{i−1} + Σ z over the deliveries of value v_i, so h_i is 1 exactly when one of value v_i
        or more is chosen.
        The noisy-OR is 1 − e^L with L = Σ z_k·ln(1 − v_k) (a variable, −L ≥ 0), concave in L: n ≤ each tangent
        of it. Tangents
        only over-estimate, so ``solve`` adds the tangent at the optimum's L until the estimate is exact there;
        then no mix can be better (its true value is below its estimate, below the optimum's).
        """
        prog, lam = self.prog, self.p.conventions.redundancy
        in_time = target.in_time
        if not in_time:
            return
        a = prog.a[key] = prog.var(cost=-weight, integer=False)
        define: Expr = {a: 1.0}
        floor, sure = self.floors(in_time)
        rhs = (1 - lam) * floor
        if lam < 1:
            # one step per distinct value (deliveries come best first): equal values make a step of 0, and
            # h ≤ h_prev + z_1 + … + z_k is what a chain of k such steps allows, with a k-th of the rows
            values = sorted({d.value for d in in_time if d.value > floor}, reverse=True)
            chosen: dict[float, Expr] = {}
            for d in in_time:
                if d.value > floor:
                    _add(chosen.setdefault(d.value, {}), prog.size(*split_vid(d.service)), -1.0)
            previous: int | None = None
            for i, value in enumerate(values):
                h = prog.var(integer=False)
                coefs = {h: 1.0, **chosen[value]}
                if previous is not None:
                    coefs[previous] = -1.0
                prog.row(coefs, -math.inf, 0.0, None)
                _add(define, h, -(1 - lam) * (value - (values[i + 1] if i + 1 < len(values) else floor)))
                previous = h
        if lam > 0 and sure <= math.log(FLOOR):
            rhs += lam * 1.0  # the services every mix holds deliver it surely (to within FLOOR)
        elif lam > 0:
            n = prog.var(integer=False)
            define[n] = -lam
            terms: Expr = {}
            for d in in_time:
                _add(terms, prog.size(*split_vid(d.service)), math.log(max(1 - d.value, FLOOR)))
            prog.nor[key] = (n, terms)
            # −L, once per target: each tangent is then a row of two terms, not of every delivery again
            depth = prog.depth[key] = prog.var(upper=-sum(terms.values()), integer=False)
            prog.row({depth: 1.0, **terms}, 0.0, 0.0, None)
            today = sum(math.log(max(1 - d.value, FLOOR)) for d in in_time  # today's mix: the optimum is often near
                        if split_vid(d.service)[0] in self.p.today and split_vid(d.service)[1] == 0)
            for at in sorted({math.log(q) for q in TANGENTS} | {today}):
                tangent(prog, key, at)
        prog.row(define, -math.inf, rhs, None)

    def floors(self, in_time: tuple) -> tuple[float, float]:
        """What the services every mix holds give a target whatever their size: the least best value, and the
        largest L = Σ ln(1 − v) (the noisy-OR is at least 1 − e^L)."""
        worst: dict[str, float] = {}
        counted: dict[str, int] = {}
        forced = self.forced
        for d in in_time:
            cid = split_vid(d.service)[0]
            counted[cid] = counted.get(cid, 0) + 1
            if cid in forced:
                worst[cid] = min(worst.get(cid, 1.0), d.value)
        sure = {cid: v for cid, v in worst.items()  # every size delivers in time
                if counted[cid] == len(self.p.candidates[cid].sizes)}
        floor = max(sure.values(), default=0.0)
        return floor, sum(math.log(max(1 - v, FLOOR)) for v in sure.values())

    def goal_adherence(self, goal: str) -> Expr:
        keys = self.p.goal_targets[goal]
        expr: Expr = {}
        for key in keys:
            if key in self.prog.a:
                _add(expr, self.prog.a[key], 1.0 / len(keys))
        return expr

    # --- the conditions the rules imply ------------------------------------------------------------

    def share(self, constraint: Constraint) -> None:
        """share = S / E with S, E linear: a bound v is S − v·E compared with 0, in thousandths of all the
        candidates' effort, so that the solver's tolerance (1e-6) is far below the strict margin and the
        coefficients stay small."""
        spec, prog = constraint.spec, self.prog
        strict = STRICT_MARGIN if constraint.strict else 0.0
        bound = constraint.bound + strict if spec.kind == "share_min" else constraint.bound - strict
        efforts = [s.service.effort for c in self.p.candidates.values() for s in c.sizes if s.service.effort > 0]
        unit = max(sum(efforts), 1e-9) / 1000
        part = self.share_part(spec.term)
        expr: Expr = {}
        for var, effort in prog.effort.items():
            _add(expr, var, -bound * effort / unit)
        for var, effort in part.items():
            _add(expr, var, effort / unit)
        depth = unit / max(self.p.capacity, unit)
        if spec.kind == "share_max":
            self.holds(constraint, (), expr, -math.inf, 0.0, depth)
        elif not constraint.or_none:
            self.holds(constraint, (), expr, 0.0, math.inf, depth)
        else:  # either no effort in the share (some = 0) or the share reaches the bound
            some = prog.var()
            total = sum(e for e in part.values()) / unit
            prog.row({**{v: e / unit for v, e in part.items()}, some: -total}, -math.inf, 0.0, None)
            big = bound * sum(efforts) / unit
            expr[some] = -big
            self.holds(constraint, (), expr, -big, math.inf, depth)

    share_min = share_max = share

    def share_part(self, term: str) -> Expr:
        """The effort in a share, linear in the choice variables."""
        prog, part = self.prog, {}
        for cid, candidate in self.p.candidates.items():
            base = candidate.service
            if term != "control":
                counted = (is_quick(base, self.p.horizons) if term == "quick" else builds_lasting(base) if term == "lasting"
                           else base.term == term)
                if counted:
                    for index, size in enumerate(candidate.sizes):
                        _add(part, prog.size(cid, index), size.service.effort)
                continue
            controlling = [a for a in candidate.approaches if imposes(replace(base, approach=a))]
            if not controlling:
                continue
            if len(controlling) == len(candidate.approaches):  # it controls whatever its approach
                for index, size in enumerate(candidate.sizes):
                    _add(part, prog.size(cid, index), size.service.effort)
            elif len(candidate.sizes) == 1:
                for approach in controlling:
                    _add(part, prog.approach(cid, approach), base.effort)
            else:  # effort and approach both vary: k = its effort when in a controlling approach
                top = max(s.service.effort for s in candidate.sizes)
                k = prog.var(upper=top, integer=False)
                own = {prog.size(cid, i): -s.service.effort for i, s in enumerate(candidate.sizes)}
                imposing = {prog.approach(cid, a): -top for a in controlling}
                prog.row({k: 1.0, **own}, -math.inf, 0.0, None)
                prog.row({k: 1.0, **imposing}, -math.inf, 0.0, None)
                prog.row({k: 1.0, **own, **imposing}, -top, math.inf, None)
                part[k] = 1.0
        return part

    def cover_in_time(self, constraint: Constraint) -> None:
        prog = self.prog
        for goal, keys in self.p.goal_targets.items():
            for key in keys:
                eligible = constraint.eligible.get((goal, key), frozenset())
                if eligible:
                    expr: Expr = {}
                    for vid in sorted(eligible):
                        _add(expr, prog.size(*split_vid(vid)), 1.0)
                    assumed = not any(self.p.candidates[split_vid(vid)[0]].assessed for vid in eligible)
                    self.holds(constraint, (goal,), expr, 1.0, math.inf, assumed=assumed)
                else:
                    prog.unattainable.append(Unattainable(constraint.rule, goal, key[1], key[2], constraint.bound))

    def min_probability(self, constraint: Constraint) -> None:
        prog = self.prog
        for cid, found in sorted(constraint.services.items()):
            candidate = self.p.candidates[cid]
            if len(found) == len(candidate.pairs):
                self.holds(constraint, (cid,), {prog.x[cid]: 1.0}, -math.inf, 0.0)
                continue
            for index in range(len(candidate.sizes)):
                approaches = [a for a in candidate.approaches if (index, a) in found]
                if len(approaches) == sum(1 for i, _ in candidate.pairs if i == index):
                    self.holds(constraint, (cid,), {prog.size(cid, index): 1.0}, -math.inf, 0.0)
                    continue
                for approach in approaches:
                    self.holds(constraint, (cid,), {prog.size(cid, index): 1.0, prog.approach(cid, approach): 1.0},
                               -math.inf, 1.0)

    def requires_prerequisites(self, constraint: Constraint) -> None:
        prog = self.prog
        for src, dst in constraint.edges:
            expr = {prog.x[src]: 1.0}
            if dst in prog.x:
                _add(expr, prog.x[dst], -1.0)
            self.holds(constraint, (src, dst), expr, -math.inf, 0.0)

    def acyclic(self, constraint: Constraint) -> None:
        """Chosen members of a strongly connected component need a topological potential π:
        π_i ≥ π_d + 1 along every edge i → d whose ends are both chosen (else the row is slack)."""
        prog, graph = self.prog, nx.DiGraph()
        for cid, candidate in self.p.candidates.items():
            for dep in candidate.service.depends_on:
                if dep.kind == constraint.spec.dependency and dep.target in self.p.candidates:
                    graph.add_edge(cid, dep.target)
        for component in nx.strongly_connected_components(graph):
            if len(component) < 2:
                continue
            size = float(len(component))
            potential = {cid: prog.var(upper=size - 1, integer=False) for cid in sorted(component)}
            for src, dst in sorted(graph.subgraph(component).edges):
                expr = {potential[src]: 1.0, potential[dst]: -1.0, prog.x[src]: -size, prog.x[dst]: -size}
                self.holds(constraint, (src,), expr, 1.0 - 2 * size, math.inf)

    def harm(self, constraint: Constraint) -> None:
        """A flagged harm is active when its service runs in an approach it applies in and what it hits is
        there; the rule flags it without a running mitigator, with one, or either way. A harm to a service that
        runs today and no warning or error is about is resolved at its source: dropping the service it hurts
        would make the finding go away by losing what it protects."""
        prog = self.prog
        for edge in self.p.harms:
            fires = constraint.harms.get((edge.src, edge.index))
            if fires is None:
                continue
            candidate = self.p.candidates[edge.src]
            active: Expr = {}
            applying = [a for a in candidate.approaches if edge.applies(a)]
            if not applying:
                continue  # the harm applies in none of the approaches its service may run in
            if len(applying) == len(candidate.approaches):
                active[prog.x[edge.src]] = 1.0
            else:
                for approach in applying:
                    _add(active, prog.approach(edge.src, approach), 1.0)
            limit = 0.0
            if edge.target_kind == "service" and not self.p.kept_from_harm(edge.target):
                _add(active, prog.x[edge.target], 1.0)
                limit = 1.0
            unmitigated, fresh, delivering = fires
            held = [m for m in edge.delivering if m in prog.x]  # mitigators that already deliver
            new = [m for m in edge.mitigators if m in prog.x and m not in held]  # ones that would not deliver yet
            ids = (edge.src, edge.target)
            if unmitigated and (fresh or not new) and (delivering or not held):
                self.holds(constraint, ids, active, -math.inf, limit)  # flagged whatever mitigates it
                continue
            if unmitigated:  # flagged while no mitigator runs: active - Σ mitigators ≤ limit
                expr = dict(active)
                for m in new + held:
                    _add(expr, prog.x[m], -1.0)
                self.holds(constraint, ids, expr, -math.inf, limit)
            if fresh and new:  # flagged while one that does not deliver yet runs and none that does
                some = self._any_of(new)
                expr = {**active, some: 1.0}
                for m in held:
                    _add(expr, prog.x[m], -1.0)
                self.holds(constraint, ids, expr, -math.inf, limit + 1.0)
            if delivering and held:  # flagged while one that already delivers runs
                self.holds(constraint, ids, {**active, self._any_of(held): 1.0}, -math.inf, limit + 1.0)

    def _any_of(self, services: list[str]) -> int:
        """A variable that is 1 when any of the services runs (it may be 1 only if forced by one of them)."""
        prog = self.prog
        some = prog.var()
        for m in services:
            prog.row({some: 1.0, prog.x[m]: -1.0}, 0.0, math.inf, None)
        return some

    def client_quick(self, constraint: Constraint) -> None:
        """Each client named gets a chosen quick service serving it, at a size likely enough (with a bound)."""
        prog = self.prog
        floor = -math.inf if constraint.bound is None else constraint.bound - 1e-12
        for client in constraint.clients:
            serving = {prog.size(cid, index): 1.0 for cid, c in self.p.candidates.items()
                       if is_quick(c.service, self.p.horizons)
                       for index, size in enumerate(c.sizes)
                       if client in size.service.clients and size.service.probability >= floor}
            if not serving:
                prog.unattainable.append(Unattainable(constraint.rule, None, client, None, None))
                continue
            self.holds(constraint, (client,), serving, 1.0, math.inf)

    def quick_probability_min(self, constraint: Constraint) -> None:
        """Some chosen quick size reaches the bound; with or_none, unless nothing chosen is quick at all."""
        prog, likely, quick = self.prog, {}, {}
        bound = constraint.bound + (STRICT_MARGIN if constraint.strict else 0.0)
        for cid, candidate in self.p.candidates.items():
            if is_quick(candidate.service, self.p.horizons):
                for index, size in enumerate(candidate.sizes):
                    quick[prog.size(cid, index)] = 1.0
                    if size.service.probability >= bound - 1e-12:
                        likely[prog.size(cid, index)] = 1.0
        if not constraint.or_none:
            self.holds(constraint, (), likely, 1.0, math.inf)
            return
        some = prog.var()  # 1 when something chosen is quick
        prog.row({**quick, some: -float(len(quick))}, -math.inf, 0.0, None)
        self.holds(constraint, (), {**likely, some: -1.0}, 0.0, math.inf)

    def adherence_min(self, constraint: Constraint) -> None:
        weights = self.p.coverage_weights()
        expr = {self.prog.a[key]: w for key, w in weights.items() if key in self.prog.a}
        self.holds(constraint, (), expr, constraint.bound, math.inf, 1.0)

    def goal_adherence_min(self, constraint: Constraint) -> None:
        for goal in constraint.goals:
            self.holds(constraint, (goal,), self.goal_adherence(goal), constraint.bound, math.inf, 1.0)


def build_program(problem: Problem) -> Program:
    """Maximise Σ_g w_g·a_g / Σ w minus the costs of the changes and of the findings, under the hard conditions."""
    builder = _Builder(problem)
    builder.choices()
    builder.protections()
    builder.options()
    for key, weight in problem.coverage_weights().items():
        builder.coverage(key, problem.targets[key], weight)
    for key, weight in problem.late_weights().items():
        builder.coverage(key, problem.targets[key], weight)
    for constraint in problem.constraints:
        if constraint.applies:
            getattr(builder, constraint.kind)(constraint)
    return builder.prog


def tangent(program: Program, key: tuple[str, str, float], at: float) -> None:
    """n ≤ 1 − e^at·(1 + L − at): the tangent of the noisy-OR 1 − e^L at L = at."""
    n = program.nor[key][0]
    program.tangents.add((key, round(at, 9)))
    slope = math.exp(at)
    program.row({n: 1.0, program.depth[key]: -slope}, -math.inf, 1 - slope * (1 - at), None)


def no_good(program: Program, problem: Problem, solution: Solution, only: set[str] | None = None) -> None:
    """Cut off this mix: its choice of candidate, size and approach for every candidate, or, with ``only``,
    for those candidates alone (the services a finding is about that the mix changed), so the next solve
    finds another."""
    ones: list[int] = []
    zeros: list[int] = []
    for cid, var in program.x.items():
        if only is not None and cid not in only:
            continue
        if cid in solution.chosen:
            index, approach = solution.chosen[cid]
            ones += [var] + [v for v in (program.z.get((cid, index)), program.y.get((cid, approach))) if v is not None]
        else:
            zeros.append(var)
    program.row({**{v: 1.0 for v in ones}, **{v: -1.0 for v in zeros}}, -math.inf, len(ones) - 1.0, None)


def _run(program: Program, omit: frozenset[str], cost: Expr | None, fixed: dict[int, float] | None,
         start: list[float] | None = None):
    """One HiGHS run of the program as it is (from a feasible start, when given); the values, or None."""
    rows = [r for r in program.rows if r.group is None or r.group not in omit]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(program.cost), len(rows)
    if cost is None:
        lp.col_cost_ = np.array(program.cost)
    else:
        lp.col_cost_ = np.zeros(len(program.cost))
        for var, coef in cost.items():
            lp.col_cost_[var] = coef
    lower, upper = np.zeros(len(program.cost)), np.array(program.upper)
    for var, value in (fixed or {}).items():
        lower[var] = upper[var] = value
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_ = np.array([max(r.lo, -highspy.kHighsInf) for r in rows])
    lp.row_upper_ = np.array([min(r.hi, highspy.kHighsInf) for r in rows])
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in program.integer]
    entries = [row.entries for row in rows]
    matrix = lp.a_matrix_  # row by row, as the program holds it
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_, matrix.num_row_ = lp.num_col_, lp.num_row_
    matrix.start_ = np.cumsum([0] + [len(variables) for variables, _ in entries])
    total = int(matrix.start_[-1])
    matrix.index_ = np.fromiter(chain.from_iterable(variables for variables, _ in entries), dtype=np.int32, count=total)
    matrix.value_ = np.fromiter(chain.from_iterable(coefs for _, coefs in entries), dtype=float, count=total)
    highs = highspy._Highs()  # the core binding (in highspy.__all__): highspy.Highs prints a banner when created
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("threads", 1)  # one worker: faster on these models than two, and the same on every machine
    # the feasibility-jump heuristic found no better first mix on these models than the root's own, and took a sixth
    # of each solve (a 1,000-service federation: 0.55 -> 0.45 s)
    highs.setOptionValue("mip_heuristic_run_feasibility_jump", False)
    # nor did the root reduced-cost sub-MIP, which took a quarter of each solve of a model the example's size (the
    # example's three solves: 0.16 -> 0.12 s); where two mixes tie exactly, HiGHS may return the other one
    highs.setOptionValue("mip_heuristic_run_root_reduced_cost", False)
    if highs.passModel(lp) == highspy.HighsStatus.kError:  # a coefficient HiGHS cannot hold (1e15 and beyond)
        raise ProgramRefused("the solver refused the mix's program: some of its numbers are beyond what it can hold")
    if start is not None:
        given = highspy.HighsSolution()
        given.col_value = start
        given.value_valid = True
        highs.setSolution(given)
    if (event := _SOLVING.get()) is not None:
        event.set()
    highs.run()
    status = highs.getModelStatus()
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return None  # every variable is bounded: "unbounded or infeasible" can only be infeasible
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS stopped without an optimum: {highs.modelStatusToString(status)}")
    return list(highs.getSolution().col_value), highs.getInfo().objective_function_value


_SOLVING: ContextVar[threading.Event | None] = ContextVar("solving", default=None)


@contextmanager
def solving_sets(event: threading.Event) -> Iterator[None]:
    """Within it, ``event`` is set as HiGHS starts a run (in this thread's context): the solver lets go of the
    interpreter while it works, so another thread's Python work waiting on it costs the optimiser nothing."""
    token = _SOLVING.set(event)
    try:
        yield
    finally:
        _SOLVING.reset(token)


def solve(program: Program, problem: Problem, omit: frozenset[str] = frozenset(), cost: Expr | None = None,
          fixed: dict[int, float] | None = None) -> Solution | None:
    """The optimum without the omitted groups (or with another cost to minimise, or some variables fixed);
    None if infeasible. Tangents of the noisy-OR are added until its estimate is exact at the optimum. The plain
    problem starts from ``program.start`` when there is one: a known mix lets HiGHS prune from the first node."""
    start = program.start if not omit and cost is None and not fixed else None
    while True:
        found = _run(program, omit, cost, fixed, start)
        if found is None:
            return None
        values, value = found
        start = list(values)  # the next run starts from this mix, its estimates lowered to the truth
        added = 0
        for key, (n, terms) in program.nor.items():
            at = sum(c for v, c in terms.items() if values[v] > 0.5)
            if values[n] > 1 - math.exp(at) + EXACT and (key, round(at, 9)) not in program.tangents:
                tangent(program, key, at)
                start[program.a[key]] -= problem.conventions.redundancy * (values[n] - (1 - math.exp(at)))
                start[n] = 1 - math.exp(at)
                added += 1
        if not added or cost is not None:
            break
    chosen: dict[str, tuple[int, str | None]] = {}
    for cid, var in program.x.items():
        if values[var] > 0.5:
            candidate: Candidate = problem.candidates[cid]
            size = next((i for i in range(len(candidate.sizes)) if values[program.size(cid, i)] > 0.5), 0)
            approach = next((a for a in candidate.approaches if values[program.approach(cid, a)] > 0.5),
                            candidate.approaches[0])
            chosen[cid] = (size, approach)
    weights = problem.coverage_weights()
    adherence = sum(w * values[program.a[k]] for k, w in weights.items() if k in program.a)
    broken = [s for s in program.soft if values[s.var] > 0.5]
    objective = -(value + program.constant)
    return Solution(chosen, objective, adherence, broken, values)
