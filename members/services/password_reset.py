"""Self-service password reset: a one-time code to the member's mobile (issue 15, item 11).

A worker who forgot their password asks for a code with their mobile number; the code
goes by SMS (core.sms) to the number on the member record, which is what proves the
person. The answer is the same whether or not the number belongs to anyone (no account
enumeration): the request service returns nothing and sends nothing for an unknown
number, and the page always moves on to "enter the code".

The code is six random digits, kept only as a password hash, valid for
PASSWORD_RESET_CODE_SECONDS, used once, and refused after PASSWORD_RESET_MAX_ATTEMPTS
wrong guesses (10⁻⁶ a guess: five guesses per code and three codes an hour per number
give an attacker about 1 in 66,000 a day). Requests are limited per number and per
address, code entries per address. A successful reset ends every session and API token
of the account (core.credentials), lifts the sign-in lock-out of the number, and tells
the owner by SMS.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto
from core.audit import log_action
from core.credentials import credentials_revoke_access
from core.errors import DomainError
from core.login_names import login_name
from core.sms import send_sms_on_commit
from organizations.models import User

from ..models import Member, PasswordResetCode
from ..throttle import rate_hit

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CODE = re.compile(r"[0-9]{6}")


def _too_many() -> DomainError:
    minutes = max(1, settings.PASSWORD_RESET_WINDOW_SECONDS // 60)
    return DomainError(
        _("操作过于频繁，请 %(minutes)s 分钟后再试；如需帮助请拨打职工服务热线 12351。") % {"minutes": minutes},
        code="throttled",
    )


def _bad_code() -> ValidationError:
    # One message for every failure (wrong, expired, used, unknown number): it tells nothing.
    return ValidationError({"code": _("验证码不正确或已失效：请核对短信中的 6 位数字，或重新获取验证码。")})


def _number(mobile: str) -> str:
    number = login_name(mobile)
    if not _MOBILE.fullmatch(number):
        raise ValidationError({"mobile": _("手机号码应为 11 位数字，如 13912345678。")})
    return number


def _hit(kind: str, who: str, limit: int) -> bool:
    return rate_hit(f"members:pwreset:{kind}:{who}", limit=limit, window=settings.PASSWORD_RESET_WINDOW_SECONDS)


def password_reset_request(*, mobile: str, ip_address: str | None) -> None:
    """Send a reset code to `mobile` if a worker account signs in with it; otherwise nothing.

    Refuses (DomainError "throttled") past the per-address or per-number limit, counted
    before the lookup so known and unknown numbers are refused alike.
    """
    number = _number(mobile)
    mobile_hash = crypto.mobile_hash(number)
    if not _hit("request-ip", ip_address or "unknown", settings.PASSWORD_RESET_PER_ADDRESS):
        raise _too_many()
    if not _hit("request-number", mobile_hash, settings.PASSWORD_RESET_PER_NUMBER):
        raise _too_many()
    member = (
        Member.objects.filter(mobile_hash=mobile_hash, user__kind=User.Kind.WORKER, user__is_active=True)
        .select_related("user")
        .order_by("-id")
        .first()
    )
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = make_password(code)  # also for an unknown number: the same work, the same time
    if member is None:
        return
    with transaction.atomic():
        now = timezone.now()
        # Asking again replaces the code: only the latest one works.
        PasswordResetCode.objects.filter(user=member.user, used_at__isnull=True).update(used_at=now)
        PasswordResetCode.objects.create(
            user=member.user,
            mobile_hash=mobile_hash,
            code_hash=code_hash,
            expires_at=now + timezone.timedelta(seconds=settings.PASSWORD_RESET_CODE_SECONDS),
        )
        log_action(
            actor=None,
            action="auth.password_reset_requested",
            target=member,
            data={"user": member.user.pk},
            ip_address=ip_address,
        )
        minutes = max(1, settings.PASSWORD_RESET_CODE_SECONDS // 60)
        send_sms_on_commit(
            number,
            _("【工会会员服务】您的密码重置验证码是 %(code)s，%(minutes)s 分钟内有效。如非本人操作，请忽略本短信。")
            % {"code": code, "minutes": minutes},
        )


def password_reset_confirm(*, mobile: str, code: str, new_password: str, ip_address: str | None) -> User:
    """Set `new_password` on the account the code was sent for; the code is then spent."""
    from django.contrib.auth.password_validation import validate_password

    if not _hit("confirm-ip", ip_address or "unknown", settings.PASSWORD_RESET_CONFIRMS_PER_ADDRESS):
        raise _too_many()
    number = _number(mobile)
    code = (code or "").strip()
    now = timezone.now()
    row = (
        PasswordResetCode.objects.filter(
            mobile_hash=crypto.mobile_hash(number), used_at__isnull=True, expires_at__gt=now
        )
        .select_related("user")
        .order_by("-created_at")
        .first()
    )
    if row is None or not _CODE.fullmatch(code):
        make_password(code)  # the same cost as a real check
        raise _bad_code()
    # Claim one attempt with a conditional UPDATE before checking: two guesses at once
    # cannot both slip under the limit, and the count stays when the guess is wrong.
    claimed = PasswordResetCode.objects.filter(
        pk=row.pk, used_at__isnull=True, attempts__lt=settings.PASSWORD_RESET_MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not claimed or not check_password(code, row.code_hash):
        raise _bad_code()
    user = row.user
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    with transaction.atomic():
        # Spend the code; a second entry of the same code at the same moment finds it spent.
        if not PasswordResetCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
            raise _bad_code()
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise _bad_code()
        user.set_password(new_password)
        user.save()
        revoked = credentials_revoke_access(user=user)
        member = Member.objects.filter(user=user, mobile_hash=row.mobile_hash).first()
        log_action(
            actor=user,
            action="auth.password_reset",
            target=member,
            data={"by": "sms_code", **revoked},
            ip_address=ip_address,
        )
        send_sms_on_commit(
            number,
            _(
                "【工会会员服务】您的登录密码已重置（凭短信验证码），其他设备上的登录已退出。如非本人操作，请立即致电职工服务热线12351。"
            ),
        )
    _lift_lockout(number)
    return user


def _lift_lockout(number: str) -> None:
    """The owner proved control of the number: earlier failed sign-ins under it no longer count."""
    if not getattr(settings, "AXES_ENABLED", False):
        return
    from axes.utils import reset

    reset(username=number)
