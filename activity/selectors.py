"""Scoped reads of the audit log, and the user's own inbox."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from core.roles import AUDIT_VIEW

from .models import AuditEvent, Notification


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


# --- the inbox: a user's own messages only ------------------------------------------------


def notifications_for(user, *, unread_only: bool = False):
    """The user's own inbox, newest first. Nobody reads another's inbox, whatever their roles."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notification_get(user, pk) -> Notification:
    """One of the user's own messages; anything else (another's, unknown, malformed) is a 404."""
    if not str(pk).isdigit():
        raise Http404
    return get_object_or_404(notifications_for(user), pk=pk)


def unread_count(user) -> int:
    """How many unread messages (capped at 100: the badge shows "99+")."""
    return notifications_for(user, unread_only=True)[:100].count()


def preferences_for(user) -> list[dict]:
    """Each registered kind with the user's channels for it (the preferences page and API)."""
    from . import registry
    from .routing import channels_for

    kinds = [
        k
        for k in registry.kinds()
        if k.audience == (registry.WORKER if getattr(user, "is_worker", False) else registry.STAFF)
    ]
    chosen = channels_for([user.pk], [k.code for k in kinds]) if kinds else {}
    return [
        {
            "kind": k,
            "email": "email" in chosen[(user.pk, k.code)],
            "sms": "sms" in chosen[(user.pk, k.code)],
        }
        for k in kinds
    ]


def deliveries_for(user, *, status: str = ""):
    """Delivery rows in the user's audit reach (the operations view: failures and retries)."""
    from .models import Delivery

    qs = Delivery.objects.for_user(user, AUDIT_VIEW).select_related("reminder")
    if status:
        qs = qs.filter(status=status)
    return qs
