"""Scan-to-join end to end with the test client, and the public pages' bad input.

QR token -> mobile form -> approval queue -> approve -> the worker signs in with mobile
and password -> sees the member card, whose QR opens the verification page.
"""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from activity.models import AuditEvent
from members import cards, services
from members.models import JoinApplication, Member, Membership
from tests.factories import make_id_number

from .pages_helpers import body, submit_application


@pytest.fixture(autouse=True)
def _fresh_rate_counter():
    cache.clear()
    yield
    cache.clear()


def join_url(code):
    return reverse("join", args=[services.join_code_public(code)])


def form_data(**overrides):
    data = {
        "name": "李新骑",
        "id_number": make_id_number(region="310115"),
        "mobile": "13655556666",
        "employer_name": "某即时配送平台",
        "employment_form": "rider",
        "is_migrant_worker": "on",
        "password": "Rider-pass-2024",
        "password2": "Rider-pass-2024",
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_the_whole_scan_to_join_journey(client, clerk, pd_code):
    # 1. the QR code carries an absolute URL to the join form
    client.force_login(clerk)
    svg = body(client.get(reverse("member-join-code-svg", args=[pd_code.pk])))
    assert svg.startswith("<svg")
    detail = body(client.get(reverse("member-join-code-detail", args=[pd_code.pk])))
    absolute = "http://testserver" + join_url(pd_code)
    assert absolute in detail
    client.logout()

    # 2. the worker opens it on the phone (no login) and applies
    form = client.get(join_url(pd_code))
    assert form.status_code == 200 and "浦东测试科技有限公司工会" in body(form)
    data = form_data()
    response = client.post(join_url(pd_code), data)
    assert response.status_code == 302
    done = client.get(response["Location"])
    assert "已交给“浦东测试科技有限公司工会”审核" in body(done) and "136****6666" in body(done)
    app = JoinApplication.objects.get()
    assert app.status == "pending" and app.union_id == pd_code.union_id

    # 3. the clerk sees it in the queue and approves it (htmx: the row comes back with a toast)
    client.force_login(clerk)
    queue = body(client.get(reverse("member-applications")))
    assert "李新骑" in queue and data["id_number"] not in queue
    response = client.post(
        reverse("member-application-approve", args=[app.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"application-{app.pk}",
    )
    html = body(response)
    assert response.status_code == 200 and "已批准" in html and 'hx-swap-oob="beforeend:#member-toasts"' in html
    member = Member.objects.get(name="李新骑")
    assert member.current_membership.status == Membership.Status.ACTIVE and member.user is not None
    client.logout()

    # 4. the worker signs in with mobile + password and lands on the self-service home
    response = client.post(reverse("login"), {"username": "13655556666", "password": "Rider-pass-2024"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("selfservice-home")
    assert "我的会员卡" in body(response)

    # 5. the card shows name, union, number and a QR whose verification page says valid
    card = body(client.get(reverse("my-card")))
    number = member.current_membership.member_number
    assert "李新骑" in card and number in card and "浦东测试科技有限公司工会" in card and "<svg" in card
    token = cards.card_token(member.current_membership)
    client.logout()
    verify = client.get(reverse("card-verify", args=[token]))
    assert verify.status_code == 200
    assert "有效会员" in body(verify) and "李*骑" in body(verify) and number in body(verify)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "姓名"),
        ("id_number", "", "请填写身份证号码"),
        ("id_number", "310115199001011230", "校验位"),
        ("id_number", "310115199002301234", "出生日期"),
        ("id_number", "991115199001011234", "省级行政区划"),
        ("mobile", "1365555666", "11 位"),
        ("mobile", "", "请填写手机号码"),
        ("employment_form", "", "就业形态"),
        ("employment_form", "astronaut", "就业形态"),
        ("consent", "", "个人信息处理告知书"),
        ("password", "", "登录密码"),
        ("password2", "different-pass-1", "不一致"),
    ],
)
def test_bad_join_input_gets_a_chinese_message_naming_the_field(client, pd_code, field, value, message):
    data = form_data(**{field: value})
    if field == "consent":
        data.pop("consent")
    response = client.post(join_url(pd_code), data)
    assert response.status_code == 400
    assert message in body(response)
    assert not JoinApplication.objects.exists()


def test_an_under_16_applicant_is_refused(client, pd_code):
    import datetime as dt

    from django.utils import timezone

    young = make_id_number(region="310115", birth=timezone.localdate() - dt.timedelta(days=365 * 15))
    response = client.post(join_url(pd_code), form_data(id_number=young))
    assert response.status_code == 400 and "未满 16 周岁" in body(response)


def test_an_active_member_is_told_on_their_own_mobile_not_on_the_page(
    client, pd_code, hp_member, sms_outbox, django_capture_on_commit_callbacks
):
    from core import crypto

    from .pages_helpers import HP_ID

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(join_url(pd_code), form_data(id_number=HP_ID))
    assert response.status_code == 302  # the same answer as for a new applicant (issue 16)
    html = body(client.get(response["Location"]))
    assert "黄浦测试商贸有限公司工会" not in html and "会员编号" not in html
    assert not JoinApplication.objects.exists()
    known = crypto.decrypt(hp_member.mobile_enc)
    assert [m.mobile for m in sms_outbox] == [known] and "无需重复申请" in sms_outbox[0].text


def test_a_second_application_while_one_waits_files_nothing_new(client, pd_code):
    data = form_data()
    assert client.post(join_url(pd_code), data).status_code == 302
    assert client.post(join_url(pd_code), data).status_code == 302
    assert JoinApplication.objects.count() == 1


@pytest.mark.parametrize("token", ["forged", "abc:def", "1", "x" * 300])
def test_a_forged_code_shows_a_clear_404_page(client, token):
    response = client.get(reverse("join", args=[token]))
    assert response.status_code == 404 and "入会二维码无效" in body(response)
    assert client.post(reverse("join", args=[token]), form_data()).status_code == 404
    assert client.get(reverse("join-notice", args=[token])).status_code == 404


def test_an_altered_signature_is_refused(client, pd_code):
    signed = services.join_code_public(pd_code)
    tampered = signed[:-1] + ("A" if signed[-1] != "A" else "B")
    assert client.get(reverse("join", args=[tampered])).status_code == 404


def test_a_revoked_code_shows_a_410_page_naming_the_union(client, owner, pd_code):
    services.join_code_revoke(actor=owner, code=pd_code)
    response = client.get(join_url(pd_code))
    assert response.status_code == 410
    assert "已停用" in body(response) and "浦东测试科技有限公司工会" in body(response)
    assert client.post(join_url(pd_code), form_data()).status_code == 410
    assert not JoinApplication.objects.exists()


def test_submissions_are_rate_limited_per_address(client, pd_code, settings):
    settings.JOIN_RATE_LIMIT = 2
    for _ in range(2):
        client.post(join_url(pd_code), form_data(name=""))
    response = client.post(join_url(pd_code), form_data())
    assert response.status_code == 429 and "提交过于频繁" in body(response)
    assert not JoinApplication.objects.exists()
    other = client.post(join_url(pd_code), form_data(), REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302


def test_the_notice_page_names_the_handling_union_and_the_version(client, pd_code):
    response = client.get(reverse("join-notice", args=[services.join_code_public(pd_code)]))
    html = body(response)
    assert response.status_code == 200
    assert "个人信息处理告知书" in html and services.CURRENT_NOTICE_VERSION in html
    assert "浦东测试科技有限公司工会" in html
    assert services.CURRENT_NOTICE_VERSION in body(client.get(join_url(pd_code)))


def test_the_done_page_without_a_submission_goes_back_to_the_form(client, pd_code):
    signed = services.join_code_public(pd_code)
    response = client.get(reverse("join-done", args=[signed]))
    assert response.status_code == 302 and response["Location"] == reverse("join", args=[signed])


def test_the_join_form_never_echoes_the_password_and_is_not_cached(client, pd_code):
    response = client.post(join_url(pd_code), form_data(mobile="123"))
    html = body(response)
    assert "Rider-pass-2024" not in html
    assert response["Cache-Control"].startswith("no-store")


def test_the_join_form_is_usable_without_javascript(client, pd_code):
    html = body(client.get(join_url(pd_code)))
    form = re.search(r"<form method=\"post\"[^>]*>", html).group(0)
    assert "hx-" not in form and 'name="csrfmiddlewaretoken"' in html


def test_an_application_is_audited_without_the_full_id(client, pd_code):
    data = form_data()
    client.post(join_url(pd_code), data)
    event = AuditEvent.objects.get(action="member.join_applied")
    assert data["id_number"] not in str(event.data)


def test_a_station_code_routes_the_application_to_the_station_union(client, owner, tree):
    from tests.factories import StationFactory

    station = StationFactory(organization=tree["lujiazui"], name="陆家嘴户外职工爱心驿站")
    code = services.join_code_create(actor=owner, station=station)
    html = body(client.get(join_url(code)))
    assert "陆家嘴户外职工爱心驿站" in html and "陆家嘴街道总工会" in html
    client.post(join_url(code), form_data())
    assert JoinApplication.objects.get().union_id == tree["lujiazui"].pk


def test_a_submitted_application_can_be_submitted_through_the_helper(pd_code):
    app = submit_application(pd_code)
    assert app.status == "pending"


def test_an_empty_submission_lists_every_missing_field_at_once(client, pd_code):
    response = client.post(join_url(pd_code), {})
    html = body(response)
    assert response.status_code == 400
    for message in (
        "请填写姓名",
        "请填写身份证号码",
        "请填写手机号码",
        "请选择就业形态",
        "个人信息处理告知书",
        "登录密码",
    ):
        assert message in html, message
    assert "有 6 处需要修改" in html
