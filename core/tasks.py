"""Periodic work of the core kits: thin tasks that call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task
def attachments_rescan_pending() -> dict:
    """Scan again the attachments kept while the scanner was unavailable."""
    from .attachments.services import attachment_rescan_pending

    return attachment_rescan_pending()


@shared_task
def attachments_sweep_orphans() -> int:
    """Delete stored files left without a row by a rolled-back transaction."""
    from .attachments.services import attachment_orphans_sweep

    return attachment_orphans_sweep()
