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
from .rules.spec import AnyOf, Condition, Operand, Pattern
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


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    scaled: str = ""  # how times and plus make the value compared with: "services_per_fte 3 × capacity fte 6"

    def text(self) -> str:
        verdict = "holds" if self.holds else "fails"
        where = f" [{self.source}]" if self.source else ""
        actual, expected = in_words(self.actual), in_words(self.expected)
        if actual == expected and self.actual != self.expected and _number(self.actual) and _number(self.expected):
            actual, expected = f"{self.actual:g}", f"{self.expected:g}"  # 0.2999 against 0.3, not "0.3 against 0.3"
            if actual == expected:  # 0.3 against 3 × 0.1, which is 0.30000000000000004 for the engine
                actual, expected = repr(float(self.actual)), repr(float(self.expected))
        needs = "" if self.op in ("exists", "missing") else f" {expected}"
        set_at = f"{self.param}{'' if self.scaled else ','} set at {self.param_source}" if self.param else ""
        threshold = f" ({'; '.join(filter(None, [self.scaled, set_at]))})" if self.scaled or set_at else ""
        gap = f", off by {self.gap:.3g}" if self.gap and not self.holds else ""
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


def _operand(rule: Rule, operand: Condition | Operand, fact: Fact) -> Any:
    """The value a condition (or its times/plus) compares with: a literal, a param, or a field of this fact."""
    if operand.param is not None:
        return rule.params.get(operand.param)
    if operand.ref is not None:
        name = operand.ref.partition(".")[2]
        return fact.key if name == "key" else fact.fields.get(name)
    return operand.value


def check_condition(rule: Rule, pattern: Pattern, cond: Condition, fact: Fact) -> ConditionCheck:
    """The condition on the fact as the engine answers it, with the value it compared with: scaled by ``times``
    and shifted by ``plus`` as the engine does (CAP001's 3 services per FTE on 6 FTE needs above 18, not 3)."""
    actual = fact.key if cond.field == "key" else fact.fields.get(cond.field)
    expected = None if cond.op in ("exists", "missing") else _operand(rule, cond, fact)
    scaled = [_operand_words(rule, cond, fact)] if cond.times or cond.plus else []
    for sign, operand, apply in (("×", cond.times, lambda a, b: a * b), ("+", cond.plus, lambda a, b: a + b)):
        if operand is not None:
            by = _operand(rule, operand, fact)
            expected = apply(expected, by) if _number(expected) and _number(by) else None
            scaled.append(f"{sign} {_operand_words(rule, operand, fact)}")
    gap = None
    if _number(actual) and _number(expected):
        exact = abs(float(actual) - float(expected))
        gap = round(exact, 6) or exact  # a difference below the sixth decimal is still said, not "off by 0"
    return ConditionCheck(
        fact.label, cond.field, cond.op, expected, actual, _probe(rule, pattern, cond, fact), gap, cond.param,
        rule.origins.get(f"params.{cond.param}") if cond.param else None, fact.sources.get(cond.field, ""),
        fact.words.get(cond.field, ""), " ".join(scaled),
    )


def _operand_words(rule: Rule, operand: Condition | Operand, fact: Fact) -> str:
    """One part of a computed value: ``services_per_fte 3``, ``capacity fte 6`` (or not given), ``2``."""
    value = in_words(_operand(rule, operand, fact))
    if operand.param is not None:
        return f"{operand.param} {value}"
    if operand.ref is not None:
        return f"{operand.ref.partition('.')[2].replace('_', ' ')} {value}"
    return value


def check_clause(rule: Rule, pattern: Pattern, clause: Any, fact: Fact) -> ConditionCheck | GroupCheck | None:
    """A clause checked on one fact; None for a join with another pattern (it depends on the other fact), and for
    an ``any`` group with such a join among its branches (the join may be the branch that holds)."""
    if isinstance(clause, Condition):
        refs = [operand.ref for operand in (clause, clause.times, clause.plus) if operand is not None and operand.ref]
        own = all(ref.partition(".")[0] == pattern.name for ref in refs)
        return check_condition(rule, pattern, clause, fact) if own else None
    branches = clause.any if isinstance(clause, AnyOf) else clause.all
    checked = [check_clause(rule, pattern, x, fact) for x in branches]
    parts = [c for c in checked if c is not None]
    if isinstance(clause, AnyOf) and len(parts) < len(checked):
        return None
    return GroupCheck("any" if isinstance(clause, AnyOf) else "all", parts) if parts else None
