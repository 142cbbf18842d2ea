"""Workspace generators of shapes that are hard on the fact model, shared by the benchmarks.

federation: a federation of PMOs; every service delivers 3 of the 30 standard outcomes (so about a
    thirtieth of all services per outcome), 200 goals on 2 outcomes each, about 2 dependencies per
    service of which a third are hard, and 30% of the services with one harm.
dense-cycle: departments of 25 services whose hard dependencies tie each department into one tangle
    (every service needs the next three of its ring), plus soft links across departments: many
    cycles, deep transitive dependants.
random-dependency: the federation's services (3 of the 30 standard outcomes each, about 2 dependencies drawn
    among all services, a third of them hard) with one goal per 50 services on 2 outcomes (goals not scoped to
    a sub-organisation: every goal reaches a fifteenth of all services) and harms on a third of the services.
deep-chain: chains of 300 services, each needing the one before it (hard), so dependency chains are hundreds
    long, plus one soft link to a random service; 3 outcomes per service, one goal per 50 services on 2
    outcomes, harms on a third of the services, mostly on a service further down the same chain.
"""

from __future__ import annotations

import random
from pathlib import Path

APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]
TAGS = ["capability", "control", "delivery", "firefighting", "reporting"]
OUTCOMES = [f"O{i:02d}" for i in range(1, 31)]


def _organisation(n: int, clients: int, rng: random.Random) -> list[str]:
    lines = [
        "organisation:", "  name: Federation of PMOs", "  age_months: 30", "  context: growing",
        f"  capacity_fte: {max(5, n // 8)}", f"  capacity: {n * 10}", "  reviews_months: [3, 6]",
        "  assessed_on: 2026-09-01", "clients:",
    ]
    for k in range(clients):
        lines.append(f"  - {{id: c{k:03d}, name: Client {k}, weight: {rng.randint(2, 10) / 10}}}")
    return lines


def _service(i: int, rng: random.Random, clients: int) -> list[str]:
    return [
        f"  - id: s{i:06d}",
        f"    name: Service {i}",
        f"    status: {'active' if rng.random() < 0.9 else 'proposed'}",
        f"    term: {rng.choice(['short', 'medium', 'long'])}",
        f"    probability: {rng.randint(30, 95) / 100}",
        f"    effort: {rng.randint(1, 20)}",
        f"    approach: {rng.choice(APPROACHES)}",
        f"    tags: [{rng.choice(TAGS)}]",
        f"    clients: [c{rng.randrange(clients):03d}]",
    ]


def _random_links(i: int, n: int, rng: random.Random, harm_share: float) -> list[str]:
    """Service i's outcomes (3 at random), two random dependencies (a third hard) and, for ``harm_share`` of the
    services, a harm on a random service or outcome: the links of the federation and random-dependency shapes."""
    lines = [f"    outcomes: [{', '.join(rng.sample(OUTCOMES, 3))}]"]
    deps = [d for d in dict.fromkeys(rng.randrange(n) for _ in range(2)) if d != i]
    if deps:
        lines.append("    depends_on: [" + ", ".join(
            f"'s{d:06d}:{'hard' if rng.random() < 1 / 3 else 'soft'}'" for d in deps) + "]")
    if rng.random() < harm_share:
        target = rng.choice([f"s{rng.randrange(n):06d}", rng.choice(OUTCOMES)])
        if target != f"s{i:06d}":
            lines.append(f"    harms: [{{target: {target}, severity: {rng.choice(['low', 'medium', 'high'])}}}]")
    return lines


