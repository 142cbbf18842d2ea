"""`pmorules serve`: the live preview's renderings, its server, and stopping it with Ctrl-C.

The page in a real browser (it updates after an edit, shows errors, comes back)
is tested in test_report_browser.py.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules import serve as serve_module
from pmorules.cli import app
from pmorules.serve import LiveServer, Preview, _watch, inside, within
from pmorules.serve_security import TOKEN_HEADER, Guard

ROOT = Path(__file__).resolve().parents[1]
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
    preview = Preview(ws, None, lines.append, '<meta name="pmorules-token" content="T">')
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
    assert page.count(b'<meta name="pmorules-token" content="T">\n</head>') == 1  # the session's token, in the head
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


@pytest.mark.parametrize("host, message", [
    ("::1", "--host ::1: cannot listen on ::1: "),
    ("", "--host: give the address to listen on"),
])
def test_a_host_it_cannot_listen_on_blames_the_host(make_ws, host: str, message: str) -> None:
    """It blamed --port 0, whose hint (another port) could not help; "" served on every interface as "http://:N/"."""
    result = CliRunner().invoke(app, ["serve", str(make_ws(SMALL)), "--port", "0", "--host", host])
    assert result.exit_code == 2 and result.stderr.startswith(message), result.stderr


def test_a_port_the_user_may_not_listen_on_blames_the_port(make_ws, monkeypatch: pytest.MonkeyPatch) -> None:
    """Port 80 for a user who may not take it: the --host blamed for every other error could not help."""
    import errno

    from pmorules import serve

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(serve, "LiveServer", refused)
    result = CliRunner().invoke(app, ["serve", str(make_ws(SMALL)), "--port", "80"])
    assert result.exit_code == 2 and result.stderr.startswith("--port 80: cannot listen on port 80: Permission denied")


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


STOPPED_INSIDE_A_FINALIZER = """
import os, signal, sys
import pmorules.serve as serve

listening = serve.LiveServer.serve_forever


class Dropped:
    def __del__(self):  # as a collection freeing a rendering's objects: Ctrl-C lands inside a finalizer
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100_000):
            pass


def serve_forever(self, *args, **kwargs):
    Dropped()
    return listening(self, *args, **kwargs)


serve.LiveServer.serve_forever = serve_forever
sys.argv = ["pmorules", "serve", "ws", "--port", "0"]
from pmorules.cli import main
main()
"""


def test_ctrl_c_stops_the_server_even_when_it_lands_inside_a_finalizer(make_ws, tmp_path: Path) -> None:
    """A KeyboardInterrupt raised inside a ``__del__`` or a weak reference's callback is printed as ignored and
    lost: the server used to go on serving after Ctrl-C (seen once in CI). Ctrl-C now asks the server to stop."""
    make_ws(SMALL, name="ws")
    run = subprocess.run([sys.executable, "-c", STOPPED_INSIDE_A_FINALIZER], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "KeyboardInterrupt" not in run.stderr and run.stderr.splitlines()[-1] == "stopped"


def test_stopping_waits_for_the_requests_in_flight(live, monkeypatch) -> None:
    """The interpreter must not end while a thread answers a what-if inside the engine's or the solver's C++
    code: the process aborted ("terminate called without an active exception", seen in CI). Closing the
    server now cuts its connections and waits for the threads answering them."""
    server, _, preview = live()
    entered, release = threading.Event(), threading.Event()
    current = preview.current

    def slow() -> tuple[int, bytes]:
        entered.set()
        release.wait(10)
        return current()

    monkeypatch.setattr(preview, "current", slow)
    port = server.server_address[1]
    asking = threading.Thread(target=_get_quietly, args=(f"http://127.0.0.1:{port}/version",), daemon=True)
    asking.start()
    assert entered.wait(10)
    server.shutdown()
    closing = threading.Thread(target=server.server_close)
    closing.start()
    closing.join(0.5)
    assert closing.is_alive()  # still waiting for the request in flight
    release.set()
    closing.join(10)
    assert not closing.is_alive() and not server._answering



def test_a_connection_accepted_as_the_server_closes_is_not_served(live) -> None:
    """A thread started just after ``server_close`` took its list of busy threads would have answered a what-if
    nothing waits for: it now hangs up instead."""
    server, _, _ = live()
    server.shutdown()
    server.server_close()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        server.process_request_thread(ours, ("127.0.0.1", 0))
        try:
            heard = theirs.recv(100)
        except ConnectionResetError:  # closed with the request unread
            heard = b""
        assert heard == b""  # hung up, nothing answered
    assert not server._answering


ABANDONED = """
import sys, time
import pmorules.serve as serve
import pmorules.serve_api as serve_api

