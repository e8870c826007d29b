"""Scan-to-join: join codes, the application queue and the public join form."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core import selectors as core_selectors
from core.api import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedViewSet, error_responses
from organizations.api_fields import InReachOrgField
from organizations.models import Organization, ServiceStation

from .. import selectors, services
from ..filters import JoinApplicationFilter
from ..models import EmploymentForm, JoinApplication
from ..throttle import JoinRateThrottle
from .shared import DETAIL_ERRORS, READ_ERRORS, WRITE_ERRORS, MembershipSerializer, TransitionRecordSerializer


@extend_schema(tags=["members"])
class JoinCodeViewSet(ScopedViewSet):
    """Scan-to-join codes of unions (optionally posted at a service station)."""

    @extend_schema_serializer(component_name="JoinCode")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        union = InReachOrgField()
        station = serializers.IntegerField(source="station_id", allow_null=True)
        label = serializers.CharField()
        is_active = serializers.BooleanField()
        code = serializers.SerializerMethodField(help_text=_("二维码携带的签名字符串"))
        created_at = serializers.DateTimeField()
        revoked_at = serializers.DateTimeField(allow_null=True)

        def get_code(self, obj) -> str:
            return services.join_code_public(obj)

    @extend_schema_serializer(component_name="JoinCodeCreate")
    class InputSerializer(serializers.Serializer):
        union = ScopedPrimaryKeyRelatedField(
            queryset=Organization.objects.all(), required=False, allow_null=True, label=_("受理工会")
        )
        station = ScopedPrimaryKeyRelatedField(
            queryset=ServiceStation.objects.all(), required=False, allow_null=True, label=_("服务站点")
        )
        label = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("名称"))

    output_serializer = OutputSerializer

    def get_queryset(self):
        return selectors.join_codes_for_user(self.request.user)

    @extend_schema(summary=_("入会二维码列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("入会二维码详情"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("生成入会二维码"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        code = services.join_code_create(actor=request.user, **data)
        return Response(self.output(code), status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("作废入会二维码"), request=None, responses={200: OutputSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        code = services.join_code_revoke(actor=request.user, code=self.get_in_reach(self.get_queryset(), pk))
        return Response(self.output(code))


@extend_schema_serializer(component_name="JoinApplication")
class JoinApplicationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    union = InReachOrgField()
    name = serializers.CharField()
    id_masked = serializers.CharField()
    mobile_masked = serializers.CharField()
    employer_name = serializers.CharField()
    employment_form = serializers.ChoiceField(choices=EmploymentForm.choices)
    employment_form_label = ChoiceLabelField(EmploymentForm, source="employment_form")
    is_migrant_worker = serializers.BooleanField()
    status = serializers.ChoiceField(choices=JoinApplication.Status.choices)
    status_label = ChoiceLabelField(JoinApplication.Status, source="status")
    identity_check = serializers.ChoiceField(
        choices=JoinApplication.IdentityCheck.choices,
        help_text=_("返会申请人给出的手机号和密码是否已经当面核验（pending：待核验，未生效）"),
    )
    reason = serializers.CharField()
    notice_version = serializers.CharField()
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="JoinApplicationDetail")
class JoinApplicationDetailSerializer(JoinApplicationOutputSerializer):
    # The timeline on the detail only: on a list it would cost a query per row.
    history = serializers.SerializerMethodField()

    @extend_schema_field(TransitionRecordSerializer(many=True))
    def get_history(self, app) -> list:
        return TransitionRecordSerializer(core_selectors.transition_history(app), many=True).data


@extend_schema(tags=["members"])
class JoinApplicationViewSet(ScopedViewSet):
    """The queue of join applications routed to unions in the caller's reach."""

    filterset_class = JoinApplicationFilter
    output_serializer = JoinApplicationOutputSerializer

    @extend_schema_serializer(component_name="JoinApplicationVerifyIdentity")
    class VerifyInputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=200, label=_("核验方式"))

    @extend_schema_serializer(component_name="JoinApplicationReject")
    class RejectInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, label=_("驳回理由"))

    def get_queryset(self):
        return selectors.join_applications_for_user(self.request.user)

    @extend_schema(
        summary=_("入会申请列表"), responses={200: JoinApplicationOutputSerializer(many=True), **READ_ERRORS}
    )
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("入会申请详情"), responses={200: JoinApplicationDetailSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        app = self.get_in_reach(self.get_queryset(), pk)
        return Response(JoinApplicationDetailSerializer(app, context=self.output_context([app])).data)

    @extend_schema(
        summary=_("批准入会（生成会员编号和职工账号）"),
        request=None,
        responses={200: MembershipSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        app = self.get_in_reach(self.get_queryset(), pk)
        ms = services.join_application_approve(actor=request.user, application=app)
        return Response(MembershipSerializer(ms, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("当面核验返会申请人身份（启用申请时填写的手机号和密码）"),
        request=VerifyInputSerializer,
        responses={200: JoinApplicationOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="verify-identity")
    def verify_identity(self, request, pk=None):
        app = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.VerifyInputSerializer)
        services.join_application_verify_identity(actor=request.user, application=app, **data)
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("驳回入会申请"),
        request=RejectInputSerializer,
        responses={200: JoinApplicationOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        app = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.RejectInputSerializer)
        return Response(self.output(services.join_application_reject(actor=request.user, application=app, **data)))


JOIN_RECEIVED = _(
    "申请已收到，将由工会审核，结果以短信通知。如您已是工会会员或已提交过申请，无需重复申请：我们会通过登记的手机号码告知您。"
)


@extend_schema(tags=["join"])
class JoinView(APIView):
    """The public scan-to-join form: GET names the union behind a code, POST applies."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    # The page's limit and counter (members/throttle.py): one limit whatever the door.
    throttle_classes = [JoinRateThrottle]

    @extend_schema_serializer(component_name="JoinInfo")
    class InfoSerializer(serializers.Serializer):
        union_name = serializers.CharField()
        label = serializers.CharField()
        notice_version = serializers.CharField()

    @extend_schema_serializer(component_name="JoinSubmit")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50, label=_("姓名"))
        id_number = serializers.CharField(max_length=30, label=_("身份证号码"))
        mobile = serializers.CharField(max_length=20, label=_("手机号码"))
        employment_form = serializers.ChoiceField(choices=EmploymentForm.choices, label=_("就业形态"))
        employer_name = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("工作单位"))
        is_migrant_worker = serializers.BooleanField(required=False, default=False, label=_("农民工"))
        consent = serializers.BooleanField(label=_("同意《个人信息处理告知书》"))
        password = serializers.CharField(
            max_length=128,
            required=False,
            allow_blank=True,
            trim_whitespace=False,
            style={"input_type": "password"},
            label=_("登录密码"),
            help_text=_("批准后用手机号码和此密码登录"),
        )

    @extend_schema_serializer(component_name="JoinReceipt")
    class ReceiptSerializer(serializers.Serializer):
        union_name = serializers.CharField(help_text=_("入会码所属工会"))
        message = serializers.CharField()

    @extend_schema(summary=_("入会码对应的工会"), auth=[], responses={200: InfoSerializer, **error_responses(409)})
    def get(self, request, code: str):
        jc = services.join_code_resolve(code)
        return Response(
            {"union_name": jc.union.name, "label": jc.label, "notice_version": services.CURRENT_NOTICE_VERSION}
        )

    @extend_schema(
        summary=_("扫码入会申请"),
        description=_(
            "无论此人是否已是会员、是否已有申请在审核，回答都相同（202），不泄露会员名册；"
            "已是会员或已有申请的，通过登记的手机号短信告知本人。"
        ),
        auth=[],
        request=InputSerializer,
        responses={202: ReceiptSerializer, **error_responses(400, 409, 429)},
    )
    def post(self, request, code: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        jc = services.join_code_resolve(code)
        # The answer never depends on whether an application was filed (see the service).
        services.join_application_submit(code=code, ip_address=request.META.get("REMOTE_ADDR"), **data.validated_data)
        return Response(
            {"union_name": jc.union.name, "message": str(JOIN_RECEIVED)},
            status=status.HTTP_202_ACCEPTED,
        )
