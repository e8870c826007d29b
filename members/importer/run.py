"""import_rows: the import service that drives reading, checking, planning and writing."""

from __future__ import annotations

import csv
import datetime as dt
import os
import pickle
import tempfile
import time
from collections.abc import Iterable, Iterator

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, documents, roles
from core.audit import log_action
from core.errors import DomainError
from organizations.models import Organization, User
from organizations.services import coverage_mark_dirty, require

from ..models import ImportJob
from ..services.common import _check_union
from ..validators import normalize_id_number, normalize_mobile
from .files import (
    COLUMNS,
    EXPLANATION_HEADERS,
    OUTCOME_LABELS,
    REPORT_HEADER,
    ImportFileError,
    detect_format,
    estimate_rows,
    read_rows,
)
from .plan import ImportResult, _Batch, _Files, _plan_batch, _State
from .pool import Checker, backend_cpu, in_order
from .write import _TMP, _abort, _create_tmp, _PipelinedWriter, _Rollback, _write_any

BATCH_SIZE = 5000
# A running import job's claim (members.importer.jobs): every progress update renews it.
JOB_LEASE = dt.timedelta(minutes=30)


def import_rows(
    *,
    actor: User,
    union: Organization,
    rows: Iterable[dict] | None = None,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    path: str | None = None,
    fmt: str | None = None,
    job: ImportJob | None = None,
    file_name: str = "",
) -> ImportResult:
    """Import a roster into `union` (a service: checks the actor, writes, audits).

    Give either `rows` (dicts keyed like COLUMNS, for seeding and tests) or a file `path`
    and its `fmt`. With `job`, progress and the report files are saved on it.
    """
    require(actor, roles.MEMBER_MANAGE, union)
    _check_union(union)
    if mode not in ImportJob.Mode.values:
        raise ValidationError({"mode": _("请选择导入方式。")})
    if path is not None:
        fmt = fmt or detect_format(path)
        header, source = read_rows(path, fmt)
        expected = estimate_rows(path, fmt)
    else:
        header = {k: i for i, (k, _h, _r) in enumerate(COLUMNS)}
        source = ((i + 2, tuple(r.get(k) for k, _h, _r in COLUMNS)) for i, r in enumerate(rows or []))
        expected = len(rows) if hasattr(rows, "__len__") else None
    state = _State(union=union, header=header, today=timezone.localdate(), mode=mode)
    files = _Files(header)
    if mode == ImportJob.Mode.ALL_OR_NOTHING:
        files.keep_correct_rows()
    res = state.result
    now = timezone.now()
    vendor = connection.vendor
    state.direct = vendor == "postgresql"
    state.now_text = now.isoformat()
    # Pipelined on PostgreSQL when we own the transaction; otherwise (SQLite, or called
    # inside an outer transaction, as in tests) plan everything, then write in one go.
    pipelined = vendor == "postgresql" and not connection.in_atomic_block
    writer = _PipelinedWriter(union, now) if pipelined else None
    # Sequential mode keeps planned batches in a temporary file, not in memory.
    spool = None if pipelined else tempfile.TemporaryFile("w+b")
    spooled = 0
    # The importing process's CPU, all threads but the writer's: reading and planning, and
    # the pool's result thread, which unpickles the checked rows.
    cpu_start = time.process_time()
    # This process's own PostgreSQL backend answers the planner (the roll lookups, ids,
    # member numbers): its CPU is counted beside the writer's backend.
    planner_backend = planner_db_start = None
    if vendor == "postgresql":
        connection.ensure_connection()
        planner_backend = connection.connection.get_backend_pid()
        planner_db_start = backend_cpu(planner_backend)
    # Big files are checked in worker processes (forked here, before the writer thread
    # starts), small ones in this process.
    checker = Checker(state.ctx, expected_rows=expected)
    if writer is not None:
        writer.start()

    def emit(batch: _Batch) -> None:
        nonlocal spooled
        if not batch:
            return
        if writer is not None:
            writer.put(batch)
        else:
            pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
            spooled += 1

    def finalize(stale: list[int]):
        """Runs inside the write transaction: decide, audit. Raising _Rollback undoes the writes."""
        if res.errors and mode == ImportJob.Mode.ALL_OR_NOTHING:
            raise _Rollback()
        if stale and mode == ImportJob.Mode.ALL_OR_NOTHING:
            raise _Rollback(stale)
        lost_created, lost_updated = _stale_counts(files, stale)
        coverage_mark_dirty([union.pk])  # written: the union's figures follow (issue 15)
        log_action(
            actor=actor,
            action="member.imported",
            target=job,
            organization=union,
            data={
                "file": file_name,
                "rows": res.rows,
                "created": res.created - lost_created,
                "updated": res.updated - lost_updated,
                "skipped": res.skipped,
                "errors": res.errors + len(stale),
                "mode": mode,
            },
        )
        return stale

    try:
        try:
            # Checked batches come back in file order, so outcomes and messages are the same
            # whether a worker or this process checked them.
            for batch, checked in in_order(checker, _batches(source)):
                emit(_plan_batch(state, batch, checked, files))
                if job is not None:
                    _progress(job, res, phase="importing")
            checker.close()
            if res.rows == 0:
                raise ImportFileError(_("文件中没有数据行：请在表头下方逐行填写会员信息。"), code="no_rows")
        except BaseException:
            if writer is not None:
                writer.batches.put(None)
                writer.finish.put(_abort)
                writer.join()
            raise
        if job is not None:
            _progress(job, res, phase="writing")
        outcome: object
        try:
            if writer is not None:
                writer.batches.put(None)
                writer.finish.put(finalize)
                writer.join()
                if writer.error is not None:
                    raise writer.error
                outcome = writer.outcome
            else:
                try:
                    with transaction.atomic():
                        stale: list[int] = []
                        with connection.cursor() as cursor:
                            if spooled:
                                _create_tmp(cursor, vendor)
                                spool.seek(0)
                                for _i in range(spooled):
                                    stale += _write_any(cursor, vendor, union, pickle.load(spool), now)
                                if vendor != "postgresql":
                                    cursor.execute(f"DROP TABLE {_TMP}")
                        outcome = finalize(stale)
                except _Rollback as exc:
                    outcome = exc
        except IntegrityError:
            raise DomainError(
                _("导入过程中会员名册发生了变动（有人同时登记了相同人员），未导入任何数据，请重新上传。"),
                code="import_conflict",
            ) from None
        if isinstance(outcome, _Rollback):
            stale = outcome.stale
            # Nothing was written: say so. The correct rows are counted as "not imported"
            # (kept in skipped_count), never as created or updated.
            res.skipped = max(res.rows - res.errors, 0)
            res.created = res.updated = 0
            if stale and not res.errors:
                res.message = _(
                    "导入过程中有 %(n)s 人已被他人登记入会，按“全部正确才导入”的选择，未导入任何数据，请重新上传。"
                ) % {"n": len(stale)}
            else:
                res.message = _(
                    "共 %(rows)s 行，其中 %(errors)s 行有误（第一处在第 %(first)s 行），按“全部正确才导入”的选择，"
                    "未导入任何数据。请下载错误清单修改后重新上传。"
                ) % {"rows": res.rows, "errors": res.errors, "first": res.first_error_row}
        else:
            stale = outcome or []
            lost_created, lost_updated = _stale_counts(files, stale)
            res.created -= lost_created
            res.updated -= lost_updated
            res.errors += len(stale)
            res.written = True
            res.message = _("导入完成：新增 %(c)s 人，更新 %(u)s 人，跳过 %(s)s 行，错误 %(e)s 行。") % {
                "c": res.created,
                "u": res.updated,
                "s": res.skipped,
                "e": res.errors,
            }
        if job is not None:
            _save_files(job, files, res, stale)
        return res
    finally:
        checker.close()
        main = time.process_time() - cpu_start
        res.cpu = {"workers": checker.workers}
        if checker.workers:
            res.cpu["checkers"] = round(checker.cpu_seconds, 3)
        if writer is not None:
            res.cpu.update(writer.cpu)
            main -= writer.cpu.get("writer", 0)
        res.cpu["main"] = round(max(main, 0.0), 3)
        planner_db_end = backend_cpu(planner_backend)
        if planner_db_start is not None and planner_db_end is not None:
            res.cpu["planner_database"] = round(planner_db_end - planner_db_start, 3)
        files.close()
        if spool is not None:
            spool.close()


