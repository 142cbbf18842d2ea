"""Benchmark: writing the recommendations report.

1. The bundled example, as the README runs it: one fresh ``python -c`` process that
   imports pmorules, analyses ``knowledge/example`` and renders the HTML report
   (matplotlib's import included). Wall time of the whole process, best and median
   of several runs; target <= 1.5 s. The process also reports where its time went.
2. A generated workspace of 1,000 services (``bench_load.generate``): time to
   analyse, to render HTML and Markdown, and the size of each report.

    python benchmarks/bench_report.py              # example + 1000 services
    python benchmarks/bench_report.py --runs 7 --sizes 1000 3000
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import generate  # noqa: E402  (a sibling script, not a package)

PROBE = """
import time
start = time.perf_counter()
import datetime, json
from pmorules.analysis import analyze
from pmorules.report import render_report
from pmorules.report import charts  # matplotlib
imported = time.perf_counter()
analysis = analyze({workspace!r}, datetime.date(2026, 11, 25))
analysed = time.perf_counter()
sizes = {{fmt: len(render_report(analysis, fmt)) for fmt in {formats!r}}}
done = time.perf_counter()
print(json.dumps({{"import": imported - start, "analyse": analysed - imported, "render": done - analysed,
                  "services": len(analysis.kb.services), "findings": len(analysis.findings), "sizes": sizes}}))
"""


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def probe(workspace: str, formats: list[str]) -> tuple[float, float, dict]:
    """Run one fresh process; return its wall time, its CPU time and what it measured inside.

    CPU time is given too because wall time on a shared machine includes waiting for a core.
    """
    cpu, start = _child_cpu(), time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(workspace=workspace, formats=formats)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return time.perf_counter() - start, _child_cpu() - cpu, json.loads(out.stdout)


def render_only(workspace: str, fmt: str, runs: int) -> float:
    """Best time to render one format in a warm process (analysis done once)."""
    code = (
        "import datetime, time; from pmorules.analysis import analyze; from pmorules.report import render_report\n"
        f"a = analyze({workspace!r}, datetime.date(2026, 11, 25)); render_report(a, {fmt!r}); best = 1e9\n"
        f"for _ in range({runs}):\n"
        f"    t = time.perf_counter(); render_report(a, {fmt!r}); best = min(best, time.perf_counter() - t)\n"
        "print(best)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000])
    args = parser.parse_args()

    probe("knowledge/example", ["html"])  # warm the file cache and matplotlib's font cache
    walls, cpus, inside = [], [], []
    for _ in range(args.runs):
        wall, cpu, measured = probe("knowledge/example", ["html"])
        walls.append(wall)
        cpus.append(cpu)
        inside.append(measured)
    best = inside[walls.index(min(walls))]
    print(f"example, fresh process (import + analyse + HTML report), {args.runs} runs:")
    print(f"  wall best {min(walls):.2f} s, median {statistics.median(walls):.2f} s (target <= 1.5 s);"
          f" CPU best {min(cpus):.2f} s, median {statistics.median(cpus):.2f} s")
    print(f"  of which imports {best['import']:.2f} s (pmorules and matplotlib), analysis {best['analyse']:.2f} s,"
          f" report {best['render']:.2f} s; HTML {best['sizes']['html'] / 1024:.0f} KiB, {best['findings']} findings")
    print(f"  warm render: html {render_only('knowledge/example', 'html', args.runs):.3f} s,"
          f" md {render_only('knowledge/example', 'md', args.runs):.3f} s")

    with tempfile.TemporaryDirectory(prefix="pmorules-bench-report-") as tmp:
        for n in args.sizes:
            workspace = Path(tmp) / f"ws{n}"
            generate(workspace, n)
            wall, cpu, measured = probe(str(workspace), ["html", "md"])
            html_time = render_only(str(workspace), "html", 1)
            md_time = render_only(str(workspace), "md", 1)
            print(f"{measured['services']} services, {measured['findings']} findings:")
            print(f"  fresh process {wall:.2f} s wall, {cpu:.2f} s CPU (imports {measured['import']:.2f} s, analysis {measured['analyse']:.2f} s,"
                  f" HTML + Markdown {measured['render']:.2f} s)")
            print(f"  warm render: html {html_time:.2f} s, md {md_time:.2f} s")
            print(f"  size: HTML {measured['sizes']['html'] / 1e6:.2f} MB, Markdown {measured['sizes']['md'] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
