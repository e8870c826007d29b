"""The reminders and worker notifications of service projects (registered in ProjectsConfig.ready).

- a milestone of a project being implemented falls due within MILESTONE_AHEAD_DAYS (or
  has passed undone), to the project officers nearest the project;
- a waiting-list offer expiring within OFFER_WARNING_HOURS, to the worker who holds it;
- to the worker: moved off the waiting list (sent by the promotion in services).
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.recipients import nearest_holders
from activity.registry import WORKER, Due, ReminderKind, register_reminders
from core.roles import PROJECT_MANAGE

from .models import Enrolment, Milestone, Project

MILESTONE_DUE = "projects.milestone_due"
OFFER_EXPIRING = "projects.offer_expiring"
OFFERED = "projects.offered"
MILESTONE_AHEAD_DAYS = 3
MILESTONE_LOOKBACK_DAYS = 30  # an undone milestone is reminded once; older ones are not dug up again
OFFER_WARNING_HOURS = 6

KINDS = [
    ReminderKind(MILESTONE_DUE, gettext_lazy("项目进度节点到期")),
    ReminderKind(OFFER_EXPIRING, gettext_lazy("候补名额确认即将截止"), audience=WORKER),
    ReminderKind(OFFERED, gettext_lazy("候补转正，请确认名额"), audience=WORKER),
]


def scan(today: dt.date):
    milestones = (
        Milestone.objects.filter(
            project__stage=Project.Stage.IMPLEMENTING,
            done_on__isnull=True,
            due_date__gte=today - timedelta(days=MILESTONE_LOOKBACK_DAYS),
            due_date__lte=today + timedelta(days=MILESTONE_AHEAD_DAYS),
        )
        .select_related("project")
        .order_by("id")
    )
    for milestone in milestones.iterator(chunk_size=1000):
        project = milestone.project
        yield Due(
            kind=MILESTONE_DUE,
            target_type="projects.milestone",
            target_id=str(milestone.pk),
            due_on=milestone.due_date,
            recipients=nearest_holders(project.org_path, PROJECT_MANAGE),
            title=_("项目“%(project)s”的节点“%(name)s”计划于 %(due)s 完成")
            % {"project": project.title, "name": milestone.name, "due": milestone.due_date.isoformat()},
            body=_("完成后请在项目页登记完成日期；不能按期完成请说明原因。"),
            url=reverse("project-detail", args=[project.pk]),
            org_path=project.org_path,
        )
    now = timezone.now()
    offers = (
        Enrolment.objects.filter(
            status=Enrolment.Status.OFFERED,
            offer_expires_at__gt=now,
            offer_expires_at__lte=now + timedelta(hours=OFFER_WARNING_HOURS),
        )
        .select_related("member", "session")
        .order_by("id")
    )
    for enrolment in offers.iterator(chunk_size=1000):
        if not enrolment.member.user_id:
            continue
        expires = timezone.localtime(enrolment.offer_expires_at)
        yield Due(
            kind=OFFER_EXPIRING,
            target_type="projects.enrolment",
            target_id=str(enrolment.pk),
            due_on=expires.date(),
            recipients=(enrolment.member.user_id,),
            title=_("“%(session)s”的候补名额请在 %(at)s 前确认")
            % {"session": enrolment.session.title, "at": expires.strftime("%m-%d %H:%M")},
            body=_("逾期未确认，名额将让给下一位候补。"),
            url=reverse("my-projects"),
            org_path=enrolment.org_path,
        )


def notify_offered(enrolment: Enrolment) -> None:
    """Tell the worker a place came free for them (inside the promoting transaction)."""
    from activity.services import notify

    user_id = enrolment.member.user_id
    if not user_id:
        return
    expires = timezone.localtime(enrolment.offer_expires_at) if enrolment.offer_expires_at else None
    notify(
        kind=OFFERED,
        target=enrolment,
        recipients=[user_id],
        title=_("您已从候补转为“%(session)s”的待确认名额") % {"session": enrolment.session.title},
        body=(_("请在 %(at)s 前确认。") % {"at": expires.strftime("%m-%d %H:%M")}) if expires else "",
        url=reverse("my-projects"),
        org_path=enrolment.org_path,
    )


def register() -> None:
    register_reminders("projects", kinds=KINDS, scan=scan)
