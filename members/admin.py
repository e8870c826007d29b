"""Django admin for the member roll: scoped, read-only views; changes go through the services.

Personal data appears masked only (no encrypted or hashed column is ever shown). A
member's change page is the correction service (name, ID number, mobile, employer, with
a reason); the full ID number and mobile are typed, never shown. The
admin search uses the roll's search rule (exact blind-index match for ID numbers and
mobiles, name prefix), not Django's `icontains`, which would scan 10M rows. The only
writes offered are admin actions that call the services (approve/reject applications,
revoke join codes); refusals come back as messages.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import roles
from core.admin import SERVICE_ERRORS, ScopedAdminMixin, ServiceAdminMixin
from core.errors import refusal
from organizations.admin_filters import ReachListFilter
from organizations.models import Enterprise

from . import services
from .models import Honour, ImportJob, JoinApplication, JoinCode, Member, Membership, Transfer
from .selectors import member_search


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    change_capability = roles.MEMBER_MANAGE

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MemberCorrectionAdminForm(forms.ModelForm):
    """The admin's change page is the correction service's form (issue 15 item 1)."""

    id_number = forms.CharField(
        label=gettext_lazy("更正身份证号码"), max_length=30, required=False, help_text=gettext_lazy("不改请留空。")
    )
    mobile = forms.CharField(
        label=gettext_lazy("更正手机号码"), max_length=20, required=False, help_text=gettext_lazy("不改请留空。")
    )
    reason = forms.CharField(
        label=gettext_lazy("更正原因"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = Member
        fields = ("name", "employer", "employer_name")


@admin.register(Member)
class MemberAdmin(ServiceAdminMixin, admin.ModelAdmin):
    change_capability = roles.MEMBER_MANAGE
    form = MemberCorrectionAdminForm
    list_display = ("name", "id_masked", "mobile_masked", "sex", "employment_form", "current_union", "status")
    list_filter = (ReachListFilter, "employment_form", "is_migrant_worker")
    list_select_related = ("current_membership__union",)
    search_fields = ("name",)
    search_help_text = gettext_lazy("姓名（前缀）、拼音首字母、会员编号、手机号码或身份证号码（精确）")
    fields = (
        "name",
        "id_masked",
        "id_number",
        "mobile_masked",
        "mobile",
        "sex",
        "birth_date",
        "employer",
        "employer_name",
        "employment_form",
        "is_migrant_worker",
        "education",
        "skill_level",
        "created_at",
        "reason",
    )
    readonly_fields = (
        "id_masked",
        "mobile_masked",
        "sex",
        "birth_date",
        "employment_form",
        "is_migrant_worker",
        "education",
        "skill_level",
        "created_at",
    )
    ordering = ("-id",)
    # The registry holds some 150,000 enterprises: searched (the enterprise admin's
    # search, scoped to the reach), never listed in one <select>.
    autocomplete_fields = ("employer",)

    def has_add_permission(self, request):
        return False  # members join through registration, import or the join form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "employer":
            kwargs["queryset"] = Enterprise.objects.for_user(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_save(self, request, form, change):
        data = form.cleaned_data
        new_employer = data.get("employer") if "employer" in form.changed_data else None
        return services.member_correct(
            actor=request.user,
            member=form.instance,
            reason=data.get("reason", ""),
            name=data.get("name"),
            id_number=data.get("id_number", ""),
            mobile=data.get("mobile", ""),
            # A newly chosen enterprise brings its own name unless another was typed.
            employer_name=""
            if new_employer is not None and "employer_name" not in form.changed_data
            else data.get("employer_name", ""),
            employer=new_employer,
        )

    def get_search_results(self, request, queryset, search_term):
        return member_search(queryset, search_term), False

    @admin.display(description=gettext_lazy("所在工会"))
    def current_union(self, obj):
        return obj.current_membership.union.name if obj.current_membership_id else ""

    @admin.display(description=gettext_lazy("会籍状态"))
    def status(self, obj):
        return obj.current_membership.get_status_display() if obj.current_membership_id else ""


@admin.register(Membership)
class MembershipAdmin(ReadOnlyScopedAdmin):
    list_display = ("member_number", "member", "union", "status", "joined_on", "ended_on")
    list_filter = (ReachListFilter, "status")
    list_select_related = ("member", "union")
    search_fields = ("=member_number",)
    fields = ("member_number", "member", "union", "status", "joined_on", "ended_on", "end_reason")
    readonly_fields = fields
    ordering = ("-id",)


@admin.register(JoinCode)
class JoinCodeAdmin(ReadOnlyScopedAdmin):
    list_display = ("label", "union", "station", "is_active", "created_at")
    list_filter = (ReachListFilter, "is_active")
    list_select_related = ("union", "station")
    fields = ("label", "union", "station", "is_active", "created_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description=gettext_lazy("作废所选入会二维码"))
    def revoke(self, request, queryset):
        done = 0
        for code in queryset.filter(is_active=True):
            try:
                services.join_code_revoke(actor=request.user, code=code)
                done += 1
            except SERVICE_ERRORS as exc:
                self.message_user(request, f"{code}：{refusal(exc).text}", messages.ERROR)
        self.message_user(request, _("已作废 %(n)s 个入会二维码。") % {"n": done})


@admin.register(JoinApplication)
class JoinApplicationAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "id_masked", "mobile_masked", "union", "employment_form", "status", "created_at")
    list_filter = (ReachListFilter, "status", "employment_form")
    list_select_related = ("union",)
    fields = (
        "name",
        "id_masked",
        "mobile_masked",
        "union",
        "employer_name",
        "employment_form",
        "is_migrant_worker",
        "consent",
        "notice_version",
        "status",
        "reason",
        "reviewed_at",
        "created_at",
    )
    readonly_fields = fields
    actions = ["approve"]

    @admin.action(description=gettext_lazy("批准所选入会申请"))
    def approve(self, request, queryset):
        done = 0
        for app in queryset.filter(status=JoinApplication.Status.PENDING):
            try:
                services.join_application_approve(actor=request.user, application=app)
                done += 1
            except SERVICE_ERRORS as exc:
                self.message_user(request, f"{app}：{refusal(exc).text}", messages.ERROR)
        self.message_user(request, _("已批准 %(n)s 份入会申请。") % {"n": done})


@admin.register(Transfer)
class TransferAdmin(ReadOnlyScopedAdmin):
    list_display = ("member", "from_union", "to_union", "requested_side", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("member", "from_union", "to_union")
    fields = (
        "member",
        "from_union",
        "to_union",
        "requested_side",
        "reason",
        "status",
        "decision_note",
        "created_at",
        "decided_at",
    )
    readonly_fields = fields

    def get_scope_path_field(self) -> str:
        return "from_path"

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        from core.scoping import path_in_reach

        return path_in_reach(request.user, obj.from_path) or path_in_reach(request.user, obj.to_path)


@admin.register(Honour)
class HonourAdmin(ReadOnlyScopedAdmin):
    list_display = ("member", "kind", "year")
    list_filter = ("kind", "year")
    list_select_related = ("member",)
    fields = ("member", "kind", "year", "note", "created_at")
    readonly_fields = fields


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyScopedAdmin):
    list_display = ("file_name", "union", "mode", "status", "created_count", "error_count", "created_at")
    list_filter = (ReachListFilter, "status")
    list_select_related = ("union",)
    fields = (
        "file_name",
        "union",
        "mode",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "skipped_count",
        "error_count",
        "message",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields
