"""The one way an attachment leaves the server: as a download no browser renders or caches."""

from __future__ import annotations

import logging
from urllib.parse import quote

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from core.errors import NOT_IN_REACH, DomainError

from .checks import ALLOWED_TYPES
from .models import Attachment
from .storage import private_storage

logger = logging.getLogger(__name__)


def content_disposition(name: str, fallback: str) -> str:
    """`attachment` with an ASCII `filename` for old clients and the UTF-8 one (RFC 5987/6266)."""
    ascii_name = name if name.isascii() else fallback
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_file_response(attachment: Attachment) -> FileResponse:
    """Stream the file as an attachment: never inline, never sniffed, never cached."""
    if attachment.scan_status in (Attachment.ScanStatus.PENDING, Attachment.ScanStatus.INFECTED):
        raise DomainError(_("该文件尚未通过病毒扫描，暂不能下载：请稍后再试。"), code="scan_pending")
    try:
        handle = private_storage().open(attachment.stored_name, "rb")
    except FileNotFoundError:
        # The row exists but the file is gone (a restore without PRIVATE_FILES_ROOT):
        # the same answer as any missing attachment, and the log says which.
        logger.error("attachment %s: file %s missing", attachment.pk, attachment.stored_name)
        raise Http404(NOT_IN_REACH) from None
    response = FileResponse(handle, content_type=attachment.mime_type)
    ext = ALLOWED_TYPES.get(attachment.mime_type, ("",))[0]
    response["Content-Disposition"] = content_disposition(attachment.original_name, f"attachment-{attachment.pk}{ext}")
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    # A PDF opened from a link in a new tab would otherwise run in the portal's origin.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
