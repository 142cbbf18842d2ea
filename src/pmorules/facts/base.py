"""Facts and the registry of fact types: each type's fields sit beside the function that derives it.

A fact is a flat record of neutral measurements (shares, months, counts, paths
found) that rules test. Facts never carry a verdict: ``share_short: 0.38`` yes,
``too_short_term: true`` no. The rule compiler refuses a rule that reads a field
not declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .derivation import Derivation


@dataclass
class Fact:
    """One neutral record: ``type``, a join ``key``, fields, where each field came from, and the graph path behind it."""

    type: str
    key: str
    fields: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)  # graph path behind the fact, as node ids
    words: dict[str, str] = field(default_factory=dict)  # a derived field explained in words, for `why --not`

    @property
    def label(self) -> str:
        return f"{self.type}:{self.key}"


Deriver = Callable[["Derivation"], Iterable[Fact]]


@dataclass(frozen=True)
class FactType:
    """A kind of fact: what one stands for, its fields (type and description), and how facts of it are derived."""

    name: str
    doc: str
    fields: dict[str, tuple[type, str]]
    derive: Deriver
    about_mix: bool  # facts about the mix as a whole: `why mix --not RULE` looks at them
    title: str  # one fact in words, a format string over its key and fields (ids read as names in `why`)


REGISTRY: dict[str, FactType] = {}


def fact_type(name: str, doc: str, fields: dict[str, tuple[type, str]], about_mix: bool = False,
              title: str = "{key}") -> Callable[[Deriver], Deriver]:
    """Register the decorated function as the deriver of fact type ``name``."""
    def register(derive: Deriver) -> Deriver:
        REGISTRY[name] = FactType(name, doc, fields, derive, about_mix, title)
        return derive
    return register
