"""GET /api/v1/attachments/{id}/download/: the file, scoped like its owner and audited."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.api import ChoiceLabelField, error_responses

from .checks import ALLOWED_TYPES
from .models import Attachment
from .responses import attachment_file_response
from .selectors import attachment_get_for_user
from .services import attachment_downloaded

FILE_RESPONSES = {
    (200, mime): OpenApiResponse(OpenApiTypes.BINARY, description=_("附件文件（以下载方式返回）"))
    for mime in ALLOWED_TYPES
}


@extend_schema_serializer(component_name="Attachment")
class AttachmentOutputSerializer(serializers.Serializer):
    """An attachment as a domain's API lists it (e.g. an aid file's `attachments`)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField(source="original_name")
    size = serializers.IntegerField()
    content_type = serializers.CharField(source="mime_type")
    scan_status = serializers.ChoiceField(choices=Attachment.ScanStatus.choices)
    scan_status_label = ChoiceLabelField(Attachment.ScanStatus, source="scan_status")
    uploaded_at = serializers.DateTimeField(source="created_at")
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, attachment) -> str:
        return reverse("api:attachment-download", args=[attachment.pk])


class AttachmentInputSerializer(serializers.Serializer):
    """A domain's upload endpoint (multipart): the kind from its checklist and the file.

    The file is checked by the service (`attachment_add`), not here: one set of rules.
    """

    kind = serializers.CharField(max_length=40, label=_("材料类别"))
    file = serializers.FileField(label=_("文件"))


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
