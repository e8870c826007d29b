"""Base classes named in REST_FRAMEWORK settings (kept apart from views to avoid an import cycle)."""

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission

from organizations.scoping import is_staff_user


class IsStaffUser(BasePermission):
    """Signed in with some staff reach. What they may see is then decided by for_user."""

    message = _("需要工会工作人员账号。")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and is_staff_user(request.user))


class DefaultCursorPagination(CursorPagination):
    """Keyset pagination: page N costs the same as page 1, however deep."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names no filter at all.

    Building a FilterSet builds its form (a deep copy of every filter field) even when
    there is nothing to filter by; a plain page of a list is the most common request.
    """

    NOT_FILTERS = frozenset({"cursor", "page_size", "format"})

    def filter_queryset(self, request, queryset, view):
        if self.NOT_FILTERS.issuperset(request.query_params.keys()):
            return queryset
        return super().filter_queryset(request, queryset, view)
