"""The action register on the terminal (``pmorules actions``): in words, overdue first."""

from __future__ import annotations

from rich.console import Console

from ..actions import ActionState

STATE_STYLE = {"overdue": "bold red", "open": "yellow", "done": "green", "dropped": "dim"}


def print_actions(states: list[ActionState], console: Console) -> None:
    if not states:
        console.print("No actions recorded (add an 'actions:' section, e.g. in actions.yaml).", markup=False)
        return
    for state in states:
        spec = state.action.spec
        who = ", ".join(part for part in (spec.owner, f"due {spec.due.isoformat()}" if spec.due else None) if part)
        console.print(f"[{STATE_STYLE[state.state]}]{state.state.upper():8}[/] ", end="")
        console.print(spec.action + (f" ({who})" if who else ""), markup=False)
        if spec.finding:
            if state.finding is not None:
                about = f"{state.finding.title}: {', '.join(state.names)} ({state.finding.level}, still found)"
            else:
                about = "a finding no longer found"
            console.print(f"         answers {about}", markup=False, style="dim")
        else:
            console.print(f"         decision: {spec.decision}", markup=False, style="dim")
        if state.done_but_open:
            console.print("         marked done, but its finding is still there", markup=False, style="bold red")
        if spec.status == "dropped":
            console.print(f"         dropped: {spec.reason}", markup=False, style="dim")
        if spec.notes:
            console.print(f"         notes: {spec.notes}", markup=False, style="dim")
