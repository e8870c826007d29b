"""QR codes and printable documents of the members app: join posters and member cards.

- QR images (PNG, SVG) for join codes and the member card come from core.documents.
- The member card's verification token: a signed membership id. A station scanning the
  card opens /verify/<token>/, which checks the signature before any lookup, then shows
  whether the membership is still active.
- The printable card as PDF (reportlab) with Chinese text in the embedded CJK font of
  core.documents (core/fonts/), so it renders in any viewer.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from core.documents import pdf_canvas, pdf_draw_qr, pdf_fit_font_size, register_cjk_font
from organizations.models import Organization

from . import selectors
from .models import Member, Membership

CARD_SALT = "members.card"


# --- member-card verification ------------------------------------------------------------


def card_token(membership: Membership) -> str:
    """The signed string a member card's QR code carries (the membership id, signed)."""
    return signing.Signer(salt=CARD_SALT).sign(str(membership.pk))


@dataclass(frozen=True)
class CardCheck:
    """What the verification page may show about a scanned card."""

    valid: bool
    masked_name: str
    union_name: str
    member_number: str
    status_label: str


def mask_name(name: str) -> str:
    """张三 -> 张*, 张三丰 -> 张*丰, 欧阳娜娜 -> 欧**娜: enough to match a face, not to look up."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def card_verify(signed: str) -> CardCheck | None:
    """The verdict for a scanned card, or None if the token is forged or names nothing."""
    try:
        value = signing.Signer(salt=CARD_SALT).unsign(signed or "")
    except signing.BadSignature:
        return None
    if not value.isdigit():
        return None
    membership = selectors.membership_for_card(int(value))
    if membership is None:
        return None
    member = membership.member
    valid = membership.status == Membership.Status.ACTIVE and member.current_membership_id == membership.pk
    return CardCheck(
        valid=valid,
        masked_name=mask_name(member.name),
        union_name=membership.union.name,
        member_number=membership.member_number,
        status_label=membership.get_status_display(),
    )


# --- the printable card (PDF) --------------------------------------------------------------


@dataclass(frozen=True)
class CardData:
    """Everything printed on a card (kept apart from the drawing, so tests can read it)."""

    federation: str
    name: str
    member_number: str
    union_name: str
    joined_on: dt.date
    verify_url: str


def card_data(member: Member, *, verify_url: str) -> CardData:
    membership = member.current_membership
    union = membership.union
    root = Organization.objects.get_root(union)
    return CardData(
        federation=root.name,
        name=member.name,
        member_number=membership.member_number,
        union_name=union.name,
        joined_on=membership.joined_on,
        verify_url=verify_url,
    )


# ISO/IEC 7810 ID-1, the size of a bank card.
CARD_W_MM = 85.6
CARD_H_MM = 54.0
RED = (0.70, 0.10, 0.12)
GOLD = (0.96, 0.76, 0.36)


def card_pdf(data: CardData) -> bytes:
    """An A4 page with the card's front and back at real size, to cut out, fold and laminate."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    font = register_cjk_font()
    buf = io.BytesIO()
    c = pdf_canvas(buf, title=_("工会会员卡"), author=data.federation, subject=data.member_number)
    page_w, page_h = A4
    w, h = CARD_W_MM * mm, CARD_H_MM * mm

    c.setFont(font, 16)
    c.setFillColorRGB(0.1, 0.1, 0.1)
    c.drawString(20 * mm, page_h - 25 * mm, _("工会会员卡（打印版）"))
    c.setFont(font, 9)
    c.setFillColorRGB(0.35, 0.35, 0.35)
    c.drawString(
        20 * mm,
        page_h - 32 * mm,
        _("请用 A4 纸按 100% 比例打印，沿虚线剪下正反两面，背靠背对齐后塑封。"),
    )
    c.drawString(
        20 * mm,
        page_h - 37 * mm,
        _("生成时间：%(t)s。会籍变动后本卡自动失效，以扫码核验结果为准。")
        % {"t": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    )

    x = (page_w - w) / 2
    front_y = page_h - 50 * mm - h
    back_y = front_y - 12 * mm - h

    # cutting outlines
    c.setDash(3, 2)
    c.setStrokeColorRGB(0.55, 0.55, 0.55)
    c.setLineWidth(0.5)
    c.roundRect(x, front_y, w, h, 3 * mm, stroke=1, fill=0)
    c.roundRect(x, back_y, w, h, 3 * mm, stroke=1, fill=0)
    c.setDash()

    # front: header band, holder, QR
    band = 12 * mm
    c.setFillColorRGB(*RED)
    c.rect(x, front_y + h - band, w, band, stroke=0, fill=1)
    c.setFillColorRGB(*GOLD)
    c.rect(x, front_y + h - band - 0.8 * mm, w, 0.8 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    title = _("%(fed)s 会员卡") % {"fed": data.federation}
    size = pdf_fit_font_size(c, title, font, 11, w - 8 * mm)
    c.setFont(font, size)
    c.drawString(x + 4 * mm, front_y + h - band + 4.2 * mm, title)

    qr_size = 27 * mm
    qr_x = x + w - qr_size - 3 * mm
    qr_y = front_y + 4 * mm
    pdf_draw_qr(c, data.verify_url, qr_x, qr_y, qr_size)
    c.setFillColorRGB(0.35, 0.35, 0.35)
    c.setFont(font, 5.5)
    hint = _("扫码核验")
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 2.4 * mm, hint)

    text_x = x + 4 * mm
    text_w = qr_x - text_x - 2 * mm
    c.setFillColorRGB(0.1, 0.1, 0.1)
    size = pdf_fit_font_size(c, data.name, font, 15, text_w)
    c.setFont(font, size)
    c.drawString(text_x, front_y + h - band - 9 * mm, data.name)
    rows = [
        (_("会员编号"), data.member_number),
        (_("所在工会"), data.union_name),
        (_("入会日期"), data.joined_on.isoformat()),
    ]
    y = front_y + h - band - 16 * mm
    for label, value in rows:
        c.setFillColorRGB(0.4, 0.4, 0.4)
        c.setFont(font, 6)
        c.drawString(text_x, y, label)
        c.setFillColorRGB(0.1, 0.1, 0.1)
        size = pdf_fit_font_size(c, value, font, 8.5, text_w, min_size=5)
        c.setFont(font, size)
        c.drawString(text_x, y - 3.6 * mm, value)
        y -= 8.6 * mm

    # back: notes
    c.setFillColorRGB(*RED)
    c.rect(x, back_y + h - 2 * mm, w, 2 * mm, stroke=0, fill=1)
    c.setFillColorRGB(0.1, 0.1, 0.1)
    c.setFont(font, 10)
    c.drawString(x + 5 * mm, back_y + h - 10 * mm, _("使用须知"))
    c.setFont(font, 7.5)
    notes = [
        _("1. 本卡为工会会员身份凭证，仅限本人使用，不得转借。"),
        _("2. 在职工服务站点出示本卡，工作人员扫码即可核验会籍。"),
        _("3. 工作单位变动时，请及时办理会员关系转接。"),
        _("4. 会籍转出、退会后本卡自动失效。"),
    ]
    y = back_y + h - 17 * mm
    for line in notes:
        c.drawString(x + 5 * mm, y, line)
        y -= 5 * mm
    c.setFillColorRGB(*RED)
    c.setFont(font, 9)
    c.drawString(x + 5 * mm, back_y + 5 * mm, _("职工服务热线 12351"))

    c.showPage()
    c.save()
    return buf.getvalue()
