"""`pmorules diff` (two folders, or a workspace and a git revision) and `pmorules analyze --baseline`."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pmorules import snapshots
from pmorules.analysis import reanalyze
from pmorules.cli import app
from pmorules.counterfactual import found_without, with_service
from pmorules.findings import fingerprint
from conftest import write_files

AS_OF = ["--as-of", "2026-06-01"]
OLD = """
organisation: {name: Test PMO, age_months: 24, context: growing, capacity_fte: 4}
clients:
  - {id: exec, name: Executive board, weight: 0.8}
services:
  - {id: reporting, catalogue: S16, probability: 0.8, effort: 20, approach: supportive, clients: [exec]}
  - {id: lessons, catalogue: S08, probability: 0.25, effort: 5, clients: [exec]}
  - {id: training, catalogue: S12, probability: 0.7, effort: 10, clients: [exec]}
goals:
  - {id: G1, name: Visibility, outcomes: [O26], due_months: 3, client: exec}
"""


def new_text(training: str = "{id: training, catalogue: S12, probability: 0.7, effort: 10, clients: [exec]}",
             extra: str = "") -> str:
    """The PMO later: lessons slightly more likely (its error stays), training as given, maybe one more service."""
    text = OLD.replace("probability: 0.25", "probability: 0.28")
    text = text.replace("{id: training, catalogue: S12, probability: 0.7, effort: 10, clients: [exec]}", training)
    return text.replace("goals:", (f"  - {extra}\n" if extra else "") + "goals:")


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def diff_json(*args: str) -> dict:
    result = cli("diff", *args, *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_rule(findings: list[dict]) -> set[tuple[str, tuple[str, ...]]]:
    return {(f["rule"], tuple(f["subjects"])) for f in findings}


# ------------------------------------------------------------------ folders


def test_findings_are_matched_by_fingerprint_even_when_their_numbers_moved(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text(extra="{id: firefight, catalogue: X01, probability: 0.45, effort: 5, clients: [exec]}")})
    data = diff_json(str(old), str(new))
    still = {f["rule"]: f for f in data["findings"]["still_open"]}
    assert still["PRB002"]["fingerprint"] == fingerprint("PRB002", ["lessons"])
    assert "25%" in cli("analyze", str(old), *AS_OF).stdout and "28%" in still["PRB002"]["message"]
    assert still["PRB002"]["old_level"] == still["PRB002"]["level"] == "error"
    assert ("PRB001", ("firefight",)) in by_rule(data["findings"]["new"])
    assert data["findings"]["resolved"] == []
    assert data["summary"]["services"] == {"old": 3, "new": 4, "change": 1}
    assert data["old"]["label"] == str(old) and data["new"]["label"] == str(new) and data["old"]["commit"] is None


def test_a_changed_service_is_credited_with_what_undoing_it_moves(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": OLD.replace("probability: 0.25, effort: 5", "probability: 0.45, effort: 3")})
    data = diff_json(str(old), str(new))
    lessons = next(s for s in data["services"] if s["id"] == "lessons")
    assert lessons["change"] == "changed"
    assert lessons["fields"] == {"probability": {"old": 0.25, "new": 0.45, "change": 0.2}, "effort": {"old": 5, "new": 3, "change": -2}}
    assert lessons["resolves"] == lessons["escalates"] == []
    assert lessons["causes"] == [fingerprint("BAL005", ["mix"])]  # its cut tips the mix short-term: about the mix, its doing
    assert lessons["eases"] == [fingerprint("PRB001", ["lessons"])]  # very unlikely (error) → unlikely (warning)
    assert data["attribution"] == "counterfactual"
    assert [s["id"] for s in data["services"]] == ["lessons"], "unchanged services are not listed"


def test_a_renamed_service_is_removed_and_added(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text("{id: academy, catalogue: S12, probability: 0.7, effort: 10, clients: [exec]}")})
    data = diff_json(str(old), str(new))
    changes = {s["id"]: s for s in data["services"]}
    assert changes["academy"]["change"] == "added" and changes["training"]["change"] == "removed"
    assert fingerprint("GOL004", ["training"]) in changes["training"]["resolves"]
    assert fingerprint("GOL004", ["academy"]) in changes["academy"]["causes"]


def test_was_makes_a_rename_one_change_and_keeps_its_findings_open(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    renamed = "{id: academy, was: training, catalogue: S12, probability: 0.7, effort: 12, clients: [exec]}"
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text(renamed)})
    data = diff_json(str(old), str(new))
    assert [s for s in data["services"] if s["id"] != "lessons"] == [{
        "change": "changed", "id": "academy", "name": "Training and development", "was": "training",
        "fields": {"effort": {"old": 10, "new": 12, "change": 2}}, "resolves": [], "causes": [], "eases": [], "escalates": [],
        "jointly": {},
    }]
    assert ("GOL004", ("academy",)) in by_rule(data["findings"]["still_open"])
    assert data["findings"]["resolved"] == [] and data["findings"]["new"] == []


def test_was_is_ignored_while_the_old_id_is_still_in_use(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text(extra="{id: academy, was: training, catalogue: S12, probability: 0.7, effort: 2}")})
    changes = {s["id"]: s["change"] for s in diff_json(str(old), str(new))["services"]}
    assert changes == {"academy": "added", "lessons": "changed"}


def test_two_services_cannot_both_have_been_the_same_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "old", {"pmo.yaml": OLD})
    both = new_text("{id: academy, was: training, catalogue: S12, probability: 0.7, effort: 10}",
                    extra="{id: school, was: training, catalogue: S12, probability: 0.7, effort: 1}")
    write_files(tmp_path / "new", {"pmo.yaml": both})
    result = cli("diff", "old", "new", *AS_OF)
    assert result.exit_code == 2
    line = next(n for n, text in enumerate(both.lstrip("\n").splitlines(), 1) if "id: school" in text)
    assert f"new/pmo.yaml:{line}:" in result.stderr and "school and academy both say they were 'training'" in result.stderr
    assert "Traceback" not in result.output


def test_the_errors_of_both_folders_come_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The older folder's errors waited for the newer one's to be fixed."""
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "old", {"pmo.yaml": OLD.replace("weight: 0.8", "weight: 5")})
    write_files(tmp_path / "new", {"pmo.yaml": OLD.replace("weight: 0.8", "weight: 9")})
    result = cli("diff", "old", "new", *AS_OF)
    assert result.exit_code == 2
    assert "old/pmo.yaml:3:39:" in result.stderr and "new/pmo.yaml:3:39:" in result.stderr and "2 errors found" in result.stderr


