"""One condition of a rule checked on one fact, by the engine: what ``why --not`` and ``rules test`` say
when a rule does not fire where it should.

Each condition is asked of the engine alone (the rule reduced to it), so no rule logic is repeated here;
the answer reads as "fails: probability is 0.7; the rule needs it below 0.6 (max_p, set at …), off by 0.1".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import Diagnostic, InputError
from .evaluate import evaluate
from .facts import Fact
from .rules.compile import CompiledBook, compile_rule, fields_read
from .rules.load import Rule
from .rules.spec import AnyOf, Condition, Pattern
from .text import num

NEEDS = {  # how a condition reads after "the rule needs it"
    "eq": "to be", "ne": "not to be", "gt": "above", "ge": "at least", "lt": "below", "le": "at most",
    "in": "one of", "not_in": "none of", "exists": "to be given", "missing": "not to be given", "matches": "to match",
    "contains": "to contain", "any_in": "to contain one of",
}


def in_words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(in_words(v) for v in value)
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
        actual, expected = in_words(self.actual), in_words(self.expected)
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


def check_condition(rule: Rule, pattern: Pattern, cond: Condition, fact: Fact) -> ConditionCheck:
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


def check_clause(rule: Rule, pattern: Pattern, clause: Any, fact: Fact) -> ConditionCheck | GroupCheck | None:
    """A clause checked on one fact; None for a join with another pattern (it depends on the other fact)."""
    if isinstance(clause, Condition):
        own = clause.ref is None or clause.ref.partition(".")[0] == pattern.name
        return check_condition(rule, pattern, clause, fact) if own else None
    parts = [c for c in (check_clause(rule, pattern, x, fact) for x in (clause.any if isinstance(clause, AnyOf) else clause.all))
             if c is not None]
    return GroupCheck("any" if isinstance(clause, AnyOf) else "all", parts) if parts else None
