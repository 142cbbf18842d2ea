"""``pmorules serve``: the HTML report of a workspace, live in a browser while its files are edited.

A local HTTP server (standard library, 127.0.0.1 only) serves the latest
rendering; one background thread renders the workspace at start and again
whenever watchfiles reports a change under it. The page asks ``/version`` every
second and reloads when a newer rendering exists, so the page stays
self-contained (no CDN, no websocket library). A workspace with errors renders
as a page listing them, and the server keeps running until Ctrl-C.
"""

from __future__ import annotations

import datetime as dt
import errno
import html
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .errors import Diagnostic, InputError, Location

HOST = "127.0.0.1"
POLL_MS = 1000
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


def errors_page(workspace: str, error: InputError) -> str:
    """The workspace's problems, as `pmorules validate` prints them."""
    problems = sorted(set(error.diagnostics))
    items = "\n".join(f"<li>{html.escape(str(d))}</li>" for d in problems)
    count = f"{len(problems)} error{'s' if len(problems) != 1 else ''}"
    return message_page("errors", f"{workspace}: {count}",
                        f"<p>Fix them in the files; this page updates when they change.</p>\n<ul>\n{items}\n</ul>")


class Preview:
    """The latest rendering of a workspace and its version (0 until the first rendering is done)."""

    def __init__(self, workspace: Path, as_of: dt.date | None, log: Callable[[str], None]):
        self.workspace = workspace
        self.as_of = as_of
        self.log = log
        self._lock = threading.Lock()
        self._version = 0
        self._page = message_page("rendering", "Rendering the report…", "<p>This page updates when it is ready.</p>")

    def current(self) -> tuple[int, bytes]:
        with self._lock:
            return self._version, self._with_reload(self._page, self._version)

    @staticmethod
    def _with_reload(page: str, version: int) -> bytes:
        script = RELOAD % {"version": version, "poll": POLL_MS}
        at = page.rfind("</body>")
        return (page[:at] + script + page[at:] if at >= 0 else page + script).encode()

    def render(self) -> None:
        """Render the workspace now: the report, or the page of its errors (never raises)."""
        from .analysis import analyze
        from .mix import recommend
        from .report import render_report

        try:
            analysis = analyze(self.workspace, self.as_of)
            page = render_report(analysis, recommend(analysis), "html").decode()
            self.log(f"report updated: {sum(analysis.counts().values())} findings")
        except InputError as error:
            page = errors_page(str(self.workspace), error)
            count = len(set(error.diagnostics))
            self.log(f"{count} error{'s' if count != 1 else ''} in the workspace (shown in the page)")
        except Exception:  # an internal error: show it, and keep serving
            page = message_page("internal-error", "pmorules: internal error (please report it)",
                                f"<pre>{html.escape(traceback.format_exc())}</pre>")
            self.log("internal error (shown in the page)")
        with self._lock:
            self._page = page
            self._version += 1


def _handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            path = self.path.split("?", 1)[0]
            version, page = preview.current()
            if path == "/":
                self._send(200, "text/html; charset=utf-8", page)
            elif path == "/version":
                self._send(200, "text/plain; charset=utf-8", str(version).encode())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found")

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the page polls every second."""

    return Handler


def _watch(preview: Preview, stop: threading.Event) -> None:
    """Render now, then again after every batch of changes under the workspace, until ``stop``."""
    from watchfiles import watch

    preview.render()
    try:
        for _changes in watch(preview.workspace, stop_event=stop, raise_interrupt=False):
            preview.render()
    except Exception as exc:  # the folder went away, or the system ran out of watches: say so, keep serving
        preview.log(f"stopped watching {preview.workspace}: {exc}")


def serve(workspace: Path, port: int, as_of: dt.date | None, log: Callable[[str], None]) -> None:
    """Serve the live report on 127.0.0.1 until Ctrl-C; ``log`` gets the URL and one line per rendering."""
    if not workspace.is_dir():
        raise InputError([Diagnostic(Location(str(workspace)), "no such workspace directory")])
    preview = Preview(workspace, as_of, log)
    try:
        server = ThreadingHTTPServer((HOST, port), _handler(preview))
    except OSError as exc:
        problem = f"port {port} on {HOST} is in use" if exc.errno == errno.EADDRINUSE else \
            f"cannot listen on {HOST}:{port}: {exc.strerror}"
        raise InputError([Diagnostic(Location(f"--port {port}"), problem,
                                     "choose another with --port, or --port 0 for any free port")]) from None
    server.daemon_threads = True
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(preview, stop), name="pmorules-watch", daemon=True)
    watcher.start()
    log(f"serving {workspace} at http://{HOST}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        watcher.join(timeout=10)
    log("stopped")
