"""The recommended mix in the terminal: a before/after table, the changes with their reasons and (for
additions) their assumptions, the new findings no mix avoids, what no mix can fix, the errors left; the
objective and its weights (``--explain``); a what-if variant; the side-by-side comparison (``--compare``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..mix.recommend import (
    OBJECTIVE,
    MixResult,
    comparison,
    effort_of,
    unattainable_text,
)
from ..mix.scenarios import ScenarioResult, side
from ..mix.units import Units
from ..text import join_and, printable
from ..vocabulary import TERMS

MARKS = {"added": "+", "removed": "-", "changed": "~", "resized": "=", "extended": ">"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _table(result: MixResult) -> Table:
    before, after = result.before, result.after
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("")
    table.add_column("Today", justify="right")
    table.add_column("Recommended", justify="right")
    table.add_row("Services", str(before.facts.summary["services"]), str(after.facts.summary["services"]))
    units = result.problem.units
    table.add_row(
        f"Effort (capacity {units.text(result.problem.capacity)})", units.text(effort_of(before.kb)),
        units.text(effort_of(after.kb))
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


def _what(change) -> str:
    what = f"{change.service.name} ({change.service.id})"
    if change.kind == "changed":
        return what + f": approach {change.before} -> {change.after}"
    if change.kind == "resized":
        return what + (f": effort {change.effort(change.before)} -> {change.effort(change.after)} (probability "
                       f"{change.probability_before * 100:.0f}% -> {change.service.probability * 100:.0f}%)")
    if change.kind == "extended":
        return what + (f": extended to {', '.join(change.extends_to)}, effort {change.effort(change.before)} -> "
                       f"{change.effort(change.after)}")
    if change.kind == "added":
        return what + f" [{change.origin}]"
    return what


def print_mix(result: MixResult, console: Console) -> None:
    name = escape(printable(result.before.kb.organisation.name))  # workspace text: never markup, never control codes
    if result.status == "infeasible":
        console.print(f"[bold]{name}[/bold]: no recommended mix", highlight=False)
        console.print(result.before.evaluation_words(), markup=False)
        console.print(printable(result.conflict.text()), markup=False)
        return
    console.print(f"[bold]{name}[/bold]: recommended mix (optimal)", highlight=False)
    console.print(result.before.evaluation_words(), markup=False)  # every view says the day it judges
    console.print(OBJECTIVE, markup=False, style="dim")
    console.print(_table(result))
    problem = result.problem
    console.print(f"Capacity {problem.units.text(problem.capacity)}: {problem.capacity_note or problem.capacity_source}. "
                  f"Effort moves in steps of {problem.units.step_text()}.", markup=False)
    if result.recommended:
        console.print()
        console.print("[bold]Changes[/bold]")
        for change in result.recommended:
            console.print(printable(f" {MARKS[change.kind]} {_what(change)}"), markup=False)
            if change.kind == "added":
                console.print(printable(f"     {change.assumptions()}"), markup=False, style="dim")
            console.print(printable(f"     {change.reason()}"), markup=False, style="dim")
            if change.lost():
                console.print(printable(f"     loses: {change.lost()}"), markup=False, style="dim")
        together = result.together()
        if together:
            console.print(printable(" Also avoided, by more than one change (undoing any one of them alone does not bring it back): " + "; ".join(
                f"{f.rule} ({f.level}) {f.title}" for f in together)), markup=False, style="dim")
    elif result.options:
        console.print("No change to today's services; the options below would help once assessed.")
    else:
        console.print("Today's mix is already the best one under the constraints.")
    if result.options:
        console.print()
        console.print("[bold]Options worth assessing[/bold] (assumed figures: assess them before deciding)")
        for change in result.options:
            console.print(printable(f" ? {_what(change)}"), markup=False)
            console.print(printable(f"     {change.assumptions()}"), markup=False, style="dim")
            console.print(printable(f"     {change.reason()}"), markup=False, style="dim")
    if result.unavoidable:
        console.print()
        console.print("[bold]New findings no mix avoids[/bold]")
        for item in result.unavoidable:
            console.print(printable(f" {item.rule} ({item.level}) {', '.join(item.subjects)}: {item.reason}"), markup=False)
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
    if result.scenarios:
        console.print()
        console.print(f"{len(result.scenarios)} what-if scenario(s) in scenarios/: compare them with --compare.",
                      markup=False)


def explain_json(result: MixResult) -> dict[str, Any]:
    """The objective, its weights and what protects or excludes a service: what ``--explain`` shows."""
    s = result.problem.settings
    return {
        "objective": OBJECTIVE,
        "weights": {
            "warning_cost": s.warning_cost, "info_cost": s.info_cost, "miss_cost": s.miss_cost,
            "new_finding_factor": s.new_finding_factor, "change_cost": s.change_cost,
            "unassessed_cost": s.unassessed_cost, "approach_change_cost": s.approach_change_cost,
            "resize_cost": s.resize_cost,
        },
        "resizing": {"steps": s.resize_steps, "elasticity": s.resize_elasticity,
                     "step": result.problem.units.step_text(),
                     "effect": "p' = 1 - (1 - p) ** (1 + elasticity * step): more effort, more chances to deliver"},
        "approach_change": {"probability": s.approach_change_probability,
                            "effect": "a running service moved to another approach runs at p + this, within 0 and 1"},
        "capacity": result.problem.capacity, "capacity_note": result.problem.capacity_note,
        "capacity_source": result.problem.capacity_source,
        "constraints": [c.to_json() for c in result.problem.constraints],
        "core": {cid: c.core for cid, c in sorted(result.problem.candidates.items()) if c.core},
        "locked": sorted(cid for cid, c in result.problem.candidates.items() if c.locked),
        "options_to_assess": sorted(cid for cid, c in result.problem.candidates.items() if not c.assessed),
        "not_proposed": dict(sorted(result.problem.excluded.items())),
    }


WEIGHT_WORDS = {
    "warning_cost": "points of adherence a warning-level finding costs",
    "info_cost": "points of adherence an info-level finding costs",
    "miss_cost": "times the level's cost, per whole unit a share or adherence misses its bound by",
    "new_finding_factor": "a warning today's mix does not have (or an info about one of today's services) costs this many times more",
    "change_cost": "points of adherence per service added or dropped",
    "unassessed_cost": "points of adherence more per option to assess (an addition on assumed figures)",
    "approach_change_cost": "points of adherence per change of approach",
    "resize_cost": "points of adherence per whole effort of a service moved",
}


def plain_explanation(result: MixResult) -> list[str]:
    """A few sentences before the weights: what the mix prefers, what it never does, what a warning costs."""
    s = result.problem.settings
    points = lambda cost: f"{cost * 100:g} point{'s' if cost * 100 != 1 else ''}"  # noqa: E731 (one-line unit)
    protected = sum(1 for c in result.problem.candidates.values() if c.core or c.locked)
    return [
        f"It prefers changing how a service is delivered ({points(s.approach_change_cost)} of overall goal coverage) "
        f"to adding or dropping one ({points(s.change_cost)}), and keeps services that work: dropping one that no "
        f"warning or error is about costs {points(s.drop_working_cost)}. A service that changes approach "
        + (f"is {abs(s.approach_change_probability) * 100:g} points {'less' if s.approach_change_probability < 0 else 'more'} "
           "likely to deliver while its team and clients adjust." if s.approach_change_probability else
           "keeps its probability."),
        "It " + join_and(["never goes over the capacity", "never keeps an error a mix can avoid"]
                               + ([f"never drops the {protected} protected service{'s' if protected != 1 else ''}"] if protected else [])
                               + ([f"never adds the {len(s.never)} service{'s' if len(s.never) != 1 else ''} listed as never"]
                                  if s.never else [])) + ".",
        f"Each warning it keeps costs {points(s.warning_cost)} of overall goal coverage, as much as one goal of "
        f"average weight losing {points(s.warning_cost * max(1, len(result.before.kb.goals)))} of its own; a warning "
        f"today's mix does not have costs {s.new_finding_factor:g} times more.",
    ]


def print_explain(result: MixResult, console: Console) -> None:
    data = explain_json(result)
    console.print(result.before.evaluation_words(), markup=False)
    console.print("[bold]In short[/bold]")
    for sentence in plain_explanation(result):
        console.print(printable(sentence), markup=False)
    console.print("\n[bold]What the optimiser maximises[/bold]")
    console.print(OBJECTIVE, markup=False)
    console.print("\n[bold]Weights[/bold] (\\[mix] in pmorules.toml; 0.01 = one point of overall adherence)")
    for key, value in data["weights"].items():
        console.print(f" {key} = {value:g}: {WEIGHT_WORDS[key]}", markup=False)
    resizing = data["resizing"]
    steps = ", ".join(f"{step * 100:+g}%" for step in resizing["steps"]) or "none"
    console.print(Text.assemble("\n", ("Resizing", "bold"),
                                f": effort steps {steps}, in whole steps of {resizing['step']}; {resizing['effect']} (elasticity {resizing['elasticity']:g})"))
    moved = data["approach_change"]
    console.print(Text.assemble("\n", ("Change of approach", "bold"),
                                f": approach_change_probability = {moved['probability']:g}; {moved['effect']}"))
    console.print(Text.assemble("\n", ("Capacity", "bold"),
                                f": {data['capacity']:g} ({data['capacity_note'] or data['capacity_source']})"))
    table = Table(show_edge=False, pad_edge=False, title="Conditions the rules imply")
    for column in ("rule", "level", "in the optimiser", "condition", "bound set at"):
        table.add_column(column)
    for c in data["constraints"]:
        how = "must hold" if c["hard"] else "costs when broken"
        cells = (c["rule"], c["level"], how if c["applies"] else "not for this PMO", c["text"], c["origin"])
        table.add_row(*(Text(printable(cell)) for cell in cells))
    console.print()
    console.print(table)
    console.print("\n[bold]Protected[/bold] (never dropped; only resized or moved to another approach)")
    for cid, why in data["core"].items():
        console.print(printable(f" {cid}: {why}"), markup=False)
    for cid in data["locked"]:
        console.print(f" {cid}: marked keep: true", markup=False)
    if data["not_proposed"]:
        console.print("\n[bold]Not proposed[/bold]")
        for cid, why in data["not_proposed"].items():
            console.print(printable(f" {cid}: {why}"), markup=False)


def compare_rows(result: MixResult, extra: list[ScenarioResult]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The side-by-side table, as text cells: today, the recommended mix, each scenario."""
    columns = comparison(result, extra)
    rows = [
        ("Services", [str(c["services"]) for c in columns]),
        ("Effort", [result.problem.units.text(c["effort"]) for c in columns]),
        *[(f"{t.capitalize()}-term share", [_pct(c["shares"][t]) for c in columns]) for t in TERMS],
        ("Adherence", [_pct(c["adherence"]) for c in columns]),
        *[(f"{level.capitalize()} findings", [str(c["counts"][level]) for c in columns])
          for level in ("error", "warning", "info")],
        ("New warnings/errors", [str(len(c["new"])) for c in columns]),
        ("Feasible", ["yes" if c["feasible"] else "no" for c in columns]),
    ]
    return [c["name"] for c in columns], rows


