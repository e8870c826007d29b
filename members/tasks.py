"""Background work of the members app: thin tasks that take ids and call the importer."""

from celery import shared_task

from .importer import import_job_run


@shared_task(name="members.tasks.run_member_import", acks_late=True)
def run_member_import(job_id: int) -> bool:
    """Run one queued roster import; a redelivered message finds the job claimed and does nothing."""
    return import_job_run(job_id)


@shared_task(name="members.tasks.purge_rejected_join_applications", acks_late=True)
def purge_rejected_join_applications() -> int:
    """Daily retention run (see unionportal/celery.py); idempotent, so a redelivery is harmless."""
    from .services import join_applications_purge_expired

    return join_applications_purge_expired()
