"""Writes of attachments: add (checked by content, size-limited, scanned, audited) and remove.

The file is written first, then the row and the audit event in one transaction. If that
transaction fails inside the service, the file is deleted at once. If a caller's outer
transaction rolls back later, Django offers no hook to hear it: the file is then an
orphan (a stored file with no row) that `attachment_orphans_sweep` deletes.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.errors import NOT_IN_REACH, DomainError

from . import scanning
from .checks import ALLOWED_LABEL, clean_name, detect_type, name_for_type
from .models import Attachment
from .selectors import attachment_owner, owner_reachable
from .storage import private_storage

logger = logging.getLogger(__name__)

_SCAN_STATUS = {
    scanning.CLEAN: Attachment.ScanStatus.CLEAN,
    scanning.UNAVAILABLE: Attachment.ScanStatus.PENDING,
    scanning.NOT_SCANNED: Attachment.ScanStatus.NOT_SCANNED,
}
KIND_MAX = Attachment._meta.get_field("kind").max_length
REASON_MAX = Attachment._meta.get_field("deleted_reason").max_length


def owner_path(owner: models.Model) -> str:
    """The organisation path the owner is scoped by (its `scope_path_field`)."""
    model = type(owner)
    field = getattr(model, "scope_path_field", None) or getattr(model._default_manager.all(), "scope_path_field", None)
    if not field or not hasattr(model._default_manager, "for_user"):
        raise TypeError(f"{model.__name__} is not a scoped model: it cannot own attachments")
    value = owner
    for part in field.split("__"):
        value = getattr(value, part)
    return value or ""


def _organization_at(path: str):
    # The audit log is scoped by the event's organisation: attach the owner's, so the
    # district that holds the file sees who added, downloaded or removed it.
    if not path:
        return None
    return apps.get_model("organizations", "Organization").objects.filter(path=path).first()


def _audit_data(attachment: Attachment, **extra) -> dict:
    return {
        "owner": f"{attachment.content_type.app_label}.{attachment.content_type.model}:{attachment.object_id}",
        "kind": attachment.kind,
        "name": attachment.original_name,
        "size": attachment.size,
        "sha256": attachment.sha256,
        **extra,
    }


def _check_actor(actor, owner) -> None:
    # actor None: the system itself (a task), which the calling service has vouched for.
    if actor is not None and not owner_reachable(actor, owner):
        raise Http404(NOT_IN_REACH)


def _stored_name() -> str:
    # Random, with no part of the uploader's name: nothing to traverse, guess or collide.
    now = timezone.now()
    return f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"


def _checked(uploaded_file, kind: str) -> tuple[str, str]:
    """(display name, content type) of an acceptable file, else ValidationError."""
    kind = (kind or "").strip()
    if not kind or len(kind) > KIND_MAX:
        raise ValidationError({"kind": _("请选择材料类别。")})
    if uploaded_file is None:
        raise ValidationError({"file": _("请选择要上传的文件。")})
    limit = settings.ATTACHMENT_MAX_BYTES
    if uploaded_file.size > limit:
        raise ValidationError(
            {
                "file": _("文件太大（%(size)s）：单个文件不能超过 %(limit)s，请压缩或分开上传。")
                % {"size": filesizeformat(uploaded_file.size), "limit": filesizeformat(limit)}
            }
        )
    if uploaded_file.size == 0:
        raise ValidationError({"file": _("文件是空的：请重新选择文件。")})
    mime = detect_type(uploaded_file)
    if mime is None:
        raise ValidationError(
            {"file": _("不支持此类文件：请上传 %(allowed)s 格式的文件。") % {"allowed": ALLOWED_LABEL}}
        )
    return name_for_type(clean_name(uploaded_file.name), mime), mime


def _write(uploaded_file) -> tuple[str, str, int]:
    """Store the file under a random name; return (stored name, sha256, size)."""
    digest, size = hashlib.sha256(), 0
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
        size += len(chunk)
    if size > settings.ATTACHMENT_MAX_BYTES:  # the declared size lied
        raise ValidationError({"file": _("文件太大：请压缩或分开上传。")})
    uploaded_file.seek(0)
    stored = private_storage().save(_stored_name(), uploaded_file)
    return stored, digest.hexdigest(), size


def _delete_file(stored_name: str) -> None:
    try:
        private_storage().delete(stored_name)
    except OSError:
        logger.exception("could not delete attachment file %s", stored_name)


def attachment_add(*, owner: models.Model, uploaded_file, kind: str, actor) -> Attachment:
    """Attach `uploaded_file` to `owner` as a document of `kind` ("diagnosis", …).

    Refuses (ValidationError on "file" or "kind") a type outside the allow-list, a name
    whose extension contradicts the content, a file over ATTACHMENT_MAX_BYTES and an
    infected file; nothing is kept then. `actor` must reach the owner (Http404 if not).
    """
    path = owner_path(owner)  # first: a model that cannot own attachments is a programming error
    _check_actor(actor, owner)
    display_name, mime = _checked(uploaded_file, kind)
    stored, sha256, size = _write(uploaded_file)
    try:
        # Scanned before the transaction opens: a slow scanner must not hold row locks.
        result = scanning.scan_file(private_storage().path(stored))
        if result == scanning.INFECTED:
            logger.warning("infected upload refused: owner=%r sha256=%s", owner, sha256)
            raise ValidationError({"file": _("文件未通过病毒扫描，已拒收：请检查电脑或手机后重新上传。")})
        with transaction.atomic():
            attachment = Attachment.objects.create(
                content_type=ContentType.objects.get_for_model(owner, for_concrete_model=False),
                object_id=owner.pk,
                org_path=path,
                kind=kind.strip(),
                original_name=display_name,
                stored_name=stored,
                size=size,
                sha256=sha256,
                mime_type=mime,
                uploaded_by=actor,
                scan_status=_SCAN_STATUS[result],
            )
            log_action(
                actor=actor,
                action="attachment.added",
                target=attachment,
                organization=_organization_at(path),
                data=_audit_data(attachment, scan=attachment.scan_status),
            )
    except BaseException:
        _delete_file(stored)
        raise
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: Attachment, actor, reason: str) -> Attachment:
    """Soft-delete: the row and file stay (for the audit trail), hidden from every list."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写删除原因。")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("删除原因不能超过 %(max)d 个字。") % {"max": REASON_MAX}})
    locked = Attachment.objects.select_for_update(of=("self",)).select_related("content_type").get(pk=attachment.pk)
    _check_actor(actor, attachment_owner(locked))
    if locked.deleted_at is not None:
        raise DomainError(_("该附件已被删除。"), code="already_deleted")
    locked.deleted_at = timezone.now()
    locked.deleted_by = actor
    locked.deleted_reason = reason
    locked.save(update_fields=["deleted_at", "deleted_by", "deleted_reason"])
    log_action(
        actor=actor,
        action="attachment.removed",
        target=locked,
        organization=_organization_at(locked.org_path),
        data=_audit_data(locked, reason=reason),
    )
    return locked


