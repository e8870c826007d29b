"""Import jobs: queue an upload, run it once (claimed by a conditional UPDATE), recover lost messages.

- `import_job_run` claims the job with a conditional UPDATE and a lease (renewed with
  every progress update while the import runs), so a duplicate or redelivered task does nothing while a
  live worker has the job.
- `import_jobs_redispatch` (a beat sweep, every minute) sends again a job whose message was
  lost: still pending a bound after it was sent, or running with an expired lease (its
  worker was killed). Each re-send is claimed by a conditional UPDATE of `dispatched_at`,
  so concurrent sweeps send once, at most once per bound; after MAX_ATTEMPTS interrupted
  runs (or MAX_REDISPATCHES unanswered sends) the job fails with a message saying what to do.
- Nothing half-saved, nothing written twice: the rows of an import are written in one
  transaction (members.importer.run / write), which a killed worker's database session
  rolls back. The only gap is a worker killed after that commit and before the job's
  final UPDATE: the "member.imported" audit event is written inside the same transaction,
  so a re-run that finds it knows the rows are in, and closes the job without importing again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, roles
from core.audit import log_action
from core.errors import DomainError
from core.outbox import enqueue
from core.redispatch import presumed_lost, redispatch_lost, sent_again_or_waiting
from core.scoping import has_capability
from organizations.models import Organization, User
from organizations.services import require

from ..models import ImportJob
from ..services.common import _check_union
from .files import check_upload, detect_format, estimate_rows
from .run import JOB_LEASE, ImportResult, import_rows

logger = logging.getLogger(__name__)
S = ImportJob.Status
# A running job's claim, renewed with every progress update (each batch of rows, in
# members.importer.run._progress; no thread: the row checkers are forked processes). The
# last phase (the final write) must fit in it.
LEASE = JOB_LEASE
MAX_ATTEMPTS = 3  # runs started (claims) before a job whose workers keep dying is given up
MAX_REDISPATCHES = 6  # sends of a job no worker ever took before it is given up
IMPORT_TASK = "members.tasks.run_member_import"


def redispatch_after() -> dt.timedelta:
    """How long a sent job may stay unclaimed (or a dead worker's lease expired) before it is sent again."""
    return dt.timedelta(minutes=getattr(settings, "JOB_REDISPATCH_MINUTES", 30))


@transaction.atomic
def import_job_create(*, actor: User, union: Organization, uploaded_file, mode: str) -> ImportJob:
    """Store an upload and queue its import (the task runs after this transaction commits)."""
    require(actor, roles.MEMBER_MANAGE, union)
    _check_union(union)
    if mode not in ImportJob.Mode.values:
        raise ValidationError({"mode": _("请选择导入方式：全部正确才导入，或只导入正确的行。")})
    name = os.path.basename(getattr(uploaded_file, "name", "") or "upload")
    fmt = detect_format(name)
    # By content, before anything is stored: a renamed file, a zip bomb or a zip with
    # unsafe member names leaves no job row and no file behind.
    check_upload(uploaded_file, fmt)
    job = ImportJob.objects.create(
        union=union,
        org_path=union.path,
        created_by=actor,
        mode=mode,
        file_name=name[:200],
        file_format=fmt,
        # What the sweep measures "never claimed" from (the message goes after commit).
        dispatched_at=timezone.now(),
    )
    job.upload_path = default_storage.save(f"member-imports/{job.pk}/upload.{fmt}", uploaded_file)
    job.save(update_fields=["upload_path"])
    log_action(actor=actor, action="member.import_queued", target=job, organization=union, data={"file": name})
    # After commit, and kept in the outbox if the broker is down: the clerk's upload is never lost.
    enqueue(run_member_import, job.pk)
    return job


def _claim(job_id: int) -> bool:
    now = timezone.now()
    return bool(
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=S.PENDING) | Q(status=S.RUNNING, claimed_until__lt=now))
        .update(
            status=S.RUNNING, started_at=now, phase="reading", claimed_until=now + LEASE, attempts=F("attempts") + 1
        )
    )


def _committed_before(job: ImportJob) -> dict | None:
    """The audit data of an earlier run of `job` whose rows were committed, else None."""
    from activity.models import AuditEvent

    return (
        AuditEvent.objects.filter(
            action="member.imported", target_type=ImportJob._meta.label_lower, target_id=str(job.pk)
        )
        .values_list("data", flat=True)
        .first()
    )