serve.STOP_SECONDS = 0.5
answer = serve_api.Api.answer


def slow(self, *args, **kwargs):  # as a what-if the solver works on for minutes
    time.sleep(60)
    return answer(self, *args, **kwargs)


serve_api.Api.answer = slow
sys.argv = ["pmorules", "serve", "ws", "--port", "0"]
from pmorules.cli import main
main()
"""


def test_ctrl_c_leaves_a_what_if_that_outlives_the_wait(make_ws, tmp_path: Path) -> None:
    """After ``STOP_SECONDS`` the server says what it abandoned and ends with 0: waiting longer would not end
    a solver run of minutes, and ending the interpreter beside it aborts."""
    make_ws(SMALL, name="ws")
    server = subprocess.Popen([sys.executable, "-c", ABANDONED], cwd=tmp_path, stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(120, server.kill)
    watchdog.start()
    try:
        url = server.stderr.readline().split(" at ")[1].split(" ")[0]
        _until(lambda: _get(url + "version") == (200, "1"))
        token = re.search(r'name="pmorules-token" content="([^"]+)"', _get(url)[1]).group(1)
        threading.Thread(target=_post_quietly, args=(url + "api/what-if", token), daemon=True).start()
        time.sleep(0.5)  # the request is in the slow answer
        server.send_signal(signal.SIGINT)
        started = time.monotonic()
        code = server.wait(timeout=30)
        waited = time.monotonic() - started
    finally:
        watchdog.cancel()
        server.kill()
    log = server.stderr.read()
    assert code == 0 and "Traceback" not in log, log
    assert "was abandoned" in log.splitlines()[-1] and waited < 20

WHAT_IFS = ("/api/recommend", "/api/what-if/report", "/api/recommend", "/api/what-if/report")


def test_ctrl_c_while_what_ifs_are_answered_ends_cleanly(tmp_path: Path) -> None:
    """Ctrl-C a few milliseconds after the page asked for what-ifs: the server ends with 0, not an abort."""
    for round_ in range(4):
        workspace = tmp_path / f"ws{round_}"
        shutil.copytree(ROOT / "knowledge" / "example", workspace)
        server = subprocess.Popen([sys.executable, "-m", "pmorules", "serve", workspace.name, "--port", "0",
                                   "--as-of", "2026-03-20"], cwd=tmp_path, stderr=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, text=True)
        watchdog = threading.Timer(120, server.kill)
        watchdog.start()
        try:
            url = server.stderr.readline().split(" at ")[1].split(" ")[0]
            _until(lambda: _get(url + "version") == (200, "1"), seconds=60)
            token = re.search(r'name="pmorules-token" content="([^"]+)"', _get(url)[1]).group(1)
            asking = [threading.Thread(target=_post_quietly, args=(url + path[1:], token), daemon=True)
                      for path in WHAT_IFS]
            for thread in asking:
                thread.start()
            time.sleep(0.02)
            server.send_signal(signal.SIGINT)
            code = server.wait(timeout=60)
        finally:
            watchdog.cancel()
            server.kill()
        log = server.stderr.read()
        assert code == 0 and "Traceback" not in log and log.splitlines()[-1] == "stopped", log


def _get_quietly(url: str) -> None:
    """A request the server may cut off (it is stopping)."""
    try:
        _get(url)
    except OSError:
        pass


def _post_quietly(url: str, token: str) -> None:
    """A what-if dropping the status pack; the server may cut it off (it is stopping)."""
    request = urllib.request.Request(url, data=b'{"drop": ["reporting"]}', method="POST",
                                     headers={TOKEN_HEADER: token, "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=60).read()
    except OSError:
        pass


# ------------------------------------------------------------------ which requests are answered (serve_security)


def _headers(*pairs: tuple[str, str]) -> Message:
    message = Message()
    for name, value in pairs:
        message[name] = value
    return message


GUARD = Guard("127.0.0.1", 8765, token="secret-token")


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765", "[::1]:8765", " localhost:8765 "])
def test_the_served_address_is_answered(host: str) -> None:
    assert GUARD.refusal("GET", _headers(("Host", host))) is None


@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", "127.0.0.1", "localhost", "127.0.0.1:8766",
                                  "127.0.0.2:8765", "localhost.:8765", "127.0.0.1:8765.evil.example", ""])
def test_another_host_is_refused_dns_rebinding(host: str) -> None:
    refusal = GUARD.refusal("GET", _headers(("Host", host)))
    assert refusal is not None and refusal.status == 421


def test_a_missing_or_doubled_host_is_refused() -> None:
    assert GUARD.refusal("GET", _headers()).status == 421
    assert GUARD.refusal("GET", _headers(("Host", "127.0.0.1:8765"), ("Host", "evil.example:8765"))).status == 400


def test_port_80_may_be_left_out_and_another_bound_host_is_served() -> None:
    assert Guard("127.0.0.1", 80).refusal("GET", _headers(("Host", "localhost"))) is None
    assert Guard("192.168.1.5", 9000).refusal("GET", _headers(("Host", "192.168.1.5:9000"))) is None
    assert Guard("::1", 9000).refusal("GET", _headers(("Host", "[::1]:9000"))) is None


def _outward_address() -> str | None:
    """This machine's address towards the network (a UDP socket "connected" sends nothing), if it has one."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return None


