"""Writing planned batches in one transaction: COPY on PostgreSQL, a temp table on SQLite."""

from __future__ import annotations

import csv
import io
import queue
import threading
import time

from django.db import connection, transaction
from django.utils import timezone

from organizations.models import Organization

from ..services import reserve_member_numbers
from .plan import SPOOL_COLUMNS, _Batch
from .pool import backend_cpu

# --- phase 2: set-based writes ------------------------------------------------------------

_TMP = "members_import_rows"


def _create_tmp(cursor, vendor: str) -> None:
    pg = vendor == "postgresql"
    cursor.execute(f"DROP TABLE IF EXISTS {_TMP}")
    cursor.execute(
        f"""CREATE TEMP TABLE {_TMP} (
            rn integer PRIMARY KEY, action varchar(1) NOT NULL, member_id {"bigint" if pg else "integer"},
            seq integer, name text, name_initials text, id_enc text, id_hash text, id_masked text, sex text,
            birth_date date, mobile_enc text, mobile_hash text, mobile_masked text, employer_name text,
            employment_form text, is_migrant {"boolean" if pg else "integer"}, education text, skill_level text,
            joined_on date, membership_id {"bigint" if pg else "integer"}
        )"""
        + (" ON COMMIT DROP" if pg else "")
    )


def _load_tmp(cursor, vendor: str, text: str) -> None:
    cols = ", ".join(SPOOL_COLUMNS)
    if vendor == "postgresql":
        cursor.execute(f"TRUNCATE {_TMP}")
        # Empty CSV fields arrive as NULL: for updates that means "keep the stored value".
        cursor.copy_expert(f"COPY {_TMP} ({cols}) FROM STDIN WITH (FORMAT csv)", io.StringIO(text), len(text) + 1)
        return
    cursor.execute(f"DELETE FROM {_TMP}")
    marks = ", ".join(["%s"] * len(SPOOL_COLUMNS))
    rows = [[v if v != "" else None for v in rec] for rec in csv.reader(io.StringIO(text))]
    cursor.executemany(f"INSERT INTO {_TMP} ({cols}) VALUES ({marks})", rows)


def _drop_stale(cursor, union_id: int, existing: int) -> list[int]:
    """SQLite: drop rows the roll changed under since they were planned (the database write
    lock is held for the whole transaction, so these checks stay true until commit)."""
    checks = [
        (
            f"DELETE FROM {_TMP} WHERE action = 'c' AND EXISTS "
            f"(SELECT 1 FROM members_member m WHERE m.id_number_hash = {_TMP}.id_hash) RETURNING rn",
            [],
        )
    ]
    if existing:
        checks += [
            (
                f"DELETE FROM {_TMP} WHERE action = 'r' AND EXISTS (SELECT 1 FROM members_membership ms "
                f"WHERE ms.member_id = {_TMP}.member_id AND ms.status = 'active') RETURNING rn",
                [],
            ),
            (
                f"DELETE FROM {_TMP} WHERE action = 'u' AND NOT EXISTS (SELECT 1 FROM members_membership ms "
                f"WHERE ms.member_id = {_TMP}.member_id AND ms.status = 'active' AND ms.union_id = %s) "
                "RETURNING rn",
                [union_id],
            ),
        ]
    stale: list[int] = []
    for sql, params in checks:
        cursor.execute(sql, params)
        stale.extend(r[0] for r in cursor.fetchall())
    return stale


_MEMBER_COLS = (
    "name, name_initials, id_number_enc, id_number_hash, id_masked, sex, birth_date, mobile_enc, mobile_hash, "
    "mobile_masked, employer_id, employer_name, employment_form, is_migrant_worker, education, skill_level, user_id, "
    "current_membership_id, org_path, created_at, updated_at"
)
_MEMBER_VALUES = (
    "name, coalesce(name_initials, ''), id_enc, id_hash, id_masked, sex, birth_date, mobile_enc, mobile_hash, "
    "mobile_masked, NULL, coalesce(employer_name, ''), employment_form, is_migrant, coalesce(education, ''), "
    "coalesce(skill_level, ''), NULL"
)
_MEMBERSHIP_COLS = (
    "id, member_id, union_id, org_path, member_number, status, joined_on, ended_on, end_reason, created_at, updated_at"
)