def attachment_downloaded(*, attachment: Attachment, actor, ip_address: str | None = None) -> None:
    """Record a download (who read which file, from where)."""
    log_action(
        actor=actor,
        action="attachment.downloaded",
        target=attachment,
        organization=_organization_at(attachment.org_path),
        data=_audit_data(attachment),
        ip_address=ip_address,
    )


def attachment_paths_refresh(*, owner: models.Model) -> int:
    """Copy the owner's current org path onto its attachments (call after moving the owner)."""
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(owner, for_concrete_model=False), object_id=owner.pk
    ).update(org_path=owner_path(owner))


def attachment_orphans_sweep(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete stored files that no row names (left by a caller's rolled-back transaction).

    Only files older than `older_than`: a file written a moment ago may belong to a
    transaction that has not committed yet.
    """
    storage = private_storage()
    root = Path(storage.location)
    if not root.exists():
        return 0
    cutoff = timezone.now().timestamp() - older_than.total_seconds()
    candidates = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.stat().st_mtime < cutoff]
    removed = 0
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        known = set(Attachment.objects.filter(stored_name__in=batch).values_list("stored_name", flat=True))
        for name in batch:
            if name not in known:
                _delete_file(name)
                removed += 1
    if removed:
        logger.warning("deleted %d orphaned attachment files", removed)
    return removed


def attachment_rescan_pending(*, limit: int = 500) -> dict[str, int]:
    """Scan again the files kept as "pending" because the scanner was unavailable.

    Clean: downloadable from now on. Infected: the file is deleted and the row
    soft-deleted (kept for the audit trail). Still unavailable: left for the next run.
    """
    counts = {"clean": 0, "infected": 0, "pending": 0}
    pending = Attachment.objects.filter(scan_status=Attachment.ScanStatus.PENDING, deleted_at__isnull=True)
    for pk, stored in pending.order_by("id").values_list("pk", "stored_name")[:limit]:
        # Scanned before the row is locked, as on upload: a slow scanner holds no lock.
        result = scanning.scan_file(private_storage().path(stored))
        if result == scanning.UNAVAILABLE:
            counts["pending"] += 1
            continue
        with transaction.atomic():
            attachment = Attachment.objects.select_for_update(of=("self",)).select_related("content_type").get(pk=pk)
            if attachment.scan_status != Attachment.ScanStatus.PENDING:
                continue  # another run got there first
            fields = ["scan_status"]
            if result == scanning.INFECTED:
                attachment.scan_status = Attachment.ScanStatus.INFECTED
                attachment.deleted_at = timezone.now()
                attachment.deleted_reason = _("病毒扫描发现病毒，文件已删除。")
                fields += ["deleted_at", "deleted_reason"]
                transaction.on_commit(lambda stored=stored: _delete_file(stored))
                counts["infected"] += 1
            else:
                attachment.scan_status = _SCAN_STATUS[result]
                counts["clean"] += 1
            attachment.save(update_fields=fields)
            log_action(
                actor=None,
                action="attachment.scanned",
                target=attachment,
                organization=_organization_at(attachment.org_path),
                data=_audit_data(attachment, scan=attachment.scan_status),
            )
    return counts
