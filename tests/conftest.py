"""Shared helpers: write small workspaces from inline text."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from jinja2 import Environment

from pmorules.analysis import Analysis, analyze
from pmorules.diff import History, history_of
from pmorules.errors import InputError
from pmorules.knowledge import KnowledgeBase, load_workspace
from pmorules.mix import MixResult, recommend
from pmorules.report import render_report
from pmorules import serve as serve_module
from pmorules.serve_security import Guard
from pmorules.workbench import Workbench

@pytest.fixture(autouse=True, scope="session")
def _template_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory):
    """Compiled report templates are kept in a folder of the test session, not in the user's cache
    (the ``pmorules`` subprocesses of the tests inherit it)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("PMORULES_CACHE_DIR", str(tmp_path_factory.mktemp("pmorules-cache")))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def example():
    """The example analysed as the README runs it: from the checkout root, workspace ``knowledge/example``
    (a test module may define its own ``example``)."""
    cwd = os.getcwd()
    os.chdir(Path(__file__).resolve().parents[1])
    try:
        yield analyze("knowledge/example", dt.date(2026, 3, 20))
    finally:
        os.chdir(cwd)


_MIXES: dict[int, tuple[Analysis, MixResult, History | None]] = {}


def report_of(analysis: Analysis, fmt: str) -> bytes:
    """The report of an analysis, as `pmorules report` writes it: with its recommended mix and its history of
    reviews, both computed once per analysis."""
    if id(analysis) not in _MIXES or _MIXES[id(analysis)][0] is not analysis:
        _MIXES[id(analysis)] = (analysis, recommend(analysis), history_of(analysis))
    _, mix, history = _MIXES[id(analysis)]
    return render_report(analysis, mix, fmt, history=history)


def context_of(analysis: Analysis) -> dict:
    from pmorules.report.context import build_context

    report_of(analysis, "md")
    _, mix, history = _MIXES[id(analysis)]
    return build_context(analysis, mix, history=history)


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (text is dedented); return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_ws(tmp_path: Path) -> Callable[..., Path]:
    """``make_ws({"services.yaml": "..."})`` → the path of a fresh workspace."""
    counter = iter(range(1_000_000))

    def make(files: dict[str, str | bytes], name: str | None = None) -> Path:
        return write_files(tmp_path / (name or f"ws{next(counter)}"), files)

    return make


@pytest.fixture
def cwd_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], str]:
    """``cwd_ws({path: text})`` writes the workspace ``ws`` under a fresh directory, which becomes the cwd, and
    returns "ws" (so messages name short paths)."""
    monkeypatch.chdir(tmp_path)

    def make(files: dict[str, str]) -> str:
        for name, text in files.items():  # dedented only: line numbers in messages count from the text's first line
            path = tmp_path / "ws" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return "ws"

    return make


@pytest.fixture
def load(make_ws: Callable[..., Path]) -> Callable[..., KnowledgeBase]:
    """``load({"services.yaml": "..."})`` → the loaded KnowledgeBase."""

    def run(files: dict[str, str | bytes]) -> KnowledgeBase:
        return load_workspace(make_ws(files))

    return run


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., list[str]]:
    """``errors({...})`` → the rendered diagnostics (paths relative: ``ws/services.yaml:3:5: ...``)."""

    counter = iter(range(1_000_000))

    def run(files: dict[str, str | bytes]) -> list[str]:
        parent = tmp_path / f"errors{next(counter)}"
        write_files(parent / "ws", files)
        monkeypatch.chdir(parent)
        with pytest.raises(InputError) as info:
            load_workspace("ws")
        return [str(d) for d in sorted(set(info.value.diagnostics))]

    return run


@contextmanager
def served_example(folder: Path, as_of: dt.date | None, page: bool = True) -> Iterator[tuple[int, str, object, Path]]:
    """A copy of the example in ``folder/ws`` served in this process on a free port, no watcher: its page rendered
    once (``page``), else only its workbench loaded (for tests of the API alone); yields (port, token, api,
    workspace)."""
    workspace = folder / "ws"
    shutil.copytree(Path(__file__).resolve().parents[1] / "knowledge" / "example", workspace)
    server = serve_module.LiveServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    guard = Guard("127.0.0.1", server.server_address[1])
    preview = serve_module.Preview(workspace, as_of, lambda line: None, guard.meta())
    if page:
        preview.render()
    else:
        preview._bench = Workbench.load(workspace, as_of)
    api = serve_module.Api(lambda text: serve_module.within(text, workspace))
    server.RequestHandlerClass = serve_module._handler(preview, guard, api)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], guard.token, api, workspace
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source from now on."""
    names: list[str] = []
    original = Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        if name is not None:  # a rule text compiled from a string has no name
            names.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(Environment, "compile", counting)
    return names
