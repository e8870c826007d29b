"""The API defaults that settings.REST_FRAMEWORK names: permission, pagination, filtering,
rendering and content negotiation.

Apart from core.api (which re-exports them) because DRF reads these settings while
`rest_framework.views` is first imported, and core.api imports that module: one file
would import itself half-initialised.
"""

from __future__ import annotations

import orjson
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

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


class JSONRenderer(DRFJSONRenderer):
    """DRF's JSON renderer with the encoding done by orjson: the same bytes, but for floats.

    A page of the member list (50 rows, ~30 KB of mostly Chinese text) took ~1 ms to
    encode with the standard library; orjson takes a tenth of that. What orjson does not
    encode itself (dates and times, Decimal, lazy translations, …) goes through DRF's own
    encoder, so values look as they did (datetimes with milliseconds and "Z"); a pretty-
    printed answer (`Accept: application/json; indent=4`, the browsable API) and anything
    orjson refuses (integers beyond 64 bits, non-string keys) are rendered by DRF itself.
    Floats below 1e-4 or from 1e16 up are written in another notation (0.00001 for
    1e-05), the same number. tests/core/test_api_render.py compares both on every kind
    of value.
    """

    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=self.encoder_class().default, option=self._OPTIONS)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: U+2028 and U+2029 escaped, so the output is also valid JavaScript.
        if b"\xe2\x80" in out:
            out = out.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return out


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once for the plain JSON client (what API clients send).

    DRF parses the Accept header into media types and matches every renderer against
    them on each request (~0.3 ms of a list request's CPU). `Accept: application/json`
    without parameters, or no Accept header, selects the JSON renderer exactly as DRF would
    (the first renderer that matches); anything else goes through DRF.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if accept in ("application/json", "*/*") and not format_suffix and renderers:
            if self.settings.URL_FORMAT_OVERRIDE not in request.query_params:
                first = renderers[0]
                if accept == "*/*" or first.media_type == "application/json":
                    return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
