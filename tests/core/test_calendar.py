"""Working days and statutory periods on the Chinese calendar (core.calendar)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import calendar
from core.calendar import CalendarUnavailable

D = dt.date


def test_it_counts_a_make_up_saturday_as_a_working_day():
    # 2026-10-10 (Saturday) is worked in lieu of the National Day holiday.
    assert calendar.is_working_day(D(2026, 10, 10))
    assert not calendar.is_working_day(D(2026, 10, 3))  # National Day
    assert not calendar.is_working_day(D(2026, 11, 28))  # a plain Saturday


def test_it_counts_working_days_across_national_day():
    # From Wednesday 30 September: 30 Sep (1), 1-7 Oct holiday, 8 Oct (2), 9 Oct (3), Sat 10 Oct make-up (4), 12 Oct (5).
    assert calendar.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 12)


def test_it_starts_counting_on_the_next_working_day_when_the_start_is_a_rest_day():
    assert calendar.add_working_days(D(2026, 11, 28), 1) == D(2026, 11, 30)


def test_a_period_ending_on_a_holiday_ends_on_the_first_working_day_after_it():
    # 15 days from 16 September end on 1 October, a holiday; the holiday ends on 7 October.
    assert calendar.period_end(D(2026, 9, 16), 15) == D(2026, 10, 8)


def test_a_period_ending_on_a_make_up_working_day_is_not_moved():
    assert calendar.period_end(D(2026, 9, 25), 15) == D(2026, 10, 10)


def test_it_refuses_a_year_it_has_no_data_for():
    with pytest.raises(CalendarUnavailable) as exc:
        calendar.add_working_days(D(2099, 1, 5), 3)
    assert "2099" in str(exc.value)


@given(st.dates(min_value=D(2005, 1, 1), max_value=D(2026, 11, 30)), st.integers(min_value=1, max_value=30))
def test_a_period_never_ends_on_a_rest_day_or_early(start, days):
    try:
        end = calendar.period_end(start, days)
    except CalendarUnavailable:
        return  # the period ran into a year without data: refused, not guessed
    assert calendar.is_working_day(end)
    assert end >= start + dt.timedelta(days=days)
    # Every day between the nominal end and the end is a rest day (the shift is minimal).
    day = start + dt.timedelta(days=days)
    while day < end:
        assert not calendar.is_working_day(day)
        day += dt.timedelta(days=1)


@given(st.dates(min_value=D(2005, 1, 1), max_value=D(2026, 10, 31)), st.integers(min_value=1, max_value=20))
def test_working_days_and_their_count_agree(start, n):
    try:
        end = calendar.add_working_days(start, n)
    except CalendarUnavailable:
        return
    assert calendar.working_days_between(start, end) == n
    assert calendar.is_working_day(end)
