"""The sandboxed Jinja environment shared by rule messages and report templates.

Organisations supply both, so both render in Jinja's SandboxedEnvironment with
StrictUndefined: a typo is an error, and no template reaches Python internals.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment


def pct(value: Any, digits: int = 0) -> str:
    """0.384 → '38%'."""
    if value is None:
        return "n/a"
    return f"{float(value) * 100:.{digits}f}%"


def num(value: Any, digits: int = 2) -> str:
    """A number without trailing zeros: 3.0 → '3', 0.25 → '0.25'."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def months(value: Any) -> str:
    """6 → '6 months', 1 → '1 month'."""
    if value is None:
        return "n/a"
    text = num(value, 1)
    return f"{text} month" if text == "1" else f"{text} months"


def join_and(items: Any) -> str:
    """['a', 'b', 'c'] → 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def make_environment(**options: Any) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, **options)
    env.filters.update(pct=pct, num=num, months=months, join_and=join_and)
    return env


MESSAGE_ENV = make_environment(autoescape=False)
