"""REST API of hardship aid under /api/v1/aid/: files, investigations, notices, the approval
queue, grants, funds and budgets, campaigns, standards.

Thin views: reads from assistance.selectors (so from for_user), input through nested
InputSerializers, every write calls a service, refusals in the one error shape. Household
incomes, health and disability are masked; `POST files/{id}/reveal/` shows them to a
holder of personal_data.full and is audited.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core import selectors as core_selectors
from core.api import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedViewSet, error_responses
from core.pages import file_response
from core.replicas import heavy_reads
from members.models import Member
from organizations.api_fields import InReachOrgField
from organizations.models import Organization

from . import selectors, services
from .models import (
    AidKind,
    AidStandard,
    Budget,
    Campaign,
    Cause,
    FileStatus,
    Fund,
    FundSource,
    GrantStatus,
    HardshipFile,
    Objection,
    Relation,
    Schooling,
    Tier,
)

READ_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
WRITE_ERRORS = error_responses(400, 403, 404, 409)
PDF_FILE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=_("PDF 文件"))}


class AidHistorySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.CharField(source="actor_label")
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    to_label = serializers.CharField()
    note = serializers.CharField(source="reason")


@extend_schema_serializer(component_name="AidFile")
class FileOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    member_name = serializers.CharField(source="member.name")
    union = InReachOrgField()
    status = serializers.ChoiceField(choices=FileStatus.choices)
    status_label = ChoiceLabelField(FileStatus, source="status")
    tier = serializers.CharField()
    tier_label = ChoiceLabelField(Tier, source="tier")
    tier_explanation = serializers.CharField()
    causes = serializers.ListField(child=serializers.CharField())
    requested_kind = serializers.CharField()
    requested_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    review_due = serializers.DateField(allow_null=True)
    is_emergency = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class HouseholdRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.CharField()
    age = serializers.IntegerField()
    id_masked = serializers.CharField()
    schooling = serializers.CharField()
    monthly_income = serializers.CharField()
    health = serializers.CharField()
    disability = serializers.CharField()
    revealed = serializers.BooleanField()


@extend_schema_serializer(component_name="AidFileDetail")
class FileDetailSerializer(FileOutputSerializer):
    standard_version = serializers.IntegerField(source="standard.version")
    tier_computed = serializers.CharField()
    tier_override_reason = serializers.CharField()
    per_capita_income = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    assets_note = serializers.CharField()
    household = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    @extend_schema_field(HouseholdRowSerializer(many=True))
    def get_household(self, f) -> list:
        user = self.context["request"].user
        reveal = self.context.get("reveal", False)
        return [selectors.household_row_view(user, r, reveal=reveal) for r in selectors.household_for(user, f)]

    @extend_schema_field(AidHistorySerializer(many=True))
    def get_history(self, f) -> list:
        return AidHistorySerializer(core_selectors.transition_history(f), many=True).data


class FileFilterSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    status = serializers.ChoiceField(choices=FileStatus.choices, required=False)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False)
    review_due_before = serializers.DateField(required=False)
    emergency = serializers.BooleanField(required=False, allow_null=True, default=None)


@extend_schema(tags=["aid"])
class FileViewSet(ScopedViewSet):
    """Hardship files in the caller's reach, and every step of their workflow."""

    @extend_schema_serializer(component_name="AidFileOpen")
    class InputSerializer(serializers.Serializer):
        member = ScopedPrimaryKeyRelatedField(queryset=Member.objects.all(), label=_("职工"))
        causes = serializers.ListField(child=serializers.ChoiceField(choices=Cause.choices), label=_("致困原因"))
        assets_note = serializers.CharField(max_length=500, required=False, allow_blank=True)
        requested_kind = serializers.ChoiceField(choices=AidKind.choices, required=False, allow_blank=True)
        requested_amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)

    @extend_schema_serializer(component_name="AidHouseholdMemberInput")
    class HouseholdInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50)
        relation = serializers.ChoiceField(choices=Relation.choices)
        age = serializers.IntegerField()
        monthly_income = serializers.CharField(max_length=20)
        id_number = serializers.CharField(max_length=30, required=False, allow_blank=True)
        schooling = serializers.ChoiceField(choices=Schooling.choices, required=False, allow_blank=True)
        health = serializers.CharField(max_length=200, required=False, allow_blank=True)
        disability = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema_serializer(component_name="AidInvestigationInput")
    class InvestigationInputSerializer(serializers.Serializer):
        visited_on = serializers.DateField()
        investigators = serializers.CharField(max_length=200)
        findings = serializers.CharField()

    @extend_schema_serializer(component_name="AidNoticeInput")
    class NoticeInputSerializer(serializers.Serializer):
        start = serializers.DateField()
        working_days = serializers.IntegerField(required=False, allow_null=True)
        place = serializers.CharField(max_length=200, required=False, allow_blank=True)
        budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects.all(), required=False, allow_null=True)

    @extend_schema_serializer(component_name="AidDecisionInput")
    class DecisionInputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(
            choices=[("approve", _("同意")), ("reject", _("不同意")), ("return", _("退回"))]
        )
        opinion = serializers.CharField(max_length=500, required=False, allow_blank=True)

    @extend_schema_serializer(component_name="AidReasonInput")
    class ReasonInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True)

    @extend_schema_serializer(component_name="AidReviewInput")
    class ReviewInputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(
            choices=[
                (s, s.label)
                for s in (FileStatus.REGISTERED, FileStatus.LIFTED, FileStatus.SAFETY_NET, FileStatus.CLOSED)
            ]
        )
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema_serializer(component_name="AidTierOverrideInput")
    class TierInputSerializer(serializers.Serializer):
        tier = serializers.ChoiceField(choices=Tier.choices)
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    output_serializer = FileOutputSerializer
    input_serializers = {"create": InputSerializer}

    def get_queryset(self):
        return selectors.files_for(self.request.user)

    def _get(self, pk) -> HardshipFile:
        return self.get_in_reach(self.get_queryset().select_related("standard"), pk)

    def _detail(self, pk, *, reveal=False, code=status.HTTP_200_OK):
        f = self._get(pk)
        return Response(
            FileDetailSerializer(f, context={**self.get_serializer_context(), "reveal": reveal}).data, status=code
        )

    @extend_schema(
        summary=_("困难档案列表"),
        parameters=[FileFilterSerializer],
        responses={200: FileOutputSerializer(many=True), **READ_ERRORS},
    )
    @heavy_reads()
    def list(self, request):
        q = self.valid_query(FileFilterSerializer)
        return self.paged(selectors.files_for(request.user, **{k: v for k, v in q.items() if v not in (None, "")}))

    @extend_schema(summary=_("困难档案详情"), responses={200: FileDetailSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return self._detail(pk)

    @extend_schema(
        summary=_("查看家庭成员完整信息（留痕）"), request=None, responses={200: FileDetailSerializer, **DETAIL_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        return self._detail(pk, reveal=True)

    @extend_schema(
        summary=_("建立困难档案"), request=InputSerializer, responses={201: FileOutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        f = services.file_open(actor=request.user, **data)
        return self._detail(f.pk, code=status.HTTP_201_CREATED)

    def _do(self, pk, serializer, fn):
        f = self._get(pk)
        data = self.valid_input(serializer) if serializer else {}
        fn(f, data)
        return self._detail(pk)

    @extend_schema(
        summary=_("登记家庭成员"),
        request=HouseholdInputSerializer,
        responses={200: FileDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def household(self, request, pk=None):
        return self._do(
            pk,
            self.HouseholdInputSerializer,
            lambda f, d: services.household_member_add(actor=request.user, file=f, **d),
        )

    @extend_schema(
        summary=_("登记入户调查"),
        request=InvestigationInputSerializer,
        responses={200: FileDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def investigation(self, request, pk=None):
        return self._do(
            pk,
            self.InvestigationInputSerializer,
            lambda f, d: services.investigation_record(actor=request.user, file=f, **d),
        )

    @extend_schema(
        summary=_("开始公示"), request=NoticeInputSerializer, responses={200: FileDetailSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def notice(self, request, pk=None):
        return self._do(
            pk, self.NoticeInputSerializer, lambda f, d: services.notice_start(actor=request.user, file=f, **d)
        )

    @extend_schema(summary=_("公示期满，报送审批"), request=None, responses={200: FileDetailSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="notice-close")
    def notice_close(self, request, pk=None):
        return self._do(pk, None, lambda f, d: services.notice_close(actor=request.user, file=f))

    @extend_schema(
        summary=_("审批（同意、不同意或退回）"),
        request=DecisionInputSerializer,
        responses={200: FileDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        return self._do(
            pk, self.DecisionInputSerializer, lambda f, d: services.file_decide(actor=request.user, file=f, **d)
        )

    @extend_schema(
        summary=_("调整困难档次"), request=TierInputSerializer, responses={200: FileDetailSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def tier(self, request, pk=None):
        return self._do(
            pk, self.TierInputSerializer, lambda f, d: services.file_tier_override(actor=request.user, file=f, **d)
        )

    @extend_schema(summary=_("开始复核"), request=None, responses={200: FileDetailSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="review-start")
    def review_start(self, request, pk=None):
        return self._do(pk, None, lambda f, d: services.file_review_start(actor=request.user, file=f))

    @extend_schema(
        summary=_("复核结论"), request=ReviewInputSerializer, responses={200: FileDetailSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="review-finish")
    def review_finish(self, request, pk=None):
        return self._do(
            pk, self.ReviewInputSerializer, lambda f, d: services.file_review_finish(actor=request.user, file=f, **d)
        )

    @extend_schema(
        summary=_("关闭档案"), request=ReasonInputSerializer, responses={200: FileDetailSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._do(
            pk, self.ReasonInputSerializer, lambda f, d: services.file_close(actor=request.user, file=f, **d)
        )


@extend_schema(tags=["aid"])
class ApprovalQueueViewSet(ScopedViewSet):
    """Files waiting at a step the caller may decide."""

    output_serializer = FileOutputSerializer

    def get_queryset(self):
        return selectors.approval_queue(self.request.user)

    @extend_schema(summary=_("待我审批的困难档案"), responses={200: FileOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())


@extend_schema_serializer(component_name="AidInvestigation")
class InvestigationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file = serializers.IntegerField(source="file_id")
    file_number = serializers.CharField(source="file.number")
    visited_on = serializers.DateField()
    investigators = serializers.CharField()
    findings = serializers.CharField()


@extend_schema(tags=["aid"])
class InvestigationViewSet(ScopedViewSet):
    output_serializer = InvestigationOutputSerializer

    def get_queryset(self):
        return selectors.investigations_for(self.request.user).order_by("-id")

    @extend_schema(summary=_("入户调查列表"), responses={200: InvestigationOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("入户调查详情"), responses={200: InvestigationOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))


class ObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    received_on = serializers.DateField()
    content = serializers.CharField()
    resolution = serializers.CharField()
    upheld = serializers.BooleanField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="AidNotice")
class NoticeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file = serializers.IntegerField(source="file_id")
    file_number = serializers.CharField(source="file.number")
    start = serializers.DateField()
    end = serializers.DateField()
    working_days = serializers.IntegerField()
    place = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    objections = ObjectionSerializer(many=True)


@extend_schema(tags=["aid"])
class NoticeViewSet(ScopedViewSet):
    @extend_schema_serializer(component_name="AidObjectionInput")
    class ObjectionInputSerializer(serializers.Serializer):
        received_on = serializers.DateField()
        content = serializers.CharField()

    @extend_schema_serializer(component_name="AidObjectionResolveInput")
    class ResolveInputSerializer(serializers.Serializer):
        objection = serializers.IntegerField()
        upheld = serializers.BooleanField()
        resolution = serializers.CharField(required=False, allow_blank=True)

    output_serializer = NoticeOutputSerializer

    def get_queryset(self):
        return selectors.notices_for(self.request.user).prefetch_related("objections").order_by("-id")

    @extend_schema(summary=_("公示列表"), responses={200: NoticeOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("公示详情"), responses={200: NoticeOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("登记公示异议"),
        request=ObjectionInputSerializer,
        responses={200: NoticeOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def objections(self, request, pk=None):
        notice = self.get_in_reach(self.get_queryset(), pk)
        services.objection_record(actor=request.user, notice=notice, **self.valid_input(self.ObjectionInputSerializer))
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("处理公示异议"),
        request=ResolveInputSerializer,
        responses={200: NoticeOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        notice = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.ResolveInputSerializer)
        objection = self.get_in_reach(Objection.objects.filter(notice=notice), data.pop("objection"))
        services.objection_resolve(actor=request.user, objection=objection, **data)
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))


@extend_schema_serializer(component_name="AidGrant")
class GrantOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file = serializers.IntegerField(source="file_id")
    file_number = serializers.CharField(source="file.number")
    member_name = serializers.CharField(source="file.member.name")
    kind = serializers.ChoiceField(choices=AidKind.choices)
    kind_label = ChoiceLabelField(AidKind, source="kind")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    budget = serializers.IntegerField(source="budget_id")
    period = serializers.CharField()
    campaign = serializers.IntegerField(source="campaign_id", allow_null=True)
    status = serializers.ChoiceField(choices=GrantStatus.choices)
    status_label = ChoiceLabelField(GrantStatus, source="status")
    is_emergency = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class GrantFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=GrantStatus.choices, required=False)
    emergency = serializers.BooleanField(required=False, allow_null=True, default=None)


@extend_schema(tags=["aid"])
class GrantViewSet(ScopedViewSet):
    @extend_schema_serializer(component_name="AidGrantInput")
    class InputSerializer(serializers.Serializer):
        file = ScopedPrimaryKeyRelatedField(queryset=HardshipFile.objects.all())
        kind = serializers.ChoiceField(choices=AidKind.choices)
        amount = serializers.CharField(max_length=20)
        budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects.all())

    @extend_schema_serializer(component_name="AidEmergencyInput")
    class EmergencyInputSerializer(serializers.Serializer):
        member = ScopedPrimaryKeyRelatedField(queryset=Member.objects.all())
        causes = serializers.ListField(child=serializers.ChoiceField(choices=Cause.choices))
        amount = serializers.CharField(max_length=20)
        budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects.all())
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True)

    output_serializer = GrantOutputSerializer
    input_serializers = {"create": InputSerializer, "emergency": EmergencyInputSerializer}

    def get_queryset(self):
        return selectors.grants_for(self.request.user).order_by("-id")

    def _get(self, pk):
        return self.get_in_reach(self.get_queryset(), pk)

    @extend_schema(
        summary=_("救助发放列表"),
        parameters=[GrantFilterSerializer],
        responses={200: GrantOutputSerializer(many=True), **READ_ERRORS},
    )
    def list(self, request):
        q = self.valid_query(GrantFilterSerializer)
        qs = self.get_queryset()
        if q.get("status"):
            qs = qs.filter(status=q["status"])
        if q.get("emergency") is not None:
            qs = qs.filter(is_emergency=q["emergency"])
        return self.paged(qs)

    @extend_schema(summary=_("救助发放详情"), responses={200: GrantOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self._get(pk)))

    @extend_schema(
        summary=_("提出救助"), request=InputSerializer, responses={201: GrantOutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        g = services.grant_create(actor=request.user, **self.valid_input(self.InputSerializer))
        return Response(self.output(self._get(g.pk)), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("应急救助（先发放后审核）"),
        request=EmergencyInputSerializer,
        responses={201: GrantOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def emergency(self, request):
        g = services.emergency_aid(actor=request.user, **self.valid_input(self.EmergencyInputSerializer))
        return Response(self.output(self._get(g.pk)), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("批准救助（从预算中预留）"), request=None, responses={200: GrantOutputSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        services.grant_approve(actor=request.user, grant=self._get(pk))
        return Response(self.output(self._get(pk)))

    @extend_schema(summary=_("确认发放"), request=None, responses={200: GrantOutputSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        services.grant_pay(actor=request.user, grant=self._get(pk))
        return Response(self.output(self._get(pk)))

    @extend_schema(
        summary=_("取消救助（释放预留）"),
        request=FileViewSet.ReasonInputSerializer,
        responses={200: GrantOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self.valid_input(FileViewSet.ReasonInputSerializer)
        services.grant_cancel(actor=request.user, grant=self._get(pk), reason=data.get("reason", ""))
        return Response(self.output(self._get(pk)))


@extend_schema_serializer(component_name="AidFund")
class FundOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    source = serializers.ChoiceField(choices=FundSource.choices)
    source_label = ChoiceLabelField(FundSource, source="source")
    organization = InReachOrgField()


@extend_schema(tags=["aid"])
class FundViewSet(ScopedViewSet):
    @extend_schema_serializer(component_name="AidFundInput")
    class InputSerializer(serializers.Serializer):
        organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
        name = serializers.CharField(max_length=100)
        source = serializers.ChoiceField(choices=FundSource.choices)

    output_serializer = FundOutputSerializer
    input_serializers = {"create": InputSerializer}

    def get_queryset(self):
        return selectors.funds_for(self.request.user)

    @extend_schema(summary=_("帮扶资金列表"), responses={200: FundOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("帮扶资金详情"), responses={200: FundOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("新建帮扶资金"), request=InputSerializer, responses={201: FundOutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        fund = services.fund_create(actor=request.user, **self.valid_input(self.InputSerializer))
        return Response(self.output(fund), status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="AidBudget")
class BudgetOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    fund = serializers.IntegerField(source="fund_id")
    fund_name = serializers.CharField(source="fund.name")
    organization = InReachOrgField()
    year = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    reserved = serializers.DecimalField(max_digits=12, decimal_places=2)
    spent = serializers.DecimalField(max_digits=12, decimal_places=2)
    left = serializers.DecimalField(max_digits=12, decimal_places=2)


@extend_schema(tags=["aid"])
class BudgetViewSet(ScopedViewSet):
    @extend_schema_serializer(component_name="AidBudgetInput")
    class InputSerializer(serializers.Serializer):
        fund = ScopedPrimaryKeyRelatedField(queryset=Fund.objects.all())
        organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
        year = serializers.IntegerField()
        amount = serializers.CharField(max_length=20)

    @extend_schema_serializer(component_name="AidAllocationInput")
    class AllocationInputSerializer(serializers.Serializer):
        child = ScopedPrimaryKeyRelatedField(queryset=Budget.objects.all())
        amount = serializers.CharField(max_length=20)
        note = serializers.CharField(max_length=200, required=False, allow_blank=True)

    output_serializer = BudgetOutputSerializer
    input_serializers = {"create": InputSerializer, "allocate": AllocationInputSerializer}

    def get_queryset(self):
        return selectors.budgets_for(self.request.user)

    @extend_schema(
        summary=_("预算列表（已预留、已支出、余额）"), responses={200: BudgetOutputSerializer(many=True), **READ_ERRORS}
    )
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("预算详情"), responses={200: BudgetOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("新建预算"), request=InputSerializer, responses={201: BudgetOutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        b = services.budget_create(actor=request.user, **self.valid_input(self.InputSerializer))
        return Response(self.output(b), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("向下级下拨资金"),
        request=AllocationInputSerializer,
        responses={200: BudgetOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        parent = self.get_in_reach(self.get_queryset(), pk)
        services.allocation_make(actor=request.user, parent=parent, **self.valid_input(self.AllocationInputSerializer))
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))


@extend_schema_serializer(component_name="AidCampaign")
class CampaignOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Campaign.Kind.choices)
    kind_label = ChoiceLabelField(Campaign.Kind, source="kind")
    organization = InReachOrgField()
    budget = serializers.IntegerField(source="budget_id")
    amount_per_file = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    status_label = ChoiceLabelField(Campaign.Status, source="status")
    progress_total = serializers.IntegerField()
    progress_done = serializers.IntegerField()
    progress_percent = serializers.SerializerMethodField()
    message = serializers.CharField()

    def get_progress_percent(self, c) -> int:
        return services.campaign_progress(c)


@extend_schema(tags=["aid"])
class CampaignViewSet(ScopedViewSet):
    @extend_schema_serializer(component_name="AidCampaignInput")
    class InputSerializer(serializers.Serializer):
        organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
        kind = serializers.ChoiceField(choices=Campaign.Kind.choices)
        name = serializers.CharField(max_length=100)
        budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects.all())
        amount_per_file = serializers.CharField(max_length=20)

    output_serializer = CampaignOutputSerializer
    input_serializers = {"create": InputSerializer}

    def get_queryset(self):
        return selectors.campaigns_for(self.request.user)

    @extend_schema(summary=_("帮扶活动列表"), responses={200: CampaignOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("帮扶活动详情（含进度）"), responses={200: CampaignOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("新建帮扶活动"), request=InputSerializer, responses={201: CampaignOutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        c = services.campaign_create(actor=request.user, **self.valid_input(self.InputSerializer))
        return Response(self.output(c), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("启动帮扶活动（后台生成名单和发放）"),
        request=None,
        responses={202: CampaignOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        c = services.campaign_start(actor=request.user, campaign=self.get_in_reach(self.get_queryset(), pk))
        return Response(self.output(c), status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary=_("签收表（PDF）"), responses={**PDF_FILE, **DETAIL_ERRORS})
    @action(detail=True, methods=["get"])
    def sheet(self, request, pk=None):
        c = self.get_in_reach(self.get_queryset(), pk)
        return file_response(f"campaign-{c.pk}.pdf", "application/pdf", services.campaign_sheet_pdf(c))


@extend_schema_serializer(component_name="AidStandard")
class StandardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    effective_from = serializers.DateField()
    min_living_line = serializers.DecimalField(max_digits=12, decimal_places=2)
    low_income_line = serializers.DecimalField(max_digits=12, decimal_places=2)
    notice_working_days = serializers.IntegerField()
    yearly_cap = serializers.DecimalField(max_digits=12, decimal_places=2)
    amounts = serializers.JSONField()
    approval_levels = serializers.JSONField()


@extend_schema(tags=["aid"])
class StandardViewSet(ScopedViewSet):
    """The city's standards (public to every staff user: the same for the whole city)."""

    output_serializer = StandardOutputSerializer

    def get_queryset(self):
        return AidStandard.objects.order_by("-effective_from")

    @extend_schema(summary=_("帮扶标准（各版本）"), responses={200: StandardOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())


router = SimpleRouter()
router.register("aid/files", FileViewSet, basename="aid-file")
router.register("aid/approvals", ApprovalQueueViewSet, basename="aid-approval")
router.register("aid/investigations", InvestigationViewSet, basename="aid-investigation")
router.register("aid/notices", NoticeViewSet, basename="aid-notice")
router.register("aid/grants", GrantViewSet, basename="aid-grant")
router.register("aid/funds", FundViewSet, basename="aid-fund")
router.register("aid/budgets", BudgetViewSet, basename="aid-budget")
router.register("aid/campaigns", CampaignViewSet, basename="aid-campaign")
router.register("aid/standards", StandardViewSet, basename="aid-standard")

api_urlpatterns = router.urls
