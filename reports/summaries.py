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

The summary refresh (`statistics_refresh`) runs the same grouping over the whole city by
each row's own organisation and writes one MonthlyFigures row per (organisation, month)
for every organisation of the tree, each the sum of what it holds and its children's
rows: two grouped passes over the membership table and one over each smaller table; no
per-organisation query. Between two full refreshes, `statistics_follow` (every minute)
recounts only the organisations that database triggers marked dirty (reports/marks.py)
and their ancestors.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from assistance.models import ACTIVE_STATUSES, Budget, HardshipFile, LedgerEntry, LedgerKind
from disputes.models import Case as DisputeCase
from members.models import Honour, Membership
from organizations.models import CoverageSummary, Organization
from projects.models import BudgetLine, Project, Rating

from .models import MonthlyFigures, StatisticsMark, StatisticsRefresh

MS = Membership.Status
STEP = Organization.steplen
# Grouped rows fetched at a time: a city grouped by organisation is millions of rows, never all in memory.
CHUNK = 20_000
# Wider than any path: grouping by the first PATH_WIDTH characters groups by the row's own organisation.
PATH_WIDTH = 255
# Months kept in the summary: from January of the year two years back (a year's report
# compares with the year before; the trend shows twelve months).
HISTORY_YEARS = 2
# A case closed within this many days of its receipt counts as on time (劳动争议调解仲裁法 art. 14).
ON_TIME_DAYS = 15

STOCK_PREFIXES = ("m.total", "m.form.", "m.migrant", "h.held", "a.reg", "c.")
YEAR_PREFIXES = ("a.budget", "a.spent", "p.")
# Rating sums are flows even though they start with "p.".
FLOW_OVERRIDES = ("p.ratings", "p.rating_sum")