@pytest.mark.parametrize("bound", ["0.0.0.0", "::"])
def test_a_server_bound_to_every_address_answers_for_its_own_addresses_only(bound: str) -> None:
    """Bound to every address, it answers for each of the machine's addresses, written as an address; not for
    a name (DNS rebinding) nor for another machine's address (a page served from there is another origin)."""
    guard = Guard(bound, 9000, token="t")
    outward = _outward_address()
    for host in ("127.0.0.1:9000", "localhost:9000", *([f"{outward}:9000"] if outward else [])):
        assert guard.refusal("GET", _headers(("Host", host))) is None, host
        assert guard.refusal("POST", _headers(("Host", host), ("Origin", f"http://{host}"), (TOKEN_HEADER, "t"))) is None
    for host in ("evil.example:9000", "127.0.0.1:9001", "127.0.0.1", "203.0.113.9:9000", "[2001:db8::1]:9000",
                 "999.1.1.1:9000", "[evil]:9000", "1.2.3.4.5:9000"):
        assert guard.refusal("GET", _headers(("Host", host))).status == 421, host
    own = ("Host", "127.0.0.1:9000")
    foreign = ("Origin", "http://203.0.113.9:9000")
    assert guard.refusal("POST", _headers(own, foreign, (TOKEN_HEADER, "t"))).status == 403
    assert Guard("192.0.2.2", 9000).refusal("GET", _headers(("Host", "10.1.2.3:9000"))).status == 421


def test_a_checked_header_given_twice_is_refused() -> None:
    """A proxy might read the other one: two Content-Length headers (or Host, Origin, token) are refused."""
    host = ("Host", "127.0.0.1:8765")
    refusal = GUARD.refusal("POST", _headers(host, ("Content-Length", "2"), ("Content-Length", "40")))
    assert refusal is not None and refusal.status == 400 and "Content-Length" in refusal.reason


def test_origin_is_checked_on_anything_but_a_plain_get() -> None:
    foreign = ("Origin", "http://evil.example")
    host = ("Host", "127.0.0.1:8765")
    token = ("X-Pmorules-Token", "secret-token")
    assert GUARD.refusal("GET", _headers(host, foreign)) is None  # a cross-site GET cannot read the answer
    assert GUARD.refusal("HEAD", _headers(host, foreign)) is None
    for origin in ("http://evil.example", "null", "https://127.0.0.1:8765", "http://127.0.0.1:8766", "file://"):
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            refusal = GUARD.refusal(method, _headers(host, ("Origin", origin), token))
            assert refusal is not None and refusal.status == 403, (method, origin)
    assert GUARD.refusal("POST", _headers(host, ("Origin", "http://localhost:8765"), token)) is None
    assert GUARD.refusal("POST", _headers(host, token)) is None  # a script sends no Origin


def test_a_post_needs_the_session_token() -> None:
    host = ("Host", "127.0.0.1:8765")
    origin = ("Origin", "http://127.0.0.1:8765")
    for given in ((), (("X-Pmorules-Token", ""),), (("X-Pmorules-Token", "secret-tokeN"),),
                  (("X-Pmorules-Token", "secret-token"), ("X-Pmorules-Token", "secret-token"))):
        refusal = GUARD.refusal("POST", _headers(host, origin, *given))
        assert refusal is not None and refusal.status in (400, 403), given
    assert GUARD.refusal("POST", _headers(host, origin, ("X-Pmorules-Token", "secret-token"))) is None
    assert len(Guard("127.0.0.1", 1).token) >= 32 and Guard("127.0.0.1", 1).token != Guard("127.0.0.1", 1).token


# ------------------------------------------------------------------ what the pages name


