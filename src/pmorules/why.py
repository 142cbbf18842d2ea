"""Answer "why was this flagged?" and "why was it not?".

``why`` gathers every finding on a subject with its evidence and the origin of
each threshold. ``why_not`` asks the engine itself, one condition at a time,
which conditions of a rule fail for a subject's facts and by how much, follows
the rule's ``any``/``all`` groups, and says in words what a derived field means
(why a harm is not active, what delivers a goal in time). No rule logic is
repeated here: each condition is answered by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .analysis import Analysis
from .conditions import ConditionCheck, GroupCheck, check_clause, in_words
from .errors import Diagnostic, InputError, Location, did_you_mean
from .evaluate import evaluate
from .facts import REGISTRY, Fact
from .findings import Finding, names_of
from .rules.compile import CompiledBook, compile_rule, fields_read
from .rules.load import Rule
from .rules.spec import Condition, Pattern
from .rules.texts import subjects_of

@dataclass
class FactChecks:
    """The conditions of one pattern of the rule on one fact that concerns the subject."""

    fact: str
    title: str
    checks: list[ConditionCheck | GroupCheck]

    @property
    def holds(self) -> bool:
        return all(c.holds for c in self.checks)


@dataclass
class WhyNot:
    rule: str
    title: str
    subject: str
    fired: Finding | None = None
    disabled_by: str | None = None
    unevaluable: list[str] = field(default_factory=list)
    facts: list[FactChecks] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[ConditionCheck]:
        """Every single condition checked, in order (groups flattened)."""
        out: list[ConditionCheck] = []

        def walk(items: list[ConditionCheck | GroupCheck]) -> None:
            for item in items:
                if isinstance(item, GroupCheck):
                    walk(item.checks)
                else:
                    out.append(item)

        for fact in self.facts:
            walk(fact.checks)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "title": self.title, "subject": self.subject,
            "fired": self.fired.id if self.fired else None, "disabled_by": self.disabled_by,
            "unevaluable": self.unevaluable, "checks": [c.__dict__ for c in self.checks],
            "facts": [{"fact": f.fact, "title": f.title, "holds": f.holds} for f in self.facts], "blockers": self.blockers,
        }


def known_subjects(analysis: Analysis) -> dict[str, str]:
    kb = analysis.kb
    ids = {"mix": "mix"}
    for group in (kb.services, kb.goals, kb.clients, kb.outcomes):
        ids |= {key.lower(): key for key in group}
    for finding in analysis.findings:
        ids |= {s.lower(): s for s in finding.subjects}
    return ids


def resolve_subject(analysis: Analysis, subject: str) -> str:
    ids = known_subjects(analysis)
    if subject.lower() in ids:
        return ids[subject.lower()]
    finding = next((f for f in analysis.findings if subject.lower() in (f.id.lower(), f.fingerprint.lower())), None)
    if finding is not None and finding.subjects:  # a finding's number or fingerprint: what is it about?
        about = finding.subjects[0]
        raise InputError([Diagnostic(Location(analysis.kb.workspace), f"{subject!r} is a finding, not a subject",
                                     f"ask why {about}: it explains {finding.id} with every other finding on {about}")])
    raise InputError(
        [Diagnostic(Location(analysis.kb.workspace), f"unknown subject {subject!r}", did_you_mean(subject, list(ids.values())))]
    )


def why(analysis: Analysis, subject: str) -> list[Finding]:
    """Every finding about ``subject``: naming it as a subject, or passing through it on its path."""
    subject = resolve_subject(analysis, subject)
    return [f for f in analysis.findings if subject in f.subjects or subject in f.path]


def _related(fact: Fact, subject: str) -> bool:
    if subject == "mix":
        return REGISTRY[fact.type].about_mix
    return fact.key == subject or any(isinstance(v, str) and v == subject for v in fact.fields.values())


ID_FIELDS = ("src", "dst", "target", "via", "goal", "best_service", "client", "first", "service")  # fields holding ids


def _title(fact: Fact, names: dict[str, str]) -> str:
    """A fact in words: its type's title with ids read as names."""
    values = {k: (f"{names[v]} ({v})" if k in ID_FIELDS and isinstance(v, str) and names.get(v, v) != v else in_words(v))
              for k, v in fact.fields.items()}
    values["key"] = f"{names[fact.key]} ({fact.key})" if names.get(fact.key, fact.key) != fact.key else fact.key
    try:
        return REGISTRY[fact.type].title.format(**values)
    except (KeyError, IndexError, ValueError):
        return fact.label


def why_not(analysis: Analysis, subject: str, rule_id: str) -> WhyNot:
    """Why ``rule_id`` did not fire for ``subject`` (or that it did)."""
    subject = resolve_subject(analysis, subject)
    rules = analysis.rulebook.rules
    rule = rules.get(rule_id.upper()) or rules.get(rule_id)
    if rule is None:
        raise InputError(
            [Diagnostic(Location(analysis.kb.workspace), f"unknown rule {rule_id!r}", did_you_mean(rule_id, list(rules)))]
        )
    answer = WhyNot(rule.id, rule.spec.title or "", subject)
    answer.fired = next((f for f in analysis.findings if f.rule == rule.id and subject in f.subjects), None)
    if answer.fired:
        return answer
    if not rule.enabled:
        answer.disabled_by = rule.origins.get("enabled", "its rule file")
        return answer
    names = names_of(analysis.kb)
    for pattern in rule.spec.match or []:
        if not pattern.absent:
            _check_pattern(answer, rule, pattern, analysis, names)
    if not answer.unevaluable and all(f.holds for f in answer.facts):
        answer.blockers = _blockers(rule, analysis.facts.facts, subject)
    return answer


def _check_pattern(answer: WhyNot, rule: Rule, pattern: Pattern, analysis: Analysis, names: dict[str, str]) -> None:
    candidates = [f for f in analysis.facts.facts if f.type == pattern.fact and _related(f, answer.subject)]
    if not candidates and REGISTRY[pattern.fact].about_mix:  # the mix is the context of every subject
        candidates = _identified(pattern, [f for f in analysis.facts.facts if f.type == pattern.fact])
    if not candidates:
        reason = " (there are no goals)" if pattern.fact.startswith("goal") and not analysis.kb.goals else ""
        answer.unevaluable.append(
            f"nothing of the kind the rule looks at ({REGISTRY[pattern.fact].doc.rstrip('.').lower()}) concerns "
            f"{answer.subject}: the rule could not be evaluated for it{reason}"
        )
        return
    for fact in candidates:
        checks = [c for c in (check_clause(rule, pattern, clause, fact) for clause in pattern.where) if c is not None]
        answer.facts.append(FactChecks(fact.label, _title(fact, names), checks))


def _identified(pattern: Pattern, facts: list[Fact]) -> list[Fact]:
    """Of several facts about the mix (one per tag, per term...), those the pattern names by a plain text
    equality (``tag = capability``); all of them when it names none."""
    names = [c for c in pattern.where if isinstance(c, Condition) and c.op == "eq" and isinstance(c.value, str)
             and c.ref is None and c.param is None]
    named = [f for f in facts if names and all(f.fields.get(c.field) == c.value for c in names)]
    return named or facts


def _blockers(rule: Rule, facts: list[Fact], subject: str) -> list[str]:
    """Facts that an absent pattern forbids, found by running the rule with that pattern made positive."""
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
