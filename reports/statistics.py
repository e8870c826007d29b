"""Statistics of a subtree for a period: THE public read behind the dashboard, the API and report files.

    from reports.statistics import subtree_figures, parse_period
    figures = subtree_figures(user=request.user, organization=org, period="2026-05")

`subtree_figures(*, user, organization, period, children=True, previous=True, trend=True) -> Figures`

- `period`: a month ("2026-05", or a date: its month), a year ("2026"), or a `Period`
  from `parse_period`. A future period, a malformed one, or one older than the summary
  keeps (see `reports.summaries.first_month`) is refused with a ValidationError on the
  field "period" whose message says what to enter (Chinese). The current month or year
  counts up to today.
- Scope: `organization` must be in the user's reach for report.view (404 outside the
  reach, 403 inside it without the capability); reads go through
  `…for_user(user, REPORT_VIEW)`.
- Source: the summary rows of every organisation (reports.models.MonthlyFigures, rebuilt
  by the Celery task `reports.tasks.refresh_statistics` and followed within a minute or
  two of each change by `reports.tasks.follow_statistics`); `Figures.as_of` says up to
  when changes are counted and `Figures.source` is "summary".

`Figures` (dataclass; `to_dict()` gives plain JSON-ready data):

- `organization`, `period` (`Period`: kind "month"/"year", start, end, key, label),
  `as_of` (datetime or None when no summary was built yet), `source`;
- `members` (`MemberFigures`): total at the period's end, new (memberships begun,
  transfers in included), left (left, retired, deceased), transferred_out, growth,
  by_employment_form [(value, label, n)], new_employment_forms, migrant, migrant_share,
  honours [(value, label, n)] held by current members and awarded up to the period's
  year, honours_total, honours_new (awarded in the period's year or years);
- `coverage` (`CoverageFigures`): enterprises, unionized_enterprises, formation_rate
  (建会率), employees, membership_rate (入会率: members / employees), None where the
  denominator is 0; enterprises and employees are as of the last refresh in that month;
  members_now: active members this moment (the live coverage summary), current period only;
- `aid` (`AidFigures`): files opened in the period (new_files; emergency_files of them opened
  as emergency aid, paid first and reviewed after), by_tier and by_status of
  those files (status as it is now), on_register (files registered or under review,
  by tier in register_by_tier), paid in the period (yuan, Decimal), budget of the
  period's year and spent of it so far, paid_share (paid / budget);
- `disputes` (`DisputeFigures`, mediation cases): received in the period, by_kind,
  by_status (now), by_outcome (agreed, failed, withdrawn, declined, open), collective,
  closed in the period, on_time (closed within 15 days of receipt), on_time_rate,
  average_days (receipt to closing);
- `projects` (`ProjectFigures`, projects designed in the subtree, of the period's year):
  total, by_stage, planned and spent (yuan), budget_execution (spent / planned),
  ratings (count in the period) and satisfaction (average score 1–5);
- `children`: the same figures (without their own children, previous or trend) for each
  active child organisation in reach, for the drill-down;
- `previous`: the same figures for the period before (the month before, the year
  before), or None when that lies outside the summary;
- `trend`: list of `TrendPoint` for the 12 months ending with the period's last month
  (members at the month's end, new, left, aid paid, cases received and closed).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from assistance.models import FileStatus, Tier
from core.roles import REPORT_VIEW
from disputes.models import Case as DisputeCase
from disputes.models import DisputeKind
from members.models import NEW_EMPLOYMENT_FORMS, EmploymentForm, Honour
from organizations.models import Organization
from organizations.services import require
from projects.models import Project

from . import selectors, summaries
from .summaries import kind_of, month_add, months_between

_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(\d{4})")

OUTCOMES = (
    ("agreed", gettext_lazy("达成协议")),
    ("failed", gettext_lazy("调解不成")),
    ("withdrawn", gettext_lazy("已撤回")),
    ("declined", gettext_lazy("不予受理")),
    ("open", gettext_lazy("办理中")),
)


@dataclass(frozen=True)
class Period:
    """A month or a year. `end` is the last day counted: the period's last day, or today in the current one."""

    kind: str  # "month" or "year"
    start: dt.date
    end: dt.date

    @property
    def key(self) -> str:
        return f"{self.start:%Y-%m}" if self.kind == "month" else f"{self.start:%Y}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(year)s年%(month)s月") % {"year": self.start.year, "month": self.start.month}
        return _("%(year)s年") % {"year": self.start.year}

    @property
    def first_month(self) -> dt.date:
        return self.start

    @property
    def last_month(self) -> dt.date:
        return self.end.replace(day=1)

    def months(self) -> list[dt.date]:
        return months_between(self.first_month, self.last_month)

    def previous(self) -> Period:
        if self.kind == "month":
            start = month_add(self.start, -1)
            return Period("month", start, month_add(start, 1) - dt.timedelta(days=1))
        return Period("year", dt.date(self.start.year - 1, 1, 1), dt.date(self.start.year - 1, 12, 31))


