"""GET /api/v1/attachments/{id}/download/: the file, scoped like its owner and audited."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from unionportal.api import error_responses

from .checks import ALLOWED_TYPES
from .responses import attachment_file_response
from .selectors import attachment_get_for_user
from .services import attachment_downloaded

FILE_RESPONSES = {
    (200, mime): OpenApiResponse(OpenApiTypes.BINARY, description=_("附件文件（以下载方式返回）"))
    for mime in ALLOWED_TYPES
}


class AttachmentDownloadView(APIView):
    """One attachment's file. Staff: when the owner is in their reach. Workers: when the
    owner lets them (its `attachment_visible_to_worker`). Anyone else: 404."""

    # Workers reach this endpoint too (their own aid file's documents); the selector decides.
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["attachments"],
        summary=_("下载附件"),
        operation_id="attachments_download",
        responses={**FILE_RESPONSES, **error_responses(401, 403, 404, 409)},
    )
    def get(self, request, pk: int):
        attachment = attachment_get_for_user(request.user, pk)
        response = attachment_file_response(attachment)
        attachment_downloaded(attachment=attachment, actor=request.user, ip_address=request.META.get("REMOTE_ADDR"))
        return response


api_urlpatterns = [
    path("attachments/<int:pk>/download/", AttachmentDownloadView.as_view(), name="attachment-download"),
]
