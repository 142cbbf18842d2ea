"""The optimiser against brute force on random small workspaces.

Each instance is a real workspace (services, goals, harms, dependencies, param overrides in
pmorules.toml), analysed by the real pipeline. The brute force enumerates every non-empty subset
of the candidates and every approach choice, and checks the constraints and the objective as the
rule kinds define them (rules/spec.py), written here independently of the model: shares, the
product form of adherence, cycles found by enumeration. Its optimum must equal the solver's.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from pmorules.analysis import analyze
from pmorules.knowledge import term_for_months
from pmorules.mix import recommend

TODAY = dt.date(2026, 11, 25)
OUTCOMES = ["O01", "O02", "O03", "O04", "O05", "O06"]
APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]
TERMS = ["short", "medium", "long"]


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def random_workspace(root: Path, seed: int, size: int) -> Path:
    """A valid workspace of ``size`` services (some retired) with the catalogue switched off."""
    rng = random.Random(seed)
    ids = [f"s{i}" for i in range(size)]
    lines = ["clients:", "  - {id: c1, weight: 1.0}", "  - {id: c2, weight: 0.5}", "services:"]
    for sid in ids:
        status = rng.choices(["active", "proposed", "retired"], [6, 3, 1])[0]
        lines.append(f"  - id: {sid}")
        lines.append(f"    status: {status}")
        if rng.random() < 0.3:
            lines.append(f"    months_to_value: {rng.choice([1, 2, 3, 5, 8, 14, 20])}")
        else:
            lines.append(f"    term: {rng.choice(TERMS)}")
        lines.append(f"    probability: {rng.choice([0.2, 0.5, 0.6, 0.75, 0.9])}")
        lines.append(f"    effort: {rng.randint(1, 10)}")
        if rng.random() < 0.8:
            lines.append(f"    approach: {rng.choice(APPROACHES)}")
        lines.append(f"    outcomes: {_yaml_list(rng.sample(OUTCOMES, rng.randint(0, 3)))}")
        others = [o for o in ids if o != sid]
        deps = [f"{{service: {d}, kind: {rng.choice(['hard', 'soft', 'soft'])}}}" for d in rng.sample(others, rng.choice([0, 0, 1, 2]))]
        lines.append(f"    depends_on: {_yaml_list(deps)}")
        harms = []
        for _ in range(rng.choice([0, 0, 1, 2])):
            target = rng.choice(others + OUTCOMES)
            parts = [f"target: {target}", f"severity: {rng.choice(['low', 'medium', 'high'])}",
                     f"mitigated_by: {_yaml_list(rng.sample(others, rng.randint(0, 2)))}"]
            if rng.random() < 0.5:
                parts.append(f"approaches: {_yaml_list(rng.sample(APPROACHES, 2))}")
            harms.append("{" + ", ".join(parts) + "}")
        lines.append(f"    harms: {_yaml_list(harms)}")
    lines.append("goals:")
    for g in range(rng.randint(1, 4)):
        lines.append(f"  - id: g{g}")
        lines.append(f"    outcomes: {_yaml_list(rng.sample(OUTCOMES, rng.randint(1, 3)))}")
        if rng.random() < 0.3:
            lines.append(f"    services: [{rng.choice(ids)}]")
        lines.append(f"    due_months: {rng.choice([2, 3, 6, 12, 24])}")
        lines.append(f"    priority: {rng.choice([1, 2, 3])}")
        if rng.random() < 0.7:
            lines.append(f"    client: {rng.choice(['c1', 'c2'])}")
    config = [
        "[mix]", "include_catalogue = false", f"change_cost = {rng.choice([0.0, 0.01, 0.05])}",
        f"approach_change_cost = {rng.choice([0.0, 0.005, 0.05])}",
        f"approaches = {rng.choice([['supportive'], ['supportive', 'facilitative', 'controlling']])}".replace("'", '"'),
    ]
    if rng.random() < 0.5:
        config.append(f"capacity = {rng.randint(10, 50)}")
    for rule, param, values in [
        ("BAL002", "min_short_share", [0.1, 0.2]), ("BAL003", "max_long_share", [0.5, 0.7]),
        ("BAL004", "min_long_share", [0.0, 0.1]), ("BAL005", "max_short_share", [0.6, 0.8]),
        ("GOL001", "min_p", [0.3, 0.5]), ("PRB002", "very_low", [0.25, 0.4]),
    ]:
        config += [f"[rules.{rule}]", f"params = {{ {param} = {rng.choice(values)} }}"]
    root.mkdir(parents=True)
    (root / "workspace.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "pmorules.toml").write_text("\n".join(config) + "\n", encoding="utf-8")
    return root


def _bound(rule) -> float | None:
    implies = rule.spec.implies
    if getattr(implies, "param", None):
        return rule.params[implies.param]
    return getattr(implies, "value", None)


def brute_force(analysis, problem) -> float | None:
    """The best objective over every subset and approach choice (None if no subset is feasible)."""
    kb = analysis.kb
    cands = list(problem.candidates.values())
    ids = [c.id for c in cands]
    col = {cid: i for i, cid in enumerate(ids)}
    n = len(ids)
    masks = ((np.arange(1, 2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
    svc = [c.service for c in cands]
    effort = np.array([s.effort for s in svc], dtype=float)
    total = masks @ effort
    base_ok = total <= problem.capacity + 1e-9
    today = np.array([cid in problem.today for cid in ids])
    changes = (masks != today).sum(axis=1).astype(float)

    weights = {}
    for goal in kb.goals.values():
        client = kb.clients.get(goal.client) if goal.client else None
        weights[goal.id] = goal.priority * (client.weight if client else 1.0)
    objective = np.zeros(len(masks))
    for goal in kb.goals.values():
        targets = dict.fromkeys(list(goal.outcomes) + list(goal.services))
        per_goal = np.zeros(len(masks))
        for target in targets:
            linked = [i for i, s in enumerate(svc) if (target in s.outcomes if target in goal.outcomes else s.id == target)]
            miss = np.ones(len(masks))
            for i in linked:
                miss *= 1 - svc[i].probability * masks[:, i]
            per_goal += 1 - miss
        objective += weights[goal.id] * per_goal / len(targets)
    if sum(weights.values()) > 0:
        objective /= sum(weights.values())

    ok = base_ok.copy()
    harm_rules = []
    for rule in analysis.rulebook.enabled():
        spec, bound = rule.spec.implies, _bound(rule)
        if spec is None:
            continue
        if spec.kind in ("share_min", "share_max"):
            share = (masks @ (effort * np.array([s.term == spec.term for s in svc]))) / total
            if spec.kind == "share_max":
                ok &= share < bound if spec.strict else share <= bound + 1e-12
            else:
                met = share > bound if spec.strict else share >= bound - 1e-12
                ok &= met | (share == 0) if spec.or_none else met
        elif spec.kind == "cover_in_time":
            for goal in kb.goals.values():
                for target in dict.fromkeys(list(goal.outcomes) + list(goal.services)):
                    eligible = [
                        i for i, s in enumerate(svc)
                        if (target in s.outcomes if target in goal.outcomes else s.id == target)
                        and s.months <= goal.due_months and s.probability >= bound
                    ]
                    if eligible:  # a target nobody can cover is reported as unattainable instead
                        ok &= masks[:, eligible].any(axis=1)
        elif spec.kind == "min_probability":
            low = [i for i, s in enumerate(svc) if s.probability < bound]
            ok &= ~masks[:, low].any(axis=1)
        elif spec.kind == "requires_prerequisites":
            for i, s in enumerate(svc):
                for dep in s.depends_on:
                    if dep.kind == spec.dependency:
                        ok &= ~masks[:, i] | (masks[:, col[dep.target]] if dep.target in col else False)
        elif spec.kind == "acyclic":
            graph = nx.DiGraph([(s.id, d.target) for s in svc for d in s.depends_on
                                if d.kind == spec.dependency and d.target in col])
            for cycle in nx.simple_cycles(graph):
                ok &= ~masks[:, [col[c] for c in cycle]].all(axis=1)
        else:
            harm_rules.append(spec)

    aiming: dict[str, list[float]] = {}
    for goal in kb.goals.values():
        for target in list(goal.outcomes) + list(goal.services):
            aiming.setdefault(target, []).append(goal.due_months)
    alternatives = analysis.config.config.mix.approaches
    multi = [
        (i, list(dict.fromkeys([s.approach, *alternatives]))) for i, s in enumerate(svc)
        if any(h.approaches is not None and s.approach in h.approaches for h in s.harms)
    ]
    best = None
    for assignment in itertools.product(*[options for _, options in multi]):
        approach = [s.approach for s in svc]
        extra = np.zeros(len(masks))
        for (i, _), chosen in zip(multi, assignment):
            approach[i] = chosen
            if chosen != svc[i].approach:
                extra += masks[:, i]
        feasible = ok.copy()
        for spec in harm_rules:
            for i, s in enumerate(svc):
                for harm in s.harms:
                    terms = set()
                    if harm.target_kind == "service" and harm.target in col:
                        terms.add(svc[col[harm.target]].term)
                    if harm.target in aiming:
                        terms.add(term_for_months(max(aiming[harm.target]), kb.horizons))
                    if harm.severity not in spec.severity or (spec.src_term and s.term not in spec.src_term) or (
                        spec.harmed_term and not terms & set(spec.harmed_term)
                    ):
                        continue
                    if harm.approaches is not None and approach[i] not in harm.approaches:
                        continue
                    if harm.target_kind == "service":
                        if harm.target not in col:
                            continue
                        active = masks[:, i] & masks[:, col[harm.target]]
                    elif harm.target in aiming:
                        active = masks[:, i]
                    else:
                        continue
                    if spec.kind == "harm_inactive":
                        feasible &= ~active
                    else:
                        mitigated = masks[:, [col[m] for m in harm.mitigated_by if m in col]].any(axis=1)
                        feasible &= ~active | mitigated
        value = objective - problem.change_cost * changes - problem.approach_cost * extra
        if feasible.any():
            best = max(value[feasible].max(), best if best is not None else -math.inf)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_optimum_equals_brute_force(tmp_path: Path, seed: int) -> None:
    """Same optimum as brute force; and the full rulebook on it confirms every implied constraint,
    except coverage no candidate can give (reported as unattainable)."""
    analysis = analyze(random_workspace(tmp_path / "ws", seed, 6 + seed % 9), TODAY)
    result = recommend(analysis)
    assert len(result.problem.candidates) <= 14
    best = brute_force(analysis, result.problem)
    if best is None:
        assert result.status == "infeasible"
        assert result.conflict is not None and result.conflict.text()
        return
    assert result.status == "optimal", result.conflict and result.conflict.text()
    assert math.isclose(result.solution.objective, best, abs_tol=1e-6)
    _assert_rules_confirm(analysis, result)


def _assert_rules_confirm(analysis, result) -> None:
    implies = {r.id: r.spec.implies for r in analysis.rulebook.enabled() if r.spec.implies is not None}
    unattainable = {u.goal for u in result.unattainable}
    for finding in result.after.findings:
        if finding.rule in implies:
            assert implies[finding.rule].kind == "cover_in_time" and set(finding.subjects) <= unattainable, finding.message


@pytest.mark.parametrize("seed", range(10))
def test_catalogue_candidates_meet_the_rules_too(tmp_path: Path, seed: int) -> None:
    """With the catalogue's 30 services as candidates (too many to enumerate), the rulebook on the
    optimum still confirms every implied constraint: catalogue dependencies and harms resolve."""
    workspace = random_workspace(tmp_path / "ws", seed, 6 + seed % 9)
    config = workspace / "pmorules.toml"
    config.write_text(config.read_text().replace("include_catalogue = false", "include_catalogue = true"))
    analysis = analyze(workspace, TODAY)
    result = recommend(analysis)
    assert any(c.origin == "catalogue" for c in result.problem.candidates.values())
    if result.status == "optimal":
        _assert_rules_confirm(analysis, result)
