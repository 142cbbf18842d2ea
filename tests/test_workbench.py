"""The what-if workbench of ``pmorules serve`` (issue 26): the API answers what ``mix --format json``
prints, a what-if's report and its changes against today, and saving a what-if as a scenario.

The browser side is tested in test_report_browser.py, hostile requests in test_workbench_hostile.py.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.cli import app
from pmorules.errors import InputError
from pmorules.mix.scenarios import load_scenarios
from pmorules.diff import history_of
from pmorules.mix import recommend
from pmorules.workbench import OWNED, Workbench
from conftest import served_example

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 3, 20)
WHAT_IFS = [
    {"drop": ["lessons"]},
    {"add": ["portfolio"]},
    {"approach": {"reporting": "supportive"}},
    {"effort": {"risk": 6}},
    {"probability": {"lessons": 0.5}},
    {"keep": ["reporting"], "drop": ["training", "benchmarking"], "add": ["scorecard"],
     "approach": {"governance": "facilitative"}, "effort": {"coaching": 4.5, "audits": 8}, "probability": {"audits": 0.9}},
]


def _options(what_if: dict) -> list[str]:
    """The same what-if as ``pmorules mix`` options."""
    options = [f"--{name}={sid}" for name in ("keep", "drop", "add") for sid in what_if.get(name, [])]
    return options + [f"--{name}={sid}={value}" for name in ("approach", "effort", "probability")
                      for sid, value in what_if.get(name, {}).items()]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The example served in this process (rendered once, no watcher); yields (port, token, workspace)."""
    with served_example(tmp_path_factory.mktemp("served"), AS_OF) as (port, token, _, workspace):
        yield port, token, workspace


