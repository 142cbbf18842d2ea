"""Run one hostile case as a subprocess, bounded, and check what every case must satisfy.

A case runs ``python -m pmorules ARGS`` (or a small script) in a directory of
its own, with a timeout, a 2 GiB address-space cap and, when run as root,
without the capabilities that let root ignore file permissions, so that an
unreadable file is unreadable. The package runs from a private copy of the
sources and data (``package_copy``), so a case that tries to overwrite the
installed catalogue can never damage the checkout.

Every case must end in exit 0 with a correct result, or exit 2 with located
messages (``file:line:col: message`` or ``path: message``); never a hang,
exit 3, a traceback, a changed input, or a stray file.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60
MEMORY = 2 * 1024**3
_PR_CAPBSET_DROP = 24
_DAC_CAPABILITIES = (1, 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


@dataclass(frozen=True)
class Case:
    """One hostile input and what pmorules must answer."""

    name: str
    kind: str  # the class of the issue it belongs to
    args: tuple[str, ...] = ("validate", "ws")
    files: dict[str, Any] = field(default_factory=dict)  # ws-relative: text, bytes, or a function making them
    base: bool = True  # start from the small valid workspace
    expect: int = 0  # exit code
    where: str | None = None  # an error line must start with this
    says: str | None = None  # ... and contain this
    setup: Callable[[Path], None] | None = None  # special files: FIFOs, symlinks, modes (gets the case directory)
    check: Callable[[Run], None] | None = None  # the result is correct (outputs, injection)
    outputs: tuple[str, ...] = ()  # files the command may create, relative to the case directory
    fsize: int | None = None  # RLIMIT_FSIZE: a full disk
    script: str | None = None  # run this Python code instead of the CLI (argv: the case directory)
    signal: int | None = None  # the script ends by this signal (or 128 + it)
    dac: bool = False  # needs file permissions to hold for the process (root without DAC capabilities)
    timeout: int = TIMEOUT

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class Run:
    case: Case
    directory: Path
    returncode: int | None  # None: timed out
    stdout: str
    stderr: str
    before: dict[str, Any]
    after: dict[str, Any]
    seconds: float

    def output(self, name: str) -> bytes:
        return (self.directory / name).read_bytes()


def can_drop_dac() -> bool:
    """Whether file permissions can be made to hold for a child (always, when not root)."""
    if os.geteuid() != 0:
        return True
    try:
        result = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_drop_dac, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _drop_dac() -> None:
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in _DAC_CAPABILITIES:
            if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "cannot drop a capability")


def _limits(case: Case) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        if case.fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (case.fsize, case.fsize))
        _drop_dac()

    return apply


def package_copy(into: Path) -> Path:
    """A private copy of the sources and bundled data laid out like the checkout; returns its ``src``."""
    for name in ("src", "rules", "templates", "knowledge/catalogue", "knowledge/example"):
        shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return into / "src"


def snapshot(root: Path) -> dict[str, Any]:
    """Every entry under ``root``: kind, mode and content (or link target)."""
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                try:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    digest = "unreadable"
                out[rel] = ("file", stat.S_IMODE(info.st_mode), digest)
            else:
                out[rel] = ("other", stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode))
    return out


def run_case(case: Case, directory: Path, src: Path, build: Callable[[Case, Path], None]) -> Run:
    build(case, directory)
    if case.setup is not None:
        case.setup(directory)
    before = snapshot(directory)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COV_", "COVERAGE"))}
    env |= {"PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    command = [sys.executable, "-c", case.script, str(directory)] if case.script else [sys.executable, "-m", "pmorules", *case.args]
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=directory, env=env, capture_output=True, timeout=case.timeout, preexec_fn=_limits(case),
            stdin=subprocess.DEVNULL,
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        code, out, err = None, exc.stdout or b"", exc.stderr or b""
    seconds = time.monotonic() - start
    after = snapshot(directory)
    return Run(case, directory, code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), before, after, seconds)


LOCATED = re.compile(r"^(?:[^\s:][^\s]*?(?::\d+(?::\d+)?)?|--[a-z][a-z-]*(?: [a-z]+)?): \S")
SUMMARY = re.compile(r"^\d+ errors? found$")


def check_run(run: Run) -> None:
    """The invariants of every case, then the case's own check."""
    case = run.case
    assert run.returncode is not None, f"timed out after {case.timeout} s\nstderr:\n{run.stderr[-2000:]}"
    assert "Traceback" not in run.stderr, run.stderr[-4000:]
    assert "internal error" not in run.stderr, run.stderr[-4000:]
    if case.signal is not None:
        assert run.returncode in (-case.signal, 128 + case.signal), (run.returncode, run.stderr[-2000:])
    else:
        assert run.returncode == case.expect, f"exit {run.returncode}, expected {case.expect}\nstdout:\n{run.stdout[-2000:]}\nstderr:\n{run.stderr[-3000:]}"
    if case.expect == 2 and case.signal is None:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert lines, "exit 2 without a message"
        unlocated = [line for line in lines if not (LOCATED.match(line) or SUMMARY.match(line))]
        assert not unlocated, f"unlocated messages: {unlocated}"
        if case.where is not None:
            hits = [line for line in lines if line.startswith(case.where)]
            assert hits, f"no message at {case.where!r}:\n{run.stderr}"
            if case.says is not None:
                assert any(case.says in line for line in hits), f"no message at {case.where!r} says {case.says!r}:\n{run.stderr}"
    changed = {
        k: (v, run.after.get(k)) for k, v in run.before.items() if v != run.after.get(k) and k not in case.outputs
    }
    assert not changed, f"inputs changed: {changed}"
    stray = sorted(set(run.after) - set(run.before) - set(case.outputs))
    assert not stray, f"stray files: {stray}"
    if case.check is not None:
        case.check(run)
