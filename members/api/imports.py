"""Roster imports: upload, progress, report and error file."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedViewSet

# Downloads answer as the pages do: attachments that no cache keeps (personal data).
from core.pages import file_response
from organizations.api_fields import InReachOrgField
from organizations.models import Organization

from .. import importer, selectors
from ..filters import ImportJobFilter
from ..models import ImportJob
from .shared import CSV_FILE, DETAIL_ERRORS, FILE_RESPONSE, READ_ERRORS, WRITE_ERRORS, XLSX_FILE


@extend_schema(tags=["members"])
class ImportJobViewSet(ScopedViewSet):
    """Roster uploads: queue one, poll its progress, download its report and error file."""

    filterset_class = ImportJobFilter
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="MemberImportJob")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        union = InReachOrgField()
        file_name = serializers.CharField()
        mode = serializers.ChoiceField(choices=ImportJob.Mode.choices)
        status = serializers.ChoiceField(choices=ImportJob.Status.choices)
        status_label = ChoiceLabelField(ImportJob.Status, source="status")
        phase = serializers.CharField()
        total_rows = serializers.IntegerField()
        processed_rows = serializers.IntegerField()
        created_count = serializers.IntegerField()
        updated_count = serializers.IntegerField()
        skipped_count = serializers.IntegerField()
        error_count = serializers.IntegerField()
        message = serializers.CharField()
        has_report = serializers.SerializerMethodField()
        has_errors_file = serializers.SerializerMethodField()
        created_at = serializers.DateTimeField()
        finished_at = serializers.DateTimeField(allow_null=True)

        def get_has_report(self, job) -> bool:
            return bool(job.report_path)

        def get_has_errors_file(self, job) -> bool:
            return bool(job.error_path)

    @extend_schema_serializer(component_name="MemberImportCreate")
    class InputSerializer(serializers.Serializer):
        union = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("导入到工会"))
        mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, label=_("导入方式"))
        file = serializers.FileField(label=_("会员名册文件（.xlsx 或 .csv）"))

    class TemplateQuerySerializer(serializers.Serializer):
        export_format = serializers.ChoiceField(choices=["xlsx", "csv"], default="xlsx", label=_("格式"))

    output_serializer = OutputSerializer

    def get_queryset(self):
        return selectors.import_jobs_for_user(self.request.user)

    def _get(self, pk) -> ImportJob:
        return self.get_in_reach(self.get_queryset(), pk)

    @extend_schema(summary=_("导入任务列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("导入任务状态与进度"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self._get(pk)))

    @extend_schema(
        summary=_("上传会员名册并排队导入"),
        request={"multipart/form-data": InputSerializer},
        responses={201: OutputSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        job = importer.import_job_create(
            actor=request.user, union=data["union"], uploaded_file=data["file"], mode=data["mode"]
        )
        job.refresh_from_db()
        return Response(self.output(job), status=status.HTTP_201_CREATED)

    def _download(self, path: str, name: str):
        if not path or not default_storage.exists(path):
            raise Http404
        content_type = (
            "text/csv; charset=utf-8"
            if path.endswith(".csv")
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return file_response(name, content_type, default_storage.open(path, "rb"))

    @extend_schema(summary=_("下载逐行导入报告"), responses={**CSV_FILE, **DETAIL_ERRORS})
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        job = self._get(pk)
        return self._download(job.report_path, f"import-{job.pk}-report.csv")

    @extend_schema(
        summary=_("下载错误清单（上传人得到完整号码，可改正后直接重新上传；他人得到脱敏版本；记录审计）"),
        responses={**XLSX_FILE, **DETAIL_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        job = self._get(pk)
        body = importer.import_job_errors(actor=request.user, job=job)
        if body is None:
            raise Http404
        return file_response(
            f"import-{job.pk}-errors.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body,
        )

    @extend_schema(
        summary=_("下载导入模板"), parameters=[TemplateQuerySerializer], responses={**FILE_RESPONSE, **READ_ERRORS}
    )
    @action(detail=False, methods=["get"])
    def template(self, request):
        fmt = self.valid_query(self.TemplateQuerySerializer)["export_format"]
        if fmt == "csv":
            return file_response("member-import-template.csv", "text/csv; charset=utf-8", importer.template_csv())
        return file_response(
            "member-import-template.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            importer.template_xlsx(),
        )
