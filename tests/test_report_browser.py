"""The example's HTML report in a real browser: Debian's chromium driven by playwright.

Never ``playwright install`` (it downloads a browser): the test uses
/usr/bin/chromium, which CI installs with apt-get. Without it the test fails
under CI and is skipped elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pmorules.analysis import Analysis, analyze
from pmorules.diff import history_of
from pmorules.mix import recommend
from pmorules.report import render_report
from conftest import context_of, report_of, write_files

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright comes with the 'test' extra")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


def test_the_example_report_in_chromium(browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    analysis = analyze("knowledge/example", dt.date(2026, 3, 20))
    report = tmp_path / "report.html"
    report.write_bytes(report_of(analysis, "html"))
    url = report.as_uri()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def record(route) -> None:  # let only the page itself through; anything else would be a network request
        requests.append(route.request.url)
        route.continue_() if route.request.url.split("#")[0] == url else route.abort()

    page.route("**/*", record)
    page.goto(url, wait_until="load")

    assert errors == []
    assert requests and [r for r in requests if r.split("#")[0] != url and not r.startswith("data:")] == [], requests

    for finding in analysis.findings:
        assert page.locator(f"#{finding.id}").count() == 1, finding.id
    for href in page.eval_on_selector_all("a[href^='#']", "links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(f"[id='{href[1:]}']").count() == 1, f"{href} points nowhere"

    charts = page.locator("svg.chart")
    assert charts.count() == 5  # shares, goals met by review, timeline, graph, trend
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, box

    trend = page.locator("#since-last-review svg#chart-trend")  # the example names its December 2025 review
    trend.scroll_into_view_if_needed()
    assert trend.is_visible()
    box = trend.bounding_box()
    assert box and box["width"] > 500 and box["height"] > 250, box
    labels = trend.locator("text").all_text_contents()
    assert "Q4 2025 review" in labels and "Now" in labels and "Goal coverage score" in labels
    assert page.locator("nav.toc a[href='#since-last-review']").is_visible()

    with_errors = {f.category for f in analysis.findings if f.level == "error"}
    collapsed = next(f for f in analysis.findings if f.category not in with_errors)
    assert not page.locator(f"#{collapsed.id}").is_visible(), "categories without an error start collapsed"
    page.goto(f"{url}#{collapsed.id}")
    assert page.locator(f"#{collapsed.id}").is_visible(), "following a link to a finding opens its category"

    page.goto(url)
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details.category, details.more", "all => all.every(d => d.open)"), \
        "printing opens every category of findings"
    assert not page.locator(f"#evidence-{collapsed.id}").evaluate("d => d.open"), "evidence opens on a click only"
    assert errors == []

    page.goto(url)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    page.close()


# ------------------------------------------------------------------ width: 1280 px screens and A4 paper

A4_TEXT_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)  # A4 less the report's 14 mm side margins, at 96 px per inch
LONG = "service-with-a-long-identifier-that-never-breaks"
STRESS = {  # long unbroken ids and names, many services per goal: what made the goals table overflow
    "knowledge.yaml": "\n".join([
        "organisation: {name: A PMO with a really rather long name for a programme management office}",
        "clients:",
        "  - {id: executive-committee-and-board-of-directors-of-the-holding, weight: 0.8}",
        "services:",
        *(f"  - {{id: {LONG}-{i:02d}, catalogue: {c}, probability: 0.6, effort: 10, approach: controlling, "
          f"clients: [executive-committee-and-board-of-directors-of-the-holding]}}"
          for i, c in enumerate(["S16", "S11", "S26", "S22", "S09", "S19", "S13", "S04", "S12", "S18"])),
        "goals:",
        "  - {id: goal-with-an-extraordinarily-long-identifier-that-does-not-break, outcomes: [O26, O15, O22, O09],"
        " due_months: 3, client: executive-committee-and-board-of-directors-of-the-holding,"
        " name: Visibility of every project portfolio item for every stakeholder group}",
        "  - {id: G2, name: AGoalNameWithoutAnySpacesAtAllThatIsLongerThanAnyColumnCouldEverBe, outcomes: [O01, O07, O24],"
        " due_months: 12}",
    ]) + "\n",
}
OVERFLOW = """() => {
  const page = document.documentElement, main = document.querySelector('main'), edge = main.getBoundingClientRect().right;
  const beyond = [...main.querySelectorAll('*')].filter(e => e.getBoundingClientRect().width > 0
    && e.getBoundingClientRect().right > edge + 0.5).map(e => e.tagName + '.' + e.className + ' in #'
    + (e.closest('section') || {}).id + ': ' + (e.textContent || '').trim().slice(0, 40));
  return {scroll: page.scrollWidth, client: page.clientWidth, beyond: beyond.slice(0, 5)};
}"""


@pytest.mark.parametrize("media", ["screen", "print"])
@pytest.mark.parametrize("workspace", ["example", "stress"])
def test_the_report_fits_1280_px_and_a4(browser, tmp_path: Path, workspace: str, media: str) -> None:
    if workspace == "example":
        analysis = analyze(ROOT / "knowledge" / "example", dt.date(2026, 3, 20))
    else:
        analysis = analyze(write_files(tmp_path / "ws", STRESS), dt.date(2026, 3, 20))
    report = tmp_path / "report.html"
    report.write_bytes(report_of(analysis, "html"))
    width = 1280 if media == "screen" else A4_TEXT_WIDTH_PX
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.emulate_media(media=media)
    page.goto(report.as_uri())
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # as printing does
    measured = page.evaluate(OVERFLOW)
    page.close()
    assert measured["scroll"] <= measured["client"], measured
    assert measured["beyond"] == [], f"past the right margin at {width} px ({media}): {measured['beyond']}"


def test_the_graph_names_outcomes(browser, tmp_path: Path) -> None:
    analysis = analyze(ROOT / "knowledge" / "example", dt.date(2026, 3, 20))
    report = tmp_path / "report.html"
    report.write_bytes(report_of(analysis, "html"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(report.as_uri())
    labels = page.eval_on_selector_all("#chart-graph text", "all => all.map(t => t.textContent.trim())")
    page.close()
    outcomes = [n for n in context_of(analysis)["graph"]["nodes"] if n["kind"] == "outcome"]
    assert outcomes, "the example's graph shows harmed outcomes"
    for node in outcomes:
        assert node["id"] not in labels, f"{node['id']} is labelled by its id"
        assert any(label and node["name"].startswith(label.rstrip("…")) for label in labels), node["name"]


# ------------------------------------------------------------------ pmorules serve: the live preview


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _until(check, seconds: float = 60.0):
    """Poll ``check`` (which may fail while the page reloads) until it is true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # the page navigated away mid-check: try again
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_the_live_preview_follows_the_files(browser, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    services = workspace / "services.yaml"
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "pmorules", "serve", "ws", "--port", str(port),
                               "--as-of", "2026-03-20"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        assert server.stderr.readline().startswith(f"serving ws at {url}")
        page.goto(url)
        goal = page.locator("#goal-exec-visibility")
        _until(lambda: "Weekly project status pack and executive dashboard 2 mo · 80% likely" in goal.inner_text())

        services.write_text(services.read_text().replace("probability: 0.8 ", "probability: 0.35 ", 1))
        _until(lambda: "Weekly project status pack and executive dashboard 2 mo · 35% likely" in goal.inner_text())

        good = services.read_text()
        services.write_text(good.replace("  - id: support\n", "  - id: support\n    probability: maybe\n", 1))
        errors = page.locator("#errors")
        _until(lambda: "services.yaml:" in errors.inner_text() and "probability" in errors.inner_text())
        assert "ws/" not in errors.inner_text(), "paths are relative to the workspace"
        assert page.locator("#goals").count() == 0

        services.write_text(good)
        _until(lambda: "Weekly project status pack and executive dashboard 2 mo · 35% likely" in goal.inner_text())
        assert server.poll() is None, "the server keeps running through the errors"
        assert {r.split("?")[0] for r in requests} <= {url, url + "version"}, "the page is self-contained"
    finally:
        page.close()
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)
    log = server.stderr.read()
    assert code == 0 and "Traceback" not in log, log