def test_goals_whose_status_moved(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": OLD.replace("probability: 0.8, effort: 20", "probability: 0.3, effort: 20")})
    goals = diff_json(str(old), str(new))["goals"]
    assert [(g["id"], g["status"]["old"], g["status"]["new"]) for g in goals] == [("G1", "green", "red")]
    assert goals[0]["adherence"]["old"] > goals[0]["adherence"]["new"]


def test_fail_on_new_counts_only_new_findings(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text(extra="{id: firefight, catalogue: X01, probability: 0.45, effort: 5, clients: [exec]}")})
    assert cli("diff", str(old), str(new), *AS_OF, "--fail-on-new", "warning").exit_code == 1  # PRB001 firefight
    assert cli("diff", str(old), str(new), *AS_OF, "--fail-on-new", "error").exit_code == 0  # PRB002 lessons is old
    assert cli("diff", str(old), str(new), *AS_OF, "--fail-on", "error").exit_code == 1
    assert cli("diff", str(old), str(old), *AS_OF, "--fail-on-new", "info").exit_code == 0


def test_text_and_markdown(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text("{id: academy, was: training, catalogue: S12, probability: 0.7, effort: 12, clients: [exec]}")})
    text = cli("diff", str(old), str(new), *AS_OF)
    assert text.exit_code == 0, text.output
    assert f"Since {old} (as of 2026-06-01)" in text.stdout
    assert "~ academy (Training and development): was training, effort 10 → 12" in text.stdout
    assert "STILL OPEN (" in text.stdout
    md = cli("diff", str(old), str(new), *AS_OF, "--format", "md")
    assert md.exit_code == 0 and md.stdout.startswith(f"# Since {old}")
    assert "| changed | Training and development (academy) | was training, effort 10 → 12 |" in md.stdout


