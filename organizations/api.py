"""REST API of the organisation tree, the enterprise registry, stations, officers and roles.

Thin views: every read starts from a selector (so from `for_user`), input is checked by a
nested InputSerializer, every write is a call to organizations.services, and the answer is
a nested OutputSerializer. Ids named in the input are resolved inside the caller's reach;
related organisations in the output are shown only when they are in reach.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core import roles
from core.api import (
    ChoiceLabelField,
    DefaultCursorPagination,
    ScopedPrimaryKeyRelatedField,
    ScopedViewSet,
    error_responses,
)
from core.scoping import has_capability_anywhere, scope_q

from . import selectors, services
from .api_fields import InReachOrgField
from .filters import EnterpriseFilter, OfficerFilter, OrganizationFilter, RoleAssignmentFilter, ServiceStationFilter
from .models import Enterprise, Officer, Organization, OrgKind, Role, RoleAssignment, ServiceStation, User

READ_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
WRITE_ERRORS = error_responses(400, 403, 404, 409)


class PathCursorPagination(DefaultCursorPagination):
    """Keyset pagination in tree order: the materialised path is unique and indexed."""

    ordering = "path"


# --- organisations --------------------------------------------------------------------


@extend_schema_serializer(component_name="Coverage")
class CoverageSerializer(serializers.Serializer):
    descendants = serializers.IntegerField(help_text=_("下级组织数（正常状态，含各级）"))
    grassroots_unions = serializers.IntegerField(help_text=_("基层工会数"))
    enterprises = serializers.IntegerField(help_text=_("存续企业数"))
    unionized_enterprises = serializers.IntegerField(help_text=_("已建会企业数"))
    employees = serializers.IntegerField(help_text=_("企业职工人数"))
    members = serializers.IntegerField(help_text=_("会员人数"))
    formation_rate = serializers.FloatField(allow_null=True, help_text=_("建会率（0–1）"))
    membership_rate = serializers.FloatField(allow_null=True, help_text=_("入会率（0–1）"))
    refreshed_at = serializers.DateTimeField(help_text=_("汇总时间（汇总定期刷新）"))


class OrganizationFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, label=_("名称"))
    short_name = serializers.CharField(max_length=40, required=False, allow_blank=True, label=_("简称"))
    kind = serializers.ChoiceField(choices=OrgKind.choices, label=_("类型"))
    region_code = serializers.CharField(
        max_length=6, required=False, allow_blank=True, label=_("行政区划代码"), help_text=_("市、区（县）总工会填写")
    )
    credit_code = serializers.CharField(
        max_length=30, required=False, allow_blank=True, label=_("工会法人统一社会信用代码")
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("地址"))
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, label=_("联系电话"))
    established_on = serializers.DateField(required=False, allow_null=True, label=_("成立日期"))


@extend_schema(tags=["organizations"])
class OrganizationViewSet(ScopedViewSet):
    """The organisation tree within the caller's reach."""

    filterset_class = OrganizationFilter
    pagination_class = PathCursorPagination

    @extend_schema_serializer(component_name="Organization")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        short_name = serializers.CharField()
        kind = serializers.ChoiceField(choices=OrgKind.choices)
        kind_label = ChoiceLabelField(OrgKind, source="kind")
        region_code = serializers.CharField()
        credit_code = serializers.CharField()
        address = serializers.CharField()
        phone = serializers.CharField()
        established_on = serializers.DateField(allow_null=True)
        status = serializers.ChoiceField(choices=Organization.Status.choices)
        status_label = ChoiceLabelField(Organization.Status, source="status")
        ended_on = serializers.DateField(allow_null=True)
        parent = serializers.SerializerMethodField(help_text=_("上级组织编号；不在您的管辖范围内时为 null"))
        merged_into = serializers.SerializerMethodField(help_text=_("并入的组织编号；不在管辖范围内时为 null"))
        depth = serializers.IntegerField(help_text=_("层级，市总工会为 1"))
        numchild = serializers.IntegerField(help_text=_("直接下级数（含已撤销）"))
        coverage = CoverageSerializer(allow_null=True, help_text=_("覆盖率汇总；尚未汇总时为 null"))
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

        def get_parent(self, org) -> int | None:
            return self.context.get("ids_by_path", {}).get(org.path[: -Organization.steplen])

        def get_merged_into(self, org) -> int | None:
            return org.merged_into_id if org.merged_into_id in self.context.get("ids_in_reach", ()) else None

    @extend_schema_serializer(component_name="OrganizationCreate")
    class InputSerializer(OrganizationFieldsSerializer):
        parent = ScopedPrimaryKeyRelatedField(
            queryset=Organization.objects.all(),
            allow_null=True,
            label=_("上级组织"),
            help_text=_("上级组织编号（须在您的管辖范围内）；只有系统管理员可建立根节点（null）"),
        )

    @extend_schema_serializer(component_name="OrganizationUpdate")
    class UpdateInputSerializer(OrganizationFieldsSerializer):
        pass

    @extend_schema_serializer(component_name="OrganizationMove")
    class MoveInputSerializer(serializers.Serializer):
        new_parent = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("新的上级组织"))

    @extend_schema_serializer(component_name="OrganizationDissolve")
    class DissolveInputSerializer(serializers.Serializer):
        on = serializers.DateField(required=False, allow_null=True, label=_("撤销日期"), help_text=_("默认今天"))
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, label=_("撤销原因"))

    @extend_schema_serializer(component_name="OrganizationMerge")
    class MergeInputSerializer(serializers.Serializer):
        into = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("并入的组织"))
        on = serializers.DateField(required=False, allow_null=True, label=_("合并日期"), help_text=_("默认今天"))

    class ChildrenQuerySerializer(serializers.Serializer):
        include_inactive = serializers.BooleanField(
            default=False, required=False, help_text=_("是否包括已撤销、已合并的下级")
        )

    output_serializer = OutputSerializer
    input_serializers = {
        "create": InputSerializer,
        "partial_update": UpdateInputSerializer,
        "move": MoveInputSerializer,
        "dissolve": DissolveInputSerializer,
        "merge": MergeInputSerializer,
    }

    def get_queryset(self):
        return selectors.organizations_for_user(self.request.user).select_related("coverage")

    def output_context(self, objects: list) -> dict:
        """Ids of the parents and merge targets on this page that the reader may see (one query)."""
        steplen = Organization.steplen
        parent_paths = {o.path[:-steplen] for o in objects if o.depth > 1}
        merged_ids = {o.merged_into_id for o in objects if o.merged_into_id}
        rows = []
        if parent_paths or merged_ids:
            rows = (
                selectors.organizations_for_user(self.request.user)
                .filter(Q(path__in=parent_paths) | Q(pk__in=merged_ids))
                .order_by()
                .values_list("pk", "path")
            )
        ids_by_path = {path: pk for pk, path in rows}
        return {
            **super().output_context(objects),
            "ids_by_path": ids_by_path,
            "ids_in_reach": set(ids_by_path.values()),
        }

    def _get(self, pk) -> Organization:
        return self.get_in_reach(self.get_queryset(), pk)

    @extend_schema(summary=_("组织列表（按树序）"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("组织详情"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self._get(pk)))

    @extend_schema(summary=_("新建组织"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        org = services.organization_create(actor=request.user, **data)
        return Response(self.output(org), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("修改组织信息"),
        request=UpdateInputSerializer,
        responses={200: OutputSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        org = self._get(pk)
        data = self.valid_input(self.UpdateInputSerializer, partial=True)
        org = services.organization_update(actor=request.user, organization=org, **data)
        return Response(self.output(org))

    @extend_schema(
        summary=_("移动组织（连同下级）"),
        request=MoveInputSerializer,
        responses={200: OutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        org = self._get(pk)
        data = self.valid_input(self.MoveInputSerializer)
        org = services.organization_move(actor=request.user, organization=org, new_parent=data["new_parent"])
        return Response(self.output(org))

    @extend_schema(
        summary=_("撤销组织"), request=DissolveInputSerializer, responses={200: OutputSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def dissolve(self, request, pk=None):
        org = self._get(pk)
        data = self.valid_input(self.DissolveInputSerializer)
        org = services.organization_dissolve(
            actor=request.user, organization=org, on=data.get("on"), reason=data.get("reason", "")
        )
        return Response(self.output(org))

    @extend_schema(
        summary=_("合并组织（下级、企业随之并入）"),
        request=MergeInputSerializer,
        responses={200: OutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        org = self._get(pk)
        data = self.valid_input(self.MergeInputSerializer)
        org = services.organization_merge(actor=request.user, organization=org, into=data["into"], on=data.get("on"))
        return Response(self.output(org))

    @extend_schema(
        summary=_("直接下级（按树序）"),
        parameters=[ChildrenQuerySerializer],
        filters=False,
        responses={200: OutputSerializer(many=True), **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def children(self, request, pk=None):
        parent = self._get(pk)
        query = self.valid_query(self.ChildrenQuerySerializer)
        return self.paged(
            selectors.organization_children(request.user, parent, include_inactive=query["include_inactive"])
        )


# --- enterprises ----------------------------------------------------------------------


class EnterpriseFieldsSerializer(serializers.Serializer):
    credit_code = serializers.CharField(max_length=30, label=_("统一社会信用代码"))
    name = serializers.CharField(max_length=120, label=_("企业名称"))
    ownership = serializers.ChoiceField(choices=Enterprise.Ownership.choices, label=_("经济类型"))
    size = serializers.ChoiceField(choices=Enterprise.Size.choices, label=_("企业规模"))
    industry = serializers.ChoiceField(choices=Enterprise.Industry.choices, label=_("行业门类"))
    employees = serializers.IntegerField(min_value=0, required=False, label=_("职工人数"))
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("地址"))
    supervisor = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        label=_("属地工会"),
        help_text=_("街道（乡镇）、园区、区域性联合会或区（县）总工会的编号"),
    )
    union = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        allow_null=True,
        label=_("本单位工会"),
        help_text=_("已建会时填基层工会编号，未建会为 null"),
    )
    is_active = serializers.BooleanField(required=False, label=_("存续"))


@extend_schema(tags=["enterprises"])
class EnterpriseViewSet(ScopedViewSet):
    """The enterprise registry within the caller's reach."""

    filterset_class = EnterpriseFilter

    @extend_schema_serializer(component_name="Enterprise")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        credit_code = serializers.CharField()
        name = serializers.CharField()
        ownership = serializers.ChoiceField(choices=Enterprise.Ownership.choices)
        ownership_label = ChoiceLabelField(Enterprise.Ownership, source="ownership")
        size = serializers.ChoiceField(choices=Enterprise.Size.choices)
        size_label = ChoiceLabelField(Enterprise.Size, source="size")
        industry = serializers.ChoiceField(choices=Enterprise.Industry.choices)
        industry_label = ChoiceLabelField(Enterprise.Industry, source="industry")
        employees = serializers.IntegerField()
        address = serializers.CharField()
        supervisor = InReachOrgField()
        union = InReachOrgField(allow_null=True)
        has_union = serializers.BooleanField()
        is_active = serializers.BooleanField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    @extend_schema_serializer(component_name="EnterpriseWrite")
    class InputSerializer(EnterpriseFieldsSerializer):
        pass

    output_serializer = OutputSerializer
    input_serializers = {"create": InputSerializer, "partial_update": InputSerializer}

    def get_queryset(self):
        return selectors.enterprises_for_user(self.request.user)

    @extend_schema(summary=_("企业列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("企业详情"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(summary=_("登记企业"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        enterprise = services.enterprise_create(actor=request.user, **data)
        return Response(self.output(enterprise), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("修改企业信息"), request=InputSerializer, responses={200: OutputSerializer, **WRITE_ERRORS}
    )
    def partial_update(self, request, pk=None):
        enterprise = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.InputSerializer, partial=True)
        enterprise = services.enterprise_update(actor=request.user, enterprise=enterprise, **data)
        return Response(self.output(enterprise))


# --- service stations -----------------------------------------------------------------


class StationFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, label=_("名称"))
    kind = serializers.ChoiceField(choices=ServiceStation.Kind.choices, label=_("类型"))
    address = serializers.CharField(max_length=200, label=_("地址"))
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True, label=_("纬度")
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
        label=_("经度"),
    )
    opening_hours = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("开放时间"))
    services = serializers.CharField(required=False, allow_blank=True, label=_("服务内容"))
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, label=_("联系电话"))
    is_active = serializers.BooleanField(required=False, label=_("开放中"))


@extend_schema(tags=["stations"])
class StationViewSet(ScopedViewSet):
    """Worker service stations run by organisations in the caller's reach."""

    filterset_class = ServiceStationFilter

    @extend_schema_serializer(component_name="ServiceStation")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        organization = InReachOrgField()
        name = serializers.CharField()
        kind = serializers.ChoiceField(choices=ServiceStation.Kind.choices)
        kind_label = ChoiceLabelField(ServiceStation.Kind, source="kind")
        address = serializers.CharField()
        latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
        longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
        opening_hours = serializers.CharField()
        services = serializers.CharField()
        phone = serializers.CharField()
        is_active = serializers.BooleanField()
        created_at = serializers.DateTimeField()

    @extend_schema_serializer(component_name="ServiceStationCreate")
    class InputSerializer(StationFieldsSerializer):
        organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("主办工会"))

    @extend_schema_serializer(component_name="ServiceStationUpdate")
    class UpdateInputSerializer(StationFieldsSerializer):
        pass

    output_serializer = OutputSerializer
    input_serializers = {"create": InputSerializer, "partial_update": UpdateInputSerializer}

    def get_queryset(self):
        return selectors.stations_for_user(self.request.user)

    @extend_schema(summary=_("服务站点列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("服务站点详情"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("新建服务站点"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        station = services.station_create(actor=request.user, **data)
        return Response(self.output(station), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("修改服务站点（停用：is_active=false）"),
        request=UpdateInputSerializer,
        responses={200: OutputSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        station = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.UpdateInputSerializer, partial=True)
        station = services.station_update(actor=request.user, station=station, **data)
        return Response(self.output(station))


# --- officers -------------------------------------------------------------------------


class OfficerFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, label=_("姓名"))
    position = serializers.ChoiceField(choices=Officer.Position.choices, label=_("职务"))
    term_start = serializers.DateField(label=_("任期开始"))
    term_end = serializers.DateField(required=False, allow_null=True, label=_("任期结束"))
    election = serializers.ChoiceField(choices=Officer.Election.choices, label=_("产生方式"))
    is_full_time = serializers.BooleanField(required=False, label=_("专职"))

    def validate(self, attrs):
        # Checked here too so the message names the field; the database constraint
        # (officer_term_order) remains the guarantee.
        start = attrs.get("term_start", getattr(self.instance, "term_start", None))
        end = attrs.get("term_end", getattr(self.instance, "term_end", None))
        if start and end and end < start:
            raise serializers.ValidationError({"term_end": _("任期结束日期不能早于任期开始日期，请核对。")})
        return attrs


@extend_schema(tags=["officers"])
class OfficerViewSet(ScopedViewSet):
    """Union officers of organisations in the caller's reach."""

    filterset_class = OfficerFilter

    @extend_schema_serializer(component_name="Officer")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        organization = InReachOrgField()
        name = serializers.CharField()
        position = serializers.ChoiceField(choices=Officer.Position.choices)
        position_label = ChoiceLabelField(Officer.Position, source="position")
        term_start = serializers.DateField()
        term_end = serializers.DateField(allow_null=True)
        election = serializers.ChoiceField(choices=Officer.Election.choices)
        election_label = ChoiceLabelField(Officer.Election, source="election")
        is_full_time = serializers.BooleanField()
        created_at = serializers.DateTimeField()

    @extend_schema_serializer(component_name="OfficerCreate")
    class InputSerializer(OfficerFieldsSerializer):
        organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("所属工会"))

    @extend_schema_serializer(component_name="OfficerUpdate")
    class UpdateInputSerializer(OfficerFieldsSerializer):
        pass

    output_serializer = OutputSerializer
    input_serializers = {"create": InputSerializer, "partial_update": UpdateInputSerializer}

    def get_queryset(self):
        return selectors.officers_for_user(self.request.user)

    @extend_schema(summary=_("工会干部列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    @extend_schema(summary=_("工会干部详情"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))

    @extend_schema(
        summary=_("登记工会干部"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        officer = services.officer_create(actor=request.user, **data)
        return Response(self.output(officer), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("修改工会干部（卸任：填写 term_end）"),
        request=UpdateInputSerializer,
        responses={200: OutputSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        officer = self.get_in_reach(self.get_queryset(), pk)
        data = self.valid_input(self.UpdateInputSerializer, instance=officer, partial=True)
        officer = services.officer_update(actor=request.user, officer=officer, **data)
        return Response(self.output(officer))


# --- role assignments -----------------------------------------------------------------


def role_manage_scope(user) -> Q:
    """Where `user` may manage roles: the reach of role.manage (scoping.scope_q, the one rule).

    Narrower than the view reach: a clerk of a district who is also an admin of one street
    sees the street's assignments, not the district's. 403 when they may manage roles nowhere.
    """
    if not has_capability_anywhere(user, roles.ROLE_MANAGE):
        raise PermissionDenied(_("您的角色没有管理授权的权限。"))
    return scope_q(user, "organization__path", roles.ROLE_MANAGE)


@extend_schema_serializer(component_name="StaffUserRef")
class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()


@extend_schema(tags=["roles"])
class RoleAssignmentViewSet(ScopedViewSet):
    """Staff role assignments, for holders of the role.manage capability."""

    filterset_class = RoleAssignmentFilter

    @extend_schema_serializer(component_name="RoleAssignment")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        user = UserRefSerializer()
        organization = InReachOrgField()
        role = serializers.ChoiceField(choices=Role.choices)
        role_label = ChoiceLabelField(Role, source="role")
        created_at = serializers.DateTimeField()

    @extend_schema_serializer(component_name="RoleAssignmentCreate")
    class InputSerializer(serializers.Serializer):
        # A plain username, not a SlugRelatedField: the browsable API would otherwise list
        # every account (workers sign in with their mobile numbers) as form choices.
        user = serializers.CharField(max_length=150, label=_("用户名"))
        organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), label=_("授权的组织"))
        role = serializers.ChoiceField(choices=Role.choices, label=_("角色"))

        def validate_user(self, value: str) -> User:
            # Worker accounts answer like unknown ones: their usernames are mobile numbers.
            user = User.objects.filter(username=value, is_active=True, kind=User.Kind.STAFF).first()
            if user is None:
                raise serializers.ValidationError(
                    _("用户名“%(name)s”不存在、已停用或不是工作人员账号，请核对。") % {"name": value}
                )
            return user

    output_serializer = OutputSerializer
    input_serializers = {"create": InputSerializer}

    def get_queryset(self):
        return selectors.role_assignments_for_user(self.request.user)

    def _get(self, pk) -> RoleAssignment:
        assignment = self.get_in_reach(self.get_queryset(), pk)
        services.require(self.request.user, roles.ROLE_MANAGE, assignment.organization)
        return assignment

    @extend_schema(summary=_("角色授权列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        queryset = self.get_queryset().filter(role_manage_scope(request.user))
        return self.paged(self.filter_queryset(queryset))

    @extend_schema(summary=_("角色授权详情"), responses={200: OutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self._get(pk)))

    @extend_schema(summary=_("授予角色"), request=InputSerializer, responses={201: OutputSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        assignment = services.role_assign(actor=request.user, **data)
        return Response(self.output(assignment), status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("撤销角色"), responses={204: None, **DETAIL_ERRORS})
    def destroy(self, request, pk=None):
        services.role_revoke(actor=request.user, assignment=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("stations", StationViewSet, basename="station")
router.register("officers", OfficerViewSet, basename="officer")
router.register("role-assignments", RoleAssignmentViewSet, basename="role-assignment")

api_urlpatterns = router.urls
