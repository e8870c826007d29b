"""The optional second factor (TOTP) for staff: services, the sign-in gate and the checks.

A user with a confirmed TOTP device must type the 6-digit code after the password before
any staff page or session-authenticated API call works (`SecondFactorMiddleware`). An API
token is issued to such a user only against username, password *and* a code, and
enrolling revokes the tokens issued before, so a token of a TOTP user always stands for
both factors (`user_is_verified` treats it so).

With REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA on (production default), showing a full ID
number or phone needs a verified second factor: the reveal calls
`require_second_factor_for_full_data(request)` before its service.

The write services live here rather than in services.py because they act on the
session as well as on rows (django-otp keeps the verified device in the session).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError

# [user pk, second factor required?, checked at (epoch seconds)] in the session.
SESSION_FLAG = "_unionportal_otp_required"
# A device enrolled or removed in another session is noticed within this many seconds.
RECHECK_SECONDS = 300

MSG_CODE_FORMAT = gettext_lazy("验证码是 6 位数字：请输入验证器应用中当前显示的数字。")
MSG_CODE_WRONG = gettext_lazy("验证码不正确或已过期：请输入验证器应用中当前显示的 6 位数字（每 30 秒更新）。")
MSG_THROTTLED = gettext_lazy("验证码错误次数过多：请 %(seconds)s 秒后再试。")
MSG_FULL_DATA = gettext_lazy("查看完整个人信息需要两步验证：请先在“两步验证”页面启用，并在登录时输入验证码后再试。")


class SecondFactorRequired(DomainError):
    """Full personal data asked for without a verified second factor (HTTP 403)."""

    status_code = 403
    default_code = "otp_required"


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a code: accepted, or why not (and how long to wait)."""

    ok: bool
    message: str = ""
    wait_seconds: int = 0


# --- reads ------------------------------------------------------------------------------


