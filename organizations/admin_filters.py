"""The organisation-specific parts of the scoped admin (core.admin is the generic kit)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy

from core import roles

from .models import Organization, OrgKind


def active_orgs_for(user, extra: Q | None = None, capability: str = roles.VIEW):
    """Active organisations in the user's reach for `capability`: the only valid targets of a foreign key."""
    qs = Organization.objects.for_user(user, capability).filter(status=Organization.Status.ACTIVE)
    return qs.filter(extra) if extra is not None else qs


class ReachListFilter(admin.SimpleListFilter):
    """ "所属区（县）": the district federations in the user's reach (hidden when none)."""

    title = gettext_lazy("所属区（县）")
    parameter_name = "district"

    def __init__(self, request, params, model, model_admin):
        self.path_field = model_admin.get_scope_path_field()
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        districts = active_orgs_for(request.user, Q(kind=OrgKind.DISTRICT)).only("pk", "name", "path")
        return [(str(org.pk), org.name) for org in districts]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            district = Organization.objects.for_user(request.user).get(pk=int(self.value()))
        except (ValueError, Organization.DoesNotExist):
            return queryset.none()
        return queryset.filter(**{f"{self.path_field}__startswith": district.path})
