"""Pages of the optional second factor: enrol (QR code + secret, confirm with a code),
disable (with the password), and the code step of the sign-in."""

from __future__ import annotations

from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.pages import apply_service_error, staff_required

from . import otp


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("6 位验证码"),
        max_length=12,
        error_messages={"required": gettext_lazy("请输入验证器应用中当前显示的 6 位数字。")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": r"[0-9 ]{6,7}",
                "class": "form-control form-control-lg text-center",
                "autofocus": True,
            }
        ),
    )


class DisableForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("登录密码"),
        strip=False,
        error_messages={"required": gettext_lazy("请输入登录密码以确认停用两步验证。")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "form-control"}),
    )


def _grouped_secret(device) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _qr_data_uri(device) -> str:
    # An inline SVG data URI: no request for the secret to leak through, and CSP allows img data:.
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


@staff_required
def otp_setup(request):
    """The second-factor page: status, or the QR code of the device being enrolled."""
    device = otp.confirmed_device(request.user)
    pending = None if device else otp.pending_device(request.user)
    context = {
        "device": device,
        "pending": pending,
        "code_form": CodeForm(),
        "disable_form": DisableForm(),
        "required_for_full_data": settings.REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA,
    }
    if pending:
        context.update(qr=_qr_data_uri(pending), secret=_grouped_secret(pending))
    return render(request, "organizations/otp_setup.html", context)


@staff_required
@require_POST
def otp_start(request):
    otp.totp_enrolment_start(user=request.user, request=request)
    return redirect("otp-setup")


@staff_required
@require_POST
def otp_confirm(request):
    form = CodeForm(request.POST)
    if form.is_valid():
        result = otp.totp_enrolment_confirm(user=request.user, token=form.cleaned_data["token"], request=request)
        if result.ok:
            messages.success(request, _("两步验证已启用：以后登录时，输入密码后还需输入验证器应用中的验证码。"))
            return redirect("otp-setup")
        form.add_error("token", result.message)
    pending = otp.pending_device(request.user)
    if pending is None:
        return redirect("otp-setup")
    context = {
        "device": None,
        "pending": pending,
        "code_form": form,
        "disable_form": DisableForm(),
        "qr": _qr_data_uri(pending),
        "secret": _grouped_secret(pending),
        "required_for_full_data": settings.REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA,
    }
    return render(request, "organizations/otp_setup.html", context, status=400)


@staff_required
@require_POST
def otp_disable(request):
    form = DisableForm(request.POST)
    if form.is_valid():
        try:
            otp.totp_disable(user=request.user, password=form.cleaned_data["password"], request=request)
        except DomainError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("两步验证已停用。"))
            return redirect("otp-setup")
    context = {
        "device": otp.confirmed_device(request.user),
        "pending": None,
        "code_form": CodeForm(),
        "disable_form": form,
        "required_for_full_data": settings.REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA,
    }
    return render(request, "organizations/otp_setup.html", context, status=400)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """The sign-in's second step, for accounts with a confirmed TOTP device."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not otp.second_factor_pending(request):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = otp.totp_verify_session(request=request, token=form.cleaned_data["token"])
            if result.ok:
                return redirect(_next_url(request))
            form.add_error("token", result.message)
        status = 400
    return render(request, "organizations/otp_verify.html", {"form": form, "next": _next_url(request)}, status=status)
