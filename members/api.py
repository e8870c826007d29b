"""REST API of the member roll: members, join codes and applications, transfers, honours,
roster imports, export, the public join form and the worker's self-service.

Thin views, as in organizations/api.py: reads start from members.selectors (so from
`for_user`), input is checked by a nested InputSerializer, every write calls a service,
answers use a nested OutputSerializer. Personal data is masked in every answer; the full
values come only from `POST members/{id}/reveal/`, which is capability-checked and audited.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from organizations.api import ScopedViewSet
from organizations.models import Organization, ServiceStation
from organizations.otp import require_second_factor_for_full_data
from organizations.scoping import path_in_reach
from unionportal.api import (
    ChoiceLabelField,
    InReachOrgField,
    ScopedPrimaryKeyRelatedField,
    choice_label,
    error_responses,
)
from unionportal.api_base import IdsFirstCursorPagination

from . import exporter, importer, selectors, services
from .filters import HonourFilter, ImportJobFilter, JoinApplicationFilter, MemberFilter, TransferFilter
from .models import (
    Education,
    EmploymentForm,
    Honour,
    ImportJob,
    JoinApplication,
    Member,
    Membership,
    SkillLevel,
    Transfer,
)

READ_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
WRITE_ERRORS = error_responses(400, 403, 404, 409)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_FILE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=_("CSV 文件（UTF-8）"))}
XLSX_FILE = {(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=_("Excel 文件"))}
FILE_RESPONSE = {**CSV_FILE, **XLSX_FILE}


def _file(name: str, content_type: str, body) -> HttpResponse:
    if isinstance(body, bytes):
        resp = HttpResponse(body, content_type=content_type)
    elif hasattr(body, "read"):
        resp = FileResponse(body, content_type=content_type)
    else:
        resp = StreamingHttpResponse(body, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# --- shared output pieces -----------------------------------------------------------------


def _membership_out(user, row: dict, prefix: str = "") -> dict:
    """A membership as the API shows it, from a flat row (values() names, under `prefix`)."""
    path = row[prefix + "union__path"]
    ended_on = row[prefix + "ended_on"]
    return {
        "id": row[prefix + "id"],
        "member_number": row[prefix + "member_number"],
        "union": {"id": row[prefix + "union__id"], "name": row[prefix + "union__name"]}
        if path_in_reach(user, path)
        else None,
        "status": row[prefix + "status"],
        "status_label": choice_label(Membership.Status, row[prefix + "status"]),
        "joined_on": row[prefix + "joined_on"].isoformat(),
        "ended_on": ended_on.isoformat() if ended_on else None,
        "end_reason": row[prefix + "end_reason"],
    }


def _membership_row(ms: Membership, prefix: str = "") -> dict:
    return {
        prefix + "id": ms.id,
        prefix + "member_number": ms.member_number,
        prefix + "union__id": ms.union.id,
        prefix + "union__name": ms.union.name,
        prefix + "union__path": ms.union.path,
        prefix + "status": ms.status,
        prefix + "joined_on": ms.joined_on,
        prefix + "ended_on": ms.ended_on,
        prefix + "end_reason": ms.end_reason,
    }


def _member_row(m: Member) -> dict:
    """A Member (and its current membership) as the flat row selectors.member_list_rows gives."""
    row = {name: getattr(m, name) for name in selectors.MEMBER_LIST_COLUMNS if "__" not in name}
    ms = m.current_membership
    if ms is None:
        row["current_membership__id"] = None
    else:
        row.update(_membership_row(ms, "current_membership__"))
    return row


# The member list is the busiest read of the portal: its rows are built directly from flat
# values() rows instead of through DRF's per-field machinery and 150 model objects a page.
# The declared fields still describe the output (OpenAPI) and say what each key is;
# tests/members/test_api.py checks that both give the same answer.


@extend_schema_serializer(component_name="MembershipSummary")
class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member_number = serializers.CharField()
    union = InReachOrgField()
    status = serializers.ChoiceField(choices=Membership.Status.choices)
    status_label = ChoiceLabelField(Membership.Status, source="status")
    joined_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField()

    def to_representation(self, ms):
        return _membership_out(self.context["request"].user, _membership_row(ms))


@extend_schema_serializer(component_name="HonourSummary")
class HonourSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Honour.Kind.choices)
    kind_label = ChoiceLabelField(Honour.Kind, source="kind")
    year = serializers.IntegerField()
    note = serializers.CharField()


@extend_schema_serializer(component_name="Member")
class MemberOutputSerializer(serializers.Serializer):
    """A member: from a Member, or from a flat row of selectors.member_list_rows."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    id_masked = serializers.CharField(help_text=_("脱敏的身份证号码；完整号码见 reveal"))
    mobile_masked = serializers.CharField(help_text=_("脱敏的手机号码"))
    sex = serializers.CharField()
    birth_date = serializers.DateField()
    employer_name = serializers.CharField()
    employment_form = serializers.ChoiceField(choices=EmploymentForm.choices)
    employment_form_label = ChoiceLabelField(EmploymentForm, source="employment_form")
    is_migrant_worker = serializers.BooleanField()
    education = serializers.CharField()
    skill_level = serializers.CharField()
    has_login = serializers.SerializerMethodField()
    membership = MembershipSerializer(source="current_membership", allow_null=True)

    def get_has_login(self, m) -> bool:
        return m.user_id is not None

    def to_representation(self, m):
        row = m if isinstance(m, dict) else _member_row(m)
        user = self.context["request"].user
        return {
            "id": row["id"],
            "name": row["name"],
            "id_masked": row["id_masked"],
            "mobile_masked": row["mobile_masked"],
            "sex": row["sex"],
            "birth_date": row["birth_date"].isoformat(),
            "employer_name": row["employer_name"],
            "employment_form": row["employment_form"],
            "employment_form_label": choice_label(EmploymentForm, row["employment_form"]),
            "is_migrant_worker": row["is_migrant_worker"],
            "education": row["education"],
            "skill_level": row["skill_level"],
            "has_login": row["user_id"] is not None,
            "membership": (
                None if row["current_membership__id"] is None else _membership_out(user, row, "current_membership__")
            ),
        }


