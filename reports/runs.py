"""Report runs: ask for a report, build its files in the background, rerun, download.

- `report_request` is idempotent per (organisation, kind, period): the unique constraint
  holds one run, and asking again returns it (and its files) instead of building twice.
- `report_run_execute` (the Celery task's body) claims the run with a conditional UPDATE
  and a lease, so a duplicate or redelivered task does nothing.
- `report_runs_redispatch` (a beat sweep) sends again a run whose message was lost: one
  still pending (never claimed) a bound after it was sent, or one whose worker died (its
  lease expired). Each re-send is claimed by a conditional UPDATE of `dispatched_at`, so
  two sweeps at once send it once, and a run is sent at most once per bound.
- A rerun bumps the run's generation; the new files are written under new names and
  swapped in by one locked UPDATE, so a download always gets a whole file, old or new.
- Every figure is read through the scoping rule as a system reader (reach: everything)
  limited to the organisation's subtree: the report of a subtree is the same whoever asks,
  which is what makes one shared run per period right. Who may ask or download is checked
  against the user's own reach (report.view) in the services and selectors.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import roles
from core.attachments.storage import private_storage
from core.audit import log_action
from core.documents import XLSX_CONTENT_TYPE
from core.errors import DomainError
from core.outbox import enqueue
from core.redispatch import presumed_lost, redispatch_lost, sent_again_or_waiting
from core.replicas import heavy_reads
from organizations.models import Organization, OrgKind, User
from organizations.services import require

from . import files
from .models import ReportRun
from .periods import Period, due_periods, parse_period
from .report_data import gather

logger = logging.getLogger(__name__)
PHASES = {
    "start": gettext_lazy("正在准备"),
    "refresh": gettext_lazy("正在更新统计汇总"),
    "figures": gettext_lazy("正在读取统计数据"),
    "writing": gettext_lazy("正在写入 Excel 报表"),
    "pdf": gettext_lazy("正在生成 PDF 摘要"),
    "saving": gettext_lazy("正在保存文件"),
}
LEASE = dt.timedelta(minutes=30)
FEDERATION_KINDS = (OrgKind.CITY, OrgKind.DISTRICT, OrgKind.STREET)
S = ReportRun.Status


def system_reader() -> User:
    """The reader of scheduled and on-demand builds: reach everything, never saved.

    A run is shared by everyone who may read the organisation (a reach is a set of whole
    subtrees), so it is built once, not through any one requester's reach.
    """
    return User(username="report-builder", is_superuser=True, is_active=True, kind=User.Kind.STAFF)


REPORT_TASK = "reports.tasks.report_run_build"  # by name: tasks imports this module
MAX_ATTEMPTS = 3  # builds started (claims) before a run whose workers keep dying is given up


def redispatch_after() -> dt.timedelta:
    """How long a sent run may stay unclaimed (or a dead worker's lease expired) before it is sent again."""
    return dt.timedelta(minutes=getattr(settings, "REPORT_REDISPATCH_MINUTES", 30))


def _send(run: ReportRun) -> None:
    # dispatched_at is what the sweep measures "never claimed" from; written in the
    # caller's transaction, the message itself goes after commit (core.outbox).
    run.dispatched_at = timezone.now()
    ReportRun.objects.filter(pk=run.pk).update(dispatched_at=run.dispatched_at)
    enqueue(REPORT_TASK, run.pk, run.generation)


def _get_or_create(*, organization: Organization, period: Period, actor, scheduled: bool) -> tuple[ReportRun, bool]:
    try:
        with transaction.atomic():
            return ReportRun.objects.get_or_create(
                organization=organization,
                kind=period.kind,
                period_start=period.start,
                defaults={
                    "org_path": organization.path,
                    "period_end": period.end,
                    "requested_by": actor,
                    "scheduled": scheduled,
                    # Set now, not only when sent: a process that dies before its on-commit
                    # send leaves a run the sweep still finds.
                    "dispatched_at": timezone.now(),
                },
            )
    except IntegrityError:
        # Two requests at once: the other one's row won; return it.
        return ReportRun.objects.get(organization=organization, kind=period.kind, period_start=period.start), False


def report_request(*, actor: User, organization: Organization, kind: str, period) -> ReportRun:
    """The report of `organization`'s subtree for `period` ("2026-10" or "2026"): the existing run, or a new one.

    404 outside the actor's reach, 403 without report.view there; an unfinished or future
    period is refused with the latest period that may be asked for.
    """
    return report_request_or_existing(actor=actor, organization=organization, kind=kind, period=period)[0]


@transaction.atomic
def report_request_or_existing(*, actor: User, organization: Organization, kind: str, period) -> tuple[ReportRun, bool]:
    """`report_request`, also saying whether the run is new (the API answers 201 or 200)."""
    require(actor, roles.REPORT_VIEW, organization)
    today = timezone.localdate()
    p = parse_period(kind, period, today=today)
    from .summaries import first_month

    if p.start < first_month(today):
        raise ValidationError(
            {
                "period": _("统计汇总保留 %(year)s 年 1 月以后的数据，请选择此后的期间。")
                % {"year": first_month(today).year}
            }
        )
    run, created = _get_or_create(organization=organization, period=p, actor=actor, scheduled=False)
    if created:
        log_action(actor=actor, action="report.requested", target=organization, data={"kind": p.kind, "period": p.code})
        _send(run)
    return run, created


@transaction.atomic
def report_rerun(*, actor: User, run: ReportRun) -> ReportRun:
    """Build the run's files again (after a failure, or with corrected data); the old files stay until then."""
    require(actor, roles.REPORT_VIEW, run.organization)
    run = ReportRun.objects.select_for_update().get(pk=run.pk)
    now = timezone.now()
    if run.status == S.RUNNING and run.claimed_until and run.claimed_until > now:
        raise DomainError(_("该报表正在生成，请等待完成后再重新生成。"))
    if run.status == S.PENDING:
        raise DomainError(_("该报表已在排队，请稍候查看进度。"))
    run.generation += 1
    run.status = S.PENDING
    run.progress = 0
    run.phase = ""
    run.message = ""
    run.claimed_until = None
    run.attempts = 0
    run.save(update_fields=["generation", "status", "progress", "phase", "message", "claimed_until", "attempts"])
    log_action(
        actor=actor,
        action="report.rerun",
        target=run.organization,
        data={"kind": run.kind, "period": run.period_code, "generation": run.generation},
    )
    _send(run)
    return run


def phase_label(run: ReportRun) -> str:
    """What the build is doing now, in words (pages and API)."""
    if run.done:
        return ""
    return str(PHASES.get(run.phase, gettext_lazy("排队等待处理")))


def _progress(run_id: int, generation: int, percent: int, phase: str) -> None:
    ReportRun.objects.filter(pk=run_id, generation=generation, status=S.RUNNING).update(
        progress=percent, phase=phase, claimed_until=timezone.now() + LEASE
    )


def _claim(run_id: int, generation: int) -> bool:
    now = timezone.now()
    return bool(
        ReportRun.objects.filter(pk=run_id, generation=generation)
        .filter(Q(status__in=[S.PENDING, S.FAILED]) | Q(status=S.RUNNING, claimed_until__lt=now))
        .update(
            status=S.RUNNING,
            claimed_until=now + LEASE,
            started_at=now,
            attempts=F("attempts") + 1,
            progress=5,
            phase="start",
            message="",
        )
    )


def summaries_cover(period: Period) -> bool:
    """Whether the last statistics refresh finished after `period` ended (its figures are final)."""
    from .models import StatisticsRefresh

    state = StatisticsRefresh.objects.filter(pk=1).values_list("finished_at", "followed_at").first()
    ends = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    return state is not None and any(at is not None and at >= ends for at in state)


def ensure_summaries(organization: Organization | None, period: Period, *, progress=None) -> bool:
    """Refresh the statistics summary first when the report would read rows counted before the period ended.

    The summary follows changes within minutes (dirty marks); a report asked for just after
    the 1st, or on a fresh install, would otherwise miss the month's last days. Returns whether it refreshed.
    """
    from .summaries import statistics_refresh

    if summaries_cover(period):
        return False
    if progress:
        progress(8, "refresh")
    statistics_refresh()
    return True


def report_files_build(organization: Organization, period: Period, *, progress=None, ensure: bool = True):
    """(ReportData, xlsx bytes, PDF bytes) of `organization`'s subtree for `period`: what a run stores."""
    refreshed = ensure and ensure_summaries(organization, period, progress=progress)
    # The figures may come from a replica: they do not depend on the run's own claim and
    # progress writes, but they do on a summary refresh done just now (then the primary).
    with heavy_reads(independent=not refreshed):
        data = gather(system_reader(), organization, period, progress=progress)
    xlsx = files.workbook(data)
    if progress:
        progress(85, "pdf")
    return data, xlsx, files.pdf(data)


def report_run_execute(run_id: int, generation: int) -> ReportRun | None:
    """Build the run's workbook and PDF and swap them in; None when another task has the run.

    Not one transaction: the figures take minutes at city scale and progress must show
    while they do. What must be atomic is the swap of the files, done under a row lock.
    """
    if not _claim(run_id, generation):
        return None
    run = ReportRun.objects.select_related("organization").get(pk=run_id)
    storage = private_storage()
    written: list[str] = []
    try:
        period = Period(run.kind, run.period_start, run.period_end)
        data, xlsx, pdf = report_files_build(
            run.organization, period, progress=lambda percent, phase: _progress(run_id, generation, percent, phase)
        )
        _progress(run_id, generation, 95, "saving")
        base = f"reports/{run.organization_id}/{run.kind}-{period.code}-g{generation}-{secrets.token_hex(4)}"
        written.append(storage.save(base + ".xlsx", ContentFile(xlsx)))
        written.append(storage.save(base + ".pdf", ContentFile(pdf)))
        with transaction.atomic():
            locked = ReportRun.objects.select_for_update().get(pk=run_id)
            if locked.generation != generation or locked.status != S.RUNNING:
                # A rerun was asked while this one built: its own task writes the files.
                transaction.on_commit(lambda: _delete(written))
                return None
            old = [p for p in (locked.xlsx_path, locked.pdf_path) if p]
            locked.xlsx_path, locked.pdf_path = written
            locked.xlsx_size, locked.pdf_size = len(xlsx), len(pdf)
            locked.summary = data.summary()
            locked.status = S.SUCCEEDED
            locked.progress = 100
            locked.phase = ""
            locked.claimed_until = None
            locked.finished_at = timezone.now()
            locked.save()
            log_action(
                actor=None,
                action="report.generated",
                target=locked.organization,
                data={"kind": locked.kind, "period": period.code, "generation": generation},
            )
            transaction.on_commit(lambda: _delete(old))
        return locked
    except Exception as exc:
        logger.exception("Report run %s failed", run_id)
        _delete(written)
        ReportRun.objects.filter(pk=run_id, generation=generation).update(
            status=S.FAILED,
            claimed_until=None,
            finished_at=timezone.now(),
            message=_("生成失败：%(error)s。可在本页点击“重新生成”；如仍失败，请联系系统管理员查看运行监控。")
            % {"error": str(exc)[:300] or exc.__class__.__name__},
        )
        raise


def _delete(paths) -> None:
    storage = private_storage()
    for path in paths:
        try:
            storage.delete(path)
        except OSError:  # pragma: no cover - a file already gone is what we wanted
            logger.warning("Could not delete report file %s", path)


def federations():
    """Every active federation the schedule reports on: the city, its districts, streets and towns."""
    return Organization.objects.filter(kind__in=FEDERATION_KINDS, status=Organization.Status.ACTIVE).order_by("path")


def reports_schedule(*, today: dt.date | None = None) -> list[ReportRun]:
    """The runs due today for every federation (created and sent once; existing runs are left alone)."""
    today = today or timezone.localdate()
    created = []
    # One refresh for all the runs (not one per run) when the summary predates the month's end.
    ensure_summaries(None, due_periods(today)[0])
    for period in due_periods(today):
        for org in federations():
            run, new = _get_or_create(organization=org, period=period, actor=None, scheduled=True)
            if new:
                transaction.on_commit(lambda run=run: _send(run))
                created.append(run)
    return created


def _lost(now: dt.datetime, cutoff: dt.datetime) -> Q:
    """Runs whose message is presumed lost: sent before `cutoff` and never claimed, or a dead worker's lease."""
    return presumed_lost(
        now=now, cutoff=cutoff, created="requested_at", waiting=Q(status=S.PENDING), running=Q(status=S.RUNNING)
    )


def report_runs_redispatch(*, now: dt.datetime | None = None) -> dict:
    """Send again every run whose message was lost; give up on a run whose workers died MAX_ATTEMPTS times.

    The shape is core.redispatch's (the bound is `REPORT_REDISPATCH_MINUTES`). A duplicate
    that does reach a worker finds the run claimed or done and does nothing
    (`report_run_execute`). A long queue (every federation on the 1st) is not a lost message,
    but its runs may be sent twice after the bound: harmless, the second copy is skipped in
    milliseconds.
    """
    now = now or timezone.now()
    lost = _lost(now, now - redispatch_after())

    def give_up(row) -> int | None:
        run_id, status, attempts = row
        if status != S.RUNNING or attempts < MAX_ATTEMPTS:
            return None
        given_up = ReportRun.objects.filter(lost, pk=run_id, attempts__gte=MAX_ATTEMPTS).update(
            status=S.FAILED,
            claimed_until=None,
            finished_at=now,
            message=_(
                "生成失败：后台工作进程在生成过程中 %(n)s 次中断。请联系系统管理员查看运行监控，"
                "排除故障后在本页点击“重新生成”。"
            )
            % {"n": attempts},
        )
        if given_up:
            logger.error("Report run %s given up after %s interrupted builds", run_id, attempts)
        return given_up

    def resend(run: ReportRun, row) -> None:
        log_action(
            actor=None,
            action="report.redispatched",
            target=run.organization,
            data={"kind": run.kind, "period": run.period_code, "status": row[1], "generation": run.generation},
        )
        enqueue(REPORT_TASK, run.pk, run.generation)

    return redispatch_lost(
        ReportRun,
        lost=lost,
        now=now,
        columns=("status", "attempts"),
        give_up=give_up,
        resend=resend,
        label="Report runs",
    )


def report_runs_lost(*, limit: int = 50):
    """Runs re-sent by the sweep (or waiting for it) in the last two weeks, for the operations view."""
    now = timezone.now()
    shown = sent_again_or_waiting(_lost(now, now - redispatch_after()), now=now)
    return ReportRun.objects.filter(shown).select_related("organization").order_by("-dispatched_at")[:limit]


def report_file(*, actor: User, run: ReportRun, fmt: str):
    """(file name, content type, open file) of the run's xlsx or PDF; the download is audited.

    Http404 while the run has no such file (still building, or failed before its first build).
    """
    path = run.xlsx_path if fmt == "xlsx" else run.pdf_path
    storage = private_storage()
    if not path or not storage.exists(path):
        raise Http404(_("该报表还没有可下载的文件。"))
    report_downloaded(actor=actor, run=run, fmt=fmt)
    name = f"report-{run.organization_id}-{run.kind}-{run.period_code}.{fmt}"
    return name, (XLSX_CONTENT_TYPE if fmt == "xlsx" else "application/pdf"), storage.open(path, "rb")


def report_downloaded(*, actor: User, run: ReportRun, fmt: str) -> None:
    """Record that `actor` took a report file away (the audit log names who, which and when)."""
    log_action(
        actor=actor,
        action="report.downloaded",
        target=run.organization,
        data={"kind": run.kind, "period": run.period_code, "format": fmt},
    )
