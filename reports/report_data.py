"""What a report file holds: headline figures with the previous period, and sections of rows.

The files (reports/files.py) are written from a ReportData and know nothing of where the
figures come from. The figures are THE statistics of the subtree and period
(reports.statistics.subtree_figures: summary rows for the city and the districts, counted
live for smaller subtrees), so a report says exactly what the dashboard says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Organization

from .periods import Period
from .statistics import Figures, subtree_figures


@dataclass
class Chart:
    """A chart of the PDF: bars (one or two series over labels) or a pie (one series)."""

    title: str
    labels: list[str]
    series: list[tuple[str, list[float]]]
    kind: str = "bar"  # bar | pie


@dataclass
class Section:
    """One sheet of the workbook (and one block of the PDF)."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    widths: dict[str, float] = field(default_factory=dict)
    percent_columns: tuple[int, ...] = ()  # 0-based columns holding rates (0..1)
    chart: Chart | None = None
    note: str = ""
    pdf_columns: tuple[int, ...] | None = None  # the columns the PDF's table shows (A4 is narrow)


@dataclass
class Headline:
    label: str
    value: Any
    previous: Any = None
    percent: bool = False


@dataclass
class ReportData:
    organization: Organization
    period: Period
    headlines: list[Headline]
    sections: list[Section]
    as_of: dt.datetime

    @property
    def title(self) -> str:
        kind = _("年报") if self.period.kind == "yearly" else _("月报")
        return _("%(org)s %(period)s统计%(kind)s") % {
            "org": self.organization.name,
            "period": self.period.label,
            "kind": kind,
        }

    def summary(self) -> dict:
        """Headline figures as plain data (stored on the run for the pages and the API)."""
        return {
            "as_of": self.as_of.isoformat(),
            "headlines": [
                {"label": h.label, "value": _plain(h.value), "previous": _plain(h.previous), "percent": h.percent}
                for h in self.headlines
            ],
        }


def _plain(value):
    return float(value) if isinstance(value, Decimal) else value


# Figure sources beyond the statistics (a domain's own sheet): a callable
# (reader, organization, period) -> (headlines, sections), registered once at start-up.
SECTION_SOURCES: list = []


def register_section_source(source) -> None:
    if source not in SECTION_SOURCES:
        SECTION_SOURCES.append(source)


def _pairs(rows) -> list[list]:
    """[(value, label, n)] breakdowns as [label, n] rows."""
    return [[str(label), n] for _value, label, n in rows]


def _breakdown_section(key, title, blocks, *, chart=None, note="") -> Section:
    """A sheet of several small breakdowns one under the other: a title row, then label / count rows."""
    rows: list[list] = []
    for heading, pairs in blocks:
        if rows:
            rows.append([None, None])
        rows.append([f"【{heading}】", None])
        rows += pairs or [[_("（无）"), 0]]
    return Section(
        key=key,
        title=title,
        header=[_("项目"), _("数量")],
        rows=rows,
        widths={"A": 30, "B": 14},
        chart=chart,
        note=note,
    )


def _chart_of(title, pairs, *, kind="bar", series=None) -> Chart | None:
    pairs = [(label, n) for label, n in pairs if n]
    if not pairs:
        return None
    return Chart(
        title, [str(label) for label, _n in pairs], [(series or title, [float(n) for _l, n in pairs])], kind=kind
    )


