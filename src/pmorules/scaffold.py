"""``pmorules init``: a new workspace with config, a knowledge stub (YAML or a workbook) and an overlay rule."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from . import dates
from .dates import date_after
from .errors import Diagnostic, InputError, Location
from .inputs import os_message
from .knowledge import knowledge_files
from .output import CONFIG_NAME, check_output, write_output

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
  assessed_on: @TODAY@   # the date these data describe: the workspace is judged as of it
  founded: @FOUNDED@
  context: kickoff
  capacity_fte: 4
  reviews:
    - {date: @REVIEW1@, name: First steering committee}
    - {date: @REVIEW2@, name: Half-year review}

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
    due: @REVIEW1@
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


def knowledge_stub(today: dt.date) -> str:
    """The knowledge stub dated from ``today``: assessed today, set up three months ago, reviews and the first
    goal three and six months on."""
    days = {"@TODAY@": today, "@FOUNDED@": date_after(today, -3), "@REVIEW1@": date_after(today, 3),
            "@REVIEW2@": date_after(today, 6)}
    text = KNOWLEDGE
    for token, day in days.items():
        text = text.replace(token, day.isoformat())
    return text


def _workbook(text: str) -> Callable[[], bytes]:
    """The knowledge stub as a workbook to fill in: the same example rows as knowledge.yaml."""
    from .knowledge.spec import KnowledgeFile
    from .workbook import workbook_bytes
    from .yamlio import parse_yaml

    return lambda: workbook_bytes(KnowledgeFile.model_validate(parse_yaml(text, "knowledge.yaml")))


def _text(text: str) -> Callable[[], bytes]:
    return lambda: text.encode("utf-8")


def scaffold(directory: Path, xlsx: bool = False, today: dt.date | None = None) -> tuple[list[Path], list[Path]]:
    """Create the files that do not exist yet; return (created, kept). With ``xlsx`` the knowledge stub is
    pmo.xlsx instead of knowledge.yaml; a folder that already holds knowledge gets no stub (a second one
    would define every example item twice) and no example rule (it would add its finding to a workspace
    that never asked for it). Each file is written whole or not at all, by the one writer, and never
    outside ``directory`` (a ``rules`` symlink leading elsewhere is refused)."""
    if directory.exists() and not directory.is_dir():
        raise InputError([Diagnostic(Location(str(directory)), "exists and is not a directory",
                                     "give the folder of a new workspace")])
    knowledge = knowledge_files(directory) if directory.is_dir() else []
    text = knowledge_stub(today or dates.system_today())
    stub = {} if knowledge else {
        (directory / "pmo.xlsx") if xlsx else (directory / "knowledge.yaml"): _workbook(text) if xlsx else _text(text)}
    example_rule = directory / "rules" / "organisation.yaml"
    overlay = {example_rule: _text(OVERLAY)} if not knowledge or os.path.lexists(example_rule) else {}
    files = {directory / CONFIG_NAME: _text(CONFIG), **stub, **overlay}
    created, kept = [], list(knowledge)
    hint = "give the folder of a new workspace"
    for path in files:  # every file is checked before any is written
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(path):
            check_output(path, inside=directory, hint=hint)
    for path, content in files.items():
        try:
            data = content()  # openpyxl writes through temporary files: a full disk fails here too
        except OSError as exc:
            raise InputError([Diagnostic(Location(str(path)), os_message(exc))]) from None
        (created if write_output(path, data, new=True, inside=directory, hint=hint) else kept).append(path)
    return created, kept
