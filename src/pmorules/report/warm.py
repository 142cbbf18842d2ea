"""What a long-running ``pmorules serve`` keeps from one rendering of the report to the next.

``serve`` renders the whole report again after every edit, and renders what-ifs in between. Compiling the
templates took a fifth of that, and drawing the charts more than a fifth, though an edit changes neither
the templates nor most charts. So the server keeps both, keyed by what makes them: a template's compiled
code by its name, file and source (in memory only, an organisation's templates too; the cache on disk
keeps only the built-in ones), a chart's SVG by its name and the plain data it is drawn from. The bytes
are those of a cold run: the same code compiled from the same source, the same (deterministic) drawing of
the same data. Each keeps at most ``MOST`` entries, the least recently used going first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache
from markupsafe import Markup

MOST = 64  # templates or charts kept: the report has about twenty templates and five charts


class _Kept:
    """A bounded map, least recently used out first, safe to share between the server's threads."""

    def __init__(self) -> None:
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > MOST:
                self._items.popitem(last=False)


class Warm:
    """Compiled templates and drawn charts, kept by one server across its renderings."""

    def __init__(self) -> None:
        self._compiled = _Kept()
        self._drawn = _Kept()

    def templates(self, flavour: str, disk: BytecodeCache | None) -> BytecodeCache:
        """The bytecode cache of one report format: this memory first, then ``disk`` (None: none)."""
        return _Remembered(self._compiled, flavour, disk)

    def chart(self, name: str, draw: Callable[..., Markup], *data: Any) -> Markup:
        """``draw(*data)``, drawn again only when the data differs from a chart kept (data that is not plain
        JSON-like values is always drawn)."""
        key = plain_key((name, data))
        if key is None:
            return draw(*data)
        svg = self._drawn.get(key)
        if svg is None:
            svg = draw(*data)
            self._drawn.put(key, svg)
        return svg

    def keep(self, name: str, data: tuple, svg: Markup) -> None:
        """Keep a chart drawn elsewhere (``charts_ahead``'s drawer) from this data, as ``chart`` would."""
        key = plain_key((name, data))
        if key is not None:
            self._drawn.put(key, svg)


class _Remembered(BytecodeCache):
    """Jinja's bytecode cache over the server's memory, in front of the cache on disk."""

    def __init__(self, kept: _Kept, flavour: str, disk: BytecodeCache | None):
        self.kept = kept
        self.flavour = flavour
        self.disk = disk

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        key = (self.flavour, name, filename, hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest())
        code = self.kept.get(key)
        if code is not None:
            bucket = Bucket(environment, "", "")  # the empty key: never stored on disk
            bucket.code = code
        else:
            bucket = self.disk.get_bucket(environment, name, filename, source) if self.disk else Bucket(environment, "", "")
            if bucket.code is not None:
                self.kept.put(key, bucket.code)
        bucket.remembered_as = key  # type: ignore[attr-defined]  # for set_bucket, when Jinja compiles it
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        self.kept.put(bucket.remembered_as, bucket.code)  # type: ignore[attr-defined]
        if self.disk:
            self.disk.set_bucket(bucket)

    def load_bytecode(self, bucket: Bucket) -> None:
        """Unused: get_bucket loads."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Unused: set_bucket stores."""


_PLAIN = (str, int, float, bool, type(None), dt.date)


def plain_key(value: Any) -> Any:
    """A hashable key equal only for equal plain data (dicts, lists, text, numbers, dates), each value tagged
    with its exact type (1, 1.0 and True differ); None when the data holds anything else."""
    kind = type(value)
    if kind in _PLAIN:
        return kind.__name__, value
    if kind is dict:
        items = tuple((plain_key(k), plain_key(v)) for k, v in value.items())
        return None if any(k is None or v is None for k, v in items) else ("dict", items)
    if kind in (list, tuple):
        items = tuple(plain_key(v) for v in value)
        return None if any(v is None for v in items) else (kind.__name__, items)
    return None
