"""The figures of subtrees by month: one grouping code for the summary refresh and the live count.

`collect(sources, width=…, first=…, last=…)` groups every source table by *unit* (the first
`width` characters of the copied organisation path) and month, and returns
{unit path: {month: {metric: value}}}; values are integers (money in fen). A row's metric
keys (METRICS below) are of three kinds:

- flows (joined, left, files opened, money paid, cases received…): what happened in
  the month; a period sums its months;
- stocks (members at the month's end, by employment form, honours held, files on the
  register, enterprises): the state at the month's end; a period takes its last month;
- yearly figures (aid budget, projects of the year by stage and their budget lines):
  the same in every month of a year; a period takes its last month.

Stocks come from cumulative flows: everything before the window falls into one
"before" bucket (the month before the first), so no month of history is lost and no
row per historic month is read.

The summary refresh (`statistics_refresh`) runs `collect` over the whole city grouped by
the third tree level, adds each unit's figures into every ancestor, and writes one
MonthlyFigures row per (organisation of the first three levels, month). Two grouped
passes over the membership table and one over each smaller table; no per-organisation
query.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from assistance.models import ACTIVE_STATUSES, Budget, HardshipFile, LedgerEntry, LedgerKind
from disputes.models import Case as DisputeCase
from members.models import Honour, Membership
from organizations.models import CoverageSummary, Organization
from projects.models import BudgetLine, Project, Rating

from .models import MonthlyFigures, StatisticsRefresh

MS = Membership.Status
STEP = Organization.steplen
# Organisations of the first SUMMARY_DEPTH levels have summary rows; deeper ones are counted live.
SUMMARY_DEPTH = 3
# Months kept in the summary: from January of the year two years back (a year's report
# compares with the year before; the trend shows twelve months).
HISTORY_YEARS = 2
# A case closed within this many days of its receipt counts as on time (劳动争议调解仲裁法 art. 14).
ON_TIME_DAYS = 15

STOCK_PREFIXES = ("m.total", "m.form.", "m.migrant", "h.held", "a.reg", "c.")
YEAR_PREFIXES = ("a.budget", "a.spent", "p.")
# Rating sums are flows even though they start with "p.".
FLOW_OVERRIDES = ("p.ratings", "p.rating_sum")


def kind_of(key: str) -> str:
    """ "flow", "stock" or "year" (how a period combines its months)."""
    if key in FLOW_OVERRIDES:
        return "flow"
    if key.startswith(STOCK_PREFIXES):
        return "stock"
    if key.startswith(YEAR_PREFIXES):
        return "year"
    return "flow"


def first_month(today: dt.date) -> dt.date:
    """The first month the summary holds."""
    return dt.date(today.year - HISTORY_YEARS, 1, 1)


def month_add(month: dt.date, n: int) -> dt.date:
    k = month.year * 12 + month.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = month_add(m, 1)
    return out


def fen(amount) -> int:
    """Yuan (Decimal or None) to integer fen."""
    return int((Decimal(amount or 0) * 100).to_integral_value())


@dataclass
class Sources:
    """The querysets the figures are counted from (scoped for a live count, whole tables for the refresh)."""

    memberships: QuerySet
    honours: QuerySet
    files: QuerySet
    ledger: QuerySet
    budgets: QuerySet
    cases: QuerySet
    projects: QuerySet
    budget_lines: QuerySet
    ratings: QuerySet
    coverage: QuerySet | None = None

    @classmethod
    def everything(cls) -> Sources:
        return cls(
            memberships=Membership.objects.all(),
            honours=Honour.objects.all(),
            files=HardshipFile.objects.all(),
            ledger=LedgerEntry.objects.all(),
            budgets=Budget.objects.all(),
            cases=DisputeCase.objects.all(),
            projects=Project.objects.all(),
            budget_lines=BudgetLine.objects.all(),
            ratings=Rating.objects.all(),
            coverage=CoverageSummary.objects.all(),
        )


def _bucket(field: str, first: dt.date, *, datetime: bool = False):
    """The month of `field`, or the month before `first` for anything earlier (one "before" bucket)."""
    before = month_add(first, -1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=timezone.get_current_timezone()) if datetime else first
    month = TruncMonth(field, output_field=DateField()) if datetime else TruncMonth(field)
    return Case(When(**{f"{field}__lt": start}, then=Value(before)), default=month, output_field=DateField())


def _as_date(value) -> dt.date:
    if type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):  # SQLite may hand back text
        return dt.date.fromisoformat(value[:10])
    return value


class _Acc:
    """{unit: {month: {key: value}}} with flows put in their month; stocks derived at the end."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[dt.date, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        # Changes of stocks per month, accumulated into the stocks by `finish`.
        self.deltas: dict[str, dict[dt.date, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )
        self.yearly: dict[str, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))

    def flow(self, unit, month, key, n):
        if n:
            self.rows[unit][_as_date(month)][key] += n

    def delta(self, unit, month, key, n):
        if n:
            self.deltas[unit][_as_date(month)][key] += n

    def year(self, unit, year, key, n):
        if n:
            self.yearly[unit][int(year)][key] += n

    def finish(self, months: list[dt.date]) -> dict[str, dict[dt.date, dict[str, int]]]:
        out: dict[str, dict[dt.date, dict[str, int]]] = {}
        units = set(self.rows) | set(self.deltas) | set(self.yearly)
        for unit in units:
            deltas = self.deltas.get(unit, {})
            running: dict[str, int] = defaultdict(int)
            for month in sorted(m for m in deltas if m < months[0]):
                for k, v in deltas[month].items():
                    running[k] += v
            per_month = {}
            for month in months:
                for k, v in deltas.get(month, {}).items():
                    running[k] += v
                row = dict(self.rows.get(unit, {}).get(month, {}))
                row.update({k: v for k, v in running.items() if v})
                row.update(self.yearly.get(unit, {}).get(month.year, {}))
                per_month[month] = row
            out[unit] = per_month
        return out


