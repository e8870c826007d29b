"""The reminders of mediation cases (registered with activity in DisputesConfig.ready).

- day 10 of the 15-day statutory period (the lists' amber), to the mediator and their
  body's head;
- overdue (the deadline has passed and the case is still open), to the same;
- escalation: still open two days after it went overdue, to the district's dispute
  managers (the district head).

Each is keyed by the case's current deadline, so a daily sweep tells each once, and a
deadline moved by an extension or a pause is a new reminder.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.recipients import district_path, nearest_holders
from activity.registry import WORKER, Due, ReminderKind, register_reminders
from core.roles import DISPUTE_MANAGE

from . import clock
from .models import OPEN_STATES, Case, Mediator
from .selectors import clocks_for

DAY10 = "disputes.case_day10"
OVERDUE = "disputes.case_overdue"
ESCALATED = "disputes.case_escalated"
SESSION_SCHEDULED = "disputes.session_scheduled"
ESCALATE_AFTER_DAYS = 2  # overdue and still open this many days later: the district head is told

KINDS = [
    ReminderKind(DAY10, gettext_lazy("调解案件第 10 天（法定 15 天）")),
    ReminderKind(OVERDUE, gettext_lazy("调解案件超期")),
    ReminderKind(ESCALATED, gettext_lazy("超期案件上报区总工会")),
    ReminderKind(SESSION_SCHEDULED, gettext_lazy("调解会已安排"), audience=WORKER),
]
CHUNK = 2000


def scan(today: dt.date):
    qs = Case.objects.filter(status__in=OPEN_STATES).select_related("mediator").order_by("id")
    last = 0
    while True:
        chunk = list(qs.filter(id__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1].pk
        clocks = clocks_for(chunk, today=today)
        heads = defaultdict(set)
        for body_id, user_id in Mediator.objects.filter(
            body_id__in={c.body_id for c in chunk}, is_head=True, is_active=True, user__is_active=True
        ).values_list("body_id", "user_id"):
            heads[body_id].add(user_id)
        for case in chunk:
            state = clocks.get(case.pk)
            if state is None or state.deadline is None:
                continue
            yield from _dues(case, state, heads[case.body_id], today)


def _dues(case: Case, state: clock.ClockState, heads: set[int], today: dt.date):
    url = reverse("dispute-case", args=[case.pk])
    people = set(heads)
    if case.mediator_id and case.mediator.user_id:
        people.add(case.mediator.user_id)
    if not people:  # nobody assigned yet: the body's managers
        people = set(nearest_holders(case.org_path, DISPUTE_MANAGE))
    common = {"target_type": "disputes.case", "target_id": str(case.pk), "url": url, "org_path": case.org_path}
    deadline = state.deadline.isoformat()
    if state.warning:
        yield Due(
            kind=DAY10,
            due_on=state.deadline,
            recipients=tuple(sorted(people)),
            title=_("案件 %(number)s 已进入第 %(day)s 天，%(deadline)s 到期")
            % {"number": case.number, "day": state.elapsed_days, "deadline": deadline},
            body=_("剩余 %(left)s 天，请抓紧调解或依法告知当事人申请仲裁。") % {"left": state.days_left},
            **common,
        )
    if state.overdue:
        yield Due(
            kind=OVERDUE,
            due_on=state.deadline,
            recipients=tuple(sorted(people)),
            title=_("案件 %(number)s 已超期（%(deadline)s 到期）") % {"number": case.number, "deadline": deadline},
            body=_("请尽快结案或依法终止调解，告知当事人可申请仲裁。"),
            **common,
        )
        if state.overdue_days > ESCALATE_AFTER_DAYS:
            district = district_path(case.org_path) or case.org_path
            yield Due(
                kind=ESCALATED,
                due_on=state.deadline + timedelta(days=ESCALATE_AFTER_DAYS + 1),
                recipients=nearest_holders(district, DISPUTE_MANAGE),
                title=_("超期案件 %(number)s 已逾期 %(days)s 天仍未处理")
                % {"number": case.number, "days": state.overdue_days},
                body=_("该案件 %(deadline)s 到期，调解员和调解组织负责人已收到提醒，请督办。") % {"deadline": deadline},
                **common,
            )


def notify_session_scheduled(case: Case, session) -> None:
    """Tell the worker who applied that a mediation session is set (a session still to come)."""
    from django.utils import timezone

    from activity.services import notify

    if not case.applicant_user_id or session.held_at <= timezone.now():
        return
    at = timezone.localtime(session.held_at)
    notify(
        kind=SESSION_SCHEDULED,
        target=session,
        recipients=[case.applicant_user_id],
        title=_("案件 %(number)s 的调解会定于 %(at)s 举行")
        % {"number": case.number, "at": at.strftime("%Y-%m-%d %H:%M")},
        body=_("地点：%(place)s。请按时参加，携带身份证和相关材料。") % {"place": session.place},
        url=reverse("my-disputes"),
        org_path=case.org_path,
    )


def register() -> None:
    register_reminders("disputes", kinds=KINDS, scan=scan)