@contextmanager
def _served_example(browser, tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """A copy of the example served by ``pmorules serve`` in its own process and open in a page; on the way out
    the server must stop on Ctrl-C with no traceback in its log."""
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "knowledge" / "example", workspace)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "pmorules", "serve", "ws", "--port", str(port),
                               "--as-of", "2026-03-20"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        assert server.stderr.readline().startswith(f"serving ws at {url}")
        page.goto(url)
        yield page, workspace
    finally:
        page.close()
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)
    log = server.stderr.read()
    assert code == 0 and "Traceback" not in log, log


def test_the_workbench_tries_a_what_if_and_saves_it(browser, tmp_path: Path) -> None:
    """Issue 26: drop a service, change an approach and an effort in the served page, see a goal's status
    change in place, save the what-if and find it in ``mix --compare``."""
    with _served_example(browser, tmp_path) as (page, workspace):
        goal = page.locator("#goal-pm-bench")
        _until(lambda: page.locator("#workbench").count() == 1 and "On track" in goal.inner_text())
        status = page.locator("#wb-status")

        page.locator('tr[data-service="training"] .wb-run').uncheck()
        page.locator('tr[data-service="reporting"] .wb-approach').select_option("supportive")
        page.locator('tr[data-service="risk"] .wb-effort').fill("6")
        _until(lambda: "At risk" in goal.inner_text() and "wb-changed" in (goal.get_attribute("class") or ""))
        assert "A bench of certified project managers" in status.inner_text() and "on track → at risk" in status.inner_text()
        assert page.locator("#wb-services tr.wb-moved").count() == 3

        page.locator("#wb-recommend").click()
        _until(lambda: "From this what-if, the optimiser recommends:" in page.locator("#wb-recommendation").inner_text())
        assert page.locator("#wb-recommendation li").count() >= 1

        page.locator("#wb-name").fill("no-training")
        page.locator("#wb-save").click()
        _until(lambda: (workspace / "scenarios" / "no-training.yaml").exists())
        # the saved file makes the page render again; the what-if survives the reload
        _until(lambda: "At risk" in page.locator("#goal-pm-bench").inner_text()
                       and not page.locator('tr[data-service="training"] .wb-run').is_checked())

        page.locator("#wb-reset").click()
        _until(lambda: "On track" in page.locator("#goal-pm-bench").inner_text())
        assert page.locator(".wb-changed").count() == 0
    compare = subprocess.run([sys.executable, "-m", "pmorules", "mix", "ws", "--as-of", "2026-03-20", "--compare",
                              "--format", "json"], cwd=tmp_path, capture_output=True, text=True, check=True)
    columns = json.loads(compare.stdout)["compare"]["columns"]
    assert "no-training" in columns
    saved = (workspace / "scenarios" / "no-training.yaml").read_text()
    assert "training" in saved and "supportive" in saved and "risk: 6" in saved


