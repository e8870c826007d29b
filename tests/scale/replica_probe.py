"""Run by tests/scale/test_replica.py in a child process whose settings name a real primary
(DATABASE_URL) and a real streaming replica (DATABASE_REPLICA_URLS). Prints one JSON object
with what each step observed; the test asserts on it."""

from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

import django

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connections, router  # noqa: E402

from core import replicas  # noqa: E402


def fresh(fn):
    """Run fn in an empty context: no pin, no heavy mark (a new request or task)."""
    return contextvars.Context().run(fn)


def wait_for(predicate, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


# Rows of a plain table (content types): sessions, users and role assignments are always read
# from the primary (core.replicas.PRIMARY_ONLY), so they cannot show the routing.
def on_replica_has(key):
    return ContentType.objects.using("replica1").filter(app_label=key).exists()


def heavy_lookup(key):
    with replicas.heavy_reads():
        alias = router.db_for_read(ContentType)
        return alias, ContentType.objects.filter(app_label=key).exists()


def new_session():
    key = uuid.uuid4().hex
    ContentType.objects.create(app_label=key, model="probe")
    return key


out = {}
with connections["default"].schema_editor() as editor:
    editor.create_model(ContentType)


def _table_on_replica():
    with connections["replica1"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('django_content_type') IS NOT NULL")
        return cursor.fetchone()[0]


wait_for(_table_on_replica, "the table on the replica")
first = fresh(new_session)
wait_for(lambda: on_replica_has(first), "the first row on the replica")

# 1. A heavy read in a fresh context goes to the replica; an ordinary read stays on the primary.
out["heavy_alias"] = fresh(lambda: heavy_lookup(first)[0])
out["plain_alias"] = fresh(lambda: router.db_for_read(ContentType))


def heavy_session_alias():
    with replicas.heavy_reads():
        return router.db_for_read(Session)


out["auth_alias"] = fresh(heavy_session_alias)  # who the caller is: the primary, even when heavy

# 2. Replay paused: a new row exists on the primary only.
with connections["replica1"].cursor() as cursor:
    cursor.execute("SELECT pg_wal_replay_pause()")
second = fresh(new_session)
out["heavy_sees_unreplayed_row"] = fresh(lambda: heavy_lookup(second))  # replica: not there yet


def after_write():
    third = new_session()  # this context wrote: read-your-writes pins it to the primary
    return heavy_lookup(third)


out["read_your_writes"] = fresh(after_write)

# 3. The replica now lags beyond REPLICA_MAX_LAG_SECONDS: skipped, the primary answers.
time.sleep(float(os.environ["PROBE_LAG_WAIT"]))
fresh(new_session)  # more WAL the paused replica does not replay
replicas.health.forget()
out["lagging"] = fresh(lambda: heavy_lookup(second))
out["lagging_why"] = replicas.health.why("replica1")

# 4. Replay resumed: caught up, used again.
with connections["replica1"].cursor() as cursor:
    cursor.execute("SELECT pg_wal_replay_resume()")
wait_for(lambda: on_replica_has(second), "the replica to catch up")
replicas.health.forget()
out["caught_up"] = fresh(lambda: heavy_lookup(second))

# 5. The replica stops: skipped, no error, the primary answers.
subprocess.run(json.loads(os.environ["PROBE_STOP_REPLICA"]), check=True, capture_output=True)
connections["replica1"].close()
replicas.health.forget()
out["replica_down"] = fresh(lambda: heavy_lookup(second))
out["replica_down_why"] = replicas.health.why("replica1")
print(json.dumps(out))
