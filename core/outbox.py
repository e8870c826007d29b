"""Sending background work so that a broker outage delays it instead of losing it.

It lives in the ground floor (core) so that every app can use it. `enqueue(task, *args)` sends the task once the current transaction has committed (the
worker must see the rows the task is about). If the broker cannot be reached the task is
written to the TaskOutbox table instead of failing the page, and `resend_outbox` sends it
when the broker is back: every minute from beat, and at every worker start. Tasks must be
idempotent anyway (acks_late redelivers after a lost worker), so a rare double send from
the outbox (two resenders at once, or a crash between send and delete) is harmless.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.db.models import F
from kombu.exceptions import OperationalError as KombuOperationalError

from .models import TaskOutbox

logger = logging.getLogger(__name__)
BROKER_DOWN = (KombuOperationalError, ConnectionError, OSError, TimeoutError)


def _send(name: str, args: list, kwargs: dict) -> None:
    task = current_app.tasks.get(name)
    if task is None:
        # The apps' tasks modules are discovered lazily (a web process has imported only
        # some): import them all once, so an eager run in tests and the demo runs it here.
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(name)
    # retry=False: one connection attempt, so a page never waits on a dead broker.
    if task is not None:
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    else:
        current_app.send_task(name, args=args, kwargs=kwargs, retry=False)


def enqueue(task, *args, **kwargs) -> None:
    """Send `task(*args, **kwargs)` after commit; keep it in the outbox if the broker is down."""
    name = task.name if hasattr(task, "name") else str(task)

    def send():
        try:
            _send(name, list(args), dict(kwargs))
        except BROKER_DOWN as exc:
            TaskOutbox.objects.create(task_name=name, args=list(args), kwargs=dict(kwargs), last_error=str(exc)[:500])
            logger.warning("Broker unreachable; task %s kept in the outbox: %s", name, exc)

    transaction.on_commit(send)


def resend_outbox(limit: int = 1000) -> int:
    """Send the outbox's tasks, oldest first; stop at the first broker failure."""
    sent = 0
    for job in list(TaskOutbox.objects.order_by("id")[:limit]):
        try:
            _send(job.task_name, job.args, job.kwargs)
        except BROKER_DOWN as exc:
            TaskOutbox.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1, last_error=str(exc)[:500])
            break
        # Sent before deleted: a crash in between sends it twice, never zero times.
        TaskOutbox.objects.filter(pk=job.pk).delete()
        sent += 1
    if sent:
        logger.info("Sent %s task(s) from the outbox", sent)
    return sent
