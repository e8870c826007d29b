"""Report runs API (/api/v1/report-runs/): list, ask for a report, follow its progress, download its files.

The same services and selectors as the report pages (reports.runs, reports.run_selectors):
the same validation, the same one run per (organisation, kind, period), the same scope
(report.view) and the same audited, private downloads.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from core.api import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedViewSet, error_responses
from core.documents import XLSX_CONTENT_TYPE
from core.pages import file_response
from organizations.api_fields import InReachOrgField
from organizations.models import Organization

from . import run_selectors, runs
from .filters import ReportRunFilter
from .models import ReportRun

READ_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
WRITE_ERRORS = error_responses(400, 403, 404, 409)
XLSX_FILE = {(200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=_("Excel 报表"))}
PDF_FILE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=_("PDF 摘要"))}


@extend_schema_serializer(component_name="ReportHeadline")
class _Headline(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    percent = serializers.BooleanField(help_text=_("true：比率（0–1），false：数量或金额"))


@extend_schema_serializer(component_name="ReportRun")
class ReportRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = InReachOrgField()
    kind = serializers.ChoiceField(choices=ReportRun.Kind.choices)
    kind_label = ChoiceLabelField(ReportRun.Kind, source="kind")
    period = serializers.CharField(source="period_code", help_text=_("月报“2026-05”，年报“2026”"))
    period_label = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = serializers.ChoiceField(choices=ReportRun.Status.choices)
    status_label = ChoiceLabelField(ReportRun.Status, source="status")
    progress = serializers.SerializerMethodField(help_text=_("进度百分比（0–100）"))
    phase_label = serializers.SerializerMethodField(help_text=_("正在进行的步骤（完成或失败时为空）"))
    message = serializers.CharField(help_text=_("失败时的原因和处理办法"))
    scheduled = serializers.BooleanField(help_text=_("true：每月定时生成；false：按需申请"))
    requested_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    xlsx_size = serializers.IntegerField()
    pdf_size = serializers.IntegerField()
    xlsx_url = serializers.SerializerMethodField(help_text=_("Excel 报表的下载地址；尚无文件时为 null"))
    pdf_url = serializers.SerializerMethodField(help_text=_("PDF 摘要的下载地址；尚无文件时为 null"))

    def get_progress(self, run) -> int:
        return 100 if run.status == ReportRun.Status.SUCCEEDED else run.progress

    def get_phase_label(self, run) -> str:
        return runs.phase_label(run)

    def get_xlsx_url(self, run) -> str | None:
        return reverse("api:report-run-xlsx", args=[run.pk]) if run.xlsx_path else None

    def get_pdf_url(self, run) -> str | None:
        return reverse("api:report-run-pdf", args=[run.pk]) if run.pdf_path else None


@extend_schema_serializer(component_name="ReportRunDetail")
class ReportRunDetailSerializer(ReportRunOutputSerializer):
    headlines = serializers.SerializerMethodField(help_text=_("主要指标（本期与上期），生成完成后才有"))

    as_of = serializers.SerializerMethodField(help_text=_("报表数据的统计时间；生成完成后才有"))

    @extend_schema_field(_Headline(many=True))
    def get_headlines(self, run) -> list[dict]:
        return [_Headline(h).data for h in (run.summary or {}).get("headlines", [])]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_as_of(self, run) -> str | None:
        return (run.summary or {}).get("as_of")


@extend_schema_serializer(component_name="ReportRunCreate")
class ReportRunInputSerializer(serializers.Serializer):
    organization = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.filter(status=Organization.Status.ACTIVE),
        label=_("组织（统计其下全部组织）"),
    )
    kind = serializers.ChoiceField(
        choices=ReportRun.Kind.choices,
        label=_("报表类型"),
        error_messages={"invalid_choice": _("报表类型只能是 monthly（月报）或 yearly（年报），请重新选择。")},
    )
    period = serializers.CharField(
        max_length=7,
        label=_("统计期间"),
        help_text=_("月报填年-月，如“2026-10”；年报填年份，如“2025”。只能选已结束的月份或年度。"),
        error_messages={"max_length": _("统计期间最多 7 个字符：月报如“2026-10”，年报如“2025”。")},
    )


@extend_schema(tags=["reports"])
class ReportRunViewSet(ScopedViewSet):
    """The monthly and yearly reports of the subtrees in the caller's report reach."""

    filterset_class = ReportRunFilter
    output_serializer = ReportRunOutputSerializer
    input_serializers = {"create": ReportRunInputSerializer}

    def get_queryset(self):
        return run_selectors.report_runs_for_user(self.request.user)

    def _get(self, pk) -> ReportRun:
        if not str(pk).isdigit():
            return run_selectors.report_run_get(self.request.user, -1)  # 404 in the one shape
        return run_selectors.report_run_get(self.request.user, pk)

    @extend_schema(
        summary=_("统计报表列表（最新在前）"), responses={200: ReportRunOutputSerializer(many=True), **READ_ERRORS}
    )
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(
        summary=_("统计报表的进度、主要指标和下载地址"), responses={200: ReportRunDetailSerializer, **DETAIL_ERRORS}
    )
    def retrieve(self, request, pk=None):
        run = self._get(pk)
        return Response(ReportRunDetailSerializer(run, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("申请生成统计报表（同一组织、类型、期间只生成一份：已有时返回已有的报表，状态码 200）"),
        request=ReportRunInputSerializer,
        responses={
            201: OpenApiResponse(ReportRunDetailSerializer, description=_("已提交，正在排队生成")),
            200: OpenApiResponse(ReportRunDetailSerializer, description=_("该报表已存在（已生成或正在生成）")),
            **WRITE_ERRORS,
        },
    )
    def create(self, request):
        data = self.valid_input(ReportRunInputSerializer)
        run, created = runs.report_request_or_existing(
            actor=request.user, organization=data["organization"], kind=data["kind"], period=data["period"]
        )
        run = self._get(run.pk)
        return Response(
            ReportRunDetailSerializer(run, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary=_("重新生成统计报表（新文件生成前仍可下载原文件）"),
        request=None,
        responses={202: ReportRunDetailSerializer, **error_responses(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        run = runs.report_rerun(actor=request.user, run=self._get(pk))
        return Response(
            ReportRunDetailSerializer(self._get(run.pk), context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
        )

    def _file(self, pk, fmt: str):
        run = self._get(pk)
        return file_response(*runs.report_file(actor=self.request.user, run=run, fmt=fmt))

    @extend_schema(summary=_("下载 Excel 报表（记录审计）"), responses={**XLSX_FILE, **DETAIL_ERRORS})
    @action(detail=True, methods=["get"])
    def xlsx(self, request, pk=None):
        return self._file(pk, "xlsx")

    @extend_schema(summary=_("下载 PDF 摘要（记录审计）"), responses={**PDF_FILE, **DETAIL_ERRORS})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        return self._file(pk, "pdf")


router = SimpleRouter()
router.register("report-runs", ReportRunViewSet, basename="report-run")