def _batches(source: Iterable[tuple[int, tuple]]) -> Iterator[list[tuple[int, tuple]]]:
    batch: list[tuple[int, tuple]] = []
    for item in source:
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _stale_counts(files: _Files, stale: list[int]) -> tuple[int, int]:
    """How many of the stale rows had been counted as created / updated in phase 1."""
    if not stale:
        return 0, 0
    rns = set(stale)
    created = updated = 0
    files.report.flush()
    files.report.seek(0)
    for rec in csv.reader(files.report):
        if int(rec[0]) in rns:
            created += rec[3] == "created"
            updated += rec[3] == "updated"
    files.report.seek(0, os.SEEK_END)
    return created, updated


def _progress(job: ImportJob, res: ImportResult, *, phase: str) -> None:
    # Outside the write transaction: the page polling the job sees it at once.
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=res.rows,
        created_count=res.created,
        updated_count=res.updated,
        skipped_count=res.skipped,
        error_count=res.errors,
        phase=phase,
        claimed_until=timezone.now() + JOB_LEASE,  # this worker is alive (members.importer.jobs)
    )


def _save_files(job: ImportJob, writer: _Files, res: ImportResult, stale: list[int]) -> None:
    """Final report (csv) and error file (xlsx) under MEDIA_ROOT/member-imports/<job id>/."""
    stale_set = set(stale)
    failed_whole = not res.written
    folder = f"member-imports/{job.pk}"
    writer.report.flush()
    writer.report.seek(0)

    def report_rows():
        for rec in csv.reader(writer.report):
            rn = int(rec[0])
            outcome, reason = rec[3], rec[4]
            if rn in stale_set:
                outcome, reason = "error", _("导入过程中已被他人登记入会，请核对后重新导入该行。")
            elif failed_whole and outcome != "error":
                outcome, reason = "not_imported", _("本行无误，但整批未导入：请改正错误行后重新上传。")
            yield [rn, rec[1], rec[2], OUTCOME_LABELS.get(outcome, outcome), reason]

    # Names and cells come from the uploaded file: the shared writers escape formula text.
    job.report_path = default_storage.save(
        f"{folder}/report.csv", _ContentFile(documents.csv_bytes(REPORT_HEADER, report_rows()))
    )
    if res.errors or stale:
        job.error_path = default_storage.save(
            f"{folder}/errors.xlsx", _ContentFile(_error_xlsx(writer, stale_set, masked=True, whole=failed_whole))
        )
        # The uploader's own copy, with the numbers they typed, so the rows can be fixed and
        # the workbook uploaded again. Encrypted at rest (the upload itself is deleted).
        full = crypto.fernet().encrypt(_error_xlsx(writer, stale_set, masked=False, whole=failed_whole))
        job.error_full_path = default_storage.save(f"{folder}/errors-full.xlsx.enc", _ContentFile(full))


