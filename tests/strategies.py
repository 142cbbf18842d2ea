"""Random small but realistic workspaces for property and differential tests.

Not a test module: a generator of workspaces as ``{relative path: YAML text}``.
The same generator runs on hypothesis draws (``workspaces()``, shrinkable) or on
a seeded ``random.Random`` (``random_workspace(seed)``). Everything it writes is
valid input: ``load_workspace`` must succeed on it (a test checks that).

What it varies: the organisation (age, context, capacity, reviews, target
profile, assessment date), horizons, clients with weights, 3-15 services with
catalogue refs (S01..S26, X01..X04) and/or explicit term or months, status,
probability, effort (for all services or none), approach, tags, clients,
outcomes, dependencies (hard/soft, on each other and on catalogue services, in
the short and the long form), harms (on services, catalogue services and
outcomes, with severities, mitigators and approaches), expert assessments, and
0-5 goals with outcomes and/or services, due months, priority and client. The
sections are spread over several files, sometimes in a ``knowledge/`` folder,
in block or flow style.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, Protocol, Sequence

from hypothesis import strategies as st

CATALOGUE = [f"S{i:02d}" for i in range(1, 27)] + [f"X{i:02d}" for i in range(1, 5)]
OUTCOMES = [f"O{i:02d}" for i in range(1, 31)]
TERMS = ["short", "medium", "long"]
STATUSES = ["active"] * 6 + ["proposed", "retired"]
APPROACHES = ["consultative", "supportive", "facilitative", "directive", "controlling", "managed"]
CONTEXTS = ["potential", "kickoff", "growing", "thriving", "crisis", "decline", "collapse", "resurgence"]
SEVERITIES = ["low", "medium", "high"]
TAGS = ["capability", "control", "delivery", "firefighting", "reporting", "people", "quick-win"]
SERVICE_IDS = [
    "reporting", "support", "coaching", "training", "governance", "audits", "tools", "risk", "benefits",
    "portfolio", "methodology", "culture", "lessons", "resources", "engagement", "advice", "change-control",
    "kpi", "onboarding", "helpdesk", "Firefight", "recovery", "pmo.admin", "vendor_mgmt",
]
CLIENT_IDS = ["exec", "pm", "finance", "bu-sponsors", "hr", "Ops"]
PERSONS = ["jane", "R. Okafor", "S. Lindqvist (analyst)", "cfo office", "NO"]
MONTHS = [0, 0.5, 1, 2, 3, 4, 5, 6, 9, 12, 13, 18, 24, 36]
PROBABILITIES = [0, 0.05, 0.25, 0.29, 0.3, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1]


class Chooser(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...

    def choice(self, items: Sequence[Any]) -> Any: ...

    def chance(self, p: float) -> bool: ...

    def subset(self, items: Sequence[Any], lo: int, hi: int) -> list[Any]: ...


class RandomChooser:
    """Choices from a seeded ``random.Random``."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, items: Sequence[Any]) -> Any:
        return self.rng.choice(list(items))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def subset(self, items: Sequence[Any], lo: int, hi: int) -> list[Any]:
        items = list(items)
        return self.rng.sample(items, self.rng.randint(min(lo, len(items)), min(hi, len(items))))


class DrawChooser:
    """Choices from hypothesis draws, so failing workspaces shrink."""

    def __init__(self, draw: Any):
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choice(self, items: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(list(items)))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 99)) < round(p * 100)

    def subset(self, items: Sequence[Any], lo: int, hi: int) -> list[Any]:
        items = list(items)
        lo, hi = min(lo, len(items)), min(hi, len(items))
        return self.draw(st.lists(st.sampled_from(items), min_size=lo, max_size=hi, unique=True)) if items else []


