"""The pmorules command line: parse, call one library function, print.

Data goes to stdout (or ``-o``); diagnostics go to stderr. Exit codes: 0 done,
1 findings at or above ``--fail-on``, 2 bad input, 3 internal error.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.segment import Segment

from . import __version__
from . import dates
from .dates import long_date, months_between
from .errors import Diagnostic, InputError, Location
from .gcpause import one_job
from .inputs import os_message
from .numbers import number_problem
from .text import count_noun, printable
from .vocabulary import Level

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Balance a PMO's mix of services, and explain why.")
rules_app = typer.Typer(no_args_is_help=True, help="List, show, test and lint rules.")
app.add_typer(rules_app, name="rules")


class TerminalConsole(Console):
    """A Rich console that shows control characters as escapes in whatever a view prints (table cells too),
    so no name from a workspace can move the cursor, retitle the window or reverse the text."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(printable(segment.text, lines=True), segment.style)
            for segment in buffer
        )


stderr = TerminalConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False)
stdout = TerminalConsole(highlight=False, soft_wrap=True, emoji=False)

WorkspaceArg = Annotated[Path, typer.Argument(help="Workspace directory", readable=False)]  # checked, located, by the loader
AsOfOption = Annotated[
    Optional[str], typer.Option("--as-of", help="Judge as of this date (YYYY-MM-DD, or 'today') instead of the "
                                                "date of the data (organisation.assessed_on)")
]


class AnalyzeFormat(str, Enum):
    text = "text"
    json = "json"
    md = "md"


class ReportFormat(str, Enum):
    html = "html"
    md = "md"
    json = "json"
    pdf = "pdf"


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


def _print_input_error(error: InputError) -> None:
    """Every located problem, once, sorted, then how many: the one way bad input is reported."""
    unique = sorted(set(error.diagnostics))
    for diagnostic in unique:
        sys.stderr.write(f"{printable(diagnostic)}\n")
    sys.stderr.write(f"{count_noun(len(unique), 'error')} found\n")


def _fail_input(error: InputError) -> None:
    _print_input_error(error)
    raise typer.Exit(2)


def _capacity(value: float | None) -> float | None:
    """``--capacity``: a finite number of effort units, at least 0."""
    if value is not None:
        problem = number_problem(value) or (f"{value:g} is negative; a capacity is at least 0" if value < 0 else None)
        if problem:
            _fail_input(InputError([Diagnostic(Location("--capacity"), problem)]))
    return value


def _port(value: int) -> int:
    """``--port``: a TCP port, 0 to 65535 (0: any free port)."""
    if not 0 <= value <= 65535:
        _fail_input(InputError([Diagnostic(Location("--port"), f"{value} is not a port (0 to 65535; 0: any free port)")]))
    return value


