import logging

from celery import shared_task
from celery.signals import worker_ready

from core import outbox

from .services import audit_partitions_ensure, audit_purge_expired, deliveries_send_due, reminders_sweep

logger = logging.getLogger(__name__)


@shared_task(name="activity.tasks.purge_expired_audit_events")
def purge_expired_audit_events() -> int:
    return audit_purge_expired()


@shared_task(name="activity.tasks.ensure_audit_partitions")
def ensure_audit_partitions() -> list[str]:
    return audit_partitions_ensure()


@shared_task(name="activity.tasks.resend_outbox")
def resend_outbox(limit: int = 1000) -> int:
    return outbox.resend_outbox(limit)


@worker_ready.connect
def _resend_at_worker_start(sender=None, **kwargs):
    try:
        outbox.resend_outbox()
    except Exception:  # a worker must start even if the outbox cannot be read right now
        logger.exception("Could not resend the task outbox at worker start")


@shared_task(name="activity.tasks.reminders_sweep", acks_late=True)
def reminders_sweep_task(source: str) -> dict:
    """One source's reminders for today (the beat schedule lists one entry per source).

    Safe to run twice at once, to overlap itself and to be retried: the ledger and the
    delivery claims make every reminder go out once (activity.services.reminders).
    """
    result = reminders_sweep(source=source)
    logger.info(
        "Reminders %s: %s due, %s deliveries, %s sent in %.1fs",
        source,
        result.due,
        result.deliveries,
        result.sent,
        result.seconds,
    )
    return {"source": source, "due": result.due, "deliveries": result.deliveries, "sent": result.sent}


@shared_task(name="activity.tasks.deliveries_send", acks_late=True)
def deliveries_send(ids: list[int] | None = None) -> int:
    """Send the given deliveries (after an event), or every due one: retries and run-out leases."""
    return deliveries_send_due(ids=ids)