def collect(
    sources: Sources, *, width: int, first: dt.date, last: dt.date, today: dt.date | None = None
) -> dict[str, dict[dt.date, dict[str, int]]]:
    """{unit path: {month: {metric: value}}} for the months first..last (see the module's text)."""
    today = today or timezone.localdate()
    months = months_between(first, last)
    acc = _Acc()
    unit = Substr("org_path", 1, width, output_field=CharField())

    # Members: joins and ends by unit, month, employment form and migrant flag.
    alive = sources.memberships.exclude(status=MS.APPLIED).filter(joined_on__lte=today)
    joined = (
        alive.annotate(u=unit, b=_bucket("joined_on", first))
        .order_by()
        .values("u", "b", "member__employment_form", "member__is_migrant_worker")
        .annotate(n=Count("id"))
    )
    for r in joined:
        u, b, n = r["u"], r["b"], r["n"]
        acc.flow(u, b, "m.joined", n)
        acc.delta(u, b, "m.total", n)
        acc.delta(u, b, f"m.form.{r['member__employment_form']}", n)
        if r["member__is_migrant_worker"]:
            acc.delta(u, b, "m.migrant", n)
    ended = (
        alive.filter(ended_on__isnull=False, ended_on__lte=today)
        .annotate(u=unit, b=_bucket("ended_on", first))
        .order_by()
        .values("u", "b", "status", "member__employment_form", "member__is_migrant_worker")
        .annotate(n=Count("id"))
    )
    for r in ended:
        u, b, n = r["u"], r["b"], r["n"]
        acc.flow(u, b, "m.out" if r["status"] == MS.TRANSFERRED_OUT else "m.left", n)
        acc.delta(u, b, "m.total", -n)
        acc.delta(u, b, f"m.form.{r['member__employment_form']}", -n)
        if r["member__is_migrant_worker"]:
            acc.delta(u, b, "m.migrant", -n)

    # Honours held by the subtree's current members, by the year awarded.
    honours = (
        sources.honours.annotate(u=Substr("member__org_path", 1, width, output_field=CharField()))
        .order_by()
        .values("u", "year", "kind")
        .annotate(n=Count("id"))
    )
    for r in honours:
        year_month = dt.date(r["year"], 1, 1)
        b = year_month if year_month >= first else month_add(first, -1)
        acc.delta(r["u"], b, f"h.held.{r['kind']}", r["n"])
        acc.delta(r["u"], b, "h.held", r["n"])
        if year_month >= first:
            acc.flow(r["u"], b, "h.new", r["n"])

    # Hardship files: opened per month by tier and (current) status; the register as a stock.
    files = (
        sources.files.annotate(u=unit, b=_bucket("created_at", first, datetime=True))
        .order_by()
        .values("u", "b", "tier", "status", "is_emergency")
        .annotate(n=Count("id"))
    )
    for r in files:
        u, b, n = r["u"], r["b"], r["n"]
        acc.flow(u, b, "a.new", n)
        if r["is_emergency"]:  # 意外致困: paid first, reviewed after; flagged in reports
            acc.flow(u, b, "a.emergency", n)
        acc.flow(u, b, f"a.tier.{r['tier'] or 'pending'}", n)
        acc.flow(u, b, f"a.status.{r['status']}", n)
        if r["status"] in ACTIVE_STATUSES:
            acc.delta(u, b, f"a.reg.{r['tier'] or 'pending'}", n)
            acc.delta(u, b, "a.reg", n)
    paid = (
        sources.ledger.filter(kind=LedgerKind.PAID)
        .annotate(u=unit, b=_bucket("at", first, datetime=True))
        .order_by()
        .values("u", "b")
        .annotate(s=Sum("amount"))
    )
    for r in paid:
        acc.flow(r["u"], r["b"], "a.paid", fen(r["s"]))
    years = sorted({m.year for m in months})
    budgets = (
        sources.budgets.filter(year__in=years)
        .annotate(u=unit)
        .order_by()
        .values("u", "year")
        .annotate(amount=Sum("amount"), spent=Sum("spent"))
    )
    for r in budgets:
        acc.year(r["u"], r["year"], "a.budget", fen(r["amount"]))
        acc.year(r["u"], r["year"], "a.spent", fen(r["spent"]))

    # Disputes (the mediation track): received per month by kind, (current) status and outcome.
    cases = sources.cases.filter(track=DisputeCase.Track.MEDIATION)
    received = (
        cases.annotate(u=unit, b=_bucket("received_on", first), failed=Q(failure_reason__gt=""))
        .order_by()
        .values("u", "b", "kind", "status", "is_collective", "failed")
        .annotate(n=Count("id"))
    )
    for r in received:
        u, b, n = r["u"], r["b"], r["n"]
        acc.flow(u, b, "d.received", n)
        acc.flow(u, b, f"d.kind.{r['kind']}", n)
        acc.flow(u, b, f"d.status.{r['status']}", n)
        acc.flow(u, b, f"d.outcome.{case_outcome(r['status'], r['failed'])}", n)
        if r["is_collective"]:
            acc.flow(u, b, "d.collective", n)
    closed = (
        cases.filter(closed_on__isnull=False, closed_on__gte=first)
        .annotate(u=unit)
        .order_by()
        .values("u", "received_on", "closed_on")
        .annotate(n=Count("id"))
    )
    for r in closed:
        days = (_as_date(r["closed_on"]) - _as_date(r["received_on"])).days
        b = _as_date(r["closed_on"]).replace(day=1)
        acc.flow(r["u"], b, "d.closed", r["n"])
        acc.flow(r["u"], b, "d.days", days * r["n"])
        if days <= ON_TIME_DAYS:
            acc.flow(r["u"], b, "d.on_time", r["n"])

    # Projects designed in the subtree, per year, by stage; their budget lines; ratings per month.
    projects = (
        sources.projects.filter(year__in=years)
        .annotate(u=unit)
        .order_by()
        .values("u", "year", "stage")
        .annotate(n=Count("id"))
    )
    for r in projects:
        acc.year(r["u"], r["year"], f"p.stage.{r['stage']}", r["n"])
        acc.year(r["u"], r["year"], "p.total", r["n"])
    lines = (
        sources.budget_lines.filter(project__year__in=years)
        .annotate(u=Substr("project__org_path", 1, width, output_field=CharField()))
        .order_by()
        .values("u", "project__year")
        .annotate(planned=Sum("planned"), spent=Sum("spent"))
    )
    for r in lines:
        acc.year(r["u"], r["project__year"], "p.planned", fen(r["planned"]))
        acc.year(r["u"], r["project__year"], "p.spent", fen(r["spent"]))
    ratings = (
        sources.ratings.filter(created_at__gte=_start(first))
        .annotate(u=unit, b=TruncMonth("created_at", output_field=DateField()))
        .order_by()
        .values("u", "b")
        .annotate(n=Count("id"), s=Sum("score"))
    )
    for r in ratings:
        acc.flow(r["u"], r["b"], "p.ratings", r["n"])
        acc.flow(r["u"], r["b"], "p.rating_sum", r["s"] or 0)
    return acc.finish(months)


