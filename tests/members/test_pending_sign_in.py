"""An applicant who signs in before approval is told their application is under review, and
where (issue 15, item 10) — but only when the password is the one they chose when
applying, so the page never tells a stranger that a number has applied, or where.
"""

import pytest
from django.test import Client
from django.urls import reverse

from members import services
from members.models import JoinApplication

from .pages_helpers import body, submit_application

MOBILE, PASSWORD = "13912345678", "Join-pass-2024"
STOCK = "请输入一个正确的"


def _sign_in(username, password):
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response, "_auth_user_id" in client.session


@pytest.fixture
def applicant(pd_code):
    return submit_application(pd_code, name="待审核甲", mobile=MOBILE, password=PASSWORD)


@pytest.mark.parametrize("typed", [MOBILE, "+86 139-1234-5678", "１３９１２３４５６７８"])
def test_the_applicant_with_their_password_is_told_where_the_application_waits(applicant, typed):
    response, signed_in = _sign_in(typed, PASSWORD)
    html = body(response)
    assert not signed_in and response.status_code == 200
    assert "审核" in html and applicant.union.name in html
    assert STOCK not in html


@pytest.mark.parametrize("password", ["wrong-pass-1", PASSWORD.lower(), ""])
def test_a_wrong_password_gets_the_stock_answer_and_no_union(applicant, password):
    response, signed_in = _sign_in(MOBILE, password)
    html = body(response)
    assert not signed_in
    assert applicant.union.name not in html and "审核中" not in html


def test_an_unknown_number_gets_the_same_answer_as_a_wrong_password(applicant):
    unknown, _ = _sign_in("13900009999", PASSWORD)
    wrong, _ = _sign_in(MOBILE, "wrong-pass-1")
    alert = lambda r: body(r).split('role="alert"')[1].split("</div>")[0]  # noqa: E731
    assert STOCK in alert(unknown) and alert(unknown) == alert(wrong)


def test_a_rejected_application_is_not_described(applicant, owner):
    services.join_application_reject(
        actor=owner, application=JoinApplication.objects.get(pk=applicant.pk), reason="信息不全"
    )
    response, _ = _sign_in(MOBILE, PASSWORD)
    assert applicant.union.name not in body(response) and STOCK in body(response)


def test_after_approval_the_applicant_simply_signs_in(applicant, owner):
    services.join_application_approve(actor=owner, application=JoinApplication.objects.get(pk=applicant.pk))
    _, signed_in = _sign_in(MOBILE, PASSWORD)
    assert signed_in


def test_the_hint_still_counts_as_a_failed_sign_in(applicant, settings):
    from axes.models import AccessAttempt
    from axes.utils import reset as axes_reset
    from django.test import override_settings

    with override_settings(AXES_ENABLED=True):
        axes_reset()
        _sign_in(MOBILE, PASSWORD)
        assert AccessAttempt.objects.filter(username=MOBILE).exists()
        axes_reset()
