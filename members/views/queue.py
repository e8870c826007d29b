"""The approval queue of scan-to-join applications: approve, or reject with a reason.

With htmx the answer is the updated table row plus a toast (out of band); without
JavaScript the forms post normally and the page comes back with a message.
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
from core.pages import keyset_page, private, staff_required
from core.roles import MEMBER_MANAGE
from core.scoping import has_capability, has_capability_anywhere

from .. import forms, selectors, services
from ..filters import JoinApplicationFilter
from ..models import JoinApplication
from .common import PAGE_SIZE, is_fragment, with_toast
from .roll import subtree_options


@staff_required
@require_GET
def application_list(request):
    """Applications of unions in reach; pending ones first and oldest first (fair queue)."""
    user = request.user
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = JoinApplication.Status.PENDING
    filterset = JoinApplicationFilter(
        data, queryset=selectors.join_applications_for_user(user).select_related("membership"), request=request
    )
    fields = filterset.form.fields
    fields["status"].widget.choices = [("", _("全部")), *list(fields["status"].choices)[1:]]
    pending = (
        filterset.form.cleaned_data.get("status") == JoinApplication.Status.PENDING if filterset.is_valid() else False
    )
    page = keyset_page(
        filterset.qs, field="id", descending=not pending, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
    )
    under_options, under_org = subtree_options(request)
    context = {
        "filter": filterset,
        "page": page,
        "under_options": under_options,
        "under_org": under_org,
        "is_continuation": bool(request.GET.get("cursor")),
        "can_manage_any": has_capability_anywhere(user, MEMBER_MANAGE),
        "rows": [(app, has_capability(user, MEMBER_MANAGE, app.org_path)) for app in page.rows],
    }
    return private(render(request, "members/application_list.html", context))


def _row(request, app: JoinApplication, *, error: str = "", reject_form=None):
    app = selectors.join_application_get(request.user, app.pk)
    return private(
        render(
            request,
            "members/_application_row.html",
            {
                "app": app,
                "can_act": has_capability(request.user, MEMBER_MANAGE, app.org_path),
                "error": error,
                "reject_form": reject_form,
            },
        )
    )


@staff_required
@require_POST
def application_approve(request, pk: int):
    app = selectors.join_application_get(request.user, pk)
    try:
        membership = services.join_application_approve(actor=request.user, application=app)
    except (ValidationError, DomainError) as exc:
        message = refusal(exc).text
        if is_fragment(request):
            return with_toast(_row(request, app, error=message), request, message, level="danger")
        messages.error(request, message)
        return redirect("member-applications")
    message = _("已批准“%(name)s”入会，会员编号 %(no)s。") % {"name": app.name, "no": membership.member_number}
    if is_fragment(request):
        return with_toast(_row(request, app), request, message)
    messages.success(request, message)
    return redirect("member-applications")


@staff_required
@require_POST
def application_reject(request, pk: int):
    app = selectors.join_application_get(request.user, pk)
    form = forms.RejectForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    if not form.is_valid():
        message = " ".join(str(m) for errors in form.errors.values() for m in errors)
    else:
        try:
            services.join_application_reject(actor=request.user, application=app, reason=reason)
        except (ValidationError, DomainError) as exc:
            message = refusal(exc).text
        else:
            message = ""
    if message:
        if is_fragment(request):
            return with_toast(_row(request, app, error=message), request, message, level="danger")
        messages.error(request, message)
        return redirect("member-applications")
    done = _("已驳回“%(name)s”的入会申请。") % {"name": app.name}
    if is_fragment(request):
        return with_toast(_row(request, app), request, done)
    messages.success(request, done)
    return redirect("member-applications")


BULK_LIMIT = 100


@staff_required
@require_POST
def application_bulk(request):
    """Approve or reject the ticked applications, each on its own, with a result per row.

    Every application goes through the same service as the row buttons, in its own
    transaction: one refusal (already decided, out of reach) does not undo the others.
    An application outside the reach is reported by its number only, never by name.
    """
    user = request.user
    decision = request.POST.get("decision")
    reason = (request.POST.get("reason") or "").strip()
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit() and len(v) < 19][:BULK_LIMIT]
    error = ""
    if decision not in ("approve", "reject"):
        error = _("请选择“批准所选”或“驳回所选”。")
    elif not ids:
        error = _("请先勾选要审批的入会申请。")
    elif decision == "reject" and not reason:
        error = _("批量驳回须填写驳回理由（对所选申请人都可见）。")
    elif decision == "reject" and len(reason) > 200:
        error = _("驳回理由最多 200 个字，请删减。")
    if error:
        return private(render(request, "members/application_bulk.html", {"error": error, "results": []}, status=400))
    found = {app.pk: app for app in selectors.join_applications_for_user(user).filter(pk__in=ids)}
    results = []
    for pk in ids:
        app = found.get(pk)
        if app is None:
            results.append(
                {
                    "pk": pk,
                    "name": "",
                    "ok": False,
                    "text": _("第 %(pk)s 号申请不存在或不在您的管辖范围内。") % {"pk": pk},
                }
            )
            continue
        try:
            if decision == "approve":
                membership = services.join_application_approve(actor=user, application=app)
                text = _("已批准，会员编号 %(no)s。") % {"no": membership.member_number}
            else:
                services.join_application_reject(actor=user, application=app, reason=reason)
                text = _("已驳回。")
        except (ValidationError, DomainError, PermissionDenied, Http404) as exc:
            results.append({"pk": pk, "name": app.name, "ok": False, "text": refusal(exc).text})
        else:
            results.append({"pk": pk, "name": app.name, "ok": True, "text": text})
    done = sum(r["ok"] for r in results)
    context = {
        "results": results,
        "decision": decision,
        "summary": _("共 %(n)s 项：办理成功 %(ok)s 项，未办理 %(bad)s 项。")
        % {"n": len(results), "ok": done, "bad": len(results) - done},
    }
    return private(render(request, "members/application_bulk.html", context))


@staff_required
@require_POST
def application_verify(request, pk: int):
    """A clerk records that a returning applicant was checked in person: their new credentials apply."""
    app = selectors.join_application_get(request.user, pk)
    note = (request.POST.get("note") or "").strip()[:200]
    try:
        services.join_application_verify_identity(actor=request.user, application=app, note=note)
    except (ValidationError, DomainError) as exc:
        message = refusal(exc).text
        if is_fragment(request):
            return with_toast(_row(request, app, error=message), request, message, level="danger")
        messages.error(request, message)
        return redirect("member-applications")
    done = _("已记录对“%(name)s”的当面核验，申请时填写的手机号和密码已生效，原有登录已全部退出。") % {"name": app.name}
    if is_fragment(request):
        return with_toast(_row(request, app), request, done)
    messages.success(request, done)
    return redirect("member-applications")


@staff_required
@require_GET
def application_detail(request, pk: int):
    """One application with its timeline (submitted, approved or rejected, by whom, why)."""
    app = selectors.join_application_get(request.user, pk)
    return private(
        render(
            request,
            "members/application_detail.html",
            {"app": app, "timeline": core_selectors.transition_history(app)},
        )
    )