# ---------------------------------------------------------------- YAML text

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 _.():-]*[A-Za-z0-9)]$|^[A-Za-z]$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(value: Any) -> str:
    """One YAML scalar: plain where that reads naturally, double-quoted otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        assert "e" not in text and "n" not in text, text
        return text
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED and ": " not in text and " #" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def block(value: Any, indent: int, choose: Chooser) -> list[str]:
    """Lines of ``value`` (a mapping) in block style; small lists and mappings sometimes in flow style."""
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, dict):
            if choose.chance(0.3):
                lines.append(f"{pad}{key}: {flow(item)}")
            else:
                lines.append(f"{pad}{key}:")
                lines += block(item, indent + 2, choose)
        elif isinstance(item, list) and item and (any(isinstance(v, dict) for v in item) or choose.chance(0.3)):
            lines.append(f"{pad}{key}:")
            for entry in item:
                lines += sequence_item(entry, indent + 2, choose)
        else:
            lines.append(f"{pad}{key}: {flow(item)}")
    return lines


def sequence_item(entry: Any, indent: int, choose: Chooser) -> list[str]:
    pad = " " * indent
    if not isinstance(entry, dict):
        return [f"{pad}- {scalar(entry)}"]
    if len(entry) <= 4 and choose.chance(0.25):
        return [f"{pad}- {flow(entry)}"]
    inner = block(entry, indent + 2, choose)
    return [f"{pad}- {inner[0].lstrip()}"] + inner[1:]


def section(name: str, value: Any, choose: Chooser) -> list[str]:
    if isinstance(value, dict):
        return [f"{name}:"] + block(value, 2, choose)
    lines = [f"{name}:"]
    for entry in value:
        lines += sequence_item(entry, 2, choose)
        if choose.chance(0.2):
            lines.append("")
    return lines


# ---------------------------------------------------------------- content


def _organisation(c: Chooser) -> dict[str, Any]:
    org: dict[str, Any] = {"name": c.choice(["Acme IT PMO", "Northwind PMO", "PMO: Finance & Ops", "NO"])}
    if c.chance(0.7):
        org["age_months"] = c.choice([0, 1, 3, 4, 6, 7, 12, 18, 30, 60])
    if c.chance(0.7):
        org["context"] = c.choice(CONTEXTS)
    if c.chance(0.7):
        org["capacity_fte"] = c.choice([0.5, 1, 2, 3, 4.5, 6, 12])
    if c.chance(0.5):
        org["reviews_months"] = sorted(c.subset([1, 2, 3, 4, 6, 9, 12], 1, 3))
    if c.chance(0.4):
        org["assessed_on"] = c.choice(["2025-11-25", "2026-03-20", "2026-06-01", "2026-11-01"])
    if c.chance(0.4):
        short = c.integer(0, 10) / 10
        medium = c.integer(0, 10 - round(short * 10)) / 10
        org["target_profile"] = {"short": short, "medium": medium, "long": round(1 - short - medium, 1)}
    return org


def _service(
    c: Chooser, sid: str, catalogue: str | None, others: list[str], catalogue_pool: list[str],
    clients: list[str], with_effort: bool,
) -> dict[str, Any]:
    svc: dict[str, Any] = {"id": sid}
    if c.chance(0.6):
        svc["name"] = f"{sid.replace('-', ' ').title()} service"
    if catalogue:
        svc["catalogue"] = catalogue
    if c.chance(0.8):
        svc["status"] = c.choice(STATUSES)
    timing = c.integer(0, 3) if catalogue else c.integer(1, 3)  # 0 = from the catalogue
    if timing in (1, 3):
        svc["term"] = c.choice(TERMS)
    if timing in (2, 3):
        svc["months_to_value"] = c.choice(MONTHS)
    if c.chance(0.85):
        svc["probability"] = c.choice(PROBABILITIES) if c.chance(0.5) else c.integer(0, 100) / 100
    if with_effort:
        svc["effort"] = c.choice([0, 1, 2, 4, 5, 8, 10, 12, 20, 40, 2.5])
    if c.chance(0.7):
        svc["approach"] = c.choice(APPROACHES)
    if c.chance(0.6) or not catalogue:
        svc["tags"] = c.subset(TAGS, 0, 3)
    if clients and c.chance(0.8):
        svc["clients"] = c.subset(clients, 0, 3)
    if c.chance(0.5) or not catalogue:
        svc["outcomes"] = c.subset(OUTCOMES, 0, 3)
    if c.chance(0.6):
        deps = []
        for target in c.subset(others + catalogue_pool, 0, 3):
            form = c.integer(0, 3)
            kind = c.choice(["hard", "soft"])
            if form == 0:
                deps.append(target)
            elif form == 1:
                deps.append(f"{target}:{kind}")
            elif form == 2:
                deps.append({"service": target, "kind": kind})
            else:
                deps.append({"service": target, "kind": kind, "reason": f"needs {target}: its data"})
        svc["depends_on"] = deps
    if c.chance(0.5):
        harms = []
        for target in c.subset(others + catalogue_pool + OUTCOMES, 0, 2):
            harm: dict[str, Any] = {"target": target}
            if c.chance(0.8):
                harm["severity"] = c.choice(SEVERITIES)
            if c.chance(0.5):
                harm["reason"] = "competes for the same people's attention"
            if c.chance(0.6):
                harm["mitigated_by"] = c.subset([o for o in others + catalogue_pool if o != target], 0, 2)
            if c.chance(0.3):
                harm["approaches"] = c.subset(APPROACHES, 1, 3)
            harms.append(harm)
        svc["harms"] = harms
    if c.chance(0.35):
        assessments = []
        for person in c.subset(PERSONS, 1, 3):
            entry: dict[str, Any] = {"by": person}
            if c.chance(0.7):
                entry["term"] = c.choice(TERMS)
            if c.chance(0.7):
                entry["probability"] = c.integer(0, 20) / 20
            assessments.append(entry)
        svc["assessments"] = assessments
    return svc


def _goal(c: Chooser, gid: str, services: list[str], clients: list[str], extra_outcomes: list[str]) -> dict[str, Any]:
    goal: dict[str, Any] = {"id": gid}
    if c.chance(0.7):
        goal["name"] = f"Goal {gid}"
    outcomes = c.subset(OUTCOMES + extra_outcomes, 0, 3)
    linked = c.subset(services, 0 if outcomes else 1, 2)
    if outcomes or not linked:
        goal["outcomes"] = outcomes or [c.choice(OUTCOMES)]
    if linked:
        goal["services"] = linked
    goal["due_months"] = c.choice([1, 2, 3, 4, 6, 9, 12, 18, 24, 36])
    if c.chance(0.5):
        goal["priority"] = c.choice([0.5, 1, 1.5, 2, 3])
    if clients and c.chance(0.6):
        goal["client"] = c.choice(clients)
    return goal


def build_workspace(c: Chooser) -> dict[str, str]:
    """One workspace as ``{relative path: YAML text}``."""
    sections: dict[str, Any] = {"organisation": _organisation(c)}
    if c.chance(0.3):
        short = c.choice([2, 3, 4])
        sections["horizons"] = {"short_max_months": short, "medium_max_months": c.choice([short, 9, 12, 18])}
    clients = c.subset(CLIENT_IDS, 0, 4)
    if clients:
        entries = []
        for cid in clients:
            entry: dict[str, Any] = {"id": cid}
            if c.chance(0.6):
                entry["name"] = f"Client {cid}"
            if c.chance(0.8):
                entry["weight"] = c.choice([0, 0.2, 0.29, 0.3, 0.4, 0.5, 0.6, 1])
            entries.append(entry)
        sections["clients"] = entries
    count = c.integer(3, 15)
    ids = c.subset(SERVICE_IDS, count, count)
    refs = c.subset(CATALOGUE, 0, count)
    catalogue_of = {sid: (refs[i] if i < len(refs) and c.chance(0.7) else None) for i, sid in enumerate(ids)}
    offered = {cat for cat in catalogue_of.values() if cat}
    pool = [cat for cat in CATALOGUE if cat not in offered]  # catalogue ids not offered: referenced as absent services
    pool = c.subset(pool, 0, 4)
    with_effort = c.chance(0.85)
    services = [
        _service(c, sid, catalogue_of[sid], [o for o in ids if o != sid], pool, clients, with_effort) for sid in ids
    ]
    extra_outcomes: list[str] = []
    if c.chance(0.2):
        sections["outcomes"] = [{"id": "O31", "name": "Fewer escalations", "term": c.choice(TERMS)}]
        extra_outcomes = ["O31"]
    goals = [_goal(c, f"G{i + 1}", ids + pool, clients, extra_outcomes) for i in range(c.integer(0, 5))]

    files: dict[str, list[str]] = {}
    folder = "knowledge/" if c.chance(0.2) else ""
    head = ["# generated workspace", ""]
    org_file = f"{folder}organisation.yaml"
    files[org_file] = head + section("organisation", sections["organisation"], c)
    for name in ("horizons", "clients", "outcomes"):
        if name in sections:
            files[org_file] += [""] + section(name, sections[name], c)
    split = c.integer(1, len(services) - 1) if len(services) > 3 and c.chance(0.3) else len(services)
    files[f"{folder}services.yaml"] = section("services", services[:split], c)
    if split < len(services):
        files["more-services.yml"] = ["# a second services file: lists are concatenated"] + section(
            "services", services[split:], c
        )
    if goals:
        target = "goals.yaml" if c.chance(0.7) else org_file
        files.setdefault(target, [])
        files[target] += [""] + section("goals", goals, c)
    return {path: "\n".join(lines) + "\n" for path, lines in files.items()}


@st.composite
def workspaces(draw: Any) -> dict[str, str]:
    """Hypothesis strategy: a random workspace (``{relative path: YAML text}``)."""
    return build_workspace(DrawChooser(draw))


def random_workspace(seed: int) -> dict[str, str]:
    """A random workspace from a seed."""
    return build_workspace(RandomChooser(random.Random(seed)))


def write_workspace(files: dict[str, str], root: Path) -> Path:
    """Write the files under ``root`` (created) and return it."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
