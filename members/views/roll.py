"""The member roll: list and search, detail, registration, reveal, leaving, honours, export."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, refusal
from core.pages import file_response, keyset_page, keyset_page_by, private, service_form, staff_required
from core.replicas import heavy_reads
from core.roles import MEMBER_MANAGE, PERSONAL_DATA_FULL
from core.scoping import has_capability, has_capability_anywhere
from organizations.forms import OPTION_LIMIT, org_label, top_of_reach
from organizations.otp import MSG_FULL_DATA, full_data_needs_second_factor
from organizations.selectors import organizations_for_user

from .. import exporter, forms, selectors, services
from ..filters import HonourFilter, MemberFilter
from ..models import Membership
from .common import PAGE_SIZE, is_fragment, posted

FILTER_KEYS = ("q", "under", "status", "employment_form", "is_migrant_worker", "honour", "joined_from", "joined_to")


def _tidy_filter_form(filterset) -> None:
    fields = filterset.form.fields
    fields["is_migrant_worker"].widget.choices = [("unknown", _("全部")), ("true", _("是")), ("false", _("否"))]
    for name in ("status", "honour"):
        fields[name].empty_label = _("全部")
        fields[name].widget.choices = [("", _("全部")), *list(fields[name].choices)[1:]]
    for name in ("joined_from", "joined_to"):
        fields[name].widget.input_type = "date"
    fields["q"].widget.attrs["placeholder"] = _("姓名、拼音首字母，或完整的会员编号、手机号、身份证号")
    fields["q"].help_text = ""
    fields["employment_form"].widget.attrs["size"] = 4
    # Shown from the md breakpoint up only: on a phone the native picker selects several by tapping.
    fields["employment_form"].help_text = format_html(
        '<span class="d-none d-md-inline">{}</span>', _("按住 Ctrl 可多选")
    )


def subtree_options(request, field: str = "under") -> tuple[list[tuple[int, str]], object]:
    """Options for the "union subtree" select (capped; the chosen one always listed)."""
    user = request.user
    orgs = list(top_of_reach(organizations_for_user(user).filter(status="active")).order_by("path")[:OPTION_LIMIT])
    options = [(o.pk, org_label(o)) for o in orgs]
    value = request.GET.get(field, "")
    chosen = None
    if value.isdigit() and len(value) < 19:
        chosen = organizations_for_user(user).filter(pk=int(value)).first()
        if chosen is not None and chosen.pk not in {pk for pk, _label in options}:
            options.append((chosen.pk, org_label(chosen)))
    return options, chosen


def _require_manage(user, member) -> None:
    """403 for a role in reach that may only read (the member is already known to be in reach)."""
    if not has_capability(user, MEMBER_MANAGE, member.org_path):
        raise PermissionDenied(_("您的角色没有办理会员业务的权限。"))


def _filtered(request, data=None):
    user = request.user
    filterset = MemberFilter(
        data if data is not None else request.GET or None, queryset=selectors.members_for_user(user), request=request
    )
    return filterset


@staff_required
@require_GET
@heavy_reads()
def member_list(request):
    """The roll in reach: filters, one search box (exact lookups by blind index), keyset pages."""
    user = request.user
    filterset = _filtered(request)
    _tidy_filter_form(filterset)
    search_keys = selectors.member_search_keys(request.GET.get("q", ""))
    if search_keys:
        # A name or initials search in the order of the index that serves it (see SEARCH_KEYS).
        page = keyset_page_by(filterset.qs, keys=search_keys, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE)
    else:
        # Narrowed to a subtree, ids first: a street of a big city then reads only the page's rows.
        page = keyset_page(
            filterset.qs,
            field="id",
            descending=True,
            cursor=request.GET.get("cursor", ""),
            size=PAGE_SIZE,
            ids_first=bool(request.GET.get("under")),
        )
    under_options, under_org = subtree_options(request)
    export_query = request.GET.copy()
    export_query.pop("cursor", None)
    context = {
        "filter": filterset,
        "page": page,
        "under_options": under_options,
        "under_org": under_org,
        "is_continuation": bool(request.GET.get("cursor")),
        "filtered": any(request.GET.get(k) not in (None, "", "unknown") for k in FILTER_KEYS),
        "can_manage": has_capability_anywhere(user, MEMBER_MANAGE),
        "can_full": has_capability_anywhere(user, PERSONAL_DATA_FULL),
        "export_query": export_query.urlencode(),
    }
    if is_fragment(request, "member-results"):
        return private(render(request, "members/_member_results.html", context))
    return private(render(request, "members/member_list.html", context))


def _detail_context(request, member, **extra) -> dict:
    user = request.user
    memberships = list(member.memberships.all())
    current = member.current_membership
    transfers = list(selectors.transfers_for_user(user).filter(member=member).order_by("-id")[:20])
    can_manage = has_capability(user, MEMBER_MANAGE, member.org_path)
    open_transfer = next((t for t in transfers if t.is_open), None)
    is_active = current is not None and current.status == Membership.Status.ACTIVE
    return {
        "member": member,
        "current_ms": current,
        "memberships": memberships,
        "honours": list(member.honours.all()),
        "transfers": transfers,
        "open_transfer": open_transfer,
        "is_active": is_active,
        "can_manage": can_manage,
        "can_reveal": selectors.can_see_full_personal_data(user, member),
        "honour_form": extra.pop("honour_form", None) or forms.HonourForm(),
        "reveal_form": forms.RevealForm(),
        **extra,
    }


@staff_required
@require_GET
def member_detail(request, pk: int):
    member = selectors.member_detail_queryset(request.user).filter(pk=pk).first()
    if member is None:
        raise Http404
    return private(render(request, "members/member_detail.html", _detail_context(request, member)))


@staff_required
@require_POST
def member_reveal(request, pk: int):
    """Show the full ID number and mobile once, to a role that may see them (audited)."""
    member = selectors.member_detail_queryset(request.user).filter(pk=pk).first()
    if member is None:
        raise Http404
    if full_data_needs_second_factor(request):
        messages.error(request, MSG_FULL_DATA)
        return redirect("otp-setup")
    form = forms.RevealForm(request.POST)
    purpose = form.cleaned_data.get("purpose", "") if form.is_valid() else ""
    revealed = services.member_reveal(actor=request.user, member=member, purpose=purpose)
    if is_fragment(request):
        return private(render(request, "members/_personal_data.html", {"member": member, "revealed": revealed}))
    return private(render(request, "members/member_detail.html", _detail_context(request, member, revealed=revealed)))


@staff_required
def member_register(request):
    """A clerk registers a worker by real name."""
    user = request.user
    if not has_capability_anywhere(user, MEMBER_MANAGE):
        raise PermissionDenied(_("您的角色没有登记会员的权限。"))
    initial = {"employment_form": "full_time"}
    union = request.GET.get("union", "")
    if union.isdigit() and len(union) < 19:
        initial["union"] = int(union)
    form = forms.MemberRegisterForm(posted(request), user=user, initial=initial)

    def save(data):
        data = dict(data)
        for key in ("education", "skill_level"):
            data[key] = data.get(key) or ""
        membership = services.member_register(actor=user, **data)
        message = _("已登记会员“%(name)s”，会员编号 %(no)s。") % {
            "name": membership.member.name,
            "no": membership.member_number,
        }
        return message, ("member-detail", membership.member_id)

    return private(
        service_form(request, form, template="members/member_form.html", context={"title": _("登记会员")}, save=save)
    )


@staff_required
def member_end(request, pk: int):
    """Leaving or retiring: a confirmation page with date and reason (works without JS)."""
    user = request.user
    member = selectors.member_get(user, pk)
    _require_manage(user, member)
    action = request.POST.get("action") or request.GET.get("action") or "leave"
    if action not in forms.MembershipEndForm.ACTIONS:
        action = "leave"
    form = forms.MembershipEndForm(posted(request), initial={"action": action})
    current = member.current_membership

    def save(data):
        if current is None:
            raise DomainError(_("该会员没有在册会籍。"))
        service = services.membership_leave if data["action"] == "leave" else services.membership_retire
        service(actor=user, membership=current, on=data.get("ended_on"), reason=data["reason"])
        message = _("已为“%(name)s”办理%(action)s。") % {
            "name": member.name,
            "action": forms.MembershipEndForm.ACTIONS[action],
        }
        return message, ("member-detail", member.pk)

    context = {"member": member, "current_ms": current, "action_label": forms.MembershipEndForm.ACTIONS[action]}
    return service_form(request, form, template="members/member_end.html", context=context, save=save)


@staff_required
def member_correct(request, pk: int):
    """Correct a member's name, ID number, mobile or employer, with a reason (audited)."""
    user = request.user
    member = selectors.member_get(user, pk)
    _require_manage(user, member)
    form = forms.MemberCorrectForm(posted(request), member=member, user=user)

    def save(data):
        services.member_correct(
            actor=user,
            member=member,
            reason=data.get("reason", ""),
            name=data.get("name"),
            id_number=data.get("id_number", ""),
            mobile=data.get("mobile", ""),
            employer_name=data.get("employer_name"),
            employer=data.get("employer"),
        )
        return _("已更正“%(name)s”的信息。") % {"name": data.get("name") or member.name}, ("member-detail", member.pk)

    return private(
        service_form(request, form, template="members/member_correct.html", context={"member": member}, save=save)
    )


