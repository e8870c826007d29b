"""The statutory clock (disputes.clock): art. 14 (15 days), pauses, extensions, art. 203, court dates."""

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core import calendar
from core.calendar import CalendarUnavailable
from disputes import clock
from disputes.clock import EXTEND, RESUME, START, SUSPEND, ClockError, Event

D = dt.date
# 2026 is the last year the holiday calendar knows: starts early enough that every end stays in 2026.
starts = st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 9, 30))


def test_fifteen_days_from_receipt_on_a_plain_week():
    # Received Monday 2 November: counting starts the next day (民法典 art. 201), day 15 is Tuesday 17 November.
    s = clock.clock_state([Event(START, D(2026, 11, 2))], today=D(2026, 11, 2))
    assert s.deadline == D(2026, 11, 17)
    assert s.days_left == 15
    assert not s.warning and not s.overdue


def test_an_end_inside_national_day_moves_to_the_day_after_the_holiday():
    # Received 16 September: day 15 is 1 October (National Day); the holiday ends 7 October → 8 October.
    s = clock.clock_state([Event(START, D(2026, 9, 16))], today=D(2026, 9, 30))
    assert s.statutory_end == D(2026, 10, 8)
    assert s.days_left == 8


def test_an_end_on_the_make_up_saturday_stays_there():
    # Received 25 September: day 15 is Saturday 10 October, a make-up working day (调休): not moved.
    s = clock.clock_state([Event(START, D(2026, 9, 25))], today=D(2026, 9, 25))
    assert s.deadline == D(2026, 10, 10)


def test_a_suspension_excludes_the_paused_days():
    events = [Event(START, D(2026, 11, 2)), Event(SUSPEND, D(2026, 11, 5)), Event(RESUME, D(2026, 11, 9))]
    s = clock.clock_state(events, today=D(2026, 11, 10))
    assert s.paused_days == 4
    assert s.deadline == D(2026, 11, 23)  # 17 November + 4 days, a Monday
    assert s.elapsed_days == 4  # 8 days since the start, 4 of them paused


def test_while_suspended_the_end_moves_day_by_day():
    events = [Event(START, D(2026, 11, 2)), Event(SUSPEND, D(2026, 11, 5))]
    a = clock.clock_state(events, today=D(2026, 11, 6))
    b = clock.clock_state(events, today=D(2026, 11, 9))
    assert a.suspended and b.suspended
    assert a.days_left == b.days_left  # the pause does not eat days
    assert b.elapsed_days == 3


def test_an_extension_adds_days():
    events = [Event(START, D(2026, 11, 2)), Event(EXTEND, D(2026, 11, 12), 10)]
    s = clock.clock_state(events, today=D(2026, 11, 12))
    assert s.extended_days == 10
    assert s.deadline == D(2026, 11, 27)


def test_a_court_s_earlier_return_date_wins():
    events = [Event(START, D(2026, 11, 2))]
    s = clock.clock_state(events, today=D(2026, 11, 2), court_deadline=D(2026, 11, 10))
    assert s.deadline == D(2026, 11, 10)
    later = clock.clock_state(events, today=D(2026, 11, 2), court_deadline=D(2026, 12, 31))
    assert later.deadline == D(2026, 11, 17)


def test_warning_from_day_ten_overdue_after_the_last_day():
    events = [Event(START, D(2026, 11, 2))]
    assert not clock.clock_state(events, today=D(2026, 11, 11)).warning  # day 9
    assert clock.clock_state(events, today=D(2026, 11, 12)).warning  # day 10
    last = clock.clock_state(events, today=D(2026, 11, 17))
    assert last.days_left == 0 and not last.overdue
    after = clock.clock_state(events, today=D(2026, 11, 18))
    assert after.overdue and not after.warning and after.days_left == -1


def test_the_judicial_confirmation_window_is_thirty_days_with_the_holiday_rule():
    # Agreement effective 2 September: day 30 is 2 October, inside National Day → 8 October.
    assert clock.confirmation_window_end(D(2026, 9, 2)) == D(2026, 10, 8)
    assert clock.confirmation_window_end(D(2026, 11, 2)) == D(2026, 12, 2)


