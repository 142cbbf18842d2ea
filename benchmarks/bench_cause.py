"""Benchmark: what crediting changes by counterfactual costs a comparison (``pmorules diff``, "Since the last
review") on the 1,000-service workspace of bench_analyze.py.

The later side changes the probability of K services (every 1000/K-th one); the comparison undoes each change
alone on the later side and re-evaluates the rulebook once per change. Printed per K: the time of the comparison
by counterfactual, the time with the fallback ("findings about" each service, ``counterfactual.LIMIT`` set to 0),
and the cost per change. ``counterfactual.LIMIT`` (changes × services) is chosen from these figures.

    python benchmarks/bench_cause.py                 # 1,000 services, K = 10, 50, 200 (minutes: ~2.5 s per change)
    python benchmarks/bench_cause.py --services 1000 --changes 10 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analyze import generate  # noqa: E402

from pmorules import counterfactual  # noqa: E402
from pmorules.analysis import analyze  # noqa: E402
from pmorules.diff import Side, compare  # noqa: E402

TODAY = dt.date(2026, 3, 1)


def changed(text: str, k: int, n: int) -> str:
    """The workspace with the probability of every (n // k)-th service moved by 0.1 (the first k of them)."""
    step, seen = max(1, n // k), [0]

    def move(match: re.Match[str]) -> str:
        index = seen[0]
        seen[0] += 1
        if index % step or index // step >= k:
            return match.group(0)
        value = float(match.group(1))
        return f"    probability: {round(value - 0.1 if value > 0.5 else value + 0.1, 2)}"

    return re.sub(r"^    probability: ([0-9.]+)$", move, text, flags=re.M)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--changes", type=int, nargs="+", default=[10, 50, 200])
    args = parser.parse_args()
    n = args.services
    with tempfile.TemporaryDirectory() as temp:
        old_ws = Path(temp) / "old"
        generate(old_ws, n)
        old = analyze(old_ws, TODAY)
        print(f"{n} services; one analysis {_time(lambda: analyze(old_ws, TODAY)):.2f} s")
        limit = counterfactual.LIMIT
        for k in args.changes:
            new_ws = Path(temp) / f"new{k}"
            new_ws.mkdir()
            for path in old_ws.iterdir():
                text = path.read_text(encoding="utf-8")
                (new_ws / path.name).write_text(changed(text, k, n) if path.name.startswith("services") else text, encoding="utf-8")
            new = analyze(new_ws, TODAY)
            sides = Side("old", TODAY.isoformat()), Side("new", TODAY.isoformat())
            counterfactual.LIMIT = 10**12
            diff = compare(old, new, *sides)
            credited = _time(lambda: compare(old, new, *sides))
            counterfactual.LIMIT = 0
            fallback = _time(lambda: compare(old, new, *sides))
            counterfactual.LIMIT = limit
            print(f"K={len(diff.changes):4d} changes: counterfactual {credited:6.2f} s, findings-about {fallback:5.2f} s, "
                  f"{(credited - fallback) / max(len(diff.changes), 1) * 1000:5.0f} ms per change; "
                  f"within LIMIT ({limit:,}): {counterfactual.affordable(len(diff.changes), n)}")


def _time(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