def federation(workspace: Path, n: int, seed: int = 3) -> None:
    """The federation shape of issue 14 at ``n`` services (200 goals whatever n)."""
    rng = random.Random(seed)
    clients = max(4, n // 100)
    lines = _organisation(n, clients, rng)
    lines.append("goals:")
    for g in range(200):
        lines.append(f"  - {{id: G{g:03d}, outcomes: [{', '.join(rng.sample(OUTCOMES, 2))}], "
                     f"due_months: {rng.choice([3, 6, 9, 12, 18, 24])}, priority: {rng.randint(1, 3)}, "
                     f"client: c{rng.randrange(clients):03d}}}")
    lines.append("services:")
    for i in range(n):
        lines += _service(i, rng, clients)
        lines += _random_links(i, n, rng, harm_share=0.3)
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "federation.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def dense_cycle(workspace: Path, n: int, seed: int = 5) -> None:
    """Departments of 25 services tied into one hard-dependency tangle each, soft links across departments."""
    rng = random.Random(seed)
    clients = max(4, n // 100)
    ring = 25
    lines = _organisation(n, clients, rng)
    lines.append("goals:")
    for g in range(max(3, n // 50)):
        lines.append(f"  - {{id: G{g:03d}, outcomes: [{rng.choice(OUTCOMES)}], services: [s{rng.randrange(n):06d}], "
                     f"due_months: {rng.choice([3, 6, 12, 24])}}}")
    lines.append("services:")
    for i in range(n):
        lines += _service(i, rng, clients)
        lines.append(f"    outcomes: [{', '.join(rng.sample(OUTCOMES, 2))}]")
        start = i - i % ring
        size = min(ring, n - start)
        hard = [start + (i - start + k) % size for k in (1, 2, 3) if size > k]
        soft = [rng.randrange(n)]
        refs = [f"'s{d:06d}'" for d in dict.fromkeys(hard) if d != i]
        refs += [f"'s{d:06d}:soft'" for d in soft if d != i and d not in hard]
        lines.append(f"    depends_on: [{', '.join(refs)}]")
        target = start + rng.randrange(size)
        if rng.random() < 0.3 and target != i:
            lines.append(f"    harms: [{{target: s{target:06d}, severity: medium}}]")
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "dense.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def random_dependency(workspace: Path, n: int, seed: int = 7) -> None:
    """The random-dependency shape of issue 22: federation-like services, one goal per 50 services."""
    rng = random.Random(seed)
    clients = max(4, n // 100)
    lines = _organisation(n, clients, rng)
    lines.append("goals:")
    for g in range(max(3, n // 50)):
        lines.append(f"  - {{id: G{g:05d}, outcomes: [{', '.join(rng.sample(OUTCOMES, 2))}], "
                     f"due_months: {rng.choice([3, 6, 9, 12, 18, 24])}, priority: {rng.randint(1, 3)}, "
                     f"client: c{rng.randrange(clients):03d}}}")
    lines.append("services:")
    for i in range(n):
        lines += _service(i, rng, clients)
        lines += _random_links(i, n, rng, harm_share=1 / 3)
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "random.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def deep_chain(workspace: Path, n: int, seed: int = 9) -> None:
    """Chains of 300 services, each needing the one before it: dependency chains hundreds long."""
    rng = random.Random(seed)
    clients = max(4, n // 100)
    chain = 300
    lines = _organisation(n, clients, rng)
    lines.append("goals:")
    for g in range(max(3, n // 50)):
        lines.append(f"  - {{id: G{g:05d}, outcomes: [{', '.join(rng.sample(OUTCOMES, 2))}], "
                     f"due_months: {rng.choice([3, 6, 12, 24])}, client: c{rng.randrange(clients):03d}}}")
    lines.append("services:")
    for i in range(n):
        lines += _service(i, rng, clients)
        lines.append(f"    outcomes: [{', '.join(rng.sample(OUTCOMES, 3))}]")
        refs = [f"'s{i - 1:06d}'"] if i % chain else []
        soft = rng.randrange(n)
        if soft != i and soft != i - 1:
            refs.append(f"'s{soft:06d}:soft'")
        if refs:
            lines.append(f"    depends_on: [{', '.join(refs)}]")
        if rng.random() < 1 / 3:
            start = i - i % chain
            target = f"s{rng.randrange(start, min(n, start + chain)):06d}" if rng.random() < 0.8 else rng.choice(OUTCOMES)
            if target != f"s{i:06d}":
                lines.append(f"    harms: [{{target: {target}, severity: {rng.choice(['low', 'medium', 'high'])}}}]")
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "chain.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


SHAPES = {"federation": federation, "dense-cycle": dense_cycle, "random-dependency": random_dependency,
          "deep-chain": deep_chain}
