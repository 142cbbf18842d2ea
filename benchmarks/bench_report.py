"""Benchmark: writing the recommendations report, against analysing alone.

1. The bundled example as a user runs it: fresh ``pmorules analyze`` and ``pmorules report`` processes
   (Markdown and HTML), best and median wall time of several runs, and the ratio report / analyze; the
   report also without the cache of compiled templates (as on its very first run).
   The report analyses once, recommends a mix once (the optimiser verifies its answer with the full
   rulebook), judges each past review once, and draws two charts for HTML.
2. Where the report's time goes, in one warm process: analysis, past reviews, mix, Markdown, HTML.
3. A 1,000-service federation (``shapes.federation``): a fresh ``pmorules report`` process.

    python benchmarks/bench_report.py              # example + 1,000 services
    python benchmarks/bench_report.py --runs 7 --sizes 1000 3000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from shapes import federation  # noqa: E402  (a sibling script, not a package)

AS_OF = "2026-11-25"

PHASES = """
import datetime, json, time
from pmorules.analysis import analyze
from pmorules.diff import history_of
from pmorules.mix import recommend
from pmorules.report import render_report
from pmorules.report import charts  # matplotlib, imported before timing

def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result

best = {{}}
for run in range({runs} + 1):  # run 0 warms up
    times = {{}}
    times["analysis"], analysis = timed(lambda: analyze({workspace!r}, datetime.date.fromisoformat({as_of!r})))
    times["past reviews"], history = timed(lambda: history_of(analysis))
    times["mix"], mix = timed(lambda: recommend(analysis))
    times["markdown"], _ = timed(lambda: render_report(analysis, mix, "md", history=history))
    times["html"], _ = timed(lambda: render_report(analysis, mix, "html", history=history))
    if run:
        for key, value in times.items():
            best[key] = min(best.get(key, value), value)
print(json.dumps(best))
"""


def wall(args: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall and CPU times of ``runs`` fresh ``pmorules`` processes (after one warm-up, which leaves the
    compiled modules and templates that an installed pmorules has from its second run on). CPU time varies
    less than wall time on a shared machine."""
    times, cpu = [], []
    for run in range(runs + 1):
        start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "pmorules", *args], cwd=ROOT, check=True, capture_output=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if run:
            times.append(time.perf_counter() - start)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return times, cpu


def phases(workspace: str, runs: int) -> dict[str, float]:
    code = PHASES.format(workspace=workspace, as_of=AS_OF, runs=runs)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def compare(workspace: str, runs: int, out: Path) -> None:
    # as installed: pip writes compiled modules at install time, so the children may write them too
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PMORULES_CACHE_DIR": str(out / "cache")}
    analyze = wall(["analyze", workspace, "--as-of", AS_OF], runs, env)
    rows = [("analyze", analyze)]
    for fmt in ("md", "html"):
        report = ["report", workspace, "--as-of", AS_OF, "-o", str(out / f"r.{fmt}")]
        rows.append((f"report ({fmt})", wall(report, runs, env)))
        rows.append(("  no tmpl cache", wall(report, runs, env | {"PMORULES_CACHE_DIR": ""})))
    print(f"{'command':<16} {'best s':>7} {'median s':>9} {'best / analyze':>15} {'CPU s':>6} {'CPU / analyze':>14}")
    for name, (times, cpu) in rows:
        print(f"{name:<16} {min(times):>7.2f} {statistics.median(times):>9.2f} {min(times) / min(analyze[0]):>15.2f}"
              f" {min(cpu):>6.2f} {min(cpu) / min(analyze[1]):>14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pmorules-bench-report-") as tmp:
        out = Path(tmp)
        print(f"knowledge/example, fresh processes, best of {args.runs}:")
        compare("knowledge/example", args.runs, out)
        print("\nwhere the report's time goes (one warm process, best of runs):")
        for name, seconds in phases("knowledge/example", args.runs).items():
            print(f"  {name:<13} {seconds:.3f} s")
        for n in args.sizes:
            workspace = out / f"federation{n}"
            federation(workspace, n)
            runs = max(1, min(3, args.runs))
            print(f"\nfederation of {n} services, fresh processes, best of {runs}:")
            compare(str(workspace), runs, out)
            print("  phases:", ", ".join(f"{k} {v:.2f} s" for k, v in phases(str(workspace), 1).items()))


if __name__ == "__main__":
    main()
