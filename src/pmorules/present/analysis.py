"""Terminal and Markdown presentation of analyses, explanations and rules.

Everything that comes from a workspace (names, messages, evidence, rule texts)
is escaped for where it goes: control characters are shown as escapes in the
terminal (text.printable) and never parsed as Rich markup; Markdown gets it
inert (text.markdown_text), so a name cannot open a tag, a link or a table cell.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..analysis import Analysis
from ..dates import long_date
from ..findings import Finding, names_of, verdicts
from ..rules.load import Rule, RuleBook
from ..rules.spec import OP_WORDS, AllOf, AnyOf
from ..text import markdown_text, num, printable
from ..vocabulary import VERDICTS
from ..conditions import ConditionCheck, GroupCheck
from ..why import WhyNot

LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _markup(value: Any) -> str:
    """Workspace text inside a Rich markup string: printable, and never read as markup."""
    return escape(printable(value))


def _shares(analysis: Analysis) -> str:
    shares = analysis.facts.summary["shares"]
    return " / ".join(f"{term} {shares[term] * 100:.0f}%" for term in ("short", "medium", "long"))


def _load(analysis: Analysis) -> str:
    """``effort 96 of capacity 100 (96%)``: the figures the capacity rule reads, worded as the report words them."""
    mix = next(f.fields for f in analysis.facts.facts if f.type == "mix")
    return f"effort {num(mix['total_effort'])} of capacity {num(mix['capacity'])} ({mix['load'] * 100:.0f}%)"


def print_analysis(analysis: Analysis, console: Console) -> None:
    summary = analysis.summary()
    adherence = summary["adherence"]
    console.print(f"[bold]{_markup(analysis.kb.organisation.name)}[/bold] - {summary['services']} active services", highlight=False)
    console.print(analysis.evaluation_words(), markup=False)
    console.print(
        f"{_load(analysis)}; by term: {_shares(analysis)}; "
        f"adherence: {'n/a' if adherence is None else f'{adherence * 100:.0f}%'}"
    )
    counts = summary["findings"]
    console.print(", ".join(f"[{LEVEL_STYLE[k]}]{v} {k}{'s' if v != 1 else ''}[/]" for k, v in counts.items()))
    for level in ("error", "warning", "info"):
        group = [f for f in analysis.findings if f.level == level]
        if not group:
            continue
        console.print()
        console.rule(f"[{LEVEL_STYLE[level]}]{level.upper()}S[/]", align="left")
        for finding in group:
            console.print(
                f"[{LEVEL_STYLE[level]}]{_markup(finding.rule)}[/] [bold]{_markup(', '.join(finding.subjects))}[/bold]: ",
                end="",
            )
            console.print(printable(finding.message), markup=False)
            console.print(f"    -> {printable(finding.recommendation)}", markup=False, style="dim")
    for note in analysis.kb.notes:
        console.print(f"note: {printable(note)}", markup=False, style="dim")


def analysis_markdown(analysis: Analysis) -> str:
    summary = analysis.summary()
    md = markdown_text
    lines = [f"# pmorules analysis: {md(analysis.kb.organisation.name)}", "", f"Judged {md(analysis.evaluation_words())}.", ""]
    adherence = summary["adherence"]
    lines += [
        f"- Active services: {summary['services']}",
        f"- Effort: {_load(analysis).removeprefix('effort ')}",
        f"- Effort by term: {_shares(analysis)}",
        f"- Adherence: {'n/a' if adherence is None else f'{adherence * 100:.0f}%'}",
        "- Findings: " + ", ".join(f"{v} {k}" for k, v in summary["findings"].items()),
        "",
        "| id | level | rule | subjects | message |",
        "|---|---|---|---|---|",
    ]
    for f in analysis.findings:
        lines.append(f"| {md(f.id)} | {f.level} | {md(f.rule)} | {md(', '.join(f.subjects))} | {md(f.message)} |")
    for f in analysis.findings:
        lines += ["", f"## {md(f.id)} {md(f.rule)} {md(f.title)}: {md(', '.join(f.subjects))}", "", md(f.message), "",
                  f"**Why it matters.** {md(f.why)}", "", f"**Recommendation.** {md(f.recommendation)}", ""]
        lines += [f"- {md(e.text())}" + (f" ({md(e.source)})" if e.source else "") for e in f.evidence]
        if f.path:
            lines.append(f"- path: {' → '.join(md(step) for step in f.path)}")
    return "\n".join(lines) + "\n"


def print_finding_detail(finding: Finding, console: Console, evidence: bool = True) -> None:
    """One finding in full; the engine's matched conditions only with ``evidence`` (``why --evidence``)."""
    style = LEVEL_STYLE[finding.level]
    console.print(f"[{style}]{finding.level.upper()} {_markup(finding.rule)}[/] {_markup(finding.title)} ({_markup(finding.id)})")
    console.print(f"  rule: {printable(finding.rule_source)}", markup=False)
    console.print(f"  {printable(finding.message)}", markup=False)
    if evidence:
        console.print("  matched:", style="bold")
        for item in finding.evidence:
            origin = f" [threshold set at {item.param_source}]" if item.param_source else ""
            source = f"  <- {item.source}" if item.source else ""
            console.print(printable(f"    {item.text()}{origin}{source}"), markup=False)
    else:
        count = len(finding.evidence)
        console.print(f"  ({count} engine condition{'s' if count != 1 else ''} matched: --evidence lists them)",
                      markup=False)
    if finding.path:
        console.print(printable(f"  path: {' -> '.join(finding.path)}"), markup=False)
    console.print(f"  why it matters: {printable(finding.why)}", markup=False)
    console.print(f"  recommendation: {printable(finding.recommendation)}", markup=False)


