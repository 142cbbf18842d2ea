"""Benchmark the mix optimiser.

1. 20 / 50 / 200 / 500 candidate services and 30 goals: a synthetic workspace per size (70% active,
   30% proposed; outcomes, hard and soft dependencies without cycles, approach-dependent harms with
   mitigators, goals with deadlines and clients; the default rulebook), analysed by the real pipeline.
   "solve" is building the problem (the engine probes included) and the program, and solving to proven
   optimality (HiGHS, relative gap 0); "recommend" adds the full rulebook on the optimum (and any
   re-solve it asks for), the reasons and the unavoidable findings. Target: 200 candidates in 2 s.
2. The federation shape of issue 14 (benchmarks/shapes.py) at 1,000 services: ``pmorules mix`` (recommend)
   and ``pmorules report`` (analysis, mix and rendering of the HTML report, without past reviews), best of
   --runs. Target (issue 22): 3 s each; the report with its history section is timed by bench_report.py.
3. With ``--shapes N``: the mix on every other shape of benchmarks/shapes.py at N services (one run each: on
   the dense-cycle shape at 1,000 services it took 34 to 330 s, by seed, when first measured, because the
   core services cannot all stay and choosing which to keep is a hard program; the others take about 2 s).
   The solver's runs are listed with their time and branch-and-bound nodes.

    python benchmarks/bench_mix.py [--seed N] [--runs 3] [--federation 1000] [--shapes 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import highspy
from rich.console import Console
from rich.table import Table

from pmorules.analysis import analyze
from pmorules.mix import recommend
from pmorules.mix.milp import build_program, solve
from pmorules.mix.problem import build_problem
from pmorules.report import render_report

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shapes import SHAPES, federation

AS_OF = dt.date(2026, 3, 20)

SIZES = (20, 50, 200, 500)
GOALS = 30
OUTCOMES = [f"O{i:02d}" for i in range(1, 31)]
APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]


def workspace(root: Path, size: int, seed: int) -> Path:
    """A synthetic workspace of ``size`` services and 30 goals."""
    rng = random.Random(seed)
    ids = [f"svc{i:03d}" for i in range(size)]
    lines = ["organisation: {name: Bench PMO}", "clients:"]
    lines += [f"  - {{id: c{i}, weight: {rng.choice([0.3, 0.6, 1.0])}}}" for i in range(4)]
    lines.append("services:")
    for index, sid in enumerate(ids):
        deps, hard = [], None
        if index and rng.random() < 0.3:  # towards earlier services only: no cycles
            hard = ids[rng.randrange(index)]
            deps.append(f"{{service: {hard}, kind: hard}}")
        if index and rng.random() < 0.3:
            soft = ids[rng.randrange(index)]
            if soft != hard:  # the same service twice is a duplicate entry, which the loader refuses (seed 7)
                deps.append(f"{{service: {soft}, kind: soft}}")
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


def _best(runs: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--federation", type=int, default=1000, help="services of the federation workspace (0: skip)")
    parser.add_argument("--shapes", type=int, default=0, help="services of the other shapes' workspaces (0: skip)")
    args = parser.parse_args()
    table = Table(title="pmorules mix: synthetic workspaces, best of --runs")
    for column in ("candidates", "goals", "variables", "rows", "solve (s)", "status", "recommend (s)", "changes", "rounds"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            analysis = analyze(workspace(Path(tmp) / f"ws{size}", size, args.seed), AS_OF)

            def solved(analysis=analysis):
                problem = build_problem(analysis)
                program = build_program(problem)
                return problem, program, solve(program, problem)

            elapsed, (problem, program, _) = _best(args.runs, solved)
            full, result = _best(args.runs, lambda analysis=analysis: recommend(analysis))
            table.add_row(
                str(len(problem.candidates)), str(GOALS), str(len(program.cost)), str(len(program.rows)),
                f"{elapsed:.2f}", result.status, f"{full:.2f}", str(len(result.changes)), str(result.rounds),
            )
        Console(width=140).print(table)
        if args.federation:
            root = Path(tmp) / "federation"
            federation(root, args.federation)
            shape = Table(title=f"federation shape, {args.federation} services, best of {args.runs}")
            for column in ("command", "candidates", "time (s)", "target (s)", "status", "changes", "rounds"):
                shape.add_column(column, justify="right")
            mix_time, result = _best(args.runs, lambda: recommend(analyze(root, AS_OF)))
            shape.add_row("mix (analyse + recommend)", str(len(result.problem.candidates)), f"{mix_time:.2f}", "3",
                          result.status, str(len(result.changes)), str(result.rounds))

            def report():
                analysis = analyze(root, AS_OF)
                return render_report(analysis, recommend(analysis), "html")

            report_time, html = _best(args.runs, report)
            shape.add_row("report (analyse + mix + HTML)", str(len(result.problem.candidates)), f"{report_time:.2f}",
                          "3", f"{len(html) // 1024} KiB", "", "")
            Console(width=140).print(shape)
        if args.shapes:
            _other_shapes(Path(tmp), args.shapes)


def _other_shapes(root: Path, size: int) -> None:
    """The mix on each shape but the federation, once, with each solver run's time and nodes."""
    table = Table(title=f"the mix on the other shapes, {size} services, one run each")
    for column in ("shape", "recommend (s)", "status", "rounds", "solver runs (s, nodes)"):
        table.add_column(column, justify="right")
    runs: list[tuple[float, int]] = []
    plain = highspy._Highs

    class Timed(plain):  # each run's time and branch-and-bound nodes, for the table
        def run(self):
            start = time.perf_counter()
            status = super().run()
            runs.append((time.perf_counter() - start, self.getInfo().mip_node_count))
            return status

    highspy._Highs = Timed
    try:
        for name, make in SHAPES.items():
            if name == "federation":
                continue
            make(root / name, size)
            analysis = analyze(root / name, AS_OF)
            runs.clear()
            start = time.perf_counter()
            result = recommend(analysis)
            elapsed = time.perf_counter() - start
            table.add_row(name, f"{elapsed:.2f}", result.status, str(result.rounds),
                          ", ".join(f"{seconds:.2f} ({nodes})" for seconds, nodes in runs))
    finally:
        highspy._Highs = plain
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