def print_compare(result: MixResult, extra: list[ScenarioResult], console: Console) -> None:
    names, rows = compare_rows(result, extra)
    console.print(result.before.evaluation_words(), markup=False)
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("")
    for name in names:
        table.add_column(Text(printable(name)), justify="right")
    for label, cells in rows:
        table.add_row(label, *cells)
    console.print(table)
    console.print("Feasible: meets the hard conditions (capacity, services kept and core, [mix] never, "
                  "error-level rules a mix can meet).", markup=False, style="dim")
    for column in comparison(result, extra):
        if column["problems"]:
            console.print(printable(f"{column['name']}: not feasible: {'; '.join(column['problems'])}"), markup=False)


def print_scenario(result: MixResult, scenario: ScenarioResult, console: Console) -> None:
    """One variant against today: the table, feasibility, the findings it adds and removes."""
    today = result.before
    console.print(f"[bold]{escape(printable(scenario.name))}[/bold]", highlight=False)
    console.print(today.evaluation_words(), markup=False)
    print_compare_pair(today, scenario, console)
    if scenario.feasible:
        console.print("Feasible: it meets every condition the recommended mix must meet.")
    else:
        console.print(printable("Not feasible: " + "; ".join(scenario.problems)), markup=False)
    before = {(f.rule, tuple(f.subjects)) for f in today.findings}
    after = {(f.rule, tuple(f.subjects)) for f in scenario.analysis.findings}
    new = [f for f in scenario.analysis.findings if (f.rule, tuple(f.subjects)) not in before]
    gone = [f for f in today.findings if (f.rule, tuple(f.subjects)) not in after]
    for title, findings in (("New findings", new), ("Findings it resolves", gone)):
        if findings:
            console.print(f"\n[bold]{title}[/bold]")
            for f in findings:
                console.print(printable(f" {f.rule} ({f.level}) {', '.join(f.subjects)}: {f.message}"), markup=False)


def scenario_units(today) -> Units:
    return Units.of(today.kb, today.config.config.mix)


def print_compare_pair(today, scenario: ScenarioResult, console: Console) -> None:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("")
    table.add_column("Today", justify="right")
    table.add_column(Text(printable(scenario.name)), justify="right")
    a, b = side(today, today), side(scenario.analysis, today)
    table.add_row("Services", str(a["services"]), str(b["services"]))
    units = scenario_units(today)
    table.add_row("Effort", units.text(a["effort"]), units.text(b["effort"]))
    for term in TERMS:
        table.add_row(f"{term.capitalize()}-term share", _pct(a["shares"][term]), _pct(b["shares"][term]))
    table.add_row("Adherence", _pct(a["adherence"]), _pct(b["adherence"]))
    for level in ("error", "warning", "info"):
        table.add_row(f"{level.capitalize()} findings", str(a["counts"][level]), str(b["counts"][level]))
    console.print(table)