@staff_required
@require_POST
def member_honour_add(request, pk: int):
    user = request.user
    member = selectors.member_detail_queryset(user).filter(pk=pk).first()
    if member is None:
        raise Http404
    form = forms.HonourForm(request.POST)
    if not form.is_valid():
        # The service checks the right for a valid form; an invalid one never reaches it.
        _require_manage(user, member)

    def save(data):
        honour = services.honour_add(actor=user, member=member, **data)
        return _("已登记荣誉：%(h)s。") % {"h": honour}, (reverse("member-detail", args=[member.pk]) + "#honours",)

    return private(
        service_form(
            request,
            form,
            template="members/member_detail.html",
            context=lambda: _detail_context(request, member, honour_form=form),
            save=save,
        )
    )


@staff_required
@require_GET
def member_export(request):
    """The roll in reach, filtered as on the list page, as xlsx or csv (audited; masked unless allowed)."""
    user = request.user
    fmt = request.GET.get("format", "xlsx")
    filterset = _filtered(request)
    filters = {k: v for k, v in request.GET.items() if k in FILTER_KEYS and v}
    full = request.GET.get("full") == "1"
    if full and full_data_needs_second_factor(request):
        messages.error(request, MSG_FULL_DATA)
        return redirect("otp-setup")
    try:
        name, content_type, body = exporter.member_export(
            actor=user, queryset=filterset.qs, fmt=fmt, full=full, filters=filters
        )
    except ValidationError as exc:
        messages.error(request, refusal(exc).text)
        return redirect("member-list")
    return file_response(name, content_type, body)


