"""The pmorules command line: parse, call one library function, print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from . import __version__
from .errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

WorkspaceArg = Annotated[Path, typer.Argument(help="Workspace directory", show_default=True)]


def _fail_input(error: InputError) -> None:
    for diagnostic in sorted(set(error.diagnostics)):
        stderr.print(str(diagnostic), markup=False)
    count = len(set(error.diagnostics))
    stderr.print(f"{count} error{'s' if count != 1 else ''} found", markup=False)
    raise typer.Exit(2)


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
def validate(workspace: WorkspaceArg = Path(".")) -> None:
    """Check the knowledge files, rules and config of a workspace."""
    from .knowledge import load_workspace

    try:
        kb = load_workspace(workspace)
    except InputError as error:
        _fail_input(error)
    active = sum(1 for s in kb.services.values() if s.active)
    print(
        f"{workspace}: OK - {len(kb.services)} services ({active} active), {len(kb.clients)} clients, "
        f"{len(kb.goals)} goals in {len(kb.files)} files"
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of the knowledge format."""
    from .schema import knowledge_schema_text

    sys.stdout.write(knowledge_schema_text())


def main() -> None:
    try:
        app()
    except InputError as error:  # a library call outside a command's own handling
        for diagnostic in sorted(set(error.diagnostics)):
            stderr.print(str(diagnostic), markup=False)
        sys.exit(2)
