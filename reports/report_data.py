"""What a report file holds: headline figures with the previous period, and sections of rows.

The files (reports/files.py) are written from a ReportData and know nothing of where the
figures come from; this module gathers them through the scoped selectors of this app.
Members come from reports.selectors (one grouped pass over the subtree's memberships per
period); formation and membership rates from the coverage summaries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import EmploymentForm
from organizations.models import Organization

from . import selectors
from .periods import Period
from .selectors import Flow


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
                {"label": h.label, "value": h.value, "previous": h.previous, "percent": h.percent}
                for h in self.headlines
            ],
        }


# Figure sources beyond members (aid, disputes, projects…): a callable
# (reader, organization, period) -> (headlines, sections), registered once at start-up.
SECTION_SOURCES: list = []


def register_section_source(source) -> None:
    if source not in SECTION_SOURCES:
        SECTION_SOURCES.append(source)


def _rate(value):
    return value if isinstance(value, float) else None


def gather(reader, organization: Organization, period: Period, *, progress=None) -> ReportData:
    """Every figure of the report of `organization`'s subtree for `period`, read as `reader`.

    `progress(percent, phase)` is called between the passes (each is one grouped query).
    """

    def step(percent, phase):
        if progress:
            progress(percent, phase)

    step(10, "members")
    flows = selectors.membership_flows(reader, organization, period.start, period.end)
    prev = period.previous()
    step(30, "previous")
    prev_flows = selectors.membership_flows(reader, organization, prev.start, prev.end)
    total, prev_total = Flow(), Flow()
    for f in flows.values():
        total.add(f)
    for f in prev_flows.values():
        prev_total.add(f)
    step(50, "units")
    units = selectors.report_units(reader, organization)
    coverage = selectors.coverage_of(reader, organization)
    for unit in units:
        unit.flow = flows.get(unit.organization.path, Flow())
    own = flows.get(organization.path)
    step(60, "forms")
    active = selectors.active_members_by_employment_form(reader, organization)
    joined = selectors.joined_by_employment_form(reader, organization, period.start, period.end)

    headlines = [
        Headline(_("期初会员数"), total.at_start, prev_total.at_start),
        Headline(_("期末会员数"), total.at_end, prev_total.at_end),
        Headline(_("净增长"), total.growth, prev_total.growth),
        Headline(_("入会（含转入）"), total.joined, prev_total.joined),
        Headline(_("转出"), total.transferred_out, prev_total.transferred_out),
        Headline(_("退会（含退休、去世）"), total.left, prev_total.left),
    ]
    if coverage is not None:
        headlines += [
            Headline(_("企业数"), coverage.enterprises),
            Headline(_("已建会企业数"), coverage.unionized_enterprises),
            Headline(_("建会率"), _rate(coverage.formation_rate), percent=True),
            Headline(_("企业职工人数"), coverage.employees),
            Headline(_("入会率"), _rate(coverage.membership_rate), percent=True),
        ]

    unit_rows = []
    if own is not None:
        unit_rows.append(
            [_("%(name)s（本级直属会员）") % {"name": organization.name}, organization.get_kind_display()]
            + [own.at_start, own.at_end, own.growth, own.joined, own.transferred_out, own.left]
            + [None] * 5
        )
    for unit in units:
        o, f, c = unit.organization, unit.flow, unit.coverage
        row = [o.name, o.get_kind_display(), f.at_start, f.at_end, f.growth, f.joined, f.transferred_out, f.left]
        if c is not None:
            row += [
                c.enterprises,
                c.unionized_enterprises,
                _rate(c.formation_rate),
                c.employees,
                _rate(c.membership_rate),
            ]
        else:
            row += [None] * 5
        unit_rows.append(row)
    top = sorted(units, key=lambda u: -u.flow.at_end)[:10]
    children = Section(
        key="children",
        title=_("下级组织"),
        header=[
            _("组织"),
            _("类型"),
            _("期初会员"),
            _("期末会员"),
            _("净增长"),
            _("入会（含转入）"),
            _("转出"),
            _("退会"),
            _("企业数"),
            _("已建会企业"),
            _("建会率"),
            _("职工人数"),
            _("入会率"),
        ],
        rows=unit_rows,
        widths={"A": 36, "B": 16},
        percent_columns=(10, 12),
        pdf_columns=(0, 2, 3, 4, 5, 10, 12),
        chart=Chart(
            _("期末会员数最多的下级组织"),
            [u.organization.short_name or u.organization.name for u in top],
            [(_("期末会员"), [u.flow.at_end for u in top])],
        )
        if top
        else None,
    )
    forms = [
        (str(label), active.get(value, 0), joined.get(value, 0))
        for value, label in EmploymentForm.choices
        if active.get(value) or joined.get(value)
    ]
    members = Section(
        key="members",
        title=_("会员"),
        header=[_("指标"), _("本期"), _("上期"), _("变化")],
        rows=[
            [h.label, h.value, h.previous, (h.value - h.previous) if h.previous is not None else None]
            for h in headlines[:6]
        ],
        widths={"A": 26},
        chart=Chart(
            _("会员增减：本期与上期"),
            [_("入会"), _("转出"), _("退会"), _("净增长")],
            [
                (period.label, [total.joined, total.transferred_out, total.left, total.growth]),
                (prev.label, [prev_total.joined, prev_total.transferred_out, prev_total.left, prev_total.growth]),
            ],
        ),
    )
    employment = Section(
        key="employment",
        title=_("就业形态"),
        header=[_("就业形态"), _("在册会员"), _("本期入会（含转入）")],
        rows=[list(f) for f in forms],
        widths={"A": 18},
        chart=Chart(
            _("在册会员的就业形态"), [f[0] for f in forms], [(_("在册会员"), [f[1] for f in forms])], kind="pie"
        )
        if forms
        else None,
    )
    sections = [members, children, employment]
    for source in SECTION_SOURCES:
        more_headlines, more_sections = source(reader, organization, period)
        headlines += more_headlines
        sections += more_sections
    step(70, "writing")
    return ReportData(
        organization=organization,
        period=period,
        headlines=headlines,
        sections=sections,
        as_of=timezone.now(),
    )