def goal_standing(analysis: Analysis, goal_id: str) -> list[str]:
    """A goal's standing in words: its verdict from the findings, its date, its coverage score and the services
    that deliver it in time or later. What ``why GOAL`` says first, finding or none."""
    goal = analysis.kb.goals[goal_id]
    names = names_of(analysis.kb)
    verdict = verdicts(analysis.findings).get(goal_id, VERDICTS[0])
    fact = next(f.fields for f in analysis.facts.facts if f.type == "goal" and f.key == goal_id)
    due = long_date(goal.due)
    lines = [f"Goal {goal.name or goal_id} ({goal_id}), due {due}: {verdict}."]
    if fact.get("adherence") is not None:
        lines.append(f"Coverage score {fact['adherence'] * 100:.1f}%: how much of its outcomes its services deliver "
                     "by the date, weighted by how likely each is to deliver (a measure of coverage, not a forecast).")
    deliveries: dict[str, float] = {}
    for cover in analysis.facts.covers[goal_id]:
        for d in cover.deliveries:
            deliveries[d.service] = min(d.months, deliveries.get(d.service, d.months))
    in_time = sorted((m, s) for s, m in deliveries.items() if m <= goal.due_months)
    later = sorted((m, s) for s, m in deliveries.items() if m > goal.due_months)
    if in_time:
        lines.append("In time: " + "; ".join(f"{names[s]} ({s}), value after {m:g} months" for m, s in in_time) + ".")
    if later:
        lines.append("Later than its date: " + "; ".join(f"{names[s]} ({s}), after {m:g} months" for m, s in later) + ".")
    if not deliveries:
        lines.append("No active service delivers any of its outcomes.")
    return lines


