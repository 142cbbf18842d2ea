"""Load rule files and layer them: defaults, organisation overlays, config.

The default rulebook comes first; then every overlay folder (the workspace's
``rules/`` and the paths in ``pmorules.toml``). An overlay rule either adds a
new id, or says ``extends: ID`` and overrides fields of that rule. Finally the
config's ``[rules.ID]`` tables switch rules on or off and set level and params.
Every setting remembers where it came from, for ``why`` and the report.

A workspace's rule folders and ``rule_paths`` must stay inside the workspace
(symlinks resolved), as its knowledge and templates do (inputs.py): rules are
text that reaches the report, and a workspace may be run by someone else. To
share rules between workspaces, copy them in, or check them with
``pmorules rules check PATH``, whose command-line paths may be anywhere.
Two rule ids that differ only in case are an error: the engine names rules in
lower case, so one would silently lose its findings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config import ConfigFile
from ..errors import Diagnostic, InputError, Location, did_you_mean
from ..gcpause import gc_paused
from ..inputs import kind_of, list_folder, resolve_inside
from ..paths import default_rules_dir
from ..yamlio import locate, read_yaml
from .spec import REQUIRED_FOR_BASE, Op, RuleSpec, RuleTest


@dataclass
class Rule:
    """An effective rule: the merged spec, its param values, and the origin of every setting."""

    spec: RuleSpec
    source: Location
    params: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)  # "level", "params.x", "enabled" -> who set it
    overlay: bool = False  # defined or changed by the organisation
    raw_locations: dict[str, Location] = field(default_factory=dict)  # field -> location in its rule file
    param_sources: dict[str, Location] = field(default_factory=dict)  # param -> where an overlay or the config set it
    case_params: dict[str, Any] | None = None  # the params its test cases were written for (None: its defaults)

    def written_for(self) -> dict[str, Any]:
        """The params its test cases were written for: an overlay that changes a threshold and writes no cases
        of its own keeps the cases of the rule it extends, which test that rule's thresholds."""
        return self.case_params if self.case_params is not None else {n: p.default for n, p in self.spec.params.items()}

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def level(self) -> str:
        return str(self.spec.level)

    @property
    def enabled(self) -> bool:
        return self.spec.enabled


@dataclass
class RuleBook:
    rules: dict[str, Rule]
    files: list[tuple[str, Path]]

    def enabled(self) -> list[Rule]:
        return [r for r in sorted(self.rules.values(), key=lambda r: r.id) if r.enabled]


RULE_SUFFIXES = (".yaml", ".yml")


def rule_files(folder: Path, prefix: str, inside: Path | None = None) -> tuple[list[tuple[Path, str]], list[Diagnostic]]:
    """(path, display) of every rule file under a folder, and the problems met on the way.

    Every entry with a rule suffix (in any case) is listed, whatever it is, so
    a broken symlink or a FIFO is reported when read rather than skipped;
    subfolders are followed (inside ``inside``, once each).
    """
    found: list[tuple[Path, str]] = []
    errors: list[Diagnostic] = []
    seen: set[Path] = set()

    def walk(current: Path, display: str) -> None:
        try:
            real = resolve_inside(current, display, inside)
            if real in seen:
                return
            seen.add(real)
            entries = list_folder(current, display)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            return
        for entry in entries:
            path, shown = Path(entry.path), str(Path(display) / entry.name)
            if entry.name.lower().endswith(RULE_SUFFIXES):
                found.append((path, shown))
            elif entry.is_dir():
                walk(path, shown)

    walk(folder, prefix)
    return found, errors


