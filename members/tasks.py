"""Background work of the members app: thin tasks that take ids and call the importer."""

from celery import shared_task

# The import task lives beside its service (see there why); imported here so the worker
# registers it when it autodiscovers members.tasks.
from .importer.jobs import import_jobs_sweep, run_member_import

__all__ = ["import_jobs_sweep", "purge_rejected_join_applications", "run_member_import"]


@shared_task(name="members.tasks.purge_rejected_join_applications", acks_late=True)
def purge_rejected_join_applications() -> int:
    """Daily retention run (see unionportal/celery.py); idempotent, so a redelivery is harmless."""
    from .services import join_applications_purge_expired

    return join_applications_purge_expired()
