"""The audit log in the Django admin: read-only, scoped, searchable, filtered by action and date."""

import json

from django.contrib import admin
from django.http import Http404
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedAdminMixin
from core.errors import NOT_IN_REACH
from core.roles import AUDIT_VIEW
from core.scoping import has_capability_anywhere, path_in_reach

from .models import AuditEvent, Delivery, Notification, Reminder
from .selectors import audit_events_for_user


class _AuditReachReadOnly:
    """Read-only for everyone, superusers included; rows and objects within the user's audit.view reach."""

    def has_module_permission(self, request):
        return request.user.is_active and has_capability_anywhere(request.user, AUDIT_VIEW)

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        # A row with no organisation has org_path "", which is in no staff user's reach.
        return obj is None or path_in_reach(request.user, obj.org_path, AUDIT_VIEW)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(_AuditReachReadOnly, admin.ModelAdmin):
    """Nobody adds, changes or deletes audit events here, superusers included.

    Rows come from audit_events_for_user: events in the user's reach, for roles that may
    read the audit log (audit.view). Events with no organisation (sign-ins, system jobs)
    are for superusers only.
    """

    list_display = ("created_at", "actor_label", "action", "target_type", "target_label", "organization", "ip_address")
    list_filter = ("action", ("created_at", admin.DateFieldListFilter), "target_type")
    search_fields = ("action", "actor_label", "target_label", "target_id")
    list_select_related = ("organization",)
    ordering = ("-created_at", "-id")
    list_per_page = 100
    show_full_result_count = False  # the table only grows: one COUNT(*) per page, not two
    fields = (
        "created_at",
        "actor",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "organization",
        "ip_address",
        "data_pretty",
    )
    readonly_fields = fields

    @admin.display(description=_("详情"))
    def data_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.data, ensure_ascii=False, indent=2, sort_keys=True))

    def get_queryset(self, request):
        qs = audit_events_for_user(request.user)
        return qs.order_by(*self.get_ordering(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(NOT_IN_REACH)
        return obj


# --- notifications: the ledger, its deliveries and the inboxes, read-only and scoped ------


class _ReadOnlyNotifyAdmin(_AuditReachReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    """Rows in the user's audit reach (messages name people and cases: an auditor's view, not every clerk's)."""

    list_per_page = 100

    def get_queryset(self, request):
        qs = self.model._default_manager.for_user(request.user, AUDIT_VIEW)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs


@admin.register(Reminder)
class ReminderAdmin(_ReadOnlyNotifyAdmin):
    list_display = ("created_at", "kind", "target_type", "target_id", "due_on", "title")
    list_filter = ("kind", ("due_on", admin.DateFieldListFilter))
    search_fields = ("kind", "target_id", "title")
    ordering = ("-created_at", "-id")
    readonly_fields = ("kind", "target_type", "target_id", "due_on", "title", "body", "url", "created_at")
    fields = readonly_fields


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnlyNotifyAdmin):
    list_display = ("created_at", "reminder", "recipient", "channel", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "channel")
    list_select_related = ("reminder", "recipient")
    ordering = ("-id",)
    readonly_fields = (
        "reminder",
        "recipient",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "sent_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields


@admin.register(Notification)
class NotificationAdmin(_ReadOnlyNotifyAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "read_at")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("recipient",)
    ordering = ("-created_at", "-id")
    readonly_fields = ("recipient", "kind", "title", "body", "url", "target_type", "target_id", "created_at", "read_at")
    fields = readonly_fields
