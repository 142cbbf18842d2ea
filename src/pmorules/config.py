"""``pmorules.toml``: per-workspace settings (README, "Adapting the rules").

Every number in it follows the number policy (numbers.py) and every problem,
from a bad byte to a setting out of range, is reported at its line.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .errors import Diagnostic, InputError, Location, did_you_mean, plain_message
from .inputs import decode_text, read_input
from .measures import Conventions
from .numbers import number_problem
from .output import CONFIG_NAME, Protected, workspace_reads
from .vocabulary import Approach, Level

MAX_DEPTH = 32  # settings nest three levels; deeper only exhausts recursion
Scalar = Union[bool, int, float, str]


class RuleSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    enabled: bool | None = None
    level: Level | None = None
    params: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class CandidateSettings(BaseModel):
    """What the mix assumes of one candidate not running yet (``[mix.candidates.<id>]``): each value replaces
    the catalogue's (or the proposed service's) when the mix proposes to add it."""

    model_config = ConfigDict(extra="forbid")

    effort: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)  # efforts as the knowledge bounds them
    probability: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    months_to_value: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    clients: list[str] | None = None  # the workspace's clients it would serve


class MixSettings(BaseModel):
    """Settings of the recommended mix (``[mix]``; docs/mix.md explains each in a PMO lead's words).

    Every cost is in points of overall goal adherence (0.01 = one point), the unit of the objective.
    """

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    capacity: float | None = Field(default=None, ge=0, le=1e9)  # effort cap; default: organisation.capacity when stated, else today's total effort
    candidate_effort: float = Field(default=5.0, ge=0, le=1e9)  # effort of a catalogue service not offered yet
    candidate_probability: float = Field(default=0.6, ge=0, le=1)  # its probability
    include_catalogue: bool = True
    candidates: dict[str, CandidateSettings] = Field(default_factory=dict)  # per candidate not running yet
    never: list[str] = Field(default_factory=list)  # candidates the mix must never add
    change_cost: float = Field(default=0.01, ge=0)  # per service added, or dropped when a warning or error is about it
    # An option to assess (an addition whose effort or probability nobody stated) costs this much more than an
    # assessed one: its figures are assumptions (docs/mix.md, "Options worth assessing").
    unassessed_cost: float = Field(default=0.03, ge=0)
    drop_working_cost: float = Field(default=0.06, ge=0)  # per service dropped that no warning or error is about
    # Per change of approach: it keeps the service and its people, so it costs less than a drop, but it
    # retrains the team and resets what clients expect (docs/mix.md, "A change of approach is not free").
    approach_change_cost: float = Field(default=0.02, ge=0)
    # How much a change of approach moves a running service's probability while its team relearns how it works
    # and its clients adjust (docs/mix.md, "A change of approach is not free"); what the move gains is counted
    # where it shows, in the harms it ends.
    approach_change_probability: float = Field(default=-0.05, ge=-1, le=1, allow_inf_nan=False)
    resize_cost: float = Field(default=0.04, ge=0)  # per whole effort of a service moved (a 25% step costs a quarter)
    # Effort steps a running or proposed service may move by, as fractions of its effort today.
    resize_steps: list[Annotated[float, Field(gt=-1, allow_inf_nan=False)]] = Field(
        default_factory=lambda: [-0.25, 0.25])
    # Effort moves in steps a manager allocates: fte_step FTE when organisation.capacity_fte is stated,
    # else percent_step percentage points of the capacity (docs/mix.md, "Resizing").
    fte_step: float = Field(default=0.25, gt=0, allow_inf_nan=False)
    percent_step: float = Field(default=1.0, gt=0, le=100, allow_inf_nan=False)  # at most the whole capacity
    # How effort changes probability: p' = 1 - (1 - p) ** (1 + elasticity * (effort'/effort - 1)).
    resize_elasticity: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    warning_cost: float = Field(default=0.05, ge=0)  # a finding of a warning-level rule the mix keeps
    info_cost: float = Field(default=0.005, ge=0)  # a finding of an info-level rule
    miss_cost: float = Field(default=1.0, ge=0)  # times the level's cost, per whole unit the mix misses a bound by
    late_value: float = Field(default=0.25, ge=0, le=1)  # what a goal delivered after its deadline is worth, against in time
    new_finding_factor: float = Field(default=100.0, ge=1)  # a finding today's mix does not have costs this many times more
    verify_rounds: int = Field(default=8, ge=0)  # re-solves that cut off a mix the full rulebook finds a new problem in
    # Approaches a service may move to when its approach decides one of its harms or whether it controls.
    approaches: list[Approach] = Field(default_factory=lambda: ["supportive", "facilitative"])


class ReportSettings(BaseModel):
    """How the report's front page ranks the decisions it asks for (``[report]``; README, "The steering pack").

    A decision's weight is goal priority × client weight × urgency × severity: urgency is
    ``1 / (1 + months to the goal's date / urgency_months)`` (a goal due in ``urgency_months`` counts half of
    one due now), severity the weight of the gravest finding behind it.
    """

    model_config = ConfigDict(extra="forbid")

    decisions: int = Field(default=5, ge=0, le=20)  # the most decisions the front page asks for
    urgency_months: float = Field(default=6.0, gt=0, allow_inf_nan=False)
    error_weight: float = Field(default=3.0, ge=0, allow_inf_nan=False)
    warning_weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    info_weight: float = Field(default=0.0, ge=0, allow_inf_nan=False)  # 0: an info finding never asks a decision
    unlinked_weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)  # a service or the mix no goal names


class AdherenceSettings(BaseModel):
    """How service-to-outcome links count towards a goal's adherence (``[adherence]``; docs/measures.md)."""

    model_config = ConfigDict(extra="forbid")

    primary: float = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)  # a link the outcome needs
    supporting: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)  # a link that helps
    redundancy: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)  # credit for backup services

    def conventions(self) -> Conventions:
        return Conventions(self.primary, self.supporting, self.redundancy)