def test_the_errors_page_names_paths_in_the_workspace_only(make_ws, tmp_path: Path) -> None:
    ws = make_ws({"services.yaml": "services:\n  - {id: a, term: soon}\n"})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "more.yaml").write_text("services: []\n")
    (ws / "more.yaml").symlink_to(tmp_path / "elsewhere" / "more.yaml")
    for given in (ws, ws.resolve(), Path(os.path.relpath(ws))):
        preview = Preview(given, None, lambda line: None, "")
        preview.render()
        page = preview.current()[1].decode()
        assert "<li>more.yaml: leads outside the workspace (to (a path outside the workspace))" in page, page
        assert "<li>services.yaml:2:" in page
        assert str(tmp_path) not in page and "/elsewhere" not in page
        assert f"<h1>{ws.name}: 2 errors</h1>" in page


def test_only_the_workspace_prefix_is_taken_off(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    # a relative name is the workspace only at the start of a path: alone it may be any word (a service "ws")
    assert within("ws/a.yaml:1:2: see news/b.yaml and ws", Path("ws")) == "a.yaml:1:2: see news/b.yaml and ws"
    assert within(f"{ws}: not a folder; see {ws}", ws) == ".: not a folder; see ."
    assert within(f"{ws}/a.yaml: leads to {tmp_path}/other/b.yaml, not {ws}x/c", ws) == (
        "a.yaml: leads to (a path outside the workspace), not (a path outside the workspace)")
    assert within("1/2 of S16/O26 and a / b", ws) == "1/2 of S16/O26 and a / b"


def test_an_internal_error_shows_no_traceback_in_the_page(make_ws, monkeypatch, capsys) -> None:
    ws = make_ws(SMALL)

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr("pmorules.workbench.analyze", broken)
    lines: list[str] = []
    preview = Preview(ws, None, lines.append, "")
    preview.render()
    page = preview.current()[1].decode()
    assert '<main id="internal-error">' in page and "internal error" in page
    assert "Traceback" not in page and "KeyError" not in page and ".py" not in page and "site-packages" not in page
    assert lines == ["internal error (please report it with the text below)"]
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'a bug'" in err  # the server's log has it


def test_changes_count_only_inside_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "knowledge").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (ws / "linked").symlink_to(tmp_path / "outside")
    (ws / "self").symlink_to(ws / "knowledge")
    accept = inside(ws)
    assert accept(None, str(ws / "services.yaml")) and accept(None, str(ws / "knowledge" / "x.yaml"))
    assert accept(None, str(ws / "self" / "x.yaml"))  # a symlink that stays inside
    assert not accept(None, str(ws / "linked" / "x.yaml"))
    assert not accept(None, str(ws / "linked" / "deep" / "gone.yaml"))  # deleted since: resolved as far as it exists
    assert not accept(None, str(tmp_path / "outside" / "x.yaml"))
    assert not accept(None, str(ws / ".git" / "index")) and not accept(None, str(ws / "services.yaml.swp"))
    (ws / "knowledge" / "evil.yaml").symlink_to("/etc/hostname")  # made in the workspace: the page must show its error
    assert accept(None, str(ws / "knowledge" / "evil.yaml"))


def test_activity_through_a_symlink_out_of_the_workspace_renders_nothing(make_ws, tmp_path: Path) -> None:
    ws = make_ws(SMALL, name="ws")
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws / "linked").symlink_to(outside)
    renders: list[str] = []
    preview = Preview(ws, None, renders.append, "")
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(preview, stop), daemon=True)
    watcher.start()
    try:
        _until(lambda: preview.current()[0] == 1)
        time.sleep(0.5)  # the watches are in place
        for number in range(5):
            (outside / f"activity-{number}.yaml").write_text("services: []\n")
            time.sleep(0.2)
        (ws / "services.yaml").write_text((ws / "services.yaml").read_text().replace("0.8", "0.4"))
        _until(lambda: preview.current()[0] >= 2)
        time.sleep(3)  # longer than watchfiles gathers a batch of changes: a late render would show by now
        assert preview.current()[0] == 2, renders
    finally:
        stop.set()
        watcher.join(timeout=10)


# ------------------------------------------------------------------ the server: bounded, quiet, guarded


