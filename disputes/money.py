"""Claim amounts: parsed as Decimal yuan (never float) and written out in Chinese for agreements."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_AMOUNT = Decimal("999999999999.99")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿"]


def parse_amount(value, *, field: str = "amount") -> Decimal | None:
    """A yuan amount with at most 2 decimals, or None when left blank; refuses text and negatives."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(
            {field: _("金额“%(v)s”不是数字：请填写以元为单位的数字，如 12000 或 12000.50。") % {"v": str(value)[:20]}},
            code="amount_not_number",
        ) from None
    if not amount.is_finite():
        raise ValidationError({field: _("金额必须是有限的数字。")}, code="amount_not_number")
    if amount < 0:
        raise ValidationError({field: _("金额不能为负数。")}, code="amount_negative")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: _("金额最多保留两位小数（到分）。")}, code="amount_precision")
    if amount > MAX_AMOUNT:
        raise ValidationError({field: _("金额过大，请核对。")}, code="amount_too_large")
    return amount.quantize(Decimal("0.01"))


def yuan(amount: Decimal) -> str:
    """'12,345.60' — grouped digits with two decimals."""
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def _four(n: int) -> str:
    """0 < n < 10000 in capital numerals, with inner zeros read as one 零."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // (10**pos) % 10
        if d == 0:
            zero = bool(out)
        else:
            if zero:
                out += "零"
                zero = False
            out += _DIGITS[d] + _SMALL_UNITS[pos]
    return out


def rmb_upper(amount: Decimal) -> str:
    """The amount as written on Chinese financial documents: 12345.60 → 壹万贰仟叁佰肆拾伍元陆角整."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    fen_total = int(amount * 100)
    integer, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    parts: list[str] = []
    groups = []
    while integer:
        groups.append(integer % 10000)
        integer //= 10000
    text, need_zero = "", False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            need_zero = bool(text)
            continue
        if text and (need_zero or g < 1000):
            text += "零"
        text += _four(g) + _BIG_UNITS[idx]
        need_zero = False
    if text:
        parts.append(text + "元")
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    elif fen and text:
        parts.append("零")
    if fen:
        parts.append(_DIGITS[fen] + "分")
    if not parts:
        return "零元整"
    result = "".join(parts)
    return result if fen else result + "整"
