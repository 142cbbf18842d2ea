"""Compiled built-in report templates kept between runs, as Python keeps compiled modules in ``__pycache__``.

Compiling the eleven built-in Markdown templates took a fresh ``pmorules report`` process about 0.09 s, a
quarter of what the report adds to the analysis. Jinja's bytecode cache stores a compiled template once and
loads it in the next process; this one keeps only the built-in templates (an organisation's templates are
compiled each run, so nothing about a workspace is kept outside it) and never lets the cache stop a report:
a folder it cannot create or write, an entry from another version, a damaged entry, all just mean compiling.

Where: ``PMORULES_CACHE_DIR`` (an empty value turns the cache off), else ``$XDG_CACHE_HOME/pmorules``, else
``~/.cache/pmorules`` (``%LOCALAPPDATA%\\pmorules\\cache`` on Windows). Entries are code, so the folder is
used only when it belongs to the user and no one else can write to it (the trust Python gives
``__pycache__``; on a system without user ids, only the default folder is used). An entry is keyed by the
template's name, the report format (Jinja folds constant output through the format's escaping when it
compiles), the Jinja and Python versions and the source of the code generator as imported (the budget
checks of text.py and the environment of render.py): a changed generator never runs code compiled by the
old one. Each entry is checked against its template's source before use. Entries of other versions that
have not been used for 30 days, and the temporary folders of runs killed while making the cache's folder,
are removed when a new entry is written.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

import jinja2
from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache

from .. import text

_ENV = "PMORULES_CACHE_DIR"


def _default_folder() -> Path | None:
    """Where the cache lives unless ``PMORULES_CACHE_DIR`` says otherwise."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "pmorules" / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "pmorules"
    home = os.path.expanduser("~")
    return Path(home) / ".cache" / "pmorules" if os.path.isabs(home) else None  # no home: no cache, not one in cwd


def cache_folder() -> Path | None:
    """The user's cache folder for pmorules, or None when ``PMORULES_CACHE_DIR`` is set empty or relative (never
    a cache under the current folder) or there is no home folder to keep it in."""
    chosen = os.environ.get(_ENV)
    if chosen is not None:
        chosen = os.path.expanduser(chosen)
        return Path(chosen) if os.path.isabs(chosen) else None
    return _default_folder()


def generator_fingerprint(sources: list[Path]) -> bytes | None:
    """What compiled code depends on besides the template's source: Jinja, Python and the code generator's
    source files; None when they cannot be read (then nothing is cached)."""
    digest = hashlib.sha256(f"{jinja2.__version__}|{sys.version}".encode())
    try:
        for source in sources:
            digest.update(source.read_bytes())
    except (OSError, TypeError):
        return None
    return digest.digest()


# text.py holds the bounded code generator, render.py the environment's options; hashed as imported, so a file
# edited after the import never lends its key to code compiled by the old one
_FINGERPRINT = generator_fingerprint([Path(text.__file__ or ""), Path(__file__).with_name("render.py")])
_STALE_SECONDS = 30 * 24 * 3600
_ORPHAN_SECONDS = 600
MARKER = "CACHEDIR.TAG"
MARKER_TEXT = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
               b"# pmorules keeps compiled report templates here; delete this folder at any time.\n")
_HEADER = b"pmorules template "
_OWN_NAME = re.compile(r"[0-9a-f]{16}-[0-9a-f]{32}|\.[a-z0-9_]{8}\.tmp")  # an entry's key, a temporary file (mkstemp)


