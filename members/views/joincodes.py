"""Join codes (扫码入会): list, create, QR downloads (PNG, SVG), printable poster, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import documents
from core.errors import DomainError, refusal
from core.pages import keyset_page, service_form, staff_required
from core.roles import MEMBER_MANAGE
from core.scoping import has_capability, has_capability_anywhere

from .. import forms, selectors, services
from ..models import JoinCode
from .common import posted


def join_url(request, code: JoinCode) -> str:
    """The absolute address a join QR code carries."""
    return request.build_absolute_uri(reverse("join", args=[services.join_code_public(code)]))


@staff_required
def join_code_list(request):
    user = request.user
    can_manage = has_capability_anywhere(user, MEMBER_MANAGE)
    initial = {}
    for key in ("union", "station"):
        value = request.GET.get(key, "")
        if value.isdigit() and len(value) < 19:
            initial[key] = int(value)
    form = forms.JoinCodeForm(posted(request), user=user, initial=initial)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied(_("您的角色没有生成入会二维码的权限。"))

    def save(data):
        code = services.join_code_create(
            actor=user,
            union=None if data.get("station") else data.get("union"),
            station=data.get("station"),
            label=data.get("label", ""),
        )
        return _("已生成入会二维码“%(label)s”。") % {"label": code.label}, ("member-join-code-detail", code.pk)

    def context():
        page = keyset_page(
            selectors.join_codes_for_user(user),
            field="id",
            descending=True,
            cursor=request.GET.get("cursor", ""),
            size=50,
        )
        return {"page": page, "can_manage": can_manage, "is_continuation": bool(request.GET.get("cursor"))}

    return service_form(request, form, template="members/join_code_list.html", context=context, save=save)


def _code(request, pk: int) -> JoinCode:
    return get_object_or_404(selectors.join_codes_for_user(request.user), pk=pk)


@staff_required
@require_GET
def join_code_detail(request, pk: int):
    code = _code(request, pk)
    url = join_url(request, code)
    return render(
        request,
        "members/join_code_detail.html",
        {
            "code": code,
            "join_url": url,
            "qr_svg": documents.qr_svg_inline(url, title=_("扫码加入工会")),
            "can_manage": has_capability(request.user, MEMBER_MANAGE, code.org_path),
        },
    )


@staff_required
@require_GET
def join_code_png(request, pk: int):
    code = _code(request, pk)
    response = HttpResponse(documents.qr_png(join_url(request, code), scale=12), content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="join-code-{code.pk}.png"'
    return response


@staff_required
@require_GET
def join_code_svg(request, pk: int):
    code = _code(request, pk)
    response = HttpResponse(
        documents.qr_svg(join_url(request, code), title=_("扫码加入工会")), content_type="image/svg+xml"
    )
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="join-code-{code.pk}.svg"'
    return response


@staff_required
@require_GET
def join_code_poster(request, pk: int):
    """A printable A4 poster: organisation name, a big QR code, three steps in Chinese."""
    code = _code(request, pk)
    url = join_url(request, code)
    return render(
        request,
        "members/join_code_poster.html",
        {"code": code, "join_url": url, "qr_svg": documents.qr_svg_inline(url, title=_("扫码加入工会"))},
    )


@staff_required
@require_POST
def join_code_revoke(request, pk: int):
    code = _code(request, pk)
    try:
        services.join_code_revoke(actor=request.user, code=code)
    except DomainError as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(
            request, _("已作废入会二维码“%(label)s”；已张贴的二维码将无法再提交申请。") % {"label": code.label}
        )
    return redirect("member-join-code-detail", pk=code.pk)
