"""The district overview's per-body figures (BodySummary), kept current.

Design (issue 12: the overview read every case of a district, 0.7 s at 10M members):
- `refresh(body_ids)` rewrites the summary rows of those bodies from their cases. It runs
  inside the transaction of every case or clock-event save (post_save receivers wired in
  apps.ready), after taking the summary rows' locks in body order. Two writers on one
  body queue on that lock; the second one's aggregate is a new statement, so under READ
  COMMITTED it sees the first one's committed rows as well as its own: the last writer
  always leaves figures that count every committed case. A rollback takes the rewrite
  with it.
- `refresh_all()` (Celery, every hour, and the bench generator after its bulk load)
  rewrites every body: "overdue" changes with the date alone, without any write.
- The overview (selectors.district_overview) adds up the rows of the user's subtree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from . import clock
from .models import OPEN_STATES, BodySummary, Case, MediationBody

AGREED_STATES = ("agreed", "confirming", "fulfilled")
CLOSED_STATES = ("closed", "visited")
BATCH = 500


def _days(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.timedelta):
        return value.days
    return int(value) // 86_400_000_000  # SQLite returns microseconds without an output conversion


def _figures(ids: list[int], today: dt.date) -> dict[int, dict]:
    from .selectors import clocks_for

    out: dict[int, dict] = {
        i: {
            "total": 0,
            "open": 0,
            "collective_open": 0,
            "agreed": 0,
            "failed": 0,
            "overdue": 0,
            "closed_count": 0,
            "closed_days": 0,
            "by_kind": {},
        }
        for i in ids
    }
    cases = Case.objects.filter(body_id__in=ids)
    for row in cases.values("body_id").annotate(
        total=Count("id"),
        open=Count("id", filter=Q(status__in=OPEN_STATES)),
        collective_open=Count("id", filter=Q(is_collective=True, status__in=OPEN_STATES)),
        # A failed case is closed too: it counts as failed, never as agreed.
        agreed=Count("id", filter=Q(status__in=AGREED_STATES) | Q(status__in=CLOSED_STATES, failure_reason="")),
        failed=Count("id", filter=Q(status="failed") | Q(status__in=CLOSED_STATES, failure_reason__gt="")),
        closed_count=Count("id", filter=Q(closed_on__isnull=False)),
        closed_days=Sum(
            ExpressionWrapper(F("closed_on") - F("received_on"), output_field=DurationField()),
            filter=Q(closed_on__isnull=False),
        ),
    ):
        fig = out[row.pop("body_id")]
        row["closed_days"] = _days(row["closed_days"])
        fig.update(row)
    for body_id, kind, n in (
        cases.values_list("body_id", "kind").annotate(n=Count("id")).values_list("body_id", "kind", "n")
    ):
        out[body_id]["by_kind"][kind] = n
    # Only a case received more than 15 days ago, or with a court date already past, can be
    # overdue (pauses, extensions and art. 203 only move the end later): the clock is
    # derived for those few, not for every open case.
    candidates = list(
        cases.filter(status__in=OPEN_STATES)
        .filter(Q(received_on__lt=today - dt.timedelta(days=clock.MEDIATION_DAYS)) | Q(court_return_deadline__lt=today))
        .only("pk", "body_id", "status", "court_return_deadline")
    )
    body_of = {c.pk: c.body_id for c in candidates}
    overdue: dict[int, int] = defaultdict(int)
    for pk, state in clocks_for(candidates, today=today).items():
        if state is not None and state.overdue:
            overdue[body_of[pk]] += 1
    for body_id, n in overdue.items():
        out[body_id]["overdue"] = n
    return out


FIELDS = [
    "org_path",
    "total",
    "open",
    "collective_open",
    "agreed",
    "failed",
    "overdue",
    "closed_count",
    "closed_days",
    "by_kind",
    "overdue_as_of",
    "refreshed_at",
]


@transaction.atomic
def refresh(body_ids, *, today: dt.date | None = None) -> int:
    """Rewrite the summary rows of `body_ids` from their cases (see the module docstring)."""
    ids = sorted({int(i) for i in body_ids if i is not None})
    if not ids:
        return 0
    today = today or clock.today()
    paths = dict(MediationBody.objects.filter(pk__in=ids).values_list("pk", "org_path"))
    ids = [i for i in ids if i in paths]
    BodySummary.objects.bulk_create(
        [BodySummary(body_id=i, org_path=paths[i]) for i in ids], ignore_conflicts=True, batch_size=BATCH
    )
    # The lock, in body order (two refreshes of overlapping bodies never wait on each other in a cycle).
    rows = list(BodySummary.objects.select_for_update().filter(body_id__in=ids).order_by("body_id"))
    figures = _figures(ids, today)
    now = timezone.now()
    for row in rows:
        for name, value in figures[row.body_id].items():
            setattr(row, name, value)
        row.org_path = paths[row.body_id]
        row.overdue_as_of = today
        row.refreshed_at = now
    BodySummary.objects.bulk_update(rows, FIELDS, batch_size=BATCH)
    return len(rows)


def refresh_all(*, today: dt.date | None = None) -> int:
    """Every body, a batch per transaction (the hourly task; the bench after its bulk load)."""
    ids = list(MediationBody.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), BATCH):
        done += refresh(ids[start : start + BATCH], today=today)
    return done


# --- receivers (wired in apps.ready) ---------------------------------------------------------


def case_saved(sender, instance: Case, raw: bool = False, **kwargs) -> None:
    if not raw:
        refresh([instance.body_id])


def clock_event_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    if not raw:
        refresh(Case.objects.filter(pk=instance.case_id).values_list("body_id", flat=True))
