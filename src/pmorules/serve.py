"""``pmorules serve``: the HTML report of a workspace, live in a browser while its files are edited.

A local HTTP server (standard library, 127.0.0.1 unless ``--host``) serves the latest
rendering; one background thread renders the workspace at start and again
whenever watchfiles reports a change inside it. The page asks ``/version`` four
times a second (an edit shows as soon as it is rendered, not up to a second later)
and reloads when a newer rendering exists, so the page stays
self-contained (no CDN, no websocket library). A workspace with errors renders
as a page listing them, and the server keeps running until Ctrl-C. Each rendering
keeps its workspace warm in a ``Workbench``, which answers the page's what-ifs
(the panel, ``serve_api``).

Which requests are answered is decided in ``serve_security``. The server itself
is bounded so that no client can starve it: a connection idle for
``IDLE_SECONDS`` or open for ``CONNECTION_SECONDS`` is closed, at most
``MAX_CONNECTIONS`` are open at once (a new one closes the oldest), and a client
that hangs up early is no error. Ctrl-C cuts every connection and waits for the
what-ifs in flight before the process ends.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .errors import Diagnostic, InputError, Location
from .gcpause import gc_paused, keep_collecting
from .report.warm import Warm
from .serve_api import Api
from .serve_security import Guard
from .text import count_noun
from .workbench import Workbench

HOST = "127.0.0.1"
POLL_MS = 250
IDLE_SECONDS = 10  # a client silent this long while sending a request or reading the answer is dropped
CONNECTION_SECONDS = 30  # no connection stays open longer (a request sent a byte at a time)
MAX_CONNECTIONS = 32  # open at once; the page needs one at a time
STOP_SECONDS = 30  # on Ctrl-C, how long the what-ifs and the rendering in flight may take to end
RELOAD = """<script>
/* pmorules serve: reload when the workspace has been rendered again. */
(function () {
  function check() {
    fetch("/version", {cache: "no-store"})
      .then(function (answer) { return answer.text(); })
      .then(function (version) { if (version !== "%(version)d") { location.reload(); } })
      .catch(function () {})
      .then(function () { setTimeout(check, %(poll)d); });
  }
  setTimeout(check, %(poll)d);
})();
</script>
"""
MESSAGE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title>
<style>
body { margin: 0 auto; max-width: 62rem; padding: 2.5rem; color: #344054;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { color: #101828; font-size: 1.6rem; }
ul { padding-left: 1.2rem; }
li, pre { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.85rem;
  overflow-wrap: anywhere; white-space: pre-wrap; }
li { margin: 0 0 0.4rem; color: #b42318; }
</style>
</head>
<body>
<main id="%(id)s">
<h1>%(title)s</h1>
%(body)s
</main>
</body>
</html>
"""


def message_page(page_id: str, title: str, body: str) -> str:
    return MESSAGE_PAGE % {"id": page_id, "title": html.escape(title), "body": body}


