"""With REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA on, full ID numbers need a verified second factor."""

import pytest

from activity.models import AuditEvent
from tests.conftest import client_for
from tests.factories import make_id_number, make_member

ID = make_id_number()


@pytest.fixture
def pd_member(tree, owner):
    return make_member(tree["pd_union"], actor=owner, name="李四", id_number=ID).member


@pytest.fixture
def require_totp(settings):
    settings.REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA = True


def test_the_api_refuses_a_reveal_without_a_second_factor(require_totp, owner, pd_member):
    response = client_for(owner).post(f"/api/v1/members/{pd_member.pk}/reveal/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "otp_required"
    assert ID not in response.content.decode()
    assert not AuditEvent.objects.filter(action="member.personal_data_viewed").exists()


def test_the_api_refuses_a_full_export_without_a_second_factor(require_totp, owner, pd_member):
    response = client_for(owner).get("/api/v1/members/export/", {"export_format": "csv", "full": "true"})
    assert response.status_code == 403
    assert ID not in response.content.decode(errors="replace")


def test_the_page_sends_the_user_to_enrol_instead_of_revealing(require_totp, client, owner, pd_member):
    client.force_login(owner)
    response = client.post(f"/members/{pd_member.pk}/reveal/")
    assert response.status_code == 302 and response["Location"].endswith("/accounts/otp/")
    assert not AuditEvent.objects.filter(action="member.personal_data_viewed").exists()


def test_without_the_requirement_the_reveal_still_works(client, owner, pd_member):
    client.force_login(owner)
    response = client.post(f"/members/{pd_member.pk}/reveal/")
    assert response.status_code == 200
    assert ID in response.content.decode()
