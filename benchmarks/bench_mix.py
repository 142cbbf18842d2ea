"""Benchmark the mix optimiser: 20 / 50 / 200 / 500 candidate services and 30 goals.

Each size is a synthetic workspace (70% active, 30% proposed; outcomes, hard and soft
dependencies without cycles, approach-dependent harms with mitigators, goals with deadlines and
clients; the default rulebook's constraints), analysed by the real pipeline. The time is model
building plus solving to proven optimality (HiGHS, relative gap 0); the counterfactual reasons and
the rulebook run on the result are timed apart. Target: 200 candidates in at most 2 s.

    python benchmarks/bench_mix.py [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pmorules.analysis import analyze
from pmorules.mix import recommend
from pmorules.mix.milp import build_program, solve
from pmorules.mix.problem import build_problem

SIZES = (20, 50, 200, 500)
GOALS = 30
OUTCOMES = [f"O{i:02d}" for i in range(1, 31)]
APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]


def workspace(root: Path, size: int, seed: int) -> Path:
    rng = random.Random(seed)
    ids = [f"svc{i:03d}" for i in range(size)]
    lines = ["organisation: {name: Bench PMO}", "clients:"]
    lines += [f"  - {{id: c{i}, weight: {rng.choice([0.3, 0.6, 1.0])}}}" for i in range(4)]
    lines.append("services:")
    for index, sid in enumerate(ids):
        deps = []
        if index and rng.random() < 0.3:  # towards earlier services only: no cycles
            deps.append(f"{{service: {ids[rng.randrange(index)]}, kind: hard}}")
        if index and rng.random() < 0.3:
            deps.append(f"{{service: {ids[rng.randrange(index)]}, kind: soft}}")
        harms = []
        if rng.random() < 0.1:
            target = rng.choice(ids)
            if target != sid:
                mitigators = ", ".join(rng.sample(ids, 2))
                harms.append(
                    f"{{target: {target}, severity: {rng.choice(['medium', 'high'])}, "
                    f"approaches: [controlling, directive], mitigated_by: [{mitigators}]}}"
                )
        lines += [
            f"  - id: {sid}",
            f"    status: {'active' if rng.random() < 0.7 else 'proposed'}",
            f"    term: {rng.choice(['short', 'short', 'medium', 'medium', 'long'])}",
            f"    probability: {rng.choice([0.35, 0.5, 0.6, 0.7, 0.8, 0.9])}",
            f"    effort: {rng.randint(1, 10)}",
            f"    approach: {rng.choice(APPROACHES)}",
            f"    clients: [c{rng.randrange(4)}]",
            f"    outcomes: [{', '.join(rng.sample(OUTCOMES, rng.randint(1, 3)))}]",
            f"    depends_on: [{', '.join(deps)}]",
            f"    harms: [{', '.join(harms)}]",
        ]
    lines.append("goals:")
    for g in range(GOALS):
        lines += [
            f"  - id: goal{g:02d}",
            f"    outcomes: [{', '.join(rng.sample(OUTCOMES, rng.randint(2, 3)))}]",
            f"    due_months: {rng.choice([6, 9, 12, 18, 24])}",
            f"    priority: {rng.choice([1, 2, 3])}",
            f"    client: c{rng.randrange(4)}",
        ]
    root.mkdir(parents=True, exist_ok=True)
    (root / "workspace.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "pmorules.toml").write_text("[mix]\ninclude_catalogue = false\n", encoding="utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    table = Table(title="pmorules mix: build + solve to optimality")
    for column in ("candidates", "goals", "variables", "rows", "time (s)", "status", "changes", "full recommend (s)"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            analysis = analyze(workspace(Path(tmp) / f"ws{size}", size, args.seed), dt.date(2026, 11, 25))
            start = time.perf_counter()
            problem = build_problem(analysis)
            program = build_program(problem)
            solution = solve(program, problem)
            elapsed = time.perf_counter() - start
            start = time.perf_counter()
            result = recommend(analysis)
            full = time.perf_counter() - start
            table.add_row(
                str(len(problem.candidates)), str(GOALS), str(len(program.cost)), str(len(program.rows)),
                f"{elapsed:.3f}", "optimal" if solution else "infeasible", str(len(result.changes)), f"{full:.2f}",
            )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
