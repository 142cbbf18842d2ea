"""``pmorules.toml``: per-workspace settings (DESIGN.md §4).

Every number in it follows the number policy (numbers.py) and every problem,
from a bad byte to a setting out of range, is reported at its line.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Diagnostic, InputError, Location, did_you_mean
from .inputs import decode_text, read_input
from .numbers import Finite, number_problem
from .vocabulary import Approach, Level

CONFIG_NAME = "pmorules.toml"
MAX_DEPTH = 32  # settings nest three levels; deeper only exhausts recursion
Scalar = Union[bool, int, float, str]
NonNegative = Annotated[Finite, Field(ge=0)]


class RuleSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    enabled: bool | None = None
    level: Level | None = None
    params: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class MixSettings(BaseModel):
    """Settings of the recommended mix (``[mix]``)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    capacity: NonNegative | None = None  # effort cap; default: today's total effort
    candidate_effort: NonNegative = 5.0  # effort of a catalogue service not offered yet
    candidate_probability: Annotated[Finite, Field(ge=0, le=1)] = 0.6  # its probability
    change_cost: NonNegative = 0.01  # adherence given up per service added or dropped
    # ... and per change of approach: it keeps the service and its people, so it comes first (DOMAIN.md §5(c)).
    approach_change_cost: NonNegative = 0.005
    include_catalogue: bool = True
    efforts: dict[str, NonNegative] = Field(default_factory=dict)  # per candidate not active yet
    # Approaches a service may move to when one of its harms applies only in its current approach.
    approaches: list[Approach] = Field(default_factory=lambda: ["supportive", "facilitative"])


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    rule_paths: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    default_rules: bool = True
    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    mix: MixSettings = Field(default_factory=MixSettings)


class ConfigFile(BaseModel):
    """The parsed config plus what is needed to point at its lines."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: Config
    path: str | None = None
    text: str = ""

    def where(self, *keys: str) -> Location:
        """The line of a key path such as ('rules', 'BAL005', 'level'); the file if not found."""
        if self.path is None:
            return Location(CONFIG_NAME)
        for end in range(len(keys), 0, -1):  # a key inside an inline table: the line of the table
            line = _find_line(self.text, keys[:end])
            if line is not None:
                return Location(self.path, line)
        return Location(self.path)


def _find_line(text: str, keys: tuple[str, ...]) -> int | None:
    lines = text.splitlines()
    table = ".".join(keys[:-1]) if len(keys) > 1 else ""
    section = ""
    best: int | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            section = header.group(1).replace('"', "").replace(" ", "")
            if section == ".".join(keys):
                return number
            continue
        key = re.match(r"^([A-Za-z0-9_\"\.-]+)\s*=", stripped)
        if not key:
            continue
        full = (section + "." if section else "") + key.group(1).replace('"', "")
        if full == ".".join(keys) or (table and full.startswith(table + ".") and full.endswith("." + keys[-1])):
            return number
        if full.startswith(".".join(keys) + ".") or (best is None and keys[-1] in full.split(".")):
            best = best or number
    return best


def load_config(workspace: Path, shown: str) -> ConfigFile:
    """Read ``pmorules.toml`` of a workspace (defaults when there is none)."""
    path = workspace / CONFIG_NAME
    display = str(Path(shown) / CONFIG_NAME)
    if not os.path.lexists(path):
        return ConfigFile(config=Config())
    text = decode_text(read_input(path, display, inside=workspace), display)
    try:
        raw: dict[str, Any] = tomllib.loads(text, parse_float=_Written)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = Location(display, int(match.group(1)), int(match.group(2))) if match else Location(display)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputError([Diagnostic(where, f"TOML syntax error: {message}")]) from None
    except RecursionError:
        raise InputError([Diagnostic(Location(display), "TOML error: values are nested too deeply")]) from None
    holder = ConfigFile(config=Config(), path=display, text=text)
    problems: list[Diagnostic] = []
    raw = _checked_numbers(raw, (), holder, problems)
    if problems:
        raise InputError(problems)
    rules = raw.get("rules")
    if isinstance(rules, list):  # `rules = ["rules"]`: extra rule paths (DESIGN.md §4)
        raw = {**raw, "rules": {}, "rule_paths": raw.get("rule_paths", []) + rules}
    elif isinstance(rules, dict) and "paths" in rules:
        rules = dict(rules)
        raw = {**raw, "rules": rules, "rule_paths": raw.get("rule_paths", []) + list(rules.pop("paths"))}
    try:
        holder.config = Config.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            keys = tuple(str(p) for p in error["loc"])
            if error["type"] == "extra_forbidden":
                section = Config if len(keys) == 1 else (RuleSetting if keys[0] == "rules" else MixSettings)
                message = f"unknown setting {keys[-1]!r}"
                hint = did_you_mean(keys[-1], list(section.model_fields))
            else:
                message = f"{'.'.join(keys)}: {error['msg']}"
                hint = None
            errors.append(Diagnostic(holder.where(*keys), message, hint))
        raise InputError(errors) from None
    return holder


class _Written(float):
    """A TOML float that remembers how it was written (``1e400`` reads as infinite), for the message."""

    def __new__(cls, text: str) -> _Written:
        value = super().__new__(cls, text)
        value.text = text
        return value


def _checked_numbers(value: Any, keys: tuple[str, ...], holder: ConfigFile, problems: list[Diagnostic]) -> Any:
    """``value`` with plain floats; each number that breaks the number policy is a problem at its line."""
    if len(keys) > MAX_DEPTH:
        problems.append(Diagnostic(holder.where(*keys[:2]), f"{'.'.join(keys[:2])}: nested more than {MAX_DEPTH} levels deep"))
        return None
    if isinstance(value, dict):
        return {key: _checked_numbers(item, keys + (str(key),), holder, problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_checked_numbers(item, keys, holder, problems) for item in value]
    problem = number_problem(value, getattr(value, "text", None))
    if problem:
        problems.append(Diagnostic(holder.where(*keys), f"{'.'.join(keys)}: {problem}"))
    return float(value) if isinstance(value, _Written) else value
