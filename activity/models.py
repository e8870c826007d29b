"""The append-only audit log (and, later, the reminder ledger)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedQuerySet


class AuditEventQuerySet(ScopedQuerySet):
    def update(self, **kwargs):  # pragma: no cover - guard
        raise PermissionError("audit events are append-only")

    def delete(self):  # pragma: no cover - guard
        raise PermissionError("audit events are append-only; use activity.services.audit_purge_expired")


class AuditEvent(models.Model):
    """One recorded action: who did what to which object, where in the tree, and when."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=80, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    target_label = models.CharField(_("对象"), max_length=200, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("工会组织"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Copied so that scoping and retention never need a join on this ever-growing table.
    # Events with no organisation (logins, system jobs) have "" and are visible to
    # superusers only: "" is never inside a staff user's non-empty reach.
    org_path = models.CharField(max_length=255, blank=True, default="")
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["org_path", "-created_at"],
                name="audit_path_time_idx",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")
