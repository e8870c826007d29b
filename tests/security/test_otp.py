"""The optional TOTP second factor: enrolment, the code step of the sign-in, wrong and
replayed codes, throttling, disabling, API tokens, and the full-personal-data gate."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory, override_settings
from django_otp.middleware import OTPMiddleware
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.test import APIClient

from activity.models import AuditEvent
from organizations import otp

PASSWORD = "unionportal-test"  # tests.factories.UserFactory's


def code_for(device, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def wrong_code(device) -> str:
    return f"{(int(code_for(device)) + 500000) % 1000000:06d}"


def enrolled(user) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="UnionPortal", confirmed=True)
    return device


def signed_in(username) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def unthrottle(device) -> None:
    device.refresh_from_db()
    device.throttle_reset()


# --- enrolment ------------------------------------------------------------------------


def test_it_enrols_a_device_with_a_qr_code_and_a_confirming_code(owner):
    client = signed_in("owner")
    Token.objects.create(user=owner)  # issued on the password alone, before enrolment
    page = client.get("/accounts/otp/")
    assert page.status_code == 200 and "未启用" in page.content.decode()

    assert client.post("/accounts/otp/start/").status_code == 302
    device = TOTPDevice.objects.get(user=owner)
    assert not device.confirmed
    page = client.get("/accounts/otp/").content.decode()
    assert 'src="data:image/svg+xml' in page
    assert "data-otp-secret" in page

    response = client.post("/accounts/otp/confirm/", {"token": wrong_code(device)})
    assert response.status_code == 400
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    unthrottle(device)
    response = client.post("/accounts/otp/confirm/", {"token": code_for(device)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert not Token.objects.filter(user=owner).exists()
    assert AuditEvent.objects.filter(actor=owner, action="auth.totp_enabled").exists()
    # The enrolling session has just proved the code: it goes on working.
    assert client.get("/").status_code == 200
    assert "已启用" in client.get("/accounts/otp/").content.decode()


def test_it_refuses_a_confirming_code_that_is_not_six_digits(owner):
    client = signed_in("owner")
    client.post("/accounts/otp/start/")
    response = client.post("/accounts/otp/confirm/", {"token": "12ab"})
    assert response.status_code == 400
    assert "6 位数字" in response.content.decode()


def test_it_starts_over_with_a_new_secret_when_enrolment_is_restarted(owner):
    client = signed_in("owner")
    client.post("/accounts/otp/start/")
    first = TOTPDevice.objects.get(user=owner).key
    client.post("/accounts/otp/start/")
    assert TOTPDevice.objects.filter(user=owner).count() == 1
    assert TOTPDevice.objects.get(user=owner).key != first


@pytest.mark.parametrize(
    ("who", "status", "location"),
    [
        ("owner", 200, None),
        ("clerk", 200, None),
        ("outsider", 200, None),
        ("worker", 302, "/me/"),
        ("anonymous", 302, "/accounts/login/"),
    ],
)
def test_it_shows_the_setup_page_to_staff_only(who, status, location, request, db):
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get("/accounts/otp/")
    assert response.status_code == status
    if location:
        assert response["Location"].startswith(location)
        assert client.post("/accounts/otp/start/").status_code == 302
        assert not TOTPDevice.objects.exists()


def test_it_refuses_get_on_the_enrolment_actions(owner):
    client = signed_in("owner")
    for url in ("/accounts/otp/start/", "/accounts/otp/confirm/", "/accounts/otp/disable/"):
        assert client.get(url).status_code == 405


# --- signing in -----------------------------------------------------------------------


def test_it_signs_in_without_a_code_when_no_device_is_enrolled(owner):
    client = signed_in("owner")
    assert client.get("/").status_code == 200
    assert client.get("/orgs/").status_code == 200


def test_it_asks_for_the_code_before_any_staff_page(owner, tree):
    device = enrolled(owner)
    client = signed_in("owner")
    for url in ("/", "/orgs/", f"/orgs/{tree['city'].pk}/", "/enterprises/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/otp/verify/?next="), url
    response = client.get("/orgs/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/accounts/otp/verify/")
    api = client.get("/api/v1/organizations/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "otp_required"

    page = client.get("/accounts/otp/verify/?next=/orgs/")
    assert page.status_code == 200 and "输入验证码" in page.content.decode()
    response = client.post("/accounts/otp/verify/", {"token": code_for(device), "next": "/orgs/"})
    assert response.status_code == 302 and response["Location"] == "/orgs/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/organizations/").status_code == 200
    assert AuditEvent.objects.filter(actor=owner, action="auth.otp_verified").count() == 1


def test_it_refuses_a_wrong_code_and_then_throttles_guessing(owner):
    device = enrolled(owner)
    client = signed_in("owner")
    response = client.post("/accounts/otp/verify/", {"token": wrong_code(device)})
    assert response.status_code == 400
    assert "验证码不正确或已过期" in response.content.decode()
    # Right after a failure even the right code must wait (exponential back-off).
    response = client.post("/accounts/otp/verify/", {"token": code_for(device)})
    assert response.status_code == 400
    assert "秒后再试" in response.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(actor=owner, action="auth.otp_failed").count() == 2

    unthrottle(device)
    assert client.post("/accounts/otp/verify/", {"token": code_for(device)}).status_code == 302
    assert client.get("/").status_code == 200


def test_it_refuses_a_code_that_was_already_used(owner):
    device = enrolled(owner)
    first = signed_in("owner")
    code = code_for(device)
    assert first.post("/accounts/otp/verify/", {"token": code}).status_code == 302
    second = signed_in("owner")
    response = second.post("/accounts/otp/verify/", {"token": code})
    assert response.status_code == 400
    assert second.get("/").status_code == 302


def test_it_ignores_an_offsite_next_after_the_code(owner):
    device = enrolled(owner)
    client = signed_in("owner")
    response = client.post("/accounts/otp/verify/", {"token": code_for(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_lets_the_code_page_and_sign_out_work_before_the_code(owner):
    enrolled(owner)
    client = signed_in("owner")
    assert client.get("/accounts/otp/verify/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/otp/verify/").status_code == 302  # signed out: to the login page


def test_it_notices_a_device_enrolled_from_another_session(owner):
    client = signed_in("owner")
    assert client.get("/").status_code == 200
    enrolled(owner)
    session = client.session
    flag = session[otp.SESSION_FLAG]
    session[otp.SESSION_FLAG] = [flag[0], flag[1], flag[2] - otp.RECHECK_SECONDS - 1]
    session.save()
    assert client.get("/").status_code == 302


def test_it_sends_users_without_a_device_on_from_the_code_page(owner, worker):
    client = signed_in("owner")
    assert client.get("/accounts/otp/verify/?next=/orgs/")["Location"] == "/orgs/"
    anonymous = Client().get("/accounts/otp/verify/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


# --- disabling --------------------------------------------------------------------------


def test_it_disables_the_second_factor_only_with_the_password(owner):
    device = enrolled(owner)
    client = signed_in("owner")
    client.post("/accounts/otp/verify/", {"token": code_for(device)})
    response = client.post("/accounts/otp/disable/", {"password": "not-my-password"})
    assert response.status_code == 400
    assert "密码不正确" in response.content.decode()
    assert TOTPDevice.objects.filter(user=owner).exists()

    assert client.post("/accounts/otp/disable/", {"password": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert AuditEvent.objects.filter(actor=owner, action="auth.totp_disabled").exists()
    assert signed_in("owner").get("/").status_code == 200


# --- API tokens -----------------------------------------------------------------------


def test_it_issues_an_api_token_to_a_totp_user_only_with_a_valid_code(owner):
    device = enrolled(owner)
    api = APIClient()
    url = "/api/v1/auth/token/"
    response = api.post(url, {"username": "owner", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_required"
    assert "otp_token" in response.json()["error"]["fields"]

    response = api.post(
        url, {"username": "owner", "password": PASSWORD, "otp_token": wrong_code(device)}, format="json"
    )
    assert response.status_code == 400 and "验证码不正确" in response.json()["error"]["message"]
    unthrottle(device)
    response = api.post(url, {"username": "owner", "password": PASSWORD, "otp_token": code_for(device)}, format="json")
    assert response.status_code == 200 and response.json()["token"]


def test_it_issues_tokens_without_a_code_to_users_without_a_device(owner):
    response = APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert response.status_code == 200


# --- the full-personal-data gate ------------------------------------------------------


def _page_request(client):
    """A request as the middleware leaves it for a view, on `client`'s session."""
    request = RequestFactory().get("/")
    request.session = SessionStore(session_key=client.session.session_key)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    OTPMiddleware(lambda r: None)(request)
    return request


