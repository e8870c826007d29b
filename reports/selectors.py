"""Scoped reads behind the statistics reports. Every read starts from
`…for_user(user, REPORT_VIEW)`: a report reads where the user's roles grant report.view.

Costs at city scale (10M members): subtree totals, rates and counts of enterprises come
from organizations.CoverageSummary (one row per unit, no COUNT over the subtree). What a
summary cannot answer — joins and leavings within a month, the roll at a past date, the
mix of employment forms — is one grouped pass over the subtree's rows, scoped by the
indexed copied path; a monthly report is a batch job, so one pass per question is fine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from core.roles import REPORT_VIEW
from members.models import Member, Membership
from organizations.models import CoverageSummary, Organization
from organizations.selectors import organization_children, organizations_for_user

MS = Membership.Status
# Statuses that ended a membership: the person left this union (elsewhere or altogether).
ENDED = (MS.TRANSFERRED_OUT, MS.LEFT, MS.RETIRED, MS.DECEASED)


@dataclass
class Flow:
    """Memberships of one unit over a month: the roll at both ends and the moves in between."""

    at_start: int = 0
    at_end: int = 0
    joined: int = 0
    transferred_out: int = 0
    left: int = 0  # left, retired or deceased

    @property
    def growth(self) -> int:
        return self.at_end - self.at_start

    def add(self, other: Flow) -> None:
        self.at_start += other.at_start
        self.at_end += other.at_end
        self.joined += other.joined
        self.transferred_out += other.transferred_out
        self.left += other.left


@dataclass
class Unit:
    """A row of the report: the organisation itself (its own members) or one of its children."""

    organization: Organization
    coverage: CoverageSummary | None
    flow: Flow = field(default_factory=Flow)
    own: bool = False  # members held directly by the reported organisation, not a child


def report_units(user, org: Organization) -> list[Unit]:
    """The organisation's active children in the user's reach, each with its coverage summary."""
    return [
        Unit(organization=c, coverage=getattr(c, "coverage", None))
        for c in organization_children(user, org, capability=REPORT_VIEW)
    ]


def coverage_of(user, org: Organization) -> CoverageSummary | None:
    return CoverageSummary.objects.filter(
        organization__in=organizations_for_user(user, REPORT_VIEW).filter(pk=org.pk)
    ).first()


def _memberships(user, org: Organization) -> QuerySet[Membership]:
    return Membership.objects.for_user(user, REPORT_VIEW).under(org.path).exclude(status=MS.APPLIED)


def membership_flows(user, org: Organization, start: dt.date, end: dt.date) -> dict[str, Flow]:
    """{unit path: Flow} for `start`..`end` (inclusive), one grouped pass over the subtree's memberships.

    The unit of a membership is the child of `org` its union lies under (the first
    `org.depth + 1` path steps); memberships held by `org` itself group under org.path.
    A membership counts on a day when it had begun and not yet ended (ended_on is the
    first day without it), so a transfer moves a person between units without a gap.
    """
    width = len(org.path) + Organization.steplen
    alive_end = Q(joined_on__lte=end) & (Q(ended_on__isnull=True) | Q(ended_on__gt=end))
    alive_start = Q(joined_on__lt=start) & (Q(ended_on__isnull=True) | Q(ended_on__gte=start))
    ended_in = Q(ended_on__gte=start, ended_on__lte=end)
    rows = (
        _memberships(user, org)
        .filter(Q(joined_on__lte=end))
        .annotate(unit=Substr("org_path", 1, width))
        .order_by()
        .values("unit")
        .annotate(
            at_start=Count("id", filter=alive_start),
            at_end=Count("id", filter=alive_end),
            joined=Count("id", filter=Q(joined_on__gte=start)),
            transferred_out=Count("id", filter=ended_in & Q(status=MS.TRANSFERRED_OUT)),
            left=Count("id", filter=ended_in & Q(status__in=[MS.LEFT, MS.RETIRED, MS.DECEASED])),
        )
    )
    return {
        r["unit"]: Flow(
            at_start=r["at_start"],
            at_end=r["at_end"],
            joined=r["joined"],
            transferred_out=r["transferred_out"],
            left=r["left"],
        )
        for r in rows
    }


def active_members_by_employment_form(user, org: Organization) -> dict[str, int]:
    """{employment form: members} of the people whose current membership is active in the subtree."""
    rows = (
        Member.objects.for_user(user, REPORT_VIEW)
        .under(org.path)
        .filter(current_membership__status=MS.ACTIVE)
        .order_by()
        .values("employment_form")
        .annotate(n=Count("id"))
    )
    return {r["employment_form"]: r["n"] for r in rows}


def joined_by_employment_form(user, org: Organization, start: dt.date, end: dt.date) -> dict[str, int]:
    """{employment form: memberships begun in the period} in the subtree (new members and transfers in)."""
    rows = (
        _memberships(user, org)
        .filter(joined_on__gte=start, joined_on__lte=end)
        .order_by()
        .values("member__employment_form")
        .annotate(n=Count("id"))
    )
    return {r["member__employment_form"]: r["n"] for r in rows}


# --- statistics (reports.statistics) ------------------------------------------------------------


def report_children(user, org: Organization) -> QuerySet[Organization]:
    """The organisation's active children in the user's report.view reach, in tree order."""
    return (
        organizations_for_user(user, REPORT_VIEW)
        .filter(path__startswith=org.path, depth=org.depth + 1, status=Organization.Status.ACTIVE)
        .order_by("path")
        .only("pk", "name", "path", "depth", "kind")
    )


def summary_rows(
    user, org: Organization, own_months: list[dt.date], kids: list[Organization], kid_months: list[dt.date]
):
    """({org id: {month: data}}, as_of) from the summary rows: the organisation's months and its
    children's (usually fewer: the period only), in one query.

    `as_of`: every change committed before it is in the figures: the oldest row's count, or
    the last dirty-mark run that consumed every mark, whichever is later (a row untouched
    since the full refresh had nothing to recount)."""
    from .models import MonthlyFigures, StatisticsRefresh

    rows: dict[int, dict[dt.date, dict]] = {o.pk: {} for o in (org, *kids)}
    wanted = Q(organization_id=org.pk, month__in=own_months)
    if kids and kid_months:
        wanted |= Q(organization_id__in=[k.pk for k in kids], month__in=kid_months)
    as_of = None
    for oid, month, data, computed_at in (
        MonthlyFigures.objects.for_user(user, REPORT_VIEW)
        .filter(wanted)
        .values_list("organization_id", "month", "data", "computed_at")
    ):
        rows[oid][month] = data
        as_of = computed_at if as_of is None or computed_at < as_of else as_of
    state = StatisticsRefresh.objects.filter(pk=1).values_list("finished_at", "followed_at").first()
    if state is not None:
        finished, followed = state
        if as_of is None:
            # No row in these months (an empty subtree): the last refresh says how fresh.
            as_of = finished
        if followed is not None and as_of is not None and followed > as_of:
            as_of = followed
    return rows, as_of
