"""The Celery app and the one place where the periodic schedule is declared."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

app = Celery("unionportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _fresh_replica_context(task=None, **kwargs):
    # Each task a worker runs starts unpinned: an earlier task's writes must not keep its
    # heavy reads on the primary (core.replicas, read-your-writes). An eager task runs
    # inside its caller's request, whose pin must stay.
    from core import replicas

    if task is not None and not task.request.is_eager:
        replicas.reset()


# The periodic schedule, in code. django-celery-beat's DatabaseScheduler syncs these
# entries into its tables, where an operator may pause one without a deploy.
app.conf.beat_schedule = {
    "core-attachments-rescan-pending": {
        "task": "core.tasks.attachments_rescan_pending",
        "schedule": crontab(minute="*/10"),
    },
    "core-attachments-sweep-orphans": {
        "task": "core.tasks.attachments_sweep_orphans",
        "schedule": crontab(hour=4, minute=7),
    },
    "activity-purge-expired-audit": {
        "task": "activity.tasks.purge_expired_audit_events",
        "schedule": crontab(hour=3, minute=17),
    },
    "activity-ensure-audit-partitions": {
        "task": "activity.tasks.ensure_audit_partitions",
        "schedule": crontab(hour=2, minute=47),
    },
    "activity-resend-task-outbox": {
        "task": "activity.tasks.resend_outbox",
        "schedule": crontab(minute="*"),
    },
    "members-purge-rejected-applications": {
        "task": "members.tasks.purge_rejected_join_applications",
        "schedule": crontab(hour=3, minute=41),
    },
    "projects-expire-offers": {
        "task": "projects.tasks.expire_offers",
        "schedule": crontab(minute="*/5"),
    },
    "disputes-risk-recompute": {
        "task": "disputes.risk_recompute",
        "schedule": crontab(hour=2, minute=23),
    },
    # The full statistics rebuild is the safety net (and carries enterprises and employees
    # into the month); each change is recounted within a minute or two by its dirty marks.
    "reports-refresh-statistics": {
        "task": "reports.tasks.refresh_statistics",
        "schedule": crontab(hour="*/3", minute=5),
    },
    "reports-follow-statistics": {
        "task": "reports.tasks.follow_statistics",
        "schedule": crontab(minute="*"),
    },
    "disputes-summary-refresh": {  # the overview's "overdue" moves with the date alone
        "task": "disputes.summary_refresh",
        "schedule": crontab(minute=7),
    },
    "organizations-refresh-coverage": {
        "task": "organizations.tasks.refresh_coverage_summaries",
        "schedule": crontab(minute="*/30"),
    },
    # Reminders (activity): one sweep per source, each declared in that app's reminders.py.
    # Each writes its ledger before sending, so running one twice sends nothing twice.
    **{
        f"reminders-{source}": {
            "task": "activity.tasks.reminders_sweep",
            "schedule": schedule,
            "kwargs": {"source": source},
        }
        for source, schedule in (
            ("approvals", crontab(hour="7-19", minute=3)),
            ("members", crontab(hour=7, minute=5)),
            ("assistance", crontab(hour=7, minute=10)),
            ("disputes", crontab(hour=7, minute=15)),
            # Waiting-list offers last hours, not days: looked at every hour.
            ("projects", crontab(minute=20)),
        )
    },
    # Retries with backoff, and deliveries whose worker died after claiming them (run-out lease).
    "reminders-send-due": {
        "task": "activity.tasks.deliveries_send",
        "schedule": crontab(minute="*"),
    },
    # Reports (reports/runs.py): last month's report for every federation on the 1st (and
    # last year's on 1 January), after the 00:xx summaries; the heartbeat every minute is
    # the operations view's sign of life for beat and the worker (reports/operations.py).
    "reports-monthly-reports": {
        "task": "reports.tasks.monthly_reports",
        "schedule": crontab(day_of_month=1, hour=1, minute=30),
    },
    "reports-heartbeat": {
        "task": "reports.tasks.heartbeat",
        "schedule": crontab(minute="*"),
    },
    # A report run whose message was lost (never claimed, or its worker died) is sent again
    # once per REPORT_REDISPATCH_MINUTES at most (reports.runs.report_runs_redispatch).
    "reports-runs-sweep": {
        "task": "reports.tasks.report_runs_sweep",
        "schedule": crontab(minute="*"),
    },
    # Roster imports and aid campaigns whose message was lost, the same way, once per
    # JOB_REDISPATCH_MINUTES at most (members.importer.jobs, assistance.services.campaigns).
    "members-import-jobs-sweep": {
        "task": "members.tasks.import_jobs_sweep",
        "schedule": crontab(minute="*"),
    },
    "assistance-campaigns-sweep": {
        "task": "assistance.tasks.campaigns_sweep",
        "schedule": crontab(minute="*"),
    },
}
