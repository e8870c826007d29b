"""The mediation agreement (调解协议书) as a PDF in the embedded CJK font."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from core.documents import pdf_canvas, register_cjk_font

from .models import Agreement


def _wrap(c, text: str, font: str, size: float, width: float) -> list[str]:
    """Break a line of CJK text where it stops fitting (Chinese has no spaces to break on)."""
    lines, current = [], ""
    for ch in text:
        if c.stringWidth(current + ch, font, size) > width:
            lines.append(current)
            current = ch
        else:
            current += ch
    lines.append(current)
    return lines


def agreement_pdf(agreement: Agreement) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    case = agreement.case
    buf = io.BytesIO()
    c = pdf_canvas(buf, title=_("调解协议书 %(n)s") % {"n": case.number}, author=case.body.name, subject=case.number)
    font = register_cjk_font()
    width, height = A4
    left, right, top, bottom = 25 * mm, 25 * mm, 25 * mm, 25 * mm
    y = height - top
    c.setFont(font, 18)
    c.drawCentredString(width / 2, y, _("劳动争议调解协议书"))
    y -= 10 * mm
    c.setFont(font, 10)
    c.drawRightString(width - right, y, _("编号：%(n)s") % {"n": case.number})
    y -= 10 * mm
    size, leading = 11, 6.5 * mm
    c.setFont(font, size)
    for paragraph in agreement.text.splitlines():
        for line in _wrap(c, paragraph, font, size, width - left - right):
            if y < bottom + 30 * mm:
                c.showPage()
                c.setFont(font, size)
                y = height - top
            c.drawString(left, y, line)
            y -= leading
    y -= 8 * mm
    signed = [
        (_("申请人（签字）"), agreement.signed_by_applicants),
        (_("被申请人（签字/盖章）"), agreement.signed_by_respondent),
        (_("调解员（签字）"), agreement.signed_by_mediator),
    ]
    for label, done in signed:
        c.drawString(left, y, f"{label}：{_('已签') if done else '________'}")
        y -= leading
    c.drawString(left, y, _("调解组织：%(b)s") % {"b": case.body.name})
    y -= leading
    c.drawString(left, y, _("协议生效日期：%(d)s") % {"d": f"{agreement.effective_on:%Y年%m月%d日}"})
    c.showPage()
    c.save()
    return buf.getvalue()
