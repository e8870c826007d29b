"""Reminders of the shared kits (core.approvals): approvals waiting too long.

The domains declare theirs in their own `reminders.py` (assistance, disputes, members,
projects); this one is activity's, because core (below activity) cannot register.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.approvals import step_path
from core.models import ApprovalRun

from .recipients import nearest_holders
from .registry import Due, ReminderKind, register_reminders

APPROVAL_WAIT_DAYS = 3  # a step without a decision for this many days is reminded to its level

APPROVAL_WAITING = "approvals.waiting"
NOTICE = "activity.notice"  # a notice from the portal itself (the demo's welcome, announcements)

KINDS = [
    ReminderKind(APPROVAL_WAITING, gettext_lazy("审批等待过久")),
    ReminderKind(NOTICE, gettext_lazy("系统通知"), channels=("in_app",)),
]


def _object_url(run) -> str:
    obj = run.content_type.get_object_for_this_type(pk=run.object_id) if run.content_type_id else None
    return obj.get_absolute_url() if obj is not None and hasattr(obj, "get_absolute_url") else ""


def scan(today: dt.date):
    """Running approvals whose current step has waited APPROVAL_WAIT_DAYS since the run or its last decision."""
    cutoff = timezone.make_aware(dt.datetime.combine(today - timedelta(days=APPROVAL_WAIT_DAYS), dt.time.max))
    runs = (
        ApprovalRun.objects.filter(
            status=ApprovalRun.Status.RUNNING, current_step__isnull=False, started_at__lte=cutoff
        )
        .select_related("current_step", "chain", "content_type")
        .annotate(last_decision=Max("decisions__at"))
        .order_by("id")
    )
    for run in runs.iterator(chunk_size=500):
        since = max(filter(None, (run.started_at, run.last_decision)))
        due_on = timezone.localtime(since).date() + timedelta(days=APPROVAL_WAIT_DAYS)
        if due_on > today:
            continue
        step = run.current_step
        level = step_path(run.org_path, step)
        try:
            url = _object_url(run)
        except Exception:  # the object is gone or has no page: the reminder still names the chain
            url = ""
        yield Due(
            kind=APPROVAL_WAITING,
            target_type="core.approvalrun",
            target_id=str(run.pk),
            due_on=due_on,
            recipients=nearest_holders(level, step.capability),
            title=_("审批等待已超过 %(days)s 天：%(chain)s · %(step)s")
            % {"days": APPROVAL_WAIT_DAYS, "chain": run.chain.name or run.chain.code, "step": step.name},
            body=_("请尽快在审批页面处理。"),
            url=url,
            org_path=run.org_path,
        )


def register() -> None:
    register_reminders("approvals", kinds=KINDS[:1], scan=scan)
    register_reminders("notices", kinds=KINDS[1:])
