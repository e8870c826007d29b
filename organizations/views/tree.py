"""The organisation tree browser, organisation detail, and the forms that change the tree."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.pages import service_form, staff_required
from core.roles import ALL_CAPABILITIES, AUDIT_VIEW, ORG_MANAGE
from core.scoping import has_capability

from .. import forms, services
from ..models import Enterprise, Organization, OrgKind
from ..selectors import (
    coverage_for,
    organization_breadcrumb,
    organization_children,
    organization_get,
    organization_search,
    organizations_for_user,
    stations_for_user,
)
from .focus import focused_roots

SEARCH_LIMIT = 50
CHILDREN_LIMIT = 500
DETAIL_LIST_LIMIT = 50


def _ancestor_names(user, orgs) -> dict[str, str]:
    """path -> name of every visible ancestor of `orgs`, in one query (for result context)."""
    paths = {p for org in orgs for p in org.ancestor_paths()}
    if not paths:
        return {}
    return dict(organizations_for_user(user).filter(path__in=paths).values_list("path", "name"))


@staff_required
@require_GET
def org_tree(request):
    """The tree from the user's reach roots, or search results when a name or kind is given."""
    user = request.user
    q = request.GET.get("q", "").strip()[:60]
    kind = request.GET.get("kind", "")
    if kind not in OrgKind.values:
        kind = ""
    context = {"q": q, "kind": kind, "kinds": OrgKind.choices, "searching": bool(q or kind)}
    if context["searching"]:
        results = list(organization_search(user, q, kind=kind, limit=SEARCH_LIMIT + 1))
        context["truncated"] = len(results) > SEARCH_LIMIT
        results = results[:SEARCH_LIMIT]
        names = _ancestor_names(user, results)
        context["results"] = [(org, [names[p] for p in org.ancestor_paths() if p in names][-3:]) for org in results]
    else:
        context["nodes"] = focused_roots(request)
    if request.htmx and request.htmx.target == "org-results" and not request.htmx.history_restore_request:
        return render(request, "organizations/_tree_results.html", context)
    return render(request, "organizations/tree.html", context)


@staff_required
@require_GET
def org_children(request, pk: int):
    """HTML fragment: the active children of one organisation, for lazy expansion."""
    parent = organization_get(request.user, pk)
    children = list(organization_children(request.user, parent)[:CHILDREN_LIMIT])
    return render(
        request,
        "organizations/_tree_nodes.html",
        {"nodes": children, "parent": parent, "truncated": parent.numchild > CHILDREN_LIMIT},
    )


def _kept_ids(request) -> list[int]:
    """The values already chosen in a multiple select (sent along by its search box): kept listed and selected."""
    name = request.GET.get("keep", "")
    if not name:
        return []
    return [int(v) for v in request.GET.getlist(name)[: forms.OPTION_LIMIT] if v.isdigit() and len(v) < 19]


@staff_required
@require_GET
def org_options(request):
    """HTML fragment of <option>s for the organisation selects, narrowed by a name."""
    user = request.user
    purpose = request.GET.get("purpose", "")
    org = None
    if purpose in ("move", "merge"):
        try:
            org = organization_get(user, int(request.GET.get("org", "")))
        except ValueError as exc:
            raise Http404 from exc
    capability = request.GET.get("capability", "")
    kinds = [k for k in request.GET.get("kinds", "").split(",") if k]
    if purpose == "capability" and (capability not in ALL_CAPABILITIES or not set(kinds) <= set(OrgKind.values)):
        raise Http404
    builders = {
        "move": lambda: forms.move_target_options(user, org),
        "merge": lambda: forms.merge_target_options(user, org),
        "supervisor": lambda: forms.supervisor_options(user),
        "union": lambda: forms.union_options(user),
        "any": lambda: forms.any_org_options(user),
        # The audit page's "under" filter: where the user may read the audit log.
        "audit": lambda: organizations_for_user(user, AUDIT_VIEW),
        # The list filters' "under" (members, applications, honours): the view reach.
        "view": lambda: organizations_for_user(user).filter(status=Organization.Status.ACTIVE),
        # The domain forms above this app (projects, aid, mediation): active organisations
        # of some kinds where the user holds the capability that the form's write needs.
        "capability": lambda: forms.capability_options(user, capability, kinds),
    }
    if purpose not in builders:
        raise Http404
    qs = builders[purpose]()
    kept = list(qs.filter(pk__in=ids).order_by("path")) if (ids := _kept_ids(request)) else []
    q = request.GET.get("q", "").strip()[:60]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q))
    found = qs.exclude(pk__in=[o.pk for o in kept]) if kept else qs
    options = [(o.pk, forms.org_label(o)) for o in found.order_by("path")[: forms.OPTION_LIMIT]]
    return render(
        request,
        "organizations/_org_options.html",
        {
            "kept": [(o.pk, forms.org_label(o)) for o in kept],
            "options": options,
            "allow_empty": purpose in ("union", "any", "audit", "view") or request.GET.get("optional") == "1",
            "empty_label": _("全部（管辖范围内）") if purpose in ("view", "audit") else "",
            "q": q,
        },
    )


