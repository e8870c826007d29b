"""Models every domain shares: the task outbox, transition history, approval chains, attachments."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .attachments.models import Attachment


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk update and delete refused: these rows are evidence, like the audit log."""

    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are append-only")


class TransitionRecord(AppendOnlyModel):
    """One state change of any object: who moved it from which state to which, when and why.

    Written by core.states.transition in the same transaction as the change, never edited.
    The object's timeline reads these rows; the audit log keeps its own event besides.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=40)
    from_state = models.CharField(_("原状态"), max_length=30)
    to_state = models.CharField(_("新状态"), max_length=30)
    # Labels as shown at the time: a later rename of a state must not rewrite history.
    from_label = models.CharField(max_length=60, blank=True)
    to_label = models.CharField(max_length=60, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    # A default, not auto_now_add, so that history carried over from older records keeps its time.
    at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    # Copied from the object so history can be scoped without a join to its table.
    org_path = models.CharField(max_length=255, blank=True, default="")

    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("状态变更记录")
        verbose_name_plural = _("状态变更记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="transition_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.from_state}→{self.to_state}"


# --- approval chains ---------------------------------------------------------------------


class ApprovalChain(models.Model):
    """One version of a named approval chain (e.g. "aid.grant" v3). Versions are never edited
    once a run uses them: a new version is a new row, and runs keep the version they began with."""

    code = models.CharField(_("流程代码"), max_length=60)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=120, blank=True)
    effective_from = models.DateField(_("生效日期"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="approval_chain_version_unique")]

    def __str__(self) -> str:
        return f"{self.name or self.code} v{self.version}"


class ApprovalStep(models.Model):
    """A step of a chain: who may decide (capability held at a level of the object's org path)
    and how many of them must approve (any one, all who decide, or N of them)."""

    class Rule(models.TextChoices):
        ANY = "any", _("任一人同意")
        ALL = "all", _("全部同意")
        N_OF = "n_of", _("N 人同意")

    chain = models.ForeignKey(ApprovalChain, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("步骤名称"), max_length=60)
    capability = models.CharField(_("所需权限"), max_length=60)
    # Depth in the org tree (1 = city, 2 = district, …) where the approver must hold the
    # capability over the object; null = at the object's own organisation (or above).
    org_depth = models.PositiveSmallIntegerField(_("审批层级"), null=True, blank=True)
    rule = models.CharField(_("规则"), max_length=8, choices=Rule.choices, default=Rule.ANY)
    # ALL: how many approvals complete the step (the approvers named for it); N_OF: N.
    required = models.PositiveSmallIntegerField(_("所需同意人数"), default=1)

    class Meta:
        verbose_name = _("审批步骤")
        verbose_name_plural = _("审批步骤")
        ordering = ["chain", "order"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "order"], name="approval_step_order_unique"),
            models.CheckConstraint(condition=Q(required__gte=1), name="approval_step_required_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.chain} #{self.order} {self.name}"


class ApprovalRun(models.Model):
    """One pass of an object through a chain version (pinned when it starts)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("审批中")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")
        RETURNED = "returned", _("已退回")
        CANCELLED = "cancelled", _("已撤回")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=40)
    chain = models.ForeignKey(ApprovalChain, on_delete=models.PROTECT, related_name="runs")
    current_step = models.ForeignKey(ApprovalStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    org_path = models.CharField(max_length=255, blank=True, default="")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="approval_run_object_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], condition=Q(status="running"), name="approval_run_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.chain} {self.content_type_id}:{self.object_id} {self.status}"


class ApprovalDecision(AppendOnlyModel):
    """One approver's decision on one step of a run. Never edited: a changed mind is a new run."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("同意")
        REJECT = "reject", _("不同意")
        RETURN = "return", _("退回")

    run = models.ForeignKey(ApprovalRun, on_delete=models.PROTECT, related_name="decisions")
    step = models.ForeignKey(ApprovalStep, on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("意见"), max_length=8, choices=Decision.choices)
    opinion = models.CharField(_("审批意见"), max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("审批意见")
        verbose_name_plural = _("审批意见")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step", "approver"], name="approval_decision_once"),
        ]

    def __str__(self) -> str:
        return f"{self.approver_id} {self.decision}"


class TaskOutbox(models.Model):
    """A Celery task whose enqueue failed (broker down), waiting to be sent again.

    Rows are written by core.outbox.enqueue and claimed (deleted) by
    resend_outbox, which runs every minute and whenever a worker starts.
    """

    task_name = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("位置参数"), default=list, blank=True)
    kwargs = models.JSONField(_("关键字参数"), default=dict, blank=True)
    created_at = models.DateTimeField(_("首次排队时间"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("发送尝试次数"), default=1)
    last_error = models.CharField(_("最近一次错误"), max_length=500, blank=True)

    class Meta:
        # The table keeps the name it had when the model lived in activity.
        db_table = "activity_taskoutbox"
        verbose_name = _("待发送的后台任务")
        verbose_name_plural = _("待发送的后台任务")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


__all__ = [
    "ApprovalChain",
    "ApprovalDecision",
    "ApprovalRun",
    "ApprovalStep",
    "AppendOnlyModel",
    "Attachment",
    "TaskOutbox",
    "TransitionRecord",
]
