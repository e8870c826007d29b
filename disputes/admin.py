"""Django admin for mediation: scoped, read-only views; every change goes through the services and pages.

Cases follow the API's visibility rule (disputes.selectors.cases_for_user), not the plain
view reach: a mediator sees in the admin exactly what they see on the pages. Facts and ID
numbers are never shown (only the masked forms).
"""

from __future__ import annotations

from django.contrib import admin

from core import roles
from core.admin import ScopedAdminMixin
from organizations.admin_filters import ReachListFilter

from . import selectors
from .models import Case, EnterpriseRisk, MediationBody, Mediator


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    change_capability = roles.DISPUTE_MANAGE

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MediationBody)
class MediationBodyAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "kind", "organization", "is_active")
    list_filter = (ReachListFilter, "kind", "is_active")
    list_select_related = ("organization",)
    fields = ("name", "kind", "organization", "enterprise", "is_active", "created_at")
    readonly_fields = fields


@admin.register(Mediator)
class MediatorAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "body", "employment", "is_head", "is_active")
    list_filter = (ReachListFilter, "employment", "is_head")
    list_select_related = ("body",)
    fields = ("name", "body", "employment", "specialities", "is_head", "is_active")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(ReadOnlyScopedAdmin):
    list_display = ("number", "track", "kind", "respondent_name", "workers_involved", "is_collective", "status")
    list_filter = (ReachListFilter, "track", "status", "kind", "is_collective", "channel")
    list_select_related = ("body", "mediator")
    fields = (
        "number",
        "track",
        "body",
        "channel",
        "court_name",
        "court_reference",
        "court_return_deadline",
        "respondent_name",
        "kind",
        "workers_involved",
        "is_collective",
        "status",
        "mediator",
        "received_on",
        "decline_reason",
        "failure_reason",
        "referral",
        "closed_on",
    )
    readonly_fields = fields
    search_fields = ("=number",)

    def get_queryset(self, request):
        return selectors.cases_for_user(request.user).select_related("body", "mediator")


@admin.register(EnterpriseRisk)
class EnterpriseRiskAdmin(ReadOnlyScopedAdmin):
    list_display = ("enterprise", "score", "computed_at")
    list_filter = (ReachListFilter,)
    list_select_related = ("enterprise",)
    fields = ("enterprise", "score", "explanation", "computed_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.risks_for_user(request.user)
