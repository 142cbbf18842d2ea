"""The sandboxed Jinja environment shared by rule messages and report templates.

Organisations supply both, so both render in Jinja's SandboxedEnvironment with
StrictUndefined: a typo is an error, and no template reaches Python internals.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, pass_context
from jinja2.filters import do_selectattr
from jinja2.runtime import Context
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


def names_for(ids: Any, names: Any) -> list[str]:
    """Ids as display names; a mitigator named by tag (``tag:capability``) reads "any capability service"."""
    return [f"any {i[4:]} service" if str(i).startswith("tag:") else str(names[i]) for i in ids]


def make_environment(**options: Any) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, **options)
    env.filters.update(pct=pct, num=num, months=months, join_and=join_and, names_for=names_for)
    return env


class Records(tuple):
    """Plain records (dicts) that message templates filter, with an index per attribute.

    Rule texts look a service up with ``services | selectattr("id", "equalto", x)``;
    with thousands of services and findings, scanning the list each time took
    most of an analysis. ``selectattr`` with an equality test answers from an
    index instead, with the same result and order.
    """

    def __new__(cls, items: Any = ()) -> Records:
        records = super().__new__(cls, items)
        records._index = {}
        return records

    def matching(self, attr: str, value: Any) -> list[Any] | None:
        """The records whose ``attr`` equals ``value``, in order; None if no index can answer."""
        index = self._index.get(attr, self)
        if index is self:
            index = {}
            try:
                for item in self:
                    if type(item) is not dict or attr not in item:  # Jinja decides (StrictUndefined raises)
                        index = None
                        break
                    index.setdefault(item[attr], []).append(item)
            except TypeError:  # an unhashable value
                index = None
            self._index[attr] = index
        return None if index is None else index.get(value, [])


_EQUALITY_TESTS = frozenset({"eq", "equalto", "=="})


@pass_context
def _selectattr(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
    """Jinja's ``selectattr``, answered from the index of ``Records`` for an equality test on a plain key."""
    if (type(value) is Records and len(args) == 3 and not kwargs and args[1] in _EQUALITY_TESTS
            and isinstance(args[0], str) and "." not in args[0] and not hasattr(dict, args[0])):
        try:
            found = value.matching(args[0], args[2])
        except Exception:  # e.g. an undefined or unhashable value: let Jinja report or compare it
            found = None
        if found is not None:
            return iter(found)
    return do_selectattr(context, value, *args, **kwargs)


MESSAGE_ENV = make_environment(autoescape=False)
MESSAGE_ENV.filters["selectattr"] = _selectattr
