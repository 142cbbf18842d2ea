"""The sandboxed Jinja environment shared by rule messages and report templates, with bounds.

Organisations supply both, so both render in Jinja's SandboxedEnvironment with
StrictUndefined: a typo is an error, and no template reaches Python internals.

Jinja's sandbox guards attributes, not resources: ``{{ 9**(9**9) }}``,
``{{ 'x' * 10**10 }}``, ``{{ lipsum(10**8) }}`` or two nested
``range(100000)`` loops would run for hours or exhaust memory. Here every
render has a budget (``Limits``): loop iterations and calls, characters of
output (counted wherever output goes, macro and ``set`` blocks included),
seconds, and the size of any one value a template builds (a string, a list,
an integer's digits), checked before an operation that could exceed it runs.
Exceeding it is a ``LimitError``, a template error like any other.
``lipsum`` is not offered (nothing in a report needs placeholder text).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, TemplateError, TemplateRuntimeError, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import do_selectattr
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .dates import date_after, long_date


def pct(value: Any, digits: int = 0) -> str:
    """0.384 → '38%'."""
    if value is None:
        return "n/a"
    return f"{float(value) * 100:.{digits}f}%"


def pct_exact(value: Any) -> str:
    """0.798 → '79.8%', 0.7 → '70%', 0.7996 → '79.96%': one decimal as the rule texts give it, and a second
    where one would round onto a whole percent the value is not, so a value just below a threshold never
    reads as the threshold."""
    if value is None:
        return "n/a"
    percent = float(value) * 100
    text = num(percent, 1)
    for digits in range(2, 7):  # 49.9999 is not 50 either: as many digits as it takes, up to six
        if "." in text or abs(percent - float(text)) <= 1e-9:
            break
        text = num(percent, digits)
    return f"{text}%"


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


def date(value: Any) -> str:
    """'2026-03-20' → '20 March 2026'."""
    if value is None:
        return "n/a"
    return long_date(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))


@pass_context
def when(context: Context, value: Any) -> str:
    """Months from the evaluation date as the date they fall on ('22 June 2026'); 'month 3' where the text
    is rendered without a date (a rule's test case)."""
    if value is None:
        return "n/a"
    today = context.get("today")
    if not today:
        return f"month {num(value, 1)}"
    return long_date(date_after(dt.date.fromisoformat(str(today)), float(value)))


@pass_context
def effort(context: Context, value: Any) -> str:
    """An effort as a committee reads it: '12%' of a capacity of 100, '12% (0.72 FTE)' with the headcount, '12 of
    40' in another unit; the bare number where the text is rendered without a workspace (a rule's test case)."""
    if value is None:
        return "n/a"
    capacity = context.get("capacity") or {}
    total, fte = capacity.get("effort"), capacity.get("fte")
    if not total:
        return num(value)
    shown = f"{num(value, 1)}%" if total == 100 else f"{num(value)} of {num(total)}"
    return shown + (f" ({num(float(value) / total * fte, 2)} FTE)" if fte else "")


UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # never sent raw
_CONTROLS_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|"} | {"<": "&lt;", ">": "&gt;", "\n": " ", "\r": " "})
_MD_ANY_SPECIAL = re.compile(r"[\\`*_\[\]|<>\n\r]")  # most names and numbers have none: translate only those that do
_MD_LINE_START = re.compile(r"^([-+#]|[0-9]+)([.)]?)(?=\s|$)")


def printable(value: Any, lines: bool = False) -> str:
    """Text that cannot steer a terminal: control characters (escape sequences, bells, line breaks unless
    ``lines``) and bidirectional overrides are shown as escapes (``\\x1b``), not sent."""
    pattern = _CONTROLS_BUT_LINES if lines else UNPRINTABLE
    return pattern.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), str(value))


def markdown_text(value: Any) -> str:
    """Text made inert in Markdown, on one line: emphasis, code, links, tables and HTML are escaped, and so is
    a heading or list marker at its start."""
    text = str(value)
    text = printable(text.translate(_MD_SPECIAL) if _MD_ANY_SPECIAL.search(text) else text)
    return _MD_LINE_START.sub(_inert_marker, text, count=1)


def _inert_marker(match: re.Match[str]) -> str:
    """``- x``, ``# x`` or ``12. x`` at the start would make a list or heading: escape the marker."""
    marker, dot = match.groups()
    if dot:
        return f"{marker}\\{dot}"
    return f"\\{marker}" if marker in "-+#" else marker