def test_a_what_if_is_marked_as_one_on_screen_and_in_print_and_a_failed_one_as_not_updated(browser, tmp_path: Path) -> None:
    """A PMO lead who prints mid-session gets a page that says it is a what-if; a what-if with a problem leaves
    the last one that worked on screen, marked as not updated (it read as current)."""
    with _served_example(browser, tmp_path) as (page, workspace):
        _until(lambda: page.locator("#workbench").count() == 1)
        page.locator('tr[data-service="training"] .wb-run').uncheck()
        _until(lambda: page.locator("main .wb-banner").count() == 1)
        assert page.locator("main .wb-banner").inner_text().startswith("A what-if, not the recommendations report:")
        page.emulate_media(media="print")
        assert page.locator("main .wb-banner").is_visible()
        page.emulate_media(media="screen")
        page.locator('tr[data-service="risk"] .wb-effort').fill("-3")
        page.locator('tr[data-service="risk"] .wb-effort').dispatch_event("change")
        _until(lambda: "wb-stale" in (page.locator("main").get_attribute("class") or ""))
        assert page.locator("main .wb-banner").first.inner_text().startswith("Not updated:")
        assert "should be at least 0" in page.locator("#wb-status").inner_text()
        page.locator("#wb-reset").click()
        _until(lambda: page.locator("main .wb-banner").count() == 0)


