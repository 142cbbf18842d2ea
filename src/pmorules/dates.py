"""The calendar: months between dates, the date some months on, and dates as a committee reads them.

One definition of a month (the average month, 30.4375 days) for every view, so a date written in a
workspace and a number of months from the evaluation date always agree.
"""

from __future__ import annotations

import datetime as dt

MONTH_DAYS = 30.4375  # the average month of the Gregorian calendar
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")


def system_today() -> dt.date:
    """The system clock's date: the one place pmorules reads it (a workspace with a date never needs it)."""
    return dt.date.today()


def months_between(start: dt.date, end: dt.date) -> float:
    """Months from ``start`` to ``end`` (negative when ``end`` is earlier), to two decimals."""
    return round((end - start).days / MONTH_DAYS, 2)


def date_after(start: dt.date, months: float) -> dt.date:
    """The day ``months`` average months after ``start`` (before it when negative); the calendar's first or
    last day where that falls outside it (an evaluation date near the year 9999)."""
    try:
        return start + dt.timedelta(days=round(months * MONTH_DAYS))
    except OverflowError:
        return dt.date.max if months > 0 else dt.date.min


def long_date(day: dt.date) -> str:
    """20 March 2026."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def month_label(day: dt.date) -> str:
    """Mar 2027: a chart axis's calendar label."""
    return f"{MONTH_NAMES[day.month - 1][:3]} {day.year}"


def evaluation_words(today: dt.date, data_date: dt.date | None, clock: str, founded: dt.date | None = None) -> str:
    """The evaluation date and the data's date, as the line under a title says them (and, for a day before the
    PMO was founded, that its age counts as none: every rule on a young PMO reads it so)."""
    before = (f", before the PMO was founded on {long_date(founded)} (its age counts as 0 months)"
              if founded is not None and today < founded else "")
    if data_date == today:
        return f"as of {long_date(today)}, the date of the data{before}"
    if data_date is None:
        run = ", the day it was run" if clock == "system" else ""
        return f"as of {long_date(today)}{run}{before} (the data give no date: organisation.assessed_on)"
    return f"as of {long_date(today)}{before}; the data are of {long_date(data_date)}"
