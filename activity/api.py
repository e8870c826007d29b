"""REST API of the audit log: a read-only, scoped, filterable list of audit events."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from core.api import DefaultCursorPagination, error_responses
from core.audit import action_label
from core.roles import AUDIT_VIEW
from core.scoping import has_capability_anywhere
from organizations.api_fields import InReachOrgField
from organizations.models import Organization

from .models import AuditEvent
from .selectors import audit_events_for_user


class AuditEventPagination(DefaultCursorPagination):
    """Newest first, keyset on created_at (served by the (org_path, -created_at) index)."""

    ordering = "-created_at"


@extend_schema(tags=["audit"])
class AuditEventViewSet(viewsets.GenericViewSet):
    """Audit events in the caller's reach, for roles that may read the audit log."""

    pagination_class = AuditEventPagination
    filter_backends: list = []  # filtering is the selector's job, fed by FilterSerializer

    class FilterSerializer(serializers.Serializer):
        action = serializers.CharField(required=False, help_text=_("操作代码前缀，如 organization. 或 role.assigned"))
        target_type = serializers.CharField(required=False, help_text=_("对象类型，如 organizations.enterprise"))
        actor = serializers.CharField(required=False, help_text=_("操作人（用户名包含）"))
        date_from = serializers.DateField(required=False, help_text=_("起始日期（含）"))
        date_to = serializers.DateField(required=False, help_text=_("截止日期（含）"))
        under = serializers.IntegerField(required=False, help_text=_("只看该组织及其下级的事件（组织编号）"))

        def validate(self, attrs):
            if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
                raise serializers.ValidationError({"date_to": _("截止日期不能早于起始日期，请调整。")})
            return attrs

    @extend_schema_serializer(component_name="AuditEvent")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        actor = serializers.CharField(source="actor_label", help_text=_("操作人用户名（账号删除后仍保留）"))
        action = serializers.CharField(help_text=_("操作代码，如 organization.moved"))
        action_label = serializers.SerializerMethodField(help_text=_("操作名称，如“移动组织”"))
        target_type = serializers.CharField()
        target_id = serializers.CharField()
        target_label = serializers.CharField()
        organization = InReachOrgField(allow_null=True)
        ip_address = serializers.IPAddressField(allow_null=True)
        data = serializers.JSONField()

        def get_action_label(self, event) -> str:
            return action_label(event.action)

    serializer_class = OutputSerializer

    def get_queryset(self):
        return audit_events_for_user(self.request.user)

    @extend_schema(
        summary=_("审计日志"),
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **error_responses(400, 403)},
    )
    def list(self, request):
        if not has_capability_anywhere(request.user, AUDIT_VIEW):
            raise PermissionDenied(_("您的角色不能查看审计日志。"))
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = dict(filters.validated_data)
        under = params.pop("under", None)
        if under is not None:
            # Looked up inside the audit reach: an organisation elsewhere yields nothing, silently.
            path = (
                Organization.objects.for_user(request.user, AUDIT_VIEW)
                .filter(pk=under)
                .values_list("path", flat=True)
                .first()
            )
            if path is None:
                return self.paged(AuditEvent.objects.none())
            params["under_path"] = path
        return self.paged(audit_events_for_user(request.user, **params))

    def paged(self, queryset):
        page = self.paginate_queryset(queryset)
        data = self.OutputSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


router = SimpleRouter()
router.register("audit-events", AuditEventViewSet, basename="audit-event")

api_urlpatterns = router.urls