def parse_period(value, *, today: dt.date | None = None) -> Period:
    """A Period from "YYYY-MM", "YYYY", a date (its month) or a Period; refuses future and malformed periods."""
    today = today or timezone.localdate()
    if isinstance(value, Period):
        kind, start = value.kind, value.start
    elif isinstance(value, dt.date):
        kind, start = "month", (value.date() if isinstance(value, dt.datetime) else value).replace(day=1)
    elif isinstance(value, str) and (m := _MONTH.fullmatch(value.strip())):
        if not 1 <= int(m.group(2)) <= 12:
            raise ValidationError({"period": _("统计期间的月份应在 1 到 12 之间，例如“2026-05”，请重新填写。")})
        kind, start = "month", dt.date(int(m.group(1)), int(m.group(2)), 1)
    elif isinstance(value, str) and (m := _YEAR.fullmatch(value.strip())):
        kind, start = "year", dt.date(int(m.group(1)), 1, 1)
    else:
        raise ValidationError({"period": _("统计期间应为某月（如“2026-05”）或某年（如“2026”），请重新填写。")})
    if start.year < 1950:
        raise ValidationError({"period": _("统计期间过早，请选择 1950 年以后的期间。")})
    if kind == "month":
        if start > today.replace(day=1):
            raise ValidationError({"period": _("统计期间不能晚于本月，请选择本月或以前的月份。")})
        end = month_add(start, 1) - dt.timedelta(days=1)
    else:
        if start.year > today.year:
            raise ValidationError({"period": _("统计期间不能晚于本年，请选择本年或以前的年份。")})
        end = dt.date(start.year, 12, 31)
    return Period(kind, start, min(end, today))


# --- the figures ------------------------------------------------------------------------------


def _rate(num, den) -> float | None:
    return round(num / den, 4) if den else None


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _breakdown(data: dict, prefix: str, choices) -> list[tuple[str, str, int]]:
    """[(value, label, n)] of the choices with a figure, in the choices' order (labels already resolved)."""
    out = []
    for value, label in choices:
        n = data.get(prefix + value)
        if n:
            out.append((value, label, n))
    return out


@lru_cache(maxsize=8)
def _labels(language: str | None) -> dict[str, list[tuple[str, str]]]:
    """Every choice list with its labels in `language` (the active one), resolved once: a lazy label
    costs a translation lookup each time it is read, and a city's figures read ~1,000 of them."""
    return {
        name: [(value, str(label)) for value, label in choices]
        for name, choices in (
            ("forms", FORMS),
            ("honours", HONOURS),
            ("tiers", TIERS),
            ("file_statuses", FILE_STATUSES),
            ("kinds", KINDS),
            ("case_statuses", CASE_STATUSES),
            ("stages", STAGES),
            ("outcomes", OUTCOMES),
        )
    }


# The choices once (an enum's `.choices` builds a new list of lazy labels on every call).
FORMS = list(EmploymentForm.choices)
HONOURS = list(Honour.Kind.choices)
TIERS = [*Tier.choices, ("pending", gettext_lazy("未定档"))]
FILE_STATUSES = list(FileStatus.choices)
KINDS = list(DisputeKind.choices)
CASE_STATUSES = list(DisputeCase.Status.choices)
STAGES = list(Project.Stage.choices)


@dataclass
class MemberFigures:
    total: int = 0
    new: int = 0
    left: int = 0
    transferred_out: int = 0
    growth: int = 0
    by_employment_form: list = field(default_factory=list)
    new_employment_forms: int = 0
    migrant: int = 0
    migrant_share: float | None = None
    honours: list = field(default_factory=list)
    honours_total: int = 0
    honours_new: int = 0


@dataclass
class CoverageFigures:
    enterprises: int | None = None
    unionized_enterprises: int | None = None
    formation_rate: float | None = None
    employees: int | None = None
    membership_rate: float | None = None
    # Active members right now (organizations.CoverageSummary, kept current seconds after each
    # change of the roll); only for the current period, else None.
    members_now: int | None = None


