"""Answer "why was this flagged?" and "why was it not?".

``why`` gathers every finding on a subject with its evidence and the origin of
each threshold. ``why_not`` asks the engine itself, one condition at a time,
which conditions of a rule fail for a subject's facts and by how much, or says
why the rule could not be evaluated. No rule logic is repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .analysis import Analysis
from .errors import Diagnostic, InputError, Location, did_you_mean
from .evaluate import evaluate
from .facts import Fact
from .findings import Finding
from .rules.compile import CompiledBook, leaf_conditions, fields_read, compile_rule
from .rules.load import Rule
from .rules.spec import OP_WORDS, Condition, Pattern


@dataclass
class ConditionCheck:
    fact: str
    field: str
    op: str
    expected: Any
    actual: Any
    holds: bool
    gap: float | None = None
    param: str | None = None
    param_source: str | None = None
    source: str = ""

    def text(self) -> str:
        verdict = "holds" if self.holds else "fails"
        exp = f"{self.expected}" + (f" ({self.param}, set at {self.param_source})" if self.param else "")
        gap = f", off by {self.gap:g}" if self.gap is not None and not self.holds else ""
        where = f" [{self.source}]" if self.source else ""
        return f"{verdict}: {self.fact}.{self.field}: {self.actual!r}{where} {OP_WORDS[self.op]} {exp}{gap}"


@dataclass
class WhyNot:
    rule: str
    subject: str
    fired: Finding | None = None
    disabled_by: str | None = None
    unevaluable: list[str] = field(default_factory=list)
    checks: list[ConditionCheck] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "subject": self.subject, "fired": self.fired.id if self.fired else None,
            "disabled_by": self.disabled_by, "unevaluable": self.unevaluable,
            "checks": [c.__dict__ for c in self.checks], "blockers": self.blockers,
        }


def known_subjects(analysis: Analysis) -> dict[str, str]:
    kb = analysis.kb
    ids = {"mix": "mix"}
    for group in (kb.services, kb.goals, kb.clients):
        ids |= {key.lower(): key for key in group}
    for finding in analysis.findings:
        ids |= {s.lower(): s for s in finding.subjects}
    return ids


def resolve_subject(analysis: Analysis, subject: str) -> str:
    ids = known_subjects(analysis)
    if subject.lower() in ids:
        return ids[subject.lower()]
    raise InputError(
        [Diagnostic(Location(analysis.kb.workspace), f"unknown subject {subject!r}", did_you_mean(subject, list(ids.values())))]
    )


def why(analysis: Analysis, subject: str) -> list[Finding]:
    """Every finding whose subjects include ``subject``."""
    subject = resolve_subject(analysis, subject)
    return [f for f in analysis.findings if subject in f.subjects]


def _related(fact: Fact, subject: str) -> bool:
    if fact.key == subject or fact.type == "mix":
        return True
    return any(isinstance(v, str) and v == subject for v in fact.fields.values())


def _probe(rule: Rule, pattern: Pattern, cond: Condition, fact: Fact) -> bool:
    """Ask the engine whether one condition holds on one fact."""
    spec = rule.spec.model_copy(update={"match": [Pattern(fact=pattern.fact, **{"as": pattern.name}, where=[cond])], "enabled": True})
    probe = Rule(spec, rule.source, rule.params, rule.origins, rule.overlay, rule.raw_locations)
    errors: list[Diagnostic] = []
    compiled = compile_rule(probe, errors)
    if errors:
        raise InputError(errors)
    return bool(evaluate(CompiledBook(compiled, fields_read(compiled)), [fact]))


def _check(rule: Rule, pattern: Pattern, cond: Condition, fact: Fact) -> ConditionCheck:
    actual = fact.key if cond.field == "key" else fact.fields.get(cond.field)
    expected: Any = None
    if cond.param is not None:
        expected = rule.params.get(cond.param)
    elif cond.ref is not None:
        name = cond.ref.partition(".")[2]
        expected = fact.key if name == "key" else fact.fields.get(name)
    elif cond.op not in ("exists", "missing"):
        expected = cond.value
    holds = _probe(rule, pattern, cond, fact)
    gap = None
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)) and not isinstance(actual, bool):
        if cond.times is None and cond.plus is None:
            gap = round(abs(float(actual) - float(expected)), 6)
    return ConditionCheck(
        fact.label, cond.field, cond.op, expected, actual, holds, gap, cond.param,
        rule.origins.get(f"params.{cond.param}") if cond.param else None, fact.sources.get(cond.field, ""),
    )


def why_not(analysis: Analysis, subject: str, rule_id: str) -> WhyNot:
    """Why ``rule_id`` did not fire for ``subject`` (or that it did)."""
    subject = resolve_subject(analysis, subject)
    rules = analysis.rulebook.rules
    rule = rules.get(rule_id.upper()) or rules.get(rule_id)
    if rule is None:
        raise InputError(
            [Diagnostic(Location(analysis.kb.workspace), f"unknown rule {rule_id!r}", did_you_mean(rule_id, list(rules)))]
        )
    answer = WhyNot(rule.id, subject)
    answer.fired = next((f for f in analysis.findings if f.rule == rule.id and subject in f.subjects), None)
    if answer.fired:
        return answer
    if not rule.enabled:
        answer.disabled_by = rule.origins.get("enabled", "its rule file")
        return answer
    facts = analysis.facts.facts
    own_refs = lambda c, p: c.ref is None or c.ref.partition(".")[0] == p.name  # noqa: E731
    for pattern in rule.spec.match or []:
        if pattern.absent:
            continue
        candidates = [f for f in facts if f.type == pattern.fact and _related(f, subject)]
        if not candidates:
            answer.unevaluable.append(
                f"no {pattern.fact} fact concerns {subject}: the rule could not be evaluated for it"
                + (" (there are no goals)" if pattern.fact.startswith("goal") and not analysis.kb.goals else "")
            )
            continue
        for fact in candidates:
            for cond in leaf_conditions(pattern.where):
                if own_refs(cond, pattern):
                    answer.checks.append(_check(rule, pattern, cond, fact))
    if not answer.unevaluable and all(c.holds for c in answer.checks):
        answer.blockers = _blockers(rule, facts, subject)
    return answer


def _blockers(rule: Rule, facts: list[Fact], subject: str) -> list[str]:
    """Facts that an absent pattern forbids, found by running the rule with that pattern made positive."""
    from .rules.texts import subjects_of

    absent = [p.name for p in rule.spec.match or [] if p.absent]
    flipped = [p.model_copy(update={"absent": False}) for p in rule.spec.match or []]
    spec = rule.spec.model_copy(update={"match": flipped, "enabled": True})
    errors: list[Diagnostic] = []
    compiled = compile_rule(Rule(spec, rule.source, rule.params, rule.origins, rule.overlay, rule.raw_locations), errors)
    if errors or not absent:
        return ["each condition holds on its own, but no combination of facts satisfies the rule's joins"]
    found = []
    for match in evaluate(CompiledBook(compiled, fields_read(compiled)), facts):
        if subject in subjects_of(match.compiled, match) or subject == "mix":
            for name in absent:
                label = f"{match.facts[name].label} exists, and the rule requires no such {match.facts[name].type}"
                if label not in found:
                    found.append(label)
    return found or ["each condition holds on its own, but no combination of facts satisfies the rule's joins"]
