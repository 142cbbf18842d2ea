"""A small generic interpreter of the compiled rule IR: the oracle of the differential test.

It reads the durable_rules JSON a CompiledRule carries (``{"all": [{pattern: condition}, ...]}``)
and finds every match over the engine records ``evaluate.engine_facts`` produces,
by plain backtracking. It knows nothing about pmorules' rule format, only the IR:

- patterns are tried in order; a name ending in ``$not`` is a negation (no record
  may satisfy it, given the facts bound so far); the gate pattern ``g`` on
  ``__gate__`` is always present (evaluate asserts the gate after every fact);
- one record fills at most one pattern of a match, and a record bound to an earlier
  pattern cannot block a negation (durable_rules behaves so: see test_engine.py);
- ``$and`` / ``$or``; ``$lt $lte $gt $gte $neq``; ``{field: value}`` equality;
  ``$ex`` / ``$nex``; ``$mt`` (regular expression, full match); ``$iany`` (some item of a list
  field satisfies a test of ``$i``, the item: equality, ``$or``, ``$and``); references to an
  earlier pattern ``{field: {pN: "f"}}`` and to the same record ``{"$m": "f"}``;
  arithmetic ``$add $sub $mul $div`` with ``$l`` / ``$r``;
- a comparison (``$neq`` included) with a missing field on either side is false;
  ``$nex`` holds iff the field is absent.

Test code only: never a code path of the product.
"""

from __future__ import annotations

import operator
import re
from typing import Any

GATE = ("g", {"t": "__gate__"})

_MISSING = object()
_COMPARE = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge, "$neq": operator.ne}
_ARITHMETIC = {"$add": operator.add, "$sub": operator.sub, "$mul": operator.mul, "$div": operator.truediv}

Match = frozenset  # of (pattern name, record id)


def _value(operand: Any, record: dict[str, Any], bound: dict[str, dict[str, Any]]) -> Any:
    if isinstance(operand, dict):
        ((key, arg),) = operand.items()
        if key == "$m":
            return record.get(arg, _MISSING)
        if key in _ARITHMETIC:
            left, right = _value(arg["$l"], record, bound), _value(arg["$r"], record, bound)
            if left is _MISSING or right is _MISSING:
                return _MISSING
            return _ARITHMETIC[key](left, right)
        if key in bound:
            return bound[key].get(arg, _MISSING)
        raise NotImplementedError(f"reference to a pattern not bound yet, or unknown operand: {operand!r}")
    return operand


def holds(condition: dict[str, Any], record: dict[str, Any], bound: dict[str, dict[str, Any]]) -> bool:
    """Whether ``record`` satisfies ``condition`` given the records bound to earlier patterns."""
    result = True
    for key, arg in condition.items():  # several keys in one mapping: all must hold
        if key == "$and":
            result = all(holds(c, record, bound) for c in arg)
        elif key == "$or":
            result = any(holds(c, record, bound) for c in arg)
        elif key in _COMPARE:
            ((field, operand),) = arg.items()
            left, right = record.get(field, _MISSING), _value(operand, record, bound)
            result = left is not _MISSING and right is not _MISSING and _COMPARE[key](left, right)
        elif key == "$ex":
            result = all(f in record for f in arg)
        elif key == "$nex":
            result = all(f not in record for f in arg)
        elif key == "$mt":
            ((field, pattern),) = arg.items()
            left = record.get(field, _MISSING)
            result = isinstance(left, str) and re.fullmatch(pattern, left) is not None
        elif key == "$iany":
            ((field, test),) = arg.items()
            items = record.get(field, _MISSING)
            result = isinstance(items, list) and any(_item_holds(test, item) for item in items)
        elif key.startswith("$"):
            raise NotImplementedError(f"operator {key} is not in the compiled IR this interpreter knows")
        else:  # equality
            left, right = record.get(key, _MISSING), _value(arg, record, bound)
            result = left is not _MISSING and right is not _MISSING and left == right
        if not result:
            return False
    return result


def _item_holds(test: dict[str, Any], item: Any) -> bool:
    """Whether one item of a list satisfies the test of an ``$iany``."""
    ((key, arg),) = test.items()
    if key == "$or":
        return any(_item_holds(t, item) for t in arg)
    if key == "$and":
        return all(_item_holds(t, item) for t in arg)
    if key == "$i":
        return item == arg
    raise NotImplementedError(f"item test {key} is not in the compiled IR this interpreter knows")


def _type_of(condition: dict[str, Any]) -> str | None:
    """The fact type a pattern tests first (every compiled pattern does), to index records by it."""
    if "t" in condition:
        return condition["t"]
    for clause in condition.get("$and", []):
        if isinstance(clause, dict) and "t" in clause and isinstance(clause["t"], str):
            return clause["t"]
    return None


def matches(definition: dict[str, Any], records: list[dict[str, Any]]) -> set[Match]:
    """Every match of one compiled rule: sets of (pattern name, record id) of its positive patterns."""
    by_type: dict[str | None, list[dict[str, Any]]] = {}
    for record in records:
        by_type.setdefault(record.get("t"), []).append(record)
    patterns = []
    for entry in definition["all"]:
        ((name, condition),) = entry.items()
        if (name, condition) == GATE:
            continue
        kind = _type_of(condition)
        candidates = by_type.get(kind, []) if kind is not None else records
        patterns.append((name.removesuffix("$not"), name.endswith("$not"), condition, candidates))
    found: set[Match] = set()

    def search(index: int, bound: dict[str, dict[str, Any]], used: frozenset[str]) -> None:
        if index == len(patterns):
            found.add(frozenset((name, record["id"]) for name, record in bound.items()))
            return
        name, negated, condition, candidates = patterns[index]
        fitting = [r for r in candidates if r["id"] not in used and holds(condition, r, bound)]
        if negated:
            if not fitting:
                search(index + 1, bound, used)
            return
        for record in fitting:
            search(index + 1, {**bound, name: record}, used | {record["id"]})

    search(0, {}, frozenset())
    return found
