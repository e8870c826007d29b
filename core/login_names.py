"""One spelling of a sign-in name, used by every login door and by the lock-out.

A worker signs in with a mobile number, and the same number arrives as "+86 139-2618-1234",
"0086…", "86…", full-width digits from a Chinese input method or with the spaces of a
copied contact card. If django-axes counted those as different usernames, each spelling
would get its own five guesses and the right password through "+86…" would get in while
"139…" is locked (issue 16, finding 4). So the doors (login page, admin login, token
endpoint) turn the name into `login_name()` before `authenticate()`, the mobile backend
uses the same function, and axes keys its counters on `lockout_username()`, which is the
same name case-folded.
"""

from __future__ import annotations

import re
import unicodedata

# A mainland mobile number, optionally after the country code written as +86, 0086 or 86.
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
# What people put between the digits of a phone number (after NFKC, so full-width forms
# are already ASCII): spaces, dashes, dots and brackets around the country code.
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")


def login_name(value: object) -> str:
    """The canonical sign-in name: NFKC, trimmed, and a mobile number as its 11 digits.

    Anything that is not a mobile number keeps its case and inner characters, so existing
    usernames (which Django compares case-sensitively) sign in exactly as before.
    """
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    compact = _PHONE_SEPARATORS.sub("", text)
    match = _MOBILE.fullmatch(compact)
    if match:
        return match.group(1)
    return text


def lockout_username(request, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the name the failure counters are kept under.

    Case-folded on top of `login_name`: "Owner" and "owner" share one counter, so case
    gives no extra guesses even though signing in stays case-sensitive. Used for the check
    before authentication, for counting a failure and for the reset after a success.
    """
    from django.conf import settings

    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        raw = credentials.get(field)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        raw = data.get(field) if hasattr(data, "get") else None
    if raw is None:
        return None
    return login_name(raw).casefold()


def forget_failures_of_the_typed_name(sender, request, user, **kwargs) -> None:
    """After a sign-in, reset the failures counted under the name as typed.

    django-axes resets under the account's username; a worker signs in with a mobile
    number, so their earlier failures sit under the number and would otherwise survive
    the successful sign-in. The reset keeps axes' own filter (this name from this address).
    """
    from django.conf import settings

    if not (settings.AXES_ENABLED and settings.AXES_RESET_ON_SUCCESS) or request is None:
        return
    if not hasattr(request, "axes_ip_address"):
        return
    typed = lockout_username(request)
    if not typed or typed == user.get_username().casefold():
        return
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.get_implementation().reset_user_attempts(request, {settings.AXES_USERNAME_FORM_FIELD: typed})