def _as_of(value: str | None, option: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    if value.strip().lower() == "today":
        return dates.system_today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        stderr.print(f"{option}: {value!r} is not a date like 2026-11-25, nor 'today'", markup=False)
        raise typer.Exit(2) from None


def _analyze(workspace: Path, as_of: str | None, also: tuple[Path, dt.date | None] | None = None):
    """The analysis of a workspace, or exit 2 with its errors; ``also``: another folder (and its date) whose
    errors are reported with them, as ``diff`` compares two (the older side's waited for the newer one's fix)."""
    from .analysis import analyze

    try:
        analysis = analyze(workspace, _as_of(as_of))
    except InputError as error:
        problems = list(error.diagnostics)
        if also is not None:
            try:
                analyze(*also)
            except InputError as more:
                problems += more.diagnostics
        _fail_input(InputError(problems))
    _say_if_stale(analysis)
    return analysis


def _say_if_stale(analysis) -> None:
    """Data judged as of their own date, but old by today's: say so first (stderr), the output unchanged."""
    from .analysis import banners_on

    data_date = analysis.kb.organisation.assessed_on
    if analysis.kb.clock != "assessed_on" or data_date is None:
        return
    today = dates.system_today()
    for finding in banners_on(analysis, today):
        stderr.print(f"note: data as of {long_date(data_date)}, {months_between(data_date, today):.1f} months old; "
                     f"'--as-of today' judges them as of today ({finding.title.lower()})", markup=False)


def _version(value: bool) -> None:
    if value:
        print(f"pmorules {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = None,
) -> None:
    """Rule-based decision support for balancing a PMO's mix of services."""


@app.command()
def analyze(
    workspace: WorkspaceArg = Path("."),
    format: Annotated[AnalyzeFormat, typer.Option("--format", "-f", help="Output format")] = AnalyzeFormat.text,
    fail_on: Annotated[Optional[Level], typer.Option("--fail-on", help="Exit 1 if a finding is at or above this level")] = None,
    baseline: Annotated[
        Optional[Path], typer.Option("--baseline", help="A previous --format json output: show only findings not in it")
    ] = None,
    as_of: AsOfOption = None,
) -> None:
    """Find imbalances, unlikely services, uncovered goals, missing prerequisites and harms."""
    from dataclasses import replace

    from .diff import read_baseline
    from .gcpause import gc_paused
    from .output import write_json
    from .present.analysis import analysis_markdown, print_analysis
    from .vocabulary import LEVEL_ORDER

    analysis = _analyze(workspace, as_of)
    known: frozenset[str] = frozenset()
    if baseline is not None:
        try:
            known = read_baseline(baseline)
        except InputError as error:
            _fail_input(error)
    shown = replace(analysis, findings=[f for f in analysis.findings if f.fingerprint not in known])
    if format is AnalyzeFormat.json:
        with gc_paused():  # a record per finding and evidence item: the collector kept rescanning the analysis
            data = analysis.to_json(shown.findings)  # goals keep the status every finding gives them
            data["summary"]["findings"] = shown.counts()
            if baseline is not None:
                data["baseline"] = {"file": str(baseline), "left_out": len(analysis.findings) - len(shown.findings)}
            write_json(data, sys.stdout)
    elif format is AnalyzeFormat.md:
        sys.stdout.write(analysis_markdown(shown))
    else:
        print_analysis(shown, stdout)
    if baseline is not None and format is not AnalyzeFormat.json:
        stderr.print(f"{len(analysis.findings) - len(shown.findings)} findings in the baseline {baseline} left out", markup=False)
    if fail_on is not None and any(LEVEL_ORDER[f.level] <= LEVEL_ORDER[fail_on.value] for f in shown.findings):
        raise typer.Exit(1)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier workspace folder (with --since: the workspace)")],
    new: Annotated[Optional[Path], typer.Argument(help="The later workspace folder (not with --since)")] = None,
    since: Annotated[
        Optional[str], typer.Option("--since", help="Compare the workspace with itself at this git revision (tag, branch, commit)")
    ] = None,
    format: Annotated[AnalyzeFormat, typer.Option("--format", "-f", help="Output format")] = AnalyzeFormat.text,
    fail_on: Annotated[Optional[Level], typer.Option("--fail-on", help="Exit 1 if a finding now is at or above this level")] = None,
    fail_on_new: Annotated[
        Optional[Level], typer.Option("--fail-on-new", help="Exit 1 if a NEW finding is at or above this level")
    ] = None,
    as_of: AsOfOption = None,
    old_as_of: Annotated[
        Optional[str], typer.Option("--old-as-of", help="Judge the earlier side as of this date (default: the date of its data)")
    ] = None,
) -> None:
    """Compare two snapshots of a PMO: findings resolved, new and still open; balance, goals and services moved."""
    from .diff import Side, compare, side_of
    from .errors import Diagnostic, Location
    from .output import json_text
    from .present.diff import diff_markdown, print_diff
    from .snapshots import Snapshot, judge
    from .vocabulary import LEVEL_ORDER

    if (since is None) == (new is None):
        _fail_input(InputError([Diagnostic(Location("pmorules diff"), "give OLD and NEW folders, or one workspace and --since REV")]))
    workspace = new if new is not None else old
    day = _as_of(old_as_of, "--old-as-of")
    current = _analyze(workspace, as_of, also=None if new is None else (old, day))
    earlier = Snapshot(since, old, since, day, Location("--since")) if since else Snapshot(str(old), old, None, day)
    try:
        judged = judge(earlier, current)
        result = compare(judged.analysis, current, side_of(judged), Side(str(workspace), current.today.isoformat()))
    except InputError as error:
        _fail_input(error)
    if judged.analysis.today > current.today:
        stderr.print(f"note: the older side is judged as of {judged.analysis.today.isoformat()}, after the newer side's "
                     f"{current.today.isoformat()}: what reads as fixed or new runs backwards in time", markup=False)
    if format is AnalyzeFormat.json:
        sys.stdout.write(json_text(result.to_json()))
    elif format is AnalyzeFormat.md:
        sys.stdout.write(diff_markdown(result))
    else:
        print_diff(result, stdout)
    if fail_on is not None and any(LEVEL_ORDER[f.level] <= LEVEL_ORDER[fail_on.value] for f in current.findings):
        raise typer.Exit(1)
    if fail_on_new is not None and result.new_at_or_above(fail_on_new.value):
        raise typer.Exit(1)


