"""Writing results: the one writer, which only ever replaces a regular file it is allowed to write.

``write_output`` refuses a device, a FIFO, a socket, a directory, a symlink to
anything but a regular file, a read-only file, anything an analysis of the
workspace reads (``workspace_reads``: its knowledge and config files, its rule,
template and scenario folders, its review snapshots, and a new file that would
be read as knowledge next time) and the installed package's data. It writes a
temporary file beside the target and renames it over the target (or, for a new
file only, links it there), so the target is either the old file or the whole
new one; the temporary file is removed on any error and on SIGTERM, SIGINT and
SIGHUP. Every OS error is reported as ``path: message``. Every command that
writes a file (``report -o``, ``export``, ``init``) writes through it.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .errors import Diagnostic, InputError, Location
from .inputs import kind_of, os_message
from .paths import catalogue_dir, default_rules_dir, default_templates_dir, example_dir

KNOWLEDGE_SUFFIXES = (".yaml", ".yml", ".csv", ".xlsx")
KNOWLEDGE_FOLDER = "knowledge"  # read as knowledge beside the workspace folder itself
CONFIG_NAME = "pmorules.toml"
SCENARIOS_FOLDER = "scenarios"
READ_FOLDERS = ("rules", "templates", SCENARIOS_FOLDER)  # the rule overlay, report templates and what-ifs of every analysis
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_text(data: Any) -> str:
    """Stable JSON: sorted keys where order carries no meaning is the caller's job; here indent and newline.

    Never ``NaN`` or ``Infinity``, which are not JSON: a non-finite number here is a bug (numbers.py).
    Characters that could steer a terminal (C1 controls, bidirectional overrides) are written as
    ``\\u`` escapes, as json.dumps already does for the C0 controls.
    """
    return _safe(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def write_json(data: Any, stream: TextIO) -> None:
    """``json_text(data)`` written to ``stream`` a piece at a time: the same bytes, without the whole text (and
    the millions of small pieces the encoder makes of it) in memory at once, which at 100,000 services was
    hundreds of MiB."""
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False)
    batch: list[str] = []
    size = 0
    for piece in itertools.chain(encoder.iterencode(data), ["\n"]):
        batch.append(piece)
        size += len(piece)
        if size >= 1 << 16:
            stream.write(_safe("".join(batch)))
            batch, size = [], 0
    stream.write(_safe("".join(batch)))


def _safe(text: str) -> str:
    """Characters that could steer a terminal as ``\\u`` escapes (whole pieces of JSON text: never split one)."""
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


@dataclass(frozen=True)
class Protected:
    """What the writer must leave alone besides the package's data: input files, input folders,
    and folders where a new file with a knowledge suffix would be read as knowledge."""

    files: tuple[Path, ...] = ()
    folders: tuple[Path, ...] = ()
    knowledge_folders: tuple[Path, ...] = ()


def workspace_reads(workspace: Path, files: Iterable[Path] = (), rule_paths: Iterable[str] = (),
                    templates: Iterable[str] = (), snapshots: Iterable[str] = ()) -> Protected:
    """Everything an analysis of ``workspace`` reads, the one list the writer protects: its knowledge
    ``files`` (and any other file it names), its config, its rule, template and scenario folders and the
    ``rule_paths`` and ``templates`` its config adds, the folders of its review ``snapshots`` (each read as
    a workspace), and the folders where a new knowledge file would be read."""
    workspace = Path(workspace)
    folders = [workspace / name for name in (*READ_FOLDERS, *rule_paths, *templates)]
    snapshot_folders = [workspace / path for path in snapshots]
    return Protected(
        files=(*files, workspace / CONFIG_NAME),
        folders=(*folders, *(folder for folder in snapshot_folders if _real(folder) != _real(workspace))),
        knowledge_folders=(workspace, workspace / KNOWLEDGE_FOLDER),
    )


def _package_data() -> list[tuple[Path, str]]:
    return [(catalogue_dir(), "the catalogue"), (default_rules_dir(), "the default rules"),
            (default_templates_dir(), "the default templates"), (example_dir(), "the bundled example")]


def _refuse(target: Path, message: str, hint: str | None = None) -> InputError:
    return InputError([Diagnostic(Location(str(target)), message, hint)])


def _real(path: Path) -> Path | None:
    """Where ``path`` is (symlinks followed), also when it does not exist yet; None if that cannot be known."""
    try:
        return path.resolve(strict=True)
    except FileNotFoundError:
        parent = _real(path.parent) if path.parent != path else None
        return parent / path.name if parent is not None and not os.path.lexists(path) else None
    except (OSError, RuntimeError):
        return None


def _destination(target: Path) -> tuple[Path, os.stat_result | None]:
    """The file a write to ``target`` replaces (symlinks followed) and its status, or a refusal."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise _refuse(target, os_message(exc)) from None
    what = "is"
    destination = target
    if info is not None and stat.S_ISLNK(info.st_mode):
        real = _real(target)
        if real is None:
            raise _refuse(target, "is a broken symlink or a symlink loop; only a regular file is replaced")
        info, destination, what = real.stat(), real, "is a symlink to"
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise _refuse(target, f"{what} {kind_of(info.st_mode)}; only a regular file is replaced", "give a file name with -o")
    parent = _real(destination.parent)
    if parent is None or not parent.is_dir():
        raise _refuse(target, f"directory {destination.parent} does not exist")
    return parent / destination.name, info


