"""Transfers between unions and honours."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core import selectors as core_selectors
from core.api import ChoiceLabelField, ScopedPrimaryKeyRelatedField, ScopedViewSet
from organizations.models import Organization

from .. import selectors, services
from ..filters import HonourFilter, TransferFilter
from ..models import Honour, Member, Transfer
from ..services.transfers import TRANSFER_IN_SENT
from .shared import DETAIL_ERRORS, READ_ERRORS, WRITE_ERRORS, HonourSummarySerializer, TransitionRecordSerializer


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
        created_at = serializers.DateTimeField()
        decided_at = serializers.DateTimeField(allow_null=True)

        # Both unions are named even across districts: the other side must know who asks.
        def get_from_union(self, t) -> dict:
            return {"id": t.from_union_id, "name": t.from_union.name}

        def get_to_union(self, t) -> dict:
            return {"id": t.to_union_id, "name": t.to_union.name}

    @extend_schema_serializer(component_name="TransferDetail")
    class DetailSerializer(OutputSerializer):
        # The timeline on the detail only: on a list it would cost a query per row.
        history = serializers.SerializerMethodField()

        @extend_schema_field(TransitionRecordSerializer(many=True))
        def get_history(self, t) -> list:
            return TransitionRecordSerializer(core_selectors.transition_history(t), many=True).data

    @extend_schema_serializer(component_name="TransferAsked")
    class AskedSerializer(serializers.Serializer):
        detail = serializers.CharField()

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

    @extend_schema_serializer(component_name="TransferDecline")
    class DeclineInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, label=_("不同意的理由"))

    output_serializer = OutputSerializer

    def get_queryset(self):
        return selectors.transfers_for_user(self.request.user)

    def _get(self, pk) -> Transfer:
        return self.get_in_reach(self.get_queryset(), pk)

    @extend_schema(summary=_("会员关系转接列表"), responses={200: OutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.filter_queryset(self.get_queryset()))

    def detail_output(self, pk) -> dict:
        t = self._get(pk)
        return self.DetailSerializer(t, context=self.output_context([t])).data

    @extend_schema(summary=_("转接详情"), responses={200: DetailSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.detail_output(pk))

    @extend_schema(
        summary=_("申请会员关系转接"),
        description=_(
            "转出方按会员编号（member）申请，返回 201 和转接记录。转入方按身份证号码（id_number）申请，"
            "无论该号码是否对应在册会员，均返回 202 和同一句说明：转接须经本人或原工会同意后才会出现在列表中。"
        ),
        request=InputSerializer,
        responses={201: OutputSerializer, 202: AskedSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        data = self.valid_input(self.InputSerializer)
        member = data.get("member")
        if member is None:
            services.transfer_request_by_id_number(
                actor=request.user,
                id_number=data["id_number"],
                to_union=data["to_union"],
                reason=data.get("reason", ""),
            )
            return Response({"detail": str(TRANSFER_IN_SENT)}, status=status.HTTP_202_ACCEPTED)
        t = services.transfer_request(
            actor=request.user, member=member, to_union=data["to_union"], reason=data.get("reason", "")
        )
        return Response(self.output(t), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("接收转入"), request=DecisionInputSerializer, responses={200: DetailSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.DecisionInputSerializer)
        services.transfer_accept(actor=request.user, transfer=t, note=data.get("note", ""))
        return Response(self.detail_output(pk))

    @extend_schema(
        summary=_("拒绝转入"), request=RejectInputSerializer, responses={200: DetailSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.RejectInputSerializer)
        services.transfer_reject(actor=request.user, transfer=t, reason=data["reason"])
        return Response(self.detail_output(pk))

    @extend_schema(
        summary=_("撤回转接申请"), request=DecisionInputSerializer, responses={200: DetailSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.DecisionInputSerializer)
        services.transfer_cancel(actor=request.user, transfer=t, note=data.get("note", ""))
        return Response(self.detail_output(pk))

    @extend_schema(
        summary=_("转出工会同意转接"),
        description=_("转入方发起的转接，须经会员本人或转出工会同意后，转入工会才能接收。"),
        request=DecisionInputSerializer,
        responses={200: DetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def agree(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.DecisionInputSerializer)
        services.transfer_consent(actor=request.user, transfer=t, note=data.get("note", ""))
        return Response(self.detail_output(pk))

    @extend_schema(
        summary=_("转出工会不同意转接"),
        request=DeclineInputSerializer,
        responses={200: DetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        t = self._get(pk)
        data = self.valid_input(self.DeclineInputSerializer)
        services.transfer_decline(actor=request.user, transfer=t, reason=data["reason"])
        return Response(self.detail_output(pk))


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
