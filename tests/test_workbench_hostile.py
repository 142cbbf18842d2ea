"""Hostile requests to the workbench's API (issue 26): another site, no token, huge or malformed bodies,
path-like names, floods. Each is refused with a located JSON error, never a traceback, and the server
keeps answering."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from email.message import Message

import pytest

from pmorules import serve as serve_module
from pmorules.serve import Preview
from pmorules.serve_api import MOST_BYTES
from pmorules.workbench import MOST_ITEMS, Workbench
from conftest import served_example

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The example served in this process, its workbench without the page; yields (port, token, api, workspace)."""
    with served_example(tmp_path_factory.mktemp("hostile"), None, page=False) as served:
        yield served


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes, read the answer to the end: its status, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def post(port: int, token: str | None, body: bytes, path: str = "/api/what-if", host: str | None = None,
         extra: str = "") -> tuple[int, dict[str, str], bytes]:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + (f"X-Pmorules-Token: {token}\r\n" if token is not None else "") + extra + "\r\n")
    return raw(port, head.encode() + body)


def error_of(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, str]:
    status, headers, body = answer
    assert headers["content-type"] == "application/json" and b"Traceback" not in body
    return status, json.loads(body)["error"]


def test_another_site_is_refused(served) -> None:
    port, token, _, _ = served
    body = b'{"drop": ["lessons"]}'
    assert post(port, token, body, host=f"evil.example:{port}")[0] == 421  # DNS rebinding
    assert post(port, token, body, extra="Origin: http://evil.example\r\n")[0] == 403
    assert post(port, token, body, extra=f"Origin: http://127.0.0.1:{port}\r\n")[0] == 200


@pytest.mark.parametrize("token", [None, "", "guess", "x" * 10_000])
def test_a_post_without_the_session_token_is_refused(served, token: str | None) -> None:
    port, _, _, workspace = served
    for path in ("/api/what-if", "/api/what-if/changes", "/api/what-if/report", "/api/recommend", "/api/scenarios"):
        status, _, body = post(port, token, b'{"name": "sneaky", "drop": ["lessons"]}', path)
        assert status == 403 and b"token" in body
    assert not (workspace / "scenarios" / "sneaky.yaml").exists()


