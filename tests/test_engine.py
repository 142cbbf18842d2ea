"""The durable_rules adapter (engine.py) and the engine quirks the compiler guards against."""

from __future__ import annotations

import functools
import os
import re
from typing import Any

import pytest

from pmorules import engine as engine_module
from pmorules.engine import Engine, EngineError, encode, encode_value, fact_ids, fnv1a32
from pmorules.errors import Diagnostic, Location
from pmorules.evaluate import evaluate
from pmorules.facts import Fact
from pmorules.rules.compile import GATE_TYPE, CompiledBook, fields_read, compile_rule
from pmorules.rules.load import Rule
from pmorules.rules.spec import RuleSpec

ONE_RULE = {"r": {"all": [{"m": {"t": "x"}}]}}


def run(rules: dict[str, Any], *batches: list[dict[str, Any]], name: str = "probe") -> list[tuple[str, dict[str, str]]]:
    """Assert the batches in order; every firing as (rule, {pattern: fact id})."""
    fired: list[tuple[str, dict[str, str]]] = []
    actions = {rule: (lambda m, rule=rule: fired.append((rule, {k: v["id"] for k, v in m.items()}))) for rule in rules}
    with Engine(name, rules, actions) as engine:
        for batch in batches:
            engine.assert_facts(batch)
    return fired


# ---------------------------------------------------------------- actions and cleanup


def test_an_exception_in_an_action_is_raised_after_the_run() -> None:
    def boom(_matched: dict) -> None:
        raise ValueError("boom in the action")

    with pytest.raises(ValueError, match="boom in the action"):
        with Engine("probe", ONE_RULE, {"r": boom}) as engine:
            engine.assert_facts([{"id": "a", "t": "x"}])
    assert run(ONE_RULE, [{"id": "a", "t": "x"}]) == [("r", {"m": "a"})]  # the failed run was cleaned up


def test_even_keyboard_interrupt_in_an_action_is_not_swallowed() -> None:
    def interrupt(_matched: dict) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with Engine("probe", ONE_RULE, {"r": interrupt}) as engine:
            engine.assert_facts([{"id": "a", "t": "x"}])


def test_facts_that_match_no_rule_are_fine() -> None:
    assert run(ONE_RULE, [{"id": "a", "t": "other"}, {"id": "b", "t": "x"}], [{"id": "c", "t": "nothing"}]) == [
        ("r", {"m": "b"})
    ]


