"""One analysis of a workspace: load, derive facts, evaluate rules, build findings.

``analyze(path)`` is what the CLI, the report and the mix all call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config, ConfigErrors, ConfigFile, load_config
from .dates import evaluation_words
from .errors import Diagnostic, InputError, Location
from .evaluate import Match, evaluate
from .facts import FactBase, data_age, derive_facts
from .findings import Finding, build_findings, statuses, verdicts
from .knowledge import KnowledgeBase, load_workspace
from .measures import Conventions, TargetCover
from .numbers import clean
from .output import CONFIG_NAME, Protected
from .paths import default_rules_dir
from .rules.compile import CompiledBook, compile_problems, compile_rulebook
from .rules.load import Rule, RuleBook, RuleBookErrors, extends_any, load_rulebook
from .vocabulary import LEVEL_ORDER, VERDICTS


@dataclass
class Analysis:
    kb: KnowledgeBase
    config: ConfigFile
    rulebook: RuleBook
    compiled: CompiledBook
    facts: FactBase
    findings: list[Finding]
    today: dt.date

    def counts(self) -> dict[str, int]:
        counts = {level: 0 for level in LEVEL_ORDER}
        for finding in self.findings:
            counts[finding.level] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        return {**self.facts.summary, "findings": self.counts()}

    def inputs(self) -> Protected:
        """What a written result must never replace: everything this analysis reads (config.Config.inputs)."""
        files = [Path(f.path) for f in self.kb.files] + [path for _, path in self.rulebook.files]
        return self.config.config.inputs(Path(self.kb.workspace), files)

    def manifest(self) -> dict[str, Any]:
        return run_manifest(self)

    def dates(self) -> dict[str, Any]:
        """The evaluation date, the data's date and every review (JSON; the same whatever the day it is run)."""
        data_date = self.kb.organisation.assessed_on
        return {
            "evaluated_on": self.today.isoformat(), "data_date": data_date.isoformat() if data_date else None,
            "reviews": [{"date": r.date.isoformat(), "name": r.name, "months": r.months, "ahead": r.ahead}
                        for r in self.kb.reviews],
        }

    def evaluation_words(self) -> str:
        """'as of 20 March 2026, the date of the data': what every view says under its title."""
        return evaluation_words(self.today, self.kb.organisation.assessed_on, self.kb.clock, self.kb.organisation.founded)

    def goals(self) -> list[dict[str, Any]]:
        """Each goal: its status (the colour of its worst finding), adherence, and who delivers each target when:
        the best few deliveries of each target and how many there are (the list would grow with goals × services)."""
        facts = {f.key: f.fields for f in self.facts.facts if f.type == "goal"}
        status, verdict = statuses(self.findings), verdicts(self.findings)
        targets: dict[tuple[str, str, float], dict[str, Any]] = {}  # goals aiming at a target by one date share it

        def target(c: TargetCover) -> dict[str, Any]:
            key = (c.kind, c.target, c.due_months)
            if key not in targets:
                targets[key] = {
                    "target": c.target, "kind": c.kind, "months": c.months,
                    "adherence": clean(c.adherence(self.conventions)),
                    "deliveries": [{"service": d.service, "months": d.months, "contribution": d.contribution,
                                    "probability": d.probability, "in_time": d.months <= c.due_months}
                                   for d in c.listed],
                    "deliveries_total": len(c.deliveries), "deliveries_in_time": c.in_time_count,
                }
            return targets[key]

        return [
            {
                "id": goal.id, "name": goal.name or goal.id, "client": goal.client, "due_months": goal.due_months,
                "due": goal.due.isoformat(), "overdue": facts[goal.id]["overdue"],
                "status": status.get(goal.id, "green"), "verdict": verdict.get(goal.id, VERDICTS[0]),
                "adherence": facts[goal.id].get("adherence"),
                "adherence_eventual": facts[goal.id].get("adherence_eventual"),
                "targets": [target(c) for c in self.facts.covers[goal.id]],
            }
            for goal in sorted(self.kb.goals.values(), key=lambda g: (g.due_months, g.id))
        ]

    @property
    def conventions(self) -> Conventions:
        return self.config.config.adherence.conventions()

    def to_json(self, findings: list[Finding] | None = None) -> dict[str, Any]:
        """The analysis as JSON, listing these findings (default: all of them)."""
        return {
            "pmorules_version": __version__,
            "workspace": self.kb.workspace,
            "dates": self.dates(),
            "summary": self.summary(),
            "goals": self.goals(),
            "findings": [f.to_json() for f in (self.findings if findings is None else findings)],
            "switched_off": [
                {"service": x.service, "kind": x.kind, "target": x.target, "reason": x.reason, "source": x.location.short()}
                for x in self.kb.switched_off
            ],
            "notes": list(self.kb.notes),
            "manifest": self.manifest(),
        }