@app.command()
def why(
    subject: Annotated[str, typer.Argument(help="A service, goal or client id (or 'mix')")],
    workspace: WorkspaceArg = Path("."),
    not_: Annotated[Optional[str], typer.Option("--not", help="Explain why this rule did not fire")] = None,
    format: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    as_of: AsOfOption = None,
    evidence: Annotated[bool, typer.Option("--evidence", help="List the rule engine's matched conditions")] = False,
) -> None:
    """Explain every finding on SUBJECT (a goal's standing first), or with --not RULE why that rule did not fire."""
    from .why import resolve_subject, why_not
    from .why import why as explain_why
    from .output import json_text
    from .present.analysis import print_why, print_why_not

    analysis = _analyze(workspace, as_of)
    try:
        if not_:
            answer = why_not(analysis, subject, not_)
            if format is TextOrJson.json:
                sys.stdout.write(json_text({"as_of": analysis.today.isoformat(), **answer.to_json()}))
            else:
                stdout.print(analysis.evaluation_words(), markup=False)  # every view says the day it judges
                print_why_not(answer, stdout)
        else:
            subject = resolve_subject(analysis, subject)  # as the workspace writes it: ids match without case
            findings = explain_why(analysis, subject)
            if format is TextOrJson.json:
                sys.stdout.write(json_text({"as_of": analysis.today.isoformat(), "subject": subject,
                                            "findings": [f.to_json() for f in findings]}))
            else:
                print_why(analysis, subject, findings, stdout, evidence)
    except InputError as error:
        _fail_input(error)


AppendixOption = Annotated[bool, typer.Option("--appendix", help="Print the analyst's appendix too (the network behind "
                                             "the findings, each finding's evidence, the rulebook, the run manifest): "
                                             "always on screen, left out of print and PDF without it")]