def test_two_runs_in_sequence_with_the_same_ruleset_name_are_independent() -> None:
    join = {"r": {"all": [{"a": {"t": "x"}}, {"b": {"$and": [{"t": "y"}, {"k": {"a": "k"}}]}}]}}
    first = run(join, [{"id": "1", "t": "x", "k": "s"}, {"id": "2", "t": "y", "k": "s"}], name="pmorules0")
    second = run(join, [{"id": "3", "t": "y", "k": "s"}], name="pmorules0")
    third = run(join, [{"id": "1", "t": "x", "k": "s"}, {"id": "2", "t": "y", "k": "s"}], name="pmorules0")
    assert first == third == [("r", {"a": "1", "b": "2"})]
    assert second == []  # no fact of the first run is left in the engine


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count the calls of one function of the C engine."""
    calls: list[int] = []
    real = getattr(engine_module._dre, name)
    monkeypatch.setattr(engine_module._dre, name, lambda *args: calls.append(1) or real(*args))
    return calls


def test_the_same_rules_are_compiled_once_and_their_next_run_starts_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    join = {"r": {"all": [{"a": {"t": "x"}}, {"b": {"$and": [{"t": "y"}, {"k": {"a": "k"}}]}}]}, "unique": {"all": [{"m": {"t": "never"}}]}}  # rules no other test compiled
    created = _counting(monkeypatch, "create_ruleset")
    assert run(join, [{"id": "1", "t": "x", "k": "s"}]) == []
    assert run(join, [{"id": "2", "t": "y", "k": "s"}]) == []  # the x of the first run is gone
    assert run(join, [{"id": "1", "t": "x", "k": "s"}, {"id": "2", "t": "y", "k": "s"}]) == [("r", {"a": "1", "b": "2"})]
    assert len(created) == 1


def test_a_run_that_failed_does_not_keep_its_ruleset(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = {"failing": {"all": [{"m": {"t": "x"}}]}}

    def boom(_matched: dict) -> None:
        raise ValueError("boom")

    created, deleted = _counting(monkeypatch, "create_ruleset"), _counting(monkeypatch, "delete_ruleset")
    with pytest.raises(ValueError):
        with Engine("probe", rules, {"failing": boom}) as engine:
            engine.assert_facts([{"id": "a", "t": "x"}])
    assert (len(created), len(deleted)) == (1, 1)
    assert run(rules, [{"id": "a", "t": "x"}]) == [("failing", {"m": "a"})]
    assert len(created) == 2


def test_only_the_most_recently_used_idle_rulesets_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    deleted = _counting(monkeypatch, "delete_ruleset")
    kept = engine_module.IDLE_RULESETS_KEPT
    for number in range(kept + 5):
        assert run({f"bounded{number}": ONE_RULE["r"]}, [{"id": "a", "t": "x"}]) == [(f"bounded{number}", {"m": "a"})]
    assert len(engine_module._IDLE_RULESETS) == kept
    assert len(deleted) >= 5


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_many_runs_free_their_facts() -> None:
    # without delete_state the engine keeps ~8 KiB per stored fact: 100 runs x 1,000 facts would be ~800 MiB
    join = {"r": {"all": [{"a": {"t": "x"}}, {"b": {"$and": [{"t": "y"}, {"k": {"a": "k"}}]}}]}}
    facts = [{"id": f"x{i}", "t": "x", "k": f"k{i}"} for i in range(500)] + [
        {"id": f"y{i}", "t": "y", "k": f"k{i}"} for i in range(500)]
    run(join, facts)
    before = _rss_mib()
    for _ in range(100):
        assert len(run(join, facts)) == 500
    assert _rss_mib() - before < 60


# ---------------------------------------------------------------- fact identity


@functools.cache
def _first_collision(prefix: str = "f") -> tuple[str, str]:
    seen: dict[int, str] = {}
    for number in range(1_000_000):
        text = f"{prefix}{number}"
        h = fnv1a32(text)
        if h in seen:
            return seen[h], text
        seen[h] = text
    raise AssertionError("no collision found")


def test_fnv1a32_matches_the_reference_values() -> None:
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


def test_the_engine_loses_a_fact_whose_id_collides_in_its_hash() -> None:
    first, second = _first_collision()
    assert fnv1a32(first) == fnv1a32(second) and first != second
    # why fact_ids re-keys: the engine itself takes the second fact for a duplicate and loses it
    with pytest.raises(EngineError, match="duplicate"):
        run(ONE_RULE, [{"id": first, "t": "x"}], [{"id": second, "t": "x"}])


def test_fact_ids_are_re_keyed_where_the_hash_would_collide() -> None:
    first, second = _first_collision()
    ids = fact_ids(int(second[1:]) + 1)
    assert ids[int(first[1:])] == first and ids[-1] != second and ids[-1].startswith(second)
    hashes = [fnv1a32(i) for i in ids + ["__gate__", "__sentinel__"]]
    assert len(set(hashes)) == len(hashes) == len(ids) + 2


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "text"),
    [(1e-05, "1.0e-05"), (-1e-05, "-1.0e-05"), (1e16, "1.0e+16"), (1e20, "1.0e+20"), (1.5e-07, "1.5e-07"),
     (0.1, "0.1"), (2.0, "2.0"), (1e-07, "1.0e-07"), (0.1234567, "0.1234567"), (3, "3"), (True, "true"), ("é", '"é"')],
)
def test_floats_reach_the_engine_exactly_with_an_exponent_only_after_a_fraction(value: Any, text: str) -> None:
    assert encode_value(value) == text
    assert value is True or isinstance(value, str) or float(text) == value


def test_tiny_and_huge_numbers_are_accepted_by_the_engine() -> None:
    rules = {"small": {"all": [{"m": {"$and": [{"t": "x"}, {"$gt": {"v": 0.000005}}, {"$lt": {"v": 1e-4}}]}}]},
             "big": {"all": [{"m": {"$and": [{"t": "x"}, {"$gte": {"v": 1e16}}]}}]}}
    facts = [{"id": "a", "t": "x", "v": 1e-05}, {"id": "b", "t": "x", "v": 1e16}, {"id": "c", "t": "x", "v": -1e-05}]
    assert sorted(run(rules, facts)) == [("big", {"m": "b"}), ("small", {"m": "a"})]
    assert re.search(r"[0-9][eE]", encode(facts).replace(".0e", "")) is None


def test_a_tiny_number_is_not_rounded_to_a_different_verdict() -> None:
    rules = {"positive": {"all": [{"m": {"$and": [{"t": "x"}, {"$gt": {"v": 0}}]}}]},
             "below": {"all": [{"m": {"$and": [{"t": "x"}, {"$lt": {"v": 1e-07}}]}}]}}
    facts = [{"id": "a", "t": "x", "v": 1e-07}, {"id": "b", "t": "x", "v": 9.999999e-08}]
    assert sorted((name, m["m"]) for name, m in run(rules, facts)) == [("below", "b"), ("positive", "a"), ("positive", "b")]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(EngineError, match="non-finite"):
        encode_value(value)
    with pytest.raises(EngineError):
        run(ONE_RULE, [{"id": "a", "t": "x", "v": value}])


def test_values_the_engine_cannot_hold_are_refused() -> None:
    with pytest.raises(EngineError, match="unsupported"):
        encode({"v": object()})


# ---------------------------------------------------------------- the gate


def _rule(**data: Any) -> Rule:
    spec = RuleSpec.model_validate(
        {"id": "TST001", "name": "probe", "title": "Probe", "category": "test", "level": "info", "message": "m",
         "why": "w", "recommendation": "r", **data}
    )
    return Rule(spec, Location("probe.yaml", 1, 1), {n: p.default for n, p in spec.params.items()})


def _book(*rules: Rule) -> CompiledBook:
    errors: list[Diagnostic] = []
    compiled = [c for rule in rules for c in compile_rule(rule, errors)]
    assert not errors, errors
    return CompiledBook(compiled, fields_read(compiled))


GOAL_WITHOUT_COVER = _rule(
    match=[
        {"fact": "goal", "as": "c"},
        {"fact": "goal_target", "absent": True, "where": [
            {"field": "goal", "op": "eq", "ref": "c.key"}, {"field": "target_kind", "op": "eq", "value": "outcome"}]},
    ],
    subjects=["c"],
)


def test_the_gate_lets_a_negation_see_facts_asserted_after_the_guarded_fact() -> None:
    (compiled,) = _book(GOAL_WITHOUT_COVER).rules
    assert compiled.gated and compiled.definition["all"][0] == {"g": {"t": GATE_TYPE}}
    rules = {"r": compiled.definition}
    guarded = [{"id": "c1", "t": "goal", "k": "G1"}]
    blocker = [{"id": "s1", "t": "goal_target", "k": "G1/O26", "goal": "G1", "target_kind": "outcome"}]
    gate = [{"id": "__gate__", "t": GATE_TYPE}]
    assert run(rules, guarded, blocker, gate) == []  # the guarded fact first, then the blocker, then the gate
    assert run(rules, guarded, gate) == [("r", {"g": "__gate__", "p1": "c1"})]
    # what the gate protects against: without it, durable_rules fires the negation eagerly
    ungated = {"r": {"all": compiled.definition["all"][1:]}}
    assert run(ungated, guarded, blocker) == [("r", {"p1": "c1"})]


def test_evaluate_asserts_the_gate_last_whatever_the_fact_order() -> None:
    book = _book(GOAL_WITHOUT_COVER)
    goal = Fact("goal", "G1", {"due_months": 3.0})
    target = Fact("goal_target", "G1/O26", {"goal": "G1", "target": "O26", "target_kind": "outcome"})
    assert evaluate(book, [goal, target]) == evaluate(book, [target, goal]) == []
    assert [m.facts["c"].key for m in evaluate(book, [goal])] == ["G1"]


# ---------------------------------------------------------------- engine quirks the compiler guards against


def test_a_missing_field_compared_on_the_same_fact_is_false_not_a_stale_value() -> None:
    # durable_rules compared `services > 3 * capacity_fte` with the value left by `services > 0`
    # when capacity_fte was missing, and fired (found by the differential test on CAP001).
    earlier = _rule(id="TST001", match=[{"fact": "mix", "where": [{"field": "services", "op": "gt", "value": 0}]}],
                    subjects=["mix"])
    per_fte = _rule(id="TST002", params={"per_fte": 3}, subjects=["mix"], match=[{"fact": "mix", "where": [
        {"field": "services", "op": "gt", "param": "per_fte", "times": {"ref": "mix.capacity_fte"}}]}])
    same = _rule(id="TST003", subjects=["mix"], match=[{"fact": "mix", "where": [
        {"field": "services", "op": "eq", "ref": "mix.capacity_fte"}]}])
    book = _book(earlier, per_fte, same)
    fired = lambda fields: sorted(m.compiled.rule.id for m in evaluate(book, [Fact("mix", "mix", fields)]))  # noqa: E731
    assert fired({"services": 3}) == ["TST001"]
    assert fired({"services": 3, "capacity_fte": 0.5}) == ["TST001", "TST002"]
    assert fired({"services": 3, "capacity_fte": 2.0}) == ["TST001"]
    assert fired({"services": 3, "capacity_fte": 3.0}) == ["TST001", "TST003"]


GOALS = [
    Fact("goal", "G1", {"linked": 1, "due_months": 1.0, "earliest_months": 2.0}),
    Fact("goal", "G2", {"linked": 1, "due_months": 1.0, "earliest_months": 2.0}),
    Fact("goal_target", "G1/x", {"goal": "G1", "target": "x", "best_service": "a", "best_months": 2.0}),
    Fact("goal_target", "G2/x", {"goal": "G2", "target": "x", "best_service": "a", "best_months": 2.0}),
]


@pytest.mark.parametrize(
    "where",
    [
        [{"field": "linked", "op": "in", "value": [1, 2]}, {"field": "key", "op": "eq", "ref": "l.goal"}],
        [{"field": "linked", "op": "not_in", "value": [3, 4]}, {"field": "key", "op": "eq", "ref": "l.goal"}],
        [{"field": "earliest_months", "op": "gt", "ref": "g.due_months"}, {"field": "key", "op": "eq", "ref": "l.goal"}],
    ],
    ids=["in", "not_in", "same-fact ref"],
)
def test_a_group_or_guard_never_comes_before_a_join(where: list[dict]) -> None:
    # durable_rules ignores every join that follows a nested $or/$and group in the same pattern
    rule = _rule(match=[{"fact": "goal_target", "as": "l"}, {"fact": "goal", "as": "g", "where": where}], subjects=["g"])
    pairs = sorted((m.facts["l"].fields["goal"], m.facts["g"].key) for m in evaluate(_book(rule), GOALS))
    assert pairs == [("G1", "G1"), ("G2", "G2")]


def test_a_comparison_with_a_missing_field_of_another_fact_does_not_fail_the_run() -> None:
    # durable_rules refuses the whole batch (error 311) when a comparison reads a missing field of another fact
    rule = _rule(
        match=[{"fact": "goal", "as": "g"},
               {"fact": "goal_target", "as": "l", "where": [{"field": "goal", "op": "eq", "ref": "g.key"},
                                                            {"field": "best_months", "op": "lt", "ref": "g.earliest_months"}]}],
        subjects=["g"],
    )
    facts = [Fact("goal", "G1", {"linked": 0}), Fact("goal_target", "G1/x", {"goal": "G1", "best_months": 2.0}),
             Fact("goal", "G2", {"earliest_months": 3.0}), Fact("goal_target", "G2/x", {"goal": "G2", "best_months": 2.0})]
    assert [m.facts["g"].key for m in evaluate(_book(rule), facts)] == ["G2"]


def test_a_reference_inside_any_combined_with_another_join_is_refused() -> None:
    rule = _rule(
        match=[{"fact": "goal", "as": "g"},
               {"fact": "goal_target", "absent": True, "where": [
                   {"field": "goal", "op": "eq", "ref": "g.key"},
                   {"any": [{"field": "best_months", "op": "le", "ref": "g.due_months"}, {"field": "best_value", "op": "gt", "value": 0.9}]}]}],
        subjects=["g"],
    )
    errors: list[Diagnostic] = []
    compile_rule(rule, errors)
    assert any("cannot be combined" in e.message for e in errors), errors
