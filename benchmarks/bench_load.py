"""Benchmark: loading a workspace versus plain libyaml parsing.

Generates workspaces of 100, 1,000 and 10,000 services (each with about three
dependency/harm edges, clients, outcomes and a realistic mix of fields) into a
temporary directory and prints, per size: the knowledge size in MB, the time
libyaml alone takes to parse the YAML (``yaml.load(text, Loader=yaml.CSafeLoader)``,
the baseline), the time ``pmorules.knowledge.load_workspace`` takes to read,
validate and resolve it, their ratio (target <= 1.5) and the peak memory of a
fresh process that loads it. ``load_workspace`` pauses Python's cyclic garbage
collector while it runs, so the table also gives the baseline with the collector
off and the ratio to that: the like-for-like measure of the loader's own work.

Each size is measured in its own subprocess so peak memory (ru_maxrss) is per
size. Times are CPU seconds of that process, the best of several runs after one
warm-up run (the built-in catalogue is read once per process and is warm when timed).

    python benchmarks/bench_load.py                  # 100, 1000, 10000
    python benchmarks/bench_load.py 100 1000 --runs 5
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TERMS = ["short", "medium", "long"]
APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]
STATUSES = ["active"] * 8 + ["proposed", "retired"]
TAGS = ["control", "reporting", "coaching", "governance", "tools", "quick-win", "people"]
CATALOGUE = [f"S{i:02d}" for i in range(1, 27)]


def _service(i: int, n: int, rng: random.Random, n_clients: int) -> list[str]:
    """One service as YAML lines (hand-written, the way a person writes them)."""
    lines = [f"  - id: svc-{i:05d}", f"    name: Service number {i} for the {rng.choice(TAGS)} work"]
    if i < len(CATALOGUE):
        lines.append(f"    catalogue: {CATALOGUE[i]}")
    lines.append(f"    status: {rng.choice(STATUSES)}")
    if rng.random() < 0.3:
        lines.append(f"    months_to_value: {rng.choice([1, 2, 4, 6, 9, 15, 24])}")
    else:
        lines.append(f"    term: {rng.choice(TERMS)}")
    lines.append(f"    probability: {rng.randint(30, 95) / 100}")
    lines.append(f"    effort: {rng.randint(1, 40)}")
    if rng.random() < 0.7:
        lines.append(f"    approach: {rng.choice(APPROACHES)}")
    lines.append(f"    tags: [{', '.join(rng.sample(TAGS, rng.randint(0, 3)))}]")
    lines.append(f"    clients: [{', '.join(f'c{k:03d}' for k in rng.sample(range(n_clients), 2))}]")
    lines.append(f"    outcomes: [{', '.join(f'O{k:02d}' for k in rng.sample(range(1, 31), 2))}]")
    others = [k for k in rng.sample(range(n), min(n, 5)) if k != i][:3]
    deps, harm = others[:2], others[2:]
    if deps:
        lines.append("    depends_on:")
        for k, dep in enumerate(deps):
            if k % 2:
                lines.append(f"      - {{service: svc-{dep:05d}, kind: soft, reason: needs its data}}")
            else:
                lines.append(f"      - svc-{dep:05d}:hard")
    if harm:
        mitigator = rng.randrange(n)
        lines += [
            "    harms:",
            f"      - target: svc-{harm[0]:05d}",
            f"        severity: {rng.choice(['low', 'medium', 'high'])}",
            "        reason: competes for the same people and attention",
            f"        mitigated_by: [svc-{mitigator:05d}]",
        ]
    if rng.random() < 0.2:
        lines += ["    assessments:", f"      - {{by: sme{rng.randint(1, 9)}, term: {rng.choice(TERMS)}, probability: 0.7}}"]
    return lines


def generate(workspace: Path, n: int, seed: int = 7) -> None:
    """Write a workspace of ``n`` services (two YAML files)."""
    rng = random.Random(seed)
    n_clients = max(5, n // 20)
    n_goals = max(3, min(n // 10, 50))  # a PMO pursues tens of goals, not thousands
    workspace.mkdir(parents=True, exist_ok=True)
    org = [
        "organisation:",
        "  name: Benchmark PMO",
        "  age_months: 14",
        "  context: growing",
        "  capacity_fte: 12",
        "horizons:",
        "  short_max_months: 3",
        "  medium_max_months: 12",
        "clients:",
    ]
    for k in range(n_clients):
        org += [f"  - id: c{k:03d}", f"    name: Client {k}", f"    weight: {rng.randint(1, 10) / 10}"]
    org.append("goals:")
    for g in range(n_goals):
        org += [
            f"  - id: G{g}",
            f"    name: Goal {g}",
            f"    outcomes: [O{rng.randint(1, 30):02d}]",
            f"    services: [svc-{rng.randrange(n):05d}]",
            f"    due_months: {rng.choice([3, 6, 12])}",
            f"    client: c{rng.randrange(n_clients):03d}",
        ]
    (workspace / "organisation.yaml").write_text("\n".join(org) + "\n", encoding="utf-8")
    lines = ["services:"]
    for i in range(n):
        lines += _service(i, n, rng, n_clients)
    (workspace / "services.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _best(func, runs: int) -> float:
    """Best CPU time of the process over ``runs`` runs (CPU time: a busy machine disturbs it less)."""
    func()  # warm-up
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    return best


def measure(workspace: Path, runs: int) -> dict:
    """Run inside a fresh subprocess: times and peak memory for one workspace."""
    import resource

    from pmorules.knowledge import load_workspace

    texts = [p.read_text(encoding="utf-8") for p in sorted(workspace.glob("*.yaml"))]
    size = sum(len(t.encode("utf-8")) for t in texts)
    kb = load_workspace(workspace)  # also warms the catalogue
    libyaml = _best(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts], runs)
    gc.disable()  # the same baseline without the cyclic GC, which load_workspace pauses itself
    libyaml_nogc = _best(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts], runs)
    gc.enable()
    loader = _best(lambda: load_workspace(workspace), runs)
    return {
        "services": len(kb.services),
        "mb": size / 1e6,
        "libyaml": libyaml,
        "libyaml_nogc": libyaml_nogc,
        "pmorules": loader,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: measure one workspace
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.runs)))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="pmorules-bench-") as tmp:
        for n in args.sizes:
            workspace = Path(tmp) / f"ws{n}"
            generate(workspace, n)
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(workspace), "--runs", str(args.runs)],
                check=True, capture_output=True, text=True,
            )
            rows.append(json.loads(out.stdout))
    print(
        f"{'services':>8} | {'file MB':>7} | {'libyaml s':>9} | {'pmorules s':>10} | {'ratio':>5} | "
        f"{'libyaml s, GC off':>17} | {'ratio':>5} | {'peak MB':>7}"
    )
    print("|".join("-" * (w + 2) for w in (8, 7, 9, 10, 5, 17, 5, 7))[1:-1])
    for r in rows:
        print(
            f"{r['services']:>8} | {r['mb']:>7.2f} | {r['libyaml']:>9.3f} | {r['pmorules']:>10.3f} | "
            f"{r['pmorules'] / r['libyaml']:>5.2f} | {r['libyaml_nogc']:>17.3f} | "
            f"{r['pmorules'] / r['libyaml_nogc']:>5.2f} | {r['peak_mb']:>7.0f}"
        )

if __name__ == "__main__":
    main()
