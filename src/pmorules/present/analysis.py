"""Terminal and Markdown presentation of analyses, explanations and rules."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ..analysis import Analysis
from ..findings import Finding
from ..rules.load import Rule, RuleBook
from ..rules.spec import OP_WORDS, AllOf, AnyOf
from ..text import num
from ..why import ConditionCheck, GroupCheck, WhyNot

LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


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
    console.print(f"[bold]{analysis.kb.organisation.name}[/bold] - {summary['services']} active services", highlight=False)
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
                f"[{LEVEL_STYLE[level]}]{finding.rule}[/] [bold]{', '.join(finding.subjects)}[/bold]: ", end=""
            )
            console.print(finding.message, markup=False)
            console.print(f"    -> {finding.recommendation}", markup=False, style="dim")
    for note in analysis.kb.notes:
        console.print(f"note: {note}", markup=False, style="dim")


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def analysis_markdown(analysis: Analysis) -> str:
    summary = analysis.summary()
    lines = [f"# pmorules analysis: {analysis.kb.organisation.name}", ""]
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
        lines.append(f"| {f.id} | {f.level} | {f.rule} | {', '.join(f.subjects)} | {_md_escape(f.message)} |")
    for f in analysis.findings:
        lines += ["", f"## {f.id} {f.rule} {f.title}: {', '.join(f.subjects)}", "", f.message, "",
                  f"**Why it matters.** {f.why}", "", f"**Recommendation.** {f.recommendation}", ""]
        lines += [f"- {e.text()}" + (f" ({e.source})" if e.source else "") for e in f.evidence]
        if f.path:
            lines.append(f"- path: {' → '.join(f.path)}")
    return "\n".join(lines) + "\n"


def print_finding_detail(finding: Finding, console: Console) -> None:
    style = LEVEL_STYLE[finding.level]
    console.print(f"[{style}]{finding.level.upper()} {finding.rule}[/] {finding.title} ({finding.id})")
    console.print(f"  rule: {finding.rule_source}", markup=False)
    console.print(f"  {finding.message}", markup=False)
    console.print("  matched:", style="bold")
    for item in finding.evidence:
        origin = f" [threshold set at {item.param_source}]" if item.param_source else ""
        source = f"  <- {item.source}" if item.source else ""
        console.print(f"    {item.text()}{origin}{source}", markup=False)
    if finding.path:
        console.print(f"  path: {' -> '.join(finding.path)}", markup=False)
    console.print(f"  why it matters: {finding.why}", markup=False)
    console.print(f"  recommendation: {finding.recommendation}", markup=False)


def print_why(analysis: Analysis, subject: str, findings: list[Finding], console: Console) -> None:
    if not findings:
        console.print(f"No finding on {subject}. Use --not RULE to see why a rule did not fire.", markup=False)
        return
    console.print(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} on {subject}:", markup=False)
    for finding in findings:
        console.print()
        print_finding_detail(finding, console)
        rule = analysis.rulebook.rules[finding.rule]
        for key in ("level", "enabled"):
            if key in rule.origins:
                console.print(f"  {key} set at {rule.origins[key]}", markup=False)


def print_why_not(answer: WhyNot, console: Console) -> None:
    if answer.fired:
        console.print(f"{answer.rule} did fire for {answer.subject} ({answer.fired.id}): {answer.fired.message}", markup=False)
        return
    if answer.disabled_by:
        console.print(f"{answer.rule} is disabled (set at {answer.disabled_by}).", markup=False)
        return
    console.print(f"{answer.rule} did not fire for {answer.subject}:", markup=False)
    if answer.title:
        console.print(f"  ({answer.rule}: {answer.title})", markup=False, style="dim")
    for text in answer.unevaluable:
        console.print(f"  - {text}", markup=False)
    for fact in answer.facts:
        console.print(f"  {fact.title} [{fact.fact}]:", markup=False)
        _print_checks(fact.checks, console, "    ")
    for text in answer.blockers:
        console.print(f"  - {text}", markup=False)


def _print_checks(checks: list[ConditionCheck | GroupCheck], console: Console, indent: str) -> None:
    for check in checks:
        if isinstance(check, GroupCheck):
            verdict = "holds" if check.holds else "fails"
            console.print(f"{indent}- {verdict}: {'one of' if check.kind == 'any' else 'each of'}:", markup=False,
                          style=None if check.holds else "bold")
            _print_checks(check.checks, console, indent + "    ")
        else:
            console.print(f"{indent}- {check.text()}", markup=False, style=None if check.holds else "bold")


def print_rule_list(book: RuleBook, console: Console) -> None:
    table = Table(show_header=True, header_style="bold")
    for column in ("id", "name", "level", "category", "on", "origin"):
        table.add_column(column)
    for rule in sorted(book.rules.values(), key=lambda r: r.id):
        origin = "organisation" if rule.overlay else "default"
        table.add_row(rule.id, rule.spec.name or "", rule.level, rule.spec.category or "", "yes" if rule.enabled else "no", origin)
    console.print(table)


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
    console.print(f"[bold]{rule.id} {data['name']}[/bold]: {data['title']} ({data['level']}, {data['category']})")
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
        console.print(" ".join(body.split()), markup=False)
    console.print("\n[bold]Params[/bold]")
    if not rule.params:
        console.print("none", markup=False)
    for name, info in data["params"].items():
        console.print(
            f"{name} = {info['value']} (default {info['default']}; {info['description']}; set at {info['set_at']})",
            markup=False,
        )
    if data["implies"]:
        console.print("\n[bold]Recommended mix[/bold]")
        console.print(f"the optimiser keeps: {data['implies']}", markup=False)
    console.print("\n[bold]Source[/bold]")
    console.print(str(rule.source), markup=False)
    for ref in rule.spec.references:
        console.print(f"reference: {ref}", markup=False)
