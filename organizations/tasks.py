from celery import shared_task
from django.utils.dateparse import parse_datetime

from .services import coverage_fresh_since, coverage_refresh, coverage_refresh_dirty


@shared_task(name="organizations.tasks.refresh_coverage_summaries")
def refresh_coverage_summaries(requested_at: str | None = None) -> int:
    """Rebuild the coverage summaries; skip when a run since `requested_at` already did.

    Pages ask for a refresh whenever a summary is missing, so a burst of loads queues
    several: the first rebuilds, the rest find every summary newer than their request.
    The periodic run passes no time and always rebuilds.
    """
    moment = parse_datetime(requested_at) if requested_at else None
    if moment is not None and coverage_fresh_since(moment):
        return 0
    return coverage_refresh()


@shared_task(name="organizations.tasks.refresh_dirty_coverage")
def refresh_dirty_coverage() -> int:
    """Bring the member figures of unions whose roll changed up to date (queued on commit)."""
    return coverage_refresh_dirty()
