"""Statistics reports: the monthly report of a subtree (figures and a spreadsheet).

Reports read through reports.selectors (so through the scoping rule); building one checks
the actor's reach and capability like any service and is recorded in the audit log,
because the spreadsheet leaves the system.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import documents, roles
from core.audit import log_action
from members.models import EmploymentForm
from organizations.models import CoverageSummary, Organization, User
from organizations.services import require

from . import selectors
from .selectors import Flow, Unit

_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


@dataclass
class MonthlyReport:
    """The figures of one month for one subtree, and the same as an xlsx workbook."""

    organization: Organization
    month: dt.date  # first day of the month
    end: dt.date  # last day counted (the month's last day, or today for the current month)
    total: Flow
    units: list[Unit]
    coverage: CoverageSummary | None
    by_form: list[tuple[str, str, int, int]]  # (value, label, active members, joined in the month)
    xlsx: bytes = b""

    @property
    def filename(self) -> str:
        return f"monthly-report-{self.organization.pk}-{self.month:%Y-%m}.xlsx"

    def figures(self) -> dict:
        """The report as plain data (for pages, the API and the benchmark)."""
        cov = self.coverage
        return {
            "organization": self.organization.pk,
            "month": f"{self.month:%Y-%m}",
            "members_at_start": self.total.at_start,
            "members_at_end": self.total.at_end,
            "growth": self.total.growth,
            "joined": self.total.joined,
            "transferred_out": self.total.transferred_out,
            "left": self.total.left,
            "members_now": cov.members if cov else None,
            "enterprises": cov.enterprises if cov else None,
            "unionized_enterprises": cov.unionized_enterprises if cov else None,
            "formation_rate": cov.formation_rate if cov else None,
            "employees": cov.employees if cov else None,
            "membership_rate": cov.membership_rate if cov else None,
            "units": [
                {
                    "organization": u.organization.pk,
                    "name": u.organization.name,
                    "own": u.own,
                    "members_at_end": u.flow.at_end,
                    "growth": u.flow.growth,
                    "joined": u.flow.joined,
                    "formation_rate": u.coverage.formation_rate if u.coverage and not u.own else None,
                    "membership_rate": u.coverage.membership_rate if u.coverage and not u.own else None,
                }
                for u in self.units
            ],
            "by_employment_form": {value: {"active": a, "joined": j} for value, _label, a, j in self.by_form},
        }


def _month_bounds(month, today: dt.date) -> tuple[dt.date, dt.date]:
    if isinstance(month, str):
        m = _MONTH.fullmatch(month.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValidationError({"month": _("统计月份格式应为“2024-05”（年-月），请重新填写。")})
        month = dt.date(int(m.group(1)), int(m.group(2)), 1)
    elif isinstance(month, dt.datetime):
        month = month.date()
    if not isinstance(month, dt.date):
        raise ValidationError({"month": _("请填写统计月份，例如“2024-05”。")})
    first = month.replace(day=1)
    if first > today.replace(day=1):
        raise ValidationError({"month": _("统计月份不能晚于本月，请选择本月或以前的月份。")})
    if first.year < 1950:
        raise ValidationError({"month": _("统计月份过早，请选择 1950 年以后的月份。")})
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first, min(last, today)


@transaction.atomic
def monthly_report_build(*, actor: User, organization: Organization, month) -> MonthlyReport:
    """Members and their growth in `month` (a date or "YYYY-MM") for `organization`'s subtree.

    By child unit, by employment form, with formation and membership rates from the
    coverage summaries. 404 outside the actor's reach, 403 without the report capability.
    """
    require(actor, roles.REPORT_VIEW, organization)
    start, end = _month_bounds(month, timezone.localdate())
    flows = selectors.membership_flows(actor, organization, start, end)
    units = selectors.report_units(actor, organization)
    total = Flow()
    for flow in flows.values():
        total.add(flow)
    for unit in units:
        unit.flow = flows.get(unit.organization.path, Flow())
    own = flows.get(organization.path)
    coverage = selectors.coverage_of(actor, organization)
    if own is not None:
        # Members held by the organisation itself (a street's flexible workers, a union's own roll).
        units.insert(0, Unit(organization=organization, coverage=coverage, flow=own, own=True))
    active = selectors.active_members_by_employment_form(actor, organization)
    joined = selectors.joined_by_employment_form(actor, organization, start, end)
    by_form = [
        (value, str(label), active.get(value, 0), joined.get(value, 0))
        for value, label in EmploymentForm.choices
        if active.get(value) or joined.get(value)
    ]
    report = MonthlyReport(
        organization=organization,
        month=start,
        end=end,
        total=total,
        units=units,
        coverage=coverage,
        by_form=by_form,
    )
    report.xlsx = _workbook(report)
    log_action(
        actor=actor,
        action="report.monthly_built",
        target=organization,
        data={"month": f"{start:%Y-%m}", "members_at_end": total.at_end},
    )
    return report


def _rate(value: float | None):
    return value if value is not None else "—"


def _percent(value):
    """A rate as a percentage cell; "—" (no figure) as it is."""
    return documents.Styled(value, number_format="0.0%") if isinstance(value, float) else value


def _workbook(report: MonthlyReport) -> bytes:
    """The report as xlsx, through the shared writer (organisation names are user text)."""
    org, total, cov = report.organization, report.total, report.coverage
    overview = [
        [
            documents.Styled(
                _("%(org)s %(month)s 会员统计月报") % {"org": org.name, "month": f"{report.month:%Y年%m月}"},
                bold=True,
                size=14,
            )
        ],
        [_("统计期间"), f"{report.month:%Y-%m-%d} 至 {report.end:%Y-%m-%d}"],
        [],
        [_("月初会员数"), total.at_start],
        [_("月末会员数"), total.at_end],
        [_("本月净增长"), total.growth],
        [_("本月入会（含转入）"), total.joined],
        [_("本月转出"), total.transferred_out],
        [_("本月退会（含退休、去世）"), total.left],
    ]
    if cov is not None:
        overview += [
            [_("当前在册会员（汇总）"), cov.members],
            [_("企业数"), cov.enterprises],
            [_("已建会企业数"), cov.unionized_enterprises],
            [_("建会率"), _percent(_rate(cov.formation_rate))],
            [_("企业职工人数"), cov.employees],
            [_("入会率"), _percent(_rate(cov.membership_rate))],
            [_("汇总时间"), timezone.localtime(cov.refreshed_at).strftime("%Y-%m-%d %H:%M")],
        ]

    def unit_rows():
        for unit in report.units:
            o, f, c = unit.organization, unit.flow, unit.coverage
            name = _("%(name)s（本级直属会员）") % {"name": o.name} if unit.own else o.name
            row = [name, o.get_kind_display(), f.at_start, f.at_end, f.growth, f.joined, f.transferred_out, f.left]
            if c is not None and not unit.own:
                row += [
                    c.members,
                    c.enterprises,
                    c.unionized_enterprises,
                    _percent(_rate(c.formation_rate)),
                    c.employees,
                    _percent(_rate(c.membership_rate)),
                ]
            yield row

    units_header = [
        _("组织"),
        _("类型"),
        _("月初会员"),
        _("月末会员"),
        _("净增长"),
        _("入会（含转入）"),
        _("转出"),
        _("退会"),
        _("在册会员（汇总）"),
        _("企业数"),
        _("已建会企业"),
        _("建会率"),
        _("职工人数"),
        _("入会率"),
    ]
    forms = [[label, active, joined] for _value, label, active, joined in report.by_form]
    return documents.xlsx_bytes(
        [
            documents.Sheet(title=_("概况"), rows=overview, widths={"A": 26, "B": 24}),
            documents.Sheet(
                title=_("下级组织"), header=units_header, rows=unit_rows(), widths={"A": 36}, wrap_header=True
            ),
            documents.Sheet(
                title=_("就业形态"),
                header=[_("就业形态"), _("在册会员"), _("本月入会（含转入）")],
                rows=forms,
                widths={"A": 18},
            ),
        ]
    )
