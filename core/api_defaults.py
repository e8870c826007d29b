"""The API defaults that settings.REST_FRAMEWORK names: permission, pagination, filtering.

Apart from core.api (which re-exports them) because DRF reads these settings while
`rest_framework.views` is first imported, and core.api imports that module: one file
would import itself half-initialised.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission

from .pages import rows_in_order
from .scoping import is_staff_user


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


class IdsFirstCursorPagination(DefaultCursorPagination):
    """Keyset pages found by their ids first, then the page's rows by id (a "deferred join").

    A list narrowed to a subtree (`?under=` a street of a 10M roll) matches tens of
    thousands of rows: ordering them by id read every one of those rows from the table
    (45–180 ms). The ids alone come from an index-only scan of (org_path, id); only the
    page's rows are then read (~13 ms).
    """

    # Only lists narrowed to a subtree need it: a plain page of the caller's whole reach
    # is one backward primary-key scan, and the extra query would cost ~1 ms of CPU.
    narrowing_params = ("under",)

    def paginate_queryset(self, queryset, request, view=None):
        if not any(request.query_params.get(name) for name in self.narrowing_params):
            return super().paginate_queryset(queryset, request, view)
        ids = super().paginate_queryset(queryset.values("id"), request, view)
        if ids is None:
            return None
        self.page = rows_in_order(queryset, [row["id"] for row in ids])
        return self.page


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