def confirmed_device(user):
    """The user's confirmed TOTP device, or None (at most one is kept)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user is None or not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def pending_device(user):
    """The device being enrolled (shown as a QR code until a code confirms it), or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def user_has_totp(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return bool(user and user.is_authenticated and TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def user_is_verified(request) -> bool:
    """Whether this request carries a verified second factor.

    A session is verified once its user typed a valid code (django-otp's marker). A
    request authenticated by API token is verified when its user has TOTP enrolled:
    such tokens are issued only against a code, and enrolling revokes older ones.
    """
    from rest_framework.authtoken.models import Token

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if isinstance(getattr(request, "auth", None), Token):
        return user_has_totp(user)
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def full_data_needs_second_factor(request) -> bool:
    """True when full personal data must be refused for want of a verified second factor."""
    return bool(settings.REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA) and not user_is_verified(request)


def require_second_factor_for_full_data(request) -> None:
    """Raise SecondFactorRequired (403, code otp_required) unless full data may be shown."""
    if full_data_needs_second_factor(request):
        raise SecondFactorRequired(MSG_FULL_DATA)


def second_factor_pending(request) -> bool:
    """Signed in with the password, second factor required but not yet given."""
    user = request.user
    if not user.is_authenticated:
        return False
    if not _required_for_session(request):
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (is_verified and is_verified())


def _required_for_session(request) -> bool:
    # One indexed query per session (and every RECHECK_SECONDS), not one per request.
    flag = request.session.get(SESSION_FLAG)
    now = int(time.time())
    if not flag or flag[0] != request.user.pk or now - flag[2] > RECHECK_SECONDS:
        flag = [request.user.pk, user_has_totp(request.user), now]
        request.session[SESSION_FLAG] = flag
    return bool(flag[1])


def _set_session_flag(request, required: bool, user=None) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_FLAG] = [(user or request.user).pk, required, int(time.time())]


def _remember_at_sign_in(sender, request, user, **kwargs):
    # Decided once at sign-in, so that pages of users without TOTP pay no query for it.
    if request is not None and hasattr(request, "session"):
        _set_session_flag(request, user_has_totp(user), user=user)


user_logged_in.connect(_remember_at_sign_in, dispatch_uid="organizations.otp.remember_at_sign_in")


# --- writes -----------------------------------------------------------------------------


def _check(device, token: str) -> CodeCheck:
    token = (token or "").strip().replace(" ", "")
    if not (len(token) == 6 and token.isdigit()):
        return CodeCheck(False, str(MSG_CODE_FORMAT))
    allowed, info = device.verify_is_allowed()
    if not allowed:
        until = (info or {}).get("locked_until")
        seconds = max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1
        return CodeCheck(False, str(MSG_THROTTLED) % {"seconds": seconds}, wait_seconds=seconds)
    # verify_token saves the throttle counter itself on failure: never call it inside a
    # transaction that is then rolled back, or failures would not count.
    if device.verify_token(token):
        return CodeCheck(True)
    return CodeCheck(False, str(MSG_CODE_WRONG))


@transaction.atomic
def totp_enrolment_start(*, user, request=None):
    """Create a fresh unconfirmed TOTP device (dropping any earlier unfinished one)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.audit import log_action

    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name="UnionPortal", confirmed=False)
    log_action(actor=user, action="auth.totp_enrolment_started", ip_address=_ip(request))
    return device


def totp_enrolment_confirm(*, user, token: str, request=None) -> CodeCheck:
    """Confirm the pending device with a code from the app; the session becomes verified.

    Confirming removes any other device of the user and revokes the user's API tokens,
    which were issued on the password alone.
    """
    from django_otp import login as otp_login
    from rest_framework.authtoken.models import Token

    from core.audit import log_action

    device = pending_device(user)
    if device is None:
        return CodeCheck(False, _("没有待确认的验证器：请先点击“开始启用”。"))
    result = _check(device, token)
    if not result.ok:
        log_action(actor=user, action="auth.otp_failed", data={"step": "enrolment"}, ip_address=_ip(request))
        return result
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        type(device).objects.filter(user=user).exclude(pk=device.pk).delete()
        revoked = Token.objects.filter(user=user).delete()[0]
        log_action(
            actor=user, action="auth.totp_enabled", data={"api_tokens_revoked": revoked}, ip_address=_ip(request)
        )
    if request is not None:
        otp_login(request, device)
        _set_session_flag(request, True)
    return result


def totp_verify_session(*, request, token: str) -> CodeCheck:
    """The sign-in's second step: check the code and mark the session verified."""
    from django_otp import login as otp_login

    from core.audit import log_action

    user = request.user
    device = confirmed_device(user)
    if device is None:
        return CodeCheck(True)
    result = _check(device, token)
    if result.ok:
        otp_login(request, device)
        log_action(actor=user, action="auth.otp_verified", ip_address=_ip(request))
    else:
        log_action(actor=user, action="auth.otp_failed", data={"step": "sign_in"}, ip_address=_ip(request))
    return result


def totp_check_for_token(*, user, token: str | None, request=None) -> CodeCheck:
    """For the API token endpoint: accept when the user has no TOTP or the code is valid."""
    from core.audit import log_action

    device = confirmed_device(user)
    if device is None:
        return CodeCheck(True)
    if not token:
        return CodeCheck(False, _("此账号已启用两步验证：请同时提交 otp_token（验证器应用中的 6 位数字）。"))
    result = _check(device, token)
    if not result.ok:
        log_action(actor=user, action="auth.otp_failed", data={"step": "api_token"}, ip_address=_ip(request))
    return result


@transaction.atomic
def totp_disable(*, user, password: str, request=None) -> None:
    """Remove the user's TOTP devices after checking the password again."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.audit import log_action

    if not user.check_password(password or ""):
        raise DomainError(_("密码不正确：请输入您登录时使用的密码。"), code="invalid_password", field="password")
    deleted = TOTPDevice.objects.filter(user=user).delete()[0]
    log_action(actor=user, action="auth.totp_disabled", data={"devices": deleted}, ip_address=_ip(request))
    if request is not None:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        _set_session_flag(request, False)


def _ip(request):
    return request.META.get("REMOTE_ADDR") if request is not None else None


# --- the sign-in gate -------------------------------------------------------------------


class SecondFactorMiddleware:
    """Hold a password-only session of a TOTP user at the code page until the code is given.

    Goes after django-otp's OTPMiddleware. Pages redirect to the code page (htmx
    fragments via HX-Redirect); session-authenticated API calls get a 403 in the error
    shape. Token-authenticated API calls are not session-based and pass untouched.
    """

    OPEN_PREFIXES = ("/static/", "/i18n/", "/favicon", "/api/v1/auth/token/", "/api/schema/", "/api/docs/")

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None  # reversed on first use (the URLconf is loaded by then)

    def __call__(self, request):
        if not self._open(request.path) and second_factor_pending(request):
            return self._hold(request)
        return self.get_response(request)

    def _open(self, path: str) -> bool:
        if path.startswith(self.OPEN_PREFIXES):
            return True
        if self._open_paths is None:
            self._open_paths = frozenset(reverse(name) for name in ("otp-verify", "login", "logout"))
        return path in self._open_paths

    def _hold(self, request) -> HttpResponse:
        if request.path.startswith("/api/"):
            body = {
                "error": {
                    "code": "otp_required",
                    "message": _("请先完成两步验证：在登录页输入密码后，再输入验证器应用中的 6 位验证码。"),
                }
            }
            return JsonResponse(body, status=403, json_dumps_params={"ensure_ascii": False})
        target = f"{resolve_url('otp-verify')}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
