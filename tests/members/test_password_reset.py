"""Self-service password reset by a one-time code sent to the member's mobile (issue 15,
item 11): the same answer for known and unknown numbers, codes stored hashed, short-lived,
single use and with limited attempts, throttled per number and per address, and a reset
that ends every other session and API token.

`member_worker` (tests/members/conftest.py) is 王小骑, mobile 13700001234.
"""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from activity.models import AuditEvent
from members import services
from members.models import PasswordResetCode

MOBILE = "13700001234"
NEW = "Brand-new-pass-2026"
REQUEST, CONFIRM = "password-reset", "password-reset-confirm"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _request(mobile=MOBILE, ip="10.0.0.1"):
    services.password_reset_request(mobile=mobile, ip_address=ip)


def _code(sms_outbox) -> str:
    return re.search(r"\b(\d{6})\b", sms_outbox[-1].text).group(1)


# --- the service ---------------------------------------------------------------------------


def test_a_known_number_gets_a_six_digit_code_by_sms(member_worker, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    assert [m.mobile for m in sms_outbox] == [MOBILE]
    code = _code(sms_outbox)
    stored = PasswordResetCode.objects.get()
    assert code not in stored.code_hash and stored.user == member_worker  # hashed, never kept in clear
    event = AuditEvent.objects.get(action="auth.password_reset_requested")
    assert code not in str(event.data) and MOBILE not in str(event.data)


def test_an_unknown_number_gets_no_sms_and_no_error(db, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _request("13900000000")
    assert sms_outbox == [] and not PasswordResetCode.objects.exists()


def test_the_right_code_sets_the_password_and_ends_sessions_and_tokens(
    member_worker, sms_outbox, django_capture_on_commit_callbacks
):
    other = Client()
    other.force_login(member_worker)
    Token.objects.create(user=member_worker)
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    code = _code(sms_outbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.password_reset_confirm(mobile=MOBILE, code=code, new_password=NEW, ip_address="10.0.0.1")
    member_worker.refresh_from_db()
    assert member_worker.check_password(NEW)
    assert not Token.objects.filter(user=member_worker).exists()
    assert other.get(reverse("my-data")).status_code == 302  # the other session is gone
    assert AuditEvent.objects.filter(action="auth.password_reset", actor=member_worker).exists()
    assert "密码已重置" in sms_outbox[-1].text  # the owner hears of it


def test_a_code_works_once(member_worker, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    code = _code(sms_outbox)
    services.password_reset_confirm(mobile=MOBILE, code=code, new_password=NEW, ip_address="10.0.0.1")
    with pytest.raises(Exception) as exc:
        services.password_reset_confirm(
            mobile=MOBILE, code=code, new_password="Another-pass-2026", ip_address="192.0.2.1"
        )
    assert "验证码" in str(exc.value)
    member_worker.refresh_from_db()
    assert member_worker.check_password(NEW)


def test_a_code_expires(member_worker, sms_outbox, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    PasswordResetCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(Exception, match="验证码"):
        services.password_reset_confirm(mobile=MOBILE, code=_code(sms_outbox), new_password=NEW, ip_address="192.0.2.1")


def test_wrong_guesses_use_up_the_code(member_worker, sms_outbox, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    code = _code(sms_outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.PASSWORD_RESET_MAX_ATTEMPTS):
        with pytest.raises(Exception, match="验证码"):
            services.password_reset_confirm(mobile=MOBILE, code=wrong, new_password=NEW, ip_address="192.0.2.1")
    with pytest.raises(Exception, match="验证码"):  # now even the right one is refused
        services.password_reset_confirm(mobile=MOBILE, code=code, new_password=NEW, ip_address="192.0.2.1")
    member_worker.refresh_from_db()
    assert not member_worker.check_password(NEW)


def test_a_new_code_replaces_the_old_one(member_worker, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    first = _code(sms_outbox)
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    second = _code(sms_outbox)
    if first != second:
        with pytest.raises(Exception, match="验证码"):
            services.password_reset_confirm(mobile=MOBILE, code=first, new_password=NEW, ip_address="192.0.2.1")
    services.password_reset_confirm(mobile=MOBILE, code=second, new_password=NEW, ip_address="192.0.2.1")


def test_a_weak_password_is_refused_without_using_up_the_code(
    member_worker, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _request()
    code = _code(sms_outbox)
    with pytest.raises(Exception) as exc:
        services.password_reset_confirm(mobile=MOBILE, code=code, new_password="123", ip_address="192.0.2.1")
    assert "new_password" in str(exc.value.message_dict)
    services.password_reset_confirm(mobile=MOBILE, code=code, new_password=NEW, ip_address="192.0.2.1")


def test_requests_are_throttled_per_number(member_worker, sms_outbox, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(settings.PASSWORD_RESET_PER_NUMBER):
            _request(ip=f"10.0.1.{i}")
        with pytest.raises(Exception, match="频繁"):
            _request(ip="10.0.2.1")
    assert len(sms_outbox) == settings.PASSWORD_RESET_PER_NUMBER


def test_requests_are_throttled_per_address_for_known_and_unknown_numbers_alike(db, settings):
    for i in range(settings.PASSWORD_RESET_PER_ADDRESS):
        _request(mobile=f"139000000{i:02d}", ip="10.9.9.9")
    with pytest.raises(Exception, match="频繁"):
        _request(mobile="13900000099", ip="10.9.9.9")


# --- the pages -----------------------------------------------------------------------------


def test_the_login_page_links_to_the_reset(client):
    assert reverse(REQUEST) in client.get(reverse("login")).content.decode()


def _page_request(client, mobile):
    return client.post(reverse(REQUEST), {"mobile": mobile}, follow=True)


def test_known_and_unknown_numbers_get_the_same_page(member_worker, sms_outbox):
    known = _page_request(Client(), MOBILE)
    unknown = _page_request(Client(), "13900000000")
    assert known.redirect_chain == unknown.redirect_chain
    assert known.redirect_chain[-1][0] == reverse(CONFIRM)
    strip = lambda r: re.sub(r'value="[^"]*"|nonce="[^"]*"|"X-CSRFToken": "[^"]*"', "", r.content.decode())  # noqa: E731
    assert strip(known).replace("137****1234", "X") == strip(unknown).replace("139****0000", "X")


def test_the_whole_journey_on_the_pages(member_worker, sms_outbox, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        _page_request(client, "+86 137-0000-1234")  # any spelling of the number
    code = _code(sms_outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CONFIRM), {"mobile": MOBILE, "code": code, "new_password": NEW, "new_password2": NEW}
        )
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    signed_in = Client()
    signed_in.post(reverse("login"), {"username": MOBILE, "password": NEW})
    assert "_auth_user_id" in signed_in.session


def test_a_wrong_code_on_the_page_is_a_clear_message_not_a_500(member_worker, sms_outbox):
    response = Client().post(
        reverse(CONFIRM), {"mobile": MOBILE, "code": "12345x", "new_password": NEW, "new_password2": NEW}
    )
    assert response.status_code == 400
    assert "验证码" in response.content.decode()


def test_signed_in_users_are_sent_home(client, member_worker):
    client.force_login(member_worker)
    assert client.get(reverse(REQUEST)).status_code == 302


def test_a_reset_lifts_the_lock_out_of_the_number(
    member_worker, sms_outbox, settings, django_capture_on_commit_callbacks
):
    """The owner proved control of the number: the guesses of whoever locked it no longer count."""
    from axes.utils import reset as axes_reset
    from django.test import override_settings

    with override_settings(AXES_ENABLED=True):
        axes_reset()
        for _n in range(settings.AXES_FAILURE_LIMIT):
            Client().post(reverse("login"), {"username": MOBILE, "password": "wrong-password"})
        with django_capture_on_commit_callbacks(execute=True):
            _request()
        services.password_reset_confirm(mobile=MOBILE, code=_code(sms_outbox), new_password=NEW, ip_address="192.0.2.1")
        client = Client()
        client.post(reverse("login"), {"username": MOBILE, "password": NEW})
        assert "_auth_user_id" in client.session
        axes_reset()
