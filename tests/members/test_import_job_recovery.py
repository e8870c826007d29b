"""Lost broker messages of roster imports: the beat sweep sends a job again once per bound, never twice at once.

A job stays "排队中" when its message is lost, and "处理中" when its worker is killed: the
sweep (members.importer.jobs.import_jobs_redispatch) sends it again, and a re-run never
writes a row twice.
"""

import csv
import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activity.models import AuditEvent
from members.importer import COLUMNS, import_rows, jobs
from members.models import ImportJob, Member
from tests.factories import UserFactory, make_id_number, make_mobile, nth_name
from tests.racing import at_once

S = ImportJob.Status
BOUND = jobs.redispatch_after()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _roster(n: int = 5) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _k, h, _r in COLUMNS][:3])
    w.writerows([nth_name("工", i), make_id_number(), make_mobile()] for i in range(n))
    return buf.getvalue().encode()


def _lost_job(union, clerk, *, sent_ago: dt.timedelta, rows: int = 5, **extra) -> ImportJob:
    """A queued import whose task was sent `sent_ago` and never arrived (the message lost)."""
    job = ImportJob.objects.create(
        union=union,
        org_path=union.path,
        created_by=clerk,
        mode="valid_only",
        file_name="r.csv",
        file_format="csv",
        dispatched_at=timezone.now() - sent_ago,
        **extra,
    )
    job.upload_path = default_storage.save(f"member-imports/{job.pk}/upload.csv", ContentFile(_roster(rows)))
    job.save(update_fields=["upload_path"])
    return job


def _count(action: str, job) -> int:
    return AuditEvent.objects.filter(action=action, target_id=str(job.pk)).count()


