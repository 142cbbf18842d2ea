"""The durable_rules adapter: the only module that imports durable.

durable_rules is fast but has silent and fatal failure modes (swallowed exceptions, leaking timer threads, hard limits).
This adapter runs one analysis on the engine's C API, with no host and no
threads: it registers a ruleset plus a sentinel rule, asserts facts in
batches, runs the actions synchronously, re-raises exceptions the engine would
swallow, and always frees the state. A ruleset is compiled once per process and
rules: a history or a recommendation evaluates the same rules dozens of times,
and compiling them was a sixth of judging the example's past reviews.
"""

from __future__ import annotations

import json
import math
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import durable_rules_engine as _dre  # the C engine of durable_rules; its Python layer is not used

SENTINEL_TYPE = "__sentinel__"
_SENTINEL_RULE = "__sentinel__"

Action = Callable[[dict[str, dict[str, Any]]], None]


class EngineError(RuntimeError):
    """The engine rejected a ruleset or a fact, or an action failed."""


def fnv1a32(text: str) -> int:
    """The 32-bit FNV-1a hash durable_rules uses to detect duplicate facts."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


_RESERVED_IDS = (SENTINEL_TYPE, "__gate__")  # ids the adapter and the evaluator assert themselves
_ids: list[str] = []
_id_hashes: set[int] = {fnv1a32(reserved) for reserved in _RESERVED_IDS}


def fact_ids(count: int) -> list[str]:
    """``count`` short fact ids (``f0``, ``f1``, ...) that the engine tells apart.

    Sequential ids collide in the 32-bit hash too (``f6059`` and ``f264602``);
    an id that would collide with an earlier one, or with a reserved id, gets a
    ``_`` appended until it does not. The list is computed once per process.
    """
    while len(_ids) < count:
        candidate = f"f{len(_ids)}"
        while (h := fnv1a32(candidate)) in _id_hashes:
            candidate += "_"
        _id_hashes.add(h)
        _ids.append(candidate)
    return _ids[:count]


def encode_value(value: Any) -> str:
    """JSON for one scalar, read by the engine exactly as Python holds it.

    A float is written as ``repr`` writes it (the shortest text that reads back
    as the same number), so nothing is rounded on the way in: 1e-07 stays
    1e-07 and ``probability > 0`` holds for it. The engine's JSON reader takes
    an exponent only after a fraction (``1e-07`` is error 204, ``1.0e-07`` is
    read with strtod), so a fraction is added where ``repr`` leaves it out.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise EngineError(f"integer {value} is beyond the engine's 64-bit integers")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EngineError(f"non-finite number {value!r} cannot be given to the engine")
        mantissa, exponent, power = repr(value).partition("e")
        return f"{mantissa}.0e{power}" if exponent and "." not in mantissa else mantissa + exponent + power
    raise EngineError(f"unsupported value {value!r} for the engine")


_EXPONENT = re.compile(r"[0-9][eE][-+]?[0-9]")
_PLACEHOLDER = re.compile(r'"\\u0000number(\d+)\\u0000"')


def _exponent_prone(value: float) -> bool:
    """Whether ``repr`` writes this float in exponent form (or it is not finite)."""
    return value != 0.0 and not 1e-4 <= abs(value) < 1e16


def encode(obj: Any) -> str:
    """JSON text for facts and rulesets, with engine-safe numbers.

    json.dumps does the work; only when its text may hold a number in exponent
    form (rare: a float below 0.0001 or from 1e16) are such floats written by
    ``encode_value`` instead, with the fraction the engine's reader needs.
    """
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":"))
    except ValueError as exc:
        raise EngineError(f"non-finite number cannot be given to the engine ({exc})") from None
    except TypeError as exc:
        raise EngineError(f"unsupported value for the engine: {exc}") from None
    if ("e-" not in text and "e+" not in text) or _EXPONENT.search(text) is None:  # repr writes 1e-05, 1e+16
        return text
    numbers: list[str] = []

    def plain(value: Any) -> Any:
        if type(value) is float and _exponent_prone(value):
            numbers.append(encode_value(value))
            return f"\x00number{len(numbers) - 1}\x00"
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    text = json.dumps(plain(obj), ensure_ascii=False, check_circular=False, separators=(",", ":"))
    return _PLACEHOLDER.sub(lambda m: numbers[int(m.group(1))], text)


# serve runs analyses in several threads at once (a what-if, a re-rendering, the reviews judged beside the
# optimiser), and nothing in durable_rules' C engine promises that calls on different rulesets may interleave:
# one analysis shard holds the engine from registering its rules to deleting them.
_ONE_AT_A_TIME = threading.RLock()

