"""What ``pmorules serve`` keeps between renderings (report/warm.py): the same bytes as a cold report, each
template compiled and each chart drawn again exactly when what makes it changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from markupsafe import Markup

from conftest import write_files
from pmorules.analysis import analyze
from pmorules.diff import history_of
from pmorules.mix import recommend
from pmorules.report import render_report
from pmorules.report import warm as warm_module
from pmorules.report.warm import Warm

AS_OF = dt.date(2026, 3, 20)


def test_a_warm_page_is_the_cold_page_byte_for_byte(example, monkeypatch: pytest.MonkeyPatch, compiles) -> None:
    monkeypatch.setenv("PMORULES_CACHE_DIR", "")  # no cache on disk: every cold rendering compiles
    mix, history = recommend(example), history_of(example)
    cold = render_report(example, mix, "html", history=history)
    warm = Warm()
    compiles.clear()
    first = render_report(example, mix, "html", history=history, warm=warm)
    assert compiles and "report.html.j2" in compiles
    compiles.clear()
    assert render_report(example, mix, "html", history=history, warm=warm) == first == cold
    assert compiles == []  # every template from memory
    assert render_report(example, mix, "md", history=history, warm=warm) == render_report(example, mix, "md", history=history)


def test_a_template_edited_in_the_workspace_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             compiles) -> None:
    monkeypatch.setenv("PMORULES_CACHE_DIR", "")
    ws = write_files(tmp_path / "ws", {
        "knowledge.yaml": "services: [{id: s1, name: Reporting, catalogue: S01}]\n",
        "templates/report.md.j2": "{% extends 'base.md.j2' %}{% block heading %}Our own report{% endblock %}\n",
    })
    warm = Warm()

    def rendered() -> str:
        analysis = analyze(str(ws), AS_OF)
        return render_report(analysis, recommend(analysis), "md", warm=warm).decode()

    assert rendered().startswith("# Our own report: ")
    compiles.clear()
    assert rendered().startswith("# Our own report: ") and compiles == []
    (ws / "templates" / "report.md.j2").write_text(
        "{% extends 'base.md.j2' %}{% block heading %}Our steering report{% endblock %}\n", encoding="utf-8")
    assert rendered().startswith("# Our steering report: ")
    assert compiles == ["report.md.j2"]


def test_a_chart_is_drawn_again_only_when_its_data_changes() -> None:
    drawn: list[object] = []

    def draw(*data: object) -> Markup:
        drawn.append(data)
        return Markup(f"<svg>{len(drawn)}</svg>")

    warm = Warm()
    terms = [{"key": "short", "share": 0.25, "services": 3, "flag": None}]
    first = warm.chart("shares", draw, terms)
    assert warm.chart("shares", draw, [dict(t) for t in terms]) == first and len(drawn) == 1  # equal data, kept
    assert warm.chart("timeline", draw, terms) != first  # another chart of the same data
    for other in ([{**terms[0], "share": 0.26}], [{**terms[0], "services": 3.0}], [{**terms[0], "services": True}],
                  [{**terms[0], "flag": dt.date(2026, 3, 20)}], (terms[0],)):
        before = len(drawn)
        warm.chart("shares", draw, other)
        assert len(drawn) == before + 1, other  # 3, 3.0 and True differ; a tuple is not a list
    not_plain = [{"key": object()}]
    warm.chart("shares", draw, not_plain)
    warm.chart("shares", draw, not_plain)
    assert drawn[-2:] == [(not_plain,), (not_plain,)]  # never kept: drawn every time


def test_only_the_most_recent_entries_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm_module, "MOST", 3)
    drawn: list[int] = []
    warm = Warm()

    def draw(value: int) -> Markup:
        drawn.append(value)
        return Markup(str(value))

    for value in (1, 2, 3, 1, 4):  # 1 used again, so 2 is the least recently used when 4 comes
        warm.chart("c", draw, value)
    assert drawn == [1, 2, 3, 4]
    warm.chart("c", draw, 1)
    warm.chart("c", draw, 2)
    assert drawn == [1, 2, 3, 4, 2]
