"""The bad-input corpus: one small workspace per kind of mistake, with its exact stderr.

Each folder under ``tests/bad_input/`` is a case:

- ``ws/``           the workspace (copied to a temporary directory; absent = an empty workspace)
- ``sheets.json``   optional: workbooks to build there with openpyxl, ``{file: {sheet: [rows]}}``
                    (so no binary file is committed)
- ``args.txt``      optional: the workspace argument to give instead of ``ws``
- ``expected.txt``  the exact stderr of ``pmorules validate``

The command runs with the temporary directory as its working directory, so
messages read ``ws/services.yaml:4:5: ...``. Every case must exit with code 2,
print exactly the expected lines, print nothing on stdout and never a traceback.

To add a case: make the folder, run the test, check the printed stderr really is
right, and save it as ``expected.txt``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.cli import app
from pmorules.errors import InputError
from pmorules.knowledge import load_workspace

CORPUS = Path(__file__).parent / "bad_input"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def build_case(case: Path, into: Path) -> str:
    """Materialise a case in ``into``; return the workspace argument."""
    workspace = into / "ws"
    if (case / "ws").is_dir():
        shutil.copytree(case / "ws", workspace)
    else:
        workspace.mkdir()
    if (case / "sheets.json").is_file():
        import openpyxl

        for name, sheets in json.loads((case / "sheets.json").read_text(encoding="utf-8")).items():
            book = openpyxl.Workbook()
            book.remove(book.active)
            for title, rows in sheets.items():
                sheet = book.create_sheet(title)
                for row in rows:
                    sheet.append(row)
            book.save(workspace / name)
    args = case / "args.txt"
    return args.read_text(encoding="utf-8").strip() if args.is_file() else "ws"


def run_validate(case_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    argument = build_case(CORPUS / case_name, tmp_path)
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(app, ["validate", argument])


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 20
    for name in CASES:
        assert (CORPUS / name / "expected.txt").is_file(), f"{name} has no expected.txt"


@pytest.mark.parametrize("case_name", CASES)
def test_bad_input(case_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_validate(case_name, tmp_path, monkeypatch)
    expected = (CORPUS / case_name / "expected.txt").read_text(encoding="utf-8")
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr == expected, f"stderr of {case_name}:\n{result.stderr}"
    assert result.exit_code == 2
    assert result.stdout == ""


def test_true_or_false_is_not_a_number_anywhere_in_the_knowledge(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(Path(__file__).resolve().parents[1] / "knowledge" / "example", workspace)
    (workspace / "extra.yaml").write_text(
        "services:\n  - {id: x1, catalogue: S01, probability: false, effort: 1}\n"
        "clients:\n  - {id: c9, name: C, weight: true}\n"
        "goals:\n  - {id: g9, name: G, due: 2027-01-01, outcomes: [O01], priority: true}\n"
        "assessments:\n  - {service: x1, by: A, probability: 0.5, round: true}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_workspace(workspace)
    found = {(d.location.line, d.message.split(":")[0]) for d in caught.value.diagnostics}
    assert found == {(2, "services.probability"), (4, "clients.weight"), (6, "goals.priority"), (8, "assessments.round")}
    assert all("should be a number, not true or false" in d.message for d in caught.value.diagnostics)
