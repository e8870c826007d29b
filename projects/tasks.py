"""Background work of the projects app: thin, idempotent tasks that call services."""

from celery import shared_task


@shared_task(name="projects.tasks.expire_offers", acks_late=True)
def expire_offers() -> int:
    """Pass on waiting-list offers not confirmed in time (see unionportal/celery.py).

    Idempotent: each offer is claimed under the session's row lock and re-checked, so a
    redelivery or two workers at once pass each offer on exactly once.
    """
    from .services import offers_expire_due

    return offers_expire_due()