def test_a_save_is_confirmed_after_the_page_renders_anew_and_can_replace_its_scenario(browser, tmp_path: Path) -> None:
    """The saved file makes the page render again: the confirmation stays; saving under the same name again
    needs the page's own "replace" box (it said to send "overwrite": true, which the page could not)."""
    with _served_example(browser, tmp_path) as (page, workspace):
        _until(lambda: page.locator("#workbench").count() == 1)
        page.locator('tr[data-service="training"] .wb-run').uncheck()
        _until(lambda: page.locator("main .wb-banner").count() == 1)
        page.locator("#wb-name").fill("twice")
        page.evaluate("window.beforeTheSave = true")
        page.locator("#wb-save").click()
        _until(lambda: (workspace / "scenarios" / "twice.yaml").exists())
        _until(lambda: page.evaluate("window.beforeTheSave === undefined"))  # the page rendered anew
        _until(lambda: "Saved as scenarios/twice.yaml" in page.locator("#wb-saved").inner_text())
        page.locator("#wb-name").fill("twice")
        page.locator("#wb-save").click()
        _until(lambda: "exists already" in page.locator("#wb-saved").inner_text())
        page.locator("#wb-overwrite").check()
        page.locator("#wb-save").click()
        _until(lambda: "Saved as scenarios/twice.yaml" in page.locator("#wb-saved").inner_text())


def test_the_workbench_applies_the_optimisers_recommendation(browser, tmp_path: Path) -> None:
    """Issue 26: the optimiser's recommendation, applied in one click, sets the panel to the recommended mix
    (services stopped, an approach and efforts moved) and the goals follow."""
    with _served_example(browser, tmp_path) as (page, workspace):
        goal = page.locator("#goal-budget-control")
        _until(lambda: page.locator("#workbench").count() == 1 and "At risk" in goal.inner_text())
        assert page.locator("#wb-apply").count() == 0

        page.locator("#wb-recommend").click()
        _until(lambda: page.locator("#wb-apply").count() == 1)
        box = page.locator("#wb-recommendation").inner_text()
        assert "Stop Lessons-learned library" in box
        # in names, as the report: no rule code, no goal id, efforts as shares with their people
        assert not re.search(r"\b[A-Z]{3}\d{3}\b", box) and "budget-control" not in box and "0.97 FTE)" in box, box
        page.locator("#wb-apply").click()

        _until(lambda: "On track" in goal.inner_text() and "wb-changed" in (goal.get_attribute("class") or ""))
        for stopped in ("resources", "lessons", "benchmarking"):
            assert not page.locator(f'tr[data-service="{stopped}"] .wb-run').is_checked()
        assert page.locator('tr[data-service="reporting"] .wb-approach').input_value() == "supportive"
        assert float(page.locator('tr[data-service="reporting"] .wb-effort').input_value()) > 12
        assert page.locator("#wb-services tr.wb-moved").count() == 5
        status = page.locator("#wb-status").inner_text()
        assert "Cost overruns are flagged before quarter close, not after: at risk → on track" in status
        assert page.locator("#wb-recommendation").inner_text() == ""  # applied: the panel now holds it