def _masked_cell(key: str | None, value: str) -> str:
    if key == "id_number":
        return crypto.mask_id(normalize_id_number(value)) if value else ""
    if key == "mobile":
        return crypto.mask_mobile(normalize_mobile(value)) if value else ""
    return value


def _error_xlsx(writer: _Files, stale: set[int], *, masked: bool, whole: bool = False) -> bytes:
    """The error rows as a workbook: 行号, 错误说明, then the uploaded columns in their order.

    `whole` (an all-or-nothing batch that was not written): the correct rows follow, so
    the fixed workbook is the whole roster again. Masked: ID numbers and mobiles alike
    (what the roll shows anyone in reach).
    """
    width = max(writer.header.values()) + 1 if writer.header else 0
    headers = [""] * width
    keys: list[str | None] = [None] * width
    labels = {k: h for k, h, _r in COLUMNS}
    for key, idx in writer.header.items():
        headers[idx] = labels[key]
        keys[idx] = key
    writer.error_file.flush()
    writer.error_file.seek(0)

    def shown(cells):
        if masked:
            return [_masked_cell(keys[i] if i < width else None, v) for i, v in enumerate(cells)]
        return cells

    def rows():
        wrong: set[int] = set()
        for rec in csv.reader(writer.error_file):
            wrong.add(int(rec[0]))
            yield [int(rec[0]), rec[1], *shown(rec[2:])]
        if whole and writer.ok_file is not None:
            writer.ok_file.flush()
            writer.ok_file.seek(0)
            note = _("本行无误（整批未导入），重新上传时一并导入。")
            for rec in csv.reader(writer.ok_file):
                if int(rec[0]) not in wrong and int(rec[0]) not in stale:
                    yield [int(rec[0]), note, *shown(rec[1:])]
        if stale:
            yield []
            yield ["", _("另有 %(n)s 行在导入过程中已被他人登记入会，见导入报告。") % {"n": len(stale)}]

    sheet = documents.Sheet(title="错误清单", header=list(EXPLANATION_HEADERS) + headers, rows=rows())
    return documents.xlsx_bytes([sheet])


def _ContentFile(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data)
