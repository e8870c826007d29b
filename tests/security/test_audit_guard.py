"""The audit log is append-only: in the application, and on PostgreSQL in the database
itself; only retention purging deletes, and never anything younger than six months."""

from __future__ import annotations

import importlib.util
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, models, transaction
from django.test import override_settings
from django.utils import timezone

from activity.models import AuditEvent
from activity.services import audit_purge_expired
from core.audit import log_action
from tests.test_settings import ROOT


def _insert_event(action: str, age_days: int) -> int:
    """An event written `age_days` ago (created_at is auto_now_add, so through SQL)."""
    created = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(days=age_days))
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (created_at, actor_label, action, target_type, target_id, target_label,"
            " org_path, data) VALUES (%s, 'system', %s, '', '', '', '', %s)",
            [created, action, "{}"],
        )
    return AuditEvent.objects.get(action=action).pk


@pytest.fixture
def fresh_event(owner, tree):
    return log_action(actor=owner, action="test.fresh", target=tree["pudong"], data={"note": "原始记录"})


# --- in the application (every database) ----------------------------------------------


def test_it_refuses_to_save_an_existing_event_again(fresh_event):
    fresh_event.action = "test.tampered"
    with pytest.raises(PermissionError):
        fresh_event.save()
    assert AuditEvent.objects.get(pk=fresh_event.pk).action == "test.fresh"


def test_it_refuses_to_delete_an_event_through_the_orm(fresh_event):
    with pytest.raises(PermissionError):
        fresh_event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=fresh_event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=fresh_event.pk).update(action="test.tampered")
    assert AuditEvent.objects.filter(pk=fresh_event.pk, action="test.fresh").exists()


@override_settings(AUDIT_RETENTION_DAYS=365)
def test_it_purges_only_events_older_than_the_retention(db):
    old = _insert_event("test.old", 400)
    kept_200 = _insert_event("test.200_days", 200)
    kept_fresh = _insert_event("test.today", 0)
    assert audit_purge_expired() == 1
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert old not in remaining
    assert {kept_200, kept_fresh} <= remaining


@override_settings(AUDIT_RETENTION_DAYS=183)
def test_it_purges_at_the_six_month_floor(db):
    _insert_event("test.185_days", 185)
    kept = _insert_event("test.180_days", 180)
    assert audit_purge_expired() == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept]


def _settings_read_with(monkeypatch, **env):
    """Execute unionportal/settings.py afresh under the given environment."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_probe", ROOT / "unionportal" / "settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("configured", "effective"), [("30", 183), ("183", 183), ("800", 800)])
def test_it_never_configures_a_retention_below_six_months(monkeypatch, configured, effective):
    assert _settings_read_with(monkeypatch, AUDIT_RETENTION_DAYS=configured).AUDIT_RETENTION_DAYS == effective


# --- in the database (PostgreSQL trigger) ---------------------------------------------


def _refused(sql: str, params) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(info.value)


def test_it_refuses_a_raw_update_in_the_database(postgres_only, fresh_event):
    table = AuditEvent._meta.db_table
    message = _refused(f"UPDATE {table} SET action = %s WHERE id = %s", ["test.tampered", fresh_event.pk])
    assert "append-only" in message
    # The application guard bypassed: the database still says no.
    with pytest.raises(DatabaseError), transaction.atomic():
        models.QuerySet.update(AuditEvent.objects.filter(pk=fresh_event.pk), action="test.tampered")
    assert AuditEvent.objects.get(pk=fresh_event.pk).action == "test.fresh"


def test_it_refuses_a_raw_delete_of_a_young_event_in_the_database(postgres_only, fresh_event):
    table = AuditEvent._meta.db_table
    message = _refused(f"DELETE FROM {table} WHERE id = %s", [fresh_event.pk])
    assert "183 days" in message
    with pytest.raises(DatabaseError), transaction.atomic():
        models.QuerySet.delete(AuditEvent.objects.filter(pk=fresh_event.pk))
    assert AuditEvent.objects.filter(pk=fresh_event.pk).exists()


def test_it_refuses_to_delete_a_182_day_old_event_even_with_a_short_retention(postgres_only, db):
    young = _insert_event("test.182_days", 182)
    table = AuditEvent._meta.db_table
    _refused(f"DELETE FROM {table} WHERE id = %s", [young])
    with override_settings(AUDIT_RETENTION_DAYS=100), pytest.raises(DatabaseError), transaction.atomic():
        audit_purge_expired()  # a misconfiguration below the floor cannot purge young events
    assert AuditEvent.objects.filter(pk=young).exists()


def test_it_lets_retention_delete_old_events_in_the_database(postgres_only, db):
    old = _insert_event("test.old", 400)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [old])
        assert cursor.rowcount == 1


def test_it_has_the_trigger_installed(postgres_only, db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [AuditEvent._meta.db_table],
        )
        assert ("activity_audit_guard",) in cursor.fetchall()
