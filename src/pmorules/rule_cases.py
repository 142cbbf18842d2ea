"""Run the must-fire and must-not-fire cases that live inside rule files.

Each case is a small fact set; the rule alone (with the case's params) is
compiled and evaluated on the engine, exactly as in an analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import Diagnostic, InputError, Location, did_you_mean
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


def case_facts(case: RuleTest, where: Callable[[int], Location]) -> list[Fact]:
    """Facts of a test case: ``{fact: TYPE, key: ..., field: value, ...}``; ``where``: the location of fact N."""
    facts = []
    errors = []
    for index, raw in enumerate(case.facts):
        data = dict(raw)
        kind = data.pop("fact", None)
        if kind not in FACT_TYPES:
            errors.append(Diagnostic(where(index), f"test {case.name!r}: fact #{index + 1} needs 'fact:' one of "
                                     f"{', '.join(FACT_TYPES)}"))
            continue
        key = str(data.pop("key", kind if kind == "mix" else f"{kind}{index + 1}"))
        unknown = [k for k in data if k not in FACT_TYPES[kind]]
        errors += [Diagnostic(where(index), f"test {case.name!r}: fact {kind!r} has no field {name!r}",
                              did_you_mean(name, list(FACT_TYPES[kind]))) for name in unknown]
        misfit = [k for k, v in data.items() if k not in unknown and isinstance(v, list) != (FACT_TYPES[kind][k][0] is list)]
        for field in misfit:  # a list where the engine compares one value would only make the case fail, silently
            needs = "a list" if FACT_TYPES[kind][field][0] is list else "text, a number or true/false, not a list"
            errors.append(Diagnostic(where(index), f"test {case.name!r}: field {field!r} of fact {kind!r} must be {needs}"))
        if unknown or misfit:
            continue
        facts.append(Fact(kind, key, {k: (float(v) if isinstance(v, int) and FACT_TYPES[kind][k][0] is float else v) for k, v in data.items()}))
    if errors:
        raise InputError(errors)
    return facts


def _evaluate_case(rule: Rule, case: RuleTest, index: int = 0) -> dict[tuple[str, ...], list]:
    """Matches of case ``index`` of the rule, grouped by subjects as findings would be."""
    places = rule.raw_locations
    here = places.get(f"tests[{index}]", places.get("tests", rule.source))

    def where(fact: int) -> Location:
        return places.get(f"tests[{index}].facts[{fact}]", here)

    unknown = [p for p in case.params if p not in rule.params]
    if unknown:
        raise InputError([Diagnostic(places.get(f"tests[{index}].params", here),
                                     f"test {case.name!r}: rule {rule.id} has no param {name!r}",
                                     did_you_mean(name, list(rule.params))) for name in unknown])
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
    for index, case in enumerate(rule.spec.tests):
        if case.expect == "fire":
            groups = _evaluate_case(rule, case, index)
            if groups:
                group = groups[min(groups)]
                return render_texts(group[0].compiled, group, Names())
    return None


def run_case(rule: Rule, case: RuleTest, index: int = 0) -> CaseResult:
    groups = _evaluate_case(rule, case, index)
    for group in groups.values():  # the texts must render for every firing
        render_texts(group[0].compiled, group, Names())
    fired = sorted(groups)
    if case.expect == "fire":
        passed = bool(fired) and (case.subjects is None or tuple(case.subjects) in fired)
        detail = "fired" if passed else (f"fired for {_subjects(fired)}, not {', '.join(case.subjects or [])}"
                                          if fired else "did not fire")
    else:
        passed = not fired
        detail = "did not fire" if passed else f"fired for {_subjects(fired)}"
    return CaseResult(rule.id, case.name, case.expect, passed, detail)


def _subjects(fired: list[tuple[str, ...]]) -> str:
    """The subjects of each firing, in words: ``a, b; c`` (it printed a Python list of tuples)."""
    return "; ".join(", ".join(subjects) or "(no subject)" for subjects in fired)


def run_rule_tests(book: RuleBook) -> list[CaseResult]:
    """Every case of every rule; the errors of all the cases at once (InputError), each at its case."""
    results, errors = [], []
    for rule in sorted(book.rules.values(), key=lambda r: r.id):
        for index, case in enumerate(rule.spec.tests):
            try:
                results.append(run_case(rule, case, index))
            except InputError as error:
                errors += [d for d in error.diagnostics if d not in errors]
    if errors:
        raise InputError(errors)
    return results


def uncovered(book: RuleBook, results: list[CaseResult]) -> list[str]:
    """The rules no passing must-fire case fires: their behaviour is not shown by any case."""
    covered = {r.rule for r in results if r.expect == "fire" and r.passed}
    return sorted(rule_id for rule_id in book.rules if rule_id not in covered)
