from celery import shared_task

from .services import coverage_refresh


@shared_task(name="organizations.tasks.refresh_coverage_summaries")
def refresh_coverage_summaries() -> int:
    return coverage_refresh()
