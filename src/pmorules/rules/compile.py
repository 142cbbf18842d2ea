"""Compile effective rules to durable_rules JSON rulesets plus the metadata explanations need.

Each rule becomes one engine rule per alternative of its ``any`` groups (so an
action knows exactly which conditions held), with params resolved to literals.
Rules with an absent pattern get a gate pattern first; the gate fact is asserted
last, so negations are evaluated only once every fact is in (the engine fires eagerly and never
withdraws a match).
The compiler checks everything the engine would accept silently or crash on,
and counts its limits on the compiled form: alternatives before they are
expanded, and every test of a pattern once ``in`` lists and ``any`` groups are
written out. ``matches`` is answered outside the engine (rules/regex.py): the
engine tests a true/false field that evaluate.py computes for each fact.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes

from ..errors import Diagnostic, InputError, Location, did_you_mean
from ..facts import FACT_TYPES
from ..text import DICT_ATTRIBUTES, MESSAGE_EACH, MESSAGE_ENV, MESSAGE_LIMITS, Budget, render_under
from .load import Rule, RuleBook
from .regex import Pattern, PatternError, compile_pattern
from .spec import COMPARISON_OPS, LIST_OPS, AllOf, AnyOf, Condition, Operand
from .spec import Pattern as FactPattern

GATE_TYPE = "__gate__"
GATE_PATTERN = "g"
MAX_PATTERNS = 8  # durable_rules allows at most 16 patterns per rule
MAX_CONDITIONS = 48  # tests of one pattern, compiled; > 64 alpha nodes matching one fact is error 303
MAX_ALTERNATIVES = 16
RULES_PER_SHARD = 50  # ~256 rules on one identical condition crash the engine
ALPHA_PER_TYPE = 48  # > 64 alpha nodes matching one fact is error 303: keep each shard's per-type total below
TEXT_FIELDS = ("message", "why", "recommendation")

_ENGINE_OPS = {"gt": "$gt", "ge": "$gte", "lt": "$lt", "le": "$lte", "ne": "$neq"}


@dataclass
class PatternInfo:
    name: str  # as written in the rule
    engine: str  # as given to the engine
    fact: str
    absent: bool
    conditions: list[Condition]  # for a positive pattern: the conditions of this alternative


@dataclass
class CompiledRule:
    """One engine rule of one alternative of an effective rule."""

    rule: Rule
    engine_name: str
    definition: dict[str, Any]
    patterns: list[PatternInfo]
    gated: bool
    templates: dict[str, LazyTemplate] = field(repr=False)
    matchers: dict[str, Matcher] = field(default_factory=dict, repr=False)  # the true/false fields of its ``matches``

    @property
    def positive(self) -> list[PatternInfo]:
        return [p for p in self.patterns if not p.absent]


@dataclass(frozen=True)
class Matcher:
    """A ``matches`` test answered before the engine runs: field ``name`` of ``fact`` facts is whether
    their ``source`` field (text) matches ``pattern``; a fact without that text gets no such field."""

    name: str
    fact: str
    source: str
    pattern: Pattern


def matcher_field(source: str, pattern: str) -> str:
    """The engine field that holds whether ``source`` matches ``pattern`` (never a fact field: those have no ``~``)."""
    return f"{source}~{hashlib.sha256(pattern.encode()).hexdigest()[:16]}"


@dataclass
class CompiledBook:
    rules: list[CompiledRule]
    reads: dict[str, set[str]]  # fact type -> fields some rule reads
    matchers: dict[str, Matcher] = field(init=False, repr=False)
    # the shards and the fact types each reads, and the rules they were worked out for
    _runs: tuple[list[CompiledRule], list[tuple[list[CompiledRule], frozenset[str]]]] | None = field(
        default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.matchers = {name: m for compiled in self.rules for name, m in compiled.matchers.items()}

    def runs(self) -> list[tuple[list[CompiledRule], frozenset[str]]]:
        """The shards, each with the fact types its rules read (only those facts reach it), worked out once for
        the book's rules: an analysis evaluates one book, a recommendation or a history dozens of times."""
        if self._runs is None or len(self._runs[0]) != len(self.rules) or any(
                a is not b for a, b in zip(self._runs[0], self.rules)):
            self._runs = (list(self.rules), [(shard, frozenset(fields_read(shard))) for shard in self.shards()])
        return self._runs[1]

    def shards(self) -> list[list[CompiledRule]]:
        """Rulesets small enough for the engine's limits; each is run over the same facts."""
        shards: list[list[CompiledRule]] = []
        load: dict[str, int] = {}
        for rule in self.rules:
            weight = _alpha_weight(rule)
            fits = shards and len(shards[-1]) < RULES_PER_SHARD and all(
                load.get(t, 0) + n <= ALPHA_PER_TYPE for t, n in weight.items()
            )
            if not fits:
                shards.append([])
                load = {}
            shards[-1].append(rule)
            for fact_type, n in weight.items():
                load[fact_type] = load.get(fact_type, 0) + n
        return shards


