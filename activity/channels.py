"""The delivery channels behind one interface: `send(delivery, reminder, recipient) -> None`.

- in_app: a Notification row, one per delivery (a OneToOne, so a repeated send adds none);
- email: Django's email backend (EMAIL_BACKEND: the console in the demo, SMTP in production);
- sms: core.sms's gateway (SMS_BACKEND: a logging one in the demo).

A channel raises to say "not sent, try again later" (the caller records the error and
retries with backoff, a bounded number of times) and raises NoAddress when the user has
no address for it (recorded once as skipped, never retried). The addresses of workers
(their mobile) live in members, above activity: members registers a resolver with
`register_address_resolver("sms", fn)` (fn(user) -> str).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from core import sms

from .inbox import forget_unread
from .models import Channel, Delivery, Notification, Reminder


class NoAddress(Exception):
    """The recipient has no address for this channel (no email, no mobile)."""


_RESOLVERS: dict[str, list[Callable]] = {}
_REACHABLE: dict[str, list[Callable]] = {}


def register_address_resolver(channel: str, resolver: Callable, *, reachable: Callable | None = None) -> None:
    """`resolver(user) -> address`; `reachable(user_ids) -> the ids that have one` (one query for a sweep's batch)."""
    _RESOLVERS.setdefault(channel, []).append(resolver)
    if reachable is not None:
        _REACHABLE.setdefault(channel, []).append(reachable)


def reachable(channel: str, user_ids: set[int]) -> set[int]:
    """The users of `user_ids` with an address for `channel` (a sweep writes no delivery it could never send)."""
    from organizations.models import User

    if channel == Channel.IN_APP:
        return set(user_ids)
    found = set()
    if channel == Channel.EMAIL:
        found |= set(User.objects.filter(pk__in=user_ids).exclude(email="").values_list("pk", flat=True))
    for check in _REACHABLE.get(channel, []):
        found |= set(check(user_ids))
    return found


def address(channel: str, user) -> str:
    if channel == Channel.EMAIL and user.email:
        return user.email
    for resolver in _RESOLVERS.get(channel, []):
        found = resolver(user)
        if found:
            return found
    return ""


def _text(reminder: Reminder) -> str:
    link = f"\n{settings.PORTAL_BASE_URL.rstrip('/')}{reminder.url}" if reminder.url else ""
    return f"{reminder.body}{link}" if reminder.body else f"{reminder.title}{link}"


class InAppChannel:
    def send(self, delivery: Delivery, reminder: Reminder, recipient) -> None:
        transaction.on_commit(lambda: forget_unread(recipient))
        Notification.objects.get_or_create(
            delivery=delivery,
            defaults={
                "recipient": recipient,
                "kind": reminder.kind,
                "title": reminder.title,
                "body": reminder.body,
                "url": reminder.url,
                "target_type": reminder.target_type,
                "target_id": reminder.target_id,
                "org_path": reminder.org_path,
            },
        )


class EmailChannel:
    def send(self, delivery: Delivery, reminder: Reminder, recipient) -> None:
        to = address(Channel.EMAIL, recipient)
        if not to:
            raise NoAddress("no email address")
        send_mail(f"[UnionPortal] {reminder.title}", _text(reminder), None, [to], fail_silently=False)


class SmsChannel:
    def send(self, delivery: Delivery, reminder: Reminder, recipient) -> None:
        mobile = address(Channel.SMS, recipient)
        if not mobile:
            raise NoAddress("no mobile number")
        # The gateway itself, not send_sms_on_commit: a failure here must reach the caller to be retried.
        sms.get_backend().send(mobile, f"【工会】{reminder.title}" + (f"：{reminder.body}" if reminder.body else ""))


CHANNELS = {
    Channel.IN_APP: InAppChannel(),
    Channel.EMAIL: EmailChannel(),
    Channel.SMS: SmsChannel(),
}


def channel(name: str):
    return CHANNELS[name]
