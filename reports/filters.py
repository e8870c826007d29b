"""FilterSets of the reports app (pages and API); they narrow an already-scoped queryset, never widen it."""

from __future__ import annotations

import re

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from organizations.filters import SubtreeFilterMixin

from .models import ReportRun

_PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2}))?")


def _period_key(value: str) -> tuple[str, int, int]:
    """("monthly", year, month) for "2026-05", ("yearly", year, 1) for "2026"; a ValidationError otherwise."""
    m = _PERIOD.fullmatch(str(value).strip())
    if not m or not 1950 <= int(m.group(1)) <= 9999 or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
        raise ValidationError(_("统计期间格式应为“2026-05”（月报）或“2026”（年报），请重新填写。"))
    if m.group(2):
        return ReportRun.Kind.MONTHLY, int(m.group(1)), int(m.group(2))
    return ReportRun.Kind.YEARLY, int(m.group(1)), 1


class ReportRunFilter(SubtreeFilterMixin):
    organization = django_filters.NumberFilter(field_name="organization_id", label=_("组织（仅本组织的报表）"))
    kind = django_filters.ChoiceFilter(choices=ReportRun.Kind.choices, label=_("报表类型"))
    status = django_filters.ChoiceFilter(choices=ReportRun.Status.choices, label=_("状态"))
    period = django_filters.CharFilter(
        method="filter_period",
        label=_("统计期间"),
        help_text=_("月报“2026-05”，年报“2026”"),
        validators=[_period_key],
    )

    class Meta:
        model = ReportRun
        fields = ["organization", "under", "kind", "status", "period"]

    def filter_period(self, queryset, name, value):
        import datetime as dt

        kind, year, month = _period_key(value)
        return queryset.filter(kind=kind, period_start=dt.date(year, month, 1))
