"""Run the selected hostile cases once per session, in parallel; each test then checks its own run."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness import Run, can_drop_dac, package_copy, run_case
from hostile_cases import CASES, build


@pytest.fixture(scope="session")
def hostile_runs(request: pytest.FixtureRequest) -> dict[str, Run]:
    selected = {
        item.callspec.params["case_id"]
        for item in request.session.items
        if hasattr(item, "callspec") and "case_id" in item.callspec.params
    }
    dac = can_drop_dac()
    cases = [CASES[name] for name in sorted(selected) if dac or not CASES[name].dac]
    with tempfile.TemporaryDirectory(prefix="pmorules-hostile-") as base:
        root = Path(base)
        src = package_copy(root / "package")
        workers = max(2, min(8, (os.cpu_count() or 2) + 1))
        with ThreadPoolExecutor(workers) as pool:
            runs = list(pool.map(lambda case: run_case(case, root / "cases" / case.id.replace("/", "-"), src, build), cases))
        yield {run.case.id: run for run in runs}
        for path in (root / "cases").rglob("*"):  # let the directory go: undo modes that stop its removal
            if path.is_dir() and not path.is_symlink():
                os.chmod(path, 0o755)