def _alpha_weight(rule: CompiledRule) -> dict[str, int]:
    """An upper bound of the alpha tests a rule adds per fact type that can match one fact."""
    weight: dict[str, int] = {}
    for entry in rule.definition["all"]:
        for body in entry.values():
            tests = body.get("$and", [body]) if isinstance(body, dict) else [body]
            fact_type = next((t["t"] for t in tests if isinstance(t, dict) and "t" in t), "")
            weight[fact_type] = weight.get(fact_type, 0) + sum(_matching(t) for t in tests)
    return weight


def _matching(test: Any) -> int:
    """How many of the engine tests in a compiled test can match one fact: one of an ``in`` list (its values
    differ), every member of any other group."""
    if isinstance(test, dict) and len(test) == 1:
        ((key, value),) = test.items()
        if key == "$or" and isinstance(value, list) and all(
            isinstance(item, dict) and len(item) == 1 and not next(iter(item)).startswith("$") for item in value
        ) and len({next(iter(item)) for item in value}) == 1:
            return 1
        if key in ("$or", "$and") and isinstance(value, list):
            return sum(_matching(item) for item in value)
    return 1


def count_tests(test: Any) -> int:
    """The engine tests in a compiled test: one per value of an ``in`` or ``any_in`` list, one per member of a
    group."""
    if isinstance(test, dict) and len(test) == 1:
        ((key, value),) = test.items()
        if key in ("$or", "$and") and isinstance(value, list):
            return sum(count_tests(item) for item in value)
        if key == "$iany":
            return sum(count_tests(item) for item in value.values())
    return 1


