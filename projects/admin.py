"""Django admin for service projects: scoped, read-only views (writes go through the services
and the pages; the admin is for looking things up across the reach)."""

from __future__ import annotations

from django.contrib import admin

from core import roles
from core.admin import ScopedAdminMixin
from organizations.admin_filters import ReachListFilter

from .models import Demand, Enrolment, Evaluation, Overspend, Project, Rating, Review, Session


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    change_capability = roles.PROJECT_MANAGE
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Demand)
class DemandAdmin(ReadOnlyScopedAdmin):
    list_display = ("description", "category", "union", "status", "votes_count", "created_at")
    list_filter = (ReachListFilter, "category", "status")
    list_select_related = ("union",)
    fields = ("category", "description", "union", "status", "merged_into", "votes_count", "tags", "answer")
    readonly_fields = fields


@admin.register(Project)
class ProjectAdmin(ReadOnlyScopedAdmin):
    list_display = ("title", "category", "year", "union", "stage", "delivery_mode")
    list_filter = (ReachListFilter, "year", "category", "stage", "delivery_mode")
    list_select_related = ("union",)
    search_fields = ("title__startswith",)
    fields = (
        "title",
        "category",
        "year",
        "union",
        "stage",
        "start_date",
        "end_date",
        "delivery_mode",
        "purchase_method",
        "contractor",
        "contract_amount",
        "contract_start",
        "contract_end",
        "published_at",
    )
    readonly_fields = fields


@admin.register(Session)
class SessionAdmin(ReadOnlyScopedAdmin):
    list_display = ("title", "project", "union", "starts_at", "capacity", "seats_taken")
    list_filter = (ReachListFilter,)
    list_select_related = ("project", "union")
    fields = ("title", "project", "union", "starts_at", "place", "capacity", "seats_taken")
    readonly_fields = fields


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyScopedAdmin):
    list_display = ("session", "status", "position", "offer_expires_at", "created_at")
    list_filter = (ReachListFilter, "status")
    list_select_related = ("session",)
    fields = ("session", "status", "position", "offer_expires_at", "created_at")
    readonly_fields = fields


@admin.register(Review)
class ReviewAdmin(ReadOnlyScopedAdmin):
    list_display = ("project", "reviewer", "decision", "total", "round", "created_at")
    list_filter = (ReachListFilter, "decision")
    fields = ("project", "reviewer", "decision", "opinion", "scores", "total", "round")
    readonly_fields = fields


@admin.register(Rating)
class RatingAdmin(ReadOnlyScopedAdmin):
    list_display = ("enrolment", "score", "comment", "created_at")
    list_filter = (ReachListFilter, "score")
    fields = ("score", "comment", "created_at")
    readonly_fields = fields


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyScopedAdmin):
    list_display = ("project", "total", "reach_score", "budget_score", "satisfaction_score", "timeliness_score")
    list_filter = (ReachListFilter,)
    fields = (
        "project",
        "total",
        "reach_score",
        "budget_score",
        "satisfaction_score",
        "timeliness_score",
        "weights",
        "explanation",
    )
    readonly_fields = fields


@admin.register(Overspend)
class OverspendAdmin(ReadOnlyScopedAdmin):
    scope_path_field = "line__project__org_path"  # the designer's reach (decided there)
    list_display = ("line", "amount", "status", "reason", "created_at")
    list_filter = ("status",)
    list_select_related = ("line",)
    fields = ("line", "amount", "reason", "status", "requested_by", "decided_by", "created_at")
    readonly_fields = fields