def count_noun(count: int, noun: str) -> str:
    """``1 file``, ``3 files``: a count with its noun, plural by an s."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def join_and(items: Any) -> str:
    """['a', 'b', 'c'] → 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class Limits:
    """What one render may use (or, for a budget shared by several renders, all of them together)."""

    operations: int  # loop iterations, calls and filters
    output: int  # characters written by output statements, wherever they go
    built: int  # characters and items of all the values operations build (work, and what a join can hold)
    seconds: float
    size: int = 1_000_000  # characters of one string, items of one list


MESSAGE_LIMITS = Limits(operations=1_000_000, output=5_000_000, built=20_000_000, seconds=10)  # a rule text, per analysis
MESSAGE_EACH = Limits(operations=5_000, output=5_000, built=50_000, seconds=0.002)  # ... plus this much per finding
REPORT_LIMITS = Limits(operations=5_000_000, output=200_000_000, built=200_000_000, seconds=120, size=50_000_000)
_INT_DIGITS = 4000  # Python refuses to print longer integers anyway
_INT_BITS = int(_INT_DIGITS * math.log2(10))


class LimitError(SecurityError):
    """A template went beyond its budget."""


class _Caps:
    """What a budget allows so far (``Limits`` that grow in place: a rule text renders tens of thousands of times)."""

    __slots__ = ("operations", "output", "built", "seconds")

    def __init__(self, limits: Limits):
        self.operations, self.output, self.built, self.seconds = limits.operations, limits.output, limits.built, limits.seconds


class Budget:
    """What is left of some ``Limits``; renders run under one with ``spending``.

    A budget shared by many renders (a rule text over an analysis) may also grow by ``each`` per render:
    the renders together may use the larger of ``limits`` and ``each`` times their number, so a rule that
    fires once per service scales with the workspace, while one render still cannot multiply its cost.
    """

    def __init__(self, limits: Limits, each: Limits | None = None):
        self.limits, self.each = limits, each
        self.renders = 0
        self.operations = 0
        self.output = 0
        self.built = 0
        self.seconds = 0.0
        self._since: float | None = None
        self.caps = _Caps(limits)
        self._fixed_for = math.inf if each is None else min(  # renders before any cap grows
            limits.operations // each.operations, limits.output // each.output, limits.built // each.built,
            int(limits.seconds / each.seconds))

    def grant(self) -> None:
        """One more render: with ``each``, the caps grow with the number of renders (once ``each`` times their
        number passes ``limits``)."""
        self.renders += 1
        if self.renders > self._fixed_for:
            limits, each, n, caps = self.limits, self.each, self.renders, self.caps
            caps.operations, caps.output = max(limits.operations, n * each.operations), max(limits.output, n * each.output)
            caps.built, caps.seconds = max(limits.built, n * each.built), max(limits.seconds, n * each.seconds)

    def tick(self) -> None:
        self.operations += 1
        if self.operations > self.caps.operations:
            raise LimitError(f"the template runs more than {self.caps.operations:,} loop steps, calls and filters")
        if self.operations % 256 == 0 and self._since is not None:
            if self.seconds + time.monotonic() - self._since > self.caps.seconds:
                raise LimitError(f"the template takes more than {self.caps.seconds:g} seconds")

    def build(self, value: Any) -> Any:
        """``value``, if it is not larger than a template may build, counted toward what it built."""
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > _INT_BITS:
                raise LimitError(f"the template builds an integer of more than {_INT_DIGITS:,} digits")
        elif isinstance(value, (str, list, tuple, dict, set, frozenset)):
            self.check_size(value)
            self.built += len(value)
            if self.built > self.caps.built:
                raise LimitError(f"the template builds more than {self.caps.built:,} characters and items in all")
        return value

    def check_size(self, value: Any) -> None:
        if len(value) > self.limits.size:
            raise LimitError(f"the template builds a value of more than {self.limits.size:,} characters or items")


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("pmorules_template_budget", default=None)


@contextmanager
def spending(budget: Budget) -> Iterator[Budget]:
    """Run renders under ``budget`` (its clock runs only while they do)."""
    token = _budget.set(budget)
    budget._since = time.monotonic()
    try:
        yield budget
    finally:
        budget.seconds += time.monotonic() - budget._since
        budget._since = None
        _budget.reset(token)


