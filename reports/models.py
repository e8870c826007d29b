"""Summary tables behind the statistics and the dashboard.

At city scale no page counts a subtree live: a Celery refresh (reports.tasks) groups every
source table once by federation unit and month and writes one row per (organisation,
month) holding that subtree's figures (already summed over all its descendants), for the
organisations of the first three levels (the city, districts and industry unions,
streets/towns/parks and what hangs directly there). Deeper, smaller subtrees (a
grassroots union, a building) are counted live from the same grouping code.
"""

from __future__ import annotations

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

    class Meta:
        verbose_name = _("统计汇总刷新")
        verbose_name_plural = _("统计汇总刷新")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"
