"""The audit entry point: `log_action(...)`, called by every service that changes state.

The events are stored by the activity app (AuditEvent points at an Organization, so it
cannot live in core). activity registers its writer here in ActivityConfig.ready
(`register_audit_sink`); services everywhere import `log_action` from core and never
from activity, so the arrows keep pointing down.
"""

from __future__ import annotations

from typing import Any

from django.db import models

_sink = None


def register_audit_sink(sink) -> None:
    """Name the function that stores an audit event (activity.services.audit_event_record)."""
    global _sink
    _sink = sink


def log_action(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    organization=None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
):
    """Record that `actor` did `action` (a dotted code like 'organization.moved') to `target`.

    Call it inside the service's transaction, so the event exists exactly when the change
    does. Returns the stored event (an activity.models.AuditEvent).
    """
    if _sink is None:
        raise RuntimeError("no audit writer registered: the activity app registers it when Django starts")
    return _sink(actor=actor, action=action, target=target, organization=organization, data=data, ip_address=ip_address)