def test_the_older_side_is_judged_as_of_its_own_day(tmp_path: Path) -> None:
    dated = OLD.replace("capacity_fte: 4}", "capacity_fte: 4, assessed_on: 2026-01-01}")
    old = write_files(tmp_path / "old", {"pmo.yaml": dated})
    new = write_files(tmp_path / "new", {"pmo.yaml": dated.replace("2026-01-01", "2026-05-01")})
    data = json.loads(cli("diff", str(old), str(new), "--as-of", "2027-06-01", "--old-as-of", "2026-02-01", "-f", "json").stdout)
    assert data["old"]["as_of"] == "2026-02-01"
    assert ("CTX001", ("mix",)) in by_rule(data["findings"]["new"]), "stale now, not at the older side's day"


def test_the_newer_sides_rules_judge_both_sides(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD, "pmorules.toml": "[rules.PRB002]\nenabled = false\n"})
    new = write_files(tmp_path / "new", {"pmo.yaml": OLD})
    data = diff_json(str(old), str(new))
    assert data["findings"]["new"] == [] and ("PRB002", ("lessons",)) in by_rule(data["findings"]["still_open"])


@pytest.mark.parametrize("args", [["only-one"], ["a", "b", "--since", "v1"]])
def test_give_two_folders_or_one_and_since(args: list[str]) -> None:
    result = cli("diff", *args)
    assert result.exit_code == 2 and "give OLD and NEW folders, or one workspace and --since REV" in result.stderr


def test_a_bad_older_folder_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "old", {"pmo.yaml": OLD.replace("effort: 5,", "effort: lots,")})
    write_files(tmp_path / "new", {"pmo.yaml": OLD})
    result = cli("diff", "old", "new", *AS_OF)
    assert result.exit_code == 2 and "old/pmo.yaml:6:54: services.effort" in result.stderr and "Traceback" not in result.output


# ------------------------------------------------------------------ git revisions


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args], cwd=repo, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose workspace pmo/ws was committed and tagged v1.0 as OLD, then changed to the newer text."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a repository above the test's folder
    root = tmp_path / "pmo"
    write_files(root, {"README.md": "a PMO\n"})
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "before the workspace")
    git(root, "tag", "v0")
    write_files(root / "ws", {"pmo.yaml": OLD, "reviews/old/pmo.yaml": "services: [broken"})
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first review")
    git(root, "tag", "v1.0")
    write_files(root / "ws", {"pmo.yaml": new_text(extra="{id: firefight, catalogue: X01, probability: 0.45, effort: 5, clients: [exec]}")})
    git(root, "commit", "-q", "-am", "second review")
    monkeypatch.chdir(root)
    return root