def _update_existing(cursor, path: str, now, *, only: str = "TRUE") -> None:
    """People already on the roll, from the temp table: their new details, current membership
    and path (empty temp fields keep the stored value)."""
    m = "members_member"
    # The mobile of a person with a worker account is their sign-in name: a roster is a
    # clerk's file, not the owner's proof, so it never changes it (issue 16: an account
    # changes credentials only through the owner or an in-person check, see
    # members.services). People without an account take the roster's mobile.

    def mobile(col: str) -> str:
        return f"{col} = CASE WHEN {m}.user_id IS NULL THEN coalesce(t.{col}, {m}.{col}) ELSE {m}.{col} END, "

    cursor.execute(
        f"UPDATE {m} SET name = t.name, name_initials = coalesce(t.name_initials, ''), "
        + mobile("mobile_enc")
        + mobile("mobile_hash")
        + mobile("mobile_masked")
        + f"employer_name = coalesce(t.employer_name, ''), employment_form = t.employment_form, "
        f"is_migrant_worker = t.is_migrant, education = coalesce(t.education, ''), "
        f"skill_level = coalesce(t.skill_level, ''), "
        f"current_membership_id = coalesce(t.membership_id, {m}.current_membership_id), "
        f"org_path = %s, updated_at = %s FROM {_TMP} t WHERE {m}.id = t.member_id AND {only}",
        [path, now],
    )


def _write_batch(cursor, vendor: str, union: Organization, text: str, k: int, existing: int, now) -> list[int]:
    """SQLite: write one batch through the temp table. Returns the stale row numbers.

    `k`: rows that start a membership; `existing`: rows about people already on the roll.
    """
    _load_tmp(cursor, vendor, text)
    stale = _drop_stale(cursor, union.pk, existing)
    prefix, first = reserve_member_numbers(union=union, count=k) if k else ("", 1)
    path = union.path
    # The database write lock is held for the whole transaction: max(id) is stable.
    for table, col, cond in (
        ("members_member", "member_id", "action = 'c'"),
        ("members_membership", "membership_id", "action IN ('c', 'r')"),
    ):
        cursor.execute(
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0), "
            f"coalesce((SELECT max(id) FROM {table}), 0))"
        )
        base = cursor.fetchone()[0]
        cursor.execute(
            f"UPDATE {_TMP} SET {col} = %s + s.n FROM (SELECT rn, row_number() OVER (ORDER BY rn) AS n "
            f"FROM {_TMP} WHERE {cond}) s WHERE {_TMP}.rn = s.rn",
            [base],
        )
    cursor.execute(
        f"INSERT INTO members_member (id, {_MEMBER_COLS}) SELECT member_id, {_MEMBER_VALUES}, membership_id, "
        f"%s, %s, %s FROM {_TMP} WHERE action = 'c' ORDER BY rn",
        [path, now, now],
    )
    cursor.execute(
        f"INSERT INTO members_membership ({_MEMBERSHIP_COLS}) SELECT t.membership_id, t.member_id, %s, %s, "
        "%s || printf('%%06d', %s - 1 + t.seq), 'active', t.joined_on, NULL, '', %s, %s "
        f"FROM {_TMP} t WHERE t.action IN ('c', 'r')",
        [union.pk, path, prefix, first, now, now],
    )
    if existing:
        _update_existing(cursor, path, now, only="t.action IN ('u', 'r')")
    return stale


_MEMBER_COPY_COLS = f"id, {_MEMBER_COLS}"
_NOT_NULL_TEXT = "name_initials, employer_name, education, skill_level"


