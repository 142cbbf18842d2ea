"""Differential test: durable_rules and a small test-only interpreter of the same compiled IR agree.

On the example and on random workspaces, the set of matches (engine rule name, and
which fact filled each positive pattern) from the real engine, through
``evaluate``, equals the set the interpreter in ``tests/interpreter.py`` finds
over the same engine records.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from interpreter import holds, matches
from pmorules.analysis import analyze, load_rules
from pmorules.engine import Engine, encode
from pmorules.evaluate import engine_facts, evaluate
from pmorules.facts import derive_facts
from pmorules.knowledge import load_workspace
from pmorules.rules.compile import CompiledBook, compile_rulebook
from strategies import workspaces, write_workspace

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "knowledge" / "example"
TODAY = dt.date(2026, 3, 20)

Found = set[tuple[str, frozenset[tuple[str, str]]]]


def engine_matches(book: CompiledBook, facts: list) -> Found:
    """What durable_rules finds, through the product's own evaluate()."""
    _, by_id = engine_facts(book, facts)
    ids = {id(fact): engine_id for engine_id, fact in by_id.items()}
    found = evaluate(book, facts)
    result = {
        (m.compiled.engine_name, frozenset((p.engine, ids[id(m.facts[p.name])]) for p in m.compiled.positive))
        for m in found
    }
    assert len(result) == len(found), "the engine reported the same match twice"
    return result


def interpreter_matches(book: CompiledBook, facts: list) -> Found:
    """What the interpreter finds on exactly the JSON the engine is given."""
    records, _ = engine_facts(book, facts)
    records = json.loads(encode(records))
    return {
        (compiled.engine_name, match)
        for compiled in book.rules
        for match in matches(json.loads(encode(compiled.definition)), records)
    }


def assert_same(book: CompiledBook, facts: list) -> Found:
    real, oracle = engine_matches(book, facts), interpreter_matches(book, facts)
    assert real == oracle, {"engine only": sorted(real - oracle), "interpreter only": sorted(oracle - real)}
    return real


@functools.cache
def default_book() -> CompiledBook:
    return compile_rulebook(load_rules(None)[1])


def test_example_engine_and_interpreter_agree() -> None:
    analysis = analyze(EXAMPLE, TODAY)  # default rulebook plus the example's overlay and config
    found = assert_same(analysis.compiled, analysis.facts.facts)
    assert found, "the example produces matches"
    assert {name.rsplit("_", 1)[0] for name, _ in found} >= {"gol001", "hrm001", "dep001", "prb002"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=workspaces())
