"""Admin of hardship aid: scoped and read-only. Every write goes through the pages and the
API (the services), so the money rules and the workflow cannot be bypassed here."""

from django.contrib import admin

from core import roles
from core.admin import ScopedAdminMixin
from organizations.admin_filters import ReachListFilter

from .models import AidStandard, Budget, Campaign, Fund, Grant, HardshipFile, LedgerEntry, PublicNotice


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    change_capability = roles.AID_MANAGE

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HardshipFile)
class HardshipFileAdmin(ReadOnlyScopedAdmin):
    list_display = ("number", "member", "union", "status", "tier", "is_emergency", "review_due")
    list_filter = (ReachListFilter, "status", "tier", "is_emergency")
    search_fields = ("number",)
    list_select_related = ("member", "union")
    # The household (encrypted incomes, health) is shown on the staff page, masked.
    exclude = ("causes",)


@admin.register(PublicNotice)
class PublicNoticeAdmin(ReadOnlyScopedAdmin):
    list_display = ("file", "start", "end", "working_days", "closed_at")
    list_select_related = ("file",)


@admin.register(Fund)
class FundAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "source", "organization")
    list_filter = ("source",)


@admin.register(Budget)
class BudgetAdmin(ReadOnlyScopedAdmin):
    list_display = ("fund", "organization", "year", "amount", "reserved", "spent")
    list_filter = (ReachListFilter, "year")
    list_select_related = ("fund", "organization")


@admin.register(Grant)
class GrantAdmin(ReadOnlyScopedAdmin):
    list_display = ("file", "kind", "amount", "status", "period", "is_emergency")
    list_filter = (ReachListFilter, "status", "kind", "is_emergency")
    list_select_related = ("file",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyScopedAdmin):
    list_display = ("budget", "kind", "amount", "grant", "at")
    list_filter = ("kind",)


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "kind", "organization", "status", "progress_done", "progress_total")


@admin.register(AidStandard)
class AidStandardAdmin(admin.ModelAdmin):
    """The city's standard is the same for everybody: readable by staff, published by service."""

    list_display = ("version", "name", "effective_from", "min_living_line", "low_income_line", "notice_working_days")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
