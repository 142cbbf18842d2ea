"""Benchmark: a whole analysis (load, facts, engine, findings) at 100, 1,000 and 10,000 services.

Generates workspaces into a temporary directory and prints, per size: the time of
each phase of ``pmorules.analysis.analyze`` (load and validate the knowledge;
derive the facts; compile the rulebook and evaluate it on durable_rules; build the
findings with their texts and evidence), the total, the peak memory of a fresh
process and the rise of peak memory during the engine phase, the number of facts
and findings; the time libyaml alone takes to parse the same YAML (the baseline)
and the ratio total / libyaml. Then the wall time of ``pmorules analyze
knowledge/example`` as a subprocess, as a user runs it.

Targets (issue #3): engine phase at 10k services <= 1.0 s and
<= 0.5 GiB; end to end <= 3x the libyaml parse; the example well under a second.

The workspaces: services in clusters of 40 (a department's services), each in a
tier (foundation, core, advanced, strategic) and depending on one to three
services of the tier below in its cluster, hard or soft, so dependencies form a
shallow graph as in a real PMO; about half the services name a harm, mostly on
a service of their cluster and sometimes on an outcome; every department has
three outcomes of its own, and services also contribute to the standard
outcomes now and then; clients, goals on outcomes and services (three
organisation-wide goals on standard outcomes, the others on a department's
outcomes), assessments, catalogue references. About three
dependency and harm edges per service. (benchmarks/bench_load.py's generator
draws dependencies among all services at random, which puts nearly every service
in one strongly connected component: every harm then reaches nearly every
service, and the harm-reach facts grow with the square of the size: 484,000
facts at 1,000 services. That measures the graph, not pmorules; see --bench-load.)

Each size runs in its own subprocess so peak memory is per size; times are the
best of --runs runs after a warm-up.

    python benchmarks/bench_analyze.py                 # 100, 1000, 10000
    python benchmarks/bench_analyze.py 100 1000 --runs 5
    python benchmarks/bench_analyze.py 100 1000 --bench-load   # bench_load.py's workspaces instead
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 20)
TERMS_BY_TIER = [("short", 0.6), ("short", 0.3), ("medium", 0.6), ("long", 0.7)]  # tier -> usual term, chance of it
TIER_SHARE = [0.15, 0.35, 0.3, 0.2]
APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]
STATUSES = ["active"] * 8 + ["proposed", "retired"]
TAGS = ["capability", "control", "delivery", "firefighting", "reporting", "people", "quick-win"]
CATALOGUE = [f"S{i:02d}" for i in range(1, 27)]
CLUSTER = 40


def _term(rng: random.Random, tier: int) -> str:
    usual, chance = TERMS_BY_TIER[tier]
    return usual if rng.random() < chance else rng.choice(["short", "medium", "long"])


def generate(workspace: Path, n: int, seed: int = 11) -> None:
    """Write a workspace of ``n`` services (organisation, clients and goals in one file, services in another)."""
    rng = random.Random(seed)
    n_clients = max(4, n // 25)
    tiers = []
    for i in range(n):
        position = (i % CLUSTER) / CLUSTER
        tiers.append(next(t for t, edge in enumerate([0.15, 0.5, 0.8, 1.01]) if position < edge))
    by_cluster_tier: dict[tuple[int, int], list[int]] = {}
    for i, tier in enumerate(tiers):
        by_cluster_tier.setdefault((i // CLUSTER, tier), []).append(i)

    lines = ["services:"]
    for i in range(n):
        cluster, tier = i // CLUSTER, tiers[i]
        lines += [f"  - id: svc-{i:05d}", f"    name: Service {i} of department {cluster}"]
        if i < len(CATALOGUE):
            lines.append(f"    catalogue: {CATALOGUE[i]}")
        lines.append(f"    status: {rng.choice(STATUSES)}")
        if rng.random() < 0.3:
            lines.append(f"    months_to_value: {rng.choice([1, 2, 3, 4, 6, 9, 15, 24])}")
        else:
            lines.append(f"    term: {_term(rng, tier)}")
        lines.append(f"    probability: {rng.randint(20, 95) / 100}")
        lines.append(f"    effort: {rng.randint(1, 30)}")
        if rng.random() < 0.8:
            lines.append(f"    approach: {rng.choice(APPROACHES)}")
        lines.append(f"    tags: [{', '.join(rng.sample(TAGS, rng.randint(0, 2)))}]")
        lines.append(f"    clients: [{', '.join(f'c{k:03d}' for k in rng.sample(range(n_clients), rng.randint(1, 3)))}]")
        outcomes = [f"D{cluster}-{k}" for k in rng.sample(range(3), rng.randint(1, 2))]
        if rng.random() < 0.3:
            outcomes.append(f"O{rng.randint(1, 30):02d}")
        lines.append(f"    outcomes: [{', '.join(outcomes)}]")
        below = by_cluster_tier.get((cluster, tier - 1), []) if tier else []
        if below:
            deps = rng.sample(below, min(len(below), rng.choice([1, 2, 2, 3])))
            lines.append("    depends_on:")
            for dep in deps:
                kind = "hard" if rng.random() < 0.6 else "soft"
                lines.append(f"      - {{service: svc-{dep:05d}, kind: {kind}}}")
        if rng.random() < 0.55:
            lines.append("    harms:")
            start = cluster * CLUSTER
            if rng.random() < 0.8:
                target = f"svc-{rng.randrange(start, min(start + CLUSTER, n)):05d}"
            else:
                target = f"D{cluster}-{rng.randrange(3)}"
            if target == f"svc-{i:05d}":
                target = "O07"
            lines += [f"      - target: {target}", f"        severity: {rng.choice(['low', 'medium', 'high'])}"]
            if rng.random() < 0.5:
                lines.append(f"        mitigated_by: [svc-{rng.randrange(start, min(start + CLUSTER, n)):05d}]")
            if rng.random() < 0.3:
                lines.append("        approaches: [directive, controlling]")
        if rng.random() < 0.15:
            lines += ["    assessments:",
                      f"      - {{by: sme{rng.randint(1, 9)}, term: {rng.choice(['short', 'medium', 'long'])}, probability: 0.7}}",
                      f"      - {{by: sme{rng.randint(1, 9)}, probability: {rng.randint(2, 9) / 10}}}"]

    org = [
        "organisation:", "  name: Benchmark PMO", "  age_months: 10", "  context: growing", f"  capacity_fte: {max(5, n // 8)}",
        "  reviews_months: [3, 6]", "  assessed_on: 2026-03-01",
        "  target_profile: {short: 0.4, medium: 0.35, long: 0.25}", "clients:",
    ]
    for k in range(n_clients):
        org += [f"  - id: c{k:03d}", f"    name: Client {k}", f"    weight: {rng.randint(1, 10) / 10}"]
    clusters = (n + CLUSTER - 1) // CLUSTER
    org.append("outcomes:")
    for cluster in range(clusters):
        for k in range(3):
            org.append(f"  - {{id: D{cluster}-{k}, name: Outcome {k} of department {cluster}, term: {rng.choice(['short', 'medium', 'long'])}}}")
    org.append("goals:")
    for g in range(max(3, n // 20)):
        cluster = rng.randrange(clusters)
        outcome = f"O{rng.randint(1, 30):02d}" if g < 3 else f"D{cluster}-{rng.randrange(3)}"  # three organisation-wide goals
        org += [f"  - id: G{g}", f"    name: Goal {g}", f"    outcomes: [{outcome}]"]
        if rng.random() < 0.5:
            org.append(f"    services: [svc-{rng.randrange(cluster * CLUSTER, min(n, cluster * CLUSTER + CLUSTER)):05d}]")
        org += [f"    due_months: {rng.choice([3, 6, 12, 24])}", f"    client: c{rng.randrange(n_clients):03d}"]
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "organisation.yaml").write_text("\n".join(org) + "\n", encoding="utf-8")
    (workspace / "services.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


CLOCK = time.perf_counter  # --cpu: time.process_time, for a machine shared with other work


def _timed(func):
    start = CLOCK()
    result = func()
    return CLOCK() - start, result


def measure(workspace: Path, runs: int) -> dict:
    """Inside a fresh subprocess: the phases of one analysis, best of ``runs``, and peak memory."""
    import resource

    import yaml

    from pmorules.analysis import load_rules
    from pmorules.evaluate import engine_facts, evaluate
    from pmorules.facts import derive_facts
    from pmorules.findings import build_findings
    from pmorules.knowledge import load_workspace
    from pmorules.rules.compile import compile_rulebook

    def peak_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    texts = [p.read_text(encoding="utf-8") for p in sorted(workspace.glob("*.yaml"))]
    best: dict[str, float] = {}
    engine_peak_rise = 0.0
    out: dict = {}
    for run in range(runs + 1):  # run 0 warms up (catalogue, imports, templates)
        gc.collect()
        times = {}
        times["load_s"], kb = _timed(lambda: load_workspace(workspace))
        times["facts_s"], facts = _timed(lambda: derive_facts(kb, TODAY))
        before = peak_mib()
        times["compile_s"], book = _timed(lambda: compile_rulebook(load_rules(workspace)[1]))
        times["evaluate_s"], matches = _timed(lambda: evaluate(book, facts.facts))
        engine_peak_rise = max(engine_peak_rise, peak_mib() - before)
        times["engine_s"] = times["compile_s"] + times["evaluate_s"]
        times["findings_s"], findings = _timed(lambda: build_findings(matches, kb))
        times["total_s"] = times["load_s"] + times["facts_s"] + times["engine_s"] + times["findings_s"]
        if run:
            for key, value in times.items():
                best[key] = min(best.get(key, value), value)
        out = {"services": len(kb.services), "facts": len(facts.facts), "engine_facts": len(engine_facts(book, facts.facts)[0]),
               "matches": len(matches), "findings": len(findings), "shards": len(book.shards())}
        kb = facts = book = matches = findings = None  # free this run's data before the next
    libyaml = min(_timed(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts])[0] for _ in range(runs))
    gc.disable()  # the same baseline without the cyclic GC, which pmorules pauses itself while it loads and derives
    libyaml_nogc = min(_timed(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts])[0] for _ in range(runs))
    gc.enable()
    return {**out, **best, "libyaml": libyaml, "libyaml_nogc": libyaml_nogc, "peak_mib": peak_mib(),
            "engine_peak_rise_mib": engine_peak_rise, "mb": sum(len(t.encode()) for t in texts) / 1e6}


def example_wall(runs: int) -> tuple[float, float]:
    """Median and best wall time of `pmorules analyze knowledge/example` (text output) as a subprocess, as
    installed: with the compiled modules that pip writes at install time (the warm-up writes them here)."""
    command = [sys.executable, "-m", "pmorules", "analyze", "knowledge/example"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True, env=env)  # warm the file cache
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True, env=env)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), min(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bench-load", action="store_true", help="use benchmarks/bench_load.py's generator")
    parser.add_argument("--shape", choices=["departments", "federation", "dense-cycle", "random-dependency", "deep-chain"],
                        default="departments",
                        help="departments (default, this file's generator) or a shape of benchmarks/shapes.py")
    parser.add_argument("--cpu", action="store_true", help="CPU time of the process instead of wall time (a shared "
                                                           "machine stretches the wall clock, not the work)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: measure one workspace
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    if args.measure:
        from pmorules.gcpause import one_job

        with one_job():  # as the command runs it: each stage's objects frozen when it ends, not scanned again
            print(json.dumps(measure(Path(args.measure), args.runs)))
        return
    make = generate
    if args.shape != "departments":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from shapes import SHAPES  # noqa: PLC0415

        make = SHAPES[args.shape]
    if args.bench_load:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_load import generate as make  # noqa: PLC0415
    rows = []
    with tempfile.TemporaryDirectory(prefix="pmorules-bench-") as tmp:
        for n in args.sizes:
            workspace = Path(tmp) / f"ws{n}"
            make(workspace, n)
            run = subprocess.run(
                [sys.executable, __file__, "--measure", str(workspace), "--runs", str(args.runs)] + ["--cpu"] * args.cpu,
                capture_output=True, text=True, check=False,
            )
            if run.returncode:
                print(f"{n} services: failed\n{run.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(run.stdout))
    head = (f"{'services':>8} {'MB':>5} {'facts':>6} {'findings':>8} | {'load':>6} {'facts':>6} {'engine':>6} "
            f"{'(compile':>8} {'eval)':>6} {'build':>6} {'total':>6} | {'libyaml':>7} {'ratio':>5} {'GC off':>7} {'ratio':>5} | "
            f"{'peak MiB':>8} {'engine +MiB':>11}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['services']:>8} {r['mb']:>5.2f} {r['facts']:>6} {r['findings']:>8} | {r['load_s']:>6.3f} "
            f"{r['facts_s']:>6.3f} {r['engine_s']:>6.3f} {r['compile_s']:>8.3f} {r['evaluate_s']:>6.3f} {r['findings_s']:>6.3f} "
            f"{r['total_s']:>6.3f} | {r['libyaml']:>7.3f} {r['total_s'] / r['libyaml']:>5.2f} {r['libyaml_nogc']:>7.3f} "
            f"{r['total_s'] / r['libyaml_nogc']:>5.2f} | {r['peak_mib']:>8.0f} {r['engine_peak_rise_mib']:>11.0f}"
        )
    print("(seconds, best of --runs; 'facts' = facts derived, all of which some rule reads and so reach the engine;"
          " ratio = total / libyaml parse of the same files, with Python's default GC and with it off)")
    median, best = example_wall(max(args.runs, 5))
    print(f"\npmorules analyze knowledge/example (subprocess, wall): median {median:.3f} s, best {best:.3f} s")


if __name__ == "__main__":
    main()
