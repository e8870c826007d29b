"""The personal-data copy for people: the same data as the JSON file, as headed sections.

`member_personal_data_export` gathers one dict (the JSON file, the machine-readable form);
`readable_sections` turns it into sections a person can read on a phone or on paper, and
`sections_pdf` prints them. Both walk the dict generically, so a section that an app above
members registers (`register_personal_data_section`) appears in every form without any
change here: its heading is the label it registered (or its name), its keys are shown as
they come unless they are one of the known field names below.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.documents import register_cjk_font

from .selectors import personal_data_label

# Headings of members' own sections, in the order they are shown.
SECTION_LABELS = {
    "member": gettext_lazy("基本信息"),
    "account": gettext_lazy("账号"),
    "memberships": gettext_lazy("会籍"),
    "join_applications": gettext_lazy("入会申请"),
    "transfers": gettext_lazy("会员关系转接"),
    "honours": gettext_lazy("荣誉"),
    "audit_events": gettext_lazy("与我有关的操作记录"),
}

# Field names used by members' sections (and commonly by others); unknown keys show as-is.
FIELD_LABELS = {
    "name": gettext_lazy("姓名"),
    "id_number": gettext_lazy("身份证号码"),
    "sex": gettext_lazy("性别"),
    "birth_date": gettext_lazy("出生日期"),
    "mobile": gettext_lazy("手机号码"),
    "employer": gettext_lazy("登记的用人单位"),
    "employer_name": gettext_lazy("工作单位"),
    "employment_form": gettext_lazy("就业形态"),
    "is_migrant_worker": gettext_lazy("农民工"),
    "education": gettext_lazy("学历"),
    "skill_level": gettext_lazy("技能等级"),
    "created_at": gettext_lazy("建档时间"),
    "updated_at": gettext_lazy("最近更新"),
    "username": gettext_lazy("用户名"),
    "date_joined": gettext_lazy("开户时间"),
    "last_login": gettext_lazy("最近登录"),
    "union": gettext_lazy("工会"),
    "member_number": gettext_lazy("会员编号"),
    "status": gettext_lazy("状态"),
    "joined_on": gettext_lazy("入会日期"),
    "ended_on": gettext_lazy("结束日期"),
    "end_reason": gettext_lazy("结束原因"),
    "consent": gettext_lazy("同意个人信息处理"),
    "notice_version": gettext_lazy("告知书版本"),
    "reason": gettext_lazy("理由"),
    "submitted_at": gettext_lazy("提交时间"),
    "reviewed_at": gettext_lazy("审核时间"),
    "from_union": gettext_lazy("转出工会"),
    "to_union": gettext_lazy("转入工会"),
    "requested_side": gettext_lazy("发起方"),
    "decision_note": gettext_lazy("处理意见"),
    "requested_at": gettext_lazy("申请时间"),
    "decided_at": gettext_lazy("处理时间"),
    "kind": gettext_lazy("类别"),
    "year": gettext_lazy("年度"),
    "note": gettext_lazy("备注"),
    "action": gettext_lazy("操作"),
    "time": gettext_lazy("时间"),
    "actor": gettext_lazy("操作人"),
}


@dataclass
class Section:
    """One heading and its content: `fields` (label, text) pairs, `rows` of such pairs, or `text`."""

    key: str
    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[tuple[str, str]]] = field(default_factory=list)
    text: str = ""
    empty: bool = False


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, str):
        moment = parse_datetime(value) if "T" in value else None
        if moment is not None:  # the JSON's ISO times, as a person writes them
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%Y-%m-%d %H:%M")
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _pairs(data: dict) -> list[tuple[str, str]]:
    return [(str(FIELD_LABELS.get(k, k)), _text(v)) for k, v in data.items()]


def readable_sections(data: dict) -> list[Section]:
    """Every key of the export as a section, members' own first, the registered ones after."""
    sections = []
    for key, value in data.items():
        title = str(SECTION_LABELS.get(key) or personal_data_label(key))
        section = Section(key=key, title=title)
        if value is None or value == [] or value == {}:
            section.empty = True
        elif isinstance(value, dict):
            section.fields = _pairs(value)
        elif isinstance(value, list):
            section.rows = [_pairs(item) if isinstance(item, dict) else [("", _text(item))] for item in value]
        else:
            section.text = _text(value)
        sections.append(section)
    return sections


def sections_pdf(sections: list[Section], *, name: str) -> bytes:
    """The sections on A4 pages in the CJK font: a heading each, then label–value lines."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    label = ParagraphStyle("label", parent=body, textColor="#555555")
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=17, spaceBefore=10, spaceAfter=4)
    note = ParagraphStyle("note", parent=body, fontSize=8.5, textColor="#555555")

    def table(pairs):
        t = Table(
            [[Paragraph(escape(k), label), Paragraph(escape(v), body)] for k, v in pairs],
            colWidths=[38 * mm, None],
        )
        t.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#dddddd"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return t

    story = [
        Paragraph(escape(_("我的个人信息副本")), h1),
        Paragraph(
            escape(
                _("%(name)s，生成于 %(time)s。本文件含完整证件号码和手机号码，请妥善保管。")
                % {"name": name, "time": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
            ),
            note,
        ),
    ]
    for section in sections:
        story.append(Paragraph(escape(section.title), h2))
        if section.empty:
            story.append(Paragraph(escape(_("无记录")), note))
        elif section.fields:
            story.append(table(section.fields))
        elif section.rows:
            for i, row in enumerate(section.rows):
                if i:
                    story.append(Spacer(1, 3 * mm))
                story.append(table(row))
        else:
            story.append(Paragraph(escape(section.text), body))

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("我的个人信息副本"),
        author=name,
    )
    doc.build(story)
    return buf.getvalue()