@extend_schema_serializer(component_name="MemberDetail")
class MemberDetailSerializer(MemberOutputSerializer):
    memberships = MembershipSerializer(many=True, source="memberships.all")
    honours = HonourSummarySerializer(many=True, source="honours.all")

    def to_representation(self, m):
        return serializers.Serializer.to_representation(self, m)


class ProfileFieldsSerializer(serializers.Serializer):
    employer_name = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("工作单位"))
    employment_form = serializers.ChoiceField(choices=EmploymentForm.choices, required=False, label=_("就业形态"))
    is_migrant_worker = serializers.BooleanField(required=False, label=_("农民工"))
    education = serializers.ChoiceField(
        choices=Education.choices, required=False, allow_blank=True, label=_("文化程度")
    )
    skill_level = serializers.ChoiceField(
        choices=SkillLevel.choices, required=False, allow_blank=True, label=_("技能等级")
    )


# --- members ------------------------------------------------------------------------------


@extend_schema(tags=["members"])
class MemberViewSet(ScopedViewSet):
    """The member roll within the caller's reach (through each member's current union)."""

    filterset_class = MemberFilter
    output_serializer = MemberOutputSerializer
    pagination_class = IdsFirstCursorPagination

    @extend_schema_serializer(component_name="MemberRegister")
    class InputSerializer(ProfileFieldsSerializer):
        union = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("所在工会"))
        name = serializers.CharField(max_length=50, label=_("姓名"))
        id_number = serializers.CharField(max_length=30, label=_("身份证号码"))
        mobile = serializers.CharField(max_length=20, label=_("手机号码"))
        joined_on = serializers.DateField(required=False, allow_null=True, label=_("入会日期"))

    @extend_schema_serializer(component_name="MemberUpdate")
    class UpdateInputSerializer(ProfileFieldsSerializer):
        pass

    @extend_schema_serializer(component_name="MemberContact")
    class ContactInputSerializer(serializers.Serializer):
        mobile = serializers.CharField(max_length=20, required=False, label=_("手机号码"))
        employer_name = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("工作单位"))

    @extend_schema_serializer(component_name="MembershipEnd")
    class EndInputSerializer(serializers.Serializer):
        on = serializers.DateField(required=False, allow_null=True, label=_("日期"), help_text=_("默认今天"))
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("原因"))

    @extend_schema_serializer(component_name="MemberReveal")
    class RevealInputSerializer(serializers.Serializer):
        purpose = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("查看事由"))

    @extend_schema_serializer(component_name="MemberPersonalData")
    class RevealOutputSerializer(serializers.Serializer):
        id_number = serializers.CharField()
        mobile = serializers.CharField()

    class ExportQuerySerializer(serializers.Serializer):
        export_format = serializers.ChoiceField(choices=["xlsx", "csv"], default="xlsx", label=_("格式"))
        full = serializers.BooleanField(
            default=False, required=False, help_text=_("导出完整身份证号码和手机号码（须有相应权限，记录审计）")
        )

    def get_queryset(self):
        return selectors.members_for_user(self.request.user)

    def _get(self, pk) -> Member:
        return self.get_in_reach(self.get_queryset(), pk)

    @extend_schema(summary=_("会员列表"), responses={200: MemberOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(selectors.member_list_rows(request.user)))

    @extend_schema(summary=_("会员详情（含会籍历史、荣誉）"), responses={200: MemberDetailSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        member = self.get_in_reach(selectors.member_detail_queryset(request.user), pk)
        return Response(MemberDetailSerializer(member, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("登记会员（实名）"), request=InputSerializer, responses={201: MembershipSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        membership = services.member_register(actor=request.user, **data)
        return Response(
            MembershipSerializer(membership, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary=_("修改会员就业信息"),
        request=UpdateInputSerializer,
        responses={200: MemberOutputSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        member = self._get(pk)
        data = self.valid_input(self.UpdateInputSerializer, partial=True)
        member = services.member_update(actor=request.user, member=member, **data)
        return Response(self.output(self._get(member.pk)))

    @extend_schema(
        summary=_("更正联系方式"),
        request=ContactInputSerializer,
        responses={200: MemberOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def contact(self, request, pk=None):
        member = self._get(pk)
        data = self.valid_input(self.ContactInputSerializer)
        services.member_update_contact(actor=request.user, member=member, **data)
        return Response(self.output(self._get(pk)))

    @extend_schema(
        summary=_("查看完整身份证号码和手机号码（记录审计）"),
        request=RevealInputSerializer,
        responses={200: RevealOutputSerializer, **DETAIL_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        member = self._get(pk)
        data = self.valid_input(self.RevealInputSerializer)
        require_second_factor_for_full_data(request)
        return Response(services.member_reveal(actor=request.user, member=member, purpose=data.get("purpose", "")))

    def _end(self, request, pk, service):
        member = self._get(pk)
        if member.current_membership is None:
            raise Http404
        data = self.valid_input(self.EndInputSerializer)
        ms = service(
            actor=request.user, membership=member.current_membership, on=data.get("on"), reason=data.get("reason", "")
        )
        return Response(MembershipSerializer(ms, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("办理退会"), request=EndInputSerializer, responses={200: MembershipSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        return self._end(request, pk, services.membership_leave)

    @extend_schema(
        summary=_("办理退休"), request=EndInputSerializer, responses={200: MembershipSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self._end(request, pk, services.membership_retire)

    @extend_schema(
        summary=_("导出会员名册（默认脱敏，记录审计）"),
        parameters=[ExportQuerySerializer],
        responses={**FILE_RESPONSE, **READ_ERRORS},
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        query = self.valid_query(self.ExportQuerySerializer)
        qs = self.filter_queryset(self.get_queryset())
        filters = {k: v for k, v in request.query_params.items() if k not in ("export_format", "full")}
        if query["full"]:
            require_second_factor_for_full_data(request)
        name, content_type, body = exporter.member_export(
            actor=request.user, queryset=qs, fmt=query["export_format"], full=query["full"], filters=filters
        )
        return _file(name, content_type, body)


# --- join codes, applications and the public form ------------------------------------------


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
    reason = serializers.CharField()
    notice_version = serializers.CharField()
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)


@extend_schema(tags=["members"])
class JoinApplicationViewSet(ScopedViewSet):
    """The queue of join applications routed to unions in the caller's reach."""

    filterset_class = JoinApplicationFilter
    output_serializer = JoinApplicationOutputSerializer

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

    @extend_schema(summary=_("入会申请详情"), responses={200: JoinApplicationOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

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
        summary=_("驳回入会申请"),
        request=RejectInputSerializer,
        responses={200: JoinApplicationOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        app = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.RejectInputSerializer)
        return Response(self.output(services.join_application_reject(actor=request.user, application=app, **data)))


class JoinThrottle(AnonRateThrottle):
    scope = "join"
    # Per client address; a join event behind one workplace NAT sees a few hundred scans an hour.
    rate = "300/hour"


@extend_schema(tags=["join"])
class JoinView(APIView):
    """The public scan-to-join form: GET names the union behind a code, POST applies."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [JoinThrottle]

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
        id = serializers.IntegerField()
        union_name = serializers.CharField()
        status_label = serializers.CharField()

    @extend_schema(summary=_("入会码对应的工会"), auth=[], responses={200: InfoSerializer, **error_responses(409)})
    def get(self, request, code: str):
        jc = services.join_code_resolve(code)
        return Response(
            {"union_name": jc.union.name, "label": jc.label, "notice_version": services.CURRENT_NOTICE_VERSION}
        )

    @extend_schema(
        summary=_("扫码入会申请"),
        auth=[],
        request=InputSerializer,
        responses={201: ReceiptSerializer, **error_responses(400, 409)},
    )
    def post(self, request, code: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        app = services.join_application_submit(
            code=code, ip_address=request.META.get("REMOTE_ADDR"), **data.validated_data
        )
        return Response(
            {"id": app.id, "union_name": app.union.name, "status_label": app.get_status_display()},
            status=status.HTTP_201_CREATED,
        )


# --- transfers and honours -----------------------------------------------------------------


@extend_schema(tags=["members"])
class TransferViewSet(ScopedViewSet):
    """Transfers leaving or entering the caller's reach (only the member's name is shown)."""

    filterset_class = TransferFilter

    @extend_schema_serializer(component_name="Transfer")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        member_name = serializers.CharField(source="member.name")
        from_union = serializers.SerializerMethodField()
        to_union = serializers.SerializerMethodField()
        requested_side = serializers.ChoiceField(choices=Transfer.Side.choices)
        reason = serializers.CharField()
        status = serializers.ChoiceField(choices=Transfer.Status.choices)
        status_label = ChoiceLabelField(Transfer.Status, source="status")
        decision_note = serializers.CharField()
        history = serializers.ListField(child=serializers.DictField())
        created_at = serializers.DateTimeField()
        decided_at = serializers.DateTimeField(allow_null=True)

        # Both unions are named even across districts: the other side must know who asks.
        def get_from_union(self, t) -> dict:
            return {"id": t.from_union_id, "name": t.from_union.name}

        def get_to_union(self, t) -> dict:
            return {"id": t.to_union_id, "name": t.to_union.name}

    @extend_schema_serializer(component_name="TransferRequest")
    class InputSerializer(serializers.Serializer):
        member = ScopedPrimaryKeyRelatedField(
            queryset=Member.objects.all(),
            required=False,
            allow_null=True,
            label=_("会员"),
            help_text=_("转出方：会员编号（须在您的管辖范围内）"),
        )
        id_number = serializers.CharField(
            max_length=30,
            required=False,
            allow_blank=True,
            label=_("身份证号码"),
            help_text=_("转入方：按身份证号码查找"),
        )
        to_union = serializers.PrimaryKeyRelatedField(
            queryset=Organization.objects.filter(status=Organization.Status.ACTIVE), label=_("转入工会")
        )
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("转接原因"))

        def validate(self, attrs):
            if not attrs.get("member") and not attrs.get("id_number"):
                raise serializers.ValidationError({"member": _("请选择会员，或填写要转入人员的身份证号码。")})
            return attrs

    @extend_schema_serializer(component_name="TransferDecision")
    class DecisionInputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("意见"))

    @extend_schema_serializer(component_name="TransferReject")
    class RejectInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, label=_("拒绝理由"))

    output_serializer = OutputSerializer

    def get_queryset(self):
        return selectors.transfers_for_user(self.request.user)

    def _get(self, pk) -> Transfer:
        return self.get_in_reach(self.get_queryset(), pk)

    @extend_schema(summary=_("会员关系转接列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("转接详情"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self._get(pk)))

    @extend_schema(
        summary=_("申请会员关系转接"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        member = data.get("member")
        if member is None:
            member = selectors.member_find_by_id_number(data["id_number"])
            if member is None:
                raise Http404
        t = services.transfer_request(
            actor=request.user, member=member, to_union=data["to_union"], reason=data.get("reason", "")
        )
        return Response(self.output(t), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("接收转入"), request=DecisionInputSerializer, responses={200: OutputSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.DecisionInputSerializer)
        services.transfer_accept(actor=request.user, transfer=t, note=data.get("note", ""))
        return Response(self.output(self._get(pk)))

    @extend_schema(
        summary=_("拒绝转入"), request=RejectInputSerializer, responses={200: OutputSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.RejectInputSerializer)
        return Response(self.output(services.transfer_reject(actor=request.user, transfer=t, reason=data["reason"])))

    @extend_schema(
        summary=_("撤回转接申请"), request=DecisionInputSerializer, responses={200: OutputSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.DecisionInputSerializer)
        return Response(
            self.output(services.transfer_cancel(actor=request.user, transfer=t, note=data.get("note", "")))
        )


@extend_schema(tags=["members"])
class HonourViewSet(ScopedViewSet):
    """Honours of members in the caller's reach."""

    filterset_class = HonourFilter

    @extend_schema_serializer(component_name="Honour")
    class OutputSerializer(HonourSummarySerializer):
        member = serializers.IntegerField(source="member_id")
        member_name = serializers.CharField(source="member.name")

    @extend_schema_serializer(component_name="HonourCreate")
    class InputSerializer(serializers.Serializer):
        member = ScopedPrimaryKeyRelatedField(queryset=Member.objects.all(), label=_("会员"))
        kind = serializers.ChoiceField(choices=Honour.Kind.choices, label=_("荣誉类别"))
        year = serializers.IntegerField(label=_("授予年度"))
        note = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("说明"))

    output_serializer = OutputSerializer

    def get_queryset(self):
        return selectors.honours_for_user(self.request.user)

    @extend_schema(summary=_("荣誉列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("登记荣誉"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        honour = services.honour_add(actor=request.user, **data)
        return Response(self.output(honour), status=status.HTTP_201_CREATED)


# --- imports -------------------------------------------------------------------------------


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
        return _file(name, content_type, default_storage.open(path, "rb"))

    @extend_schema(summary=_("下载逐行导入报告"), responses={**CSV_FILE, **DETAIL_ERRORS})
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        job = self._get(pk)
        return self._download(job.report_path, f"import-{job.pk}-report.csv")

    @extend_schema(summary=_("下载错误清单"), responses={**XLSX_FILE, **DETAIL_ERRORS})
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        job = self._get(pk)
        return self._download(job.error_path, f"import-{job.pk}-errors.xlsx")

    @extend_schema(
        summary=_("下载导入模板"), parameters=[TemplateQuerySerializer], responses={**FILE_RESPONSE, **READ_ERRORS}
    )
    @action(detail=False, methods=["get"])
    def template(self, request):
        fmt = self.valid_query(self.TemplateQuerySerializer)["export_format"]
        if fmt == "csv":
            return _file("member-import-template.csv", "text/csv; charset=utf-8", importer.template_csv())
        return _file(
            "member-import-template.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            importer.template_xlsx(),
        )


# --- the worker's own data -----------------------------------------------------------------


class IsWorker(permissions.BasePermission):
    message = _("需要会员（职工）账号登录。")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and getattr(request.user, "is_worker", False))


@extend_schema_serializer(component_name="MyMembership")
class MyMemberSerializer(serializers.Serializer):
    name = serializers.CharField()
    id_masked = serializers.CharField()
    mobile_masked = serializers.CharField()
    employer_name = serializers.CharField()
    employment_form_label = ChoiceLabelField(EmploymentForm, source="employment_form")
    member_number = serializers.CharField(source="current_membership.member_number", default="")
    union_name = serializers.CharField(source="current_membership.union.name", default="")
    status_label = serializers.CharField(source="current_membership.get_status_display", default="")
    joined_on = serializers.DateField(source="current_membership.joined_on", default=None)
    honours = HonourSummarySerializer(many=True, source="honours.all")


@extend_schema(tags=["me"])
class MyMemberView(APIView):
    """The signed-in worker's membership and personal data (masked), and contact corrections."""

    permission_classes = [IsWorker]

    @extend_schema_serializer(component_name="MyContact")
    class ContactInputSerializer(serializers.Serializer):
        mobile = serializers.CharField(max_length=20, required=False, label=_("手机号码"))
        employer_name = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("工作单位"))

    def _member(self, request) -> Member:
        member = selectors.member_for_worker(request.user)
        if member is None:
            raise Http404
        return member

    @extend_schema(summary=_("我的会籍"), responses={200: MyMemberSerializer, **error_responses(403, 404)})
    def get(self, request):
        return Response(MyMemberSerializer(self._member(request)).data)

    @extend_schema(
        summary=_("更正我的联系方式"),
        request=ContactInputSerializer,
        responses={200: MyMemberSerializer, **error_responses(400, 403, 404)},
    )
    def patch(self, request):
        member = self._member(request)
        data = self.ContactInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.member_update_contact(actor=request.user, member=member, **data.validated_data)
        return Response(MyMemberSerializer(self._member(request)).data)


router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")
router.register("member-join-codes", JoinCodeViewSet, basename="member-join-code")
router.register("member-join-applications", JoinApplicationViewSet, basename="member-join-application")
router.register("member-transfers", TransferViewSet, basename="member-transfer")
router.register("member-honours", HonourViewSet, basename="member-honour")
router.register("member-imports", ImportJobViewSet, basename="member-import")


def _urls():
    from django.urls import path

    return [
        path("join/<str:code>/", JoinView.as_view(), name="member-join"),
        path("me/member/", MyMemberView.as_view(), name="my-member"),
    ]


api_urlpatterns = [*router.urls, *_urls()]