def _start(month: dt.date) -> dt.datetime:
    return dt.datetime.combine(month, dt.time.min, tzinfo=timezone.get_current_timezone())


def case_outcome(status: str, failed: bool) -> str:
    """agreed, failed, withdrawn, declined or open, from a case's status."""
    S = DisputeCase.Status
    if status in (S.RECEIVED, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION):
        return "open"
    if status in (S.DECLINED, S.WITHDRAWN, S.FAILED):
        return {S.DECLINED: "declined", S.WITHDRAWN: "withdrawn", S.FAILED: "failed"}[status]
    if status in (S.CLOSED, S.VISITED) and failed:
        return "failed"
    return "agreed"


def roll_up(
    per_unit: dict[str, dict[dt.date, dict[str, int]]], targets: dict[str, int], months: list[dt.date]
) -> dict[str, dict[dt.date, dict[str, int]]]:
    """Add each unit's rows into every target path that is a prefix of it ({path: org id} targets)."""
    out: dict[str, dict[dt.date, dict[str, int]]] = {}
    for unit, rows in per_unit.items():
        for end in range(STEP, len(unit) + 1, STEP):
            prefix = unit[:end]
            if prefix not in targets:
                continue
            into = out.setdefault(prefix, {m: defaultdict(int) for m in months})
            for month, row in rows.items():
                target = into[month]
                for k, v in row.items():
                    target[k] += v
    return out


