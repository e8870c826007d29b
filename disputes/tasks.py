"""Background work of the mediation app (thin: call a service)."""

from celery import shared_task


@shared_task(name="disputes.risk_recompute")
def risk_recompute() -> int:
    """Recompute every enterprise's early-warning score (idempotent: update_or_create per enterprise)."""
    from .services import enterprise_risk_recompute

    return enterprise_risk_recompute()


@shared_task(name="disputes.summary_refresh")
def summary_refresh() -> int:
    """Rewrite every body's overview figures: "overdue" changes with the date alone (hourly)."""
    from .summary import refresh_all

    return refresh_all()
