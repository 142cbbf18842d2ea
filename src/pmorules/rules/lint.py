"""Lint rule files beyond what the compiler enforces: metadata, tests, unused params."""

from __future__ import annotations

from ..errors import Diagnostic
from .compile import leaf_conditions
from .load import RuleBook


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