@lru_cache(maxsize=1024)  # a few hundred metric keys; a city's dashboard asks ~1,700 times
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

    @classmethod
    def held_by(cls, path: str) -> Sources:
        """The rows held by the organisation at `path` itself (not its descendants)."""
        return cls(
            memberships=Membership.objects.filter(org_path=path),
            honours=Honour.objects.filter(member__org_path=path),
            files=HardshipFile.objects.filter(org_path=path),
            ledger=LedgerEntry.objects.filter(org_path=path),
            budgets=Budget.objects.filter(org_path=path),
            cases=DisputeCase.objects.filter(org_path=path),
            projects=Project.objects.filter(org_path=path),
            budget_lines=BudgetLine.objects.filter(project__org_path=path),
            ratings=Rating.objects.filter(org_path=path),
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

    def units(self) -> set[str]:
        return set(self.rows) | set(self.deltas) | set(self.yearly)

    def unit_rows(self, unit: str, months: list[dt.date]) -> dict[dt.date, dict[str, int]]:
        """{month: {key: value}} of one unit (stocks accumulated from the deltas)."""
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
        return per_month

    def drop(self, unit: str) -> None:
        """Forget a unit once its rows are written (a city's units do not all fit in memory as rows)."""
        self.rows.pop(unit, None)
        self.deltas.pop(unit, None)
        self.yearly.pop(unit, None)

    def finish(self, months: list[dt.date]) -> dict[str, dict[dt.date, dict[str, int]]]:
        return {unit: self.unit_rows(unit, months) for unit in self.units()}


def collect(
    sources: Sources, *, width: int, first: dt.date, last: dt.date, today: dt.date | None = None
) -> dict[str, dict[dt.date, dict[str, int]]]:
    """{unit path: {month: {metric: value}}} for the months first..last (see the module's text)."""
    return accumulate(sources, width=width, first=first, last=last, today=today).finish(months_between(first, last))


def accumulate(sources: Sources, *, width: int, first: dt.date, last: dt.date, today: dt.date | None = None) -> _Acc:
    """What `collect` counts, before the per-month rows are built (`_Acc.unit_rows` builds them unit by unit)."""
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
    for r in joined.iterator(chunk_size=CHUNK):
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
    for r in ended.iterator(chunk_size=CHUNK):
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
    for r in honours.iterator(chunk_size=CHUNK):
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
    for r in files.iterator(chunk_size=CHUNK):
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
    for r in paid.iterator(chunk_size=CHUNK):
        acc.flow(r["u"], r["b"], "a.paid", fen(r["s"]))
    years = sorted({m.year for m in months})
    budgets = (
        sources.budgets.filter(year__in=years)
        .annotate(u=unit)
        .order_by()
        .values("u", "year")
        .annotate(amount=Sum("amount"), spent=Sum("spent"))
    )
    for r in budgets.iterator(chunk_size=CHUNK):
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
    for r in received.iterator(chunk_size=CHUNK):
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
    for r in closed.iterator(chunk_size=CHUNK):
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
    for r in projects.iterator(chunk_size=CHUNK):
        acc.year(r["u"], r["year"], f"p.stage.{r['stage']}", r["n"])
        acc.year(r["u"], r["year"], "p.total", r["n"])
    lines = (
        sources.budget_lines.filter(project__year__in=years)
        .annotate(u=Substr("project__org_path", 1, width, output_field=CharField()))
        .order_by()
        .values("u", "project__year")
        .annotate(planned=Sum("planned"), spent=Sum("spent"))
    )
    for r in lines.iterator(chunk_size=CHUNK):
        acc.year(r["u"], r["project__year"], "p.planned", fen(r["planned"]))
        acc.year(r["u"], r["project__year"], "p.spent", fen(r["spent"]))
    ratings = (
        sources.ratings.filter(created_at__gte=_start(first))
        .annotate(u=unit, b=TruncMonth("created_at", output_field=DateField()))
        .order_by()
        .values("u", "b")
        .annotate(n=Count("id"), s=Sum("score"))
    )
    for r in ratings.iterator(chunk_size=CHUNK):
        acc.flow(r["u"], r["b"], "p.ratings", r["n"])
        acc.flow(r["u"], r["b"], "p.rating_sum", r["s"] or 0)
    return acc


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


def coverage_keys(cov: CoverageSummary) -> dict[str, int]:
    return {
        "c.enterprises": cov.enterprises,
        "c.unionized": cov.unionized_enterprises,
        "c.employees": cov.employees,
        "c.members_now": cov.members,
    }


# --- the refresh (services: called by the Celery tasks, the command and tests) ----------------


def _add(into: dict[str, int], row: dict[str, int]) -> None:
    """Add a child's figures into its parent's (coverage keys are each organisation's own)."""
    for k, v in row.items():
        if not k.startswith("c."):
            into[k] = into.get(k, 0) + v


class _Writer:
    """Summary rows written in batches: COPY on PostgreSQL (a city has millions), bulk_create elsewhere."""

    BATCH = 20_000

    def __init__(self, computed_at: dt.datetime) -> None:
        self.computed_at = computed_at
        self.batch: list[tuple[int, str, dt.date, dict]] = []
        self.written = 0

    def add(self, oid: int, path: str, month: dt.date, data: dict) -> None:
        self.batch.append((oid, path, month, data))
        if len(self.batch) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        if connection.vendor == "postgresql":
            at = self.computed_at.isoformat()
            text = "".join(
                f"{oid}\t{path}\t{month.isoformat()}\t{json.dumps(data, separators=(',', ':')).replace(chr(92), chr(92) * 2)}\t{at}\n"
                for oid, path, month, data in self.batch
            )
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(
                    f"COPY {MonthlyFigures._meta.db_table} (organization_id, org_path, month, data, computed_at) "
                    "FROM STDIN",
                    io.StringIO(text),
                )
        else:
            MonthlyFigures.objects.bulk_create(
                [
                    MonthlyFigures(
                        organization_id=oid, org_path=path, month=month, data=data, computed_at=self.computed_at
                    )
                    for oid, path, month, data in self.batch
                ],
                batch_size=2000,
            )
        self.written += len(self.batch)
        self.batch = []


def _kept_coverage(first: dt.date, last: dt.date, org_ids=None) -> dict[tuple[int, dt.date], dict[str, int]]:
    """The coverage keys of past months' rows: enterprises and employees exist only as of a refresh, so
    each month keeps what its last refresh saw."""
    rows = MonthlyFigures.objects.filter(month__gte=first, month__lt=last, data__has_key="c.enterprises")
    if org_ids is not None:
        rows = rows.filter(organization_id__in=org_ids)
    return {
        (oid, month): {k: v for k, v in data.items() if k.startswith("c.")}
        for oid, month, data in rows.values_list("organization_id", "month", "data").iterator(chunk_size=5000)
    }


def _lock_refresh(*, wait: bool) -> StatisticsRefresh | None:
    """The refresh record, locked for this transaction: one refresh (full or dirty-mark) writes at a time."""
    qs = StatisticsRefresh.objects.select_for_update(skip_locked=not wait).filter(pk=1)
    return qs.first()


def statistics_refresh(*, today: dt.date | None = None, progress: Callable[[str], None] | None = None) -> int:
    """Rebuild the summary rows of every organisation and month of the window; returns the rows written.

    One pass of `accumulate` over every source table grouped by the rows' own organisation,
    then the tree in post-order (paths in descending order put children before their
    parent): each organisation's row is what it holds itself plus its children's rows, so
    no row is added into more than its parent. Months from first_month(today) to today's
    month. Coverage figures (enterprises, employees) exist only as of now, so they are
    written into the current month and kept in the past months that already have them.
    The dirty-mark task waits while this runs (the refresh record's row lock) and its
    marks are kept: a change made while the city was being counted is recounted after.
    """
    t0 = time.monotonic()
    now = timezone.now()
    today = today or timezone.localdate()
    first, last = first_month(today), today.replace(day=1)
    months = months_between(first, last)
    say = progress or (lambda _msg: None)
    StatisticsRefresh.objects.update_or_create(
        pk=1, defaults={"started_at": now, "finished_at": None, "first_month": first}
    )
    with transaction.atomic():
        _lock_refresh(wait=True)
        acc = accumulate(Sources.everything(), width=PATH_WIDTH, first=first, last=last, today=today)
        say(f"counted {len(acc.units())} organisations' own rows in {time.monotonic() - t0:.1f}s")
        coverage = {c.organization_id: coverage_keys(c) for c in CoverageSummary.objects.all()}
        kept = _kept_coverage(first, last)
        # Rows are replaced wholesale: readers keep seeing the old ones until this commits.
        MonthlyFigures.objects.all().delete()
        writer = _Writer(now)
        pending: dict[str, dict[dt.date, dict[str, int]]] = {}
        orgs = Organization.objects.order_by("-path").values_list("path", "pk")
        for path, oid in orgs.iterator(chunk_size=5000):
            rows = acc.unit_rows(path, months)
            acc.drop(path)
            for month, kid_row in (pending.pop(path, None) or {}).items():
                _add(rows[month], kid_row)
            parent = path[:-STEP]
            if parent:
                into = pending.setdefault(parent, {m: {} for m in months})
                for month in months:
                    _add(into[month], rows[month])
            for month in months:
                data = {k: v for k, v in rows[month].items() if v}
                if month == last and oid in coverage:
                    data.update(coverage[oid])
                elif (oid, month) in kept:
                    data.update(kept[(oid, month)])
                if data:
                    writer.add(oid, path, month, data)
        writer.flush()
        StatisticsRefresh.objects.filter(pk=1).update(
            finished_at=timezone.now(), rows=writer.written, seconds=round(time.monotonic() - t0, 2)
        )
    if connection.vendor == "postgresql":
        # Fresh planner statistics: with stale ones a city's read scanned every row under its path.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {MonthlyFigures._meta.db_table}")
    say(f"wrote {writer.written} rows in {time.monotonic() - t0:.1f}s")
    return writer.written


def statistics_follow(
    *, today: dt.date | None = None, limit: int = 5000, progress: Callable[[str], None] | None = None
) -> int:
    """Recount the organisations whose figures changed (their dirty marks) and their ancestors; returns how many.

    For each marked (path, month): the organisation at the path and every ancestor is
    recounted from the earliest marked month in its subtree to this month, deepest first:
    its own rows (one small grouped pass per source table, filtered by its exact path)
    plus its children's summary rows (already recounted when they were marked). Marks are
    read before anything is counted and deleted only if unchanged (same version), so a
    change committed after they were read, marked again or for the first time, is
    recounted by the next run. Nothing happens while a full refresh runs, before the first
    one, or when the window has moved to a new year (the full refresh is due then);
    the marks wait. `followed_at` moves to this run's start when it consumed every mark.
    """
    started = timezone.now()
    today = today or timezone.localdate()
    first, last = first_month(today), today.replace(day=1)
    say = progress or (lambda _msg: None)
    with transaction.atomic():
        state = _lock_refresh(wait=False)
        if state is None or state.finished_at is None or state.first_month != first:
            return 0
        marks = list(StatisticsMark.objects.order_by("id").values_list("id", "org_path", "month", "version")[:limit])
        say(f"read {len(marks)} marks")
        starts: dict[str, dt.date] = {}
        for _id, path, month, _version in marks:
            month = max(first, month.replace(day=1))
            if month > last:
                month = last
            for end in range(STEP, len(path) + 1, STEP):
                starts[path[:end]] = min(starts.get(path[:end], month), month)
        orgs = dict(Organization.objects.filter(path__in=list(starts)).values_list("path", "pk"))
        coverage = {
            c.organization_id: coverage_keys(c)
            for c in CoverageSummary.objects.filter(organization_id__in=orgs.values())
        }
        kept = _kept_coverage(first, last, org_ids=list(orgs.values()))
        writer = _Writer(started)
        for path in sorted(orgs, reverse=True):
            oid, start = orgs[path], starts[path]
            months = months_between(start, last)
            rows = accumulate(Sources.held_by(path), width=PATH_WIDTH, first=start, last=last, today=today).unit_rows(
                path, months
            )
            kids = Organization.objects.filter(path__startswith=path, depth=len(path) // STEP + 1).values("pk")
            for month, data in MonthlyFigures.objects.filter(organization_id__in=kids, month__gte=start).values_list(
                "month", "data"
            ):
                _add(rows[month], data)
            MonthlyFigures.objects.filter(organization_id=oid, month__gte=start).delete()
            for month in months:
                data = {k: v for k, v in rows[month].items() if v}
                if month == last and oid in coverage:
                    data.update(coverage[oid])
                elif (oid, month) in kept:
                    data.update(kept[(oid, month)])
                if data:
                    writer.add(oid, path, month, data)
            writer.flush()  # the parent reads these rows next
        for i in range(0, len(marks), 500):
            unchanged = Q()
            for mark_id, _path, _month, version in marks[i : i + 500]:
                unchanged |= Q(id=mark_id, version=version)
            StatisticsMark.objects.filter(unchanged).delete()
        if len(marks) < limit:
            StatisticsRefresh.objects.filter(pk=1).update(followed_at=started)
    say(f"recounted {len(orgs)} organisations")
    return len(orgs)
