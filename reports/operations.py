"""The operations view's reads and writes: task runs, worker and beat health, queues, retries.

Every task run on a worker is recorded by Celery's signals (connected in
ReportsConfig.ready) into reports.models.TaskRun: the last run of every scheduled task and
the failures come from there. A failed run's retry re-sends the same task with the same
arguments through core.outbox (so a broker outage keeps it in the outbox, not lost); tasks
are idempotent, so a retry of something that half-ran is harmless.

Health, without asking the worker anything that could hang the page:
- the worker: when a task last ran (the beat's heartbeat task runs every minute);
- beat: when its heartbeat task last ran, or django-celery-beat's PeriodicTask.last_run_at
  (saved only every few minutes), whichever is later;
- on Redis, also a `ping` to the workers with a one-second timeout and the queue lengths
  (LLEN); on the embedded filesystem broker, the number of message files waiting.

The operations view is for superusers only: the queues and tasks are the whole
installation's, not a subtree's, so no role's reach fits them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.errors import DomainError
from core.models import TaskOutbox
from core.outbox import enqueue, resend_outbox

from .models import TaskRun

logger = logging.getLogger(__name__)
KEEP_RUNS = dt.timedelta(days=14)
ALIVE_WITHIN = dt.timedelta(minutes=3)  # the heartbeat runs every minute
HEARTBEAT_TASK = "reports.tasks.heartbeat"


def require_operator(user) -> None:
    if not (user.is_authenticated and user.is_superuser):
        raise PermissionDenied(_("运行监控只对系统管理员开放。"))


# --- recording task runs (Celery signals) ----------------------------------------------------


def _jsonable(value):
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _is_eager(task) -> bool:
    return bool(getattr(getattr(task, "request", None), "is_eager", False))


def on_task_prerun(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra):
    if task is None or _is_eager(task) or not task_id:
        return
    try:
        TaskRun.objects.update_or_create(
            task_id=task_id,
            defaults={
                "task_name": task.name[:200],
                "args": _jsonable(list(args or [])),
                "kwargs": _jsonable(dict(kwargs or {})),
                "status": TaskRun.Status.RUNNING,
                "worker": str(getattr(task.request, "hostname", "") or "")[:200],
                "started_at": timezone.now(),
                "finished_at": None,
                "error": "",
            },
        )
    except Exception:  # recording must never break the task itself
        logger.exception("Could not record the start of task %s", task_id)


def on_task_postrun(sender=None, task_id=None, task=None, state=None, **extra):
    if task is None or _is_eager(task) or not task_id:
        return
    status = {
        "SUCCESS": TaskRun.Status.SUCCEEDED,
        "FAILURE": TaskRun.Status.FAILED,
        "RETRY": TaskRun.Status.RETRYING,
    }.get(state or "", TaskRun.Status.FAILED)
    try:
        TaskRun.objects.filter(task_id=task_id).update(status=status, finished_at=timezone.now())
    except Exception:
        logger.exception("Could not record the end of task %s", task_id)


def on_task_failure(sender=None, task_id=None, exception=None, **extra):
    if sender is None or _is_eager(sender) or not task_id:
        return
    try:
        TaskRun.objects.filter(task_id=task_id).update(
            status=TaskRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{exception.__class__.__name__}: {exception}"[:2000],
        )
    except Exception:
        logger.exception("Could not record the failure of task %s", task_id)


def connect_signals() -> None:
    from celery.signals import task_failure, task_postrun, task_prerun

    task_prerun.connect(on_task_prerun, dispatch_uid="reports-taskrun-prerun")
    task_postrun.connect(on_task_postrun, dispatch_uid="reports-taskrun-postrun")
    task_failure.connect(on_task_failure, dispatch_uid="reports-taskrun-failure")


def heartbeat_beat() -> dict:
    """Trim the run records (two weeks kept); the heartbeat's own run is the worker's sign of life."""
    purged, _detail = TaskRun.objects.filter(started_at__lt=timezone.now() - KEEP_RUNS).delete()
    return {"purged": purged}


# --- health and queues ---------------------------------------------------------------------


@dataclass
class Health:
    broker: str  # "redis" | "filesystem" | other scheme
    worker_seen_at: dt.datetime | None
    beat_seen_at: dt.datetime | None
    workers: list[str] | None  # ping answers (Redis only); None when not asked
    queues: dict[str, int | None]
    note: str = ""

    @property
    def worker_ok(self) -> bool:
        if self.workers:
            return True
        return self.worker_seen_at is not None and timezone.now() - self.worker_seen_at < ALIVE_WITHIN

    @property
    def beat_ok(self) -> bool:
        return self.beat_seen_at is not None and timezone.now() - self.beat_seen_at < ALIVE_WITHIN


def _broker_scheme() -> str:
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    return url.split("://", 1)[0] if "://" in url else url


def _queue_names() -> list[str]:
    from celery import current_app

    names = {current_app.conf.task_default_queue or "celery"}
    names.update(queue.name for queue in current_app.conf.task_queues or ())
    return sorted(names)


def queue_lengths() -> tuple[dict[str, int | None], str]:
    """{queue: messages waiting}, and a note on what could not be known."""
    scheme = _broker_scheme()
    names = _queue_names()
    if scheme in ("redis", "rediss", "sentinel"):
        from celery import current_app

        try:
            # Through kombu, so a broker reached by Sentinel is asked at its current primary.
            with current_app.connection_for_read() as connection:
                connection.ensure_connection(max_retries=1, timeout=1)
                client = connection.default_channel.client  # redis-py, at the current primary
                return {name: int(client.llen(name)) for name in names}, ""
        except Exception as exc:
            return {name: None for name in names}, _("无法连接 Redis：%(error)s") % {"error": exc}
    if scheme == "filesystem":
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
        try:
            waiting = sum(1 for p in folder.iterdir() if p.suffix == ".msg")
        except OSError:
            waiting = None
        return {"filesystem": waiting}, _(
            "内置文件队列（未配置 Redis）：显示等待处理的消息文件数，不分队列；工作进程状态以最近一次任务运行时间判断。"
        )
    return {name: None for name in names}, _("当前消息队列（%(scheme)s）不支持查询长度。") % {"scheme": scheme}


def _ping_workers() -> list[str] | None:
    if _broker_scheme() not in ("redis", "rediss", "sentinel"):
        return None
    from celery import current_app

    try:
        answers = current_app.control.ping(timeout=1.0) or []
    except Exception:
        return []
    return sorted(name for answer in answers for name in answer)


def health(*, ping: bool = True) -> Health:
    from django.db.models import Max
    from django_celery_beat.models import PeriodicTask

    last = TaskRun.objects.order_by("-started_at").values_list("started_at", flat=True).first()
    # django-celery-beat saves last_run_at only every few minutes; the heartbeat task, which
    # only beat sends, is the fresher sign.
    beat_saved = PeriodicTask.objects.aggregate(at=Max("last_run_at"))["at"]
    beat_sent = (
        TaskRun.objects.filter(task_name=HEARTBEAT_TASK)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    beat = max((t for t in (beat_saved, beat_sent) if t is not None), default=None)
    queues, note = queue_lengths()
    return Health(
        broker=_broker_scheme(),
        worker_seen_at=last,
        beat_seen_at=beat,
        workers=_ping_workers() if ping else None,
        queues=queues,
        note=note,
    )


@dataclass
class Scheduled:
    key: str
    task_name: str
    schedule: str
    last: TaskRun | None
    last_sent_at: dt.datetime | None
    enabled: bool


def _schedule_text(schedule) -> str:
    """A crontab as its five fields ("30 1 1 * *"); anything else as Celery prints it."""
    fields = ("_orig_minute", "_orig_hour", "_orig_day_of_month", "_orig_month_of_year", "_orig_day_of_week")
    if all(hasattr(schedule, f) for f in fields):
        return " ".join(str(getattr(schedule, f)) for f in fields)
    return str(schedule)


def scheduled_tasks() -> list[Scheduled]:
    """Every entry of the beat schedule (unionportal/celery.py) with its last run and result."""
    from celery import current_app
    from django_celery_beat.models import PeriodicTask

    beat = {p.name: p for p in PeriodicTask.objects.all()}
    out = []
    for key, entry in sorted(current_app.conf.beat_schedule.items()):
        name = entry["task"]
        periodic = beat.get(key)
        out.append(
            Scheduled(
                key=key,
                task_name=name,
                schedule=_schedule_text(entry.get("schedule", "")),
                last=TaskRun.objects.filter(task_name=name).order_by("-started_at").first(),
                last_sent_at=periodic.last_run_at if periodic else None,
                enabled=periodic.enabled if periodic else True,
            )
        )
    return out


def failures(limit: int = 50):
    return TaskRun.objects.filter(status=TaskRun.Status.FAILED).order_by("-started_at")[:limit]


def outbox_rows(limit: int = 100):
    return TaskOutbox.objects.order_by("id")[:limit]


# Other failures worth an operator's eye (e.g. notification deliveries that gave up):
# callables (limit) -> list of dicts {"at", "what", "error", "attempts"}, with a title.
FAILURE_SOURCES: list[tuple[str, Callable[[int], list[dict]]]] = []


def register_failure_source(title: str, source: Callable[[int], list[dict]]) -> None:
    if all(s is not source for _t, s in FAILURE_SOURCES):
        FAILURE_SOURCES.append((title, source))


def delivery_model():
    """activity's Delivery (notifications by e-mail/SMS/inbox, with status and last error), if installed."""
    from django.apps import apps

    try:
        return apps.get_model("activity", "Delivery")
    except LookupError:
        return None