def test_since_a_tag_reads_the_workspace_through_git(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    status = git(repo, "status", "--porcelain")
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    data = diff_json("ws", "--since", "v1.0")
    assert list(temp.iterdir()) == [], "the revision's files are removed afterwards"
    assert data["old"]["label"] == "v1.0" and data["old"]["commit"] == git(repo, "rev-parse", "v1.0^{commit}").strip()
    assert ("PRB001", ("firefight",)) in by_rule(data["findings"]["new"])
    assert ("PRB002", ("lessons",)) in by_rule(data["findings"]["still_open"])
    write_files(tmp_path / "copy", {"pmo.yaml": OLD})
    by_folder = diff_json(str(tmp_path / "copy"), "ws")
    assert {f["open_since"]["label"] for f in data["findings"]["still_open"]} == {"v1.0"}
    for f in by_folder["findings"]["still_open"] + data["findings"]["still_open"]:
        f.pop("open_since")  # the older side: the folder, or the revision
    assert by_folder["findings"] == data["findings"] and by_folder["services"] == data["services"]
    assert git(repo, "status", "--porcelain") == status and git(repo, "stash", "list") == ""


def test_since_compares_with_the_working_tree_as_it_is(repo: Path) -> None:
    (repo / "ws" / "pmo.yaml").write_text(OLD.replace("probability: 0.25", "probability: 0.6"), encoding="utf-8")  # not committed
    data = diff_json("ws", "--since", "HEAD")
    assert ("PRB002", ("lessons",)) in by_rule(data["findings"]["resolved"])
    assert (repo / "ws" / "pmo.yaml").read_text(encoding="utf-8").count("probability: 0.6") == 1


def test_since_a_revision_where_a_file_is_broken_locates_it_at_that_revision(repo: Path) -> None:
    write_files(repo / "ws", {"pmo.yaml": OLD.replace("effort: 5,", "effort: lots,")})
    git(repo, "commit", "-q", "-am", "a typo")
    git(repo, "tag", "broken")
    write_files(repo / "ws", {"pmo.yaml": OLD})
    result = cli("diff", "ws", "--since", "broken", *AS_OF)
    assert result.exit_code == 2 and "broken:ws/pmo.yaml:6:54: services.effort" in result.stderr, result.stderr


def test_since_follows_a_symlink_inside_the_workspace_as_a_checkout_does(repo: Path) -> None:
    """A link was skipped without a word: 'no knowledge files' when it was the only one, else a side missing it."""
    (repo / "ws" / "data").mkdir()
    (repo / "ws" / "pmo.yaml").rename(repo / "ws" / "data" / "pmo.yml")
    (repo / "ws" / "pmo.yaml").symlink_to(Path("data") / "pmo.yml")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "linked")
    git(repo, "tag", "linked")
    data = diff_json("ws", "--since", "linked")
    assert data["findings"]["new"] == data["findings"]["resolved"] == [] and data["findings"]["still_open"]
    for name, target in (("clients.yaml", "../../outside.yaml"), ("loop.yaml", "loop.yaml"), ("here.yaml", "."),
                         ("data.yaml", "data")):
        (repo / "ws" / name).symlink_to(target)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links that lead nowhere")
    git(repo, "tag", "astray")
    for name in ("clients.yaml", "loop.yaml", "here.yaml", "data.yaml"):
        (repo / "ws" / name).unlink()
    result = cli("diff", "ws", "--since", "astray", *AS_OF)
    assert result.exit_code == 2
    assert "astray:ws/clients.yaml is a symlink that leads outside the workspace (to ../../outside.yaml)" in result.stderr
    assert "astray:ws/loop.yaml is a symlink that leads round in a loop" in result.stderr
    for name, target in (("here.yaml", "."), ("data.yaml", "data")):  # a folder: read as its first file, it was
        assert f"astray:ws/{name} is a symlink that leads to {target}, which is not a file at this revision" in result.stderr


@pytest.mark.parametrize("rev, message", [
    ("v9", "--since: unknown revision 'v9' in the git repository of ws"),
    ("v1.O", "unknown revision 'v1.O' in the git repository of ws (hint: did you mean 'v1.0'?)"),
    ("-v", "--since: '-v' is not a git revision"),
    ("v0", "--since: the workspace ws does not exist at revision 'v0'"),
    ("HEAD:README.md", "unknown revision 'HEAD:README.md'"),
])
def test_a_bad_revision_is_located(repo: Path, rev: str, message: str) -> None:
    result = cli("diff", "ws", f"--since={rev}", *AS_OF)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_git_that_hangs_or_is_missing_is_a_located_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "GIT_TIMEOUT", 1e-6)
    result = cli("diff", "ws", "--since", "v1.0", *AS_OF)
    assert result.exit_code == 2 and result.stderr.startswith("--since: git did not answer within 1e-06 seconds")
    monkeypatch.setattr(snapshots, "GIT_TIMEOUT", 30.0)
    monkeypatch.setenv("PATH", str(repo / "no-bin"))
    result = cli("diff", "ws", "--since", "v1.0", *AS_OF)
    assert result.exit_code == 2 and result.stderr.startswith("--since: git is not installed")


def test_since_needs_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "ws", {"pmo.yaml": OLD})
    result = cli("diff", "ws", "--since", "v1.0", *AS_OF)
    assert result.exit_code == 2
    assert result.stderr.startswith("--since: ws is not in a git repository, so it has no revision 'v1.0'")
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ baseline


