"""Which requests ``pmorules serve`` answers: its security checks, in one place.

A web page the user opens elsewhere can make the browser send requests to the
local server, and with DNS rebinding (its own host name made to resolve to
127.0.0.1) even read the answers. The browser still names the page's host in
``Host`` and its origin in ``Origin``, so a request is answered only when
``Host`` is the served address, and anything but a plain GET or HEAD also needs
a same-origin ``Origin`` (or none, as scripts send) and, for a POST, the
session's token in ``X-Pmorules-Token`` (served pages carry it in
``<meta name="pmorules-token">``; a page on another origin cannot read it).
Each check is one method; ``refusal`` runs them in order.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import re
import secrets
import socket
from dataclasses import dataclass, field
from email.message import Message

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
EVERY_ADDRESS = ("0.0.0.0", "::", "[::]")  # bound to every address of the machine
_ADDRESS_AND_PORT = re.compile(r"(\[[0-9a-f:.]+\]|[0-9.]+)(?::([0-9]{1,5}))?")
SAFE_METHODS = frozenset({"GET", "HEAD"})
TOKEN_HEADER = "X-Pmorules-Token"
TOKEN_META = "pmorules-token"


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


@dataclass(frozen=True)
class Guard:
    """The checks for a server bound to ``host``:``port``, with a token made for this session."""

    host: str
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def hosts(self) -> frozenset[str]:
        """The ``Host`` values of the served address: its name or a loopback name, with the port (alone on 80)."""
        bound = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        names = {name.lower() for name in (*LOOPBACK, bound)}
        return frozenset({f"{name}:{self.port}" for name in names} | (names if self.port == 80 else set()))

    def refusal(self, method: str, headers: Message) -> Refusal | None:
        """Why a request is refused, or None when it may be answered."""
        return self._twice(headers) or self._host(headers) or self._origin(method, headers) or self._token(method, headers)

    @staticmethod
    def _twice(headers: Message) -> Refusal | None:
        """A checked header given twice could be read one way here and another way by a proxy: refused."""
        if any(len(headers.get_all(name) or ()) > 1 for name in ("Host", "Origin", TOKEN_HEADER, "Content-Length")):
            return Refusal(400, "the Host, Origin, token or Content-Length header is given twice")
        return None

    def names_this_server(self, value: str) -> bool:
        """Whether a ``Host`` value (or an origin's host) is the served address. A server bound to every address
        answers for each of the machine's addresses as well, written as an address: a host name could be made to
        resolve here (DNS rebinding), an address cannot; another machine's address is another origin."""
        value = value.strip().lower()
        if value in self.hosts:
            return True
        match = _ADDRESS_AND_PORT.fullmatch(value) if self.host in EVERY_ADDRESS else None
        if match is None or int(match.group(2) or 80) != self.port:
            return False
        try:
            address = ipaddress.ip_address(match.group(1).strip("[]"))
        except ValueError:
            return False
        return _of_this_machine(str(address))

    def _host(self, headers: Message) -> Refusal | None:
        if not self.names_this_server(headers.get("Host") or ""):
            return Refusal(421, "this server answers only for its own address (the Host header names another)")
        return None

    def _origin(self, method: str, headers: Message) -> Refusal | None:
        origin = headers.get("Origin")
        if method in SAFE_METHODS or origin is None:
            return None
        if not origin.lower().startswith("http://") or not self.names_this_server(origin[len("http://"):]):
            return Refusal(403, "requests from another site are refused (the Origin header names another)")
        return None

    def _token(self, method: str, headers: Message) -> Refusal | None:
        given = (headers.get(TOKEN_HEADER) or "").encode("utf-8", "replace")
        if method == "POST" and not hmac.compare_digest(given, self.token.encode()):
            return Refusal(403, f"a POST needs this session's token in the {TOKEN_HEADER} header")
        return None

    def meta(self) -> str:
        """The tag that gives served pages the token."""
        return f'<meta name="{TOKEN_META}" content="{self.token}">'


@functools.lru_cache(maxsize=256)
def _of_this_machine(address: str) -> bool:
    """Whether an address is one of this machine's: only those can be bound to (asked once per address)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True
