"""Tier computation and the notice period in working days (2026 calendar, make-up days)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assistance.models import AidStandard, Tier
from assistance.services import compute_tier, notice_end, yuan
from core.calendar import CalendarUnavailable

STD = AidStandard(version=1, min_living_line=Decimal("1420"), low_income_line=Decimal("2840"), notice_working_days=5)

TIER_CASES = [
    # incomes, causes, aggravating (health etc. in the household), tier, words in the explanation
    (["1050"], ["illness"], False, Tier.DEEP, "人均月收入 1,050 元 < 低保线 1,420 元 → 深度困难"),
    (["2000", "100"], ["other"], False, Tier.DEEP, "人均月收入 1,050 元 < 低保线 1,420 元 → 深度困难"),
    (["1420"], ["illness"], False, Tier.RELATIVE, "低收入线 2,840 元"),
    (["2000"], ["other"], True, Tier.RELATIVE, "相对困难"),
    (["2000"], ["other"], False, Tier.NONE, "无因病"),
    (["2000"], ["accident"], False, Tier.ACCIDENT, "意外致困"),
    (["9000"], ["disaster"], False, Tier.ACCIDENT, "意外致困"),
    (["2840"], ["illness"], False, Tier.NONE, "≥ 低收入线 2,840 元"),
    (["1419.99"], ["other"], False, Tier.DEEP, "1,419.99 元"),
    (["0", "0", "0"], ["unemployment"], False, Tier.DEEP, "人均月收入 0 元"),
]


@pytest.mark.parametrize(("incomes", "causes", "aggravating", "tier", "words"), TIER_CASES)
def test_tier_is_computed_and_explained(incomes, causes, aggravating, tier, words):
    got, explanation, per_head = compute_tier(STD, [Decimal(x) for x in incomes], causes, aggravating=aggravating)
    assert got == tier
    assert words in explanation


def test_no_household_no_tier():
    assert compute_tier(STD, [], ["illness"])[0] == Tier.NONE


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1050"), "1,050"),
        (Decimal("1050.5"), "1,050.50"),
        (Decimal("0"), "0"),
        (Decimal("123456.78"), "123,456.78"),
    ],
)
def test_yuan(amount, text):
    assert yuan(amount) == text


NOTICE_CASES = [
    # start, working days, last day
    (dt.date(2026, 9, 28), 5, dt.date(2026, 10, 9)),  # Mon–Wed, then the National Day week off, Thu–Fri
    (dt.date(2026, 9, 28), 6, dt.date(2026, 10, 10)),  # Saturday 10 October is a make-up working day
    (dt.date(2026, 9, 28), 7, dt.date(2026, 10, 12)),  # Sunday 11 October is not
    (dt.date(2026, 10, 1), 5, dt.date(2026, 10, 13)),  # starts in the holiday: 8, 9, 10 (make-up), 12, 13
    (dt.date(2026, 9, 19), 5, dt.date(2026, 9, 24)),  # Sunday 20 September is a make-up working day
    (dt.date(2026, 6, 1), 5, dt.date(2026, 6, 5)),  # an ordinary week
]


@pytest.mark.parametrize(("start", "days", "end"), NOTICE_CASES)
def test_notice_length_in_working_days(start, days, end):
    assert notice_end(STD, start, days) == (days, end)


def test_notice_shorter_than_the_standard_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as exc:
        notice_end(STD, dt.date(2026, 6, 1), 3)
    assert "working_days" in exc.value.message_dict
    assert "不得少于标准规定的 5 个工作日" in exc.value.message_dict["working_days"][0]


def test_notice_into_a_year_without_calendar_data_fails_closed():
    with pytest.raises(CalendarUnavailable) as exc:
        notice_end(STD, dt.date(2026, 12, 28), 10)
    assert "2027" in str(exc.value)
