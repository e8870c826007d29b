"""The statutory clock of a mediation case, derived from its clock events (never a stored date).

The law:
- 《劳动争议调解仲裁法》第十四条第三款: "自劳动争议调解组织收到调解申请之日起十五日内未达成调解
  协议的，当事人可以依法申请仲裁。" — 15 days from the body's receipt of the application; after
  that either party may go to arbitration. That is `MEDIATION_DAYS`.
- 《人民调解法》第三十三条第一款: "经人民调解委员会调解达成调解协议后，双方当事人认为有必要的，
  可以自调解协议生效之日起三十日内共同向人民法院申请司法确认". That is `CONFIRMATION_DAYS`
  (`confirmation_window_end`).
- 《民法典》第二百零一条: a period in days starts counting on the day after the start day;
  第二百零三条: "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日" — both are
  `core.calendar.period_end` (the State Council's calendar with its make-up working days;
  it refuses a year it has no data for rather than guess).

Events (append-only rows of `ClockEvent`): START on the receipt date; SUSPEND (with a
reason) and RESUME: the days in between do not count, so the end moves by that many days;
EXTEND (both parties consent) adds days. While suspended the end moves one day for every
day of the pause up to today. A court-delegated / court-entrusted case also carries the
court's return date: the earlier of the two ends wins.

Everything here is pure (no database): `clock_state(events, today=…, court_deadline=…)`
takes plain tuples, so the arithmetic is tested with hypothesis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext as _

from core import calendar
from core.errors import DomainError

MEDIATION_DAYS = 15  # 劳动争议调解仲裁法 art. 14
CONFIRMATION_DAYS = 30  # 人民调解法 art. 33
WARNING_DAY = 10  # the lists turn amber once 10 counted days have run

START, SUSPEND, RESUME, EXTEND = "start", "suspend", "resume", "extend"


@dataclass(frozen=True)
class Event:
    kind: str
    on: dt.date
    days: int = 0


@dataclass(frozen=True)
class ClockState:
    started_on: dt.date | None
    statutory_end: dt.date | None  # art. 14 end with pauses, extensions and art. 203
    court_end: dt.date | None
    deadline: dt.date | None  # the earlier of the two (while suspended: the end if it ran again today)
    suspended: bool
    paused_days: int
    extended_days: int
    elapsed_days: int  # counted days since the start (paused days excluded)
    days_left: int | None  # deadline - today (negative once overdue); frozen while suspended

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return -self.days_left if self.overdue else 0

    @property
    def warning(self) -> bool:
        return not self.overdue and self.started_on is not None and self.elapsed_days >= WARNING_DAY


def today() -> dt.date:
    """The local date every service and list counts from (one place, so tests can pin it)."""
    return timezone.localdate()


class ClockError(DomainError):
    default_code = "clock_refused"


def check_sequence(events: Iterable[Event], new: Event) -> None:
    """Refuse an event that does not fit the ones before it (the services call this under a row lock)."""
    events = list(events)
    started = any(e.kind == START for e in events)
    suspended = _is_suspended(events)
    last_on = max((e.on for e in events), default=None)
    if new.kind == START:
        if started:
            raise ClockError(_("时限已经起算，不能重复起算。"))
        return
    if not started:
        raise ClockError(_("时限尚未起算：请先受理案件。"))
    if last_on is not None and new.on < last_on:
        raise ClockError(_("日期不能早于上一时限事件（%(d)s）。") % {"d": last_on.isoformat()}, field="on")
    if new.kind == SUSPEND and suspended:
        raise ClockError(_("时限已经中止，请先恢复再中止。"))
    if new.kind == RESUME and not suspended:
        raise ClockError(_("时限没有中止，无需恢复。"))
    if new.kind == EXTEND:
        if suspended:
            raise ClockError(_("时限中止期间不能延长，请先恢复。"))
        if new.days < 1:
            raise ClockError(_("延长天数至少为 1 天。"), field="days")


def _is_suspended(events: list[Event]) -> bool:
    state = False
    for e in events:
        if e.kind == SUSPEND:
            state = True
        elif e.kind == RESUME:
            state = False
    return state


def _ordered(events: Iterable[Event]) -> list[Event]:
    # Stable: events on one day keep the order they were recorded in.
    return sorted(events, key=lambda e: e.on)


def paused_days(events: Iterable[Event], today: dt.date) -> int:
    """Days between each suspension and its resumption (or today while still suspended)."""
    total, since = 0, None
    for e in _ordered(events):
        if e.kind == SUSPEND and since is None:
            since = e.on
        elif e.kind == RESUME and since is not None:
            total += (e.on - since).days
            since = None
    if since is not None:
        total += max(0, (today - since).days)
    return total


def clock_state(events: Iterable[Event], *, today: dt.date, court_deadline: dt.date | None = None) -> ClockState:
    events = _ordered(events)
    start = next((e.on for e in events if e.kind == START), None)
    if start is None:
        return ClockState(None, None, court_deadline, court_deadline, False, 0, 0, 0, _left(court_deadline, today))
    paused = paused_days(events, today)
    extended = sum(e.days for e in events if e.kind == EXTEND)
    statutory = _period_end(start, MEDIATION_DAYS + extended + paused)
    deadline = min(statutory, court_deadline) if court_deadline else statutory
    elapsed = max(0, (today - start).days - paused)
    suspended = _is_suspended(events)
    days_left = _left(deadline, today)
    if suspended:
        # A paused clock is frozen: the counted days still to run, whatever weekday it is
        # (the art. 203 move is known only once it runs again). A court's date keeps running.
        days_left = MEDIATION_DAYS + extended - elapsed
        if court_deadline is not None:
            days_left = min(days_left, (court_deadline - today).days)
    return ClockState(
        started_on=start,
        statutory_end=statutory,
        court_end=court_deadline,
        deadline=deadline,
        suspended=suspended,
        paused_days=paused,
        extended_days=extended,
        elapsed_days=elapsed,
        days_left=days_left,
    )


@lru_cache(maxsize=4096)
def _period_end(start: dt.date, days: int) -> dt.date:
    # Lists derive hundreds of clocks that share start dates; the calendar is fixed per process.
    return calendar.period_end(start, days)


def _left(deadline: dt.date | None, today: dt.date) -> int | None:
    return None if deadline is None else (deadline - today).days


def confirmation_window_end(effective_on: dt.date) -> dt.date:
    """Last day to apply jointly for judicial confirmation (人民调解法 art. 33; 民法典 art. 201, 203)."""
    return calendar.period_end(effective_on, CONFIRMATION_DAYS)
