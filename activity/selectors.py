"""Scoped reads of the audit log."""

from core.roles import AUDIT_VIEW

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
    """Audit events in the reach of the user's audit.view roles (not their plain view reach).

    A clerk of 浦东 who is an auditor of 黄浦 reads 黄浦's events only: reading 浦东's
    would take an audit role there.
    """
    qs = AuditEvent.objects.for_user(user, AUDIT_VIEW).select_related("organization")
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
