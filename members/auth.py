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


def pending_application_hint(username: str, password: str) -> str | None:
    """The login page's explanation for an applicant whose application is still pending.

    Said only when the password matches the hash the applicant chose when applying: to
    anyone else the page gives the stock refusal, so it tells a stranger neither that the
    number has applied nor where. The hash check runs even when nothing is pending, so the
    answer's timing does not tell either. Registered with organizations.forms in AppConfig.ready.
    """
    from django.contrib.auth.hashers import check_password, make_password
    from django.utils import formats
    from django.utils.translation import gettext as _

    from .models import JoinApplication

    number = login_name(username)
    if not _MOBILE.fullmatch(number):
        return None
    pending = list(
        JoinApplication.objects.filter(mobile_hash=crypto.mobile_hash(number), status=JoinApplication.Status.PENDING)
        .exclude(password_hash="")
        .select_related("union")
        .order_by("-created_at")[:3]
    )
    if not pending:
        make_password(password)  # same cost as a real check
        return None
    for app in pending:
        if check_password(password, app.password_hash):
            return _(
                "您的入会申请（%(date)s 提交）正在由“%(union)s”审核，批准后即可用这个手机号码和密码登录。"
                "如需催办或有疑问，请联系该工会或拨打职工服务热线 12351。"
            ) % {"date": formats.date_format(app.created_at.date(), "DATE_FORMAT"), "union": app.union.name}
    return None
