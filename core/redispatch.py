"""Sending a background job again when its broker message was lost: one shape for every kind.

A job row (a report run, a roster import, an aid campaign) is written, then its id goes to
the broker. The broker or the web process can lose that message (a crash between the commit
and the send, a Redis restart without persistence, a worker killed with the message taken),
and nothing else would ever run the job. So each kind keeps `dispatched_at` (its last send),
`redispatches` (how often a sweep sent it again) and `claimed_until` (the lease of the
worker running it), and a beat sweep sends again every job presumed lost:

- still waiting for a worker a bound after its last send, or
- claimed by a worker whose lease expired, and sent longer ago than the bound.

Every re-send is claimed by one conditional UPDATE moving `dispatched_at` to now: two
sweeps at once send a job once, and the next send is a bound later at the earliest. A copy
that does reach a worker finds the job claimed or done and does nothing (each kind's task
claims its row the same way). Giving up (too many interrupted runs or unanswered sends) is
each kind's own business: its message says what to do.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import models, transaction
from django.db.models import F, Q

logger = logging.getLogger(__name__)

# The operations view lists what a sweep sent again this long ago.
RECENT = dt.timedelta(days=14)


def presumed_lost(*, now: dt.datetime, cutoff: dt.datetime, created: str, waiting: Q, running: Q) -> Q:
    """Jobs sent before `cutoff` (or, never sent, created before it) that are `waiting` for a
    worker, or `running` under a lease that has expired. `created` names the row's creation field."""
    sent_before = Q(dispatched_at__lt=cutoff) | Q(dispatched_at__isnull=True, **{f"{created}__lt": cutoff})
    return sent_before & (waiting | (running & Q(claimed_until__lt=now)))


def redispatch_lost(
    model: type[models.Model],
    *,
    lost: Q,
    now: dt.datetime,
    columns: tuple[str, ...],
    give_up: Callable[[tuple], int | None],
    resend: Callable[[models.Model, tuple], None],
    label: str,
) -> dict:
    """Send again every `model` row matching `lost`, or let `give_up` end it.

    `give_up(row)` gets (id, *columns) and returns how many jobs it failed (0 or 1) or None to
    send the job again; `resend(job, row)` runs inside the claim's transaction (audit, enqueue
    through the outbox, so the message leaves only if the claim commits).
    """
    result = {"redispatched": 0, "given_up": 0}
    for row in model.objects.filter(lost).order_by("id").values_list("id", *columns):
        ended = give_up(row)
        if ended is not None:
            result["given_up"] += ended
            continue
        with transaction.atomic():
            # The claim: only one sweep moves dispatched_at past the cutoff for this job.
            if not model.objects.filter(lost, pk=row[0]).update(dispatched_at=now, redispatches=F("redispatches") + 1):
                continue
            resend(model.objects.get(pk=row[0]), row)
        result["redispatched"] += 1
    if result["redispatched"] or result["given_up"]:
        logger.warning("%s sweep: %s", label, result)
    return result


def sent_again_or_waiting(lost: Q, *, now: dt.datetime) -> Q:
    """For the operations view: sent again by a sweep lately, or presumed lost now."""
    return Q(redispatches__gt=0, dispatched_at__gte=now - RECENT) | lost