def test_a_queued_job_is_sent_again_after_the_bound_and_imported(tree, clerk, django_capture_on_commit_callbacks):
    job = _lost_job(tree["pd_union"], clerk, sent_ago=BOUND + dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.import_jobs_redispatch() == {"redispatched": 1, "given_up": 0}
    job.refresh_from_db()
    assert job.status == S.SUCCEEDED and job.created_count == 5
    assert job.redispatches == 1 and job.attempts == 1 and job.claimed_until is None
    assert _count("member.import_redispatched", job) == 1
    assert not default_storage.exists(f"member-imports/{job.pk}/upload.csv")


def test_a_queued_job_within_the_bound_is_left_alone(tree, clerk, django_capture_on_commit_callbacks):
    job = _lost_job(tree["pd_union"], clerk, sent_ago=BOUND - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert jobs.import_jobs_redispatch()["redispatched"] == 0
    assert sent == []
    job.refresh_from_db()
    assert job.status == S.PENDING and job.redispatches == 0


def test_a_job_is_sent_at_most_once_per_bound(tree, clerk, django_capture_on_commit_callbacks):
    job = _lost_job(tree["pd_union"], clerk, sent_ago=BOUND + dt.timedelta(minutes=1))
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as sent:  # the message is lost again
        assert jobs.import_jobs_redispatch(now=now)["redispatched"] == 1
        for minutes in (1, 10, BOUND.total_seconds() // 60 - 1):
            assert jobs.import_jobs_redispatch(now=now + dt.timedelta(minutes=minutes))["redispatched"] == 0
        assert jobs.import_jobs_redispatch(now=now + BOUND + dt.timedelta(seconds=1))["redispatched"] == 1
    assert len(sent) == 2
    job.refresh_from_db()
    assert job.redispatches == 2 and job.status == S.PENDING


def test_a_redelivered_message_does_nothing_while_a_live_worker_has_the_job(tree, clerk):
    job = _lost_job(
        tree["pd_union"],
        clerk,
        sent_ago=BOUND,
        status=S.RUNNING,
        attempts=1,
        claimed_until=timezone.now() + dt.timedelta(minutes=5),
    )
    assert jobs.import_job_run(job.pk) is False
    job.refresh_from_db()
    assert job.status == S.RUNNING and job.attempts == 1 and Member.objects.count() == 0


def test_a_killed_workers_job_is_run_again_after_its_lease(tree, clerk, django_capture_on_commit_callbacks):
    """Killed mid-import: its transaction was rolled back, so the re-run imports every row once."""
    now = timezone.now()
    job = _lost_job(
        tree["pd_union"],
        clerk,
        sent_ago=2 * BOUND,
        status=S.RUNNING,
        attempts=1,
        claimed_until=now + dt.timedelta(minutes=5),
    )
    before = Member.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert jobs.import_jobs_redispatch(now=now)["redispatched"] == 0  # still leased: the worker may be alive
    assert sent == []
    ImportJob.objects.filter(pk=job.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.import_jobs_redispatch()["redispatched"] == 1
    job.refresh_from_db()
    assert job.status == S.SUCCEEDED and job.attempts == 2 and job.created_count == 5
    assert Member.objects.count() == before + 5
    assert _count("member.imported", job) == 1


def test_a_job_whose_rows_were_committed_is_closed_not_imported_twice(tree, clerk, django_capture_on_commit_callbacks):
    """Killed after the rows' commit but before the job's final update: the audit event tells."""
    union = tree["pd_union"]
    job = _lost_job(union, clerk, sent_ago=2 * BOUND, rows=4)
    res = import_rows(
        actor=clerk, union=union, mode="valid_only", path=default_storage.path(job.upload_path), fmt="csv", job=job
    )
    assert res.created == 4
    ImportJob.objects.filter(pk=job.pk).update(
        status=S.RUNNING, attempts=1, claimed_until=timezone.now() - dt.timedelta(minutes=1)
    )
    members = Member.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.import_jobs_redispatch()["redispatched"] == 1
    job.refresh_from_db()
    assert job.status == S.SUCCEEDED and job.created_count == 4 and "收尾时中断" in job.message
    assert Member.objects.count() == members and _count("member.imported", job) == 1
    assert job.upload_path == "" and not default_storage.exists(f"member-imports/{job.pk}/upload.csv")


def test_a_job_whose_upload_is_gone_fails_with_what_to_do(tree, clerk, django_capture_on_commit_callbacks):
    job = _lost_job(
        tree["pd_union"],
        clerk,
        sent_ago=2 * BOUND,
        status=S.RUNNING,
        attempts=1,
        claimed_until=timezone.now() - dt.timedelta(minutes=1),
    )
    default_storage.delete(job.upload_path)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.import_jobs_redispatch()
    job.refresh_from_db()
    assert job.status == S.FAILED and "请重新上传" in job.message and Member.objects.count() == 0


def test_a_job_is_given_up_after_three_interrupted_runs(tree, clerk, django_capture_on_commit_callbacks):
    job = _lost_job(
        tree["pd_union"],
        clerk,
        sent_ago=2 * BOUND,
        status=S.RUNNING,
        attempts=jobs.MAX_ATTEMPTS,
        claimed_until=timezone.now() - dt.timedelta(minutes=1),
    )
    path = job.upload_path
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert jobs.import_jobs_redispatch() == {"redispatched": 0, "given_up": 1}
    assert len(sent) == 1  # the upload's deletion, no task
    job.refresh_from_db()
    assert job.status == S.FAILED and "3 次中断" in job.message and "重新上传" in job.message
    assert job.claimed_until is None and job.upload_path == "" and not default_storage.exists(path)
    assert _count("member.import_given_up", job) == 1
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert jobs.import_jobs_redispatch() == {"redispatched": 0, "given_up": 0}
    assert sent == []


def test_a_job_no_worker_ever_takes_is_given_up_after_six_sends(tree, clerk, django_capture_on_commit_callbacks):
    job = _lost_job(tree["pd_union"], clerk, sent_ago=2 * BOUND, redispatches=jobs.MAX_REDISPATCHES - 1)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert jobs.import_jobs_redispatch(now=now) == {"redispatched": 1, "given_up": 0}
        assert jobs.import_jobs_redispatch(now=now + BOUND + dt.timedelta(seconds=1)) == {
            "redispatched": 0,
            "given_up": 1,
        }
    assert len(sent) == 2  # one send, one deletion of the upload
    job.refresh_from_db()
    assert job.status == S.FAILED and "6 次重新派发" in job.message and "导入队列" in job.message


def test_finished_jobs_are_never_sent_again(tree, clerk, django_capture_on_commit_callbacks):
    for status in (S.SUCCEEDED, S.FAILED):
        _lost_job(tree["pd_union"], clerk, sent_ago=3 * BOUND, status=status)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert jobs.import_jobs_redispatch() == {"redispatched": 0, "given_up": 0}
    assert sent == []


def test_the_sweep_runs_every_minute_on_the_default_queue(settings):
    from unionportal.celery import app

    entry = app.conf.beat_schedule["members-import-jobs-sweep"]
    assert entry["task"] == "members.tasks.import_jobs_sweep" and str(entry["schedule"].minute) == str(set(range(60)))
    assert settings.CELERY_TASK_ROUTES[0]["members.tasks.import_jobs_sweep"] == {"queue": "default"}


def test_the_operations_view_lists_resent_and_waiting_jobs(tree, clerk, django_capture_on_commit_callbacks):
    resent = _lost_job(tree["pd_union"], clerk, sent_ago=BOUND + dt.timedelta(minutes=1))
    resent.file_name = "resent.csv"
    resent.save(update_fields=["file_name"])
    with django_capture_on_commit_callbacks(execute=False):
        jobs.import_jobs_redispatch()
    waiting = _lost_job(tree["pd_union"], clerk, sent_ago=BOUND + dt.timedelta(minutes=2))
    fresh = _lost_job(tree["pd_union"], clerk, sent_ago=dt.timedelta(minutes=1))
    assert {j.pk for j in jobs.import_jobs_lost()} == {resent.pk, waiting.pk}
    admin = UserFactory(username="ops-admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    body = c.get(reverse("operations")).content.decode()
    section = body[body.index('id="lost-jobs"') :]
    assert reverse("member-import-detail", args=[resent.pk]) in section
    assert reverse("member-import-detail", args=[waiting.pk]) in section
    assert reverse("member-import-detail", args=[fresh.pk]) not in section


@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_send_a_job_once(postgres_only, settings, tmp_path):
    """Four sweeps at the same moment on their own connections: one claim wins, one import runs."""
    from tests.conftest import make_tree

    tree = make_tree()
    clerk = UserFactory(username="sweep-clerk", is_superuser=True)
    job = _lost_job(tree["pd_union"], clerk, sent_ago=BOUND + dt.timedelta(minutes=1))
    before = Member.objects.count()
    now = timezone.now()
    results = at_once(lambda: jobs.import_jobs_redispatch(now=now)["redispatched"])
    assert sorted(results) == [0, 0, 0, 1]
    job.refresh_from_db()
    assert job.redispatches == 1 and job.status == S.SUCCEEDED and job.attempts == 1
    assert _count("member.imported", job) == 1 and Member.objects.count() == before + 5
