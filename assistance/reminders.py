"""The reminders of hardship aid (registered with activity in AssistanceConfig.ready).

- a public notice ending tomorrow or today (objections close with it), to the aid
  officers nearest the file;
- a registered file whose yearly review falls due within REVIEW_NOTICE_DAYS, to the same.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.recipients import nearest_holders
from activity.registry import Due, ReminderKind, register_reminders
from core.roles import AID_MANAGE

from .models import ACTIVE_STATUSES, HardshipFile, PublicNotice

NOTICE_ENDING = "assistance.notice_ending"
REVIEW_DUE = "assistance.review_due"
NOTICE_AHEAD_DAYS = 1
REVIEW_NOTICE_DAYS = 14

KINDS = [
    ReminderKind(NOTICE_ENDING, gettext_lazy("帮扶公示即将结束")),
    ReminderKind(REVIEW_DUE, gettext_lazy("困难职工档案到期复核")),
]


def scan(today: dt.date):
    notices = (
        PublicNotice.objects.filter(
            closed_at__isnull=True, end__gte=today, end__lte=today + timedelta(days=NOTICE_AHEAD_DAYS)
        )
        .select_related("file")
        .order_by("id")
    )
    for notice in notices.iterator(chunk_size=1000):
        yield Due(
            kind=NOTICE_ENDING,
            target_type="assistance.publicnotice",
            target_id=str(notice.pk),
            due_on=notice.end,
            recipients=nearest_holders(notice.org_path, AID_MANAGE),
            title=_("档案 %(file)s 的公示将于 %(end)s 结束") % {"file": notice.file, "end": notice.end.isoformat()},
            body=_("公示期满后请处理异议并关闭公示，再提交审批。"),
            url=reverse("aid-file-detail", args=[notice.file_id]),
            org_path=notice.org_path,
        )
    files = HardshipFile.objects.filter(
        status__in=ACTIVE_STATUSES, review_due__isnull=False, review_due__lte=today + timedelta(days=REVIEW_NOTICE_DAYS)
    ).order_by("id")
    for file in files.only("id", "number", "org_path", "review_due").iterator(chunk_size=1000):
        yield Due(
            kind=REVIEW_DUE,
            target_type="assistance.hardshipfile",
            target_id=str(file.pk),
            due_on=file.review_due,
            recipients=nearest_holders(file.org_path, AID_MANAGE),
            title=_("档案 %(file)s 应于 %(due)s 前复核") % {"file": file, "due": file.review_due.isoformat()},
            body=_("请入户复核家庭收入和困难情况，更新档次或解除建档。"),
            url=reverse("aid-file-detail", args=[file.pk]),
            org_path=file.org_path,
        )


def register() -> None:
    register_reminders("assistance", kinds=KINDS, scan=scan)
