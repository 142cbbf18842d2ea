"""The cache of compiled built-in templates: same bytes as compiling, never in the way, never trusted blindly."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
from pathlib import Path

import pytest

from conftest import context_of, report_of, write_files
from pmorules.analysis import analyze
from pmorules.paths import default_templates_dir
from pmorules.report import render
from pmorules.report import template_cache as template_cache_module
from pmorules.report.template_cache import MARKER, MARKER_TEXT, BuiltinTemplateCache, cache_folder, template_cache
from pmorules.text import LimitError, Limits

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 3, 20)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder for this test."""
    monkeypatch.setenv("PMORULES_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "templates").glob("*") if not p.name.startswith(".") and p.name != MARKER)


def test_a_second_report_loads_every_template_and_writes_the_same_bytes(example, folder, compiles):
    first = _report(example, "md")
    compiled = list(compiles)
    assert "report.md.j2" in compiled and len(compiled) >= 5
    assert len(entries(folder)) == len(set(compiled))
    compiles.clear()
    assert _report(example, "md") == first
    assert compiles == []  # every template came from the cache
    assert stat.S_IMODE(os.stat(folder / "templates").st_mode) == 0o700


def test_cached_and_compiled_templates_render_the_same_html(example, folder, monkeypatch):
    cached = [_report(example, "html") for _ in range(2)]
    monkeypatch.setenv("PMORULES_CACHE_DIR", "")
    assert _report(example, "html") == cached[0] == cached[1]


def test_a_damaged_or_foreign_entry_is_compiled_again_and_replaced(example, folder, compiles):
    expected = _report(example, "md")
    damaged = entries(folder)
    damaged[0].write_bytes(b"garbage")
    damaged[1].write_bytes(damaged[1].read_bytes()[:40])  # the header, cut short
    damaged[2].write_bytes(b"pmorules template 0000\n" + damaged[2].read_bytes().split(b"\n", 1)[1])  # other source
    compiles.clear()
    assert _report(example, "md") == expected
    assert len(compiles) == 3
    compiles.clear()
    _report(example, "md")
    assert compiles == []  # rewritten whole


def test_an_entry_that_is_not_a_regular_file_is_not_read(example, folder, compiles, tmp_path):
    expected = _report(example, "md")
    kept = entries(folder)
    good = tmp_path / "a valid entry"
    good.write_bytes(kept[0].read_bytes())
    kept[0].unlink()
    kept[0].symlink_to(good)  # a symlink to a valid entry: not followed
    kept[1].unlink()
    kept[1].symlink_to("/dev/zero")
    kept[2].unlink()
    os.mkfifo(kept[2])  # opened without blocking, then refused
    compiles.clear()
    assert _report(example, "md") == expected
    assert len(compiles) == 3
    assert not any(p.is_symlink() for p in kept) and kept[2].is_file()  # replaced by entries, targets untouched


def test_code_compiled_by_another_generator_or_for_another_format_is_not_loaded(folder, compiles, tmp_path):
    dirs = [(default_templates_dir(), "templates", default_templates_dir())]
    render.environment(dirs, markdown=True).get_template("report.md.j2")
    compiles.clear()
    for other in (BuiltinTemplateCache(folder, default_templates_dir(), "md", b"the generator of another version"),
                  BuiltinTemplateCache(folder, default_templates_dir(), "html", template_cache_module._FINGERPRINT)):
        env = render.environment(dirs, markdown=True)
        env.bytecode_cache = other
        env.get_template("report.md.j2")
    assert compiles.count("report.md.j2") == 2


def test_the_generator_fingerprint_follows_the_code_generator_source(tmp_path):
    text_py, render_py = Path(template_cache_module.text.__file__), Path(render.__file__)
    assert template_cache_module.generator_fingerprint([text_py, render_py]) == template_cache_module._FINGERPRINT
    edited = tmp_path / "text.py"
    edited.write_bytes(text_py.read_bytes() + b"\n# one more line\n")
    assert template_cache_module.generator_fingerprint([edited, render_py]) != template_cache_module._FINGERPRINT
    assert template_cache_module.generator_fingerprint([tmp_path / "missing.py", render_py]) is None


def test_cached_code_still_keeps_the_render_budget(example, folder, compiles):
    """The output budget is enforced only by the checks the bounded code generator writes into the code."""
    _report(example, "md")  # fills the cache
    context = context_of(example)
    compiles.clear()
    dirs = [(default_templates_dir(), "templates", default_templates_dir())]
    env = render.environment(dirs, markdown=True)
    env.limits = Limits(operations=5_000_000, output=100, built=10_000_000, seconds=10)
    with pytest.raises(LimitError, match="writes more than 100 characters"):
        env.get_template("report.md.j2").render(context)
    assert compiles == []  # the code came from the cache


def test_a_folder_others_can_write_to_is_not_used(example, folder, compiles):
    _report(example, "md")
    kept = {p: p.stat().st_ino for p in entries(folder)}  # a written entry replaces the file: a new inode
    os.chmod(folder / "templates", 0o777)  # someone else could have put code here
    compiles.clear()
    _report(example, "md")
    assert "report.md.j2" in compiles  # nothing loaded
    assert {p: p.stat().st_ino for p in entries(folder)} == kept  # nothing written
    os.chmod(folder / "templates", 0o700)
    os.chmod(folder, 0o777)  # nor when the folder above it is open
    compiles.clear()
    _report(example, "md")
    assert "report.md.j2" in compiles


def test_a_file_where_the_folder_should_be_only_means_compiling(example, folder):
    folder.write_text("not a folder")
    expected = report_of(example, "md")
    assert _report(example, "md") == expected
    assert folder.read_text() == "not a folder"


def test_an_organisations_templates_are_not_kept(tmp_path, folder, compiles):
    ws = write_files(tmp_path / "ws", {
        "knowledge.yaml": "services: [{id: s1, name: Reporting, catalogue: S01}]\n",
        "templates/report.md.j2": "{% extends 'base.md.j2' %}{% block heading %}Our own report{% endblock %}\n",
    })
    analysis = analyze(str(ws), AS_OF)
    text = _report(analysis, "md").decode()
    assert text.startswith("# Our own report: ")
    kept = len(entries(folder))
    assert kept and kept == len(set(compiles)) - 1  # all but the organisation's report.md.j2


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PMORULES_CACHE_DIR", "")
    assert cache_folder() is None and template_cache(default_templates_dir(), "md") is None
    monkeypatch.delenv("PMORULES_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "pmorules"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "pmorules"
    monkeypatch.setenv("HOME", "not/absolute")
    assert cache_folder() is None  # never a cache folder in whatever the current folder is
    monkeypatch.setenv("PMORULES_CACHE_DIR", "relative/cache")
    assert cache_folder() is None
    monkeypatch.setenv("PMORULES_CACHE_DIR", str(tmp_path / "given"))
    assert cache_folder() == tmp_path / "given"


def _aged(*paths: Path) -> None:
    month_ago = time.time() - 31 * 24 * 3600
    for path in paths:
        os.utime(path, (month_ago, month_ago))


def test_entries_of_other_versions_unused_for_a_month_are_removed(example, folder, compiles):
    (folder / "templates").mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)
    (folder / "templates" / MARKER).write_bytes(MARKER_TEXT)  # as the cache marks the folder it creates
    key = "0123456789abcdef-" + "0" * 31
    old, recent, stray = (folder / "templates" / name for name in (key + "1", key + "2", ".abcd1234.tmp"))
    for path in (old, recent, stray):
        path.write_bytes(b"pmorules template 1234\nan entry of another version")
    foreign = {folder / "templates" / name: data for name, data in (
        ("notes.txt", b"mine"), (key + "3", b"not an entry"), (".x.tmp", b"not a temporary file of the cache"))}
    for path, data in foreign.items():
        path.write_bytes(data)
    _aged(old, stray, *foreign)
    _report(example, "md")
    assert not old.exists() and not stray.exists() and recent.exists()
    assert all(path.read_bytes() == data for path, data in foreign.items())
    assert len(entries(folder)) == len(set(compiles)) + 1 + 2


def test_a_templates_folder_the_cache_did_not_create_is_left_alone(example, folder, compiles):
    """PMORULES_CACHE_DIR pointed at a workspace or a home folder: its templates/ is not the cache's."""
    theirs = folder / "templates"
    theirs.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)
    files = {theirs / "report.md.j2": b"# ours\n", theirs / ("0123456789abcdef-" + "0" * 32): b"pmorules template 1\nx"}
    for path, data in files.items():
        path.write_bytes(data)
    _aged(*files)
    _report(example, "md")
    compiles.clear()
    _report(example, "md")
    assert "report.md.j2" in compiles  # nothing written, so nothing loaded
    assert sorted(theirs.iterdir()) == sorted(files) and all(p.read_bytes() == d for p, d in files.items())


