"""The mixed-integer linear program of a Problem, solved to proven optimality by HiGHS.

HiGHS is called through highspy, the same solver ``scipy.optimize.milp`` wraps: importing
scipy.optimize alone takes about 0.3 s, a fifth of the example report's time budget.

Every row belongs to a group: the capacity, the rule whose ``implies`` block it comes from, or none
(the structure of the model, never relaxed). Explanations re-solve with groups left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import highspy
import networkx as nx
import numpy as np

from ..measures import active_mitigators, is_quick
from .problem import CAPACITY, Constraint, HarmEdge, Problem, Target, exact

STRICT_MARGIN = 1e-6  # a strict share bound holds with this margin, so the rounded fact is past it too

Expr = dict[int, float]


@dataclass
class Row:
    coefs: Expr
    lo: float
    hi: float
    group: str | None


@dataclass
class Unattainable:
    """A goal target no candidate can cover in time: no mix fixes it, so it constrains nothing."""

    rule: str
    goal: str
    target: str
    due_months: float
    bound: float


@dataclass
class Program:
    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    constant: float = 0.0  # added to the minimised cost: the change cost of today's mix
    x: dict[str, int] = field(default_factory=dict)  # candidate -> chosen
    y: dict[tuple[str, str | None], int] = field(default_factory=dict)  # (candidate, approach) -> runs in it
    effort: Expr = field(default_factory=dict)
    unattainable: list[Unattainable] = field(default_factory=list)

    def var(self, cost: float = 0.0, upper: float = 1.0, integer: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, coefs: Expr, lo: float, hi: float, group: str | None) -> None:
        self.rows.append(Row(coefs, lo, hi, group))


@dataclass
class Solution:
    chosen: list[str]
    approaches: dict[str, str | None]
    objective: float  # weighted adherence minus change cost


def _add(expr: Expr, var: int, coef: float) -> None:
    expr[var] = expr.get(var, 0.0) + coef


def _applies(program: Program, problem: Problem, harm: HarmEdge) -> Expr:
    """1 exactly when the harming service is chosen in an approach the harm applies in."""
    options = problem.candidates[harm.src].approaches
    if len(options) == 1:
        return {program.x[harm.src]: 1.0} if harm.applies(options[0]) else {}
    return {program.y[(harm.src, a)]: 1.0 for a in options if harm.applies(a)}


def _harm_rows(program: Program, problem: Problem, constraint: Constraint) -> None:
    spec = constraint.spec
    for harm in problem.harms:
        if harm.severity not in spec.severity or (
            spec.src_term and problem.candidates[harm.src].service.term not in spec.src_term
        ) or (spec.harmed_term and not harm.harmed_terms & set(spec.harmed_term)):
            continue
        expr = _applies(program, problem, harm)
        if not expr:
            continue  # the harm applies in none of the approaches its service may run in
        if harm.target_kind == "service":
            if harm.target not in program.x:
                continue  # the harmed service can never be in the mix
            _add(expr, program.x[harm.target], 1.0)
            limit = 1.0
        elif harm.aimed:
            limit = 0.0
        else:
            continue
        if spec.kind == "harm_mitigated":
            for cid in _mitigating(problem, harm):
                _add(expr, program.x[cid], -1.0)
        program.row(expr, -math.inf, limit, constraint.rule)


def _mitigating(problem: Problem, harm: HarmEdge) -> list[str]:
    """The candidates that would mitigate a harm if chosen."""
    return active_mitigators(_HarmView(harm.mitigators), [c.service for c in problem.candidates.values()])


@dataclass(frozen=True)
class _HarmView:
    mitigated_by: tuple


def _share_rows(program: Program, problem: Problem, constraint: Constraint) -> None:
    """share = S_term / E with S, E linear in x: a bound v on it is S - v·E compared with 0.

    Efforts are counted in thousandths of the smallest one, so that the solver's absolute
    tolerance (1e-6) is far below both the strict margin and the rounding of the facts.
    """
    spec, margin = constraint.spec, (STRICT_MARGIN if constraint.spec.strict else 0.0)
    bound = constraint.bound + margin if spec.kind == "share_min" else constraint.bound - margin
    efforts = [c.service.effort for c in problem.candidates.values() if c.service.effort > 0]
    unit = min(efforts, default=1.0) / 1000
    expr: Expr = {}
    in_term: Expr = {}
    for cid, var in program.x.items():
        service = problem.candidates[cid].service
        counted = is_quick(service, problem.horizons) if spec.term == "quick" else service.term == spec.term
        in_term_share = 1.0 if counted else 0.0
        expr[var] = service.effort / unit * (in_term_share - bound)
        if in_term_share:
            in_term[var] = service.effort / unit
    if spec.kind == "share_max":
        program.row(expr, -math.inf, 0.0, constraint.rule)
    elif not spec.or_none:
        program.row(expr, 0.0, math.inf, constraint.rule)
    else:  # either no effort in the term (z = 0) or the share reaches the bound (z = 1)
        z = program.var()
        big = bound * sum(efforts) / unit
        program.row({**in_term, z: -sum(in_term.values())}, -math.inf, 0.0, constraint.rule)
        program.row({**expr, z: -big}, -big, math.inf, constraint.rule)


def _cover_rows(program: Program, problem: Problem, constraint: Constraint) -> None:
    for target in problem.targets:
        eligible = [
            d.service for d in target.deliveries
            if exact(d.months) <= target.due_months and exact(d.value) >= constraint.bound
        ]
        if eligible:
            program.row({program.x[c]: 1.0 for c in eligible}, 1.0, math.inf, constraint.rule)
        else:
            program.unattainable.append(
                Unattainable(constraint.rule, target.goal, target.target, target.due_months, constraint.bound)
            )


def _prerequisite_rows(program: Program, problem: Problem, constraint: Constraint) -> None:
    for cid, candidate in problem.candidates.items():
        for dep in candidate.service.depends_on:
            if dep.kind != constraint.spec.dependency:
                continue
            expr = {program.x[cid]: 1.0}
            if dep.target in program.x:
                _add(expr, program.x[dep.target], -1.0)
            program.row(expr, -math.inf, 0.0, constraint.rule)


def _acyclic_rows(program: Program, problem: Problem, constraint: Constraint) -> None:
    """Chosen members of a strongly connected component need a topological potential π:
    π_i ≥ π_d + 1 along every edge i → d whose ends are both chosen (else the row is slack)."""
    graph = nx.DiGraph()
    for cid, candidate in problem.candidates.items():
        for dep in candidate.service.depends_on:
            if dep.kind == constraint.spec.dependency and dep.target in problem.candidates:
                graph.add_edge(cid, dep.target)
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        size = float(len(component))
        potential = {cid: program.var(upper=size - 1, integer=False) for cid in sorted(component)}
        for src, dst in graph.subgraph(component).edges:
            program.row(
                {potential[src]: 1.0, potential[dst]: -1.0, program.x[src]: -size, program.x[dst]: -size},
                1.0 - 2 * size, math.inf, constraint.rule,
            )


def _probability_rows(program: Program, problem: Problem, constraint: Constraint) -> None:
    for cid, candidate in problem.candidates.items():
        if exact(candidate.service.probability) < constraint.bound:
            program.row({program.x[cid]: 1.0}, -math.inf, 0.0, constraint.rule)


ROWS = {
    "share_min": _share_rows, "share_max": _share_rows, "cover_in_time": _cover_rows,
    "min_probability": _probability_rows, "requires_prerequisites": _prerequisite_rows,
    "acyclic": _acyclic_rows, "harm_inactive": _harm_rows, "harm_mitigated": _harm_rows,
}


def _coverage(program: Program, problem: Problem, target: Target, weight: float) -> None:
    """The target's adherence in the objective, exactly as measures.target_adherence defines it over the
    chosen candidates delivering in time: (1 − λ)·max v + λ·(1 − Π(1 − v)).

    The max: one binary b_k per delivery, Σ b_k ≤ 1, b_k ≤ x_k; maximising picks the best chosen one.
    The product: u_k = u_{k−1} − v_k·w_k with w_k = x_k·u_{k−1} (binary times bounded), linearised by
    w_k ≤ x_k and w_k ≤ u_{k−1}; maximising pushes each w_k to its cap, so Σ v_k·w_k = 1 − u_K.
    """
    in_time = [d for d in target.deliveries if exact(d.months) <= target.due_months and d.value > 0]
    if not in_time:
        return
    best_weight, product_weight = weight * (1 - problem.redundancy), weight * problem.redundancy
    if best_weight > 0:
        picks = {}
        for d in in_time:
            b = program.var(cost=-best_weight * d.value)
            program.row({b: 1.0, program.x[d.service]: -1.0}, -math.inf, 0.0, None)
            picks[b] = 1.0
        program.row(picks, -math.inf, 1.0, None)
    if product_weight <= 0:
        return
    previous: int | None = None  # u_{k-1}; None stands for the constant 1
    for k, d in enumerate(in_time):
        w = program.var(cost=-product_weight * d.value, integer=False)
        program.row({w: 1.0, program.x[d.service]: -1.0}, -math.inf, 0.0, None)
        if previous is not None:
            program.row({w: 1.0, previous: -1.0}, -math.inf, 0.0, None)
        if k < len(in_time) - 1:
            u = program.var(integer=False)
            coefs = {u: 1.0, w: d.value}
            if previous is not None:
                coefs[previous] = -1.0
            rhs = 0.0 if previous is not None else 1.0
            program.row(coefs, rhs, rhs, None)
            previous = u


def build_program(problem: Problem) -> Program:
    """Maximise Σ_g w_g·a_g / Σ w minus the cost of the changes from today, under every implied constraint."""
    program = Program()
    cost = problem.change_cost
    for cid, candidate in problem.candidates.items():
        today = cid in problem.today
        program.x[cid] = program.var(cost=-cost if today else cost)
        program.constant += cost if today else 0.0
        program.effort[program.x[cid]] = candidate.service.effort
        if len(candidate.approaches) > 1:
            choice = {program.x[cid]: -1.0}
            for index, approach in enumerate(candidate.approaches):
                program.y[(cid, approach)] = program.var(cost=problem.approach_cost if index else 0.0)
                choice[program.y[(cid, approach)]] = 1.0
            program.row(choice, 0.0, 0.0, None)
    program.row({v: 1.0 for v in program.x.values()}, 1.0, math.inf, None)  # a PMO with no service is no mix
    program.row(dict(program.effort), -math.inf, problem.capacity, CAPACITY)
    targets = {(t.kind, t.target): t for t in problem.targets}
    for key, weight in problem.coverage_weights().items():
        if weight > 0:
            _coverage(program, problem, targets[key], weight)
    for constraint in problem.constraints:
        ROWS[constraint.kind](program, problem, constraint)
    return program


def solve(program: Program, problem: Problem, omit: frozenset[str] = frozenset(), cost: Expr | None = None) -> Solution | None:
    """The optimum without the omitted groups (or with another cost to minimise); None if infeasible."""
    rows = [r for r in program.rows if r.group is None or r.group not in omit]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(program.cost), len(rows)
    if cost is None:
        lp.col_cost_ = np.array(program.cost)
    else:
        lp.col_cost_ = np.zeros(len(program.cost))
        for var, coef in cost.items():
            lp.col_cost_[var] = coef
    lp.col_lower_, lp.col_upper_ = np.zeros(len(program.cost)), np.array(program.upper)
    lp.row_lower_ = np.array([max(r.lo, -highspy.kHighsInf) for r in rows])
    lp.row_upper_ = np.array([min(r.hi, highspy.kHighsInf) for r in rows])
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in program.integer]
    columns: list[list[tuple[int, float]]] = [[] for _ in program.cost]  # the matrix, column-wise (HiGHS' default)
    for number, row in enumerate(rows):
        for var, coef in row.coefs.items():
            if coef:
                columns[var].append((number, coef))
    matrix = lp.a_matrix_
    matrix.num_col_, matrix.num_row_ = lp.num_col_, lp.num_row_
    matrix.start_ = np.cumsum([0] + [len(c) for c in columns])
    matrix.index_ = np.array([r for c in columns for r, _ in c], dtype=np.int32)
    matrix.value_ = np.array([v for c in columns for _, v in c], dtype=float)
    highs = highspy._Highs()  # the core binding (in highspy.__all__): highspy.Highs prints a banner when created
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.passModel(lp)
    highs.run()
    status = highs.getModelStatus()
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return None  # every variable is bounded: "unbounded or infeasible" can only be infeasible
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS stopped without an optimum: {highs.modelStatusToString(status)}")
    values = highs.getSolution().col_value
    chosen = [cid for cid, var in program.x.items() if values[var] > 0.5]
    approaches = {}
    for cid in chosen:
        options = problem.candidates[cid].approaches
        approaches[cid] = next((a for a in options if values[program.y[(cid, a)]] > 0.5), options[0]) if len(options) > 1 else options[0]
    return Solution(chosen, approaches, -(highs.getInfo().objective_function_value + program.constant))
