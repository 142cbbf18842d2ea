"""The example's HTML report in a real browser: Debian's chromium driven by playwright.

Never ``playwright install`` (it downloads a browser): the test uses
/usr/bin/chromium, which CI installs with apt-get. Without it the test fails
under CI and is skipped elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from pmorules.analysis import analyze
from conftest import report_of

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
    analysis = analyze("knowledge/example", dt.date(2026, 11, 25))
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
    assert charts.count() == 4
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, box

    trend = page.locator("#since-last-review svg#chart-trend")  # the example names its December 2025 review
    trend.scroll_into_view_if_needed()
    assert trend.is_visible()
    box = trend.bounding_box()
    assert box and box["width"] > 500 and box["height"] > 250, box
    labels = trend.locator("text").all_text_contents()
    assert "Q4 2025 review" in labels and "Now" in labels and "Goal adherence" in labels
    assert page.locator("nav.toc a[href='#since-last-review']").is_visible()

    with_errors = {f.category for f in analysis.findings if f.level == "error"}
    collapsed = next(f for f in analysis.findings if f.category not in with_errors)
    assert not page.locator(f"#{collapsed.id}").is_visible(), "categories without an error start collapsed"
    page.goto(f"{url}#{collapsed.id}")
    assert page.locator(f"#{collapsed.id}").is_visible(), "following a link to a finding opens its category"

    page.goto(url)
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details", "all => all.every(d => d.open)"), "printing opens every section"
    assert errors == []

    page.goto(url)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    page.close()
