"""The downloadable import template (Chinese headers and notes)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from core import documents

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
    """The import template: Chinese headers, text-formatted ID and mobile columns, and a notes sheet.

    The headers stay Chinese in every language: they are what the importer reads back.
    """
    values = {
        "就业形态": "、".join(str(lbl) for lbl in EmploymentForm.labels),
        "文化程度": "、".join(str(lbl) for lbl in Education.labels),
        "技能等级": "、".join(str(lbl) for lbl in SkillLevel.labels),
    }

    def notes():
        for header, note in TEMPLATE_NOTES:
            text = str(note)
            if "%(v)s" in text:
                text = text % {"v": values[header]}
            yield [header, text]

    # ID numbers and mobiles typed into a General cell become numbers (and lose digits):
    # the columns, and the first thousand cells of each, are formatted as text.
    text_cell = documents.Styled(None, number_format="@")
    roster = documents.Sheet(
        title="会员名册",
        header=[h for _k, h, _r in COLUMNS],
        rows=([None, text_cell, text_cell] for _ in range(1000)),
        widths=dict(zip("ABCDEFGHI", (10, 22, 14, 28, 12, 10, 12, 14, 12), strict=True)),
        text_columns=["B", "C"],
    )
    return documents.xlsx_bytes([roster, documents.Sheet(title="填写说明", header=["列", "说明"], rows=notes())])


def template_csv() -> bytes:
    return documents.csv_bytes([h for _k, h, _r in COLUMNS], [])
