"""The append-only audit log, and notifications: the reminder ledger, its deliveries, the inbox, preferences."""

from django.conf import settings
from django.db import models
from django.utils import timezone
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


# --- notifications, the reminder ledger and its deliveries -------------------------------
#
# A Reminder is the ledger row of one thing somebody must be told, keyed by (object,
# kind, due date): written (unique) BEFORE anything is sent, so a sweep that runs twice,
# overlaps itself or is retried finds the row already there. Each recipient and channel
# gets one Delivery (unique per reminder, user, channel) that moves
# pending → sending → sent (or failed after a bounded number of attempts). "sending"
# carries a lease (claimed_until): a worker killed after claiming leaves a row whose
# lease runs out, and the next sweep claims and sends it, once.


class Reminder(models.Model):
    """One ledger row: this object, this kind, this due date (events use the day they happened)."""

    kind = models.CharField(_("提醒类型"), max_length=60)
    target_type = models.CharField(_("对象类型"), max_length=80)
    target_id = models.CharField(_("对象编号"), max_length=40)
    due_on = models.DateField(_("到期日"))
    org_path = models.CharField(max_length=255, blank=True, default="")
    title = models.CharField(_("标题"), max_length=200)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("提醒台账")
        verbose_name_plural = _("提醒台账")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id", "kind", "due_on"], name="reminder_once_per_due"
            ),
        ]
        indexes = [
            models.Index(
                fields=["org_path", "-created_at"],
                name="reminder_path_time_idx",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_type}:{self.target_id} {self.due_on}"


class Channel(models.TextChoices):
    IN_APP = "in_app", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("无可用地址")


class Delivery(models.Model):
    """One reminder to one user by one channel; its status, attempts and last error (the operations view reads these)."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    claimed_until = models.DateTimeField(_("占用至"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, default="")
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    org_path = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("提醒发送记录")
        verbose_name_plural = _("提醒发送记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["reminder", "recipient", "channel"], name="delivery_once_per_channel"),
        ]
        indexes = [
            # The sender's sweep: what is pending (or sending with a run-out lease), oldest first.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["org_path"], name="delivery_path_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.reminder_id}/{self.recipient_id}/{self.channel}: {self.status}"


class Notification(models.Model):
    """A message in a user's in-app inbox (the in-app channel's delivery)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="notifications"
    )
    # One notification per in-app delivery: even a send repeated after a lost lease cannot add a second.
    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="notification"
    )
    kind = models.CharField(_("类型"), max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    target_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    org_path = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_inbox_idx"),
            models.Index(fields=["recipient"], name="notif_unread_idx", condition=models.Q(read_at__isnull=True)),
            models.Index(fields=["org_path"], name="notif_path_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """Which channels besides the inbox a user wants for one kind (no row: the kind's defaults)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("提醒类型"), max_length=60)
    email = models.BooleanField(_("电子邮件"), default=False)
    sms = models.BooleanField(_("短信"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("提醒偏好")
        verbose_name_plural = _("提醒偏好")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_user_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"
