"""Read YAML 1.2 fast, remembering where every key and item came from.

libyaml (through PyYAML's C parser) does the parsing; a small constructor
gives YAML 1.2 core-schema scalars (``NO`` stays a string, ``012`` is 12),
refuses duplicate keys, and records the line and column of every mapping key
and sequence item, so errors and evidence can point at the exact place.

It also bounds what a small file can make the rest of the program do: numbers
follow the number policy (numbers.py), nesting stops at ``MAX_DEPTH`` levels,
and aliases may not expand a document beyond ``MAX_EXPANDED`` values (a
"billion laughs" file of a few hundred bytes would otherwise become 10⁹
values for the validators to walk).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.cyaml import CParser
from yaml.reader import ReaderError
from yaml.resolver import BaseResolver

from .errors import Diagnostic, InputError, Location
from .inputs import byte_location, decode_text, read_input
from .numbers import number_problem

MAX_DEPTH = 64  # the formats nest a dozen levels at most; deeper only exhausts recursion downstream
MAX_EXPANDED = 2_000_000  # values that aliases may add to a document
_MAX_INT_DIGITS = 18  # longer integers are out of range (numbers.MAX_MAGNITUDE) before being converted


class PosDict(dict):
    """A mapping with the 1-based position of itself and of each key."""

    __slots__ = ("line", "col", "key_pos")

    def __init__(self, line: int, col: int):
        super().__init__()
        self.line, self.col = line, col
        self.key_pos: dict[Any, tuple[int, int]] = {}


class PosList(list):
    """A sequence with the 1-based position of itself and of each item."""

    __slots__ = ("line", "col", "item_pos")

    def __init__(self, line: int, col: int):
        super().__init__()
        self.line, self.col = line, col
        self.item_pos: list[tuple[int, int]] = []


class _Resolver12(BaseResolver):
    """YAML 1.2 core schema: only true/false are booleans, no sexagesimals."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        # The same answers as BaseResolver.resolve with the resolvers below, without its
        # per-scalar list building and path-resolver checks (this runs for every node).
        if kind is yaml.ScalarNode:
            return _plain_tag(value) if implicit[0] else _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers are registered: nothing to track per node."""

    def ascend_resolver(self) -> None:
        """No path resolvers are registered: nothing to track per node."""


_STR, _SEQ, _MAP = BaseResolver.DEFAULT_SCALAR_TAG, BaseResolver.DEFAULT_SEQUENCE_TAG, BaseResolver.DEFAULT_MAPPING_TAG
_BOOL, _INT, _FLOAT, _NULL = (f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "null"))
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")


def _plain_tag(value: str) -> str:
    """The core-schema tag of a plain (unquoted, untagged) scalar."""
    if not value:
        return _NULL
    first = value[0]
    if first in "-+0123456789.":
        if _INT_RE.match(value):
            return _INT
        if _FLOAT_RE.match(value):
            return _FLOAT
    elif first in "tTfF":
        if _BOOL_RE.match(value):
            return _BOOL
    elif first in "~nN" and _NULL_RE.match(value):
        return _NULL
    return _STR


for _tag, _regexp, _first in (
    (_BOOL, _BOOL_RE, list("tTfF")),
    (_INT, _INT_RE, list("-+0123456789")),
    (_FLOAT, _FLOAT_RE, list("-+0123456789.")),
    (_NULL, _NULL_RE, ["~", "n", "N", ""]),
):  # registered too, so the resolver stays complete for any code that reads the table
    _Resolver12.add_implicit_resolver(_tag, _regexp, _first)


class _Constructor12(SafeConstructor):
    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node)  # an explicit !!int on a mapping or sequence: a ConstructorError
        digits = text.lstrip("+-")
        if len(digits) > _MAX_INT_DIGITS and digits.isdigit():
            raise ConstructorError(None, None, number_problem(float("inf"), text[:12] + "…"), node.start_mark)
        try:
            if text.startswith("0o"):
                value = int(text[2:], 8)
            elif text.startswith("0x"):
                value = int(text[2:], 16)
            else:
                value = int(text)
        except ValueError:  # only an explicit !!int tag on a non-number gets here
            raise ConstructorError(None, None, f"{text!r} is not an integer", node.start_mark) from None
        return self._checked(value, text, node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        written = self.construct_scalar(node)
        text = written.lower()
        if text.endswith(".inf"):
            value = float("-inf") if text.startswith("-") else float("inf")
        elif text == ".nan":
            value = float("nan")
        else:
            try:
                value = float(text)
            except ValueError:  # only an explicit !!float tag on a non-number gets here
                raise ConstructorError(None, None, f"{node.value!r} is not a number", node.start_mark) from None
        return self._checked(value, written, node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError):
            # PyYAML's own constructors fail this way on some explicitly tagged values (!!timestamp x)
            tag = node.tag.rpartition(":")[2] if node.tag.startswith("tag:yaml.org,2002:") else node.tag
            raise ConstructorError(None, None, f"cannot read this value as !!{tag}", node.start_mark) from None

    def _value(self, node: yaml.Node) -> Any:
        """Construct a child node; plain core-schema scalars take a fast path (most nodes are these)."""
        if node.__class__ is yaml.ScalarNode:
            tag = node.tag
            if tag == _STR:
                return node.value
            if tag == _INT:
                return self.construct_yaml_int(node)
            if tag == _NULL:
                return None
            if tag == _FLOAT:
                return self.construct_yaml_float(node)
        return self.construct_object(node, deep=True)

    deferred: list[ConstructorError]  # errors read on past, reported together at the end (``_Several``)

    def _checked(self, value: int | float, text: str, node: yaml.Node) -> int | float | None:
        """The number, if it follows the number policy; else None, and a located error kept for the end."""
        problem = number_problem(value, text if len(text) <= 40 else text[:39] + "…")
        if problem is not None:
            self.deferred.append(ConstructorError(None, None, problem, node.start_mark))
            return None
        return value

    def _duplicate(self, key: Any, first: tuple[int, int], mark: Any) -> None:
        """A key given twice: kept for the end; the first value stays."""
        self.deferred.append(ConstructorError(None, None, f"duplicate key {key!r} (first defined at line {first[0]})", mark))

    def _expect(self, node: yaml.Node, kind: type, what: str) -> None:
        if not isinstance(node, kind):  # an explicit !!map or !!seq tag on the wrong kind of node
            raise ConstructorError(None, None, f"expected {what}, but found {node.id}", node.start_mark)

    def construct_yaml_map(self, node: yaml.MappingNode):
        self._expect(node, yaml.MappingNode, "a mapping")
        mapping = PosDict(node.start_mark.line + 1, node.start_mark.column + 1)
        yield mapping
        key_pos = mapping.key_pos
        for key_node, value_node in node.value:
            refused = len(self.deferred)
            key = self._value(key_node)
            if len(self.deferred) > refused:  # a key the number policy refused: reported, and left out
                continue
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark)
            mark = key_node.start_mark
            if key in mapping:
                self._duplicate(key, key_pos[key], mark)
                continue
            mapping[key] = self._value(value_node)
            key_pos[key] = (mark.line + 1, mark.column + 1)

    def construct_yaml_seq(self, node: yaml.SequenceNode):
        self._expect(node, yaml.SequenceNode, "a sequence")
        items = PosList(node.start_mark.line + 1, node.start_mark.column + 1)
        yield items
        append, positions = items.append, items.item_pos.append
        for child in node.value:
            append(self._value(child))
            mark = child.start_mark
            positions((mark.line + 1, mark.column + 1))


class _Several(Exception):
    """The errors a document was read on past (numbers the policy refuses, duplicate keys), all at once."""

    def __init__(self, errors: list[ConstructorError]):
        super().__init__(errors)
        self.errors = errors


_Constructor12.add_constructor(_INT, _Constructor12.construct_yaml_int)
_Constructor12.add_constructor(_FLOAT, _Constructor12.construct_yaml_float)
_Constructor12.add_constructor(_MAP, _Constructor12.construct_yaml_map)
_Constructor12.add_constructor(_SEQ, _Constructor12.construct_yaml_seq)


class _Loader(CParser, _Constructor12, _Resolver12):
    def __init__(self, stream: str):
        CParser.__init__(self, stream)
        _Constructor12.__init__(self)
        _Resolver12.__init__(self)
        self.deferred = []

    def load_document(self) -> Any:
        """The one document of the stream, built directly from libyaml's nodes.

        The same values as ``yaml.load`` with this loader's constructors (a test
        checks that), without the constructor's generator and bookkeeping per
        node: plain mappings, sequences and core-schema scalars are built here;
        anything explicitly tagged otherwise goes to the constructors.
        """
        node = self.get_single_node()
        if node is None:
            return None
        built: dict[int, Any] = {}  # id(node) -> value: aliases share one value, as in PyYAML
        scalar, mapping_node, sequence_node = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
        expanded = _Expansion()

        def build(node: yaml.Node, depth: int) -> Any:
            kind, tag = node.__class__, node.tag
            if kind is scalar:
                if tag == _STR:
                    return node.value
                return self._value(node)
            key = id(node)
            if key in built:
                value = built[key]
                if value is _BUILDING:
                    raise ConstructorError(None, None, "found unconstructable recursive node", node.start_mark)
                expanded.alias(node, MAX_DEPTH - depth + 1)
                return value
            mark = node.start_mark
            if depth > MAX_DEPTH:
                raise ConstructorError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            depth += 1
            if kind is mapping_node and tag == _MAP:
                built[key] = _BUILDING
                value = PosDict(mark.line + 1, mark.column + 1)
                key_pos = value.key_pos
                for key_node, value_node in node.value:
                    refused = len(self.deferred)
                    item = build(key_node, depth)
                    if len(self.deferred) > refused:  # a key the number policy refused: reported, and left out
                        continue
                    key_mark = key_node.start_mark
                    if not isinstance(item, (str, int, float, bool)) and item is not None:
                        raise ConstructorError(None, None, "a mapping key must be a plain value", key_mark)
                    if item in value:
                        self._duplicate(item, key_pos[item], key_mark)
                        continue
                    value[item] = build(value_node, depth)
                    key_pos[item] = (key_mark.line + 1, key_mark.column + 1)
            elif kind is sequence_node and tag == _SEQ:
                built[key] = _BUILDING
                value = PosList(mark.line + 1, mark.column + 1)
                append, positions = value.append, value.item_pos.append
                for child in node.value:
                    append(build(child, depth))
                    child_mark = child.start_mark
                    positions((child_mark.line + 1, child_mark.column + 1))
            else:
                value = self.construct_object(node, deep=True)
            built[key] = value
            return value

        try:
            return build(node, 1)
        finally:  # ``build`` calls itself through its closure, a reference cycle: it must not hold the document
            built.clear()


_BUILDING = object()


class _Expansion:
    """What aliases add to a document, counted as if every alias were a copy: values, and depth."""

    def __init__(self) -> None:
        self.total = 0
        self.known: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels) once expanded

    def alias(self, node: yaml.Node, levels: int) -> None:
        """An alias of ``node`` used where ``levels`` more levels of nesting are allowed."""
        size, _ = self._measure(node, levels, node.start_mark)
        self.total += size
        if self.total > MAX_EXPANDED:
            raise ConstructorError(
                None, None, f"aliases of this anchor expand the document beyond {MAX_EXPANDED:,} values", node.start_mark
            )

    def _measure(self, node: yaml.Node, levels: int, mark: Any) -> tuple[int, int]:
        if isinstance(node, yaml.ScalarNode):
            return 1, 0
        if levels <= 0:
            raise ConstructorError(None, None, f"aliases of this anchor nest the document more than {MAX_DEPTH} levels deep", mark)
        key = id(node)
        if key not in self.known:
            self.known[key] = (0, 0)  # a recursive alias is refused by the builder
            children = [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else node.value
            size, height = 1, 0
            for child in children:
                child_size, child_height = self._measure(child, levels - 1, mark)
                size, height = min(size + child_size, MAX_EXPANDED + 1), max(height, child_height + 1)
            self.known[key] = (size, height)
        size, height = self.known[key]
        if height >= levels:
            raise ConstructorError(None, None, f"aliases of this anchor nest the document more than {MAX_DEPTH} levels deep", mark)
        return size, height


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        value = loader.load_document()
    finally:
        loader.dispose()
    if loader.deferred:
        raise _Several(loader.deferred)
    return value


def _diagnostic(exc: yaml.MarkedYAMLError, filename: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    where = Location(filename, mark.line + 1, mark.column + 1) if mark else Location(filename)
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and not exc.context.startswith("while "):
        problem = f"{exc.context}, {exc.problem}"  # "expected a single document in the stream, but found another document"
    elif exc.context and exc.context_mark and exc.context_mark.line != mark.line and "tab" not in problem:
        problem = f"{exc.problem} ({exc.context} started at line {exc.context_mark.line + 1})"
    prefix = "" if isinstance(exc, ConstructorError) else "YAML syntax error: "
    return Diagnostic(where, prefix + problem)


def parse_yaml(text: str, filename: str) -> Any:
    """Parse one YAML document; syntax errors become a located InputError."""
    try:
        return _load(text)
    except _Several as exc:
        raise InputError([_diagnostic(error, filename) for error in exc.errors]) from None
    except yaml.MarkedYAMLError as exc:
        raise InputError([_diagnostic(exc, filename)]) from None
    except ReaderError as exc:
        # libyaml reports a bad character by its byte offset in the UTF-8 text
        where = byte_location(text.encode("utf-8", "surrogatepass"), exc.position, filename)
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise InputError([Diagnostic(where, f"YAML syntax error: character U+{character:04X}: {exc.reason}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Diagnostic(Location(filename, 1, 1), f"YAML error: {str(exc).splitlines()[0]}")]) from None
    except RecursionError:
        raise InputError([Diagnostic(Location(filename, 1, 1), "YAML error: the document is nested too deeply")]) from None


def long_list(text: str, limit: int, keys: Collection[str] | None = None) -> tuple[str, int, int] | None:
    """The first top-level key (of ``keys``, when given) whose list holds more than ``limit`` items, with the
    line and column of its item ``limit + 1``; None if there is none (or the text is not a mapping, or not
    YAML: the parse says why). Only the lists of ``keys`` are counted: a long list of another key before them
    does not hide theirs.

    It streams libyaml's events, several times cheaper than building the document, so a file of a
    million items is refused before the work of building it.
    """
    parser = CParser(text)
    depth, key, items, expect_key, counting = 0, None, 0, True, False
    try:
        while parser.check_event():
            event = parser.get_event()
            starts = isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent))
            ends = isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent))
            if depth == 1 and not ends:  # in the top-level mapping: keys and their values alternate
                if expect_key:  # a new key: what was counted belonged to the value before it
                    key = event.value if isinstance(event, yaml.ScalarEvent) else None
                    counting = False
                else:
                    counting = (key is not None and (keys is None or key in keys)
                                and isinstance(event, yaml.SequenceStartEvent))
                    items = 0
                expect_key = not expect_key
            elif depth == 2 and counting and not ends:  # an item of a top-level list
                items += 1
                if items > limit:
                    return str(key), event.start_mark.line + 1, event.start_mark.column + 1
            depth += starts - ends
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return None


def read_yaml(path: Path, display: str, inside: Path | None = None) -> Any:
    """Read and parse a YAML file named ``display`` in messages (within ``inside``, when given)."""
    return parse_yaml(decode_text(read_input(path, display, inside), display), display)


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
    line, col = getattr(root, "line", 1), getattr(root, "col", 1)  # a scalar document: the document's start
    for step in path:  # position() inlined: this runs for every field of every item
        kind = node.__class__
        if kind is PosDict:
            pos = node.key_pos.get(step)
            if pos is None:
                pos = position(node, step)
                if pos is None:
                    break
                line, col = pos
                break  # a key found by its text only: stop at it
            line, col = pos
            node = node[step]
        elif kind is PosList and step.__class__ is int and 0 <= step < len(node.item_pos):
            line, col = node.item_pos[step]
            node = node[step]
        else:
            break
    return Location(filename, line, col)


class Dumper(yaml.SafeDumper):
    """Writes YAML the workspace reads back as written: PyYAML quotes a text that YAML 1.1 would read as
    something else, but writes ``1e3`` or ``0o17`` plain, which the YAML 1.2 core schema reads as numbers.
    Every value is written in full (no anchors and aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_YAML_BREAKS = ("\x85", "\u2028", "\u2029")  # line breaks to YAML beside \n and \r: written raw, read as a space


def _represent_text(dumper: Dumper, value: str) -> yaml.ScalarNode:
    if _plain_tag(value) != _STR or any(mark in value for mark in _YAML_BREAKS):
        return dumper.represent_scalar(_STR, value, style='"')  # double quotes escape them (\N, \L, \P)
    return dumper.represent_str(value)


Dumper.add_representer(str, _represent_text)


def dump_yaml(value: Any, **options: Any) -> str:
    """YAML text of ``value`` that ``parse_yaml`` reads back as ``value``."""
    return yaml.dump(value, Dumper=Dumper, sort_keys=False, allow_unicode=True, **options)