def coverage_keys(cov: CoverageSummary) -> dict[str, int]:
    return {
        "c.enterprises": cov.enterprises,
        "c.unionized": cov.unionized_enterprises,
        "c.employees": cov.employees,
        "c.members_now": cov.members,
    }


# --- the refresh (a service: called by the Celery task, the command and tests) -------------


def statistics_refresh(*, today: dt.date | None = None, progress: Callable[[str], None] | None = None) -> int:
    """Rebuild the summary rows of every organisation of the first SUMMARY_DEPTH levels; returns the rows written.

    Months from first_month(today) to today's month. Coverage figures (enterprises,
    employees) exist only as of now, so they are written into the current month and kept
    in the past months that already have them (history builds up month by month).
    """
    t0 = time.monotonic()
    now = timezone.now()
    today = today or timezone.localdate()
    first, last = first_month(today), today.replace(day=1)
    months = months_between(first, last)
    say = progress or (lambda _msg: None)
    targets = dict(Organization.objects.filter(depth__lte=SUMMARY_DEPTH).order_by().values_list("path", "pk"))
    StatisticsRefresh.objects.update_or_create(
        pk=1, defaults={"started_at": now, "finished_at": None, "first_month": first}
    )
    per_unit = collect(Sources.everything(), width=SUMMARY_DEPTH * STEP, first=first, last=last, today=today)
    say(f"collected {len(per_unit)} units in {time.monotonic() - t0:.1f}s")
    rolled = roll_up(per_unit, targets, months)
    coverage = {c.organization_id: c for c in CoverageSummary.objects.filter(organization_id__in=targets.values())}
    kept = {
        (oid, m): {k: v for k, v in data.items() if k.startswith("c.")}
        for oid, m, data in MonthlyFigures.objects.filter(month__gte=first, month__lt=last)
        .filter(data__has_key="c.enterprises")
        .values_list("organization_id", "month", "data")
    }
    rows = []
    for path, oid in targets.items():
        per_month = rolled.get(path)
        cov = coverage.get(oid)
        for month in months:
            data = {k: v for k, v in (per_month or {}).get(month, {}).items() if v}
            if month == last and cov is not None:
                data.update(coverage_keys(cov))
            elif (oid, month) in kept:
                data.update(kept[(oid, month)])
            if data:
                rows.append(MonthlyFigures(organization_id=oid, org_path=path, month=month, data=data, computed_at=now))
    rows.sort(key=lambda r: (r.organization_id, r.month))
    with transaction.atomic():
        # Rows of months that fell out of the window; below, rows this run did not rewrite.
        MonthlyFigures.objects.filter(month__lt=first).delete()
        MonthlyFigures.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["organization", "month"],
            update_fields=["org_path", "data", "computed_at"],
        )
        MonthlyFigures.objects.filter(month__gte=first, computed_at__lt=now).delete()
        StatisticsRefresh.objects.filter(pk=1).update(
            finished_at=timezone.now(), rows=len(rows), seconds=round(time.monotonic() - t0, 2)
        )
    if connection.vendor == "postgresql":
        # Fresh planner statistics: with stale ones a city's read scanned every row under its path.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {MonthlyFigures._meta.db_table}")
    say(f"wrote {len(rows)} rows in {time.monotonic() - t0:.1f}s")
    return len(rows)