@dataclass
class AidFigures:
    new_files: int = 0
    emergency_files: int = 0
    by_tier: list = field(default_factory=list)
    by_status: list = field(default_factory=list)
    on_register: int = 0
    register_by_tier: list = field(default_factory=list)
    paid: Decimal = Decimal("0.00")
    budget: Decimal = Decimal("0.00")
    budget_spent: Decimal = Decimal("0.00")
    paid_share: float | None = None


@dataclass
class DisputeFigures:
    received: int = 0
    by_kind: list = field(default_factory=list)
    by_status: list = field(default_factory=list)
    by_outcome: list = field(default_factory=list)
    collective: int = 0
    closed: int = 0
    on_time: int = 0
    on_time_rate: float | None = None
    average_days: float | None = None


@dataclass
class ProjectFigures:
    total: int = 0
    by_stage: list = field(default_factory=list)
    planned: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")
    budget_execution: float | None = None
    ratings: int = 0
    satisfaction: float | None = None


@dataclass
class TrendPoint:
    month: dt.date
    members: int
    new: int
    left: int
    aid_paid: Decimal
    cases_received: int
    cases_closed: int


@dataclass
class Figures:
    organization: Organization
    period: Period
    as_of: dt.datetime | None
    source: str  # "summary" or "live"
    members: MemberFigures
    coverage: CoverageFigures
    aid: AidFigures
    disputes: DisputeFigures
    projects: ProjectFigures
    children: list[Figures] = field(default_factory=list)
    previous: Figures | None = None
    trend: list[TrendPoint] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data (numbers, strings, lists) for the API, json_script and report files."""

        def plain(obj):
            if isinstance(obj, Decimal):
                return str(obj)
            if isinstance(obj, dt.datetime):
                return obj.isoformat()
            if isinstance(obj, dt.date):
                return obj.isoformat()
            if isinstance(obj, tuple) and len(obj) == 3:
                return {"value": obj[0], "label": obj[1], "count": obj[2]}
            if isinstance(obj, list):
                return [plain(x) for x in obj]
            if isinstance(obj, dict):
                return {k: plain(v) for k, v in obj.items()}
            return obj

        return {
            "organization": {"id": self.organization.pk, "name": self.organization.name},
            "period": {
                "kind": self.period.kind,
                "key": self.period.key,
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "as_of": plain(self.as_of),
            "source": self.source,
            "members": plain(asdict(self.members)),
            "coverage": plain(asdict(self.coverage)),
            "aid": plain(asdict(self.aid)),
            "disputes": plain(asdict(self.disputes)),
            "projects": plain(asdict(self.projects)),
            "children": [c.to_dict() for c in self.children],
            "previous": self.previous.to_dict() if self.previous is not None else None,
            "trend": [plain(asdict(p)) for p in self.trend],
        }


def combine(rows: dict[dt.date, dict[str, int]], period: Period) -> dict[str, int]:
    """A period's metrics from its months' rows: flows summed, stocks and yearly figures at the last month."""
    out: dict[str, int] = {}
    last = period.last_month
    for month in period.months():
        row = rows.get(month) or {}
        for k, v in row.items():
            if kind_of(k) == "flow":
                out[k] = out.get(k, 0) + v
            elif month == last:
                out[k] = v
    return out


def build(organization: Organization, period: Period, data: dict[str, int], *, as_of, source: str) -> Figures:
    """Figures from a period's combined metrics (pure: no database)."""
    L = _labels(get_language())
    total = data.get("m.total", 0)
    forms = _breakdown(data, "m.form.", L["forms"])
    members = MemberFigures(
        total=total,
        new=data.get("m.joined", 0),
        left=data.get("m.left", 0),
        transferred_out=data.get("m.out", 0),
        growth=data.get("m.joined", 0) - data.get("m.left", 0) - data.get("m.out", 0),
        by_employment_form=forms,
        new_employment_forms=sum(n for value, _l, n in forms if value in NEW_EMPLOYMENT_FORMS),
        migrant=data.get("m.migrant", 0),
        migrant_share=_rate(data.get("m.migrant", 0), total),
        honours=_breakdown(data, "h.held.", L["honours"]),
        honours_total=data.get("h.held", 0),
        honours_new=data.get("h.new", 0),
    )
    has_cov = "c.enterprises" in data
    coverage = CoverageFigures(
        enterprises=data.get("c.enterprises") if has_cov else None,
        unionized_enterprises=data.get("c.unionized", 0) if has_cov else None,
        formation_rate=_rate(data.get("c.unionized", 0), data.get("c.enterprises", 0)) if has_cov else None,
        employees=data.get("c.employees") if has_cov else None,
        membership_rate=_rate(total, data.get("c.employees", 0)) if has_cov else None,
    )
    budget = data.get("a.budget", 0)
    aid = AidFigures(
        new_files=data.get("a.new", 0),
        emergency_files=data.get("a.emergency", 0),
        by_tier=_breakdown(data, "a.tier.", L["tiers"]),
        by_status=_breakdown(data, "a.status.", L["file_statuses"]),
        on_register=data.get("a.reg", 0),
        register_by_tier=_breakdown(data, "a.reg.", L["tiers"]),
        paid=_yuan(data.get("a.paid", 0)),
        budget=_yuan(budget),
        budget_spent=_yuan(data.get("a.spent", 0)),
        paid_share=_rate(data.get("a.paid", 0), budget),
    )
    closed = data.get("d.closed", 0)
    disputes = DisputeFigures(
        received=data.get("d.received", 0),
        by_kind=_breakdown(data, "d.kind.", L["kinds"]),
        by_status=_breakdown(data, "d.status.", L["case_statuses"]),
        by_outcome=_breakdown(data, "d.outcome.", L["outcomes"]),
        collective=data.get("d.collective", 0),
        closed=closed,
        on_time=data.get("d.on_time", 0),
        on_time_rate=_rate(data.get("d.on_time", 0), closed),
        average_days=round(data.get("d.days", 0) / closed, 1) if closed else None,
    )
    planned = data.get("p.planned", 0)
    ratings = data.get("p.ratings", 0)
    projects = ProjectFigures(
        total=data.get("p.total", 0),
        by_stage=_breakdown(data, "p.stage.", L["stages"]),
        planned=_yuan(planned),
        spent=_yuan(data.get("p.spent", 0)),
        budget_execution=_rate(data.get("p.spent", 0), planned),
        ratings=ratings,
        satisfaction=round(data.get("p.rating_sum", 0) / ratings, 2) if ratings else None,
    )
    return Figures(
        organization=organization,
        period=period,
        as_of=as_of,
        source=source,
        members=members,
        coverage=coverage,
        aid=aid,
        disputes=disputes,
        projects=projects,
    )


