"""Run the must-fire and must-not-fire cases that live inside rule files.

Each case is a small fact set; the rule alone (with the case's params) is
compiled and evaluated on the engine, exactly as in an analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .conditions import ConditionCheck, GroupCheck, check_clause
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
    where: Location | None = None  # the case in its rule file


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
        wrong = [k for k, v in data.items() if k not in unknown and k not in misfit and not _fits(v, FACT_TYPES[kind][k][0])]
        for field in wrong:  # "0.3" compared with 0.6 fired: the engine compares text and numbers without a word
            errors.append(Diagnostic(where(index), f"test {case.name!r}: field {field!r} of fact {kind!r} must be "
                                     f"{KINDS[FACT_TYPES[kind][field][0]]}, not {data[field]!r}"))
        if unknown or misfit or wrong:
            continue
        facts.append(Fact(kind, key, {k: (float(v) if isinstance(v, int) and FACT_TYPES[kind][k][0] is float else v) for k, v in data.items()}))
    if errors:
        raise InputError(errors)
    return facts


KINDS = {float: "a number", int: "a whole number", str: "text", bool: "true or false", list: "a list"}


def _fits(value: object, kind: type) -> bool:
    """Whether a case's value is of its field's kind (a number for a number, text for text...)."""
    if kind is list:
        return True
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:  # 2.0 is the whole number 2 for the engine too
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, kind)


def _case_location(rule: Rule, index: int) -> Location:
    places = rule.raw_locations
    return places.get(f"tests[{index}]", places.get("tests", rule.source))


def _evaluate_case(rule: Rule, case: RuleTest, index: int = 0) -> tuple[Rule, list[Fact], dict[tuple[str, ...], list]]:
    """The rule as the case runs it (its params), the case's facts, and the matches grouped by subjects as
    findings would be."""
    places = rule.raw_locations
    here = _case_location(rule, index)

    def where(fact: int) -> Location:
        return places.get(f"tests[{index}].facts[{fact}]", here)

    unknown = [p for p in case.params if p not in rule.params]
    if unknown:
        raise InputError([Diagnostic(places.get(f"tests[{index}].params", here),
                                     f"test {case.name!r}: rule {rule.id} has no param {name!r}",
                                     did_you_mean(name, list(rule.params))) for name in unknown])
    params = {**rule.params, **rule.written_for(), **case.params}  # the thresholds the cases were written for
    origins = rule.origins | {f"params.{name}": places.get(f"tests[{index}].params", here).short() for name in case.params}
    probe = Rule(rule.spec.model_copy(update={"enabled": True}), rule.source, params, origins, rule.overlay, rule.raw_locations)
    errors: list[Diagnostic] = []
    compiled = compile_rule(probe, errors)
    if errors:
        raise InputError(errors)
    facts = case_facts(case, where)
    groups: dict[tuple[str, ...], list] = {}
    for match in evaluate(CompiledBook(compiled, fields_read(compiled)), facts):
        groups.setdefault(tuple(subjects_of(match.compiled, match)), []).append(match)
    return probe, facts, groups


def example_texts(rule: Rule) -> dict[str, str] | None:
    """The texts of the rule's first must-fire case: a concrete example for its documentation."""
    for index, case in enumerate(rule.spec.tests):
        if case.expect == "fire":
            groups = _evaluate_case(rule, case, index)[2]
            if groups:
                group = groups[min(groups)]
                return render_texts(group[0].compiled, group, Names())
    return None


def run_case(rule: Rule, case: RuleTest, index: int = 0) -> CaseResult:
    probe, facts, groups = _evaluate_case(rule, case, index)
    for group in groups.values():  # the texts must render for every firing
        render_texts(group[0].compiled, group, Names())
    fired = sorted(groups)
    if case.expect == "fire":
        passed = bool(fired) and (case.subjects is None or tuple(case.subjects) in fired)
        detail = "fired" if passed else (f"fired for {_subjects(fired)}, not {', '.join(case.subjects or [])}"
                                          if fired else f"did not fire: {_unmet(probe, facts)}")
    else:
        passed = not fired
        detail = "did not fire" if passed else f"fired for {_subjects(fired)}"
    return CaseResult(rule.id, case.name, case.expect, passed, detail, _case_location(rule, index))


def _unmet(rule: Rule, facts: list[Fact]) -> str:
    """Why a case's facts do not fire the rule, as the engine answers each condition: for each pattern no fact of
    the case meets on its own, what fails on each of its facts; else, that the joins (or an absent pattern) fail."""
    reasons = []
    for pattern in rule.spec.match or []:
        if pattern.absent:
            continue
        own = [fact for fact in facts if fact.type == pattern.fact]
        if not own:
            reasons.append(f"the case has no {pattern.fact} fact")
        failing: list[str] = []
        for fact in own:
            checks = [c for c in (check_clause(rule, pattern, clause, fact) for clause in pattern.where) if c is not None]
            failed = [_failing(check) for check in checks if not check.holds]
            if not failed:  # this fact meets the pattern on its own
                failing = []
                break
            failing.append(f"{fact.type} {fact.key}: " + "; and ".join(failed))
        reasons += failing
    return " | ".join(reasons) or ("each pattern is met by a fact of the case on its own, but no combination of them "
                                   "meets the rule's joins and absent patterns")


def _failing(check: ConditionCheck | GroupCheck) -> str:
    if isinstance(check, ConditionCheck):
        return check.text().removeprefix("fails: ")
    parts = [_failing(part) for part in check.checks if not part.holds]
    return ("none holds of: " if check.kind == "any" else "") + "; ".join(parts)


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
