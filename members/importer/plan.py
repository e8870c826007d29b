"""Planning a batch: duplicates within the file and against the roll, outcomes, encoding for the writer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from core import crypto
from organizations.models import Organization

from ..models import EmploymentForm, ImportJob, Member, Membership
from ..names import name_initials
from ..services import reserve_member_numbers
from .rows import BAD, SEP, _masked_from_cell, _q, _RowContext, _text, unpack_rest


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0
    rows: int = 0
    written: bool = False
    message: str = ""
    first_error_row: int | None = None
    # CPU seconds by side, for operators and the benchmark: "main" (the importing process
    # but its writer thread: reading, planning, taking the checked rows back),
    # "checkers" (worker processes), "writer" (the writer thread), "database" (its
    # PostgreSQL backend, when local), "planner_database" (the backend of the importing
    # process's own connection: roll lookups, ids, numbers); "workers" is the pool size
    # (0: checked in-process).
    cpu: dict = field(default_factory=dict)


@dataclass
class _Prepared:
    rn: int
    action: str  # c(reate), u(pdate), r(ejoin)
    member_id: int | None
    name: str
    id_number: str
    id_hash: str
    id_masked: str
    sex: str
    birth_date: str  # ISO dates: what the writer's CSV takes
    mobile: str | None  # None: unchanged (updates)
    mobile_hash: str | None
    employer_name: str
    employment_form: str
    is_migrant: bool
    education: str
    skill_level: str
    joined_on: str
    initials: str = ""
    member_text: str = ""  # a new member's COPY line between its id and its membership id (rows._check_rows)


class _New:
    """A new person on PostgreSQL: what the direct writer needs (see _encode_direct)."""

    __slots__ = ("rn", "name", "id_masked", "joined_on", "member_text")
    action = "c"
    member_id = None
    mobile = None

    def __init__(self, rn: int, name: str, id_masked: str, joined_on: str, member_text: str):
        self.rn, self.name, self.id_masked, self.joined_on, self.member_text = (
            rn,
            name,
            id_masked,
            joined_on,
            member_text,
        )


@dataclass
class _State:
    union: Organization
    header: dict[str, int]
    today: dt.date
    mode: str
    seen_ids: dict[str, int] = field(default_factory=dict)
    seen_mobiles: dict[str, int] = field(default_factory=dict)
    result: ImportResult = field(default_factory=ImportResult)

    direct: bool = False  # PostgreSQL: COPY straight into the tables (see _encode_direct)
    now_text: str = ""

    def __post_init__(self):
        self.ctx = _RowContext(
            header=self.header,
            today=self.today,
            blind_key=settings.BLIND_INDEX_KEY,
            fernet_key=settings.FIELD_ENCRYPTION_KEYS[0],
            keep_ok=self.mode == ImportJob.Mode.ALL_OR_NOTHING,  # the rows kept by _Files.keep_correct_rows
        )


class _Files:
    """Report and error rows, streamed to temporary files (they can be a million lines).

    These are private spools, read back by run._save_files, which writes the files people
    download through core.documents (formula text escaped there, once).
    """

    def __init__(self, header: dict[str, int]):
        self.header = header
        self.report = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.report_csv = csv.writer(self.report)
        self.error_file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.error_csv = csv.writer(self.error_file)
        # All-or-nothing only: the rows that passed the checks, as uploaded, so that the error
        # workbook of a failed batch holds every row and can be uploaded again as it is.
        self.ok_file = None

    def keep_correct_rows(self) -> None:
        self.ok_file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")

    def close(self):
        self.report.close()
        self.error_file.close()
        if self.ok_file is not None:
            self.ok_file.close()


SPOOL_COLUMNS = (
    "rn action member_id seq name name_initials id_enc id_hash id_masked sex birth_date "
    "mobile_enc mobile_hash mobile_masked employer_name employment_form is_migrant education skill_level joined_on "
    "membership_id"
).split()


def _plan_batch(
    state: _State, batch: list[tuple[int, tuple]], checked: tuple[list[tuple], str], files: _Files
) -> _Batch:
    """Decide each checked row's outcome (duplicates, the roll) and encode it for the writer.

    `batch`: the rows as read, (rn, cells); `checked`: rows._check_rows' result for them.
    """
    records, kept = checked
    if kept and files.ok_file is not None:
        # Every row that passed the checks; one found wrong below (a duplicate, a member of
        # another union) is also in the error rows, which run._error_xlsx lists instead.
        files.ok_file.write(kept)
    res = state.result
    parsed: list[list[str]] = []
    rows_of: dict[int, tuple] = {}
    report = files.report_csv.writerow
    seen_ids, seen_mobiles = state.seen_ids, state.seen_mobiles
    for (rn, cells), record in zip(batch, records, strict=True):
        res.rows += 1
        if record[0] == BAD:
            _error(state, files, rn, cells, record[1:])
            continue
        # h, mh, name, masked ID, join date, the new member's text, REST (rows._check_rows)
        item = record.split(SEP, 6)
        h, mh = item[0], item[1]
        first = seen_ids.get(h)
        if first is not None:
            _error(state, files, rn, cells, _("身份证号码与第 %(n)s 行重复，请删除重复行。") % {"n": first})
            continue
        first = seen_mobiles.get(mh)
        if first is not None:
            _error(state, files, rn, cells, _("手机号码与第 %(n)s 行相同，每位会员应填写本人手机号码。") % {"n": first})
            continue
        seen_ids[h] = rn
        seen_mobiles[mh] = rn
        rows_of[rn] = cells
        item.append(rn)
        parsed.append(item)
    if not parsed:
        return _Batch()
    # One query per batch for the people already on the roll (exact blind-index match).
    existing = {r[1]: r for r in _existing(connection.vendor, [p[0] for p in parsed])}
    plans: list[_Prepared | _New] = []
    union_id = state.union.pk
    direct = state.direct
    tokens: dict[int, tuple[str, str]] = {}
    for h, mh, name, id_masked, joined_on, member_text, rest, rn in parsed:
        old = existing.get(h)
        if old is None and direct:
            # The common case, a new person: the checker's COPY line is all the writer needs.
            plans.append(_New(rn, name, id_masked, joined_on, member_text))
            continue
        (
            initials,
            id_token,
            mobile_token,
            id_number,
            sex,
            birth_date,
            row_mobile,
            employer,
            form,
            migrant,
            education,
            skill,
        ) = unpack_rest(rest)
        tokens[rn] = (id_token, mobile_token)
        if old is None:
            action, member_id = "c", None
            prof = {
                "employer_name": employer or "",
                "employment_form": form or EmploymentForm.FULL_TIME,
                "is_migrant": bool(migrant),
                "education": education or "",
                "skill_level": skill or "",
            }
            mobile, mobile_h = row_mobile, mh
        else:
            (member_id, _h, old_name, old_mh, old_emp, old_form, old_mig, old_edu, old_skill, st, u_id, u_name, no) = (
                old
            )
            if st == Membership.Status.ACTIVE and u_id != union_id:
                _error(
                    state,
                    files,
                    rn,
                    rows_of[rn],
                    _("该职工已是“%(u)s”的在册会员（会员编号 %(no)s），请办理会员关系转接，不能重复入会。")
                    % {"u": u_name, "no": no},
                )
                continue
            prof = {
                "employer_name": old_emp if employer is None else employer,
                "employment_form": old_form if form is None else form,
                "is_migrant": old_mig if migrant is None else migrant,
                "education": old_edu if education is None else education,
                "skill_level": old_skill if skill is None else skill,
            }
            changed_mobile = mh != old_mh
            mobile, mobile_h = (row_mobile, mh) if changed_mobile else (None, None)
            if st == Membership.Status.ACTIVE:
                same = (
                    not changed_mobile
                    and name == old_name
                    and (
                        prof["employer_name"],
                        prof["employment_form"],
                        prof["is_migrant"],
                        prof["education"],
                        prof["skill_level"],
                    )
                    == (old_emp, old_form, old_mig, old_edu, old_skill)
                )
                if same:
                    res.skipped += 1
                    report([rn, name, id_masked, "skipped", _("已在本工会名册中，信息无变化")])
                    continue
                action = "u"
            else:
                action = "r"
        plans.append(
            _Prepared(
                rn=rn,
                action=action,
                member_id=member_id,
                name=name,
                id_number=id_number,
                id_hash=h,
                id_masked=id_masked,
                sex=sex,
                birth_date=birth_date,
                mobile=mobile,
                mobile_hash=mobile_h,
                joined_on=joined_on,
                initials=initials,
                member_text=member_text if action == "c" else "",
                **prof,
            )
        )
    # Tokens were made in bulk while checking (see crypto.BatchEncryptor); a _New row's are
    # in its COPY line already.
    id_tokens = {p.rn: tokens[p.rn][0] for p in plans if p.action == "c" and p.rn in tokens}
    mobile_tokens = {p.rn: tokens[p.rn][1] for p in plans if p.mobile is not None}
    created_label = _("重新入会")
    lines = []
    for p in plans:
        # Report lines joined by hand: only the name can need quoting.
        if p.action == "c":
            lines.append(f"{p.rn},{_q(p.name)},{p.id_masked},created,\n")
        elif p.action == "r":
            lines.append(f"{p.rn},{_q(p.name)},{p.id_masked},created,{created_label}\n")
        else:
            lines.append(f"{p.rn},{_q(p.name)},{p.id_masked},updated,\n")
    starts = sum(1 for p in plans if p.action != "u")
    res.created += starts
    res.updated += len(plans) - starts
    files.report.write("".join(lines))
    if state.direct:
        return _encode_direct(state, plans, id_tokens, mobile_tokens)
    return _encode_tmp(plans, id_tokens, mobile_tokens)


@dataclass
class _Batch:
    """One planned batch, ready for the writer."""

    tmp_text: str = ""  # rows for the temp table (SPOOL_COLUMNS): all rows, or only existing people
    k: int = 0  # memberships started (temp-table path: numbered by the writer)
    existing: int = 0  # rows about people already on the roll
    members_text: str = ""  # direct path: COPY into members_member
    memberships_text: str = ""  # direct path: COPY into members_membership

    def __bool__(self) -> bool:
        return bool(self.tmp_text or self.members_text or self.memberships_text)


def _tmp_row(p, seq, id_token, mobile_token, membership_id=""):
    return [
        p.rn,
        p.action,
        p.member_id or "",
        seq,
        p.name,
        p.initials or name_initials(p.name),
        id_token or "",
        p.id_hash if p.action == "c" else "",
        p.id_masked,
        p.sex,
        p.birth_date,
        mobile_token or "",
        p.mobile_hash or "",
        crypto.mask_mobile(p.mobile) if p.mobile else "",
        p.employer_name,
        p.employment_form,
        "1" if p.is_migrant else "0",
        p.education,
        p.skill_level,
        p.joined_on,
        membership_id,
    ]


def _encode_tmp(plans, id_tokens, mobile_tokens) -> _Batch:
    """Temp-table layout for every row; the writer numbers and inserts (SQLite)."""
    buf = io.StringIO()
    spool = csv.writer(buf).writerow
    seq = 0
    for p in plans:
        starts = p.action in ("c", "r")
        if starts:
            seq += 1
        spool(_tmp_row(p, seq if starts else "", id_tokens.get(p.rn), mobile_tokens.get(p.rn)))
    existing = sum(1 for p in plans if p.action != "c")
    return _Batch(tmp_text=buf.getvalue(), k=seq, existing=existing)


def _encode_direct(state: _State, plans, id_tokens, mobile_tokens) -> _Batch:
    """PostgreSQL: ids drawn from the sequences and member numbers reserved here, so new
    members and memberships go to their tables by COPY, with no INSERT … SELECT pass.

    Ids and numbers drawn for an import that is then rolled back are simply not used:
    both need to be unique, not gapless.
    """
    new = [p for p in plans if p.action == "c"]
    starts = [p for p in plans if p.action in ("c", "r")]
    member_ids = _next_ids("members_member", len(new))
    membership_ids = _next_ids("members_membership", len(starts))
    prefix, first = ("", 1)
    if starts:
        with transaction.atomic():
            prefix, first = reserve_member_numbers(union=state.union, count=len(starts))
    union_id, path, now = state.union.pk, state.union.path, state.now_text
    # Lines are joined by hand (csv.writer costs ~4 µs a row here): only free text is quoted;
    # tokens, hashes, codes, paths and dates never contain a comma, quote or newline.
    ms_lines: list[str] = []
    member_lines: list[str] = []
    tmp = io.StringIO()
    w_tmp = csv.writer(tmp).writerow
    it_member, it_ms = iter(member_ids), iter(membership_ids)
    ms_tail = f",,,{now},{now}\n"
    member_tail = f",{path},{now},{now}\n"
    seq = first
    for p in plans:
        ms_id = ""
        if p.action in ("c", "r"):
            ms_id = next(it_ms)
            member_id = next(it_member) if p.action == "c" else p.member_id
            ms_lines.append(f"{ms_id},{member_id},{union_id},{path},{prefix}{seq:06d},active,{p.joined_on}{ms_tail}")
            seq += 1
            if p.action == "c":
                member_lines.append(f"{member_id},{p.member_text}{ms_id}{member_tail}")
                continue
        w_tmp(_tmp_row(p, "", None, mobile_tokens.get(p.rn), ms_id))
    return _Batch(
        tmp_text=tmp.getvalue(),
        existing=len(plans) - len(new),
        members_text="".join(member_lines),
        memberships_text="".join(ms_lines),
    )


_SEQUENCES: dict[str, str] = {}


def _next_ids(table: str, n: int) -> list[int]:
    """n fresh ids from the table's id sequence (unique, not necessarily consecutive)."""
    if not n:
        return []
    with connection.cursor() as cursor:
        seq = _SEQUENCES.get(table)
        if seq is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            seq = _SEQUENCES[table] = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [seq, n])
        return [r[0] for r in cursor.fetchall()]


