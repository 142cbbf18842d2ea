"""The durable_rules adapter: the only module that imports durable.

durable_rules is fast but has silent and fatal failure modes (ENGINE.md §4).
This adapter runs one analysis on a thread-free host: it registers a fresh
ruleset plus a sentinel rule, asserts facts in batches through the low-level
C API, runs the actions synchronously, re-raises exceptions the engine would
swallow, and always frees the state and the ruleset.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import durable.engine as _durable
    import durable_rules_engine as _dre

SENTINEL_TYPE = "__sentinel__"
_SENTINEL_RULE = "__sentinel__"

Action = Callable[[dict[str, dict[str, Any]]], None]


class EngineError(RuntimeError):
    """The engine rejected a ruleset or a fact, or an action failed."""


class _SyncHost(_durable.Host):
    """A Host that never starts the timer threads of the stock Host."""

    def _run(self) -> None:  # noqa: D401 - replaces the thread starter
        pass


def fnv1a32(text: str) -> int:
    """The 32-bit FNV-1a hash durable_rules uses to detect duplicate facts."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def check_fact_ids(ids: Iterable[str]) -> None:
    """Refuse ids the engine would silently treat as duplicates."""
    seen: dict[int, str] = {}
    for fact_id in ids:
        h = fnv1a32(fact_id)
        if h in seen:
            raise EngineError(f"fact ids {seen[h]!r} and {fact_id!r} collide in the engine's 32-bit hash")
        seen[h] = fact_id


def encode_value(value: Any) -> str:
    """JSON for one scalar; floats never in exponent form (engine error 204)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EngineError(f"non-finite number {value!r} cannot be given to the engine")
        text = f"{value:.6f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    raise EngineError(f"unsupported value {value!r} for the engine")


def encode(obj: Any) -> str:
    """JSON text for facts and rulesets, with engine-safe numbers."""
    if isinstance(obj, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{encode(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(encode(v) for v in obj) + "]"
    return encode_value(obj)


class Engine:
    """One analysis on durable_rules: register, assert, collect, clean up.

    Use as a context manager. ``rules`` maps an engine rule name to its JSON
    pattern definition (``{"all": [...]}``) and ``actions`` maps the same name
    to a callable receiving ``{pattern_name: matched_fact}``.
    """

    def __init__(self, name: str, rules: Mapping[str, dict], actions: Mapping[str, Action]):
        self._name = name
        self._rules = rules
        self._actions = actions
        self._errors: list[BaseException] = []
        self._ruleset: _durable.Ruleset | None = None

    def __enter__(self) -> Engine:
        definition: dict[str, dict] = {}
        for rule_name, rule in self._rules.items():
            definition[rule_name] = {**json.loads(encode(rule)), "run": self._wrap(self._actions[rule_name])}
        definition[_SENTINEL_RULE] = {"all": [{"m": {"t": SENTINEL_TYPE}}], "run": lambda c: None}
        host = _SyncHost()
        try:
            self._ruleset = _durable.Ruleset(self._name, host, definition)
        except _dre.error as exc:
            raise EngineError(f"the engine refused the compiled rules: {exc}") from None
        self._assert_json('[{"id":"__sentinel__","t":"' + SENTINEL_TYPE + '"}]')
        return self

    def __exit__(self, *exc_info: object) -> None:
        ruleset, self._ruleset = self._ruleset, None
        if ruleset is not None:
            try:
                _dre.delete_state(ruleset._handle, "0")
            finally:
                _dre.delete_ruleset(ruleset._handle)

    def _wrap(self, action: Action) -> Callable[[Any], None]:
        errors = self._errors

        def run(c: Any) -> None:
            try:
                action({name: dict(fact) for name, fact in c._m.items()})
            except BaseException as exc:  # the engine would swallow it
                errors.append(exc)

        return run

    def assert_facts(self, facts: list[dict[str, Any]]) -> None:
        """Assert one batch; facts matching no rule are fine, duplicates are not."""
        if facts:
            self._assert_json(encode(facts))

    def _assert_json(self, text: str) -> None:
        assert self._ruleset is not None, "use Engine as a context manager"
        try:
            code, state_offset = _dre.assert_facts(self._ruleset._handle, text)
        except _dre.error as exc:
            raise EngineError(f"the engine refused a fact: {exc}") from None
        if code == 2:
            raise EngineError("the engine saw a duplicate fact id; a fact was lost")
        outcome: list[BaseException | None] = [None]

        def complete(error: BaseException | None, _state: object) -> None:
            outcome[0] = error

        self._ruleset.do_actions(state_offset, complete)
        if outcome[0] is not None:
            raise EngineError(f"the engine failed while running actions: {outcome[0]}")
        if self._errors:
            raise self._errors[0]
