"""The member roll: list (ids-first pages when narrowed), detail, register, update, reveal,
leave/retire and export."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.api import IdsFirstCursorPagination, ScopedPrimaryKeyRelatedField, ScopedViewSet

# Downloads answer as the pages do: attachments that no cache keeps (personal data).
from core.pages import file_response, keyset_page_by
from core.replicas import heavy_reads
from organizations.models import Enterprise, Organization
from organizations.otp import require_second_factor_for_full_data

from .. import exporter, selectors, services
from ..filters import MemberFilter
from ..models import Member
from .shared import (
    DETAIL_ERRORS,
    FILE_RESPONSE,
    READ_ERRORS,
    WRITE_ERRORS,
    MemberDetailSerializer,
    MemberOutputSerializer,
    MembershipSerializer,
    ProfileFieldsSerializer,
)


class MemberSearchPagination(IdsFirstCursorPagination):
    """A name or initials search (`?q=`) in the order of the index that serves it
    (members.selectors.SEARCH_KEYS, paged by core.pages.keyset_page_by); anything else by
    id, newest first, as every list. Ordered by id, two initials in a district of a 10M roll
    read thousands of rows to sort them (100–150 ms); in their own order, the page's rows.
    A search has `next` links only (`previous` is null): the page list goes forward."""

    def paginate_queryset(self, queryset, request, view=None):
        keys = selectors.member_search_keys(request.query_params.get("q", ""))
        self.search_next = None
        if not keys:
            return super().paginate_queryset(queryset, request, view)
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        cursor = request.query_params.get(self.cursor_query_param, "")
        page = keyset_page_by(queryset, keys=keys, cursor=cursor, size=self.page_size)
        self.search_next = page.next_cursor
        return page.rows

    def get_next_link(self):
        if self.search_next is None:
            return super().get_next_link()
        return (
            replace_query_param(self.base_url, self.cursor_query_param, self.search_next) if self.search_next else None
        )

    def get_previous_link(self):
        return super().get_previous_link() if self.search_next is None else None


@extend_schema(tags=["members"])
class MemberViewSet(ScopedViewSet):
    """The member roll within the caller's reach (through each member's current union)."""

    filterset_class = MemberFilter
    output_serializer = MemberOutputSerializer
    pagination_class = MemberSearchPagination

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

    @extend_schema_serializer(component_name="MemberCorrection")
    class CorrectInputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default="", label=_("更正原因")
        )
        name = serializers.CharField(max_length=50, required=False, label=_("姓名"))
        id_number = serializers.CharField(max_length=30, required=False, allow_blank=True, label=_("身份证号码"))
        mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, label=_("手机号码"))
        employer_name = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("工作单位"))
        employer = ScopedPrimaryKeyRelatedField(
            queryset=Enterprise.objects.filter(is_active=True),
            required=False,
            label=_("工作单位（企业名录）"),
            help_text=_(
                "企业名录中的企业 id（/api/v1/enterprises/?q=名称）；其名称成为工作单位，除非同时给出 employer_name。"
            ),
        )

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
    @heavy_reads()
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
        summary=_("更正姓名、身份证号码、手机号码或工作单位（须填原因，记录审计）"),
        request=CorrectInputSerializer,
        responses={200: MemberOutputSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        member = self._get(pk)
        data = self.valid_input(self.CorrectInputSerializer)
        services.member_correct(actor=request.user, member=member, **data)
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
        return file_response(name, content_type, body)