def test_baseline_leaves_out_the_findings_it_knows(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text(extra="{id: firefight, catalogue: X01, probability: 0.45, effort: 5, clients: [exec]}")})
    baseline = tmp_path / "baseline.json"
    baseline.write_text(cli("analyze", str(old), *AS_OF, "-f", "json").stdout, encoding="utf-8")
    result = cli("analyze", str(new), *AS_OF, "-f", "json", "--baseline", str(baseline))
    data = json.loads(result.stdout)
    assert [(f["rule"], f["subjects"]) for f in data["findings"]] == [
        ("BAL005", ["mix"]), ("PRB001", ["firefight"]), ("GOL004", ["firefight"])]
    assert data["summary"]["findings"] == {"error": 0, "warning": 2, "info": 1}
    assert data["baseline"]["left_out"] == 8
    assert next(g for g in data["goals"] if g["id"] == "G1")["status"] == "green"
    text = cli("analyze", str(new), *AS_OF, "--baseline", str(baseline))
    assert "PRB002" not in text.stdout and "PRB001 firefight" in text.stdout and "8 findings in the baseline" in text.stderr
    assert cli("analyze", str(new), *AS_OF, "--baseline", str(baseline), "--fail-on", "error").exit_code == 0
    assert cli("analyze", str(new), *AS_OF, "--fail-on", "error").exit_code == 1
    assert cli("analyze", str(new), *AS_OF, "--baseline", str(baseline), "--fail-on", "warning").exit_code == 1


@pytest.mark.parametrize("text, where, message", [
    ('{"findings": [\n  {"rule": "X",}\n]}', "baseline.json:2:", "not JSON"),
    ('{"findings": [\n  {"fingerprint": "abc"},\n  {"rule": "PRB002"}\n]}', "baseline.json:3:3", "findings[1]: no fingerprint"),
    ('[1, 2]', "baseline.json:1:1", "a baseline is an analysis in JSON, with a list of findings"),
    ("\udcff", "baseline.json", "cannot read the baseline"),
])
def test_a_malformed_baseline_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, where: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "ws", {"pmo.yaml": OLD})
    Path("baseline.json").write_bytes(text.encode("utf-8", errors="surrogateescape"))
    result = cli("analyze", "ws", *AS_OF, "--baseline", "baseline.json")
    assert result.exit_code == 2
    assert result.stderr.startswith(where) and message in result.stderr and "Traceback" not in result.output


