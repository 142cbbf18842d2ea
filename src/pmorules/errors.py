"""Located input errors: every mistake in a user's file, reported at once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def _sort_key(*values: object) -> tuple:
    """A total order over values that may be None (None sorts first)."""
    return tuple((value is not None, value if value is not None else 0) for value in values)


@dataclass(frozen=True)
class Location:
    """Where a value came from: ``file:line:col``, ``file:row`` (CSV) or ``file!Sheet!C7`` (XLSX)."""

    file: str
    line: int | None = None
    col: int | None = None
    cell: str | None = None

    def __str__(self) -> str:
        if self.cell:
            return f"{self.file}!{self.cell}"
        if self.line is None:
            return self.file
        if self.col is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.col}"

    def _key(self) -> tuple:
        cell: tuple = ()
        if self.cell:  # Sheet!C7: by sheet, then row, then column (A2 before A10)
            sheet, _, ref = self.cell.rpartition("!")
            match = re.fullmatch(r"([A-Z]+)([0-9]+)", ref)
            letters, row = (match.group(1), int(match.group(2))) if match else (ref, 0)
            cell = (sheet, row, len(letters), letters)
        return (self.file, *_sort_key(self.line, self.col), cell)

    def __lt__(self, other: Location) -> bool:
        # dataclass(order=True) would compare None with int and raise TypeError
        # when a file-level and a line-level location of one file meet.
        return self._key() < other._key()

    def short(self) -> str:
        """``file:line`` for evidence lists, where columns are noise."""
        if self.cell or self.line is None:
            return str(self)
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one place, with an optional hint on how to fix it."""

    location: Location
    message: str
    hint: str | None = None

    def __lt__(self, other: Diagnostic) -> bool:
        return (self.location._key(), self.message, *_sort_key(self.hint)) < (
            other.location._key(), other.message, *_sort_key(other.hint)
        )

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


@dataclass
class InputError(Exception):
    """Bad input: knowledge, rule, config or template files. Exit code 2, never a traceback."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(str(d) for d in sorted(set(self.diagnostics)))

    def __str__(self) -> str:
        return self.render()


def plain_message(message: str, mapping: str) -> str:
    """A pydantic message in the words of the person who wrote the file: no "Input", no model's class name
    (``mapping``: what a table or mapping is called in that file's format)."""
    for said in ("Input should", "String should", "List should"):
        message = message.replace(said, "should")
    message = message.replace("Value error, ", "").replace("should have at least 1 character", "should not be empty")
    return re.sub(r"a valid dictionary( or instance of \w+)?", mapping, message)


def _one_edit_apart(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one character inserted, deleted, replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):  # one insertion
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:  # one replacement
        return True
    swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i]
    return swapped and a[i + 2 :] == b[i + 2 :]


def did_you_mean(wanted: str, known: list[str] | set[str] | frozenset[str]) -> str | None:
    """A close known id for a hint, or None.

    A single known id one edit away (a typo: ``exce`` → ``exec``, ``O62`` → ``O26``)
    wins; otherwise the closest by difflib's similarity, if close enough.
    """
    import difflib

    lowered = {k.lower(): k for k in known}
    target = wanted.lower()
    near = [k for k in lowered if _one_edit_apart(target, k)]
    if len(near) == 1:
        return f"did you mean {lowered[near[0]]!r}?"
    match = difflib.get_close_matches(target, list(lowered), n=1, cutoff=0.6)
    return f"did you mean {lowered[match[0]]!r}?" if match else None
