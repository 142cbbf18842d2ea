"""Benchmark the what-if workbench of ``pmorules serve`` (issue 26), warm as the server keeps it.

1. The example: a what-if as the API answers it (``/api/what-if``: one re-analysis and the mix's JSON;
   ``/api/what-if/changes``: what the panel shows first; target 300 ms), the report of a what-if with its changes
   (``/api/what-if/report``, what the page swaps in), and the page rendered again after a file edit, as the
   server does it when watchfiles reports the change (target 1 s): in all, and stage by stage (analysis,
   the recommended mix with the history of reviews judged meanwhile in a second thread, the page with its
   charts). Each edit writes a new value
   (a service's probability), so nothing keyed by content is found from an earlier edit.
2. The federation shape of issue 14 (benchmarks/shapes.py) at 1,000 services: the same what-ifs
   (target 2 s).

Each figure is the best of --runs, after one warm-up run; the load average is printed beside the table
(the machine may be shared).

    python benchmarks/bench_whatif.py [--runs 5] [--federation 1000 (0: the example only)]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pmorules.analysis import analyze
from pmorules.mix.problem import additions
from pmorules.report.warm import Warm
from pmorules.serve import Preview, _watch
from pmorules.workbench import Workbench, recommend_and_judge

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
    bench = Workbench.load(workspace, AS_OF, warm=Warm())  # as the server keeps it
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


class Edits:
    """A person editing the example: each call writes the first service's probability anew."""

    def __init__(self, workspace: Path):
        self.file = workspace / "services.yaml"
        self.text = self.file.read_text(encoding="utf-8")
        self.values = itertools.count()

    def __call__(self) -> None:
        value = 0.5 + next(self.values) % 400 / 1000
        self.file.write_text(self.text.replace("probability: 0.8 ", f"probability: {value:.3f} ", 1), encoding="utf-8")


def live(workspace: Path, runs: int, edit: Edits) -> float:
    """From a file edit to the page rendered again, as ``serve`` runs it: its watcher thread sees the change
    (watchfiles) and renders (Preview.render, its caches warm); the best of ``runs`` after one warm-up."""
    preview = Preview(workspace, AS_OF, lambda line: None, "")
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(preview, stop), daemon=True)
    watcher.start()
    while preview.current()[0] == 0:
        time.sleep(0.05)
    times = []
    for _ in range(runs + 1):
        version = preview.current()[0]
        start = time.perf_counter()
        edit()
        while preview.current()[0] == version:
            time.sleep(0.02)
        times.append(time.perf_counter() - start)
        time.sleep(0.2)  # the watcher's batch is over before the next edit
    stop.set()
    watcher.join(timeout=10)
    return min(times[1:])


def rerender(workspace: Path, runs: int, table: Table) -> None:
    """The page rendered again after an edit, as ``serve`` does it, and its stages one by one after an edit each."""
    edit = Edits(workspace)
    total = live(workspace, runs, edit)
    warm = Warm()
    Workbench.load(workspace, AS_OF, warm=warm).report(None)
    stages: dict[str, float] = {}

    def staged() -> None:
        edit()
        times = [time.perf_counter()]
        today = analyze(workspace, AS_OF)
        times.append(time.perf_counter())
        result, history = recommend_and_judge(today)
        times.append(time.perf_counter())
        Workbench(today, result, additions(today), history, warm=warm).report(None)
        times.append(time.perf_counter())
        stage_names = ("analysis", "recommended mix, the reviews judged meanwhile", "page and charts")
        for name, start, end in zip(stage_names, times, times[1:]):
            stages[name] = min(stages.get(name, end - start), end - start)

    best(runs, staged)
    table.add_row("example", "edit → page rendered again", f"{total * 1000:.0f} ms", "1000 ms")
    for name, seconds in stages.items():
        table.add_row("example", f"  of which {name}", f"{seconds * 1000:.0f} ms", "")


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
        rerender(example, args.runs, table)
        if args.federation:  # 0: the example only
            shape = Path(tmp) / "federation"
            shape.mkdir()
            federation(shape, args.federation)
            measure(shape, max(1, args.runs // 2), f"federation {args.federation}", 2.0, table)
    Console().print(table)
    print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