def test_the_recommendation_from_a_what_if_stopping_a_core_service_keeps_it_and_says_why(browser, tmp_path: Path) -> None:
    """Stopping a core service is the lead's decision to try; the optimiser's recommendation from there keeps it,
    says why, and applied it is a what-if the panel calls feasible (it was one the panel called infeasible)."""
    with _served_example(browser, tmp_path) as (page, workspace):
        status = page.locator("#wb-status")
        _until(lambda: page.locator("#workbench").count() == 1)
        page.locator('tr[data-service="reporting"] .wb-run').uncheck()
        _until(lambda: "Not feasible: it drops the core service" in status.inner_text())
        page.locator("#wb-recommend").click()
        _until(lambda: page.locator("#wb-apply").count() == 1)
        box = page.locator("#wb-recommendation").inner_text()
        assert "Keeps “Weekly project status pack and executive dashboard”, which this what-if stops" in box, box
        page.locator("#wb-apply").click()
        _until(lambda: "This what-if meets the hard conditions." in status.inner_text())
        assert page.locator('tr[data-service="reporting"] .wb-run').is_checked()



def test_only_the_latest_recommendation_asked_for_is_shown(browser, tmp_path: Path) -> None:
    """Asked again for another what-if, the optimiser's earlier answer arriving last must not replace the
    latest one (it wrote "The what-if changed meanwhile" over it)."""
    with _served_example(browser, tmp_path) as (page, workspace):
        held = []
        page.route("**/api/recommend", lambda route: held.append(route) if not held else route.continue_())
        goal = page.locator("#goal-pm-bench")
        box = page.locator("#wb-recommendation")
        _until(lambda: page.locator("#workbench").count() == 1 and "On track" in goal.inner_text())
        page.locator('tr[data-service="training"] .wb-run').uncheck()
        _until(lambda: "At risk" in goal.inner_text())
        page.locator("#wb-recommend").click()  # its answer is held back
        page.locator('tr[data-service="reporting"] .wb-approach').select_option("supportive")
        _until(lambda: page.locator("#wb-services tr.wb-moved").count() == 2)
        page.locator("#wb-recommend").click()
        _until(lambda: "From this what-if, the optimiser recommends:" in box.inner_text())
        held[0].continue_()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # the first answer arrives meanwhile, and is left unshown
            assert "From this what-if, the optimiser recommends:" in box.inner_text()
            time.sleep(0.2)


# ------------------------------------------------------------------ the steering pack: print, screens, phones

CASES = ROOT / "tests" / "cases"
PACKS = ["example", *sorted(p.name for p in CASES.iterdir() if (p / "expected.yaml").is_file())]
A4_TEXT_HEIGHT_PX = round((297 - 12 - 14) / 25.4 * 96)  # A4 less the print margins (style.css.j2's @page)
MAX_PAGES = 8
LONG_DATE = re.compile(r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|"
                       r"December) \d{4}\b")
_PACK_ANALYSES: dict[str, Analysis] = {}


