"""Background work of the reports app: thin tasks that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from .summaries import statistics_follow, statistics_refresh


@shared_task(name="reports.tasks.refresh_statistics")
def refresh_statistics() -> int:
    """Rebuild the statistics summary rows (the periodic schedule is in unionportal/celery.py)."""
    return statistics_refresh()


@shared_task(name="reports.tasks.follow_statistics")
def follow_statistics() -> int:
    """Every minute from beat: recount the organisations marked dirty since the last run, and their ancestors."""
    return statistics_follow()


@shared_task(name="reports.tasks.report_run_build", acks_late=True)
def report_run_build(run_id: int, generation: int) -> str:
    """Build one report run's files (idempotent: a duplicate finds the run claimed or done)."""
    from .runs import report_run_execute

    run = report_run_execute(run_id, generation)
    return "built" if run is not None else "skipped"


@shared_task(name="reports.tasks.monthly_reports", acks_late=True)
def monthly_reports() -> int:
    """The 1st of every month: last month's report for every federation (on 1 January the year's too)."""
    from .runs import reports_schedule

    return len(reports_schedule())


@shared_task(name="reports.tasks.heartbeat")
def heartbeat() -> dict:
    """Every minute from beat: proves beat and a worker alive, trims run records."""
    from .operations import heartbeat_beat

    return heartbeat_beat()


@shared_task(name="reports.tasks.report_runs_sweep")
def report_runs_sweep() -> dict:
    """Every minute from beat: re-send report runs whose message was lost (reports.runs.report_runs_redispatch)."""
    from .runs import report_runs_redispatch

    return report_runs_redispatch()
