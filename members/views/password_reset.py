"""Forgotten password: a code by SMS to the member's mobile, then a new password (issue 15).

Anonymous pages. Step 1 always moves on to step 2 with the same message, whether or not
the number belongs to anyone; the number typed is kept in this browser's session only to
fill in step 2.
"""

from __future__ import annotations

from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from core.crypto import mask_mobile
from core.login_names import login_name
from core.pages import private, service_form

from .. import forms, services
from .common import client_ip, posted

SESSION_KEY = "members:pwreset-mobile"


def _signed_in(request):
    return request.user.is_authenticated


@never_cache
@csrf_protect
def password_reset(request):
    """Step 1: the mobile number; a code is sent if a worker signs in with it."""
    if _signed_in(request):
        return redirect("home")
    form = forms.PasswordResetRequestForm(posted(request))

    def save(data):
        services.password_reset_request(mobile=data["mobile"], ip_address=client_ip(request))
        number = login_name(data["mobile"])
        request.session[SESSION_KEY] = number
        message = _(
            "如果 %(mobile)s 是已登记会员的登录手机号，验证码已发送到该号码，10 分钟内有效。没有收到请稍后重新获取，"
            "或联系所在工会。"
        ) % {"mobile": mask_mobile(number)}
        return message, ("password-reset-confirm",)

    return private(service_form(request, form, template="accounts/password_reset.html", context={}, save=save))


@never_cache
@csrf_protect
def password_reset_confirm(request):
    """Step 2: the code and the new password; then back to sign in."""
    if _signed_in(request):
        return redirect("home")
    form = forms.PasswordResetConfirmForm(posted(request), initial={"mobile": request.session.get(SESSION_KEY, "")})

    def save(data):
        services.password_reset_confirm(
            mobile=data["mobile"], code=data["code"], new_password=data["new_password"], ip_address=client_ip(request)
        )
        request.session.pop(SESSION_KEY, None)
        return _("密码已重置，请用新密码登录。其他设备上的登录和 API 令牌已失效。"), ("login",)

    return private(service_form(request, form, template="accounts/password_reset_confirm.html", context={}, save=save))
