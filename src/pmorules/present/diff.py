"""A comparison of two snapshots in the terminal and in Markdown: the movement first, then the details."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from ..actions import DRAFTED_LEVELS
from ..dates import long_date
from ..diff import Diff, FindingRef, Move, ServiceChange, Side
from ..text import pct, printable
from ..vocabulary import TERMS

LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
MARKS = {"added": "+", "removed": "-", "changed": "~"}
# How a change is tied to findings: by counterfactual (undoing it alone moves them), or above the size limit only
# as the findings about the service, named so.
VERBS = {"counterfactual": ("resolves", "causes", "eases", "escalates"),
         "findings about": ("about it, resolved:", "about it, new:", "about it, eased:", "about it, escalated:")}
ATTRIBUTION = {"counterfactual": "A change is credited with a finding only if undoing it alone removes or restores it.",
               "findings about": "Too many changes to undo each one alone (above the size limit): each service is shown "
                                 "with the findings about it, not the findings it caused."}


def _side(side: Side) -> str:
    commit = f", commit {side.commit[:12]}" if side.commit else ""
    return f"{side.label} (as of {side.as_of}{commit})"


def _points(old: float | None, new: float | None) -> str:
    """0.62 → 0.7 as '62% → 70% (+8 pts)'."""
    if old is None or new is None:
        return f"{pct(old)} → {pct(new)}"
    change = int(pct(new)[:-1]) - int(pct(old)[:-1])  # of the percentages shown, as the report counts it
    return f"{pct(old)} → {pct(new)}" + (f" ({change:+d} pt{'s' if abs(change) != 1 else ''})" if change else "")


PAST_DUE = "Gone with a goal now past its date, not fixed"


def _gone_and_new(diff: Diff, upper: bool) -> list[tuple[str, list[FindingRef]]]:
    """The lists of findings resolved and new, and of those gone with a goal's date when there are any."""
    sections = [("Resolved", diff.resolved), ("New", diff.new_findings)]
    if diff.past_due:
        sections.append((PAST_DUE, diff.past_due))
    return [(title.upper() if upper else title, findings) for title, findings in sections]


def _finding(f: FindingRef) -> str:
    return f"{f.rule} {', '.join(f.subjects)}: {f.message}"


def _tally(diff: Diff) -> str:
    """'7 resolved · 7 new · 1 escalated · 1 eased · 11 still open': an escalation is neither resolved nor new."""
    return (f"{len(diff.resolved)} resolved · {len(diff.new_findings)} new · {len(diff.escalated)} escalated · "
            f"{len(diff.eased)} eased · {len(diff.still_open)} still open"
            + (f" · {len(diff.past_due)} gone with a goal now past its date" if diff.past_due else ""))


def _move(m: Move) -> str:
    """'GOL005 warning → GOL001 error budget-ranking: <the message now>'."""
    return f"{m.old.rule} {m.old.level} → {m.new.rule} {m.new.level} {', '.join(m.new.subjects)}: {m.new.message}"


def _open_since(f: FindingRef) -> str:
    """'open since Q4 2025 review (2025-12-19), 2 reviews', with 'was warning' when its level moved."""
    parts = [f"was {f.old_rule} {f.old_level}"] if f.old_rule else [f"was {f.old_level}"] if f.old_level and f.old_level != f.level else []
    if f.open_since is not None:
        parts.append(f"open since {f.open_since.label} ({f.open_since.as_of})" + (f", {f.reviews} reviews" if f.reviews > 1 else ""))
    return "; ".join(parts)


def _action(f: FindingRef) -> str:
    """'action: Re-scope it (PMO lead, due 27 February 2026, OVERDUE)'; a done action whose finding is still there is said
    so, and an error or warning without one (the findings a committee acts on)."""
    if f.action is None:
        return "no action recorded"
    spec = f.action.action.spec
    state = ("OVERDUE" if f.action.overdue else "marked DONE, but the finding is still there" if f.action.done_but_open
             else spec.status)
    who = [part for part in (spec.owner, f"due {long_date(spec.due)}" if spec.due else None, state) if part]
    return f"action: {spec.action} ({', '.join(who)})"


def _tied(change: ServiceChange, diff: Diff) -> list[str]:
    by_print = {f.fingerprint: f for f in diff.resolved + diff.new_findings}
    moved = {m.new.fingerprint: m for m in diff.eased + diff.escalated}
    verbs = VERBS[diff.attribution]
    joint = lambda p: f" (jointly with {', '.join(change.jointly[p])})" if p in change.jointly else ""  # noqa: E731
    out = [f"{verbs[0]} {by_print[p].rule} {', '.join(by_print[p].subjects)}{joint(p)}" for p in change.resolves]
    out += [f"{verbs[1]} {by_print[p].rule} {', '.join(by_print[p].subjects)}{joint(p)}" for p in change.causes]
    return out + [f"{verb} {moved[p].old.rule} → {moved[p].new.rule} {', '.join(moved[p].new.subjects)}{joint(p)}"
                  for verb, prints in ((verbs[2], change.eases), (verbs[3], change.escalates)) for p in prints]


