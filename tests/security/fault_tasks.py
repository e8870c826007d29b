"""A task for the worker-kill drill only (loaded by the drill's worker with --include).

Each run records an attempt, works for a while, then records the effect with an
idempotent insert keyed by the job: however often the task is delivered, the effect
exists once.
"""

import os
import time

from celery import current_app, shared_task
from django.db import connection

if os.environ.get("FAULT_DRILL_WORKER"):
    # In the drill's worker, before it connects: look for unacknowledged messages of dead
    # workers every second (kombu's default is every 100 s) so the drill stays short.
    current_app.conf.broker_transport_options = {
        **(current_app.conf.broker_transport_options or {}),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

ATTEMPTS = "fault_drill_attempt"
EFFECTS = "fault_drill_effect"


def create_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {ATTEMPTS} (id serial PRIMARY KEY, job text, finished boolean)")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {EFFECTS} (job text PRIMARY KEY, done_at timestamptz)")
        cursor.execute(f"TRUNCATE {ATTEMPTS}, {EFFECTS}")


def drop_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ATTEMPTS}, {EFFECTS}")


@shared_task(name="tests.security.fault_tasks.slow_effect", acks_late=True, reject_on_worker_lost=True)
def slow_effect(job: str, seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {ATTEMPTS} (job, finished) VALUES (%s, false) RETURNING id", [job])
        attempt = cursor.fetchone()[0]
    time.sleep(seconds)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {EFFECTS} (job, done_at) VALUES (%s, now()) ON CONFLICT (job) DO NOTHING", [job])
        cursor.execute(f"UPDATE {ATTEMPTS} SET finished = true WHERE id = %s", [attempt])