def _check_allowed(target: Path, real: Path, info: os.stat_result | None, protected: Protected, hint: str) -> None:
    for path in protected.files:
        known = _real(path)
        same = info is not None and known is not None and known.exists() and os.path.samestat(known.stat(), info)
        if known == real or same:
            raise _refuse(target, f"refusing to overwrite an input file ({path})", hint)
    folders = [(folder, f"input folder {folder}") for folder in protected.folders] + _package_data()
    for folder, what in folders:
        known = _real(folder)
        if known is not None and real.is_relative_to(known):
            raise _refuse(target, f"refusing to write into {what}", hint)
    if real.suffix.lower() in KNOWLEDGE_SUFFIXES:
        for folder in protected.knowledge_folders:
            if real.parent == _real(folder):
                raise _refuse(target, "refusing to write a file the workspace would read as knowledge", hint)
    if info is not None and not os.access(real, os.W_OK):
        raise _refuse(target, "is read-only", hint)


class _Interrupted(BaseException):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM, SIGINT and SIGHUP into an exception while a file is written, so it is cleaned up;
    afterwards the signal is delivered again to the handler that was in place."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: Any) -> None:
        raise _Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in _SIGNALS}
    try:
        yield
    except _Interrupted as stop:
        for signum, handler in previous.items():
            default = handler in (signal.SIG_DFL, signal.default_int_handler)  # die of the signal, as a command should
            signal.signal(signum, signal.SIG_DFL if default and signum == stop.signum else handler)
        signal.raise_signal(stop.signum)
        raise KeyboardInterrupt from None  # the signal was ignored before: stop anyway, the write did not happen
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def check_output(target: Path, protected: Protected = Protected(), inside: Path | None = None,
                 hint: str = "choose another -o path") -> tuple[Path, os.stat_result | None]:
    """The file ``write_output`` would replace and its status, or the InputError it would raise
    (to refuse before rendering a long report, not after)."""
    target = Path(target)
    real, info = _destination(target)
    if inside is not None and not real.is_relative_to(Path(inside).resolve()):
        raise _refuse(target, f"leads outside {inside} (to {real})", "remove the symlink")
    _check_allowed(target, real, info, protected, hint)
    return real, info


def write_output(target: Path, data: bytes, protected: Protected = Protected(), *, new: bool = False,
                 inside: Path | None = None, hint: str = "choose another -o path") -> bool:
    """Replace ``target`` with ``data`` atomically, if the writer may; else a located InputError.

    With ``new``, only create it: an existing ``target`` is kept (False is returned). With ``inside``, the
    file must lie in that folder once symlinks are followed.
    """
    target = Path(target)
    if new and os.path.lexists(target):
        return False
    real, info = check_output(target, protected, inside, hint)
    with _interruptible():
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # no signal between creating and naming the temp file
        try:
            handle, name = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
        except OSError as exc:
            raise _refuse(target, os_message(exc)) from None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        temp = Path(name)
        try:
            if info is not None:
                mode = stat.S_IMODE(info.st_mode)
            else:  # mkstemp makes 0600; a new report is an ordinary file
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            with os.fdopen(handle, "wb") as out:
                os.fchmod(out.fileno(), mode)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if not new:
                os.replace(temp, real)
                return True
            try:
                os.link(temp, real)  # fails if anything appeared there meanwhile: never replaces
            except FileExistsError:
                return False
            finally:
                temp.unlink()
            return True
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _refuse(target, os_message(exc)) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