class _RuleCompiler:
    def __init__(self, rule: Rule, errors: list[Diagnostic]):
        self.rule = rule
        self.errors = errors
        self.referenced: dict[str, set[str]] = {}  # pattern name -> fields other conditions read
        self.focus: str | None = None  # the pattern or condition being compiled, as keyed in raw_locations
        self.paths = _clause_paths(rule.spec)
        self.where = rule.raw_locations.get("match", rule.source)
        self.matchers: dict[str, Matcher] = {}

    def error(self, message: str, hint: str | None = None, key: str = "match", part: str | None = None,
              param: str | None = None) -> None:
        """Report at the most precise known place: where the organisation set ``param`` (its pmorules.toml line or
        overlay), else ``part`` of the pattern or condition in focus, else ``key``."""
        locations = self.rule.raw_locations
        where = self.rule.param_sources.get(param) if param else None
        if where is not None:
            message = f"param {param}: {message}"
        elif self.focus is not None:
            where = (locations.get(f"{self.focus}.{part}") if part else None) or locations.get(self.focus)
        where = where or locations.get(key, self.rule.source)
        self.errors.append(Diagnostic(where, f"rule {self.rule.id}: {message}", hint))

    def focus_on(self, clause: Any) -> None:
        self.focus = self.paths.get(id(clause))

    def operand(self, op: Operand | Condition, patterns: dict[str, PatternInfo], own: str, part: str = "") -> Any:
        """An engine operand for a literal, a param or a ref (``part``: where it is written, for errors)."""
        if op.param is not None:
            if op.param not in self.rule.params:
                self.error(f"unknown param {op.param!r}", did_you_mean(op.param, list(self.rule.params)), part=part or "param")
                return 0
            return self.rule.params[op.param]
        if op.ref is not None:
            pattern, _, fld = op.ref.partition(".")
            if fld != "key":
                self.referenced.setdefault(pattern, set()).add(fld)
            if pattern == own:
                if self.check_field(patterns[own].fact, fld, part or "ref") == "list":
                    self.error(f"ref {op.ref!r} is a list; test it with contains or any_in", part=part or "ref")
                return {"$m": "k" if fld == "key" else fld}
            target = patterns.get(pattern)
            if target is None or target.absent:
                later = pattern in {p.name for p in self.rule.spec.match or []} and target is None
                if later:
                    message = f"ref {op.ref!r} names pattern {pattern!r}, which comes later; refer to an earlier pattern"
                elif target is not None:
                    message = f"ref {op.ref!r} names an absent pattern, which matches no fact"
                else:
                    message = f"ref {op.ref!r} names no earlier pattern"
                self.error(message, None if later else did_you_mean(pattern, list(patterns)), part=part or "ref")
                return 0
            if self.check_field(target.fact, fld, part or "ref") == "list":
                self.error(f"ref {op.ref!r} is a list; test it in its own pattern with contains or any_in", part=part or "ref")
            return {target.engine: "k" if fld == "key" else fld}  # the join key travels as "k"
        return op.value

    def check_field(self, fact: str, fld: str, part: str = "field") -> str | None:
        fields = FACT_TYPES.get(fact, {})
        if fld == "key":
            return "str"
        if fld not in fields:
            self.error(f"fact {fact!r} has no field {fld!r}", did_you_mean(fld, list(fields) + ["key"]), part=part)
            return None
        return fields[fld][0].__name__

    def guards(self, cond: Condition, own: str) -> list[dict[str, Any]]:
        """``$ex`` tests for the fields of the same fact that a condition compares with.

        durable_rules compares with a stale value left by an earlier test when
        such a field is missing (found by the differential test): requiring the
        field makes a comparison with a missing value false, as it should be.
        """
        fields = sorted({
            fld
            for operand in (cond, cond.times, cond.plus)
            if operand is not None and operand.ref
            for pattern, _, fld in [operand.ref.partition(".")]
            if pattern == own and fld != "key"
        })
        return [{"$ex": {fld: 1}} for fld in fields]

    def condition(self, cond: Condition, fact: str, patterns: dict[str, PatternInfo], own: str) -> dict[str, Any]:
        self.focus_on(cond)
        kind = self.check_field(fact, cond.field)
        value = self.operand(cond, patterns, own) if cond.op not in ("exists", "missing") else None
        part = "param" if cond.param is not None else "value"
        literal = cond.ref is None
        if cond.op in ("in", "not_in"):
            value = value if isinstance(value, list) else [value]
            if literal:
                self.check_list(value, cond.op, part, cond.param)
        elif literal and isinstance(value, list) and cond.op not in LIST_OPS:  # list_test says its own
            self.error(f"'{cond.op}' compares with one value, but param {cond.param!r} is a list", part=part, param=cond.param)
        if literal and kind in ("float", "int") and cond.op in COMPARISON_OPS | {"in", "not_in"}:
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, (str, bool)) for v in values):
                self.error(f"{cond.field} is a number; it cannot be compared with {value!r}", part=part, param=cond.param)
        if literal and kind == "str" and cond.op in COMPARISON_OPS | {"in", "not_in"}:
            values = value if isinstance(value, list) else [value]
            if any(not isinstance(v, str) for v in values):
                self.error(f"{cond.field} is text; it cannot be compared with {value!r}", "quote the value", part=part,
                           param=cond.param)
        if kind == "str" and cond.op in ("gt", "ge", "lt", "le"):
            self.error(f"{cond.field} is text; use eq, ne, in, not_in or matches", part="op")
        if kind == "list" and cond.op not in LIST_OPS | {"exists", "missing"}:
            self.error(f"{cond.field} is a list; use contains, any_in, exists or missing", part="op")
        if kind not in ("list", None) and cond.op in LIST_OPS:
            self.error(f"{cond.field} is not a list; '{cond.op}' tests a list", part="op")
        if cond.op in LIST_OPS:
            return self.list_test(cond, cond.field, value, part)
        for word, operand in (("times", cond.times), ("plus", cond.plus)):
            if operand is not None:
                self.check_number(operand, patterns, own, word)
        if cond.times is not None:
            value = {"$mul": {"$l": value, "$r": self.operand(cond.times, patterns, own, "times")}}
        if cond.plus is not None:
            value = {"$add": {"$l": value, "$r": self.operand(cond.plus, patterns, own, "plus")}}
        f = "k" if cond.field == "key" else cond.field
        if cond.op == "eq":
            return {f: value}
        if cond.op in _ENGINE_OPS:
            return {_ENGINE_OPS[cond.op]: {f: value}}
        if cond.op == "in":  # an empty list (a param set to []) holds for no fact
            return {"$or": [{f: v} for v in value]} if value else {"$and": [{"$ex": {f: 1}}, {"$nex": {f: 1}}]}
        if cond.op == "not_in":  # ... and for every fact with the field, as any other list does
            return {"$and": [{"$neq": {f: v}} for v in value]} if value else {"$ex": {f: 1}}
        if cond.op == "exists":
            return {"$ex": {f: 1}}
        if cond.op == "missing":
            return {"$nex": {f: 1}}
        return {self.matcher(cond, fact, f, kind, value, part): True}  # matches

    def list_test(self, cond: Condition, field: str, value: Any, part: str) -> dict[str, Any]:
        """``contains`` (one value) or ``any_in`` (a list of values) on a list field: the engine's ``$iany``,
        which holds when some item of the list equals one of the values (never for a missing or empty list)."""
        if cond.op == "contains":
            if isinstance(value, list):
                self.error(f"'contains' tests one value, but param {cond.param!r} is a list", "use any_in", part=part,
                           param=cond.param)
            values = [value]
        else:
            values = value if isinstance(value, list) else [value]
            self.check_list(values, cond.op, part, cond.param)
        if any(not isinstance(v, str) for v in values):
            self.error(f"{cond.field} lists ids (text); it cannot contain {value!r}", "quote the value", part=part,
                       param=cond.param)
        if not values:  # an empty param list: holds for no fact, as 'in []'
            return {"$and": [{"$ex": {field: 1}}, {"$nex": {field: 1}}]}
        items = [{"$i": v} for v in values]
        return {"$iany": {field: items[0] if len(items) == 1 else {"$or": items}}}

    def matcher(self, cond: Condition, fact: str, field: str, kind: str | None, value: Any, part: str) -> str:
        """The true/false field that answers a ``matches`` condition (rules/regex.py)."""
        name = matcher_field(field, str(value))
        if kind not in ("str", None):
            self.error(f"{cond.field} is not text; 'matches' tests text", part="field")
        elif not isinstance(value, str):
            self.error(f"'matches' needs a pattern (text), not {value!r}", part=part, param=cond.param)
        else:
            try:
                self.matchers[name] = Matcher(name, fact, field, compile_pattern(value))
            except PatternError as exc:
                self.error(f"pattern {value!r}: {exc.message}", exc.hint, part=part, param=cond.param)
        return name

    def check_list(self, values: list[Any], op: str, part: str, param: str | None) -> None:
        """An ``in`` list: each value once (the engine would report a fact once per copy), and not empty when
        written in the rule (a param may be empty: an organisation's ``quick_win_contexts = []`` means none)."""
        if not values and param is None:
            self.error(f"'{op}' needs at least one value", part=part)
        seen: set[str] = set()
        for item in values:
            key = json.dumps(item)
            if key in seen:
                self.error(f"{item!r} is listed twice in '{op}'", part=part, param=param)
                return
            seen.add(key)

    def check_number(self, operand: Operand, patterns: dict[str, PatternInfo], own: str, part: str) -> None:
        """``times`` and ``plus`` compute with numbers: a number, a numeric param, or a numeric field."""
        if operand.ref is not None:
            pattern, _, fld = operand.ref.partition(".")
            target = patterns.get(pattern)
            kind = FACT_TYPES.get(target.fact, {}).get(fld) if target is not None else None
            if fld == "key" or (kind is not None and kind[0] not in (int, float)):  # a key is text
                self.error(f"'{part}' computes with numbers; {operand.ref} is not a number", part=part)
            return
        value = self.rule.params.get(operand.param) if operand.param is not None else operand.value
        if operand.param is not None and operand.param not in self.rule.params:
            return  # reported by operand()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(f"'{part}' computes with numbers, not {value!r}", part=part, param=operand.param)

    def clause(self, clause: Any, fact: str, patterns: dict[str, PatternInfo], own: str) -> dict[str, Any]:
        """A clause inside an absent pattern, where ``any`` stays an engine ``$or``."""
        if isinstance(clause, Condition):
            guards = self.guards(clause, own)
            test = self.condition(clause, fact, patterns, own)
            return {"$and": guards + [test]} if guards else test
        if isinstance(clause, AnyOf):
            return {"$or": [self.clause(c, fact, patterns, own) for c in clause.any]}
        return {"$and": [self.clause(c, fact, patterns, own) for c in clause.all]}