def errors_page(workspace: Path, error: InputError) -> str:
    """The workspace's problems, as `pmorules validate` prints them, with paths relative to the workspace.

    A page can be read by more than the person editing, so it names no path of the machine outside the workspace.
    """
    problems = sorted({within(str(d), workspace) for d in error.diagnostics})
    items = "\n".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
    count = count_noun(len(problems), "error")
    return message_page("errors", f"{workspace.resolve().name}: {count}",
                        f"<p>Fix them in the files; this page updates when they change.</p>\n<ul>\n{items}\n</ul>")


ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/[^\s'\"()<>,;]+")


def within(text: str, workspace: Path) -> str:
    """``text`` with the workspace's paths relative to it and any other absolute path left out."""
    absolute = {str(workspace.absolute()), str(workspace.resolve())}
    for prefix in sorted((absolute | {str(workspace)}) - {"."}, key=len, reverse=True):
        # a relative name ("ws") is the workspace only as the start of a path: alone it may be any word
        alone = r"|(?=[\s:'\")]|$)" if prefix in absolute else ""
        text = re.sub(r"(?<![\w.~/-])" + re.escape(prefix) + r"(/" + alone + ")",
                      lambda found: "" if found.group(1) else ".", text)
    return ABSOLUTE_PATH.sub("(a path outside the workspace)", text)


class Preview:
    """The latest rendering of a workspace and its version (0 until the first rendering is done)."""

    def __init__(self, workspace: Path, as_of: dt.date | None, log: Callable[[str], None], head: str,
                 appendix: bool = False):
        self.workspace = workspace
        self.as_of = as_of
        self.appendix = appendix  # as `report --appendix`: the page is the report that command writes
        self.log = log
        self.head = head  # put in every page's head: the session's token
        self._lock = threading.Lock()
        self._version = 0
        self._bench: Workbench | None = None  # the latest rendering's, while the workspace has no errors
        self._warm = Warm()  # compiled templates and drawn charts, for the next rendering
        self._page = message_page("rendering", "Rendering the report…", "<p>This page updates when it is ready.</p>")

    def current(self) -> tuple[int, bytes]:
        with self._lock:
            return self._version, self._served(self._page, self._version)

    def workbench(self) -> Workbench | None:
        with self._lock:
            return self._bench

    def _served(self, page: str, version: int) -> bytes:
        """The page with the session's head tags and the reload script."""
        script = RELOAD % {"version": version, "poll": POLL_MS}
        at = page.rfind("</body>")
        page = page[:at] + script + page[at:] if at >= 0 else page + script
        at = page.find("</head>")
        return (page[:at] + self.head + "\n" + page[at:] if at >= 0 else self.head + page).encode()

    def render(self) -> None:
        """Render the workspace now: the report, or the page of its errors (never raises)."""
        try:
            with gc_paused():  # between the stages that pause it, the collector kept rescanning what is kept warm
                bench = Workbench.load(self.workspace, self.as_of, self.appendix, self._warm)
                page = bench.report(None).decode()
            self.log(f"report updated: {sum(bench.today.counts().values())} findings")
        except InputError as error:
            bench = None
            page = errors_page(self.workspace, error)
            self.log(f"{count_noun(len(set(error.diagnostics)), 'error')} in the workspace (shown in the page)")
        except Exception:  # an internal error: say so in the page, the traceback only in the server's log
            bench = None
            page = message_page("internal-error", "pmorules: internal error",
                                "<p>The report could not be rendered. The server's output has the details; "
                                "please report them.</p>")
            self.log("internal error (please report it with the text below)")
            traceback.print_exc(file=sys.stderr)
        with self._lock:
            self._page = page
            self._bench = bench
            self._version += 1


class LiveServer(ThreadingHTTPServer):
    """A threading HTTP server that no client can starve: connections are bounded in number and in time."""

    daemon_threads = True
    request_queue_size = 128  # connections the kernel holds while a what-if keeps the accepting thread waiting
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        self._open: dict[socket.socket, float] = {}  # each connection open, and when it is cut at the latest
        self._open_lock = threading.Lock()
        self._answering: set[threading.Thread] = set()  # the threads serving a connection now
        self._closing = False  # set by server_close: a connection accepted just before is not served
        super().__init__(address, handler)  # closes the server when it cannot bind: the fields above must exist

    def process_request(self, request: socket.socket, client_address: object) -> None:
        """Serve ``request`` in a thread; when ``MAX_CONNECTIONS`` are open, the oldest is cut to make room
        (a flood of idle connections then only cuts its own, and the page's next poll gets through)."""
        with self._open_lock:
            oldest = min(self._open, key=self._open.__getitem__) if len(self._open) >= MAX_CONNECTIONS else None
            self._open.pop(oldest, None)
            self._open[request] = time.monotonic() + CONNECTION_SECONDS
        if oldest is not None:
            _cut(oldest)
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:
        with self._open_lock:
            closing = self._closing
            if not closing:
                self._answering.add(threading.current_thread())
        if closing:  # its thread started after server_close looked: the request it may hold is not answered
            self.shutdown_request(request)
            return
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._answering.discard(threading.current_thread())

    def server_close(self) -> None:
        """Stop listening, cut every connection and wait (``STOP_SECONDS`` at most) for the what-ifs in flight:
        the interpreter must not end while a thread is inside the engine's or the solver's C++ code (the
        process aborted: "terminate called without an active exception")."""
        super().server_close()
        with self._open_lock:
            self._closing = True
            connections, self._open = list(self._open), {}
            answering = list(self._answering)
        for request in connections:
            _cut(request)
        deadline = time.monotonic() + STOP_SECONDS
        for thread in answering:
            thread.join(max(0.0, deadline - time.monotonic()))

    def still_answering(self) -> bool:
        """Whether a request outlived ``server_close``'s wait (a what-if the solver works on for minutes)."""
        with self._open_lock:
            return any(thread.is_alive() for thread in self._answering)

    def shutdown_request(self, request: socket.socket) -> None:
        with self._open_lock:
            self._open.pop(request, None)
        super().shutdown_request(request)

    def service_actions(self) -> None:
        """Between polls of the listening socket: cut connections open for too long (their thread then ends)."""
        now = time.monotonic()
        with self._open_lock:
            late = [request for request, deadline in self._open.items() if deadline < now]
            for request in late:
                del self._open[request]
        for request in late:
            _cut(request)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up or goes silent is not an error; anything else is logged with its traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _cut(request: socket.socket) -> None:
    """End a connection from this side: its thread's next read or write fails, quietly, and the thread ends."""
    try:
        request.shutdown(socket.SHUT_RDWR)
    except OSError:  # closed already
        pass


def _handler(preview: Preview, guard: Guard, api: Api | None = None) -> type[BaseHTTPRequestHandler]:
    api = api or Api(lambda text: within(text, preview.workspace))

    class Handler(BaseHTTPRequestHandler):
        timeout = IDLE_SECONDS

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self._answer(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(body=False)

        def do_POST(self) -> None:  # noqa: N802
            if not self._refused():
                answer = api.answer(self.path, self.headers, self.rfile, preview.workbench())
                if answer.status in (411, 413):  # the body was not read: the connection cannot carry another request
                    self.close_connection = True
                self._send(answer.status, "application/json", answer.body, headers=answer.headers)

        def _answer(self, body: bool) -> None:
            if self._refused():
                return
            path = self.path.split("?", 1)[0]
            version, page = preview.current()
            if path == "/":
                self._send(200, "text/html; charset=utf-8", page, body)
            elif path == "/version":
                self._send(200, "text/plain; charset=utf-8", str(version).encode(), body)
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found", body)

        def _refused(self) -> bool:
            refusal = guard.refusal(self.command, self.headers)
            if refusal is not None:
                self.close_connection = True
                self._send(refusal.status, "text/plain; charset=utf-8", refusal.reason.encode(), self.command != "HEAD")
            return refusal is not None

        def _send(self, status: int, kind: str, content: bytes, body: bool = True,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if body:
                self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the page polls four times a second."""

    return Handler


def inside(workspace: Path) -> Callable[[object, str], bool]:
    """A watchfiles filter: a change counts only where its folder lies inside the workspace once symlinks are
    followed (the watcher follows a symlinked folder to wherever it leads; what happens there is not the
    workspace's), and not in what watchfiles ignores by default (``.git``, editors' swap files). A symlink made
    in the workspace is a change of the workspace, wherever it leads: the page then shows the error it makes."""
    from watchfiles import DefaultFilter

    usual = DefaultFilter()
    root = workspace.resolve()

    def accept(change: object, path: str) -> bool:
        return usual(change, path) and Path(path).parent.resolve().is_relative_to(root)

    return accept


def _watch(preview: Preview, stop: threading.Event) -> None:
    """Render now, then again after every batch of changes inside the workspace, until ``stop``."""
    from watchfiles import watch

    preview.render()
    try:
        for _changes in watch(preview.workspace, watch_filter=inside(preview.workspace), stop_event=stop,
                              raise_interrupt=False, step=10):  # a save is one batch; 10 ms without more ends it
            preview.render()
    except Exception as exc:  # the folder went away, or the system ran out of watches: say so, keep serving
        preview.log(f"stopped watching {preview.workspace}: {exc}")


def serve(workspace: Path, port: int, as_of: dt.date | None, log: Callable[[str], None], host: str = HOST,
          appendix: bool = False) -> None:
    """Serve the live report on ``host`` (127.0.0.1) until Ctrl-C; ``log`` gets the URL and one line per rendering."""
    keep_collecting()  # it renders again and again: what a rendering drops must be collected
    if not workspace.is_dir():
        raise InputError([Diagnostic(Location(str(workspace)), "no such workspace directory")])
    if not host.strip():  # "" listens on every interface, and the page's address read "http://:8000/"
        raise InputError([Diagnostic(Location("--host"), "give the address to listen on", f"{HOST}: this machine only")])
    try:
        server = LiveServer((host, port), BaseHTTPRequestHandler)  # its handler is set below, once the port is known
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InputError([Diagnostic(Location(f"--port {port}"), f"port {port} on {host} is in use",
                                         "choose another with --port, or --port 0 for any free port")]) from None
        if exc.errno == errno.EACCES:  # a privileged port, for a user who may not listen on it
            raise InputError([Diagnostic(Location(f"--port {port}"), f"cannot listen on port {port}: {exc.strerror}",
                                         "choose a port above 1023, or --port 0 for any free port")]) from None
        raise InputError([Diagnostic(Location(f"--host {host}"), f"cannot listen on {host}: {exc.strerror}",
                                     f"give an IPv4 address of this machine ({HOST}: this machine only)")]) from None
    if host != HOST:
        log(f"warning: serving on {host}, not only to this machine: whoever reaches {host}:{server.server_address[1]} "
            "can read the report (changes still need the page's token)")
    guard = Guard(host, server.server_address[1])  # the port chosen, when it was 0
    preview = Preview(workspace, as_of, log, guard.meta(), appendix)
    server.RequestHandlerClass = _handler(preview, guard)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(preview, stop), name="pmorules-watch", daemon=True)
    watcher.start()
    log(f"serving {workspace} at http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        with _ctrl_c_stops(server):
            server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:  # a second Ctrl-C while stopping, or one before the server was listening
        pass
    finally:
        stop.set()
        server.server_close()
        watcher.join(timeout=STOP_SECONDS)  # a rendering under way ends first, as the what-ifs in flight
    if server.still_answering() or watcher.is_alive():
        # the interpreter cannot end beside a thread inside the solver's C++ code (it aborts): leave at once
        log(f"stopped (a what-if or rendering still being worked out after {STOP_SECONDS} s was abandoned)")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    log("stopped")


@contextmanager
def _ctrl_c_stops(server: LiveServer) -> Iterator[None]:
    """Ctrl-C asks the server to stop, rather than raising KeyboardInterrupt wherever the main thread happens to
    be: raised inside a weak reference's callback or a ``__del__`` (a collection freeing a rendering's objects),
    Python prints it as ignored and the server went on serving. A second Ctrl-C interrupts at once. Outside
    the main thread, where no signal handler can be set, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def stop(_signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGINT, previous)
        threading.Thread(target=server.shutdown, name="pmorules-stop", daemon=True).start()  # not from the loop's thread

    signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