@app.command()
def report(
    workspace: WorkspaceArg = Path("."),
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write to this file (default: stdout)", readable=False)
    ] = None,
    format: Annotated[Optional[ReportFormat], typer.Option("--format", "-f", help="Default: from -o's suffix, else md")] = None,
    as_of: AsOfOption = None,
    appendix: AppendixOption = False,
) -> None:
    """Write the recommendations report (Markdown to stdout by default); printed or as PDF, the steering pack, and
    with --appendix the analyst's appendix too."""
    from .report.charts_ahead import ChartsAhead

    fmt = format.value if format else _format_from_suffix(output)
    # the charts, drawn while the mix is solved; forked first, so that its matplotlib import overlaps this one's
    drawer = ChartsAhead.start() if fmt in ("html", "pdf") else None
    try:
        from .diff import History
        from .output import check_output, write_output
        from .report import render_report
        from .report.context import analysis_parts, chart_data, history_part
        from .report.warm import Warm
        from .workbench import recommend_and_judge

        warm = Warm() if drawer else None
        analysis = _analyze(workspace, as_of)
        protected = analysis.inputs()
        if output is not None:
            check_output(output, protected)
        parts = analysis_parts(analysis) if drawer else None  # reused by the report, not built twice

        def judged(history: History | None) -> None:
            parts["history"] = history_part(history)
            drawer.ask(chart_data({"history": parts["history"]}))

        if drawer:
            drawer.ask(chart_data(parts))
        result, history = recommend_and_judge(analysis, judged if drawer else None)
        if drawer:
            drawer.into(warm)
        data = render_report(analysis, result, fmt, history=history, appendix=appendix, warm=warm, parts=parts)
        if output is None:
            if fmt == "pdf":
                raise InputError([Diagnostic(Location("--output"), "a PDF report needs a file: give -o FILE")])
            sys.stdout.buffer.write(data)
        else:
            write_output(output, data, protected)
            stderr.print(f"wrote {output}", markup=False)
    except InputError as error:
        _fail_input(error)
    finally:
        if drawer:
            drawer.end()


def _format_from_suffix(output: Path | None) -> str:
    suffix = output.suffix.lower().lstrip(".") if output else ""
    return {"htm": "html", "html": "html", "md": "md", "markdown": "md", "json": "json", "pdf": "pdf"}.get(suffix, "md")


MIX_HELP = (
    "Recommend a mix of services, and compare what-if variants. The optimiser picks the mix most likely to meet "
    "your goals in time (weighted by priority and client) within the capacity, with no avoidable error, each "
    "warning it keeps counted as a cost, and as few changes to today's services as that allows."
)


@app.command()
def actions(
    workspace: WorkspaceArg = Path("."),
    format: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    as_of: AsOfOption = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Print draft entries (YAML to paste) for the errors, warnings and mix changes "
                           "no action answers yet; nothing is written")
    ] = False,
) -> None:
    """The action register (actions: sections, e.g. actions.yaml): overdue first, each with the finding it answers."""
    from .actions import action_register
    from .output import json_text
    from .present.actions import draft_yaml, print_actions

    analysis = _analyze(workspace, as_of)
    if draft:
        from .mix import recommend

        sys.stdout.write(draft_yaml(analysis, recommend(analysis)))
        return
    states = action_register(analysis)
    if format is TextOrJson.json:
        sys.stdout.write(json_text({"as_of": analysis.today.isoformat(), "actions": [s.to_json() for s in states]}))
    else:
        stdout.print(analysis.evaluation_words(), markup=False)  # every view says the day it judges
        print_actions(states, stdout)


