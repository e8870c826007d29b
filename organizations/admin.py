"""Django admin for the organisation tree, the registry, officers, stations, users and roles.

Scoped for non-superusers and written through the services: see core/admin.py
for who gets in and why that is safe.

Organisations use a plain ModelAdmin ordered by path (indented by depth), not treebeard's
TreeAdmin: its drag-and-drop and MoveNodeForm move nodes directly, bypassing
organization_move (reach, tree rules, copied paths, audit), and its tree rendering
expects the whole tree while a scoped changelist shows a subtree. A move is made by
changing the "上级组织" of an organisation, which calls organization_move.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import roles
from core.admin import SERVICE_ERRORS, ScopedAdminMixin, ServiceAdminMixin
from core.audit import log_action
from core.errors import NOT_IN_REACH, refusal
from core.scoping import has_capability_anywhere, is_staff_user

from .admin_filters import ReachListFilter, active_orgs_for
from .forms import AdminLoginForm
from .models import (
    CoverageSummary,
    Enterprise,
    Officer,
    Organization,
    OrgKind,
    RoleAssignment,
    ServiceStation,
    User,
)
from .services import (
    ENTERPRISE_FIELDS,
    OFFICER_FIELDS,
    ORG_FIELDS,
    STATION_FIELDS,
    SUPERVISOR_KINDS,
    enterprise_create,
    enterprise_update,
    officer_create,
    officer_update,
    organization_create,
    organization_dissolve,
    organization_move,
    organization_update,
    role_assign,
    role_revoke,
    station_create,
    station_update,
)

admin.site.site_header = gettext_lazy("UnionPortal 系统管理")
admin.site.site_title = gettext_lazy("UnionPortal 系统管理")
admin.site.index_title = gettext_lazy("系统管理")
# One spelling of the sign-in name at every door, so the lock-out cannot be sidestepped.
admin.site.login_form = AdminLoginForm

# Which organisations each foreign key may point at (besides: active and in the reach).
# Used for the form field and for the autocomplete search, so both agree.
ORG_FK_LIMITS: dict[tuple[str, str], Q] = {
    ("enterprise", "supervisor"): Q(kind__in=SUPERVISOR_KINDS),
    ("enterprise", "union"): Q(kind=OrgKind.GRASSROOTS),
    # The organisation form's "parent" picker (OrganizationAdminForm): any kind that can hold others.
    ("organization", "merged_into"): ~Q(kind=OrgKind.UNION_GROUP),
}


def _limits_for(model: type) -> dict[str, Q]:
    name = model._meta.model_name
    return {field: q for (model_name, field), q in ORG_FK_LIMITS.items() if model_name == name}


# --- organisations --------------------------------------------------------------------


class ParentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        # Full-width spaces keep the tree shape readable in a plain <select>.
        return "　" * (obj.depth - 1) + obj.name


class OrganizationAdminForm(forms.ModelForm):
    # Searched, not listed: a city's tree is thousands of organisations. The admin's
    # autocomplete needs a foreign key to describe the search; `merged_into` points at
    # the same table (see ORG_FK_LIMITS for what the search offers). The field's own
    # queryset, set per request below, still decides what is accepted.
    parent = ParentChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label=gettext_lazy("上级组织"),
        help_text=gettext_lazy("改变上级组织即把本组织（连同下级）移到新的上级之下。输入名称搜索。"),
        widget=AutocompleteSelect(Organization._meta.get_field("merged_into"), admin.site),
    )

    class Meta:
        model = Organization
        fields = ("parent", *ORG_FIELDS)


@admin.register(Organization)
class OrganizationAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ("tree_name", "kind", "region_code", "credit_code", "status")
    list_filter = ("kind", "status", ReachListFilter)
    search_fields = ("name", "short_name", "credit_code", "region_code")
    ordering = ("path",)
    list_per_page = 100
    readonly_fields = ("status", "merged_into", "ended_on")
    actions = ("dissolve_selected",)
    service_field_map = {"new_parent": "parent"}

    @admin.display(description=gettext_lazy("名称"), ordering="path")
    def tree_name(self, obj):
        return "　" * (obj.depth - 1) + obj.name

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        parent = Organization.objects.get_parent(obj) if obj is not None and obj.depth > 1 else None

        class ParentScopedForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                field = self.fields["parent"]
                field.queryset = (
                    active_orgs_for(request.user, capability=roles.ORG_MANAGE)
                    .exclude(kind=OrgKind.UNION_GROUP)
                    .only("pk", "name", "depth", "path", "kind", "status")
                )
                if obj is not None:
                    # Not under itself or its own subtree (the service refuses it too).
                    field.queryset = field.queryset.exclude(path__startswith=obj.path)
                    field.initial = parent.pk if parent else None
                    if parent is None:
                        field.disabled = True
                        field.help_text = _("市总工会是组织树的根，没有上级。")

        return ParentScopedForm

    def service_save(self, request, form, change):
        data = form.cleaned_data
        parent = data.get("parent")
        if not change:
            fields = {name: data[name] for name in ORG_FIELDS if name in data}
            return organization_create(actor=request.user, parent=parent, **fields)
        org = form.instance
        changed = self.changed_values(form, ORG_FIELDS)
        if changed:
            org = organization_update(actor=request.user, organization=org, **changed)
        if "parent" in form.changed_data:
            if parent is None:
                # Raised inside the form's savepoint: the field update above is undone too.
                raise ValidationError({"parent": _("请选择新的上级组织；只有市总工会可以没有上级。")})
            org = organization_move(actor=request.user, organization=org, new_parent=parent)
        return org

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # Autocomplete for another model's foreign key: only what that key may point at.
        source = (request.GET.get("model_name"), request.GET.get("field_name"))
        if request.GET.get("app_label") and source[0]:
            queryset = queryset.filter(status=Organization.Status.ACTIVE)
            if source in ORG_FK_LIMITS:
                queryset = queryset.filter(ORG_FK_LIMITS[source])
        return queryset, distinct

    @admin.action(description=gettext_lazy("撤销所选组织（不删除，保留历史）"), permissions=["change"])
    def dissolve_selected(self, request, queryset):
        # Deepest first, so a selected subtree can be dissolved in one go.
        done = 0
        for org in sorted(queryset, key=lambda o: -o.depth):
            try:
                organization_dissolve(actor=request.user, organization=org, reason=_("系统管理后台撤销"))
                done += 1
            except SERVICE_ERRORS as exc:
                self.message_user(request, f"{org.name}：{refusal(exc).text}", messages.ERROR)
        if done:
            self.message_user(request, _("已撤销 %(n)s 个组织。") % {"n": done}, messages.SUCCESS)


# --- enterprises, officers, stations --------------------------------------------------


class HasUnionFilter(admin.SimpleListFilter):
    title = gettext_lazy("是否建会")
    parameter_name = "has_union"

    def lookups(self, request, model_admin):
        return (("yes", _("已建会")), ("no", _("未建会")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(union__isnull=False)
        if self.value() == "no":
            return queryset.filter(union__isnull=True)
        return queryset


@admin.register(Enterprise)
class EnterpriseAdmin(ServiceAdminMixin, admin.ModelAdmin):
    fields = ENTERPRISE_FIELDS
    list_display = ("name", "credit_code", "supervisor", "has_union_display", "ownership", "size", "employees")
    list_filter = ("ownership", "size", "industry", "is_active", HasUnionFilter, ReachListFilter)
    list_select_related = ("supervisor",)
    search_fields = ("name", "credit_code")
    autocomplete_fields = ("supervisor", "union")
    ordering = ("name", "id")
    org_fk_limits = _limits_for(Enterprise)

    @admin.display(description=gettext_lazy("已建会"), boolean=True)
    def has_union_display(self, obj):
        return obj.has_union

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("supervisor")

    def service_save(self, request, form, change):
        if not change:
            data = {name: form.cleaned_data[name] for name in ENTERPRISE_FIELDS if name in form.cleaned_data}
            return enterprise_create(actor=request.user, **data)
        return enterprise_update(
            actor=request.user, enterprise=form.instance, **self.changed_values(form, ENTERPRISE_FIELDS)
        )


class _OwnedAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Officers and stations: owned by one organisation, which does not change after creation."""

    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
    owned_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")

    def get_fields(self, request, obj=None):
        return ("organization", *self.owned_fields)

    def get_readonly_fields(self, request, obj=None):
        return ("organization",) if obj is not None else ()


