"""Import jobs: queue an upload, run it once (claimed by a conditional UPDATE)."""

from __future__ import annotations

import logging
import os

from celery import shared_task
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, roles
from core.audit import log_action
from core.errors import DomainError
from core.outbox import enqueue
from core.scoping import has_capability
from organizations.models import Organization, User
from organizations.services import require

from ..models import ImportJob
from ..services.common import _check_union
from .files import check_upload, detect_format, estimate_rows
from .run import ImportResult, import_rows

logger = logging.getLogger(__name__)


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
        union=union, org_path=union.path, created_by=actor, mode=mode, file_name=name[:200], file_format=fmt
    )
    job.upload_path = default_storage.save(f"member-imports/{job.pk}/upload.{fmt}", uploaded_file)
    job.save(update_fields=["upload_path"])
    log_action(actor=actor, action="member.import_queued", target=job, organization=union, data={"file": name})
    # After commit, and kept in the outbox if the broker is down: the clerk's upload is never lost.
    enqueue(run_member_import, job.pk)
    return job


def import_job_run(job_id: int) -> bool:
    """Run a queued import once. The conditional UPDATE claims it, so a redelivered task is a no-op."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), phase="reading"
    )
    if not claimed:
        return False
    job = ImportJob.objects.select_related("union", "created_by").get(pk=job_id)
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