def _current() -> Budget:
    budget = _budget.get()
    if budget is None:  # a template run other than through render() (generate, stream)
        raise LimitError("templates render through render() only")
    return budget


class _BoundedTemplate(Template):
    """A template that renders under the current budget, or a fresh one of its environment's limits."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        if _budget.get() is not None:
            return self._render(*args, **kwargs)
        with spending(Budget(self.environment.limits)):  # type: ignore[attr-defined]
            return self._render(*args, **kwargs)

    def render_vars(self, variables: dict[str, Any]) -> str:
        """Render with ``variables`` as given, which must hold the environment's globals: ``render`` copies its
        arguments and the globals into a new dict each time, half the cost of a short rule text, which renders
        three times per finding, tens of thousands of times. The template cannot change ``variables``."""
        return self._render(variables, shared=True)

    def _render(self, *args: Any, shared: bool = False, **kwargs: Any) -> str:
        try:
            if shared:
                return self.environment.concat(self.root_render_func(self.new_context(args[0], shared=True)))
            return super().render(*args, **kwargs)
        except RecursionError as exc:  # the traceback stays: it names the template line
            raise LimitError("templates call themselves too deeply (a macro or include that never ends)").with_traceback(
                exc.__traceback__) from None
        except MemoryError as exc:
            raise LimitError("the template needs more memory than there is").with_traceback(exc.__traceback__) from None
        except (TemplateError, TypeError, ValueError, ArithmeticError):
            raise
        except Exception as exc:  # e.g. AttributeError from a filter given the wrong kind of value: the template's error
            raise TemplateRuntimeError(f"{type(exc).__name__}: {exc}").with_traceback(exc.__traceback__) from None


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with budget checks where a template loops, joins or writes."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not node.recursive:  # a recursive loop calls loop(), which is a counted call
            node.iter = nodes.Call(nodes.EnvironmentAttribute("counted"), [node.iter], [], None, None).set_lineno(
                node.iter.lineno
            )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.built(")
        super().visit_Concat(node, frame)
        self.write(")")

    def _output_const_repr(self, group: Any) -> str:
        return f"environment.written({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.written(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")


DICT_ATTRIBUTES = frozenset(dir(dict))
_LOOP_VALUES = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
                          "previtem", "nextitem"})


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox with a budget per render (see the module's docstring). Immutable: a rule text or template
    cannot change a list or map it is given (``names.update(...)``), which other findings and the report share."""

    code_generator_class = _BoundedCodeGenerator
    template_class = _BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, limits: Limits, **options: Any):
        super().__init__(**options)
        self.limits = limits
        self.globals.pop("lipsum", None)
        self.filters = {name: _checked_filter(name, function) for name, function in self.filters.items()}

    def make_globals(self, d: Any) -> dict[str, Any]:
        """A template's globals as a plain dict, not Jinja's ChainMap over the environment's: every render copies
        them, and copying a ChainMap was a tenth of rendering a rule's message. Nothing sets a global later."""
        return {**self.globals, **(d or {})}

    def counted(self, items: Any) -> Iterator[Any]:
        budget = _current()
        for item in items:
            budget.tick()
            yield item

    def built(self, value: Any) -> Any:
        return _current().build(value)

    def written(self, text: Any) -> Any:
        budget = _budget.get() or _current()  # inline: a rule text writes a dozen pieces per render
        budget.output += len(text) if isinstance(text, str) else len(str(text))  # Markup is a str: no copy
        if budget.output > budget.caps.output:
            raise LimitError(f"the template writes more than {budget.caps.output:,} characters")
        return text

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``x.name`` on a plain dict (a fact, a service) without the exception Jinja's lookup raises first: a
        name that is not one of dict's own attributes can only be a key, as in Jinja's order. ``loop.last``
        without the sandbox's checks, which pass every public attribute of a loop (they hold numbers and
        items). Rule texts read a hundred thousand of each at 10,000 services."""
        kind = type(obj)
        if kind is dict and attribute not in DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        if kind is LoopContext and attribute in _LOOP_VALUES:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's names
        budget = _current()
        budget.tick()
        _check_method(__obj, args, kwargs, budget.limits.size)
        result = budget.build(super().call(__context, __obj, *args, **kwargs))
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, (list, dict, set)):  # list.extend and the like grow their owner in place
            budget.check_size(owner)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = _current()
        _check_binop(operator, left, right, budget.limits.size)
        return budget.build(super().call_binop(context, operator, left, right))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_binop(operator: str, left: Any, right: Any, size: int) -> None:
    """Refuse an operation whose result would be too large, before it runs."""
    if operator == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
        if right * math.log10(abs(left)) > _INT_DIGITS:
            raise LimitError(f"{left} ** {right} would have more than {_INT_DIGITS:,} digits")
    elif operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, (str, list, tuple)) and _is_int(times) and len(sequence) * max(times, 0) > size:
                raise LimitError(f"repeating a value {times:,} times would make it longer than {size:,}")
        if _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > _INT_BITS:
            raise LimitError(f"the product would have more than {_INT_DIGITS:,} digits")
    elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        if len(left) + len(right) > size:
            raise LimitError(f"joining these values would make one longer than {size:,}")
    elif operator == "%" and isinstance(left, str):
        _check_printf(left, size)


_PRINTF_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_NUMBER = re.compile(r"\d+")
_NESTED_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\{")
_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}


def _check_printf(template: str, size: int) -> None:
    """printf-style widths and precisions (``'%099999999d' % 1``) are bounded; ``*`` widths are refused."""
    for match in _PRINTF_WIDTH.finditer(template):
        for number in match.groups():
            if number == "*":
                raise LimitError("a '*' width in a format is not supported")
            if number and (len(number) > 12 or int(number) > size):
                raise LimitError(f"a format width of {number} is larger than {size:,}")


def _check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any], size: int) -> None:
    """Refuse a call of a text method whose result would be too large, before it runs."""
    method = getattr(method, "__wrapped__", method)  # str.format comes wrapped by the sandbox
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if not isinstance(owner, str):
        return
    if name in _WIDTH_METHODS and any(_is_int(n) and n > size for n in (*args, *kwargs.values())):
        raise LimitError(f"str.{name} with a width larger than {size:,}")
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        _check_replace(owner, args[0], args[1], size)
    if name in ("format", "format_map"):
        if _NESTED_FORMAT.search(owner):
            raise LimitError("nested fields in a format are not supported")
        if any(len(n) > 12 or int(n) > size for n in _FORMAT_NUMBER.findall(owner)):
            raise LimitError(f"a format width larger than {size:,}")
    if name == "join" and args and isinstance(args[0], (list, tuple)):
        _check_join(args[0], owner, size)


def _check_replace(text: str, old: str, new: str, size: int) -> None:
    count = len(text) + 1 if not old else text.count(old)
    if len(text) + count * (len(new) - len(old)) > size:
        raise LimitError(f"the replacement would make the text longer than {size:,}")


def _check_join(items: Any, separator: str, size: int) -> None:
    total = sum(len(item) if isinstance(item, str) else 1 for item in items) + len(separator) * len(items)
    if total > size:
        raise LimitError(f"joining these values would make one longer than {size:,}")


def _checked_filter(name: str, function: Any) -> Any:
    """A filter that counts as an operation, takes no width or count beyond the value size, and builds
    nothing larger (``center``, ``indent``, ``format``, ``replace`` and ``join`` are checked before they run)."""

    plain = name not in ("format", "replace", "join")  # these check their value even when given nothing more

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.tick()
        if plain and len(args) == 1 and not kwargs:  # the value alone (``x | pct``): no number to check
            return budget.build(function(*args))
        size = budget.limits.size
        values = [a for a in args if not isinstance(a, (Context, EvalContext, Environment))]
        given = values[1:] + list(kwargs.values())
        if name != "default" and any(_is_int(n) and n > size for n in given):
            raise LimitError(f"the filter {name} is given a number larger than {size:,}")
        if name == "format" and values and isinstance(values[0], str):
            _check_printf(values[0], size)
        elif name == "replace" and len(values) >= 3 and all(isinstance(v, str) for v in values[:3]):
            _check_replace(values[0], values[1], values[2], size)
        elif name == "join" and values:
            items = values[0] if isinstance(values[0], (list, tuple)) else list(values[0])  # a generator: see it all
            args = tuple(items if a is values[0] else a for a in args)
            _check_join(items, values[1] if len(values) > 1 and isinstance(values[1], str) else "", size)
        return budget.build(function(*args, **kwargs))

    return checked


def names_for(ids: Any, names: Any) -> list[str]:
    """Ids as display names; a mitigator named by tag (``tag:capability``) reads "any capability service"."""
    return [f"any {i[4:]} service" if str(i).startswith("tag:") else str(names[i]) for i in ids]


def make_environment(limits: Limits = REPORT_LIMITS, **options: Any) -> BoundedSandbox:
    env = BoundedSandbox(limits, undefined=StrictUndefined, keep_trailing_newline=False, **options)
    env.filters.update({name: _checked_filter(name, f) for name, f in
                        {"pct": pct, "pct_exact": pct_exact, "num": num, "months": months, "date": date, "when": when,
                         "effort": effort,
                         "join_and": join_and, "names_for": names_for}.items()})
    return env


def render_under(budget: Budget, template: _BoundedTemplate, context: dict[str, Any]) -> str:
    """Render with a budget shared across several renders (a rule text over an analysis); ``context`` holds
    the environment's globals (``render_vars``)."""
    budget.grant()
    token = _budget.set(budget)  # spending(), inline: a rule text renders tens of thousands of times
    budget._since = time.monotonic()
    try:
        return template.render_vars(context)
    finally:
        budget.seconds += time.monotonic() - budget._since
        budget._since = None
        _budget.reset(token)