def read_rule_file(
    path: Path, display: str, inside: Path | None = None
) -> tuple[list[tuple[RuleSpec, Location, dict[str, Location]]], list[Diagnostic]]:
    """Parse one rule file: a single rule, a list of rules, or ``rules: [...]``."""
    raw = read_yaml(path, display, inside)
    if raw is None:
        return [], []
    if isinstance(raw, dict) and "rules" in raw and "id" not in raw:
        items, base = raw["rules"], ("rules",)
        container = raw["rules"]
    elif isinstance(raw, dict):
        items, base, container = [raw], (), None
    else:
        items, base, container = raw, (), raw
    if not isinstance(items, list):
        return [], [Diagnostic(locate(raw, (), display), "a rule file holds a rule, or a list of rules")]
    out, errors = [], []
    for index, item in enumerate(items):
        path_to = base + (index,) if container is not None else ()
        if not isinstance(item, dict):
            errors.append(Diagnostic(locate(raw, path_to, display), "a rule must be a mapping"))
            continue
        try:
            spec = RuleSpec.model_validate(item)
        except ValidationError as exc:
            for error in _relevant_errors(item, exc.errors()):
                loc = tuple(error["loc"])
                message = error["msg"].replace("Value error, ", "")
                hint = None
                name = ".".join(str(p) for p in loc if not isinstance(p, int)) or "rule"
                if error["type"] == "extra_forbidden":
                    message = f"unknown key {loc[-1]!r}"
                    hint = did_you_mean(str(loc[-1]), _keys_at(loc[:-1]))
                elif error["type"] == "enum" and loc and loc[-1] == "op":
                    ops = [op.value for op in Op]
                    message = f"{name}: unknown operator {error['input']!r}"
                    hint = did_you_mean(str(error["input"]), ops) or f"use one of {', '.join(ops)}"
                else:
                    message = f"{name}: {message}"
                errors.append(Diagnostic(locate(raw, path_to + loc, display), message, hint))
            continue
        keys = {k: locate(raw, path_to + (k,), display) for k in item}
        keys |= _clause_locations(raw, path_to, item, display)
        out.append((spec, locate(raw, path_to + ("id",), display), keys))
    return out, errors


_BRANCHES = {"AnyOf": "any", "AllOf": "all", "Condition": None}


def _branch(tag: Any) -> str | None:
    """The clause model a pydantic union-branch tag in an error location names, if it is one."""
    return next((model for model in _BRANCHES if isinstance(tag, str) and model in tag), None)


