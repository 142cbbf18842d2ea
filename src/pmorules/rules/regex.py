"""Patterns for ``matches``: a subset of Python's regular expressions, matched in linear time.

``matches`` is a whole-text match, as ``re.fullmatch``. The rule engine is not
asked to do it: durable_rules' own regex engine (``src/rules/regex.c``) reads
a different dialect (``%`` escapes, ``\\`` is a plain character, ``^`` and
``$`` are plain characters, ``(?i)`` is a group, ``{2,1000}`` is an error),
and it runs out of states, or crashes, on short patterns such as
``(.*[a-zA-Z0-9]){20}``. Python's ``re`` backtracks, so ``(a*)*b`` can take
forever on a 40-character value. So a pattern is parsed here into an automaton
that is simulated state set by state set: time linear in the value, for any
pattern. The compiler hands the engine the answer as a true/false field.

The subset reads exactly as in Python: characters, ``.`` (any character but a
line break), classes ``[a-z0-9_]`` and ``[^...]``, groups ``(...)``, ``|``,
``*``, ``+``, ``?``, ``{n}``, ``{n,}`` and ``{n,m}``, and ``\\`` before a
character that is not a letter or digit. Anchors (``^`` ``$``: the match is always whole),
``\\w`` and the like, ``(?...)`` groups, lazy or possessive repetition and
back-references are refused with a hint, as is a pattern whose automaton
would be larger than ``MAX_STATES``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

MAX_LENGTH = 500
MAX_REPEAT = 1000
MAX_STATES = 5000
MAX_GROUP_DEPTH = 32
_CACHE = 4096  # answers remembered per pattern (facts repeat values: statuses, terms, ids)
_STEPS = 20_000  # state-set transitions remembered per pattern (a lazily built deterministic automaton)

_REPEATS = "*+?{"
_HINTS = {
    "d": "write [0-9]", "w": "write [A-Za-z0-9_]", "s": "write a space, or [ \t]", "D": "write [^0-9]",
    "W": "write [^A-Za-z0-9_]", "S": "write [^ \t]", "b": "a pattern always matches the whole text; drop \\b",
    "A": "a pattern always matches the whole text; drop \\A", "Z": "a pattern always matches the whole text; drop \\Z",
}


class PatternError(ValueError):
    """A pattern outside the subset: what is wrong, and how to write it instead."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


# --- the syntax tree: ("chars", ranges, negated) | ("any",) | ("seq", parts) | ("alt", parts)
#     | ("repeat", part, low, high or None)


