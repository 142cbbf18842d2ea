"""The one writer: every command that writes (report -o, export, init) leaves alone everything an analysis reads."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.cli import app
from pmorules.config import Config
from pmorules.output import workspace_reads, write_output

KNOWLEDGE = "services:\n  - {id: a, term: short, effort: 10}\n"
CONFIG = 'rule_paths = ["more"]\ntemplates = ["tpl"]\n[history.q1]\ndate = 2026-01-01\npath = "reviews/q1"\n'
RULE = "- {id: BAL005, extends: BAL005, level: warning}\n"
SCENARIO = "scenarios:\n  - {name: lean, drop: [a]}\n"


@pytest.fixture
def ws(make_ws) -> Path:
    """A workspace that reads from every kind of place: knowledge, config, rules, rule paths, templates, scenarios,
    a review snapshot."""
    return make_ws({"k.yaml": KNOWLEDGE, "pmorules.toml": CONFIG, "rules/org.yaml": RULE, "more/x.yaml": RULE.replace("BAL005", "BAL002"),
                    "templates/report.md.j2": "x", "tpl/y.md.j2": "y", "scenarios/lean.yaml": SCENARIO,
                    "reviews/q1/k.yaml": KNOWLEDGE}, name="ws")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


INPUTS = ["k.yaml", "pmorules.toml", "rules/org.yaml", "more/x.yaml", "templates/report.md.j2", "tpl/y.md.j2",
          "scenarios/lean.yaml", "reviews/q1/k.yaml"]
NEW_IN_READ_FOLDERS = ["rules/new.xlsx", "more/new.xlsx", "templates/new.xlsx", "scenarios/new.yaml", "reviews/q1/new.xlsx",
                       "reviews/q1/knowledge/new.xlsx", "new.xlsx", "knowledge/new.xlsx"]


@pytest.mark.parametrize("rel", INPUTS + NEW_IN_READ_FOLDERS)
def test_export_never_writes_over_or_among_what_an_analysis_reads(ws: Path, rel: str) -> None:
    for folder in ("knowledge", "reviews/q1/knowledge"):
        (ws / folder).mkdir(exist_ok=True)
    target = ws / rel
    before = target.read_bytes() if target.exists() else None
    result = invoke("export", str(ws), "--xlsx", str(target))
    assert result.exit_code == 2, result.output
    assert "refusing to" in result.stderr and result.stderr.startswith(f"{target}: ")
    assert (target.read_bytes() if target.exists() else None) == before
    assert not [p for p in ws.rglob(".*") if p.is_file()], "no temporary file is left"


@pytest.mark.parametrize("rel", ["scenarios/lean.yaml", "scenarios/new.md", "reviews/q1/k.yaml", "reviews/q1/report.md",
                                 "more/x.yaml", "tpl/y.md.j2"])
def test_report_never_writes_over_or_among_what_an_analysis_reads(ws: Path, rel: str) -> None:
    target = ws / rel
    before = target.read_bytes() if target.exists() else None
    result = invoke("report", str(ws), "--as-of", "2026-06-01", "-o", str(target))
    assert result.exit_code == 2 and "refusing to" in result.stderr, result.output
    assert (target.read_bytes() if target.exists() else None) == before


def test_export_writes_beside_the_workspace_and_a_report_into_it(ws: Path) -> None:
    assert invoke("export", str(ws), "--xlsx", str(ws.parent / "out.xlsx")).exit_code == 0
    assert invoke("report", str(ws), "--as-of", "2026-06-01", "-o", str(ws / "report.md")).exit_code == 0


def test_the_list_is_what_the_config_names() -> None:
    config = Config.model_validate({"rule_paths": ["r"], "templates": ["t"],
                                    "history": {"a": {"date": "2026-01-01", "path": "old"},
                                                "b": {"date": "2026-02-01", "rev": "v1"}}})
    ws = Path("/w")
    assert config.inputs(ws, [ws / "k.yaml"]) == workspace_reads(ws, [ws / "k.yaml"], ["r"], ["t"], ["old"])
    reads = workspace_reads(ws, [], ["r"], ["t"], ["old"])
    assert set(reads.folders) == {ws / name for name in ("rules", "templates", "scenarios", "r", "t", "old")}
    assert reads.files == (ws / "pmorules.toml",) and reads.knowledge_folders == (ws, ws / "knowledge")


def test_a_snapshot_of_the_workspace_itself_does_not_close_the_workspace(tmp_path: Path) -> None:
    assert tmp_path not in workspace_reads(tmp_path, snapshots=["."]).folders


def test_a_new_file_is_created_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "new.txt"
    assert write_output(target, b"one", new=True) and target.read_bytes() == b"one"
    assert not write_output(target, b"two", new=True) and target.read_bytes() == b"one"
    assert os.listdir(tmp_path) == ["new.txt"]


def test_init_never_writes_through_a_symlink_out_of_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "rules").symlink_to(tmp_path / "elsewhere")
    result = invoke("init", "new")
    assert result.exit_code == 2
    assert result.stderr.startswith("new/rules/organisation.yaml: leads outside new")
    assert os.listdir(tmp_path / "elsewhere") == [] and sorted(os.listdir(tmp_path / "new")) == ["rules"]


def test_init_on_a_full_disk_leaves_nothing_half_written(tmp_path: Path) -> None:
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    command = [sys.executable, "-m", "pmorules", "init", "ws", "--xlsx"]
    done = subprocess.run(command, cwd=tmp_path, preexec_fn=small_files, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("ws/pmo.xlsx: File too large"), done.stderr
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == ["pmorules.toml", "rules"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "created ws/pmo.xlsx" in done.stderr
    assert invoke("validate", str(tmp_path / "ws")).exit_code == 0


def test_init_never_writes_through_a_dangling_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "pmorules.toml").symlink_to(tmp_path / "outside.toml")
    result = invoke("init", "new")
    assert result.exit_code == 0 and "kept existing new/pmorules.toml" in result.stderr
    assert not (tmp_path / "outside.toml").exists()


def test_json_written_a_piece_at_a_time_is_the_same_text() -> None:
    """analyze --format json streams its output: the same bytes as the whole text, steering characters escaped
    even where a piece boundary falls (batches of 64 KiB)."""
    import io

    from pmorules.output import json_text, write_json

    data = {"name": "a\u202eb\x85c" * 5000, "rows": [{"n": 1.5, "none": None, "empty": [], "nested": {}}] * 3000}
    stream = io.StringIO()
    write_json(data, stream)
    assert stream.getvalue() == json_text(data)
    assert "\\u202e" in stream.getvalue() and "\u202e" not in stream.getvalue()
