"""The Celery app and the one place where the periodic schedule is declared."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

app = Celery("unionportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
    "disputes-summary-refresh": {  # the overview's "overdue" moves with the date alone
        "task": "disputes.summary_refresh",
        "schedule": crontab(minute=7),
    },
    "organizations-refresh-coverage": {
        "task": "organizations.tasks.refresh_coverage_summaries",
        "schedule": crontab(minute="*/30"),
    },
}