def gather(reader, organization: Organization, period: Period, *, progress=None) -> ReportData:
    """Every figure of the report of `organization`'s subtree for `period`, read as `reader`.

    `progress(percent, phase)` is called before and after the read of the figures.
    """
    if progress:
        progress(10, "figures")
    f: Figures = subtree_figures(user=reader, organization=organization, period=period.code)
    p = f.previous
    if progress:
        progress(60, "writing")
    m, c, a, d, pr = f.members, f.coverage, f.aid, f.disputes, f.projects
    pm = p.members if p else None

    def prev(attr, obj=None):
        if p is None:
            return None
        return getattr(getattr(p, obj), attr)

    headlines = [
        Headline(_("期末会员数"), m.total, pm.total if pm else None),
        Headline(_("新入会（含转入）"), m.new, prev("new", "members")),
        Headline(_("转出"), m.transferred_out, prev("transferred_out", "members")),
        Headline(_("退会（含退休、去世）"), m.left, prev("left", "members")),
        Headline(_("净增长"), m.growth, prev("growth", "members")),
        Headline(_("农民工会员占比"), m.migrant_share, prev("migrant_share", "members"), percent=True),
        Headline(_("企业数"), c.enterprises, prev("enterprises", "coverage")),
        Headline(_("已建会企业数"), c.unionized_enterprises, prev("unionized_enterprises", "coverage")),
        Headline(_("建会率"), c.formation_rate, prev("formation_rate", "coverage"), percent=True),
        Headline(_("企业职工人数"), c.employees, prev("employees", "coverage")),
        Headline(_("入会率"), c.membership_rate, prev("membership_rate", "coverage"), percent=True),
        Headline(_("新建困难职工档案"), a.new_files, prev("new_files", "aid")),
        Headline(_("其中应急救助档案"), a.emergency_files, prev("emergency_files", "aid")),
        Headline(_("在档困难职工"), a.on_register, prev("on_register", "aid")),
        Headline(_("帮扶资金支出（元）"), a.paid, prev("paid", "aid")),
        Headline(_("年度帮扶预算（元）"), a.budget, prev("budget", "aid")),
        Headline(_("预算执行率"), a.paid_share, prev("paid_share", "aid"), percent=True),
        Headline(_("受理调解案件"), d.received, prev("received", "disputes")),
        Headline(_("办结调解案件"), d.closed, prev("closed", "disputes")),
        Headline(_("按期办结率"), d.on_time_rate, prev("on_time_rate", "disputes"), percent=True),
        Headline(_("平均办理天数"), d.average_days, prev("average_days", "disputes")),
        Headline(_("服务项目数"), pr.total, prev("total", "projects")),
        Headline(_("项目预算执行率"), pr.budget_execution, prev("budget_execution", "projects"), percent=True),
        Headline(_("服务满意度（1–5 分）"), pr.satisfaction, prev("satisfaction", "projects")),
    ]

    members = _breakdown_section(
        "members",
        _("会员"),
        [
            (
                _("会员增减"),
                [
                    [_("期末会员数"), m.total],
                    [_("新入会（含转入）"), m.new],
                    [_("转出"), m.transferred_out],
                    [_("退会（含退休、去世）"), m.left],
                    [_("净增长"), m.growth],
                    [_("农民工会员"), m.migrant],
                    [_("新就业形态劳动者"), m.new_employment_forms],
                ],
            ),
            (_("就业形态（期末在册）"), _pairs(m.by_employment_form)),
            (_("荣誉（在册会员所获）"), _pairs(m.honours)),
        ],
        chart=_chart_of(_("在册会员的就业形态"), [(label, n) for _v, label, n in m.by_employment_form], kind="pie"),
    )
    child_rows = []
    for k in f.children:
        child_rows.append(
            [
                k.organization.name,
                k.organization.get_kind_display(),
                k.members.total,
                k.members.new,
                k.members.transferred_out + k.members.left,
                k.members.growth,
                k.coverage.formation_rate,
                k.coverage.membership_rate,
                k.aid.on_register,
                k.aid.paid,
                k.disputes.received,
                k.disputes.on_time_rate,
                k.projects.total,
            ]
        )
    top = sorted(f.children, key=lambda k: -k.members.total)[:10]
    children = Section(
        key="children",
        title=_("下级组织"),
        header=[
            _("组织"),
            _("类型"),
            _("期末会员"),
            _("新入会"),
            _("转出及退会"),
            _("净增长"),
            _("建会率"),
            _("入会率"),
            _("在档困难职工"),
            _("帮扶支出（元）"),
            _("受理调解案件"),
            _("按期办结率"),
            _("服务项目"),
        ],
        rows=child_rows,
        widths={"A": 36, "B": 16},
        percent_columns=(6, 7, 11),
        pdf_columns=(0, 2, 3, 5, 7, 9, 10),
        chart=Chart(
            _("期末会员数最多的下级组织"),
            [k.organization.short_name or k.organization.name for k in top],
            [(_("期末会员"), [k.members.total for k in top])],
        )
        if top
        else None,
    )
    aid = _breakdown_section(
        "aid",
        _("困难帮扶"),
        [
            (
                _("资金"),
                [
                    [_("帮扶资金支出（元）"), a.paid],
                    [_("年度帮扶预算（元）"), a.budget],
                    [_("年度预算已支出（元）"), a.budget_spent],
                ],
            ),
            (_("本期新建档案（按档次）"), _pairs(a.by_tier)),
            (_("本期新建档案（按当前状态）"), _pairs(a.by_status)),
            (_("在档困难职工（按档次）"), _pairs(a.register_by_tier)),
        ],
        chart=_chart_of(_("在档困难职工（按档次）"), [(label, n) for _v, label, n in a.register_by_tier]),
    )
    disputes = _breakdown_section(
        "disputes",
        _("劳动争议调解"),
        [
            (
                _("办理"),
                [
                    [_("受理调解案件"), d.received],
                    [_("集体争议"), d.collective],
                    [_("办结调解案件"), d.closed],
                    [_("按期办结（15 日内）"), d.on_time],
                ],
            ),
            (_("按争议类型"), _pairs(d.by_kind)),
            (_("按当前状态"), _pairs(d.by_status)),
            (_("按结果"), _pairs(d.by_outcome)),
        ],
        chart=_chart_of(_("调解案件按争议类型"), [(label, n) for _v, label, n in d.by_kind]),
    )
    projects = _breakdown_section(
        "projects",
        _("服务项目"),
        [
            (
                _("预算"),
                [
                    [_("服务项目数"), pr.total],
                    [_("计划预算（元）"), pr.planned],
                    [_("已支出（元）"), pr.spent],
                    [_("满意度评价数"), pr.ratings],
                ],
            ),
            (_("按阶段"), _pairs(pr.by_stage)),
        ],
        chart=_chart_of(_("服务项目按阶段"), [(label, n) for _v, label, n in pr.by_stage]),
    )
    trend = Section(
        key="trend",
        title=_("近12个月趋势"),
        header=[
            _("月份"),
            _("月末会员"),
            _("新入会"),
            _("转出及退会"),
            _("帮扶支出（元）"),
            _("受理案件"),
            _("办结案件"),
        ],
        rows=[
            [f"{t.month:%Y-%m}", t.members, t.new, t.left, t.aid_paid, t.cases_received, t.cases_closed]
            for t in f.trend
        ],
        widths={"A": 12},
        chart=Chart(
            _("近12个月月末会员数"),
            [f"{t.month:%y-%m}" for t in f.trend],
            [(_("月末会员"), [t.members for t in f.trend])],
        )
        if f.trend
        else None,
    )
    sections = [members, children, aid, disputes, projects, trend]
    for source in SECTION_SOURCES:
        more_headlines, more_sections = source(reader, organization, period)
        headlines += more_headlines
        sections += more_sections
    return ReportData(
        organization=organization,
        period=period,
        headlines=headlines,
        sections=sections,
        as_of=f.as_of or timezone.now(),
    )