def _reads_other(test: Any, others: set[str]) -> bool:
    """Whether a compiled test reads a field of another pattern (a join, for the engine)."""
    if isinstance(test, dict):
        return any((k in others and isinstance(v, str)) or _reads_other(v, others) for k, v in test.items())
    if isinstance(test, list):
        return any(_reads_other(v, others) for v in test)
    return False


def _is_equality_join(test: dict[str, Any], others: set[str]) -> bool:
    """``{field: {pN: f}}``: the join the engine indexes by hash."""
    if len(test) != 1:
        return False
    ((key, value),) = test.items()
    return not key.startswith("$") and isinstance(value, dict) and len(value) == 1 and next(iter(value)) in others


def _clause_paths(spec: Any) -> dict[int, str]:
    """The path (as the loader keys locations) of every condition and group of a rule, by object id."""
    out: dict[int, str] = {}

    def walk(clauses: list[Any], path: str) -> None:
        for index, clause in enumerate(clauses):
            here = f"{path}[{index}]"
            out[id(clause)] = here
            if isinstance(clause, AnyOf):
                walk(list(clause.any), f"{here}.any")
            elif isinstance(clause, AllOf):
                walk(list(clause.all), f"{here}.all")

    for index, pattern in enumerate(spec.match or []):
        walk(list(pattern.where), f"match[{index}].where")
    return out