def _write_direct(cursor, union: Organization, batch: _Batch) -> list[int]:
    """PostgreSQL: COPY new members and memberships straight into their tables.

    A person registered by someone else since planning makes the COPY fail on the unique
    index, and the whole import is refused (nothing half-written); rows about people
    already on the roll go through the temp table and are re-checked under lock.
    """
    stale: list[int] = []
    if batch.tmp_text:
        _load_tmp(cursor, "postgresql", batch.tmp_text)
        cursor.execute(
            f"SELECT m.id FROM members_member m JOIN {_TMP} t ON m.id = t.member_id ORDER BY m.id FOR UPDATE OF m"
        )
        cursor.execute(
            f"DELETE FROM {_TMP} WHERE action = 'u' AND NOT EXISTS (SELECT 1 FROM members_membership ms "
            f"WHERE ms.member_id = {_TMP}.member_id AND ms.status = 'active' AND ms.union_id = %s) RETURNING rn",
            [union.pk],
        )
        stale = [r[0] for r in cursor.fetchall()]
    # COPY's data goes over in one read (the last argument): in 8 kB reads, this thread
    # would wait for the GIL, held by the thread checking the next batch, thousands of
    # times a batch.
    if batch.members_text:
        cursor.copy_expert(
            f"COPY members_member ({_MEMBER_COPY_COLS}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({_NOT_NULL_TEXT}))",
            io.StringIO(batch.members_text),
            len(batch.members_text) + 1,
        )
    if batch.memberships_text:
        cursor.copy_expert(
            f"COPY members_membership ({_MEMBERSHIP_COLS}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (end_reason))",
            io.StringIO(batch.memberships_text),
            len(batch.memberships_text) + 1,
        )
    if batch.tmp_text:
        _update_existing(cursor, union.path, timezone.now())
    return stale


def _write_any(cursor, vendor: str, union: Organization, batch: _Batch, now) -> list[int]:
    if batch.members_text or batch.memberships_text or vendor == "postgresql":
        return _write_direct(cursor, union, batch)
    return _write_batch(cursor, vendor, union, batch.tmp_text, batch.k, batch.existing, now)


class _Rollback(Exception):
    """Raised inside the write transaction to undo it (all-or-nothing)."""

    def __init__(self, stale: list[int] | None = None):
        super().__init__()
        self.stale = stale or []


def _abort(stale: list[int]):
    raise _Rollback()


class _PipelinedWriter(threading.Thread):
    """Writes planned batches on its own connection while the main thread validates the next.

    Validation is Python (one core), writing is PostgreSQL (the other core); overlapping
    them roughly halves the wall time. All batches go into ONE transaction on this thread's
    connection, committed only if `finish` says so, so a failed import leaves nothing.
    """

    def __init__(self, union: Organization, now):
        super().__init__(name="member-import-writer", daemon=True)
        self.union = union
        self.now = now
        self.batches: queue.Queue = queue.Queue(maxsize=3)
        self.finish: queue.Queue = queue.Queue()
        self.stale: list[int] = []
        self.error: BaseException | None = None
        self.outcome = None
        self.cpu: dict[str, float] = {}  # this thread's and its database backend's CPU seconds
        self._ended = False

    def run(self):
        from django.db import connections

        started = time.thread_time()
        backend = db_start = None
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    backend = connection.connection.get_backend_pid()
                    db_start = backend_cpu(backend)
                    _create_tmp(cursor, connection.vendor)
                    while (item := self.batches.get()) is not None:
                        self.stale += _write_any(cursor, connection.vendor, self.union, item, self.now)
                        # Run this batch's deferred foreign-key checks now, overlapped with the
                        # validation of the next batch, instead of all of them at COMMIT.
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                    self._ended = True
                finalize = self.finish.get()
                self.outcome = finalize(self.stale)
        except _Rollback as exc:
            self.outcome = exc
        except BaseException as exc:  # reported to the main thread, which re-raises it
            self.error = exc
            self._drain()
        finally:
            self.cpu["writer"] = round(time.thread_time() - started, 3)
            db_end = backend_cpu(backend)  # after COMMIT (its checks and WAL flush)
            if db_start is not None and db_end is not None:
                self.cpu["database"] = round(db_end - db_start, 3)
            connections.close_all()

    def _drain(self):
        # Keep the producer from blocking on a full queue after a failure.
        if not self._ended:
            while self.batches.get() is not None:
                pass

    def put(self, batch: _Batch) -> None:
        if self.error is None and self.is_alive():
            self.batches.put(batch)
