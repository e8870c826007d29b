"""Working days and statutory periods on the Chinese calendar, failing closed.

China's working days follow the State Council's yearly holiday notice, which also names
make-up working days (调休: a Saturday or Sunday that is worked). The `chinesecalendar`
package carries those notices; it must be upgraded each year when the next notice is out
(usually in November). For a year it has no data for, every function here raises
`CalendarUnavailable` instead of guessing: a guessed notice period or deadline could end
on a day that is really a holiday, which is worse than a clear "not yet known" refusal.

Periods:
- `add_working_days(start, n)`: the day on which n working days, counted from `start`
  (included when it is a working day), are complete. Used for public-notice periods
  ("at least 5 working days").
- `period_end(start, days)`: a period of calendar days under 民法典 art. 201 and 203:
  counted from the day after `start`; a last day that is a statutory rest day (a holiday
  or a weekend that is not a make-up working day) moves to the first working day after
  it ("以法定休假日结束的次日为期间的最后一日").
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class CalendarUnavailable(DomainError):
    """The holiday calendar has no data for the year asked: refuse rather than guess."""

    default_code = "calendar_unavailable"


def _supported(day: dt.date) -> None:
    if day.year not in _years():
        raise CalendarUnavailable(
            _("尚无 %(year)s 年的法定节假日安排（国务院办公厅通知），无法计算工作日：请管理员升级日历数据后再试。")
            % {"year": day.year}
        )


_YEARS: frozenset[int] | None = None


def _years() -> frozenset[int]:
    global _YEARS
    if _YEARS is None:
        # The package knows a year when it lists any holiday in it.
        _YEARS = frozenset(d.year for d in chinese_calendar.holidays)
    return _YEARS


def is_working_day(day: dt.date) -> bool:
    """Whether `day` is a working day, make-up working days included."""
    _supported(day)
    return chinese_calendar.is_workday(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The day on which `n` working days counted from `start` (included if working) are done."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    counted = 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == n:
                return day
        day += dt.timedelta(days=1)


def working_days_between(first: dt.date, last: dt.date) -> int:
    """How many working days lie in [first, last], both included (0 if last < first)."""
    count = 0
    day = first
    while day <= last:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count


def next_working_day(day: dt.date) -> dt.date:
    """`day` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def period_end(start: dt.date, days: int) -> dt.date:
    """Last day of a period of `days` calendar days that starts on `start` (民法典 art. 201, 203)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    # Art. 201: a period in days starts counting on the next day.
    return next_working_day(start + dt.timedelta(days=days))
