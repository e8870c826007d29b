"""The answer to a sign-in attempt while django-axes holds the account locked."""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def locked_out(request, original_response=None, credentials=None) -> HttpResponse:
    """A page (or, for scripts, the API error shape) saying why and for how long, in Chinese."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.headers.get("x-requested-with") == "XMLHttpRequest" or request.path.startswith("/api/"):
        message = (
            _("登录失败次数过多，账号已暂时锁定：请 %(minutes)s 分钟后再试，或联系本单位工会管理员解锁。")
            % {"minutes": minutes}
            if minutes
            else _("登录失败次数过多，账号已被锁定：请联系本单位工会管理员解锁。")
        )
        response = JsonResponse(
            {"error": {"code": "locked_out", "message": message}},
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
        if cool_off:
            response["Retry-After"] = str(int(cool_off.total_seconds()))
        return response
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=status,
    )