def _nested(clause: Any) -> bool:
    """Whether a clause compiles to a nested group (``$or``/``$and``, or a list test, which holds one)."""
    return not isinstance(clause, Condition) or clause.op in ("in", "not_in") or clause.op in LIST_OPS


def _refs_others(clause: Any, own: str) -> bool:
    return any(
        operand is not None and operand.ref and operand.ref.partition(".")[0] != own
        for c in leaf_conditions([clause])
        for operand in (c, c.times, c.plus)
    )


def _nested_join(clause: Any, own: str) -> bool:
    return _nested(clause) and _refs_others(clause, own)


def _join_rank(clause: Any, own: str) -> int:
    """Plain tests first, then comparisons with other patterns, then equality joins, then nested groups.

    durable_rules reads out of bounds when a comparison with another pattern's
    field follows an equality join in the same pattern (found with valgrind),
    and it ignores every join that follows a nested ``$or``/``$and`` group in
    the same pattern (found by the differential test); this order is safe.
    """
    if _nested(clause):
        return 3
    if not _refs_others(clause, own):
        return 0
    return 2 if clause.op == "eq" and not clause.times and not clause.plus else 1


def count_alternatives(clauses: list[Any], limit: int) -> int:
    """How many alternatives ``alternatives(clauses)`` would give, without listing them (stops past ``limit``)."""
    total = 1
    for clause in clauses:
        if isinstance(clause, Condition):
            options = 1
        elif isinstance(clause, AnyOf):
            options = 0
            for branch in clause.any:
                options += count_alternatives([branch], limit)
                if options > limit:
                    break
        else:
            options = count_alternatives(list(clause.all), limit)
        total *= options
        if total > limit:
            return limit + 1
    return total


def alternatives(clauses: list[Any]) -> list[list[Condition]]:
    """Disjunctive normal form of a list of clauses: each alternative is a list of conditions."""
    result: list[list[Condition]] = [[]]
    for clause in clauses:
        if isinstance(clause, Condition):
            options = [[clause]]
        elif isinstance(clause, AnyOf):
            options = [alt for c in clause.any for alt in alternatives([c])]
        else:
            options = alternatives(list(clause.all))
        result = [head + option for head in result for option in options]
    return result


@functools.lru_cache(maxsize=4096)
def _template(text: str) -> Template:
    return MESSAGE_ENV.from_string(text)


# What a rule text may read that is the same for every finding of an analysis (the workspace's lists, the
# rule's params, display names, the date) and what Jinja itself provides.
SHARED_NAMES = frozenset({"params", "horizons", "today", "capacity", "names", "services", "goals", "clients", "loop",
                          *MESSAGE_ENV.globals})


@dataclass(frozen=True)
class ParsedText:
    """What compiling a rule needs of one of its texts, from one parse (parsing is most of compiling a rule)."""

    error: TemplateSyntaxError | None
    per_finding: bool  # it reads something of one finding (a fact, ``matches``, ``subjects``), or its own variables
    reads: tuple[tuple[str, str, int], ...] = ()  # (name, attribute, line) of each ``name.attribute`` it reads of a
    # name it does not assign itself (a loop or set target is its own)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> ParsedText:
    try:
        tree = MESSAGE_ENV.parse(text)
    except TemplateSyntaxError as exc:
        return ParsedText(exc, True)
    own = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
    reads = tuple((n.node.name, n.attr, n.lineno) for n in tree.find_all(nodes.Getattr)
                  if isinstance(n.node, nodes.Name) and n.node.name not in own)
    return ParsedText(None, any(n.ctx == "load" and n.name not in SHARED_NAMES for n in tree.find_all(nodes.Name)), reads)


class LazyTemplate:
    """A rule text checked for syntax when the rule is compiled, and compiled on its first render.

    Most rules do not fire in an analysis, and compiling a Jinja template costs
    milliseconds; compiled templates are shared by text within a process. All
    renders of one rule text share one budget (text.MESSAGE_LIMITS, growing by
    text.MESSAGE_EACH per finding), so a rule that fires ten thousand times
    cannot multiply what one render may use, yet its texts grow with the workspace. The budget is per thread:
    a budget's clock runs while one render spends it, so two threads rendering at once (serve judges the
    reviews while the optimiser solves) must not share one.
    """

    __slots__ = ("text", "per_finding", "_local")

    def __init__(self, text: str, per_finding: bool = True):
        self.text = text
        self.per_finding = per_finding  # False: the same text for every finding of an analysis
        self._local = threading.local()

    @property
    def budget(self) -> Budget:
        budget = getattr(self._local, "budget", None)
        if budget is None:
            budget = self._local.budget = Budget(MESSAGE_LIMITS, MESSAGE_EACH)
        return budget

    def render(self, context: dict[str, Any]) -> str:
        return render_under(self.budget, _template(self.text), context)


