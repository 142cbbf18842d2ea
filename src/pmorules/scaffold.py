"""``pmorules init``: a new workspace with config, a knowledge stub (YAML or a workbook) and an overlay rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from .errors import Diagnostic, InputError, Location
from .knowledge import knowledge_files

CONFIG = """\
# pmorules settings for this workspace (see README: "Adapting the rules")
name = "My PMO"
default_rules = true          # false: use only the rules in this workspace's rules/

# Change a default rule without editing it:
# [rules.BAL005]
# level = "error"
# params = { max_short_share = 0.5 }
# [rules.GOL004]
# enabled = false
"""

KNOWLEDGE = """\
# Describe your PMO: organisation, clients, services and goals (format: pmorules schema).
organisation:
  name: My PMO
  age_months: 3
  context: kickoff
  capacity_fte: 4
  reviews_months: [3, 6]

clients:
  - {id: exec, name: Executive committee, weight: 0.6}
  - {id: pm, name: Project managers, weight: 1.0}

services:
  - id: reporting
    catalogue: S16          # inherits term, outcomes, tags, dependencies and harms
    probability: 0.8
    effort: 40
    approach: supportive
    clients: [exec]
  - id: methodology
    catalogue: S09
    probability: 0.8
    effort: 35
    clients: [pm]
  - id: training
    catalogue: S12
    probability: 0.8
    effort: 25
    clients: [pm]

goals:
  - id: G1
    name: Executive visibility of all projects
    outcomes: [O26]
    due_months: 3
    client: exec
  - id: G2
    name: Projects run one way, by project managers who know it
    services: [methodology, training]   # a goal may name the services that serve it
    due_months: 24
    client: pm

outcomes:
  - {id: O26, months: 1}    # a catalogue outcome changed: here progress visibility is noticed within a month
"""

OVERLAY = """\
# Organisation rules: add your own, or change a default one with `extends`.
- id: ORG001
  name: reporting-without-clients
  title: A service serves no client
  category: goals
  level: info
  match:
    - fact: service
      as: s
      where:
        - {field: status, op: eq, value: active}
        - {field: clients, op: eq, value: 0}
  subjects: [s]
  message: "{{ s.name }} serves no client."
  why: Every service should have someone who perceives its value.
  recommendation: Name the clients of {{ s.name }}, or retire it.
  references: ["our PMO charter"]
  tests:
    - {name: no clients, expect: fire, facts: [{fact: service, key: x, status: active, clients: 0}]}
    - {name: one client, expect: no-fire, facts: [{fact: service, key: x, status: active, clients: 1}]}
"""


def _workbook(handle: IO[bytes]) -> None:
    """The knowledge stub as a workbook to fill in: the same example rows as knowledge.yaml."""
    from .knowledge.spec import KnowledgeFile
    from .workbook import workbook_bytes
    from .yamlio import parse_yaml

    handle.write(workbook_bytes(KnowledgeFile.model_validate(parse_yaml(KNOWLEDGE, "knowledge.yaml"))))


def _text(text: str) -> Callable[[IO[bytes]], None]:
    return lambda handle: handle.write(text.encode("utf-8"))


def scaffold(directory: Path, xlsx: bool = False) -> tuple[list[Path], list[Path]]:
    """Create the files that do not exist yet; return (created, kept). With ``xlsx`` the knowledge stub is
    pmo.xlsx instead of knowledge.yaml; a folder that already holds knowledge gets no stub (a second one
    would define every example item twice)."""
    if directory.exists() and not directory.is_dir():
        raise InputError([Diagnostic(Location(str(directory)), "exists and is not a directory",
                                     "give the folder of a new workspace")])
    knowledge = knowledge_files(directory) if directory.is_dir() else []
    stub = {} if knowledge else {
        (directory / "pmo.xlsx") if xlsx else (directory / "knowledge.yaml"): _workbook if xlsx else _text(KNOWLEDGE)}
    files = {directory / "pmorules.toml": _text(CONFIG), **stub, directory / "rules" / "organisation.yaml": _text(OVERLAY)}
    created, kept = [], list(knowledge)
    for path, write in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb") as handle:
                write(handle)
            created.append(path)
        except FileExistsError:
            kept.append(path)
    return created, kept
