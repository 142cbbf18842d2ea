"""The optimiser against brute force on random small workspaces.

Each instance is a real workspace (services, goals, harms, dependencies, param overrides in
pmorules.toml), analysed by the real pipeline. The brute force enumerates every mix (each candidate off, or at
each of its sizes in each of its approaches) and scores it from the definitions, independently of the
model: adherence through measures.target_adherence ((1 − λ)·max + λ·noisy-OR), shares as effort
ratios, each condition the engine decided (problem.py) as its kind describes it, and the cost of
each broken warning or info condition. Its optimum must equal the solver's.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pytest

from pmorules.analysis import analyze
from pmorules.measures import builds_lasting, imposes, is_quick, target_adherence
from pmorules.mix import recommend
from pmorules.mix.problem import split_vid
from pmorules.mix.recommend import _new, mix_kb, reanalyze

TODAY = dt.date(2026, 3, 20)
OUTCOMES = ["O01", "O02", "O03", "O04", "O05", "O06"]
APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]
TERMS = ["short", "medium", "long"]


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def random_workspace(root: Path, seed: int, size: int) -> Path:
    """A valid workspace of ``size`` services (some retired) with the catalogue switched off."""
    rng = random.Random(seed)
    tagging = random.Random(-1 - seed)  # its own stream: the instances are the same with or without tags
    people = random.Random(-1000 - seed)  # its own stream too: a headcount, so effort moves in quarter FTEs
    evidence = random.Random(-2000 - seed)  # and one for what is assessed and whom services serve (issue 23)
    ids = [f"s{i}" for i in range(size)]
    lines = [f"organisation: {{capacity_fte: {people.choice([3, 4, 7])}}}"] if people.random() < 0.5 else []
    lines += ["clients:", "  - {id: c1, weight: 1.0}", "  - {id: c2, weight: 0.5}", "services:"]
    for sid in ids:
        status = rng.choices(["active", "proposed", "retired"], [6, 3, 1])[0]
        lines.append(f"  - id: {sid}")
        lines.append(f"    status: {status}")
        if rng.random() < 0.3:
            lines.append(f"    months_to_value: {rng.choice([1, 2, 3, 5, 8, 14, 20])}")
        else:
            lines.append(f"    term: {rng.choice(TERMS)}")
        probability = f"    probability: {rng.choice([0.2, 0.5, 0.6, 0.75, 0.9])}"
        if status != "proposed" or evidence.random() < 0.7:  # else an option to assess (assumed probability)
            lines.append(probability)
        if evidence.random() < 0.25:  # serves one client: a quick one may be extended to the other
            lines.append("    clients: [c1]")
        lines.append(f"    effort: {rng.randint(1, 10)}")
        if status == "active" and rng.random() < 0.3:  # some run long enough to deliver (and mitigate) today
            lines.append(f"    running_months: {rng.choice([1, 6, 24])}")
        if rng.random() < 0.8:
            lines.append(f"    approach: {rng.choice(APPROACHES)}")
        if tagging.random() < 0.25:  # builds lasting capability whatever its term (BAL004's share)
            lines.append("    tags: [capability]")
        lines.append(f"    outcomes: {_yaml_list(rng.sample(OUTCOMES, rng.randint(0, 3)))}")
        others = [o for o in ids if o != sid]
        deps = [f"{{service: {d}, kind: {rng.choice(['hard', 'soft', 'soft'])}}}" for d in rng.sample(others, rng.choice([0, 0, 1, 2]))]
        lines.append(f"    depends_on: {_yaml_list(deps)}")
        harms = []
        for target in rng.sample(others + OUTCOMES, rng.choice([0, 0, 1, 2])):  # one harm per target
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
        f"approach_change_probability = {random.Random(-3000 - seed).choice([0.0, -0.05, -0.3, 0.1])}",
        f"approaches = {rng.choice([['supportive'], ['supportive', 'facilitative', 'controlling']])}".replace("'", '"'),
        f"resize_steps = {rng.choice(['[]', '[-0.5]', '[0.5]'])}", f"resize_cost = {rng.choice([0.0, 0.04])}",
        f"warning_cost = {rng.choice([0.05, 0.2])}", f"new_finding_factor = {rng.choice([1, 100])}",
        f"miss_cost = {rng.choice([0.0, 1.0])}", f"unassessed_cost = {evidence.choice([0.0, 0.03])}",
    ]
    if rng.random() < 0.5:
        config.append(f"capacity = {rng.randint(10, 50)}")
    for rule, param, values in [
        ("BAL002", "min_short_share", [0.1, 0.2]), ("BAL003", "max_long_share", [0.5, 0.7]),
        ("BAL004", "min_long_share", [0.0, 0.1]), ("BAL005", "max_short_share", [0.6, 0.8]),
        ("GOL001", "min_p", [0.3, 0.5]), ("PRB002", "very_low", [0.25, 0.4]),
    ]:
        config += [f"[rules.{rule}]", f"params = {{ {param} = {rng.choice(values)} }}"]
        if rng.random() < 0.2:  # levels decide hardness: move a rule between hard and soft
            config.append(f'level = "{rng.choice(["error", "warning", "info"])}"')
    root.mkdir(parents=True)
    (root / "workspace.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "pmorules.toml").write_text("\n".join(config) + "\n", encoding="utf-8")
    return root


def _objective(problem, state: dict[str, tuple[int, str | None]], infos: bool = True) -> float | None:
    """The objective of one mix (candidate -> size, approach), or None when it breaks a hard condition;
    without ``infos``, info findings cost nothing (the mix that decides which running services stay whole).

    Written from the definitions, independently of the model: adherence through measures.target_adherence
    (the one definition), shares as effort ratios, each condition as the rule kinds describe it, with the
    cost of a broken one as the settings say (level, new, how far it misses). Issue 23: an option to assess
    (an addition with an assumed probability) costs unassessed_cost more and needs room with every running
    service at no less than today's effort; a core or keep service is never cut; an error only options
    could avoid is a cost, as a warning."""
    settings, cands = problem.settings, problem.candidates
    chosen = {cid: cands[cid].sizes[size].service for cid, (size, _) in state.items()}
    approach = {cid: a for cid, (_, a) in state.items()}
    effort = sum(s.effort for s in chosen.values())
    if not chosen or effort > problem.capacity + 1e-9:
        return None
    unassessed = {cid for cid, c in cands.items() if c.origin != "active" and not c.service.probability_given}
    if state.keys() & unassessed:
        today = {cid: cands[cid].service.effort for cid in problem.today}
        floor = sum(today.values()) + sum(max(0.0, s.effort - today.get(cid, 0.0)) for cid, s in chosen.items())
        if floor > problem.capacity + 1e-9:
            return None
    value = 0.0
    for key, weight in [*problem.coverage_weights().items(), *problem.late_weights().items()]:
        values = [d.value for d in problem.targets[key].in_time
                  if split_vid(d.service)[0] in state and state[split_vid(d.service)[0]][0] == split_vid(d.service)[1]]
        value += weight * target_adherence(values, problem.conventions.redundancy)
    for cid, candidate in cands.items():
        today = cid in problem.today
        if (cid in state) != today:
            value -= problem.drop_cost(cid) if today else settings.change_cost
            value -= settings.unassessed_cost * (cid in unassessed)
        if cid in state:
            size, a = state[cid]
            protected = candidate.locked or (candidate.core and cid not in problem.core_exempt
                                             and problem.paired(cid) is None)
            if protected and candidate.sizes[size].service.effort < candidate.service.effort:
                return None
            value -= settings.resize_cost * abs(candidate.sizes[size].step)
            value -= settings.approach_change_cost * (a != candidate.approaches[0])
        elif candidate.locked or (candidate.core and cid not in problem.core_exempt):
            return None

    def adherence_of(goal: str) -> float:
        keys = problem.goal_targets[goal]
        total = 0.0
        for key in keys:
            values = [d.value for d in problem.targets[key].in_time
                      if split_vid(d.service)[0] in state and state[split_vid(d.service)[0]][0] == split_vid(d.service)[1]]
            total += target_adherence(values, problem.conventions.redundancy)
        return total / len(keys) if keys else 0.0

    for c in problem.constraints:
        if not c.applies:
            continue
        broken: list[tuple[tuple[str, ...], float]] = []  # (ids, how far it misses)
        if c.kind in ("share_min", "share_max"):
            def counts(cid: str, term: str = c.spec.term) -> bool:
                service = replace(chosen[cid], approach=approach[cid])
                if term == "control":
                    return imposes(service)
                if term == "lasting":
                    return builds_lasting(service)
                return is_quick(service, problem.horizons) if term == "quick" else service.term == term
            part = sum(s.effort for cid, s in chosen.items() if counts(cid))
            margin = 1e-6 if c.strict else 0.0
            if c.kind == "share_min":
                miss = (c.bound + margin) * effort - part
                ok = miss <= 1e-9 or (c.or_none and part == 0)
            else:
                miss = part - (c.bound - margin) * effort
                ok = miss <= 1e-9
            if not ok:
                broken.append(((), miss / problem.capacity))
        elif c.kind == "cover_in_time":
            for goal, keys in problem.goal_targets.items():
                for key in keys:
                    eligible = c.eligible.get((goal, key))
                    if eligible and not any(split_vid(v)[0] in state and state[split_vid(v)[0]][0] == split_vid(v)[1]
                                            for v in eligible):
                        assumed = all(split_vid(v)[0] in unassessed for v in eligible)
                        broken.append(((goal,), 0.0, assumed))
        elif c.kind == "min_probability":
            broken += [((cid,), 0.0) for cid, flags in c.services.items() if cid in state and state[cid] in flags]
        elif c.kind == "requires_prerequisites":
            broken += [((src, dst), 0.0) for src, dst in c.edges if src in state and dst not in state]
        elif c.kind == "acyclic":
            graph = nx.DiGraph([(cid, d.target) for cid in state for d in cands[cid].service.depends_on
                                if d.kind == c.spec.dependency and d.target in state])
            broken += [((cycle[0],), 0.0) for cycle in nx.simple_cycles(graph)][:1]
        elif c.kind == "harm":
            for edge in problem.harms:
                fires = c.harms.get((edge.src, edge.index))
                if fires is None or edge.src not in state or not edge.applies(approach[edge.src]):
                    continue
                if edge.target_kind == "service" and edge.target not in state and not problem.kept_from_harm(edge.target):
                    continue  # what it hurts is not in the mix (dropping a service kept from harm never counts)
                held = any(m in state for m in edge.delivering)  # a mitigator that already delivers runs
                fresh = any(m in state for m in edge.mitigators if m not in edge.delivering)
                if fires[2] if held else fires[1] if fresh else fires[0]:
                    broken.append(((edge.src, edge.target), 0.0))
        elif c.kind == "client_quick":
            floor = -1.0 if c.bound is None else c.bound - 1e-12
            for client in c.clients:  # a size serves the client when it lists it (an extension adds it)
                serving = [(cid, i) for cid, cand in cands.items() if is_quick(cand.service, problem.horizons)
                           for i, size in enumerate(cand.sizes)
                           if client in size.service.clients and size.service.probability >= floor]
                if serving and not any(cid in state and state[cid][0] == i for cid, i in serving):
                    broken.append(((client,), 0.0))
        elif c.kind == "quick_probability_min":
            quick = [s.probability for s in chosen.values() if is_quick(s, problem.horizons)]
            if not (quick and max(quick) >= c.bound + (1e-6 if c.strict else 0.0) - 1e-12) and not (c.or_none and not quick):
                broken.append(((), 0.0))
        elif c.kind == "adherence_min":
            overall = sum(problem.goal_weights[g] * adherence_of(g) for g in problem.goal_targets) / sum(problem.goal_weights.values())
            if overall < c.bound - 1e-9:
                broken.append(((), c.bound - overall))
        elif c.kind == "goal_adherence_min":
            for goal in c.goals:
                if adherence_of(goal) < c.bound - 1e-9:
                    broken.append(((goal,), c.bound - adherence_of(goal)))
        broken = [(b[0], b[1], b[2] if len(b) > 2 else False) for b in broken]
        if c.hard and any(not assumed for _, _, assumed in broken):
            return None
        for ids, miss, _ in broken:
            if c.level == "info" and not infos:
                continue
            new = (c.level != "info" or any(i in problem.today for i in ids)) and not problem.present_today(c.rule, ids)
            level = settings.info_cost if c.level == "info" else settings.warning_cost
            cost = level * (settings.new_finding_factor if new else 1.0)
            value -= cost * (1 + (settings.miss_cost * miss if c.kind in DEPTH else 0.0))
    return value


DEPTH = ("share_min", "share_max", "adherence_min", "goal_adherence_min")


def allocatable_sizes(problem) -> None:
    """Every size is today's effort moved by whole steps a manager allocates, from the definition (docs/mix.md,
    "Resizing"): a step is 0.25 FTE (capacity × 0.25 / capacity_fte) with a headcount, else one percentage point
    of the capacity; a move of ``step`` of today's effort takes the nearest whole number of steps (at least one,
    ties to the smaller move); a cut that leaves nothing is not a size; the probability follows the step taken."""
    org = problem.units
    unit = org.capacity * 0.25 / org.fte if org.fte else org.capacity / 100
    for candidate in problem.candidates.values():
        today = candidate.service
        expected = set()
        if candidate.origin != "catalogue" and today.effort > 0:
            for step in problem.settings.resize_steps:
                exact = abs(today.effort * step) / unit
                count = max(1, math.floor(exact) + (exact - math.floor(exact) > 0.5 + 1e-9))
                effort = today.effort + math.copysign(count * unit, step)
                if effort > 1e-9:
                    expected.add(round(effort, 6))
        today_approach = [s for s in candidate.sizes if s.approach in (None, 0)]
        moved = [s for s in candidate.sizes if s.approach not in (None, 0)]
        change = problem.settings.approach_change_probability
        if candidate.origin == "active" and len(candidate.approaches) > 1 and change:
            # in every other approach, each size again: today's probability moved by the change (within 0 and 1),
            # then resized by the size's step, as a what-if of that approach and effort is judged
            assert len(moved) == len(today_approach) * (len(candidate.approaches) - 1)
            approached = round(min(1.0, max(0.0, today_approach[0].service.probability + change)), 3)
            elasticity = problem.settings.resize_elasticity
            for size in moved:
                same = today_approach[candidate.sizes.index(size) % len(today_approach)]
                assert (size.service.effort, size.extends_to) == (same.service.effort, same.extends_to)
                expected_p = approached if same.extends_to or not same.step else \
                    round(1 - (1 - approached) ** max(0.0, 1 + elasticity * same.step), 3)
                assert size.service.probability == expected_p
        else:
            assert not moved
        sizes = [s for s in today_approach if not s.extends_to]
        assert sizes[0].service.effort == today.effort and sizes[0].step == 0
        assert {s.service.effort for s in sizes[1:]} == expected, (candidate.id, unit, expected)
        for size in today_approach:  # an extension: one more step, the same probability, one more client
            if size.extends_to:
                assert math.isclose(size.service.effort, today.effort + unit, abs_tol=1e-5)
                assert size.service.probability == today.probability
                assert size.service.clients == today.clients + (size.extends_to,)
        for size in sizes[1:]:
            k = 1 + problem.settings.resize_elasticity * (size.service.effort / today.effort - 1)
            assert math.isclose(size.service.probability, round(1 - (1 - today.probability) ** max(0.0, k), 3))


def _whole(problem, state: dict[str, tuple[int, str | None]]) -> set[str]:
    """The running services a mix keeps at no less than today's effort."""
    return {cid for cid in problem.today if cid in state
            and problem.candidates[cid].sizes[state[cid][0]].service.effort >= problem.candidates[cid].service.effort}


