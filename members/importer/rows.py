"""Checking one row: parse, validate, and (per batch) blind-index and encrypt. No database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import crypto

from ..models import Education, EmploymentForm, SkillLevel
from ..names import name_initials
from ..validators import (
    MIN_JOIN_AGE,
    age_on,
    clean_person_name,
    clean_plain_text,
    name_is_clean,
    normalize_id_number,
    parse_id_number_fast,
    parse_mobile,
)
from .files import COLUMNS, FALSE_WORDS, TRUE_WORDS, _choice_map


@dataclass
class _RowContext:
    """What checking a row needs (see _check_rows)."""

    header: dict[str, int]
    today: dt.date
    blind_key: str
    fernet_key: str
    keep_ok: bool = False  # all-or-nothing: the good rows' cells as CSV lines (see _Files.ok_file)

    def __post_init__(self):
        self.width = max(self.header.values()) + 1 if self.header else 0
        # Position of each COLUMNS key in a row; absent columns read the trailing None.
        self.positions = tuple(self.header.get(k, self.width) for k, _h, _r in COLUMNS)
        self.present = frozenset(self.header)


class _RowError(Exception):
    pass


_DATE_RE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
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
_LABEL_EMPLOYER = gettext_lazy("工作单位")
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
    if not name_is_clean(name):
        try:
            clean_person_name(name)  # the same rule as every other door, for its message
        except ValidationError as exc:
            raise _RowError(exc.message_dict["name"][0]) from None
    employer = _text(cells[i_emp])[:120] if "employer_name" in state.present else None
    if employer:
        try:
            employer = clean_plain_text(employer, field="employer_name", label=_LABEL_EMPLOYER)
        except ValidationError as exc:
            raise _RowError(exc.message_dict["employer_name"][0]) from None
    raw_id = cells[i_id]
    raw_mobile = cells[i_mobile]
    try:
        info = parse_id_number_fast(raw_id.strip() if type(raw_id) is str else _id_text(raw_id), today=state.today)
        mobile = parse_mobile(raw_mobile.strip() if type(raw_mobile) is str else _text(raw_mobile))
    except ValidationError as exc:
        raise _RowError(next(iter(exc.message_dict.values()))[0]) from None
    if age_on(info.birth_date, state.today) < MIN_JOIN_AGE:
        raise _RowError(_("身份证号码显示未满 %(n)s 周岁，不能入会。") % {"n": MIN_JOIN_AGE})
    present = state.present
    joined_on = _date(cells[i_joined], state.today)
    if joined_on < info.birth_date:
        raise _RowError(_("入会日期早于出生日期，请核对。"))
    return {
        "name": name,
        "info": info,
        "mobile": mobile,
        "employer_name": employer,
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


_TOOLS: dict[tuple[str, str], tuple] = {}


def _tools(ctx: _RowContext):
    key = (ctx.blind_key, ctx.fernet_key)
    tools = _TOOLS.get(key)
    if tools is None:
        tools = _TOOLS[key] = (crypto.BlindIndexer(ctx.blind_key), crypto.BatchEncryptor(ctx.fernet_key))
    return tools


def _check_rows(batch: list[tuple[int, tuple]], ctx: _RowContext) -> tuple[list[str], str]:
    """The pure, CPU-heavy part of planning: check each row, blind-index, encrypt and pre-format it.

    Needs no database (it runs in worker processes for big files, see pool.py). Returns one
    record per row, in order, and the kept-rows text. A record is one string (see
    `unpack`): a bad row's is its message after BAD; a good row's is the fields below
    joined by SEP. One string a row, because results travel back from the workers by
    pickle, which spends ~0.4 µs on every object it rebuilds: the ~25 strings, dates and
    tuples of a row cost the importing process ~10 µs a row, one string ~1 µs, and the
    planner splits out only what it needs (see plan._plan_batch). The fields (every value
    is checked free text, which refuses control characters, or codes, digits and hashes):
    id hash, mobile hash, name, masked ID number, join date (ISO), the new member's COPY
    line between its id and its membership id, then REST: name initials, ID token, mobile
    token, ID number, sex, birth date (ISO), mobile, employer, employment form, migrant
    (t/f), education, skill level, with NONE for a column the file lacks.
    Kept-rows text (all-or-nothing, else ""): the good rows as uploaded, as CSV lines
    (rn, cells…), for the error workbook of a batch that is not written.
    """
    indexer, encryptor = _tools(ctx)
    out: list = []
    good: list[tuple[int, dict]] = []
    for _rn, cells in batch:
        try:
            row = _parse_row(ctx, cells)
        except _RowError as exc:
            out.append(BAD + str(exc))
            continue
        good.append((len(out), row))
        out.append(None)
    id_tokens = encryptor.encrypt_many([row["info"].number for _i, row in good])
    mobile_tokens = encryptor.encrypt_many([row["mobile"] for _i, row in good])
    keep_ok = ctx.keep_ok
    ok_buf = io.StringIO()
    keep = csv.writer(ok_buf).writerow
    full_time = EmploymentForm.FULL_TIME.value
    for (i, row), id_token, mobile_token in zip(good, id_tokens, mobile_tokens, strict=True):
        info, mobile, name = row["info"], row["mobile"], row["name"]
        idn = info.number
        id_hash = indexer.id_number(idn)
        mobile_hash = indexer.mobile(mobile)
        initials = name_initials(name)
        id_masked = crypto.mask_id(idn)
        birth = info.birth_date.isoformat()
        employer, form, migrant = row["employer_name"], row["employment_form"], row["is_migrant"]
        education, skill = row["education"], row["skill_level"]
        # A new member's row for COPY (plan._encode_direct adds the ids): only free text is
        # quoted; tokens, hashes, codes and dates never hold a comma, quote or newline.
        member = (
            f"{_q(name)},{initials},{id_token},{id_hash},{id_masked},{info.sex},{idn[6:14]},{mobile_token},"
            f"{mobile_hash},{mobile[:3]}****{mobile[7:]},,{_q(employer or '')},"
            f"{form or full_time},{'t' if migrant else 'f'},"
            f"{education or ''},{skill or ''},,"
        )
        if keep_ok:
            rn, cells = batch[i]
            keep([rn, *[c.strip() if type(c) is str else _text(c) for c in cells]])
        out[i] = SEP.join(
            (
                id_hash,
                mobile_hash,
                name,
                id_masked,
                row["joined_on"].isoformat(),
                member,
                initials,
                id_token,
                mobile_token,
                idn,
                info.sex,
                birth,
                mobile,
                NONE if employer is None else employer,
                NONE if form is None else form,
                NONE if migrant is None else ("t" if migrant else "f"),
                NONE if education is None else education,
                NONE if skill is None else skill,
            )
        )
    return out, ok_buf.getvalue()


SEP = "\x1f"  # between a record's fields (the ASCII unit separator)
BAD = "\x00"  # starts a bad row's record: its message follows
NONE = "\x00"  # a field whose column the file lacks


def unpack_rest(rest: str) -> tuple:
    """A good record's REST (see _check_rows): (initials, ID token, mobile token, ID number,
    sex, birth date, mobile, employer, employment form, migrant, education, skill level),
    with None for a column the file lacks and migrant as a bool."""
    *head, migrant, education, skill = (None if v == NONE else v for v in rest.split(SEP))
    return (*head, None if migrant is None else migrant == "t", education, skill)


def _q(text: str) -> str:
    """A CSV field: quoted only when it must be (as csv.writer's QUOTE_MINIMAL does)."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text
