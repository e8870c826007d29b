"""The download page URL (/files/<id>/): for staff and, where the owner allows it, workers."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.errors import DomainError

from .responses import attachment_file_response
from .selectors import attachment_get_for_user
from .services import attachment_downloaded


@require_GET
def attachment_download(request, pk: int):
    """Stream one attachment the user may read; outside their reach it does not exist (404)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    attachment = attachment_get_for_user(request.user, pk)
    try:
        response = attachment_file_response(attachment)
    except DomainError as exc:
        return render(request, "core/attachments/unavailable.html", {"message": exc.message}, status=409)
    attachment_downloaded(attachment=attachment, actor=request.user, ip_address=request.META.get("REMOTE_ADDR"))
    return response
