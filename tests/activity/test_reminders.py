"""Reminders: the ledger is written once per (object, kind, due date), each delivery is sent once,
failures are retried with backoff a bounded number of times, and a run-out lease is taken over."""

import datetime as dt
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from activity import registry
from activity.models import Delivery, DeliveryStatus, Notification, NotificationPreference, Reminder
from activity.services import deliveries_send_due, notify, reminders_sweep
from disputes import reminders as dispute_reminders
from disputes import services as dispute_services
from disputes.selectors import clocks_for
from tests.conftest import _staff
from tests.disputes.conftest import receive

D = dt.date


@pytest.fixture
def case(tree, owner, bodies, mediators):
    c = receive(owner, bodies["pudong"], received_on=D(2026, 11, 2))
    c = dispute_services.case_accept(case=c, actor=owner)
    return dispute_services.case_assign(case=c, actor=owner, mediator=mediators["wages"])


@pytest.fixture
def district_head(tree):
    return _staff("pd_district_head", tree["pudong"], "federation_admin")


def _deadline(case):
    return clocks_for([case], today=D(2026, 11, 3))[case.pk].deadline


def _inbox(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_every_source_of_the_issue_is_registered_with_its_kinds():
    kinds = {k.code for k in registry.kinds()}
    assert set(registry.sources()) >= {"approvals", "members", "assistance", "disputes", "projects"}
    assert {
        "disputes.case_day10",
        "disputes.case_overdue",
        "disputes.case_escalated",
        "assistance.notice_ending",
        "assistance.review_due",
        "members.application_waiting",
        "approvals.waiting",
        "projects.milestone_due",
        "projects.offer_expiring",
    } <= kinds
    scanned = {name for name, source in registry.sources().items() if source.scan is not None}
    assert scanned == {"approvals", "members", "assistance", "disputes", "projects"}


def test_the_beat_schedule_lists_one_sweep_per_source_and_the_sender():
    from unionportal.celery import app

    schedule = app.conf.beat_schedule
    swept = {e["kwargs"]["source"] for e in schedule.values() if e["task"] == "activity.tasks.reminders_sweep"}
    assert swept == {name for name, source in registry.sources().items() if source.scan is not None}
    assert schedule["reminders-send-due"]["task"] == "activity.tasks.deliveries_send"


def test_day_ten_goes_to_the_mediator_and_the_body_head_once_however_often_it_runs(case, mediators):
    day10 = D(2026, 11, 12)  # ten counted days after the receipt on 2 November
    assert clocks_for([case], today=day10)[case.pk].warning
    first = reminders_sweep(source="disputes", today=day10)
    again = reminders_sweep(source="disputes", today=day10)
    reminders_sweep(source="disputes", today=day10 + timedelta(days=1))
    assert first.due == 1 and first.sent >= 2 and again.sent == 0
    assert Reminder.objects.filter(kind="disputes.case_day10", target_id=str(case.pk)).count() == 1
    assert _inbox(mediators["wages"].user) == ["disputes.case_day10"]
    assert _inbox(mediators["head"].user) == ["disputes.case_day10"]
    assert _inbox(mediators["other"].user) == []  # not their case
    assert _inbox(mediators["huangpu"].user) == []  # another district's body
    message = Notification.objects.get(recipient=mediators["wages"].user)
    assert message.url == f"/disputes/{case.pk}/" and case.number in message.title


def test_an_overdue_case_is_escalated_to_the_district_head_two_days_later(case, mediators, district_head, owner):
    deadline = _deadline(case)
    reminders_sweep(source="disputes", today=deadline + timedelta(days=1))
    assert "disputes.case_overdue" in _inbox(mediators["wages"].user)
    assert _inbox(district_head) == []
    reminders_sweep(source="disputes", today=deadline + timedelta(days=2))
    assert _inbox(district_head) == []  # told the mediator one day ago: not ignored long enough
    reminders_sweep(source="disputes", today=deadline + timedelta(days=3))  # two days after the overdue reminder
    reminders_sweep(source="disputes", today=deadline + timedelta(days=4))
    assert _inbox(district_head) == ["disputes.case_escalated"]
    assert _inbox(owner) == []  # the nearest level (the district), not the city
    assert _inbox(mediators["wages"].user).count("disputes.case_overdue") == 1


def test_a_closed_case_is_not_reminded(case, owner, mediators):
    dispute_services.case_withdraw(case=case, actor=owner, reason="当事人撤回申请")
    reminders_sweep(source="disputes", today=_deadline(case) + timedelta(days=5))
    assert Notification.objects.count() == 0


def test_email_follows_the_defaults_and_the_preferences(case, mediators, settings):
    wages, head = mediators["wages"].user, mediators["head"].user
    wages.email, head.email = "wages@example.org", "head@example.org"
    wages.save(), head.save()
    NotificationPreference.objects.create(user=head, kind="disputes.case_day10", email=False, sms=False)
    reminders_sweep(source="disputes", today=D(2026, 11, 12))
    assert [m.to for m in mail.outbox] == [["wages@example.org"]]
    assert case.number in mail.outbox[0].subject
    assert _inbox(head) == ["disputes.case_day10"]  # the inbox is always on


class BrokenBackend:
    """An email backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server refused the connection")


def test_a_broken_email_backend_is_retried_with_backoff_and_sends_once_after_recovery(case, mediators, settings):
    wages = mediators["wages"].user
    wages.email = "wages@example.org"
    wages.save()
    settings.EMAIL_BACKEND = "tests.activity.test_reminders.BrokenBackend"
    reminders_sweep(source="disputes", today=D(2026, 11, 12))
    email = Delivery.objects.get(recipient=wages, channel="email")
    assert email.status == DeliveryStatus.PENDING and email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert Delivery.objects.get(recipient=wages, channel="in_app").status == DeliveryStatus.SENT
    assert deliveries_send_due() == 0  # not due yet: backoff
    # The server is back; the retry comes due.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Delivery.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliveries_send_due() == 1
    assert deliveries_send_due() == 0
    reminders_sweep(source="disputes", today=D(2026, 11, 12))
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == DeliveryStatus.SENT and email.attempts == 2 and email.last_error == ""


def test_a_delivery_failing_every_time_gives_up_after_the_bound(case, mediators, settings):
    wages = mediators["wages"].user
    wages.email = "wages@example.org"
    wages.save()
    settings.EMAIL_BACKEND = "tests.activity.test_reminders.BrokenBackend"
    settings.NOTIFY_MAX_ATTEMPTS = 3
    reminders_sweep(source="disputes", today=D(2026, 11, 12))
    email = Delivery.objects.get(recipient=wages, channel="email")
    waits = []
    for _ in range(5):
        email.refresh_from_db()
        waits.append((email.next_attempt_at - email.updated_at).total_seconds())
        Delivery.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        deliveries_send_due()
    email.refresh_from_db()
    assert email.status == DeliveryStatus.FAILED and email.attempts == 3
    assert waits[1] > waits[0] * 1.5  # the wait doubles


class TimingOutSms:
    def send(self, mobile, text):
        raise TimeoutError("gateway timed out")


def test_an_sms_gateway_time_out_is_recorded_and_retried(tree, worker, settings, sms_outbox):
    from core import sms
    from members import reminders as member_reminders

    member_reminders_resolver = member_reminders.worker_mobile
    settings.SMS_BACKEND = "tests.activity.test_reminders.TimingOutSms"
    from activity import channels

    channels.register_address_resolver("sms", lambda user: "13912345678" if user.pk == worker.pk else "")
    try:
        notify(kind="projects.offered", target=tree["pd_union"], recipients=[worker], title="候补转正")
        delivery = Delivery.objects.get(channel="sms")
        deliveries_send_due(ids=[delivery.pk])
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING and "TimeoutError" in delivery.last_error
        settings.SMS_BACKEND = "core.sms.TestBackend"
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        deliveries_send_due()
        deliveries_send_due()
        assert [m.mobile for m in sms.outbox] == ["13912345678"]
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT
    finally:
        channels._RESOLVERS["sms"] = [member_reminders_resolver]


def test_a_claimed_delivery_is_left_alone_until_its_lease_runs_out_then_sent_once(case, mediators):
    reminders_sweep(source="disputes", today=D(2026, 11, 12), send=False)
    wages = mediators["wages"].user
    delivery = Delivery.objects.get(recipient=wages, channel="in_app")
    # A worker claimed it and died before sending: status "sending" with a lease.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        claim_token="dead",
        claimed_until=timezone.now() + timedelta(minutes=5),
        attempts=1,
    )
    deliveries_send_due()
    assert _inbox(wages) == []
    Delivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    deliveries_send_due()
    deliveries_send_due()
    assert _inbox(wages) == ["disputes.case_day10"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2


def test_no_email_is_queued_for_a_user_without_an_address_and_one_lost_since_is_skipped(case, mediators):
    wages = mediators["wages"].user
    reminders_sweep(source="disputes", today=D(2026, 11, 12))
    assert not Delivery.objects.filter(channel="email").exists()  # nobody has an address yet
    wages.email = "wages@example.org"
    wages.save()
    reminders_sweep(source="disputes", today=D(2026, 11, 13), send=False)  # the same reminder: adds the email
    wages.email = ""
    wages.save()
    deliveries_send_due()
    email = Delivery.objects.get(recipient=wages, channel="email")
    assert email.status == DeliveryStatus.SKIPPED and email.last_error
    deliveries_send_due()
    email.refresh_from_db()
    assert email.attempts == 1


def test_notify_is_idempotent_per_object_kind_and_day(tree, worker):
    for _ in range(2):
        notify(kind="projects.offered", target=tree["pd_union"], recipients=[worker], title="候补转正")
    assert Notification.objects.filter(recipient=worker).count() == 1


def test_an_unregistered_kind_is_refused(tree, worker):
    with pytest.raises(LookupError):
        notify(kind="nope.never", target=tree["pd_union"], recipients=[worker], title="x")


def test_the_scan_yields_nothing_for_a_case_with_no_clock_yet(tree, owner, bodies):
    receive(owner, bodies["pudong"], received_on=D(2026, 11, 2))  # received, not accepted: no clock
    assert list(dispute_reminders.scan(D(2026, 11, 30))) == []


def test_a_failed_delivery_is_retried_once_by_an_auditor_and_never_a_sent_one(case, mediators, settings, owner, clerk):
    from activity.services import delivery_retry
    from core.errors import DomainError

    wages = mediators["wages"].user
    wages.email = "wages@example.org"
    wages.save()
    settings.EMAIL_BACKEND = "tests.activity.test_reminders.BrokenBackend"
    settings.NOTIFY_MAX_ATTEMPTS = 1
    reminders_sweep(source="disputes", today=D(2026, 11, 12))
    email = Delivery.objects.get(recipient=wages, channel="email")
    assert email.status == DeliveryStatus.FAILED
    with pytest.raises(DomainError):
        delivery_retry(actor=clerk, delivery=email)  # a clerk has no audit.view
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert delivery_retry(actor=owner, delivery=email).status == DeliveryStatus.PENDING
    deliveries_send_due()
    deliveries_send_due()
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == DeliveryStatus.SENT
    with pytest.raises(DomainError):
        delivery_retry(actor=owner, delivery=email)
