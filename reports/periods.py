"""Report periods: a month ("2026-10") or a year ("2026"), checked with a clear message."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MONTHLY, YEARLY = "monthly", "yearly"
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(\d{4})")


@dataclass(frozen=True)
class Period:
    kind: str  # MONTHLY or YEARLY
    start: dt.date
    end: dt.date  # last day of the period

    @property
    def code(self) -> str:
        return f"{self.start:%Y}" if self.kind == YEARLY else f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{self.start:%Y}年" if self.kind == YEARLY else f"{self.start:%Y年%m月}"

    def previous(self) -> Period:
        """The period before (the comparison column of the report)."""
        if self.kind == YEARLY:
            return year_period(self.start.year - 1)
        return month_period(self.start - dt.timedelta(days=1))


def _month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def month_period(day: dt.date) -> Period:
    first = day.replace(day=1)
    return Period(MONTHLY, first, _month_end(first))


def year_period(year: int) -> Period:
    return Period(YEARLY, dt.date(year, 1, 1), dt.date(year, 12, 31))


def parse_period(kind: str, value, *, today: dt.date) -> Period:
    """The period named by `value` ("2026-10" for a month, "2026" for a year), or a ValidationError.

    Only finished periods: a report is the record of a closed month or year, so the
    current month (or year) and any future one are refused with the first one allowed.
    """
    if kind not in (MONTHLY, YEARLY):
        raise ValidationError({"kind": _("报表类型只能是“月报”或“年报”，请重新选择。")})
    text = str(value or "").strip()
    if kind == MONTHLY:
        m = _MONTH.fullmatch(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValidationError({"period": _("统计月份格式应为“2026-05”（年-月），请重新填写。")})
        _not_too_early(int(m.group(1)))
        period = month_period(dt.date(int(m.group(1)), int(m.group(2)), 1))
        latest = month_period(today.replace(day=1) - dt.timedelta(days=1))
        if period.start > latest.start:
            raise ValidationError(
                {
                    "period": _("%(period)s尚未结束，不能生成月报；最近可生成的是 %(latest)s。")
                    % {"period": period.label, "latest": latest.code}
                }
            )
    else:
        m = _YEAR.fullmatch(text)
        if not m:
            raise ValidationError({"period": _("统计年度格式应为“2025”（四位年份），请重新填写。")})
        _not_too_early(int(m.group(1)))
        period = year_period(int(m.group(1)))
        if period.start.year >= today.year:
            raise ValidationError(
                {
                    "period": _("%(year)s 年尚未结束，不能生成年报；最近可生成的是 %(latest)s 年。")
                    % {"year": period.start.year, "latest": today.year - 1}
                }
            )
    return period


def _not_too_early(year: int) -> None:
    # Checked before any date is built: "0000-01" would otherwise be a ValueError (a 500).
    if year < 1950:
        raise ValidationError({"period": _("统计期间过早，请选择 1950 年以后的期间。")})


def due_periods(today: dt.date) -> list[Period]:
    """What the schedule builds on `today`: the previous month; on 1 January also the year."""
    out = [month_period(today.replace(day=1) - dt.timedelta(days=1))]
    if today.month == 1:
        out.append(year_period(today.year - 1))
    return out