_EXISTING_COLUMNS = (
    "id",
    "id_number_hash",
    "name",
    "mobile_hash",
    "employer_name",
    "employment_form",
    "is_migrant_worker",
    "education",
    "skill_level",
    "current_membership__status",
    "current_membership__union_id",
    "current_membership__union__name",
    "current_membership__member_number",
)


def _existing(vendor: str, hashes: list[str]) -> list[tuple]:
    """People of the batch already on the roll, with their current membership: one query."""
    if vendor != "postgresql":
        return list(Member.objects.filter(id_number_hash__in=hashes).values_list(*_EXISTING_COLUMNS))
    # One array parameter instead of 5,000 placeholders (the ORM spends ~10 µs on each), and
    # one index probe per hash: the LATERAL subquery with LIMIT 1 (the hash is unique) cannot
    # be flattened into a join, so PostgreSQL cannot pick a plan that reads the whole roll.
    # Planned freely, it chose a parallel bitmap scan of `= ANY(...)` at 10M members (two
    # workers started per batch) and a hash join over a sequential scan of the member table
    # at 100k, 2-3 times the CPU (bench/notes/import-database-cost.md).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.* FROM unnest(%s::varchar[]) AS h(hash) CROSS JOIN LATERAL ("
            "SELECT m.id, m.id_number_hash, m.name, m.mobile_hash, m.employer_name, m.employment_form, "
            "m.is_migrant_worker, m.education, m.skill_level, ms.status, ms.union_id, o.name, ms.member_number "
            "FROM members_member m LEFT JOIN members_membership ms ON ms.id = m.current_membership_id "
            "LEFT JOIN organizations_organization o ON o.id = ms.union_id "
            "WHERE m.id_number_hash = h.hash LIMIT 1) AS x",
            [hashes],
        )
        return cursor.fetchall()


def _error(state: _State, files: _Files, rn: int, cells: tuple, message: str) -> None:
    res = state.result
    res.errors += 1
    if res.first_error_row is None:
        res.first_error_row = rn
    masked = _masked_from_cell(cells, state.header)
    name_i = state.header.get("name")
    name = _text(cells[name_i]) if name_i is not None and name_i < len(cells) else ""
    files.report_csv.writerow([rn, name, masked, "error", message])
    # The row as uploaded, in a private temporary spool: run._save_files writes a masked
    # workbook for everyone in reach and an encrypted full one for the uploader.
    files.error_csv.writerow([rn, message, *(_text(c) for c in cells)])