def delivery_failures(limit: int = 50) -> list[dict]:
    """Notification deliveries that failed, or that failed at least once and wait for their bounded retry."""
    from django.db.models import Q

    model = delivery_model()
    if model is None:
        return []
    rows = (
        model.objects.filter(Q(status="failed") | Q(status__in=["pending", "sending"], attempts__gt=0))
        .exclude(last_error="")
        .select_related("reminder", "recipient")
        .order_by("-updated_at")[:limit]
    )
    return [
        {
            "at": d.updated_at,
            "what": f"{d.get_channel_display()} → {d.recipient}：{d.reminder.title}（{d.get_status_display()}）",
            "error": d.last_error,
            "attempts": d.attempts,
        }
        for d in rows
    ]


def other_failures(limit: int = 50) -> list[tuple[str, list[dict]]]:
    out = []
    for title, source in FAILURE_SOURCES:
        try:
            out.append((title, source(limit)))
        except Exception as exc:
            logger.exception("Failure source %s could not be read", title)
            out.append((title, [{"at": None, "what": title, "error": str(exc), "attempts": None}]))
    return out


# --- writes ------------------------------------------------------------------------------


@transaction.atomic
def task_run_retry(*, actor, run: TaskRun) -> TaskRun:
    """Send a failed task again with its arguments (through the outbox if the broker is down)."""
    require_operator(actor)
    run = TaskRun.objects.select_for_update().get(pk=run.pk)
    if run.status != TaskRun.Status.FAILED:
        raise DomainError(_("只有失败的任务可以重新提交。"))
    if run.retried_at is not None:
        raise DomainError(_("该任务已重新提交过，请查看它最新一次的运行结果。"))
    args = run.args if isinstance(run.args, list) else []
    kwargs = run.kwargs if isinstance(run.kwargs, dict) else {}
    enqueue(run.task_name, *args, **kwargs)
    run.retried_at = timezone.now()
    run.save(update_fields=["retried_at"])
    log_action(actor=actor, action="operations.task_retried", data={"task": run.task_name, "task_id": run.task_id})
    return run


def outbox_resend(*, actor) -> int:
    """Send the outbox's tasks now instead of waiting for the next minute."""
    require_operator(actor)
    sent = resend_outbox()
    log_action(actor=actor, action="operations.outbox_resent", data={"sent": sent})
    return sent