@admin.register(Officer)
class OfficerAdmin(_OwnedAdmin):
    owned_fields = OFFICER_FIELDS
    list_display = ("name", "position", "organization", "election", "term_start", "term_end", "is_full_time")
    list_filter = ("position", "election", "is_full_time", ReachListFilter)
    search_fields = ("name", "organization__name")
    ordering = ("organization__path", "position", "-term_start")

    def service_save(self, request, form, change):
        if not change:
            data = {name: form.cleaned_data[name] for name in OFFICER_FIELDS if name in form.cleaned_data}
            return officer_create(actor=request.user, organization=form.cleaned_data["organization"], **data)
        return officer_update(actor=request.user, officer=form.instance, **self.changed_values(form, OFFICER_FIELDS))


@admin.register(ServiceStation)
class ServiceStationAdmin(_OwnedAdmin):
    owned_fields = STATION_FIELDS
    list_display = ("name", "kind", "organization", "address", "opening_hours", "is_active")
    list_filter = ("kind", "is_active", ReachListFilter)
    search_fields = ("name", "address", "organization__name")
    ordering = ("organization__path", "name")

    def service_save(self, request, form, change):
        if not change:
            data = {name: form.cleaned_data[name] for name in STATION_FIELDS if name in form.cleaned_data}
            return station_create(actor=request.user, organization=form.cleaned_data["organization"], **data)
        return station_update(actor=request.user, station=form.instance, **self.changed_values(form, STATION_FIELDS))