def _token_request(user):
    token, _created = Token.objects.get_or_create(user=user)
    request = Request(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {token.key}"))
    request.authenticators = [TokenAuthentication()]
    return request


@override_settings(REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA=True)
def test_it_refuses_full_personal_data_without_a_verified_second_factor(owner):
    plain = _page_request(signed_in("owner"))
    assert not otp.user_is_verified(plain)
    with pytest.raises(otp.SecondFactorRequired) as info:
        otp.require_second_factor_for_full_data(plain)
    assert info.value.status_code == 403 and info.value.code == "otp_required"
    assert "两步验证" in str(info.value)
    assert otp.full_data_needs_second_factor(_token_request(owner))

    device = enrolled(owner)
    client = signed_in("owner")
    assert otp.full_data_needs_second_factor(_page_request(client))
    client.post("/accounts/otp/verify/", {"token": code_for(device)})
    verified = _page_request(client)
    assert otp.user_is_verified(verified)
    otp.require_second_factor_for_full_data(verified)
    # A token of a TOTP user was issued against a code.
    assert otp.user_is_verified(_token_request(owner))


@override_settings(REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA=False)
def test_it_lets_full_personal_data_through_when_the_rule_is_off(owner):
    otp.require_second_factor_for_full_data(_page_request(signed_in("owner")))


def test_it_requires_the_second_factor_for_full_data_by_default_only_in_production():
    import sys

    assert sys.modules["unionportal.settings"].REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA is False  # tests run with DEBUG
