from celery import shared_task

from .services import audit_purge_expired


@shared_task(name="activity.tasks.purge_expired_audit_events")
def purge_expired_audit_events() -> int:
    return audit_purge_expired()