def test_a_missing_baseline_is_located(tmp_path: Path) -> None:
    write_files(tmp_path / "ws", {"pmo.yaml": OLD})
    result = cli("analyze", str(tmp_path / "ws"), "--baseline", str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and f"{tmp_path / 'nope.json'}: cannot read the baseline" in result.stderr


def test_a_baseline_that_is_not_a_file_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO waited forever for a writer, /dev/zero filled the memory until the command died (exit 3)."""
    write_files(tmp_path / "ws", {"pmo.yaml": OLD})
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for baseline, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device"), (tmp_path, "a directory")):
        result = cli("analyze", str(tmp_path / "ws"), "--baseline", str(baseline))
        assert result.exit_code == 2, result.output
        assert f"{baseline}: cannot read the baseline: is {kind}, not a regular file" in result.stderr


# ------------------------------------------------------------------ what is still open


def test_still_open_findings_are_listed_with_the_review_they_are_open_since(tmp_path: Path) -> None:
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": new_text()})
    still = diff_json(str(old), str(new))["findings"]["still_open"]
    lessons = next(f for f in still if f["rule"] == "PRB002")
    assert lessons["subjects"] == ["lessons"] and lessons["old_level"] == "error"
    assert lessons["open_since"] == {"label": str(old), "as_of": "2026-06-01"}
    text = cli("diff", str(old), str(new), *AS_OF).stdout
    listed = text[text.index("STILL OPEN ("):]
    assert " ERROR   PRB002 lessons: " in listed
    assert f"(open since {old} (as of" not in listed and f"(open since {old} (2026-06-01))" in listed
    assert listed.count("open since") == len(still)
    md = cli("diff", str(old), str(new), *AS_OF, "--format", "md").stdout
    listed = md[md.index("## Still open ("):]
    assert "- **error** PRB002 lessons: " in listed and listed.count("open since") == len(still)


# ------------------------------------------------------------------ escalated and eased


def by_move(moves: list[dict]) -> set[tuple]:
    return {(m["family"], tuple(m["subjects"]), m["old"]["rule"], m["old"]["level"], m["new"]["rule"], m["new"]["level"])
            for m in moves}


def test_a_graver_or_milder_form_of_one_problem_is_escalated_or_eased_not_resolved_and_new(tmp_path: Path) -> None:
    very_unlikely = write_files(tmp_path / "old", {"pmo.yaml": OLD})  # lessons 25%: very unlikely (error)
    unlikely = write_files(tmp_path / "new", {"pmo.yaml": OLD.replace("probability: 0.25", "probability: 0.45")})
    eased = diff_json(str(very_unlikely), str(unlikely))
    assert by_move(eased["findings"]["eased"]) == {("unlikely-service", ("lessons",), "PRB002", "error", "PRB001", "warning")}
    assert eased["findings"]["escalated"] == []
    everything = [f for key in ("resolved", "new", "still_open") for f in eased["findings"][key]]
    assert not any("lessons" in f["subjects"] and f["rule"].startswith("PRB") for f in everything)
    escalated = diff_json(str(unlikely), str(very_unlikely))
    assert by_move(escalated["findings"]["escalated"]) == {("unlikely-service", ("lessons",), "PRB001", "warning", "PRB002", "error")}
    assert escalated["findings"]["eased"] == [] and escalated["findings"]["new"] == []
    # an escalation to an error is no new finding, but it fails --fail-on-new error
    assert cli("diff", str(unlikely), str(very_unlikely), *AS_OF, "--fail-on-new", "error").exit_code == 1
    text = cli("diff", str(unlikely), str(very_unlikely), *AS_OF).stdout
    assert "problems:  0 resolved · 0 new · 1 escalated · 0 eased · " in text
    assert " ERROR   PRB001 warning → PRB002 error lessons: " in text[text.index("ESCALATED (1)"):]
    md = cli("diff", str(unlikely), str(very_unlikely), *AS_OF, "--format", "md").stdout
    assert "## Escalated (1)\n\n- **error** PRB001 warning → PRB002 error lessons: " in md


def test_a_rule_without_the_family_is_resolved_and_new_as_before(tmp_path: Path) -> None:
    overlay = {"rules/own.yaml": "- id: PRB002\n  extends: PRB002\n  family: null\n"}
    old = write_files(tmp_path / "old", {"pmo.yaml": OLD})
    new = write_files(tmp_path / "new", {"pmo.yaml": OLD.replace("probability: 0.25", "probability: 0.45")} | overlay)
    findings = diff_json(str(old), str(new))["findings"]
    assert findings["eased"] == [] and findings["escalated"] == []
    assert ("PRB002", ("lessons",)) in by_rule(findings["resolved"]) and ("PRB001", ("lessons",)) in by_rule(findings["new"])


def test_within_a_family_and_level_the_family_rank_decides() -> None:
    from pmorules.diff import FindingRef, _moves

    def ref(rule: str, level: str, subject: str = "g1") -> FindingRef:
        return FindingRef(f"{rule}-{subject}", "F1", rule, rule, level, (subject,), (subject,), "")

    families = {"A1": ("shortfall", 0), "A2": ("shortfall", 1), "A3": ("shortfall", 0), "B1": ("other", 0)}
    escalated, eased, reformed = _moves([ref("A1", "error"), ref("B1", "error", "g2")],
                                        [ref("A2", "error"), ref("A1", "error", "g2")], {}, families)
    assert [(m.old.rule, m.new.rule) for m in escalated] == [("A1", "A2")] and eased == [] and reformed == []
    escalated, eased, reformed = _moves([ref("A2", "error")], [ref("A1", "error")], {}, families)
    assert escalated == [] and [(m.old.rule, m.new.rule) for m in eased] == [("A2", "A1")]
    escalated, eased, reformed = _moves([ref("A1", "error")], [ref("A3", "error")], {}, families)
    assert escalated == eased == [] and [(m.old.rule, m.new.rule) for m in reformed] == [("A1", "A3")]


def test_the_examples_budget_ranking_goal_is_escalated_not_resolved_and_new(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    result = CliRunner().invoke(app, ["diff", "knowledge/example/reviews/2025-12", "knowledge/example", "--format", "json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert ("goal-shortfall", ("budget-ranking",), "GOL005", "warning", "GOL001", "error") in by_move(findings["escalated"])
    assert ("goal-shortfall", ("budget-control",), "GOL001", "error", "GOL005", "warning") in by_move(findings["eased"])
    for key in ("resolved", "new"):
        assert not {("GOL001", ("budget-ranking",)), ("GOL005", ("budget-ranking",))} & by_rule(findings[key])


# ------------------------------------------------------------------ cause by counterfactual


def example_diff(monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    result = cli("diff", "knowledge/example/reviews/2025-12", "knowledge/example", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_status_pack_harm_is_credited_to_retiring_the_tool_that_checked_it(monkeypatch: pytest.MonkeyPatch) -> None:
    data = example_diff(monkeypatch)
    harm = next(f for f in data["findings"]["new"] if f["rule"] == "HRM001")
    crediting = [s["id"] for s in data["services"] if harm["fingerprint"] in s["causes"]]
    assert crediting == ["tools"]  # not the pack's own figures, not the culture programme's probability
    culture = next(s for s in data["services"] if s["id"] == "culture")
    assert culture["causes"] == culture["resolves"] == []
    assert [(m["old"]["rule"], m["new"]["rule"], m["subjects"]) for m in data["findings"]["escalated"]] == [
        ("GOL005", "GOL001", ["budget-ranking"])]  # the budget-ranking goal escalated, not resolved + new
    assert "budget-ranking" not in {s for f in data["findings"]["resolved"] for s in f["subjects"]}


def test_a_finding_two_changes_each_bring_about_is_shown_as_their_joint_doing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Risk management, added, works better with the tool that was retired at the same time: undoing either alone
    removes the missing-prerequisite finding, so both are credited, jointly."""
    data = example_diff(monkeypatch)
    joint = fingerprint("DEP005", ["risk", "tools"])
    services = {s["id"]: s for s in data["services"]}
    assert joint in services["risk"]["causes"] and joint in services["tools"]["causes"]
    assert services["risk"]["jointly"] == {joint: ["tools"]} and services["tools"]["jointly"][joint] == ["risk"]
    assert fingerprint("DEP005", ["reporting", "tools"]) not in services["tools"]["jointly"]  # the retirement alone
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    text = cli("diff", "knowledge/example/reviews/2025-12", "knowledge/example").stdout
    assert "causes DEP005 risk, tools (jointly with tools)" in text


def test_above_the_size_limit_changes_are_shown_with_the_findings_about_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from pmorules import counterfactual

    monkeypatch.setattr(counterfactual, "LIMIT", 10)
    data = example_diff(monkeypatch)
    assert data["attribution"] == "findings about"
    harm = next(f for f in data["findings"]["new"] if f["rule"] == "HRM001")
    assert [s["id"] for s in data["services"] if harm["fingerprint"] in s["causes"]] == ["reporting"]  # named, so listed
    text = cli("diff", "knowledge/example/reviews/2025-12", "knowledge/example").stdout
    assert "each service is shown with the findings about it" in text and "about it, new: HRM001 reporting" in text


def test_a_counterfactual_finds_what_a_full_reanalysis_finds(example) -> None:
    """found_without skips the findings' texts and evidence: the fingerprints are those of the findings."""
    kb = example.kb
    variants = {sid: with_service(kb, sid, None) for sid in kb.services}
    variants |= {f"{sid} halved": with_service(kb, sid, replace(s, effort=s.effort / 2, probability=s.probability / 2))
                 for sid, s in kb.services.items()}
    found = found_without(example, variants)
    assert found == {key: frozenset(f.fingerprint for f in reanalyze(example, variant).findings)
                     for key, variant in variants.items()}
    assert len(set(found.values())) > 1  # the variants differ in what they find


QUICKRANK = """
  - id: quickrank
    name: Quick project ranking workshop
    term: medium
    months_to_value: 6
    since: 2025-11-01
    probability: 0.9
    effort: 3
    approach: facilitative
    clients: [exec]
    outcomes: [{id: O05, months: 6}, {id: O09, months: 6}]
"""


def _example_without_reviews(root: Path) -> None:
    """Two copies of the example, old and new, without their past reviews."""
    import re
    import shutil

    example = Path(__file__).resolve().parents[1] / "knowledge" / "example"
    for side in ("old", "new"):
        shutil.copytree(example, root / side, ignore=shutil.ignore_patterns("reviews"))
        toml = root / side / "pmorules.toml"
        toml.write_text(re.sub(r"\n\[history[\s\S]*", "\n", toml.read_text()))


def test_a_removed_service_put_back_has_run_on_since_the_older_day(tmp_path: Path) -> None:
    """Undoing a removal puts the service back as it would be today: it would have run on since the review, so
    its value is closer. A ranking workshop that would deliver by the budget round's date is credited with the
    goal it leaves uncovered (before, it was put back as of December, too late, and credited with nothing)."""
    _example_without_reviews(tmp_path)
    organisation = tmp_path / "old" / "organisation.yaml"
    organisation.write_text(organisation.read_text().replace("assessed_on: 2026-03-20", "assessed_on: 2025-12-19"))
    services = tmp_path / "old" / "services.yaml"
    services.write_text(services.read_text().replace("services:\n", "services:" + QUICKRANK, 1))
    result = cli("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    quickrank = next(s for s in data["services"] if s["id"] == "quickrank")
    assert quickrank["change"] == "removed"
    assert fingerprint("GOL001", ["budget-ranking"]) in quickrank["causes"], quickrank


def test_a_change_that_eases_a_problem_is_not_said_to_cause_its_milder_form(tmp_path: Path) -> None:
    """A ranking sprint added for a goal due in June: without it the goal cannot be met by its date (GOL002); with
    it, it is not covered in time (GOL001), a milder form of the same problem. The sprint did not cause GOL001."""
    _example_without_reviews(tmp_path)
    goals = tmp_path / "new" / "goals.yaml"
    goals.write_text(goals.read_text().replace("goals:\n", "goals:\n  - {id: quick-rank, name: A first ranked list, "
                                                "outcomes: [O05], due: 2026-06-22, priority: 2, client: exec}\n", 1))
    services = tmp_path / "new" / "services.yaml"
    services.write_text(services.read_text().replace("services:\n", "services:\n  - {id: ranking-sprint, name: Ranking "
                                                      "sprint, term: short, probability: 0.4, effort: 2, approach: facilitative, "
                                                      "clients: [exec], outcomes: [{id: O05, months: 2}]}\n", 1))
    result = cli("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert fingerprint("GOL001", ["quick-rank"]) in {f["fingerprint"] for f in data["findings"]["new"]}
    sprint = next(s for s in data["services"] if s["id"] == "ranking-sprint")
    assert fingerprint("GOL001", ["quick-rank"]) not in sprint["causes"], sprint


def test_points_are_the_difference_of_the_percentages_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """71% → 70% is -1 point, in diff as in the report (diff said -2: it rounded the raw difference)."""
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    text = cli("diff", "knowledge/example/reviews/2025-12", "knowledge/example").stdout
    assert "adherence: 71% → 70% (-1 pt)" in text and "long 25% → 31% (+6 pts)" in text, text
    report = cli("report", "knowledge/example", "-f", "md").stdout
    assert "| 71% | 70% | -1 pt |" in report


def test_a_diff_whose_sides_run_backwards_in_time_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    result = cli("diff", "knowledge/example/reviews/2025-12", "knowledge/example", "--as-of", "2025-11-01")
    assert result.exit_code == 0 and "note: the older side is judged as of 2025-12-19, after the newer side's 2025-11-01" in result.stderr
    assert "runs backwards" not in cli("diff", "knowledge/example/reviews/2025-12", "knowledge/example").stderr


def test_a_goal_whose_verdict_alone_moved_is_a_move() -> None:
    """A committee reads verdicts: a goal that stays amber but goes from "at risk" to "not covered" moved, and
    the move carries both verdicts; a goal whose colour and verdict stayed did not move."""
    from types import SimpleNamespace

    from pmorules.diff import _goals

    def goal(gid: str, status: str, verdict: str, adherence: float) -> dict:
        return {"id": gid, "name": gid.title(), "status": status, "verdict": verdict, "adherence": adherence,
                "overdue": False}

    old = SimpleNamespace(goals=lambda: [goal("g1", "amber", "at risk", 0.55), goal("g2", "green", "likely met", 0.9)])
    new = SimpleNamespace(goals=lambda: [goal("g1", "amber", "not covered", 0.5), goal("g2", "green", "likely met", 0.8)])
    moves = _goals(old, new)
    assert [(m.id, m.status, m.verdict, m.adherence) for m in moves] == [
        ("g1", ("amber", "amber"), ("at risk", "not covered"), (0.55, 0.5))]
    assert moves[0].to_json()["verdict"] == {"old": "at risk", "new": "not covered"}
