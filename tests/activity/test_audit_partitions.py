"""The audit table partitioned by month on PostgreSQL: rows land in their month, retention
drops whole months (never inside the six-month floor), the append-only guard holds on
every partition, and the coming months are created ahead."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from activity import partitions as p
from activity.models import AuditEvent
from activity.services import audit_partitions_ensure, audit_purge_expired
from core.audit import log_action

pytestmark = pytest.mark.usefixtures("postgres_only")


def months_ago(n: int) -> dt.date:
    month = p.month_start(dt.datetime.now(p.ZONE).date())
    for _ in range(n):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


def insert_at(when: dt.datetime, action: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {p.TABLE} (created_at, actor_label, action, target_type, target_id, target_label,"
            " org_path, data) VALUES (%s, 'system', %s, '', '', '', '', '{}')",
            [when, action],
        )


def partition_of(action: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {p.TABLE} WHERE action = %s", [action])
        return cursor.fetchone()[0]


def partitions() -> dict:
    with connection.cursor() as cursor:
        return p.existing_partitions(cursor)


def test_the_table_is_partitioned_with_the_coming_months_and_a_default(db):
    with connection.cursor() as cursor:
        assert p.is_partitioned(cursor)
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [p.DEFAULT_PARTITION])
        assert cursor.fetchone()[0]
    this_month = months_ago(0)
    ahead = [this_month]
    for _ in range(3):
        ahead.append(p.next_month(ahead[-1]))
    assert set(ahead) <= set(partitions())


def test_an_event_lands_in_its_month_and_ids_keep_growing(owner, tree):
    first = log_action(actor=owner, action="test.partition.a", target=tree["pudong"], data={})
    second = log_action(actor=owner, action="test.partition.b", target=tree["pudong"], data={})
    assert second.pk > first.pk
    assert partition_of("test.partition.a") == p.partition_name(months_ago(0))
    assert AuditEvent.objects.get(pk=first.pk).action == "test.partition.a"


def test_retention_drops_whole_expired_months_and_keeps_the_floor(db):
    old_month, young_month = months_ago(9), months_ago(4)
    with connection.cursor() as cursor:
        assert p.create_month(cursor, old_month)
        assert p.create_month(cursor, young_month)
    old_day = dt.datetime(old_month.year, old_month.month, 10, 12, tzinfo=p.ZONE)
    young_day = dt.datetime(young_month.year, young_month.month, 10, 12, tzinfo=p.ZONE)
    for n in range(3):
        insert_at(old_day, f"test.old.{n}")
    insert_at(young_day, "test.young")
    assert partition_of("test.old.0") == p.partition_name(old_month)

    with override_settings(AUDIT_RETENTION_DAYS=200):
        assert audit_purge_expired() >= 3  # the whole month, dropped with its partition
    # Even asked to drop everything up to now, the partitions inside the six-month floor stay.
    assert p.drop_expired(dt.datetime.now(p.ZONE)) == 0
    assert old_month not in partitions()
    assert not AuditEvent.objects.filter(action__startswith="test.old.").exists()
    assert young_month in partitions()
    assert AuditEvent.objects.filter(action="test.young").exists()


def test_the_guard_holds_on_every_partition(db):
    insert_at(dt.datetime.now(p.ZONE), "test.guarded")
    name = partition_of("test.guarded")
    for sql in (
        f"UPDATE {name} SET action = 'forged' WHERE action = 'test.guarded'",
        f"UPDATE {p.TABLE} SET action = 'forged' WHERE action = 'test.guarded'",
        f"DELETE FROM {name} WHERE action = 'test.guarded'",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEvent.objects.filter(action="test.guarded").count() == 1


def test_ensuring_is_idempotent_and_leaves_a_month_with_rows_in_the_default_alone(db):
    assert audit_partitions_ensure() == []  # the migration already made them
    far = months_ago(0)
    for _ in range(6):
        far = p.next_month(far)
    insert_at(dt.datetime(far.year, far.month, 2, tzinfo=p.ZONE), "test.future")
    assert partition_of("test.future") == p.DEFAULT_PARTITION
    with connection.cursor() as cursor:
        assert p.create_month(cursor, far) is False
    assert far not in partitions()
    assert AuditEvent.objects.filter(action="test.future").count() == 1
