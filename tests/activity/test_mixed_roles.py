"""Mixed roles: a clerk of 浦东 who is an auditor of 黄浦 reads 黄浦's audit log, never 浦东's.

The audit log is read through the reach of audit.view, not the plain view reach: the
page, the API and the admin all ask for it.
"""

import pytest
from django.urls import reverse

from core.audit import log_action
from organizations.models import RoleAssignment
from tests.conftest import client_for

PD_NOTE = "浦东审计专属事件"
HP_NOTE = "黄浦审计专属事件"


@pytest.fixture
def mixed(tree, clerk):
    """pd_clerk: clerk in 浦东新区 (view, member.manage…), auditor in 黄浦区 (audit.view)."""
    RoleAssignment.objects.create(user=clerk, organization=tree["huangpu"], role="auditor")
    return clerk


@pytest.fixture
def marked_events(tree, owner):
    log_action(actor=owner, action="test.marked", target=tree["pd_union"], data={"note": PD_NOTE})
    log_action(actor=owner, action="test.marked", target=tree["hp_union"], data={"note": HP_NOTE})


def test_it_shows_a_mixed_role_user_only_the_audited_district_on_the_api(mixed, marked_events):
    response = client_for(mixed).get("/api/v1/audit-events/")
    assert response.status_code == 200
    body = response.content.decode()
    assert HP_NOTE in body
    assert PD_NOTE not in body


def test_it_shows_a_mixed_role_user_only_the_audited_district_on_the_page(client, mixed, marked_events):
    client.force_login(mixed)
    response = client.get(reverse("audit-log"))
    assert response.status_code == 200
    body = response.content.decode()
    assert HP_NOTE in body
    assert PD_NOTE not in body


def test_it_gives_nothing_when_a_mixed_role_user_filters_on_the_unaudited_district(tree, mixed, marked_events):
    response = client_for(mixed).get(f"/api/v1/audit-events/?under={tree['pudong'].pk}")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_it_shows_a_mixed_role_user_only_the_audited_district_in_the_admin(client, mixed, marked_events):
    from activity.models import AuditEvent

    mixed.is_staff = True
    mixed.save(update_fields=["is_staff"])
    client.force_login(mixed)
    response = client.get("/admin/activity/auditevent/")
    assert response.status_code == 200
    body = response.content.decode()
    pd_event = AuditEvent.objects.get(data__note=PD_NOTE)
    hp_event = AuditEvent.objects.get(data__note=HP_NOTE)
    assert f"/admin/activity/auditevent/{hp_event.pk}/change/" in body
    assert f"/admin/activity/auditevent/{pd_event.pk}/change/" not in body
    assert client.get(f"/admin/activity/auditevent/{pd_event.pk}/change/").status_code in (302, 403, 404)
