"""Statistics API: the figures of a subtree and period, as on the dashboard (reports.statistics)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from core.replicas import heavy_reads
from core.roles import REPORT_VIEW
from organizations.selectors import organization_get, organization_roots_for_user

from .statistics import subtree_figures

ERRORS = error_responses(400, 403, 404)


class _Count(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class _Org(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _Period(serializers.Serializer):
    kind = serializers.CharField(help_text=_("month：月；year：年"))
    key = serializers.CharField(help_text=_("“2026-05”或“2026”"))
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("统计截止日（本月或本年为今天）"))


class _Members(serializers.Serializer):
    total = serializers.IntegerField()
    new = serializers.IntegerField()
    left = serializers.IntegerField()
    transferred_out = serializers.IntegerField()
    growth = serializers.IntegerField()
    by_employment_form = _Count(many=True)
    new_employment_forms = serializers.IntegerField()
    migrant = serializers.IntegerField()
    migrant_share = serializers.FloatField(allow_null=True)
    honours = _Count(many=True)
    honours_total = serializers.IntegerField()
    honours_new = serializers.IntegerField()


class _Coverage(serializers.Serializer):
    enterprises = serializers.IntegerField(allow_null=True)
    unionized_enterprises = serializers.IntegerField(allow_null=True)
    formation_rate = serializers.FloatField(allow_null=True)
    employees = serializers.IntegerField(allow_null=True)
    membership_rate = serializers.FloatField(allow_null=True)
    members_now = serializers.IntegerField(allow_null=True, help_text=_("当前在册会员（实时，仅本期）"))


class _Aid(serializers.Serializer):
    new_files = serializers.IntegerField()
    emergency_files = serializers.IntegerField(help_text=_("其中应急救助档案"))
    by_tier = _Count(many=True)
    by_status = _Count(many=True)
    on_register = serializers.IntegerField()
    register_by_tier = _Count(many=True)
    paid = serializers.DecimalField(max_digits=16, decimal_places=2)
    budget = serializers.DecimalField(max_digits=16, decimal_places=2)
    budget_spent = serializers.DecimalField(max_digits=16, decimal_places=2)
    paid_share = serializers.FloatField(allow_null=True)


class _Disputes(serializers.Serializer):
    received = serializers.IntegerField()
    by_kind = _Count(many=True)
    by_status = _Count(many=True)
    by_outcome = _Count(many=True)
    collective = serializers.IntegerField()
    closed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    average_days = serializers.FloatField(allow_null=True)


class _Projects(serializers.Serializer):
    total = serializers.IntegerField()
    by_stage = _Count(many=True)
    planned = serializers.DecimalField(max_digits=16, decimal_places=2)
    spent = serializers.DecimalField(max_digits=16, decimal_places=2)
    budget_execution = serializers.FloatField(allow_null=True)
    ratings = serializers.IntegerField()
    satisfaction = serializers.FloatField(allow_null=True)


class _Trend(serializers.Serializer):
    month = serializers.DateField()
    members = serializers.IntegerField()
    new = serializers.IntegerField()
    left = serializers.IntegerField()
    aid_paid = serializers.DecimalField(max_digits=16, decimal_places=2)
    cases_received = serializers.IntegerField()
    cases_closed = serializers.IntegerField()


@extend_schema_serializer(component_name="StatisticsFiguresBase")
class _Figures(serializers.Serializer):
    organization = _Org()
    period = _Period()
    as_of = serializers.DateTimeField(allow_null=True, help_text=_("数据统计时间"))
    source = serializers.CharField(help_text=_("summary：统计汇总；live：实时统计"))
    members = _Members()
    coverage = _Coverage()
    aid = _Aid()
    disputes = _Disputes()
    projects = _Projects()


@extend_schema_serializer(component_name="StatisticsFigures")
class FiguresSerializer(_Figures):
    children = _Figures(many=True)
    previous = _Figures(allow_null=True)
    trend = _Trend(many=True)


PERIOD = OpenApiParameter("period", str, description=_("统计期间：某月“2026-05”或某年“2026”；默认本月"), required=False)


@heavy_reads()
def _answer(request, org):
    period = request.query_params.get("period") or timezone.localdate()
    figures = subtree_figures(user=request.user, organization=org, period=period)
    return Response(figures.to_dict())


class StatisticsView(APIView):
    @extend_schema(
        tags=["statistics"],
        operation_id="statistics_top",
        summary=_("本人最高一级组织的统计数据"),
        parameters=[PERIOD],
        responses={200: FiguresSerializer, **ERRORS},
    )
    def get(self, request):
        root = organization_roots_for_user(request.user, REPORT_VIEW).order_by("depth", "path").first()
        if root is None:
            from django.http import Http404

            from core.errors import NOT_IN_REACH

            raise Http404(NOT_IN_REACH)
        return _answer(request, root)


class OrganizationStatisticsView(APIView):
    @extend_schema(
        tags=["statistics"],
        operation_id="statistics_organization",
        summary=_("某组织（含下级）的统计数据"),
        parameters=[PERIOD],
        responses={200: FiguresSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        return _answer(request, organization_get(request.user, pk))


def _urls():
    from django.urls import path

    from .run_api import router

    return [
        *router.urls,
        path("statistics/", StatisticsView.as_view(), name="statistics"),
        path("statistics/<int:pk>/", OrganizationStatisticsView.as_view(), name="statistics-organization"),
    ]


api_urlpatterns = _urls()
