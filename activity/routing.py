"""Which channels carry a kind to a user: their preference, or the kind's defaults."""

from __future__ import annotations

from collections.abc import Iterable

from . import registry
from .models import Channel, NotificationPreference


def channels_for(user_ids: Iterable[int], kinds: Iterable[str]) -> dict[tuple[int, str], tuple[str, ...]]:
    """The channels of each (user, kind): the inbox always; email and SMS by preference or the kind's defaults."""
    user_ids, kinds = set(user_ids), set(kinds)
    prefs = {
        (p.user_id, p.kind): p
        for p in NotificationPreference.objects.filter(user_id__in=user_ids, kind__in=kinds).only(
            "user_id", "kind", "email", "sms"
        )
    }
    out = {}
    for uid in user_ids:
        for code in kinds:
            pref = prefs.get((uid, code))
            if pref is None:
                chosen = registry.kind(code).default_channels
            else:
                chosen = tuple(
                    c for c, on in ((Channel.IN_APP, True), (Channel.EMAIL, pref.email), (Channel.SMS, pref.sms)) if on
                )
            out[(uid, code)] = tuple(str(c) for c in chosen)
    return out