@app.command(help=MIX_HELP)
def mix(
    workspace: WorkspaceArg = Path("."),
    format: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    capacity: Annotated[
        Optional[float], typer.Option("--capacity", callback=_capacity, help="Effort capacity of the recommended mix (at least 0)")
    ] = None,
    as_of: AsOfOption = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show what the optimiser maximises, its weights and protections")] = False,
    compare: Annotated[bool, typer.Option("--compare", help="Side by side: today, the recommended mix, each scenario")] = False,
    keep: Annotated[Optional[list[str]], typer.Option("--keep", help="What-if: keep this service")] = None,
    drop: Annotated[Optional[list[str]], typer.Option("--drop", help="What-if: drop this service")] = None,
    add: Annotated[Optional[list[str]], typer.Option("--add", help="What-if: add this proposed or catalogue service")] = None,
    approach: Annotated[Optional[list[str]], typer.Option("--approach", help="What-if: SERVICE=APPROACH")] = None,
    effort: Annotated[Optional[list[str]], typer.Option("--effort", help="What-if: SERVICE=EFFORT")] = None,
    probability: Annotated[Optional[list[str]], typer.Option("--probability", help="What-if: SERVICE=PROBABILITY (0 to 1)")] = None,
) -> None:
    from .mix import recommend
    from .mix.recommend import comparison
    from .mix.scenarios import evaluate_scenario, from_options
    from .output import json_text
    from .present.mix import compare_rows, explain_json, print_compare, print_explain, print_mix, print_scenario

    analysis = _analyze(workspace, as_of)
    variant = any((keep, drop, add, approach, effort, probability))
    try:
        own = from_options(keep or [], drop or [], add or [], approach or [], effort or [], probability or []) if variant else None
        result = recommend(analysis, capacity=capacity)
        mine = [evaluate_scenario(analysis, result.problem, result.unattainable, own)] if own else []
    except InputError as error:
        _fail_input(error)
    if format is TextOrJson.json:
        data = result.to_json()
        if explain:
            data["explain"] = explain_json(result)
        if mine:
            data["variant"] = mine[0].to_json(analysis)
        if compare:
            names, rows = compare_rows(result, mine)
            data["compare"] = {"columns": names, "rows": [{"label": label, "cells": cells} for label, cells in rows],
                               "problems": [column["problems"] for column in comparison(result, mine)]}
        sys.stdout.write(json_text(data))
    elif explain:
        print_explain(result, stdout)
    elif compare:
        print_compare(result, mine, stdout)
    elif mine:
        print_scenario(result, mine[0], stdout)
    else:
        print_mix(result, stdout)


@app.command()
def validate(workspace: WorkspaceArg = Path("."), as_of: AsOfOption = None) -> None:
    """Check the knowledge files, rules and config of a workspace, and what the config names: its past reviews,
    its scenarios and its templates."""
    from .diff import renames
    from .mix.problem import additions
    from .mix.scenarios import check_scenarios
    from .report.render import check_rendering, check_templates
    from .snapshots import judge, reviews

    analysis = _analyze(workspace, as_of)
    problems = []
    own_templates: list[str] = []

    def templates() -> None:
        own_templates.extend(check_templates(analysis))

    def past_reviews() -> None:  # every review the config names, each with the renames it implies
        found = []
        for snapshot in reviews(analysis, every=True):
            try:
                renames(judge(snapshot, analysis).analysis.kb, analysis.kb)
            except InputError as error:
                found += error.diagnostics
        if found:
            raise InputError(found)

    for check in (past_reviews, lambda: check_scenarios(analysis), templates,
                  lambda: additions(analysis)):  # the [mix] settings that name services
        try:
            check()
        except InputError as error:
            problems += error.diagnostics
    if own_templates and not problems:  # templates of its own: the report must render with them, as `report` would
        from .workbench import recommend_and_judge

        try:
            check_rendering(analysis, *recommend_and_judge(analysis))
        except InputError as error:
            problems += error.diagnostics
    if problems:
        _fail_input(InputError(problems))
    for snapshot in reviews(analysis, every=True):
        if snapshot.date is not None and snapshot.date > analysis.today:
            stderr.print(f"note: the review {snapshot.label} is dated {long_date(snapshot.date)}, after the day judged "
                         f"({long_date(analysis.today)}): it is not past yet, so no report compares with it",
                         markup=False)
    kb = analysis.kb
    active = sum(1 for s in kb.services.values() if s.active)
    print(
        f"{workspace}: OK - {count_noun(len(kb.services), 'service')} ({active} active), {count_noun(len(kb.clients), 'client')}, "
        f"{count_noun(len(kb.goals), 'goal')} in {count_noun(len(kb.files), 'file')}; "
        f"{count_noun(len(analysis.rulebook.enabled()), 'rule')} enabled"
    )


