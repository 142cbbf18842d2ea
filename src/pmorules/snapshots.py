"""Load one side of a comparison: a workspace's knowledge as a folder holds it, or as a git revision held it.

A revision is read from git's object database (``rev-parse``, ``ls-tree``, ``cat-file``) into a temporary
folder that is removed afterwards: nothing is checked out and the working tree is never touched. git runs
without a shell, from an argument list, with a validated revision and a timeout. Only the files the knowledge
loader reads are copied: those directly in the workspace folder and in its ``knowledge/`` folder.

Every snapshot is judged by one yardstick: the rules, config and conventions of the newer side, so what
moves between two snapshots is the PMO, not the rulebook. Problems are located InputErrors (exit 2).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .analysis import Analysis, reanalyze
from .config import revision_problem
from .errors import Diagnostic, InputError, Location, did_you_mean
from .knowledge import KnowledgeBase, load_workspace
from .output import KNOWLEDGE_SUFFIXES

GIT_TIMEOUT = 30.0  # seconds per git call; reading a few small files takes milliseconds
FILE_MODES = {"100644", "100755"}  # regular files; submodules (160000) are not knowledge
LINK_MODE = "120000"  # a symlink: its blob is the path it points to, followed as a checked-out workspace would be
LINK_HOPS = 8  # a chain of links longer than this is a loop


@dataclass(frozen=True)
class Snapshot:
    """A state of a workspace: the folder itself, or a git revision of the workspace in ``folder``."""

    label: str
    folder: Path
    rev: str | None = None
    date: dt.date | None = None  # judged as of this day (None: the date its data describe, else the current date)
    where: Location | None = None  # where the snapshot was named, for errors about it (default: the folder)

    @property
    def at(self) -> Location:
        return self.where or Location(str(self.folder))


@dataclass(frozen=True)
class Judged:
    """A snapshot, its analysis by the yardstick's rules, and the commit a revision resolved to."""

    snapshot: Snapshot
    analysis: Analysis
    commit: str | None = None


def judge(snapshot: Snapshot, yardstick: Analysis) -> Judged:
    """Load a snapshot and evaluate it with ``yardstick``'s rulebook and config, as of the snapshot's own date
    (one without a date: as of the yardstick's)."""
    kb, commit = load_snapshot(snapshot, snapshot.date, yardstick.today)
    return Judged(snapshot, reanalyze(replace(yardstick, today=kb.today), kb), commit)


def judge_all(snapshots: list[Snapshot], yardstick: Analysis) -> list[Judged]:
    """Every snapshot judged; the problems of all of them reported together."""
    judged, problems = [], []
    for snapshot in snapshots:
        try:
            judged.append(judge(snapshot, yardstick))
        except InputError as error:
            problems.extend(error.diagnostics)
    if problems:
        raise InputError(problems)
    return judged


def load_snapshot(snapshot: Snapshot, today: dt.date | None, undated: dt.date) -> tuple[KnowledgeBase, str | None]:
    """The knowledge of a snapshot, and the commit id when it was read from git."""
    if snapshot.rev is None:
        if snapshot.where is not None and not snapshot.folder.is_dir():
            raise InputError([Diagnostic(snapshot.where, f"{snapshot.folder} is not a folder", "give the snapshot's folder, relative to the workspace")])
        return load_workspace(snapshot.folder, today, undated=undated), None
    with tempfile.TemporaryDirectory(prefix="pmorules-snapshot-") as temp:
        commit, shown = _read_revision(snapshot.folder, snapshot.rev, snapshot.at, Path(temp))
        return load_workspace(temp, today, shown=shown, undated=undated), commit


def reviews(current: Analysis, every: bool = False) -> list[Snapshot]:
    """The past reviews named in the workspace's ``[history]``, oldest first (checked when they are loaded): those
    held by the day the analysis describes. A review dated later is not past yet: judged as of an earlier day, a
    workspace has no "since the last review" to compare with it (its place in the config is still checked).
    ``every``: those dated later too (``validate`` checks every review the config names)."""
    workspace = Path(current.kb.workspace)
    config = current.config
    found = [
        Snapshot(review.label or key, workspace if review.path is None else workspace / review.path, review.rev,
                 review.date, config.where("history", key, "rev" if review.rev is not None else "path"))
        for key, review in config.config.reviews()
    ]
    outside = [Diagnostic(s.where, f"the snapshot folder {s.folder} is outside the workspace",
                          "copy the earlier review into a subfolder of the workspace (e.g. reviews/2025-12), or name a "
                          "git revision with rev")
               for s in found if s.rev is None and not s.folder.resolve().is_relative_to(workspace.resolve())]
    if outside:
        raise InputError(outside)
    return [s for s in found if every or s.date is None or s.date <= current.today]


