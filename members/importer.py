"""Bulk import of a member roster (xlsx or csv) into one union: fast, checked, all-or-nothing.

Planning (main thread), in batches of BATCH_SIZE rows, streaming:
  every row is checked (name, ID number with checksum/birth date/age, mobile, choices,
  dates); duplicates are caught within the file (dicts of blind indexes) and against the
  roll (one query per batch, by blind index); each row gets an outcome (created, updated,
  skipped, error) written to the report and error files with masked ID numbers only.
  Rows to write are encrypted in bulk (crypto.BatchEncryptor) and encoded for the writer.

Writing, in ONE transaction, so that either everything planned is written or nothing is:
  - PostgreSQL: ids come from the sequences and member numbers from the union's locked
    counter while planning, so new members and memberships are COPYed straight into
    their tables; rows about people already on the roll go through a temporary table and
    are re-checked under row locks. When the importer owns the transaction (the Celery
    task), a writer thread does this on its own connection while the main thread plans
    the next batch: Python on one core, PostgreSQL on the other.
  - SQLite: the batches are spooled, then loaded into a temporary table and applied with
    set-based INSERT/UPDATE statements under SQLite's database write lock.

Mode "all_or_nothing" rolls everything back if any row has an error; "valid_only" writes
the valid rows and reports the others.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import pickle
import queue
import re
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.services import log_action
from organizations import roles
from organizations.errors import DomainError
from organizations.models import Organization, User
from organizations.services import require

from . import crypto, xlsx
from .models import Education, EmploymentForm, ImportJob, Member, Membership, SkillLevel
from .names import name_initials
from .services import _check_union, reserve_member_numbers
from .validators import MIN_JOIN_AGE, _age, normalize_id_number, parse_id_number_fast, parse_mobile

BATCH_SIZE = 5000
# (key, Chinese header, required). Column order of the template.
COLUMNS: list[tuple[str, str, bool]] = [
    ("name", "姓名", True),
    ("id_number", "身份证号码", True),
    ("mobile", "手机号码", True),
    ("employer_name", "工作单位", False),
    ("employment_form", "就业形态", False),
    ("is_migrant_worker", "是否农民工", False),
    ("education", "文化程度", False),
    ("skill_level", "技能等级", False),
    ("joined_on", "入会日期", False),
]
HEADER_ALIASES = {
    "姓名": "name",
    "身份证号码": "id_number",
    "身份证号": "id_number",
    "公民身份号码": "id_number",
    "手机号码": "mobile",
    "手机号": "mobile",
    "工作单位": "employer_name",
    "就业形态": "employment_form",
    "是否农民工": "is_migrant_worker",
    "农民工": "is_migrant_worker",
    "文化程度": "education",
    "技能等级": "skill_level",
    "入会日期": "joined_on",
}
REPORT_HEADER = ["行号", "姓名", "身份证号码（已脱敏）", "结果", "说明"]
OUTCOME_LABELS = {"created": "新增", "updated": "更新", "skipped": "跳过", "error": "错误"}
TRUE_WORDS = frozenset({"是", "y", "yes", "true", "1", "√"})
FALSE_WORDS = frozenset({"否", "n", "no", "false", "0", "", "×"})
_DATE_RE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (format, headers, merged cells, size)."""

    status_code = 400
    default_code = "import_file_invalid"


def _choice_map(choices) -> dict[str, str]:
    out = {}
    for value, label in choices.choices:
        out[str(label)] = value
        out[value] = value
    return out


# --- reading files --------------------------------------------------------------------


def detect_format(file_name: str) -> str:
    ext = Path(file_name or "").suffix.lower()
    if ext == ".xlsx":
        return "xlsx"
    if ext == ".csv":
        return "csv"
    if ext in (".xls", ".et", ".wps"):
        raise ImportFileError(_("不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 .csv 后再上传。"))
    raise ImportFileError(_("请上传 Excel（.xlsx）或 CSV（.csv）格式的会员名册，可先下载导入模板。"))


def _max_rows() -> int:
    return int(getattr(settings, "MEMBER_IMPORT_MAX_ROWS", 1_000_000))


