"""Benchmark the what-if workbench of ``pmorules serve`` (issue 26), warm as the server keeps it.

1. The example: a what-if as the API answers it (``/api/what-if``: one re-analysis and the mix's JSON;
   ``/api/what-if/changes``: what the panel shows first; target 300 ms), the report of a what-if with its changes (``/api/what-if/report``, what the page swaps
   in), and a rendering after a file edit (analysis, recommended mix, the page with its panel: target 1 s).
2. The federation shape of issue 14 (benchmarks/shapes.py) at 1,000 services: the same what-ifs
   (target 2 s).

Each figure is the best of --runs, after one warm-up run.

    python benchmarks/bench_whatif.py [--runs 5] [--federation 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pmorules.serve import Preview
from pmorules.workbench import Workbench

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shapes import federation

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 3, 20)


def best(runs: int, work: Callable[[], object]) -> float:
    work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def what_if_of(bench: Workbench) -> dict:
    """Drop the first running service, move the second's approach and the third's effort by a step."""
    running = [s for s in bench.today.kb.services.values() if s.active]
    approach = next(a for a in ("supportive", "facilitative") if a != running[1].approach)
    return {"drop": [running[0].id], "approach": {running[1].id: approach},
            "effort": {running[2].id: running[2].effort + bench.result.problem.units.step}}


def measure(workspace: Path, runs: int, label: str, target: float, table: Table) -> None:
    start = time.perf_counter()
    bench = Workbench.load(workspace, AS_OF)
    loaded = time.perf_counter() - start
    what_if = what_if_of(bench)
    answer = best(runs, lambda: bench.mix_json(bench.apply(what_if)))
    table.add_row(label, "/api/what-if (mix JSON)", f"{answer * 1000:.0f} ms", f"{target * 1000:.0f} ms")
    changes = best(runs, lambda: bench.changes(bench.apply(what_if)))
    table.add_row(label, "/api/what-if/changes (the panel's answer)", f"{changes * 1000:.0f} ms", f"{target * 1000:.0f} ms")

    def report() -> None:
        variant = bench.apply(what_if)
        bench.report(variant)
        bench.changes(variant)

    table.add_row(label, "/api/what-if/report (page body)", f"{best(runs, report) * 1000:.0f} ms", "")
    table.add_row(label, "load (analysis + recommended mix)", f"{loaded * 1000:.0f} ms", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--federation", type=int, default=1000)
    args = parser.parse_args()
    table = Table("workspace", "what", "best", "target")
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(tmp) / "example"
        shutil.copytree(ROOT / "knowledge" / "example", example)
        measure(example, args.runs, "example", 0.3, table)
        preview = Preview(example, AS_OF, lambda line: None, "")
        table.add_row("example", "edit → page rendered again", f"{best(args.runs, preview.render) * 1000:.0f} ms", "1000 ms")
        shape = Path(tmp) / "federation"
        shape.mkdir()
        federation(shape, args.federation)
        measure(shape, max(1, args.runs // 2), f"federation {args.federation}", 2.0, table)
    Console().print(table)


if __name__ == "__main__":
    main()