def _read_revision(folder: Path, rev: str, where: Location, into: Path) -> tuple[str, str]:
    """Copy the knowledge files of the workspace ``folder`` at ``rev`` into ``into``; its commit and display name."""
    if problem := revision_problem(rev):
        raise InputError([Diagnostic(where, problem)])
    if not folder.is_dir():
        raise InputError([Diagnostic(Location(str(folder)), "no such workspace directory")])
    found = _git(["rev-parse", "--absolute-git-dir", "--show-prefix"], folder, where)
    if found.returncode != 0:
        said = _said(found)  # e.g. git refusing a repository of another user: then its own words tell why
        why = "" if said.startswith("not a git repository") else f" ({said})"
        raise InputError([Diagnostic(where, f"{folder} is not in a git repository, so it has no revision {rev!r}{why}",
                                     "keep the earlier snapshot as a folder instead, or commit the workspace to git")])
    gitdir, prefix = (found.stdout.decode(errors="surrogateescape").split("\n") + [""])[:2]
    _check_own_repository(folder, Path(gitdir), where)
    prefix = prefix.strip().rstrip("/")
    resolved = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], folder, where)
    if resolved.returncode != 0:
        refs = _git(["for-each-ref", "--format=%(refname:short)", "refs/tags", "refs/heads"], folder, where)
        known = refs.stdout.decode(errors="replace").split() if refs.returncode == 0 else []
        if rev in known:
            raise InputError([Diagnostic(where, f"the git repository of {folder} is damaged: {rev!r} names a commit it "
                                         "cannot read", "git fsck tells what is wrong")])
        raise InputError([Diagnostic(where, f"unknown revision {rev!r} in the git repository of {folder}", did_you_mean(rev, known))])
    commit = resolved.stdout.decode().strip()
    shown = f"{rev}:{prefix or '.'}"
    root = _tree(commit, prefix, folder, where)
    if root is None:
        raise InputError([Diagnostic(where, f"the workspace {prefix or '.'} does not exist at revision {rev!r}",
                                     "name a revision at which the workspace folder was committed")])
    entries = _entries(root, folder, where)
    blobs = _files(entries) + _linked(entries, "", commit, prefix, folder, where, shown)
    knowledge = next((oid for _, kind, oid, name in entries if kind == "tree" and name == "knowledge"), None)
    if knowledge is not None:
        (into / "knowledge").mkdir()
        inner = _entries(knowledge, folder, where)
        blobs += [(f"knowledge/{name}", oid)
                  for name, oid in _files(inner) + _linked(inner, "knowledge", commit, prefix, folder, where, shown)]
    for (name, _), data in zip(blobs, _contents(blobs, folder, where)):
        (into / name).write_bytes(data)
    return commit, shown


def _check_own_repository(folder: Path, gitdir: Path, where: Location) -> None:
    """The repository git found must be the one the workspace is committed in: a ``.git`` file (``gitdir: ...``)
    in a workspace can name any repository on the machine, whose files a revision would copy into the report.

    The work tree a repository belongs to is read from the repository itself, not from the ``.git`` file: a linked
    worktree's repository names its ``.git`` file, a submodule's names its work tree (``core.worktree``), and a
    plain repository is the ``.git`` folder of its work tree. That work tree must hold the workspace.
    """
    owner: Path | None = None
    try:
        linked = gitdir / "gitdir"
        if linked.is_file():
            owner = Path(linked.read_text(encoding="utf-8", errors="surrogateescape").strip()).parent
    except OSError:
        pass
    if owner is None:
        configured = _git(["config", "--get", "core.worktree"], folder, where)
        worktree = configured.stdout.decode(errors="surrogateescape").strip() if configured.returncode == 0 else ""
        owner = gitdir / worktree if worktree else gitdir.parent if gitdir.name == ".git" else None
    if owner is None or not folder.resolve().is_relative_to(owner.resolve()):
        raise InputError([Diagnostic(where, f"the git repository found for {folder} ({gitdir}) is not the one the workspace "
                                     "is committed in (a .git file names another repository)",
                                     "read revisions of the repository that holds the workspace, or keep the earlier "
                                     "snapshot as a folder")])


def _tree(commit: str, prefix: str, folder: Path, where: Location) -> str | None:
    """The id of the tree at ``prefix`` in ``commit``, or None when there is no folder there."""
    found = _git(["rev-parse", "--verify", "--quiet", f"{commit}:{prefix}"], folder, where)
    if found.returncode != 0:
        return None
    oid = found.stdout.decode().strip()
    kind = _git(["cat-file", "-t", oid], folder, where)
    return oid if kind.returncode == 0 and kind.stdout.decode().strip() == "tree" else None


def _entries(tree: str, folder: Path, where: Location) -> list[tuple[str, str, str, str]]:
    """The entries of one tree: mode, type, object id, name."""
    listed = _git(["ls-tree", "--full-tree", "-z", tree], folder, where)  # not limited to the folder git runs in
    if listed.returncode != 0:
        raise InputError([Diagnostic(where, f"git cannot list the workspace: {_said(listed)}")])
    entries = []
    for record in listed.stdout.split(b"\0"):
        if record:
            meta, _, name = record.partition(b"\t")
            mode, kind, oid = meta.decode().split(" ")
            entries.append((mode, kind, oid, name.decode("utf-8", errors="surrogateescape")))
    return entries


