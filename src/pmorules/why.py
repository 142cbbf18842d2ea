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
from .errors import Diagnostic, InputError, Location, did_you_mean
from .evaluate import evaluate
from .facts import REGISTRY, Fact
from .findings import Finding, names_of
from .rules.compile import CompiledBook, compile_rule, fields_read
from .rules.load import Rule
from .rules.spec import AnyOf, Condition, Pattern
from .rules.texts import subjects_of
from .text import num

NEEDS = {  # how a condition reads after "the rule needs it"
    "eq": "to be", "ne": "not to be", "gt": "above", "ge": "at least", "lt": "below", "le": "at most",
    "in": "one of", "not_in": "none of", "exists": "to be given", "missing": "not to be given", "matches": "to match",
    "contains": "to contain", "any_in": "to contain one of",
}


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_words(v) for v in value)
    return "not given" if value is None else num(value)


@dataclass
class ConditionCheck:
    """One condition of a rule on one fact, as the engine answered it."""

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
    because: str = ""  # a derived field in words

    def text(self) -> str:
        verdict = "holds" if self.holds else "fails"
        where = f" [{self.source}]" if self.source else ""
        actual, expected = _words(self.actual), _words(self.expected)
        if actual == expected and self.actual != self.expected and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in (self.actual, self.expected)):
            actual, expected = f"{self.actual:g}", f"{self.expected:g}"  # 0.2999 against 0.3, not "0.3 against 0.3"
        needs = "" if self.op in ("exists", "missing") else f" {expected}"
        threshold = f" ({self.param}, set at {self.param_source})" if self.param else ""
        gap = f", off by {self.gap:g}" if self.gap is not None and not self.holds else ""
        because = f" ({self.because})" if self.because else ""
        return (f"{verdict}: {self.field.replace('_', ' ')} is {actual}{where}{because}; "
                f"the rule needs it {NEEDS[self.op]}{needs}{threshold}{gap}")


@dataclass
class GroupCheck:
    """An ``any`` (one must hold) or ``all`` (each must hold) group of a rule, with its parts."""

    kind: str
    checks: list[ConditionCheck | GroupCheck]

    @property
    def holds(self) -> bool:
        found = [c.holds for c in self.checks]
        return any(found) if self.kind == "any" else all(found)


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


def _probe(rule: Rule, pattern: Pattern, cond: Condition, fact: Fact) -> bool:
    """Ask the engine whether one condition holds on one fact."""
    spec = rule.spec.model_copy(update={"match": [Pattern(fact=pattern.fact, **{"as": pattern.name}, where=[cond])],
                                        "enabled": True, "subjects": [f"{pattern.name}.key"], "path": None})
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
    gap = None
    if (isinstance(actual, (int, float)) and isinstance(expected, (int, float)) and not isinstance(actual, bool)
            and cond.times is None and cond.plus is None):
        gap = round(abs(float(actual) - float(expected)), 6)
    return ConditionCheck(
        fact.label, cond.field, cond.op, expected, actual, _probe(rule, pattern, cond, fact), gap, cond.param,
        rule.origins.get(f"params.{cond.param}") if cond.param else None, fact.sources.get(cond.field, ""),
        fact.words.get(cond.field, ""),
    )


def _clause(rule: Rule, pattern: Pattern, clause: Any, fact: Fact) -> ConditionCheck | GroupCheck | None:
    """A clause checked on one fact; None for a join with another pattern (it depends on the other fact)."""
    if isinstance(clause, Condition):
        own = clause.ref is None or clause.ref.partition(".")[0] == pattern.name
        return _check(rule, pattern, clause, fact) if own else None
    parts = [c for c in (_clause(rule, pattern, x, fact) for x in (clause.any if isinstance(clause, AnyOf) else clause.all))
             if c is not None]
    return GroupCheck("any" if isinstance(clause, AnyOf) else "all", parts) if parts else None


ID_FIELDS = ("src", "dst", "target", "via", "goal", "best_service", "client", "first", "service")  # fields holding ids


def _title(fact: Fact, names: dict[str, str]) -> str:
    """A fact in words: its type's title with ids read as names."""
    values = {k: (f"{names[v]} ({v})" if k in ID_FIELDS and isinstance(v, str) and names.get(v, v) != v else _words(v))
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
        checks = [c for c in (_clause(rule, pattern, clause, fact) for clause in pattern.where) if c is not None]
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
