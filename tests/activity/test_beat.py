"""The embedded default: django-celery-beat's DatabaseScheduler (what `make run` uses) picks up the reminder entries."""

import json

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from activity import registry
from unionportal.celery import app as celery_app


# transaction=True: the scheduler calls close_old_connections(), which closes a connection
# held inside a test's transaction (PostgreSQL; SQLite's in-memory one is never closed).
@pytest.mark.django_db(transaction=True)
def test_the_database_scheduler_syncs_one_reminder_sweep_per_source_and_the_sender():
    scheduler = DatabaseScheduler(app=celery_app)  # not lazy: syncs beat_schedule into its tables
    try:
        rows = {t.name: t for t in PeriodicTask.objects.filter(name__startswith="reminders-")}
        sources = {name for name, source in registry.sources().items() if source.scan is not None}
        assert {f"reminders-{s}" for s in sources} | {"reminders-send-due"} == set(rows)
        for source in sources:
            task = rows[f"reminders-{source}"]
            assert task.task == "activity.tasks.reminders_sweep" and task.enabled
            assert json.loads(task.kwargs) == {"source": source}
            assert task.crontab is not None
        assert rows["reminders-send-due"].task == "activity.tasks.deliveries_send"
        assert "reminders-disputes" in scheduler.schedule  # and the scheduler serves them
    finally:
        scheduler.close() if hasattr(scheduler, "close") else None