def subtree_figures(
    *, user, organization: Organization, period, children: bool = True, previous: bool = True, trend: bool = True
) -> Figures:
    """The figures of `organization`'s subtree for `period` (see the module's text for every field)."""
    require(user, REPORT_VIEW, organization)
    today = timezone.localdate()
    period = parse_period(period, today=today)
    first_kept = summaries.first_month(today)
    if period.start < first_kept:
        raise ValidationError(
            {"period": _("统计汇总保留 %(year)s 年 1 月以后的数据，请选择此后的期间。") % {"year": first_kept.year}}
        )
    prev = period.previous() if previous else None
    if prev is not None and prev.start < first_kept:
        prev = None
    trend_months = months_between(month_add(period.last_month, -11), period.last_month) if trend else []
    trend_months = [m for m in trend_months if m >= first_kept]
    wanted = set(period.months()) | set(trend_months) | (set(prev.months()) if prev else set())
    kids = list(selectors.report_children(user, organization)) if children else []
    rows, as_of = selectors.summary_rows(user, organization, sorted(wanted), kids, period.months())
    source = "summary"
    own = rows.get(organization.pk, {})
    figures = build(organization, period, combine(own, period), as_of=as_of, source=source)
    if period.end == today:
        coverage = selectors.coverage_of(user, organization)
        figures.coverage.members_now = coverage.members if coverage is not None else None
    if prev is not None:
        figures.previous = build(organization, prev, combine(own, prev), as_of=as_of, source=source)
    for kid in kids:
        figures.children.append(build(kid, period, combine(rows.get(kid.pk, {}), period), as_of=as_of, source=source))
    for month in trend_months:
        row = own.get(month) or {}
        figures.trend.append(
            TrendPoint(
                month=month,
                members=row.get("m.total", 0),
                new=row.get("m.joined", 0),
                left=row.get("m.left", 0) + row.get("m.out", 0),
                aid_paid=_yuan(row.get("a.paid", 0)),
                cases_received=row.get("d.received", 0),
                cases_closed=row.get("d.closed", 0),
            )
        )
    return figures
