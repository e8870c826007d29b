"""REST API of the audit log: a read-only, scoped, filterable list of audit events."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api import DefaultCursorPagination, ScopedViewSet, error_responses
from core.audit import action_label
from core.roles import AUDIT_VIEW
from core.scoping import has_capability_anywhere, is_staff_user
from organizations.api_fields import InReachOrgField
from organizations.models import Organization

from .inbox import forget_unread
from .models import AuditEvent
from .selectors import audit_events_for_user, notifications_for, unread_count
from .services import notification_mark_all_read, notification_mark_read


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


# --- notifications: the caller's own inbox ------------------------------------------------


class IsInboxUser(permissions.BasePermission):
    """Staff and workers alike read their own inbox (and nobody else's)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (getattr(user, "is_worker", False) or is_staff_user(user)))


class NotificationPagination(DefaultCursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema(tags=["notifications"])
class NotificationViewSet(ScopedViewSet):
    """The caller's own messages: reminders and notices; mark one or all read; the unread count."""

    permission_classes = [IsInboxUser]
    pagination_class = NotificationPagination
    filter_backends: list = []

    class FilterSerializer(serializers.Serializer):
        unread = serializers.BooleanField(required=False, default=False, help_text=_("只列未读消息"))

    @extend_schema_serializer(component_name="Notification")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField(help_text=_("提醒类型代码，如 disputes.case_overdue"))
        title = serializers.CharField()
        body = serializers.CharField()
        url = serializers.CharField(help_text=_("相关对象的页面（站内路径）"))
        target_type = serializers.CharField()
        target_id = serializers.CharField()
        created_at = serializers.DateTimeField()
        read_at = serializers.DateTimeField(allow_null=True)

    class CountSerializer(serializers.Serializer):
        unread = serializers.IntegerField(help_text=_("未读消息数（最多计到 100）"))

    class ReadAllSerializer(serializers.Serializer):
        marked = serializers.IntegerField(help_text=_("本次标为已读的条数"))

    output_serializer = OutputSerializer

    def get_queryset(self):
        return notifications_for(self.request.user)

    @extend_schema(
        summary=_("我的消息"),
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def list(self, request):
        query = self.valid_query(self.FilterSerializer)
        return self.paged(notifications_for(request.user, unread_only=query["unread"]))

    @extend_schema(summary=_("一条消息"), responses={200: OutputSerializer, **error_responses(401, 403, 404)})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(notifications_for(request.user), pk)))

    @extend_schema(
        summary=_("标为已读"), request=None, responses={200: OutputSerializer, **error_responses(401, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_in_reach(notifications_for(request.user), pk)
        notification_mark_read(user=request.user, notification=notification)
        forget_unread(request.user)
        return Response(self.output(notification))

    @extend_schema(
        summary=_("全部标为已读"), request=None, responses={200: ReadAllSerializer, **error_responses(401, 403)}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = notification_mark_all_read(user=request.user)
        forget_unread(request.user)
        return Response({"marked": marked})

    @extend_schema(summary=_("未读消息数"), responses={200: CountSerializer, **error_responses(401, 403)})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": unread_count(request.user)})


router.register("notifications", NotificationViewSet, basename="notification")
api_urlpatterns = router.urls
