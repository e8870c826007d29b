"""REST API of service projects under /api/v1/: demands, projects (design, review, stages,
evaluation), sessions (check-in), spending, and the worker's own demands and sign-ups.

Reads start from projects.selectors (so from `for_user`: implementers see what they
implement, designers what they designed, everyone the library entries published to them);
every write calls a service; refusals come back in the one error shape.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from core import selectors as core_selectors
from core.api import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedViewSet, error_responses
from core.replicas import heavy_reads
from members.api.own import IsWorker
from organizations.models import Organization

from . import selectors, services
from .filters import DemandFilter, ProjectFilter, SessionFilter
from .models import (
    BudgetLine,
    Category,
    Demand,
    Enrolment,
    EvaluationWeights,
    Goal,
    Overspend,
    Project,
    ReviewCriterion,
)

READ = error_responses(400, 403)
DETAIL = error_responses(403, 404)
WRITE = error_responses(400, 403, 404, 409)


class OrgRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProjectHistorySerializer(serializers.Serializer):
    from_label = serializers.CharField()
    to_label = serializers.CharField()
    actor_label = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


# --- demands -----------------------------------------------------------------------------


@extend_schema_serializer(component_name="ProjectDemand")
class DemandSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=Category.choices)
    category_label = ChoiceLabelField(Category, source="category")
    description = serializers.CharField()
    union = OrgRef()
    status = serializers.ChoiceField(choices=Demand.Status.choices)
    status_label = ChoiceLabelField(Demand.Status, source="status")
    votes_count = serializers.IntegerField()
    tags = serializers.CharField()
    answer = serializers.CharField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    created_at = serializers.DateTimeField()


@extend_schema(tags=["projects"])
class DemandViewSet(ScopedViewSet):
    """The demand board: demands in the caller's reach, most seconded first."""

    filterset_class = DemandFilter
    output_serializer = DemandSerializer

    @extend_schema_serializer(component_name="ProjectDemandCreate")
    class InputSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=Category.choices, label=_("类别"))
        description = serializers.CharField(max_length=2000, label=_("需求描述"))
        union = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("所涉工会"))

    @extend_schema_serializer(component_name="ProjectDemandAnswer")
    class AnswerSerializer(serializers.Serializer):
        answer = serializers.CharField(max_length=2000, label=_("答复"))
        tags = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("标签"))

    @extend_schema_serializer(component_name="ProjectDemandMerge")
    class MergeSerializer(serializers.Serializer):
        target = ScopedPrimaryKeyRelatedField(queryset=Demand.objects.all(), label=_("合并到"))

    def get_queryset(self):
        return selectors.demands_for_user(self.request.user)

    @extend_schema(summary=_("需求看板"), responses={200: DemandSerializer(many=True), **READ})
    @heavy_reads()
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("需求详情"), responses={200: DemandSerializer, **DETAIL})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(summary=_("登记需求"), request=InputSerializer, responses={201: DemandSerializer, **WRITE})
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        demand = services.demand_post(actor=request.user, **data)
        return Response(self.output(demand), status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("答复需求"), request=AnswerSerializer, responses={200: DemandSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        demand = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.AnswerSerializer)
        return Response(self.output(services.demand_answer(actor=request.user, demand=demand, **data)))

    @extend_schema(summary=_("合并重复需求"), request=MergeSerializer, responses={200: DemandSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        demand = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.MergeSerializer)
        return Response(self.output(services.demand_merge(actor=request.user, source=demand, target=data["target"])))


# --- projects ----------------------------------------------------------------------------


@extend_schema_serializer(component_name="ProjectGoal")
class GoalSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    metric = serializers.ChoiceField(choices=Goal.Metric.choices, default=Goal.Metric.BENEFICIARIES)
    target = serializers.IntegerField(min_value=1)
    unit = serializers.CharField(max_length=10, required=False, allow_blank=True)


@extend_schema_serializer(component_name="ProjectBudgetLine")
class BudgetLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    planned = serializers.DecimalField(max_digits=12, decimal_places=2)
    spent = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    approved_over = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


@extend_schema_serializer(component_name="Project")
class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    category_label = ChoiceLabelField(Category, source="category")
    year = serializers.IntegerField()
    union = OrgRef()
    stage = serializers.ChoiceField(choices=Project.Stage.choices)
    stage_label = ChoiceLabelField(Project.Stage, source="stage")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    delivery_mode = serializers.ChoiceField(choices=Project.Delivery.choices)
    contractor = serializers.CharField()
    contract_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


@extend_schema_serializer(component_name="ProjectDetail")
class ProjectDetailSerializer(ProjectSerializer):
    summary = serializers.CharField()
    purchase_method = serializers.CharField()
    contract_start = serializers.DateField(allow_null=True)
    contract_end = serializers.DateField(allow_null=True)
    implementers = serializers.SerializerMethodField()
    goals = GoalSerializer(many=True, source="goals.all")
    budget_lines = BudgetLineSerializer(many=True, source="budget_lines.all")
    evaluation = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    @extend_schema_field(OrgRef(many=True))
    def get_implementers(self, p) -> list:
        return [{"id": i.union_id, "name": i.union.name} for i in p.implementers.select_related("union")]

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_evaluation(self, p) -> dict | None:
        ev = getattr(p, "evaluation", None) if p.stage == Project.Stage.EVALUATED else None
        if ev is None:
            return None
        return {
            "total": str(ev.total),
            "reach": str(ev.reach_score),
            "budget": str(ev.budget_score),
            "satisfaction": str(ev.satisfaction_score),
            "timeliness": str(ev.timeliness_score),
            "weights": ev.weights,
            "explanation": ev.explanation,
        }

    @extend_schema_field(ProjectHistorySerializer(many=True))
    def get_history(self, p) -> list:
        return ProjectHistorySerializer(core_selectors.transition_history(p), many=True).data


@extend_schema(tags=["projects"])
class ProjectViewSet(ScopedViewSet):
    """Projects designed or implemented in reach, and library entries published to it."""

    filterset_class = ProjectFilter
    output_serializer = ProjectSerializer

    @extend_schema_serializer(component_name="ProjectCreate")
    class InputSerializer(serializers.Serializer):
        union = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("设计单位"))
        title = serializers.CharField(max_length=100, label=_("项目名称"))
        category = serializers.ChoiceField(choices=Category.choices, label=_("类别"))
        year = serializers.IntegerField(min_value=2000, max_value=2100, label=_("年度"))
        summary = serializers.CharField(max_length=4000, required=False, allow_blank=True, label=_("项目简介"))
        start_date = serializers.DateField(label=_("开始日期"))
        end_date = serializers.DateField(label=_("结束日期"))
        delivery_mode = serializers.ChoiceField(choices=Project.Delivery.choices, label=_("实施方式"))
        purchase_method = serializers.ChoiceField(
            choices=Project.Purchase.choices, required=False, allow_blank=True, label=_("购买方式")
        )
        contractor = serializers.CharField(max_length=100, required=False, allow_blank=True, label=_("承接社会组织"))
        contract_amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, required=False, allow_null=True, label=_("合同金额（元）")
        )
        contract_start = serializers.DateField(required=False, allow_null=True, label=_("合同开始日期"))
        contract_end = serializers.DateField(required=False, allow_null=True, label=_("合同结束日期"))
        implementers = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), many=True, label=_("实施单位"))
        goals = GoalSerializer(many=True, label=_("项目目标"))
        budget = BudgetLineSerializer(many=True, label=_("预算科目"))

    @extend_schema_serializer(component_name="ProjectReview")
    class ReviewSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approve", "return", "reject"], label=_("结论"))
        opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, label=_("评审意见"))
        scores = serializers.DictField(
            child=serializers.DecimalField(max_digits=5, decimal_places=2), label=_("各项得分")
        )

    @extend_schema_serializer(component_name="ProjectRecuse")
    class RecuseSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, label=_("回避理由"))

    @extend_schema_serializer(component_name="ProjectResultInput")
    class ResultSerializer(serializers.Serializer):
        goal = serializers.IntegerField(label=_("目标"))
        achieved = serializers.IntegerField(min_value=0, label=_("完成值"))
        note = serializers.CharField(max_length=500, required=False, allow_blank=True, label=_("说明"))

    @extend_schema_serializer(component_name="ProjectMilestoneInput")
    class MilestoneSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, label=_("节点"))
        due_date = serializers.DateField(label=_("计划日期"))

    @extend_schema_serializer(component_name="ProjectEmpty")
    class EmptySerializer(serializers.Serializer):
        pass

    def get_queryset(self):
        return selectors.projects_for_user(self.request.user)

    def _get(self, pk) -> Project:
        return self.get_in_reach(self.get_queryset(), pk)

    def _detail(self, pk) -> dict:
        return ProjectDetailSerializer(self._get(pk), context=self.get_serializer_context()).data

    @extend_schema(summary=_("项目库"), responses={200: ProjectSerializer(many=True), **READ})
    @heavy_reads()
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("项目详情"), responses={200: ProjectDetailSerializer, **DETAIL})
    def retrieve(self, request, pk=None):
        return Response(self._detail(pk))

    @extend_schema(summary=_("设计项目"), request=InputSerializer, responses={201: ProjectDetailSerializer, **WRITE})
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        goals = [{k: v for k, v in g.items() if k != "id"} for g in data.pop("goals")]
        budget = [{"name": b["name"], "planned": b["planned"]} for b in data.pop("budget")]
        project = services.project_create(actor=request.user, goals=goals, budget=budget, **data)
        return Response(self._detail(project.pk), status=status.HTTP_201_CREATED)

    def _move(self, request, pk, service):
        service(actor=request.user, project=self._get(pk))
        return Response(self._detail(pk))

    @extend_schema(summary=_("提交论证"), request=EmptySerializer, responses={200: ProjectDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._move(request, pk, services.project_submit)

    @extend_schema(summary=_("评审"), request=ReviewSerializer, responses={200: ProjectDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        project = self._get(pk)
        data = self.valid_input(self.ReviewSerializer)
        services.review_submit(actor=request.user, project=project, **data)
        return Response(self._detail(pk))

    @extend_schema(summary=_("声明回避"), request=RecuseSerializer, responses={200: ProjectDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def recuse(self, request, pk=None):
        project = self._get(pk)
        data = self.valid_input(self.RecuseSerializer)
        services.review_recuse(actor=request.user, project=project, reason=data["reason"])
        return Response(self._detail(pk))

    @extend_schema(summary=_("填报结果"), request=ResultSerializer, responses={200: ProjectDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def results(self, request, pk=None):
        project = self._get(pk)
        data = self.valid_input(self.ResultSerializer)
        goal = project.goals.filter(pk=data["goal"]).first()
        if goal is None:
            raise Http404
        services.result_file(actor=request.user, goal=goal, achieved=data["achieved"], note=data.get("note", ""))
        return Response(self._detail(pk))

    @extend_schema(
        summary=_("添加进度节点"), request=MilestoneSerializer, responses={200: ProjectDetailSerializer, **WRITE}
    )
    @action(detail=True, methods=["post"])
    def milestones(self, request, pk=None):
        project = self._get(pk)
        data = self.valid_input(self.MilestoneSerializer)
        services.milestone_add(actor=request.user, project=project, **data)
        return Response(self._detail(pk))

    @extend_schema(summary=_("启动实施"), request=EmptySerializer, responses={200: ProjectDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._move(request, pk, services.project_start)

    @extend_schema(summary=_("结束实施"), request=EmptySerializer, responses={200: ProjectDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._move(request, pk, services.project_close)

    @extend_schema(summary=_("绩效评估"), request=EmptySerializer, responses={200: ProjectDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def evaluate(self, request, pk=None):
        return self._move(request, pk, services.project_evaluate)


@extend_schema(tags=["projects"])
class WeightsView(APIView):
    """The city federation's evaluation weights of a year (summing to 100%)."""

    @extend_schema_serializer(component_name="ProjectWeights")
    class WeightsSerializer(serializers.Serializer):
        year = serializers.IntegerField(min_value=2000, max_value=2100, label=_("年度"))
        reach = serializers.IntegerField(label=_("覆盖达成权重（%）"))
        budget = serializers.IntegerField(label=_("预算执行权重（%）"))
        satisfaction = serializers.IntegerField(label=_("满意度权重（%）"))
        timeliness = serializers.IntegerField(label=_("按时完成权重（%）"))

    @extend_schema(summary=_("绩效评估权重"), responses={200: WeightsSerializer(many=True), **READ})
    def get(self, request):
        return Response(self.WeightsSerializer(EvaluationWeights.objects.order_by("-year")[:20], many=True).data)

    @extend_schema(
        summary=_("设置绩效评估权重"), request=WeightsSerializer, responses={200: WeightsSerializer, **WRITE}
    )
    def post(self, request):
        serializer = self.WeightsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        weights = services.weights_set(actor=request.user, **serializer.validated_data)
        return Response(self.WeightsSerializer(weights).data)


@extend_schema(tags=["projects"])
class CriteriaView(APIView):
    """The review criteria reviewers score against (weights in whole percents summing to 100)."""

    @extend_schema_serializer(component_name="ProjectCriterion")
    class CriterionSerializer(serializers.Serializer):
        id = serializers.IntegerField(read_only=True)
        name = serializers.CharField(max_length=60, label=_("评审指标"))
        weight = serializers.IntegerField(min_value=1, max_value=100, label=_("权重（%）"))

    @extend_schema_serializer(component_name="ProjectCriteriaSet")
    class InputSerializer(serializers.Serializer):
        criteria = serializers.ListField(child=serializers.DictField(), label=_("评审指标"), min_length=1)

    @extend_schema(summary=_("评审指标"), responses={200: CriterionSerializer(many=True), **READ})
    def get(self, request):
        rows = ReviewCriterion.objects.filter(active=True).order_by("id")
        return Response(self.CriterionSerializer(rows, many=True).data)

    @extend_schema(
        summary=_("设置评审指标"), request=InputSerializer, responses={200: CriterionSerializer(many=True), **WRITE}
    )
    def put(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = services.criteria_set(actor=request.user, criteria=serializer.validated_data["criteria"])
        return Response(self.CriterionSerializer(rows, many=True).data)


# --- sessions, check-in, spending ------------------------------------------------------------


@extend_schema_serializer(component_name="ProjectSession")
class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    project_title = serializers.CharField(source="project.title")
    union = OrgRef()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    place = serializers.CharField()
    capacity = serializers.IntegerField()
    seats_taken = serializers.IntegerField()


@extend_schema(tags=["projects"])
class SessionViewSet(ScopedViewSet):
    """Sessions of the unions in reach; check-in by the member card's QR."""

    filterset_class = SessionFilter
    output_serializer = SessionSerializer

    @extend_schema_serializer(component_name="ProjectSessionCreate")
    class InputSerializer(serializers.Serializer):
        project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all(), label=_("项目"))
        union = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("实施单位"))
        title = serializers.CharField(max_length=100, label=_("场次名称"))
        starts_at = serializers.DateTimeField(label=_("开始时间"))
        place = serializers.CharField(max_length=100, label=_("地点"))
        capacity = serializers.IntegerField(min_value=1, max_value=100000, label=_("名额"))

    @extend_schema_serializer(component_name="ProjectCheckIn")
    class CheckInSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=500, label=_("会员卡二维码"))

    @extend_schema_serializer(component_name="ProjectCheckedIn")
    class CheckedInSerializer(serializers.Serializer):
        enrolment = serializers.IntegerField(source="enrolment_id")
        scans = serializers.IntegerField()
        created_at = serializers.DateTimeField()

    def get_queryset(self):
        return selectors.sessions_for_user(self.request.user)

    @extend_schema(summary=_("活动场次"), responses={200: SessionSerializer(many=True), **READ})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("场次详情"), responses={200: SessionSerializer, **DETAIL})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(summary=_("安排场次"), request=InputSerializer, responses={201: SessionSerializer, **WRITE})
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        session = services.session_create(actor=request.user, **data)
        return Response(self.output(session), status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("扫码签到"), request=CheckInSerializer, responses={200: CheckedInSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def checkin(self, request, pk=None):
        session = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.CheckInSerializer)
        row = services.checkin_scan(actor=request.user, session=session, token=data["token"])
        return Response(self.CheckedInSerializer(row).data)


@extend_schema(tags=["projects"])
class BudgetLineViewSet(ScopedViewSet):
    """Budget lines of projects in reach; spending and overspend requests."""

    output_serializer = BudgetLineSerializer

    @extend_schema_serializer(component_name="ProjectExpense")
    class ExpenseSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=12, decimal_places=2, label=_("金额（元）"))
        note = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("说明"))

    @extend_schema_serializer(component_name="ProjectOverspendRequest")
    class OverspendSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=12, decimal_places=2, label=_("超支金额（元）"))
        reason = serializers.CharField(max_length=200, label=_("理由"))

    def get_queryset(self):
        return BudgetLine.objects.filter(project__in=selectors.projects_for_user(self.request.user)).order_by("id")

    @extend_schema(summary=_("预算科目"), responses={200: BudgetLineSerializer(many=True), **READ})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("记录支出"), request=ExpenseSerializer, responses={200: BudgetLineSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def spend(self, request, pk=None):
        line = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.ExpenseSerializer)
        services.expense_record(actor=request.user, line=line, **data)
        line.refresh_from_db()
        return Response(self.output(line))

    @extend_schema(summary=_("申请超支"), request=OverspendSerializer, responses={201: BudgetLineSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def overspend(self, request, pk=None):
        line = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.OverspendSerializer)
        services.overspend_request(actor=request.user, line=line, **data)
        return Response(self.output(line), status=status.HTTP_201_CREATED)


@extend_schema(tags=["projects"])
class OverspendViewSet(ScopedViewSet):
    @extend_schema_serializer(component_name="ProjectOverspend")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        line = serializers.IntegerField(source="line_id")
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        reason = serializers.CharField()
        status = serializers.ChoiceField(choices=Overspend.Status.choices)

    @extend_schema_serializer(component_name="ProjectOverspendDecision")
    class DecisionSerializer(serializers.Serializer):
        approve = serializers.BooleanField(label=_("批准"))
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("理由"))

    output_serializer = OutputSerializer

    def get_queryset(self):
        return selectors.overspends_for_user(self.request.user).order_by("id")

    @extend_schema(summary=_("超支申请"), responses={200: OutputSerializer(many=True), **READ})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("审批超支"), request=DecisionSerializer, responses={200: OutputSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        req = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.DecisionSerializer)
        return Response(self.output(services.overspend_decide(actor=request.user, request=req, **data)))


# --- the worker's side -----------------------------------------------------------------------


@extend_schema_serializer(component_name="MyEnrolment")
class MyEnrolmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session = SessionSerializer()
    status = serializers.ChoiceField(choices=Enrolment.Status.choices)
    status_label = ChoiceLabelField(Enrolment.Status, source="status")
    position = serializers.IntegerField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)


def _member(request):
    member = selectors.member_of(request.user)
    if member is None:
        raise Http404
    return member


@extend_schema(tags=["me"])
class MyOpenSessionsView(APIView):
    permission_classes = [IsWorker]

    @extend_schema(summary=_("可报名的活动场次"), responses={200: SessionSerializer(many=True), **DETAIL})
    def get(self, request):
        sessions = selectors.open_sessions_for_member(_member(request)).select_related("union")[:200]
        return Response(SessionSerializer(sessions, many=True).data)


@extend_schema(tags=["me"])
class MyEnrolmentsView(APIView):
    permission_classes = [IsWorker]

    @extend_schema_serializer(component_name="MySignUp")
    class InputSerializer(serializers.Serializer):
        session = serializers.IntegerField(label=_("场次"))

    @extend_schema(summary=_("我的报名"), responses={200: MyEnrolmentSerializer(many=True), **DETAIL})
    def get(self, request):
        rows = selectors.my_enrolments(_member(request)).select_related("session__union")[:200]
        return Response(MyEnrolmentSerializer(rows, many=True).data)

    @extend_schema(summary=_("报名"), request=InputSerializer, responses={201: MyEnrolmentSerializer, **WRITE})
    def post(self, request):
        member = _member(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = get_object_or_404(selectors.open_sessions_for_member(member), pk=serializer.validated_data["session"])
        enrolment = services.enrolment_sign_up(actor=request.user, session=session, member=member)
        return Response(MyEnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["me"])
class MyEnrolmentActionView(APIView):
    """Cancel, confirm an offer, or rate (1–5) one of the worker's own sign-ups."""

    permission_classes = [IsWorker]

    @extend_schema_serializer(component_name="MyEnrolmentAction")
    class InputSerializer(serializers.Serializer):
        score = serializers.IntegerField(required=False, label=_("评分"))
        comment = serializers.CharField(max_length=500, required=False, allow_blank=True, label=_("评价"))

    verb = ""

    @extend_schema(
        summary=_("取消、确认候补或评价"), request=InputSerializer, responses={200: MyEnrolmentSerializer, **WRITE}
    )
    def post(self, request, pk):
        verb = self.verb
        enrolment = get_object_or_404(selectors.my_enrolments(_member(request)), pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if verb == "cancel":
            services.enrolment_cancel(actor=request.user, enrolment=enrolment)
        elif verb == "confirm":
            services.offer_confirm(actor=request.user, enrolment=enrolment)
        elif verb == "rate":
            services.rating_submit(
                actor=request.user, enrolment=enrolment, score=data.get("score"), comment=data.get("comment", "")
            )
        else:
            raise Http404
        enrolment.refresh_from_db()
        return Response(MyEnrolmentSerializer(enrolment).data)


class MyEnrolmentCancelView(MyEnrolmentActionView):
    verb = "cancel"


class MyOfferConfirmView(MyEnrolmentActionView):
    verb = "confirm"


class MyRatingView(MyEnrolmentActionView):
    verb = "rate"


@extend_schema(tags=["me"])
class MyDemandsView(APIView):
    """Demands concerning the worker's union or one above it; post a new one."""

    permission_classes = [IsWorker]

    @extend_schema_serializer(component_name="MyDemandCreate")
    class InputSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=Category.choices, label=_("类别"))
        description = serializers.CharField(max_length=2000, label=_("需求描述"))

    @extend_schema(summary=_("职工需求"), responses={200: DemandSerializer(many=True), **DETAIL})
    def get(self, request):
        return Response(DemandSerializer(selectors.demands_for_member(_member(request))[:200], many=True).data)

    @extend_schema(summary=_("提出需求"), request=InputSerializer, responses={201: DemandSerializer, **WRITE})
    def post(self, request):
        member = _member(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        union = member.current_membership.union if member.current_membership_id else None
        if union is None:
            raise Http404
        demand = services.demand_post(actor=request.user, union=union, **serializer.validated_data)
        return Response(DemandSerializer(demand).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["me"])
class MyDemandSecondView(APIView):
    permission_classes = [IsWorker]

    @extend_schema(summary=_("附议需求"), request=None, responses={200: DemandSerializer, **WRITE})
    def post(self, request, pk):
        member = _member(request)
        demand = get_object_or_404(selectors.demands_for_member(member), pk=pk)
        return Response(DemandSerializer(services.demand_second(actor=request.user, demand=demand)).data)


router = SimpleRouter()
router.register("projects/demands", DemandViewSet, basename="project-demand")
router.register("projects/sessions", SessionViewSet, basename="project-session")
router.register("projects/budget-lines", BudgetLineViewSet, basename="project-budget-line")
router.register("projects/overspends", OverspendViewSet, basename="project-overspend")
router.register("projects", ProjectViewSet, basename="project")


def _urls():
    from django.urls import path

    return [
        path("projects/weights/", WeightsView.as_view(), name="project-weights"),
        path("projects/criteria/", CriteriaView.as_view(), name="project-criteria"),
        path("me/project-sessions/", MyOpenSessionsView.as_view(), name="my-project-sessions"),
        path("me/enrolments/", MyEnrolmentsView.as_view(), name="my-enrolments"),
        path("me/enrolments/<int:pk>/cancel/", MyEnrolmentCancelView.as_view(), name="my-enrolment-cancel"),
        path("me/enrolments/<int:pk>/confirm/", MyOfferConfirmView.as_view(), name="my-enrolment-confirm"),
        path("me/enrolments/<int:pk>/rate/", MyRatingView.as_view(), name="my-enrolment-rate"),
        path("me/demands/", MyDemandsView.as_view(), name="my-demands"),
        path("me/demands/<int:pk>/second/", MyDemandSecondView.as_view(), name="my-demand-second"),
    ]


api_urlpatterns = [*_urls(), *router.urls]