def test_a_period_running_into_a_year_without_calendar_data_is_refused():
    with pytest.raises(CalendarUnavailable):
        clock.clock_state([Event(START, D(2026, 12, 25))], today=D(2026, 12, 25))


@pytest.mark.parametrize(
    "before, new",
    [
        ([], Event(SUSPEND, D(2026, 11, 3))),
        ([Event(START, D(2026, 11, 2))], Event(START, D(2026, 11, 3))),
        ([Event(START, D(2026, 11, 2))], Event(RESUME, D(2026, 11, 3))),
        ([Event(START, D(2026, 11, 2)), Event(SUSPEND, D(2026, 11, 3))], Event(SUSPEND, D(2026, 11, 4))),
        ([Event(START, D(2026, 11, 2)), Event(SUSPEND, D(2026, 11, 3))], Event(EXTEND, D(2026, 11, 4), 5)),
        ([Event(START, D(2026, 11, 2))], Event(EXTEND, D(2026, 11, 4), 0)),
        ([Event(START, D(2026, 11, 5))], Event(SUSPEND, D(2026, 11, 4))),
    ],
)
def test_it_refuses_events_out_of_sequence(before, new):
    with pytest.raises(ClockError):
        clock.check_sequence(before, new)


# --- properties ---------------------------------------------------------------------------


@given(start=starts, today_offset=st.integers(0, 40))
def test_without_pauses_the_deadline_is_the_art_203_end_of_15_days(start, today_offset):
    today = start + dt.timedelta(days=today_offset)
    s = clock.clock_state([Event(START, start)], today=today)
    raw = start + dt.timedelta(days=15)
    assert s.deadline >= raw
    assert calendar.is_working_day(s.deadline)
    # Every day between the raw 15th day and the deadline is a rest day (art. 203 moves only past rest days).
    day = raw
    while day < s.deadline:
        assert not calendar.is_working_day(day)
        day += dt.timedelta(days=1)
    assert s.days_left == (s.deadline - today).days


@given(start=starts, pause_at=st.integers(0, 14), pause_len=st.integers(0, 30))
def test_a_closed_pause_moves_the_raw_end_by_exactly_its_length(start, pause_at, pause_len):
    suspend = start + dt.timedelta(days=pause_at)
    resume = suspend + dt.timedelta(days=pause_len)
    events = [Event(START, start), Event(SUSPEND, suspend), Event(RESUME, resume)]
    s = clock.clock_state(events, today=resume)
    assert s.paused_days == pause_len
    assert s.deadline == calendar.period_end(start, 15 + pause_len)
    assert s.elapsed_days == pause_at


@given(start=starts, ext=st.lists(st.integers(1, 15), max_size=3))
def test_extensions_add_up_and_never_shorten(start, ext):
    base = clock.clock_state([Event(START, start)], today=start).deadline
    events = [Event(START, start)] + [Event(EXTEND, start + dt.timedelta(days=1), d) for d in ext]
    s = clock.clock_state(events, today=start)
    assert s.extended_days == sum(ext)
    assert s.deadline >= base
    assert s.deadline == calendar.period_end(start, 15 + sum(ext))


@given(start=starts, court_offset=st.integers(0, 40))
def test_the_court_date_wins_only_when_earlier(start, court_offset):
    court = start + dt.timedelta(days=court_offset)
    s = clock.clock_state([Event(START, start)], today=start, court_deadline=court)
    assert s.deadline == min(court, s.statutory_end)


@given(start=starts, pause_at=st.integers(0, 14), a=st.integers(0, 20), b=st.integers(0, 20))
def test_days_left_do_not_drop_while_suspended(start, pause_at, a, b):
    assume(a <= b)
    suspend = start + dt.timedelta(days=pause_at)
    events = [Event(START, start), Event(SUSPEND, suspend)]
    first = clock.clock_state(events, today=suspend + dt.timedelta(days=a))
    later = clock.clock_state(events, today=suspend + dt.timedelta(days=b))
    # A paused clock is frozen: the days left stay what they were when it stopped.
    assert later.days_left == first.days_left == 15 - pause_at
    assert later.elapsed_days == first.elapsed_days == pause_at
