"""The reminders and worker notifications of members (registered with activity in MembersConfig.ready).

- a join application pending for APPLICATION_WAIT_DAYS, to the clerks with member.manage
  nearest its union;
- to the worker: their application approved (sent by join_application_approve).

It also tells activity where a worker's text messages go: the mobile on their member record.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.channels import register_address_resolver
from activity.recipients import nearest_holders
from activity.registry import WORKER, Due, ReminderKind, register_reminders
from core import crypto
from core.roles import MEMBER_MANAGE

from .models import JoinApplication, Member

APPLICATION_WAITING = "members.application_waiting"
APPLICATION_APPROVED = "members.application_approved"
APPLICATION_WAIT_DAYS = 3

KINDS = [
    ReminderKind(APPLICATION_WAITING, gettext_lazy("入会申请等待审核过久")),
    # The approval already sends its own text message (join_application_approve): the inbox only.
    ReminderKind(APPLICATION_APPROVED, gettext_lazy("入会申请已批准"), audience=WORKER, channels=("in_app",)),
]


def scan(today: dt.date):
    cutoff = timezone.make_aware(dt.datetime.combine(today - timedelta(days=APPLICATION_WAIT_DAYS), dt.time.max))
    pending = JoinApplication.objects.filter(status=JoinApplication.Status.PENDING, created_at__lte=cutoff).order_by(
        "id"
    )
    for application in pending.only("id", "name", "org_path", "created_at").iterator(chunk_size=1000):
        yield Due(
            kind=APPLICATION_WAITING,
            target_type="members.joinapplication",
            target_id=str(application.pk),
            due_on=timezone.localtime(application.created_at).date() + timedelta(days=APPLICATION_WAIT_DAYS),
            recipients=nearest_holders(application.org_path, MEMBER_MANAGE),
            title=_("%(name)s 的入会申请已等待 %(days)s 天以上")
            % {"name": application.name, "days": APPLICATION_WAIT_DAYS},
            body=_("请尽快审核：批准或驳回（驳回需写明理由）。"),
            url=reverse("member-application-detail", args=[application.pk]),
            org_path=application.org_path,
        )


def notify_application_approved(application: JoinApplication, user) -> None:
    """Tell the worker their application was approved (called inside the approving transaction)."""
    from activity.services import notify

    if user is None:
        return
    notify(
        kind=APPLICATION_APPROVED,
        target=application,
        recipients=[user],
        title=_("您的入会申请已批准"),
        body=_("欢迎加入工会！电子会员卡已可在“我的会员卡”中查看。"),
        url=reverse("my-card"),
        org_path=application.org_path,
    )


def worker_mobile(user) -> str:
    """The mobile number of a worker's member record ("" for staff or none on file)."""
    if not getattr(user, "is_worker", False):
        return ""
    token = Member.objects.filter(user=user).exclude(mobile_enc="").values_list("mobile_enc", flat=True).first()
    return crypto.decrypt(token) if token else ""


def workers_with_mobile(user_ids) -> set[int]:
    """Which of `user_ids` are workers with a mobile on their member record (one query)."""
    return set(
        Member.objects.filter(user_id__in=user_ids, user__kind="worker")
        .exclude(mobile_enc="")
        .values_list("user_id", flat=True)
    )


def register() -> None:
    register_reminders("members", kinds=KINDS, scan=scan)
    register_address_resolver("sms", worker_mobile, reachable=workers_with_mobile)
