"""The task outbox in the admin (core.outbox writes the rows, resend_outbox claims them)."""

from __future__ import annotations

from django.contrib import admin

from .models import TaskOutbox


# The task outbox: superusers only (no role grants its model permissions).
@admin.register(TaskOutbox)
class TaskOutboxAdmin(admin.ModelAdmin):
    list_display = ("id", "task_name", "created_at", "attempts", "last_error")
    readonly_fields = ("task_name", "args", "kwargs", "created_at", "attempts", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
