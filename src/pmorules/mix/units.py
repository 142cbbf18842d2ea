"""People units: effort moves in steps a manager can allocate, and every effort the mix shows is also given
as a share of the PMO's capacity and, when the headcount is known, in full-time equivalents.

Effort is counted in the unit of ``organisation.capacity`` (100 by default: a percentage of the capacity).
When ``organisation.capacity_fte`` is stated, a step is ``[mix] fte_step`` FTE (0.25: a quarter of a
person), that is capacity × fte_step / capacity_fte effort units; else ``[mix] percent_step`` percentage
points of the capacity (1: a whole point).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..config import MixSettings
from ..knowledge import KnowledgeBase


def _short(value: float, digits: int) -> str:
    return f"{round(value, digits):g}"


@dataclass(frozen=True)
class Units:
    capacity: float  # the organisation's capacity, in effort units (100: effort is a percentage)
    fte: float | None  # its headcount in FTE, when stated
    step: float  # the effort step a manager allocates, in effort units
    step_fte: float | None  # the same step in FTE (when the headcount is known)
    step_percent: float  # the same step in percentage points of the capacity

    @classmethod
    def of(cls, kb: KnowledgeBase, settings: MixSettings) -> Units:
        org = kb.organisation
        capacity, fte = float(org.capacity), org.capacity_fte
        if fte:
            step = capacity * settings.fte_step / fte
            return cls(capacity, float(fte), step, settings.fte_step, step / capacity * 100)
        return cls(capacity, None, capacity * settings.percent_step / 100, None, settings.percent_step)

    def percent(self, effort: float) -> float:
        return effort / self.capacity * 100

    def fte_of(self, effort: float) -> float | None:
        return None if self.fte is None else effort / self.capacity * self.fte

    def text(self, effort: float, more: int = 0) -> str:
        """``35% (3.5 FTE)`` when effort is a percentage; ``14 (35%, 3.5 FTE)`` in another unit (``more``: so many
        more decimals, where two efforts that differ must not read alike)."""
        fte = self.fte_of(effort)
        people = f"{_short(fte, 2 + more)} FTE" if fte is not None else ""
        if self.capacity == 100:
            return f"{_short(effort, 1 + more)}%" + (f" ({people})" if people else "")
        return f"{_short(effort, 2 + more)} ({', '.join(filter(None, [f'{_short(self.percent(effort), 1 + more)}%', people]))})"

    def step_text(self) -> str:
        if self.step_fte is not None:
            share = f"{_short(self.step_percent, 1)}% of capacity" if self.capacity == 100 else \
                f"{_short(self.step, 2)}, {_short(self.step_percent, 1)}% of capacity"
            return f"{self.step_fte:g} FTE ({share})"
        return f"{self.step_percent:g} percentage point{'s' if self.step_percent != 1 else ''} of capacity"

    def to_json(self, effort: float) -> dict[str, float | None]:
        fte = self.fte_of(effort)
        return {"percent": round(self.percent(effort), 4), "fte": None if fte is None else round(fte, 4)}

    def moved(self, effort: float, step: float) -> float | None:
        """Today's ``effort`` moved by about ``step`` (a fraction of it) in whole allocatable steps, at least
        one, ties to the smaller move; None when a cut leaves nothing."""
        count = max(1, math.ceil(abs(effort * step) / self.step - 0.5 - 1e-9))
        after = round(effort + math.copysign(count * self.step, step), 6)
        return after if after > 1e-9 else None

    def whole(self, effort: float) -> float:
        """An assumed effort in whole steps (at least one)."""
        return round(max(1, math.ceil(effort / self.step - 0.5 - 1e-9)) * self.step, 6)


def effort_text(kb: KnowledgeBase) -> Callable[[float], str]:
    """An effort of this organisation in a committee's words, ``4% (0.24 FTE)`` (the step does not matter here)."""
    return Units.of(kb, MixSettings()).text
