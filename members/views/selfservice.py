"""The worker's own pages on the phone: card (and printable PDF), membership, transfer,
personal data, leaving. Mobile-first, plain forms: everything works without JavaScript.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import documents
from core.errors import DomainError, refusal
from core.pages import private, service_form, worker_required

from .. import cards, forms, personal_data, selectors, services
from ..models import Membership
from .common import client_ip, form_page, posted
from .transfers import destination_options, search_context


def _member_or_none(request):
    return selectors.member_for_worker(request.user)


def _active(member) -> Membership | None:
    ms = member.current_membership if member is not None else None
    return ms if ms is not None and ms.status == Membership.Status.ACTIVE else None


def _no_member(request, title: str):
    return private(render(request, "selfservice/no_member.html", {"title": title}))


def verify_url(request, membership: Membership) -> str:
    return request.build_absolute_uri(reverse("card-verify", args=[cards.card_token(membership)]))


@worker_required
@require_GET
def my_card(request):
    member = _member_or_none(request)
    if member is None:
        return _no_member(request, _("我的会员卡"))
    active = _active(member)
    context = {"member": member, "membership": member.current_membership, "active": active}
    if active is not None:
        url = verify_url(request, active)
        context["qr_svg"] = documents.qr_svg_inline(url, title=_("会员卡核验二维码"))
    return private(render(request, "selfservice/card.html", context))


@worker_required
@require_GET
def my_card_pdf(request):
    member = _member_or_none(request)
    active = _active(member)
    if active is None:
        raise Http404(_("没有在册会籍，不能打印会员卡。"))
    pdf = cards.card_pdf(cards.card_data(member, verify_url=verify_url(request, active)))
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="member-card-{active.member_number}.pdf"'
    return private(response)


@worker_required
@require_GET
def my_membership(request):
    member = _member_or_none(request)
    if member is None:
        return _no_member(request, _("我的会籍"))
    return private(
        render(
            request,
            "selfservice/membership.html",
            {
                "member": member,
                "membership": member.current_membership,
                "history": list(selectors.member_memberships(request.user, member)),
                "honours": list(member.honours.all()),
            },
        )
    )


@worker_required
def my_transfer(request):
    """The worker's own transfer requests, and a new one to a union found by name."""
    user = request.user
    member = _member_or_none(request)
    if member is None:
        return _no_member(request, _("会员关系转接"))
    transfers = list(selectors.transfers_for_worker(user).filter(member=member).order_by("-id")[:10])
    open_transfer = next((t for t in transfers if t.is_open), None)
    form = forms.TransferRequestForm(posted(request))

    def save(data):
        t = services.transfer_request(actor=user, member=member, to_union=data["to_union"], reason=data["reason"])
        return _("转接申请已提交，待“%(to)s”接收。") % {"to": t.to_union.name}, ("my-transfer",)

    return private(
        service_form(
            request,
            form,
            template="selfservice/transfer.html",
            context=lambda: {
                "member": member,
                "active": _active(member),
                "transfers": transfers,
                "open_transfer": open_transfer,
                **search_context(request, form),
            },
            save=save,
        )
    )


@worker_required
@require_GET
def my_destinations(request):
    return destination_options(request)


def _my_consent(request, pk: int, *, agree: bool):
    if _member_or_none(request) is None:
        raise Http404
    t = get_object_or_404(selectors.transfers_for_worker(request.user), pk=pk)
    try:
        if agree:
            services.transfer_consent(actor=request.user, transfer=t, note=_("本人同意"))
        else:
            services.transfer_decline(actor=request.user, transfer=t, reason=_("本人不同意"))
    except (ValidationError, DomainError) as exc:
        messages.error(request, refusal(exc).text)
    else:
        if agree:
            messages.success(request, _("您已同意转入“%(to)s”，待对方工会接收。") % {"to": t.to_union.name})
        else:
            messages.success(request, _("您已拒绝这项转接，会籍保持不变。"))
    return redirect("my-transfer")


@worker_required
@require_POST
def my_transfer_consent(request, pk: int):
    """The worker agrees to a transfer a receiving union asked for."""
    return _my_consent(request, pk, agree=True)


@worker_required
@require_POST
def my_transfer_decline(request, pk: int):
    return _my_consent(request, pk, agree=False)


@worker_required
@require_POST
def my_transfer_cancel(request, pk: int):
    member = _member_or_none(request)
    if member is None:
        raise Http404
    t = get_object_or_404(selectors.transfers_for_worker(request.user), pk=pk)
    try:
        services.transfer_cancel(actor=request.user, transfer=t, note=_("本人撤回"))
    except DomainError as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("已撤回转接申请。"))
    return redirect("my-transfer")


