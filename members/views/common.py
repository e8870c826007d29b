"""Small helpers shared by the member pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

PAGE_SIZE = 50


def form_page(request, template: str, context: dict, *, status: int | None = None) -> HttpResponse:
    """A page with a form: HTTP 400 when the form carries errors (bad input), else 200."""
    form = context.get("form")
    if status is None:
        status = 400 if form is not None and form.errors else 200
    return render(request, template, context, status=status)


def is_fragment(request, target: str | None = None) -> bool:
    """An htmx request for a part of the page (not a history restore)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


def toast_html(request, message: str, *, level: str = "success") -> str:
    """An out-of-band toast for an htmx answer (lands in #member-toasts of the page)."""
    return render_to_string("members/_toast.html", {"message": message, "level": level}, request=request)


def with_toast(response: HttpResponse, request, message: str, *, level: str = "success") -> HttpResponse:
    response.content = response.content + toast_html(request, message, level=level).encode()
    return response


def client_ip(request) -> str:
    """The client address as the server sees it (a reverse proxy must set REMOTE_ADDR)."""
    from ..throttle import client_address

    return client_address(request)


def posted(request):
    """The POST data of a POST (even an empty one, so an empty form is checked), else None."""
    return request.POST if request.method == "POST" else None
