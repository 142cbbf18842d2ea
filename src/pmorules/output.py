"""Writing results: atomic file writes that never touch an input, and JSON text."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import Diagnostic, InputError, Location


def json_text(data: Any) -> str:
    """Stable JSON: sorted keys where order carries no meaning is the caller's job; here indent and newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_atomic(target: Path, data: bytes, inputs: Iterable[Path] = ()) -> None:
    """Write ``data`` to ``target`` via a temporary file and rename; refuse to overwrite an input."""
    target = Path(target)
    resolved = target.resolve()
    for source in inputs:
        if Path(source).resolve() == resolved:
            raise InputError([Diagnostic(Location(str(target)), "refusing to overwrite an input file", "choose another -o path")])
    if target.is_dir():
        raise InputError([Diagnostic(Location(str(target)), "is a directory", "give a file name with -o")])
    parent = resolved.parent
    if not parent.is_dir():
        raise InputError([Diagnostic(Location(str(target)), f"directory {parent} does not exist")])
    handle, temp = tempfile.mkstemp(prefix=f".{resolved.name}.", dir=parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, resolved)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
