"""Demo notifications: today's reminders from the demo data, and a few messages for every demo login.

Called by seed_demo after the domains' demo data. The messages are data (stored as
written, in Chinese, like every message the sweeps write), not interface text. Idempotent: the reminders are keyed by
(object, kind, due date) and the demo messages by a fixed date.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from organizations.models import User

from . import registry
from .models import Notification
from .reminders import NOTICE
from .services import notify, reminders_sweep

DEMO_DAY = dt.date(2026, 1, 1)

# login → (read message, unread message), each (title, body, URL name)
MESSAGES = {
    "city": (
        (
            "欢迎使用消息通知",
            "调解期限、帮扶复核、入会审批和项目节点的提醒都会送到这里，并按您的设置发送邮件或短信。",
            "notification-preferences",
        ),
        (
            "各区入会审批进度请关注",
            "部分基层工会的入会申请已等待 3 天以上，请督促各区及时审核。",
            "member-applications",
        ),
    ),
    "pudong": (
        ("欢迎使用消息通知", "入会申请等待过久、帮扶档案到期复核等提醒会送到这里。", "notification-preferences"),
        ("有入会申请等待审核", "请打开入会审批列表，批准或驳回（驳回需写明理由）。", "member-applications"),
    ),
    "street": (
        ("欢迎使用消息通知", "本街道的入会申请和调解案件提醒会送到这里。", "notification-preferences"),
        ("请核对本街道的入会申请", "街道收到的入会申请请在 3 天内审核。", "member-applications"),
    ),
    "aidofficer": (
        ("欢迎使用消息通知", "公示即将结束、档案到期复核的提醒会送到这里。", "notification-preferences"),
        ("帮扶档案到期复核提醒", "有档案将在两周内到期复核，请入户复核家庭收入和困难情况。", "aid-files"),
    ),
    "mediator": (
        (
            "欢迎使用消息通知",
            "调解案件第 10 天和超期的提醒会送到这里，超期 2 天未处理会上报区总工会。",
            "notification-preferences",
        ),
        (
            "请关注临近期限的调解案件",
            "法定调解期限为 15 天，请在期限内结案或依法告知当事人申请仲裁。",
            "dispute-my-cases",
        ),
    ),
    "projects": (
        ("欢迎使用消息通知", "项目进度节点到期的提醒会送到这里。", "notification-preferences"),
        ("项目进度节点即将到期", "请在项目页登记已完成的节点；不能按期完成请说明原因。", "project-library"),
    ),
    "worker": (
        ("欢迎使用“我的消息”", "入会审批结果、调解会安排、候补转正等通知会送到这里。", "selfservice-home"),
        ("服务项目候补通知", "您报名的服务项目有新的名额时，会在这里和短信中通知您。", "my-projects"),
    ),
}


def seed_notifications() -> dict[str, int]:
    before = Notification.objects.count()
    for source, entry in registry.sources().items():
        if entry.scan is not None:
            reminders_sweep(source=source)
    users = {u.username: u for u in User.objects.filter(username__in=MESSAGES)}
    for username, (read, unread) in MESSAGES.items():
        user = users.get(username)
        if user is None:
            continue
        for index, (title, body, url_name) in enumerate((read, unread)):
            notify(
                kind=NOTICE,
                target=user,
                recipients=[user],
                title=title,
                body=body,
                url=reverse(url_name),
                on=DEMO_DAY + dt.timedelta(days=index),
            )
        Notification.objects.filter(recipient=user, kind=NOTICE, title=read[0], read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return {"notifications": Notification.objects.count() - before}