def _files(entries: list[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    """The regular files among a tree's entries, as (name, blob id)."""
    return [(name, oid) for mode, kind, oid, name in entries
            if kind == "blob" and mode in FILE_MODES and name not in (".", "..") and "/" not in name]


def _linked(entries: list[tuple[str, str, str, str]], within: str, commit: str, prefix: str, folder: Path,
            where: Location, shown: str) -> list[tuple[str, str]]:
    """The knowledge files among a tree's symlinks, as (name, blob id of the file each leads to): a link that
    leads out of the workspace, nowhere or round in a loop is a located error, as it is in a checked-out one
    (they were skipped without a word, and the older side silently lacked those files)."""
    links = [(name, oid) for mode, kind, oid, name in entries
             if mode == LINK_MODE and name.lower().endswith(KNOWLEDGE_SUFFIXES) and "/" not in name]
    found, problems = [], []
    for (name, _), target in zip(links, _contents(links, folder, where)):
        inside = "/".join(filter(None, [within, name]))
        path, oid = _follow(inside, target, commit, prefix, folder, where)
        if oid is None:
            problems.append(Diagnostic(where, f"{shown}/{inside} is a symlink that {path}", "commit the file itself"))
        else:
            found.append((name, oid))
    if problems:
        raise InputError(problems)
    return found


def _follow(name: str, target: bytes, commit: str, prefix: str, folder: Path, where: Location) -> tuple[str, str | None]:
    """Where the link ``name`` (in the workspace) leads at ``commit``: (the path, the blob id), or (what is wrong,
    None)."""
    for _ in range(LINK_HOPS):
        text = target.decode("utf-8", errors="replace")
        path = posixpath.normpath(posixpath.join(posixpath.dirname(name), text))
        if text.startswith("/") or path == ".." or path.startswith("../"):
            return f"leads outside the workspace (to {text})", None
        full = "/".join(filter(None, [prefix, path]))
        listed = _git(["ls-tree", "--full-tree", "-z", commit, "--", full], folder, where)
        # the entry of that exact path only: a folder's path ("." too) lists what the folder holds
        records = [r.partition(b"\t") for r in listed.stdout.split(b"\0") if r] if listed.returncode == 0 else []
        meta = next((m for m, _, name in records if name.decode("utf-8", "surrogateescape") == full), b"")
        mode, kind, oid = (meta.decode().split(" ") + ["", "", ""])[:3]
        if path != "." and mode in FILE_MODES and kind == "blob":
            return path, oid
        if mode != LINK_MODE:
            return f"leads to {text}, which is not a file at this revision", None
        name, target = path, _contents([(path, oid)], folder, where)[0]
    return "leads round in a loop", None


def _contents(blobs: list[tuple[str, str]], folder: Path, where: Location) -> list[bytes]:
    """The contents of blobs (name, id), in order, from one ``git cat-file --batch``; a blob git cannot read
    (missing or corrupt: a damaged repository) is a located error."""
    if not blobs:
        return []
    read = _git(["cat-file", "--batch"], folder, where, stdin="".join(f"{oid}\n" for _, oid in blobs).encode())
    if read.returncode != 0:
        raise InputError([Diagnostic(where, f"git cannot read the workspace's files: {_said(read)}")])
    out, data, at = [], read.stdout, 0
    for name, oid in blobs:
        end = data.find(b"\n", at)
        header = data[at:end].split(b" ") if end >= 0 else []
        size = int(header[2]) if len(header) == 3 and header[1] == b"blob" and header[2].isdigit() else -1
        if size < 0 or end + 1 + size > len(data):
            said = b" ".join(header[1:]).decode(errors="replace") or "no answer"
            raise InputError([Diagnostic(where, f"the git repository of {folder} is damaged: git cannot read {name} "
                                         f"(object {oid}: {said})", "git fsck tells what is wrong")])
        out.append(data[end + 1:end + 1 + size])
        at = end + 1 + size + 1  # the contents end with a newline of the batch format
    return out


def _git(args: list[str], folder: Path, where: Location, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run git in ``folder`` (an argument list, never a shell), within the timeout."""
    try:
        return subprocess.run(["git", *args], cwd=folder, input=stdin, capture_output=True, timeout=GIT_TIMEOUT,
                              check=False, env=os.environ | {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise InputError([Diagnostic(where, "git is not installed; it is needed to read a revision")]) from None
    except subprocess.TimeoutExpired:
        raise InputError([Diagnostic(where, f"git did not answer within {GIT_TIMEOUT:g} seconds")]) from None


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    """git's own last word on a failure, without its ``fatal:``."""
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    return lines[-1].removeprefix("fatal: ").strip() if lines else f"git exited with {done.returncode}"