class BuiltinTemplateCache(BytecodeCache):
    """Jinja's bytecode cache for the templates under ``builtin``, stored in ``folder`` (see the module)."""

    def __init__(self, folder: Path, builtin: Path, flavour: str, fingerprint: bytes):
        self.folder = folder / "templates"
        self.builtin = builtin.resolve()
        self.flavour = flavour
        self.fingerprint = fingerprint

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        if filename is None or not Path(filename).resolve().is_relative_to(self.builtin):
            return Bucket(environment, "", "")  # not cached: the empty key is never loaded or stored
        # the file name starts with the generator's fingerprint, so entries of other versions can be told apart
        key = (self.fingerprint.hex()[:16] + "-"
               + hashlib.sha256(self.fingerprint + f"{self.flavour}|{name}".encode()).hexdigest()[:32])
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def _header(self, bucket: Bucket) -> bytes:
        return _HEADER + f"{bucket.checksum}\n".encode()

    def load_bytecode(self, bucket: Bucket) -> None:
        if not bucket.key or not self._own():
            return
        try:
            data = _read_entry(self.folder / bucket.key)
            header = self._header(bucket)
            if data.startswith(header):  # else: compiled from another source, or not an entry
                bucket.code = marshal.loads(data[len(header):])
        except (OSError, ValueError, EOFError, TypeError):  # a damaged entry is compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        if not bucket.key or bucket.code is None:
            return
        try:
            self._create()
            if not self._own():
                return
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(self._header(bucket) + marshal.dumps(bucket.code))
                os.replace(temporary, self.folder / bucket.key)  # whole or not at all, for a process reading it
            except BaseException:
                os.unlink(temporary)
                raise
            self._prune()
        except OSError:  # a read-only home, a full disk: the next run compiles again
            pass

    def _create(self) -> None:
        """Make the cache's folder and mark it as the cache's own, unless there is a folder there already. The
        folder is made and marked under a temporary name, then renamed: a run killed in between leaves a
        temporary folder, never an unmarked cache folder that no later run would use."""
        if os.path.lexists(self.folder):
            return  # ours if it holds the marker, else someone else's: left alone
        self.folder.parent.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
        making = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=".templates-"))
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
            with os.fdopen(os.open(making / MARKER, flags, 0o600), "wb") as marker:
                marker.write(MARKER_TEXT)
            if not os.path.lexists(self.folder):  # another run may have made it meanwhile
                os.rename(making, self.folder)
        finally:
            if making.exists():
                shutil.rmtree(making, ignore_errors=True)

    def _own(self) -> bool:
        """The folder is trusted and holds the marker the cache wrote when it created it."""
        try:
            return self._trusted() and _read_entry(self.folder / MARKER) == MARKER_TEXT
        except OSError:
            return False

    def _prune(self) -> None:
        """Remove the cache's own entries of other versions, and its temporary files of killed runs, unused for
        30 days; anything else in the folder is not the cache's and stays."""
        mine = self.fingerprint.hex()[:16] + "-"
        now = time.time()
        for entry in os.scandir(self.folder):
            if entry.name.startswith(mine) or not _OWN_NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_atime <= _STALE_SECONDS:
                continue
            if entry.name.endswith(".tmp") or _read_entry(Path(entry.path)).startswith(_HEADER):
                os.unlink(entry.path)
        self._remove_orphans(now)

    def _remove_orphans(self, now: float) -> None:
        """Remove the temporary folders of runs killed while making the cache folder (``_create``): beside it,
        named ``.templates-…``, holding the marker and nothing else, untouched for ten minutes (a run making the
        folder now takes milliseconds). Anything else there is not the cache's and stays."""
        for entry in os.scandir(self.folder.parent):
            if not entry.name.startswith(".templates-") or not entry.is_dir(follow_symlinks=False):
                continue
            marker = Path(entry.path) / MARKER
            try:
                if (now - entry.stat(follow_symlinks=False).st_mtime > _ORPHAN_SECONDS
                        and os.listdir(entry.path) == [MARKER] and _read_entry(marker) == MARKER_TEXT):
                    os.unlink(marker)
                    os.rmdir(entry.path)
            except OSError:  # gone meanwhile, or not ours to remove
                continue

    def _trusted(self) -> bool:
        """The folder and its parent are real folders of this user that no one else can write to (without user
        ids: the folder is the default one, in the user's own application data)."""
        if not hasattr(os, "getuid"):
            return self.folder.is_dir() and self.folder.parent == _default_folder()
        for folder in (self.folder, self.folder.parent):
            try:
                info = os.lstat(folder)
            except OSError:
                return False
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
        return True


_MAX_ENTRY = 16 * 2**20  # the largest built-in template compiles to about 50 kB


def _read_entry(path: Path) -> bytes:
    """An entry's bytes, if it is a regular file of this user of sensible size (not a symlink, FIFO or device)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(path, flags), "rb") as entry:
        info = os.fstat(entry.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_ENTRY:
            return b""
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return b""
        return entry.read(_MAX_ENTRY)


def template_cache(builtin: Path, flavour: str) -> BuiltinTemplateCache | None:
    """The cache of compiled built-in templates of one report format, or None when it is turned off."""
    folder = cache_folder()
    if folder is None or _FINGERPRINT is None:
        return None
    return BuiltinTemplateCache(folder, builtin, flavour, _FINGERPRINT)