class Records(tuple):
    """Plain records (dicts) that message templates filter, with an index per attribute.

    Rule texts look a service up with ``services | selectattr("id", "equalto", x)``, or find who lists an id
    with ``services | selectattr("needs", "contains", x)``; with thousands of services and findings, scanning
    the list each time took most of an analysis. ``selectattr`` with an equality or ``contains`` test answers
    from an index instead, with the same result and order.
    """

    def __new__(cls, items: Any = ()) -> Records:
        records = super().__new__(cls, items)
        records._index = {}
        return records

    def matching(self, attr: str, value: Any, test: str = "eq") -> list[Any] | None:
        """The records whose ``attr`` equals (``contains``: lists) ``value``, in order; None if no index can answer."""
        index = self._index.get((attr, test), self)
        if index is self:
            index = self._build(attr, test == "contains")
            self._index[(attr, test)] = index
        return None if index is None else index.get(value, [])

    def _build(self, attr: str, by_element: bool) -> dict[Any, list[Any]] | None:
        index: dict[Any, list[Any]] = {}
        try:
            for item in self:
                if type(item) is not dict or attr not in item:  # Jinja decides (StrictUndefined raises)
                    return None
                if not by_element:
                    index.setdefault(item[attr], []).append(item)
                elif type(item[attr]) is not list:
                    return None
                else:
                    for element in dict.fromkeys(item[attr]):
                        index.setdefault(element, []).append(item)
        except TypeError:  # an unhashable value
            return None
        return index