class SchemaFormat(str, Enum):
    json = "json"
    md = "md"


@app.command()
def schema(
    format: Annotated[SchemaFormat, typer.Option("--format", "-f", help="json: JSON Schema; md: the reference "
                                                 "in docs/format.md")] = SchemaFormat.json,
) -> None:
    """Print the knowledge format: its JSON Schema (for editors), or its reference in Markdown."""
    if format is SchemaFormat.md:
        from .format_doc import format_markdown

        sys.stdout.write(format_markdown())
    else:
        from .schema import knowledge_schema_text

        sys.stdout.write(knowledge_schema_text())


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Directory of the new workspace", readable=False)],
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Write the knowledge as pmo.xlsx, a workbook to fill in")] = False,
) -> None:
    """Scaffold a workspace: config, knowledge stub and an overlay rule. Never overwrites a file."""
    from .scaffold import scaffold

    try:
        created, kept = scaffold(directory, xlsx)
    except InputError as error:
        _fail_input(error)
    except OSError as exc:  # a read-only or full location
        _fail_input(InputError([Diagnostic(Location(str(exc.filename or directory)), os_message(exc))]))
    for path in created:
        stderr.print(f"created {path}", markup=False)
    for path in kept:
        stderr.print(f"kept existing {path}", markup=False)


@app.command()
def export(
    workspace: WorkspaceArg,
    xlsx: Annotated[Path, typer.Option("--xlsx", help="The workbook to write (outside the workspace)")],
) -> None:
    """Write a workspace's knowledge as one XLSX workbook, as `init --xlsx` lays it out."""
    from .knowledge import load_workspace
    from .workbook import export_workspace

    try:
        load_workspace(workspace)  # every problem is reported before anything is written
        export_workspace(workspace, str(workspace), xlsx)
    except InputError as error:
        _fail_input(error)
    stderr.print(f"wrote {xlsx}", markup=False)


@app.command()
def assess(
    workspace: WorkspaceArg,
    experts: Annotated[Optional[str], typer.Option("--experts", help='Forms out: the experts, separated by ";" '
                                                   '("R. Okafor; J. Lin")')] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Forms out: the folder to write the forms "
                                                   "to (outside the workspace's knowledge folders)")] = None,
    collect: Annotated[Optional[Path], typer.Option("--collect", help="Ratings in: the folder of filled forms",
                                                    readable=False)] = None,
    blind: Annotated[bool, typer.Option("--blind", help="Forms out: hide the current estimates")] = False,
    services: Annotated[Optional[str], typer.Option("--services", help="Forms out: only these services (ids "
                                                    "separated by ','; 'disagreement': those a finding says the "
                                                    "experts disagree on; 'unassessed': those no expert rated)")] = None,
    round_: Annotated[int, typer.Option("--round", min=1, max=99, help="Forms out: the round; from 2, each "
                                        "service shows the previous round's ratings and comments without names")] = 1,
    partial: Annotated[bool, typer.Option("--partial", help="Ratings in: merge the valid forms even when others "
                                          "have errors (exit 2 all the same)")] = False,
    as_of: AsOfOption = None,
) -> None:
    """An assessment round with subject-matter experts: write one form per expert, then collect them into
    assessments.yaml and show the consensus."""
    from .analysis import analyze as analyze_workspace
    from .assess import collect as collect_forms
    from .assess import consensus_text, parse_experts, write_forms

    day = _as_of(as_of)  # the day judged: --as-of, else the date of the data, as every other command
    if (experts is None) == (collect is None):
        _fail_input(InputError([Diagnostic(Location("assess"), "give --experts with -o (forms out) or --collect "
                                           "(ratings in)")]))
    try:
        if experts is not None:
            if output is None:
                raise InputError([Diagnostic(Location("-o"), "give the folder to write the forms to")])
            names = parse_experts(experts)
            for path in write_forms(workspace, str(workspace), names, output, day, blind, services, round_):
                stderr.print(f"wrote {path}", markup=False)
            _say_if_stale(analyze_workspace(workspace, day))  # the services picked and their figures are of that day
            return
        assert collect is not None
        # a rating collected is dated the day it is collected (the day judged, when --as-of names one)
        result = collect_forms(workspace, str(workspace), collect, day, day or dates.system_today(), partial)
        analysis = analyze_workspace(workspace, day)
        _say_if_stale(analysis)
        stdout.print(consensus_text(analysis), markup=False, end="")
        for form in result.skipped:
            stderr.print(f"left out {form}: it has errors", markup=False)
        taken_back = f", {result.withdrawn} withdrawn (left blank on a form now)" if result.withdrawn else ""
        stderr.print(f"{count_noun(result.ratings, 'rating')}{taken_back} from {count_noun(len(result.forms), 'form')}; "
                     f"{result.owned} "
                     f"{'updated' if result.changed else 'unchanged'}", markup=False)
        if result.problems:
            raise InputError(result.problems)
    except InputError as error:
        _fail_input(error)


