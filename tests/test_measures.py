"""The shared measures against hand-computed cases (docs/measures.md gives the formulas)."""

from __future__ import annotations

import math

import pytest

import datetime as dt
from pathlib import Path

from pmorules.knowledge import load_workspace
from pmorules.measures import (CONTRIBUTORS_LISTED, Conventions, Deliveries, Delivery, builds_lasting, group_shares, share_of, target_adherence,
                               term_shares)

EXAMPLE = Path(__file__).resolve().parents[1] / "knowledge" / "example"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], 0.0),
        ([0.5], 0.5),  # a coin flip stays a coin flip
        ([0.9], 0.9),
        ([0.6, 0.6], 0.5 * 0.6 + 0.5 * (1 - 0.4 * 0.4)),  # 0.72
        ([0.6] * 6, 0.5 * 0.6 + 0.5 * (1 - 0.4 ** 6)),  # 0.798: six weak links do not saturate
        ([0.8, 0.6], 0.5 * 0.8 + 0.5 * (1 - 0.2 * 0.4)),  # 0.86
        ([0.3, 0.3], 0.5 * 0.3 + 0.5 * (1 - 0.7 * 0.7)),  # 0.405
    ],
)
def test_target_adherence_by_hand(values: list[float], expected: float) -> None:
    assert target_adherence(values, 0.5) == pytest.approx(expected)


def test_redundancy_spans_best_only_to_independent_services() -> None:
    assert target_adherence([0.6, 0.6], 0.0) == pytest.approx(0.6)
    assert target_adherence([0.6, 0.6], 1.0) == pytest.approx(0.84)
    assert round(target_adherence([0.6] * 6, 0.5), 3) == 0.798 and target_adherence([0.6] * 40, 0.5) < 0.8 + 1e-9


def test_a_supporting_link_counts_half() -> None:
    conventions = Conventions()
    primary, supporting = (Delivery("a", 2.0, c, 0.8) for c in (conventions.primary, conventions.supporting))
    assert (primary.value, supporting.value) == (pytest.approx(0.8), pytest.approx(0.4))


def test_adherence_by_deadline_is_the_prefix_of_the_deliveries_by_then() -> None:
    deliveries = Deliveries([Delivery("late", 18.0, 1.0, 0.9), Delivery("soon", 2.0, 1.0, 0.6),
                             Delivery("mid", 6.0, 0.5, 0.8)])
    assert deliveries.count_by(1) == 0 and deliveries.adherence_by(1, 0.5) == 0.0
    assert deliveries.adherence_by(3, 0.5) == pytest.approx(target_adherence([0.6], 0.5))
    assert deliveries.adherence_by(6, 0.5) == pytest.approx(target_adherence([0.6, 0.4], 0.5))
    assert deliveries.adherence_by(math.inf, 0.5) == pytest.approx(target_adherence([0.9, 0.6, 0.4], 0.5))


def test_a_target_lists_its_best_few_deliveries_in_time_first_however_many_deliver_it() -> None:
    """Goals × services per outcome grew the outputs with the square of the organisation: a target lists at most
    CONTRIBUTORS_LISTED deliveries, those by the deadline first (best value first), then the late ones."""
    many = [Delivery(f"s{i:03d}", float(i % 24), 1.0, 0.3 + (i % 7) / 10) for i in range(200)]
    deliveries = Deliveries(sorted(many, key=lambda d: (-d.value, d.months, d.service)))
    listed = deliveries.listed(6.0)
    assert len(listed) == CONTRIBUTORS_LISTED < deliveries.count_by(6.0)
    assert list(listed) == [d for d in deliveries if d.months <= 6.0][:CONTRIBUTORS_LISTED]
    few = Deliveries([Delivery("late", 18.0, 1.0, 0.9), Delivery("soon", 2.0, 1.0, 0.6)])
    assert [d.service for d in few.listed(6.0)] == ["soon", "late"]  # in time before a better late one
    assert few.listed(1.0) == tuple(few) and few.listed(6.0) is few.listed(6.0)  # worked out once per deadline


def test_group_shares_in_one_pass_agree_with_one_share_at_a_time() -> None:
    services = [s for s in load_workspace(EXAMPLE, dt.date(2026, 3, 20)).services.values() if s.active]
    by_months = group_shares(services, lambda s: s.months)
    assert by_months == {m: share_of(services, lambda s, m=m: s.months == m) for m in {s.months for s in services}}
    assert math.isclose(sum(by_months.values()), 1.0)
    assert term_shares(services) == {t: share_of(services, lambda s, t=t: s.term == t) for t in ("short", "medium", "long")}
    assert term_shares([]) == {"short": 0.0, "medium": 0.0, "long": 0.0}


def test_lasting_capability_is_long_term_work_or_capability_work_whatever_its_horizon() -> None:
    """Tacoma's coaching and training, rated to pay off within 12 months (medium term), still build lasting
    capability; a medium-term method service does not; a long-term culture programme does."""
    ws = Path(__file__).resolve().parent / "cases" / "tacoma-public-schools-epmo-2018" / "ws"
    kb = load_workspace(ws, dt.date(2018, 10, 30))
    services = kb.services
    assert services["coaching"].term == "medium" and builds_lasting(services["coaching"])
    assert services["training"].term == "medium" and builds_lasting(services["training"])
    assert services["method"].term == "medium" and not builds_lasting(services["method"])
    assert services["improvement-culture"].term == "long" and builds_lasting(services["improvement-culture"])
    assert not builds_lasting(services["initiative-pm"])
    active = [s for s in services.values() if s.active]
    assert math.isclose(share_of(active, builds_lasting), (12 + 8 + 7) / 97)
