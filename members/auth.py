"""Worker sign-in by mobile number and password.

Workers have generated usernames; they know their mobile number. The mobile is stored
only encrypted, so the account is found through the mobile's blind index. The password
check runs even when no account matches, so timing does not reveal registered numbers.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from core import crypto
from core.login_names import login_name

from .validators import _MOBILE


class MobileBackend(ModelBackend):
    """Authenticates a worker account whose member record has this mobile number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        number = login_name(username)  # the doors' spelling rule, so every door agrees
        if not _MOBILE.fullmatch(number):
            return None
        User = get_user_model()
        candidates = list(
            User.objects.filter(
                member_records__mobile_hash=crypto.mobile_hash(number), kind=User.Kind.WORKER, is_active=True
            )[:5]
        )
        if not candidates:
            User().set_password(password)  # same cost as a real check
            return None
        for user in candidates:
            if user.check_password(password) and self.user_can_authenticate(user):
                return user
        return None