def brute_force(problem) -> list[tuple[dict, float]]:
    """Every mix (each candidate off, or at each size in each approach) the hard conditions allow that keeps
    whole every running service the solver's mix with info findings free keeps whole, best first, with its
    objective; and that mix must be the best one with info findings free (so no running service is cut or
    dropped for info findings only)."""
    options = [[None] + [(i, a) for i, size in enumerate(c.sizes) for k, a in enumerate(c.approaches)
                         if size.approach in (None, k)]  # a size tied to an approach runs only in it
               for c in problem.candidates.values()]
    ids = list(problem.candidates)
    mixes = []
    for combo in itertools.product(*options):
        state = {cid: o for cid, o in zip(ids, combo) if o is not None}
        mixes.append((state, _objective(problem, state)))
    whole: set[str] = set()
    if problem.info_free is not None:
        free = max((v for s, _ in mixes if (v := _objective(problem, s, infos=False)) is not None), default=None)
        assert free is not None and math.isclose(_objective(problem, problem.info_free, infos=False), free, abs_tol=1e-6)
        whole = _whole(problem, problem.info_free)
    return sorted(((s, v) for s, v in mixes if v is not None and whole <= _whole(problem, s)), key=lambda m: -m[1])


@pytest.mark.parametrize("seed", range(36))
def test_optimum_equals_brute_force(tmp_path: Path, seed: int) -> None:
    """Same optimum as brute force, penalties, sizes and approaches included; and the full rulebook on it
    confirms every hard condition, except coverage no candidate can give (reported as unattainable)."""
    analysis = analyze(random_workspace(tmp_path / "ws", seed, 3 + seed % 4), TODAY)
    result = recommend(analysis)
    assert result.problem.candidates and len(result.problem.candidates) <= 6
    allocatable_sizes(result.problem)
    mixes = brute_force(result.problem)
    if not mixes:
        assert result.status == "infeasible" or result.problem.capacity_note or any(
            c.forced for c in result.changes)
        return
    assert result.status == "optimal", result.conflict and result.conflict.text()
    if not result.problem.capacity_note and result.problem.core_keep is None:
        better = [state for state, value in mixes if value > result.solution.objective + 1e-6]
        assert result.solution.objective <= mixes[0][1] + 1e-6, (result.solution.objective, mixes[0])
        if better:  # only when the full rulebook found a problem no condition models in the better mixes
            assert result.rounds > 1, (result.solution.objective, mixes[0])
            for state in better[:20]:
                after = reanalyze(analysis, mix_kb(analysis.kb, result.problem, replace(result.solution, chosen=state)))
                assert _new(analysis, after.findings, result.problem.good_news), state
    _assert_rules_confirm(analysis, result)


