"""Validators for the national codes the organisation tree carries.

Each raises ValidationError with a Chinese message that names the fix.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015 unified social credit code: 18 characters from this 31-character set
# (no I, O, S, V, Z), the last one a check character over the first 17.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB/T 2260 province-level prefixes (first two digits of an administrative division code).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code."""
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    return (value or "").strip().upper()


def validate_credit_code(value: str) -> None:
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为 18 位，当前为 %(n)s 位，请核对营业执照或登记证书。"),
            code="credit_code_length",
            params={"n": len(code)},
        )
    bad = sorted({c for c in code if c not in CREDIT_CODE_CHARSET})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符 %(chars)s（代码不使用 I、O、S、V、Z），请核对。"),
            code="credit_code_chars",
            params={"chars": "、".join(bad)},
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位错误：第 18 位应为 %(expected)s，请核对是否抄错。"),
            code="credit_code_check",
            params={"expected": expected},
        )


def validate_region_code(value: str) -> None:
    """A GB/T 2260 administrative division code: six digits with a real province prefix."""
    if not re.fullmatch(r"\d{6}", value or ""):
        raise ValidationError(
            _("行政区划代码应为 6 位数字（GB/T 2260，例如浦东新区 310115）。"),
            code="region_code_format",
        )
    if value[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(
            _("行政区划代码前两位 %(prefix)s 不是有效的省级代码，请核对（上海为 31）。"),
            code="region_code_province",
            params={"prefix": value[:2]},
        )


def validate_phone(value: str) -> None:
    """A Chinese landline (with area code) or mobile number, for organisation contact."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"(1[3-9]\d{9}|0\d{2,3}\d{7,8}|\d{7,8}|12351)", digits):
        raise ValidationError(
            _("电话号码格式不正确：请填写 11 位手机号，或带区号的座机号（如 021-12345678）。"),
            code="phone_format",
        )
