"""The worker's own member record (self-service)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ChoiceLabelField, error_responses

from .. import selectors, services
from ..models import EmploymentForm, Member, Transfer
from .shared import HonourSummarySerializer


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
        # A browser session making the change stays signed in; tokens (this one too) are revoked.
        session = getattr(request._request, "session", None) if request.auth is None else None
        services.member_update_contact(
            actor=request.user,
            member=member,
            keep_session_key=session.session_key if session is not None else None,
            **data.validated_data,
        )
        return Response(MyMemberSerializer(self._member(request)).data)


@extend_schema_serializer(component_name="MyTransfer")
class MyTransferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_union = serializers.CharField(source="from_union.name")
    to_union = serializers.CharField(source="to_union.name")
    requested_side = serializers.ChoiceField(choices=Transfer.Side.choices)
    status = serializers.ChoiceField(choices=Transfer.Status.choices)
    status_label = ChoiceLabelField(Transfer.Status, source="status")
    created_at = serializers.DateTimeField()


@extend_schema(tags=["me"])
class MyTransfersView(APIView):
    """The signed-in worker's transfers, including requests waiting for their consent."""

    permission_classes = [IsWorker]

    @extend_schema(summary=_("我的转接"), responses={200: MyTransferSerializer(many=True), **error_responses(403, 404)})
    def get(self, request):
        if selectors.member_for_worker(request.user) is None:
            raise Http404  # a worker account with no member record, as /me/member/ answers
        rows = selectors.transfers_for_worker(request.user).order_by("-id")[:20]
        return Response(MyTransferSerializer(rows, many=True).data)


@extend_schema(tags=["me"])
class MyTransferConsentView(APIView):
    """The worker agrees to (or declines) a transfer a receiving union asked for."""

    permission_classes = [IsWorker]
    agree = True

    @extend_schema(request=None, responses={200: MyTransferSerializer, **error_responses(403, 404, 409)})
    def post(self, request, pk: int):
        t = get_object_or_404(selectors.transfers_for_worker(request.user), pk=pk)
        if self.agree:
            t = services.transfer_consent(actor=request.user, transfer=t, note=str(_("本人同意")))
        else:
            t = services.transfer_decline(actor=request.user, transfer=t, reason=str(_("本人不同意")))
        return Response(MyTransferSerializer(t).data)


@extend_schema(summary=_("同意转接"))
class MyTransferAgreeView(MyTransferConsentView):
    agree = True


@extend_schema(summary=_("拒绝转接"))
class MyTransferDeclineView(MyTransferConsentView):
    agree = False
