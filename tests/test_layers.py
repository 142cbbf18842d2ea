"""The import layers of pyproject.toml's import-linter contract hold: data flows one way, stage by stage."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_lower_layers_never_import_higher_ones() -> None:
    command = shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    result = subprocess.run([command, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_analyze_imports_neither_the_optimiser_nor_the_charts() -> None:
    """``pmorules analyze`` pays for what it uses: a history helper that imported the optimiser's package at the
    top brought HiGHS and numpy into every analysis (a tenth of a second of each fresh run)."""
    code = textwrap.dedent("""
        import sys
        from pmorules.cli import main
        sys.argv = ["pmorules", "analyze", "knowledge/example", "--as-of", "2026-03-20", "--format", "json"]
        try:
            main()
        except SystemExit:
            pass
        print(sorted(m for m in ("highspy", "numpy", "matplotlib", "pmorules.mix") if m in sys.modules), file=sys.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr[-2000:]