def contains(seq: Any, value: Any) -> bool:
    """The test ``x is contains(v)`` / ``selectattr("needs", "contains", v)``: the list holds the value (the word
    rule conditions use)."""
    return value in seq


_INDEXED_TESTS = {"eq": "eq", "equalto": "eq", "==": "eq", "contains": "contains"}


@pass_context
def _selectattr(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
    """Jinja's ``selectattr``, answered from the index of ``Records`` for an equality or ``contains`` test on a
    plain key."""
    if (type(value) is Records and len(args) == 3 and not kwargs and args[1] in _INDEXED_TESTS
            and isinstance(args[0], str) and "." not in args[0] and not hasattr(dict, args[0])):
        try:
            found = value.matching(args[0], args[2], _INDEXED_TESTS[args[1]])
        except Exception:  # e.g. an undefined or unhashable value: let Jinja report or compare it
            found = None
        if found is not None:
            return iter(found)
    return do_selectattr(context, value, *args, **kwargs)


MESSAGE_ENV = make_environment(MESSAGE_LIMITS, autoescape=False)
MESSAGE_ENV.filters["selectattr"] = _selectattr
MESSAGE_ENV.tests["contains"] = contains


SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.?!]\s+(?=[A-Z(\"'“])")


def first_sentence(text: str) -> str:
    """The first sentence of a rule's text: the report's body says it in one, the rest is on demand."""
    match = SENTENCE_END.search(text)
    return text[:match.start() + 1] if match else text