def test_a_huge_body_is_refused_unread(served) -> None:
    port, token, _, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:  # announces 1 GB, sends nothing
        client.sendall(f"POST /api/what-if HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Pmorules-Token: {token}\r\n"
                       f"Content-Length: {1 << 30}\r\n\r\n".encode())
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 413 ") and f"at most {MOST_BYTES}".encode() in answer
    assert error_of(post(port, token, b" " * (MOST_BYTES + 1)))[0] == 413
    assert error_of(raw(port, f"POST /api/what-if HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Pmorules-Token: {token}\r\n"
                              f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n".encode()))[0] == 411
    assert error_of(raw(port, f"POST /api/what-if HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Pmorules-Token: {token}\r\n"
                              f"Connection: close\r\n\r\n".encode())) == (411, "request: a Content-Length header is needed")


@pytest.mark.parametrize(("body", "message"), [
    (b'{"drop": [', "request:1:11: not JSON: Expecting value"),
    (b"\xff\xfe", "request: the body is not UTF-8 text"),
    (b"[" * 30_000 + b"]" * 30_000, "request: nested too deeply"),
    (b'{"effort": {"risk": NaN}}', "request: not JSON: NaN is not a JSON number"),
    (b'["lessons"]', "request: should be a JSON object"),
    (b'{"drop": "lessons"}', "request:drop: should be a list of service ids"),
    (b'{"drop": [{"id": "lessons"}]}', "request:drop[0]: should be a non-empty text"),
    (b'{"effort": {"risk": "6"}}', "request:effort.risk: should be a number"),
    (b'{"effort": {"risk": 1e300}}', "request:effort.risk: 1e+300 is out of range (numbers are at most 1e+15 in size)"),
    (b'{"effort": {"risk": true}}', "request:effort.risk: should be a number"),
    (b'{"probability": {"risk": 1.5}}', "request:probability.risk: should be from 0 to 1"),
    (json.dumps({"drop": ["lessons"] * (MOST_ITEMS + 1)}).encode(), f"request:drop: has more than {MOST_ITEMS} entries"),
    (json.dumps({"add": ["x" * 5000]}).encode(), "request:add[0]: is longer than 200 characters"),
    (b'{"path": "/etc/passwd"}', "request:path: unknown field (use drop, keep, add, effort, approach, probability)"),
    (b'{"drop": ["../../etc/passwd"]}', "request:drop[0]: unknown service '../../etc/passwd'"),
    (b'{"approach": {"training": ["x"]}}', "request:approach.training: should be one of consultative, supportive, "
                                           "facilitative, directive, controlling, managed"),
    (b'{"approach": {"training": {"a": 1}}}', "request:approach.training: should be one of consultative, supportive, "
                                               "facilitative, directive, controlling, managed"),
    (b'{"effort": {"training": 1' + b"0" * 400 + b"}}",
     "request:effort.training: an integer of 401 digits is out of range (numbers are at most 1e+15 in size)"),
    (b'{"drop": ["training"], "add": ["training"]}', "request:add[0]: 'training' is also listed under drop"),
    (b'{"effort": {"\\ud800": 1}}', "request: the body escapes half of a character (a lone \\ud800-\\udfff), "
                                     "which no text holds"),
    (b'{"\\udfff": 1}', "request: the body escapes half of a character (a lone \\ud800-\\udfff), which no text holds"),
    (b'{"drop": ["ws"]}', "request:drop[0]: unknown service 'ws'"),  # the workspace's name, quoted as sent
    (b'{"drop": ["<b>x</b>"]}', "request:drop[0]: unknown service '<b>x</b>'"),
    (b'{"drop": ["trai /ning"]}', "request:drop[0]: unknown service 'trai /ning' (hint: did you mean 'training'?)"),
])
def test_a_malformed_what_if_is_a_located_json_error(served, body: bytes, message: str) -> None:
    port, token, _, _ = served
    status, error = error_of(post(port, token, body))
    assert (status, error) == (400, message)


@pytest.mark.parametrize("name", ["../scenarios-out", "../../x", "/tmp/x", "a\\b", "con.yaml", "x\x00"])
def test_a_request_never_names_a_path(served, name: str) -> None:
    port, token, _, workspace = served
    before = sorted(workspace.parent.rglob("*"))
    status, error = error_of(post(port, token, json.dumps({"name": name, "drop": ["lessons"]}).encode(), "/api/scenarios"))
    assert status == 400 and error.startswith("request:name: should be 1 to 64 letters")
    assert sorted(workspace.parent.rglob("*")) == before
    assert post(port, token, b"{}", "/api/../../etc/passwd")[0] == 404


def test_a_flood_is_answered_429_and_the_server_keeps_answering(served) -> None:
    port, token, api, _ = served
    with api._busy:  # a what-if is being worked on: another is not queued behind it
        status, headers, body = post(port, token, b'{"drop": ["lessons"]}')
    assert status == 429 and headers["retry-after"] == "1" and b"again in a moment" in body
    with ThreadPoolExecutor(max_workers=32) as pool:  # beyond the listen backlog of 5 the server once had
        statuses = list(pool.map(lambda _: post(port, token, b'{"drop": ["lessons"]}')[0], range(64)))
    assert set(statuses) <= {200, 429} and 200 in statuses
    assert post(port, token, b'{"drop": ["lessons"]}')[0] == 200


def test_an_internal_error_answers_json_without_a_traceback(served, monkeypatch, capsys) -> None:
    port, token, _, workspace = served

    def broken(self, request):
        raise RuntimeError(f"secret detail in {workspace}")

    monkeypatch.setattr(Workbench, "apply", broken)
    status, error = error_of(post(port, token, b"{}"))
    assert status == 500 and error == "internal error: the server's output has the details; please report them"
    assert "RuntimeError" in capsys.readouterr().err


def test_a_workspace_with_errors_answers_409(make_ws) -> None:
    ws = make_ws({"services.yaml": "services:\n  - {id: a, term: soon}\n"})
    preview = Preview(ws, None, lambda line: None, "")
    preview.render()
    assert preview.workbench() is None
    answer = serve_module.Api().answer("/api/what-if", _length(2), _Body(b"{}"), preview.workbench())
    assert answer.status == 409 and answer.data["error"].startswith("workspace: it has errors")


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int) -> bytes:
        return self.data[:size]


def _length(size: int) -> Message:
    headers = Message()
    headers["Content-Length"] = str(size)
    return headers


def test_a_scenario_description_with_half_a_character_is_refused_and_nothing_is_written(served) -> None:
    port, token, _, workspace = served
    body = b'{"name": "half", "description": "\\ud800", "drop": ["lessons"]}'
    assert error_of(post(port, token, body, "/api/scenarios"))[0] == 400
    assert not (workspace / "scenarios" / "half.yaml").exists()


@pytest.mark.parametrize(("length", "status"), [("\N{SUPERSCRIPT TWO}", 411), ("1\N{SUPERSCRIPT THREE}", 411),
                                                ("9" * 5000, 413), ("0" * 30 + "2", 413)])
def test_a_content_length_that_is_not_a_plain_number_is_refused(served, length: str, status: int) -> None:
    port, token, _, _ = served
    answer = raw(port, f"POST /api/what-if HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Pmorules-Token: {token}\r\n"
                       f"Content-Length: {length}\r\nConnection: close\r\n\r\n{{}}".encode("latin-1"))  # as headers are read
    assert error_of(answer)[0] == status
