from celery import shared_task

from .summaries import statistics_refresh


@shared_task(name="reports.tasks.refresh_statistics")
def refresh_statistics() -> int:
    """Rebuild the statistics summary rows (the periodic schedule is in unionportal/celery.py)."""
    return statistics_refresh()