def _assert_rules_confirm(analysis, result) -> None:
    hard = {c.rule for c in result.problem.constraints if c.hard and c.applies}
    unattainable = {u.goal for u in result.unattainable} | {u.target for u in result.unattainable}
    left = [s for s in result.solution.broken if s.level == "error"]  # only options to assess could meet them
    for finding in result.after.findings:
        if finding.rule in hard and not any(s.rule == finding.rule and set(s.ids) <= set(finding.subjects) for s in left):
            assert set(finding.subjects) <= unattainable, finding.message
    today = {(f.rule, tuple(f.subjects)) for f in analysis.findings}
    explained = {(u.rule, u.subjects) for u in result.unavoidable}
    for finding in result.after.findings:
        key = (finding.rule, tuple(finding.subjects))
        if finding.level != "info" and key not in today:
            assert key in explained, f"new {finding.rule} {finding.subjects} without a reason"


@pytest.mark.parametrize("seed", range(10))
def test_catalogue_candidates_meet_the_rules_too(tmp_path: Path, seed: int) -> None:
    """With the catalogue's 30 services as candidates (too many to enumerate), the rulebook on the
    optimum still confirms every implied constraint: catalogue dependencies and harms resolve."""
    workspace = random_workspace(tmp_path / "ws", seed, 6 + seed % 9)
    config = workspace / "pmorules.toml"
    config.write_text(config.read_text().replace("include_catalogue = false", "include_catalogue = true"))
    analysis = analyze(workspace, TODAY)
    result = recommend(analysis)
    # catalogue services are candidates, unless they would serve none of the workspace's clients
    assert any(c.origin == "catalogue" for c in result.problem.candidates.values()) or (
        result.problem.excluded and all("no client" in why for why in result.problem.excluded.values()))
    if result.status == "optimal":
        _assert_rules_confirm(analysis, result)