def print_diff(diff: Diff, console: Console) -> None:
    console.print(printable(f"Since {_side(diff.old)}"), style="bold", markup=False)
    console.print(printable(f"now {_side(diff.new)}"), markup=False)
    console.print()
    console.print(printable("balance:   " + " · ".join(f"{t} {_points(*diff.shares[t])}" for t in TERMS)), markup=False)
    console.print(printable(f"adherence: {_points(*diff.adherence)}"), markup=False)
    console.print(printable("findings:  " + " · ".join(f"{level}s {a} → {b}" for level, (a, b) in diff.counts.items())), markup=False)
    console.print(printable(f"services:  {diff.services[0]} → {diff.services[1]} active"), markup=False)
    console.print(printable(f"problems:  {_tally(diff)}"), markup=False)
    if diff.goals:
        console.print()
        console.rule("[bold]GOALS[/bold]", align="left")
        for goal in diff.goals:
            console.print(printable(f" {goal.name}: {goal.verdict[0] or 'not a goal'} → {goal.verdict[1] or 'dropped'}, "
                                    f"adherence {_points(*goal.adherence)}"), markup=False)
    if diff.changes:
        console.print()
        console.rule("[bold]SERVICES[/bold]", align="left")
        console.print(ATTRIBUTION[diff.attribution], markup=False, style="dim")
        for change in diff.changes:
            detail = change.text()
            console.print(printable(f" {MARKS[change.change]} {change.id} ({change.name})" + (f": {detail}" if detail else "")), markup=False)
            for line in _tied(change, diff):
                console.print(printable(f"     {line}"), markup=False, style="dim")
    for title, findings in _gone_and_new(diff, upper=True):
        console.print()
        console.rule(f"[bold]{title} ({len(findings)})[/bold]", align="left")
        for f in findings:
            console.print(f" [{LEVEL_STYLE[f.level]}]{f.level.upper():7}[/] ", end="")
            console.print(printable(_finding(f)), markup=False)
    for title, moves in (("ESCALATED", diff.escalated), ("EASED", diff.eased)):
        console.print()
        console.rule(f"[bold]{title} ({len(moves)})[/bold]", align="left")
        for m in moves:
            console.print(f" [{LEVEL_STYLE[m.new.level]}]{m.new.level.upper():7}[/] ", end="")
            console.print(printable(_move(m)), markup=False)
    moved = [f for f in diff.still_open if f.old_level != f.level]
    console.print()
    console.rule(f"[bold]STILL OPEN ({len(diff.still_open)}, {len(moved)} changed level)[/bold]", align="left")
    for f in diff.still_open:
        console.print(f" [{LEVEL_STYLE[f.level]}]{f.level.upper():7}[/] ", end="")
        console.print(printable(f"{_finding(f)} ({_open_since(f)})"), markup=False)
        if f.action is not None or f.level in DRAFTED_LEVELS:
            console.print(printable(f"         {_action(f)}"), markup=False, style="bold red" if f.urgent or (f.action and f.action.done_but_open) else "dim")


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def diff_markdown(diff: Diff) -> str:
    lines = [f"# Since {_md(_side(diff.old))}", "", f"Now: {_md(_side(diff.new))}", "",
             "| | Then | Now |", "|---|---:|---:|"]
    lines += [f"| {t.capitalize()}-term share | {pct(diff.shares[t][0])} | {pct(diff.shares[t][1])} |" for t in TERMS]
    lines.append(f"| Adherence | {pct(diff.adherence[0])} | {pct(diff.adherence[1])} |")
    lines += [f"| {level.capitalize()} findings | {a} | {b} |" for level, (a, b) in diff.counts.items()]
    lines.append(f"| Active services | {diff.services[0]} | {diff.services[1]} |")
    lines += ["", f"Problems: {_tally(diff)}."]
    if diff.goals:
        lines += ["", "## Goals", "", "| Goal | Status then | Status now | Adherence |", "|---|---|---|---|"]
        lines += [f"| {_md(g.name)} ({g.id}) | {g.verdict[0] or '–'} | {g.verdict[1] or '–'} | {_points(*g.adherence)} |"
                  for g in diff.goals]
    if diff.changes:
        lines += ["", "## Services", "", ATTRIBUTION[diff.attribution], "", "| | Service | Change | Findings |", "|---|---|---|---|"]
        lines += [f"| {change.change} | {_md(change.name)} ({change.id}) | {_md(change.text())} | "
                  f"{_md('; '.join(_tied(change, diff)))} |" for change in diff.changes]
    for title, findings in _gone_and_new(diff, upper=False):
        lines += ["", f"## {title} ({len(findings)})", ""]
        lines += [f"- **{f.level}** {_md(_finding(f))}" for f in findings] or ["None."]
    for title, moves in (("Escalated", diff.escalated), ("Eased", diff.eased)):
        lines += ["", f"## {title} ({len(moves)})", ""]
        lines += [f"- **{m.new.level}** {_md(_move(m))}" for m in moves] or ["None."]
    moved = [f for f in diff.still_open if f.old_level != f.level]
    lines += ["", f"## Still open ({len(diff.still_open)}, {len(moved)} changed level)", ""]
    lines += [f"- **{f.level}** {_md(_finding(f))} ({_md(_open_since(f))})"
              + (f"; {_md(_action(f))}" if f.action is not None or f.level in DRAFTED_LEVELS else "") for f in diff.still_open] or ["None."]
    return "\n".join(lines).rstrip("\n") + "\n"