class _Parser:
    def __init__(self, pattern: str):
        self.pattern = pattern
        self.at = 0

    def peek(self) -> str:
        return self.pattern[self.at] if self.at < len(self.pattern) else ""

    def error(self, message: str, hint: str | None = None) -> PatternError:
        return PatternError(f"{message} at position {self.at + 1}", hint)

    def alternatives(self, depth: int) -> tuple:
        parts = [self.sequence(depth)]
        while self.peek() == "|":
            self.at += 1
            parts.append(self.sequence(depth))
        return parts[0] if len(parts) == 1 else ("alt", parts)

    def sequence(self, depth: int) -> tuple:
        parts = []
        while self.peek() not in ("", "|", ")"):
            parts.append(self.repeat(self.atom(depth)))
        return ("seq", parts)

    def atom(self, depth: int) -> tuple:
        char = self.peek()
        if char == "(":
            return self.group(depth)
        if char == "[":
            return self.char_class()
        if char == "\\":
            literal = self.escape()
            return ("chars", ((literal, literal),), False)
        if char in "^$":
            raise self.error(f"'{char}' is an anchor, and a pattern always matches the whole text",
                             "drop it (use .*word.* to find a word anywhere)")
        if char in _REPEATS:
            raise self.error(f"'{char}' repeats nothing", f"write \\{char} for the character")
        self.at += 1
        return ("any",) if char == "." else ("chars", ((char, char),), False)

    def group(self, depth: int) -> tuple:
        self.at += 1
        if self.peek() == "?":
            following = self.pattern[self.at + 1: self.at + 2]
            hint = {"i": "write both cases of each letter, e.g. [Rr]eport", ":": "use a plain group ( )"}.get(
                following, "lookarounds, flags and named groups are not supported"
            )
            raise self.error("'(?' groups are not supported", hint)
        if depth >= MAX_GROUP_DEPTH:
            raise self.error(f"groups nest more than {MAX_GROUP_DEPTH} deep")
        inner = self.alternatives(depth + 1)
        if self.peek() != ")":
            raise self.error("a '(' is not closed")
        self.at += 1
        return inner

    def escape(self) -> str:
        """The character a backslash escapes: only a special one (``\\w`` and the like are refused)."""
        self.at += 1
        char = self.peek()
        if not char:
            raise self.error("a pattern cannot end with '\\'")
        if char.isascii() and char.isalnum():  # Python gives these a meaning (\d, \n, \1); others are the character
            if char.isdigit():
                raise self.error(f"back-reference '\\{char}' is not supported")
            raise self.error(f"'\\{char}' is not supported", _HINTS.get(char, "write the character itself"))
        self.at += 1
        return char

    def repeat(self, part: tuple) -> tuple:
        char = self.peek()
        if not char or char not in _REPEATS:
            return part
        if char == "{":
            low, high = self.interval()
        else:
            self.at += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        if self.peek() and self.peek() in _REPEATS:
            raise self.error("a repetition cannot be repeated (lazy and possessive forms are not supported)",
                             "use one of * + ? {n,m} after each part")
        return ("repeat", part, low, high)

    def interval(self) -> tuple[int, int | None]:
        start = self.at
        end = self.pattern.find("}", start)
        body = self.pattern[start + 1: end] if end > 0 else ""
        low_text, comma, high_text = body.partition(",")
        if end < 0 or not low_text.isdigit() or not (high_text.isdigit() or high_text == ""):
            raise self.error("'{' must start a repetition such as {3} or {2,5}", "write \\{ for the character")
        if len(low_text) > 4 or len(high_text) > 4:
            raise self.error(f"the repetition {{{body}}} is larger than {MAX_REPEAT}")
        low = int(low_text)
        high = (int(high_text) if high_text else None) if comma else low
        if high is not None and high < low:
            raise self.error(f"the repetition {{{body}}} counts down")
        if max(low, high or 0) > MAX_REPEAT:
            raise self.error(f"the repetition {{{body}}} is larger than {MAX_REPEAT}")
        self.at = end + 1
        return low, high

    def char_class(self) -> tuple:
        self.at += 1
        negated = self.peek() == "^"
        if negated:
            self.at += 1
        ranges: list[tuple[str, str]] = []
        first = True
        while True:
            char = self.peek()
            if not char:
                raise self.error("a '[' is not closed")
            if char == "]" and not first:
                self.at += 1
                return ("chars", tuple(ranges), negated)
            first = False
            low = self.class_char()
            if self.peek() == "-" and self.pattern[self.at + 1: self.at + 2] not in ("]", ""):
                self.at += 1
                high = self.class_char()
                if high < low:
                    raise self.error(f"the range {low}-{high} is backwards")
                ranges.append((low, high))
            else:
                ranges.append((low, low))

    def class_char(self) -> str:
        char = self.peek()
        if char == "\\":
            return self.escape()
        if char == "[":  # Python reads [[ as a possible nested set (a FutureWarning): not the same everywhere
            raise self.error("a '[' inside a class", "write \\[ for the character")
        self.at += 1
        return char


# --- the automaton: state -> (test, next) edges and epsilon edges; test is ("any",) or ("chars", ...)