def _templates(rule: Rule, errors: list[Diagnostic]) -> dict[str, LazyTemplate]:
    out = {}
    for name in TEXT_FIELDS:
        text = getattr(rule.spec, name) or ""
        parsed = _parsed(text)
        exc = parsed.error
        if exc is None:
            out[name] = LazyTemplate(text, parsed.per_finding)
        else:
            where = rule.raw_locations.get(name, rule.source)
            line = (where.line or 1) + max((exc.lineno or 1) - 1, 0)
            errors.append(Diagnostic(Location(where.file, line, where.col), f"rule {rule.id}: {name}: template error: {exc.message}"))
    return out


VIEW_FIELDS = frozenset({"key", "name", "path"})  # what a rule text reads of a fact besides its fields (texts.py)


def _check_text_names(rule: Rule, names: dict[str, PatternInfo], errors: list[Diagnostic]) -> None:
    """A rule text that reads a field its pattern's fact type does not have, or a param the rule does not have, is
    an error when the rule is read, not when it first fires (``s.typo`` passed validate, then broke a report).
    A name the text assigns itself (a loop or set target) is its own, and not checked."""
    for text_field in TEXT_FIELDS:
        parsed = _parsed(getattr(rule.spec, text_field) or "")  # its syntax error is reported by _templates
        where = rule.raw_locations.get(text_field, rule.source)
        for target, attr, lineno in parsed.reads:
            if attr in DICT_ATTRIBUTES:
                continue
            here = Location(where.file, (where.line or 1) + max(lineno - 1, 0), where.col)
            if target == "params" and attr not in rule.params:
                errors.append(Diagnostic(here, f"rule {rule.id}: {text_field}: the rule has no param {attr!r}",
                                         did_you_mean(attr, list(rule.params))))
            elif target in names and not names[target].absent:
                fact = names[target].fact
                known = set(FACT_TYPES.get(fact, {})) | VIEW_FIELDS
                if fact in FACT_TYPES and attr not in known:
                    errors.append(Diagnostic(here, f"rule {rule.id}: {text_field}: fact {fact!r} has no field {attr!r}",
                                             did_you_mean(attr, sorted(known))))


def _check_subjects(rule: Rule, names: dict[str, PatternInfo], errors: list[Diagnostic]) -> None:
    where = rule.raw_locations.get("subjects", rule.source)
    for subject in rule.spec.subjects or []:
        if subject == "mix":
            continue
        pattern, _, fld = subject.partition(".")
        info = names.get(pattern)
        if info is None or info.absent:
            errors.append(Diagnostic(where, f"rule {rule.id}: subject {subject!r} names no pattern", did_you_mean(pattern, list(names))))
        elif fld and fld != "key" and fld not in FACT_TYPES.get(info.fact, {}):
            errors.append(Diagnostic(where, f"rule {rule.id}: fact {info.fact!r} has no field {fld!r}"))
    if rule.spec.path and (rule.spec.path not in names or names[rule.spec.path].absent):
        errors.append(Diagnostic(rule.raw_locations.get("path", rule.source), f"rule {rule.id}: path {rule.spec.path!r} names no pattern"))


def compile_rule(rule: Rule, errors: list[Diagnostic]) -> list[CompiledRule]:
    """The engine rules of one effective rule (one per alternative)."""
    compiler = _RuleCompiler(rule, errors)
    patterns = rule.spec.match or []
    infos = _pattern_infos(compiler, patterns)
    if infos is None:
        return []
    _check_subjects(rule, infos, errors)
    _check_text_names(rule, infos, errors)
    if not _within_alternatives(compiler, patterns):
        return []
    for pattern in patterns:
        _check_duplicate_branches(compiler, pattern.where)
    per_pattern = [[[]] if p.absent else alternatives(p.where) for p in patterns]
    templates = _templates(rule, errors)
    gated = any(p.absent for p in patterns)
    compiled = []
    for number, combo in enumerate(itertools.product(*per_pattern), start=1):
        engine_patterns, infos_this = _compile_alternative(compiler, patterns, combo, infos, gated)
        name = f"{rule.id.lower()}_{number}"
        compiled.append(CompiledRule(rule, name, {"all": engine_patterns}, infos_this, gated, templates, dict(compiler.matchers)))
    return compiled


