"""Resident ID numbers (GB 11643-1999) and mobile numbers: normalise, check, derive.

Every check raises ValidationError with a Chinese message that names the field and the
fix. python-stdnum is deliberately not used as the validator: it rejects valid numbers
issued before region codes were renamed, and we need our own messages anyway.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from operator import mul
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.validators import PROVINCE_PREFIXES

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # ISO 7064 MOD 11-2: index = weighted sum mod 11
MIN_JOIN_AGE = 16  # Labour Law art. 15: no employment under 16, so no union membership either
MAX_AGE = 120
MIN_BIRTH_YEAR = 1900

_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SPACES = re.compile(r"[\s\-]")


class IdInfo(NamedTuple):
    """A checked ID number and what it says about its holder (a tuple: cheap to make in bulk)."""

    number: str  # normalised 18-character form
    birth_date: dt.date
    sex: str  # "M" or "F"
    upgraded: bool  # given as a 15-digit legacy number


# Weighted digit sum straight from the ASCII codes: sum(w * (code - 48)) = sum(w * code) - 48 * sum(w).
_ASCII_ZERO_TERM = 48 * sum(ID_WEIGHTS)


def id_check_char(first17: str) -> str:
    return ID_CHECK_CHARS[(sum(map(mul, first17.encode("ascii"), ID_WEIGHTS)) - _ASCII_ZERO_TERM) % 11]


def parse_id_number_fast(value: str, *, today: dt.date) -> IdInfo:
    """parse_id_number for bulk imports: a tidy 18-character number takes the short path.

    Anything unusual (spaces, 15 digits, an error to explain) goes through parse_id_number,
    so the messages are the same.
    """
    if len(value) == 18 and _ID18.fullmatch(value) and value[:2] in PROVINCE_PREFIXES:
        try:
            birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            birth = None
        if (
            birth is not None
            and MIN_BIRTH_YEAR <= birth.year
            and birth <= today
            and today.year - birth.year <= MAX_AGE
            and ID_CHECK_CHARS[(sum(map(mul, value.encode("ascii"), ID_WEIGHTS)) - _ASCII_ZERO_TERM) % 11] == value[17]
        ):
            return IdInfo(number=value, birth_date=birth, sex="M" if int(value[16]) % 2 else "F", upgraded=False)
    return parse_id_number(value, today=today)


def normalize_id_number(value: str) -> str:
    """Strip spaces/hyphens, full-width digits to ASCII, lower-case x to X."""
    value = (value or "").translate(_FULLWIDTH).strip()
    return _SPACES.sub("", value).upper()


_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789xX")


def upgrade_15_to_18(value: str) -> str:
    """A 15-digit legacy number (6 region + YYMMDD + 3 sequence) as its 18-char form."""
    first17 = value[:6] + "19" + value[6:]
    return first17 + id_check_char(first17)


def parse_id_number(value: str, *, today: dt.date | None = None, field: str = "id_number") -> IdInfo:
    """Check a resident ID number and return its normalised form, birth date and sex."""
    raw = normalize_id_number(value)
    upgraded = False
    if not raw:
        raise ValidationError({field: _("请填写身份证号码。")}, code="id_required")
    if _ID15.fullmatch(raw):
        raw = upgrade_15_to_18(raw)
        upgraded = True
    elif not _ID18.fullmatch(raw):
        raise ValidationError(
            {
                field: _(
                    "身份证号码应为 18 位（前 17 位为数字，最后一位为数字或 X），或 15 位数字的旧号码；"
                    "当前为 %(n)s 位，请核对证件。"
                )
                % {"n": len(raw)}
            },
            code="id_format",
        )
    if raw[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(
            {field: _("身份证号码前两位 %(p)s 不是有效的省级行政区划代码，请核对（上海为 31）。") % {"p": raw[:2]}},
            code="id_region",
        )
    try:
        birth = dt.date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        raise ValidationError(
            {field: _("身份证号码中的出生日期 %(d)s 不存在，请核对第 7 至 14 位。") % {"d": raw[6:14]}},
            code="id_birth_date",
        ) from None
    today = today or timezone.localdate()
    if birth > today or birth.year < MIN_BIRTH_YEAR or _age(birth, today) > MAX_AGE:
        raise ValidationError(
            {field: _("身份证号码中的出生日期 %(d)s 不合理，请核对第 7 至 14 位。") % {"d": birth.isoformat()}},
            code="id_birth_date",
        )
    if not upgraded:
        expected = id_check_char(raw[:17])
        if raw[17] != expected:
            raise ValidationError(
                {field: _("身份证号码校验位错误：最后一位应为 %(c)s，请核对是否抄错某一位。") % {"c": expected}},
                code="id_check",
            )
    return IdInfo(number=raw, birth_date=birth, sex="M" if int(raw[16]) % 2 else "F", upgraded=upgraded)


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def age_on(birth: dt.date, day: dt.date) -> int:
    return _age(birth, day)


def check_join_age(info: IdInfo, *, today: dt.date | None = None, field: str = "id_number") -> None:
    today = today or timezone.localdate()
    if _age(info.birth_date, today) < MIN_JOIN_AGE:
        raise ValidationError(
            {field: _("申请人未满 %(n)s 周岁，不能加入工会（依身份证号码中的出生日期计算）。") % {"n": MIN_JOIN_AGE}},
            code="id_too_young",
        )


def normalize_mobile(value: str) -> str:
    value = (value or "").translate(_FULLWIDTH).strip()
    value = _SPACES.sub("", value)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def parse_mobile(value: str, *, field: str = "mobile") -> str:
    """A mainland mobile number: 11 digits starting with 13–19. Returns the normalised form."""
    if len(value) == 11 and _MOBILE.fullmatch(value):
        return value
    number = normalize_mobile(value)
    if not number:
        raise ValidationError({field: _("请填写手机号码。")}, code="mobile_required")
    if not _MOBILE.fullmatch(number):
        raise ValidationError(
            {field: _("手机号码应为 11 位数字、以 13–19 开头（如 13812345678），请核对。")},
            code="mobile_format",
        )
    return number


def validation_message(exc: ValidationError) -> str:
    """The first message of a ValidationError, as plain text (for reports and one-line errors)."""
    if hasattr(exc, "error_dict"):
        for errors in exc.error_dict.values():
            for e in errors:
                return str(next(iter(e.messages)))
    return str(exc.messages[0]) if exc.messages else ""


# --- names (issue 15 item 5) ---------------------------------------------------------------
# What real names hold: Han characters and letters of any script (with their combining
# marks), the middle dot of transliterated foreign and minority names (· and the forms
# Chinese input methods type: ・ ‧ ･), spaces (also the ideographic one) and hyphens.
# No digits: a name on a resident identity card or a passport has none, so "李四2" is a
# typo or a legacy roll's way of telling namesakes apart (the ID number does that here);
# storing it would put the digit on the card, the certificate and every report. The
# error workbook of an import lets the clerk fix such a row without retyping the rest.
# Anything else, markup in particular, is refused rather than stored and escaped for ever.
_NAME_OK = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f\u00b7\u30fb\u2027\uff65 \u3000\-\u2010\uff0d])+")
_UNDERSCORE = "_"


def _numeral(name: str) -> str | None:
    """The first digit-like character (0-9, full-width ２, ², Ⅱ, ①), not Han numerals such as 三 or 〇."""
    return next((ch for ch in name if ch != "\u3007" and unicodedata.category(ch)[0] == "N"), None)


def name_is_clean(name: str) -> bool:
    """The fast path of the rule (the importer runs it on every row)."""
    return bool(_NAME_OK.fullmatch(name)) and _HAS_LETTER.search(name) is not None and _numeral(name) is None


_HAS_LETTER = re.compile(r"[^\W\d_]")
# Control and format characters (C0, DEL, C1, zero-width and direction marks) and markup.
_BAD_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff<>]")


def _shown(ch: str) -> str:
    """A refused character as the message names it (control characters have no glyph)."""
    return ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


def clean_person_name(value, *, field: str = "name", label=None) -> str:
    """A person's name, stripped; refuses markup, control characters and other symbols.

    The one rule for member names: registration, the join form, corrections and the
    importer all call it, so a name refused at one door is refused at every door.
    """
    label = label or _("姓名")
    name = (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    if not name:
        raise ValidationError({field: _("请填写%(label)s（与身份证一致）。") % {"label": label}}, code="name_required")
    if name_is_clean(name):
        return name
    bad = _BAD_TEXT.search(name)
    if bad is not None:
        raise ValidationError(
            {
                field: _("“%(label)s”不能包含标记符号（< >）或控制字符（发现“%(c)s”），请按身份证上的姓名重新填写。")
                % {"label": label, "c": _shown(bad.group())}
            },
            code="name_markup",
        )
    digit = _numeral(name)
    if digit is not None:
        raise ValidationError(
            {
                field: _(
                    "“%(label)s”不能包含数字（发现“%(c)s”），请按身份证上的姓名填写；同名的人由身份证号码区分，不必加编号。"
                )
                % {"label": label, "c": digit}
            },
            code="name_digit",
        )
    if not _HAS_LETTER.search(name):
        raise ValidationError(
            {field: _("“%(label)s”应至少包含一个汉字或字母，请核对。") % {"label": label}}, code="name_no_letter"
        )
    for ch in name:
        if ch == _UNDERSCORE or not _NAME_OK.fullmatch(ch):
            raise ValidationError(
                {
                    field: _(
                        "“%(label)s”只能包含汉字、字母、间隔号（·）、空格和连字符（-），“%(c)s”不可用，请删除或改正。"
                    )
                    % {"label": label, "c": _shown(ch)}
                },
                code="name_chars",
            )
    return name  # pragma: no cover - every refused name is caught above


def clean_plain_text(value, *, field: str, label) -> str:
    """Free text such as an employer's name, stripped; refuses markup and control characters.

    Employer names legitimately hold digits, brackets and "&", so only what has no place
    in any name is refused.
    """
    text = (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    bad = _BAD_TEXT.search(text)
    if bad is not None:
        raise ValidationError(
            {
                field: _("“%(label)s”不能包含标记符号（< >）或控制字符（发现“%(c)s”），请删除后重新填写。")
                % {"label": label, "c": _shown(bad.group())}
            },
            code="text_markup",
        )
    return text
