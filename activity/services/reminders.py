"""Reminders: the sweep that writes the ledger, and the sender that delivers each row once.

The guarantees, and what gives them:

- **written before sending**: a sweep first stores one Reminder per (object, kind, due
  date) (a unique constraint; a second insert is ignored) and one Delivery per
  (reminder, user, channel) (unique too), commits, and only then sends.
- **never twice**: sending starts with a claim, one conditional UPDATE
  (pending and due, or sending with a run-out lease → sending, lease, token). Two
  sweeps racing for a row both run it; PostgreSQL re-checks the condition for the one
  that waited on the row lock, so exactly one gets the row. The result is written only
  by the holder of the claim token. The inbox message is additionally one per delivery
  (a OneToOne), so even a claim lost to a run-out lease cannot add a second one.
- **never lost**: a worker killed after its claim leaves the row "sending" with a lease
  (NOTIFY_LEASE_SECONDS); the next sweep finds the lease run out, claims it and sends it.
  The lease must outlast a send: the email and SMS backends time out well before it.
- **bounded retry**: a channel that raises (SMTP down, SMS gateway time-out) puts the row
  back to pending with `next_attempt_at` doubled each time (NOTIFY_RETRY_BASE_SECONDS),
  and after NOTIFY_MAX_ATTEMPTS marks it failed; `attempts`, `last_error` and `status`
  stay on the row for the operations view.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import recipients as recipient_lookup
from .. import registry
from ..channels import NoAddress, channel, reachable
from ..inbox import forget_unread
from ..models import Channel, Delivery, DeliveryStatus, Notification, Reminder
from ..routing import channels_for

logger = logging.getLogger(__name__)

BATCH = 500
DS = DeliveryStatus


@dataclass
class SweepResult:
    source: str
    due: int = 0
    deliveries: int = 0
    sent: int = 0
    seconds: float = 0.0


def _batched(iterable, size):
    it = iter(iterable)
    while chunk := list(islice(it, size)):
        yield chunk


def reminders_sweep(*, source: str, today=None, send: bool = True) -> SweepResult:
    """Find what `source` has due today, write the ledger and the deliveries, then send what is due."""
    started = time.monotonic()
    recipient_lookup.forget()
    today = today or timezone.localdate()
    scan = registry.source(source).scan
    result = SweepResult(source=source)
    if scan is not None:
        for chunk in _batched(scan(today), BATCH):
            chunk = [d for d in chunk if d.recipients]
            result.due += len(chunk)
            result.deliveries += _record(chunk)
    if send:
        result.sent = deliveries_send_due()
    result.seconds = time.monotonic() - started
    return result


@transaction.atomic
def _record(chunk: list[registry.Due]) -> int:
    """Store the ledger rows and their deliveries (both idempotent); returns the deliveries in the chunk."""
    if not chunk:
        return 0
    Reminder.objects.bulk_create(
        [
            Reminder(
                kind=d.kind,
                target_type=d.target_type,
                target_id=d.target_id,
                due_on=d.due_on,
                org_path=d.org_path,
                title=d.title[:200],
                body=d.body[:500],
                url=d.url[:300],
            )
            for d in chunk
        ],
        ignore_conflicts=True,
    )
    ids = {}
    for pk, target_type, target_id, kind, due_on in Reminder.objects.filter(
        kind__in={d.kind for d in chunk},
        target_id__in={d.target_id for d in chunk},
        due_on__in={d.due_on for d in chunk},
    ).values_list("id", "target_type", "target_id", "kind", "due_on"):
        ids[(target_type, target_id, kind, due_on)] = pk
    everyone = {uid for d in chunk for uid in d.recipients}
    chosen = channels_for(everyone, {d.kind for d in chunk})
    wanted = {ch for options in chosen.values() for ch in options}
    has_address = {ch: reachable(ch, everyone) for ch in wanted}
    rows = []
    for d in chunk:
        reminder_id = ids.get((d.target_type, d.target_id, d.kind, d.due_on))
        if reminder_id is None:  # pragma: no cover - the row was just written or found
            continue
        for uid in d.recipients:
            for ch in chosen[(uid, d.kind)]:
                if uid in has_address[ch]:
                    rows.append(Delivery(reminder_id=reminder_id, recipient_id=uid, channel=ch, org_path=d.org_path))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _due_q(now) -> Q:
    return Q(status=DS.PENDING, next_attempt_at__lte=now) | Q(status=DS.SENDING, claimed_until__lt=now)


def deliveries_send_due(*, limit: int = 100_000, ids: list[int] | None = None) -> int:
    """Send the deliveries that are due (or the given ones, if due); returns how many were sent.

    Inbox messages go in batches (one claim, one insert, one mark per BATCH rows: a first
    sweep over a city's backlog writes tens of thousands); email and SMS one by one, each
    under its own claim, so a slow server holds up only the row it is sending.
    """
    now = timezone.now()
    qs = Delivery.objects.filter(_due_q(now))
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    sent = 0
    in_app = list(qs.filter(channel=Channel.IN_APP).order_by("id").values_list("id", flat=True)[:limit])
    for chunk in _batched(in_app, BATCH):
        try:
            sent += _send_in_app_batch(chunk)
        except DatabaseError as exc:  # a deadlock with an overlapping sweep: that one sends them
            logger.warning("In-app batch of %s deliveries left to the next sweep: %s", len(chunk), exc)
    for pk in list(qs.exclude(channel=Channel.IN_APP).order_by("id").values_list("id", flat=True)[:limit]):
        sent += delivery_send(pk)
    return sent


def _send_in_app_batch(ids: list[int]) -> int:
    """Claim a batch of inbox deliveries with one token, write their messages and mark them sent, in one transaction."""
    now = timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        claimed = (
            Delivery.objects.filter(pk__in=ids)
            .filter(_due_q(now))
            .update(
                status=DS.SENDING,
                claim_token=token,
                claimed_until=now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        )
        if not claimed:
            return 0
        rows = list(
            Delivery.objects.filter(claim_token=token, status=DS.SENDING).values_list(
                "id",
                "recipient_id",
                "org_path",
                "reminder__kind",
                "reminder__title",
                "reminder__body",
                "reminder__url",
                "reminder__target_type",
                "reminder__target_id",
            )
        )
        Notification.objects.bulk_create(
            [
                Notification(
                    delivery_id=pk,
                    recipient_id=uid,
                    org_path=path,
                    kind=kind,
                    title=title,
                    body=body,
                    url=url,
                    target_type=target_type,
                    target_id=target_id,
                )
                for pk, uid, path, kind, title, body, url, target_type, target_id in rows
            ],
            ignore_conflicts=True,  # one per delivery (OneToOne): a message already there stays single
        )
        Delivery.objects.filter(claim_token=token, status=DS.SENDING).update(
            status=DS.SENT, sent_at=now, claimed_until=None, last_error="", updated_at=now
        )
        recipients_told = {uid for _, uid, *rest in rows}
        transaction.on_commit(lambda: [forget_unread(uid) for uid in recipients_told])
    return len(rows)


def _claim(pk: int) -> str | None:
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        Delivery.objects.filter(pk=pk)
        .filter(_due_q(now))
        .update(
            status=DS.SENDING,
            claim_token=token,
            claimed_until=now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return token if claimed else None


def _finish(pk: int, token: str, **fields) -> int:
    fields.setdefault("claimed_until", None)
    return Delivery.objects.filter(pk=pk, status=DS.SENDING, claim_token=token).update(
        updated_at=timezone.now(), **fields
    )


def delivery_send(pk: int) -> bool:
    """Claim one delivery and send it; True if this call sent it."""
    token = _claim(pk)
    if token is None:
        return False  # someone else holds it, or it is done
    delivery = Delivery.objects.select_related("reminder", "recipient").get(pk=pk)
    try:
        if delivery.channel == Channel.IN_APP:
            with transaction.atomic():  # the message and the "sent" mark together
                channel(delivery.channel).send(delivery, delivery.reminder, delivery.recipient)
                _finish(pk, token, status=DS.SENT, sent_at=timezone.now(), last_error="")
            return True
        channel(delivery.channel).send(delivery, delivery.reminder, delivery.recipient)
    except NoAddress as exc:
        _finish(pk, token, status=DS.SKIPPED, last_error=str(exc)[:500])
        return False
    except Exception as exc:  # any channel failure: record it, retry later (bounded)
        error = f"{type(exc).__name__}: {exc}"[:500]
        if delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            _finish(pk, token, status=DS.FAILED, last_error=error)
            logger.error("Delivery %s failed for good after %s attempts: %s", pk, delivery.attempts, error)
        else:
            wait = settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1)
            _finish(
                pk,
                token,
                status=DS.PENDING,
                last_error=error,
                next_attempt_at=timezone.now() + timedelta(seconds=min(wait, 6 * 3600)),
            )
            logger.warning("Delivery %s failed (attempt %s), retrying in %ss: %s", pk, delivery.attempts, wait, error)
        return False
    _finish(pk, token, status=DS.SENT, sent_at=timezone.now(), last_error="")
    return True


@transaction.atomic
def delivery_retry(*, actor, delivery: Delivery) -> Delivery:
    """Put a failed delivery back in the queue (the operations view's retry button); it is sent once.

    Only a failed row may be retried (a sent one never again; a pending one is already
    queued); the actor needs audit.view over it. The attempts start again from zero.
    """
    from django.utils.translation import gettext as _

    from core.audit import log_action
    from core.errors import NOT_IN_REACH, DomainError
    from core.roles import AUDIT_VIEW
    from core.scoping import path_in_reach

    if not path_in_reach(actor, delivery.org_path, AUDIT_VIEW):
        raise DomainError(NOT_IN_REACH, code="not_in_reach")
    retried = Delivery.objects.filter(pk=delivery.pk, status=DS.FAILED).update(
        status=DS.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None, updated_at=timezone.now()
    )
    if not retried:
        raise DomainError(
            _("只有发送失败的提醒可以重发；这条提醒的状态是“%(status)s”。") % {"status": delivery.get_status_display()},
            code="not_failed",
        )
    log_action(
        actor=actor, action="notifications.delivery_retried", target=delivery, data={"channel": delivery.channel}
    )
    delivery.refresh_from_db()
    return delivery
