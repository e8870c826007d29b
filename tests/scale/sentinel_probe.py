"""Run by tests/scale/test_sentinel.py in a child process whose settings reach Redis through
Sentinel (REDIS_SENTINELS): the portal's own cache and Celery app, as a web process uses
them. Enqueues the jobs named on the command line and checks the cache round trip."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

import django

django.setup()

from django.core.cache import cache  # noqa: E402

from unionportal.celery import app  # noqa: E402

queue, *jobs = sys.argv[1:]
marker = f"probe-{jobs[0] if jobs else 'none'}"
cache.set(marker, "cached", 60)
for job in jobs:
    app.send_task("tests.security.fault_tasks.slow_effect", args=[job, 0], queue=queue)
print(json.dumps({"cache": cache.get(marker), "sent": len(jobs)}))
