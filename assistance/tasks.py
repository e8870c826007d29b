"""Background work of the aid app: thin tasks that take ids and call a service."""

from celery import shared_task


@shared_task(name="assistance.tasks.run_campaign", acks_late=True)
def run_campaign(campaign_id: int) -> int:
    """Idempotent per (campaign, file): a redelivery skips the files already done."""
    from .services import campaign_run

    return campaign_run(campaign_id).progress_done


@shared_task(name="assistance.tasks.campaigns_sweep")
def campaigns_sweep() -> dict:
    """Every minute from beat: re-send campaigns whose message was lost (services.campaigns_redispatch)."""
    from .services.campaigns import campaigns_redispatch

    return campaigns_redispatch()