# --- roles ----------------------------------------------------------------------------


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Assign with role_assign, revoke with role_revoke; an assignment is never edited in place."""

    change_capability = roles.ROLE_MANAGE
    fields = ("user", "organization", "role")
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", ReachListFilter)
    list_select_related = ("user", "organization")
    search_fields = ("user__username", "user__display_name", "organization__name")
    autocomplete_fields = ("user", "organization")
    ordering = ("organization__path", "user__username")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "organization")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return ScopedAdminMixin.has_change_permission(self, request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = assignable_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_save(self, request, form, change):
        data = form.cleaned_data
        return role_assign(actor=request.user, user=data["user"], organization=data["organization"], role=data["role"])

    def delete_model(self, request, obj):
        role_revoke(actor=request.user, assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("user", "organization"):
            role_revoke(actor=request.user, assignment=assignment)


# --- coverage (read-only) -------------------------------------------------------------


@admin.register(CoverageSummary)
class CoverageSummaryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "organization__path"
    list_display = (
        "organization",
        "descendants",
        "grassroots_unions",
        "enterprises",
        "unionized_enterprises",
        "formation_rate_display",
        "employees",
        "members",
        "refreshed_at",
    )
    list_filter = ("organization__kind", ReachListFilter)
    list_select_related = ("organization",)
    search_fields = ("organization__name",)
    ordering = ("organization__path",)

    @admin.display(description=gettext_lazy("建会率"))
    def formation_rate_display(self, obj):
        rate = obj.formation_rate
        return "—" if rate is None else f"{rate:.1%}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- users ----------------------------------------------------------------------------


def assignable_users(actor):
    """Staff accounts `actor` may pick for a role: those with a role in the reach, or none yet.

    Superusers pick from every staff account. A district admin sees the staff of their own
    subtree plus accounts a system administrator created and has not yet placed anywhere.
    """
    staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True)
    if actor.is_superuser:
        return staff
    in_reach = RoleAssignment.objects.for_user(actor, roles.ROLE_MANAGE).values("user_id")
    placed = RoleAssignment.objects.values("user_id")
    return staff.filter(is_superuser=False).filter(Q(pk__in=in_reach) | ~Q(pk__in=placed))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts. Creating and changing them is for superusers; others only look.

    Deleting is disabled for everyone: audit events point at their actor, so an account
    that leaves is deactivated (is_active off), never removed.
    """

    list_display = ("username", "display_name", "kind", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("kind", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("个人信息"), {"fields": ("display_name", "kind", "email")}),
        (gettext_lazy("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (gettext_lazy("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "display_name", "kind", "password1", "password2")}),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=assignable_users(request.user).values("pk"))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(NOT_IN_REACH)
        return obj

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "roleassignment":
            queryset = queryset.filter(kind=User.Kind.STAFF, is_active=True)
        return queryset, distinct

    def has_module_permission(self, request):
        return request.user.is_superuser or (request.user.is_active and is_staff_user(request.user))

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not has_capability_anywhere(request.user, roles.VIEW):
            return False
        return obj is None or assignable_users(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def log_addition(self, request, obj, message):
        log_action(actor=request.user, action="user.created", target=obj, data={"kind": obj.kind})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        parts = message if isinstance(message, list) else []
        changed = sorted(
            {f for part in parts if isinstance(part, dict) for f in part.get("changed", {}).get("fields", [])}
        )
        log_action(actor=request.user, action="user.updated", target=obj, data={"changed": changed})
        return super().log_change(request, obj, message)
