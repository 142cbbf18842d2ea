"""Run the must-fire and must-not-fire cases that live inside rule files.

Each case is a small fact set; the rule alone (with the case's params) is
compiled and evaluated on the engine, exactly as in an analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Diagnostic, InputError, Location
from .evaluate import evaluate
from .facts import FACT_TYPES, Fact
from .rules.texts import Names, render_texts, subjects_of
from .rules.compile import CompiledBook, compile_rule, fields_read
from .rules.load import Rule, RuleBook
from .rules.spec import RuleTest


@dataclass
class CaseResult:
    rule: str
    case: str
    expect: str
    passed: bool
    detail: str


def case_facts(case: RuleTest, where: Location) -> list[Fact]:
    """Facts of a test case: ``{fact: TYPE, key: ..., field: value, ...}``."""
    facts = []
    errors = []
    for index, raw in enumerate(case.facts):
        data = dict(raw)
        kind = data.pop("fact", None)
        if kind not in FACT_TYPES:
            errors.append(Diagnostic(where, f"test {case.name!r}: fact #{index + 1} needs 'fact:' one of {', '.join(FACT_TYPES)}"))
            continue
        key = str(data.pop("key", kind if kind == "mix" else f"{kind}{index + 1}"))
        unknown = [k for k in data if k not in FACT_TYPES[kind]]
        if unknown:
            errors.append(Diagnostic(where, f"test {case.name!r}: fact {kind!r} has no field {unknown[0]!r}"))
            continue
        misfit = [k for k, v in data.items() if isinstance(v, list) != (FACT_TYPES[kind][k][0] is list)]
        if misfit:  # a list where the engine compares one value would only make the case fail, silently
            field = misfit[0]
            needs = "a list" if FACT_TYPES[kind][field][0] is list else "text, a number or true/false, not a list"
            errors.append(Diagnostic(where, f"test {case.name!r}: field {field!r} of fact {kind!r} must be {needs}"))
            continue
        facts.append(Fact(kind, key, {k: (float(v) if isinstance(v, int) and FACT_TYPES[kind][k][0] is float else v) for k, v in data.items()}))
    if errors:
        raise InputError(errors)
    return facts


def _evaluate_case(rule: Rule, case: RuleTest) -> dict[tuple[str, ...], list]:
    """Matches of one case, grouped by subjects as findings would be."""
    where = rule.raw_locations.get("tests", rule.source)
    unknown = [p for p in case.params if p not in rule.params]
    if unknown:
        raise InputError([Diagnostic(where, f"test {case.name!r}: rule {rule.id} has no param {unknown[0]!r}")])
    params = {**rule.params, **rule.written_for(), **case.params}  # the thresholds the cases were written for
    probe = Rule(rule.spec.model_copy(update={"enabled": True}), rule.source, params, rule.origins, rule.overlay, rule.raw_locations)
    errors: list[Diagnostic] = []
    compiled = compile_rule(probe, errors)
    if errors:
        raise InputError(errors)
    matches = evaluate(CompiledBook(compiled, fields_read(compiled)), case_facts(case, where))
    groups: dict[tuple[str, ...], list] = {}
    for match in matches:
        groups.setdefault(tuple(subjects_of(match.compiled, match)), []).append(match)
    return groups


def example_texts(rule: Rule) -> dict[str, str] | None:
    """The texts of the rule's first must-fire case: a concrete example for its documentation."""
    for case in rule.spec.tests:
        if case.expect == "fire":
            groups = _evaluate_case(rule, case)
            if groups:
                group = groups[min(groups)]
                return render_texts(group[0].compiled, group, Names())
    return None


def run_case(rule: Rule, case: RuleTest) -> CaseResult:
    groups = _evaluate_case(rule, case)
    for group in groups.values():  # the texts must render for every firing
        render_texts(group[0].compiled, group, Names())
    fired = sorted(groups)
    if case.expect == "fire":
        passed = bool(fired) and (case.subjects is None or tuple(case.subjects) in fired)
        detail = "fired" if passed else (f"fired for {fired}, not {case.subjects}" if fired else "did not fire")
    else:
        passed = not fired
        detail = "did not fire" if passed else f"fired for {[list(f) for f in fired]}"
    return CaseResult(rule.id, case.name, case.expect, passed, detail)


def run_rule_tests(book: RuleBook) -> list[CaseResult]:
    results = []
    for rule in sorted(book.rules.values(), key=lambda r: r.id):
        for case in rule.spec.tests:
            results.append(run_case(rule, case))
    return results


def uncovered(book: RuleBook, results: list[CaseResult]) -> list[str]:
    """The rules no passing must-fire case fires: their behaviour is not shown by any case."""
    covered = {r.rule for r in results if r.expect == "fire" and r.passed}
    return sorted(rule_id for rule_id in book.rules if rule_id not in covered)
