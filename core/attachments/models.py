"""The Attachment row: who owns the file, what it is, where it lies, and whether it is gone."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedQuerySet


class Attachment(models.Model):
    """A private file attached to any scoped object; never hard-deleted by a user."""

    class ScanStatus(models.TextChoices):
        PENDING = "pending", _("待扫描")
        CLEAN = "clean", _("未发现病毒")
        INFECTED = "infected", _("发现病毒")
        NOT_SCANNED = "not_scanned", _("未扫描")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    owner = GenericForeignKey("content_type", "object_id")
    # The owner's organisation path at upload time: lets a big list (the admin, a district
    # report) be scoped by one indexed prefix match. Reads of one attachment check the
    # owner itself (selectors), so a stale copy after a transfer never widens access.
    org_path = models.CharField(max_length=255, editable=False)
    # A free code chosen by the owning domain, so it can keep its own checklist
    # ("diagnosis", "household_register", …) without a migration here.
    kind = models.CharField(_("材料类别"), max_length=40)
    original_name = models.CharField(_("文件名"), max_length=200)
    stored_name = models.CharField(max_length=100, unique=True, editable=False)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    mime_type = models.CharField(_("文件类型"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    scan_status = models.CharField(_("病毒扫描"), max_length=12, choices=ScanStatus.choices)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("删除人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deleted_reason = models.CharField(_("删除原因"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        app_label = "core"
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["-id"]
        indexes = [
            # An owner's live attachments: the one query every detail page makes.
            models.Index(
                fields=["content_type", "object_id"],
                name="attachment_owner_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["org_path", "id"], name="attachment_path_id_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