def print_why(analysis: Analysis, subject: str, findings: list[Finding], console: Console, evidence: bool = False) -> None:
    console.print(analysis.evaluation_words(), markup=False)  # every view says the day it judges
    if subject in analysis.kb.goals:
        for line in goal_standing(analysis, subject):
            console.print(printable(line), markup=False)
        console.print()
    if not findings:
        console.print(printable(f"No finding on {subject}. Use --not RULE to see why a rule did not fire."), markup=False)
        return
    console.print(printable(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} on {subject}:"), markup=False)
    for finding in findings:
        console.print()
        print_finding_detail(finding, console, evidence)
        rule = analysis.rulebook.rules[finding.rule]
        for key in ("level", "enabled"):
            if key in rule.origins:
                console.print(printable(f"  {key} set at {rule.origins[key]}"), markup=False)


def print_why_not(answer: WhyNot, console: Console) -> None:
    if answer.fired:
        console.print(printable(f"{answer.rule} did fire for {answer.subject} ({answer.fired.id}): {answer.fired.message}"),
                      markup=False)
        return
    if answer.disabled_by:
        console.print(printable(f"{answer.rule} is disabled (set at {answer.disabled_by})."), markup=False)
        return
    console.print(printable(f"{answer.rule} did not fire for {answer.subject}:"), markup=False)
    if answer.title:
        console.print(printable(f"  ({answer.rule}: {answer.title})"), markup=False, style="dim")
    for text in answer.unevaluable:
        console.print(printable(f"  - {text}"), markup=False)
    for fact in answer.facts:
        console.print(printable(f"  {fact.title} [{fact.fact}]:"), markup=False)
        _print_checks(fact.checks, console, "    ")
    for text in answer.blockers:
        console.print(printable(f"  - {text}"), markup=False)


def _print_checks(checks: list[ConditionCheck | GroupCheck], console: Console, indent: str) -> None:
    for check in checks:
        if isinstance(check, GroupCheck):
            verdict = "holds" if check.holds else "fails"
            console.print(f"{indent}- {verdict}: {'one of' if check.kind == 'any' else 'each of'}:", markup=False,
                          style=None if check.holds else "bold")
            _print_checks(check.checks, console, indent + "    ")
        else:
            console.print(printable(f"{indent}- {check.text()}"), markup=False, style=None if check.holds else "bold")


def print_rule_list(book: RuleBook, console: Console) -> None:
    """The effective rules as a table: light lines, so that it fits 80 columns (piped), and every cell whole,
    folded rather than cut where a name is longer still."""
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("id", "name", "level", "category", "on", "origin"):
        table.add_column(column, overflow="fold")
    for rule in sorted(book.rules.values(), key=lambda r: r.id):
        origin = "organisation" if rule.overlay else "default"
        cells = (rule.id, rule.spec.name or "", rule.level, rule.spec.category or "", "yes" if rule.enabled else "no", origin)
        table.add_row(*(Text(printable(cell)) for cell in cells))
    console.print(table)


def rule_list_json(book: RuleBook) -> list[dict[str, Any]]:
    """The effective rules, one entry each: what ``rules list`` shows, with the title and the rule's file."""
    return [{"id": rule.id, "name": rule.spec.name, "title": rule.spec.title, "level": rule.level,
             "category": rule.spec.category, "enabled": rule.enabled,
             "origin": "organisation" if rule.overlay else "default", "source": str(rule.source)}
            for rule in sorted(book.rules.values(), key=lambda r: r.id)]


def _clause_words(clause: Any, params: dict[str, Any]) -> str:
    if isinstance(clause, AnyOf):
        return "(" + " or ".join(_clause_words(c, params) for c in clause.any) + ")"
    if isinstance(clause, AllOf):
        return "(" + " and ".join(_clause_words(c, params) for c in clause.all) + ")"
    if clause.op in ("exists", "missing"):
        return f"{clause.field} {OP_WORDS[clause.op]}"
    if clause.param is not None:
        value = f"{clause.param} ({params.get(clause.param)})"
    elif clause.ref is not None:
        value = clause.ref
    else:
        value = clause.value
    for word, operand in (("×", clause.times), ("+", clause.plus)):
        if operand is not None:
            value = f"{value} {word} {operand.param or operand.ref or operand.value}"
    return f"{clause.field} {OP_WORDS[clause.op]} {value}"


def conditions_in_words(rule: Rule) -> list[str]:
    """The rule's match as phrases: one per pattern."""
    lines = []
    for pattern in rule.spec.match or []:
        where = " and ".join(_clause_words(c, rule.params) for c in pattern.where)
        lead = f"no {pattern.fact} fact" if pattern.absent else f"a {pattern.fact} fact ({pattern.name})"
        lines.append(f"{lead}{' where ' + where if where else ''}")
    return lines


def rule_json(rule: Rule) -> dict[str, Any]:
    """A rule's documentation; why and recommendation are rendered on its first must-fire case."""
    from ..rule_cases import example_texts

    spec = rule.spec
    example = example_texts(rule) or {}
    return {
        "id": rule.id, "name": spec.name, "title": spec.title, "category": spec.category, "level": rule.level,
        "enabled": rule.enabled, "what_it_flags": {"title": spec.title, "fires_when": conditions_in_words(rule)},
        "why_it_matters": example.get("why", spec.why),
        "example": {"situation": spec.example, "message": example.get("message")},
        "recommendation": example.get("recommendation", spec.recommendation),
        "params": {
            n: {"value": rule.params[n], "default": p.default, "description": p.description,
                "set_at": rule.origins.get(f"params.{n}")}
            for n, p in spec.params.items()
        },
        "implies": _implied(rule),
        "references": spec.references, "source": str(rule.source), "origins": rule.origins,
    }


def _implied(rule: Rule) -> str | None:
    """The constraint the rule puts on the recommended mix, in words."""
    from ..mix.problem import implied_text

    return implied_text(rule)


def print_rule(rule: Rule, console: Console) -> None:
    data = rule_json(rule)
    console.print(f"[bold]{_markup(rule.id)} {_markup(data['name'])}[/bold]: {_markup(data['title'])} "
                  f"({_markup(data['level'])}, {_markup(data['category'])})")
    example = data["example"]
    found = f"Finding: {example['message']}" if example["message"] else ""
    sections = [
        ("What it flags", f"{rule.spec.title}. Fires when there is " + "; and ".join(data["what_it_flags"]["fires_when"]) + "."),
        ("Why it matters", data["why_it_matters"] or ""),
        ("Example", " ".join(t for t in (example["situation"], found) if t)),
        ("Recommendation", data["recommendation"] or ""),
    ]
    for heading, body in sections:
        console.print(f"\n[bold]{heading}[/bold]")
        console.print(printable(" ".join(body.split())), markup=False)
    console.print("\n[bold]Params[/bold]")
    if not rule.params:
        console.print("none", markup=False)
    for name, info in data["params"].items():
        console.print(
            printable(f"{name} = {info['value']} (default {info['default']}; {info['description']}; set at {info['set_at']})"),
            markup=False,
        )
    if data["implies"]:
        console.print("\n[bold]Recommended mix[/bold]")
        console.print(printable(f"the optimiser keeps: {data['implies']}"), markup=False)
    console.print("\n[bold]Source[/bold]")
    console.print(printable(rule.source), markup=False)
    for ref in rule.spec.references:
        console.print(printable(f"reference: {ref}"), markup=False)