# A git revision as a user names it (v1.0, main~3, a commit id): never an option, never whitespace.
REVISION = re.compile(r"[^-\s][^\s]*")


def revision_problem(rev: str) -> str | None:
    """Why ``rev`` cannot be a git revision (it is passed to git as an argument, so it must not read as an option)."""
    if REVISION.fullmatch(rev) is None or any(ord(c) < 32 or ord(c) == 127 for c in rev):
        return f"{rev!r} is not a git revision (a tag, branch or commit id, not starting with '-', no spaces)"
    return None


def _a_day(value: Any) -> Any:
    """A TOML date or an ISO text: a number (pydantic would read it as a Unix time) or a time of day is refused."""
    if isinstance(value, dt.datetime) or isinstance(value, dt.time):
        raise ValueError("should be a day, without a time: date = 2025-12-19")
    if isinstance(value, dt.date) or (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        return value
    raise ValueError("should be a date, written date = 2025-12-19")


class Review(BaseModel):
    """A past review of the PMO (``[history.<id>]``): a snapshot of the workspace as it was then.

    The snapshot is a folder (``path``, relative to the workspace; its own subfolder, so its files are never
    read as the workspace's knowledge) or a git revision of this workspace (``rev``). It is judged with the
    workspace's current rules and config, as of ``date`` (the day of the review).
    """

    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, min_length=1)  # as shown in the report; default: the table's key
    date: Annotated[dt.date, BeforeValidator(_a_day)]
    path: str | None = Field(default=None, min_length=1)
    rev: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> Review:
        if (self.path is None) == (self.rev is None):
            raise ValueError("give path (a folder) or rev (a git revision), exactly one")
        if self.rev is not None and (problem := revision_problem(self.rev)):
            raise ValueError(problem)
        if self.path is not None and "\0" in self.path:
            raise ValueError(f"path {self.path!r} holds a NUL character, which no file name can hold")
        if self.path is not None and Path(self.path).is_absolute():
            raise ValueError(f"path {self.path!r} must be relative to the workspace")
        return self


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    rule_paths: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    default_rules: bool = True
    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    mix: MixSettings = Field(default_factory=MixSettings)
    adherence: AdherenceSettings = Field(default_factory=AdherenceSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    history: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")], Review] = Field(default_factory=dict)

    def reviews(self) -> list[tuple[str, Review]]:
        """The past reviews by date, oldest first, each with its key."""
        return sorted(self.history.items(), key=lambda item: item[1].date)

    def inputs(self, workspace: Path, files: Iterable[Path] = ()) -> Protected:
        """Everything an analysis of ``workspace`` reads under this config, for the writer to protect: the
        knowledge ``files`` plus what the config names (rule paths, templates, review snapshot folders)."""
        snapshots = [review.path for _, review in self.reviews() if review.path is not None]
        return workspace_reads(workspace, files, self.rule_paths, self.templates, snapshots)


class ConfigFile(BaseModel):
    """The parsed config plus what is needed to point at its lines."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: Config
    path: str | None = None
    text: str = ""

    def where(self, *keys: str) -> Location:
        """The line and column of a key path such as ('rules', 'BAL005', 'level'); the file if not found."""
        if self.path is None:
            return Location(CONFIG_NAME)
        for end in range(len(keys), 0, -1):  # a key inside an inline table: the line of the table
            line = _find_line(self.text, keys[:end])
            if line is not None:
                written = self.text.split("\n")[line - 1]
                # at the key, or at the setting inside an inline table on that line
                inner = re.search(rf"[{{,]\s*(\"?){re.escape(keys[-1])}\1\s*=", written)
                column = inner.start(1) + 1 if inner else len(written) - len(written.lstrip()) + 1
                return Location(self.path, line, column)
        return Location(self.path)

    def where_rule_paths(self) -> Location:
        """Where the rule paths are written: ``rule_paths``, else a short form (``[rules] paths``, ``rules = [...]``)."""
        for keys in (("rule_paths",), ("rules", "paths"), ("rules",)):
            if (found := self.where(*keys)).line is not None:
                return found
        return self.where()


def _find_line(text: str, keys: tuple[str, ...]) -> int | None:
    """The line of a setting: where its key is written, else the nearest enclosing one written (the table of a
    missing key, the inline table holding it), else the first key written under it (its column: where the line's
    key or table header starts)."""
    wanted = ".".join(keys)
    section = ""
    enclosing: tuple[int, int] | None = None  # (depth, line) of the deepest key or table that holds the setting
    under: int | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            section = header.group(1).replace('"', "").replace(" ", "")
            full = section
        elif key := re.match(r"^([A-Za-z0-9_\"\.-]+)\s*=", stripped):
            full = (section + "." if section else "") + key.group(1).replace('"', "")
        else:
            continue
        if full == wanted:
            return number
        depth = full.count(".") + 1
        if wanted.startswith(full + ".") and (enclosing is None or depth > enclosing[0]):
            enclosing = (depth, number)
        elif under is None and full.startswith(wanted + "."):
            under = number
    return under if under is not None else enclosing[1] if enclosing else None


@dataclass
class ConfigErrors(InputError):
    """The errors of ``pmorules.toml``, with the file read without the settings in error (None when even that does
    not hold): the rule files are still checked against its ``[rules.ID]`` tables, so that a bad level does not
    hide a misspelt param of the same rule."""

    partial: ConfigFile | None = None


RULE_SOURCES = ("rule_paths", "default_rules")  # settings that decide which rules exist


def _without(raw: dict[str, Any], faults: list[tuple], holder: ConfigFile) -> ConfigFile | None:
    """The file's settings less each one in error (``faults``: their key paths), or None when they still fail."""
    kept = copy.deepcopy(raw)
    doomed = {}  # found first, deleted after: a deletion must not make the next fault's path end higher up
    for keys in faults:  # the deepest key of the path the file has (a path may go on into a type's name)
        place, holding, key = kept, None, None
        for part in keys:
            if not (isinstance(place, dict) and part in place):
                break
            holding, key, place = place, part, place[part]
        if holding is not None:
            doomed[(id(holding), key)] = holding
    for (_, key), holding in doomed.items():
        holding.pop(key, None)
    try:
        return ConfigFile(config=Config.model_validate(kept), path=holder.path, text=holder.text)
    except ValidationError:
        return None


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
        raise InputError([Diagnostic(Location(display, *_too_deep(text)), "TOML error: values are nested too deeply")]) from None
    holder = ConfigFile(config=Config(), path=display, text=text)
    problems: list[Diagnostic] = []  # every error of the file at once: a bad number hid the unknown settings
    raw = _checked_numbers(raw, (), holder, problems)
    before = len(problems)
    raw = _rule_paths_merged(raw, holder, problems)
    paths_read = len(problems) == before  # else which rules the file may configure is unknown: no partial config
    try:
        holder.config = Config.model_validate(raw)
    except ValidationError as exc:
        errors, faults = [], []
        for error in exc.errors():
            keys = tuple(str(p) for p in error["loc"])
            a_param = keys[0] == "rules" and len(keys) > 4 and keys[2] == "params"  # the path goes on into its type
            keys = keys[:4] if a_param else keys
            faults.append(keys[:2] if keys[0] == "history" else keys)  # a review less a required field is no review
            if error["type"] == "extra_forbidden":
                sections = {"rules": RuleSetting, "adherence": AdherenceSettings, "history": Review,
                            "report": ReportSettings, "mix": MixSettings}
                section = Config if len(keys) == 1 else sections.get(keys[0], Config)
                if section is MixSettings and len(keys) > 3 and keys[1] == "candidates":
                    section = CandidateSettings
                message = f"unknown setting {keys[-1]!r}"
                hint = did_you_mean(keys[-1], list(section.model_fields))
            elif keys[0] == "history" and keys[-1] == "[key]":
                lines = text.split("\n")
                line = next((n for n, written in enumerate(lines, 1) if written.lstrip().startswith("[") and keys[1] in written), None)
                column = len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1 if line else None
                errors.append(Diagnostic(Location(display, line, column), f"history: {keys[1]!r} is not a review id",
                                         "name each review [history.<id>] with letters, digits, '_' or '-', and give it a label"))
                continue
            elif a_param:  # one word for every branch of its type
                message, hint = f"{'.'.join(keys)}: should be a number, true or false, a text, or a list of these", None
            elif error["type"] == "missing":
                message, hint = f"{'.'.join(keys)}: required setting is missing", None
            else:
                message, hint = f"{'.'.join(keys)}: {plain_message(error['msg'], 'a table')}", None
            errors.append(Diagnostic(holder.where(*keys), message, hint))
        said = {d.location for d in problems}  # a number already reported is not reported again by the model
        paths_read = paths_read and not any(keys[0] in RULE_SOURCES for keys in faults)
        raise ConfigErrors(problems + [e for e in dict.fromkeys(errors) if e.location not in said],
                           _without(raw, faults, holder) if paths_read else None) from None
    if problems:
        raise ConfigErrors(problems, holder if paths_read else None)
    _check_history(holder)
    return holder


def _too_deep(text: str) -> tuple[int, int]:
    """Line and column where arrays and inline tables first nest more than ``MAX_DEPTH`` levels (1, 1 if nowhere).

    Only brackets and braces outside strings and comments count; the parser's own error has no position.
    """
    depth, line, col, quote, at = 0, 1, 0, "", 0
    while at < len(text):
        char = text[at]
        col += 1
        if char == "\n":
            line, col = line + 1, 0
        elif quote:
            if text.startswith(quote, at):
                at, col, quote = at + len(quote), col + len(quote) - 1, ""
                continue
            if char == "\\" and quote[0] == '"':
                at, col = at + 2, col + 1
                continue
        elif char == "#":
            at = text.find("\n", at)
            at = len(text) if at < 0 else at
            continue
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, at) else char
            at, col = at + len(quote), col + len(quote) - 1
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, col
        elif char in "]}":
            depth -= 1
        at += 1
    return 1, 1