def _too_many(limit: int) -> ImportFileError:
    return ImportFileError(
        _("文件超过 %(n)s 行数据的上限，请拆分为多个文件后分别导入。") % {"n": f"{limit:,}"}, code="too_many_rows"
    )


def _open_csv(path: str) -> Iterator[list[str]]:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head or head.startswith(b"PK\x03\x04"):
        raise ImportFileError(_("文件内容不是 CSV 文本，请确认文件格式，或下载导入模板。"))
    encoding = "utf-8-sig"
    try:
        # Incremental: a multi-byte character cut at the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        encoding = "gb18030"  # Excel on Chinese Windows saves CSV in GBK
    fh = open(path, encoding=encoding, newline="", errors="strict")
    try:
        yield from csv.reader(fh)
    except UnicodeDecodeError:
        raise ImportFileError(_("文件编码无法识别，请以 UTF-8 或 GBK 编码保存 CSV 后重新上传。")) from None
    except csv.Error as exc:
        raise ImportFileError(_("CSV 文件格式有误（%(e)s），请用 Excel 重新保存后上传。") % {"e": exc}) from None
    finally:
        fh.close()


def _open_xlsx(path: str) -> Iterator[tuple]:
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = xlsx.Workbook(path)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError, AttributeError):
        raise ImportFileError(
            _("文件不是有效的 Excel（.xlsx）文件，请用 Excel 打开确认后另存为 .xlsx 再上传。")
        ) from None
    try:
        # Merged cells hide values (only the first cell holds one): refuse rather than guess.
        if wb.has_merged_cells():
            raise ImportFileError(_("表格中有合并单元格，请取消合并并在每一行填写完整后再上传。"), code="merged_cells")
        limit = _max_rows()
        declared = wb.declared_rows()
        if declared is not None and declared - 1 > limit:
            raise _too_many(limit)
        try:
            yield from wb.rows()
        except expat.ExpatError:
            raise ImportFileError(_("Excel 文件内容已损坏，请用 Excel 打开后重新保存再上传。")) from None
    finally:
        wb.close()


def estimate_rows(path: str, fmt: str) -> int | None:
    """Data rows in the file, for the progress bar (lines of a CSV; an xlsx's declared size)."""
    try:
        if fmt == "csv":
            lines = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    lines += chunk.count(b"\n")
            return max(lines - 1, 0)
        wb = xlsx.Workbook(path)
        try:
            declared = wb.declared_rows()
        finally:
            wb.close()
        return max(declared - 1, 0) if declared else None
    except Exception:  # only an estimate: the import itself reports a bad file properly
        return None


def read_rows(path: str, fmt: str) -> tuple[dict[str, int], Iterator[tuple[int, tuple]]]:
    """Header map {key: column index} and an iterator of (spreadsheet row number, cells)."""
    it = _open_xlsx(path) if fmt == "xlsx" else _open_csv(path)
    header_row = None
    row_no = 0
    for cells in it:
        row_no += 1
        if any(c not in (None, "") for c in cells):
            header_row = cells
            break
    if header_row is None:
        raise ImportFileError(_("文件是空的：第一行应为表头（姓名、身份证号码、手机号码……），请使用导入模板。"))
    header = _check_headers(header_row)

    def rows() -> Iterator[tuple[int, tuple]]:
        n = row_no
        limit = _max_rows()
        count = 0
        for cells in it:
            n += 1
            if not any(cells) and not any(c not in (None, "") for c in cells):
                continue  # a blank line (a 0 in a cell is not blank)
            count += 1
            if count > limit:
                raise _too_many(limit)
            yield n, cells

    return header, rows()