def _pack_analysis(name: str) -> Analysis:
    """The example as of its review date; a case as of the date its data describe (as tests/test_cases.py)."""
    if name not in _PACK_ANALYSES:
        _PACK_ANALYSES[name] = (analyze(ROOT / "knowledge" / "example", dt.date(2026, 3, 20)) if name == "example"
                                else analyze(CASES / name / "ws"))
    return _PACK_ANALYSES[name]


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def _pdf_text(pdf: Path) -> str | None:
    """The PDF's text by poppler's pdftotext, None where it is not installed."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    return subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


FRONT_PAGE = """() => {
  const front = document.querySelector('#front-page');
  const all = [front, ...front.querySelectorAll('*')].filter(e => e.getClientRects().length);
  const texts = all.filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()));
  return {
    bottom: Math.max(...all.map(e => e.getBoundingClientRect().bottom)) + window.scrollY,
    smallest: Math.min(...texts.map(e => parseFloat(getComputedStyle(e).fontSize))),
    text: front.innerText,
  };
}"""


def _front_page(browser, tmp_path: Path, name: str, media: str) -> dict:
    """The front page on a 1280×800 screen or on A4 paper: how far down the page it reaches in px (the lowest
    of its own box and everything in it, so that nothing overflowing it escapes the measure), the smallest font
    in it and its text."""
    report = tmp_path / "report.html"
    report.write_bytes(report_of(_pack_analysis(name), "html"))
    page = browser.new_page(viewport={"width": 1280 if media == "screen" else A4_TEXT_WIDTH_PX, "height": 800})
    page.emulate_media(media=media)
    page.goto(report.as_uri())
    assert page.locator("#front-page").count() == 1
    measured = page.evaluate(FRONT_PAGE)
    page.close()
    return measured


@pytest.mark.parametrize("name", PACKS)
def test_the_front_page_fits_one_a4_page_and_is_dated(browser, tmp_path: Path, name: str) -> None:
    front = _front_page(browser, tmp_path, name, "print")
    assert LONG_DATE.search(front["text"]), "the front page carries the evaluation date"
    assert front["bottom"] <= A4_TEXT_HEIGHT_PX, \
        f"the front page reaches {front['bottom']:.0f} px down A4 ({A4_TEXT_HEIGHT_PX} fit)"


@pytest.mark.parametrize("name", PACKS)
def test_the_front_page_fits_one_1280_by_800_screen(browser, tmp_path: Path, name: str) -> None:
    front = _front_page(browser, tmp_path, name, "screen")
    assert front["bottom"] <= 800, f"the front page reaches {front['bottom']:.0f} px down a 1280×800 screen"
    assert front["smallest"] >= 14, f"a {front['smallest']} px font on the front page: it fits by being readable"


@pytest.mark.parametrize("name", PACKS)
def test_the_steering_pack_prints_in_eight_pages_with_page_numbers(browser, tmp_path: Path, name: str) -> None:
    report = tmp_path / "report.html"
    report.write_bytes(report_of(_pack_analysis(name), "html"))
    page = browser.new_page()
    page.goto(report.as_uri())
    page.emulate_media(media="print")
    appendix = page.locator("#appendix").evaluate("e => getComputedStyle(e).display")
    pdf = page.pdf(format="A4", print_background=True)
    page.close()
    assert appendix == "none", "the appendix prints only when the report is written with --appendix"
    pages = _pdf_pages(pdf)
    (tmp_path / "report.pdf").write_bytes(pdf)
    printed = _pdf_text(tmp_path / "report.pdf")
    if printed is not None:
        assert f"Page 1 of {pages}" in printed and f"Page {pages} of {pages}" in printed
        assert LONG_DATE.search(printed.split("\f")[-2]), "the last page's footer carries the date"
    assert 1 <= pages <= MAX_PAGES, f"{name} prints to {pages} A4 pages"


@pytest.mark.parametrize("name", PACKS)
def test_no_sideways_scrolling_on_a_390_px_phone(browser, tmp_path: Path, name: str) -> None:
    report = tmp_path / "report.html"
    report.write_bytes(report_of(_pack_analysis(name), "html"))
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(report.as_uri())
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    width = page.evaluate("document.documentElement.scrollWidth")
    labelled = page.eval_on_selector_all("tbody td[data-label]", "cells => cells.length")
    page.close()
    assert width <= 390, f"{name} is {width} px wide at 390 px"
    assert labelled > 0, "table cells carry their column's name for the cards"


def test_the_appendix_prints_on_request(browser, tmp_path: Path) -> None:
    analysis = _pack_analysis("example")
    plain = report_of(analysis, "html")
    full = render_report(analysis, recommend(analysis), "html", history=history_of(analysis), appendix=True)
    page = browser.new_page()
    pages = {}
    for which, html in (("plain", plain), ("full", full)):
        report = tmp_path / f"{which}.html"
        report.write_bytes(html)
        page.goto(report.as_uri())
        assert page.locator("#appendix #rulebook").is_visible(), "the appendix is on screen either way"
        pages[which] = _pdf_pages(page.pdf(format="A4"))
    page.emulate_media(media="print")
    shown = page.locator("#appendix").evaluate("e => getComputedStyle(e).display")
    page.close()
    assert shown != "none" and pages["full"] > pages["plain"] + 2, pages
