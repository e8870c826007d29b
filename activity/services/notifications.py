"""Notifications: telling people of events, the inbox's read marks, and channel preferences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.outbox import enqueue

from .. import registry
from ..inbox import forget_unread
from ..models import Channel, Delivery, DeliveryStatus, Notification, NotificationPreference, Reminder
from ..routing import channels_for

SEND_TASK = "activity.tasks.deliveries_send"


@transaction.atomic
def notify(
    *,
    kind: str,
    target,
    recipients: Iterable,
    title: str,
    body: str = "",
    url: str = "",
    org_path: str = "",
    on: dt.date | None = None,
) -> Reminder | None:
    """Tell `recipients` (users or ids) of an event on `target`, inside the caller's transaction.

    The ledger row is keyed by (target, kind, day), so calling this twice for the same
    event adds nothing. The inbox message is written here, in the transaction (it exists
    exactly when the change does); email and SMS are sent after the commit by the
    `deliveries_send` task (through core.outbox, so a broker outage loses nothing).
    """
    registry.kind(kind)  # an unregistered kind is a programming error: fail loudly
    ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    if not ids:
        return None
    target_type, target_id = registry.target_label(target)
    reminder, _ = Reminder.objects.get_or_create(
        target_type=target_type,
        target_id=target_id,
        kind=kind,
        due_on=on or timezone.localdate(),
        defaults={"title": title[:200], "body": body[:500], "url": url[:300], "org_path": org_path},
    )
    chosen = channels_for(ids, [kind])
    later = []
    now = timezone.now()
    for uid in ids:
        for channel in chosen[(uid, kind)]:
            delivery, created = Delivery.objects.get_or_create(
                reminder=reminder, recipient_id=uid, channel=channel, defaults={"org_path": org_path}
            )
            if not created:
                continue
            if channel == Channel.IN_APP:
                Notification.objects.create(
                    recipient_id=uid,
                    delivery=delivery,
                    kind=kind,
                    title=reminder.title,
                    body=reminder.body,
                    url=reminder.url,
                    target_type=target_type,
                    target_id=target_id,
                    org_path=org_path,
                )
                Delivery.objects.filter(pk=delivery.pk).update(
                    status=DeliveryStatus.SENT, sent_at=now, attempts=1, updated_at=now
                )
            else:
                later.append(delivery.pk)
    if later:
        enqueue(SEND_TASK, later)
    transaction.on_commit(lambda: [forget_unread(uid) for uid in ids])
    return reminder


def notification_mark_read(*, user, notification: Notification) -> Notification:
    """Mark one of the user's own messages read (someone else's: refused; already read: unchanged).

    Not audited: a read mark is the reader's own bookkeeping and changes nothing of the union's.
    """
    if notification.recipient_id != user.pk:
        raise DomainError("not yours")  # selectors never hand out another's message; this is a guard
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notification_mark_all_read(*, user) -> int:
    """Mark every unread message of the user read; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def preferences_save(*, user, choices: dict[str, dict[str, bool]]) -> None:
    """Store the user's channels per kind: {kind: {"email": bool, "sms": bool}} (the inbox is always on)."""
    for code, chosen in choices.items():
        registry.kind(code)
        NotificationPreference.objects.update_or_create(
            user=user, kind=code, defaults={"email": bool(chosen.get("email")), "sms": bool(chosen.get("sms"))}
        )
    log_action(actor=user, action="notifications.preferences_saved", target=user, data={"kinds": sorted(choices)})