def post(port: int, path: str, body: object, token: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, json.dumps(body), {"X-Pmorules-Token": token, "Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


@pytest.mark.parametrize("what_if", WHAT_IFS, ids=lambda w: ",".join(w))
def test_the_api_answers_what_the_command_line_prints(served, what_if: dict) -> None:
    port, token, workspace = served
    status, api = post(port, "/api/what-if", what_if, token)
    assert status == 200, api
    cli = CliRunner().invoke(app, ["mix", str(workspace), "--as-of", AS_OF.isoformat(), "--format", "json", *_options(what_if)])
    assert cli.exit_code == 0, cli.output
    assert api == json.loads(cli.stdout)
    assert api["variant"]["name"] == "your variant"


def test_a_what_if_report_is_the_report_with_the_changes_against_today(served) -> None:
    port, token, _ = served
    status, answer = post(port, "/api/what-if/report", {"drop": ["training"]}, token)
    assert status == 200
    html = answer["html"]
    assert "<main>" in html and 'id="workbench"' not in html  # the panel stays the page's own
    assert [(g["id"], g["before"], g["after"]) for g in answer["changes"]["goals"] if g["before"] != g["after"]] == [
        ("pm-bench", "on track", "at risk")]
    raised = answer["changes"]["raised"]
    assert raised and all(f'data-fingerprint="{f["fingerprint"]}"' in html for f in raised)
    assert answer["changes"]["summary"]["before"]["services"] == answer["changes"]["summary"]["after"]["services"] + 1
    assert post(port, "/api/what-if/changes", {"drop": ["training"]}, token) == (200, answer["changes"])
    # the front page speaks of the what-if's mix: 16 services and their effort, not today's 17 and 96%
    assert "The 16 running services take 88% (5.28 FTE)" in html, re.search(r"The \d+ running services take [^.]*", html)


def test_the_served_page_carries_the_panel_and_today_is_unchanged(served) -> None:
    port, _, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/")
    page = connection.getresponse().read().decode()
    connection.close()
    assert page.count('id="workbench"') == 1 and 'tr data-service="training"' in page
    assert page.count('step="4.166667"') == 17  # the example's effort step: a quarter FTE of its 6-FTE PMO
    assert "Effort moves in steps of 0.25 FTE (4.2% of capacity)" in page


def test_the_recommendation_starts_from_the_what_if(served) -> None:
    port, token, _ = served
    status, mix = post(port, "/api/recommend", {"drop": ["training"]}, token)
    assert status == 200 and mix["status"] == "optimal"
    assert "training" not in mix["before"]["mix"]


@pytest.mark.parametrize("what_if", [{}, {"drop": ["training"], "approach": {"reporting": "supportive"}, "effort": {"risk": 6}},
                                     {"add": ["portfolio"], "effort": {"coaching": 4.5}, "probability": {"audits": 0.9}}],
                         ids=["today", "a what-if", "an addition"])
def test_the_recommendation_applied_as_a_what_if_is_the_recommended_mix(served, what_if: dict) -> None:
    """The panel's "apply" sends the recommendation's ``what_if`` back: the same services, findings and goals."""
    port, token, _ = served
    status, mix = post(port, "/api/recommend", what_if, token)
    assert status == 200 and mix["status"] == "optimal"
    applied = mix["what_if"]
    assert applied["drop"] or applied["add"] or applied["effort"] or applied["approach"]  # the example's mix moves
    status, variant = post(port, "/api/what-if", applied, token)
    assert status == 200, variant
    assert sorted(variant["variant"]["mix"]) == sorted(mix["mix"])
    assert ([(f["fingerprint"], f["message"]) for f in variant["variant"]["findings"]]
            == [(f["fingerprint"], f["message"]) for f in mix["findings_after"]])
    assert variant["variant"]["adherence"] == mix["adherence"]


def test_a_resize_beside_a_change_of_approach_is_the_same_mix_as_its_what_if(bench: Workbench) -> None:
    """The example's recommendation runs the status pack supportive and larger: the optimiser resized at the old
    approach's probability, then moved it (84%), the same mix as a what-if moves it first, then resizes (85%)."""
    reporting = bench.result.after.kb.services["reporting"]
    what_if = bench.what_if_of(bench.result.after)
    assert what_if["approach"]["reporting"] == reporting.approach and "reporting" in what_if["effort"]
    assert "reporting" not in what_if["probability"]  # what the approach and the effort give, nothing set by hand
    assert bench.apply(what_if).analysis.kb.services["reporting"].probability == reporting.probability


@pytest.mark.parametrize("what_if", [{"effort": {"training": 60}}, {"add": ["tools"], "effort": {"tools": 3}}],
                         ids=["a bigger service", "a retired service back"])
def test_the_recommendation_from_a_what_if_keeps_todays_capacity(served, what_if: dict) -> None:
    """The recommendation from a what-if fits today's capacity, the one the panel holds every what-if to (not
    the what-if's own effort), and a retired service brought back is recommended from, as ``mix --add`` does."""
    port, token, _ = served
    status, today = post(port, "/api/recommend", {}, token)
    status, mix = post(port, "/api/recommend", what_if, token)
    assert status == 200, mix
    assert mix["capacity"] == today["capacity"] and mix["effort"] <= mix["capacity"] + 1e-9
    assert mix["capacity_source"] == today["capacity_source"] and "--capacity" not in mix["capacity_source"]


@pytest.mark.parametrize("what_if, change", [
    ({"drop": ["Reporting", "training"]}, "drop"),  # a core service, named in another case
    ({"effort": {"governance": 1, "risk": 6}}, "cut"),  # a core service cut
    ({"drop": ["engagement"], "effort": {"coaching": 4.5}}, "drop"),  # the only cover of a goal in time
], ids=["a core service dropped", "a core service cut", "a goal's only cover dropped"])
def test_the_recommendation_from_a_what_if_breaking_a_protection_is_a_mix_the_panel_calls_feasible(
        bench: Workbench, what_if: dict, change: str) -> None:
    """The optimiser does not give up a core service because the what-if it starts from did: it puts it back,
    says so, and its recommendation applied is a feasible what-if (it was one that drops the core service, and
    once one leaving a goal's error in place)."""
    mix = bench.recommendation(what_if)
    assert mix["status"] == "optimal"
    assert [h["change"] for h in mix["held"]] == [change]
    assert "core service" in mix["held"][0]["text"] and "not the optimiser" in mix["held"][0]["text"]
    applied = bench.apply(mix["what_if"])
    assert applied.feasible, applied.problems
    assert bench.recommendation({"drop": ["training"]})["held"] == []  # a service no condition protects stays out


def test_an_effort_just_over_the_capacity_reads_over_it(bench: Workbench) -> None:
    """A what-if 0.03 over today's effort read "its effort 96% exceeds ..., 96%"; one a millionth over (the solver's
    tolerance, efforts kept to 6 decimals) fits."""
    training = bench.today.kb.services["training"].effort
    over = bench.apply({"effort": {"training": training + 0.03}}).problems[0]
    assert over.startswith("its effort 96.03% (5.762 FTE) exceeds today's total effort") and over.endswith("96% (5.76 FTE)")
    assert not any("exceeds" in p for p in bench.apply({"effort": {"training": training + 5e-5}}).problems)


def test_the_recommendation_leaves_out_an_addition_the_organisation_rules_out(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    with open(workspace / "pmorules.toml", "a", encoding="utf-8") as toml:
        toml.write('\n[mix]\nnever = ["portfolio"]\n')
    bench = Workbench.load(workspace, AS_OF)
    mix = bench.recommendation({"add": ["portfolio"], "keep": ["Portfolio"], "effort": {"portfolio": 2}})
    assert [(h["id"], h["change"]) for h in mix["held"]] == [("portfolio", "add")]
    assert "portfolio" not in mix["what_if"]["add"] and bench.apply(mix["what_if"]).feasible


# ------------------------------------------------------------------ saving a what-if as a scenario


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Workbench:
    workspace = tmp_path_factory.mktemp("saves") / "ws"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    return Workbench.load(workspace, AS_OF)


def _problems(call) -> list[str]:
    with pytest.raises(InputError) as error:
        call()
    return sorted(str(d) for d in error.value.diagnostics)


def test_a_saved_what_if_is_a_scenario_of_the_workspace(bench: Workbench) -> None:
    target = bench.save({"name": "stop-lessons", "description": "Stop the library, feed portfolio",
                         "drop": ["lessons"], "add": ["portfolio"], "effort": {"risk": 6}})
    workspace = Path(bench.today.kb.workspace)
    assert target == workspace / "scenarios" / "stop-lessons.yaml"
    assert target.read_text().startswith(OWNED)
    [scenario] = [s for s in load_scenarios(workspace) if s.spec.name == "stop-lessons"]
    assert (scenario.spec.drop, scenario.spec.add, scenario.spec.effort) == (["lessons"], ["portfolio"], {"risk": 6.0})
    assert scenario.spec.description == "Stop the library, feed portfolio"
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temporary file left behind


@pytest.mark.parametrize("name", ["1e3", "0o17", "2E10", "12e3"])
def test_a_saved_name_a_number_could_be_read_as_is_read_back_as_written(bench: Workbench, name: str) -> None:
    """The workspace is read as YAML 1.2, where 1e3 is a number: the file quotes it, so the scenario (and the
    workspace) still loads."""
    bench.save({"name": name, "drop": ["lessons"]})
    workspace = Path(bench.today.kb.workspace)
    assert [s.spec.name for s in load_scenarios(workspace) if s.spec.name == name] == [name]
    assert CliRunner().invoke(app, ["mix", str(workspace), "--compare", "--as-of", str(AS_OF)]).exit_code in (0, 1)


@pytest.mark.parametrize("name", ["Today", "recommended"])
def test_a_scenario_cannot_take_the_name_of_a_column_the_comparison_has(bench: Workbench, tmp_path: Path, name: str) -> None:
    """"Today" and "Recommended" are the comparison's own columns: a scenario named so made two alike."""
    problems = _problems(lambda: bench.save({"name": name, "drop": ["lessons"]}))
    assert len(problems) == 1 and "names a column of the comparison already" in problems[0]
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    (workspace / "scenarios").mkdir()
    (workspace / "scenarios" / "mine.yaml").write_text(f"scenarios:\n  - {{name: {name}, drop: [lessons]}}\n")
    run = CliRunner().invoke(app, ["mix", str(workspace), "--compare", "--as-of", str(AS_OF)])
    assert run.exit_code == 2 and "scenarios/mine.yaml:2:" in run.output and "a column of the comparison" in run.output


def test_a_scenario_is_replaced_only_when_asked_and_only_when_pmorules_wrote_it(bench: Workbench) -> None:
    bench.save({"name": "twice", "drop": ["lessons"]})
    assert _problems(lambda: bench.save({"name": "twice", "drop": ["audits"]})) == [
        "request:name: a scenario file twice.yaml exists already (send \"overwrite\": true to replace it)"]
    bench.save({"name": "twice", "drop": ["audits"], "overwrite": True})
    folder = Path(bench.today.kb.workspace) / "scenarios"
    assert "audits" in (folder / "twice.yaml").read_text()
    (folder / "mine.yaml").write_text("scenarios:\n  - {name: mine, drop: [lessons]}\n")
    assert _problems(lambda: bench.save({"name": "mine", "overwrite": True})) == [
        "request:name: mine.yaml was not written by pmorules serve; it is left alone"]
    assert _problems(lambda: bench.save({"name": "MINE", "drop": ["audits"]})) == [
        "request:name: scenario 'MINE' is defined in mine.yaml already"]
    assert (folder / "mine.yaml").read_text() == "scenarios:\n  - {name: mine, drop: [lessons]}\n"


@pytest.mark.parametrize("name", ["../x", "a/b", "/etc/passwd", ".hidden", "x.yaml", "", "-x", "x" * 65, 7, None])
def test_a_name_is_never_a_path(bench: Workbench, name: object) -> None:
    before = sorted(Path(bench.today.kb.workspace).rglob("*"))
    assert _problems(lambda: bench.save({"name": name, "drop": ["lessons"]})) == [
        "request:name: should be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit"]
    assert sorted(Path(bench.today.kb.workspace).rglob("*")) == before


def test_a_what_if_that_does_not_apply_is_not_saved(bench: Workbench) -> None:
    assert _problems(lambda: bench.save({"name": "bad", "drop": ["portfolio"]})) == [
        "request:drop[0]: 'portfolio' is not running today"]
    assert not (Path(bench.today.kb.workspace) / "scenarios" / "bad.yaml").exists()


def test_a_what_ifs_problems_are_located_at_their_item(bench: Workbench) -> None:
    """Each change the variant cannot make is located at its item, a service listed twice is said to be, and a
    saving request's unknown field lists the saving fields too."""
    assert _problems(lambda: bench.apply({"drop": ["risk", "portfolio", "Risk"], "add": ["risk"]})) == [
        "request:add[0]: 'risk' is also listed under drop",
        "request:drop[1]: 'portfolio' is not running today",
        "request:drop[2]: 'Risk' is listed twice",
    ]
    assert _problems(lambda: bench.save({"name": "a2", "foo": 1})) == [
        "request:foo: unknown field (use drop, keep, add, effort, approach, probability, name, description, overwrite)"]


def test_a_symlinked_scenarios_folder_is_not_written(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, workspace / "scenarios")
    bench = Workbench.load(workspace, AS_OF)
    assert _problems(lambda: bench.save({"name": "out", "drop": ["lessons"]})) == [
        "scenarios: is not a plain folder inside the workspace; no scenario is saved there"]
    assert list(elsewhere.iterdir()) == []


def test_a_what_if_names_its_problems_where_they_are(bench: Workbench) -> None:
    assert _problems(lambda: bench.apply({"drop": ["lessons", "lesons", "../x"], "effort": {"risk": -1, "xx": 2},
                                          "approach": {"risk": "bossy"}, "size": 3})) == [
        "request:approach.risk: should be one of consultative, supportive, facilitative, directive, controlling, managed",
        "request:drop[1]: unknown service 'lesons' (hint: did you mean 'lessons'?)",
        "request:drop[2]: unknown service '../x'",
        "request:effort.risk: should be at least 0",
        "request:effort.xx: unknown service 'xx'",
        "request:size: unknown field (use drop, keep, add, effort, approach, probability)",
    ]


def test_a_stated_probability_wins_over_the_one_an_effort_moves(bench: Workbench) -> None:
    moved = bench.apply({"effort": {"audits": 8}}).analysis.kb.services["audits"]
    stated = bench.apply({"effort": {"audits": 8}, "probability": {"audits": 0.9}}).analysis.kb.services["audits"]
    assert moved.probability != 0.6 and (stated.effort, stated.probability) == (8, 0.9)


def test_a_what_if_adding_services_renders(bench: Workbench) -> None:
    catalogue = next(sid for sid, (_, _) in bench.open_services.items() if sid not in bench.today.kb.services)
    variant = bench.apply({"add": ["portfolio", catalogue]})
    html = bench.report(variant).decode()
    assert variant.analysis.kb.services[catalogue].active and bench.open_services[catalogue][0].name in html


def test_the_command_line_states_a_probability_too() -> None:
    result = CliRunner().invoke(app, ["mix", str(ROOT / "knowledge" / "example"), "--probability", "lessons=1.5"])
    assert result.exit_code == 2 and "--probability: lessons: should be less than or equal to 1" in result.output


def test_the_reviews_judged_beside_the_optimiser_are_judged_as_alone() -> None:
    """serve judges the review history in a second thread while the optimiser solves: the same mix and the same
    history as one after the other, and a rule text rendered by both threads at once keeps a budget per thread."""
    bench = Workbench.load(ROOT / "knowledge" / "example", AS_OF)
    alone = recommend(bench.today)
    assert bench.result.to_json() == alone.to_json()
    assert bench.history is not None and bench.history.to_json() == history_of(bench.today).to_json()
    text = next(t for rule in bench.today.compiled.rules for t in rule.templates.values())
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(text.budget))
    worker.start()
    worker.join()
    assert seen[0] is not text.budget, "each thread renders under its own budget"


def test_past_reviews_are_judged_while_the_solver_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reviews are judged in a second thread once HiGHS runs (it lets go of the interpreter): judged
    beside the optimiser's own Python work, they took the interpreter from it (a 1,000-service mix 2.5 -> 3.2 s)."""
    import highspy

    import pmorules.workbench as workbench
    from pmorules.analysis import analyze

    order: list[str] = []
    run = highspy._Highs.run

    def solver_run(self):  # noqa: ANN001, ANN202 - HiGHS's own method
        order.append("solver")
        return run(self)

    def judged_history(today):  # noqa: ANN001, ANN202
        order.append("reviews")
        return history_of(today)

    today = analyze(Path(__file__).resolve().parents[1] / "knowledge" / "example", dt.date(2026, 3, 20))
    monkeypatch.setattr(highspy._Highs, "run", solver_run)
    monkeypatch.setattr(workbench, "history_of", judged_history)
    result, history = workbench.recommend_and_judge(today)
    assert order[0] == "solver" and "reviews" in order, order
    assert history is not None and history.to_json() == history_of(today).to_json()
    assert result.to_json() == recommend(today).to_json()


def test_an_interrupt_as_the_reviews_are_handed_to_their_thread_does_not_hang(tmp_path: Path) -> None:
    """Ctrl-C right after the reviews' thread is started (before the optimiser runs) ends the call: the thread
    waiting for the solver is let go, or the executor would wait for it for ever."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import datetime as dt, sys
        from concurrent.futures import ThreadPoolExecutor
        from pathlib import Path
        import pmorules.workbench as workbench
        from pmorules.analysis import analyze

        today = analyze(Path(sys.argv[1]), dt.date(2026, 3, 20))
        submit = ThreadPoolExecutor.submit
        def interrupted(self, *args, **kwargs):
            submit(self, *args, **kwargs)
            raise KeyboardInterrupt
        ThreadPoolExecutor.submit = interrupted
        try:
            workbench.recommend_and_judge(today)
        except KeyboardInterrupt:
            print("interrupted")
    """)
    example = Path(__file__).resolve().parents[1] / "knowledge" / "example"
    done = subprocess.run([sys.executable, "-c", script, str(example)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "interrupted", done.stderr


def test_a_recommendation_the_solver_cannot_hold_blames_the_request(bench: Workbench) -> None:
    """An effort the request checks accept but HiGHS cannot hold is the request's, not pmorules.toml's."""
    assert _problems(lambda: bench.recommendation({"effort": {"risk": 1e15}})) == [
        "request: the mix cannot be worked out: the solver refused the mix's program: some of its numbers are beyond "
        "what it can hold (hint: look for an extreme value among the what-if's efforts)"]


def test_the_panel_names_clients_as_the_report_does(bench: Workbench) -> None:
    """The panel's sentences ("… extended to …") read client names, not ids: the panel is given them."""
    words = bench.panel()["words"]
    assert words["clients"]["finance"] == "Finance / FP&A controllers" and words["goals"]["budget-ranking"].startswith("A ranked")
    page = (Path(__file__).resolve().parents[1] / "templates" / "partials" / "workbench.html.j2").read_text(encoding="utf-8")
    assert "WORDS.clients[id]" in page