# compiled rulesets without a state, by their rules' JSON, the most recently used last; a handle is taken out while
# an Engine runs on it. Each rulebook in use has a few shards; a server's organisations may each have their own.
_IDLE_RULESETS: OrderedDict[str, int] = OrderedDict()
IDLE_RULESETS_KEPT = 24


def _take_ruleset(name: str, text: str) -> int:
    """A compiled ruleset for these rules, with no state: an idle one, or a new one."""
    handle = _IDLE_RULESETS.pop(text, None)
    if handle is not None:
        return handle
    try:
        return _dre.create_ruleset(name, text)
    except _dre.error as exc:
        raise EngineError(f"the engine refused the compiled rules: {exc}") from None


def _give_back_ruleset(text: str, handle: int) -> None:
    """Keep a ruleset whose state was freed for the next run of the same rules; free the least recently used."""
    _IDLE_RULESETS[text] = handle
    while len(_IDLE_RULESETS) > IDLE_RULESETS_KEPT:
        _dre.delete_ruleset(_IDLE_RULESETS.popitem(last=False)[1])


class Engine:
    """One analysis on durable_rules: register, assert, collect, clean up.

    Use as a context manager. ``rules`` maps an engine rule name to its JSON
    pattern definition (``{"all": [...]}``) and ``actions`` maps the same name
    to a callable receiving ``{pattern_name: matched_fact}``.

    It drives the C engine directly, as durable_rules' own ``Ruleset`` and
    ``Host`` do minus what a batch analysis must not have: no timer threads, no
    ``json.dumps`` of the rules (it writes floats in exponent form, error 204),
    no batch refused for one unmatched fact, and no exception swallowed.
    """

    def __init__(self, name: str, rules: Mapping[str, dict], actions: Mapping[str, Action]):
        self._name = name
        self._rules = rules
        self._actions: dict[str, Action] = {**actions, _SENTINEL_RULE: lambda matched: None}
        self._errors: list[BaseException] = []
        self._handle: int | None = None
        self._text = ""

    def __enter__(self) -> Engine:
        rules = {**self._rules, _SENTINEL_RULE: {"all": [{"m": {"t": SENTINEL_TYPE}}]}}
        missing = sorted(set(self._rules) - set(self._actions))
        if missing:
            raise EngineError(f"no action for rule(s) {', '.join(missing)}")
        self._text = encode(rules)
        _ONE_AT_A_TIME.acquire()
        try:
            self._handle = _take_ruleset(self._name, self._text)
            # delete_state crashes on a state where no action ever ran: the sentinel's action always runs
            self._assert_json('[{"id":"__sentinel__","t":"' + SENTINEL_TYPE + '"}]')
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Free the state; keep the ruleset for the same rules' next run, unless anything went wrong in this one."""
        handle, self._handle = self._handle, None
        try:
            if handle is not None:
                clean = False
                try:
                    _dre.delete_state(handle, "0")
                    clean = not self._errors and (not exc_info or exc_info[0] is None)
                finally:
                    if clean:
                        _give_back_ruleset(self._text, handle)
                    else:
                        _dre.delete_ruleset(handle)
        finally:
            _ONE_AT_A_TIME.release()

    def assert_facts(self, facts: list[dict[str, Any]]) -> None:
        """Assert one batch; facts matching no rule are fine, duplicates are not."""
        if facts:
            self._assert_json(encode(facts))

    def _assert_json(self, text: str) -> None:
        assert self._handle is not None, "use Engine as a context manager"
        try:
            code, state_offset = _dre.assert_facts(self._handle, text)
        except _dre.error as exc:
            raise EngineError(f"the engine refused a fact: {exc}") from None
        if code == 2:
            raise EngineError("the engine saw a duplicate fact id; a fact was lost")
        try:
            self._run_actions(state_offset)
        except _dre.error as exc:
            raise EngineError(f"the engine failed while running actions: {exc}") from None
        if self._errors:
            raise self._errors[0]

    def _run_actions(self, state_offset: int) -> None:
        """Run every pending action, one at a time, as durable_rules' ``Ruleset.do_actions`` does."""
        handle = self._handle
        started = _dre.start_action_for_state(handle, state_offset)
        if not started:
            return
        state, pending = started[0], json.loads(started[1])
        while pending:
            rule_name, matched = next(iter(pending.items()))
            try:
                self._actions[rule_name](matched)
            except BaseException as exc:  # the engine would swallow it (even KeyboardInterrupt)
                self._errors.append(exc)
            _dre.update_state(handle, state)  # the state is unchanged: actions only collect
            following = _dre.complete_and_start_action(handle, state_offset)
            pending = json.loads(following) if following else None
