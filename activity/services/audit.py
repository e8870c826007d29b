"""Writes of the activity app: storing audit events (for core.audit.log_action) and purging expired ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from .. import partitions
from ..models import AuditEvent

_current_ip: dict[str, str | None] = {}


def audit_event_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    organization=None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Store one audit event: the writer behind core.audit.log_action (registered in ActivityConfig.ready).

    Services call core.audit.log_action, inside their transaction, so the event exists
    exactly when the change does; nothing else calls this directly.
    """
    if organization is None and target is not None:
        organization = _organization_of(target)
    is_user = actor is not None and getattr(actor, "pk", None) is not None
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_label=(str(actor.get_username()) if is_user else (str(actor) if actor else "system"))[:150],
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        organization=organization,
        org_path=getattr(organization, "path", "") or "",
        ip_address=ip_address,
        data=data or {},
    )


def _organization_of(target):
    from organizations.models import Organization

    if isinstance(target, Organization):
        return target
    for attr in ("organization", "supervisor", "union"):
        org = getattr(target, attr, None)
        if isinstance(org, Organization):
            return org
    return None


def audit_purge_expired(*, now=None) -> int:
    """Delete audit events older than AUDIT_RETENTION_DAYS (never less than six months)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    # On PostgreSQL whole expired months go at once (DROP of their partition); what is
    # left older than the cutoff (the month the cutoff falls in, the default partition)
    # is deleted row by row.
    dropped = partitions.drop_expired(cutoff)
    # Bypass the append-only guard of AuditEventQuerySet on purpose: retention is the one
    # sanctioned deletion, and the PostgreSQL trigger still refuses anything younger than 183 days.
    deleted, _ = models.QuerySet.delete(AuditEvent.objects.filter(created_at__lt=cutoff))
    return dropped + deleted


def audit_partitions_ensure() -> list[str]:
    """Create the audit table's partitions of this month and the next three (PostgreSQL)."""
    return partitions.ensure_partitions()