@app.command()
def serve(
    workspace: WorkspaceArg = Path("."),
    port: Annotated[int, typer.Option("--port", callback=_port, help="Port on 127.0.0.1 (0: any free port)")] = 8765,
    as_of: AsOfOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (default 127.0.0.1, this machine only)")] = "127.0.0.1",
    appendix: AppendixOption = False,
) -> None:
    """Preview the HTML report in a browser, with a what-if panel; it updates whenever a workspace file changes.
    Ctrl-C stops."""
    from .serve import serve as serve_workspace

    try:
        serve_workspace(workspace, port, _as_of(as_of), lambda line: stderr.print(line, markup=False), host,
                        appendix)
    except InputError as error:
        _fail_input(error)


def _rulebook(workspace: Optional[Path]):
    """The rules of ``workspace``; without one, of the workspace in this folder when it is one (it has a
    pmorules.toml or knowledge files, as every other command reads it), else the default rulebook."""
    from .analysis import load_rules
    from .knowledge import knowledge_files
    from .output import CONFIG_NAME

    here = Path(".")
    try:
        if workspace is None and ((here / CONFIG_NAME).is_file() or knowledge_files(here)):
            workspace = here
    except (OSError, InputError):  # a folder that cannot be listed (or holds no knowledge folder) is no workspace
        pass
    try:
        return load_rules(workspace)
    except InputError as error:
        _fail_input(error)


WorkspaceOption = Annotated[
    Optional[Path], typer.Option("--workspace", "-w", help="Include this workspace's overlay and config (default: "
                                 "the workspace in this folder, if it is one)", readable=False)
]


@rules_app.command("list")
def rules_list(
    workspace: WorkspaceOption = None,
    format: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
) -> None:
    """List the effective rules (with organisation overrides marked)."""
    from .output import json_text
    from .present.analysis import print_rule_list, rule_list_json

    _, book = _rulebook(workspace)
    if format is TextOrJson.json:
        sys.stdout.write(json_text({"rules": rule_list_json(book)}))
    else:
        print_rule_list(book, stdout)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(metavar="ID")],
    workspace: WorkspaceOption = None,
    format: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
) -> None:
    """Show a rule's documentation: what it flags, why, example, recommendation, params, source."""
    from .errors import Diagnostic, Location, did_you_mean
    from .output import json_text
    from .present.analysis import print_rule, rule_json

    _, book = _rulebook(workspace)
    rule = book.rules.get(rule_id.upper()) or book.rules.get(rule_id)
    if rule is None:
        _fail_input(InputError([Diagnostic(Location("rules"), f"unknown rule {rule_id!r}", did_you_mean(rule_id, list(book.rules)))]))
    if format is TextOrJson.json:
        sys.stdout.write(json_text(rule_json(rule)))
    else:
        print_rule(rule, stdout)


