"""The action register on the terminal (``pmorules actions``): in words, overdue first; and its drafts
(``--draft``), printed as YAML for a person to complete and paste, never written over what a person wrote."""

from __future__ import annotations

import json

from rich.console import Console

from ..actions import ActionState, unanswered
from ..analysis import Analysis
from ..dates import long_date
from ..findings import names_of
from ..knowledge.spec import Action
from ..mix.recommend import Change, MixResult
from ..text import UNPRINTABLE, printable

STATE_STYLE = {"overdue": "bold red", "open": "yellow", "done": "green", "dropped": "dim"}


def print_actions(states: list[ActionState], console: Console) -> None:
    if not states:
        console.print("No actions recorded (add an 'actions:' section, e.g. in actions.yaml).", markup=False)
        return
    for state in states:
        spec = state.action.spec
        who = ", ".join(part for part in (spec.owner, f"due {long_date(spec.due)}" if spec.due else None) if part)
        console.print(f"[{STATE_STYLE[state.state]}]{state.state.upper():8}[/] ", end="")
        console.print(printable(spec.action + (f" ({who})" if who else "")), markup=False)
        if spec.finding:
            if state.finding is not None:
                about = f"{state.finding.title}: {', '.join(state.names)} ({state.finding.level}, still found)"
            else:
                about = "a finding no longer found"
            console.print(printable(f"         answers {about}"), markup=False, style="dim")
        else:
            console.print(printable(f"         decision: {spec.decision}"), markup=False, style="dim")
        if state.done_but_open:
            console.print("         marked done, but its finding is still there", markup=False, style="bold red")
        if spec.status == "dropped":
            console.print(printable(f"         dropped: {spec.reason}"), markup=False, style="dim")
        if spec.notes:
            console.print(printable(f"         notes: {spec.notes}"), markup=False, style="dim")


def _decision(change: Change) -> str:
    """A change of the recommended mix as a decision a committee takes: 'Stop the weekly status pack'."""
    name = change.service.name
    if change.kind == "removed":
        return f"Stop {name}"
    if change.kind == "added":
        return f"Start {name}"
    if change.kind == "changed":
        return f"Run {name} in the {change.after} approach"
    verb = "Raise" if change.after > change.before else "Cut"
    return f"{verb} the effort of {name} from {change.effort(change.before)} to {change.effort(change.after)}"


def _fitted(text: str, field: str) -> str:
    """``text`` cut to the register's limit for ``field`` (a long name, a long recommendation), so that a drafted
    entry always pastes in and validates."""
    most = next(m.max_length for m in Action.model_fields[field].metadata if hasattr(m, "max_length"))
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


def _scalar(text: str) -> str:
    """A YAML scalar that reads back as ``text`` whatever it holds (a JSON string is a YAML double-quoted one),
    with control characters and bidirectional overrides as ``\\u`` escapes: the draft is printed to a terminal."""
    return UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", json.dumps(text, ensure_ascii=False))


def draft_yaml(analysis: Analysis, mix: MixResult) -> str:
    """Draft entries for the register, to complete and paste: one per error or warning no action answers, and one
    per change of the recommended mix no action records as its decision. Owner and due are left for a person."""
    names = names_of(analysis.kb)
    recorded = {_fitted(a.spec.decision, "decision").casefold() for a in analysis.kb.actions if a.spec.decision}
    lines = [f"# Drafted by pmorules actions --draft as of {long_date(analysis.today)}: the errors and warnings no action answers",
             "# yet, and the changes of the recommended mix no action records as its decision. Nothing was written: reword",
             "# each action, give its owner and due date, and paste the entries you agree under 'actions:' (actions.yaml).",
             "actions:"]
    for finding in unanswered(analysis):
        about = ", ".join(names.get(s, s) for s in finding.subjects)
        lines += [f"  - finding: {finding.fingerprint}   # {printable(f'{finding.level}: {finding.title} ({about})')}",
                  f"    action: {_scalar(_fitted(finding.recommendation or finding.title, 'action'))}",
                  "    owner:", "    due:", "    status: open"]
    for change in mix.changes:
        decision = _fitted(_decision(change), "decision")
        if decision.casefold() in recorded:
            continue
        lines += [f"  - decision: {_scalar(decision)}   # {printable(f'the recommended mix: {change.reason()}')}",
                  f"    action: {_scalar(decision)}", "    owner:", "    due:", "    status: open"]
    if lines[-1] == "actions:":
        lines[-1] = "actions: []   # every error and warning has an action, every change of the recommended mix a decision"
    return "\n".join(lines) + "\n"
