"""Lint rule files beyond what the compiler enforces: metadata, tests, unused params, references."""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import Diagnostic
from ..paths import docs_dir
from .compile import leaf_conditions
from .load import RuleBook

DOCS_REF = re.compile(r"^docs/([A-Za-z0-9_./-]+\.md)(?:#([A-Za-z0-9_-]+))?")
ANCHOR = re.compile(r"""<a id="([^"]+)"></a>|^#+ +(.+)$""", re.M)


@lru_cache(maxsize=32)
def doc_anchors(name: str) -> frozenset[str] | None:
    """The anchors of a page under docs/ (explicit ``<a id>`` and heading slugs); None if there is no such page."""
    path = docs_dir() / name
    if ".." in name or not path.is_file():
        return None
    found = set()
    for explicit, heading in ANCHOR.findall(path.read_text(encoding="utf-8")):
        found.add(explicit or re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-"))
    return frozenset(found)


def dangling_reference(reference: str) -> str | None:
    """Why a ``docs/...#anchor`` reference points nowhere, or None (other references are titles, books or URLs)."""
    found = DOCS_REF.match(reference)
    if found is None:
        return None
    anchors = doc_anchors(found.group(1))
    if anchors is None:
        return f"docs/{found.group(1)} does not exist"
    if found.group(2) and found.group(2) not in anchors:
        return f"docs/{found.group(1)} has no anchor #{found.group(2)}"
    return None


def _used_params(rule) -> set[str]:
    used: set[str] = set()
    for pattern in rule.spec.match or []:
        for cond in leaf_conditions(pattern.where):
            for operand in (cond, cond.times, cond.plus):
                if operand is not None and operand.param:
                    used.add(operand.param)
    return used


def lint(book: RuleBook) -> list[Diagnostic]:
    """Problems a reviewer would raise about each rule."""
    problems = []
    for rule in sorted(book.rules.values(), key=lambda r: r.id):
        where = rule.source
        spec = rule.spec
        if not spec.references:
            problems.append(Diagnostic(where, f"rule {rule.id}: no references", "cite the policy or source behind it"))
        for reference in spec.references:
            if (why := dangling_reference(reference)) is not None:
                problems.append(Diagnostic(rule.raw_locations.get("references", where),
                                           f"rule {rule.id}: reference {reference!r} dangles: {why}",
                                           "cite a public source (title and URL, or book and section) or an existing docs/ anchor"))
        expects = {case.expect for case in spec.tests}
        for needed in ("fire", "no-fire"):
            if needed not in expects:
                problems.append(Diagnostic(rule.raw_locations.get("tests", where), f"rule {rule.id}: no '{needed}' test case"))
        for name in sorted(set(rule.params) - _used_params(rule)):
            problems.append(Diagnostic(rule.raw_locations.get("params", where), f"rule {rule.id}: param {name!r} is never used"))
        for text_field in ("message", "why", "recommendation"):
            if not (getattr(spec, text_field) or "").strip():
                problems.append(Diagnostic(where, f"rule {rule.id}: empty {text_field}"))
    return problems
