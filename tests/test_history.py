"""A workspace's past reviews (``[history]`` in pmorules.toml): validation, the report's "Since the last review"
section and its trend chart, and the example's December 2025 review."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pmorules.analysis import analyze
from pmorules.cli import app
from pmorules.diff import history_of
from pmorules.errors import InputError
from pmorules.findings import fingerprint
from pmorules.report.charts import trend_chart
from conftest import context_of, report_of, write_files
from test_diff import OLD, git, new_text

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 6, 1)
LATER = new_text(extra="{id: firefight, catalogue: X01, probability: 0.45, effort: 5, clients: [exec]}")


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def workspace(root: Path, toml: str, reviews: dict[str, str] | None = None) -> Path:
    """A workspace (the later PMO) with a pmorules.toml and review folders under reviews/."""
    files = {"pmo.yaml": LATER, "pmorules.toml": toml}
    files |= {f"reviews/{name}/pmo.yaml": text for name, text in (reviews or {}).items()}
    return write_files(root, files)


def problems(ws: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        history_of(analyze(ws, AS_OF))
    return [str(d) for d in sorted(set(info.value.diagnostics))]


# ------------------------------------------------------------------ pmorules.toml


@pytest.mark.parametrize("toml, expected", [
    ("[history.q1]\ndate = 2026-01-01\npath = 'reviews/q1'\nrev = 'v1'\n",
     "pmorules.toml:1:1: history.q1: give path (a folder) or rev (a git revision), exactly one"),
    ("[history.q1]\ndate = 2026-01-01\n", "pmorules.toml:1:1: history.q1: give path (a folder) or rev (a git revision), exactly one"),
    ("[history.q1]\ndate = 2026-01-01\nrev = '--output=x'\n", "pmorules.toml:1:1: history.q1: '--output=x' is not a git revision"),
    ("[history.q1]\ndate = 2026-01-01\nrev = 'v1 v2'\n", "pmorules.toml:1:1: history.q1: 'v1 v2' is not a git revision"),
    ("[history.q1]\ndate = 2026-01-01\npath = '/etc'\n", "pmorules.toml:1:1: history.q1: path '/etc' must be relative to the workspace"),
    ("[history.q1]\ndate = 2026-01-01\npath = '../q1'\n",
     "pmorules.toml:3:1: the snapshot folder ws/../q1 is outside the workspace (hint: copy the earlier review"),
    ("[history.q1]\ndate = 2026-01-01\npaht = 'reviews/q1'\n", "pmorules.toml:3:1: unknown setting 'paht' (hint: did you mean 'path'?)"),
    ("[history.q1]\ndate = 0\npath = 'reviews/q1'\n", "pmorules.toml:2:1: history.q1.date: should be a date, written date = 2025-12-19"),
    ("[history.q0]\ndate = 2025-10-01\npath = 'reviews/q1'\n\n[history.q1]\npath = 'reviews/q1'\n",
     "pmorules.toml:5:1: history.q1.date: required setting is missing"),  # the table missing it, not q0's date
    ("[history.q1]\ndate = 20251219\npath = 'reviews/q1'\n", "pmorules.toml:2:1: history.q1.date: should be a date, written date = 2025-12-19"),
    ("[history.q1]\ndate = '1766102400'\npath = 'reviews/q1'\n", "pmorules.toml:2:1: history.q1.date: should be a date, written date = 2025-12-19"),
    ("[history.q1]\ndate = 2025-12-19T10:00:00\npath = 'reviews/q1'\n", "pmorules.toml:2:1: history.q1.date: should be a day, without a time: date = 2025-12-19"),
    ("[history.q1]\ndate = 'last spring'\npath = 'reviews/q1'\n", "pmorules.toml:2:1: history.q1.date: should be a date, written date = 2025-12-19"),
    ("name = 'x'\n[history.'Q1 review']\ndate = 2026-01-01\npath = 'reviews/q1'\n", "pmorules.toml:2:1: history: 'Q1 review' is not a review id"),
    ("[history.q1]\ndate = 2026-01-01\npath = 'reviews/q1'\n[history.q2]\ndate = 2026-01-01\npath = 'reviews/q1'\n",
     "pmorules.toml:5:1: history.q2: the review 'q1' has the same date (hint: give each review its own date)"),
])
def test_a_bad_history_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    workspace(tmp_path / "ws", toml, {"q1": OLD})
    result = cli("report", "ws", "--as-of", "2026-06-01")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"ws/{expected}" in result.stderr, result.stderr


def test_every_bad_review_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    toml = "[history.q1]\ndate = 2026-01-01\npath = 'reviews/nope'\n[history.q2]\ndate = 2026-02-01\nrev = 'v1'\n" \
           "[history.q3]\ndate = 2026-03-01\npath = 'reviews/bad'\n"
    workspace(tmp_path / "ws", toml, {"bad": OLD.replace("effort: 5,", "effort: lots,")})
    assert problems(Path("ws")) == [
        "ws/pmorules.toml:3:1: ws/reviews/nope is not a folder (hint: give the snapshot's folder, relative to the workspace)",
        ("ws/pmorules.toml:6:1: ws is not in a git repository, so it has no revision 'v1' "
         "(hint: keep the earlier snapshot as a folder instead, or commit the workspace to git)"),
        "ws/reviews/bad/pmo.yaml:6:54: services.effort: should be a valid number, unable to parse string as a number (got 'lots')",
    ]


def test_review_folders_are_not_read_as_the_workspaces_knowledge(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws", "[history.q1]\ndate = 2026-01-01\npath = 'reviews/q1'\n", {"q1": OLD})
    write_files(ws, {"knowledge/reviews/q0/pmo.yaml": "services: [broken", "reviews/q1/knowledge/more.yaml": "services: []\n"})
    analysis = analyze(ws, AS_OF)
    assert [Path(f.path).relative_to(ws).as_posix() for f in analysis.kb.files] == ["pmo.yaml"]
    assert "firefight" in analysis.kb.services
    example = analyze(ROOT / "knowledge" / "example", AS_OF)
    assert not any("reviews" in f.path for f in example.kb.files)


# ------------------------------------------------------------------ the report


@pytest.fixture
def reviewed(tmp_path: Path) -> Path:
    """Three reviews, listed out of date order; the PMO now is LATER."""
    toml = ("[history.q2]\nlabel = 'Spring review'\ndate = 2026-04-01\npath = 'reviews/q2'\n"
            "[history.q1]\nlabel = 'Winter review'\ndate = 2026-01-15\npath = 'reviews/q1'\n"
            "[history.q0]\ndate = 2025-10-01\npath = 'reviews/q0'\n")
    q0 = OLD.replace("probability: 0.8, effort: 20", "probability: 0.3, effort: 20")
    return workspace(tmp_path / "ws", toml, {"q0": q0, "q1": OLD, "q2": new_text()})


def test_the_trend_has_one_point_per_review_in_date_order_then_now(reviewed: Path) -> None:
    history = history_of(analyze(reviewed, AS_OF))
    assert history is not None
    assert [(p.label, p.date) for p in history.points] == [
        ("q0", "2025-10-01"), ("Winter review", "2026-01-15"), ("Spring review", "2026-04-01"), ("Now", "2026-06-01")]
    assert [p.counts["error"] for p in history.points] == [2, 1, 1, 1]  # q0: G1 red too
    assert history.since.old.label == "Spring review"
    assert [(f.rule, f.subjects) for f in history.since.new_findings if f.level != "info"] == [
        ("BAL005", ("mix",)), ("PRB001", ("firefight",))]


def test_the_report_shows_since_the_last_review_after_the_summary(reviewed: Path) -> None:
    analysis = analyze(reviewed, AS_OF)
    md = report_of(analysis, "md").decode()
    html = report_of(analysis, "html").decode()
    assert md.index('<a id="summary"></a>') < md.index('<a id="since-last-review"></a>') < md.index('<a id="mix-over-time"></a>')
    assert "2. [Since the last review](#since-last-review)" in md
    assert "> **Since Spring review (1 April 2026): 0 findings resolved, 3 new, " in md
    assert "| Winter review | 15 January 2026 | " in md
    assert html.index('id="summary"') < html.index('id="since-last-review"') < html.index('id="mix-over-time"')
    assert '<li><a href="#since-last-review">Since the last review</a></li>' in html
    section = html[html.index('id="since-last-review"'):html.index('id="mix-over-time"')]
    assert section.count('<svg class="chart" id="chart-trend"') == 1
    new = next(f for f in analysis.findings if f.rule == "PRB001")
    assert f'href="#{new.id}"' in section, "a new finding links to its place in the findings"
    assert report_of(analysis, "html") == report_of(analyze(reviewed, AS_OF), "html"), "the same bytes twice"


def test_the_json_report_carries_the_history(reviewed: Path) -> None:
    data = json.loads(report_of(analyze(reviewed, AS_OF), "json"))
    trend = data["history"]["trend"]
    assert [p["label"] for p in trend] == ["q0", "Winter review", "Spring review", "Now"]
    assert trend[0]["source"].endswith("reviews/q0") and trend[-1]["source"] == ""
    assert set(trend[0]) == {"label", "date", "source", "commit", "services", "shares", "adherence", "findings"}


def test_without_a_history_there_is_no_section(tmp_path: Path) -> None:
    ws = write_files(tmp_path / "ws", {"pmo.yaml": OLD})
    analysis = analyze(ws, AS_OF)
    assert history_of(analysis) is None and context_of(analysis)["history"] is None
    for fmt in ("md", "html"):
        assert "since-last-review" not in report_of(analysis, fmt).decode()


def test_a_report_never_overwrites_a_review_file(reviewed: Path) -> None:
    target = reviewed / "reviews" / "q1" / "pmo.yaml"
    before = target.read_bytes()
    result = cli("report", str(reviewed), "--as-of", "2026-06-01", "-o", str(target))
    assert result.exit_code == 2 and "refusing to write into input folder" in result.stderr
    assert target.read_bytes() == before


def test_a_review_can_be_a_git_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = write_files(tmp_path / "repo", {"ws/pmo.yaml": OLD})
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "the Q1 review")
    git(root, "tag", "review-q1")
    workspace(root / "ws", "[history.q1]\nlabel = 'Q1'\ndate = 2026-01-15\nrev = 'review-q1'\n")
    monkeypatch.chdir(root)
    md = report_of(analyze("ws", AS_OF), "md").decode()
    assert "> **Since Q1 (15 January 2026): 0 findings resolved, " in md
    html = report_of(analyze("ws", AS_OF), "html").decode()
    assert f'<span class="muted small">{git(root, "rev-parse", "review-q1")[:12]}</span>' in html
    assert "<code>review-q1</code>" in html


def test_trend_chart_is_deterministic_and_draws_every_point() -> None:
    point = {"label": "Q1", "date": "2026-01-01", "shares": {"short": 0.3, "medium": 0.5, "long": 0.2}, "adherence": 0.7,
             "findings": {"error": 1, "warning": 2, "info": 0}}
    trend = [point, point | {"label": "A <b> & long label for a review", "adherence": None}, point | {"label": "Now"}]
    svg = trend_chart(trend)
    assert svg == trend_chart(trend)
    assert svg.startswith('<svg class="chart" id="chart-trend"')
    assert "A &lt;b&gt; &amp; long label for" in svg and "<b>" not in svg
    assert len(re.findall(r">70%<", svg)) == 2, "an unknown adherence is left out, not drawn as 0"


# ------------------------------------------------------------------ the example


def test_the_example_report_shows_what_moved_since_december(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    example = analyze("knowledge/example", dt.date(2026, 3, 20))
    history = context_of(example)["history"]
    assert [(p["label"], p["date"]) for p in history["trend"]] == [("Q4 2025 review", "2025-12-19"), ("Now", "2026-03-20")]
    since = history["since"]
    goals = {g["id"]: (g["status"]["old"], g["status"]["new"]) for g in since["goals"]}
    assert goals["budget-control"] == ("red", "amber")
    services = {s["id"]: s for s in since["services"]}
    assert services["risk"]["change"] == "added"
    assert services["support"]["was"] == "pm-support" and "pm-support" not in services
    assert "pm-support" not in services["support"]["text"], "the report speaks of a rename by name, never by the old id"
    assert any("was pm-support" in c.text() for c in history_of(example).since.changes), "the terminal keeps the id"
    assert services["tools"]["fields"]["status"] == {"old": "active", "new": "retired"}
    assert {(f["rule"], tuple(f["subjects"])) for f in services["tools"]["causes"]} >= {("DEP005", ("risk", "tools"))}
    assert ("HRM001", ("reporting",)) in {(f["rule"], tuple(f["subjects"])) for f in since["findings"]["new"]}
    # a goal's problem that got milder or graver is eased or escalated, never resolved and new
    assert [(m["subjects"], m["old"]["rule"], m["new"]["rule"]) for m in since["findings"]["eased"]] == [(["budget-control"], "GOL001", "GOL005")]
    assert [(m["subjects"], m["old"]["rule"], m["new"]["rule"]) for m in since["findings"]["escalated"]] == [(["budget-ranking"], "GOL005", "GOL001")]
    assert not {"budget-control", "budget-ranking"} & {s for key in ("resolved", "new") for f in since["findings"][key] for s in f["subjects"]}
    md = report_of(example, "md").decode()
    assert "12 findings resolved, 7 new, 1 escalated, 1 eased, 12 still open." in md  # NWL002 judged the old side too
    escalated = md[md.index("### Escalated since Q4 2025 review"):md.index("### Eased since")]
    assert "[Goal not covered in time](#" in escalated and "A ranked, evidence-based project list for the FY2027 budget round" in escalated
    assert "was Goal at risk - below its target likelihood (needs attention)" in escalated  # level words, as the HTML


# ------------------------------------------------------------------ whose repository a revision is read from


def _committed(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "committed")
    git(root, "tag", "v1")
    return root


def test_a_git_file_naming_another_repository_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    other = _committed(tmp_path / "other", {"secret.yaml": OLD.replace("Reporting", "SECRET-NAME")})
    ws = workspace(tmp_path / "ws", "[history.q1]\ndate = 2026-01-15\nrev = 'v1'\n")
    (ws / ".git").write_text(f"gitdir: {other / '.git'}\n")
    monkeypatch.chdir(tmp_path)
    for args in (("report", "ws", "-f", "md", "--as-of", "2026-06-01"), ("diff", "ws", "--since", "v1")):
        result = cli(*args)
        assert result.exit_code == 2 and "SECRET-NAME" not in result.output, result.output
        assert "is not the one the workspace is committed in (a .git file names another repository)" in result.stderr
    located = [line for line in cli(*args[:2], "--since", "v1").stderr.splitlines() if "a .git file" in line]
    assert located and located[0].startswith("--since: the git repository found for ws (")


def test_a_git_file_naming_a_worktree_of_another_repository_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    other = _committed(tmp_path / "other", {"secret.yaml": OLD})
    git(other, "worktree", "add", "-q", str(tmp_path / "other-wt"), "v1")
    ws = workspace(tmp_path / "ws", "")
    (ws / ".git").write_text(f"gitdir: {other / '.git' / 'worktrees' / 'other-wt'}\n")
    result = cli("diff", str(ws), "--since", "v1")
    assert result.exit_code == 2 and "a .git file names another repository" in result.stderr, result.output


def test_worktrees_and_submodules_are_their_workspaces_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    main = _committed(tmp_path / "main", {"pmo/pmo.yaml": OLD})
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"), "v1")
    outer = _committed(tmp_path / "outer", {"README.md": "x\n"})
    git(outer, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(main), "sub")
    for ws in (main / "pmo", tmp_path / "wt" / "pmo", outer / "sub" / "pmo"):
        (ws / "pmo.yaml").write_text(LATER)
        result = cli("diff", str(ws), "--since", "v1", "-f", "json")
        assert result.exit_code == 0, (ws, result.output)
        assert json.loads(result.stdout)["old"]["commit"] == git(main, "rev-parse", "v1").strip()


def test_a_damaged_repository_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = _committed(tmp_path / "repo", {"ws/pmo.yaml": OLD, "ws/knowledge/more.yaml": "clients: []\n"})
    for lost in ("ws/knowledge/more.yaml", "ws/pmo.yaml"):
        blob = git(root, "rev-parse", f"v1:{lost}").strip()
        (root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
        result = cli("diff", str(root / "ws"), "--since", "v1")
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert result.stderr.startswith(f"--since: the git repository of {root / 'ws'} is damaged: git cannot read "), result.stderr
        assert "(hint: git fsck tells what is wrong)" in result.stderr
    commit = git(root, "rev-parse", "v1").strip()
    (root / ".git" / "objects" / commit[:2] / commit[2:]).unlink()
    result = cli("diff", str(root / "ws"), "--since", "v1")
    assert result.exit_code == 2 and "is damaged: 'v1' names a commit it cannot read" in result.stderr, result.output


def test_still_open_findings_are_listed_in_the_report_open_since_their_first_review(reviewed: Path) -> None:
    analysis = analyze(reviewed, AS_OF)
    history = history_of(analysis)
    assert history is not None
    still = {(f.rule, f.subjects): f for f in history.since.still_open}
    lessons = still[("PRB002", ("lessons",))]  # rated 25% in every review, 28% now
    assert lessons.open_since is not None and (lessons.open_since.label, lessons.open_since.as_of) == ("q0", "2025-10-01")
    since = context_of(analysis)["history"]["since"]
    assert {f["fingerprint"]: f["open_since"]["label"] for f in since["findings"]["still_open"]}[lessons.fingerprint] == "q0"
    md = report_of(analysis, "md").decode()
    section = md[md.index("### Still open"):md.index("### The trend")]
    assert section.count("open since ") == len(history.since.still_open) > 0
    assert f"({lessons.names[0]}): open since q0 (1 October 2025)" in section
    html = report_of(analysis, "html").decode()
    section = html[html.index("<h3>Still open</h3>"):html.index(">The trend</h3>")]
    assert section.count("open since ") == len(history.since.still_open)
    assert f'href="#{lessons.id}"' in section


def test_overdue_actions_and_findings_open_at_two_reviews_come_first_with_their_action(tmp_path: Path) -> None:
    """q1 and q2 both had the lessons error; resource planning (training) became unlikely at q2 and its action is
    overdue; the goal at risk since q2 has no action: it comes after both, and says so."""
    q2 = OLD.replace("probability: 0.7, effort: 10", "probability: 0.45, effort: 10").replace(
        "probability: 0.8, effort: 20", "probability: 0.55, effort: 20")
    toml = "[history.q1]\ndate = 2026-01-15\npath = 'reviews/q1'\n[history.q2]\ndate = 2026-04-01\npath = 'reviews/q2'\n"
    register = (f"actions:\n  - {{finding: {fingerprint('PRB001', ['training'])}, action: Staff it, owner: CIO office, "
                "due: 2026-05-01}\n")
    ws = write_files(tmp_path / "ws", {"pmo.yaml": q2, "pmorules.toml": toml, "actions.yaml": register,
                                       "reviews/q1/pmo.yaml": OLD, "reviews/q2/pmo.yaml": q2})
    analysis = analyze(ws, AS_OF)
    history = history_of(analysis)
    assert history is not None
    order = [(f.rule, f.subjects, f.reviews) for f in history.since.still_open]
    assert order[:2] == [("PRB002", ("lessons",), 2), ("PRB001", ("training",), 1)]
    goal = order.index(("GOL005", ("G1",), 1))
    assert all(reviews == 2 for _, _, reviews in order[2:goal])  # the rest of the urgent ones, then the others
    md = report_of(analysis, "md").decode()
    section = md[md.index("### Still open"):md.index("### The trend")]
    assert "Action: Staff it (CIO office, due 1 May 2026): **overdue**." in section
    assert "open since q1 (15 January 2026), found at 2 reviews." in section
    goal_line = next(line for line in section.splitlines() if "Goal at risk" in line)
    assert goal_line.endswith("open since q2 (1 April 2026). No action recorded.")
    data = json.loads(report_of(analysis, "json"))["history"]["since"]["findings"]["still_open"]
    training = next(f for f in data if f["rule"] == "PRB001")
    assert training["action"] == {"action": "Staff it", "owner": "CIO office", "due": "2026-05-01", "status": "open",
                                  "overdue": True, "done_but_open": False} and training["reviews"] == 1


def test_the_report_reads_the_reviews_from_paths_in_the_workspace(reviewed: Path) -> None:
    assert reviewed.is_absolute()
    analysis = analyze(reviewed, AS_OF)
    html = report_of(analysis, "html").decode()
    assert "<code>reviews/<wbr>q0</code>" in html and str(reviewed) not in html, "no machine path in a circulated report"
    assert json.loads(report_of(analysis, "json"))["history"]["trend"][0]["source"] == "reviews/q0"


def test_serve_shows_the_report_with_its_history(reviewed: Path) -> None:
    from pmorules.serve import POLL_MS, RELOAD, Preview

    head = '<meta name="pmorules-token" content="T">'
    preview = Preview(reviewed, AS_OF, lambda line: None, head)
    preview.render()
    version, page = preview.current()
    script = (RELOAD % {"version": version, "poll": POLL_MS}).encode()
    assert page.count(script) == 1 and page.count(head.encode() + b"\n") == 1
    served = page.replace(script, b"").replace(head.encode() + b"\n", b"")
    served = re.sub(rb'<aside id="workbench".*?</aside>', b"", served, count=1, flags=re.S)  # the what-if panel
    assert served == report_of(analyze(reviewed, AS_OF), "html"), "the preview is the report, history included"


def test_a_review_dated_after_the_day_judged_is_not_past_yet() -> None:
    example = Path(__file__).resolve().parents[1] / "knowledge" / "example"  # one review, on 19 December 2025
    assert history_of(analyze(example, dt.date(2025, 11, 1))) is None
    held = history_of(analyze(example, dt.date(2025, 12, 19)))
    assert held is not None and [p.label for p in held.points][0] == "Q4 2025 review"
    text = report_of(analyze(example, dt.date(2025, 11, 1)), "md").decode()
    assert "Since the last review" not in text and "Q4 2025 review" not in text


def test_a_finding_about_a_goal_now_past_its_date_is_not_resolved() -> None:
    example = Path(__file__).resolve().parents[1] / "knowledge" / "example"
    analysis = analyze(example, dt.date(2026, 6, 25))  # the budget-ranking goal was due on 22 June 2026
    since = history_of(analysis).since
    assert [(f.rule, f.subjects) for f in since.past_due] == [("GOL005", ("budget-ranking",))]
    assert not [f for f in since.resolved if "budget-ranking" in f.subjects]
    assert not [c for c in since.changes if set(c.resolves) & {f.fingerprint for f in since.past_due}]
    assert since.to_json()["findings"]["past_due"][0]["subjects"] == ["budget-ranking"]
    text = report_of(analysis, "md").decode()
    assert "11 findings resolved, 9 new, 0 escalated, 0 eased, 14 still open, 1 gone with a goal now past its date" in text
    gone = text.split("### Gone with a goal now past its date", 1)[1].split("###", 1)[0]
    assert "Goal at risk - below its target likelihood (A ranked, evidence-based project list" in gone
    resolved = text.split("### Resolved since", 1)[1].split("###", 1)[0]
    assert "A ranked, evidence-based project list" not in resolved
    assert "1 gone with a goal now past its date" not in report_of(analyze(example, dt.date(2026, 3, 20)), "md").decode()
    for fmt, heading in (("text", "GONE WITH A GOAL NOW PAST ITS DATE, NOT FIXED (1)"),
                         ("md", "## Gone with a goal now past its date, not fixed (1)")):
        run = CliRunner().invoke(app, ["diff", str(example / "reviews" / "2025-12"), str(example), "--as-of",
                                       "2026-06-25", "--old-as-of", "2025-12-19", "--format", fmt])
        assert run.exit_code == 0 and heading in run.stdout and "14 still open · 1 gone with a goal" in run.stdout


def test_a_goal_now_past_its_date_is_not_a_goal_that_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    """As of 1 July 2026 the executive view is past its date: it is no longer judged, so it did not go from Green
    to Amber (GOL006 makes every overdue goal amber); its findings are listed as gone with a goal past its date."""
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    result = cli("diff", "knowledge/example/reviews/2025-12", "knowledge/example", "--as-of", "2026-07-01", "--format", "json")
    assert result.exit_code == 0, result.output
    moved = {g["id"] for g in json.loads(result.stdout)["goals"]}
    assert "exec-visibility" not in moved and "budget-ranking" not in moved


def test_a_service_only_renamed_in_the_workspace_is_not_a_change_the_report_lists(tmp_path: Path) -> None:
    """Its id changed (with was), its name and figures did not: the committee sees nothing to list (it read as a
    "changed" row with nothing said)."""
    toml = "[history.q1]\nlabel = 'Winter review'\ndate = 2026-01-15\npath = 'reviews/q1'\n"
    renamed = LATER.replace("{id: training, catalogue: S12,", "{id: academy, was: training, name: Training and development, catalogue: S12,")
    before = LATER.replace("{id: training, catalogue: S12,", "{id: training, name: Training and development, catalogue: S12,")
    ws = write_files(tmp_path / "ws", {"pmo.yaml": renamed, "pmorules.toml": toml, "reviews/q1/pmo.yaml": before})
    analysis = analyze(ws, AS_OF)
    assert [c.id for c in history_of(analysis).since.changes] == ["academy"]  # diff still records it (the JSON)
    assert context_of(analysis)["history"]["since"]["services"] == []


def test_moves_in_the_mix_speak_of_a_service_running_started_or_retired(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committee read "added: active, …" and "status active → retired, effort 4 → 0"."""
    monkeypatch.chdir(ROOT)
    moves = report_of(analyze("knowledge/example", dt.date(2026, 3, 20)), "md").decode().split("### Moves in the mix", 1)[1]
    moves = moves.split("\n### ", 1)[0]
    assert "added: running, medium term" in moves and "| changed: started |" in moves
    assert "status active" not in moves and "status proposed" not in moves