def _pattern_infos(compiler: _RuleCompiler, patterns: list[FactPattern]) -> dict[str, PatternInfo] | None:
    """The patterns by name, with their engine names; None (with the error said) when they cannot compile."""
    if not patterns or all(p.absent for p in patterns):
        compiler.error("needs at least one pattern that is not absent")
        return None
    if len(patterns) > MAX_PATTERNS:
        compiler.error(f"has {len(patterns)} patterns; at most {MAX_PATTERNS} are allowed")
        return None
    infos: dict[str, PatternInfo] = {}
    for index, pattern in enumerate(patterns, start=1):
        compiler.focus = f"match[{index - 1}]"
        if pattern.fact not in FACT_TYPES:
            compiler.error(f"unknown fact type {pattern.fact!r}", did_you_mean(pattern.fact, list(FACT_TYPES)), part="fact")
            return None
        if pattern.name in infos:
            compiler.error(f"two patterns are named {pattern.name!r}; give one an 'as' name", part="as")
            return None
        infos[pattern.name] = PatternInfo(pattern.name, f"p{index}", pattern.fact, pattern.absent, [])
    compiler.focus = None
    return infos


def _within_alternatives(compiler: _RuleCompiler, patterns: list[FactPattern]) -> bool:
    """Whether the 'any' groups expand to few enough alternatives (each becomes one engine rule)."""
    count = 1
    for pattern in patterns:
        if not pattern.absent:
            count = min(count * count_alternatives(pattern.where, MAX_ALTERNATIVES), MAX_ALTERNATIVES + 1)
    if count > MAX_ALTERNATIVES:
        compiler.error(f"its 'any' groups expand to more than {MAX_ALTERNATIVES} alternatives (one engine rule each)")
        return False
    return True


def _compile_alternative(compiler: _RuleCompiler, patterns: list[FactPattern], combo: tuple, infos: dict[str, PatternInfo],
                         gated: bool) -> tuple[list[dict[str, Any]], list[PatternInfo]]:
    """The engine patterns of one alternative (one choice of branch in every 'any'), and their infos."""
    seen: dict[str, PatternInfo] = {}
    compiler.referenced = {}
    tests_by_name: dict[str, list[dict[str, Any]]] = {}
    engine_patterns: list[dict[str, Any]] = [{GATE_PATTERN: {"t": GATE_TYPE}}] if gated else []
    infos_this: list[PatternInfo] = []
    for index, (pattern, conditions) in enumerate(zip(patterns, combo)):
        info = PatternInfo(pattern.name, infos[pattern.name].engine, pattern.fact, pattern.absent, list(conditions))
        seen[pattern.name] = info
        tests = _pattern_tests(compiler, index, pattern, conditions, seen)
        key = info.engine + ("$not" if pattern.absent else "")
        engine_patterns.append({key: {"$and": tests}})
        tests_by_name[pattern.name] = tests
        infos_this.append(info)
    _require_operands(compiler, patterns, combo, seen, tests_by_name)
    return engine_patterns, infos_this


def _pattern_tests(compiler: _RuleCompiler, index: int, pattern: FactPattern, conditions: list,
                   seen: dict[str, PatternInfo]) -> list[dict[str, Any]]:
    """The engine tests of one pattern in one alternative: its fact type, guards, conditions and joins."""
    compiler.focus = f"match[{index}]"
    clauses = list(pattern.where) if pattern.absent else list(conditions)
    clauses.sort(key=lambda c: _join_rank(c, pattern.name))
    joined = [c for c in clauses if _join_rank(c, pattern.name) in (1, 2) or _nested_join(c, pattern.name)]
    if any(_nested_join(c, pattern.name) for c in joined) and len(joined) > 1:
        compiler.error(
            f"pattern {pattern.name!r}: a reference to another pattern inside 'any' or 'in' cannot be combined "
            "with another reference in the same pattern (the engine would ignore one of them)"
        )
    tests: list[dict[str, Any]] = [{"t": pattern.fact}]
    for c in clauses:
        if isinstance(c, Condition):  # top level: guards stay flat (a nested group before a join breaks it)
            tests += compiler.guards(c, pattern.name) + [compiler.condition(c, pattern.fact, seen, pattern.name)]
        else:
            tests.append(compiler.clause(c, pattern.fact, seen, pattern.name))
    others = {i.engine for name, i in seen.items() if name != pattern.name}
    joins = [t for t in tests if _reads_other(t, others)]
    if len(joins) == 1 and not _is_equality_join(joins[0], others):
        # durable_rules reads out of bounds when a pattern's only join is a comparison
        # (valgrind; it crashed `rules test` now and then): a second copy avoids it.
        tests.append(joins[0])
    size = sum(count_tests(t) for t in tests)
    if size > MAX_CONDITIONS:
        compiler.focus = f"match[{index}]"
        compiler.error(
            f"pattern {pattern.name!r} has {size} tests once compiled; at most {MAX_CONDITIONS}",
            "each value of an 'in' or 'not_in' list and each member of 'any' counts as one test",
        )
    return tests


