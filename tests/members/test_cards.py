"""Member cards: the signed verification token and page, the printable PDF with an embedded
CJK font (QR images and the font itself: tests/core/test_documents.py)."""

import base64
import datetime as dt
import re
import zlib

import pytest
from django.urls import reverse

from members import cards, services
from members.models import Membership
from tests.factories import add_org, make_member

from .pages_helpers import body

ACTORS = ("owner", "clerk", "outsider", "worker", "anonymous")


@pytest.fixture
def membership(tree, owner):
    return make_member(tree["pd_union"], actor=owner, name="欧阳娜娜")


def verify(client, token):
    return client.get(reverse("card-verify", args=[token]))


@pytest.mark.parametrize("actor", ACTORS)
def test_a_valid_card_verifies_for_anyone_with_a_masked_name(client, request, membership, actor):
    if actor != "anonymous":
        client.force_login(request.getfixturevalue(actor))
    response = verify(client, cards.card_token(membership))
    html = body(response)
    assert response.status_code == 200 and "有效会员" in html
    assert "欧**娜" in html and "欧阳娜娜" not in html
    assert membership.member_number in html and "浦东测试科技有限公司工会" in html
    assert membership.member.id_masked not in html and membership.member.mobile_masked not in html
    assert response["X-Robots-Tag"].startswith("noindex")


def test_a_card_of_a_member_who_left_is_no_longer_valid(client, owner, membership):
    services.membership_leave(actor=owner, membership=membership)
    response = verify(client, cards.card_token(membership))
    assert response.status_code == 410
    html = body(response)
    assert "无效 / 已失效" in html and "已退会" in html and "有效会员" not in html


def test_the_old_card_of_a_transferred_member_is_no_longer_valid(client, owner, tree, membership):
    t = services.transfer_request(actor=owner, member=membership.member, to_union=tree["hp_union"])
    new = services.transfer_accept(actor=owner, transfer=t)
    assert verify(client, cards.card_token(membership)).status_code == 410
    assert "已转出" in body(verify(client, cards.card_token(membership)))
    assert verify(client, cards.card_token(new)).status_code == 200


@pytest.mark.parametrize("token", ["1", "1:forged", "abc", "9" * 40, "-1:x"])
def test_a_forged_card_shows_invalid_with_404(client, membership, token):
    response = verify(client, token)
    assert response.status_code == 404 and "无效会员卡" in body(response)


def test_a_tampered_token_for_another_membership_is_refused(client, owner, tree, membership):
    other = make_member(tree["hp_union"], actor=owner, name="另一人")
    token = cards.card_token(membership)
    forged = f"{other.pk}:{token.split(':', 1)[1]}"
    assert verify(client, forged).status_code == 404


def test_a_token_for_a_deleted_or_unknown_membership_is_invalid(membership):
    from django.core import signing

    token = signing.Signer(salt=cards.CARD_SALT).sign("987654")
    assert cards.card_verify(token) is None
    # a join-code signature is not a card signature (different salt)
    assert cards.card_verify(signing.Signer(salt=services.JOIN_CODE_SALT).sign(str(membership.pk))) is None


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张三丰", "张*丰"), ("欧阳娜娜", "欧**娜"), ("李", "李"), ("", "")]
)
def test_names_are_masked_for_the_verification_page(name, masked):
    assert cards.mask_name(name) == masked


def _card_data(**overrides):
    data = {
        "federation": "上海市总工会",
        "name": "张喆",
        "member_number": "3101150000012000001",
        "union_name": "浦东测试科技有限公司工会陆家嘴金融贸易区第一分会",
        "joined_on": dt.date(2024, 5, 1),
        "verify_url": "http://testserver/verify/12:abc/",
    }
    data.update(overrides)
    return cards.CardData(**data)


def test_the_pdf_is_a_pdf_with_the_cjk_font_embedded():
    pdf = cards.card_pdf(_card_data())
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/FontFile2" in pdf  # an embedded TrueType font program
    assert b"UnionPortalSansSC" in pdf
    assert b"/Helvetica" not in pdf  # no non-embedded base-14 font is referenced
    assert len(pdf) < 200_000  # only the glyphs used are embedded


def test_the_pdf_text_is_chinese_in_the_embedded_font():
    """The page content selects the embedded font and draws text (compressed streams decoded)."""
    pdf = cards.card_pdf(_card_data())
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        raw = match.group(1).strip()
        if raw.endswith(b"~>"):  # reportlab writes page content as ASCII85 over Flate
            raw = base64.a85decode(raw[:-2])
        try:
            streams.append(zlib.decompressobj().decompress(raw))
        except zlib.error:
            continue
    content = b"".join(streams)
    assert b" Tf" in content and b"Tj" in content


def test_the_card_data_come_from_the_current_membership(tree, owner, membership):
    member = membership.member
    member.refresh_from_db()
    data = cards.card_data(member, verify_url="http://x/verify/1:a/")
    assert data.federation == "上海市总工会" and data.union_name == "浦东测试科技有限公司工会"
    assert data.member_number == membership.member_number and data.name == "欧阳娜娜"


def test_the_card_data_of_a_union_at_the_root_name_the_union_itself(owner):
    from organizations.models import OrgKind

    city = add_org(None, name="某市总工会", kind=OrgKind.CITY, region_code="320100")
    street = add_org(city, name="某街道总工会", kind=OrgKind.STREET)
    ms = make_member(street, name="王五")
    data = cards.card_data(ms.member, verify_url="http://x/")
    assert data.federation == "某市总工会"


def test_card_tokens_name_the_membership_only(membership):
    token = cards.card_token(membership)
    assert token.split(":")[0] == str(membership.pk)
    assert cards.card_verify(token).valid
    assert Membership.objects.get(pk=membership.pk).member.name not in token
