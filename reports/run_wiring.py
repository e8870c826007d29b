"""Start-up wiring of the report runs and the operations view (called from ReportsConfig.ready)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "report.requested": _("申请生成统计报表"),
    "report.rerun": _("重新生成统计报表"),
    "report.generated": _("统计报表已生成"),
    "report.downloaded": _("下载统计报表"),
    "report.redispatched": _("重新派发统计报表（消息丢失或工作进程中断）"),
    "operations.task_retried": _("重新提交后台任务"),
    "operations.outbox_resent": _("发送待发送的后台任务"),
}
AREAS = {"operations": _("运行监控")}


def wire_report_runs() -> None:
    from core.audit import register_action_labels
    from organizations.services import register_path_copy

    from . import tasks  # noqa: F401  registers the tasks that runs.py sends by name
    from .models import ReportRun
    from .operations import connect_signals

    register_action_labels(ACTION_LABELS, areas=AREAS)
    # Moving an organisation rewrites the run's copy of its path (the scope of its files).
    register_path_copy(ReportRun, "org_path")
    connect_signals()
    # Notification deliveries (activity.Delivery, the notify side's model) that failed show on
    # the operations view; without that model (an older activity app) nothing is registered.
    from .operations import delivery_failures, delivery_model, register_failure_source

    if delivery_model() is not None:
        register_failure_source(_("消息发送失败（邮件、短信、站内）"), delivery_failures)
