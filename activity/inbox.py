"""The header's unread count: cached per user for a short while, cleared when it changes here.

Every staff page shows it, so it is one cache read, not a query per page; messages
written by the worker show within INBOX_COUNT_SECONDS (its cache may be another process's).
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils.functional import SimpleLazyObject

from .selectors import unread_count

INBOX_COUNT_SECONDS = 30


def _key(user_id: int) -> str:
    return f"inbox-unread:{user_id}"


def unread_badge(user) -> int:
    key = _key(user.pk)
    found = cache.get(key)
    if found is None:
        found = unread_count(user)
        cache.set(key, found, INBOX_COUNT_SECONDS)
    return found


def forget_unread(user) -> None:
    cache.delete(_key(getattr(user, "pk", user)))


def inbox_context(request):
    """Template context: `inbox_count`, the unread messages of the signed-in user (the header's bell)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: counted only where a template shows it (not for htmx fragments, files, redirects).
    return {"inbox_count": SimpleLazyObject(lambda: unread_badge(user))}
