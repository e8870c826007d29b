"""Read-only admin of attachments, scoped by the copied org path like the other big tables.

No add, change or delete here: uploads go through the owning domain's pages (which call
attachment_add), removal is attachment_remove with a reason. The file itself is not
linked from the admin; it is read through the audited download view.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedAdminMixin, reach_list_filters

from .models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "original_name",
        "kind",
        "owner_label",
        "size",
        "scan_status",
        "uploaded_by",
        "created_at",
        "deleted_at",
    )
    list_filter = ("scan_status", "kind")
    search_fields = ("original_name", "sha256")
    list_select_related = ("content_type", "uploaded_by")
    readonly_fields = [
        "owner_label",
        "kind",
        "original_name",
        "download_link",
        "size",
        "sha256",
        "mime_type",
        "scan_status",
        "uploaded_by",
        "created_at",
        "deleted_at",
        "deleted_by",
        "deleted_reason",
    ]
    fields = readonly_fields
    ordering = ("-id",)

    def get_list_filter(self, request):
        # The district filter is organizations' (registered, as core may not import it).
        return (*reach_list_filters(), *self.list_filter)

    @admin.display(description=_("所属对象"))
    def owner_label(self, obj) -> str:
        return f"{obj.content_type.name} #{obj.object_id}"

    @admin.display(description=_("下载"))
    def download_link(self, obj):
        if obj.deleted_at is not None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("attachment-download", args=[obj.pk]), _("下载（记入审计日志）")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