class FactsFormat(str, Enum):
    text = "text"
    md = "md"


@rules_app.command("facts")
def rules_facts(
    format: Annotated[FactsFormat, typer.Option("--format", "-f", help="text, or md: the reference in "
                                                "docs/facts.md")] = FactsFormat.text,
) -> None:
    """List the fact types and fields a rule may test: meaning, unit and an example of each."""
    from .facts_doc import facts_markdown, facts_text

    sys.stdout.write(facts_markdown() if format is FactsFormat.md else facts_text())


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editors: completion and checks while writing a rule)."""
    from .schema import rules_schema_text

    sys.stdout.write(rules_schema_text())


@rules_app.command("test")
def rules_test(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Rule files or folders (default: the default rulebook)", readable=False)
    ] = None,
    coverage: Annotated[bool, typer.Option("--coverage", help="Fail on a rule with no must-fire case that fires")] = False,
) -> None:
    """Run every rule's must-fire and must-not-fire cases."""
    from .analysis import load_rule_paths
    from .rule_cases import run_rule_tests, uncovered
    from .rules.compile import compile_problems, compile_rulebook

    try:
        book = load_rule_paths(paths or [])
        compile_rulebook(book)  # a rule without cases is refused for what an analysis would refuse, too
        results = run_rule_tests(book)
    except InputError as error:
        _fail_input(InputError(error.diagnostics + compile_problems(error)))
    failed = [r for r in results if not r.passed]
    for result in results:
        mark, at = ("ok  ", "") if result.passed else ("FAIL", f" (at {result.where})" if result.where else "")
        stdout.print(printable(f"{mark} {result.rule} {result.expect:7} {result.case}: {result.detail}{at}"), markup=False)
    missing = uncovered(book, results)
    stdout.print(f"{len(results) - len(failed)} passed, {len(failed)} failed", markup=False)
    if coverage and missing:
        stderr.print(f"no must-fire case fires for: {', '.join(missing)}", markup=False)
    if failed or (coverage and missing):
        raise typer.Exit(1)


@rules_app.command("check")
def rules_check(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Rule files or folders (default: the default rulebook)", readable=False)
    ] = None,
) -> None:
    """Lint rule files: format, fields, params, joins, templates and required metadata."""
    from .analysis import load_rule_paths
    from .rules.compile import compile_problems, compile_rulebook
    from .rules.lint import lint

    book = None
    problems: list[Diagnostic] = []
    try:
        book = load_rule_paths(paths or [])
        compile_rulebook(book)
    except InputError as error:  # the lint of what could be read comes with them: every problem at once
        problems = error.diagnostics + compile_problems(error)
        book = book or getattr(error, "partial", None)
    if book is not None:  # not in a file with errors: a param its broken condition reads would read as unused
        broken = {problem.location.file for problem in problems}
        problems += [problem for problem in lint(book) if problem.location.file not in broken]
    if problems:
        _fail_input(InputError(problems))
    stdout.print(f"{len(book.rules)} rules OK", markup=False)


def main() -> None:
    try:
        try:
            with one_job():
                app()
        finally:
            sys.stdout.flush()  # an output error shows here, not after exit
    except InputError as error:
        _print_input_error(error)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("pmorules: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:  # the reader of stdout went away: nothing more to say
        _drop_stdout()
        sys.exit(141)
    except OSError as exc:  # writing to stdout or stderr failed (a full disk): an output problem, not a bug
        _drop_stdout()
        sys.stderr.write(f"{exc.filename or '<stdout>'}: {os_message(exc)}\n")
        sys.exit(2)
    except Exception:  # an internal error: say so, with the traceback for the bug report
        sys.stderr.write("pmorules: internal error (please report it with the text below)\n")
        traceback.print_exc()
        sys.exit(3)


def _drop_stdout() -> None:
    """Send what is left in stdout's buffer nowhere, so that exiting does not fail again on it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