def _relevant_errors(item: dict[str, Any], errors: list[Any]) -> list[Any]:
    """Errors without the noise of the clause union: only those of the branch the clause was meant as.

    A condition with a mistyped operator fails as a Condition, but also as an
    ``any`` group and an ``all`` group; a clause with an ``any`` key is meant as
    a group, every other clause as a condition. Branch tags leave the location.
    """
    out = []
    for error in errors:
        node: Any = item
        loc: list[Any] = []
        keep = True
        for step in error["loc"]:
            model = _branch(step)
            if model is not None and isinstance(node, dict) and step not in node:
                meant = next((m for m, key in _BRANCHES.items() if key and key in node), "Condition")
                keep = keep and model == meant
                continue
            loc.append(step)
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                node = None
        if keep:
            out.append({**error, "loc": tuple(loc)})
    return out


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where an unknown key was found, for a hint."""
    names = [p for p in loc if isinstance(p, str)]
    if not names:
        return list(RuleSpec.model_fields)
    if names[0] == "match":
        if len(names) == 1:
            return ["fact", "as", "absent", "where"]
        return ["field", "op", "value", "param", "ref", "times", "plus", "any", "all"]
    if names[0] == "tests":
        return list(RuleTest.model_fields)
    if names[0] == "params":
        return ["default", "description"]
    return list(RuleSpec.model_fields)


def _clause_locations(raw: Any, base: tuple[Any, ...], item: dict[str, Any], display: str) -> dict[str, Location]:
    """Where each pattern and condition of a rule is, keyed ``match[0].where[1].field``, for the compiler's errors;
    and each test case, its params and facts (``tests[0].facts[1]``), for the errors of ``rules test``."""
    out: dict[str, Location] = {}

    def walk(loc: tuple[Any, ...], clauses: Any, path: str) -> None:
        if not isinstance(clauses, list):
            return
        for index, clause in enumerate(clauses):
            here, at = f"{path}[{index}]", loc + (index,)
            out[here] = locate(raw, at, display)
            if isinstance(clause, dict):
                for key in clause:
                    out[f"{here}.{key}"] = locate(raw, at + (key,), display)
                for group in ("any", "all"):
                    walk(at + (group,), clause.get(group), f"{here}.{group}")

    tests = item.get("tests")
    for index, case in enumerate(tests if isinstance(tests, list) else []):  # each case, its facts and its params
        here, at = f"tests[{index}]", base + ("tests", index)
        out[here] = locate(raw, at, display)
        if isinstance(case, dict):
            for key in ("params", "facts"):
                out[f"{here}.{key}"] = locate(raw, at + (key,), display)
            facts = case.get("facts")
            for number in range(len(facts) if isinstance(facts, list) else 0):
                out[f"{here}.facts[{number}]"] = locate(raw, at + ("facts", number), display)
    match = item.get("match")
    for index, pattern in enumerate(match if isinstance(match, list) else []):
        if isinstance(pattern, dict):
            here, at = f"match[{index}]", base + ("match", index)
            out[here] = locate(raw, at, display)
            for key in pattern:
                out[f"{here}.{key}"] = locate(raw, at + (key,), display)
            walk(at + ("where",), pattern.get("where"), f"{here}.where")
    return out


USES_PARAMS = ("match", "message", "why", "recommendation", "implies")  # what an overlay may give to use a new param


def _unknown_params(base: Rule, overlay: RuleSpec) -> list[str]:
    """The params an overlay sets that the rule it extends does not have, when the overlay gives nothing that
    could read them (a misspelt threshold would otherwise change nothing, silently)."""
    given = overlay.model_fields_set
    if "params" not in given or any(field in given for field in USES_PARAMS):
        return []
    return [name for name in overlay.params if name not in base.spec.params]


def _merge(base: Rule, overlay: RuleSpec, where: Location, keys: dict[str, Location]) -> Rule:
    """Apply an ``extends`` overlay: given fields win, params merge by name."""
    data = base.spec.model_dump(by_alias=True, exclude_unset=False)
    given = overlay.model_dump(by_alias=True, exclude_unset=True)
    origins = dict(base.origins)
    for key, value in given.items():
        if key in ("id", "extends"):
            continue
        if key == "params":
            merged = dict(data.get("params") or {})
            for name, param in value.items():
                merged[name] = {**merged.get(name, {}), **param}  # a new value keeps the param's description
                origins[f"params.{name}"] = f"{where.short()} (extends {base.id})"
            data["params"] = merged
        else:
            data[key] = value
            origins[key] = f"{where.short()} (extends {base.id})"
    spec = RuleSpec.model_validate(data)
    inherited = {k: v for k, v in base.raw_locations.items() if not ("match" in keys and k.startswith("match["))}
    raw_locations = inherited | {k: v for k, v in keys.items() if k not in ("id", "extends")}
    params = {name: p.default for name, p in spec.params.items()}
    param_sources = {name: where for name, where in base.param_sources.items() if name in params}
    param_sources |= {name: keys.get("params", where) for name in given.get("params", {})}
    case_params = None if "tests" in given else base.written_for()
    return Rule(spec, base.source, params, origins, True, raw_locations, param_sources, case_params)


def load_rulebook(config: ConfigFile, workspace: Path | None, shown: str = ".", confine: bool = True) -> RuleBook:
    """All effective rules for a workspace (or the default rulebook alone).

    With ``confine`` the workspace's rule files (its ``rules/`` and its rule paths)
    must lie inside it; without, the rule paths were given on the command line,
    may be anywhere, and are the only rule files read besides the defaults.
    The cyclic garbage collector is paused meanwhile, as for loading knowledge:
    after a large workspace was loaded, a full collection would otherwise
    land here and take ten times as long as reading the rules.
    """

    with gc_paused():
        return _load_rulebook(config, workspace, shown, confine)


def extends_any(path: Path) -> bool:
    """Whether a rule file at ``path`` (a file, or the rule files of a folder) extends another rule: a
    rule path from the command line is then read over the default rulebook, and alone otherwise."""
    files = [(path, str(path))] if path.is_file() else rule_files(path, str(path))[0]
    for file, display in files:
        try:
            specs, _ = read_rule_file(file, display)
        except InputError:
            continue  # its errors are reported when the rulebook is read
        if any(spec.extends for spec, _, _ in specs):
            return True
    return False


def _rule_sources(
    config: ConfigFile, workspace: Path | None, shown: str, confine: bool, errors: list[Diagnostic]
) -> list[tuple[Path, str, bool, Path | None]]:
    """(file, display, is an overlay, folder it must stay in) of every rule file, defaults first."""
    sources: list[tuple[Path, str, bool, Path | None]] = []
    if config.config.default_rules:
        files, problems = rule_files(default_rules_dir(), "rules")
        sources += [(path, display, False, None) for path, display in files]
        errors.extend(problems)
    if workspace is None:
        return sources
    inside = workspace if confine else None
    own = ["rules"] if confine else []  # a workspace's rules/ folder; paths from the command line are all there is
    for rel in own + [p for p in config.config.rule_paths if p.rstrip("/") not in own]:
        path, display = workspace / rel, str(Path(shown) / rel)
        where = config.where_rule_paths() if confine else Location(display)  # the command line names it itself
        if not os.path.lexists(path):
            if rel not in own:
                errors.append(Diagnostic(where, f"rule path {rel!r} does not exist"))
            continue
        try:
            real = resolve_inside(path, display, inside)
        except InputError as exc:
            errors.extend(Diagnostic(where if rel not in own else d.location, f"rule path {rel!r}: {d.message}", d.hint)
                          for d in exc.diagnostics)
            continue
        if real.is_dir():
            files, problems = rule_files(path, display, inside)
            sources += [(file, shown_as, True, inside) for file, shown_as in files]
            errors.extend(problems)
        elif not real.is_file():
            errors.append(Diagnostic(where, f"rule path {rel!r} is {kind_of(real.stat().st_mode)}, not a rule file or folder"))
        elif not real.name.lower().endswith(RULE_SUFFIXES):
            errors.append(Diagnostic(where, f"rule path {rel!r} is not a rule file (.yaml or .yml) or a folder"))
        else:
            sources.append((path, display, True, inside))
    # a file named twice ("./rules/", "rules/org.yaml" beside the rules/ folder read anyway) is read once: its
    # rules were "defined twice", first at the very same place
    seen: set[Path] = set()
    return [source for source in sources if not (source[0].resolve() in seen or seen.add(source[0].resolve()))]


def _load_rulebook(config: ConfigFile, workspace: Path | None, shown: str, confine: bool) -> RuleBook:
    errors: list[Diagnostic] = []
    rules: dict[str, Rule] = {}
    lowered: dict[str, str] = {}  # the engine's name of a rule id -> the id
    files: list[tuple[str, Path]] = []
    for path, display, is_overlay, inside in _rule_sources(config, workspace, shown, confine, errors):
        try:
            specs, problems = read_rule_file(path, display, inside)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        files.append((display, path))
        errors.extend(problems)
        for spec, where, keys in specs:
            if spec.extends:
                base = rules.get(spec.extends)
                if base is None:
                    errors.append(
                        Diagnostic(where, f"rule {spec.id} extends unknown rule {spec.extends!r}",
                                   did_you_mean(spec.extends, list(rules)))
                    )
                    continue
                if spec.id != spec.extends:
                    errors.append(Diagnostic(where, f"rule {spec.id} extends {spec.extends}: an overlay keeps the id it extends"))
                    continue
                unknown = _unknown_params(base, spec)
                errors.extend(Diagnostic(keys.get("params", where), f"rule {base.id} has no param {name!r}",
                                         did_you_mean(name, list(base.spec.params)) or
                                         "an overlay that adds a param also gives the conditions or texts that use it")
                              for name in unknown)
                if unknown:
                    continue
                try:
                    rules[spec.id] = _merge(base, spec, where, keys)
                except ValidationError as exc:
                    errors.extend(Diagnostic(where, f"extends {spec.extends}: {e['msg']}") for e in exc.errors())
                continue
            if spec.id in rules:
                errors.append(
                    Diagnostic(
                        where, f"rule id {spec.id} is defined twice (first at {rules[spec.id].source})",
                        f"to change {spec.id}, write 'extends: {spec.id}'",
                    )
                )
                continue
            other = lowered.get(spec.id.lower())
            if other is not None:
                errors.append(Diagnostic(
                    where, f"rule ids {spec.id} and {other} (at {rules[other].source}) differ only in case; "
                    "the rule engine would run only one of them", f"rename {spec.id}",
                ))
                continue
            missing = [k for k in REQUIRED_FOR_BASE if getattr(spec, k) in (None, [])]
            if missing:
                errors.append(Diagnostic(where, f"rule {spec.id} lacks {', '.join(missing)}"))
                continue
            params = {name: p.default for name, p in spec.params.items()}
            origins = {f"params.{n}": f"{keys['params'].short()} (default)" for n in params} if params else {}
            rules[spec.id] = Rule(spec, where, params, origins, is_overlay, keys)
            lowered[spec.id.lower()] = spec.id

    _apply_settings(config, rules, errors)
    if errors:
        raise RuleBookErrors(errors, RuleBook(rules, files))
    return RuleBook(rules, files)


@dataclass
class RuleBookErrors(InputError):
    """The errors of the rule files, with the rules read without one: compiled still, so that their errors come
    in the same run (a format error in one file hid every compile error of the others)."""

    partial: RuleBook | None = None


def _apply_settings(config: ConfigFile, rules: dict[str, Rule], errors: list[Diagnostic]) -> None:
    for rule_id, setting in config.config.rules.items():
        rule = rules.get(rule_id)
        if rule is None:
            errors.append(
                Diagnostic(config.where("rules", rule_id), f"no rule {rule_id!r} to configure", did_you_mean(rule_id, list(rules)))
            )
            continue
        if setting.enabled is not None:
            rule.spec = rule.spec.model_copy(update={"enabled": setting.enabled})
            rule.origins["enabled"] = config.where("rules", rule_id, "enabled").short()
            rule.overlay = True
        if setting.level is not None:
            rule.spec = rule.spec.model_copy(update={"level": setting.level})
            rule.origins["level"] = config.where("rules", rule_id, "level").short()
            rule.overlay = True
        for name, value in setting.params.items():
            where = config.where("rules", rule_id, "params", name)
            if name not in rule.params:
                errors.append(Diagnostic(where, f"rule {rule_id} has no param {name!r}", did_you_mean(name, list(rule.params))))
                continue
            problem = param_type_problem(rule.params[name], value)
            if problem:
                errors.append(Diagnostic(where, f"param {rule_id}.{name} must be {problem}"))
                continue
            rule.params[name] = value
            rule.origins[f"params.{name}"] = where.short()
            rule.param_sources[name] = where
            rule.overlay = True


_KINDS = {"true or false": "true/false values", "a number": "numbers", "text": "text"}


def _kind(value: Any) -> str:
    return "true or false" if isinstance(value, bool) else "a number" if isinstance(value, (int, float)) else "text"


def param_type_problem(default: Any, value: Any) -> str | None:
    """What an organisation's value of a param must be, when it is not of the default's kind: a number for a
    number, text for text, a list (of the default's kinds of items) for a list; an empty list is a list."""
    if not isinstance(default, list):
        return None if not isinstance(value, list) and _kind(value) == _kind(default) else _kind(default)
    kinds = sorted({_kind(item) for item in default})
    items = " of " + " or ".join(_KINDS[k] for k in kinds) if kinds else ""
    if not isinstance(value, list) or (kinds and any(_kind(item) not in kinds for item in value)):
        return f"a list{items}"
    return None
