"""The embedded default: django-celery-beat's DatabaseScheduler (what `make run` uses) picks up the reminder entries."""

import json

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from activity import registry
from unionportal.celery import app as celery_app


@pytest.mark.django_db
def test_the_database_scheduler_syncs_one_reminder_sweep_per_source_and_the_sender():
    # What DatabaseScheduler.setup_schedule does at beat start (update_from_dict): each entry of
    # the code's schedule becomes a row through the scheduler's Entry class. (An instance of the
    # scheduler closes old connections when it syncs: not inside a test's transaction.)
    for name, fields in celery_app.conf.beat_schedule.items():
        DatabaseScheduler.Entry.from_entry(name, app=celery_app, **fields)
    rows = {t.name: t for t in PeriodicTask.objects.filter(name__startswith="reminders-")}
    sources = {name for name, source in registry.sources().items() if source.scan is not None}
    assert {f"reminders-{s}" for s in sources} | {"reminders-send-due"} == set(rows)
    for source in sources:
        task = rows[f"reminders-{source}"]
        assert task.task == "activity.tasks.reminders_sweep" and task.enabled
        assert json.loads(task.kwargs) == {"source": source}
        assert task.crontab is not None
    assert rows["reminders-send-due"].task == "activity.tasks.deliveries_send"
