"""Scoped reads of attachments: an attachment is reachable exactly when its owner is.

The owner is asked through its own `for_user` (staff) or its
`attachment_visible_to_worker(user)` hook (worker accounts), never only through the
copied org path: the copy can be stale after an owner moved, and the owner's model may
scope on more than a path.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import Http404
from django.utils.module_loading import import_string

from core.errors import NOT_IN_REACH

from .models import Attachment


def _is_worker(user) -> bool:
    return bool(getattr(user, "is_worker", False))


def owner_reachable(user, owner: models.Model) -> bool:
    """Whether `user` may read `owner` (and so its attachments)."""
    if user is None or not user.is_authenticated or not user.is_active or owner is None:
        return False
    if _is_worker(user):
        hook = getattr(owner, "attachment_visible_to_worker", None)
        return bool(hook and hook(user))
    # An owner whose domain narrows the organisation reach (a plain mediator sees only the
    # cases assigned to them) names its selector: "app.selectors.fn", fn(user) -> QuerySet.
    narrowed = getattr(owner, "attachment_staff_selector", None)
    if narrowed:
        return import_string(narrowed)(user).filter(pk=owner.pk).exists()
    return type(owner)._default_manager.for_user(user).filter(pk=owner.pk).exists()


def attachments_for(user, owner: models.Model) -> models.QuerySet:
    """The live attachments of `owner` that `user` may see (none if the owner is out of reach)."""
    if not owner_reachable(user, owner):
        return Attachment.objects.none()
    return (
        Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(owner, for_concrete_model=False),
            object_id=owner.pk,
            deleted_at__isnull=True,
        )
        .select_related("uploaded_by")
        .order_by("kind", "id")
    )


def attachment_owner(attachment: Attachment) -> models.Model | None:
    """The owner object, read unscoped (only to ask it whether the user may see it)."""
    model = attachment.content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=attachment.object_id).first()


def attachment_get_for_user(user, pk) -> Attachment:
    """A live attachment the user may read, else Http404 (also for ids that do not exist)."""
    if user is None or not user.is_authenticated or not str(pk).isdigit():
        raise Http404(NOT_IN_REACH)
    attachment = Attachment.objects.select_related("content_type").filter(pk=int(pk), deleted_at__isnull=True).first()
    if attachment is None or not owner_reachable(user, attachment_owner(attachment)):
        raise Http404(NOT_IN_REACH)
    return attachment
