"""`pmorules serve`: the live preview's renderings, its server, and stopping it with Ctrl-C.

The page in a real browser (it updates after an edit, shows errors, comes back)
is tested in test_report_browser.py.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from pmorules.cli import app
from pmorules.serve import Preview

SMALL = {
    "services.yaml": """
        clients: [{id: exec, weight: 0.8}]
        services:
          - {id: reporting, catalogue: S16, clients: [exec], probability: 0.8}
        goals:
          - {id: G1, outcomes: [O26], due_months: 3, client: exec}
        """,
}


def test_a_rendering_is_the_report_or_the_errors(make_ws) -> None:
    ws = make_ws({"services.yaml": "services:\n  - {id: a, term: soon}\n"})
    lines: list[str] = []
    preview = Preview(ws, None, lines.append)
    version, page = preview.current()
    assert version == 0 and b'id="rendering"' in page
    preview.render()
    version, page = preview.current()
    assert version == 1
    assert b'<main id="errors">' in page and b"1 error</h1>" in page
    assert b"services.term: should be &#x27;short&#x27;, &#x27;medium&#x27; or &#x27;long&#x27;" in page
    assert lines == ["1 error in the workspace (shown in the page)"]
    (ws / "services.yaml").write_text("services:\n  - {id: a, term: short}\n")
    preview.render()
    version, page = preview.current()
    assert version == 2 and b"<title>Recommendations report: PMO</title>" in page
    assert page.count(b"/version") == 1 and b'!== "2"' in page  # the reload script knows its version
    assert page.rstrip().endswith(b"</html>")
    assert lines[1].startswith("report updated: ")


def test_a_port_in_use_is_a_clear_error(make_ws) -> None:
    ws = make_ws(SMALL)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", str(ws), "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"--port {port}: port {port} on 127.0.0.1 is in use (hint: choose another with --port, or --port 0 for any "
        "free port)",
        "1 error found",
    ]


def test_serve_needs_a_workspace_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"{tmp_path / 'nowhere'}: no such workspace directory"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def _until(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_serve_renders_on_change_and_stops_on_ctrl_c(make_ws, tmp_path: Path) -> None:
    ws = make_ws(SMALL, name="ws")
    server = subprocess.Popen([sys.executable, "-m", "pmorules", "serve", "ws", "--port", "0"], cwd=tmp_path,
                              stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, server.kill)
    watchdog.start()
    try:
        first = server.stderr.readline()
        assert first.startswith("serving ws at http://127.0.0.1:") and first.endswith("/ (Ctrl-C to stop)\n")
        url = first.split(" at ")[1].split(" ")[0]
        _until(lambda: _get(url + "version") == (200, "1"))
        status, page = _get(url)
        assert status == 200 and "Recommendations report" in page
        assert _get(url + "elsewhere")[0] == 404
        (ws / "services.yaml").write_text((ws / "services.yaml").read_text().replace("0.8", "0.4"))
        _until(lambda: _get(url + "version") == (200, "2"))
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        server.kill()
    rest = server.stderr.read()
    assert "Traceback" not in rest
    assert rest.splitlines()[-1] == "stopped"
    assert server.stdout.read() == ""
