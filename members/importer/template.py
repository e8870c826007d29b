"""The downloadable import template (Chinese headers and notes)."""

from __future__ import annotations

import io

from django.utils.translation import gettext_lazy

from ..models import Education, EmploymentForm, SkillLevel
from .files import COLUMNS

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
