"""What follows a change of a user's credentials (password or login mobile): revoke access.

A credential change means someone new may hold the account, or the owner took it back
from someone else. Either way what was issued against the old credentials must stop
working: every DRF API token of the user, and every session except the one that made
the change (the owner who just proved control stays signed in). Django's own session
check already ends other sessions when the password hash changes; a login-mobile change
does not touch the hash, so sessions are also ended here explicitly.
"""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone


def credentials_revoke_access(*, user, keep_session_key: str | None = None) -> dict[str, int]:
    """Delete the user's API tokens and their sessions but `keep_session_key`; return the counts.

    Sessions are stored in the database and keyed by a random id, not by user, so the
    live ones are decoded to find the user's. A credential change is rare (a few a day
    per union), and the scan reads only unexpired sessions, so that is affordable.
    """
    from rest_framework.authtoken.models import Token

    tokens = Token.objects.filter(user=user).delete()[0]
    store = Session.get_session_store_class()()
    uid = str(user.pk)
    ended = []
    for key, data in (
        Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", "session_data").iterator()
    ):
        if key == keep_session_key:
            continue
        # SessionStore.decode returns {} for a tampered or unreadable session: nobody's.
        if str(store.decode(data).get("_auth_user_id", "")) == uid:
            ended.append(key)
    if ended:
        Session.objects.filter(session_key__in=ended).delete()
    return {"api_tokens": tokens, "sessions": len(ended)}