def rule_hash(rule: Rule) -> str:
    """A content hash of a rule as it was effective in this run (spec and params)."""
    body = json.dumps(
        {"spec": rule.spec.model_dump(mode="json", by_alias=True), "params": rule.params}, sort_keys=True, default=str
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def run_manifest(analysis: Analysis) -> dict[str, Any]:
    """What a finding can be reproduced from: input hashes, rule hashes, effective params."""
    rules = analysis.rulebook.rules
    return {
        "as_of": analysis.today.isoformat(),
        "inputs": [{"path": f.path, "sha256": f.sha256} for f in analysis.kb.files]
        + ([{"path": analysis.config.path, "sha256": hashlib.sha256(analysis.config.text.encode()).hexdigest()}]
           if analysis.config.path else []),
        # in the order they were read (built-in, then the workspace's), each file once: a shown path may repeat
        "rule_files": [{"path": shown, "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}
                       for shown, file in analysis.rulebook.files],
        "rules": [
            {
                "id": rule.id, "hash": rule_hash(rule), "enabled": rule.enabled, "level": rule.level,
                "params": dict(rule.params), "overlay": rule.overlay, "origins": dict(sorted(rule.origins.items())),
            }
            for rule in sorted(rules.values(), key=lambda r: r.id)
        ],
    }


def load_rules(workspace: str | Path | None) -> tuple[ConfigFile, RuleBook]:
    """Config and effective rulebook of a workspace (or the defaults without one)."""
    if workspace is None:
        config = ConfigFile.model_validate({"config": {}})
        return config, load_rulebook(config, None)
    path = Path(workspace)
    if not path.is_dir():  # else a mistyped path would show the default rulebook as this workspace's
        raise InputError([Diagnostic(Location(str(workspace)), "no such workspace directory" if not path.exists()
                                     else "a workspace must be a directory of knowledge files")])
    try:
        config = load_config(path, str(workspace))
    except InputError as bad_config:  # still check the rule files, and the file's other settings of them, at once
        partial = bad_config.partial if isinstance(bad_config, ConfigErrors) else None
        try:
            compile_rulebook(load_rulebook(partial or ConfigFile(config=Config()), path, str(workspace)))
        except InputError as bad_rules:
            bad_config.diagnostics.extend(bad_rules.diagnostics + compile_problems(bad_rules))
        raise InputError(bad_config.diagnostics) from None
    return config, load_rulebook(config, path, str(workspace))


def load_rule_paths(paths: list[Path]) -> RuleBook:
    """The rules of PATHS (rule files or folders given on the command line, anywhere): the default rulebook
    under each path's rules when they extend some rule, only those paths' rules otherwise (a copy of the
    default rules is tested as it is). Without PATHS, the default rulebook."""
    if not paths:
        return load_rules(None)[1]
    rules, files = {}, []
    defaults = default_rules_dir().resolve()
    errors: list[Diagnostic] = []  # every path's, at once: a path with an error hid the next paths' errors
    for path in paths:
        try:
            if is_workspace(path):
                book = _workspace_rules(path)
                rules |= {rule_id: rule for rule_id, rule in book.rules.items() if rule.overlay}
                files += [(shown, file) for shown, file in book.files if Path(shown).is_relative_to(path)]
                continue
            in_defaults = path.resolve() == defaults or path.resolve().is_relative_to(defaults)
            config = ConfigFile(config=Config(rule_paths=[path.name], default_rules=not in_defaults and extends_any(path)))
            book = load_rulebook(config, path.parent, str(path.parent), confine=False)
        except RuleBookErrors as error:
            errors += error.diagnostics
            book = error.partial or RuleBook({}, [])
        except InputError as error:
            errors += error.diagnostics
            continue
        rules |= {rule_id: rule for rule_id, rule in book.rules.items() if rule.overlay}
        files += [(shown, file) for shown, file in book.files if Path(shown).is_relative_to(path) or Path(shown) == path]
    if errors:
        raise RuleBookErrors(errors, RuleBook(rules, files))
    return RuleBook(rules, files)


def is_workspace(path: Path) -> bool:
    """Whether a folder given where rule paths are expected is a workspace, whose own rules are then tested
    (not its knowledge files read as rules): it has a pmorules.toml or a rules/ folder. File names cannot
    tell: the default rulebook has a goals.yaml too."""
    try:
        return path.is_dir() and ((path / CONFIG_NAME).is_file() or (path / "rules").is_dir())
    except OSError:
        return False  # reading it as rules says what is wrong with it


def _workspace_rules(path: Path) -> RuleBook:
    """The rulebook of a workspace's own rule files (its rules/ folder and rule paths) over the defaults, each
    rule with the params its file gives: the cases in a rule file are written against those, not against the
    workspace's [rules.ID] settings."""
    try:
        config = load_config(path, str(path))
    except InputError as bad_config:  # its rules/ folder is still read, so every problem shows at once
        try:
            book = load_rulebook(ConfigFile.model_validate({"config": {}}), path, str(path))
        except RuleBookErrors as bad_rules:
            raise RuleBookErrors(bad_config.diagnostics + bad_rules.diagnostics, bad_rules.partial) from None
        except InputError as bad_rules:
            raise InputError(bad_config.diagnostics + bad_rules.diagnostics) from None
        raise RuleBookErrors(bad_config.diagnostics, book) from None
    own = Config(rule_paths=config.config.rule_paths, default_rules=config.config.default_rules)
    return load_rulebook(ConfigFile(config=own, path=config.path, text=config.text), path, str(path))


def analyze(workspace: str | Path, today: dt.date | None = None) -> Analysis:
    """Analyse a workspace as of ``today`` (default: the date its data describe, else the current date);
    bad input raises InputError with every located problem."""
    problems = []
    kb = None
    try:
        kb = load_workspace(workspace, today)
    except InputError as exc:
        problems.extend(exc.diagnostics)
    try:
        config, rulebook = load_rules(workspace)
        compiled = compile_rulebook(rulebook)
    except InputError as exc:
        problems.extend(exc.diagnostics + compile_problems(exc))
    if problems or kb is None:
        raise InputError(problems)
    facts = derive_facts(kb, kb.today, config.config.adherence.conventions())
    matches = evaluate(compiled, facts.facts)
    findings = build_findings(matches, kb)
    return Analysis(kb, config, rulebook, compiled, facts, findings, kb.today)


def banners_on(analysis: Analysis, day: dt.date) -> list[Finding]:
    """What the banner rules (a rule about the data's age) would say were the data judged on ``day``: the same
    facts with the data's age counted to that day. A command run long after the data's date says it first."""
    rules = {rule.id: rule for rule in analysis.rulebook.enabled() if rule.spec.banner}
    if not rules or day <= analysis.today:
        return []
    compiled = compile_rulebook(RuleBook(rules, analysis.rulebook.files))
    moved = [replace(f, fields=f.fields | data_age(analysis.kb, day)) if f.type == "mix" else f
             for f in analysis.facts.facts]
    return build_findings(evaluate(compiled, moved), analysis.kb)


def rematch(analysis: Analysis, kb: KnowledgeBase) -> tuple[FactBase, list[Match]]:
    """The facts of another knowledge base and the rulebook's matches on them (same rulebook and date), before any
    finding is built."""
    facts = derive_facts(kb, analysis.today, analysis.config.config.adherence.conventions())
    return facts, evaluate(analysis.compiled, facts.facts)


def reanalyze(analysis: Analysis, kb: KnowledgeBase, matched: tuple[FactBase, list[Match]] | None = None) -> Analysis:
    """The same rulebook and date run on another knowledge base, such as a recommended mix; ``matched``: what
    ``rematch`` gave for it, when that is at hand."""
    facts, matches = matched or rematch(analysis, kb)
    return replace(analysis, kb=kb, facts=facts, findings=build_findings(matches, kb))
