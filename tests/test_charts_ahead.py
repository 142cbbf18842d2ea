"""The HTML report's charts drawn ahead in a forked process (report/charts_ahead.py): the same bytes as drawn in
process, and a drawer that fails or dies costs nothing but the time to draw in process.

Each test runs in a fresh interpreter: the drawer forks only from a process with one thread, and a test
process may have others."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "example_report.html"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="the drawer forks on Linux with a second core only",
)


def run(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run a script in a fresh interpreter (pmorules as installed), failing the test on a non-zero exit."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def test_the_report_with_its_charts_drawn_ahead_is_the_golden_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = run("""
        import sys
        from pmorules.cli import app
        from pmorules.report.charts_ahead import ChartsAhead
        from pmorules.report.warm import Warm

        into = ChartsAhead.into
        def counted(self, warm):
            into(self, warm)
            print("kept", len(warm._drawn._items), file=sys.stderr)
        ChartsAhead.into = counted
        sys.argv = ["pmorules", "report", "knowledge/example", "--as-of", "2026-03-20", "-o", sys.argv[1]]
        try:
            app()
        except SystemExit as end:
            assert not end.code, end.code
    """, str(out))
    assert "kept 5" in done.stderr  # every chart came from the drawer
    assert out.read_bytes() == GOLDEN.read_bytes()


DRAWER = """
    import datetime as dt, os, signal, sys
    from pmorules.analysis import analyze
    from pmorules.report.charts_ahead import ChartsAhead
    from pmorules.report.context import analysis_parts, chart_data
    from pmorules.report.warm import Warm, plain_key

    drawer = ChartsAhead.start()
    assert drawer is not None
    parts = chart_data(analysis_parts(analyze("knowledge/example", dt.date(2026, 3, 20))))
    warm = Warm()
"""


def test_what_the_drawer_cannot_draw_is_left_to_the_report() -> None:
    done = run(DRAWER + """
    drawer.ask({"no such chart": ({"a": 1},), "shares": parts["shares"], "graph": ({"key": object()},)})
    assert drawer.asked == [("no such chart", ({"a": 1},)), ("shares", parts["shares"])]  # not plain: never sent
    drawer.into(warm)
    assert len(warm._drawn._items) == 1
    from pmorules.report.charts import draw
    assert warm._drawn.get(plain_key(("shares", parts["shares"]))) == draw("shares", *parts["shares"])
    try:
        os.waitpid(drawer.pid, os.WNOHANG)
    except ChildProcessError:
        print("reaped")
    """)
    assert "reaped" in done.stdout


def test_the_drawer_goes_on_drawing_while_its_answers_wait() -> None:
    """Its answers are read as they come: once they filled the pipe (64 KiB), the drawer stopped until the report
    asked for them, and a chart asked later (the trend, once the reviews are judged) was drawn only then."""
    done = run(DRAWER + """
    import time
    drawer.ask(parts)
    asked = len(drawer.asked)
    drawer.ask({"graph": parts["graph"]})  # what the drawer sends now is well beyond the pipe's 64 KiB
    wait = time.monotonic() + 60
    while len(drawer._answers) <= asked and time.monotonic() < wait:
        time.sleep(0.05)
    print("answered", len(drawer._answers), "of", len(drawer.asked))
    drawer.into(warm)
    """)
    assert "answered 5 of 5" in done.stdout, done.stdout

def test_a_drawer_that_dies_leaves_every_chart_to_the_report() -> None:
    done = run(DRAWER + """
    drawer.ask(parts)
    os.kill(drawer.pid, signal.SIGKILL)
    drawer.into(warm)  # must not wait for answers that will never come
    assert len(warm._drawn._items) == 0
    print("nothing kept")
    """)
    assert "nothing kept" in done.stdout


def test_a_report_that_fails_ends_its_drawer_at_once(tmp_path: Path) -> None:
    (tmp_path / "services.yaml").write_text("services: [\n")
    done = run("""
        import os, sys
        from pmorules.cli import app
        from pmorules.report.charts_ahead import ChartsAhead

        started = []
        start = ChartsAhead.start.__func__
        ChartsAhead.start = classmethod(lambda cls: started.append(start(cls)) or started[-1])
        sys.argv = ["pmorules", "report", sys.argv[1], "-o", sys.argv[1] + "/report.html"]
        try:
            app()
        except SystemExit as end:
            print("exit", end.code)
        try:
            os.waitpid(started[0].pid, os.WNOHANG)
        except ChildProcessError:
            print("reaped")
    """, str(tmp_path))
    assert "exit 2" in done.stdout and "reaped" in done.stdout
    assert not (tmp_path / "report.html").exists()


def test_no_thread_to_read_the_answers_means_no_drawer() -> None:
    """With no thread left to read its answers, the drawer is ended and the report draws in process (the error
    escaped the report, and the drawer was never reaped)."""
    done = run("""
        import os, threading
        from pmorules.report.charts_ahead import ChartsAhead

        def refused(self):
            raise RuntimeError("can't start new thread")
        threading.Thread.start = refused
        print("drawer" if ChartsAhead.start() else "none")
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            print("reaped")
    """)
    assert done.stdout.split() == ["none", "reaped"]

def test_no_drawer_beside_other_threads() -> None:
    done = run("""
        import threading
        from pmorules.report.charts_ahead import ChartsAhead

        stop = threading.Event()
        threading.Thread(target=stop.wait).start()
        print("drawer" if ChartsAhead.start() else "none")
        stop.set()
    """)
    assert done.stdout.strip() == "none"


def test_the_drawer_forks_before_the_pipeline_is_imported() -> None:
    """``report`` forks the drawer before it imports the analysis, so both import at once: neither the command
    line nor the drawer's module may bring the pipeline (the engine, the knowledge model, the optimiser, the
    renderer) or matplotlib in with them."""
    done = run("""
        import sys
        import pmorules.cli, pmorules.report.charts_ahead
        heavy = ("durable_rules", "pydantic", "highspy", "matplotlib", "networkx", "pmorules.analysis",
                 "pmorules.report.render", "pmorules.mix")
        print(sorted(m for m in sys.modules if m.startswith(heavy)))
    """)
    assert done.stdout.strip() == "[]"
