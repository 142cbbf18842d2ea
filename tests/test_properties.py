"""Properties of an analysis that must hold on any workspace.

(a) The order of the facts does not change the findings (the engine fires eagerly,
    so this is what the gate and the sorting in evaluate() are for).
(b) Every finding's evidence re-checks true against a freshly derived knowledge base.
(c) An analysis is deterministic, byte for byte, even across hash seeds.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmorules.analysis import Analysis, analyze
from pmorules.evaluate import evaluate
from pmorules.facts import Fact, derive_facts
from pmorules.findings import build_findings
from pmorules.knowledge import load_workspace
from strategies import workspaces, write_workspace

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "knowledge" / "example"
TODAY = dt.date(2026, 3, 20)
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def analyze_files(files: dict[str, str]) -> Analysis:
    with tempfile.TemporaryDirectory() as tmp:
        return analyze(write_workspace(files, Path(tmp) / "ws"), TODAY)


def findings_json(analysis: Analysis, facts: list[Fact]) -> str:
    return json.dumps([f.to_json() for f in build_findings(evaluate(analysis.compiled, facts), analysis.kb)], indent=1)


# ---------------------------------------------------------------- (a) fact order


def assert_order_independent(analysis: Analysis, seed: int) -> None:
    baseline = json.dumps([f.to_json() for f in analysis.findings], indent=1)
    facts = list(derive_facts(analysis.kb, TODAY).facts)
    assert findings_json(analysis, facts) == baseline
    random.Random(seed).shuffle(facts)
    assert findings_json(analysis, facts) == baseline
    facts.reverse()
    assert findings_json(analysis, facts) == baseline


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_facts_give_the_same_findings_on_the_example(seed: int) -> None:
    analysis = analyze(EXAMPLE, TODAY)
    assert analysis.findings
    assert_order_independent(analysis, seed)


@PROPERTY_SETTINGS
@given(files=workspaces(), seed=st.integers(0, 2**32 - 1))
def test_shuffled_facts_give_the_same_findings(files: dict[str, str], seed: int) -> None:
    assert_order_independent(analyze_files(files), seed)


# ---------------------------------------------------------------- (b) evidence re-checks


def _matches(actual: Any, pattern: Any) -> bool:
    return isinstance(actual, str) and re.fullmatch(pattern, actual) is not None


OPS = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
    "in": lambda a, e: a in e, "not_in": lambda a, e: a not in e, "matches": _matches,
    "contains": lambda a, e: e in a, "any_in": lambda a, e: bool(set(a) & set(e)),
}


def assert_evidence_holds(analysis: Analysis) -> int:
    """Re-check every evidence item against facts derived afresh; return how many were checked."""
    fresh: dict[str, list[Fact]] = {}
    for fact in derive_facts(load_workspace(analysis.kb.workspace, analysis.today), analysis.today).facts:
        fresh.setdefault(fact.label, []).append(fact)
    checked = 0
    for finding in analysis.findings:
        assert finding.evidence, f"{finding.id} {finding.rule} has no evidence"
        for item in finding.evidence:
            if item.op == "absent":
                continue
            assert item.fact in fresh, f"{finding.id} {finding.rule}: no fact {item.fact}"
            (fact,) = fresh[item.fact]  # labels identify facts
            present = item.field == "key" or item.field in fact.fields
            value = fact.key if item.field == "key" else fact.fields.get(item.field)
            where = f"{finding.id} {finding.rule} {item.fact}.{item.field}"
            assert item.actual == value, f"{where}: evidence says {item.actual!r}, the knowledge base {value!r}"
            if item.op == "exists":
                assert present, where
            elif item.op == "missing":
                assert not present, where
            else:
                assert present, f"{where}: compared, but not in the fact"
                assert OPS[item.op](item.actual, item.expected), f"{where}: {item.actual!r} {item.op} {item.expected!r} is false"
            checked += 1
    return checked


def test_evidence_re_checks_true_on_the_example() -> None:
    assert assert_evidence_holds(analyze(EXAMPLE, TODAY)) > 20


@PROPERTY_SETTINGS
@given(files=workspaces())
def test_evidence_re_checks_true(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        assert_evidence_holds(analyze(write_workspace(files, Path(tmp) / "ws"), TODAY))


# ---------------------------------------------------------------- (c) determinism


def test_two_runs_give_byte_identical_json() -> None:
    first = json.dumps(analyze(EXAMPLE, TODAY).to_json(), indent=2)
    second = json.dumps(analyze(EXAMPLE, TODAY).to_json(), indent=2)
    assert first == second


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=workspaces())
def test_two_runs_give_byte_identical_json_on_random_workspaces(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = write_workspace(files, Path(tmp) / "ws")
        assert json.dumps(analyze(ws, TODAY).to_json()) == json.dumps(analyze(ws, TODAY).to_json())


def test_the_cli_output_does_not_depend_on_the_hash_seed() -> None:
    outputs = []
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-m", "pmorules", "analyze", "knowledge/example", "--as-of", "2026-03-20", "--format", "json"],
            cwd=REPO, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}, check=False,
        )
        assert run.returncode == 0, run.stderr.decode()
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]


# ---------------------------------------------------------------- the generator itself


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=workspaces())
def test_generated_workspaces_are_valid_input(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kb = load_workspace(write_workspace(files, Path(tmp) / "ws"))
    assert 3 <= len(kb.services) <= 15
    assert len(kb.goals) <= 5
