"""Scoped reads of the audit log."""

from core.roles import AUDIT_VIEW
from core.scoping import has_capability_anywhere

from .models import AuditEvent


def audit_events_for_user(
    user,
    *,
    action: str = "",
    target_type: str = "",
    actor: str = "",
    date_from=None,
    date_to=None,
    under_path: str = "",
):
    """Audit events in the user's reach, if any of their roles may read the audit log."""
    if not has_capability_anywhere(user, AUDIT_VIEW):
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.for_user(user).select_related("organization")
    if under_path:
        qs = qs.under(under_path)
    if action:
        qs = qs.filter(action__startswith=action)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs
