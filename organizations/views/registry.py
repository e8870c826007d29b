"""Enterprise registry, service stations and officers: lists, details and forms."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.pages import keyset_page, service_form, staff_required
from core.roles import ORG_MANAGE
from core.scoping import has_capability, has_capability_anywhere

from .. import forms, services
from ..filters import EnterpriseFilter, ServiceStationFilter
from ..selectors import (
    enterprise_get,
    enterprises_for_user,
    officers_for_user,
    organization_breadcrumb,
    organization_get,
    organizations_for_user,
    stations_for_user,
)

PAGE_SIZE = 50
ENTERPRISE_SORTS = {
    "name": ("name", False),
    "-name": ("name", True),
    "employees": ("employees", False),
    "-employees": ("employees", True),
}


def _tidy_boolean_filters(filterset, *names) -> None:
    """'Unknown' reads oddly on a filter: call the empty choice 'all'."""
    for name in names:
        filterset.form.fields[name].widget.choices = [("unknown", _("全部")), ("true", _("是")), ("false", _("否"))]
    # Likewise the dashes of an unchosen choice filter.
    for field in filterset.form.fields.values():
        choices = list(getattr(field.widget, "choices", ()))
        if choices and choices[0][0] == "" and str(choices[0][1]).startswith("---"):
            field.widget.choices = [("", _("全部")), *choices[1:]]


def _under_org(request):
    """The organisation named by ?under= if it is in reach (to show what the list is limited to)."""
    value = request.GET.get("under", "")
    if not value.isdigit():
        return None
    return organizations_for_user(request.user).filter(pk=int(value)).first()


# --- enterprises ----------------------------------------------------------------------


@staff_required
@require_GET
def enterprise_list(request):
    """Enterprises in reach, filtered, sorted by name or headcount, paged by keyset."""
    user = request.user
    filterset = EnterpriseFilter(request.GET or None, queryset=enterprises_for_user(user), request=request)
    _tidy_boolean_filters(filterset, "has_union", "is_active")
    sort = request.GET.get("sort", "name")
    if sort not in ENTERPRISE_SORTS:
        sort = "name"
    field, descending = ENTERPRISE_SORTS[sort]
    page = keyset_page(
        filterset.qs, field=field, descending=descending, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
    )
    context = {
        "filter": filterset,
        "page": page,
        "sort": sort,
        "is_continuation": bool(request.GET.get("cursor")),
        "under_org": _under_org(request),
        "filtered": any(request.GET.get(k) not in (None, "", "unknown") for k in filterset.form.fields),
        "more_filtered": any(
            request.GET.get(k) not in (None, "", "unknown") for k in filterset.form.fields if k not in ("q", "under")
        ),
        "can_create": has_capability_anywhere(user, ORG_MANAGE),
    }
    if request.htmx and not request.htmx.history_restore_request:
        if request.htmx.target == "enterprise-more":
            return render(request, "organizations/_enterprise_rows.html", context)
        if request.htmx.target == "enterprise-results":
            return render(request, "organizations/_enterprise_results.html", context)
    return render(request, "organizations/enterprise_list.html", context)


ENTERPRISE_OPTION_LIMIT = 30


@staff_required
@require_GET
def enterprise_options(request):
    """HTML fragment of <option>s for an enterprise picker: a name (part) or a full credit code.

    The registry in the user's view reach, active enterprises only, first
    ENTERPRISE_OPTION_LIMIT by name: a picker answers a search, it does not page through
    150,000 enterprises (the registry list does that).
    """
    q = request.GET.get("q", "").strip()[:60]
    options, more = [], False
    if q:
        qs = enterprises_for_user(request.user).filter(is_active=True)
        if len(q) == 18 and q.isalnum():
            qs = qs.filter(Q(credit_code=q.upper()) | Q(name__icontains=q))
        else:
            qs = qs.filter(name__icontains=q)
        found = list(
            qs.select_related(None)
            .only("pk", "name", "credit_code")
            .order_by("name", "id")[: ENTERPRISE_OPTION_LIMIT + 1]
        )
        more = len(found) > ENTERPRISE_OPTION_LIMIT
        options = [(e.pk, forms.enterprise_label(e)) for e in found[:ENTERPRISE_OPTION_LIMIT]]
    return render(
        request,
        "organizations/_enterprise_options.html",
        {"options": options, "q": q, "more": more, "limit": ENTERPRISE_OPTION_LIMIT},
    )


@staff_required
@require_GET
def enterprise_detail(request, pk: int):
    ent = enterprise_get(request.user, pk)
    return render(
        request,
        "organizations/enterprise_detail.html",
        {
            "ent": ent,
            "can_manage": has_capability(request.user, ORG_MANAGE, ent.org_path),
            "breadcrumb": organization_breadcrumb(request.user, ent.supervisor),
        },
    )


@staff_required
def enterprise_create(request):
    user = request.user
    if not has_capability_anywhere(user, ORG_MANAGE):
        raise PermissionDenied(_("您的角色没有登记企业的权限。"))
    initial = {}
    supervisor = request.GET.get("supervisor", "")
    if supervisor.isdigit():
        initial["supervisor"] = organizations_for_user(user).filter(pk=int(supervisor)).first()

    def save(data):
        ent = services.enterprise_create(actor=user, **data)
        return _("已登记企业“%(name)s”。") % {"name": ent.name}, ("enterprise-detail", ent.pk)

    return service_form(
        request,
        forms.EnterpriseForm(request.POST or None, user=user, initial=initial),
        template="organizations/enterprise_form.html",
        context={"title": _("登记企业")},
        save=save,
    )


@staff_required
def enterprise_edit(request, pk: int):
    user = request.user
    ent = enterprise_get(user, pk)
    services.require(user, ORG_MANAGE, ent.supervisor)
    initial = {name: getattr(ent, name) for name in services.ENTERPRISE_FIELDS}

    def save(data):
        services.enterprise_update(actor=user, enterprise=ent, **data)
        return _("已保存企业“%(name)s”的信息。") % {"name": data["name"]}, ("enterprise-detail", ent.pk)

    return service_form(
        request,
        forms.EnterpriseForm(request.POST or None, user=user, initial=initial, editing=True),
        template="organizations/enterprise_form.html",
        context={"ent": ent, "title": _("编辑企业信息")},
        save=save,
    )


# --- service stations -----------------------------------------------------------------


@staff_required
@require_GET
def station_list(request):
    filterset = ServiceStationFilter(
        request.GET or None, queryset=stations_for_user(request.user).order_by("name", "id"), request=request
    )
    _tidy_boolean_filters(filterset, "is_active")
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "under_org": _under_org(request)}
    context["filtered"] = any(request.GET.get(k) not in (None, "", "unknown") for k in filterset.form.fields)
    if request.htmx and request.htmx.target == "station-results" and not request.htmx.history_restore_request:
        return render(request, "organizations/_station_results.html", context)
    return render(request, "organizations/station_list.html", context)


@staff_required
@require_GET
def station_detail(request, pk: int):
    station = get_object_or_404(stations_for_user(request.user), pk=pk)
    return render(
        request,
        "organizations/station_detail.html",
        {
            "station": station,
            "can_manage": station.organization.is_active
            and has_capability(request.user, ORG_MANAGE, station.organization.path),
            "breadcrumb": organization_breadcrumb(request.user, station.organization),
        },
    )


def _owned_form(request, *, form, org, title, save, success, redirect_to):
    """The form page of a thing an organisation owns (station, officer): save through a service.

    `save(cleaned_data)` calls the service and returns the saved object; service refusals
    land on the form's fields; success shows `success % {"name": …}` and redirects.
    """
    context = {"org": org, "title": title, "breadcrumb": organization_breadcrumb(request.user, org)}

    def save_and_say(data):
        obj = save(data)
        return success % {"name": obj.name}, redirect_to(obj)

    return service_form(request, form, template="organizations/owned_form.html", context=context, save=save_and_say)


@staff_required
def station_create(request, pk: int):
    org = organization_get(request.user, pk)
    services.require(request.user, ORG_MANAGE, org)
    return _owned_form(
        request,
        form=forms.StationForm(request.POST or None, initial={"is_active": True}),
        org=org,
        title=_("添加服务站点"),
        save=lambda data: services.station_create(actor=request.user, organization=org, **data),
        success=_("已添加服务站点“%(name)s”。"),
        redirect_to=lambda station: ("station-detail", station.pk),
    )


@staff_required
def station_edit(request, pk: int):
    station = get_object_or_404(stations_for_user(request.user), pk=pk)
    services.require(request.user, ORG_MANAGE, station.organization)
    initial = {name: getattr(station, name) for name in services.STATION_FIELDS}
    return _owned_form(
        request,
        form=forms.StationForm(request.POST or None, initial=initial),
        org=station.organization,
        title=_("编辑服务站点"),
        save=lambda data: services.station_update(actor=request.user, station=station, **data),
        success=_("已保存服务站点“%(name)s”。"),
        redirect_to=lambda station: ("station-detail", station.pk),
    )


# --- officers -------------------------------------------------------------------------


@staff_required
def officer_create(request, pk: int):
    org = organization_get(request.user, pk)
    services.require(request.user, ORG_MANAGE, org)
    return _owned_form(
        request,
        form=forms.OfficerForm(request.POST or None),
        org=org,
        title=_("添加工会干部"),
        save=lambda data: services.officer_create(actor=request.user, organization=org, **data),
        success=_("已添加工会干部“%(name)s”。"),
        redirect_to=lambda officer: ("org-detail", org.pk),
    )


@staff_required
def officer_edit(request, pk: int):
    officer = get_object_or_404(officers_for_user(request.user), pk=pk)
    org = officer.organization
    services.require(request.user, ORG_MANAGE, org)
    initial = {name: getattr(officer, name) for name in services.OFFICER_FIELDS}
    return _owned_form(
        request,
        form=forms.OfficerForm(request.POST or None, initial=initial),
        org=org,
        title=_("编辑工会干部"),
        save=lambda data: services.officer_update(actor=request.user, officer=officer, **data),
        success=_("已保存工会干部“%(name)s”的信息。"),
        redirect_to=lambda officer: ("org-detail", org.pk),
    )
