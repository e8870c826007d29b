"""Lost report-run messages with real Celery workers and Redis, against the test's PostgreSQL database.

A run whose build message never arrived is sent again by the sweep; the worker that takes
it is killed in the middle of the build; once its lease has run out the sweep sends it
again and a second worker builds it, once.

Skipped without PostgreSQL and Redis (CI runs both: .ci/run).
"""

import datetime as dt

import pytest
from django.utils import timezone

from activity.models import AuditEvent
from core.attachments.storage import private_storage
from reports import runs
from reports.models import ReportRun
from tests.celery_workers import Workers, broker_url, wait_for
from tests.reports.test_report_run_recovery import BOUND, _lost_run
from unionportal.celery import app as celery_app

QUEUE = "reports"  # where the portal routes report builds (settings CELERY_TASK_ROUTES)


@pytest.fixture
def report_workers(postgres_only, transactional_db, tmp_path, settings, monkeypatch):
    """Start real `celery worker` processes on the reports queue; kill them all at the end."""
    broker_url()  # skips without Redis, before anything is changed
    # This process sends through the broker (the suite runs tasks eagerly otherwise); the
    # workers write the files where this process reads them.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    settings.PRIVATE_FILES_ROOT = str(tmp_path / "private")
    env = {
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "PRIVATE_FILES_ROOT": settings.PRIVATE_FILES_ROOT,
        "REPORT_DRILL_HANG_AT_PDF": "",  # the first worker's alone: see the test
    }
    with Workers(tmp_path, QUEUE, include=["tests.reports.hang_build"], env=env) as workers:
        yield workers


def _run(pk) -> ReportRun:
    return ReportRun.objects.get(pk=pk)


def test_a_lost_message_and_a_killed_worker_end_in_one_built_report(tree, report_workers):
    logs = report_workers.logs
    run = _lost_run(tree["pd_union"], sent_ago=BOUND + dt.timedelta(minutes=1))

    # 1. The message never arrived: the sweep sends it again; the first worker takes it and
    #    stops at the PDF step (the drill's hang), holding the lease.
    first = report_workers.start("first", env={"REPORT_DRILL_HANG_AT_PDF": "1"})
    assert runs.report_runs_redispatch()["redispatched"] == 1
    wait_for(lambda: _run(run.pk).phase == "pdf", 90, "the first worker to reach the PDF step", logs)
    assert _run(run.pk).status == ReportRun.Status.RUNNING and _run(run.pk).attempts == 1

    # 2. The worker is killed mid-build. While its lease runs the run is not sent again.
    report_workers.kill(first)
    assert runs.report_runs_redispatch()["redispatched"] == 0

    # 3. The lease runs out (moved into the past rather than waited for 30 minutes); the
    #    sweep sends the run again, once, and a second worker builds it.
    past = timezone.now() - dt.timedelta(seconds=1)
    ReportRun.objects.filter(pk=run.pk).update(claimed_until=past, dispatched_at=past - BOUND)
    assert runs.report_runs_redispatch()["redispatched"] == 1
    assert runs.report_runs_redispatch()["redispatched"] == 0
    # Started after the sweep: a worker up before it would take the first worker's unacknowledged
    # message back (visibility timeout) and claim the run, and the sweep would rightly send nothing.
    report_workers.start("second")
    wait_for(lambda: _run(run.pk).status == ReportRun.Status.SUCCEEDED, 120, "the second worker's build", logs)

    run = _run(run.pk)
    assert run.attempts == 2 and run.redispatches == 2
    assert AuditEvent.objects.filter(action="report.generated").count() == 1
    assert AuditEvent.objects.filter(action="report.redispatched").count() == 2
    assert private_storage().exists(run.xlsx_path) and private_storage().exists(run.pdf_path)
