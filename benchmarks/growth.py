"""Growth test: how time, memory and output size grow with the input, per shape of benchmarks/shapes.py.

Runs ``pmorules analyze --format json`` in a fresh process, as a user does, at each size (default 3,000, 10,000
and 30,000 services) on every shape, and fits the exponent k of ``y = c · n^k`` (least squares on the logs) for
the CPU time of the process, its peak memory and the size of its output. Linear growth is k = 1; the run fails
(exit 1) when any exponent is above --limit (default 1.15), so a cost that grows with the square of the input
shows before it is felt. CPU time, not wall time: the benchmark machine is shared, and a busy neighbour
stretches the wall clock, not the work. This is a benchmark run, not a unit test: 30,000 services take
minutes per shape.

    python benchmarks/growth.py                                  # every shape, 3000 10000 30000
    python benchmarks/growth.py 1000 3000 10000 --shape deep-chain
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from findings_same import generate  # noqa: E402
from shapes import SHAPES  # noqa: E402


def measure(workspace: Path, out: Path) -> tuple[float, float, float]:
    """CPU seconds, peak MiB and output MB of one analysis in a fresh process (this process stays small: a
    child starts as a copy of its parent, whose memory would count in the child's peak)."""
    command = [sys.executable, "-m", "pmorules", "analyze", str(workspace), "--format", "json"]
    with out.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{workspace}: pmorules analyze exited {os.waitstatus_to_exitcode(status)}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.stat().st_size / 1e6


def exponent(sizes: list[int], values: list[float]) -> float:
    """The slope of log(value) against log(size), by least squares."""
    xs, ys = [math.log(n) for n in sizes], [math.log(v) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[3000, 10000, 30000])
    parser.add_argument("--shape", action="append", choices=list(SHAPES), help="default: every shape")
    parser.add_argument("--limit", type=float, default=1.15, help="the highest exponent that passes")
    args = parser.parse_args()
    if len(set(args.sizes)) < 2:
        parser.error("give at least two different sizes")
    failed = []
    print(f"{'shape':>18} {'services':>8} {'CPU s':>7} {'peak MiB':>8} {'JSON MB':>8}")
    with tempfile.TemporaryDirectory(prefix="pmorules-growth-") as tmp:
        for shape in args.shape or list(SHAPES):
            rows = []
            for n in args.sizes:
                workspace = Path(tmp) / f"{shape}-{n}"
                generate(shape, workspace, n)
                rows.append(measure(workspace, Path(tmp) / "out.json"))
                print(f"{shape:>18} {n:>8} {rows[-1][0]:>7.2f} {rows[-1][1]:>8.0f} {rows[-1][2]:>8.2f}", flush=True)
            fits = {what: exponent(args.sizes, [r[i] for r in rows])
                    for i, what in enumerate(("time", "memory", "output"))}
            verdict = [what for what, k in fits.items() if k > args.limit]
            print(f"{shape:>18} exponents: " + ", ".join(f"{what} {k:.2f}" for what, k in fits.items())
                  + (f"  ABOVE {args.limit}: {', '.join(verdict)}" if verdict else "  ok"), flush=True)
            failed += [f"{shape} {what}" for what in verdict]
    if failed:
        raise SystemExit(f"grows faster than n^{args.limit}: {'; '.join(failed)}")


if __name__ == "__main__":
    main()