@dataclass
class _Automaton:
    tests: list[tuple | None] = field(default_factory=list)  # per state: the character test to leave it, or None
    nexts: list[int] = field(default_factory=list)  # per state: where a passed test leads
    empty: list[list[int]] = field(default_factory=list)  # per state: epsilon edges

    def state(self) -> int:
        if len(self.tests) >= MAX_STATES:
            raise PatternError(f"the pattern is too large (more than {MAX_STATES} states once its repetitions are expanded)",
                               "use smaller {n,m} repetitions")
        self.tests.append(None)
        self.nexts.append(-1)
        self.empty.append([])
        return len(self.tests) - 1

    def build(self, node: tuple, start: int) -> int:
        """Add ``node`` from ``start``; the state it ends in."""
        kind = node[0]
        if kind in ("chars", "any"):  # ``start`` tests no character yet (link() made sure)
            end = self.state()
            self.tests[start], self.nexts[start] = node, end
            return end
        if kind == "seq":
            for part in node[1]:
                start = self.link(start)
                start = self.build(part, start)
            return start
        if kind == "alt":
            end = self.state()
            for part in node[1]:
                branch = self.state()
                self.empty[start].append(branch)
                self.empty[self.build(part, branch)].append(end)
            return end
        _, part, low, high = node
        for _ in range(low):
            start = self.build(part, self.link(start))
        if high is None:  # a loop: any number more
            loop = self.link(start)
            end = self.state()
            self.empty[loop].append(end)
            self.empty[self.build(part, loop)].append(loop)
            return end
        end = self.state()
        for _ in range(high - low):  # each optional copy may be skipped to the end
            self.empty[start].append(end)
            start = self.build(part, self.link(start))
        self.empty[start].append(end)
        return end

    def link(self, state: int) -> int:
        """A state to build from: ``state`` itself unless it already tests a character."""
        if self.tests[state] is None:
            return state
        fresh = self.state()
        self.empty[state].append(fresh)
        return fresh


def _passes(test: tuple, char: str) -> bool:
    if test[0] == "any":
        return char != "\n"
    inside = any(low <= char <= high for low, high in test[1])
    return inside != test[2]


class Pattern:
    """A compiled ``matches`` pattern: ``fullmatch(text)`` in time linear in the text."""

    def __init__(self, text: str):
        if len(text) > MAX_LENGTH:
            raise PatternError(f"the pattern is {len(text)} characters long; at most {MAX_LENGTH}")
        parser = _Parser(text)
        tree = parser.alternatives(0)
        if parser.at < len(text):  # only an unmatched ')' stops the parser early
            raise PatternError(f"an unbalanced ')' at position {parser.at + 1}")
        self.text = text
        self._automaton = _Automaton()
        start = self._automaton.state()
        self._accept = self._automaton.build(tree, start)
        self._start = self._closure({start})
        self._steps: dict[tuple[frozenset[int], str], frozenset[int]] = {}
        self.fullmatch = functools.lru_cache(maxsize=_CACHE)(self._fullmatch)

    def _closure(self, states: set[int]) -> frozenset[int]:
        empty = self._automaton.empty
        todo, seen = list(states), set(states)
        while todo:
            for following in empty[todo.pop()]:
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        return frozenset(seen)

    def _step(self, current: frozenset[int], char: str) -> frozenset[int]:
        found = self._steps.get((current, char))
        if found is None:
            tests, nexts = self._automaton.tests, self._automaton.nexts
            found = self._closure({nexts[s] for s in current if tests[s] is not None and _passes(tests[s], char)})
            if len(self._steps) < _STEPS:
                self._steps[(current, char)] = found
        return found

    def _fullmatch(self, value: str) -> bool:
        current = self._start
        for char in value:
            current = self._step(current, char)
            if not current:
                return False
        return self._accept in current


@functools.lru_cache(maxsize=1024)
def compile_pattern(text: str) -> Pattern:
    """The pattern for ``text`` (shared within a process), or PatternError."""
    return Pattern(text)