@pytest.fixture
def live(make_ws, monkeypatch):
    """A LiveServer on 127.0.0.1 in a thread, its page set by hand (nothing is rendered); yields (server, guard, preview)."""
    started = []

    def start(idle: float = 10, lifetime: float = 30, most: int = 32):
        monkeypatch.setattr(serve_module, "IDLE_SECONDS", idle)
        monkeypatch.setattr(serve_module, "CONNECTION_SECONDS", lifetime)
        monkeypatch.setattr(serve_module, "MAX_CONNECTIONS", most)
        server = LiveServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        guard = Guard("127.0.0.1", server.server_address[1])
        preview = Preview(make_ws(SMALL), None, lambda line: None, guard.meta())
        server.RequestHandlerClass = serve_module._handler(preview, guard)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((server, thread))
        return server, guard, preview

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


def test_a_rebound_host_cannot_read_the_page(live) -> None:
    server, guard, _ = live()
    port = server.server_address[1]
    answer = _raw(port, f"GET / HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.0 421 ") and b"Rendering" not in answer and guard.token.encode() not in answer
    answer = _raw(port, f"GET / HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.0 200 ") and f'content="{guard.token}"'.encode() in answer
    assert _raw(port, b"GET /version HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 421 ")  # no Host at all


def test_a_post_is_answered_only_with_the_token_and_from_the_page_origin(live) -> None:
    server, guard, _ = live()
    port = server.server_address[1]
    base = f"POST /api HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n"
    assert _raw(port, (base + "\r\n").encode()).startswith(b"HTTP/1.0 403 ")
    assert _raw(port, (base + "Origin: http://evil.example\r\nX-Pmorules-Token: " + guard.token + "\r\n\r\n").encode()).startswith(
        b"HTTP/1.0 403 ")
    assert _raw(port, (base + f"Origin: http://127.0.0.1:{port}\r\nX-Pmorules-Token: {guard.token}\r\n\r\n").encode()).startswith(
        b"HTTP/1.0 404 ")  # let through: nothing takes a POST yet


def test_an_idle_connection_is_closed(live) -> None:
    server, _, _ = live(idle=0.5)
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=20) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1")  # and never the rest
        assert client.recv(100) == b""  # closed by the server (a hang fails with the client's timeout)


def test_a_request_sent_a_byte_at_a_time_is_cut(live) -> None:
    server, _, _ = live(idle=5, lifetime=1)
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=20) as client:
        for step in range(200):  # at most 200 x 0.1 s; one header line, a byte at a time
            try:
                client.sendall(b"X" if step else b"GET / HTTP/1.1\r\nX-Slow: ")
            except OSError:  # cut
                break
            time.sleep(0.1)
            client.setblocking(False)
            try:
                if client.recv(100) == b"":
                    break
            except BlockingIOError:
                pass
            finally:
                client.setblocking(True)
        else:
            raise AssertionError("the connection was never cut")


def test_a_flood_of_idle_connections_neither_starves_the_server_nor_piles_up_threads(live) -> None:
    server, _, _ = live(idle=60, most=8)
    port = server.server_address[1]
    before = threading.active_count()
    flood = []
    try:
        for _ in range(100):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            client.sendall(b"GET / HTTP/1.1\r\n")  # half a request
            flood.append(client)
        answer = _raw(port, f"GET /version HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.0 200 ") and answer.endswith(b"\r\n\r\n0")  # accepted after the whole flood
        _until(lambda: threading.active_count() <= before + 8, seconds=10)  # not one thread per idle connection
    finally:
        for client in flood:
            client.close()


def test_a_client_that_hangs_up_early_is_no_error(live, capfd) -> None:
    server, _, preview = live()
    preview._page = "<html><body>" + "x" * 8_000_000 + "</body></html>"  # long enough to be cut off mid-answer
    port = server.server_address[1]
    for _ in range(5):
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        client.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        client.recv(1000)
        client.close()
    _until(lambda: not server._open)
    time.sleep(0.5)  # the handler threads have finished writing to the closed connections
    assert _raw(port, f"GET /version HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()).startswith(b"HTTP/1.0 200 ")
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception" not in err, err


def test_another_host_is_served_with_a_warning(make_ws, tmp_path: Path) -> None:
    make_ws(SMALL, name="ws")
    server = subprocess.Popen([sys.executable, "-m", "pmorules", "serve", "ws", "--port", "0", "--host", "127.0.0.2"],
                              cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(120, server.kill)
    watchdog.start()
    try:
        warning, serving = server.stderr.readline(), server.stderr.readline()
        assert warning.startswith("warning: serving on 127.0.0.2, not only to this machine")
        assert serving.startswith("serving ws at http://127.0.0.2:")
        url = serving.split(" at ")[1].split(" ")[0]
        assert _until(lambda: _get(url + "version")[0] == 200)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        server.kill()
