"""Benchmark: writing the recommendations report, against analysing alone.

1. The bundled example as a user runs it: fresh ``pmorules analyze`` and ``pmorules report`` processes
   (Markdown and HTML), best and median wall time of several runs, and the ratio report / analyze; the
   report also "uncached": without the cache of compiled templates, as on its very first run. The commands
   run in turn, round after round, so a machine whose speed drifts moves them alike.
   The report analyses once, recommends a mix once (the optimiser verifies its answer with the full
   rulebook), judges each past review once, and draws five charts for HTML (with a second core free, in a
   drawer forked before the analysis is imported: the CPU column then exceeds the wall time).
2. Where the report's time goes, in one warm process: analysis, past reviews, mix, Markdown, HTML.
3. A 1,000-service federation (``shapes.federation``) with one past review, so the report has its history
   section, the trend and the counterfactual attribution of the moves since (the snapshot: the same
   generator at 95% of the size, so services come and go and links change): a fresh ``pmorules report``.

Targets (issue 22): the example's HTML report within 1.5× ``analyze``; the 1,000-service HTML report in 3 s.

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

AS_OF = "2026-03-20"

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


def with_past_review(workspace: Path, n: int) -> None:
    """A federation of ``n`` services with one past review three months back, named in pmorules.toml."""
    federation(workspace, n)
    federation(workspace / "reviews" / "2025-12", n * 95 // 100)
    (workspace / "pmorules.toml").write_text(
        '[history.2025-12]\nlabel = "Q4 2025 review"\ndate = 2025-12-19\npath = "reviews/2025-12"\n', encoding="utf-8")


def timed_run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU time of one fresh ``pmorules`` process (CPU time varies less on a shared machine)."""
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "pmorules", *args], cwd=ROOT, check=True, capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def phases(workspace: str, runs: int) -> dict[str, float]:
    code = PHASES.format(workspace=workspace, as_of=AS_OF, runs=runs)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def compare(workspace: str, runs: int, out: Path) -> None:
    """The commands in turn, ``runs`` rounds after a warm-up round (which leaves the compiled modules and
    templates an installed pmorules has from its second run on): a machine that slows down or speeds up
    during the benchmark then moves every command alike, and the ratios stay fair."""
    # as installed: pip writes compiled modules at install time, so the children may write them too
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PMORULES_CACHE_DIR": str(out / "cache")}
    commands = {"analyze": (["analyze", workspace, "--as-of", AS_OF], env)}
    for fmt in ("md", "html"):
        report = ["report", workspace, "--as-of", AS_OF, "-o", str(out / f"r.{fmt}")]
        commands[f"report ({fmt})"] = (report, env)
        commands[f"  {fmt} uncached"] = (report, env | {"PMORULES_CACHE_DIR": ""})
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for run in range(runs + 1):
        for name, (args, environment) in commands.items():
            measured = timed_run(args, environment)
            if run:
                times[name].append(measured)
    base_wall, base_cpu = min(w for w, _ in times["analyze"]), min(c for _, c in times["analyze"])
    print(f"{'command':<16} {'best s':>7} {'median s':>9} {'best / analyze':>15} {'CPU s':>6} {'CPU / analyze':>14}")
    for name, measured in times.items():
        wall, cpu = [w for w, _ in measured], [c for _, c in measured]
        print(f"{name:<16} {min(wall):>7.2f} {statistics.median(wall):>9.2f} {min(wall) / base_wall:>15.2f}"
              f" {min(cpu):>6.2f} {min(cpu) / base_cpu:>14.2f}")


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
            with_past_review(workspace, n)
            runs = max(1, min(3, args.runs))
            print(f"\nfederation of {n} services, fresh processes, best of {runs}:")
            compare(str(workspace), runs, out)
            print("  phases:", ", ".join(f"{k} {v:.2f} s" for k, v in phases(str(workspace), 1).items()))


if __name__ == "__main__":
    main()
