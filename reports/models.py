"""Summary tables behind the statistics and the dashboard.

At city scale no page counts a subtree live: a Celery refresh (reports.tasks) groups every
source table once by organisation and month and writes one row per (organisation, month)
holding that subtree's figures (already summed over all its descendants), for every
organisation of the tree. Database triggers mark each change's (path, month) in
StatisticsMark, and a task every minute recounts only the marked organisations and their
ancestors (reports.summaries.statistics_follow).

ReportRun (the monthly and yearly report files of a subtree) and TaskRun (the record of
task runs for the operations view) belong to reports/runs.py and reports/operations.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedQuerySet
from organizations.models import Organization


class MonthlyFigures(models.Model):
    """One organisation's subtree figures for one month (keys: reports.summaries.METRICS)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    month = models.DateField(_("月份"))  # the first day of the month
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(_("统计时间"))

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("月度统计汇总")
        verbose_name_plural = _("月度统计汇总")
        constraints = [models.UniqueConstraint(fields=["organization", "month"], name="stats_month_once")]
        indexes = [
            models.Index(
                fields=["org_path", "month"], name="stats_month_path_idx", opclasses=["varchar_pattern_ops", "date_ops"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.month:%Y-%m}"


class StatisticsRefresh(models.Model):
    """The last summary refresh (one row): when it started and finished, and what it covered."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    first_month = models.DateField(_("起始月份"))
    rows = models.PositiveIntegerField(_("行数"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    # Start of the last run of the dirty-mark refresh that consumed every mark it found: every
    # change committed before this moment is in the figures (reports.summaries.statistics_follow).
    followed_at = models.DateTimeField(_("跟进时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("统计汇总刷新")
        verbose_name_plural = _("统计汇总刷新")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"


class StatisticsMark(models.Model):
    """A (path, month) whose figures changed since the last refresh: the dirty-mark refresh's work list.

    Written by database triggers on every source table (reports/marks.py) in the writing
    transaction itself, whatever wrote the row (a service, an import's COPY, the admin);
    `version` goes up when the same (path, month) is marked again, so a refresh deletes only
    the marks it read unchanged and a mark made while it ran survives.
    """

    org_path = models.CharField(max_length=255)
    month = models.DateField()  # the earliest month the change touches (later months follow)
    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = _("统计待更新标记")
        verbose_name_plural = _("统计待更新标记")
        constraints = [models.UniqueConstraint(fields=["org_path", "month"], name="stats_mark_once")]

    def __str__(self) -> str:
        return f"{self.org_path} {self.month:%Y-%m}"


class ReportRun(models.Model):
    """One report of one organisation's subtree for one period: its progress and its files.

    At most one row per (organisation, kind, period): asking again returns it, a rerun
    builds new files and swaps them in atomically (the old ones stay until the swap).
    """

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月报")
        YEARLY = "yearly", _("年报")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("生成失败")

    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="report_runs"
    )
    org_path = models.CharField(max_length=255, editable=False)
    kind = models.CharField(_("报表类型"), max_length=8, choices=Kind.choices)
    period_start = models.DateField(_("统计期间起"))
    period_end = models.DateField(_("统计期间止"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(max_length=16, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    # Bumped by every rerun: a task carries the generation it was sent for, so a late
    # copy of an old task (a redelivery, the outbox) finds itself stale and does nothing.
    generation = models.PositiveIntegerField(default=1)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the build task was last sent, and how often the lost-message sweep re-sent it
    # (reports.runs.report_runs_redispatch; the operations view shows both).
    dispatched_at = models.DateTimeField(_("最近派发时间"), null=True, blank=True)
    redispatches = models.PositiveSmallIntegerField(_("重新派发次数"), default=0)
    # Paths in private storage (core.attachments.storage), relative to PRIVATE_FILES_ROOT.
    xlsx_path = models.CharField(max_length=255, blank=True)
    pdf_path = models.CharField(max_length=255, blank=True)
    xlsx_size = models.PositiveIntegerField(default=0)
    pdf_size = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)  # headline figures for the pages
    message = models.TextField(_("说明"), blank=True)
    scheduled = models.BooleanField(_("定时生成"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("统计报表")
        verbose_name_plural = _("统计报表")
        ordering = ["-period_start", "org_path", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "period_start"], name="reportrun_one_per_period")
        ]
        indexes = [
            models.Index(
                fields=["org_path", "id"], name="reportrun_path_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
            # The sweep's look-up every minute: only unfinished runs, however many reports exist.
            models.Index(
                fields=["dispatched_at"],
                name="reportrun_unfinished_idx",
                condition=models.Q(status__in=["pending", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name} {self.period_label}{self.get_kind_display()}"

    @property
    def period_label(self) -> str:
        if self.kind == self.Kind.YEARLY:
            return f"{self.period_start:%Y}年"
        return f"{self.period_start:%Y年%m月}"

    @property
    def period_code(self) -> str:
        return f"{self.period_start:%Y}" if self.kind == self.Kind.YEARLY else f"{self.period_start:%Y-%m}"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class TaskRun(models.Model):
    """One run of a Celery task on a worker, recorded by Celery's signals (reports/operations.py).

    The operations view reads the last run of every scheduled task and the failures from
    here; a failure's retry re-sends the same task with the same arguments.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")
        RETRYING = "retrying", _("等待重试")

    task_name = models.CharField(_("任务"), max_length=200)
    task_id = models.CharField(max_length=64, unique=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    worker = models.CharField(_("工作进程"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    retried_at = models.DateTimeField(_("重新提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务运行记录")
        verbose_name_plural = _("后台任务运行记录")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["task_name", "-started_at"], name="taskrun_name_idx"),
            models.Index(fields=["status", "-started_at"], name="taskrun_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.get_status_display()}"
