"""On PostgreSQL, turn the audit table into a table partitioned by month of created_at.

The rows, the ids (the identity sequence continues after the highest), the indexes and
foreign keys (same names), and the append-only guard trigger are carried over; the
primary key becomes (id, created_at), as PostgreSQL requires the partition key in every
unique constraint (ids stay unique: one sequence feeds them). The copy rewrites the whole
table inside the migration's transaction: on a large log, run it in a maintenance window.
SQLite keeps its plain table.
"""

import datetime as dt

from django.db import migrations

from activity import partitions as p
from activity.migrations import _guard

T = p.TABLE


def _indexes_and_foreign_keys(cursor):
    """The audit table's indexes (but its primary key) and foreign keys, as (name, definition)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
        [T, f"{T}_pkey"],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [T],
    )
    return indexes, cursor.fetchall()


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if p.is_partitioned(cursor):
            return
        indexes, foreign_keys = _indexes_and_foreign_keys(cursor)
        cursor.execute(f"SELECT min(created_at), max(id) FROM {T}")
        oldest, max_id = cursor.fetchone()

        cursor.execute(f"DROP TRIGGER IF EXISTS activity_audit_guard ON {T}")
        cursor.execute(f"ALTER TABLE {T} RENAME TO {T}_unpartitioned")
        for name, _ in indexes:
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_unpart"')
        for name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE {T}_unpartitioned RENAME CONSTRAINT "{name}" TO "{name[:50]}_unpart"')
        cursor.execute(f'ALTER INDEX "{T}_pkey" RENAME TO "{T}_unpart_pkey"')

        cursor.execute(
            f"CREATE TABLE {T} (LIKE {T}_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY)"
            " PARTITION BY RANGE (created_at)"
        )
        cursor.execute(f"ALTER TABLE {T} ADD CONSTRAINT {T}_pkey PRIMARY KEY (id, created_at)")
        cursor.execute(f"CREATE TABLE {p.DEFAULT_PARTITION} PARTITION OF {T} DEFAULT")
        today = dt.datetime.now(p.ZONE).date()
        month = p.month_start(min(oldest.astimezone(p.ZONE).date(), today) if oldest else today)
        last = p.month_start(today)
        for _ in range(3):
            last = p.next_month(last)
        while month <= last:
            p.create_month(cursor, month)
            month = p.next_month(month)

        cursor.execute(f"INSERT INTO {T} OVERRIDING SYSTEM VALUE SELECT * FROM {T}_unpartitioned")
        if max_id:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [T, max_id])
        for _, definition in indexes:
            cursor.execute(definition.replace(" ON public.", " ON ").replace(f" ON {T}_unpartitioned ", f" ON {T} "))
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {T} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(f"DROP TABLE {T}_unpartitioned")
        cursor.execute(_guard.CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not p.is_partitioned(cursor):
            return
        cursor.execute(f"CREATE TABLE {T}_plain (LIKE {T} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute(f"INSERT INTO {T}_plain OVERRIDING SYSTEM VALUE SELECT * FROM {T}")
        cursor.execute(f"SELECT max(id) FROM {T}")
        (max_id,) = cursor.fetchone()
        indexes, foreign_keys = _indexes_and_foreign_keys(cursor)
        cursor.execute(f"DROP TABLE {T} CASCADE")
        cursor.execute(f"ALTER TABLE {T}_plain RENAME TO {T}")
        cursor.execute(f"ALTER TABLE {T} ADD CONSTRAINT {T}_pkey PRIMARY KEY (id)")
        if max_id:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [T, max_id])
        for _, definition in indexes:
            cursor.execute(definition.replace(" ON public.", " ON ").replace(" ON ONLY ", " ON "))
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {T} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(_guard.CREATE)


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("activity", "0006_notifications_reminder_ledger_deliveries")]
    operations = [migrations.RunPython(forwards, backwards)]