def _rule_paths_merged(raw: dict[str, Any], holder: ConfigFile, problems: list[Diagnostic]) -> dict[str, Any]:
    """``rules = [...]`` and ``[rules] paths = [...]``, the short forms of ``rule_paths``, merged into it.

    A value of the wrong type is left for the model to report at its line, never joined into a list.
    """
    rules = raw.get("rules")
    if isinstance(rules, list):  # `rules = ["rules"]`: extra rule paths
        more, rest, key = rules, {}, ("rules",)
    elif isinstance(rules, dict) and "paths" in rules:
        more, rest, key = rules["paths"], {k: v for k, v in rules.items() if k != "paths"}, ("rules", "paths")
    else:
        return raw
    if not isinstance(more, list):
        problems.append(Diagnostic(holder.where(*key), f"{'.'.join(key)}: should be a list of rule folders or files"))
        return {**raw, "rules": rest}
    given = raw.get("rule_paths", [])
    return {**raw, "rules": rest, "rule_paths": given + more if isinstance(given, list) else given}


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


def _check_history(holder: ConfigFile) -> None:
    """One review a day: the trend has one point per review, in date order."""
    first: dict[dt.date, str] = {}
    errors = []
    for key, review in holder.config.history.items():
        if review.date in first:
            errors.append(Diagnostic(holder.where("history", key, "date"), f"history.{key}: the review "
                                     f"{first[review.date]!r} has the same date", "give each review its own date"))
        first.setdefault(review.date, key)
    if errors:
        raise ConfigErrors(errors, holder)
