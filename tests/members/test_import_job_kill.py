"""A real imports worker killed mid-import: nothing is half-saved, and the sweep gets the job done once.

The prefork worker (and its checking processes) is killed with SIGKILL while the import
writes; PostgreSQL rolls the import's transaction back, the job keeps its lease until it
runs out, and the lost-message sweep then sends it again: every row is imported exactly
once. Skipped without PostgreSQL and Redis.
"""

import csv
import datetime as dt
import io
import time

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from activity.models import AuditEvent
from members.importer import COLUMNS, jobs
from members.models import ImportJob, Member
from tests.factories import make_id_number, make_mobile, nth_name
from unionportal.celery import app as celery_app

ROWS = 30000


def test_a_worker_killed_mid_import_leaves_nothing_and_the_sweep_imports_once(prefork_worker, tree, clerk):
    workers, worker = prefork_worker
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _k, h, _r in COLUMNS][:3])
    ids: set[str] = set()
    while len(ids) < ROWS:  # random numbers: drop the few repeats, every row a new member
        ids.add(make_id_number())
    w.writerows([nth_name("工", i), idn, make_mobile()] for i, idn in enumerate(sorted(ids)))
    union = tree["pd_union"]
    before = Member.objects.count()
    job = ImportJob.objects.create(
        union=union,
        org_path=union.path,
        created_by=clerk,
        mode="valid_only",
        file_name="big.csv",
        file_format="csv",
        dispatched_at=timezone.now(),
    )
    job.upload_path = default_storage.save(f"member-imports/{job.pk}/upload.csv", ContentFile(buf.getvalue().encode()))
    job.save(update_fields=["upload_path"])
    workers.wait_ready(worker)
    celery_app.send_task("members.tasks.run_member_import", args=[job.pk], queue=workers.queue, retry=False)
    # Kill the worker once it has checked a first batch of rows (the writer holds its transaction open).
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == ImportJob.Status.RUNNING and job.processed_rows > 0:
            break
        assert job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING), job.message
        time.sleep(0.05)
    assert job.status == ImportJob.Status.RUNNING and job.processed_rows < ROWS, worker.log_path.read_text()[-3000:]
    workers.kill(worker)  # the worker, its child and the checking processes: SIGKILL to the group
    time.sleep(2)  # the server notices the closed connections and rolls back
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and job.attempts == 1
    assert job.claimed_until > timezone.now()  # a live worker would still be renewing it
    assert Member.objects.count() == before  # nothing half-saved
    assert jobs.import_jobs_redispatch()["redispatched"] == 0  # still leased
    # The lease runs out (30 minutes later): the sweep sends the job again and it is imported once.
    ImportJob.objects.filter(pk=job.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    later = timezone.now() + jobs.redispatch_after()
    assert jobs.import_jobs_redispatch(now=later)["redispatched"] == 1  # eager here: run in this process
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert (job.created_count, job.attempts, job.redispatches) == (ROWS, 2, 1)
    assert Member.objects.count() == before + ROWS
    assert AuditEvent.objects.filter(action="member.imported", target_id=str(job.pk)).count() == 1
