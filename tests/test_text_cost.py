"""The default rules' texts cost about the same per finding at any size of workspace.

A rule text that scans every service for each finding (``{% for x in services if s.key in x.needs %}``) is
quadratic: at 10,000 services DEP004's recommendation ran past its budget and the analysis stopped with exit 2.
Texts look services up through the indexed ``selectattr`` instead. This test counts the sandbox's operations
(loop steps, calls, filters) each rule's texts spend at two sizes of the benchmarks' shapes, and fails when a
rule's total grows faster than n^1.5: a rule firing once per service with texts of constant cost grows as n, a
rule firing once with a list of all services as n, a scan per finding as n².
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from collections import Counter
from pathlib import Path

import pytest

from pmorules import findings
from pmorules.analysis import analyze
from pmorules.text import MESSAGE_ENV, Records

_SPEC = importlib.util.spec_from_file_location("shapes", Path(__file__).parents[1] / "benchmarks" / "shapes.py")
shapes = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(shapes)

SMALL, LARGE = 150, 600


def operations_by_rule(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The sandbox operations each rule's texts spent in one analysis of ``workspace``."""
    spent: Counter[str] = Counter()
    render = findings.render_texts

    def counting(compiled, group, *args):
        budgets = [template.budget for template in compiled.templates.values()]
        before = sum(b.operations for b in budgets)
        texts = render(compiled, group, *args)
        spent[compiled.rule.id] += sum(b.operations for b in budgets) - before
        return texts

    with monkeypatch.context() as patch:
        patch.setattr(findings, "render_texts", counting)
        analyze(workspace, dt.date(2026, 3, 20))
    return spent


@pytest.mark.parametrize("shape", ["random-dependency", "dense-cycle", "federation"])
def test_rule_texts_grow_at_most_slightly_faster_than_the_workspace(shape, tmp_path, monkeypatch):
    small, large = tmp_path / "small", tmp_path / "large"
    shapes.SHAPES[shape](small, SMALL)
    shapes.SHAPES[shape](large, LARGE)
    before, after = operations_by_rule(small, monkeypatch), operations_by_rule(large, monkeypatch)
    assert sum(after.values()) > 0
    limit = (LARGE / SMALL) ** 1.5
    steep = {rule: f"{before[rule]:,} → {after[rule]:,} operations (×{after[rule] / before[rule]:.1f})"
             for rule in before.keys() & after.keys() if before[rule] >= 50 and after[rule] > limit * before[rule]}
    assert not steep, f"texts that grow faster than n^1.5 (limit ×{limit:.1f}): {steep}"
    exponent = math.log(sum(after.values()) / sum(before.values())) / math.log(LARGE / SMALL)
    assert exponent < 1.5, f"all texts together grow as n^{exponent:.2f}"


def test_the_indexed_lookups_answer_as_jinja_would():
    services = [{"id": "a", "needs": ["c", "b", "c"]}, {"id": "b", "needs": []}, {"id": "c", "needs": ["b"]}]
    source = ('{{ services | selectattr("needs", "contains", "b") | map(attribute="id") | join(",") }};'
              '{{ services | selectattr("needs", "contains", "c") | map(attribute="id") | join(",") }};'
              '{{ services | selectattr("id", "equalto", "c") | map(attribute="id") | join(",") }};'
              '{{ services | selectattr("needs", "contains", "x") | list | length }}')
    template = MESSAGE_ENV.from_string(source)
    assert template.render(services=Records(services)) == template.render(services=list(services)) == "a,c;a;c;0"
    assert MESSAGE_ENV.from_string('{{ ["b"] is contains("b") }}').render() == "True"


def test_an_index_steps_aside_where_jinja_would_complain():
    template = MESSAGE_ENV.from_string('{{ services | selectattr("needs", "contains", "b") | list | length }}')
    with pytest.raises(TypeError):  # an id is not a list: Jinja's own `in` on an int
        template.render(services=Records([{"id": "a", "needs": 3}]))


def test_an_effort_reads_as_a_share_of_the_capacity_with_its_people() -> None:
    """Rule texts said "an effort of 5": the committee reads 6% (0.36 FTE) of the PMO's effort."""
    finding = next(f for f in analyze(Path(__file__).resolve().parents[1] / "knowledge" / "example").findings
                   if f.rule == "PRB001")
    assert "yet it takes 6% (0.36 FTE) of the PMO's effort" in finding.message
    render = MESSAGE_ENV.from_string("{{ 6 | effort }}").render
    assert render() == "6" and render(capacity={"effort": 100, "fte": None}) == "6%"
    assert render(capacity={"effort": 40, "fte": 8}) == "6 of 40 (1.2 FTE)"


def test_a_share_just_below_a_whole_percent_never_reads_as_it() -> None:
    from pmorules.text import pct_exact

    assert [pct_exact(v) for v in (0.5, 0.495, 0.7996, 0.49999, 0.4999999)] == ["50%", "49.5%", "79.96%", "49.999%", "49.99999%"]