def _check_headers(cells) -> dict[str, int]:
    header: dict[str, int] = {}
    unknown = []
    for i, cell in enumerate(cells):
        text = re.sub(r"[\s*＊]", "", str(cell or ""))
        if not text:
            continue
        key = HEADER_ALIASES.get(text)
        if key is None:
            unknown.append(text)
        elif key in header:
            raise ImportFileError(_("表头“%(h)s”出现了两次，请删除重复的列。") % {"h": text}, code="bad_headers")
        else:
            header[key] = i
    if unknown:
        known = "、".join(h for _k, h, _r in COLUMNS)
        raise ImportFileError(
            _("表头中有无法识别的列：%(cols)s。可用的列为：%(known)s；请使用导入模板。")
            % {"cols": "、".join(unknown), "known": known},
            code="bad_headers",
        )
    missing = [h for k, h, required in COLUMNS if required and k not in header]
    if missing:
        raise ImportFileError(
            _("表头缺少必填列：%(cols)s，请使用导入模板。") % {"cols": "、".join(missing)}, code="bad_headers"
        )
    return header


# --- validating rows ------------------------------------------------------------------


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
    birth_date: dt.date
    mobile: str | None  # None: unchanged (updates)
    mobile_hash: str | None
    employer_name: str
    employment_form: str
    is_migrant: bool
    education: str
    skill_level: str
    joined_on: dt.date


@dataclass
class _RowContext:
    """What checking a row needs (see _check_rows)."""

    header: dict[str, int]
    today: dt.date
    blind_key: str
    fernet_key: str

    def __post_init__(self):
        self.width = max(self.header.values()) + 1 if self.header else 0
        # Position of each COLUMNS key in a row; absent columns read the trailing None.
        self.positions = tuple(self.header.get(k, self.width) for k, _h, _r in COLUMNS)
        self.present = frozenset(self.header)


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
        )


class _RowError(Exception):
    pass


_EMPLOYMENT = _choice_map(EmploymentForm)
_EDUCATION = _choice_map(Education)
_SKILL = _choice_map(SkillLevel)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _id_text(value) -> str:
    if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15):
        # Excel keeps 15 significant digits: an 18-digit ID typed as a number is already damaged.
        raise _RowError(_("身份证号码被 Excel 存成了数字（末几位已丢失），请将该列设为“文本”格式后重新填写。"))
    return _text(value)


def _choice(value, mapping: dict[str, str], label, default: str) -> str:
    if value is None or value == "":
        return default
    found = mapping.get(value)
    if found is not None:
        return found
    text = _text(value)
    found = mapping.get(text)
    if found is not None:
        return found
    if not text:
        return default
    options = "、".join(k for k, v in mapping.items() if k != v)
    raise _RowError(_("%(label)s“%(v)s”无法识别，请填写：%(opts)s。") % {"label": label, "v": text, "opts": options})


def _bool(value) -> bool:
    text = _text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise _RowError(_("是否农民工“%(v)s”无法识别，请填写“是”或“否”。") % {"v": text})


_DATE_CACHE: dict[str, dt.date] = {}


