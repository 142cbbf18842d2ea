"""The action register (``actions:`` sections, e.g. actions.yaml) and ``pmorules actions``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.cli import app
from pmorules.findings import fingerprint
from conftest import write_files
from test_diff import OLD

ROOT = Path(__file__).resolve().parents[1]


def actions_json(*args: str) -> dict:
    result = CliRunner().invoke(app, ["actions", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_examples_register_lists_overdue_first_and_calls_out_done_but_still_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    data = actions_json("knowledge/example")
    assert [(a["status"], a["overdue"]) for a in data["actions"]] == [
        ("open", True), ("open", False), ("done", False), ("dropped", False)]
    overdue = data["actions"][0]
    assert overdue["still_found"]["subject_names"] == ["Lessons-learned library"] and overdue["due"] == "2026-02-27"
    done = data["actions"][2]
    assert done["done_but_open"] is True and done["still_found"]["rule"] == "HRM002"
    assert data["actions"][3]["reason"].startswith("The steering committee accepted the risk")
    text = CliRunner().invoke(app, ["actions", "knowledge/example"]).stdout
    assert text.index("OVERDUE  Re-scope the lessons-learned library") < text.index("OPEN     Migrate") < text.index("DONE     ")
    assert "(PMO lead, due 27 February 2026)" in text  # a date in words, as every view gives it
    assert "marked done, but its finding is still there" in text


def test_an_action_follows_its_finding_by_fingerprint(tmp_path: Path) -> None:
    register = ("actions:\n"
                f"  - {{finding: {fingerprint('PRB002', ['lessons'])}, action: Retire it, due: 2026-05-01, status: open}}\n"
                f"  - {{finding: {fingerprint('PRB002', ['training'])}, action: Keep it, status: done}}\n")
    ws = write_files(tmp_path / "ws", {"pmo.yaml": OLD, "actions.yaml": register})
    data = actions_json(str(ws), "--as-of", "2026-06-01")
    first, second = data["actions"]
    assert first["overdue"] and first["still_found"]["subjects"] == ["lessons"]
    assert second["still_found"] is None and second["done_but_open"] is False


@pytest.mark.parametrize("entry, message", [
    ("{action: Do it}", "give 'finding' (a fingerprint) or 'decision', exactly one"),
    ("{decision: Retire it, finding: 0123456789abcdef, action: Do it}", "give 'finding' (a fingerprint) or 'decision', exactly one"),
    ("{decision: Retire it, action: Do it, status: dropped}", "a dropped action gives its 'reason'"),
    ("{decision: Retire it, action: Do it, status: parked}", "actions.status"),
    ("{finding: F3, action: Do it}", "actions.finding"),
])
def test_a_bad_action_is_located(tmp_path: Path, entry: str, message: str) -> None:
    ws = write_files(tmp_path / "ws", {"pmo.yaml": OLD, "actions.yaml": f"actions:\n  - {entry}\n"})
    result = CliRunner().invoke(app, ["actions", str(ws)])
    assert result.exit_code == 2, result.output
    assert "actions.yaml:2:" in result.stderr and message in result.stderr, result.stderr


def test_a_draft_is_printed_never_written_and_pasted_it_answers_everything(tmp_path: Path) -> None:
    ws = write_files(tmp_path / "ws", {"pmo.yaml": OLD, "actions.yaml": (
        "# agreed at the March review\nactions:\n"
        "  - {decision: Stop Knowledge management, action: Retire the library, owner: PMO lead}  # as the mix says\n")})
    before = {p.name: p.read_bytes() for p in ws.iterdir()}
    result = CliRunner().invoke(app, ["actions", str(ws), "--draft", "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in ws.iterdir()} == before  # nothing written, the person's text untouched
    draft = result.stdout
    assert f"  - finding: {fingerprint('PRB002', ['lessons'])}   # error: " in draft  # the error no action answers
    assert fingerprint("GOL004", ["training"]) not in draft  # only errors and warnings are drafted
    assert "Stop Knowledge management" not in draft  # the mix's decision is already recorded
    entries = draft.split("actions:\n", 1)[1]
    assert "    owner:\n    due:\n    status: open" in entries
    (ws / "actions.yaml").write_bytes(before["actions.yaml"] + entries.encode())  # pasted as the header says
    again = CliRunner().invoke(app, ["actions", str(ws), "--draft", "--as-of", "2026-06-01"])
    assert again.exit_code == 0, again.output
    assert "actions: []" in again.stdout and "- finding:" not in again.stdout and "- decision:" not in again.stdout


def test_an_action_survives_a_rename_of_its_service(tmp_path: Path) -> None:
    """An action written against 'lessons' keeps answering its finding once the service is 'library', was: lessons."""
    register = f"actions:\n  - {{finding: {fingerprint('PRB002', ['lessons'])}, action: Retire it, status: done}}\n"
    renamed = OLD.replace("{id: lessons,", "{id: library, was: lessons,")
    ws = write_files(tmp_path / "ws", {"pmo.yaml": renamed, "actions.yaml": register})
    (state,) = actions_json(str(ws), "--as-of", "2026-06-01")["actions"]
    assert state["still_found"]["subjects"] == ["library"] and state["done_but_open"] is True
    draft = CliRunner().invoke(app, ["actions", str(ws), "--draft", "--as-of", "2026-06-01"]).stdout
    assert fingerprint("PRB002", ["library"]) not in draft  # answered under its old fingerprint: not drafted again


def test_the_examples_diff_shows_each_open_finding_with_its_action(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["diff", "knowledge/example/reviews/2025-12", "knowledge/example", "--format", "json"])
    assert result.exit_code == 0, result.output
    still = json.loads(result.stdout)["findings"]["still_open"]
    assert still[0]["rule"] == "PRB002" and still[0]["action"]["overdue"] is True  # the untouched error, overdue
    pack = next(f for f in still if f["rule"] == "HRM002")
    assert pack["action"]["status"] == "done" and pack["action"]["done_but_open"] is True
    assert all(f["action"] is None for f in still if f["fingerprint"] not in {a["finding"] for a in actions_json("knowledge/example")["actions"]})
    text = CliRunner().invoke(app, ["diff", "knowledge/example/reviews/2025-12", "knowledge/example"]).stdout
    assert "(PMO lead, due 27 February 2026, OVERDUE)" in text and "marked DONE, but the finding is still there" in text


def test_a_draft_fits_the_registers_limits_and_pastes_in_with_long_names(tmp_path: Path) -> None:
    long_name = "Knowledge management " + "and lessons learned " * 10  # over 200 characters
    ws = write_files(tmp_path / "ws", {"pmo.yaml": OLD.replace("{id: lessons,", f"{{id: lessons, name: {long_name.strip()},"),
                                       "actions.yaml": "actions: []\n"})
    draft = CliRunner().invoke(app, ["actions", str(ws), "--draft", "--as-of", "2026-06-01"]).stdout
    decisions = [line for line in draft.splitlines() if line.startswith("  - decision:")]
    assert decisions and any("…" in line for line in decisions)
    (ws / "actions.yaml").write_text("actions:\n" + draft.split("actions:\n", 1)[1], encoding="utf-8")
    assert CliRunner().invoke(app, ["validate", str(ws), "--as-of", "2026-06-01"]).exit_code == 0
    again = CliRunner().invoke(app, ["actions", str(ws), "--draft", "--as-of", "2026-06-01"]).stdout
    assert "- decision:" not in again and "- finding:" not in again  # a cut decision still counts as recorded


def test_a_fingerprint_that_is_not_one_says_what_a_fingerprint_is(tmp_path: Path) -> None:
    ws = write_files(tmp_path / "ws", {"pmo.yaml": OLD, "actions.yaml": "actions:\n  - {finding: D8784D1508B194A5, action: x}\n"})
    run = CliRunner().invoke(app, ["validate", str(ws), "--as-of", "2026-06-01"])
    assert run.exit_code == 2
    assert "actions.yaml:2:6: actions.finding: not a finding's fingerprint (got 'D8784D1508B194A5')" in run.output
    assert "16 lower-case hexadecimal digits" in run.output


def test_an_action_follows_its_problem_when_it_eases_into_another_form(tmp_path: Path) -> None:
    """An action written against "very unlikely to deliver" (PRB002) keeps answering the problem once it eases to
    "unlikely to deliver" (PRB001), as diff pairs them: it is not "a finding no longer found", the draft does not
    propose it again, and diff shows the eased finding with its action."""
    register = f"actions:\n  - {{finding: {fingerprint('PRB002', ['lessons'])}, action: Re-scope it, status: done}}\n"
    eased = OLD.replace("probability: 0.25, effort: 5", "probability: 0.4, effort: 5")
    ws = write_files(tmp_path / "ws", {"pmo.yaml": eased, "actions.yaml": register})
    (state,) = actions_json(str(ws), "--as-of", "2026-06-01")["actions"]
    assert state["still_found"]["rule"] == "PRB001" and state["done_but_open"] is True
    draft = CliRunner().invoke(app, ["actions", str(ws), "--draft", "--as-of", "2026-06-01"]).stdout
    assert fingerprint("PRB001", ["lessons"]) not in draft
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    result = CliRunner().invoke(app, ["diff", str(old), str(ws), "--as-of", "2026-06-01", "--format", "json"])
    (move,) = [m for m in json.loads(result.stdout)["findings"]["eased"] if m["subjects"] == ["lessons"]]
    assert move["new"]["action"]["action"] == "Re-scope it" and move["new"]["action"]["done_but_open"] is True


def _example_with_lessons_named(tmp_path: Path, escaped: str) -> Path:
    """A copy of the example whose lessons-learned library is named ``escaped`` (YAML double-quoted escapes)."""
    import shutil

    workspace = tmp_path / "ws"
    shutil.copytree(Path(__file__).resolve().parents[1] / "knowledge" / "example", workspace)
    services = workspace / "services.yaml"
    text = services.read_text(encoding="utf-8")
    start = text.index("name:", text.index("id: lessons"))
    services.write_text(f'{text[:start]}name: "{escaped}"{text[text.index(chr(10), start):]}', encoding="utf-8")
    return workspace


def test_a_name_cannot_forge_a_line_of_the_register(tmp_path: Path) -> None:
    """A line break in a service's name is shown as an escape: no name can print what looks like another entry
    of the register (nor a bell, nor reversed text)."""
    workspace = _example_with_lessons_named(tmp_path, "Lessons\\a\\r\\nOVERDUE fake\\u202eevil")
    result = CliRunner().invoke(app, ["actions", str(workspace), "--as-of", "2026-03-20"])
    assert result.exit_code == 0, result.output
    assert not any(line.startswith("OVERDUE fake") for line in result.stdout.splitlines()), result.stdout
    assert "Lessons\\x07\\r\\nOVERDUE fake\\u202eevil" in result.stdout


def test_a_draft_sends_no_control_character_to_the_terminal_and_still_pastes_in(tmp_path: Path) -> None:
    """A name with a bidi override or an escape sequence is drafted as \\u escapes (in comments as shown text):
    nothing raw reaches the terminal, and pasted back the draft still answers every finding."""
    workspace = _example_with_lessons_named(tmp_path, "Lessons\\e[31m \\u202eevil\\x85")
    (workspace / "actions.yaml").unlink()
    draft = CliRunner().invoke(app, ["actions", str(workspace), "--draft", "--as-of", "2026-03-20"])
    assert draft.exit_code == 0, draft.output
    assert not any(c in draft.stdout for c in ("\x1b", "\u202e", "\x85")), draft.stdout
    assert "Lessons\\x1b[31m \\u202eevil" in draft.stdout  # the comment shows the name, escaped
    (workspace / "actions.yaml").write_text(draft.stdout, encoding="utf-8")
    again = CliRunner().invoke(app, ["actions", str(workspace), "--draft", "--as-of", "2026-03-20"])
    assert again.exit_code == 0, again.output
    assert "actions: []" in again.stdout, again.stdout