def _finish_committed(job: ImportJob, data: dict) -> None:
    """Close a job whose rows an earlier, interrupted run already committed (nothing is imported again)."""
    if job.upload_path:
        default_storage.delete(job.upload_path)
    ImportJob.objects.filter(pk=job.pk).update(
        status=S.SUCCEEDED,
        phase="",
        upload_path="",
        claimed_until=None,
        total_rows=data.get("rows", 0),
        processed_rows=data.get("rows", 0),
        created_count=data.get("created", 0),
        updated_count=data.get("updated", 0),
        skipped_count=data.get("skipped", 0),
        error_count=data.get("errors", 0),
        message=_(
            "导入完成：新增 %(c)s 人，更新 %(u)s 人，跳过 %(s)s 行，错误 %(e)s 行。"
            "（后台工作进程在收尾时中断，数据已完整导入，未生成导入报告；如需错误清单，请修改后重新上传有误的行。）"
        )
        % {
            "c": data.get("created", 0),
            "u": data.get("updated", 0),
            "s": data.get("skipped", 0),
            "e": data.get("errors", 0),
        },
        finished_at=timezone.now(),
    )


def import_job_run(job_id: int) -> bool:
    """Run a queued import once. The conditional UPDATE claims it, so a redelivered task is a no-op.

    A job whose lease expired (its worker was killed) may be claimed again: its rows were
    rolled back with the killed worker's transaction, unless that transaction had committed,
    which the audit event tells (then the job is closed, not imported twice).
    """
    if not _claim(job_id):
        return False
    job = ImportJob.objects.select_related("union", "created_by").get(pk=job_id)
    if job.attempts > 1:
        done = _committed_before(job)
        if done is not None:
            logger.warning("member import %s: rows committed by an interrupted run; closing the job", job_id)
            _finish_committed(job, done)
            return True
        if not job.upload_path or not default_storage.exists(job.upload_path):
            ImportJob.objects.filter(pk=job_id).update(
                status=S.FAILED,
                phase="",
                upload_path="",
                claimed_until=None,
                message=_("导入中断，上传的文件已不在服务器上，未导入任何数据。请重新上传名册。"),
                finished_at=timezone.now(),
            )
            return True
    return _run(job)


def _run(job: ImportJob) -> bool:
    job_id = job.pk
    status, message = ImportJob.Status.FAILED, ""
    res = ImportResult()
    try:
        total = estimate_rows(default_storage.path(job.upload_path), job.file_format)
        if total is not None:
            ImportJob.objects.filter(pk=job_id).update(total_rows=total)
        res = import_rows(
            actor=job.created_by,
            union=job.union,
            mode=job.mode,
            path=default_storage.path(job.upload_path),
            fmt=job.file_format,
            job=job,
            file_name=job.file_name,
        )
        status = ImportJob.Status.SUCCEEDED if res.written else ImportJob.Status.FAILED
        message = res.message
        # For operators sizing the imports worker: where the CPU went, and whether rows
        # were checked in worker processes (MEMBER_IMPORT_WORKERS).
        logger.info("member import %s: %s rows, CPU seconds by side %s", job_id, res.rows, res.cpu)
    except (DomainError, ValidationError) as exc:
        message = getattr(exc, "message", None) or "；".join(getattr(exc, "messages", [str(exc)]))
        message = str(message)
    except Exception:  # the job must never stay "running" forever; the error goes to the log
        logger.exception("member import %s crashed", job_id)
        message = _("导入时发生系统错误，未导入任何数据，请稍后重试或联系管理员。")
    finally:
        # The upload holds plain ID numbers: it does not outlive the job.
        if job.upload_path:
            default_storage.delete(job.upload_path)
    ImportJob.objects.filter(pk=job_id).update(
        status=status,
        phase="",
        claimed_until=None,
        message=message,
        upload_path="",
        report_path=job.report_path,
        error_path=job.error_path,
        error_full_path=job.error_full_path,
        total_rows=res.rows,
        processed_rows=res.rows,
        created_count=res.created,
        updated_count=res.updated,
        skipped_count=res.skipped,
        error_count=res.errors,
        finished_at=timezone.now(),
    )
    return True


def _lost(now: dt.datetime, cutoff: dt.datetime) -> Q:
    """Jobs whose message is presumed lost: sent before `cutoff` and never claimed, or a dead worker's lease."""
    return presumed_lost(
        now=now, cutoff=cutoff, created="created_at", waiting=Q(status=S.PENDING), running=Q(status=S.RUNNING)
    )