def _require_operands(compiler: _RuleCompiler, patterns: list[FactPattern], combo: tuple, seen: dict[str, PatternInfo],
                      tests_by_name: dict[str, list[dict[str, Any]]]) -> None:
    """A field another condition computes with, or another pattern reads, must exist: the engine treats a
    missing operand as a value (services > 3 × missing held), so say it plainly."""
    for name, fields in compiler.referenced.items():
        if name in tests_by_name and not seen[name].absent:
            tests = tests_by_name[name]
            tests.extend(t for t in ({"$ex": {fld: 1}} for fld in sorted(fields)) if t not in tests)
    for pattern, conditions in zip(patterns, combo):
        used = leaf_conditions(list(pattern.where)) if pattern.absent else list(conditions)
        for target, fld in _guarded_refs(used, pattern.name):
            info = seen.get(target)
            target_tests = tests_by_name.get(target) if info is not None and not info.absent else None
            guard = {"$ex": {fld: 1}}
            if target_tests is not None and guard not in target_tests:
                target_tests.insert(1, guard)


def _check_duplicate_branches(compiler: _RuleCompiler, clauses: list[Any]) -> None:
    """The same branch twice in an ``any`` makes the engine report every match twice."""
    for clause in clauses:
        if isinstance(clause, AnyOf):
            seen: set[str] = set()
            for branch in clause.any:
                key = json.dumps(branch.model_dump(by_alias=True), sort_keys=True)
                if key in seen:
                    compiler.focus_on(branch)
                    compiler.error("the same condition appears twice in one 'any'")
                    break
                seen.add(key)
        if isinstance(clause, (AnyOf, AllOf)):
            _check_duplicate_branches(compiler, list(clause.any if isinstance(clause, AnyOf) else clause.all))


def _guarded_refs(conditions: list[Condition], own: str) -> list[tuple[str, str]]:
    """(pattern, field) of the other patterns' fields that conditions read.

    The engine refuses the whole batch of facts (error 311, property not found)
    when a comparison or arithmetic reads a field missing from the referenced
    fact, so the compiler makes the referenced pattern require the field (for
    every operator, so the rule reads the same whatever the operator). For a
    positive pattern that changes nothing (a comparison with a missing value is
    false); for an absent pattern, a fact without the field leaves the rule
    unevaluated for it (no finding) instead of failing the whole analysis.
    """
    out = []
    for cond in conditions:
        for operand in (cond, cond.times, cond.plus):
            if operand is not None and operand.ref:
                pattern, _, fld = operand.ref.partition(".")
                if pattern != own and fld != "key":
                    out.append((pattern, fld))
    return out


def leaf_conditions(clauses: list[Any]) -> list[Condition]:
    out: list[Condition] = []
    for clause in clauses:
        if isinstance(clause, Condition):
            out.append(clause)
        else:
            out.extend(leaf_conditions(list(clause.any if isinstance(clause, AnyOf) else clause.all)))
    return out


def fields_read(rules: list[CompiledRule]) -> dict[str, set[str]]:
    """The fact fields rules test: only these reach the engine."""
    reads: dict[str, set[str]] = {}
    for compiled in rules:
        for matcher in compiled.matchers.values():
            reads.setdefault(matcher.fact, set()).add(matcher.name)
        types = {p.name: p.fact for p in compiled.rule.spec.match or []}
        for pattern in compiled.rule.spec.match or []:
            for cond in leaf_conditions(pattern.where):
                reads.setdefault(pattern.fact, set()).add("k" if cond.field == "key" else cond.field)
                for operand in (cond, cond.times, cond.plus):
                    if operand is not None and operand.ref:
                        name, _, fld = operand.ref.partition(".")
                        if name in types:
                            reads.setdefault(types[name], set()).add("k" if fld == "key" else fld)
            reads.setdefault(pattern.fact, set())
    return reads


def compile_problems(error: InputError) -> list[Diagnostic]:
    """The compile errors of the rules a failed load did read (``RuleBookErrors.partial``), to report with its own."""
    partial = getattr(error, "partial", None)
    if partial is None:
        return []
    try:
        compile_rulebook(partial)
    except InputError as more:
        return list(more.diagnostics)
    return []


def compile_rulebook(book: RuleBook) -> CompiledBook:
    """Compile every enabled rule, or raise InputError listing every problem."""
    errors: list[Diagnostic] = []
    compiled: list[CompiledRule] = []
    for rule in book.enabled():
        compiled.extend(compile_rule(rule, errors))
    if errors:
        raise InputError(errors)
    return CompiledBook(compiled, fields_read(compiled))