def test_random_workspaces_engine_and_interpreter_agree(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kb = load_workspace(write_workspace(files, Path(tmp) / "ws"))
    assert_same(default_book(), derive_facts(kb, TODAY).facts)


# The interpreter's reading of the IR, pinned on hand-made cases (the differential
# test is only as strong as the interpreter is faithful to durable_rules).


def _engine(definition: dict, records: list[dict]) -> set[frozenset]:
    got: set[frozenset] = set()
    with Engine("probe", {"r": definition}, {"r": lambda m: got.add(frozenset((k, v["id"]) for k, v in m.items() if k != "g"))}) as eng:
        eng.assert_facts(records)
        eng.assert_facts([{"id": "__gate__", "t": "__gate__"}])
    return got


# Hand-written IR obeys the compiler's workarounds too: a pattern whose only join is a comparison
# repeats it (durable_rules reads out of bounds otherwise, and crashed this test now and then).
RECORDS = [
    {"id": "a", "t": "x", "k": "a", "v": 1, "s": "abc", "l": ["exec", "pm"]},
    {"id": "b", "t": "x", "k": "b", "v": 2, "s": "ab", "w": 5, "l": []},
    {"id": "c", "t": "y", "k": "c", "v": 0, "ref": "a"},
    {"id": "d", "t": "y", "k": "d", "v": 3, "ref": "b", "w": 1.5},
]

CASES = {
    "equality": {"all": [{"p1": {"$and": [{"t": "x"}, {"v": 2}]}}]},
    "neq on a missing field is false": {"all": [{"p1": {"$and": [{"t": "x"}, {"$neq": {"w": 7}}]}}]},
    "exists": {"all": [{"p1": {"$and": [{"t": "y"}, {"$ex": {"w": 1}}]}}]},
    "not exists": {"all": [{"p1": {"$and": [{"t": "y"}, {"$nex": {"w": 1}}]}}]},
    "regex is a full match": {"all": [{"p1": {"$and": [{"t": "x"}, {"$mt": {"s": "ab"}}]}}]},
    "an empty 'in' (a param set to []) holds for no fact": {
        "all": [{"p1": {"$and": [{"t": "x"}, {"$and": [{"$ex": {"v": 1}}, {"$nex": {"v": 1}}]}]}}]},
    "a list contains a value (never an empty or missing list)": {
        "all": [{"p1": {"$and": [{"t": "x"}, {"$iany": {"l": {"$i": "pm"}}}]}}]},
    "a list has one of several values": {
        "all": [{"p1": {"$and": [{"t": "x"}, {"$iany": {"l": {"$or": [{"$i": "fin"}, {"$i": "exec"}]}}}]}}]},
    "a list test beside an equality join": {
        "all": [{"p1": {"t": "y"}}, {"p2": {"$and": [{"t": "x"}, {"k": {"p1": "ref"}}, {"$iany": {"l": {"$i": "exec"}}}]}}]},
    "or": {"all": [{"p1": {"$and": [{"t": "x"}, {"$or": [{"v": 1}, {"$gt": {"w": 4}}]}]}}]},
    "self join never binds one fact twice": {
        "all": [{"p1": {"t": "x"}}, {"p2": {"$and": [{"t": "x"}, {"$gte": {"v": {"p1": "v"}}}, {"$gte": {"v": {"p1": "v"}}}]}}]
    },
    "equality join": {"all": [{"p1": {"t": "x"}}, {"p2": {"$and": [{"t": "y"}, {"ref": {"p1": "k"}}]}}]},
    "same-fact reference and arithmetic": {  # guarded as compiled: a missing $m field reads a stale value
        "all": [{"p1": {"$and": [{"t": "y"}, {"$ex": {"w": 1}}, {"$gt": {"v": {"$mul": {"$l": 1.5, "$r": {"$m": "w"}}}}}]}}]
    },
    "arithmetic on another pattern": {
        "all": [{"p1": {"$and": [{"t": "x"}, {"$ex": {"w": 1}}]}},
                {"p2": {"$and": [{"t": "y"}, {"$lt": {"v": {"$add": {"$l": {"p1": "w"}, "$r": -2}}}},
                                 {"$lt": {"v": {"$add": {"$l": {"p1": "w"}, "$r": -2}}}}]}}]
    },
    "negation with a join": {
        "all": [{"g": {"t": "__gate__"}}, {"p1": {"t": "x"}},
                {"p2$not": {"$and": [{"t": "y"}, {"ref": {"p1": "k"}}, {"$gt": {"v": 1}}]}}]
    },
    "a fact bound earlier does not block a negation": {
        "all": [{"g": {"t": "__gate__"}}, {"p1": {"t": "x"}},
                {"p2$not": {"$and": [{"t": "x"}, {"$gte": {"v": {"p1": "v"}}}, {"$gte": {"v": {"p1": "v"}}}]}}]
    },
}


@pytest.mark.parametrize("name", list(CASES))
def test_interpreter_reads_the_ir_as_the_engine_does(name: str) -> None:
    definition = CASES[name]
    assert matches(definition, RECORDS) == _engine(json.loads(json.dumps(definition)), RECORDS)


def test_interpreter_refuses_what_it_does_not_know() -> None:
    with pytest.raises(NotImplementedError):
        holds({"$imt": {"s": "x"}}, RECORDS[0], {})