@staff_required
@require_GET
def org_detail(request, pk: int):
    user = request.user
    org = organization_get(user, pk)
    children = list(organization_children(user, org, include_inactive=True)[:CHILDREN_LIMIT])
    enterprises = list(
        Enterprise.objects.for_user(user)
        .filter(Q(supervisor=org) | Q(union=org))
        .select_related("supervisor", "union")
        .order_by("name", "id")[: DETAIL_LIST_LIMIT + 1]
    )
    officers = list(org.officers.order_by("position", "-term_start")[:DETAIL_LIST_LIMIT])
    stations = list(stations_for_user(user).filter(organization=org).order_by("name")[:DETAIL_LIST_LIMIT])
    context = {
        "org": org,
        "breadcrumb": organization_breadcrumb(user, org),
        "parent_kind_allowed": [OrgKind(k).label for k in OrgKind.values if k in forms.ALLOWED_CHILD_KINDS[org.kind]],
        "children": children,
        "children_truncated": org.numchild > CHILDREN_LIMIT,
        "enterprises": enterprises[:DETAIL_LIST_LIMIT],
        "enterprises_truncated": len(enterprises) > DETAIL_LIST_LIMIT,
        "officers": officers,
        "stations": stations,
        "coverage": coverage_for(org),
        "members_counted": bool(services.MEMBER_COUNTERS),
        "can_manage": org.is_active and has_capability(user, ORG_MANAGE, org.path),
        "merged_into": organizations_for_user(user).filter(pk=org.merged_into_id).first()
        if org.merged_into_id
        else None,
    }
    return render(request, "organizations/detail.html", context)


# --- forms that change the tree -------------------------------------------------------


def _managed_org(request, pk: int) -> Organization:
    """The organisation if in reach (else 404) and the user may manage it (else 403)."""
    org = organization_get(request.user, pk)
    services.require(request.user, ORG_MANAGE, org)
    return org


@staff_required
def org_create_child(request, pk: int):
    parent = _managed_org(request, pk)

    def save(data):
        child = services.organization_create(actor=request.user, parent=parent, **data)
        return _("已在“%(parent)s”下设立“%(name)s”。") % {"parent": parent, "name": child}, ("org-detail", child.pk)

    return service_form(
        request,
        forms.OrganizationForm(request.POST or None, parent=parent),
        template="organizations/org_form.html",
        context={
            "org": parent,
            "title": _("设立下级组织"),
            "breadcrumb": organization_breadcrumb(request.user, parent),
        },
        save=save,
    )


@staff_required
def org_edit(request, pk: int):
    org = _managed_org(request, pk)
    initial = {name: getattr(org, name) for name in services.ORG_FIELDS}

    def save(data):
        services.organization_update(actor=request.user, organization=org, **data)
        return _("已保存“%(name)s”的信息。") % {"name": data["name"]}, ("org-detail", org.pk)

    return service_form(
        request,
        forms.OrganizationForm(request.POST or None, parent=Organization.objects.get_parent(org), initial=initial),
        template="organizations/org_form.html",
        context={"org": org, "title": _("编辑组织信息"), "breadcrumb": organization_breadcrumb(request.user, org)},
        save=save,
    )


def _org_action(request, org, form, *, title, intro, submit_label, save, danger=False):
    """The confirmation form of an action on an organisation (move, dissolve, merge)."""
    context = {
        "org": org,
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "danger": danger,
        "breadcrumb": organization_breadcrumb(request.user, org),
    }
    return service_form(request, form, template="organizations/org_action_form.html", context=context, save=save)


@staff_required
def org_move(request, pk: int):
    org = _managed_org(request, pk)

    def save(data):
        services.organization_move(actor=request.user, organization=org, new_parent=data["new_parent"])
        message = _("已将“%(name)s”移至“%(parent)s”之下。") % {"name": org.name, "parent": data["new_parent"]}
        return message, ("org-detail", org.pk)

    return _org_action(
        request,
        org,
        forms.OrganizationMoveForm(request.POST or None, user=request.user, organization=org),
        title=_("移动组织"),
        intro=_("把“%(name)s”连同它的全部下级、企业和服务站点移到新的上级组织之下。") % {"name": org.name},
        submit_label=_("确认移动"),
        save=save,
    )


@staff_required
def org_dissolve(request, pk: int):
    org = _managed_org(request, pk)

    def save(data):
        services.organization_dissolve(actor=request.user, organization=org, on=data["on"], reason=data["reason"])
        return _("“%(name)s”已撤销。") % {"name": org.name}, ("org-detail", org.pk)

    return _org_action(
        request,
        org,
        forms.OrganizationDissolveForm(request.POST or None),
        title=_("撤销组织"),
        intro=_(
            "撤销后“%(name)s”将不再接收会员和业务，相关角色授权随之取消；记录保留，不会被删除。"
            "有正常状态的下级组织时不能撤销。"
        )
        % {"name": org.name},
        submit_label=_("确认撤销"),
        save=save,
        danger=True,
    )


@staff_required
def org_merge(request, pk: int):
    org = _managed_org(request, pk)

    def save(data):
        into = data["into"]
        services.organization_merge(actor=request.user, organization=org, into=into, on=data["on"])
        return _("“%(name)s”已并入“%(into)s”。") % {"name": org.name, "into": into.name}, ("org-detail", into.pk)

    return _org_action(
        request,
        org,
        forms.OrganizationMergeForm(request.POST or None, user=request.user, organization=org),
        title=_("合并组织"),
        intro=_("“%(name)s”的下级组织、企业和服务站点将转入所选组织，本组织标记为“已合并”。") % {"name": org.name},
        submit_label=_("确认合并"),
        save=save,
        danger=True,
    )