def _date(value, today: dt.date) -> dt.date:
    if value is None or value == "":
        return today
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = _text(value)
        day = _DATE_CACHE.get(text)
        if day is None:
            m = _DATE_RE.fullmatch(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
            if not m:
                raise _RowError(_("入会日期“%(v)s”格式不对，请写成 2024-05-01。") % {"v": text})
            try:
                day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise _RowError(_("入会日期“%(v)s”不存在，请核对。") % {"v": text}) from None
            if len(_DATE_CACHE) < 10000:
                _DATE_CACHE[text] = day
    if day > today:
        raise _RowError(_("入会日期 %(d)s 晚于今天，请核对。") % {"d": day.isoformat()})
    if day.year < 1950:
        raise _RowError(_("入会日期 %(d)s 过早，请核对。") % {"d": day.isoformat()})
    return day


_LABEL_EMPLOYMENT = gettext_lazy("就业形态")
_LABEL_EDUCATION = gettext_lazy("文化程度")
_LABEL_SKILL = gettext_lazy("技能等级")


def _parse_row(state: _RowContext, cells) -> dict:
    """One row checked and normalised; raises _RowError with the message for the report.

    This is the hot loop of a million-row import: no translation, no exception and no
    query on the happy path; cells are read by precomputed position.
    """
    width = state.width
    if len(cells) != width:
        cells = (*cells[:width], *([None] * (width - len(cells))))
    cells = (*cells, None)  # absent optional columns point at this trailing None
    i_name, i_id, i_mobile, i_emp, i_form, i_mig, i_edu, i_skill, i_joined = state.positions
    name = cells[i_name]
    name = name.strip() if type(name) is str else _text(name)
    if not name:
        raise _RowError(_("姓名为空，请填写与身份证一致的姓名。"))
    if len(name) > 50:
        raise _RowError(_("姓名超过 50 个字，请核对。"))
    raw_id = cells[i_id]
    raw_mobile = cells[i_mobile]
    try:
        info = parse_id_number_fast(raw_id.strip() if type(raw_id) is str else _id_text(raw_id), today=state.today)
        mobile = parse_mobile(raw_mobile.strip() if type(raw_mobile) is str else _text(raw_mobile))
    except ValidationError as exc:
        raise _RowError(next(iter(exc.message_dict.values()))[0]) from None
    if _age(info.birth_date, state.today) < MIN_JOIN_AGE:
        raise _RowError(_("身份证号码显示未满 %(n)s 周岁，不能入会。") % {"n": MIN_JOIN_AGE})
    present = state.present
    joined_on = _date(cells[i_joined], state.today)
    if joined_on < info.birth_date:
        raise _RowError(_("入会日期早于出生日期，请核对。"))
    return {
        "name": name,
        "info": info,
        "mobile": mobile,
        "employer_name": _text(cells[i_emp])[:120] if "employer_name" in present else None,
        "employment_form": _choice(cells[i_form], _EMPLOYMENT, _LABEL_EMPLOYMENT, EmploymentForm.FULL_TIME)
        if "employment_form" in present
        else None,
        "is_migrant": _bool(cells[i_mig]) if "is_migrant_worker" in present else None,
        "education": _choice(cells[i_edu], _EDUCATION, _LABEL_EDUCATION, "") if "education" in present else None,
        "skill_level": _choice(cells[i_skill], _SKILL, _LABEL_SKILL, "") if "skill_level" in present else None,
        "joined_on": joined_on,
    }


def _masked_from_cell(cells: tuple, header: dict[str, int]) -> str:
    i = header.get("id_number")
    raw = normalize_id_number(_text(cells[i])) if i is not None and i < len(cells) else ""
    return crypto.mask_id(raw) if raw else ""


# --- phase 1: plan ----------------------------------------------------------------------


class _Files:
    """Report and error rows, streamed to temporary files (they can be a million lines)."""

    def __init__(self, header: dict[str, int]):
        self.header = header
        self.report = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.report_csv = csv.writer(self.report)
        self.error_file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.error_csv = csv.writer(self.error_file)

    def close(self):
        self.report.close()
        self.error_file.close()


SPOOL_COLUMNS = (
    "rn action member_id seq name name_initials id_enc id_hash id_masked sex birth_date "
    "mobile_enc mobile_hash mobile_masked employer_name employment_form is_migrant education skill_level joined_on "
    "membership_id"
).split()


_TOOLS: dict[tuple[str, str], tuple] = {}


def _tools(ctx: _RowContext):
    key = (ctx.blind_key, ctx.fernet_key)
    tools = _TOOLS.get(key)
    if tools is None:
        tools = _TOOLS[key] = (crypto.BlindIndexer(ctx.blind_key), crypto.BatchEncryptor(ctx.fernet_key))
    return tools


def _check_rows(batch: list[tuple[int, tuple]], ctx: _RowContext) -> list[tuple]:
    """The pure, CPU-heavy part of planning: check each row, blind-index and encrypt it.

    Needs no database. Returns, in row order, (rn, None, message, cells) for a bad row, or (rn, row, id_hash, mobile_hash,
    id_token, mobile_token, cells) for a good one.
    """
    indexer, encryptor = _tools(ctx)
    out: list = []
    good: list[tuple[int, dict]] = []
    for rn, cells in batch:
        try:
            row = _parse_row(ctx, cells)
        except _RowError as exc:
            out.append((rn, None, str(exc), cells))
            continue
        good.append((len(out), row))
        out.append(None)
    id_tokens = encryptor.encrypt_many([row["info"].number for _i, row in good])
    mobile_tokens = encryptor.encrypt_many([row["mobile"] for _i, row in good])
    for (i, row), id_token, mobile_token in zip(good, id_tokens, mobile_tokens, strict=True):
        rn, cells = batch[i]
        out[i] = (
            rn,
            row,
            indexer.id_number(row["info"].number),
            indexer.mobile(row["mobile"]),
            id_token,
            mobile_token,
            cells,
        )
    return out


def _plan_batch(state: _State, checked: list[tuple], files: _Files) -> _Batch:
    """Decide each checked row's outcome (duplicates, the roll) and encode it for the writer."""
    res = state.result
    parsed: list[tuple[int, tuple, dict, str, str]] = []
    tokens: dict[int, tuple[str, str]] = {}
    report = files.report_csv.writerow
    seen_ids, seen_mobiles = state.seen_ids, state.seen_mobiles
    for item in checked:
        res.rows += 1
        rn, row = item[0], item[1]
        if row is None:
            _error(state, files, rn, item[3], item[2])
            continue
        h, mh, cells = item[2], item[3], item[6]
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
        tokens[rn] = (item[4], item[5])
        parsed.append((rn, cells, row, h, mh))
    if not parsed:
        return _Batch()
    # One query per batch for the people already on the roll (exact blind-index match).
    existing = {r[1]: r for r in _existing(connection.vendor, [p[3] for p in parsed])}
    plans: list[_Prepared] = []
    union_id = state.union.pk
    for rn, cells, row, h, mh in parsed:
        info = row["info"]
        old = existing.get(h)
        if old is None:
            action, member_id = "c", None
            prof = {
                "employer_name": row["employer_name"] or "",
                "employment_form": row["employment_form"] or EmploymentForm.FULL_TIME,
                "is_migrant": bool(row["is_migrant"]),
                "education": row["education"] or "",
                "skill_level": row["skill_level"] or "",
            }
            mobile, mobile_h = row["mobile"], mh
        else:
            (member_id, _h, old_name, old_mh, old_emp, old_form, old_mig, old_edu, old_skill, st, u_id, u_name, no) = (
                old
            )
            if st == Membership.Status.ACTIVE and u_id != union_id:
                _error(
                    state,
                    files,
                    rn,
                    cells,
                    _("该职工已是“%(u)s”的在册会员（会员编号 %(no)s），请办理会员关系转接，不能重复入会。")
                    % {"u": u_name, "no": no},
                )
                continue
            prof = {
                "employer_name": old_emp if row["employer_name"] is None else row["employer_name"],
                "employment_form": old_form if row["employment_form"] is None else row["employment_form"],
                "is_migrant": old_mig if row["is_migrant"] is None else row["is_migrant"],
                "education": old_edu if row["education"] is None else row["education"],
                "skill_level": old_skill if row["skill_level"] is None else row["skill_level"],
            }
            changed_mobile = mh != old_mh
            mobile, mobile_h = (row["mobile"], mh) if changed_mobile else (None, None)
            if st == Membership.Status.ACTIVE:
                same = (
                    not changed_mobile
                    and row["name"] == old_name
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
                    report([rn, row["name"], crypto.mask_id(info.number), "skipped", _("已在本工会名册中，信息无变化")])
                    continue
                action = "u"
            else:
                action = "r"
        plans.append(
            _Prepared(
                rn=rn,
                action=action,
                member_id=member_id,
                name=row["name"],
                id_number=info.number,
                id_hash=h,
                id_masked=crypto.mask_id(info.number),
                sex=info.sex,
                birth_date=info.birth_date,
                mobile=mobile,
                mobile_hash=mobile_h,
                joined_on=row["joined_on"],
                **prof,
            )
        )
    # Tokens were made in bulk while checking (see crypto.BatchEncryptor).
    id_tokens = {p.rn: tokens[p.rn][0] for p in plans if p.action == "c"}
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
        name_initials(p.name),
        id_token or "",
        p.id_hash if p.action == "c" else "",
        p.id_masked,
        p.sex,
        p.birth_date.isoformat(),
        mobile_token or "",
        p.mobile_hash or "",
        crypto.mask_mobile(p.mobile) if p.mobile else "",
        p.employer_name,
        p.employment_form,
        "1" if p.is_migrant else "0",
        p.education,
        p.skill_level,
        p.joined_on.isoformat(),
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
    days: dict[dt.date, str] = {}
    ms_tail = f",,,{now},{now}\n"
    member_tail = f",{path},{now},{now}\n"
    seq = first
    for p in plans:
        ms_id = ""
        if p.action in ("c", "r"):
            ms_id = next(it_ms)
            member_id = next(it_member) if p.action == "c" else p.member_id
            joined = days.get(p.joined_on)
            if joined is None:
                joined = days[p.joined_on] = p.joined_on.isoformat()
            ms_lines.append(f"{ms_id},{member_id},{union_id},{path},{prefix}{seq:06d},active,{joined}{ms_tail}")
            seq += 1
            if p.action == "c":
                idn = p.id_number
                member_lines.append(
                    f"{member_id},{_q(p.name)},{name_initials(p.name)},{id_tokens[p.rn]},{p.id_hash},"
                    f"{p.id_masked},{p.sex},{idn[6:14]},{mobile_tokens[p.rn]},{p.mobile_hash},"
                    f"{p.mobile[:3]}****{p.mobile[7:]},,{_q(p.employer_name)},{p.employment_form},"
                    f"{'t' if p.is_migrant else 'f'},{p.education},{p.skill_level},,{ms_id}{member_tail}"
                )
                continue
        w_tmp(_tmp_row(p, "", None, mobile_tokens.get(p.rn), ms_id))
    return _Batch(
        tmp_text=tmp.getvalue(),
        existing=len(plans) - len(new),
        members_text="".join(member_lines),
        memberships_text="".join(ms_lines),
    )


def _q(text: str) -> str:
    """A CSV field: quoted only when it must be."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


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
    # One array parameter instead of 5,000 placeholders (the ORM spends ~10 µs on each).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.id, m.id_number_hash, m.name, m.mobile_hash, m.employer_name, m.employment_form, "
            "m.is_migrant_worker, m.education, m.skill_level, ms.status, ms.union_id, o.name, ms.member_number "
            "FROM members_member m LEFT JOIN members_membership ms ON ms.id = m.current_membership_id "
            "LEFT JOIN organizations_organization o ON o.id = ms.union_id WHERE m.id_number_hash = ANY(%s)",
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
    row = [_text(c) for c in cells]
    id_i = state.header.get("id_number")
    if id_i is not None and id_i < len(row):
        row[id_i] = masked
    files.error_csv.writerow([rn, message, *row])


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
        cursor.copy_expert(f"COPY {_TMP} ({cols}) FROM STDIN WITH (FORMAT csv)", io.StringIO(text))
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
        m = "members_member"
        cursor.execute(
            f"UPDATE {m} SET name = t.name, name_initials = coalesce(t.name_initials, ''), "
            f"mobile_enc = coalesce(t.mobile_enc, {m}.mobile_enc), "
            f"mobile_hash = coalesce(t.mobile_hash, {m}.mobile_hash), "
            f"mobile_masked = coalesce(t.mobile_masked, {m}.mobile_masked), "
            f"employer_name = coalesce(t.employer_name, ''), employment_form = t.employment_form, "
            f"is_migrant_worker = t.is_migrant, education = coalesce(t.education, ''), "
            f"skill_level = coalesce(t.skill_level, ''), "
            f"current_membership_id = coalesce(t.membership_id, {m}.current_membership_id), "
            f"org_path = %s, updated_at = %s FROM {_TMP} t WHERE {m}.id = t.member_id AND t.action IN ('u', 'r')",
            [path, now],
        )
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
    if batch.members_text:
        cursor.copy_expert(
            f"COPY members_member ({_MEMBER_COPY_COLS}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({_NOT_NULL_TEXT}))",
            io.StringIO(batch.members_text),
        )
    if batch.memberships_text:
        cursor.copy_expert(
            f"COPY members_membership ({_MEMBERSHIP_COLS}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (end_reason))",
            io.StringIO(batch.memberships_text),
        )
    if batch.tmp_text:
        m = "members_member"
        cursor.execute(
            f"UPDATE {m} SET name = t.name, name_initials = coalesce(t.name_initials, ''), "
            f"mobile_enc = coalesce(t.mobile_enc, {m}.mobile_enc), "
            f"mobile_hash = coalesce(t.mobile_hash, {m}.mobile_hash), "
            f"mobile_masked = coalesce(t.mobile_masked, {m}.mobile_masked), "
            f"employer_name = coalesce(t.employer_name, ''), employment_form = t.employment_form, "
            f"is_migrant_worker = t.is_migrant, education = coalesce(t.education, ''), "
            f"skill_level = coalesce(t.skill_level, ''), "
            f"current_membership_id = coalesce(t.membership_id, {m}.current_membership_id), "
            f"org_path = %s, updated_at = %s FROM {_TMP} t WHERE {m}.id = t.member_id",
            [union.path, timezone.now()],
        )
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
        self._ended = False

    def run(self):
        from django.db import connections

        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
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
            connections.close_all()

    def _drain(self):
        # Keep the producer from blocking on a full queue after a failure.
        if not self._ended:
            while self.batches.get() is not None:
                pass

    def put(self, batch: _Batch) -> None:
        if self.error is None and self.is_alive():
            self.batches.put(batch)


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
        header, source = read_rows(path, fmt or detect_format(path))
    else:
        header = {k: i for i, (k, _h, _r) in enumerate(COLUMNS)}
        source = ((i + 2, tuple(r.get(k) for k, _h, _r in COLUMNS)) for i, r in enumerate(rows or []))
    state = _State(union=union, header=header, today=timezone.localdate(), mode=mode)
    files = _Files(header)
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
        batch: list[tuple[int, tuple]] = []
        try:
            for item in source:
                batch.append(item)
                if len(batch) >= BATCH_SIZE:
                    emit(_plan_batch(state, _check_rows(batch, state.ctx), files))
                    batch = []
                    if job is not None:
                        _progress(job, res, phase="importing")
            if batch:
                emit(_plan_batch(state, _check_rows(batch, state.ctx), files))
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
        files.close()
        if spool is not None:
            spool.close()


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
    )


def _save_files(job: ImportJob, writer: _Files, res: ImportResult, stale: list[int]) -> None:
    """Final report (csv) and error file (xlsx) under MEDIA_ROOT/member-imports/<job id>/."""
    stale_set = set(stale)
    failed_whole = not res.written
    folder = f"member-imports/{job.pk}"
    writer.report.flush()
    writer.report.seek(0)
    report_buf = io.StringIO()
    out = csv.writer(report_buf)
    out.writerow(REPORT_HEADER)
    for rec in csv.reader(writer.report):
        rn = int(rec[0])
        outcome, reason = rec[3], rec[4]
        if rn in stale_set:
            outcome, reason = "error", _("导入过程中已被他人登记入会，请核对后重新导入该行。")
        elif failed_whole and outcome in ("created", "updated"):
            outcome, reason = "skipped", _("整批未导入，请先改正错误行。")
        out.writerow([rn, rec[1], rec[2], OUTCOME_LABELS.get(outcome, outcome), reason])
    job.report_path = default_storage.save(
        f"{folder}/report.csv", _ContentFile(("\ufeff" + report_buf.getvalue()).encode("utf-8"))
    )
    if res.errors or stale:
        job.error_path = default_storage.save(f"{folder}/errors.xlsx", _ContentFile(_error_xlsx(writer, stale_set)))


def _error_xlsx(writer: _Files, stale: set[int]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("错误清单")
    headers = [""] * (max(writer.header.values()) + 1 if writer.header else 0)
    labels = {k: h for k, h, _r in COLUMNS}
    for key, idx in writer.header.items():
        headers[idx] = labels[key]
    ws.append(["行号", "错误说明", *headers])
    writer.error_file.flush()
    writer.error_file.seek(0)
    for rec in csv.reader(writer.error_file):
        ws.append([int(rec[0]), *rec[1:]])
    if stale:
        ws.append([])
        ws.append(["", _("另有 %(n)s 行在导入过程中已被他人登记入会，见导入报告。") % {"n": len(stale)}])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ContentFile(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data)


# --- jobs -------------------------------------------------------------------------------


@transaction.atomic
def import_job_create(*, actor: User, union: Organization, uploaded_file, mode: str) -> ImportJob:
    """Store an upload and queue its import (the task runs after this transaction commits)."""
    require(actor, roles.MEMBER_MANAGE, union)
    _check_union(union)
    if mode not in ImportJob.Mode.values:
        raise ValidationError({"mode": _("请选择导入方式：全部正确才导入，或只导入正确的行。")})
    name = os.path.basename(getattr(uploaded_file, "name", "") or "upload")
    fmt = detect_format(name)
    job = ImportJob.objects.create(
        union=union, org_path=union.path, created_by=actor, mode=mode, file_name=name[:200], file_format=fmt
    )
    job.upload_path = default_storage.save(f"member-imports/{job.pk}/upload.{fmt}", uploaded_file)
    job.save(update_fields=["upload_path"])
    log_action(actor=actor, action="member.import_queued", target=job, organization=union, data={"file": name})
    from .tasks import run_member_import

    transaction.on_commit(lambda: run_member_import.delay(job.pk))
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
    except (DomainError, ValidationError) as exc:
        message = getattr(exc, "message", None) or "；".join(getattr(exc, "messages", [str(exc)]))
        message = str(message)
    except Exception:  # the job must never stay "running" forever; the error goes to the log
        import logging

        logging.getLogger(__name__).exception("member import %s crashed", job_id)
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
        total_rows=res.rows,
        processed_rows=res.rows,
        created_count=res.created,
        updated_count=res.updated,
        skipped_count=res.skipped,
        error_count=res.errors,
        finished_at=timezone.now(),
    )
    return True


# --- template -------------------------------------------------------------------------

TEMPLATE_NOTES = [
    ("姓名", gettext_lazy("必填，与身份证一致。")),
    ("身份证号码", gettext_lazy("必填，18 位（最后一位可为 X）；15 位旧号码会自动升位。请把此列设为“文本”格式。")),
    ("手机号码", gettext_lazy("必填，本人 11 位手机号码，会员凭此登录。")),
    ("工作单位", gettext_lazy("选填。")),
    ("就业形态", gettext_lazy("选填，可填：%(v)s；不填为全日制。")),
    ("是否农民工", gettext_lazy("选填，填“是”或“否”。")),
    ("文化程度", gettext_lazy("选填，可填：%(v)s。")),
    ("技能等级", gettext_lazy("选填，可填：%(v)s。")),
    ("入会日期", gettext_lazy("选填，格式 2024-05-01；不填为导入当天。")),
]


def template_xlsx() -> bytes:
    """The import template: Chinese headers, text-formatted ID column, and a notes sheet."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "会员名册"
    ws.append([h for _k, h, _r in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDEFGHI", (10, 22, 14, 28, 12, 10, 12, 14, 12), strict=True):
        ws.column_dimensions[col].width = width
        for row in range(2, 1002):
            if col in "BC":
                ws[f"{col}{row}"].number_format = "@"
    notes = wb.create_sheet("填写说明")
    values = {
        "就业形态": "、".join(str(lbl) for lbl in EmploymentForm.labels),
        "文化程度": "、".join(str(lbl) for lbl in Education.labels),
        "技能等级": "、".join(str(lbl) for lbl in SkillLevel.labels),
    }
    notes.append(["列", "说明"])
    for header, note in TEMPLATE_NOTES:
        text = str(note)
        if "%(v)s" in text:
            text = text % {"v": values[header]}
        notes.append([header, text])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_csv() -> bytes:
    return ("\ufeff" + ",".join(h for _k, h, _r in COLUMNS) + "\r\n").encode("utf-8")
