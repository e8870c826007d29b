"""The audit table partitioned by month (PostgreSQL declarative partitioning).

Retention then drops whole months (`DROP TABLE` of a partition) instead of deleting rows
one by one from an ever-growing table. Partitions are named `activity_auditevent_pYYYYMM`
and hold [first of the month, first of the next month) in Asia/Shanghai time; a DEFAULT
partition catches anything outside them (old rows written by hand, a month whose
partition was not created in time), so an insert never fails. A daily task creates the
coming months ahead of time. SQLite (the embedded demo) keeps one plain table.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

from django.db import connection

log = logging.getLogger(__name__)

TABLE = "activity_auditevent"
DEFAULT_PARTITION = f"{TABLE}_default"
NAME = re.compile(rf"^{TABLE}_p(\d{{4}})(\d{{2}})$")
ZONE = ZoneInfo("Asia/Shanghai")
# The floor below which nothing may be dropped (Cybersecurity Law art. 21: six months).
FLOOR_DAYS = 183


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def bound(month: dt.date) -> str:
    return dt.datetime(month.year, month.month, 1, tzinfo=ZONE).isoformat()


def is_partitioned(cursor) -> bool:
    if connection.vendor != "postgresql":
        return False
    cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
    row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def existing_partitions(cursor) -> dict[dt.date, str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        [TABLE],
    )
    found = {}
    for (name,) in cursor.fetchall():
        match = NAME.match(name)
        if match:
            found[dt.date(int(match[1]), int(match[2]), 1)] = name
    return found


def create_month(cursor, month: dt.date) -> bool:
    """Create the partition of `month` unless the DEFAULT partition already holds rows of it."""
    start, end = bound(month), bound(next_month(month))
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} WHERE created_at >= %s AND created_at < %s)", [start, end]
    )
    if cursor.fetchone()[0]:
        log.warning("audit rows of %s are in the default partition; its monthly partition is not created", month)
        return False
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
        [start, end],
    )
    return True


def ensure_partitions(*, today: dt.date | None = None, months_ahead: int = 3) -> list[str]:
    """Create this month's and the next `months_ahead` months' partitions if missing."""
    created = []
    with connection.cursor() as cursor:
        if not is_partitioned(cursor):
            return created
        today = today or dt.datetime.now(ZONE).date()
        have = existing_partitions(cursor)
        month = month_start(today)
        for _ in range(months_ahead + 1):
            if month not in have and create_month(cursor, month):
                created.append(partition_name(month))
            month = next_month(month)
    return created


def drop_expired(cutoff: dt.datetime) -> int:
    """Drop every monthly partition that ends on or before `cutoff` (and before the six-month
    floor); returns how many events they held."""
    floor = dt.datetime.now(ZONE) - dt.timedelta(days=FLOOR_DAYS)
    cutoff = min(cutoff, floor)
    dropped = 0
    with connection.cursor() as cursor:
        if not is_partitioned(cursor):
            return 0
        for month, name in sorted(existing_partitions(cursor).items()):
            end = dt.datetime(next_month(month).year, next_month(month).month, 1, tzinfo=ZONE)
            if end > cutoff:
                continue
            # Deferred foreign-key checks of rows written earlier in this transaction must
            # run before their table may be dropped.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"SELECT count(*) FROM {name}")
            dropped += cursor.fetchone()[0]
            cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
            log.info("audit partition %s dropped by retention", name)
    return dropped
