import logging

from celery import shared_task
from celery.signals import worker_ready

from core import outbox

from .services import audit_partitions_ensure, audit_purge_expired

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
