"""The hostile-input corpus (issue 10): every case a subprocess, bounded in time and memory.

Cases are grouped by the class of problem they attack (the id reads ``class/name``);
``hostile_cases.py`` holds the table, ``harness.py`` runs a case and checks the
invariants every case shares.
"""

from __future__ import annotations

from collections import Counter

import pytest

from harness import Run, can_drop_dac, check_run
from hostile_cases import CASES, KINDS


def test_the_corpus_covers_every_class() -> None:
    counts = Counter(case.kind for case in CASES.values())
    assert len(CASES) >= 150, len(CASES)
    assert set(counts) == set(KINDS), counts
    assert min(counts.values()) >= 8, counts


@pytest.mark.parametrize("case_id", sorted(CASES, key=lambda name: (KINDS.index(CASES[name].kind), name)))
def test_hostile(case_id: str, hostile_runs: dict[str, Run]) -> None:
    if case_id not in hostile_runs:
        assert CASES[case_id].dac and not can_drop_dac()
        pytest.skip("file permissions cannot be made to hold for root here")
    check_run(hostile_runs[case_id])
