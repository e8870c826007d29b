"""A roster import run by a real Celery prefork worker checks its rows in forked processes.

The production path: the imports worker's child process runs the task, and the importer
forks its own checking processes from there. Skipped without PostgreSQL and Redis.
"""

import contextlib
import csv
import io
import time
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core import crypto
from members.importer import COLUMNS
from members.models import ImportJob, Member
from tests.factories import make_id_number, make_mobile, nth_name
from unionportal.celery import app as celery_app


def test_a_prefork_worker_imports_with_checking_processes(prefork_worker, tree, clerk):
    workers, worker = prefork_worker
    people = [[nth_name("工", i), make_id_number(), make_mobile()] for i in range(40)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _k, h, _r in COLUMNS][:3])
    w.writerows([*people, ["错", "310115199001011230", make_mobile()]])
    union = tree["pd_union"]
    job = ImportJob.objects.create(
        union=union, org_path=union.path, created_by=clerk, mode="valid_only", file_name="r.csv", file_format="csv"
    )
    job.upload_path = default_storage.save(f"member-imports/{job.pk}/upload.csv", ContentFile(buf.getvalue().encode()))
    job.save(update_fields=["upload_path"])
    workers.wait_ready(worker)
    celery_app.send_task("members.tasks.run_member_import", args=[job.pk], queue=workers.queue, retry=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING):
            break
        time.sleep(0.3)
    log = worker.log_path.read_text(errors="replace")
    assert job.status == ImportJob.Status.SUCCEEDED, (job.message, log[-3000:])
    assert (job.created_count, job.error_count) == (40, 1)
    assert "'workers': 2" in log and "'checkers'" in log, log[-3000:]
    name, idn, mobile = people[17]
    m = Member.objects.get(id_number_hash=crypto.id_hash(idn))
    assert (m.name, crypto.decrypt(m.mobile_enc)) == (name, mobile)
    # The task's checking processes are gone once it has finished.
    # (Pool.terminate() and join() return before the job's status is written.)
    children = _children(worker.pid)
    assert len(children) == 1 and _children(children[0]) == []  # the worker's one child, no grandchild


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found
