"""Models every domain shares: the task outbox, transition history, approval chains, attachments."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
