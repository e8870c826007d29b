"""Join-code pages: list and create, QR downloads (PNG/SVG), the A4 poster, revoke."""

import pytest
from django.urls import reverse

from members import services
from members.models import JoinCode
from tests.factories import StationFactory

from .pages_helpers import ACTORS, assert_staff_outcome, body, login_as

CODE_PAGES = [
    "member-join-code-detail",
    "member-join-code-png",
    "member-join-code-svg",
    "member-join-code-poster",
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url_name", CODE_PAGES)
def test_code_pages_are_for_those_in_reach(client, request, pd_code, actor, url_name):
    login_as(client, request, actor)
    response = client.get(reverse(url_name, args=[pd_code.pk]))
    assert_staff_outcome(response, actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_code_list_is_scoped(client, request, pd_code, hp_code, actor):
    login_as(client, request, actor)
    response = client.get(reverse("member-join-codes"))
    assert_staff_outcome(response, actor, outsider=200)
    if response.status_code == 200:
        html = body(response)
        assert ("浦东科技一楼大厅" in html) == (actor in ("owner", "clerk"))
        assert ("黄浦商贸门口" in html) == (actor in ("owner", "outsider"))


def test_the_qr_downloads_are_png_and_svg(client, clerk, pd_code):
    client.force_login(clerk)
    png = client.get(reverse("member-join-code-png", args=[pd_code.pk]), {"download": "1"})
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"]
    svg = client.get(reverse("member-join-code-svg", args=[pd_code.pk]))
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<svg")


def test_the_qr_encodes_the_absolute_join_url(client, clerk, pd_code):
    from PIL import Image

    client.force_login(clerk)
    png = client.get(reverse("member-join-code-png", args=[pd_code.pk]))
    image = Image.open(__import__("io").BytesIO(png.content))
    assert image.size[0] > 200  # big enough to print
    detail = body(client.get(reverse("member-join-code-detail", args=[pd_code.pk])))
    assert "http://testserver/join/" + services.join_code_public(pd_code) + "/" in detail


def test_the_poster_is_a_printable_page_with_the_org_name_and_steps(client, clerk, pd_code):
    client.force_login(clerk)
    html = body(client.get(reverse("member-join-code-poster", args=[pd_code.pk])))
    assert "浦东测试科技有限公司工会" in html and "<svg" in html and "扫一扫" in html and "data-print" in html
    assert "style=" not in html  # strict CSP: no inline styles


def test_the_clerk_creates_codes_for_a_union_and_a_station(client, clerk, tree):
    station = StationFactory(organization=tree["lujiazui"], name="陆家嘴职工之家")
    client.force_login(clerk)
    response = client.post(reverse("member-join-codes"), {"union": tree["pd_union"].pk, "label": "食堂门口"})
    code = JoinCode.objects.get(label="食堂门口")
    assert response.status_code == 302 and response["Location"] == reverse("member-join-code-detail", args=[code.pk])
    client.post(reverse("member-join-codes"), {"station": station.pk})
    code = JoinCode.objects.get(station=station)
    assert code.union_id == tree["lujiazui"].pk and code.label == "陆家嘴职工之家"


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "受理工会"), ({"union": "pudong"}, "不直接接收会员"), ({"union": "hp_union"}, "不在您的管辖范围内")],
)
def test_bad_code_requests_are_explained(client, clerk, tree, data, message):
    client.force_login(clerk)
    payload = {k: tree[v].pk for k, v in data.items()}
    response = client.post(reverse("member-join-codes"), payload)
    assert response.status_code == 400 and message in body(response)
    assert not JoinCode.objects.exists()


def test_a_read_only_role_cannot_create_or_revoke(client, pd_auditor, tree, pd_code):
    client.force_login(pd_auditor)
    assert client.post(reverse("member-join-codes"), {"union": tree["pd_union"].pk}).status_code == 403
    assert client.post(reverse("member-join-code-revoke", args=[pd_code.pk])).status_code == 403
    assert JoinCode.objects.get(pk=pd_code.pk).is_active


def test_revoking_stops_the_code(client, clerk, pd_code):
    client.force_login(clerk)
    response = client.post(reverse("member-join-code-revoke", args=[pd_code.pk]), follow=True)
    assert "已作废" in body(response)
    assert not JoinCode.objects.get(pk=pd_code.pk).is_active
    assert client.get(reverse("join", args=[services.join_code_public(pd_code)])).status_code == 410
    again = client.post(reverse("member-join-code-revoke", args=[pd_code.pk]), follow=True)
    assert again.status_code == 200 and "该入会码已作废" in body(again)


@pytest.mark.parametrize("actor", ["outsider", "worker", "anonymous"])
def test_others_cannot_revoke(client, request, pd_code, actor):
    login_as(client, request, actor)
    response = client.post(reverse("member-join-code-revoke", args=[pd_code.pk]))
    assert_staff_outcome(response, actor)
    assert JoinCode.objects.get(pk=pd_code.pk).is_active
