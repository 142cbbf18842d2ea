"""Read YAML 1.2 fast, remembering where every key and item came from.

libyaml (through PyYAML's C parser) does the parsing; a small constructor
gives YAML 1.2 core-schema scalars (``NO`` stays a string, ``012`` is 12),
refuses duplicate keys, and records the line and column of every mapping key
and sequence item, so errors and evidence can point at the exact place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.cyaml import CParser
from yaml.reader import ReaderError
from yaml.resolver import BaseResolver

from .errors import Diagnostic, InputError, Location


class Node:
    """Marker base for containers that know their positions."""


class PosDict(dict, Node):
    """A mapping with the 1-based position of itself and of each key."""

    __slots__ = ("line", "col", "key_pos")

    def __init__(self, line: int, col: int):
        super().__init__()
        self.line, self.col = line, col
        self.key_pos: dict[Any, tuple[int, int]] = {}


class PosList(list, Node):
    """A sequence with the 1-based position of itself and of each item."""

    __slots__ = ("line", "col", "item_pos")

    def __init__(self, line: int, col: int):
        super().__init__()
        self.line, self.col = line, col
        self.item_pos: list[tuple[int, int]] = []


class _Resolver12(BaseResolver):
    """YAML 1.2 core schema: only true/false are booleans, no sexagesimals."""


_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver12.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class _Constructor12(SafeConstructor):
    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = node.value
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        text = node.value.lower()
        if text.endswith(".inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        if text == ".nan":
            return float("nan")
        return float(text)

    def construct_yaml_map(self, node: yaml.MappingNode):
        mapping = PosDict(node.start_mark.line + 1, node.start_mark.column + 1)
        yield mapping
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark)
            if key in mapping:
                first = mapping.key_pos[key]
                raise ConstructorError(
                    None, None, f"duplicate key {key!r} (first defined at line {first[0]})", key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_pos[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)

    def construct_yaml_seq(self, node: yaml.SequenceNode):
        items = PosList(node.start_mark.line + 1, node.start_mark.column + 1)
        yield items
        for child in node.value:
            items.append(self.construct_object(child, deep=True))
            items.item_pos.append((child.start_mark.line + 1, child.start_mark.column + 1))


_Constructor12.add_constructor("tag:yaml.org,2002:int", _Constructor12.construct_yaml_int)
_Constructor12.add_constructor("tag:yaml.org,2002:float", _Constructor12.construct_yaml_float)
_Constructor12.add_constructor("tag:yaml.org,2002:map", _Constructor12.construct_yaml_map)
_Constructor12.add_constructor("tag:yaml.org,2002:seq", _Constructor12.construct_yaml_seq)


class _Loader(CParser, _Constructor12, _Resolver12):
    def __init__(self, stream: str):
        CParser.__init__(self, stream)
        _Constructor12.__init__(self)
        _Resolver12.__init__(self)


def parse_yaml(text: str, filename: str) -> Any:
    """Parse one YAML document; syntax errors become a located InputError."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - safe constructor subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and not exc.context.startswith("while "):
            problem = f"{exc.context}, {exc.problem}"  # "expected a single document in the stream, but found another document"
        prefix = "" if isinstance(exc, ConstructorError) else "YAML syntax error: "
        raise InputError([Diagnostic(where, prefix + problem)]) from None
    except ReaderError as exc:
        # libyaml reports a bad character by its byte offset in the UTF-8 text
        where = _byte_location(text.encode("utf-8", "surrogatepass"), exc.position, filename)
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise InputError([Diagnostic(where, f"YAML syntax error: character U+{character:04X}: {exc.reason}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Diagnostic(Location(filename, 1, 1), f"YAML error: {str(exc).splitlines()[0]}")]) from None
    except RecursionError:
        raise InputError([Diagnostic(Location(filename, 1, 1), "YAML error: the document is nested too deeply")]) from None


def _byte_location(data: bytes, offset: int, filename: str) -> Location:
    """``file:line:col`` (1-based, columns in characters) of a byte offset."""
    before = data[: max(offset, 0)]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", "replace"))
    return Location(filename, before.count(b"\n") + 1, column + 1)


def read_yaml(path: Path, display: str) -> Any:
    """Read and parse a YAML file named ``display`` in messages."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([Diagnostic(Location(display), f"cannot read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = _byte_location(data, exc.start, display)
        raise InputError([Diagnostic(where, f"not UTF-8 text: {exc.reason} (byte 0x{data[exc.start]:02x})")]) from None
    return parse_yaml(text.removeprefix("\ufeff"), display)


def position(container: Any, key: Any) -> tuple[int, int] | None:
    """Line and column of ``container[key]`` (a mapping key or list index), if known."""
    if isinstance(container, PosDict):
        found = container.key_pos.get(key)
        if found is None and isinstance(key, str):  # pydantic names a non-text key by its text
            found = next((pos for k, pos in container.key_pos.items() if str(k) == key), None)
        return found
    if isinstance(container, PosList) and isinstance(key, int) and 0 <= key < len(container.item_pos):
        return container.item_pos[key]
    return None


def locate(root: Any, path: tuple[Any, ...], filename: str) -> Location:
    """The most precise known location of the value at ``path`` under ``root``."""
    node = root
    best = (getattr(root, "line", None), getattr(root, "col", None))
    for step in path:
        pos = position(node, step)
        if pos is None:
            break
        best = pos
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return Location(filename, best[0], best[1])