def _give_up(job_id: int, lost: Q, now: dt.datetime, message: str, **bound) -> bool:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(lost, pk=job_id, **bound).select_related("union").first()
        if job is None:
            return False
        if job.upload_path:
            # The upload holds plain ID numbers: it does not outlive the job.
            path = job.upload_path
            transaction.on_commit(lambda: default_storage.delete(path))
        ImportJob.objects.filter(pk=job_id).update(
            status=S.FAILED, phase="", upload_path="", claimed_until=None, message=message, finished_at=now
        )
        log_action(
            actor=None,
            action="member.import_given_up",
            target=job,
            organization=job.union,
            data={"attempts": job.attempts, "redispatches": job.redispatches},
        )
    logger.error("member import %s given up (%s runs, %s re-sends)", job_id, job.attempts, job.redispatches)
    return True


def import_jobs_redispatch(*, now: dt.datetime | None = None) -> dict:
    """Send again every import whose message was lost; give up on one that never gets done.

    The shape is core.redispatch's (the bound is `JOB_REDISPATCH_MINUTES`). A copy that does
    reach a worker finds the job claimed or done and does nothing.
    """
    now = now or timezone.now()
    lost = _lost(now, now - redispatch_after())

    def give_up(row) -> int | None:
        job_id, status, attempts, redispatches = row
        if status == S.RUNNING and attempts >= MAX_ATTEMPTS:
            message = _(
                "导入失败：后台工作进程在导入过程中 %(n)s 次中断，未导入任何数据。"
                "请联系系统管理员查看运行监控，排除故障后重新上传名册。"
            ) % {"n": attempts}
            return _give_up(job_id, lost, now, message, attempts__gte=MAX_ATTEMPTS)
        if status == S.PENDING and redispatches >= MAX_REDISPATCHES:
            message = _(
                "导入失败：名册排队 %(n)s 次重新派发后仍无后台工作进程处理，未导入任何数据。"
                "请联系系统管理员检查导入队列的工作进程，恢复后重新上传名册。"
            ) % {"n": redispatches}
            return _give_up(job_id, lost, now, message, redispatches__gte=MAX_REDISPATCHES)
        return None

    def resend(job: ImportJob, row) -> None:
        log_action(
            actor=None,
            action="member.import_redispatched",
            target=job,
            organization=job.union,
            data={"status": row[1], "attempts": row[2], "redispatches": job.redispatches},
        )
        enqueue(IMPORT_TASK, job.pk)

    return redispatch_lost(
        ImportJob,
        lost=lost,
        now=now,
        columns=("status", "attempts", "redispatches"),
        give_up=give_up,
        resend=resend,
        label="Import jobs",
    )


def import_jobs_lost(*, limit: int = 50):
    """Jobs re-sent or given up by the sweep (or waiting for it) in the last two weeks, for the operations view."""
    now = timezone.now()
    shown = sent_again_or_waiting(_lost(now, now - redispatch_after()), now=now)
    return ImportJob.objects.filter(shown).select_related("union").order_by("-dispatched_at")[:limit]


def import_job_errors(*, actor: User, job: ImportJob) -> bytes | None:
    """The job's error workbook for `actor` (audited), or None when there is none.

    The uploader gets back the ID numbers and mobiles they typed, so they can fix the rows
    and upload the workbook as it is: it exposes nothing they did not already have. Anyone
    else in reach (a colleague, a supervisor) gets the masked workbook, as the roll shows
    them; seeing full numbers is a personal_data.full matter with its own audited door.
    The uploader must still manage members there (a role taken away takes this too).
    """
    full = (
        job.created_by_id == actor.pk
        and has_capability(actor, roles.MEMBER_MANAGE, job.org_path)
        and bool(job.error_full_path)
        and default_storage.exists(job.error_full_path)
    )
    if full:
        with default_storage.open(job.error_full_path, "rb") as fh:
            body = crypto.fernet().decrypt(fh.read())
    elif job.error_path and default_storage.exists(job.error_path):
        with default_storage.open(job.error_path, "rb") as fh:
            body = fh.read()
    else:
        return None
    log_action(
        actor=actor,
        action="member.import_errors_downloaded",
        target=job,
        organization=job.union,
        data={"full": bool(full), "rows": job.error_count},
    )
    return body


# Defined here, next to the service it calls, so that the importer never imports
# members.tasks (which would close an import cycle); members.tasks re-exports it so that the
# worker registers it under its historical name.
@shared_task(name="members.tasks.run_member_import", acks_late=True)
def run_member_import(job_id: int) -> bool:
    """Run one queued roster import; a redelivered message finds the job claimed and does nothing."""
    return import_job_run(job_id)


@shared_task(name="members.tasks.import_jobs_sweep")
def import_jobs_sweep() -> dict:
    """Every minute from beat: re-send roster imports whose message was lost (import_jobs_redispatch)."""
    return import_jobs_redispatch()