@staff_required
@require_GET
def union_options(request):
    """<option>s of member-holding unions in reach, narrowed by name (for the union selects)."""
    qs = forms.union_options(request.user)
    q = request.GET.get("q", "").strip()[:60]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q))
    options = [(o.pk, org_label(o)) for o in qs.order_by("path")[:OPTION_LIMIT]]
    return render(request, "organizations/_org_options.html", {"options": options, "allow_empty": True, "q": q})


# --- honours -----------------------------------------------------------------------------


@staff_required
@require_GET
def honour_list(request):
    user = request.user
    qs = selectors.honours_for_user(user).select_related("member__current_membership__union")
    filterset = HonourFilter(request.GET or None, queryset=qs, request=request)
    fields = filterset.form.fields
    fields["kind"].widget.choices = [("", _("全部")), *list(fields["kind"].choices)[1:]]
    page = keyset_page(
        filterset.qs, field="year", descending=True, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
    )
    under_options, under_org = subtree_options(request)
    context = {
        "filter": filterset,
        "page": page,
        "under_options": under_options,
        "under_org": under_org,
        "is_continuation": bool(request.GET.get("cursor")),
        "filtered": any(request.GET.get(k) for k in ("kind", "year", "under")),
    }
    return render(request, "members/honour_list.html", context)
