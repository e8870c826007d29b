"""The worker's self-service pages: card (and PDF), membership, transfer, personal data, leaving.

`member_worker` is an active member of the 浦东 union with a worker login; the plain
`worker` fixture is a worker account with no member record.
"""

import pytest
from django.urls import reverse

from activity.models import AuditEvent
from members.models import Member, Membership, Transfer

from .pages_helpers import body

SELF_PAGES = ["my-card", "my-card-pdf", "my-membership", "my-transfer", "my-data", "my-leave"]


@pytest.mark.parametrize("url_name", SELF_PAGES)
@pytest.mark.parametrize("actor", ["owner", "clerk", "outsider", "anonymous"])
def test_self_service_pages_are_for_workers_only(client, request, url_name, actor):
    if actor != "anonymous":
        client.force_login(request.getfixturevalue(actor))
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    expected = reverse("home") if actor != "anonymous" else reverse("login")
    assert response["Location"].startswith(expected)


@pytest.mark.parametrize("url_name", [n for n in SELF_PAGES if n != "my-card-pdf"])
def test_a_worker_without_membership_is_told_how_to_join(client, worker, url_name):
    client.force_login(worker)
    response = client.get(reverse(url_name))
    assert response.status_code == 200 and "扫码入会" in body(response)


def test_a_worker_without_membership_gets_no_pdf(client, worker):
    client.force_login(worker)
    assert client.get(reverse("my-card-pdf")).status_code == 404


def test_the_home_links_to_the_member_services(client, member_worker):
    client.force_login(member_worker)
    html = body(client.get(reverse("selfservice-home")))
    for name in ("my-card", "my-membership", "my-transfer", "my-data", "my-leave"):
        assert f'href="{reverse(name)}"' in html


def test_the_card_page_shows_the_card_with_a_verification_qr(client, member_worker):
    client.force_login(member_worker)
    member = Member.objects.get(user=member_worker)
    html = body(client.get(reverse("my-card")))
    assert member.name in html and member.current_membership.member_number in html
    assert "浦东测试科技有限公司工会" in html and "<svg" in html and reverse("my-card-pdf") in html
    assert "style=" not in html.split("<body")[1]  # strict CSP: no inline styles


def test_the_card_pdf_embeds_the_font(client, member_worker):
    client.force_login(member_worker)
    response = client.get(reverse("my-card-pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and b"/FontFile2" in response.content
    assert response["Cache-Control"].startswith("no-store")


def test_the_membership_page_shows_status_union_and_history(client, member_worker):
    client.force_login(member_worker)
    html = body(client.get(reverse("my-membership")))
    assert "在册" in html and "浦东测试科技有限公司工会" in html and "会籍历史" in html


def test_the_data_page_shows_masked_values_only(client, member_worker):
    client.force_login(member_worker)
    member = Member.objects.get(user=member_worker)
    html = body(client.get(reverse("my-data")))
    assert member.id_masked in html and "137****1234" in html and "13700001234" not in html


def test_the_worker_corrects_the_mobile_and_signs_in_with_the_new_one(client, member_worker):
    client.force_login(member_worker)
    response = client.post(reverse("my-data"), {"mobile": "13766667777", "employer_name": "新公司"}, follow=True)
    assert "下次请用新手机号码登录" in body(response)
    member = Member.objects.get(user=member_worker)
    assert member.mobile_masked == "137****7777" and member.employer_name == "新公司"
    assert AuditEvent.objects.filter(action="member.contact_updated").exists()
    client.logout()
    login = client.post(reverse("login"), {"username": "13766667777", "password": "Rider-pass-2024"})
    assert login.status_code == 302 and login["Location"] == reverse("home")


@pytest.mark.parametrize("mobile", ["1376666777", "23766667777", "abcdefghijk"])
def test_a_bad_mobile_is_refused_with_a_message(client, member_worker, mobile):
    client.force_login(member_worker)
    response = client.post(reverse("my-data"), {"mobile": mobile, "employer_name": ""})
    assert response.status_code == 400 and "11 位" in body(response)
    assert Member.objects.get(user=member_worker).mobile_masked == "137****1234"


def test_the_worker_requests_a_transfer_and_withdraws_it(client, member_worker, tree):
    client.force_login(member_worker)
    search = body(client.get(reverse("my-destinations"), {"q": "黄浦测试"}))
    assert "黄浦测试商贸有限公司工会" in search
    response = client.post(reverse("my-transfer"), {"to_union": tree["hp_union"].pk, "reason": "换工作"}, follow=True)
    assert "转接申请已提交" in body(response)
    t = Transfer.objects.get()
    assert t.requested_side == "worker"
    client.post(reverse("my-transfer-cancel", args=[t.pk]))
    assert Transfer.objects.get().status == "cancelled"


def test_a_worker_cannot_cancel_someone_elses_transfer(client, member_worker, owner, tree, pd_member):
    from members import services

    t = services.transfer_request(actor=owner, member=pd_member, to_union=tree["hp_union"])
    client.force_login(member_worker)
    assert client.post(reverse("my-transfer-cancel", args=[t.pk])).status_code == 404
    assert Transfer.objects.get().status == "requested"


def test_the_transfer_page_explains_a_missing_destination(client, member_worker):
    client.force_login(member_worker)
    response = client.post(reverse("my-transfer"), {"to_union": "", "reason": ""})
    assert response.status_code == 400 and "转入工会" in body(response)


def test_leaving_needs_confirmation_and_ends_the_card(client, member_worker):
    client.force_login(member_worker)
    response = client.post(reverse("my-leave"), {"reason": "退休返乡"})
    assert response.status_code == 400 and "请勾选确认" in body(response)
    response = client.post(reverse("my-leave"), {"reason": "退休返乡", "confirm": "on"}, follow=True)
    assert "您已退出" in body(response)
    member = Member.objects.get(user=member_worker)
    assert member.current_membership.status == Membership.Status.LEFT
    card = body(client.get(reverse("my-card")))
    assert "已退会" in card and "<svg" not in card
    assert client.get(reverse("my-card-pdf")).status_code == 404


def test_the_self_service_pages_work_without_javascript(client, member_worker):
    client.force_login(member_worker)
    for name in ("my-transfer", "my-data", "my-leave"):
        html = body(client.get(reverse(name)))
        assert '<form method="post"' in html and 'name="csrfmiddlewaretoken"' in html