@worker_required
def my_data(request):
    """Personal data (masked) and corrections of the contact details through the service."""
    member = _member_or_none(request)
    if member is None:
        return _no_member(request, _("我的信息"))
    form = forms.ContactForm(posted(request), initial={"employer_name": member.employer_name, "mobile": ""})

    def save(data):
        mobile = data["mobile"].strip()
        services.member_update_contact(
            actor=request.user,
            member=member,
            mobile=mobile or None,
            employer_name=data["employer_name"],
            keep_session_key=request.session.session_key,
        )
        if mobile:
            return _("已更新联系方式。下次请用新手机号码登录；其他设备上的登录和 API 令牌已失效。"), ("my-data",)
        return _("已更新联系方式。"), ("my-data",)

    def context():
        return {"member": member, "claims": list(selectors.identity_claims_for_worker(request.user))}

    return private(service_form(request, form, template="selfservice/data.html", context=context, save=save))


@worker_required
@require_POST
def my_claim_refuse(request, pk: int):
    """The account holder says a returning-member application in their name was not theirs."""
    app = get_object_or_404(selectors.identity_claims_for_worker(request.user), pk=pk)
    try:
        services.join_identity_claim_refuse(actor=request.user, application=app)
    except DomainError as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(
            request, _("已拒绝：该申请填写的手机号和密码永远不会用于您的账号。如需帮助，请致电职工服务热线 12351。")
        )
    return redirect("my-data")


@worker_required
def my_password(request):
    """Change the sign-in password; the old one proves the account holder is asking."""
    form = forms.PasswordChangeForm(posted(request))

    def save(data):
        services.worker_password_change(
            user=request.user,
            old_password=data["old_password"],
            new_password=data["new_password"],
            ip_address=client_ip(request),
        )
        update_session_auth_hash(request, request.user)  # this session stays; the others end
        return _("密码已修改。其他设备上的登录和 API 令牌已失效。"), ("my-data",)

    return private(service_form(request, form, template="selfservice/password.html", context={}, save=save))


def _my_data(request, form: str):
    """The worker's own member record and everything held about it, audited as `form`.

    Only ever the worker's own record: there is no id in the URL to tamper with.
    """
    member = _member_or_none(request)
    if member is None:
        raise Http404(_("没有您的会员信息，无可导出的内容。"))
    return member, services.member_data_export(actor=request.user, member=member, form=form)


def _data_filename(ext: str) -> str:
    return f"my-personal-data-{timezone.localdate().strftime('%Y%m%d')}.{ext}"


@worker_required
@require_POST
def my_data_export(request):
    """A copy of everything held about the signed-in worker (PIPL art. 45), as a JSON download.

    The machine-readable form (to take to another service); the page and the PDF are for people.
    """
    _member, data = _my_data(request, "json")
    content = json.dumps(data, ensure_ascii=False, indent=2)
    response = HttpResponse(content.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_data_filename("json")}"'
    return private(response)


@worker_required
@require_POST
def my_data_copy(request):
    """The same copy as a page to read on the phone. POST, like the downloads: every showing
    of the full ID number is audited, and a link preview or prefetch must not cause one."""
    member, data = _my_data(request, "page")
    context = {"member": member, "sections": personal_data.readable_sections(data)}
    return private(render(request, "selfservice/data_copy.html", context))


@worker_required
@require_POST
def my_data_pdf(request):
    """The same copy as a PDF to keep or print (Chinese in the embedded font)."""
    member, data = _my_data(request, "pdf")
    pdf = personal_data.sections_pdf(personal_data.readable_sections(data), name=member.name)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_data_filename("pdf")}"'
    return private(response)


@worker_required
def my_leave(request):
    """Leaving the union: the member's own right; takes effect at once, so it asks to confirm."""
    member = _member_or_none(request)
    if member is None:
        return _no_member(request, _("申请退会"))
    active = _active(member)
    form = forms.LeaveForm(posted(request))
    context = {"member": member, "active": active}
    if active is None:
        # Nothing to leave: the page says so, and a POST changes nothing.
        return private(form_page(request, "selfservice/leave.html", {**context, "form": form}))

    def save(data):
        services.membership_leave(actor=request.user, membership=active, reason=data["reason"])
        message = _("您已退出“%(union)s”。感谢您对工会工作的支持。") % {"union": active.union.name}
        return message, ("my-membership",)

    return private(service_form(request, form, template="selfservice/leave.html", context=context, save=save))
