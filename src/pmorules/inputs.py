"""Reading the files a workspace names: regular files inside the workspace, every OS error located.

A workspace may be someone else's (shared, checked out, uploaded to a service
that runs pmorules). Its report embeds text from its knowledge, rule and
template files, so a file it names must not lead outside it: a symlink to
``/etc/passwd`` would copy a file of the machine into the report. Command-line
arguments are the user's own choice and are not bounded this way.

A file is opened without blocking and checked to be a regular file before it
is read, so a FIFO or a device (``/dev/zero``) is an error instead of a hang;
its size is bounded too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import Diagnostic, InputError, Location

MAX_INPUT_BYTES = 256 * 1024 * 1024

_KINDS = {
    stat.S_IFREG: "a file", stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket",
}


def fail(display: str, message: str, hint: str | None = None) -> InputError:
    return InputError([Diagnostic(Location(display), message, hint)])


def os_message(exc: OSError) -> str:
    """An OS error as a message: its text without the errno number and path Python adds."""
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    return exc.strerror or str(exc)


def kind_of(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def resolve_inside(path: Path, display: str, inside: Path | None) -> Path:
    """The real path of ``path``, which must exist and, with ``inside``, lie within that folder."""
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        if path.is_symlink():
            raise fail(display, f"broken symlink: its target {os.readlink(path)} does not exist") from None
        raise fail(display, "no such file") from None
    except OSError as exc:
        raise fail(display, os_message(exc)) from None
    except RuntimeError:  # Python < 3.13 reports a symlink loop this way
        raise fail(display, "symlink loop (too many levels of symbolic links)") from None
    if inside is not None and not resolved.is_relative_to(inside.resolve()):
        raise fail(display, f"leads outside the workspace (to {resolved})", "copy the file into the workspace")
    return resolved


def read_input(path: Path, display: str, inside: Path | None = None, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file, or a located InputError saying what is wrong with it."""
    resolved = resolve_inside(path, display, inside)
    try:
        handle = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise fail(display, f"cannot read: {os_message(exc)}") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise fail(display, f"is {kind_of(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise fail(display, f"is too large ({info.st_size:,} bytes; at most {limit:,})")
        chunks, size = [], 0
        while chunk := os.read(handle, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise fail(display, f"is too large (more than {limit:,} bytes)")
        return b"".join(chunks)
    except OSError as exc:
        raise fail(display, f"cannot read: {os_message(exc)}") from None
    finally:
        os.close(handle)


def byte_location(data: bytes, offset: int, display: str) -> Location:
    """``file:line:col`` (1-based, columns in characters) of a byte offset."""
    before = data[: max(offset, 0)]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", "replace"))
    return Location(display, before.count(b"\n") + 1, column + 1)


def decode_text(data: bytes, display: str) -> str:
    """UTF-8 text (a byte-order mark dropped), or a located error at the first bad byte."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        where = byte_location(data, exc.start, display)
        raise InputError([Diagnostic(where, f"not UTF-8 text: {exc.reason} (byte 0x{data[exc.start]:02x})")]) from None


def folder_inside(path: Path, display: str, inside: Path | None) -> Path | None:
    """The real path of a folder the workspace names (None if there is none), inside ``inside``."""
    if not os.path.lexists(path):
        return None
    resolved = resolve_inside(path, display, inside)
    if not resolved.is_dir():
        raise fail(display, f"is {kind_of(resolved.stat().st_mode)}, not a folder")
    return resolved


def list_folder(folder: Path, display: str) -> list[os.DirEntry[str]]:
    """The entries of a folder, sorted by name; an unreadable folder is a located error."""
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as exc:
        raise fail(display, f"cannot read folder: {os_message(exc)}") from None
