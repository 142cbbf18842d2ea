"""The recommended mix in the terminal: a before/after table, the changes with their reasons,
what no mix can fix, and the errors left."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..text import printable
from ..vocabulary import TERMS

from ..mix.recommend import MixResult, effort_of, unattainable_text

MARKS = {"added": "+", "removed": "-", "changed": "~"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _table(result: MixResult) -> Table:
    before, after = result.before, result.after
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("")
    table.add_column("Today", justify="right")
    table.add_column("Recommended", justify="right")
    table.add_row("Services", str(before.facts.summary["services"]), str(after.facts.summary["services"]))
    table.add_row(
        f"Effort (capacity {result.problem.capacity:g})", f"{effort_of(before.kb):g}", f"{effort_of(after.kb):g}"
    )
    for term in TERMS:
        table.add_row(
            f"{term.capitalize()}-term share", _pct(before.facts.summary["shares"][term]), _pct(after.facts.summary["shares"][term])
        )
    table.add_row("Adherence", _pct(before.facts.summary["adherence"]), _pct(after.facts.summary["adherence"]))
    counts = before.counts(), after.counts()
    for level in counts[0]:
        table.add_row(f"{level.capitalize()} findings", str(counts[0][level]), str(counts[1][level]))
    return table


def print_mix(result: MixResult, console: Console) -> None:
    name = escape(printable(result.before.kb.organisation.name))  # workspace text: never markup, never control codes
    if result.status == "infeasible":
        console.print(f"[bold]{name}[/bold]: no recommended mix", highlight=False)
        console.print(printable(result.conflict.text()), markup=False)
        return
    console.print(f"[bold]{name}[/bold]: recommended mix (optimal)", highlight=False)
    console.print(_table(result))
    if result.changes:
        console.print()
        console.print("[bold]Changes[/bold]")
        for change in result.changes:
            what = f"{change.service.name} ({change.service.id})"
            if change.kind == "changed":
                what += f": {change.before} -> {change.after}"
            elif change.kind == "added":
                what += f" [{change.origin}]"
            console.print(printable(f" {MARKS[change.kind]} {what}"), markup=False)
            console.print(printable(f"     {change.reason()}"), markup=False, style="dim")
    else:
        console.print("Today's mix is already the best one under the constraints.")
    if result.unattainable:
        console.print()
        console.print("[bold]No mix can fix[/bold]")
        for item in result.unattainable:
            console.print(printable(f" {item.rule}: {unattainable_text(item, result.before.kb)}"), markup=False)
    left = [f for f in result.after.findings if f.level == "error"]
    if left:
        console.print()
        console.print("[bold]Errors left in the recommended mix[/bold]")
        for finding in left:
            console.print(printable(f" {finding.rule} {', '.join(finding.subjects)}: {finding.message}"), markup=False)
