"""The operations view: task runs recorded by Celery's signals, health, queues, retry, outbox."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activity.models import AuditEvent
from core.models import TaskOutbox
from reports import operations
from reports.models import TaskRun
from reports.tasks import heartbeat
from tests.factories import UserFactory


@pytest.fixture
def admin(db):
    return UserFactory(username="ops-admin", is_superuser=True)


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_the_signals_record_a_run_its_success_and_a_failure_with_its_error(db):
    # Called as the worker calls them: outside an eager apply (request.is_eager is false).
    operations.on_task_prerun(task_id="t-1", task=heartbeat, args=[1], kwargs={"a": "b"})
    run = TaskRun.objects.get(task_id="t-1")
    assert (run.status, run.task_name, run.args, run.kwargs) == ("running", "reports.tasks.heartbeat", [1], {"a": "b"})
    operations.on_task_postrun(task_id="t-1", task=heartbeat, state="SUCCESS")
    assert TaskRun.objects.get(task_id="t-1").status == "succeeded"
    operations.on_task_prerun(task_id="t-2", task=heartbeat, args=[], kwargs={})
    operations.on_task_failure(sender=heartbeat, task_id="t-2", exception=TimeoutError("短信网关超时"))
    operations.on_task_postrun(task_id="t-2", task=heartbeat, state="FAILURE")
    failed = TaskRun.objects.get(task_id="t-2")
    assert failed.status == "failed" and "短信网关超时" in failed.error and failed.finished_at


def test_eager_runs_are_not_recorded(db):
    heartbeat.apply()
    assert not TaskRun.objects.exists()


def test_health_reads_the_worker_and_beat_from_their_traces(db):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    h = operations.health(ping=False)
    assert not h.worker_ok and not h.beat_ok
    TaskRun.objects.create(task_name="x", task_id="a", started_at=timezone.now(), status="succeeded")
    cron = CrontabSchedule.objects.create(minute="*")
    PeriodicTask.objects.create(
        name="reports-heartbeat", task="reports.tasks.heartbeat", crontab=cron, last_run_at=timezone.now()
    )
    h = operations.health(ping=False)
    assert h.worker_ok and h.beat_ok
    TaskRun.objects.update(started_at=timezone.now() - dt.timedelta(minutes=10))
    assert not operations.health(ping=False).worker_ok


def test_queue_lengths_come_from_the_broker_in_use(db):
    queues, note = operations.queue_lengths()
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert all(isinstance(n, int) for n in queues.values())
        assert set(queues) == {"default", "imports", "reports", "reminders"}
        import redis

        # A message waiting in the reports queue is counted there.
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        client.lpush("reports", b"{}")
        try:
            assert operations.queue_lengths()[0]["reports"] == queues["reports"] + 1
        finally:
            client.lpop("reports")
    else:
        assert list(queues) == ["filesystem"] and "内置文件队列" in note


def test_every_scheduled_task_is_listed_with_its_last_run(db):
    TaskRun.objects.create(
        task_name="reports.tasks.monthly_reports", task_id="m", started_at=timezone.now(), status="failed", error="boom"
    )
    rows = {s.key: s for s in operations.scheduled_tasks()}
    from unionportal.celery import app

    assert set(rows) == set(app.conf.beat_schedule)
    assert rows["reports-monthly-reports"].last.error == "boom"
    assert rows["reports-heartbeat"].last is None


def test_a_failure_is_retried_once_with_its_arguments_and_audited(admin, django_capture_on_commit_callbacks):
    run = TaskRun.objects.create(
        task_name="reports.tasks.heartbeat", task_id="f", started_at=timezone.now(), status="failed", error="x"
    )
    c = _client(admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = c.post(reverse("operations-task-retry", args=[run.pk]))
    assert response.status_code == 302 and len(callbacks) == 1
    run.refresh_from_db()
    assert run.retried_at is not None
    assert AuditEvent.objects.filter(action="operations.task_retried").count() == 1
    from core.errors import DomainError

    with pytest.raises(DomainError):
        operations.task_run_retry(actor=admin, run=run)


def test_a_retry_while_the_broker_is_down_lands_in_the_outbox(admin, django_capture_on_commit_callbacks):
    from tests.security.test_faults import DEAD_REDIS, _broker

    run = TaskRun.objects.create(
        task_name="reports.tasks.heartbeat", task_id="g", started_at=timezone.now(), status="failed"
    )
    with _broker(DEAD_REDIS, eager=False), django_capture_on_commit_callbacks(execute=True):
        operations.task_run_retry(actor=admin, run=run)
    assert TaskOutbox.objects.filter(task_name="reports.tasks.heartbeat").exists()
    # the outbox is on the operations view, with a button to send it now
    body = _client(admin).get(reverse("operations")).content.decode()
    assert "reports.tasks.heartbeat" in body and "立即发送" in body


def test_only_superusers_open_the_operations_view(admin, owner, clerk, worker):
    TaskOutbox.objects.create(task_name="members.tasks.x", last_error="连接被拒绝")
    TaskRun.objects.create(
        task_name="reports.tasks.heartbeat", task_id="h", started_at=timezone.now(), status="failed", error="超时"
    )
    response = _client(admin).get(reverse("operations"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "members.tasks.x" in body and "连接被拒绝" in body and "超时" in body and "reports-monthly-reports" in body
    assert _client(owner).get(reverse("operations")).status_code == 403
    assert _client(clerk).post(reverse("operations-outbox-resend")).status_code == 403
    assert _client(worker).get(reverse("operations")).status_code == 302
    assert Client().get(reverse("operations")).status_code == 302


def test_other_failure_sources_are_shown(admin):
    def deliveries(limit):
        return [{"at": timezone.now(), "what": "短信提醒", "error": "网关超时", "attempts": 3}]

    operations.register_failure_source("消息发送失败", deliveries)
    try:
        body = _client(admin).get(reverse("operations")).content.decode()
    finally:
        operations.FAILURE_SOURCES[:] = [s for s in operations.FAILURE_SOURCES if s[1] is not deliveries]
    assert "消息发送失败" in body and "网关超时" in body


def test_the_heartbeat_trims_old_run_records(db):
    TaskRun.objects.create(task_name="x", task_id="old", started_at=timezone.now() - dt.timedelta(days=30))
    TaskRun.objects.create(task_name="x", task_id="new", started_at=timezone.now())
    heartbeat.apply()
    assert list(TaskRun.objects.values_list("task_id", flat=True)) == ["new"]


def test_failed_notification_deliveries_are_on_the_operations_view(admin, owner):
    model = operations.delivery_model()
    if model is None:
        pytest.skip("activity.Delivery (notifications) is not in this build")
    from django.apps import apps

    reminder = apps.get_model("activity", "Reminder").objects.create(
        kind="dispute.day10",
        target_type="disputes.case",
        target_id="1",
        due_on=dt.date(2026, 11, 30),
        title="调解案件第10天",
    )
    model.objects.create(
        reminder=reminder, recipient=owner, channel="sms", status="failed", attempts=3, last_error="短信网关超时"
    )
    body = _client(admin).get(reverse("operations")).content.decode()
    assert "消息发送失败" in body and "短信网关超时" in body and "调解案件第10天" in body


def test_the_operations_view_keeps_its_query_count_as_runs_and_the_outbox_grow(admin):
    from tests.querycount import assert_list_queries

    def grow(n):
        now = timezone.now()
        for i in range(n):
            TaskRun.objects.create(
                task_name="reports.tasks.monthly_reports",
                task_id=f"grow-{n}-{i}",
                started_at=now,
                status="failed",
                error="boom",
            )
            TaskOutbox.objects.create(task_name="reports.tasks.heartbeat", args=[], kwargs={}, last_error="down")

    assert_list_queries(_client(admin), reverse("operations"), grow)
