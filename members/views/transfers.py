"""Transfers between unions (会员关系转接): the list, requests from either side, decisions.

The destination of a transfer may be any active union in the city, found by name. The
search answers with names only (selectors.transfer_destinations): choosing where a
member goes must not reveal anything else about another district.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import selectors as core_selectors
from core.errors import DomainError, refusal
from core.pages import keyset_page, private, service_form, staff_required
from core.roles import MEMBER_MANAGE
from core.scoping import has_capability, has_capability_anywhere, path_in_reach

from .. import forms, selectors, services
from ..filters import TransferFilter
from ..models import Transfer
from ..services.transfers import TRANSFER_IN_SENT
from .common import PAGE_SIZE, posted


def transfer_actions(user, t: Transfer) -> dict:
    """What the user may do with a transfer (no queries: capabilities are cached per request)."""
    manage_to = has_capability(user, MEMBER_MANAGE, t.to_path)
    manage_from = has_capability(user, MEMBER_MANAGE, t.from_path)
    return {
        "decide": t.status == Transfer.Status.REQUESTED and manage_to,
        "consent": t.status == Transfer.Status.AWAITING and manage_from,
        "cancel": t.is_open and (manage_from or (t.requested_side == Transfer.Side.TO and manage_to)),
        "member_link": bool(t.member.org_path) and path_in_reach(user, t.member.org_path),
    }


@staff_required
@require_GET
def transfer_list(request):
    user = request.user
    filterset = TransferFilter(request.GET or None, queryset=selectors.transfers_for_user(user), request=request)
    fields = filterset.form.fields
    for name in ("status", "direction"):
        fields[name].widget.choices = [("", _("全部")), *list(fields[name].choices)[1:]]
    page = keyset_page(filterset.qs, field="id", descending=True, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE)
    context = {
        "filter": filterset,
        "page": page,
        "rows": [(t, transfer_actions(user, t)) for t in page.rows],
        "is_continuation": bool(request.GET.get("cursor")),
        "can_manage_any": has_capability_anywhere(user, MEMBER_MANAGE),
        "decision_form": forms.TransferDecisionForm(),
    }
    return render(request, "members/transfer_list.html", context)


def destination_options(request, *, template: str = "members/_destination_options.html"):
    """Unions anywhere in the city whose name contains `q`: radio buttons with names only."""
    q = request.GET.get("q", "").strip()[:60]
    results = selectors.transfer_destinations(q)
    return render(
        request,
        template,
        {"results": results, "q": q, "min_len": selectors.DESTINATION_MIN_QUERY, "chosen": request.GET.get("to_union")},
    )


@staff_required
@require_GET
def staff_destinations(request):
    return destination_options(request)


def search_context(request, form) -> dict:
    """The destination search state for a full page render (no-JS path and errors)."""
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()[:60]
    chosen = form["to_union"].value()
    results = selectors.transfer_destinations(q) if q else []
    if chosen and str(chosen).isdigit():
        union = selectors.transfer_destination_get(chosen)
        if union is not None and union.pk not in {pk for pk, _n in results}:
            results = [(union.pk, union.name), *results]
    return {"q": q, "results": results, "chosen": str(chosen or ""), "min_len": selectors.DESTINATION_MIN_QUERY}


@staff_required
def member_transfer(request, pk: int):
    """The union a member leaves asks to move them to another union (any district)."""
    user = request.user
    member = selectors.member_get(user, pk)
    if not has_capability(user, MEMBER_MANAGE, member.org_path):
        raise PermissionDenied(_("您的角色没有办理会员关系转接的权限。"))
    form = forms.TransferRequestForm(posted(request))

    def save(data):
        t = services.transfer_request(actor=user, member=member, to_union=data["to_union"], reason=data["reason"])
        return _("已向“%(to)s”发出转接申请，待对方接收。") % {"to": t.to_union.name}, ("member-detail", member.pk)

    return private(
        service_form(
            request,
            form,
            template="members/member_transfer.html",
            context=lambda: {"member": member, **search_context(request, form)},
            save=save,
        )
    )


@staff_required
def transfer_in(request):
    """The receiving union asks for a member of another union, found by ID number."""
    user = request.user
    if not has_capability_anywhere(user, MEMBER_MANAGE):
        raise PermissionDenied(_("您的角色没有办理会员关系转接的权限。"))
    form = forms.TransferInForm(posted(request), user=user)

    def save(data):
        try:
            services.transfer_request_by_id_number(
                actor=user, id_number=data["id_number"], to_union=data["to_union"], reason=data["reason"]
            )
        except Http404:
            raise ValidationError({"to_union": _("您没有在“转入工会”办理会员业务的权限，请重新选择。")}) from None
        # The same words whoever the number belongs to, or if it belongs to no one.
        return TRANSFER_IN_SENT, ("member-transfers",)

    return service_form(request, form, template="members/transfer_in.html", context={}, save=save)


def _decide(request, pk: int, action: str):
    user = request.user
    t = selectors.transfer_get(user, pk)
    form = forms.TransferDecisionForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        if action == "accept":
            membership = services.transfer_accept(actor=user, transfer=t, note=note)
            message = _("已接收“%(name)s”转入，新会员编号 %(no)s。") % {
                "name": t.member.name,
                "no": membership.member_number,
            }
        elif action == "reject":
            services.transfer_reject(actor=user, transfer=t, reason=note)
            message = _("已拒绝“%(name)s”的转接申请。") % {"name": t.member.name}
        elif action == "agree":
            services.transfer_consent(actor=user, transfer=t, note=note)
            message = _("已同意“%(name)s”转出，待转入工会接收。") % {"name": t.member.name}
        elif action == "decline":
            services.transfer_decline(actor=user, transfer=t, reason=note)
            message = _("已不同意“%(name)s”转出。") % {"name": t.member.name}
        else:
            services.transfer_cancel(actor=user, transfer=t, note=note)
            message = _("已撤回“%(name)s”的转接申请。") % {"name": t.member.name}
    except Http404:
        # The transfer is in reach (one end is), the other end is not: a refusal, not a 404.
        raise PermissionDenied(_("这项转接需由另一方工会处理，您不能执行此操作。")) from None
    except (ValidationError, DomainError) as exc:
        text = refusal(exc).text
        if isinstance(exc, ValidationError) and action in ("reject", "decline") and not note:
            text = _("请在“处理意见”中填写拒绝理由。")
        messages.error(request, text)
    else:
        messages.success(request, message)
    return redirect("member-transfers")


@staff_required
@require_POST
def transfer_accept(request, pk: int):
    return _decide(request, pk, "accept")


@staff_required
@require_POST
def transfer_reject(request, pk: int):
    return _decide(request, pk, "reject")


@staff_required
@require_POST
def transfer_cancel(request, pk: int):
    return _decide(request, pk, "cancel")


@staff_required
@require_POST
def transfer_agree(request, pk: int):
    return _decide(request, pk, "agree")


@staff_required
@require_POST
def transfer_decline(request, pk: int):
    return _decide(request, pk, "decline")


@staff_required
@require_GET
def transfer_detail(request, pk: int):
    """One transfer with its timeline (both ends see it; member data is the name only)."""
    user = request.user
    t = selectors.transfer_get(user, pk)
    return render(
        request,
        "members/transfer_detail.html",
        {
            "t": t,
            "can": transfer_actions(user, t),
            "timeline": core_selectors.transition_history(t),
            "decision_form": forms.TransferDecisionForm(),
        },
    )