def test_the_cache_marks_the_folder_it_creates(example, folder, compiles):
    _report(example, "md")
    assert (folder / "templates" / MARKER).read_bytes() == MARKER_TEXT and entries(folder)
    compiles.clear()
    _report(example, "md")
    assert compiles == []  # all loaded
    (folder / "templates" / MARKER).unlink()
    _report(example, "md")
    assert "report.md.j2" in compiles  # an unmarked folder is not used


def _report(analysis, fmt: str) -> bytes:
    """The report as ``pmorules report`` renders it, its mix and history computed before any compile is counted."""
    from conftest import _MIXES

    report_of(analysis, "json")
    _, mix, history = _MIXES[id(analysis)]
    return render.render_report(analysis, mix, fmt, history=history)


def test_a_run_stopped_while_making_the_folder_leaves_no_unmarked_folder(example, folder, compiles, monkeypatch):
    """The folder is made and marked under a temporary name, then renamed: stopped in between (here: the rename
    fails), nothing is left that a later run would take for someone else's folder and never use."""
    from pmorules.report import template_cache as cache_module

    def stopped(*args):
        raise OSError("stopped")

    with monkeypatch.context() as patch:
        patch.setattr(cache_module.os, "rename", stopped)
        _report(example, "md")
    assert not (folder / "templates").exists() and not list(folder.glob(".templates-*"))
    _report(example, "md")
    assert (folder / "templates" / MARKER).read_bytes() == MARKER_TEXT and entries(folder)
    compiles.clear()
    _report(example, "md")
    assert compiles == []


def test_the_temporary_folder_of_a_run_killed_while_making_the_folder_is_removed_later(example, folder, compiles):
    """A run killed between making the marked temporary folder and renaming it leaves ``.templates-…`` beside the
    cache: the next run that writes an entry removes it once it is ten minutes old, and nothing else there."""
    folder.mkdir(mode=0o700)
    killed, recent, foreign, other = (folder / name for name in (".templates-a1b2c3", ".templates-d4e5f6",
                                                                 ".templates-g7h8i9", ".templates-j0k1l2"))
    for path in (killed, recent, foreign, other):
        path.mkdir()
        (path / MARKER).write_bytes(MARKER_TEXT)
    (foreign / "notes.txt").write_bytes(b"mine")  # more than the marker: not the cache's
    (other / MARKER).write_bytes(b"Signature: 8a477f597d28d172789f06886806bc55\n# another tool\n")
    _aged(killed, foreign, other)
    _report(example, "md")
    assert compiles and entries(folder)  # entries were written: the cache tidied up after itself
    assert not killed.exists() and recent.exists() and (foreign / "notes.txt").exists() and (other / MARKER).exists()

