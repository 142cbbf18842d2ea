"""The JSON API of ``pmorules serve``'s what-if workbench: its routes, its bounds, its errors as JSON.

The page and any script call the same routes, each a POST of one JSON object (``serve_security`` has
already checked the Host, the Origin and the token):

- ``/api/what-if``: what ``pmorules mix WS --drop … --format json`` prints for the what-if;
- ``/api/what-if/changes``: what the what-if changes against today (goals, findings), in a blink;
- ``/api/what-if/report``: the report of the what-if (HTML) and those changes;
- ``/api/recommend``: the optimiser's recommended mix starting from the what-if;
- ``/api/scenarios``: save the what-if as ``scenarios/NAME.yaml``.

No client can make the server work without bound: a body is at most ``MOST_BYTES`` and must say its
length, lists in it are bounded (``workbench.MOST_ITEMS``), and one what-if is worked on at a time: a
request arriving meanwhile is answered 429 at once rather than queued. Every error is JSON,
``{"error": "request:drop[2]: …", "errors": [...]}``, never a traceback (that goes to the server's log).
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, BinaryIO

from .errors import InputError
from .output import json_text
from .workbench import Workbench

MOST_BYTES = 64 * 1024
RETRY_SECONDS = 1


@dataclass(frozen=True)
class Answer:
    status: int
    data: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return json_text(self.data).encode("utf-8", "backslashreplace")  # never fails to answer


def _error(status: int, message: str, more: list[str] | None = None, **headers: str) -> Answer:
    return Answer(status, {"error": message, "errors": more or [message]}, headers)


def _not_a_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class Api:
    """The routes of the workbench over whichever Workbench the latest rendering left (None: none yet)."""

    def __init__(self, shown: Callable[[str], str] = str):
        self.shown = shown  # a message as the page may show it (no path of the machine outside the workspace)
        self._busy = threading.Lock()
        self.routes: dict[str, Callable[[Workbench, Any], dict[str, Any]]] = {
            "/api/what-if": self._what_if,
            "/api/what-if/changes": lambda bench, request: bench.changes(bench.apply(request)),
            "/api/what-if/report": self._report,
            "/api/recommend": lambda bench, request: bench.recommendation(request),
            "/api/scenarios": self._save,
        }

    def answer(self, path: str, headers: Message, body: BinaryIO, bench: Workbench | None) -> Answer:
        """The answer to a POST of ``path`` whose body can be read from ``body``."""
        route = self.routes.get(path.split("?", 1)[0])
        if route is None:
            return _error(404, f"no such route {path.split('?', 1)[0][:100]!r}; the API has {', '.join(self.routes)}")
        request = read_request(headers, body)
        if isinstance(request, Answer):
            return request
        if bench is None:
            return _error(409, "workspace: it has errors or is still being read (the page shows which); "
                               "what-ifs answer once it renders")
        if not self._busy.acquire(blocking=False):
            return _error(429, "request: another what-if is being worked on; send this one again in a moment",
                          **{"Retry-After": str(RETRY_SECONDS)})
        try:
            return Answer(200, route(bench, request))
        except InputError as error:
            # a problem of the request quotes what the client sent, as sent; one in a file may name a machine's path
            problems = [str(d) if d.location.file.partition(":")[0] == "request" else self.shown(str(d))
                        for d in sorted(set(error.diagnostics))]
            return _error(400, problems[0], problems)
        except Exception:  # a bug: the traceback in the server's log only
            traceback.print_exc(file=sys.stderr)
            return _error(500, "internal error: the server's output has the details; please report them")
        finally:
            self._busy.release()

    @staticmethod
    def _what_if(bench: Workbench, request: Any) -> dict[str, Any]:
        return bench.mix_json(bench.apply(request))

    @staticmethod
    def _report(bench: Workbench, request: Any) -> dict[str, Any]:
        variant = bench.apply(request)
        return {"html": bench.report(variant).decode(), "changes": bench.changes(variant)}

    @staticmethod
    def _save(bench: Workbench, request: Any) -> dict[str, Any]:
        target = bench.save(request)
        return {"saved": f"{target.parent.name}/{target.name}", "name": target.stem}


def read_request(headers: Message, body: BinaryIO) -> Any:
    """The JSON object of a request's body, or the Answer refusing it (too long, unsized, not JSON)."""
    if headers.get("Transfer-Encoding"):
        return _error(411, "request: send the body with a Content-Length, not in chunks")
    length = (headers.get("Content-Length") or "").strip()
    if not (length.isascii() and length.isdigit()):  # isdigit alone passes "²" and other digits int() refuses
        return _error(411, "request: a Content-Length header is needed")
    if len(length) > len(str(MOST_BYTES)) or int(length) > MOST_BYTES:
        return _error(413, f"request: the body is {length[:20]} bytes; at most {MOST_BYTES} are read")
    raw = body.read(int(length))
    try:
        request = json.loads(raw.decode("utf-8"), parse_constant=_not_a_constant)
        json.dumps(request, ensure_ascii=False).encode("utf-8")  # a "\ud800" escape decodes to no character
        return request
    except UnicodeEncodeError:
        return _error(400, "request: the body escapes half of a character (a lone \\ud800-\\udfff), which no text holds")
    except UnicodeDecodeError:
        return _error(400, "request: the body is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return _error(400, f"request:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}")
    except ValueError as exc:
        return _error(400, f"request: not JSON: {exc}")
    except RecursionError:
        return _error(400, "request: nested too deeply")
