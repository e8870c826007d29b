"""Reminders with real Celery workers and Redis, against the test's PostgreSQL database.

1. Each reminder sweep sent twice at once to two workers: exactly one message per due
   item and recipient, in the inbox and by email.
2. A worker killed after claiming an email: nothing sent; once the lease has run out the
   next sweep sends it, once.

Skipped without PostgreSQL and Redis (CI runs both: .ci/run).
"""

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from activity.models import Delivery, DeliveryStatus, Notification, Reminder
from core.approvals import approval_chain_publish, approval_start
from core.models import ApprovalRun
from core.roles import MEMBER_MANAGE
from disputes import services as dispute_services
from members import services as member_services
from members.models import JoinApplication
from tests.celery_workers import Workers, wait_for
from tests.conftest import _staff
from tests.disputes.conftest import receive
from tests.members.pages_helpers import submit_application
from unionportal.celery import app as celery_app

LEASE_SECONDS = 3


@pytest.fixture
def workers(postgres_only, transactional_db, tmp_path):
    """Start real `celery worker` processes on a private queue; kill them all at the end."""
    mail_log = tmp_path / "mail.txt"
    mail_log.touch()
    env = {
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "EMAIL_BACKEND": "tests.activity.worker_backends.RecordingEmailBackend",
        "NOTIFY_TEST_MAIL_LOG": str(mail_log),
        "NOTIFY_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    with Workers(tmp_path, f"reminders-{uuid.uuid4().hex[:8]}", env=env) as workers:
        workers.mail = mail_log
        yield workers


def _send(queue: str, task: str, **kwargs) -> None:
    celery_app.send_task(task, kwargs=kwargs, queue=queue, retry=False)


def _succeeded(logs: Path, task: str) -> int:
    """How many runs of `task` the workers' logs report finished."""
    return sum(
        1
        for p in logs.glob("*.log")
        for line in p.read_text(errors="replace").splitlines()
        if f"Task {task}[" in line and "succeeded" in line
    )


def _mail_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture
def due_items(tree, owner, bodies, mediators):
    """Something due in three sources: a case on day 11, two join applications 4 days old, an approval 4 days old."""
    today = timezone.localdate()
    clerk = _staff("pd_member_clerk", tree["pudong"], "clerk")
    for user, address in ((mediators["wages"].user, "wages"), (mediators["head"].user, "head"), (clerk, "clerk")):
        user.email = f"{address}@example.org"
        user.save()
    case = receive(owner, bodies["pudong"], received_on=today - timedelta(days=11))
    case = dispute_services.case_accept(case=case, actor=owner)
    dispute_services.case_assign(case=case, actor=owner, mediator=mediators["wages"])
    code = member_services.join_code_create(actor=owner, union=tree["pd_union"])
    submit_application(code, name="申请人甲", mobile="13900001111")
    submit_application(code, name="申请人乙", mobile="13900002222")
    JoinApplication.objects.update(created_at=timezone.now() - timedelta(days=4))
    approval_chain_publish(
        code="test.reminders",
        name="测试审批",
        steps=[{"name": "区级审核", "capability": MEMBER_MANAGE, "org_depth": 2}],
    )
    approval_start(obj=tree["pd_union"], code="test.reminders", actor=owner, org_path=tree["pd_union"].path)
    ApprovalRun.objects.update(started_at=timezone.now() - timedelta(days=4))
    # Expected: the case to its mediator and body head; each application and the approval to the district clerk.
    return {"clerk": clerk, "mediators": mediators, "expected_in_app": 2 + 2 + 1}


def test_each_sweep_run_twice_at_once_sends_one_message_per_due_item(workers, due_items):
    # Both take messages before any is sent: each sweep is really run twice at once.
    a, b = workers.start("a", ready=False), workers.start("b", ready=False)
    workers.wait_ready(a)
    workers.wait_ready(b)
    sources = ["disputes", "members", "approvals"]
    for source in sources:
        _send(workers.queue, "activity.tasks.reminders_sweep", source=source)
        _send(workers.queue, "activity.tasks.reminders_sweep", source=source)
    wait_for(
        lambda: _succeeded(workers.logs, "activity.tasks.reminders_sweep") == 2 * len(sources),
        90,
        "both workers to run every sweep twice",
        workers.logs,
    )
    assert Reminder.objects.count() == 4  # 1 case + 2 applications + 1 approval
    assert Notification.objects.count() == due_items["expected_in_app"]
    pairs = list(Notification.objects.values_list("delivery__reminder_id", "recipient_id"))
    assert len(pairs) == len(set(pairs))
    assert not Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).exists()
    mails = _mail_lines(workers.mail)
    assert len(mails) == due_items["expected_in_app"] and len(set(mails)) == len(mails), mails
    clerk = due_items["clerk"]
    assert sorted(Notification.objects.filter(recipient=clerk).values_list("kind", flat=True)) == [
        "approvals.waiting",
        "members.application_waiting",
        "members.application_waiting",
    ]


def test_a_worker_killed_after_its_claim_loses_nothing_and_the_reminder_goes_out_once(workers, due_items):
    slow = workers.start("slow", env={"EMAIL_BACKEND": "tests.activity.worker_backends.SlowEmailBackend"})
    _send(workers.queue, "activity.tasks.reminders_sweep", source="approvals")
    email = Delivery.objects.filter(channel="email", reminder__kind="approvals.waiting")
    wait_for(
        lambda: email.filter(status=DeliveryStatus.SENDING).exists(), 60, "the worker to claim the email", workers.logs
    )
    workers.kill(slow)  # after the claim, before the send: no goodbye
    assert _mail_lines(workers.mail) == []
    claimed = email.get()
    assert claimed.claimed_until is not None and claimed.attempts == 1

    second = workers.start("second", ready=False)  # it starts up while the lease runs out
    # Within the lease nobody touches it; after it the sender's sweep takes it over.
    time.sleep(max(0.0, (claimed.claimed_until - timezone.now()).total_seconds()) + 0.5)
    workers.wait_ready(second)
    _send(workers.queue, "activity.tasks.deliveries_send")
    wait_for(
        lambda: email.get().status == DeliveryStatus.SENT, 60, "the email to be sent after the lease", workers.logs
    )
    _send(workers.queue, "activity.tasks.deliveries_send")
    _send(workers.queue, "activity.tasks.reminders_sweep", source="approvals")
    wait_for(
        lambda: (
            _succeeded(workers.logs, "activity.tasks.reminders_sweep") >= 1
            and _succeeded(workers.logs, "activity.tasks.deliveries_send") >= 2
        ),
        60,
        "the later sweeps",
        workers.logs,
    )
    assert _mail_lines(workers.mail) == ["clerk@example.org\t[UnionPortal] " + email.get().reminder.title]
    sent = email.get()
    assert sent.attempts == 2 and sent.last_error == ""
    assert Notification.objects.filter(delivery__reminder__kind="approvals.waiting").count() == 1
